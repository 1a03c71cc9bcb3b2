// The journal: everything jimd keeps on disk — accounts, contacts, rooms, the rate-limit
// events and the message log with its pending rows and history index — behind one
// interface. A worker appends accepted messages; the journal gathers them into a batch,
// commits it when its policy says so, and reports each message's outcome. Today's one
// implementation is SQLite (journal_sqlite.cc); the interface is what another (PostgreSQL,
// or a batch-per-row layout) fills in.
#pragma once

#include <jim/log.h>

#include <event2/event.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace jimd {

// One stored message as the protocol shows it.
struct StoredMessage {
    int64_t seq = 0;
    int64_t time = 0;
    std::string from, to, encoding, text, client_id;
    // Set when the batch row was written (batch_format::add): the strings are plain ASCII,
    // so the push's template need not look at them again. SqliteJournal::append clears it.
    bool plain_ascii = false;
};

// An account.
struct Account {
    int64_t id = 0;
    std::string name, pwhash, role;
    bool banned = false;
    int64_t general_since = 0; // the last seq before the account existed
};

// An account as admin_users shows it.
struct UserStat {
    std::string name, role, last_ip;
    int64_t created = 0, last_login = 0, logins = 0, messages_sent = 0;
    bool banned = false;
};

// TooMany: a count limit is reached; TooOften: a rate limit is.
enum class Result { Ok, Exists, NotFound, Error, TooMany, TooOften };

// A message accepted for the next commit, and then what the commit made of it.
struct Entry {
    enum class Outcome : uint8_t {
        Stored,    // stored now, msg.seq is its seq
        Duplicate, // (from, client_id) was stored before: msg.seq is that message's seq
        Offline,   // not stored: keep_offline was false and the recipient was online nowhere
        Failed,    // not stored: the commit failed (the journal's error() says why)
    };
    uint64_t origin = 0;      // the caller's tag (who sent it), never read by the journal
    StoredMessage msg;        // seq is set by the commit
    bool room = false;        // to a room; else to one user
    bool keep_offline = true; // direct, recipient online nowhere: a pending row (else Offline)
    Outcome outcome = Outcome::Stored;
    bool live = false; // Stored and direct: the recipient was online at the commit, so no
                       // pending row was written and the message must be routed now
};

// Who hears of the commits: the worker.
class JournalListener {
  public:
    // Asked during a commit for each new direct message: is its recipient online on some
    // worker? If not, the message gets a pending row in the same commit (or, with
    // keep_offline false, is not stored).
    virtual bool recipient_online(const std::string &user) = 0;
    // After each commit: its entries in the order appended, each with its outcome (all
    // Failed when ok is false). They are reused once this returns.
    virtual void committed(Entry *entries, size_t n, bool ok) = 0;
    // Before that: the commit (its transaction, failed or not) held `messages` messages and
    // took elapsed_us from BEGIN until COMMIT returned. For the metrics: cheap, no I/O.
    virtual void commit_took(size_t messages, int64_t elapsed_us) = 0;

  protected:
    ~JournalListener() = default;
};

// The limits on failed log-ins: per account, and more loosely per address.
struct LoginLimits {
    int64_t window;  // seconds the attempts count
    int64_t account; // attempts for one account within the window
    int64_t ip;      // attempts from one address, for any accounts
};

// Whose messages a sync reads.
struct SyncScope {
    std::string user;
    int64_t user_id = 0;
    std::string general;       // the general chat's name, "" for none
    int64_t general_since = 0; // its messages after this seq are the user's
};

class Journal {
  public:
    virtual ~Journal() = default;
    // What the last failed call ran into.
    virtual const std::string &error() const = 0;

    // Accounts.
    virtual Result create_user(const std::string &name, const std::string &pwhash,
                               const std::string &info, int64_t now) = 0;
    virtual Result get_user(const std::string &name, Account *out) = 0;
    // Whether the account exists (accounts are never deleted: answered from memory once seen).
    virtual bool user_exists(std::string_view name) = 0;
    virtual bool record_login(int64_t user_id, int64_t now, const std::string &ip) = 0;
    // Account names that start with prefix and come after `after`, in order: at most limit.
    virtual bool users_with_prefix(const std::string &prefix, const std::string &after, int limit,
                                   std::vector<std::string> *out) = 0;
    // How many accounts there are (the general chat's members), or -1.
    virtual int64_t user_count() = 0;

    // Public keys (end-to-end encryption): the account's current one replaces the one
    // before; get_key: NotFound when the account has none or does not exist.
    virtual bool put_key(int64_t user_id, const std::string &key) = 0;
    virtual Result get_key(const std::string &name, std::string *key) = 0;
    // Administration. NotFound for an unknown account. messages_sent counts what the
    // master's upkeep has indexed (a second or so behind the log).
    virtual Result set_banned(const std::string &name, bool banned) = 0;
    virtual Result set_role(const std::string &name, const std::string &role) = 0;
    virtual Result set_password(const std::string &name, const std::string &pwhash) = 0;
    virtual bool user_stats(const std::string &prefix, const std::string &after, int limit,
                            std::vector<UserStat> *out) = 0;
    // The database file's and its WAL's sizes in bytes.
    virtual void sizes(int64_t *db_bytes, int64_t *wal_bytes) = 0;

    // Contacts. add: NotFound for an unknown account; del: NotFound when not a contact.
    virtual bool contacts(int64_t owner, std::vector<std::string> *out) = 0;
    virtual Result add_contact(int64_t owner, const std::string &contact) = 0;
    virtual Result del_contact(int64_t owner, const std::string &contact) = 0;

    // Rooms. join makes user_id a member, creating the room (owned by user_id) if new:
    // Ok; Exists if a member already; TooMany when the user is in max_rooms rooms already;
    // TooOften when they created max_created_per_hour rooms in the last hour.
    virtual Result join(const std::string &room, int64_t user_id, int64_t now, int max_rooms,
                        int max_created_per_hour) = 0;
    virtual Result leave(const std::string &room, int64_t user_id) = 0;
    virtual bool user_rooms(int64_t user_id, std::vector<std::string> *out) = 0;
    virtual bool room_exists(const std::string &room) = 0;
    // Rooms whose names start with prefix and come after `after`, in name order, with
    // their member counts: at most limit.
    virtual bool rooms(const std::string &prefix, const std::string &after, int limit,
                       std::vector<std::pair<std::string, int64_t>> *out) = 0;

    // Rate limits that hold on every worker at once. An attempt counts from the moment it
    // is made (so attempts in parallel cannot pass a limit while their hashes run): Ok,
    // Error, or TooOften with *retry_after (nothing counted). forgive takes one back.
    virtual Result count_login_attempt(const std::string &account, const std::string &ip,
                                       const LoginLimits &limits, int64_t now,
                                       int64_t *retry_after) = 0;
    virtual bool forgive_login_attempt(const std::string &account, const std::string &ip) = 0;
    virtual Result count_registration(const std::string &ip, int64_t window, int64_t max,
                                      int64_t now, int64_t *retry_after) = 0;

    // The batch. append() gives an entry to fill before the loop runs again; the commit
    // that takes it comes at the end of this loop iteration when the journal is idle, or
    // within at most 250 us (or at 1,024 messages) when busy (group_commit.hh), and its
    // outcome goes to the listener.
    virtual Entry &append() = 0;
    // Pending rows, written with the next commit: a direct message kept for user; the
    // message seq kept for its own recipient; user's rows of these seqs cleared (exactly
    // those handed: another worker may add a row with a lower seq meanwhile).
    virtual void keep_pending(const std::string &user, int64_t seq) = 0;
    virtual void recover_pending(int64_t seq) = 0;
    virtual void clear_pending(const std::string &user, std::span<const int64_t> seqs) = 0;
    // The number of the commit that will carry what is queued now, and of the last commit
    // that succeeded: a pending row queued with ticket t is on disk once last_ok() >= t.
    virtual uint64_t next_commit() const = 0;
    virtual uint64_t last_ok() const = 0;
    // Commits what is queued now, instead of when the policy says.
    virtual void commit_now() = 0;

    // Reading the log, a page at a time (limit messages, ascending seq): the messages after
    // `after` that the scope's user sent or received, and those of its rooms while a member;
    // the direct messages kept for user after `after` (in *seqs the seqs of every entry
    // read, a message missing from the log included: what to clear once they are handed);
    // the conversation with `with` (a user or a room) before `before`, newest first.
    virtual bool read_since(const SyncScope &who, int64_t after, int limit,
                            std::vector<StoredMessage> *out) = 0;
    virtual bool read_pending(const std::string &user, int64_t after, int limit,
                              std::vector<StoredMessage> *out, std::vector<int64_t> *seqs) = 0;
    virtual bool read_history(const std::string &me, const std::string &with, int64_t before,
                              int limit, std::vector<StoredMessage> *out) = 0;
};

// Where the journal is and how a process uses it.
struct JournalConfig {
    std::string path;       // the database file
    bool sync_full = false; // synchronous full: survives power loss
    int busy_ms = 10000;    // how long a writer waits for the lock
    int workers = 1;        // processes that commit
    jim_log *log = nullptr;
    std::string tag = "master"; // the module column of log lines
    bool quiet = false;         // an upkeep that cannot open the database says nothing (master.cc)
};

// A worker's journal, made after fork(): its connections, its commit timing on base, its
// checkpoint thread. Null with *why when the database cannot be opened.
std::unique_ptr<Journal> open_journal(const JournalConfig &config, event_base *base,
                                      JournalListener &listener, std::string *why);

// The master's part, none of which keeps a connection open (the master forks):
// prepare brings the schema up to date before any worker starts; upkeep (run at the lowest
// priority, in a child) forgets rate-limit events past every window and extends the
// history index; upkeep_urgent says whether the journal outgrew its bounds (the SQLite
// WAL past 32 MiB), which rescue then fixes at normal priority; finish is the last upkeep,
// with every worker gone.
bool journal_prepare(const JournalConfig &config, std::string *why);
// Before the first open (journal_files.cc): refuses a WAL that is no SQLite WAL and a
// directory that cannot take the WAL; warns of an empty database file and of a WAL that
// ends inside a transaction.
bool journal_check_files(const JournalConfig &config, std::string *why);
void journal_upkeep(const JournalConfig &config);
bool journal_upkeep_urgent(const JournalConfig &config);
void journal_rescue(const JournalConfig &config);
void journal_finish(const JournalConfig &config);

} // namespace jimd

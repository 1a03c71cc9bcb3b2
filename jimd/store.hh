// The SQLite database under the journal: one file in WAL mode, versioned schema, prepared
// statements, one call per query. The journal (journal_sqlite.cc) decides what goes into a
// transaction; the master's upkeep uses it directly.
//
// Each process opens its own Store after fork(). Writes start with BEGIN IMMEDIATE
// and every connection waits busy_timeout for the lock, so SQLITE_BUSY is a wait,
// not an error the user sees.
#pragma once

#include "batch_format.hh"
#include "journal.hh"
#include "name_set.hh"
#include "recent_ids.hh"

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace jimd {

class Store {
  public:
    ~Store();
    // Opens (creating) the database and brings its schema up to date.
    bool open(const std::string &path, bool sync_full, int busy_ms, std::string *why);
    const std::string &error() const { return error_; }

    // Accounts.
    Result create_user(const std::string &name, const std::string &pwhash, const std::string &info,
                       int64_t now);
    Result get_user(const std::string &name, Account *out);
    bool record_login(int64_t user_id, int64_t now, const std::string &ip);
    // Account names that start with prefix and come after `after`, in order: at most limit.
    bool users_with_prefix(const std::string &prefix, const std::string &after, int limit,
                           std::vector<std::string> *out);

    // Contacts.
    bool contacts(int64_t owner, std::vector<std::string> *out);
    Result add_contact(int64_t owner, const std::string &contact);
    Result del_contact(int64_t owner, const std::string &contact);

    // Rooms.
    // Makes user_id a member of room, creating the room (owned by user_id) if it does not
    // exist. Ok; Exists if a member already; TooMany when the user is in max_rooms rooms
    // already; TooOften when they created max_created_per_hour rooms in the last hour.
    Result join(const std::string &room, int64_t user_id, int64_t now, int max_rooms,
                int max_created_per_hour);
    Result leave(const std::string &room, int64_t user_id);
    bool user_rooms(int64_t user_id, std::vector<std::string> *out);
    bool room_exists(const std::string &room);
    // Rooms whose names start with prefix and come after `after`, in name order, with
    // their member counts: at most limit.
    bool rooms(const std::string &prefix, const std::string &after, int limit,
               std::vector<std::pair<std::string, int64_t>> *out);

    // Messages. Writes happen between begin() and commit().
    bool begin();
    bool commit();
    void rollback();
    // Stores n messages, in order, as one row of the log (a commit costs a few B-tree
    // writes however many messages it holds): each gets the next seq (m->seq set), except
    // one whose (from, client_id) was stored before, a resend: dup[i] is set to 1 and its
    // seq is the first one's. Seqs within a row are consecutive.
    bool insert_batch(StoredMessage *const *msgs, size_t n, uint8_t *dup);
    // How many recent ids this connection keeps in memory (store_ids.cc), and forgetting
    // those the upkeep has folded into `ids`.
    size_t recent_ids() const { return recent_.size(); }
    bool forget_folded_ids();
    // How often insert_batch read the last seq from the database (tests: the cache below).
    uint64_t seq_queries() const { return seq_queries_; }
    // The stored message seq into *out; *found false when there is none.
    bool message_at(int64_t seq, StoredMessage *out, bool *found);
    // Direct messages kept for a recipient who was offline: add, read (oldest first), clear.
    bool add_pending(const std::string &user, int64_t seq);
    // Keeps the stored message seq for its recipient (a hand-over that was never confirmed).
    bool add_pending_of(int64_t seq);
    // *rows gets the seqs of every row read, those whose message is not in the log (only a
    // damaged database has them) included: the rows to clear once the page is handed.
    bool pending(const std::string &user, int64_t after, int limit, std::vector<StoredMessage> *out,
                 std::vector<int64_t> *rows);
    // Clears exactly the rows of these seqs: never a range, for a row with a lower seq may
    // have been added by another worker since the page was read.
    bool clear_pending(const std::string &user, std::span<const int64_t> seqs);
    // The messages after seq `since` that name sent or received, and those of its rooms
    // while it was a member; with a general chat, its messages after general_since.
    bool sync(const std::string &name, int64_t user_id, int64_t since, const std::string &general,
              int64_t general_since, int limit, std::vector<StoredMessage> *out);
    // How many accounts there are (the general chat's members), or -1.
    int64_t user_count();

    // Public keys (end-to-end encryption, store_keys.cc): an account's current one, set
    // and read; get_key: NotFound when the account has none or does not exist.
    bool put_key(int64_t user_id, const std::string &key);
    Result get_key(const std::string &name, std::string *key);

    // Rate limits that hold on every worker at once: events (a log-in attempt, a
    // registration) counted per key ("u:name", "ip:addr", "reg:addr") in the database,
    // whose write lock makes the count exact whichever worker the attempts reach.
    struct Limit {
        std::string key;
        int64_t window; // seconds the events count
        int64_t max;    // events allowed within the window
    };
    // Counts one event now for every limit, in one transaction, unless one of them is
    // reached already: then nothing is counted, TooOften is returned and *retry_after
    // says when that limit's oldest event leaves its window. Ok or Error otherwise.
    Result count_event(const std::vector<Limit> &limits, int64_t now, int64_t *retry_after);
    // Takes back the newest event of each key (a log-in whose password was right).
    bool forgive_event(const std::vector<std::string> &keys);
    // Forgets events older than a day (the longest window), for the upkeep.
    bool prune_events(int64_t now);
    bool history(const std::string &me, const std::string &with, int64_t before, int limit,
                 std::vector<StoredMessage> *out);

    // Extends the history index over at most max_rows messages past meta.indexed (the
    // master's job); *indexed_rows says how many it took.
    bool index_step(int max_rows, int *indexed_rows);
    enum class Checkpoint { Passive, Restart, Truncate };
    // A WAL checkpoint of the given mode; *wal_frames (optional) gets the WAL's length in
    // frames (pages) since it last started over from its beginning, *copied how many of
    // them are now in the database (both -1 when another checkpoint was running).
    bool checkpoint(Checkpoint mode, int *wal_frames = nullptr, int *copied = nullptr);
    // The WAL file's size in bytes (0 if there is none). After the WAL starts over, the
    // next commit cuts the file down to kWalLimit (journal_size_limit).
    int64_t wal_bytes() const;
    // The same for the database at path, without opening it.
    static int64_t wal_file_bytes(const std::string &path);
    static constexpr int64_t kWalLimit = 32 << 20;
    // The page size of a database jimd creates (one made with another keeps its own). A
    // commit writes whole pages to the WAL, and at a moderate rate most commits hold one
    // message in one page: 2 KiB rather than SQLite's 4 KiB halves the bytes written and
    // synced per message, and the WAL checksum over them (doc/benchmarks.md).
    static constexpr int kNewPageSize = 2048;
    // A batch's text up to this many bytes stays in its page (SQLite keeps up to ~2,000
    // bytes of a row there on 2 KiB pages), so the upkeep reads it about as cheaply as a
    // heads row: such a batch without ids gets none, and its commit writes one page less.
    static constexpr size_t kTextInPage = 1024;
    // Writes the database file and the WAL to disk (fdatasync), so that a checkpoint's
    // own syncs that follow find little to write.
    bool sync_files();
    // The WAL's length in frames after this connection's last commit: it falls back to
    // the few frames of one commit when that commit started the WAL over.
    int wal_frames() const { return wal_frames_; }
    // The WAL's length in frames past which its file is bigger than kWalLimit.
    int wal_limit_frames() const { return wal_limit_frames_; }

    // Administration (store_admin.cc): rare requests, their statements prepared each time.
    // NotFound for an unknown account.
    Result set_banned(const std::string &name, bool banned);
    Result set_role(const std::string &name, const std::string &role);
    Result set_password(const std::string &name, const std::string &pwhash);
    // Accounts whose names start with prefix and come after `after`, with what admin_users
    // shows of them: at most limit, in name order.
    bool user_stats(const std::string &prefix, const std::string &after, int limit,
                    std::vector<UserStat> *out);

  private:
    // De-duplication (store_ids.cc), within insert_batch's transaction. Reads in the ids
    // committed since recent_.seen (all of them past meta.indexed after a reset), and forgets
    // those folded since.
    bool refresh_recent_ids();
    // The seq the next stored message gets, within insert_batch's transaction: remembered
    // from this connection's last commit of a batch while SQLite's data version says that
    // nothing (no other worker, no other transaction) changed the file since, else read.
    bool next_seq(int64_t *next);
    // The seq of the message stored before with m's (from, client_id) into *seq, 0 if none:
    // among the recent ids (the batch being written starts at seq first), then in `ids`.
    bool find_id(const StoredMessage &m, uint64_t hash, int64_t first, int64_t *seq);
    // Writes the heads of a batch ending at last_seq (heads_text_) into `batch_heads`,
    // unless there are none; had_ids: the batch has ids, so refresh_recent_ids() ran in
    // this transaction.
    bool add_heads(int64_t last_seq, bool had_ids);
    // Folds the ids of the messages up to `upto` into `ids` (index_step's transaction).
    // ids is a heads row (heads_row.hh) of the messages that have one, and the `batch_heads`
    // rows up to upto go.
    bool fold_ids(const std::string &ids, int64_t upto);
    // Adds each sender's count to users.messages_sent (the indexing step's transaction).
    bool count_sent(const NameMap<int64_t> &senders);
    // Runs an UPDATE of one account by name (?1) with one more text (?2): Ok, NotFound.
    Result update_user(const char *sql, const std::string &name, const std::string &value);
    sqlite3_stmt *prepare(const char *sql);
    bool exec(const char *sql);
    bool migrate();
    bool has_tables(); // any table but SQLite's own
    bool convert_messages();
    // Writes the `batch_heads` rows of the batches past meta.indexed (schema 8).
    bool convert_heads();
    // Calls each(m) for every stored message from seq `from` on, ascending, until it
    // returns false; false on a database error.
    template <class F> bool scan_from(int64_t from, F each);
    // Calls each(head) (heads_row.hh) for every stored message after seq `after`, ascending,
    // until it returns false: from the heads rows, and from the texts of the batches that
    // have none. False on a database error or a damaged row.
    template <class F> bool scan_heads(int64_t after, F each);
    // Writes text_heads_[0..count) as a heads row into text_row_; false (error_ says why)
    // for a name or id too long for one.
    bool text_heads_row(size_t count);
    bool prepare_all();
    // One prepared statement: where it is kept, and its SQL.
    struct Statement {
        sqlite3_stmt *Store::*st;
        const char *sql;
    };
    static const Statement kStatements[];
    bool fail(const char *what);

    static int on_busy(void *arg, int attempt);
    static int on_wal_commit(void *arg, sqlite3 *, const char *, int frames);
    // The integer value of PRAGMA name, or fallback if it cannot be read.
    int pragma_int(const char *name, int fallback);
    int wal_frames_ = 0;
    int wal_limit_frames_ = 0;
    sqlite3 *db_ = nullptr;
    int busy_ms_ = 10000;
    int64_t busy_since_us_ = 0;
    std::vector<sqlite3_stmt *> stmts_;
    std::string error_;
    // Prepared once, in open().
    sqlite3_stmt *st_create_user_ = nullptr, *st_get_user_ = nullptr, *st_login_ = nullptr,
                 *st_users_prefix_ = nullptr, *st_contacts_ = nullptr, *st_add_contact_ = nullptr,
                 *st_del_contact_ = nullptr, *st_room_get_ = nullptr, *st_room_create_ = nullptr,
                 *st_join_ = nullptr, *st_leave_ = nullptr, *st_user_rooms_ = nullptr,
                 *st_rooms_ = nullptr, *st_begin_ = nullptr, *st_commit_ = nullptr,
                 *st_rollback_ = nullptr, *st_last_seq_ = nullptr, *st_add_id_ = nullptr,
                 *st_dup_ = nullptr, *st_add_batch_ = nullptr, *st_batches_ = nullptr,
                 *st_batch_at_ = nullptr, *st_add_pending_ = nullptr, *st_clear_pending_ = nullptr,
                 *st_pending_seqs_ = nullptr, *st_room_sinces_ = nullptr, *st_chunks_ = nullptr,
                 *st_indexed_ = nullptr, *st_add_chunk_ = nullptr, *st_set_indexed_ = nullptr,
                 *st_member_ = nullptr, *st_memberships_ = nullptr, *st_created_since_ = nullptr,
                 *st_user_count_ = nullptr, *st_events_ = nullptr, *st_add_event_ = nullptr,
                 *st_forgive_ = nullptr, *st_prune_events_ = nullptr, *st_add_heads_ = nullptr,
                 *st_heads_ = nullptr, *st_drop_heads_ = nullptr, *st_index_rows_ = nullptr;
    std::string batch_text_; // the row being written (its capacity reused)
    // next_seq()'s memory: the seq after this connection's last committed batch and the
    // data version (SQLITE_FCNTL_DATA_VERSION) right after that commit; 0: not known.
    // pending_next_ is the open transaction's, once it wrote a batch (0: none yet).
    int64_t next_seq_ = 0, pending_next_ = 0;
    unsigned seq_version_ = 0;
    uint64_t seq_queries_ = 0;
    // De-duplication (store_ids.cc): the ids committed since the upkeep's last fold, the
    // heads row of the batch being written (heads_row.hh), and its new messages in seq order.
    RecentIds recent_;
    bool recent_own_ = false; // recent_ holds ids of the open transaction (a rollback drops it)
    std::string heads_text_;
    std::vector<const StoredMessage *> row_msgs_;
    // The last row read by message_at (rows never change once written): seqs first..last.
    std::vector<StoredMessage> cached_;
    int64_t cached_first_ = 0, cached_last_ = -1;
    std::string step_ids_; // index_step's heads of the messages with ids, reused
    // A batch text's heads (scan_heads, convert_heads) and their heads row, reused.
    std::vector<batch_format::Head> text_heads_;
    std::string text_row_;
    // Prepared on first use (store_keys.cc).
    sqlite3_stmt *st_put_key_ = nullptr, *st_get_key_ = nullptr;
};

} // namespace jimd

// The journal on SQLite (journal.hh): the batch and its commit timing, de-duplication,
// pending rows, the WAL policy through the Checkpointer; the queries are Store's.
#include "journal.hh"

#include "checkpoint.hh"
#include "clock.hh"
#include "group_commit.hh"
#include "name_set.hh"
#include "precise_timer.hh"
#include "store.hh"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <sys/stat.h>
#include <unordered_set>
#include <utility>

namespace jimd {

namespace {

#define JLOG(level, ...) JIM_LOG(config_.log, level, config_.tag.c_str(), __VA_ARGS__)

// Accepted messages in arrival order. Entries are reused from batch to batch (size() only
// counts the live ones), so a message's strings land in warm capacity: no heap allocation
// per message once the journal has seen a full batch.
class Batch {
  public:
    Entry &add()
    {
        if (n_ == items_.size())
            items_.emplace_back();
        return items_[n_++];
    }
    size_t size() const { return n_; }
    bool empty() const { return n_ == 0; }
    Entry &operator[](size_t i) { return items_[i]; }
    Entry *data() { return items_.data(); }
    void clear() { n_ = 0; }
    void swap(Batch &o)
    {
        items_.swap(o.items_);
        std::swap(n_, o.n_);
    }

  private:
    std::vector<Entry> items_;
    size_t n_ = 0;
};

// The pending-row work queued for the next commit.
struct RowWork {
    std::vector<std::pair<std::string, int64_t>> keep; // (user, seq): rows to add
    std::vector<int64_t> recover;                      // seqs kept for their recipients
    std::vector<std::pair<std::string, std::vector<int64_t>>> clear; // (user, seqs): to clear
    bool empty() const { return keep.empty() && recover.empty() && clear.empty(); }
    void swap(RowWork &o)
    {
        keep.swap(o.keep);
        recover.swap(o.recover);
        clear.swap(o.clear);
    }
    // Puts o's work back in front of this one's (o's was queued first).
    void take_back(RowWork &o)
    {
        keep.insert(keep.begin(), o.keep.begin(), o.keep.end());
        recover.insert(recover.begin(), o.recover.begin(), o.recover.end());
        clear.insert(clear.begin(), o.clear.begin(), o.clear.end());
    }
    void clear_all()
    {
        keep.clear();
        recover.clear();
        clear.clear();
    }
};

// A test hook, from the environment variable JIMD_TEST_COMMIT="MIN:HOLD_MS[:after]": the
// batch gathers at least MIN messages (or for a second) before it is committed, and a
// commit of at least MIN messages is held open HOLD_MS milliseconds before its COMMIT, so a
// test can kill the worker in the middle of a large commit; with ":after", the worker
// holds still HOLD_MS after the COMMIT instead, before it routes the messages (a worker
// the machine left without a CPU a while), and the others' commits go on meanwhile.
struct TestHold {
    size_t min = 0; // 0: off
    int hold_ms = 0;
    bool after = false;
    static TestHold from_env()
    {
        TestHold t;
        if (const char *v = getenv("JIMD_TEST_COMMIT")) {
            char *end = nullptr;
            t.min = strtoul(v, &end, 10);
            if (end && *end == ':')
                t.hold_ms = static_cast<int>(strtol(end + 1, &end, 10));
            t.after = end && strcmp(end, ":after") == 0;
        }
        return t;
    }
};

size_t recent_ids_max_from_env()
{
    const char *v = getenv("JIMD_TEST_RECENT_IDS_MAX");
    return v && atol(v) > 0 ? static_cast<size_t>(atol(v)) : size_t{1} << 20;
}

class SqliteJournal final : public Journal {
  public:
    SqliteJournal(const JournalConfig &config, event_base *base, JournalListener &listener)
        : config_(config), base_(base), listener_(listener), checkpointer_(base, config),
          test_(TestHold::from_env())
    {
    }
    ~SqliteJournal() override;
    bool open(std::string *why);

    const std::string &error() const override { return store_.error(); }

    Result create_user(const std::string &name, const std::string &pwhash, const std::string &info,
                       int64_t now) override
    {
        return store_.create_user(name, pwhash, info, now);
    }
    Result get_user(const std::string &name, Account *out) override
    {
        return store_.get_user(name, out);
    }
    bool user_exists(std::string_view name) override;
    bool record_login(int64_t user_id, int64_t now, const std::string &ip) override
    {
        return store_.record_login(user_id, now, ip);
    }
    bool users_with_prefix(const std::string &prefix, const std::string &after, int limit,
                           std::vector<std::string> *out) override
    {
        return store_.users_with_prefix(prefix, after, limit, out);
    }
    int64_t user_count() override { return store_.user_count(); }
    bool put_key(int64_t user_id, const std::string &key) override
    {
        return store_.put_key(user_id, key);
    }
    Result get_key(const std::string &name, std::string *key) override
    {
        return store_.get_key(name, key);
    }
    Result set_banned(const std::string &name, bool banned) override
    {
        return store_.set_banned(name, banned);
    }
    Result set_role(const std::string &name, const std::string &role) override
    {
        return store_.set_role(name, role);
    }
    Result set_password(const std::string &name, const std::string &pwhash) override
    {
        return store_.set_password(name, pwhash);
    }
    bool user_stats(const std::string &prefix, const std::string &after, int limit,
                    std::vector<UserStat> *out) override
    {
        return store_.user_stats(prefix, after, limit, out);
    }
    void sizes(int64_t *db_bytes, int64_t *wal_bytes) override;

    bool contacts(int64_t owner, std::vector<std::string> *out) override
    {
        return store_.contacts(owner, out);
    }
    Result add_contact(int64_t owner, const std::string &contact) override
    {
        return store_.add_contact(owner, contact);
    }
    Result del_contact(int64_t owner, const std::string &contact) override
    {
        return store_.del_contact(owner, contact);
    }

    Result join(const std::string &room, int64_t user_id, int64_t now, int max_rooms,
                int max_created_per_hour) override
    {
        return store_.join(room, user_id, now, max_rooms, max_created_per_hour);
    }
    Result leave(const std::string &room, int64_t user_id) override
    {
        return store_.leave(room, user_id);
    }
    bool user_rooms(int64_t user_id, std::vector<std::string> *out) override
    {
        return store_.user_rooms(user_id, out);
    }
    bool room_exists(const std::string &room) override { return store_.room_exists(room); }
    bool rooms(const std::string &prefix, const std::string &after, int limit,
               std::vector<std::pair<std::string, int64_t>> *out) override
    {
        return store_.rooms(prefix, after, limit, out);
    }

    Result count_login_attempt(const std::string &account, const std::string &ip,
                               const LoginLimits &limits, int64_t now,
                               int64_t *retry_after) override;
    bool forgive_login_attempt(const std::string &account, const std::string &ip) override
    {
        return store_.forgive_event({"u:" + account, "ip:" + ip});
    }
    Result count_registration(const std::string &ip, int64_t window, int64_t max, int64_t now,
                              int64_t *retry_after) override
    {
        return store_.count_event({{"reg:" + ip, window, max}}, now, retry_after);
    }

    Entry &append() override;
    void keep_pending(const std::string &user, int64_t seq) override;
    void recover_pending(int64_t seq) override;
    void clear_pending(const std::string &user, std::span<const int64_t> seqs) override;
    uint64_t next_commit() const override { return commits_ + 1; }
    uint64_t last_ok() const override { return last_ok_; }
    void commit_now() override { commit(); }

    bool read_since(const SyncScope &who, int64_t after, int limit,
                    std::vector<StoredMessage> *out) override
    {
        return store_.sync(who.user, who.user_id, after, who.general, who.general_since, limit,
                           out);
    }
    bool read_pending(const std::string &user, int64_t after, int limit,
                      std::vector<StoredMessage> *out, std::vector<int64_t> *seqs) override
    {
        return store_.pending(user, after, limit, out, seqs);
    }
    bool read_history(const std::string &me, const std::string &with, int64_t before, int limit,
                      std::vector<StoredMessage> *out) override
    {
        return store_.history(me, with, before, limit, out);
    }

  private:
    static void on_commit(evutil_socket_t, short, void *arg);
    static void on_tick(evutil_socket_t, short, void *arg);
    void schedule();
    void commit();
    void log_failure(size_t messages);
    void log_recovery();
    bool write_messages(Batch &batch);
    bool write_rows(Batch &batch, const RowWork &rows);
    void hold_for_test(size_t messages, bool committed);
    void bound_recent_ids();

    static constexpr size_t kBatchMax = 1024;
    // Past this many ids in memory (~28 MB) the worker folds them into `ids` itself; a test
    // sets a lower limit in JIMD_TEST_RECENT_IDS_MAX.
    size_t recent_ids_max_ = recent_ids_max_from_env();
    JournalConfig config_;
    event_base *base_;
    JournalListener &listener_;
    Store store_;
    Checkpointer checkpointer_;
    TestHold test_;
    // Names user_exists found in the database (accounts are never deleted), asked about
    // without a copy. Not every account that logs in: a recipient online is known to exist
    // by the router (may_address asks it first), and a name here costs ~72 bytes.
    NameSet known_users_;
    Batch batch_;      // accepted, waiting for the commit
    Batch committing_; // the batch being committed (its entries are reused afterwards)
    RowWork rows_;     // pending-row work for the next commit
    RowWork writing_;  // the same, swapped in while a commit runs (kept for its capacity)
    std::vector<StoredMessage *> run_; // the messages to store, and their entries
    std::vector<Entry *> run_entries_;
    std::vector<uint8_t> dup_;
    event *commit_ev_ = nullptr; // the commit at the end of this loop iteration
    PreciseTimer wait_;          // the commit after a wait (the policy's, or the test hook's)
    event *tick_ev_ = nullptr;
    bool scheduled_ = false;
    bool now_ = false;       // scheduled for the end of this iteration, not after a wait
    bool gathering_ = false; // the test hook's wait: for test_.min messages
    bool running_ = false;
    GroupCommit policy_;
    uint64_t commits_ = 0, last_ok_ = 0;
    uint64_t messages_ = 0, commits_logged_ = 0; // for the debug log
    uint64_t failures_ = 0;                      // failed commits in a row
    int64_t fail_logged_us_ = 0;                 // when the last failure was logged
};

SqliteJournal::~SqliteJournal()
{
    if (commit_ev_)
        event_free(commit_ev_);
    if (tick_ev_)
        event_free(tick_ev_);
}

bool SqliteJournal::open(std::string *why)
{
    if (!store_.open(config_.path, config_.sync_full, config_.busy_ms, why) ||
        !checkpointer_.start(why))
        return false;
    commit_ev_ = event_new(base_, -1, 0, on_commit, this);
    tick_ev_ = event_new(base_, -1, EV_PERSIST, on_tick, this);
    timeval one_second = {1, 0};
    if (!commit_ev_ || !tick_ev_ || event_add(tick_ev_, &one_second) != 0) {
        *why = "out of memory";
        return false;
    }
    if (!wait_.open(base_, [this] { commit(); })) {
        *why = std::string("commit timer: ") + strerror(errno);
        return false;
    }
    return true;
}

void SqliteJournal::sizes(int64_t *db_bytes, int64_t *wal_bytes)
{
    struct stat st;
    *db_bytes = stat(config_.path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
    *wal_bytes = Store::wal_file_bytes(config_.path);
}

bool SqliteJournal::user_exists(std::string_view name)
{
    if (known_users_.count(name))
        return true;
    Account a;
    if (get_user(std::string(name), &a) != Result::Ok)
        return false;
    known_users_.emplace(name);
    return true;
}

// A log-in attempt counts against both limits in one transaction, whichever worker it
// reaches: the database's write lock orders them.
Result SqliteJournal::count_login_attempt(const std::string &account, const std::string &ip,
                                          const LoginLimits &limits, int64_t now,
                                          int64_t *retry_after)
{
    return store_.count_event(
        {{"u:" + account, limits.window, limits.account}, {"ip:" + ip, limits.window, limits.ip}},
        now, retry_after);
}

Entry &SqliteJournal::append()
{
    Entry &e = batch_.add();
    e.outcome = Entry::Outcome::Stored;
    e.live = false;
    e.keep_offline = true;
    e.msg.seq = 0;
    e.msg.plain_ascii = false; // the strings about to be set are not looked at yet
    schedule();
    return e;
}

void SqliteJournal::keep_pending(const std::string &user, int64_t seq)
{
    rows_.keep.emplace_back(user, seq);
    schedule();
}

void SqliteJournal::recover_pending(int64_t seq)
{
    rows_.recover.push_back(seq);
    schedule();
}

void SqliteJournal::clear_pending(const std::string &user, std::span<const int64_t> seqs)
{
    rows_.clear.emplace_back(user, std::vector<int64_t>(seqs.begin(), seqs.end()));
    schedule();
}

// When to commit. Idle: at the end of this loop iteration (activated now, the commit runs
// after the I/O callbacks already queued), so a lone message waits for nothing. Busy: as
// long as the policy (group_commit.hh) says, or at once when kBatchMax messages wait, so
// one commit serves many messages — a commit costs about the same for 15 messages as for 500.
void SqliteJournal::schedule()
{
    bool full = batch_.size() >= kBatchMax;
    bool gathering = test_.min && batch_.size() < test_.min && !full;
    if (scheduled_ && !now_ && (full || (gathering_ && !gathering))) {
        wait_.cancel(); // full: no reason to wait any longer
        scheduled_ = false;
    }
    if (scheduled_ || running_)
        return; // a running commit schedules the next one when it ends
    scheduled_ = true;
    int64_t wait = policy_.wait_us(mono_us());
    now_ = (wait == 0 || full) && !gathering;
    gathering_ = gathering;
    if (gathering)
        now_ = !wait_.arm(1'000'000);
    else if (!now_)
        now_ = !wait_.arm(wait);
    if (now_)
        event_active(commit_ev_, EV_TIMEOUT, 0);
}

void SqliteJournal::on_commit(evutil_socket_t, short, void *arg)
{
    static_cast<SqliteJournal *>(arg)->commit();
}

// Rows left over by a failed commit are tried again once a second until one succeeds.
void SqliteJournal::on_tick(evutil_socket_t, short, void *arg)
{
    auto *j = static_cast<SqliteJournal *>(arg);
    if (!j->rows_.empty())
        j->schedule();
    if (j->commits_ != j->commits_logged_) {
        JIM_LOG(j->config_.log, JIM_LOG_DEBUG, j->config_.tag.c_str(),
                "%llu commits, %.1f messages each on average",
                static_cast<unsigned long long>(j->commits_),
                static_cast<double>(j->messages_) / static_cast<double>(j->commits_));
        j->commits_logged_ = j->commits_;
    }
}

// One transaction for the whole batch and the pending-row work queued with it; then the
// listener hears each message's outcome. A direct message gets a pending row when its
// recipient is online nowhere; it waits for the next login.
void SqliteJournal::commit()
{
    if (running_)
        return; // reached from inside a commit: the next one is scheduled when it ends
    if (scheduled_ && now_)
        event_del(commit_ev_); // called directly: the scheduled run is not needed
    else if (scheduled_)
        wait_.cancel();
    scheduled_ = false;
    policy_.started(mono_us());
    if (batch_.empty() && rows_.empty())
        return;
    Batch &batch = committing_;
    batch.swap(batch_);
    batch_.clear();
    writing_.swap(rows_);
    running_ = true;
    commits_++;
    int64_t began_us = mono_us();
    bool ok = store_.begin() && write_messages(batch) && write_rows(batch, writing_);
    hold_for_test(batch.size(), false);
    ok = ok && store_.commit();
    hold_for_test(batch.size(), true);
    listener_.commit_took(batch.size(), mono_us() - began_us);
    messages_ += batch.size();
    policy_.finished(batch.size());
    if (!ok) {
        store_.rollback();
        log_failure(batch.size());
        for (size_t i = 0; i < batch.size(); i++)
            batch[i].outcome = Entry::Outcome::Failed;
        rows_.take_back(writing_); // tried again by the next commit, or the tick's
    } else {
        log_recovery();
        last_ok_ = commits_;
    }
    writing_.clear_all();
    listener_.committed(batch.data(), batch.size(), ok);
    batch.clear();
    running_ = false;
    if (ok)
        bound_recent_ids();
    checkpointer_.after_commit(store_);
    // Queued while this commit ran. Rows a failed commit gave back wait for the tick: tried
    // at once, a disk that is full would have the worker do nothing but fail commits.
    if (!batch_.empty() || (ok && !rows_.empty()))
        schedule();
}

// A failed commit is logged at once, and then once per 10 s with how many failed since:
// a full disk must not fill the log with a line per refused message.
void SqliteJournal::log_failure(size_t messages)
{
    failures_++;
    int64_t now = mono_us();
    if (fail_logged_us_ != 0 && now - fail_logged_us_ < 10'000'000)
        return;
    JLOG(JIM_LOG_ERROR, "commit of %zu messages failed (%llu failed commits in a row): %s",
         messages, static_cast<unsigned long long>(failures_), store_.error().c_str());
    fail_logged_us_ = now;
}

// After failed commits, says once that commits succeed again.
void SqliteJournal::log_recovery()
{
    if (failures_ == 0)
        return;
    JLOG(JIM_LOG_INFO, "commits succeed again after %llu failed",
         static_cast<unsigned long long>(failures_));
    failures_ = 0;
    fail_logged_us_ = 0;
}

// Stores the batch's messages in order, as one row. A direct message whose recipient is
// online nowhere and that must not be kept (keep_offline false) is not stored at all.
bool SqliteJournal::write_messages(Batch &batch)
{
    run_.clear();
    run_entries_.clear();
    for (size_t i = 0; i < batch.size(); i++) {
        Entry &e = batch[i];
        if (!e.room && !e.keep_offline && !listener_.recipient_online(e.msg.to)) {
            e.outcome = Entry::Outcome::Offline;
            continue;
        }
        run_.push_back(&e.msg);
        run_entries_.push_back(&e);
    }
    dup_.resize(run_.size());
    if (!store_.insert_batch(run_.data(), run_.size(), dup_.data()))
        return false;
    for (size_t i = 0; i < run_entries_.size(); i++)
        if (dup_[i])
            run_entries_[i]->outcome = Entry::Outcome::Duplicate;
    return true;
}

// The pending rows: one for each new direct message whose recipient is online nowhere,
// then the work queued since the last commit.
bool SqliteJournal::write_rows(Batch &batch, const RowWork &rows)
{
    bool ok = true;
    for (size_t i = 0; ok && i < batch.size(); i++) {
        Entry &e = batch[i];
        if (e.room || e.outcome != Entry::Outcome::Stored)
            continue;
        e.live = listener_.recipient_online(e.msg.to);
        if (!e.live)
            ok = store_.add_pending(e.msg.to, e.msg.seq);
    }
    for (size_t i = 0; ok && i < rows.keep.size(); i++)
        ok = store_.add_pending(rows.keep[i].first, rows.keep[i].second);
    for (size_t i = 0; ok && i < rows.recover.size(); i++)
        ok = store_.add_pending_of(rows.recover[i]);
    for (size_t i = 0; ok && i < rows.clear.size(); i++)
        ok = store_.clear_pending(rows.clear[i].first, rows.clear[i].second);
    return ok;
}

// The recent message ids stay in memory until the master's upkeep folds them into `ids`
// (store_ids.cc); it runs at nice 19, and a saturated machine can starve it. Then the worker
// indexes, which folds them, itself: a pause of the loop instead of memory without bound.
void SqliteJournal::bound_recent_ids()
{
    if (store_.recent_ids() <= recent_ids_max_)
        return;
    int64_t t0 = mono_us();
    int rows = 0, total = 0;
    do {
        if (!store_.index_step(10000, &rows)) {
            JLOG(JIM_LOG_WARNING, "indexing messages failed: %s", store_.error().c_str());
            return;
        }
        total += rows;
    } while (rows == 10000 && total < 2000000);
    if (!store_.forget_folded_ids())
        JLOG(JIM_LOG_WARNING, "%s", store_.error().c_str());
    JLOG(JIM_LOG_INFO, "indexed %d messages behind the upkeep in %lld ms (%zu message ids kept)",
         total, static_cast<long long>((mono_us() - t0) / 1000), store_.recent_ids());
}

void SqliteJournal::hold_for_test(size_t messages, bool committed)
{
    if (!test_.min || messages < test_.min || test_.hold_ms <= 0 || committed != test_.after)
        return;
    JLOG(JIM_LOG_WARNING, "test: holding a commit of %zu messages %s for %d ms", messages,
         committed ? "done" : "open", test_.hold_ms);
    timespec nap = {test_.hold_ms / 1000, (test_.hold_ms % 1000) * 1000000L};
    while (nanosleep(&nap, &nap) != 0) {
    }
}

} // namespace

std::unique_ptr<Journal> open_journal(const JournalConfig &config, event_base *base,
                                      JournalListener &listener, std::string *why)
{
    auto j = std::make_unique<SqliteJournal>(config, base, listener);
    if (!j->open(why))
        return nullptr;
    return j;
}

} // namespace jimd

// The WAL policy of a worker's journal (checkpoint.hh).
#include "checkpoint.hh"

#include "clock.hh"

#include <algorithm>
#include <cstdlib>

namespace jimd {

#define CLOG(level, ...) JIM_LOG(config_.log, level, config_.tag.c_str(), __VA_ARGS__)

namespace {

int frames_from_env(int frames)
{
    const char *v = getenv("JIMD_TEST_CHECKPOINT_FRAMES");
    return v && atoi(v) >= 100 ? atoi(v) : frames;
}

} // namespace

Checkpointer::Checkpointer(event_base *base, const JournalConfig &config)
    : frames_(frames_from_env(kFrames)), base_(base), config_(config)
{
}

Checkpointer::~Checkpointer()
{
    stand_down_ = true; // a round in progress ends after its current pass
    thread_.reset();    // the threads stop before their connection closes
    hurried_.reset();
    store_.reset();
}

bool Checkpointer::start(std::string *why)
{
    store_ = std::make_unique<Store>();
    if (!store_->open(config_.path, config_.sync_full, config_.busy_ms, why))
        return false;
    thread_ = std::make_unique<Helper>(base_);
    if (config_.workers == 1) // only a single worker's loop copies the rest (finish)
        hurried_ = std::make_unique<Helper>(base_);
    if (!thread_->start(kNice) || (hurried_ && !hurried_->start())) {
        *why = "cannot start the checkpoint threads";
        return false;
    }
    return true;
}

// Once the WAL holds frames_ (kFrames; half Store::kWalLimit if that comes first, with pages
// larger than 4 KiB), the thread (at nice kNice: the loop preempts it at once)
// copies it back on its own connection, concurrently with the commits, in passes until
// one copies at most kRest frames. A single worker then copies the few frames committed
// meanwhile itself (finish), between two commits, so that copy reaches the WAL's end and
// the next commit starts the WAL over. The slow part — syncing megabytes of WAL and
// database to disk — thus happens off the loop; the loop's part syncs little (about
// 0.5 ms at 80,000 messages/s). The next try comes when the WAL has grown by a quarter of
// kFrames more without starting over.
//
// Past Store::kWalLimit the thread could not keep up (a core so busy that a nice-19 thread
// gets no CPU): it stops after its current pass and starts no other, and the master's
// upkeep restarts the WAL at the master's priority. A pass left running would hold
// SQLite's checkpoint lock, starved, for as long as the core stays busy.
void Checkpointer::after_commit(Store &main)
{
    int frames = main.wal_frames();
    if (frames < tried_at_)
        tried_at_ = 0; // the WAL started over
    if (frames >= main.wal_limit_frames()) {
        stand_down_ = true;
        return;
    }
    int start = std::min(frames_, main.wal_limit_frames() / 2);
    if (running_ || frames < start || frames < tried_at_ + start / 4)
        return;
    running_ = true;
    tried_at_ = frames;
    struct Outcome {
        int log = -1, copied = -1; // the WAL's frames and those copied back at the last
                                   // pass, or -1: none ran
        std::string error;
    };
    auto out = std::make_shared<Outcome>();
    Store *db = store_.get();
    std::atomic<bool> *stand_down = &stand_down_; // the thread ends before *this
    *stand_down = false;
    (outrun_ && hurried_ ? hurried_ : thread_)
        ->submit(
            [db, out, stand_down] {
                // Each pass copies what the last one's copy and sync gave time to commit,
                // so the passes shrink (the first counts from frame 0, so there are at least
                // two). SQLite syncs the database only after a copy that reached the WAL's
                // end (the loop's), so each pass syncs what it wrote.
                int before = 0;
                for (int pass = 0; pass < 16 && !*stand_down; pass++) {
                    int log = -1, copied = -1;
                    if (!db->checkpoint(Store::Checkpoint::Passive, &log, &copied)) {
                        out->error = db->error();
                        return;
                    }
                    if (log < 0)
                        return; // another worker's thread (or the master) is copying
                    if (!db->sync_files()) {
                        out->error = db->error();
                        return;
                    }
                    out->log = log;
                    out->copied = copied;
                    if (copied - before <= kRest)
                        return;
                    before = copied;
                }
            },
            [this, &main, out] { finish(main, out->log, out->copied, out->error); });
}

// On the loop, after the thread's passes: copies what they left and what was committed
// since, with no commit running meanwhile — only when that is a few frames (kLoopMost).
// More is left when the commits outran the passes (a saturated core, where the nice-19
// thread gets little time): copying it here would hold every client of this loop for tens
// of milliseconds, so the copying starts again at the next commit instead, on a thread at
// the loop's own priority (hurried_: it shares the core rather than waiting for a free
// moment), until a round leaves a few frames again; past Store::kWalLimit, the master's
// RESTART. The WAL's length is the larger of the loop's last commit's and the thread's
// last look (the master's upkeep commits too). Not with several workers: the others go
// on committing during the copy, so it would seldom reach the end and would stall this
// loop for nothing; there the threads' copying keeps the master's RESTART short.
void Checkpointer::finish(Store &main, int thread_log, int thread_copied, const std::string &error)
{
    running_ = false;
    if (!error.empty())
        CLOG(JIM_LOG_WARNING, "checkpoint failed: %s", error.c_str());
    if (thread_copied < 0 || config_.workers > 1)
        return;
    int behind = std::max(main.wal_frames(), thread_log) - thread_copied;
    outrun_ = behind > kLoopMost;
    if (outrun_) {
        CLOG(JIM_LOG_DEBUG, "checkpoint from frame %d: %d frames left, for the thread", tried_at_,
             behind);
        tried_at_ = 0; // the next commit starts the copying again, at the loop's priority
        return;
    }
    int64_t t0 = mono_us();
    int log = -1, copied = -1;
    if (!main.checkpoint(Store::Checkpoint::Passive, &log, &copied))
        CLOG(JIM_LOG_WARNING, "checkpoint failed: %s", main.error().c_str());
    CLOG(JIM_LOG_DEBUG,
         "checkpoint from frame %d: the loop copied %d frames (up to %d of %d) in %lld us",
         tried_at_, std::max(copied - thread_copied, 0), copied, log,
         static_cast<long long>(mono_us() - t0));
}

} // namespace jimd

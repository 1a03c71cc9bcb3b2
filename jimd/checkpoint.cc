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
    thread_.reset();    // the thread stops before its connection closes
    store_.reset();
}

bool Checkpointer::start(std::string *why)
{
    store_ = std::make_unique<Store>();
    if (!store_->open(config_.path, config_.sync_full, config_.busy_ms, why))
        return false;
    thread_ = std::make_unique<Helper>(base_);
    if (!thread_->start(kNice)) {
        *why = "cannot start the checkpoint thread";
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
        int left = -1; // frames the thread left, or -1 if it could not copy
        std::string error;
    };
    auto out = std::make_shared<Outcome>();
    Store *db = store_.get();
    std::atomic<bool> *stand_down = &stand_down_; // the thread ends before *this
    *stand_down = false;
    thread_->submit(
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
                out->left = log - copied;
                if (copied - before <= kRest)
                    return;
                before = copied;
            }
        },
        [this, &main, out] { finish(main, out->left, out->error); });
}

// On the loop, after the thread's passes: copies what they left (a few frames), with no
// commit running meanwhile. Not with several workers: the others go on committing during
// the copy, so it would seldom reach the end and would stall this loop for nothing; there
// the threads' copying keeps the master's RESTART short.
void Checkpointer::finish(Store &main, int left, const std::string &error)
{
    running_ = false;
    if (!error.empty())
        CLOG(JIM_LOG_WARNING, "checkpoint failed: %s", error.c_str());
    if (left < 0 || config_.workers > 1)
        return;
    int64_t t0 = mono_us();
    int log = -1, copied = -1;
    if (!main.checkpoint(Store::Checkpoint::Passive, &log, &copied))
        CLOG(JIM_LOG_WARNING, "checkpoint failed: %s", main.error().c_str());
    CLOG(JIM_LOG_DEBUG, "checkpoint from frame %d: the loop copied up to %d of %d in %lld us",
         tried_at_, copied, log, static_cast<long long>(mono_us() - t0));
}

} // namespace jimd

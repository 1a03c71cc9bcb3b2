// A worker's share of keeping the WAL short: it copies the WAL back into the database
// while it commits, so the WAL starts over from its beginning without anyone holding
// the write lock for it (the master's RESTART is only the fallback: master.cc).
#include "worker.hh"

#include "clock.hh"

namespace jimd {

#define WLOG(level, ...) JIM_LOG(log_, level, worker_tag(setup_.index), __VA_ARGS__)

// Called after each commit. Once the WAL holds kCheckpointFrames, the helper thread
// (at nice kCheckpointNice: the loop preempts it at once) copies it back on its own
// connection, concurrently with the commits, in passes until one copies at most
// kCheckpointRest frames. A single worker then copies the few frames committed
// meanwhile itself (finish_checkpoint), between two commits, so that copy reaches the
// WAL's end and the next commit starts the WAL over. The slow part — syncing megabytes
// of WAL and database to disk — thus happens off the loop; the loop's part syncs
// little (about 0.5 ms at 80,000 messages/s). The next try comes when the WAL has
// grown by a quarter of kCheckpointFrames more without starting over.
//
// Past Store::kWalLimit the helper could not keep up (a core so busy that a nice-19 thread
// gets no CPU): it stops after its current pass and starts no other, and the master's
// upkeep restarts the WAL at the master's priority (master.cc). A pass left running would
// hold SQLite's checkpoint lock, starved, for as long as the core stays busy.
void Worker::maybe_checkpoint()
{
    int frames = store_->wal_frames();
    if (frames < checkpoint_tried_at_)
        checkpoint_tried_at_ = 0; // the WAL started over
    if (frames >= store_->wal_limit_frames()) {
        checkpoint_stand_down_ = true;
        return;
    }
    if (checkpointing_ || frames < kCheckpointFrames ||
        frames < checkpoint_tried_at_ + kCheckpointFrames / 4)
        return;
    checkpointing_ = true;
    checkpoint_tried_at_ = frames;
    struct Outcome {
        int left = -1; // frames the helper left, or -1 if it could not copy
        std::string error;
    };
    auto out = std::make_shared<Outcome>();
    Store *db = checkpoint_store_.get();
    std::atomic<bool> *stand_down = &checkpoint_stand_down_; // the thread ends before *this
    *stand_down = false;
    checkpointer_->submit(
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
                    return; // another worker's helper (or the master) is copying
                if (!db->sync_files()) {
                    out->error = db->error();
                    return;
                }
                out->left = log - copied;
                if (copied - before <= kCheckpointRest)
                    return;
                before = copied;
            }
        },
        [this, out] { finish_checkpoint(out->left, out->error); });
}

// On the loop, after the helper's passes: copies what they left (a few frames), with
// no commit running meanwhile. Not with several workers: the others go on committing
// during the copy, so it would seldom reach the end and would stall this loop for
// nothing; there the helpers' copying keeps the master's RESTART short (master.cc).
void Worker::finish_checkpoint(int left, const std::string &error)
{
    checkpointing_ = false;
    if (!error.empty())
        WLOG(JIM_LOG_WARNING, "checkpoint failed: %s", error.c_str());
    if (left < 0 || setup_.count > 1)
        return;
    int64_t t0 = mono_us();
    int log = -1, copied = -1;
    if (!store_->checkpoint(Store::Checkpoint::Passive, &log, &copied))
        WLOG(JIM_LOG_WARNING, "checkpoint failed: %s", store_->error().c_str());
    WLOG(JIM_LOG_DEBUG, "checkpoint from frame %d: the loop copied up to %d of %d in %lld us",
         checkpoint_tried_at_, copied, log, static_cast<long long>(mono_us() - t0));
}

} // namespace jimd

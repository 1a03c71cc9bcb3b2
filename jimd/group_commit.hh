// The group-commit policy of a worker's journal: how long a batch waits for its commit.
#pragma once

#include <cstddef>
#include <cstdint>

namespace jimd {

// Decides, from the commits so far, whether the commit of a new batch runs at the end of
// this loop iteration or waits a moment so that one commit serves more messages. Times are
// microseconds on the monotonic clock (mono_us()). It knows nothing of the event loop, so
// tests drive it with times of their own.
//
// A wait is made only while the last commit was recent and held kBusyBatch messages or
// more: the journal is busy, and a commit costs far more than a message. It grows with
// that commit, kWaitPerMessageUs for each of its messages, up to kMaxWaitUs. Below that
// no wait pays: a lone sender's next message comes only after the answer, and at a
// moderate rate (20,000 messages/s, ~50 us apart, commits of one or two) a wait of 10-30 us
// gathered a fraction of a message while every message waited it; without it the p50 was
// 107-115 us against 151-172 us, and the server's CPU per message lower too, because its
// timer was not armed (doc/benchmarks.md). A load that outgrows commits of a few messages
// makes batches of kBusyBatch by itself, and from there the waits make them larger.
class GroupCommit {
  public:
    static constexpr int64_t kRecentUs = 1000; // a commit this recent: the journal is busy
    static constexpr size_t kBusyBatch = 8;    // ... and waiting pays if it held this many
    static constexpr int64_t kWaitPerMessageUs = 10;
    static constexpr int64_t kMaxWaitUs = 250;

    // A commit starts at now.
    void started(int64_t now) { last_start_ = now; }
    // The commit that started last held n messages.
    void finished(size_t n) { last_batch_ = n; }
    // How long the batch whose first message came at now waits for its commit: 0 for the
    // end of this loop iteration.
    int64_t wait_us(int64_t now) const
    {
        if (now - last_start_ >= kRecentUs || last_batch_ < kBusyBatch)
            return 0;
        int64_t wait = kWaitPerMessageUs * static_cast<int64_t>(last_batch_);
        return wait < kMaxWaitUs ? wait : kMaxWaitUs;
    }

  private:
    int64_t last_start_ = INT64_MIN / 2;
    size_t last_batch_ = 0;
};

} // namespace jimd

// The group-commit policy of a worker's journal: how long a batch waits for its commit.
#pragma once

#include <cstddef>
#include <cstdint>

namespace jimd {

// Decides, from the commits so far, whether the commit of a new batch runs at the end of
// this loop iteration or waits a moment so that one commit serves more messages. Times are
// microseconds on the monotonic clock (mono_us()). It knows nothing of the event loop, so
// tests drive it with times of their own.
class GroupCommit {
  public:
    static constexpr int64_t kRecentUs = 1000; // a commit this recent: the journal is busy
    static constexpr size_t kBusyBatch = 8;    // ... if it held this many messages
    static constexpr int64_t kWaitUs = 250;    // the wait when busy

    // A commit starts at now.
    void started(int64_t now) { last_start_ = now; }
    // The commit that started last held n messages.
    void finished(size_t n) { last_batch_ = n; }
    // A batch's commit was put off by wait_us(); it held n messages when the wait began.
    void waiting(size_t) {}
    // How long the batch whose first message came at now waits for its commit: 0 for the
    // end of this loop iteration.
    int64_t wait_us(int64_t now) const
    {
        bool busy = now - last_start_ < kRecentUs && last_batch_ >= kBusyBatch;
        return busy ? kWaitUs : 0;
    }

  private:
    int64_t last_start_ = INT64_MIN / 2;
    size_t last_batch_ = 0;
};

} // namespace jimd

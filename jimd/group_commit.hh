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
// A wait is worth it only when other messages come meanwhile, so it is made only while the
// last commit was recent and either held kBusyBatch messages or more, or showed that
// messages come together (two or more without a wait, or more than the wait began with).
// A lone sender (one message in flight) thus never waits: its next message comes only
// after the answer. The wait grows with the last commit, kWaitPerMessageUs for each of its
// messages, up to kMaxWaitUs: a heavy load gets the full wait, a moderate rate a short one
// (a fixed 250 us made the commits at 20,000 messages/s either of one or two messages,
// the core 0.85 busy, or — once a burst had made one of 8 — of about 7, every message
// waiting ~250 us; both states held).
class GroupCommit {
  public:
    static constexpr int64_t kRecentUs = 1000; // a commit this recent: the journal is busy
    static constexpr size_t kBusyBatch = 8;    // ... and waiting pays if it held this many
    static constexpr int64_t kWaitPerMessageUs = 10;
    static constexpr int64_t kMaxWaitUs = 250;

    // A commit starts at now.
    void started(int64_t now) { last_start_ = now; }
    // The commit that started last held n messages.
    void finished(size_t n)
    {
        together_ = waited_ ? n > waited_with_ : n >= 2;
        waited_ = false;
        last_batch_ = n;
    }
    // A batch's commit was put off by wait_us(); it held n messages when the wait began.
    void waiting(size_t n)
    {
        waited_ = true;
        waited_with_ = n;
    }
    // How long the batch whose first message came at now waits for its commit: 0 for the
    // end of this loop iteration.
    int64_t wait_us(int64_t now) const
    {
        if (now - last_start_ >= kRecentUs || (last_batch_ < kBusyBatch && !together_))
            return 0;
        int64_t wait = kWaitPerMessageUs * static_cast<int64_t>(last_batch_);
        return wait < kMaxWaitUs ? wait : kMaxWaitUs;
    }

  private:
    int64_t last_start_ = INT64_MIN / 2;
    size_t last_batch_ = 0;
    bool together_ = false; // the last commit showed messages that come together
    bool waited_ = false;
    size_t waited_with_ = 0;
};

} // namespace jimd

// What the workers count — connections, sessions, messages in and out, logins, errors — in
// one struct per worker, kept in memory the master maps before it forks, so that any process
// (admin_stats in a worker, worker 0's /metrics endpoint) reads every worker's at once with no
// message between them. Each worker writes only its own struct: an event costs one plain
// increment (a relaxed load and store, no locked instruction, no cache line shared with
// another writer).
#pragma once

#include <atomic>
#include <cstdint>

namespace jimd {

// One worker's counters. Written by that worker only; read by anyone.
struct alignas(64) WorkerCounters {
    std::atomic<int64_t> connections{0}; // open now (control connections too)
    std::atomic<int64_t> sessions{0};    // logged in now
    std::atomic<uint64_t> messages_in{0}, messages_out{0}, logins{0}, errors{0}; // totals
    std::atomic<uint64_t> restarts{0}; // times the master started this slot again (its writer)

    // Once a second, the message totals as they were then, for the rates over the last
    // minute: slot second % kMarks.
    static constexpr int kMarks = 64;
    struct Mark {
        std::atomic<int64_t> second{-1}; // CLOCK_MONOTONIC seconds; -1: none
        std::atomic<uint64_t> in{0}, out{0};
    };
    Mark marks[kMarks];

    // The counter's single writer adds n.
    static void add(std::atomic<uint64_t> &c, uint64_t n = 1)
    {
        c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    static void add(std::atomic<int64_t> &c, int64_t n)
    {
        c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    // The worker's once-a-second mark of the message totals.
    void mark(int64_t second);
    // A worker (re)started in this slot: nothing open, no marks; the totals go on.
    void restart();
};

// What every worker counted, summed.
struct CounterTotals {
    int64_t connections = 0, sessions = 0;
    uint64_t logins = 0, errors = 0;
    uint64_t in_per_sec = 0, out_per_sec = 0; // over the last minute (or less, if younger)
};

// The shared memory: one WorkerCounters per worker slot.
class CounterBoard {
  public:
    // Maps the board (shared, anonymous) for `workers` slots, before fork(); null when mmap
    // fails. The mapping outlives the object in every child that does not unmap it.
    static CounterBoard *make(int workers);
    WorkerCounters &worker(int index) { return slots_[index]; }
    // Every worker's counters summed, the rates as of now_second (CLOCK_MONOTONIC).
    CounterTotals sum(int64_t now_second) const;
    int workers() const { return workers_; }

  private:
    CounterBoard() = default;
    int workers_ = 0;
    WorkerCounters *slots_ = nullptr;
};

} // namespace jimd

// What the workers count — connections, sessions, messages in and out, deliveries, offline
// stores, logins and failed ones, error responses by code, the journal's commits — in
// one struct per worker, kept in memory the master maps before it forks, so that any process
// (admin_stats in a worker, worker 0's /metrics endpoint) reads every worker's at once with no
// message between them. Each worker writes only its own struct: an event costs one plain
// increment (a relaxed load and store, no locked instruction, no cache line shared with
// another writer).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iterator>

namespace jimd {

// The error codes jimd sends, in the order of WorkerCounters::responses; its last slot
// counts any other code of 400 and up.
inline constexpr int kResponseCodes[] = {400, 401, 402, 403, 404, 409, 410, 429, 500};
inline constexpr int kResponseSlots = sizeof kResponseCodes / sizeof kResponseCodes[0] + 1;
// The slot of responses for code (400 and up).
constexpr int response_slot(int code)
{
    for (int i = 0; i < kResponseSlots - 1; i++)
        if (kResponseCodes[i] == code)
            return i;
    return kResponseSlots - 1;
}

// The upper bounds of the commit histograms' buckets: messages per commit, and a commit's
// wall time in microseconds (0.5 ms to 1 s).
inline constexpr uint64_t kBatchBounds[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};
inline constexpr uint64_t kCommitUsBounds[] = {500,   1000,   2000,   5000,   10000,  20000,
                                               50000, 100000, 200000, 500000, 1000000};

// A histogram with fixed bounds, written by one process: each bucket counts the
// observations that fell in it alone (readers add them up into Prometheus' cumulative
// buckets), the last bucket those above every bound; sum is the total of the values.
template <size_t N> struct Histogram {
    std::atomic<uint64_t> buckets[N + 1] = {};
    std::atomic<uint64_t> sum{0};

    // The single writer records value v against bounds.
    void observe(const uint64_t (&bounds)[N], uint64_t v)
    {
        size_t i = 0;
        while (i < N && v > bounds[i])
            i++;
        bump(buckets[i], 1);
        bump(sum, v);
    }

  private:
    static void bump(std::atomic<uint64_t> &c, uint64_t n)
    {
        c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
};

// One worker's counters. Written by that worker only; read by anyone.
struct alignas(64) WorkerCounters {
    std::atomic<int64_t> connections{0}; // open now (control connections too)
    std::atomic<int64_t> sessions{0};    // logged in now
    std::atomic<uint64_t> messages_in{0}, messages_out{0}, logins{0}, errors{0}; // totals
    std::atomic<uint64_t> restarts{0}; // times the master started this slot again (its writer)
    // Pushes of messages as they happen (live, or pending ones at login) to a recipient's
    // session: one per session written. messages_out also counts sync and history replays.
    std::atomic<uint64_t> deliveries{0};
    std::atomic<uint64_t> offline_stores{0}; // direct messages kept for an offline recipient
    std::atomic<uint64_t> login_failures{0}; // log-ins refused (password, 429, ban, ...)
    std::atomic<uint64_t> responses[kResponseSlots] = {}; // by response_slot(code); sum: errors
    Histogram<std::size(kBatchBounds)> commit_batch;      // messages per commit
    Histogram<std::size(kCommitUsBounds)> commit_us;      // BEGIN to COMMIT, microseconds

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
    uint64_t deliveries = 0, offline_stores = 0, login_failures = 0;
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

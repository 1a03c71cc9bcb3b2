// The shared counters of the workers (counters.hh).
#include "counters.hh"

#include <new>
#include <sys/mman.h>

namespace jimd {

namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;
constexpr int64_t kMinute = 60;

// The rate of a total over the last minute: from the mark a minute ago, or from the oldest
// mark when the worker is younger; 0 with no mark yet.
void rates(const WorkerCounters &w, int64_t now, uint64_t *in, uint64_t *out)
{
    const WorkerCounters::Mark *best = nullptr;
    int64_t best_second = now;
    for (const WorkerCounters::Mark &m : w.marks) {
        int64_t s = m.second.load(kRelaxed);
        if (s >= now - kMinute && s < best_second) {
            best_second = s;
            best = &m;
        }
    }
    if (!best)
        return;
    uint64_t span = static_cast<uint64_t>(now - best_second);
    *in += (w.messages_in.load(kRelaxed) - best->in.load(kRelaxed)) / span;
    *out += (w.messages_out.load(kRelaxed) - best->out.load(kRelaxed)) / span;
}

} // namespace

void WorkerCounters::mark(int64_t second)
{
    Mark &m = marks[second % kMarks];
    m.second.store(-1, kRelaxed); // a reader in between sees no mark rather than a torn one
    m.in.store(messages_in.load(kRelaxed), kRelaxed);
    m.out.store(messages_out.load(kRelaxed), kRelaxed);
    m.second.store(second, std::memory_order_release);
}

void WorkerCounters::restart()
{
    connections.store(0, kRelaxed);
    sessions.store(0, kRelaxed);
    for (Mark &m : marks)
        m.second.store(-1, kRelaxed);
}

CounterBoard *CounterBoard::make(int workers)
{
    size_t bytes =
        sizeof(CounterBoard) + 64 + sizeof(WorkerCounters) * static_cast<size_t>(workers);
    void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return nullptr;
    auto *board = new (p) CounterBoard();
    board->workers_ = workers;
    // The slots after the board, on a cache line of their own.
    auto at = (reinterpret_cast<uintptr_t>(board + 1) + 63) & ~uintptr_t{63};
    board->slots_ = reinterpret_cast<WorkerCounters *>(at);
    for (int i = 0; i < workers; i++)
        new (&board->slots_[i]) WorkerCounters();
    return board;
}

CounterTotals CounterBoard::sum(int64_t now_second) const
{
    CounterTotals t;
    for (int i = 0; i < workers_; i++) {
        const WorkerCounters &w = slots_[i];
        t.connections += w.connections.load(kRelaxed);
        t.sessions += w.sessions.load(kRelaxed);
        t.logins += w.logins.load(kRelaxed);
        t.errors += w.errors.load(kRelaxed);
        t.deliveries += w.deliveries.load(kRelaxed);
        t.offline_stores += w.offline_stores.load(kRelaxed);
        t.login_failures += w.login_failures.load(kRelaxed);
        rates(w, now_second, &t.in_per_sec, &t.out_per_sec);
    }
    return t;
}

} // namespace jimd

// Connections per client address over all workers, counted exactly: a table of counters in
// memory the master maps shared before it forks the workers. An address hashes to one of
// kSlots slots; a slot's total is one atomic counter that every worker takes from and gives
// back to, so two workers accepting at the same moment cannot both pass the limit. Each
// worker also keeps its own share per slot, which the master forgets when that worker dies
// (before its replacement starts). Two addresses in one slot share their limit: with 65,536
// slots, a rare and conservative error.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace jimd {

class IpSlots {
  public:
    static constexpr size_t kSlots = size_t{1} << 16;

    IpSlots() = default;
    ~IpSlots();
    IpSlots(const IpSlots &) = delete;
    IpSlots &operator=(const IpSlots &) = delete;

    // Maps the table for `workers` workers, shared with the processes forked afterwards;
    // false when mmap fails.
    bool map(int workers);
    // Takes one connection of ip for worker w when fewer than limit are open on all workers.
    bool take(int w, const char *ip, long limit);
    // Gives back one connection of ip that worker w took.
    void give(int w, const char *ip);
    // Connections of ip open on all workers.
    uint32_t count(const char *ip) const;
    // Gives back everything worker w held (the master, once w is dead).
    void forget(int w);

  private:
    static size_t slot(const char *ip);
    std::atomic<uint32_t> *total_ = nullptr; // kSlots counters
    uint32_t *own_ = nullptr;                // workers x kSlots, each row written by its worker
    int workers_ = 0;
    size_t bytes_ = 0;
};

} // namespace jimd

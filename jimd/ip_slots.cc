// The shared table of connections per address (ip_slots.hh).
#include "ip_slots.hh"

#include <sys/mman.h>

namespace jimd {

static_assert(std::atomic<uint32_t>::is_always_lock_free, "the counters are shared by processes");

IpSlots::~IpSlots()
{
    if (total_)
        munmap(total_, bytes_);
}

bool IpSlots::map(int workers)
{
    size_t bytes = kSlots * sizeof(uint32_t) * (1 + static_cast<size_t>(workers));
    void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return false;
    // Anonymous pages are zero: every counter starts at 0.
    total_ = new (p) std::atomic<uint32_t>[kSlots];
    own_ = reinterpret_cast<uint32_t *>(static_cast<char *>(p) + kSlots * sizeof(uint32_t));
    workers_ = workers;
    bytes_ = bytes;
    return true;
}

// FNV-1a of the address as text.
size_t IpSlots::slot(const char *ip)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = reinterpret_cast<const unsigned char *>(ip); *p; p++)
        h = (h ^ *p) * 16777619u;
    return h & (kSlots - 1);
}

bool IpSlots::take(int w, const char *ip, long limit)
{
    size_t s = slot(ip);
    if (static_cast<long>(total_[s].fetch_add(1, std::memory_order_relaxed)) >= limit) {
        total_[s].fetch_sub(1, std::memory_order_relaxed);
        return false;
    }
    own_[static_cast<size_t>(w) * kSlots + s]++;
    return true;
}

void IpSlots::give(int w, const char *ip)
{
    size_t s = slot(ip);
    uint32_t &mine = own_[static_cast<size_t>(w) * kSlots + s];
    if (mine == 0)
        return; // never taken here
    mine--;
    total_[s].fetch_sub(1, std::memory_order_relaxed);
}

uint32_t IpSlots::count(const char *ip) const
{
    return total_[slot(ip)].load(std::memory_order_relaxed);
}

void IpSlots::forget(int w)
{
    if (w < 0 || w >= workers_)
        return;
    uint32_t *row = own_ + static_cast<size_t>(w) * kSlots;
    for (size_t s = 0; s < kSlots; s++) {
        if (row[s]) {
            total_[s].fetch_sub(row[s], std::memory_order_relaxed);
            row[s] = 0;
        }
    }
}

} // namespace jimd

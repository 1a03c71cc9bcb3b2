// The recent ids' table in memory (recent_ids.hh).
#include "recent_ids.hh"

#include <functional>

namespace jimd {

uint64_t RecentIds::hash(std::string_view from, std::string_view client_id)
{
    uint64_t a = std::hash<std::string_view>{}(from);
    uint64_t b = std::hash<std::string_view>{}(client_id);
    // Mixed so that (x, y) and (y, x) differ (splitmix64's finaliser on the pair).
    uint64_t h = a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL);
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

void RecentIds::add(uint64_t hash, int64_t seq)
{
    if ((size() + 1) * 2 > slots_.size())
        rebuild(slots_.empty() ? 1024 : slots_.size() * 2);
    entries_.push_back({hash, seq});
    size_t mask = slots_.size() - 1, i = hash & mask;
    while (slots_[i] != 0)
        i = (i + 1) & mask;
    slots_[i] = static_cast<uint32_t>(entries_.size());
}

void RecentIds::forget_through(int64_t seq)
{
    while (start_ < entries_.size() && entries_[start_].seq <= seq)
        start_++;
    // The forgotten ones' slots stay (find skips them) until they are half the entries.
    if (start_ > 0 && start_ * 2 >= entries_.size())
        rebuild(slots_.size());
}

void RecentIds::clear()
{
    entries_.clear();
    start_ = 0;
    slots_.clear();
    seen = -1;
}

// Drops the forgotten entries and puts the others into `slots` slots (a power of two, at least
// twice their number).
void RecentIds::rebuild(size_t slots)
{
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(start_));
    start_ = 0;
    while (slots < 2 * (entries_.size() + 1))
        slots *= 2;
    slots_.assign(slots, 0);
    size_t mask = slots - 1;
    for (size_t k = 0; k < entries_.size(); k++) {
        size_t i = entries_[k].hash & mask;
        while (slots_[i] != 0)
            i = (i + 1) & mask;
        slots_[i] = static_cast<uint32_t>(k + 1);
    }
}

} // namespace jimd

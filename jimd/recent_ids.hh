// The journal's de-duplication of resends by (sender, client id), its recent part: the ids of
// the messages committed since the upkeep last folded them into the `ids` table. Each worker
// keeps them in memory (a hash of the pair and the seq: 16 bytes an id, no allocation per
// message), so a new id costs a look-up here and a read of `ids`, and no page written;
// `batch_ids` rows carry them between workers and over restarts (ids_row below).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace jimd {

class RecentIds {
  public:
    // The hash under which (from, client_id) is kept.
    static uint64_t hash(std::string_view from, std::string_view client_id);

    // Keeps seq under hash; seqs come in ascending order.
    void add(uint64_t hash, int64_t seq);
    // Calls is_it(seq) for each kept seq whose hash is this one (a hash may be shared) until
    // it returns true; returns that seq, or 0 when none did.
    template <class F> int64_t find(uint64_t hash, F is_it) const;
    // Forgets the seqs up to and including seq.
    void forget_through(int64_t seq);
    // Forgets everything.
    void clear();
    // How many seqs are kept.
    size_t size() const { return entries_.size() - start_; }

    // The last seq whose batch's ids were read in (or added), -1 when unknown.
    int64_t seen = -1;

  private:
    struct Entry {
        uint64_t hash;
        int64_t seq;
    };
    void rebuild(size_t slots);
    std::vector<Entry> entries_; // ascending seqs; those before start_ are forgotten
    size_t start_ = 0;
    std::vector<uint32_t> slots_; // open addressing: 1 + an index into entries_, 0 if free
};

template <class F> int64_t RecentIds::find(uint64_t hash, F is_it) const
{
    if (slots_.empty())
        return 0;
    size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask; slots_[i] != 0; i = (i + 1) & mask) {
        size_t at = slots_[i] - 1;
        if (at >= start_ && entries_[at].hash == hash && is_it(entries_[at].seq))
            return entries_[at].seq;
    }
    return 0;
}

// The row of a commit's ids in `batch_ids`: for each message that has an id, its seq (8
// bytes), the sender's and the id's lengths (2 bytes each) and bytes, integers little-endian.
namespace ids_row {

// Appends one message's id to *out; false (nothing appended) for a sender or id over 65,535
// bytes (the protocol's limits are far below).
bool add(std::string *out, int64_t seq, std::string_view from, std::string_view client_id);
// Calls each(seq, from, client_id) for each id in the row; false when the row is damaged.
template <class F> bool parse(const unsigned char *p, size_t n, F each);

namespace detail {
inline uint64_t get(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}
} // namespace detail

template <class F> bool parse(const unsigned char *p, size_t n, F each)
{
    const unsigned char *end = p + n;
    while (p < end) {
        if (end - p < 12)
            return false;
        auto seq = static_cast<int64_t>(detail::get(p, 8));
        size_t from_len = detail::get(p + 8, 2), id_len = detail::get(p + 10, 2);
        p += 12;
        if (static_cast<size_t>(end - p) < from_len + id_len)
            return false;
        std::string_view from(reinterpret_cast<const char *>(p), from_len);
        std::string_view id(reinterpret_cast<const char *>(p + from_len), id_len);
        p += from_len + id_len;
        each(seq, from, id);
    }
    return true;
}

} // namespace ids_row

} // namespace jimd

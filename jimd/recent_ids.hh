// The journal's de-duplication of resends by (sender, client id), its recent part: the ids of
// the messages committed since the upkeep last folded them into the `ids` table. Each worker
// keeps them in memory (a hash of the pair and the seq: 16 bytes an id, no allocation per
// message), so a new id costs a look-up here and a read of `ids`, and no page written;
// `batch_heads` rows carry them between workers and over restarts (heads_row.hh).
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

} // namespace jimd

// The journal's row of a commit's message heads in `batch_heads`, written beside the batch
// row (batch_format.hh) in the same transaction: for each message, its seq, sender,
// recipient and client id, without its time, encoding or text. The history index and the
// de-duplication read these small rows and never the texts: the upkeep's indexing reads a
// few bytes a message, and parses them without a JSON parser or a copy.
//
// Each message: its seq (8 bytes), the lengths of the sender, the recipient and the client
// id (2 bytes each; 0 for no id), then their bytes; integers little-endian.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace jimd::heads_row {

// The bytes before a message's names.
constexpr size_t kFixed = 14;

// Appends one message's head to *out; false (nothing appended) for a name or id over
// 65,535 bytes (the protocol's limits are far below).
bool add(std::string *out, int64_t seq, std::string_view from, std::string_view to,
         std::string_view client_id);

// One message's head, its names views into the row.
struct Head {
    int64_t seq;
    std::string_view from, to, client_id; // client_id empty: none
    std::string_view bytes;               // the whole entry, as add() wrote it
};

// Calls each(head) for each message in the row, in order; false when the row is damaged.
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
        if (static_cast<size_t>(end - p) < kFixed)
            return false;
        size_t from_len = detail::get(p + 8, 2), to_len = detail::get(p + 10, 2),
               id_len = detail::get(p + 12, 2);
        size_t names = from_len + to_len + id_len;
        if (static_cast<size_t>(end - p) - kFixed < names)
            return false;
        const char *s = reinterpret_cast<const char *>(p + kFixed);
        Head h{static_cast<int64_t>(detail::get(p, 8)),
               {s, from_len},
               {s + from_len, to_len},
               {s + from_len + to_len, id_len},
               {reinterpret_cast<const char *>(p), kFixed + names}};
        p += kFixed + names;
        each(h);
    }
    return true;
}

} // namespace jimd::heads_row

// Writing the row of a commit's message heads (heads_row.hh).
#include "heads_row.hh"

#include <bit>
#include <cstring>

namespace jimd::heads_row {

namespace {
// Writes v's low `bytes` bytes at p, least significant first.
void put(char *p, uint64_t v, int bytes)
{
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(p, &v, static_cast<size_t>(bytes));
    } else {
        for (int i = 0; i < bytes; i++, v >>= 8)
            p[i] = static_cast<char>(v & 0xff);
    }
}
} // namespace

bool add(std::string *out, int64_t seq, std::string_view from, std::string_view to,
         std::string_view client_id)
{
    if (from.size() > 0xffff || to.size() > 0xffff || client_id.size() > 0xffff)
        return false;
    char fixed[kFixed];
    put(fixed, static_cast<uint64_t>(seq), 8);
    put(fixed + 8, from.size(), 2);
    put(fixed + 10, to.size(), 2);
    put(fixed + 12, client_id.size(), 2);
    out->append(fixed, kFixed).append(from).append(to).append(client_id);
    return true;
}

} // namespace jimd::heads_row

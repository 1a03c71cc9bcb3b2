// Encoding and decoding of jimd's internal frames (peer_protocol.hh).
#include "peer_protocol.hh"

#include <cstring>
#include <endian.h>

namespace jimd::peer {

namespace {

// Writes integers little-endian and strings length-first, at a position that only grows.
// Each integer is one store (memcpy of its little-endian form), not a loop over its bytes.
class Writer {
  public:
    explicit Writer(uint8_t *p) : p_(p) {}
    void u8(uint8_t v) { *p_++ = v; }
    void u16(uint16_t v) { put(htole16(v)); }
    void u32(uint32_t v) { put(htole32(v)); }
    void u64(uint64_t v) { put(htole64(v)); }
    void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
    void str(std::string_view s)
    {
        u32(static_cast<uint32_t>(s.size()));
        if (!s.empty())
            std::memcpy(p_, s.data(), s.size());
        p_ += s.size();
    }

  private:
    template <class T> void put(T le)
    {
        std::memcpy(p_, &le, sizeof le);
        p_ += sizeof le;
    }
    uint8_t *p_;
};

// Reads what Writer wrote; any read past the end makes the whole decode fail.
class Reader {
  public:
    explicit Reader(std::string_view s)
        : p_(reinterpret_cast<const uint8_t *>(s.data())), left_(s.size())
    {
    }
    bool u32(uint32_t *v) { return le(v); }
    bool u64(uint64_t *v) { return le(v); }
    bool i64(int64_t *v)
    {
        uint64_t u;
        if (!le(&u))
            return false;
        *v = static_cast<int64_t>(u);
        return true;
    }
    bool str(std::string_view *s)
    {
        uint32_t n;
        if (!u32(&n) || n > left_)
            return false;
        *s = std::string_view(reinterpret_cast<const char *>(p_), n);
        p_ += n;
        left_ -= n;
        return true;
    }
    // Everything was read, nothing is left over.
    bool done() const { return left_ == 0; }

  private:
    template <class T> bool le(T *v)
    {
        if (left_ < sizeof(T))
            return false;
        T raw;
        std::memcpy(&raw, p_, sizeof raw);
        *v = from_le(raw);
        p_ += sizeof raw;
        left_ -= sizeof raw;
        return true;
    }
    static uint32_t from_le(uint32_t v) { return le32toh(v); }
    static uint64_t from_le(uint64_t v) { return le64toh(v); }
    const uint8_t *p_;
    size_t left_;
};

constexpr size_t kStr = 4; // a string's length prefix

bool known(uint8_t t)
{
    switch (static_cast<Type>(t)) {
    case Type::Ready:
    case Type::PeerLink:
    case Type::Online:
    case Type::Offline:
    case Type::Deliver:
    case Type::Room:
    case Type::Ack:
    case Type::Set:
    case Type::Kick:
    case Type::Look: return true;
    }
    return false;
}

} // namespace

HeaderStatus decode_header(const void *data, size_t n, Header *h, const char **why)
{
    if (n < kHeaderBytes)
        return HeaderStatus::Short;
    const auto *p = static_cast<const uint8_t *>(data);
    uint16_t magic = static_cast<uint16_t>(p[0] | (p[1] << 8));
    uint32_t length = static_cast<uint32_t>(p[4]) | static_cast<uint32_t>(p[5]) << 8 |
                      static_cast<uint32_t>(p[6]) << 16 | static_cast<uint32_t>(p[7]) << 24;
    const char *bad = magic != kMagic     ? "not a jimd frame"
                      : p[2] != kVersion  ? "another version of the peer protocol"
                      : !known(p[3])      ? "unknown frame type"
                      : length > kMaxBody ? "frame too long"
                                          : nullptr;
    if (bad) {
        if (why)
            *why = bad;
        return HeaderStatus::Bad;
    }
    h->type = static_cast<Type>(p[3]);
    h->length = length;
    return HeaderStatus::Ok;
}

void encode_header(Type t, uint32_t length, uint8_t *out)
{
    Writer w(out);
    w.u16(kMagic);
    w.u8(kVersion);
    w.u8(static_cast<uint8_t>(t));
    w.u32(length);
}

size_t body_size(const Ready &)
{
    return 4;
}
size_t body_size(const PeerLink &)
{
    return 4;
}
size_t body_size(const Online &f)
{
    return kStr + f.user.size() + 4;
}
size_t body_size(const Offline &f)
{
    return kStr + f.user.size();
}
size_t body_size(const Deliver &f)
{
    return kStr + f.user.size() + 8 + 8 + kStr + f.line.size();
}
size_t body_size(const Room &f)
{
    return kStr + f.room.size() + kStr + f.line.size();
}
size_t body_size(const Ack &)
{
    return 8;
}
size_t body_size(const Set &f)
{
    return kStr + f.name.size() + kStr + f.value.size();
}
size_t body_size(const Kick &f)
{
    return kStr + f.user.size() + kStr + f.text.size();
}
size_t body_size(const Look &f)
{
    return kStr + f.user.size() + kStr + f.entries.size();
}

void encode_body(const Ready &f, uint8_t *out)
{
    Writer(out).u32(f.worker);
}
void encode_body(const PeerLink &f, uint8_t *out)
{
    Writer(out).u32(f.worker);
}
void encode_body(const Online &f, uint8_t *out)
{
    Writer w(out);
    w.str(f.user);
    w.u32(f.sessions);
}
void encode_body(const Offline &f, uint8_t *out)
{
    Writer(out).str(f.user);
}
void encode_body(const Deliver &f, uint8_t *out)
{
    Writer w(out);
    w.str(f.user);
    w.i64(f.seq);
    w.u64(f.also);
    w.str(f.line);
}
void encode_body(const Room &f, uint8_t *out)
{
    Writer w(out);
    w.str(f.room);
    w.str(f.line);
}
void encode_body(const Ack &f, uint8_t *out)
{
    Writer(out).u64(f.count);
}
void encode_body(const Set &f, uint8_t *out)
{
    Writer w(out);
    w.str(f.name);
    w.str(f.value);
}
void encode_body(const Kick &f, uint8_t *out)
{
    Writer w(out);
    w.str(f.user);
    w.str(f.text);
}
void encode_body(const Look &f, uint8_t *out)
{
    Writer w(out);
    w.str(f.user);
    w.str(f.entries);
}

bool decode(std::string_view body, Ready *f)
{
    Reader r(body);
    return r.u32(&f->worker) && r.done();
}
bool decode(std::string_view body, PeerLink *f)
{
    Reader r(body);
    return r.u32(&f->worker) && r.done();
}
bool decode(std::string_view body, Online *f)
{
    Reader r(body);
    return r.str(&f->user) && r.u32(&f->sessions) && r.done();
}
bool decode(std::string_view body, Offline *f)
{
    Reader r(body);
    return r.str(&f->user) && r.done();
}
bool decode(std::string_view body, Deliver *f)
{
    Reader r(body);
    return r.str(&f->user) && r.i64(&f->seq) && r.u64(&f->also) && r.str(&f->line) && r.done();
}
bool decode(std::string_view body, Room *f)
{
    Reader r(body);
    return r.str(&f->room) && r.str(&f->line) && r.done();
}
bool decode(std::string_view body, Ack *f)
{
    Reader r(body);
    return r.u64(&f->count) && r.done();
}
bool decode(std::string_view body, Set *f)
{
    Reader r(body);
    return r.str(&f->name) && r.str(&f->value) && r.done();
}
bool decode(std::string_view body, Kick *f)
{
    Reader r(body);
    return r.str(&f->user) && r.str(&f->text) && r.done();
}
bool decode(std::string_view body, Look *f)
{
    Reader r(body);
    if (!r.str(&f->user) || !r.str(&f->entries) || !r.done() || f->entries.size() % 8)
        return false;
    for (size_t i = 0; i < f->entries.size() / 8; i++) {
        int64_t seq = 0;
        bool had = false;
        look_entry(*f, i, &seq, &had);
        if (seq <= 0)
            return false;
    }
    return true;
}

void append_look_entry(std::string *packed, int64_t seq, bool was_in_also)
{
    uint8_t le[8];
    Writer(le).i64(was_in_also ? -seq : seq);
    packed->append(reinterpret_cast<const char *>(le), sizeof le);
}

void look_entry(const Look &f, size_t i, int64_t *seq, bool *was_in_also)
{
    Reader r(f.entries.substr(i * 8, 8));
    int64_t v = 0;
    r.i64(&v);
    *was_in_also = v < 0;
    *seq = v == INT64_MIN ? 0 : (v < 0 ? -v : v);
}

} // namespace jimd::peer

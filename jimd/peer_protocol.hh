// jimd's internal protocol between its processes: the frames workers send each other on the
// mesh and those the master and a worker exchange on their control socket. One header for
// both; one struct per frame type with its encode and decode. Integers are fixed-width
// little-endian, strings a u32 length and their bytes. The decoder takes any bytes: a frame
// it cannot read whole and exactly is refused, never half-read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace jimd::peer {

// The header: [u16 magic][u8 version][u8 type][u32 body length], then the body.
constexpr uint16_t kMagic = 0x6d6a; // "jm" on the wire
constexpr uint8_t kVersion = 6;     // 1-3 were the mesh's text-field frames; 5 added Set, Kick;
                                    // 6 adds Deliver.also and Look
constexpr size_t kHeaderBytes = 8;
constexpr uint32_t kMaxBody = 16u << 20; // larger than any line a worker pushes

enum class Type : uint8_t {
    // Control socket (SOCK_SEQPACKET, one frame per packet).
    Ready = 1,    // worker -> master: started, serving
    PeerLink = 2, // master -> worker: the attached descriptor is a link to a worker
    Set = 3,      // worker -> master -> every worker: a runtime setting changed (admin_set)
    // Mesh (a byte stream of frames).
    Online = 16,  // the user has `sessions` sessions on the sender
    Offline = 17, // the user's last session on the sender ended
    Deliver = 18, // write a direct message to the user's sessions here
    Room = 19,    // write a room message to the room's members here
    Ack = 21,     // the first `count` Deliver frames of this link are dealt with
    Kick = 22,    // close the user's sessions here, each told `text` in a 403 first
    Look = 23,    // the sender kept pending rows for the user: push them to the sessions here
};

// A header as read.
struct Header {
    Type type = Type::Ready;
    uint32_t length = 0; // of the body
};

struct Ready {
    static constexpr Type kType = Type::Ready;
    uint32_t worker = 0;
};
struct PeerLink {
    static constexpr Type kType = Type::PeerLink;
    uint32_t worker = 0; // the worker at the other end of the attached link
};
struct Set {
    static constexpr Type kType = Type::Set;
    std::string_view name;
    std::string_view value;
};
struct Online {
    static constexpr Type kType = Type::Online;
    std::string_view user;
    uint32_t sessions = 0;
};
struct Offline {
    static constexpr Type kType = Type::Offline;
    std::string_view user;
};
// A Deliver frame is not backed by a pending row: the sender keeps the seq until the
// receiver confirms the frame with an Ack (see router.cc).
struct Deliver {
    static constexpr Type kType = Type::Deliver;
    std::string_view user;
    int64_t seq = 0;
    // Bit w: worker w has the message too (the sender wrote it to the user's sessions there,
    // or handed it there in a Deliver frame of its own). A receiver that finds no session of
    // the user leaves it to a connected one of them rather than keeping a pending row.
    uint64_t also = 0;
    std::string_view line; // the push, encoded in jim's dialect
};
struct Room {
    static constexpr Type kType = Type::Room;
    std::string_view room;
    std::string_view line;
};
struct Ack {
    static constexpr Type kType = Type::Ack;
    uint64_t count = 0;
};
struct Kick {
    static constexpr Type kType = Type::Kick;
    std::string_view user;
    std::string_view text;
};
// The sender has just committed pending rows for the user, who has sessions here now (they
// logged in after the sender decided to keep the messages): push those rows to them.
// `entries` packs one i64 per row (look_entry): its seq, negated when this worker was in
// the message's Deliver.also (it wrote the message to a session, or left it to a higher
// worker: only it knows which).
struct Look {
    static constexpr Type kType = Type::Look;
    std::string_view user;
    std::string_view entries;
};
// Appends a Look entry to a packed list.
void append_look_entry(std::string *packed, int64_t seq, bool was_in_also);
// Entry i of a Look (i < f.entries.size() / 8).
void look_entry(const Look &f, size_t i, int64_t *seq, bool *was_in_also);

// What decode_header found.
enum class HeaderStatus { Ok, Short, Bad };
// Reads a header from the first n bytes at p: Short when fewer than kHeaderBytes, Bad
// (with *why) for another magic or version, an unknown type or a body over kMaxBody.
HeaderStatus decode_header(const void *p, size_t n, Header *h, const char **why);

// The body's size in bytes; encode_body writes exactly that many at out.
size_t body_size(const Ready &f);
size_t body_size(const PeerLink &f);
size_t body_size(const Online &f);
size_t body_size(const Offline &f);
size_t body_size(const Deliver &f);
size_t body_size(const Room &f);
size_t body_size(const Ack &f);
size_t body_size(const Set &f);
size_t body_size(const Kick &f);
size_t body_size(const Look &f);
void encode_body(const Ready &f, uint8_t *out);
void encode_body(const PeerLink &f, uint8_t *out);
void encode_body(const Online &f, uint8_t *out);
void encode_body(const Offline &f, uint8_t *out);
void encode_body(const Deliver &f, uint8_t *out);
void encode_body(const Room &f, uint8_t *out);
void encode_body(const Ack &f, uint8_t *out);
void encode_body(const Set &f, uint8_t *out);
void encode_body(const Kick &f, uint8_t *out);
void encode_body(const Look &f, uint8_t *out);

// Decodes a body of the struct's type. False when it is not exactly one such body (too
// short, a string past its end, bytes left over); strings point into body.
bool decode(std::string_view body, Ready *f);
bool decode(std::string_view body, PeerLink *f);
bool decode(std::string_view body, Online *f);
bool decode(std::string_view body, Offline *f);
bool decode(std::string_view body, Deliver *f);
bool decode(std::string_view body, Room *f);
bool decode(std::string_view body, Ack *f);
bool decode(std::string_view body, Set *f);
bool decode(std::string_view body, Kick *f);
bool decode(std::string_view body, Look *f);

// Writes the header of a frame of type t with a body of `length` bytes at out.
void encode_header(Type t, uint32_t length, uint8_t *out);

// The whole frame's size: header and body.
template <class F> size_t frame_size(const F &f)
{
    return kHeaderBytes + body_size(f);
}

// Writes the whole frame (frame_size(f) bytes) at out.
template <class F> void encode_frame(const F &f, uint8_t *out)
{
    encode_header(F::kType, static_cast<uint32_t>(body_size(f)), out);
    encode_body(f, out + kHeaderBytes);
}

// Appends the whole frame to *out.
template <class F> void append_frame(const F &f, std::string *out)
{
    size_t at = out->size();
    out->resize(at + frame_size(f));
    encode_frame(f, reinterpret_cast<uint8_t *>(out->data() + at));
}

} // namespace jimd::peer

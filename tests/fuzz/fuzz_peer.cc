// fuzz_peer.cc — fuzz target for jimd's peer protocol decoder (jimd/peer_protocol.cc,
// compiled in): the frames workers send each other on the mesh and those the master and a
// worker exchange on their control socket. The input is a byte stream of frames, read as
// the mesh reads it: a header, then its body. A header is taken or refused with a reason;
// a body is decoded as its type says, and a frame that decodes encodes back to exactly the
// bytes it came from (strings, lengths and integers are read whole and exactly). A body of
// one type is also offered to the decoders of every other type: none may read past it.
#include "fuzz_check.hh"
#include "peer_protocol.hh"

#include <cstring>
#include <string>
#include <string_view>

namespace {

namespace peer = jimd::peer;

// Decodes body as frame type F; when it decodes, it encodes back to exactly the body, and
// a frame of its own type to exactly the frame.
template <class F> void round_trip(peer::Type type, std::string_view frame, std::string_view body)
{
    F f;
    if (!peer::decode(body, &f))
        return;
    std::string again;
    peer::append_frame(f, &again);
    FUZZ_CHECK(again.substr(peer::kHeaderBytes) == body,
               "type %d: a %zu-byte body decodes, encodes to %zu other bytes",
               static_cast<int>(F::kType), body.size(), again.size() - peer::kHeaderBytes);
    if (type == F::kType)
        FUZZ_CHECK(again == frame, "type %d: the frame encodes to another header",
                   static_cast<int>(F::kType));
}

// Offers the body to every decoder (each must stay within it), its own type's included.
void every_decoder(peer::Type type, std::string_view frame, std::string_view body)
{
    round_trip<peer::Ready>(type, frame, body);
    round_trip<peer::PeerLink>(type, frame, body);
    round_trip<peer::Set>(type, frame, body);
    round_trip<peer::Online>(type, frame, body);
    round_trip<peer::Offline>(type, frame, body);
    round_trip<peer::Deliver>(type, frame, body);
    round_trip<peer::Room>(type, frame, body);
    round_trip<peer::Ack>(type, frame, body);
    round_trip<peer::Kick>(type, frame, body);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    // A copy the size of the input: ASan sees any read past its end.
    std::string in(reinterpret_cast<const char *>(data), size);
    size_t at = 0;
    while (at < in.size()) {
        peer::Header h;
        const char *why = nullptr;
        peer::HeaderStatus st = peer::decode_header(in.data() + at, in.size() - at, &h, &why);
        if (st == peer::HeaderStatus::Short) {
            FUZZ_CHECK(in.size() - at < peer::kHeaderBytes, "%zu bytes called short",
                       in.size() - at);
            break;
        }
        if (st == peer::HeaderStatus::Bad) {
            FUZZ_CHECK(why != nullptr && *why != '\0', "a bad header without a reason");
            break;
        }
        FUZZ_CHECK(h.length <= peer::kMaxBody, "a body of %u bytes accepted", h.length);
        if (h.length > in.size() - at - peer::kHeaderBytes)
            break; // the rest of the frame has not arrived
        std::string_view frame(in.data() + at, peer::kHeaderBytes + h.length);
        // The body in a buffer of its own size, as the mesh hands it over.
        std::string body(frame.substr(peer::kHeaderBytes));
        every_decoder(h.type, frame, body);
        at += frame.size();
    }
    return 0;
}

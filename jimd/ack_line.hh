// The acknowledgement of a stored message, written from a template (ack_line.cc).
#pragma once

#include <cstddef>
#include <cstdint>

namespace jimd {

// The longest id ack_line writes itself; a longer one goes through jim_msg.
constexpr size_t kAckIdMax = 256;
// Room ack_line needs: the template, an id of kAckIdMax, an alert of 64, three integers.
constexpr size_t kAckLineMax = kAckIdMax + 224;

// Writes {"response":code,"time":now,"id":id,"seq":seq,"alert":alert}\n into out (at least
// kAckLineMax bytes), the same bytes as jim_msg_encode writes for that response in every
// dialect, and returns its length; 0 when the id (null or "" for none) is longer than
// kAckIdMax or holds a byte that JSON escapes or that is not ASCII (then encode it through
// jim_msg), or when alert is longer than 64 bytes or not plain ASCII.
size_t ack_line(char *out, int code, int64_t now, const char *id, int64_t seq, const char *alert);

} // namespace jimd

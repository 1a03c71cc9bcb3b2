// jimd's two most frequent objects, the acknowledgement of a stored message and its push,
// written from templates (line_templates.cc) without a jim_msg.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

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

// Writes into out the push of a message in jim's dialect,
// {"action":"msg","time":…,"id":…,"to":…,"from":…,"encoding":…,"message":…,"seq":…}\n (id
// and encoding only when not empty), the same bytes as jim_msg_encode writes for it; false
// (out unspecified) when a string holds a byte that the encoder escapes (a control
// character, '"', '\\', anything not ASCII): then encode it through jim_msg. With
// known_plain the strings were checked already (StoredMessage::plain_ascii).
bool push_line(std::string *out, int64_t time, const std::string &id, const std::string &to,
               const std::string &from, const std::string &encoding, const std::string &text,
               int64_t seq, bool known_plain = false);

} // namespace jimd

// Standard base64 with padding (RFC 4648 §4), strict: what §7 of doc/protocol.md carries
// (keys and envelopes), checked by validate.cc and made by the E2E code.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace jim {

// The base64 text of bytes.
std::string base64_encode(std::string_view bytes);
// Checks text without decoding it: the standard alphabet, a length that is a multiple of
// 4, at most two '=' and only at the end. *size gets the number of bytes it holds.
bool base64_check(std::string_view text, size_t *size);
// Decodes text (which must pass base64_check) into bytes; false when it does not.
bool base64_decode(std::string_view text, std::string &bytes);

} // namespace jim

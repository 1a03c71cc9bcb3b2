// The journal's row of one commit's messages: a JSON array of
// [seq, time, from, to, encoding, text, client_id or null] arrays, ascending and consecutive
// in seq, which jimd writes and reads here and SQLite's json_each can also read (the
// `messages` view, for tests and people with the sqlite3 shell).
#pragma once

#include "journal.hh"

#include <string>
#include <string_view>
#include <vector>

namespace jimd::batch_format {

// Starts a batch in *out (cleared first).
void begin(std::string *out);
// Appends one message to the batch begun in *out; true when its strings are all plain
// ASCII (nothing for JSON to escape, no byte of 0x80 or above: what the push's template
// checks, so it need not look again).
bool add(std::string *out, const StoredMessage &m);
// Ends the batch in *out.
void end(std::string *out);

// Parses a batch row into *out (cleared first). False when the text is no batch.
bool parse(const char *text, size_t n, std::vector<StoredMessage> *out);

// What the history index needs of one stored message: not its time, encoding or text.
// The names are views into the parsed text, or into the element's own strings for a
// name written with escapes: valid while both the text and the element are.
struct Head {
    int64_t seq = 0;
    std::string_view from, to, client_id;        // client_id empty: none
    std::string own_from, own_to, own_client_id; // what escaped names decode to
};

// Parses the heads of a batch row's messages into (*out)[0..*count), skipping the texts
// without decoding them and copying no plain name, and reusing the elements already in
// *out (it only grows): the upkeep reads every message this way, so it allocates nothing
// once warm. False when the text is no batch; the encodings and texts it steps over are
// not checked.
bool parse_heads(const char *text, size_t n, std::vector<Head> *out, size_t *count);

} // namespace jimd::batch_format

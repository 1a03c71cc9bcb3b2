// The protocol's vocabulary in one place: actions, fields, response codes and what each action
// needs.
#pragma once

#include <jim/message.h>

#include <cstdint>
#include <string_view>

namespace jim {

// How validate() checks a string field's content.
enum class Syntax : uint8_t {
    Any,      // free text, bounded only by the object size
    Text,     // free text up to max_info_chars
    User,     // an account name
    Room,     // "#" + name
    Target,   // an account or a room name
    Prefix,   // a possibly empty prefix of an account name
    Message,  // message text up to max_message_chars (an encrypted one: its envelope, §7)
    Id,       // request id up to max_id_chars
    Password, // up to max_password_bytes
    Base64,   // a base64 X25519 public key (32 bytes)
    Seq,      // an integer >= 0
    Limit,    // an integer 1..max_history_limit
    None,     // no check
};

// One row of the fields table.
struct FieldInfo {
    const char *key;     // JSON key
    jim_field_type type; // value type
    bool in_user;        // lives in the nested "user" object
    Syntax syntax;       // content check
};

// The fields table, indexed by jim_field.
extern const FieldInfo kFields[JIM_FIELD_COUNT];

// One row of the actions table.
struct ActionInfo {
    const char *name;  // wire name
    uint64_t required; // mask of fields the action must carry
};

// The actions table, indexed by jim_action (row 0 is the empty action).
extern const ActionInfo kActions[JIM_ACTION_COUNT];

// A field's bit in a field mask.
constexpr uint64_t bit(jim_field f)
{
    return uint64_t{1} << f;
}

// Looks up an action by wire name, accepting the course aliases; sets *dialect to the
// dialect the name belongs to (JIM_DIALECT_JIM for jim's own). JIM_ACTION_NONE if unknown.
jim_action action_lookup(std::string_view name, jim_dialect *dialect);

// Special keys the decoder knows besides the fields.
enum SpecialKey : int {
    KEY_ACTION = JIM_FIELD_COUNT, // "action"
    KEY_RESPONSE,                 // "response"
    KEY_USER,                     // "user"
    KEY_MESS_TEXT,                // "mess_text" (reference dialect of "message")
    KEY_FEATURES,                 // "user.features"
    KEY_TOP_ACCOUNT_NAME, // "account_name" outside "user" (course templates, database course)
};

// Looks up a top-level key: a jim_field, a SpecialKey, or -1.
int top_key_lookup(std::string_view key);

// Looks up a key of the "user" object: a jim_field, KEY_FEATURES, or -1.
int user_key_lookup(std::string_view key);

// Standard text of a response code, or nullptr.
const char *response_text(int code);

} // namespace jim

// Message::validate: required fields per action, name syntax, lengths and ranges.
#include "base64.hh"
#include "message.hh"
#include "utf8.hh"

#include <string>

namespace jim {

namespace {

// Whether s has more than max characters: never when it has no more bytes than that (a
// character is one byte or more), so the count is made only for a long string.
bool more_chars_than(std::string_view s, long max)
{
    return static_cast<long>(s.size()) > max && static_cast<long>(utf8_count(s)) > max;
}

bool name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

// An account name, or with room set a "#" followed by at least one name character.
bool valid_name(std::string_view s, long max, bool room)
{
    if (s.empty() || static_cast<long>(s.size()) > max)
        return false;
    if (room) {
        if (s[0] != '#' || s.size() < 2)
            return false;
        s.remove_prefix(1);
    }
    for (unsigned char c : s)
        if (!name_char(c))
            return false;
    return true;
}

bool valid_prefix(std::string_view s, long max)
{
    if (static_cast<long>(s.size()) > max)
        return false;
    for (unsigned char c : s)
        if (!name_char(c) && c != '#')
            return false;
    return true;
}

// An X25519 public key: 32 bytes in standard base64 (doc/protocol.md §7).
bool valid_key(std::string_view s)
{
    size_t n = 0;
    return base64_check(s, &n) && n == 32;
}

// The message of an encrypted msg (§7, §10): the base64 envelope epk ‖ ciphertext ‖ tag,
// whose plaintext is at most max_message_chars characters of at most 4 bytes each; and
// only a direct message is encrypted. Why not, or nullptr.
const char *envelope_problem(std::string_view s, bool has_to, std::string_view to, long max_chars,
                             std::string &buf)
{
    constexpr size_t kOverhead = 48; // epk and tag
    size_t n = 0;
    if (!has_to || to.empty() || to[0] == '#')
        return "an encrypted message goes to one user";
    if (!base64_check(s, &n) || n < kOverhead)
        return "not an encrypted envelope (base64 of at least 48 bytes)";
    if (n > kOverhead + 4 * static_cast<size_t>(max_chars)) {
        buf = "longer than " + std::to_string(max_chars) + " characters (encrypted)";
        return buf.c_str();
    }
    return nullptr;
}

// Whether field f of an action sets a password (then min_password_chars holds): a new
// account's, or a new one; the password of a log-in or an old one may be anything.
bool sets_password(jim_action a, jim_field f)
{
    return f == JIM_FIELD_NEW_PASSWORD ||
           (f == JIM_FIELD_PASSWORD &&
            (a == JIM_ACTION_REGISTER || a == JIM_ACTION_ADMIN_ADD_USER));
}

std::string field_label(jim_field f)
{
    std::string s = "field '";
    if (kFields[f].in_user)
        s += "user.";
    s += kFields[f].key;
    s += "'";
    return s;
}

// What is wrong with the value of m's field f, present, by the field's syntax: null if
// nothing; buf holds a reason that had to be made up.
const char *field_problem(const Message &m, jim_field f, const Limits &lim, std::string &buf)
{
    const long name_max = lim[JIM_LIMIT_NAME_CHARS];
    std::string_view s = kFields[f].type == JIM_TYPE_STRING ? m.str(f) : std::string_view{};
    int64_t n = m.num(f);
    switch (kFields[f].syntax) {
    case Syntax::Any:
    case Syntax::None: break;
    case Syntax::Text:
        if (more_chars_than(s, lim[JIM_LIMIT_INFO_CHARS]))
            return "too long";
        break;
    case Syntax::User:
        if (!valid_name(s, name_max, false))
            return "bad account name (letters, digits, _ - . only; length limited)";
        break;
    case Syntax::Room:
        if (!valid_name(s, name_max, true))
            return "bad room name (# then letters, digits, _ - .; length limited)";
        break;
    case Syntax::Target:
        if (!valid_name(s, name_max, !s.empty() && s[0] == '#'))
            return "bad account or room name";
        break;
    case Syntax::Prefix:
        if (!valid_prefix(s, name_max))
            return "bad name prefix";
        break;
    case Syntax::Message:
        if (m.has(JIM_FIELD_ENCODING) && m.str(JIM_FIELD_ENCODING) == JIM_E2E_ENCODING)
            return envelope_problem(s, m.has(JIM_FIELD_TO), m.str(JIM_FIELD_TO),
                                    lim[JIM_LIMIT_MESSAGE_CHARS], buf);
        if (more_chars_than(s, lim[JIM_LIMIT_MESSAGE_CHARS])) {
            buf = "longer than " + std::to_string(lim[JIM_LIMIT_MESSAGE_CHARS]) + " characters";
            return buf.c_str();
        }
        break;
    case Syntax::Id:
        if (more_chars_than(s, lim[JIM_LIMIT_ID_CHARS]))
            return "too long";
        break;
    case Syntax::Password:
        if (s.empty())
            return "empty";
        if (static_cast<long>(s.size()) > lim[JIM_LIMIT_PASSWORD_BYTES])
            return "too long";
        if (sets_password(m.action(), f) &&
            static_cast<long>(utf8_count(s)) < lim[JIM_LIMIT_PASSWORD_MIN]) {
            buf = "too short (at least " + std::to_string(lim[JIM_LIMIT_PASSWORD_MIN]) +
                  " characters)";
            return buf.c_str();
        }
        break;
    case Syntax::Base64:
        if (!valid_key(s))
            return "not a base64 X25519 public key (32 bytes)";
        break;
    case Syntax::Seq:
        if (n < 0)
            return "must not be negative";
        break;
    case Syntax::Limit:
        if (n < 1 || n > lim[JIM_LIMIT_HISTORY]) {
            buf = "must be from 1 to " + std::to_string(lim[JIM_LIMIT_HISTORY]);
            return buf.c_str();
        }
        break;
    }
    return nullptr;
}

} // namespace

int Message::validate(const Limits &lim)
{
    clear_error();
    if (response_ != 0) {
        if (response_ < 100 || response_ > 599)
            return fail(JIM_EFIELD, "field 'response': must be a code from 100 to 599");
    } else if (action_ == JIM_ACTION_NONE) {
        return fail(JIM_EFIELD, "missing field 'action'");
    } else {
        uint64_t missing = kActions[action_].required & ~present_;
        if (missing) {
            auto f = static_cast<jim_field>(__builtin_ctzll(missing));
            return fail(JIM_EFIELD, "missing " + field_label(f));
        }
    }
    std::string buf;
    for (uint64_t bits = present_; bits; bits &= bits - 1) {
        auto f = static_cast<jim_field>(__builtin_ctzll(bits));
        // U+0000 is carried in message text only (doc/protocol.md §2).
        if (f != JIM_FIELD_MESSAGE && kFields[f].type == JIM_TYPE_STRING &&
            str(f).find('\0') != std::string_view::npos)
            return fail(JIM_ERANGE,
                        field_label(f) + ": contains U+0000 (allowed in message text only)");
        if (const char *why = field_problem(*this, f, lim, buf))
            return fail(JIM_ERANGE, field_label(f) + ": " + why);
    }
    return JIM_OK;
}

} // namespace jim

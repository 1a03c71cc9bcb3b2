// Tables of fields, actions and response codes, and fast key lookup for the decoder.
#include "schema.hh"

#include <array>
#include <cstring>

namespace jim {

const FieldInfo kFields[JIM_FIELD_COUNT] = {
    {"time", JIM_TYPE_INT, false, Syntax::None},
    {"id", JIM_TYPE_STRING, false, Syntax::Id},
    {"type", JIM_TYPE_STRING, false, Syntax::Text},
    {"to", JIM_TYPE_STRING, false, Syntax::Target},
    {"from", JIM_TYPE_STRING, false, Syntax::User},
    {"encoding", JIM_TYPE_STRING, false, Syntax::Text},
    {"message", JIM_TYPE_STRING, false, Syntax::Message},
    {"seq", JIM_TYPE_INT, false, Syntax::Seq},
    {"room", JIM_TYPE_STRING, false, Syntax::Room},
    {"user_id", JIM_TYPE_STRING, false, Syntax::User},
    {"status", JIM_TYPE_STRING, false, Syntax::Text},
    {"since", JIM_TYPE_INT, false, Syntax::Seq},
    {"with", JIM_TYPE_STRING, false, Syntax::Target},
    {"before", JIM_TYPE_INT, false, Syntax::Seq},
    {"limit", JIM_TYPE_INT, false, Syntax::Limit},
    {"quantity", JIM_TYPE_INT, false, Syntax::Seq},
    {"members", JIM_TYPE_INT, false, Syntax::Seq},
    {"query", JIM_TYPE_STRING, false, Syntax::Prefix},
    {"key", JIM_TYPE_STRING, false, Syntax::Base64},
    {"alert", JIM_TYPE_STRING, false, Syntax::Any},
    {"error", JIM_TYPE_STRING, false, Syntax::Any},
    {"retry_after", JIM_TYPE_INT, false, Syntax::Seq},
    {"account_name", JIM_TYPE_STRING, true, Syntax::User},
    {"password", JIM_TYPE_STRING, true, Syntax::Password},
    {"info", JIM_TYPE_STRING, true, Syntax::Text},
    {"status", JIM_TYPE_STRING, true, Syntax::Text},
    {"created", JIM_TYPE_INT, false, Syntax::None},
    {"last_login", JIM_TYPE_INT, false, Syntax::None},
    {"last_ip", JIM_TYPE_STRING, false, Syntax::Text},
    {"logins", JIM_TYPE_INT, false, Syntax::Seq},
    {"messages_sent", JIM_TYPE_INT, false, Syntax::Seq},
    {"online", JIM_TYPE_BOOL, false, Syntax::None},
    {"uptime", JIM_TYPE_INT, false, Syntax::Seq},
    {"workers", JIM_TYPE_INT, false, Syntax::Seq},
    {"connections", JIM_TYPE_INT, false, Syntax::Seq},
    {"messages_per_sec", JIM_TYPE_INT, false, Syntax::Seq},
    {"db_bytes", JIM_TYPE_INT, false, Syntax::Seq},
    {"setting", JIM_TYPE_STRING, false, Syntax::Text},
    {"value", JIM_TYPE_STRING, false, Syntax::Text},
    {"reason", JIM_TYPE_STRING, false, Syntax::Text},
    {"after", JIM_TYPE_STRING, false, Syntax::Prefix},
    {"data_list", JIM_TYPE_LIST, false, Syntax::None},
    {"e2e", JIM_TYPE_BOOL, false, Syntax::None},
    {"e2e_error", JIM_TYPE_STRING, false, Syntax::Any},
    {"role", JIM_TYPE_STRING, false, Syntax::Text},
    {"banned", JIM_TYPE_BOOL, false, Syntax::None},
    {"old_password", JIM_TYPE_STRING, false, Syntax::Password},
    {"new_password", JIM_TYPE_STRING, false, Syntax::Password},
    {"sessions", JIM_TYPE_INT, false, Syntax::Seq},
    {"messages_in_per_sec", JIM_TYPE_INT, false, Syntax::Seq},
    {"messages_out_per_sec", JIM_TYPE_INT, false, Syntax::Seq},
    {"errors", JIM_TYPE_INT, false, Syntax::Seq},
    {"wal_bytes", JIM_TYPE_INT, false, Syntax::Seq},
    {"deliveries", JIM_TYPE_INT, false, Syntax::Seq},
    {"offline_stores", JIM_TYPE_INT, false, Syntax::Seq},
    {"login_failures", JIM_TYPE_INT, false, Syntax::Seq},
};

const ActionInfo kActions[JIM_ACTION_COUNT] = {
    {"", 0},
    {"presence", bit(JIM_FIELD_ACCOUNT_NAME)},
    {"authenticate", bit(JIM_FIELD_ACCOUNT_NAME) | bit(JIM_FIELD_PASSWORD)},
    {"register", bit(JIM_FIELD_ACCOUNT_NAME) | bit(JIM_FIELD_PASSWORD)},
    {"msg", bit(JIM_FIELD_MESSAGE)}, // no `to`: the general chat, where the server has one
    {"join", bit(JIM_FIELD_ROOM)},
    {"leave", bit(JIM_FIELD_ROOM)},
    {"quit", 0},
    {"probe", 0},
    {"get_contacts", 0},
    {"contact_list", bit(JIM_FIELD_USER_ID)},
    {"add_contact", bit(JIM_FIELD_USER_ID)},
    {"del_contact", bit(JIM_FIELD_USER_ID)},
    {"sync", bit(JIM_FIELD_SINCE)},
    {"history", bit(JIM_FIELD_WITH)},
    {"get_rooms", 0},
    {"room_list", bit(JIM_FIELD_ROOM)},
    {"get_users", 0},
    {"user_list", bit(JIM_FIELD_USER_ID)},
    {"put_key", bit(JIM_FIELD_KEY)},
    {"get_key", bit(JIM_FIELD_USER_ID)},
    {"admin_users", 0},
    {"user_stat", bit(JIM_FIELD_USER_ID)},
    {"admin_stats", 0},
    {"admin_kick", bit(JIM_FIELD_USER_ID)},
    {"admin_ban", bit(JIM_FIELD_USER_ID)},
    {"admin_set", bit(JIM_FIELD_SETTING) | bit(JIM_FIELD_VALUE)},
    {"admin_unban", bit(JIM_FIELD_USER_ID)},
    {"set_password", bit(JIM_FIELD_OLD_PASSWORD) | bit(JIM_FIELD_NEW_PASSWORD)},
    {"admin_add_user", bit(JIM_FIELD_ACCOUNT_NAME) | bit(JIM_FIELD_PASSWORD)},
    {"admin_password", bit(JIM_FIELD_USER_ID) | bit(JIM_FIELD_NEW_PASSWORD)},
    {"admin_role", bit(JIM_FIELD_USER_ID) | bit(JIM_FIELD_ROLE)},
};

namespace {

// A small open-addressing table from short strings to ints, built once.
class NameTable {
  public:
    void add(std::string_view name, int value)
    {
        size_t i = hash(name);
        while (slots_[i].name)
            i = (i + 1) & (kSize - 1);
        slots_[i] = {name.data(), name.size(), value};
    }
    int find(std::string_view name) const
    {
        for (size_t i = hash(name);; i = (i + 1) & (kSize - 1)) {
            const Slot &s = slots_[i];
            if (!s.name)
                return -1;
            if (s.len == name.size() && std::memcmp(s.name, name.data(), s.len) == 0)
                return s.value;
        }
    }

  private:
    static constexpr size_t kSize = 256;
    struct Slot {
        const char *name;
        size_t len;
        int value;
    };
    // The length and three of the bytes, not a loop over all of them: the keys of a table
    // differ there nearly always, and a collision only costs a probe.
    static size_t hash(std::string_view s)
    {
        size_t n = s.size();
        if (n == 0)
            return 0;
        auto at = [&s](size_t i) {
            return static_cast<uint32_t>(static_cast<unsigned char>(s[i]));
        };
        uint32_t h = static_cast<uint32_t>(n) * 0x9e3779b1u ^ at(0) * 0x85ebca6bu ^
                     at(n - 1) * 0xc2b2ae35u ^ at(n / 2) * 0x27d4eb2fu;
        return (h >> 14) & (kSize - 1); // the bits that leave jim's keys at most 2 probes
    }
    std::array<Slot, kSize> slots_{};
};

// Values of the action table: the action, plus a flag for the aliases of other dialects.
constexpr int kReferenceFlag = 0x100, kDbFlag = 0x200;

struct Tables {
    NameTable actions, top, user;
    Tables()
    {
        for (int a = 1; a < JIM_ACTION_COUNT; a++)
            actions.add(kActions[a].name, a);
        actions.add("message", JIM_ACTION_MSG | kReferenceFlag);
        actions.add("exit", JIM_ACTION_QUIT);
        actions.add("add", JIM_ACTION_ADD_CONTACT | kDbFlag); // the database course
        actions.add("remove", JIM_ACTION_DEL_CONTACT | kDbFlag);
        actions.add("pr\xd0\xbe"
                    "be",
                    JIM_ACTION_PROBE); // "probe" with a Cyrillic o
        for (int f = 0; f < JIM_FIELD_COUNT; f++)
            (kFields[f].in_user ? user : top).add(kFields[f].key, f);
        top.add("action", KEY_ACTION);
        top.add("response", KEY_RESPONSE);
        top.add("user", KEY_USER);
        top.add("mess_text", KEY_MESS_TEXT);
        top.add("account_name", KEY_TOP_ACCOUNT_NAME);
        user.add("features", KEY_FEATURES);
    }
};

const Tables &tables()
{
    static const Tables t;
    return t;
}

} // namespace

jim_action action_lookup(std::string_view name, jim_dialect *dialect)
{
    if (name == "msg") { // the action of nearly every object a server reads
        if (dialect)
            *dialect = JIM_DIALECT_JIM;
        return JIM_ACTION_MSG;
    }
    int v = tables().actions.find(name);
    if (v < 0)
        return JIM_ACTION_NONE;
    if (dialect)
        *dialect = (v & kReferenceFlag) ? JIM_DIALECT_REFERENCE
                   : (v & kDbFlag)      ? JIM_DIALECT_DB
                                        : JIM_DIALECT_JIM;
    return static_cast<jim_action>(v & ~(kReferenceFlag | kDbFlag));
}

// The keys of a msg come first, each compared as one or two words (a memcmp of a constant
// length compiles to that); the table holds them too, and every other key.
int top_key_lookup(std::string_view key)
{
    switch (key.size()) {
    case 2:
        if (key == "to")
            return JIM_FIELD_TO;
        if (key == "id")
            return JIM_FIELD_ID;
        break;
    case 4:
        if (key == "time")
            return JIM_FIELD_TIME;
        break;
    case 6:
        if (key == "action")
            return KEY_ACTION;
        break;
    case 7:
        if (key == "message")
            return JIM_FIELD_MESSAGE;
        break;
    default: break;
    }
    return tables().top.find(key);
}

int user_key_lookup(std::string_view key)
{
    return tables().user.find(key);
}

const char *response_text(int code)
{
    switch (code) {
    case 100: return "basic notification";
    case 101: return "important notification";
    case 200: return "OK";
    case 201: return "created";
    case 202: return "accepted";
    case 400: return "bad request";
    case 401: return "not authorized: log in first";
    case 402: return "wrong account name or password";
    case 403: return "forbidden";
    case 404: return "no such user or room";
    case 409: return "conflict";
    case 410: return "gone: user offline";
    case 429: return "too many requests";
    case 500: return "server error";
    default: return nullptr;
    }
}

} // namespace jim

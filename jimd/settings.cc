// The settings table of jimd and the config file reader.
#include "settings.hh"

#include <jim/jim.h>

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <unistd.h>

namespace jimd {

namespace {

const SettingInfo kTable[S_LIMITS_FIRST] = {
    {"port", Type::Int, 1, 65535, "7777", nullptr, "TCP port to listen on"},
    {"address", Type::String, 0, 255, "", nullptr,
     "address to listen on; empty: every address (IPv6 and IPv4)"},
    {"tls", Type::Choice, 0, 0, "auto", "auto|off|optional|required",
     "TLS on the port: optional (plain JIM beside it), required (a plain connection gets 403); "
     "auto: optional with tls_cert, else off"},
    {"tls_cert", Type::String, 0, 4095, "", nullptr,
     "the server's certificate (PEM, with its chain); SIGHUP loads it again"},
    {"tls_key", Type::String, 0, 4095, "", nullptr, "the certificate's private key (PEM)"},
    {"tls_ca", Type::String, 0, 4095, "", nullptr,
     "CA certificates (PEM) for client certificates; set: a TLS client must show one"},
    {"workers", Type::Int, 0, kMaxWorkers, "0", nullptr,
     "worker processes; 0: one per CPU (at most 64)"},
    {"database", Type::String, 1, 4095, "var/jimd.db", nullptr, "the SQLite database file"},
    {"pidfile", Type::String, 0, 4095, "var/jimd.pid", nullptr,
     "where -d writes the master's process id (locked while jimd runs)"},
    {"control_socket", Type::String, 0, 4095, "", nullptr,
     "the local admin socket (jimctl; mode 0600, root and jimd's user only); empty: the "
     "database's path ending in .ctl (var/jimd.ctl); none: no socket"},
    {"metrics_address", Type::String, 0, 255, "", nullptr,
     "where worker 0 serves GET /metrics (Prometheus text format), as IPv4:port or "
     "[IPv6]:port, e.g. 127.0.0.1:9777; empty: no endpoint"},
    {"user", Type::String, 0, 255, "", nullptr,
     "started as root: the user jimd runs as once its port is bound; empty: stay root"},
    {"group", Type::String, 0, 255, "", nullptr, "the group with user; empty: user's own group"},
    {"log_file", Type::String, 0, 4095, "", nullptr,
     "log file, rotated daily; empty: standard error"},
    {"log_level", Type::Choice, 0, 0, "info", "trace|debug|info|warning|error|critical",
     "lowest level logged"},
    {"auth", Type::Choice, 0, 0, "required", "required|none",
     "required: log in with a password; none: presence logs in (trusted networks)"},
    {"registration", Type::Choice, 0, 0, "open", "open|closed", "whether register is allowed"},
    {"max_sessions", Type::Int, 1, 64, "8", nullptr,
     "sessions one account may have at once (devices), over all workers"},
    {"offline_storage", Type::Choice, 0, 0, "on", "on|off",
     "store direct messages for offline users (off: 410)"},
    {"msg_rate", Type::Int, 0, 1000000, "200", nullptr,
     "messages per second per session; 0: no limit"},
    {"msg_burst", Type::Int, 1, 1000000, "1000", nullptr, "messages a session may send at once"},
    {"login_failures_max", Type::Int, 1, 1000, "5", nullptr,
     "failed logins for one account before 429 (counted in the database: exact over all "
     "workers)"},
    {"login_failures_max_ip", Type::Int, 1, 100000, "100", nullptr,
     "failed logins from one IP address, for any accounts, before 429 (counted in the "
     "database)"},
    {"login_failures_window", Type::Int, 1, 86400, "60", nullptr,
     "seconds over which failed logins count"},
    {"max_connections_per_ip", Type::Int, 1, 1000000, "256", nullptr,
     "connections from one IP address, over all workers (counts shared between them)"},
    {"login_timeout", Type::Int, 1, 3600, "30", nullptr,
     "seconds a connection may take to log in, and then to send any one object, before it "
     "is closed"},
    {"register_max_ip", Type::Int, 1, 1000000, "60", nullptr,
     "accounts one IP address may register per register_window (then 429), over all workers"},
    {"register_window", Type::Int, 1, 86400, "600", nullptr,
     "seconds over which registrations from one address count"},
    {"max_rooms_per_user", Type::Int, 1, 100000, "100", nullptr,
     "rooms one account may be a member of"},
    {"room_creations_per_hour", Type::Int, 1, 100000, "20", nullptr,
     "rooms one account may create per hour (then 429)"},
    {"probe_interval", Type::Int, 1, 86400, "60", nullptr,
     "seconds of silence before an ndjson session is probed"},
    {"probe_timeout", Type::Int, 1, 86400, "30", nullptr,
     "seconds a probed session has to answer before it is closed"},
    {"legacy_pacing_ms", Type::Int, 0, 1000, "20", nullptr,
     "milliseconds between objects to clients that did not announce ndjson"},
    {"legacy_dialect", Type::Choice, 0, 0, "jim", "jim|reference",
     "dialect for sessions that did not announce ndjson until they speak"},
    {"general_chat", Type::String, 0, 25, "#general", nullptr,
     "the room every logged-in session is in without joining, and where a msg without "
     "'to' goes; empty: none"},
    {"synchronous", Type::Choice, 0, 0, "normal", "normal|full",
     "SQLite durability: normal survives a process crash, full also a power loss"},
    {"busy_timeout_ms", Type::Int, 100, 600000, "10000", nullptr,
     "how long a database writer waits for the lock"},
    {"checkpoint_interval", Type::Int, 1, 3600, "1", nullptr,
     "seconds between the master's upkeep runs (history index; WAL restart past 32 MiB)"},
    {"scrypt_n", Type::Int, 1024, 1048576, "16384", nullptr,
     "scrypt cost N for new password hashes (a power of two)"},
    {"drain_timeout", Type::Int, 1, 600, "10", nullptr,
     "seconds SIGTERM waits for workers to finish before killing them"},
};

SettingInfo limit_row(int i)
{
    static std::string defaults[JIM_LIMIT_COUNT];
    auto l = static_cast<jim_limit>(i);
    defaults[i] = std::to_string(jim_limit_default(l));
    return {jim_limit_name(l),   Type::Int, jim_limit_min(l), jim_limit_max(l),
            defaults[i].c_str(), nullptr,   jim_limit_help(l)};
}

// A room name as the protocol has them: '#' then letters, digits, '_', '-', '.'.
bool valid_room_name(const std::string &v)
{
    if (v.size() < 2 || v[0] != '#')
        return false;
    for (size_t i = 1; i < v.size(); i++) {
        char c = v[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

} // namespace

bool split_metrics_address(const std::string &value, std::string *host, int *port)
{
    size_t colon = value.rfind(':');
    if (colon == std::string::npos || colon + 1 == value.size() || colon + 6 < value.size())
        return false;
    std::string h = value.substr(0, colon), p = value.substr(colon + 1);
    if (p.find_first_not_of("0123456789") != std::string::npos)
        return false;
    int n = std::atoi(p.c_str());
    if (n < 1 || n > 65535)
        return false;
    unsigned char buf[sizeof(in6_addr)];
    bool v6 = h.size() > 2 && h.front() == '[' && h.back() == ']';
    if (v6)
        h = h.substr(1, h.size() - 2);
    if (inet_pton(v6 ? AF_INET6 : AF_INET, h.c_str(), buf) != 1)
        return false;
    if (host)
        *host = h;
    if (port)
        *port = n;
    return true;
}

const SettingInfo &setting_info(Setting s)
{
    static SettingInfo limits[JIM_LIMIT_COUNT];
    static bool made = false;
    if (!made) {
        for (int i = 0; i < JIM_LIMIT_COUNT; i++)
            limits[i] = limit_row(i);
        made = true;
    }
    return s < S_LIMITS_FIRST ? kTable[s] : limits[s - S_LIMITS_FIRST];
}

Settings::Settings()
{
    for (int i = 0; i < S_COUNT; i++) {
        std::string why;
        set(static_cast<Setting>(i), setting_info(static_cast<Setting>(i)).def, &why);
    }
}

bool Settings::set(Setting s, const std::string &value, std::string *why)
{
    const SettingInfo &info = setting_info(s);
    switch (info.type) {
    case Type::Int: {
        errno = 0;
        char *end = nullptr;
        long v = std::strtol(value.c_str(), &end, 10);
        if (value.empty() || *end || errno) {
            *why = std::string(info.name) + ": '" + value + "' is not a number";
            return false;
        }
        if (v < info.min || v > info.max) {
            *why = std::string(info.name) + ": " + value + " is outside " +
                   std::to_string(info.min) + ".." + std::to_string(info.max);
            return false;
        }
        if (s == S_SCRYPT_N && (v & (v - 1)) != 0) {
            *why = std::string(info.name) + ": " + value + " is not a power of two";
            return false;
        }
        num_[s] = v;
        break;
    }
    case Type::String:
        if (static_cast<long>(value.size()) > info.max ||
            static_cast<long>(value.size()) < info.min) {
            *why = std::string(info.name) + ": bad length";
            return false;
        }
        if (s == S_METRICS_ADDRESS && !value.empty() &&
            !split_metrics_address(value, nullptr, nullptr)) {
            *why = std::string(info.name) + ": '" + value +
                   "' is not a numeric address and port (127.0.0.1:9777, [::1]:9777)";
            return false;
        }
        if (s == S_GENERAL_CHAT && !value.empty() && !valid_room_name(value)) {
            *why = std::string(info.name) + ": '" + value +
                   "' is not a room name ('#' then letters, digits, _ - .)";
            return false;
        }
        break;
    case Type::Choice: {
        std::string choices = std::string("|") + info.choices + "|";
        if (value.empty() || value.find('|') != std::string::npos ||
            choices.find("|" + value + "|") == std::string::npos) {
            *why = std::string(info.name) + ": '" + value + "' is not one of " + info.choices;
            return false;
        }
        break;
    }
    }
    str_[s] = value;
    return true;
}

// "unknown setting 'KEY' (did you mean 'NEAR'?)": a garbage key is quoted by its start
// only, so the message stays one short line.
static std::string unknown_setting(const std::string &key)
{
    std::string why =
        "unknown setting '" + (key.size() > 64 ? key.substr(0, 64) + "..." : key) + "'";
    std::string near = nearest_setting(key);
    if (!near.empty())
        why += " (did you mean '" + near + "'?)";
    return why;
}

bool Settings::set(const std::string &name, const std::string &value, std::string *why)
{
    int i = setting_by_name(name);
    if (i < 0) {
        *why = unknown_setting(name);
        return false;
    }
    return set(static_cast<Setting>(i), value, why);
}

int setting_by_name(const std::string &name)
{
    for (int i = 0; i < S_COUNT; i++)
        if (name == setting_info(static_cast<Setting>(i)).name)
            return i;
    return -1;
}

namespace {

// Edits (insertions, deletions, substitutions) that turn a into b.
size_t edit_distance(const std::string &a, const std::string &b)
{
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); j++)
        row[j] = j;
    for (size_t i = 1; i <= a.size(); i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); j++) {
            size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
            diag = up;
        }
    }
    return row[b.size()];
}

// One line of a config file, cut into key and value. The syntax:
//   key value        or   key = value
//   # a comment      a '#' at the start of a line or after a blank starts a comment
//   key "a # b"      a value in double quotes keeps '#' and blanks; \" and \\ inside
// Returns false with *why for a line that is not of this shape; an empty key means a
// blank or comment line.
bool split_line(const std::string &line, std::string *key, std::string *value, std::string *why)
{
    key->clear();
    value->clear();
    size_t i = 0, n = line.size();
    auto blank = [&](size_t k) { return line[k] == ' ' || line[k] == '\t' || line[k] == '\r'; };
    while (i < n && blank(i))
        i++;
    if (i == n || line[i] == '#')
        return true;
    size_t k = i;
    while (i < n && !blank(i) && line[i] != '=')
        i++;
    *key = line.substr(k, i - k);
    while (i < n && blank(i))
        i++;
    if (i < n && line[i] == '=') {
        i++;
        while (i < n && blank(i))
            i++;
    }
    if (i < n && line[i] == '"') {
        for (i++; i < n && line[i] != '"'; i++) {
            if (line[i] == '\\' && i + 1 < n && (line[i + 1] == '"' || line[i + 1] == '\\'))
                i++;
            value->push_back(line[i]);
        }
        if (i == n) {
            *why = "unterminated quote in the value of '" + *key + "'";
            return false;
        }
        for (i++; i < n && blank(i); i++) {
        }
        if (i < n && line[i] != '#') {
            *why = "text after the quoted value of '" + *key + "'";
            return false;
        }
        return true;
    }
    size_t v = i;
    while (i < n && !(line[i] == '#' && blank(i - 1)))
        i++;
    size_t e = i;
    while (e > v && blank(e - 1))
        e--;
    *value = line.substr(v, e - v);
    return true;
}

} // namespace

std::string nearest_setting(const std::string &name)
{
    std::string best;
    size_t best_d = std::max<size_t>(2, name.size() / 3) + 1;
    for (int i = 0; i < S_COUNT; i++) {
        std::string cand = setting_info(static_cast<Setting>(i)).name;
        // The distance is at least the difference in length: a long garbage key is
        // compared with nothing (a large garbage config is refused at once).
        size_t gap =
            name.size() > cand.size() ? name.size() - cand.size() : cand.size() - name.size();
        if (gap >= best_d)
            continue;
        size_t d = edit_distance(name, cand);
        if (d < best_d) {
            best_d = d;
            best = cand;
        }
    }
    return best;
}

// How many lines that are no setting load() reports one by one.
constexpr int kJunkReported = 10;

bool Settings::load(const std::string &path, std::vector<std::string> *errors)
{
    std::ifstream in(path);
    if (!in) {
        errors->push_back(path + ": " + std::strerror(errno));
        return false;
    }
    Settings next = *this; // applied only when every line is good
    size_t before = errors->size();
    // Lines that are no setting at all are reported ten at a time: a file that is no
    // config (a binary, a text) gets a short report, not a line per line of it.
    int junk = 0;
    std::string junk_where;
    auto not_a_setting = [&](const std::string &where, const std::string &what) {
        if (++junk <= kJunkReported)
            errors->push_back(where + what);
        else if (junk == kJunkReported + 1)
            junk_where = where;
    };
    std::string line, key, value, why;
    for (int n = 1; std::getline(in, line); n++) {
        std::string where = path + ":" + std::to_string(n) + ": ";
        if (line.find('\0') != std::string::npos) {
            errors->push_back(where + "not a text file");
            break;
        }
        if (!split_line(line, &key, &value, &why)) {
            not_a_setting(where, why);
            continue;
        }
        if (key.empty())
            continue;
        int found = setting_by_name(key);
        if (found < 0) {
            not_a_setting(where, unknown_setting(key));
            continue;
        }
        if (pinned_[found])
            continue; // the command line wins
        if (!next.set(static_cast<Setting>(found), value, &why))
            errors->push_back(where + why);
    }
    if (junk > kJunkReported)
        errors->push_back(junk_where + "this line and " + std::to_string(junk - kJunkReported - 1) +
                          " more after it are no settings either: is this a jimd config?");
    if (in.bad())
        errors->push_back(path + ": " + std::strerror(errno));
    if (errors->size() != before)
        return false;
    *this = next;
    return true;
}

bool Settings::reloaded(const std::string &path, Settings *out,
                        std::vector<std::string> *errors) const
{
    Settings fresh;
    for (int i = 0; i < S_COUNT; i++)
        if (pinned_[i]) {
            fresh.num_[i] = num_[i];
            fresh.str_[i] = str_[i];
            fresh.pinned_[i] = true;
        }
    if (!path.empty() && !fresh.load(path, errors))
        return false;
    *out = fresh;
    return true;
}

void Settings::take_reloadable(const Settings &fresh)
{
    for (int i = 0; i < S_COUNT; i++)
        if (!needs_restart(static_cast<Setting>(i))) {
            num_[i] = fresh.num_[i];
            str_[i] = fresh.str_[i];
        }
}

bool Settings::needs_restart(Setting s)
{
    switch (s) {
    case S_PORT:
    case S_ADDRESS:
    case S_WORKERS:
    case S_DATABASE:
    case S_PIDFILE:
    case S_CONTROL_SOCKET:
    case S_METRICS_ADDRESS:
    case S_USER:
    case S_GROUP:
    case S_LOG_FILE:
    case S_GENERAL_CHAT: return true;
    default: return false;
    }
}

void Settings::fill_limits(jim_limits *lim) const
{
    for (int i = 0; i < JIM_LIMIT_COUNT; i++)
        jim_limits_set(lim, static_cast<jim_limit>(i), limit(static_cast<jim_limit>(i)));
}

void print_settings_help()
{
    std::printf("jimd configuration: one 'key value' (or 'key = value') per line. A '#' at the\n"
                "start of a line or after a blank starts a comment; put a value in double quotes\n"
                "to keep a '#' or blanks in it (\\\" and \\\\ inside quotes).\n\n");
    for (int i = 0; i < S_COUNT; i++) {
        const SettingInfo &s = setting_info(static_cast<Setting>(i));
        std::string range;
        if (s.type == Type::Int)
            range = std::to_string(s.min) + ".." + std::to_string(s.max);
        else if (s.type == Type::Choice)
            range = s.choices;
        else
            range = "text";
        std::printf("%-24s %-38s default: %s\n    %s\n", s.name, range.c_str(),
                    *s.def ? s.def : "(empty)", s.help);
    }
}

} // namespace jimd

namespace jimd {

namespace {

// The range of a setting as --help-config, the config file and the man page write it.
std::string range_text(const SettingInfo &s)
{
    if (s.type == Type::Int)
        return std::to_string(s.min) + ".." + std::to_string(s.max);
    if (s.type == Type::Choice)
        return s.choices;
    return "text, at most " + std::to_string(s.max) + " bytes";
}

// A value as a config line writes it: quoted when it is empty or holds blanks, '#' or '"'.
std::string quoted(const std::string &v)
{
    if (!v.empty() && v.find_first_of(" \t#\"\\") == std::string::npos)
        return v;
    std::string q = "\"";
    for (char c : v) {
        if (c == '"' || c == '\\')
            q += '\\';
        q += c;
    }
    return q + "\"";
}

// Text for troff: backslashes and hyphens escaped, and a leading '.' or '\'' made plain.
std::string troff(const std::string &t)
{
    std::string out = "\\&";
    for (char c : t) {
        if (c == '\\')
            out += "\\e";
        else if (c == '-')
            out += "\\-";
        else
            out += c;
    }
    return out;
}

// text as '#' comment lines of at most 80 columns.
std::string comment(const std::string &text)
{
    std::string out, line = "#";
    size_t i = 0;
    while (i < text.size()) {
        size_t end = text.find(' ', i);
        if (end == std::string::npos)
            end = text.size();
        std::string word = text.substr(i, end - i);
        if (line.size() > 1 && line.size() + 1 + word.size() > 80) {
            out += line + "\n";
            line = "#";
        }
        line += " " + word;
        i = end + 1;
    }
    return out + line + "\n";
}

const char kSyntax[] =
    "one 'key value' (or 'key = value') per line. A '#' at the start of a line or after a "
    "blank starts a comment; put a value in double quotes to keep a '#' or blanks in it "
    "(\\\" and \\\\ inside quotes).";

} // namespace

void print_config_template(const Settings &s)
{
    Settings defaults;
    std::printf(
        "# jimd.conf: the configuration of jimd (see jimd.conf(5)), written by\n"
        "# jimd --print-config from jimd's settings table. Every setting is here with\n"
        "# its meaning and range; a line '#key value' is the default, in effect while\n"
        "# the line stays a comment. Syntax: one 'key value' per line; a value in double\n"
        "# quotes keeps '#' and blanks. jimd -t -c FILE checks a file; SIGHUP rereads it.\n");
    for (int i = 0; i < S_COUNT; i++) {
        auto id = static_cast<Setting>(i);
        const SettingInfo &info = setting_info(id);
        std::printf("\n%s", comment(std::string(info.help) + " (" + range_text(info) +
                                    (Settings::needs_restart(id) ? "; needs a restart" : "") + ")")
                                .c_str());
        bool changed = s.str(id) != defaults.str(id);
        if (changed)
            std::printf("# default: %s\n%s %s\n", quoted(info.def).c_str(), info.name,
                        quoted(s.str(id)).c_str());
        else
            std::printf("#%s %s\n", info.name, quoted(info.def).c_str());
    }
}

void print_config_man()
{
    std::printf(".\\\" jimd.conf.5: written by jimd --man-config from jimd's settings table.\n"
                ".TH JIMD.CONF 5 \"\" \"jim %s\" \"File Formats Manual\"\n"
                ".SH NAME\njimd.conf \\- configuration file of the jimd messenger daemon\n"
                ".SH SYNOPSIS\n.I /etc/jim/jimd.conf\n"
                ".SH DESCRIPTION\n.BR jimd (8)\nreads the file named by\n.BR \\-c :\n%s\n"
                ".PP\nA setting the file does not name keeps its default; a flag on the command "
                "line overrides the file. Every bad line is reported as\n.IR file : line : "
                "message\nand jimd does not start (exit 78);\n.B jimd \\-t \\-c\n.I file\n"
                "checks a file. SIGHUP rereads the file: a setting marked\n.I restart\nbelow "
                "keeps its old value until jimd restarts, the others take effect at once.\n"
                ".PP\n.B jimd \\-\\-print\\-config\nprints every setting commented out at its "
                "default, and\n.B jimd \\-\\-help\\-config\nthe same table in short.\n"
                ".SH SETTINGS\n",
                jim_version(), troff(kSyntax).c_str());
    for (int i = 0; i < S_COUNT; i++) {
        auto id = static_cast<Setting>(i);
        const SettingInfo &info = setting_info(id);
        std::printf(".TP\n.B %s\n%s.\n.br\nRange: %s; default: %s%s.\n", info.name,
                    troff(info.help).c_str(), troff(range_text(info)).c_str(),
                    *info.def ? troff(info.def).c_str() : "empty",
                    Settings::needs_restart(id) ? "; restart" : "");
    }
    std::printf(".SH FILES\n.TP\n.I /etc/jim/jimd.conf\nthe configuration of the packaged "
                "service (jimd.service runs\n.BR \"jimd \\-c /etc/jim/jimd.conf\" ).\n"
                ".SH SEE ALSO\n.BR jimd (8)\n");
}

} // namespace jimd

// The settings table of jimd and the config file reader.
#include "settings.hh"

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
    {"workers", Type::Int, 0, 256, "0", nullptr, "worker processes; 0: one per CPU"},
    {"database", Type::String, 1, 4095, "var/jimd.db", nullptr, "the SQLite database file"},
    {"pidfile", Type::String, 0, 4095, "var/jimd.pid", nullptr,
     "where -d writes the master's process id"},
    {"log_file", Type::String, 0, 4095, "", nullptr,
     "log file, rotated daily; empty: standard error"},
    {"log_level", Type::Choice, 0, 0, "info", "trace|debug|info|warning|error|critical",
     "lowest level logged"},
    {"auth", Type::Choice, 0, 0, "required", "required|none",
     "required: log in with a password; none: presence logs in (trusted networks)"},
    {"registration", Type::Choice, 0, 0, "open", "open|closed", "whether register is allowed"},
    {"max_sessions", Type::Int, 1, 64, "1", nullptr, "sessions one account may have at once"},
    {"offline_storage", Type::Choice, 0, 0, "on", "on|off",
     "store direct messages for offline users (off: 410)"},
    {"msg_rate", Type::Int, 0, 1000000, "200", nullptr,
     "messages per second per session; 0: no limit"},
    {"msg_burst", Type::Int, 1, 1000000, "1000", nullptr, "messages a session may send at once"},
    {"login_failures_max", Type::Int, 1, 1000, "5", nullptr,
     "failed logins per account or IP before 429"},
    {"login_failures_window", Type::Int, 1, 86400, "60", nullptr,
     "seconds over which failed logins count"},
    {"max_connections_per_ip", Type::Int, 1, 1000000, "256", nullptr,
     "connections from one IP address, per worker"},
    {"probe_interval", Type::Int, 1, 86400, "60", nullptr,
     "seconds of silence before an ndjson session is probed"},
    {"probe_timeout", Type::Int, 1, 86400, "30", nullptr,
     "seconds a probed session has to answer before it is closed"},
    {"legacy_pacing_ms", Type::Int, 0, 1000, "20", nullptr,
     "milliseconds between objects to clients that did not announce ndjson"},
    {"legacy_dialect", Type::Choice, 0, 0, "jim", "jim|reference",
     "dialect for sessions that did not announce ndjson until they speak"},
    {"synchronous", Type::Choice, 0, 0, "normal", "normal|full",
     "SQLite durability: normal survives a process crash, full also a power loss"},
    {"busy_timeout_ms", Type::Int, 100, 600000, "10000", nullptr,
     "how long a database writer waits for the lock"},
    {"checkpoint_interval", Type::Int, 1, 3600, "1", nullptr,
     "seconds between the master's upkeep runs (history index; WAL restart past 16 MiB)"},
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

std::string trim(const std::string &s)
{
    size_t b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos)
        return "";
    size_t e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

} // namespace

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
        num_[s] = v;
        break;
    }
    case Type::String:
        if (static_cast<long>(value.size()) > info.max ||
            static_cast<long>(value.size()) < info.min) {
            *why = std::string(info.name) + ": bad length";
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

bool Settings::set(const std::string &name, const std::string &value, std::string *why)
{
    for (int i = 0; i < S_COUNT; i++)
        if (name == setting_info(static_cast<Setting>(i)).name)
            return set(static_cast<Setting>(i), value, why);
    *why = "unknown setting '" + name + "'";
    return false;
}

bool Settings::load(const std::string &path, std::string *why)
{
    std::ifstream in(path);
    if (!in) {
        *why = path + ": " + std::strerror(errno);
        return false;
    }
    std::string line;
    for (int n = 1; std::getline(in, line); n++) {
        size_t hash = line.find('#');
        if (hash != std::string::npos)
            line.erase(hash);
        line = trim(line);
        if (line.empty())
            continue;
        size_t sp = line.find_first_of(" \t");
        std::string key = line.substr(0, sp);
        std::string value = sp == std::string::npos ? "" : trim(line.substr(sp));
        std::string err;
        int found = -1;
        for (int i = 0; i < S_COUNT; i++)
            if (key == setting_info(static_cast<Setting>(i)).name)
                found = i;
        if (found < 0) {
            *why = path + ":" + std::to_string(n) + ": unknown setting '" + key + "'";
            return false;
        }
        if (pinned_[found])
            continue; // the command line wins
        if (!set(static_cast<Setting>(found), value, &err)) {
            *why = path + ":" + std::to_string(n) + ": " + err;
            return false;
        }
    }
    return true;
}

void Settings::fill_limits(jim_limits *lim) const
{
    for (int i = 0; i < JIM_LIMIT_COUNT; i++)
        jim_limits_set(lim, static_cast<jim_limit>(i), limit(static_cast<jim_limit>(i)));
}

void print_settings_help()
{
    std::printf("jimd configuration: one 'key value' per line, '#' starts a comment.\n\n");
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

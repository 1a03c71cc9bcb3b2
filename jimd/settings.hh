// jimd's settings: one table of {name, type, range, default, help}, the config file parser,
// and the values a process runs with.
#pragma once

#include <jim/limits.h>

#include <string>
#include <vector>

namespace jimd {

// Every setting jimd knows, in table order. The protocol limits follow at the end.
enum Setting : int {
    S_PORT,
    S_ADDRESS,
    S_WORKERS,
    S_DATABASE,
    S_PIDFILE,
    S_LOG_FILE,
    S_LOG_LEVEL,
    S_AUTH,
    S_REGISTRATION,
    S_MAX_SESSIONS,
    S_OFFLINE_STORAGE,
    S_MSG_RATE,
    S_MSG_BURST,
    S_LOGIN_FAILURES_MAX,
    S_LOGIN_FAILURES_WINDOW,
    S_MAX_CONNECTIONS_PER_IP,
    S_PROBE_INTERVAL,
    S_PROBE_TIMEOUT,
    S_LEGACY_PACING_MS,
    S_LEGACY_DIALECT,
    S_SYNCHRONOUS,
    S_BUSY_TIMEOUT_MS,
    S_CHECKPOINT_INTERVAL,
    S_SCRYPT_N,
    S_DRAIN_TIMEOUT,
    S_LIMITS_FIRST, // the jim_limit values, in jim_limit order
    S_COUNT = S_LIMITS_FIRST + static_cast<int>(JIM_LIMIT_COUNT)
};

enum class Type { Int, String, Choice };

// One row of the settings table.
struct SettingInfo {
    const char *name;
    Type type;
    long min, max;       // Int: range; String: longest length
    const char *def;     // default, as it would be written in the config file
    const char *choices; // Choice: "a|b|c"
    const char *help;
};

// The row of setting s.
const SettingInfo &setting_info(Setting s);

// The values of every setting; starts at the defaults.
class Settings {
  public:
    Settings();
    long num(Setting s) const { return num_[s]; }
    const std::string &str(Setting s) const { return str_[s]; }
    long limit(jim_limit l) const { return num_[S_LIMITS_FIRST + static_cast<int>(l)]; }

    // Sets one setting from text; false with *why set when the value is bad.
    bool set(Setting s, const std::string &value, std::string *why);
    // Sets a setting by name; false with *why when the name or value is bad.
    bool set(const std::string &name, const std::string &value, std::string *why);
    // Reads a config file of "key value" lines and # comments; on error *why is
    // "file:line: message" and nothing after that line is applied.
    bool load(const std::string &path, std::string *why);
    // Marks a setting as given on the command line: load() leaves it alone.
    void pin(Setting s) { pinned_[s] = true; }
    // Listen on any free port (-p 0); the port chosen is logged.
    void set_port_any() { num_[S_PORT] = 0; }
    // The limits as a jim_limits handle's values, for libjim.
    void fill_limits(jim_limits *lim) const;

  private:
    long num_[S_COUNT];
    std::string str_[S_COUNT];
    bool pinned_[S_COUNT] = {};
};

// Prints the settings table, with defaults and help, for --help-config.
void print_settings_help();

} // namespace jimd

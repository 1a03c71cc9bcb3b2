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
    S_TLS,
    S_TLS_CERT,
    S_TLS_KEY,
    S_TLS_CA,
    S_WORKERS,
    S_DATABASE,
    S_PIDFILE,
    S_CONTROL_SOCKET,
    S_METRICS_ADDRESS,
    S_USER,
    S_GROUP,
    S_LOG_FILE,
    S_LOG_LEVEL,
    S_AUTH,
    S_REGISTRATION,
    S_MAX_SESSIONS,
    S_OFFLINE_STORAGE,
    S_MSG_RATE,
    S_MSG_BURST,
    S_LOGIN_FAILURES_MAX,
    S_LOGIN_FAILURES_MAX_IP,
    S_LOGIN_FAILURES_WINDOW,
    S_MAX_CONNECTIONS_PER_IP,
    S_LOGIN_TIMEOUT,
    S_REGISTER_MAX_IP,
    S_REGISTER_WINDOW,
    S_MAX_ROOMS_PER_USER,
    S_ROOM_CREATIONS_PER_HOUR,
    S_PROBE_INTERVAL,
    S_PROBE_TIMEOUT,
    S_LEGACY_PACING_MS,
    S_LEGACY_DIALECT,
    S_GENERAL_CHAT,
    S_SYNCHRONOUS,
    S_BUSY_TIMEOUT_MS,
    S_CHECKPOINT_INTERVAL,
    S_SCRYPT_N,
    S_DRAIN_TIMEOUT,
    S_LIMITS_FIRST, // the jim_limit values, in jim_limit order
    S_COUNT = S_LIMITS_FIRST + static_cast<int>(JIM_LIMIT_COUNT)
};

// The most worker processes: a user's whereabouts are a 64-bit mask of workers (router.cc).
constexpr long kMaxWorkers = 64;

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
// The setting called name, or -1.
int setting_by_name(const std::string &name);
// The known setting nearest to name (for "did you mean"), or "" if none is close.
std::string nearest_setting(const std::string &name);

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
    // Reads a config file (see print_settings_help for its syntax). Every bad line is
    // reported, as "file:line: message", one per element of *errors; the settings are
    // changed only when there is none.
    bool load(const std::string &path, std::vector<std::string> *errors);
    // The settings a reload gives: the defaults, then what the command line set (kept,
    // as pinned), then the file at path. False, with *errors, when the file is bad.
    bool reloaded(const std::string &path, Settings *out, std::vector<std::string> *errors) const;
    // Marks a setting as given on the command line: load() leaves it alone.
    void pin(Setting s) { pinned_[s] = true; }
    bool pinned(Setting s) const { return pinned_[s]; }
    // True when a running jimd cannot take the setting's new value without a restart.
    static bool needs_restart(Setting s);
    // Takes every value of fresh that a running jimd can change (see needs_restart).
    void take_reloadable(const Settings &fresh);
    // Listen on any free port (-p 0); the port chosen is logged.
    void set_port_any() { num_[S_PORT] = 0; }
    // The limits as a jim_limits handle's values, for libjim.
    void fill_limits(jim_limits *lim) const;

  private:
    long num_[S_COUNT];
    std::string str_[S_COUNT];
    bool pinned_[S_COUNT] = {};
};

// Splits a metrics_address value, "IPv4:port" or "[IPv6]:port", into its numeric address
// and port; false when it is not one.
bool split_metrics_address(const std::string &value, std::string *host, int *port);

// Prints the settings table, with defaults and help, for --help-config.
void print_settings_help();
// Prints a config file for --print-config: every setting with its help and range, commented
// out at its default, except those whose value in s differs from it (set by -c or a flag).
void print_config_template(const Settings &s);
// Prints the manual page jimd.conf(5), in troff, from the same table (--man-config).
void print_config_man();

} // namespace jimd

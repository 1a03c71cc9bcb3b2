// jimd: the JIM messenger daemon. Parses the command line and the config file,
// opens the log, optionally daemonizes, and hands over to the master.
#include "daemon.hh"
#include "master.hh"
#include "notify.hh"
#include "settings.hh"
#include "tls.hh"

#include <jim/jim.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace {

// sysexits codes, as jimd.8 lists them.
constexpr int EX_OK_ = 0, EX_USAGE_ = 64, EX_UNAVAILABLE_ = 69, EX_OSERR_ = 71, EX_CANTCREAT_ = 73,
              EX_CONFIG_ = 78;

void usage(FILE *to)
{
    std::fprintf(to, "usage: jimd [-p PORT] [-a ADDR] [-c FILE] [-w N] [-D PATH] [-d] [-t] [-V]\n"
                     "  -p PORT     TCP port (default 7777; 0: any free port, logged)\n"
                     "  -a ADDR     address to listen on (default: every address)\n"
                     "  -c FILE     configuration file ('key value' lines; see --help-config)\n"
                     "  -w N        worker processes, 1-64 (default: one per CPU)\n"
                     "  -D PATH     database file (default var/jimd.db, relative to the\n"
                     "              current directory)\n"
                     "  -d          run in the background and write the pidfile; returns once\n"
                     "              jimd serves, or fails with the reason\n"
                     "  -t          check the configuration (every line) and exit\n"
                     "  -V          print the version and exit\n"
                     "  -h, --help  this text; --help-config: every setting with its default\n"
                     "  --print-config  a config file: every setting with its help, commented\n"
                     "              out at its default unless -c FILE or a flag changed it\n"
                     "  --man-config    the manual page jimd.conf(5), in troff\n"
                     "Flags override the configuration file.\n");
}

// A bad command line: one line, and where to read more.
int usage_error(const std::string &what)
{
    std::fprintf(stderr, "jimd: %s (see jimd --help)\n", what.c_str());
    return EX_USAGE_;
}

// Creates the directory that will hold path, one level, if it is missing; *created says
// whether it did.
bool ensure_parent(const std::string &path, bool *created = nullptr)
{
    if (created)
        *created = false;
    size_t slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0)
        return true;
    std::string dir = path.substr(0, slash);
    if (mkdir(dir.c_str(), 0750) == 0) {
        if (created)
            *created = true;
        return true;
    }
    return errno == EEXIST;
}

// Started as root with a user to run as: the database's directory that jimd just made
// belongs to that user, who must write the database, its WAL and its lock there.
void give_directory(const std::string &path, const std::string &user)
{
    size_t slash = path.rfind('/');
    const passwd *pw = getpwnam(user.c_str());
    if (!pw || slash == std::string::npos || slash == 0 || geteuid() != 0)
        return;
    if (chown(path.substr(0, slash).c_str(), pw->pw_uid, pw->pw_gid) != 0)
        std::fprintf(stderr, "jimd: cannot give %s to %s: %s\n", path.substr(0, slash).c_str(),
                     user.c_str(), std::strerror(errno));
}

// What the command line asked for.
struct CommandLine {
    struct Flag {
        jimd::Setting setting;
        std::string value;
    };
    std::vector<Flag> flags;
    std::string config_path;
    bool check_only = false, background = false, print_config = false;
};

// Reads the flags: -1 to go on, else the exit status (--help and -V done, or a bad flag).
int parse_args(int argc, char **argv, CommandLine *cl)
{
    using namespace jimd;
    static const option longopts[] = {
        {"help", no_argument, nullptr, 'h'},       {"help-config", no_argument, nullptr, 'H'},
        {"version", no_argument, nullptr, 'V'},    {"print-config", no_argument, nullptr, 'P'},
        {"man-config", no_argument, nullptr, 'M'}, {nullptr, 0, nullptr, 0}};
    opterr = 0; // one line of our own instead of getopt's
    int c;
    while ((c = getopt_long(argc, argv, ":p:a:c:w:D:dtVh", longopts, nullptr)) != -1) {
        switch (c) {
        case 'p': cl->flags.push_back({S_PORT, optarg}); break;
        case 'a': cl->flags.push_back({S_ADDRESS, optarg}); break;
        case 'w': cl->flags.push_back({S_WORKERS, optarg}); break;
        case 'D': cl->flags.push_back({S_DATABASE, optarg}); break;
        case 'c': cl->config_path = optarg; break;
        case 'd': cl->background = true; break;
        case 't': cl->check_only = true; break;
        case 'V': std::printf("jimd %s\n", jim_version()); return EX_OK_;
        case 'h': usage(stdout); return EX_OK_;
        case 'H': print_settings_help(); return EX_OK_;
        case 'M': print_config_man(); return EX_OK_;
        case 'P': cl->print_config = true; break;
        case ':': return usage_error(std::string("option ") + argv[optind - 1] + " needs a value");
        default:
            return usage_error(optopt ? std::string("unknown option -") + static_cast<char>(optopt)
                                      : std::string("unknown option ") + argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error(std::string("unexpected argument '") + argv[optind] + "'");
    return -1;
}

// The settings: the flags (pinned), then the config file. -1 to go on, else the exit
// status (a bad value, or -t done). *any_port: -p 0.
int make_settings(const CommandLine &cl, jimd::Settings *settings, bool *any_port)
{
    using namespace jimd;
    std::string why;
    for (const CommandLine::Flag &f : cl.flags) {
        // Port 0 (any free port) is allowed from the command line only.
        if (f.setting == S_PORT && f.value == "0") {
            settings->set(S_PORT, "1", &why);
            settings->pin(S_PORT);
            *any_port = true;
            continue;
        }
        if (!settings->set(f.setting, f.value, &why))
            return usage_error(why);
        settings->pin(f.setting);
    }
    std::vector<std::string> errors;
    if (!cl.config_path.empty() && !settings->load(cl.config_path, &errors)) {
        for (const std::string &e : errors)
            std::fprintf(stderr, "jimd: %s\n", e.c_str());
        return EX_CONFIG_;
    }
    if (cl.print_config) {
        print_config_template(*settings);
        return EX_OK_;
    }
    // Half-configured TLS never falls back to plain: jimd (and -t) refuse it.
    TlsContext tls;
    std::string warning;
    if (!make_tls_context(*settings, &tls, &why, &warning)) {
        std::fprintf(stderr, "jimd: %s\n", why.c_str());
        return EX_CONFIG_;
    }
    if (!warning.empty())
        std::fprintf(stderr, "jimd: warning: %s\n", warning.c_str());
    if (cl.check_only) {
        std::printf("jimd: configuration ok\n");
        return EX_OK_;
    }
    return -1;
}

// Opens the log the settings name: a file, standard error, or (in the background with no
// log file: standard error is /dev/null once jimd serves) syslog. Null when it cannot.
jim_log *open_log(const jimd::Settings &settings, bool background, bool *to_syslog)
{
    using namespace jimd;
    const std::string &log_file = settings.str(S_LOG_FILE);
    *to_syslog = background && log_file.empty();
    jim_log_level level = JIM_LOG_INFO;
    jim_log_level_from_name(settings.str(S_LOG_LEVEL).c_str(), &level);
    if (!log_file.empty() && !ensure_parent(log_file)) {
        std::fprintf(stderr, "jimd: cannot create the directory of %s: %s\n", log_file.c_str(),
                     std::strerror(errno));
        return nullptr;
    }
    // Under systemd standard error is the journal, which keeps the time itself.
    unsigned flags = *to_syslog                                      ? JIM_LOG_SYSLOG
                     : log_file.empty() && jimd::stderr_is_journal() ? JIM_LOG_JOURNAL
                                                                     : JIM_LOG_DAILY;
    jim_log *log = nullptr;
    if (jim_log_open(&log, "jimd", log_file.empty() ? nullptr : log_file.c_str(), level, flags) !=
        JIM_OK) {
        std::fprintf(stderr, "jimd: cannot open log file %s: %s\n", log_file.c_str(),
                     std::strerror(errno));
        return nullptr;
    }
    jim_log_set_default(log);
    set_log_on_stderr(log_file.empty() && !*to_syslog);
    return log;
}

// What comes before the master: the database's directory, detaching (-d), the locks on
// the database and the pidfile. 0, or the exit status.
int take_over(const jimd::Settings &settings, const CommandLine &cl, const std::string &pidfile,
              jim_log *log)
{
    using namespace jimd;
    const std::string &db = settings.str(S_DATABASE);
    std::string why;
    bool made_dir = false;
    if (!ensure_parent(db, &made_dir)) {
        std::fprintf(stderr, "jimd: cannot create the directory of %s: %s\n", db.c_str(),
                     std::strerror(errno));
        return EX_CANTCREAT_;
    }
    if (made_dir && !settings.str(S_USER).empty())
        give_directory(db, settings.str(S_USER));
    if (cl.background && !detach()) {
        std::fprintf(stderr, "jimd: cannot run in the background: %s\n", std::strerror(errno));
        return EX_OSERR_;
    }
    // From here on, in the background, standard error reaches the shell that ran jimd -d
    // until every worker serves (daemon.hh).
    if (!pidfile.empty())
        ensure_parent(pidfile); // lock_file says why when this failed
    if (!lock_file(db + ".lock", false, ("database " + db).c_str(), &why) ||
        (!pidfile.empty() && !lock_file(pidfile, true, ("pidfile " + pidfile).c_str(), &why))) {
        report_fatal(log, "master", why);
        return EX_UNAVAILABLE_;
    }
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    CommandLine cl;
    if (int status = parse_args(argc, argv, &cl); status >= 0)
        return status;
    jimd::Settings settings;
    bool any_port = false, to_syslog = false;
    if (int status = make_settings(cl, &settings, &any_port); status >= 0)
        return status;
    jim_log *log = open_log(settings, cl.background, &to_syslog);
    if (!log)
        return EX_CANTCREAT_;
    std::string pidfile = cl.background ? settings.str(jimd::S_PIDFILE) : std::string();
    int status = take_over(settings, cl, pidfile, log);
    if (status == 0) {
        if (any_port)
            settings.set_port_any();
        const std::string &log_file = settings.str(jimd::S_LOG_FILE);
        JIM_LOG(log, JIM_LOG_INFO, "master",
                "jimd %s starting (pid %d): config %s, database %s, pidfile %s, log %s",
                jim_version(), static_cast<int>(getpid()),
                cl.config_path.empty() ? "none" : jimd::absolute_path(cl.config_path).c_str(),
                jimd::absolute_path(settings.str(jimd::S_DATABASE)).c_str(),
                pidfile.empty() ? "none" : jimd::absolute_path(pidfile).c_str(),
                to_syslog          ? "syslog"
                : log_file.empty() ? "standard error"
                                   : jimd::absolute_path(log_file).c_str());
        status = jimd::run_master(settings, cl.config_path, log);
        if (!pidfile.empty())
            jimd::remove_pidfile(pidfile);
    }
    jim_log_close(log);
    return status;
}

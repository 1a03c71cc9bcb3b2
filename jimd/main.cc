// jimd: the JIM messenger daemon. Parses the command line and the config file,
// opens the log, optionally daemonizes, and hands over to the master.
#include "master.hh"
#include "settings.hh"

#include <jim/jim.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <getopt.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace {

constexpr int EX_OK_ = 0, EX_USAGE_ = 64, EX_CONFIG_ = 78, EX_CANTCREAT_ = 73, EX_OSERR_ = 71;

void usage(FILE *to)
{
    std::fprintf(to, "usage: jimd [-p PORT] [-a ADDR] [-c FILE] [-w N] [-D PATH] [-d] [-t] [-V]\n"
                     "  -p PORT     TCP port (default 7777; 0: any free port, logged)\n"
                     "  -a ADDR     address to listen on (default: every address)\n"
                     "  -c FILE     configuration file ('key value' lines; see --help-config)\n"
                     "  -w N        worker processes (default: one per CPU)\n"
                     "  -D PATH     database file (default var/jimd.db)\n"
                     "  -d          run in the background and write the pidfile\n"
                     "  -t          check the configuration and exit\n"
                     "  -V          print the version and exit\n"
                     "  --help      this text; --help-config: every setting with its default\n"
                     "Flags override the configuration file.\n");
}

// Creates the directory that will hold path, one level, if it is missing.
bool ensure_parent(const std::string &path)
{
    size_t slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0)
        return true;
    std::string dir = path.substr(0, slash);
    return mkdir(dir.c_str(), 0750) == 0 || errno == EEXIST;
}

bool daemonize(const std::string &pidfile)
{
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid > 0)
        _exit(0);
    setsid();
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        if (null > 2)
            close(null);
    }
    if (!pidfile.empty()) {
        ensure_parent(pidfile);
        FILE *f = std::fopen(pidfile.c_str(), "w");
        if (!f)
            return false;
        std::fprintf(f, "%d\n", static_cast<int>(getpid()));
        std::fclose(f);
    }
    return true;
}

} // namespace

int main(int argc, char **argv)
{
    using namespace jimd;
    Settings settings;
    std::string config_path, why;
    bool check_only = false, background = false;
    struct Flag {
        Setting setting;
        std::string value;
    };
    std::vector<Flag> flags;

    static const option longopts[] = {{"help", no_argument, nullptr, 'h'},
                                      {"help-config", no_argument, nullptr, 'H'},
                                      {"version", no_argument, nullptr, 'V'},
                                      {nullptr, 0, nullptr, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "p:a:c:w:D:dtV", longopts, nullptr)) != -1) {
        switch (c) {
        case 'p': flags.push_back({S_PORT, optarg}); break;
        case 'a': flags.push_back({S_ADDRESS, optarg}); break;
        case 'w': flags.push_back({S_WORKERS, optarg}); break;
        case 'D': flags.push_back({S_DATABASE, optarg}); break;
        case 'c': config_path = optarg; break;
        case 'd': background = true; break;
        case 't': check_only = true; break;
        case 'V': std::printf("jimd %s\n", jim_version()); return EX_OK_;
        case 'h': usage(stdout); return EX_OK_;
        case 'H': print_settings_help(); return EX_OK_;
        default: usage(stderr); return EX_USAGE_;
        }
    }
    if (optind < argc) {
        std::fprintf(stderr, "jimd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return EX_USAGE_;
    }
    for (const Flag &f : flags) {
        // Port 0 (any free port) is allowed from the command line only.
        if (f.setting == S_PORT && f.value == "0") {
            settings.set(S_PORT, "1", &why);
            settings.pin(S_PORT);
            continue;
        }
        if (!settings.set(f.setting, f.value, &why)) {
            std::fprintf(stderr, "jimd: %s\n", why.c_str());
            return EX_USAGE_;
        }
        settings.pin(f.setting);
    }
    if (!config_path.empty() && !settings.load(config_path, &why)) {
        std::fprintf(stderr, "jimd: %s\n", why.c_str());
        return EX_CONFIG_;
    }
    bool any_port = false;
    for (const Flag &f : flags)
        any_port |= f.setting == S_PORT && f.value == "0";
    if (check_only) {
        std::printf("jimd: configuration ok\n");
        return EX_OK_;
    }

    jim_log_level level = JIM_LOG_INFO;
    jim_log_level_from_name(settings.str(S_LOG_LEVEL).c_str(), &level);
    const std::string &log_file = settings.str(S_LOG_FILE);
    if (!log_file.empty())
        ensure_parent(log_file);
    jim_log *log = nullptr;
    if (jim_log_open(&log, "jimd", log_file.empty() ? nullptr : log_file.c_str(), level,
                     JIM_LOG_DAILY) != JIM_OK) {
        std::fprintf(stderr, "jimd: cannot open log file %s: %s\n", log_file.c_str(),
                     std::strerror(errno));
        return EX_CANTCREAT_;
    }
    jim_log_set_default(log);
    if (!ensure_parent(settings.str(S_DATABASE))) {
        std::fprintf(stderr, "jimd: cannot create the directory of %s: %s\n",
                     settings.str(S_DATABASE).c_str(), std::strerror(errno));
        return EX_CANTCREAT_;
    }
    if (background && !daemonize(settings.str(S_PIDFILE))) {
        std::fprintf(stderr, "jimd: cannot daemonize: %s\n", std::strerror(errno));
        return EX_OSERR_;
    }
    if (any_port)
        settings.set_port_any();
    JIM_LOG(log, JIM_LOG_INFO, "master", "jimd %s starting, database %s", jim_version(),
            settings.str(S_DATABASE).c_str());
    int status = run_master(settings, config_path, log);
    if (background && !settings.str(S_PIDFILE).empty())
        unlink(settings.str(S_PIDFILE).c_str());
    jim_log_close(log);
    return status;
}

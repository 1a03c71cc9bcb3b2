/*
 * main.c — jimc, the command-line client: options, the password (never from argv),
 * connecting (plain or TLS), registering and logging in, the store (opened only once logged
 * in; the end-to-end keys live beside it), then one of four modes: interactive (readline),
 * -r (print the chat), -w (send stdin lines), or commands read from stdin.
 */
#define _POSIX_C_SOURCE 200809L
#include "jimc.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

volatile sig_atomic_t jimc_stop;

static void on_signal(int sig)
{
    (void)sig;
    jimc_stop = 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: jimc [options] ADDRESS [PORT]\n"
               "  -u, --user NAME         account name (default: $USER)\n"
               "      --password-file F   read the password from the first line of F\n"
               "                          (else $JIM_PASSWORD, else a prompt on the terminal)\n"
               "      --register          create the account first\n"
               "  -r, --read              print incoming messages, one line each\n"
               "  -w, --write             send each line of stdin to --to (default: the\n"
               "                          general chat, where every user is)\n"
               "      --to NAME|#room     where -w sends (and the first chat otherwise)\n"
               "      --json              print messages and lists as JSON lines\n"
               "      --store KIND        sqlite (default), files or none\n"
               "      --tls               connect with TLS, checking the server's certificate\n"
               "                          against the system's store and the ADDRESS\n"
               "      --ca FILE           trust the CA in FILE (a private CA; implies --tls)\n"
               "      --insecure          TLS without checking the certificate (tests only)\n"
               "  -h, --help              this text\n"
               "  -V, --version           the version\n"
               "PORT defaults to 7777. Direct messages are end-to-end encrypted when the\n"
               "peer has published a key. Exit codes: 64 usage, 69 connection (also TLS),\n"
               "74 store, 77 account refused (login, registration, no password), 65 a\n"
               "message or command refused (also a peer's changed key). See jimc(1).\n");
}

/* A usage error: one line saying what is wrong, and where to read more. */
static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "jimc: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see jimc --help)\n");
    va_end(ap);
    return JIMC_EXIT_USAGE;
}

char *prompt_password(const char *prompt)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct termios old, quiet;
    if (tcgetattr(fd, &old) != 0) {
        close(fd);
        return NULL;
    }
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    dprintf(fd, "%s", prompt);
    tcsetattr(fd, TCSAFLUSH, &quiet);
    char buf[1100];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    tcsetattr(fd, TCSAFLUSH, &old);
    dprintf(fd, "\n");
    close(fd);
    if (n <= 0 || jimc_stop)
        return NULL;
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    char *p = strdup(buf);
    memset(buf, 0, sizeof buf);
    return p;
}

static char *read_password_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    fclose(f);
    if (n < 0) {
        free(line);
        return NULL;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return line;
}

void wipe(char *password)
{
    if (password) {
        memset(password, 0, strlen(password));
        free(password);
    }
}

/*
 * The password: from --password-file, $JIM_PASSWORD, or typed at the terminal (twice to
 * register). An empty one given by file or environment means none: presence only, for
 * servers with `auth none`. Returns 0 with *out set, or an exit code.
 */
static int get_password(char **out, const char *file, const char *user, int registering)
{
    char prompt[128];
    *out = NULL;
    if (file) {
        if (!(*out = read_password_file(file))) {
            fprintf(stderr, "jimc: cannot read the password from %s: %s\n", file,
                    strerror(errno ? errno : EINVAL));
            return JIMC_EXIT_USAGE;
        }
        return 0;
    }
    if (getenv("JIM_PASSWORD"))
        return (*out = strdup(getenv("JIM_PASSWORD"))) ? 0 : JIMC_EXIT_INTERNAL;
    snprintf(prompt, sizeof prompt, "password for %s: ", user);
    char *typed = prompt_password(prompt);
    char *again =
        typed && *typed && registering ? prompt_password("the same again, to confirm: ") : NULL;
    if (!typed || !*typed || jimc_stop) { /* no terminal, an empty line, or Ctrl-C */
        wipe(typed);
        wipe(again);
        fprintf(stderr, "jimc: no password given (type it at the prompt, or use JIM_PASSWORD "
                        "or --password-file)\n");
        return JIMC_EXIT_AUTH;
    }
    if (registering) {
        int same = again && strcmp(again, typed) == 0;
        wipe(again);
        if (!same) {
            wipe(typed);
            fprintf(stderr, "jimc: the two passwords differ; nothing was registered\n");
            return JIMC_EXIT_USAGE;
        }
    }
    *out = typed;
    return 0;
}

static int parse_port(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return errno || *end || end == s || v < 1 || v > 65535 ? -1 : (int)v;
}

/* The exit code for a failed register or login: refused (by the server, or a name or
 * password that cannot be sent at all), or the connection failed. */
static int refusal_code(int rc)
{
    return rc == JIM_ESERVER || rc == JIM_EINVAL || rc == JIM_ERANGE || rc == JIM_EFIELD ||
                   rc == JIM_EUTF8
               ? JIMC_EXIT_AUTH
               : JIMC_EXIT_CONNECT;
}

/* The seconds a 429 asks to wait (its retry_after), or 0. */
static long long retry_after(jimc *app)
{
    int64_t wait = 0;
    if (jim_client_last_code(app->client) == 429)
        jim_msg_get_int(jim_client_last_response(app->client), JIM_FIELD_RETRY_AFTER, &wait);
    return wait;
}

static int log_in(jimc *app, const char *password)
{
    int r = jim_client_login(app->client, app->user, *password ? password : NULL);
    if (r == JIM_OK)
        return 0;
    int code = jim_client_last_code(app->client);
    long long wait = retry_after(app);
    if (wait > 0) /* a log-in gets 429 for one reason: too many failed ones */
        fprintf(stderr, "jimc: login as %s refused: too many failed log-ins; try again in %lld s\n",
                app->user, wait);
    else if (code == 401 && !*password)
        fprintf(stderr, "jimc: login as %s refused: this server needs a password\n", app->user);
    else
        fprintf(stderr, "jimc: login as %s refused: %s\n", app->user,
                jim_client_last_error(app->client));
    return refusal_code(r);
}

/* The store, opened only now that the login succeeded: a failed login leaves no folder. */
static int open_store(jimc *app, const char *kind)
{
    if (strcmp(kind, "none") == 0)
        return 0;
    char dir[1024] = "", why[512] = "";
    int r = jim_store_default_dir(dir, sizeof dir, app->user, app->host, app->port);
    if (r == JIM_OK)
        r = jim_store_open(&app->store, why, sizeof why,
                           strcmp(kind, "files") == 0 ? JIM_STORE_FILES : JIM_STORE_SQLITE, dir);
    if (r != JIM_OK) {
        fprintf(stderr, "jimc: cannot open the message store %s: %s\n", dir,
                why[0] ? why : jim_strerror(r));
        return JIMC_EXIT_STORE;
    }
    jim_client_set_store(app->client, app->store); /* catches up and sends what was kept */
    return 0;
}

/* Lets the client handle what has arrived, for up to ms milliseconds. */
static int pump(jimc *app, int ms)
{
    return jim_client_run(app->client, ms) == JIM_ECLOSED ? -1 : 0;
}

static int run_reader(jimc *app)
{
    while (!jimc_stop && !out_broken())
        if (pump(app, 200) < 0)
            return events_ended(app); /* reconnecting was refused, or is off */
    return JIMC_EXIT_OK;
}

/* -w to a room the user is not in: join it once (403 "not a member"), then send again. */
static int send_line(jimc *app, const char *to, const char *line, int *delivered, int *joined)
{
    int rc = jim_client_send(app->client, NULL, delivered, to, line);
    if (rc != JIM_ESERVER || jim_client_last_code(app->client) != 403 || !to || to[0] != '#' ||
        *joined)
        return rc;
    *joined = 1;
    if (jim_client_join(app->client, to) != JIM_OK) {
        out_error(app, "cannot join %s: %s", to, jim_client_last_error(app->client));
        return rc;
    }
    out_info(app, "joined %s", to);
    return jim_client_send(app->client, NULL, delivered, to, line);
}

/* -w to a user whose key changed: nothing at all is sent (65) until it is trusted. */
static int key_changed(jimc *app, const char *to)
{
    jim_peer_key pk;
    if (!to || to[0] == '#' || jim_client_peer_key(app->client, &pk, to, 1) != JIM_OK ||
        pk.state != JIM_KEY_CHANGED)
        return 0;
    out_error(app,
              "nothing sent: the end-to-end key of %s changed (pinned %s, now %s); check it, "
              "then trust it with /trust %s in jimc",
              to, pk.pinned, pk.published, to);
    return 1;
}

static int run_writer(jimc *app, const char *to)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int joined = 0, offline = 0;
    if (key_changed(app, to))
        return JIMC_EXIT_REFUSED;
    while (!jimc_stop && (n = getline(&line, &cap, stdin)) >= 0) {
        line[strcspn(line, "\n")] = '\0';
        if (!line[0])
            continue;
        int delivered = 1;
        int rc = send_line(app, to, line, &delivered, &joined);
        if (rc == JIM_ECLOSED ||
            (rc == JIM_ETIMEDOUT && jim_client_get_state(app->client) != JIM_CLIENT_ONLINE)) {
            /* Gone, and not back within the timeout: the rest of stdin would wait as long. */
            free(line);
            events_tell_pending(app);
            if (jim_client_get_state(app->client) == JIM_CLIENT_DISCONNECTED)
                return events_ended(app);
            out_error(app, "connection lost: %s", jim_client_last_error(app->client));
            return JIMC_EXIT_CONNECT;
        }
        if (rc == JIM_EKEYCHANGED) { /* the rest would be refused the same way */
            out_error(app, "not sent: %s", jim_client_last_error(app->client));
            free(line);
            return JIMC_EXIT_REFUSED;
        }
        if (rc != JIM_OK) {
            out_error(app, "not sent: %s", jim_client_last_error(app->client));
            app->refused++;
        } else if (!delivered && !offline) {
            offline = 1; /* said once while the recipient stays offline */
            out_info(app, "stored for %s (offline)", to ? to : "the general chat");
        } else if (delivered) {
            offline = 0;
        }
    }
    free(line);
    return app->refused ? JIMC_EXIT_REFUSED : JIMC_EXIT_OK;
}

/* Runs each whole line in buf[0..*have) and keeps the rest (at the end: everything). */
static void run_lines(jimc *app, char *buf, size_t *have, int all)
{
    size_t start = 0;
    for (size_t i = 0; i < *have && !app->quit; i++) {
        if (buf[i] != '\n')
            continue;
        buf[i] = '\0';
        cmd_run(app, buf + start);
        start = i + 1;
    }
    if (all && start < *have && !app->quit) {
        buf[*have] = '\0';
        cmd_run(app, buf + start);
        start = *have;
    }
    memmove(buf, buf + start, *have - start);
    *have -= start;
}

/* Commands from stdin (a script or a pipe), read as they come while the connection is
 * served, so a script that waits keeps its session (and sees the server go and come). */
static int run_script(jimc *app)
{
    static char buf[65536];
    size_t have = 0;
    int eof = 0;
    while (!eof && !app->quit && !jimc_stop && !out_broken()) {
        int ready = loop_once(app, STDIN_FILENO);
        if (ready < 0)
            break;
        if (ready > 0) {
            ssize_t n = read(STDIN_FILENO, buf + have, sizeof buf - 1 - have);
            if (n < 0 && errno == EINTR)
                continue;
            eof = n <= 0;
            have += n > 0 ? (size_t)n : 0;
            run_lines(app, buf, &have, eof || have == sizeof buf - 1);
        }
        if (jim_client_get_state(app->client) == JIM_CLIENT_DISCONNECTED)
            break;
    }
    /* Wait for the answers to what was sent (or for the connection to come back), and
     * print what came meanwhile. */
    for (int i = 0; i < 100 && events_pending(app) > 0 && !jimc_stop; i++)
        if (pump(app, 50) < 0)
            break;
    pump(app, 100);
    events_tell_pending(app);
    if (jim_client_get_state(app->client) == JIM_CLIENT_DISCONNECTED)
        return events_ended(app);
    if (events_pending(app) > 0)
        return JIMC_EXIT_CONNECT;
    return app->refused ? JIMC_EXIT_REFUSED : JIMC_EXIT_OK;
}

/* Contacts and rooms for tab completion. */
static void load_names(jimc *app)
{
    jim_list *l = NULL;
    if (jim_client_get_contacts(app->client, &l) == JIM_OK)
        for (size_t i = 0; i < jim_list_count(l); i++)
            names_add(app, jim_msg_get_str(jim_list_get(l, i), JIM_FIELD_USER_ID));
    jim_list_free(l);
    if (jim_client_get_rooms(app->client, &l) == JIM_OK)
        for (size_t i = 0; i < jim_list_count(l); i++)
            names_add(app, jim_msg_get_str(jim_list_get(l, i), JIM_FIELD_ROOM));
    jim_list_free(l);
}

/* The options that decide how jimc starts; the others go straight into the app. */
struct options {
    const char *password_file, *to, *store_kind, *ca;
    int do_register, read_mode, write_mode, tls;
};

/* Reads the command line into *o and *app: -1 to go on, else jimc's exit code (after
 * --help, --version, or a one-line usage error). */
static int parse_options(int argc, char **argv, struct options *o, jimc *app)
{
    static const struct option longopts[] = {
        {"user", required_argument, NULL, 'u'}, {"password-file", required_argument, NULL, 'P'},
        {"register", no_argument, NULL, 'R'},   {"read", no_argument, NULL, 'r'},
        {"write", no_argument, NULL, 'w'},      {"to", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},       {"store", required_argument, NULL, 's'},
        {"tls", no_argument, NULL, 'T'},        {"ca", required_argument, NULL, 'C'},
        {"insecure", no_argument, NULL, 'I'},   {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},    {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->store_kind = "sqlite";
    app->user = getenv("USER");
    opterr = 0; /* one line of our own instead of getopt's */
    int opt;
    while ((opt = getopt_long(argc, argv, ":u:rwhV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'u': app->user = optarg; break;
        case 'P': o->password_file = optarg; break;
        case 'R': o->do_register = 1; break;
        case 'r': o->read_mode = 1; break;
        case 'w': o->write_mode = 1; break;
        case 't': o->to = optarg; break;
        case 'j': app->json = 1; break;
        case 's': o->store_kind = optarg; break;
        case 'T': o->tls = 1; break;
        case 'C': o->ca = optarg; break;
        case 'I': app->insecure = 1; break;
        case 'h': usage(stdout); return JIMC_EXIT_OK;
        case 'V': printf("jimc %s (libjim %s)\n", JIM_VERSION_STRING, jim_version()); return 0;
        case ':': return usage_error("%s needs a value", argv[optind - 1]);
        default: return usage_error("unknown option %s", argv[optind - 1]);
        }
    }
    const char *why = NULL;
    if (optind >= argc || argc - optind > 2)
        why = "give the server's address, and optionally its port";
    else if (o->read_mode && o->write_mode)
        why = "-r and -w do not go together";
    else if (!app->user || !*app->user)
        why = "who are you? give -u NAME";
    else if (strcmp(o->store_kind, "sqlite") && strcmp(o->store_kind, "files") &&
             strcmp(o->store_kind, "none"))
        why = "--store is sqlite, files or none";
    else if (o->ca && app->insecure)
        why = "--ca and --insecure do not go together: --insecure checks no certificate";
    app->host = optind < argc ? argv[optind] : NULL;
    app->port = optind + 1 < argc ? parse_port(argv[optind + 1]) : 7777;
    if (!why && app->port < 0)
        why = "the port is a number from 1 to 65535";
    if (why)
        return usage_error("%s", why);
    if (o->to && strlen(o->to) < sizeof app->current)
        snprintf(app->current, sizeof app->current, "%s", o->to);
    app->mode = o->read_mode ? JIMC_READ : o->write_mode ? JIMC_WRITE : JIMC_COMMANDS;
    app->tty = app->mode == JIMC_COMMANDS && isatty(STDIN_FILENO);
    app->color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && !app->json;
    return -1;
}

/* Signals end the loop (no SA_RESTART: poll() and read() return EINTR), a reader that
 * went away is an error return rather than SIGPIPE, and output goes out line by line. */
static void set_up_process(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
}

/* Sets up app->client's callbacks, TLS as asked and the account's key directory, and
 * connects: 0, or the exit code after a one-line message. */
static int connect_client(jimc *app, const struct options *o)
{
    jim_client_set_outgoing_callback(app->client, events_on_outgoing, app);
    jim_client_set_e2e_callback(app->client, events_on_e2e, app);
    if ((o->tls || o->ca || app->insecure) &&
        jim_client_set_tls(app->client, app->insecure ? JIM_TLS_INSECURE : JIM_TLS_VERIFY, o->ca) !=
            JIM_OK) {
        fprintf(stderr, "jimc: %s\n", jim_client_last_error(app->client));
        return JIMC_EXIT_USAGE; /* a CA file that cannot be read */
    }
    if (app->insecure)
        events_warn_insecure(app);
    /* The account's end-to-end keys live beside its store, from the first login on (the
     * directory is made only once the login succeeded) — with --store none too: a key
     * made afresh at every run would replace the one peers have pinned, and what they
     * sealed for this account could no longer be read. */
    char dir[1024];
    if (jim_store_default_dir(dir, sizeof dir, app->user, app->host, app->port) == JIM_OK)
        jim_client_set_key_dir(app->client, dir);
    if (jim_client_connect(app->client, app->host, app->port) != JIM_OK) {
        fprintf(stderr, "jimc: cannot connect to %s port %d: %s\n", app->host, app->port,
                jim_client_last_error(app->client));
        return JIMC_EXIT_CONNECT;
    }
    return 0;
}

/* Creates the account first if asked (one that exists already is logged in to), logs in
 * and opens the store: 0, or the exit code after a one-line message. */
static int log_in_and_open_store(jimc *app, const struct options *o, const char *password)
{
    if (o->do_register) {
        int r = jim_client_register(app->client, app->user, password, NULL);
        if (r == JIM_OK) {
            out_info(app, "account %s created", app->user);
        } else if (r == JIM_ESERVER && jim_client_last_code(app->client) == 409) {
            out_info(app, "account %s exists already; logging in", app->user);
        } else {
            long long wait = retry_after(app);
            char later[48] = "";
            if (wait > 0)
                snprintf(later, sizeof later, "; try again in %lld s", wait);
            fprintf(stderr, "jimc: registration of %s refused: %s%s\n", app->user,
                    jim_client_last_error(app->client), later);
            return refusal_code(r);
        }
    }
    int rc = log_in(app, password);
    if (rc != 0)
        return rc;
    if ((rc = open_store(app, o->store_kind)) != 0)
        jim_client_quit(app->client);
    return rc;
}

/* Runs the mode the options chose, to its end; then leaves the server. The exit code. */
static int run_mode(jimc *app, const struct options *o)
{
    int rc;
    if (app->tty) {
        load_names(app);
        out_info(app, "logged in as %s on %s port %d; /help lists the commands", app->user,
                 app->host, app->port);
        rc = run_interactive(app);
        events_tell_pending(app);
    } else if (o->read_mode) {
        rc = run_reader(app);
    } else if (o->write_mode) {
        rc = run_writer(app, o->to);
    } else {
        rc = run_script(app);
    }
    if (jim_client_get_state(app->client) != JIM_CLIENT_DISCONNECTED)
        jim_client_quit(app->client);
    return rc;
}

/* Frees what main made, and wipes the password. */
static void tear_down(jimc *app, char *password)
{
    jim_client_free(app->client);
    jim_store_close(app->store);
    wipe(password);
    events_free(app);
    for (size_t i = 0; i < app->n_names; i++)
        free(app->names[i]);
    free(app->names);
}

int main(int argc, char **argv)
{
    jimc app;
    memset(&app, 0, sizeof app);
    struct options o;
    int rc = parse_options(argc, argv, &o, &app);
    if (rc >= 0)
        return rc;
    set_up_process();
    char *password = NULL;
    if ((rc = get_password(&password, o.password_file, app.user, o.do_register)) != 0)
        return rc;
    if (jim_client_new(&app.client, &events_callbacks, &app) != JIM_OK) {
        wipe(password);
        fprintf(stderr, "jimc: out of memory\n");
        return JIMC_EXIT_INTERNAL;
    }
    if ((rc = connect_client(&app, &o)) == 0 &&
        (rc = log_in_and_open_store(&app, &o, password)) == 0)
        rc = run_mode(&app, &o);
    tear_down(&app, password);
    if (out_broken())
        return JIMC_EXIT_OK; /* the reader went away: that is how pipes end */
    return rc;
}

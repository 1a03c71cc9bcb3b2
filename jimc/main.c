/*
 * main.c — jimc, the command-line client: options, the password (never from argv),
 * connecting and logging in, then one of four modes: interactive (readline), -r (print
 * the chat), -w (send stdin lines), or commands read from stdin.
 */
#define _POSIX_C_SOURCE 200809L
#include "jimc.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
               "  -w, --write             send each line of stdin to --to\n"
               "      --to NAME|#room     where -w sends (and the first chat otherwise)\n"
               "      --json              print messages as JSON lines\n"
               "      --store KIND        sqlite (default), files or none\n"
               "  -h, --help              this text\n"
               "  -V, --version           the version\n"
               "PORT defaults to 7777. Exit codes: 64 usage, 69 connection, 74 store,\n"
               "77 login refused, 65 a message or command refused. See jimc(1).\n");
}

/* Reads one line without echo from the terminal; NULL when there is none. */
static char *prompt_password(const char *user)
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
    dprintf(fd, "password for %s: ", user);
    tcsetattr(fd, TCSAFLUSH, &quiet);
    char buf[1100];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    tcsetattr(fd, TCSAFLUSH, &old);
    dprintf(fd, "\n");
    close(fd);
    if (n <= 0)
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

/* Callbacks: how the client talks to the user. */
static int reader_mode;

static void cb_message(void *ud, const jim_msg *m, int outgoing)
{
    out_message(ud, m, outgoing);
}

static void cb_presence(void *ud, const char *user, const char *status)
{
    if (!reader_mode)
        out_info(ud, "%s is %s", user, status);
}

static void cb_error(void *ud, int code, const char *text)
{
    (void)code;
    out_error(ud, "%s", text);
}

static void cb_state(void *ud, jim_client_state st)
{
    jimc *app = ud;
    if (st == JIM_CLIENT_CONNECTING && jim_client_account(app->client) && !reader_mode)
        out_info(app, "connection lost, reconnecting...");
}

static int parse_port(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return errno || *end || end == s || v < 1 || v > 65535 ? -1 : (int)v;
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
            return JIMC_EXIT_OK; /* the server ended the stream */
    return JIMC_EXIT_OK;
}

static int run_writer(jimc *app, const char *to)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while (!jimc_stop && (n = getline(&line, &cap, stdin)) >= 0) {
        line[strcspn(line, "\n")] = '\0';
        if (!line[0])
            continue;
        int rc = jim_client_send(app->client, to, line, NULL, NULL);
        if (rc == JIM_ECLOSED ||
            (rc == JIM_ETIMEDOUT && jim_client_get_state(app->client) != JIM_CLIENT_ONLINE)) {
            /* Gone, and not back within the timeout: the rest of stdin would wait as long. */
            out_error(app, "connection lost: %s", jim_client_last_error(app->client));
            free(line);
            return JIMC_EXIT_CONNECT;
        }
        if (rc != JIM_OK) {
            out_error(app, "not sent: %s", jim_client_last_error(app->client));
            app->refused++;
        }
    }
    free(line);
    return app->refused ? JIMC_EXIT_REFUSED : JIMC_EXIT_OK;
}

static int run_script(jimc *app)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while (!app->quit && !jimc_stop && !out_broken() && (n = getline(&line, &cap, stdin)) >= 0) {
        line[strcspn(line, "\n")] = '\0';
        cmd_run(app, line);
        if (pump(app, 0) < 0)
            break;
    }
    free(line);
    /* Wait for the answers to what was sent, and print what came meanwhile. */
    for (int i = 0; i < 100 && app->async_pending > 0 && !jimc_stop; i++)
        if (pump(app, 50) < 0)
            break;
    pump(app, 100);
    if (jim_client_get_state(app->client) == JIM_CLIENT_DISCONNECTED) {
        out_error(app, "connection lost: %s", jim_client_last_error(app->client));
        return JIMC_EXIT_CONNECT;
    }
    return app->refused ? JIMC_EXIT_REFUSED : JIMC_EXIT_OK;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"user", required_argument, NULL, 'u'},
                                             {"password-file", required_argument, NULL, 'P'},
                                             {"register", no_argument, NULL, 'R'},
                                             {"read", no_argument, NULL, 'r'},
                                             {"write", no_argument, NULL, 'w'},
                                             {"to", required_argument, NULL, 't'},
                                             {"json", no_argument, NULL, 'j'},
                                             {"store", required_argument, NULL, 's'},
                                             {"help", no_argument, NULL, 'h'},
                                             {"version", no_argument, NULL, 'V'},
                                             {NULL, 0, NULL, 0}};
    jimc app;
    memset(&app, 0, sizeof app);
    const char *password_file = NULL, *to = NULL, *store_kind = "sqlite";
    int do_register = 0, read_mode = 0, write_mode = 0, opt;
    app.user = getenv("USER");
    while ((opt = getopt_long(argc, argv, "u:rwhV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'u': app.user = optarg; break;
        case 'P': password_file = optarg; break;
        case 'R': do_register = 1; break;
        case 'r': read_mode = 1; break;
        case 'w': write_mode = 1; break;
        case 't': to = optarg; break;
        case 'j': app.json = 1; break;
        case 's': store_kind = optarg; break;
        case 'h': usage(stdout); return JIMC_EXIT_OK;
        case 'V': printf("jimc %s (libjim %s)\n", JIM_VERSION_STRING, jim_version()); return 0;
        default: usage(stderr); return JIMC_EXIT_USAGE;
        }
    }
    const char *why = NULL;
    if (optind >= argc || argc - optind > 2)
        why = "give the server's address, and optionally its port";
    else if (read_mode && write_mode)
        why = "-r and -w do not go together";
    else if (write_mode && !to)
        why = "-w needs --to NAME or --to '#room'";
    else if (!app.user || !*app.user)
        why = "who are you? give -u NAME";
    else if (strcmp(store_kind, "sqlite") && strcmp(store_kind, "files") &&
             strcmp(store_kind, "none"))
        why = "--store is sqlite, files or none";
    app.host = optind < argc ? argv[optind] : NULL;
    app.port = optind + 1 < argc ? parse_port(argv[optind + 1]) : 7777;
    if (!why && app.port < 0)
        why = "the port is a number from 1 to 65535";
    if (why) {
        fprintf(stderr, "jimc: %s\n", why);
        usage(stderr);
        return JIMC_EXIT_USAGE;
    }
    if (to && strlen(to) < sizeof app.current)
        snprintf(app.current, sizeof app.current, "%s", to);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() and read() return EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    int interactive = !read_mode && !write_mode && isatty(STDIN_FILENO);
    app.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && !app.json;
    reader_mode = read_mode;

    char *password = NULL;
    if (password_file) {
        password = read_password_file(password_file);
        if (!password) {
            fprintf(stderr, "jimc: cannot read the password from %s: %s\n", password_file,
                    strerror(errno ? errno : EINVAL));
            return JIMC_EXIT_USAGE;
        }
    } else if (getenv("JIM_PASSWORD")) {
        password = strdup(getenv("JIM_PASSWORD"));
    } else {
        password = prompt_password(app.user); /* NULL: log in without one (auth none) */
    }

    jim_client_callbacks cb = {cb_message, cb_presence, cb_error, cb_state};
    if (jim_client_new(&app.client, &cb, &app) != JIM_OK) {
        fprintf(stderr, "jimc: out of memory\n");
        return JIMC_EXIT_INTERNAL;
    }
    jim_client_set_reconnect(app.client, !read_mode, 0);
    int rc = JIMC_EXIT_OK;
    if (strcmp(store_kind, "none") != 0) {
        char dir[1024];
        int r = jim_store_default_dir(dir, sizeof dir, app.user, app.host, app.port);
        if (r == JIM_OK)
            r = jim_store_open(
                &app.store, strcmp(store_kind, "files") == 0 ? JIM_STORE_FILES : JIM_STORE_SQLITE,
                dir);
        if (r != JIM_OK) {
            fprintf(stderr, "jimc: cannot open the message store %s: %s\n", dir,
                    r == JIM_EIO ? strerror(errno) : jim_strerror(r));
            rc = JIMC_EXIT_STORE;
            goto out;
        }
        jim_client_set_store(app.client, app.store);
    }
    if (jim_client_connect(app.client, app.host, app.port) != JIM_OK) {
        fprintf(stderr, "jimc: cannot connect to %s port %d: %s\n", app.host, app.port,
                jim_client_last_error(app.client));
        rc = JIMC_EXIT_CONNECT;
        goto out;
    }
    if (do_register) {
        int r = jim_client_register(app.client, app.user, password ? password : "", NULL);
        if (r == JIM_ESERVER && jim_client_last_code(app.client) == 409) {
            fprintf(stderr, "jimc: account %s exists already; logging in\n", app.user);
        } else if (r != JIM_OK) {
            fprintf(stderr, "jimc: registration refused: %s\n", jim_client_last_error(app.client));
            rc = r == JIM_ESERVER ? JIMC_EXIT_AUTH : JIMC_EXIT_CONNECT;
            goto out;
        }
    }
    int r = jim_client_login(app.client, app.user, password);
    if (password)
        memset(password, 0, strlen(password));
    if (r != JIM_OK) {
        fprintf(stderr, "jimc: login as %s refused: %s\n", app.user,
                jim_client_last_error(app.client));
        rc = r == JIM_ESERVER ? JIMC_EXIT_AUTH : JIMC_EXIT_CONNECT;
        goto out;
    }
    if (interactive) {
        jim_list *l = NULL;
        if (jim_client_get_contacts(app.client, &l) == JIM_OK)
            for (size_t i = 0; i < jim_list_count(l); i++)
                names_add(&app, jim_msg_get_str(jim_list_get(l, i), JIM_FIELD_USER_ID));
        jim_list_free(l);
        if (jim_client_get_rooms(app.client, &l) == JIM_OK)
            for (size_t i = 0; i < jim_list_count(l); i++)
                names_add(&app, jim_msg_get_str(jim_list_get(l, i), JIM_FIELD_ROOM));
        jim_list_free(l);
        out_info(&app, "logged in as %s on %s port %d; /help lists the commands", app.user,
                 app.host, app.port);
        rc = run_interactive(&app);
    } else if (read_mode) {
        rc = run_reader(&app);
    } else if (write_mode) {
        rc = run_writer(&app, to);
    } else {
        rc = run_script(&app);
    }
    if (jim_client_get_state(app.client) != JIM_CLIENT_DISCONNECTED)
        jim_client_quit(app.client);
out:
    jim_client_free(app.client);
    jim_store_close(app.store);
    free(password);
    for (size_t i = 0; i < app.n_names; i++)
        free(app.names[i]);
    free(app.names);
    if (out_broken())
        return JIMC_EXIT_OK; /* the reader went away: that is how pipes end */
    return rc;
}

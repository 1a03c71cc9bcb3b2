/*
 * main.c — jimctl, the administration tool of jimd: parses the command line, runs one
 * command over jimd's local control socket (doc/protocol.md §8) and exits with a
 * sysexits code. Commands are one table.
 */
#define _POSIX_C_SOURCE 200809L
#include "jimctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define DEFAULT_SOCKET "var/jimd.ctl"

/* What a command works with: the link, the output mode, its arguments. */
typedef struct ctl_cmd_ctx {
    ctl_link link;
    ctl_out out;
    int argc;
    char **argv;
} ctl_cmd_ctx;

typedef int (*cmd_fn)(ctl_cmd_ctx *c);

/* Prints one line about a bad command line; the usage exit code. */
__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "jimctl: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see jimctl --help)\n");
    va_end(ap);
    return JIMCTL_EXIT_USAGE;
}

/* A request for action, to fill in; NULL when out of memory. */
static jim_msg *request(jim_action action)
{
    static jim_msg *m;
    if (!m && jim_msg_new(&m) != JIM_OK)
        return NULL;
    jim_msg_init_action(m, action);
    return m;
}

/* Sends m and waits for its response: 0 (printed with --json), or an exit code. */
static int roundtrip(ctl_cmd_ctx *c, jim_msg *m, const char *done)
{
    int rc = m ? link_send(&c->link, m) : JIMCTL_EXIT_INTERNAL;
    if (!rc)
        rc = link_response(&c->link);
    if (rc)
        return rc;
    if (c->out.json)
        print_json(c->link.msg);
    else if (c->out.tty && done)
        printf("%s\n", done);
    return 0;
}

/* Reads one line without echo from the terminal; NULL if none or empty. */
static char *prompt_password(const char *prompt)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    struct termios old, quiet;
    if (fd < 0 || tcgetattr(fd, &old) != 0) {
        if (fd >= 0)
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
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    char *p = buf[0] ? strdup(buf) : NULL;
    memset(buf, 0, sizeof buf);
    return p;
}

static void wipe(char *password)
{
    if (password) {
        memset(password, 0, strlen(password));
        free(password);
    }
}

/* The new password of name: typed twice at a terminal, else the first line of stdin.
 * 0 with *out set, or an exit code. */
static int new_password(const char *name, char **out)
{
    *out = NULL;
    if (!isatty(STDIN_FILENO)) {
        size_t cap = 0;
        if (getline(out, &cap, stdin) < 0 || ((*out)[strcspn(*out, "\r\n")] = '\0', !**out)) {
            wipe(*out);
            *out = NULL;
            fprintf(stderr, "jimctl: no password on standard input\n");
            return JIMCTL_EXIT_USAGE;
        }
        return 0;
    }
    char prompt[96];
    snprintf(prompt, sizeof prompt, "new password for %s: ", name);
    char *typed = prompt_password(prompt);
    char *again = typed ? prompt_password("the same again, to confirm: ") : NULL;
    int same = typed && again && strcmp(typed, again) == 0;
    wipe(again);
    if (!same) {
        wipe(typed);
        fprintf(stderr, "jimctl: %s\n", typed ? "the two passwords differ" : "no password typed");
        return JIMCTL_EXIT_USAGE;
    }
    *out = typed;
    return 0;
}

static int cmd_users(ctl_cmd_ctx *c)
{
    char after[64] = "";
    int64_t quantity = 0;
    print_user_header(&c->out);
    do { /* pages of at most 500, each after the last name of the one before */
        jim_msg *m = request(JIM_ACTION_ADMIN_USERS);
        if (m && c->argc > 0)
            jim_msg_set_str(m, JIM_FIELD_QUERY, c->argv[0]);
        if (m && after[0])
            jim_msg_set_str(m, JIM_FIELD_AFTER, after);
        int rc = m ? link_send(&c->link, m) : JIMCTL_EXIT_INTERNAL;
        if (rc || (rc = link_response(&c->link)))
            return rc;
        quantity = 0;
        jim_msg_get_int(c->link.msg, JIM_FIELD_QUANTITY, &quantity);
        for (int64_t i = 0; i < quantity; i++) {
            if ((rc = link_next(&c->link)))
                return rc;
            print_user(&c->out, c->link.msg);
            const char *name = jim_msg_get_str(c->link.msg, JIM_FIELD_USER_ID);
            snprintf(after, sizeof after, "%s", name ? name : "");
        }
    } while (quantity >= 500);
    return 0;
}

static int cmd_stats(ctl_cmd_ctx *c)
{
    jim_msg *m = request(JIM_ACTION_ADMIN_STATS);
    int rc = m ? link_send(&c->link, m) : JIMCTL_EXIT_INTERNAL;
    if (rc || (rc = link_response(&c->link)))
        return rc;
    print_stats(&c->out, c->link.msg);
    return 0;
}

/* kick, ban and unban: the account and, for the first two, an optional reason. */
static int sanction(ctl_cmd_ctx *c, jim_action action, const char *done)
{
    jim_msg *m = request(action);
    if (m && jim_msg_set_str(m, JIM_FIELD_USER_ID, c->argv[0]) != JIM_OK)
        return usage_error("bad account name '%s'", c->argv[0]);
    if (m && c->argc > 1)
        jim_msg_set_str(m, JIM_FIELD_REASON, c->argv[1]);
    return roundtrip(c, m, done);
}

static int cmd_kick(ctl_cmd_ctx *c)
{
    return sanction(c, JIM_ACTION_ADMIN_KICK, "kicked");
}

static int cmd_ban(ctl_cmd_ctx *c)
{
    return sanction(c, JIM_ACTION_ADMIN_BAN, "banned");
}

static int cmd_unban(ctl_cmd_ctx *c)
{
    return sanction(c, JIM_ACTION_ADMIN_UNBAN, "unbanned");
}

static int cmd_set(ctl_cmd_ctx *c)
{
    jim_msg *m = request(JIM_ACTION_ADMIN_SET);
    if (m && (jim_msg_set_str(m, JIM_FIELD_SETTING, c->argv[0]) != JIM_OK ||
              jim_msg_set_str(m, JIM_FIELD_VALUE, c->argv[1]) != JIM_OK))
        return usage_error("bad setting or value for '%s'", c->argv[0]);
    return roundtrip(c, m, "set");
}

static int cmd_role(ctl_cmd_ctx *c)
{
    if (strcmp(c->argv[1], "admin") != 0 && strcmp(c->argv[1], "user") != 0)
        return usage_error("role '%s': admin or user", c->argv[1]);
    jim_msg *m = request(JIM_ACTION_ADMIN_ROLE);
    if (m && jim_msg_set_str(m, JIM_FIELD_USER_ID, c->argv[0]) != JIM_OK)
        return usage_error("bad account name '%s'", c->argv[0]);
    if (m)
        jim_msg_set_str(m, JIM_FIELD_ROLE, c->argv[1]);
    return roundtrip(c, m, "role set");
}

/* adduser NAME [--admin] and passwd NAME: a password, then the request. */
static int with_password(ctl_cmd_ctx *c, jim_msg *m, jim_field field, const char *done)
{
    char *password = NULL;
    int rc = new_password(c->argv[0], &password);
    if (rc)
        return rc;
    rc = m && jim_msg_set_str(m, field, password) != JIM_OK ? JIMCTL_EXIT_USAGE : 0;
    wipe(password);
    if (rc)
        return usage_error("the password is not valid UTF-8");
    return roundtrip(c, m, done);
}

static int cmd_adduser(ctl_cmd_ctx *c)
{
    int admin = c->argc > 1 && strcmp(c->argv[1], "--admin") == 0;
    if (c->argc > 1 && !admin)
        return usage_error("adduser: unknown option '%s'", c->argv[1]);
    jim_msg *m = request(JIM_ACTION_ADMIN_ADD_USER);
    if (m && jim_msg_set_str(m, JIM_FIELD_ACCOUNT_NAME, c->argv[0]) != JIM_OK)
        return usage_error("bad account name '%s'", c->argv[0]);
    if (m)
        jim_msg_set_str(m, JIM_FIELD_ROLE, admin ? "admin" : "user");
    return with_password(c, m, JIM_FIELD_PASSWORD, "account created");
}

static int cmd_passwd(ctl_cmd_ctx *c)
{
    jim_msg *m = request(JIM_ACTION_ADMIN_PASSWORD);
    if (m && jim_msg_set_str(m, JIM_FIELD_USER_ID, c->argv[0]) != JIM_OK)
        return usage_error("bad account name '%s'", c->argv[0]);
    return with_password(c, m, JIM_FIELD_NEW_PASSWORD, "password set");
}

static const struct {
    const char *name;
    int min_args, max_args;
    cmd_fn fn;
    const char *usage;
} kCommands[] = {
    {"users", 0, 1, cmd_users, "users [PREFIX]       accounts, with their statistics"},
    {"stats", 0, 0, cmd_stats, "stats                the server's counters"},
    {"kick", 1, 2, cmd_kick, "kick NAME [REASON]   close the account's sessions"},
    {"ban", 1, 2, cmd_ban, "ban NAME [REASON]    refuse its log-ins, close its sessions"},
    {"unban", 1, 1, cmd_unban, "unban NAME           lift a ban"},
    {"set", 2, 2, cmd_set, "set KEY VALUE        change a runtime setting"},
    {"adduser", 1, 2, cmd_adduser, "adduser NAME [--admin]  make an account (password: stdin)"},
    {"passwd", 1, 1, cmd_passwd, "passwd NAME          set a password (from stdin or typed)"},
    {"role", 2, 2, cmd_role, "role NAME admin|user make an account admin or user"},
};
#define NCOMMANDS (sizeof kCommands / sizeof kCommands[0])

static void help(void)
{
    printf("usage: jimctl [-s SOCKET] [--json] COMMAND [ARGS]\n"
           "Administers a running jimd over its control socket (default %s).\n\n",
           DEFAULT_SOCKET);
    for (size_t i = 0; i < NCOMMANDS; i++)
        printf("  %s\n", kCommands[i].usage);
    printf("\nExit: 0 done, 64 usage, 65 refused by jimd, 69 no jimd at the socket,\n"
           "77 not allowed to use the socket. See jimctl(8).\n");
}

/* Parses the options; the index of the command, or -1 with *rc set. */
static int parse_options(int argc, char **argv, const char **socket, ctl_out *out, int *rc)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            out->json = 1;
        } else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) {
            *socket = argv[++i];
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            help();
            *rc = 0;
            return -1;
        } else {
            *rc = usage_error("unknown option '%s'", argv[i]);
            return -1;
        }
    }
    if (i >= argc) {
        *rc = usage_error("no command given");
        return -1;
    }
    return i;
}

int main(int argc, char **argv)
{
    const char *socket_path = getenv("JIMCTL_SOCKET") ? getenv("JIMCTL_SOCKET") : DEFAULT_SOCKET;
    ctl_cmd_ctx c;
    memset(&c, 0, sizeof c);
    c.out.tty = isatty(STDOUT_FILENO);
    int rc = 0, at = parse_options(argc, argv, &socket_path, &c.out, &rc);
    if (at < 0)
        return rc;
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(argv[at], kCommands[i].name) != 0)
            continue;
        c.argc = argc - at - 1;
        c.argv = argv + at + 1;
        if (c.argc < kCommands[i].min_args || c.argc > kCommands[i].max_args)
            return usage_error("usage: jimctl %s", kCommands[i].usage);
        if ((rc = link_open(&c.link, socket_path)) == 0)
            rc = kCommands[i].fn(&c);
        link_close(&c.link);
        return rc;
    }
    return usage_error("unknown command '%s'", argv[at]);
}

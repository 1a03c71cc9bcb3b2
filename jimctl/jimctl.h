/*
 * jimctl.h — what the parts of jimctl share: the link to jimd's control socket, the
 * output, the exit codes. jimctl is built only on libjim's public API (jim/jim.h).
 */
#ifndef JIMCTL_H
#define JIMCTL_H

#include <jim/jim.h>

/* Exit codes (sysexits.h values, as jimc's; documented in jimctl.8). */
enum {
    JIMCTL_EXIT_OK = 0,
    JIMCTL_EXIT_USAGE = 64,   /* bad command line, or the two passwords typed differ */
    JIMCTL_EXIT_REFUSED = 65, /* jimd refused the request (no such user, bad value) */
    JIMCTL_EXIT_CONNECT = 69, /* no jimd at the socket, or it went away */
    JIMCTL_EXIT_INTERNAL = 70,
    JIMCTL_EXIT_PERM = 77 /* not allowed to use the socket (root or jimd's user only) */
};

/* A connection to the control socket: one request at a time. */
typedef struct ctl_link {
    int fd;
    jim_framer *framer;
    jim_msg *msg; /* the object last received */
    const char *path;
} ctl_link;

/* Connects to the control socket at path; 0, or an exit code with the reason printed. */
int link_open(ctl_link *l, const char *path);
void link_close(ctl_link *l);
/* Sends m (encoded by libjim); 0, or an exit code with the reason printed. */
int link_send(ctl_link *l, jim_msg *m);
/* Reads the next object into l->msg; 0, or an exit code with the reason printed. */
int link_next(ctl_link *l);
/* Reads up to the response (l->msg); 0 when it is below 400, else the exit code, with
 * the server's reason printed. */
int link_response(ctl_link *l);

/* Output: JSON lines (--json), an aligned table (a terminal) or tab-separated lines. */
typedef struct ctl_out {
    int json;
    int tty;
} ctl_out;

/* Prints m as one JSON line. */
void print_json(jim_msg *m);
/* The header of the accounts table (a terminal only), and one account. */
void print_user_header(const ctl_out *o);
void print_user(const ctl_out *o, jim_msg *m);
/* The counters of admin_stats, one per line. */
void print_stats(const ctl_out *o, jim_msg *m);

#endif

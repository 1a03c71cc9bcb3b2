/*
 * link.c — jimctl's connection to jimd's control socket: a Unix stream socket carrying JIM
 * objects one per line, written by libjim's codec and read by its framer.
 */
#define _POSIX_C_SOURCE 200809L
#include "jimctl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

/* How long jimd may take to answer (a password hash, a busy database). */
#define ANSWER_TIMEOUT_S 30

int link_open(ctl_link *l, const char *path)
{
    struct sockaddr_un a;
    memset(l, 0, sizeof *l);
    l->fd = -1;
    l->path = path;
    if (strlen(path) >= sizeof a.sun_path) {
        fprintf(stderr, "jimctl: %s: path too long for a socket\n", path);
        return JIMCTL_EXIT_USAGE;
    }
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    memcpy(a.sun_path, path, strlen(path) + 1);
    if (jim_framer_new(&l->framer, NULL) != JIM_OK || jim_msg_new(&l->msg) != JIM_OK)
        return JIMCTL_EXIT_INTERNAL;
    l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l->fd >= 0 && connect(l->fd, (struct sockaddr *)&a, sizeof a) == 0) {
        struct timeval tv = {ANSWER_TIMEOUT_S, 0};
        setsockopt(l->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        return 0;
    }
    int err = errno;
    fprintf(stderr, "jimctl: cannot connect to %s: %s%s\n", path, strerror(err),
            err == EACCES || err == EPERM          ? " (run as root or as jimd's user)"
            : err == ENOENT || err == ECONNREFUSED ? " (is jimd running? -s names another socket)"
                                                   : "");
    return err == EACCES || err == EPERM ? JIMCTL_EXIT_PERM : JIMCTL_EXIT_CONNECT;
}

void link_close(ctl_link *l)
{
    if (l->fd >= 0)
        close(l->fd);
    jim_framer_free(l->framer);
    jim_msg_free(l->msg);
    l->fd = -1;
    l->framer = NULL;
    l->msg = NULL;
}

int link_send(ctl_link *l, jim_msg *m)
{
    const char *json;
    size_t len;
    if (jim_msg_encode(m, &json, &len) != JIM_OK)
        return JIMCTL_EXIT_INTERNAL;
    while (len > 0) {
        ssize_t n = send(l->fd, json, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "jimctl: %s: %s\n", l->path, strerror(errno));
            return JIMCTL_EXIT_CONNECT;
        }
        json += n;
        len -= (size_t)n;
    }
    return 0;
}

int link_next(ctl_link *l)
{
    for (;;) {
        int rc = jim_framer_next_msg(l->framer, l->msg);
        if (rc == JIM_OK)
            return 0;
        if (rc != JIM_EAGAIN) {
            fprintf(stderr, "jimctl: bad answer from jimd: %s\n", jim_framer_errmsg(l->framer));
            return JIMCTL_EXIT_CONNECT;
        }
        char buf[16384];
        ssize_t n = recv(l->fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "jimctl: %s: %s\n", l->path,
                    n == 0                                    ? "jimd closed the connection"
                    : errno == EAGAIN || errno == EWOULDBLOCK ? "no answer from jimd"
                                                              : strerror(errno));
            return JIMCTL_EXIT_CONNECT;
        }
        jim_framer_feed(l->framer, buf, (size_t)n);
    }
}

int link_response(ctl_link *l)
{
    int rc;
    while ((rc = link_next(l)) == 0 && jim_msg_response(l->msg) == 0)
        ; /* not a response: nothing else is expected here */
    if (rc)
        return rc;
    int code = jim_msg_response(l->msg);
    if (code < 400)
        return 0;
    const char *why = jim_msg_get_str(l->msg, JIM_FIELD_ERROR);
    fprintf(stderr, "jimctl: %s (%d)\n", why ? why : "refused", code);
    /* jimctl sends admin actions only: a 403 here means this uid may not use the socket. */
    return code == JIM_RESP_FORBIDDEN ? JIMCTL_EXIT_PERM : JIMCTL_EXIT_REFUSED;
}

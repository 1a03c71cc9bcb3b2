/* test_jimd_notify.c — jimd tells systemd how it is doing: READY=1 once every worker listens,
 * RELOADING=1 then READY=1 around SIGHUP, STOPPING=1 on SIGTERM, each with a STATUS= line,
 * sent to the datagram socket $NOTIFY_SOCKET names (here one the test makes: a path, and
 * one in the abstract namespace). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "jimd_harness.h"

/* A datagram socket bound at path ('@': abstract), named in NOTIFY_SOCKET for what the
 * test starts next. */
static int notify_socket(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    memcpy(addr.sun_path, path, len);
    if (path[0] == '@')
        addr.sun_path[0] = '\0';
    else
        len++;
    assert_int_equal(bind(fd, (struct sockaddr *)&addr,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)),
                     0);
    setenv("NOTIFY_SOCKET", path, 1);
    return fd;
}

/* The next datagram within timeout_ms, as a string in buf; NULL when none came. */
static const char *next_state(int fd, char *buf, size_t size, int timeout_ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, timeout_ms * jimd_slowdown()) != 1)
        return NULL;
    ssize_t n = recv(fd, buf, size - 1, 0);
    if (n < 0)
        return NULL;
    buf[n] = '\0';
    return buf;
}

/* The whole life of a service: start, reload, stop, as systemd sees it on socket fd. */
static void lifecycle(int fd)
{
    jimd_proc p;
    char buf[512], expect[64];
    assert_int_equal(jimd_start(&p, 2, NULL), 0);
    unsetenv("NOTIFY_SOCKET");
    const char *s = next_state(fd, buf, sizeof buf, 20000);
    assert_non_null(s);
    /* jimd_start returns once both workers logged that they serve: READY came after. */
    assert_non_null(strstr(s, "READY=1\n"));
    snprintf(expect, sizeof expect, "STATUS=serving on port %d with 2 workers", p.port);
    assert_non_null(strstr(s, expect));
    assert_null(next_state(fd, buf, sizeof buf, 300)); /* once */

    assert_int_equal(kill(p.pid, SIGHUP), 0);
    s = next_state(fd, buf, sizeof buf, 10000);
    assert_non_null(s);
    assert_non_null(strstr(s, "RELOADING=1\n"));
    assert_non_null(strstr(s, "MONOTONIC_USEC="));
    s = next_state(fd, buf, sizeof buf, 10000);
    assert_non_null(s);
    assert_non_null(strstr(s, "READY=1\n"));
    assert_non_null(strstr(s, expect));

    assert_int_equal(kill(p.pid, SIGTERM), 0);
    s = next_state(fd, buf, sizeof buf, 10000);
    assert_non_null(s);
    assert_non_null(strstr(s, "STOPPING=1\n"));
    assert_int_equal(jimd_stop(&p), 0);
    jimd_cleanup(&p);
}

static void notify__path_socket__ready_reloading_stopping(void **state)
{
    (void)state;
    char dir[] = "/tmp/jim-notify-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/notify", dir);
    int fd = notify_socket(path);
    lifecycle(fd);
    close(fd);
    unlink(path);
    rmdir(dir);
}

static void notify__abstract_socket__ready_reloading_stopping(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "@jim-notify-test-%d", (int)getpid());
    int fd = notify_socket(path);
    lifecycle(fd);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(notify__path_socket__ready_reloading_stopping),
        cmocka_unit_test(notify__abstract_socket__ready_reloading_stopping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

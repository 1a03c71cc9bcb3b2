/*
 * loop.c — one round of jimc's event loop: poll() over an input descriptor (the terminal
 * or a script on stdin) and the client's socket, then let the client handle what is
 * ready and what is due. The interactive mode and scripts both turn on it, so the
 * connection is served (messages printed, probes answered, reconnects made) while the
 * input is idle.
 */
#define _POSIX_C_SOURCE 200809L
#include "jimc.h"

#include <errno.h>
#include <poll.h>

int loop_once(jimc *app, int in_fd)
{
    int fd = jim_client_fd(app->client);
    struct pollfd p[2] = {{in_fd, POLLIN, 0}, {fd, POLLIN, 0}};
    if (fd >= 0 && jim_client_wants_write(app->client))
        p[1].events |= POLLOUT;
    int n = poll(p, fd >= 0 ? 2 : 1, jim_client_next_timeout(app->client));
    if (n < 0 && errno != EINTR)
        return -1;
    /* The descriptor changes when the client reconnects: only trust events for this one. */
    if (n > 0 && fd >= 0 && fd == jim_client_fd(app->client)) {
        if (p[1].revents & POLLOUT)
            jim_client_on_writable(app->client);
        if (p[1].revents & (POLLIN | POLLHUP | POLLERR))
            jim_client_on_readable(app->client);
    }
    if (jim_client_next_timeout(app->client) == 0)
        jim_client_on_timeout(app->client);
    return n > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR)) ? 1 : 0;
}

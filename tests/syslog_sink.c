/*
 * syslog_sink.c — stands in for a syslog daemon in tests: binds a datagram socket at
 * PATH, appends every datagram it receives to FILE as one line, for SECONDS seconds.
 * Usage: syslog_sink PATH FILE SECONDS
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: syslog_sink PATH FILE SECONDS\n");
        return 64;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(argv[1]) >= sizeof sa.sun_path)
        return 64;
    strcpy(sa.sun_path, argv[1]);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    unlink(argv[1]);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("syslog_sink");
        return 1;
    }
    FILE *out = fopen(argv[2], "a");
    if (!out)
        return 1;
    struct timeval tv = {0, 100000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    time_t end = time(NULL) + atoi(argv[3]);
    char buf[8192];
    while (time(NULL) < end) {
        ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        fprintf(out, "%s\n", buf);
        fflush(out);
    }
    fclose(out);
    unlink(argv[1]);
    return 0;
}

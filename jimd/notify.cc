// sd_notify(3) by hand: one datagram to $NOTIFY_SOCKET; and the JOURNAL_STREAM check.
#include "notify.hh"

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace jimd {

bool notify(const std::string &state)
{
    const char *path = std::getenv("NOTIFY_SOCKET");
    if (!path || !*path)
        return false;
    size_t len = std::strlen(path);
    sockaddr_un addr{};
    if ((path[0] != '/' && path[0] != '@') || len >= sizeof addr.sun_path)
        return false;
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path, len);
    if (path[0] == '@')
        addr.sun_path[0] = '\0'; // abstract: no terminating NUL counts in the length
    socklen_t alen =
        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len + (path[0] == '@' ? 0 : 1));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return false;
    ssize_t n = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                       reinterpret_cast<const sockaddr *>(&addr), alen);
    close(fd);
    return n == static_cast<ssize_t>(state.size());
}

bool stderr_is_journal()
{
    const char *js = std::getenv("JOURNAL_STREAM");
    unsigned long long dev = 0, ino = 0;
    struct stat st;
    if (!js || std::sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) != 0)
        return false;
    return st.st_dev == dev && st.st_ino == ino;
}

} // namespace jimd

// Typed frames over the master <-> worker socketpair.
#include "control.hh"

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

namespace jimd {

static_assert(sizeof(ControlFrame) == 8, "a control frame is 8 bytes on the wire");

bool control_pair(int fds[2])
{
    return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == 0;
}

bool control_send(int fd, Control type, uint32_t arg, int pass_fd)
{
    ControlFrame f;
    f.type = type;
    f.arg = arg;
    iovec iov = {&f, sizeof f};
    msghdr mh = {};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))] = {};
    if (pass_fd >= 0) {
        mh.msg_control = cbuf;
        mh.msg_controllen = sizeof cbuf;
        cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
    }
    ssize_t n;
    do
        n = sendmsg(fd, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n == static_cast<ssize_t>(sizeof f);
}

int control_recv(int fd, ControlFrame *frame, int *passed)
{
    *passed = -1;
    ControlFrame f;
    iovec iov = {&f, sizeof f};
    alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))];
    msghdr mh = {};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof cbuf;
    ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n == 0)
        return 0;
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -1 : 0;
    for (cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
            std::memcpy(passed, CMSG_DATA(c), sizeof(int));
    if (n != static_cast<ssize_t>(sizeof f) || f.version != kControlVersion ||
        (mh.msg_flags & MSG_TRUNC)) {
        if (*passed >= 0)
            close(*passed);
        *passed = -1;
        return -2;
    }
    *frame = f;
    return 1;
}

} // namespace jimd

// Frames over the master <-> worker socketpair (control.hh).
#include "control.hh"

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

namespace jimd {

namespace {

// The largest control frame: a header and a setting's name and value (the longest value a
// setting takes is 4095 bytes).
constexpr size_t kMaxControl = peer::kHeaderBytes + 8 + 64 + 4096;

bool send_packet(int fd, const uint8_t *data, size_t len, int pass_fd)
{
    iovec iov = {const_cast<uint8_t *>(data), len};
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
    return n == static_cast<ssize_t>(len);
}

template <class F> bool send_frame(int fd, const F &f, int pass_fd)
{
    uint8_t buf[kMaxControl];
    if (peer::frame_size(f) > sizeof buf) {
        errno = EMSGSIZE;
        return false;
    }
    peer::encode_frame(f, buf);
    return send_packet(fd, buf, peer::frame_size(f), pass_fd);
}

// Decodes a packet into *out; false when it is not one whole control frame.
bool decode_control(const uint8_t *p, size_t n, ControlFrame *out)
{
    peer::Header h;
    if (peer::decode_header(p, n, &h, nullptr) != peer::HeaderStatus::Ok ||
        n != peer::kHeaderBytes + h.length)
        return false;
    std::string_view body(reinterpret_cast<const char *>(p) + peer::kHeaderBytes, h.length);
    out->type = h.type;
    if (h.type == peer::Type::Ready) {
        peer::Ready f;
        return peer::decode(body, &f) && (out->worker = f.worker, true);
    }
    if (h.type == peer::Type::PeerLink) {
        peer::PeerLink f;
        return peer::decode(body, &f) && (out->worker = f.worker, true);
    }
    if (h.type == peer::Type::Set) {
        peer::Set f;
        if (!peer::decode(body, &f))
            return false;
        out->name.assign(f.name);
        out->value.assign(f.value);
        return true;
    }
    return false; // a mesh frame has no business here
}

} // namespace

bool control_pair(int fds[2])
{
    return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == 0;
}

bool control_send(int fd, const peer::Ready &f)
{
    return send_frame(fd, f, -1);
}

bool control_send(int fd, const peer::PeerLink &f, int pass_fd)
{
    return send_frame(fd, f, pass_fd);
}

bool control_send(int fd, const peer::Set &f)
{
    return send_frame(fd, f, -1);
}

int control_recv(int fd, ControlFrame *frame, int *passed)
{
    *passed = -1;
    uint8_t buf[kMaxControl + 1]; // one byte more: a longer packet shows as MSG_TRUNC
    iovec iov = {buf, sizeof buf};
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
    if ((mh.msg_flags & MSG_TRUNC) || !decode_control(buf, static_cast<size_t>(n), frame)) {
        if (*passed >= 0)
            close(*passed);
        *passed = -1;
        return -2;
    }
    return 1;
}

} // namespace jimd

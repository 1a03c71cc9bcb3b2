// Frames on the worker mesh: [u32 total length][u8 version][u8 type][u16 field count]
// then each field as [u32 length][bytes]. Each link is a non-blocking socketpair end with
// an input and an output evbuffer; reads and writes happen in the loop's callbacks, or at
// once through flush_now and poll_input when ordering against clients matters.
#include "mesh.hh"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/uio.h>
#include <unistd.h>

namespace jimd {

namespace {
constexpr size_t kHeader = 8;
constexpr uint32_t kMaxFrame = 16u << 20;
constexpr int kMaxFields = 8;
constexpr size_t kReadChunk = 64 << 10;
constexpr int kMaxReads = 64; // per call: 4 MB, more than a link holds before backpressure
} // namespace

Mesh::Mesh(event_base *base, int self, int count, Handler on_msg, PeerEvent on_peer)
    : base_(base), self_(self), count_(count), on_msg_(std::move(on_msg)),
      on_peer_(std::move(on_peer)), links_(static_cast<size_t>(count))
{
    for (int i = 0; i < count; i++) {
        links_[i].mesh = this;
        links_[i].peer = i;
    }
}

Mesh::~Mesh()
{
    for (Link &l : links_)
        release(l);
}

// Frees what a link holds (each part only if it was made) and leaves it unconnected.
void Mesh::release(Link &l)
{
    if (l.read_ev)
        event_free(l.read_ev);
    if (l.write_ev)
        event_free(l.write_ev);
    if (l.in)
        evbuffer_free(l.in);
    if (l.out)
        evbuffer_free(l.out);
    if (l.fd >= 0)
        close(l.fd);
    l = Link{l.mesh, l.peer};
}

bool Mesh::attach(int peer, int fd)
{
    if (peer < 0 || peer >= count_ || peer == self_) {
        close(fd);
        return false;
    }
    if (links_[peer].fd >= 0)
        drop(peer); // the old link belonged to a worker that has been replaced
    evutil_make_socket_nonblocking(fd);
    Link &l = links_[peer];
    l.read_ev = event_new(base_, fd, EV_READ | EV_PERSIST, on_readable, &l);
    l.write_ev = event_new(base_, fd, EV_WRITE, on_writable, &l);
    l.in = evbuffer_new();
    l.out = evbuffer_new();
    l.fd = fd;
    if (!l.read_ev || !l.write_ev || !l.in || !l.out || event_add(l.read_ev, nullptr) != 0) {
        release(l);
        return false;
    }
    on_peer_(peer, true);
    return true;
}

void Mesh::drop(int peer)
{
    Link &l = links_[peer];
    if (l.fd < 0)
        return;
    release(l);
    on_peer_(peer, false);
}

bool Mesh::send(int peer, PeerMsg type, std::initializer_list<std::string_view> fields)
{
    if (!connected(peer))
        return false;
    Link &l = links_[peer];
    size_t total = kHeader;
    for (std::string_view f : fields)
        total += 4 + f.size();
    unsigned char head[kHeader];
    uint32_t len = static_cast<uint32_t>(total);
    std::memcpy(head, &len, 4);
    head[4] = kMeshVersion;
    head[5] = static_cast<uint8_t>(type);
    uint16_t n = static_cast<uint16_t>(fields.size());
    std::memcpy(head + 6, &n, 2);
    evbuffer_add(l.out, head, sizeof head);
    for (std::string_view f : fields) {
        uint32_t flen = static_cast<uint32_t>(f.size());
        evbuffer_add(l.out, &flen, 4);
        evbuffer_add(l.out, f.data(), f.size());
    }
    if (!l.writing) {
        l.writing = true;
        event_add(l.write_ev, nullptr);
    }
    return true;
}

void Mesh::broadcast(PeerMsg type, std::initializer_list<std::string_view> fields)
{
    for (int i = 0; i < count_; i++)
        if (i != self_)
            send(i, type, fields);
}

bool Mesh::write_out(Link &l)
{
    while (evbuffer_get_length(l.out)) {
        int n = evbuffer_write(l.out, l.fd);
        if (n > 0)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return true;
        return false;
    }
    return true;
}

void Mesh::flush_now()
{
    for (Link &l : links_) {
        size_t queued = l.fd >= 0 ? evbuffer_get_length(l.out) : 0;
        if (queued && queued <= kLowWater) // a backed-up link drains through the loop
            write_out(l);                  // an error is found by the loop's own write or read
    }
}

void Mesh::on_writable(evutil_socket_t, short, void *arg)
{
    Link &l = *static_cast<Link *>(arg);
    Mesh &m = *l.mesh;
    l.writing = false;
    if (!m.write_out(l)) {
        m.drop(l.peer);
        return;
    }
    if (evbuffer_get_length(l.out)) {
        l.writing = true;
        event_add(l.write_ev, nullptr);
    }
    if (m.drained_ && m.backlog() <= kLowWater)
        m.drained_();
}

bool Mesh::fill(Link &l)
{
    for (int reads = 0; reads < kMaxReads; reads++) {
        evbuffer_iovec vec;
        if (evbuffer_reserve_space(l.in, kReadChunk, &vec, 1) != 1)
            return true; // out of memory: try again later
        ssize_t n = read(l.fd, vec.iov_base, vec.iov_len);
        if (n > 0) {
            vec.iov_len = static_cast<size_t>(n);
            evbuffer_commit_space(l.in, &vec, 1);
            if (static_cast<size_t>(n) < kReadChunk)
                return true;
            continue;
        }
        evbuffer_commit_space(l.in, &vec, 0);
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
    }
    return true;
}

void Mesh::on_readable(evutil_socket_t, short, void *arg)
{
    Link &l = *static_cast<Link *>(arg);
    Mesh &m = *l.mesh;
    bool open = fill(l);
    if (m.handle_frames(l) && !open)
        m.drop(l.peer); // EOF: the frames that came before it were handled
}

void Mesh::poll_input()
{
    if (reading_)
        return; // from inside a frame handler: the outer call takes the rest
    for (Link &l : links_)
        if (l.fd >= 0) {
            fill(l); // EOF and errors are left for the loop's own read to find
            handle_frames(l);
        }
}

bool Mesh::handle_frames(Link &l)
{
    reading_ = true;
    struct Done {
        bool &flag;
        ~Done() { flag = false; }
    } done{reading_};
    for (;;) {
        size_t avail = evbuffer_get_length(l.in);
        if (avail < kHeader)
            return true;
        unsigned char head[kHeader];
        evbuffer_copyout(l.in, head, kHeader);
        uint32_t len;
        uint16_t n;
        std::memcpy(&len, head, 4);
        std::memcpy(&n, head + 6, 2);
        if (head[4] != kMeshVersion || len < kHeader || len > kMaxFrame || n > kMaxFields) {
            drop(l.peer); // a peer speaking another version: refuse it
            return false;
        }
        if (avail < len)
            return true;
        const char *p = reinterpret_cast<const char *>(evbuffer_pullup(l.in, len));
        std::string_view fields[kMaxFields];
        size_t off = kHeader;
        bool ok = true;
        for (int i = 0; i < n && ok; i++) {
            uint32_t flen;
            if (off + 4 > len) {
                ok = false;
                break;
            }
            std::memcpy(&flen, p + off, 4);
            off += 4;
            if (off + flen > len) {
                ok = false;
                break;
            }
            fields[i] = std::string_view(p + off, flen);
            off += flen;
        }
        if (!ok) {
            drop(l.peer);
            return false;
        }
        on_msg_(l.peer, static_cast<PeerMsg>(head[5]), fields, n);
        evbuffer_drain(l.in, len);
    }
}

size_t Mesh::backlog() const
{
    size_t most = 0;
    for (const Link &l : links_)
        if (l.fd >= 0)
            most = std::max(most, evbuffer_get_length(l.out));
    return most;
}

} // namespace jimd

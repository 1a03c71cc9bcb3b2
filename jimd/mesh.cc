// The worker mesh's links: each is a non-blocking socketpair end with an input and an output
// buffer; reads and writes happen in the loop's callbacks, or at once through flush_now
// and poll_input when ordering against clients matters. Frames are cut by their header
// (peer_protocol.hh) and handed whole to the owner.
#include "mesh.hh"

#include <algorithm>
#include <cerrno>
#include <new>
#include <unistd.h>

namespace jimd {

namespace {
constexpr size_t kReadChunk = 64 << 10;
constexpr int kMaxReads = 64; // per call: 4 MB, more than a link holds before backpressure
// A link's input or output block bigger than this, and than twice what it held at most in
// the last second, is freed by the once-a-second trim if empty then (a burst's); one that
// a read ends in the middle of a frame grows to two read chunks, and is kept. Not at once
// when it empties: under a steady load a link's output empties after every write and fills
// again with the next commit, and growing a block from nothing each time (realloc copying
// it at each step) cost more than the frames' own encoding.
constexpr size_t kKeepBlock = 2 * kReadChunk;
constexpr timeval kTrimEvery = {1, 0};
} // namespace

Mesh::Mesh(event_base *base, int self, int count, Handler on_frame, PeerEvent on_peer)
    : base_(base), self_(self), count_(count), on_frame_(std::move(on_frame)),
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
    if (trim_ev_)
        event_free(trim_ev_);
}

// Frees what a link holds (each part only if it was made) and leaves it unconnected.
void Mesh::release(Link &l)
{
    if (l.read_ev)
        event_free(l.read_ev);
    if (l.write_ev)
        event_free(l.write_ev);
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
    if (!trim_ev_) {
        trim_ev_ = event_new(base_, -1, EV_PERSIST, on_trim, this);
        if (!trim_ev_ || event_add(trim_ev_, &kTrimEvery) != 0) {
            if (trim_ev_)
                event_free(trim_ev_);
            trim_ev_ = nullptr; // the next attach tries again
            close(fd);
            return false;
        }
    }
    if (links_[peer].fd >= 0)
        drop(peer, nullptr); // the old link belonged to a worker that has been replaced
    evutil_make_socket_nonblocking(fd);
    Link &l = links_[peer];
    l.read_ev = event_new(base_, fd, EV_READ | EV_PERSIST, on_readable, &l);
    l.write_ev = event_new(base_, fd, EV_WRITE, on_writable, &l);
    l.in.reset(new (std::nothrow) OutputBuffer);
    l.out.reset(new (std::nothrow) OutputBuffer);
    l.fd = fd;
    if (!l.read_ev || !l.write_ev || !l.in || !l.out || event_add(l.read_ev, nullptr) != 0) {
        release(l);
        return false;
    }
    on_peer_(peer, true, nullptr);
    return true;
}

void Mesh::drop(int peer, const char *why)
{
    Link &l = links_[peer];
    if (l.fd < 0)
        return;
    release(l);
    on_peer_(peer, false, why);
}

uint8_t *Mesh::reserve(int peer, size_t n)
{
    if (!connected(peer) || n > peer::kHeaderBytes + peer::kMaxBody)
        return nullptr;
    Link &l = links_[peer];
    char *at = l.out->reserve(n);
    if (!at)
        return nullptr;
    l.reserved = n;
    return reinterpret_cast<uint8_t *>(at);
}

bool Mesh::commit(int peer)
{
    Link &l = links_[peer];
    l.out->commit(l.reserved);
    l.reserved = 0;
    l.peak_out = std::max(l.peak_out, l.out->size());
    if (!l.writing) {
        l.writing = true;
        event_add(l.write_ev, nullptr);
    }
    return true;
}

bool Mesh::write_out(Link &l)
{
    while (l.out->size()) {
        ssize_t n = write(l.fd, l.out->data(), l.out->size());
        if (n > 0) {
            l.out->consume(static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return true;
        return false;
    }
    return true;
}

void Mesh::flush_now()
{
    for (Link &l : links_) {
        size_t queued = l.fd >= 0 ? l.out->size() : 0;
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
        m.drop(l.peer, nullptr);
        return;
    }
    if (l.out->size()) {
        l.writing = true;
        event_add(l.write_ev, nullptr);
    }
    if (m.drained_ && m.backlog() <= kLowWater)
        m.drained_();
}

bool Mesh::fill(Link &l)
{
    for (int reads = 0; reads < kMaxReads; reads++) {
        char *room = l.in->reserve(kReadChunk);
        if (!room)
            return true; // out of memory: try again later
        ssize_t n = read(l.fd, room, kReadChunk);
        if (n > 0) {
            l.in->commit(static_cast<size_t>(n));
            l.peak_in = std::max(l.peak_in, l.in->size());
            if (static_cast<size_t>(n) < kReadChunk)
                return true;
            continue;
        }
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
    }
    return true;
}

void Mesh::on_readable(evutil_socket_t, short, void *arg)
{
    Link &l = *static_cast<Link *>(arg);
    Mesh &m = *l.mesh;
    bool open = fill(l);
    if (!m.handle_frames(l))
        return; // dropped
    if (!open)
        m.drop(l.peer, nullptr); // EOF: the frames that came before it were handled
}

void Mesh::on_trim(evutil_socket_t, short, void *arg)
{
    for (Link &l : static_cast<Mesh *>(arg)->links_)
        if (l.fd >= 0) {
            l.in->trim(std::max(kKeepBlock, 2 * l.peak_in)); // each only if empty
            l.out->trim(std::max(kKeepBlock, 2 * l.peak_out));
            l.peak_in = l.in->size();
            l.peak_out = l.out->size();
        }
}

void Mesh::poll_input()
{
    // Only fill() adds bytes to a link's input, and never while a frame handler runs: the
    // handler's body is a view into that block, which must not move under it.
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
    if (frames_)
        frames_(true);
    struct Done {
        Mesh &m;
        ~Done()
        {
            m.reading_ = false;
            if (m.frames_)
                m.frames_(false);
        }
    } done{*this};
    for (;;) {
        size_t avail = l.in->size();
        if (avail < peer::kHeaderBytes)
            return true;
        const char *p = l.in->data(); // the input is one block: a frame is contiguous in it
        peer::Header h;
        const char *why = nullptr;
        if (peer::decode_header(p, peer::kHeaderBytes, &h, &why) != peer::HeaderStatus::Ok) {
            drop(l.peer, why); // a peer speaking another version: refuse it
            return false;
        }
        size_t len = peer::kHeaderBytes + h.length;
        if (avail < len)
            return true;
        if (!on_frame_(l.peer, h.type, std::string_view(p + peer::kHeaderBytes, h.length))) {
            drop(l.peer, "a frame that does not decode");
            return false;
        }
        if (l.fd < 0)
            return false; // dropped by the handler
        l.in->consume(len);
    }
}

size_t Mesh::held() const
{
    size_t bytes = 0;
    for (const Link &l : links_)
        if (l.fd >= 0)
            bytes += l.in->capacity() + l.out->capacity();
    return bytes;
}

size_t Mesh::backlog() const
{
    size_t most = 0;
    for (const Link &l : links_)
        if (l.fd >= 0)
            most = std::max(most, l.out->size());
    return most;
}

} // namespace jimd

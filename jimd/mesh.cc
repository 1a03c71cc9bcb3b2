// Frames on the worker mesh: [u32 total length][u8 version][u8 type][u16 field count]
// then each field as [u32 length][bytes].
#include "mesh.hh"

#include <algorithm>
#include <cstring>
#include <unistd.h>

namespace jimd {

namespace {
constexpr size_t kHeader = 8;
constexpr uint32_t kMaxFrame = 16u << 20;
constexpr int kMaxFields = 8;
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
        if (l.bev)
            bufferevent_free(l.bev);
}

bool Mesh::attach(int peer, int fd)
{
    if (peer < 0 || peer >= count_ || peer == self_) {
        close(fd);
        return false;
    }
    if (links_[peer].bev)
        drop(peer); // the old link belonged to a worker that has been replaced
    evutil_make_socket_nonblocking(fd);
    bufferevent *bev = bufferevent_socket_new(base_, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        close(fd);
        return false;
    }
    bufferevent_setcb(bev, on_read, on_write, on_event, &links_[peer]);
    bufferevent_setwatermark(bev, EV_WRITE, kLowWater, 0);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    links_[peer].bev = bev;
    on_peer_(peer, true);
    return true;
}

void Mesh::drop(int peer)
{
    Link &l = links_[peer];
    if (!l.bev)
        return;
    bufferevent_free(l.bev);
    l.bev = nullptr;
    on_peer_(peer, false);
}

bool Mesh::send(int peer, PeerMsg type, std::initializer_list<std::string_view> fields)
{
    if (!connected(peer))
        return false;
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
    evbuffer *out = bufferevent_get_output(links_[peer].bev);
    evbuffer_add(out, head, sizeof head);
    for (std::string_view f : fields) {
        uint32_t flen = static_cast<uint32_t>(f.size());
        evbuffer_add(out, &flen, 4);
        evbuffer_add(out, f.data(), f.size());
    }
    return true;
}

void Mesh::broadcast(PeerMsg type, std::initializer_list<std::string_view> fields)
{
    for (int i = 0; i < count_; i++)
        if (i != self_)
            send(i, type, fields);
}

void Mesh::on_read(bufferevent *bev, void *arg)
{
    Link &l = *static_cast<Link *>(arg);
    Mesh &m = *l.mesh;
    evbuffer *in = bufferevent_get_input(bev);
    for (;;) {
        size_t avail = evbuffer_get_length(in);
        if (avail < kHeader)
            return;
        unsigned char head[kHeader];
        evbuffer_copyout(in, head, kHeader);
        uint32_t len;
        uint16_t n;
        std::memcpy(&len, head, 4);
        std::memcpy(&n, head + 6, 2);
        if (head[4] != kMeshVersion || len < kHeader || len > kMaxFrame || n > kMaxFields) {
            m.drop(l.peer); // a peer speaking another version: refuse it
            return;
        }
        if (avail < len)
            return;
        const char *p = reinterpret_cast<const char *>(evbuffer_pullup(in, len));
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
            m.drop(l.peer);
            return;
        }
        m.on_msg_(l.peer, static_cast<PeerMsg>(head[5]), fields, n);
        evbuffer_drain(in, len);
    }
}

size_t Mesh::backlog() const
{
    size_t most = 0;
    for (const Link &l : links_)
        if (l.bev)
            most = std::max(most, evbuffer_get_length(bufferevent_get_output(l.bev)));
    return most;
}

void Mesh::on_write(bufferevent *, void *arg)
{
    Mesh &m = *static_cast<Link *>(arg)->mesh;
    if (m.drained_ && m.backlog() <= kLowWater)
        m.drained_();
}

void Mesh::on_event(bufferevent *, short what, void *arg)
{
    Link &l = *static_cast<Link *>(arg);
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        l.mesh->drop(l.peer);
}

} // namespace jimd

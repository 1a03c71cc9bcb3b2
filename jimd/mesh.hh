// The inter-worker channel: a full mesh of socketpairs, one per pair of workers, set up
// by the master. Frames carry a protocol version and are rejected on mismatch.
#pragma once

#include <event2/buffer.h>
#include <event2/event.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace jimd {

// What one worker tells another.
enum class PeerMsg : uint8_t {
    Online = 1,  // [user, count]: the user has count sessions on the sender
    Offline = 2, // [user]: the user's last session on the sender ended
    Deliver = 3, // [user, line]: write line to every session of user here
    Room = 4,    // [room, line]: write line to every session here that is in room
    Kick = 5,    // [user, reason]: close every session of user here
    Conns = 6,   // [ip, count]: the sender now has count connections from ip
    Ack = 8,     // [count]: the first count Deliver frames received on this link are dealt
                 // with: written to a session, or kept as pending in a committed row
};

constexpr uint8_t kMeshVersion = 3;

class Mesh {
  public:
    // A frame from worker `from`: its type and its fields.
    using Handler = std::function<void(int from, PeerMsg type, std::string_view *fields, int n)>;
    // Worker `peer` went away (EOF) or came back (connected).
    using PeerEvent = std::function<void(int peer, bool up)>;

    Mesh(event_base *base, int self, int count, Handler on_msg, PeerEvent on_peer);
    ~Mesh();
    // Uses fd (a socketpair end, non-blocking after this) to talk to peer.
    bool attach(int peer, int fd);
    // Queues a frame to one peer; false when the peer is not connected.
    bool send(int peer, PeerMsg type, std::initializer_list<std::string_view> fields);
    // Queues a frame to every connected peer.
    void broadcast(PeerMsg type, std::initializer_list<std::string_view> fields);
    // Writes what is queued on each link now, instead of when the loop gets to it, so a
    // frame is in the peer's socket before anything this worker says afterwards to a
    // client. Links backed up past the low-water mark are left to the loop.
    void flush_now();
    // Reads and handles the frames already in the sockets now, instead of when the loop
    // gets to them: what a peer sent before a client's request was read is then known
    // when that request is handled.
    void poll_input();
    bool connected(int peer) const { return peer >= 0 && peer < count_ && links_[peer].fd >= 0; }
    // Bytes waiting to be written on the fullest link.
    size_t backlog() const;
    // Called when every link has drained below the low-water mark after being above it.
    void on_drained(std::function<void()> fn) { drained_ = std::move(fn); }
    static constexpr size_t kLowWater = 256 << 10;
    int self() const { return self_; }
    int count() const { return count_; }

  private:
    // One socketpair end: frames come in through `in`, go out through `out`.
    struct Link {
        Mesh *mesh = nullptr;
        int peer = -1;
        int fd = -1;
        event *read_ev = nullptr;
        event *write_ev = nullptr; // pending while `out` holds bytes
        evbuffer *in = nullptr;
        evbuffer *out = nullptr;
        bool writing = false; // write_ev is pending
    };
    static void on_readable(evutil_socket_t fd, short what, void *arg);
    static void on_writable(evutil_socket_t fd, short what, void *arg);
    // Reads what the socket holds (bounded); false on EOF or an error.
    static bool fill(Link &l);
    // Handles every whole frame in l.in; false if the peer sent garbage (link dropped).
    bool handle_frames(Link &l);
    // Writes what l.out holds; false on an error (link dropped).
    bool write_out(Link &l);
    void drop(int peer);
    static void release(Link &l);

    event_base *base_;
    int self_, count_;
    Handler on_msg_;
    PeerEvent on_peer_;
    std::vector<Link> links_;
    std::function<void()> drained_;
    bool reading_ = false; // inside a frame handler: poll_input waits for the loop
};

} // namespace jimd

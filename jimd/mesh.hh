// The inter-worker channel: a full mesh of socketpairs, one per pair of workers, set up
// by the master. Frames carry a protocol version and are rejected on mismatch.
#pragma once

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace jimd {

// What one worker tells another.
enum class PeerMsg : uint8_t {
    Online = 1,  // [user]: the user has a session on the sender
    Offline = 2, // [user]: the user's last session on the sender ended
    Deliver = 3, // [user, line]: write line to every session of user here
    Room = 4,    // [room, line]: write line to every session here that is in room
    Kick = 5,    // [user, reason]: close every session of user here
    Conns = 6,   // [ip, count]: the sender now has count connections from ip
    Failure = 7, // [key]: a failed login for key ("u:name" or "ip:addr") just now
};

constexpr uint8_t kMeshVersion = 1;

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
    bool connected(int peer) const { return peer >= 0 && peer < count_ && links_[peer].bev; }
    // Bytes waiting to be written on the fullest link.
    size_t backlog() const;
    // Called when every link has drained below the low-water mark after being above it.
    void on_drained(std::function<void()> fn) { drained_ = std::move(fn); }
    static constexpr size_t kLowWater = 256 << 10;
    int self() const { return self_; }
    int count() const { return count_; }

  private:
    struct Link {
        Mesh *mesh = nullptr;
        int peer = -1;
        bufferevent *bev = nullptr;
    };
    static void on_read(bufferevent *bev, void *arg);
    static void on_event(bufferevent *bev, short what, void *arg);
    static void on_write(bufferevent *bev, void *arg);
    void drop(int peer);

    event_base *base_;
    int self_, count_;
    Handler on_msg_;
    PeerEvent on_peer_;
    std::vector<Link> links_;
    std::function<void()> drained_;
};

} // namespace jimd

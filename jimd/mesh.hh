// The links between workers: a full mesh of socketpairs, one per pair of workers, set up by
// the master. Each carries frames of the peer protocol (peer_protocol.hh); a link whose peer
// sends a frame of another version, or one that does not decode, is dropped.
#pragma once

#include "output_buffer.hh"
#include "peer_protocol.hh"

#include <event2/event.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

namespace jimd {

class Mesh {
  public:
    // A whole frame from worker `from`: its type and its body (valid during the call).
    // False refuses it: the link is dropped.
    using Handler = std::function<bool(int from, peer::Type type, std::string_view body)>;
    // Worker `peer` came (up) or went away; why: what was wrong with a link dropped for a
    // bad frame, else null.
    using PeerEvent = std::function<void(int peer, bool up, const char *why)>;

    Mesh(event_base *base, int self, int count, Handler on_frame, PeerEvent on_peer);
    ~Mesh();
    Mesh(const Mesh &) = delete;
    Mesh &operator=(const Mesh &) = delete;
    // Uses fd (a socketpair end, non-blocking after this) to talk to peer; a link to it
    // that was there before belonged to a worker since replaced, and is dropped.
    bool attach(int peer, int fd);
    // Queues a frame to one peer; false when the peer is not connected.
    template <class F> bool send(int peer, const F &frame)
    {
        uint8_t *at = reserve(peer, peer::frame_size(frame));
        if (!at)
            return false;
        peer::encode_frame(frame, at);
        return commit(peer);
    }
    // Queues a frame to every connected peer.
    template <class F> void broadcast(const F &frame)
    {
        for (int i = 0; i < count_; i++)
            if (i != self_)
                send(i, frame);
    }
    // Writes what is queued on each link now, instead of when the loop gets to it, so a
    // frame is in the peer's socket before anything this worker says afterwards to a
    // client. Links backed up past the low-water mark are left to the loop.
    void flush_now();
    // Reads and handles the frames already in the sockets now, instead of when the loop
    // gets to them. Does nothing when called from inside a frame handler.
    void poll_input();
    bool connected(int peer) const { return peer >= 0 && peer < count_ && links_[peer].fd >= 0; }
    // Bytes waiting to be written on the fullest link.
    size_t backlog() const;
    // Bytes the links' input and output blocks hold (their capacity, used or not).
    size_t held() const;
    // Called when every link has drained below the low-water mark after being above it.
    void on_drained(std::function<void()> fn) { drained_ = std::move(fn); }
    // Called with true before the frames of one read are handled, and with false after.
    void on_frames(std::function<void(bool start)> fn) { frames_ = std::move(fn); }
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
        std::unique_ptr<OutputBuffer> in = nullptr, out = nullptr;
        bool writing = false;             // write_ev is pending
        size_t reserved = 0;              // the size of the frame being written at out's end
        size_t peak_in = 0, peak_out = 0; // the most each block held since the last trim
    };
    // Room for a frame of n bytes at the end of peer's output, or null.
    uint8_t *reserve(int peer, size_t n);
    // Queues the frame written at reserve()'s room.
    bool commit(int peer);
    static void on_readable(evutil_socket_t fd, short what, void *arg);
    static void on_writable(evutil_socket_t fd, short what, void *arg);
    // Once a second: gives back each empty block over twice what it held at most since the
    // last time (a burst's), so a steady flow keeps its block and a past burst's goes.
    static void on_trim(evutil_socket_t fd, short what, void *arg);
    // Reads what the socket holds (bounded); false on EOF or an error.
    static bool fill(Link &l);
    // Handles every whole frame in l.in; false if the peer sent a bad one (link dropped).
    bool handle_frames(Link &l);
    // Writes what l.out holds; false on an error (link dropped).
    bool write_out(Link &l);
    void drop(int peer, const char *why);
    static void release(Link &l);

    event_base *base_;
    int self_, count_;
    Handler on_frame_;
    PeerEvent on_peer_;
    std::vector<Link> links_;
    event *trim_ev_ = nullptr; // on_trim's timer, made with the first link
    std::function<void()> drained_;
    std::function<void(bool)> frames_;
    bool reading_ = false; // inside a frame handler: poll_input waits for the loop
};

} // namespace jimd

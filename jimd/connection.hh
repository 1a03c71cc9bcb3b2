// One client connection: its transport (the socket), the framer that cuts its input into
// objects, its output queue with the legacy pacing, and the flow control around them —
// reading only while the owner can take requests, 32 requests a turn, output bounds. It
// knows nothing of JIM's actions: whole objects (or framing errors) go to its owner, and
// encoded lines come back.
#pragma once

#include "spare_outputs.hh"
#include "transport.hh"

#include <jim/jim.h>

#include <event2/event.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace jimd {

class Connection;

// What a worker's connections share: the loop, the limits, the message objects are decoded
// into, and the lists of connections with output to write or requests left for a later
// turn. One per worker.
class ConnectionLoop {
  public:
    ConnectionLoop(event_base *base, const jim_limits *limits);
    ~ConnectionLoop();
    ConnectionLoop(const ConnectionLoop &) = delete;
    ConnectionLoop &operator=(const ConnectionLoop &) = delete;
    // False: out of memory.
    bool start();
    event_base *base() const { return base_; }
    // While this says so (the links to other workers are backed up), a connection that
    // becomes readable is left unread, until resume() is called.
    void set_backed_up(bool (*backed_up)(void *), void *arg)
    {
        backed_up_ = backed_up;
        backed_up_arg_ = arg;
    }
    // Reads the connections left unread meanwhile again.
    void resume();
    // How many are waiting for resume().
    size_t held() const { return held_.size(); }
    // The limits changed: spare framers (made with the old ones) are dropped.
    void limits_changed();
    // Called once a second: frees the spare output buffers no turn took meanwhile.
    void trim_spares() { spare_outputs_.trim(); }
    // TLS for the connections accepted from now on (ctx null: none): a connection whose
    // first byte starts a TLS handshake gets a TLS transport; with required, any other
    // gets one 403 and is closed. The loop keeps a reference to ctx.
    void set_tls(SSL_CTX *ctx, bool required);

  private:
    friend class Connection;
    static void on_flush(evutil_socket_t, short, void *arg);
    static void on_more(evutil_socket_t, short, void *arg);
    void want_flush(Connection *c);
    void want_more(Connection *c);
    void forget(Connection *c);
    // A spare output buffer or framer, else a new one; null when out of memory. A framer
    // comes with the count of limits_changed() calls, which give_framer wants back.
    OutputBuffer *take_output();
    jim_framer *take_framer(uint16_t *limits_gen);
    // Keeps an empty one for the next connection that needs one (up to kSpares framers;
    // output buffers: SpareOutputs), or frees it.
    void give_output(OutputBuffer *out);
    void give_framer(jim_framer *framer, uint16_t limits_gen);
    // Enough framers for the connections one loop turn reads.
    static constexpr size_t kSpares = 64;

    event_base *base_;
    const jim_limits *limits_;
    jim_msg *request_ = nullptr; // the object being handled
    event *flush_ev_ = nullptr;
    event *more_ev_ = nullptr;
    std::vector<Connection *> dirty_, flushing_; // output to write this iteration; on_flush's
    std::vector<Connection *> more_, moving_;    // requests left after a turn; on_more's
    std::vector<Connection *> held_;             // left unread while backed up
    SpareOutputs spare_outputs_;                 // empty, given back by connections
    std::vector<jim_framer *> spare_framers_;    // empty and never fed a bad object
    uint16_t limits_gen_ = 0;                    // limits_changed() calls: a framer's limits
    bool (*backed_up_)(void *) = nullptr;
    void *backed_up_arg_ = nullptr;
    SSL_CTX *tls_ = nullptr;
    bool tls_required_ = false;
};

class Connection {
  public:
    // Who handles what arrives: the session. None of these may destroy the connection;
    // the owner does that after on_finished, from the loop.
    class Owner {
      public:
        // One whole object, decoded into m (valid during the call).
        virtual void on_request(jim_msg *m) = 0;
        // An object that could not be framed or decoded: m holds what was decoded of it
        // (an id to echo, perhaps); fatal: the stream cannot go on (the owner closes the
        // connection after answering).
        virtual void on_bad_object(jim_msg *m, const char *why, bool fatal) = 0;
        // The client closed its side, or the socket failed: the objects before it were
        // handled. The owner closes the connection.
        virtual void on_peer_closed() = 0;
        // The client read its output down to kLowWater: a long reply may go on.
        virtual void on_output_drained() = 0;
        // Closed and written out (or failed): the connection may be destroyed now.
        virtual void on_finished() = 0;

      protected:
        ~Owner() = default;
    };
    // Why requests wait: the input stays in the socket (and the framer) until every hold
    // is released.
    enum Hold : uint8_t {
        kHoldPassword = 1, // a password is being checked
        kHoldReply = 2,    // a long reply is being produced
        kHoldPeers = 4,    // the links to other workers are backed up
        kHoldCommit = 8,   // a request waits for the commit of the messages before it
    };
    // Output past which requests wait (and a long reply pauses) until the client has read
    // it down to kLowWater; past kMaxOutput the client counts as one that does not read.
    static constexpr size_t kHighWater = 256 << 10, kLowWater = 64 << 10;
    static constexpr size_t kMaxOutput = 16 << 20;
    static constexpr int kRequestsPerTurn = 32;

    Connection(ConnectionLoop &loop, Owner &owner);
    ~Connection();
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;
    // Takes the accepted socket fd and starts reading; false: out of memory (fd closed).
    bool open(int fd);

    // Queues one encoded object (ending in '\n') for the client: written at the end of this
    // loop iteration, or paced (set_pacing).
    void send(std::string_view line);
    // Objects go out at most one per `us` microseconds (0: as they come), for clients that
    // read one object per recv().
    void set_pacing(uint32_t us);
    void hold(Hold why);
    // Releases a hold; when none is left, the requests that waited are handled.
    void release(Hold why);
    bool held(Hold why) const { return (holds_ & why) != 0; }
    // Stops reading; what is queued (paced objects too) is written, then on_finished.
    void close();
    // The same, dropping what is queued.
    void abort();
    bool closing() const { return closing_; }
    // Whether its objects go out one a write, legacy_pacing_ms apart (set_pacing).
    bool paced() const { return pacing_us_ > 0; }
    // Bytes queued for the client: in the output buffer and waiting for pacing.
    size_t output_bytes() const;
    // When the client last sent something (monotonic microseconds).
    int64_t last_input_us() const { return last_input_us_; }
    // Since when the client has sent part of an object and not the rest (monotonic
    // microseconds; 0: no object in progress, or the server holds the connection).
    int64_t partial_since_us() const { return partial_since_us_; }
    // Frees the framer and the output buffer if they hold nothing and nothing came or went
    // since the last call (the worker calls it once a second). Most go back to the loop's
    // spares sooner: the output buffer once written out, the framer once its input is handled
    // (unless it saw a bad object: its count of them in a row lasts until this call).
    void release_idle();

    // Called by the transport.
    void on_readable();
    void on_writable();

  private:
    // Objects waiting for the next pacing tick (no deque: an empty one allocates half a
    // kilobyte), made on the first paced object.
    struct Paced {
        event *ev = nullptr;
        std::vector<std::string> lines; // from head on
        size_t head = 0;
        size_t bytes = 0;  // in lines from head on
        int64_t at_us = 0; // when the last paced object was written
    };
    friend class ConnectionLoop;
    static void on_pace(evutil_socket_t, short, void *arg);
    void pace_next();
    void queue_paced(std::string_view line);
    // Looks at the first byte: TLS, plain, or (TLS required) refused. False: not on_readable's
    // turn now (nothing came yet, or refused).
    bool choose_transport();
    void process_input();
    void update_reading();
    void output_drained();
    void flush_soon();
    void finish();
    // Makes the output buffer if there is none; false: out of memory.
    bool make_output();
    size_t queued() const { return out_ ? out_->size() : 0; }

    ConnectionLoop &loop_;
    Owner &owner_;
    PlainTransport plain_;
    Transport *transport_ = &plain_;
    std::unique_ptr<Transport> tls_; // made when the first byte starts a TLS handshake
    OutputBuffer *out_ = nullptr;    // made on the first output, freed when idle
    jim_framer *framer_ = nullptr;   // made on the first input, freed when idle
    std::unique_ptr<Paced> paced_;
    int64_t last_input_us_ = 0;
    int64_t partial_since_us_ = 0;
    uint32_t pacing_us_ = 0;
    uint8_t holds_ = 0;
    bool output_held_ : 1 = false; // too much output waiting: requests wait until it drains
    bool reading_ : 1 = false;     // the transport tells us of input
    bool in_input_ : 1 = false;    // inside process_input
    bool closing_ : 1 = false;
    bool finished_ : 1 = false;
    bool dirty_ : 1 = false;     // in the loop's flush list
    bool more_ : 1 = false;      // in the loop's list of connections with requests left
    bool active_ : 1 = false;    // something came or went since the last release_idle
    bool sniff_ : 1 = false;     // the loop has TLS: the first byte decides the transport
    bool bad_input_ : 1 = false; // the framer reported a bad object since it was made
    uint16_t framer_gen_ = 0;    // the loop's limits_gen_ when the framer was taken (mod 65536)
};

} // namespace jimd

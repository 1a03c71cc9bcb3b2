// How a connection's bytes travel: the seam between a Connection and its socket. Today's
// one transport is plain TCP. TLS goes under the same interface: a connection whose first
// byte is 0x16 (a TLS handshake) gets a transport on a libevent OpenSSL bufferevent,
// which owns the socket's events from then on, so one port serves both.
#pragma once

#include <event2/buffer.h>
#include <event2/event.h>

#include <sys/types.h>

namespace jimd {

class Connection;

class Transport {
  public:
    virtual ~Transport() = default;
    // Starts watching fd (the transport owns it from now on and closes it) for c, whose
    // on_readable and on_writable it calls when bytes can move. False: out of memory.
    virtual bool open(event_base *base, int fd, Connection *c) = 0;
    // Whether c is told when bytes arrive.
    virtual void want_read(bool on) = 0;
    // Tells c once, when the socket can take more output.
    virtual void want_write() = 0;
    // A want_write() is waiting.
    virtual bool writing() const = 0;
    // Reads up to cap bytes into buf: how many, 0 at the end of the stream, -1 with errno
    // (EAGAIN: nothing now).
    virtual ssize_t read(void *buf, size_t cap) = 0;
    // Writes from out what the socket takes now (and drains it from out): how many bytes,
    // or -1 with errno (EAGAIN: nothing now).
    virtual int write(evbuffer *out) = 0;
};

// Plain TCP: read(2) and evbuffer_write on the socket, one event each way. The write
// event is made on the first write that does not go out at once: most connections never
// need one.
class PlainTransport final : public Transport {
  public:
    PlainTransport() = default;
    ~PlainTransport() override;
    PlainTransport(const PlainTransport &) = delete;
    PlainTransport &operator=(const PlainTransport &) = delete;
    bool open(event_base *base, int fd, Connection *c) override;
    void want_read(bool on) override;
    void want_write() override;
    bool writing() const override;
    ssize_t read(void *buf, size_t cap) override;
    int write(evbuffer *out) override;

  private:
    static void on_read(evutil_socket_t, short, void *arg);
    static void on_write(evutil_socket_t, short, void *arg);
    int fd_ = -1;
    event *read_ev_ = nullptr;
    event *write_ev_ = nullptr;
};

} // namespace jimd

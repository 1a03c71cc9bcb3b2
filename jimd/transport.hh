// How a connection's bytes travel: the seam between a Connection and its socket. Every
// connection starts on plain TCP; one whose first byte is 0x16 (a TLS handshake record)
// is handed to a TLS transport on the same socket (transport_tls.cc), so one port serves
// both and the plain path pays nothing for TLS.
#pragma once

#include "output_buffer.hh"

#include <event2/event.h>

#include <openssl/types.h>

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
    // Writes from out what the socket takes now (and consumes it from out): how many
    // bytes, or -1 with errno (EAGAIN: nothing now).
    virtual ssize_t write(OutputBuffer &out) = 0;
};

// Plain TCP: read(2) and write(2) on the socket, one event each way. The write
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
    ssize_t write(OutputBuffer &out) override;
    int fd() const { return fd_; }
    // Gives the socket up (for another transport): its events are freed, it is not closed.
    int release_fd();

  private:
    static void on_read(evutil_socket_t, short, void *arg);
    static void on_write(evutil_socket_t, short, void *arg);
    int fd_ = -1;
    event *read_ev_ = nullptr;
    event *write_ev_ = nullptr;
};

// TLS: OpenSSL, non-blocking, on the socket itself, with one event each way as plain TCP
// has. OpenSSL sometimes needs the other direction than the one asked for (a handshake
// record to write while reading; input while writing): that wait is armed instead, and
// the connection is called again when it ends. Input OpenSSL has decrypted but not handed
// over yet makes the connection readable again at once.
class TlsTransport final : public Transport {
  public:
    explicit TlsTransport(SSL_CTX *ctx) : ctx_(ctx) {}
    ~TlsTransport() override;
    TlsTransport(const TlsTransport &) = delete;
    TlsTransport &operator=(const TlsTransport &) = delete;
    bool open(event_base *base, int fd, Connection *c) override;
    void want_read(bool on) override;
    void want_write() override;
    bool writing() const override;
    ssize_t read(void *buf, size_t cap) override;
    ssize_t write(OutputBuffer &out) override;

  private:
    static void on_read(evutil_socket_t, short, void *arg);
    static void on_write(evutil_socket_t, short, void *arg);
    // Arms the read event when someone waits for input, disarms it otherwise.
    void update_read_event();
    // Sets errno for a failed SSL call: EAGAIN (and what it waits for armed), or EIO.
    void failed(int ret, bool in_read);
    SSL_CTX *ctx_;
    SSL *ssl_ = nullptr;
    Connection *c_ = nullptr;
    int fd_ = -1;
    event *read_ev_ = nullptr;
    event *write_ev_ = nullptr;
    bool reading_ = false;          // the connection wants on_readable
    bool read_armed_ = false;       // read_ev_ is added
    bool writer_waits_ = false;     // the connection wants on_writable
    bool read_needs_write_ = false; // an SSL_read waits for the socket to take output
    bool write_needs_read_ = false; // an SSL_write waits for input
    bool broken_ = false;           // a fatal TLS error: no close_notify
};

} // namespace jimd

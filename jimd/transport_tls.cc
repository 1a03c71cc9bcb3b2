// TLS under a connection: OpenSSL on the socket, non-blocking (transport.hh).
#include "transport.hh"

#include "connection.hh"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <unistd.h>

namespace jimd {

namespace {

// The most plaintext one SSL_write takes: one full record.
constexpr size_t kRecord = 16384;

} // namespace

TlsTransport::~TlsTransport()
{
    if (read_ev_)
        event_free(read_ev_);
    if (write_ev_)
        event_free(write_ev_);
    if (ssl_) {
        // A close_notify, if the socket takes it now: the client learns the stream ended
        // where jimd meant it to.
        if (!broken_ && SSL_is_init_finished(ssl_))
            SSL_shutdown(ssl_);
        SSL_free(ssl_);
        ERR_clear_error();
    }
    if (fd_ >= 0)
        close(fd_);
}

bool TlsTransport::open(event_base *base, int fd, Connection *c)
{
    fd_ = fd;
    c_ = c;
    ssl_ = SSL_new(ctx_);
    if (!ssl_ || SSL_set_fd(ssl_, fd) != 1)
        return false;
    SSL_set_accept_state(ssl_);
    read_ev_ = event_new(base, fd, EV_READ | EV_PERSIST, on_read, this);
    write_ev_ = event_new(base, fd, EV_WRITE, on_write, this);
    return read_ev_ && write_ev_;
}

void TlsTransport::update_read_event()
{
    bool want = (reading_ && !read_needs_write_) || write_needs_read_;
    if (want == read_armed_ || !read_ev_)
        return;
    if (want)
        event_add(read_ev_, nullptr);
    else
        event_del(read_ev_);
    read_armed_ = want;
}

void TlsTransport::on_read(evutil_socket_t, short, void *arg)
{
    auto *t = static_cast<TlsTransport *>(arg);
    if (t->write_needs_read_) {
        t->write_needs_read_ = false;
        t->update_read_event();
        if (t->writer_waits_) {
            t->writer_waits_ = false;
            t->c_->on_writable();
        }
    }
    if (t->reading_ && !t->read_needs_write_) {
        t->c_->on_readable();
        // Decrypted input OpenSSL still holds: no socket event would tell of it.
        if (t->reading_ && t->read_armed_ && SSL_pending(t->ssl_) > 0)
            event_active(t->read_ev_, EV_READ, 0);
    }
}

void TlsTransport::on_write(evutil_socket_t, short, void *arg)
{
    auto *t = static_cast<TlsTransport *>(arg);
    bool reader = t->read_needs_write_, writer = t->writer_waits_;
    t->read_needs_write_ = t->writer_waits_ = false;
    if (reader)
        t->update_read_event();
    if (writer)
        t->c_->on_writable();
    if (reader && t->reading_)
        t->c_->on_readable();
}

void TlsTransport::want_read(bool on)
{
    reading_ = on;
    update_read_event();
    if (on && read_armed_ && SSL_pending(ssl_) > 0)
        event_active(read_ev_, EV_READ, 0);
}

void TlsTransport::want_write()
{
    writer_waits_ = true;
    if (!write_needs_read_) // else the read event retries the write
        event_add(write_ev_, nullptr);
}

bool TlsTransport::writing() const
{
    return writer_waits_;
}

void TlsTransport::failed(int ret, bool in_read)
{
    switch (SSL_get_error(ssl_, ret)) {
    case SSL_ERROR_WANT_READ:
        if (!in_read) {
            write_needs_read_ = true;
            update_read_event();
        }
        errno = EAGAIN;
        return;
    case SSL_ERROR_WANT_WRITE:
        if (in_read) {
            read_needs_write_ = true;
            update_read_event();
            event_add(write_ev_, nullptr);
        }
        errno = EAGAIN;
        return;
    case SSL_ERROR_ZERO_RETURN: // the client's close_notify
        errno = 0;
        return;
    default: // a failed handshake, a bad record, a socket error
        broken_ = true;
        ERR_clear_error();
        errno = EIO;
    }
}

ssize_t TlsTransport::read(void *buf, size_t cap)
{
    size_t got = 0;
    while (got < cap) {
        ERR_clear_error();
        int n = SSL_read(ssl_, static_cast<char *>(buf) + got,
                         static_cast<int>(std::min<size_t>(cap - got, INT_MAX)));
        if (n > 0) {
            got += static_cast<size_t>(n);
            continue;
        }
        int saved = SSL_get_error(ssl_, n);
        if (got > 0) {
            if (saved == SSL_ERROR_WANT_READ || saved == SSL_ERROR_WANT_WRITE)
                failed(n, true);              // arm what it waits for; the bytes come first
            return static_cast<ssize_t>(got); // an end or error shows at the next read
        }
        failed(n, true);
        if (saved == SSL_ERROR_ZERO_RETURN)
            return 0;
        return -1;
    }
    return static_cast<ssize_t>(got);
}

ssize_t TlsTransport::write(OutputBuffer &out)
{
    ssize_t total = 0;
    while (size_t left = out.size()) {
        size_t len = std::min(left, kRecord);
        ERR_clear_error();
        // The block may have moved since a write that could not finish was begun
        // (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER): its bytes are the same.
        int n = SSL_write(ssl_, out.data(), static_cast<int>(len));
        if (n > 0) {
            out.consume(static_cast<size_t>(n));
            total += n;
            continue;
        }
        failed(n, false);
        if (errno == 0) // the client closed its side while jimd still writes
            errno = EPIPE;
        return total > 0 && errno == EAGAIN ? total : -1;
    }
    return total;
}

} // namespace jimd

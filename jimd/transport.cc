// Plain TCP under a connection (transport.hh).
#include "transport.hh"

#include "connection.hh"

#include <cerrno>
#include <unistd.h>

namespace jimd {

PlainTransport::~PlainTransport()
{
    if (read_ev_)
        event_free(read_ev_);
    if (write_ev_)
        event_free(write_ev_);
    if (fd_ >= 0)
        close(fd_);
}

int PlainTransport::release_fd()
{
    if (read_ev_)
        event_free(read_ev_);
    if (write_ev_)
        event_free(write_ev_);
    read_ev_ = write_ev_ = nullptr;
    int fd = fd_;
    fd_ = -1;
    return fd;
}

bool PlainTransport::open(event_base *base, int fd, Connection *c)
{
    fd_ = fd;
    read_ev_ = event_new(base, fd, EV_READ | EV_PERSIST, on_read, c);
    return read_ev_ != nullptr;
}

void PlainTransport::on_read(evutil_socket_t, short, void *arg)
{
    static_cast<Connection *>(arg)->on_readable();
}

void PlainTransport::on_write(evutil_socket_t, short, void *arg)
{
    static_cast<Connection *>(arg)->on_writable();
}

void PlainTransport::want_read(bool on)
{
    if (on)
        event_add(read_ev_, nullptr);
    else
        event_del(read_ev_);
}

void PlainTransport::want_write()
{
    if (!write_ev_)
        write_ev_ = event_new(event_get_base(read_ev_), fd_, EV_WRITE, on_write,
                              event_get_callback_arg(read_ev_));
    if (write_ev_)
        event_add(write_ev_, nullptr);
}

bool PlainTransport::writing() const
{
    return write_ev_ && event_pending(write_ev_, EV_WRITE, nullptr);
}

ssize_t PlainTransport::read(void *buf, size_t cap)
{
    return ::read(fd_, buf, cap);
}

ssize_t PlainTransport::write(OutputBuffer &out)
{
    ssize_t n = ::write(fd_, out.data(), out.size());
    if (n > 0)
        out.consume(static_cast<size_t>(n));
    return n;
}

} // namespace jimd

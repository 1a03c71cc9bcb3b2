// Accepting connections (acceptor.hh).
#include "acceptor.hh"

#include "clock.hh"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace jimd {

namespace {

// The peer's address as text; IPv4 clients of an IPv6 socket as plain IPv4.
void address_text(const sockaddr_storage &ss, char *ip, size_t size)
{
    if (ss.ss_family == AF_INET6) {
        const auto *a = reinterpret_cast<const sockaddr_in6 *>(&ss);
        if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr))
            inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], ip, static_cast<socklen_t>(size));
        else
            inet_ntop(AF_INET6, &a->sin6_addr, ip, static_cast<socklen_t>(size));
    } else if (ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in *>(&ss)->sin_addr, ip,
                  static_cast<socklen_t>(size));
    }
}

} // namespace

Acceptor::Acceptor(event_base *base, jim_log *log, std::string tag, OnAccept on_accept)
    : base_(base), log_(log), tag_(std::move(tag)), on_accept_(std::move(on_accept))
{
}

Acceptor::~Acceptor()
{
    for (event *e : listen_evs_)
        event_free(e);
    if (resume_ev_)
        event_free(resume_ev_);
}

bool Acceptor::start(const std::vector<int> &fds)
{
    rlimit rl;
    fd_limit_ = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                    ? static_cast<long>(rl.rlim_cur)
                    : 1L << 30;
    resume_ev_ = event_new(base_, -1, 0, on_resume, this);
    if (!resume_ev_)
        return false;
    for (int fd : fds) {
        event *e = event_new(base_, fd, EV_READ | EV_PERSIST, on_listen, this);
        if (!e)
            return false;
        listen_evs_.push_back(e);
        if (event_add(e, nullptr) != 0)
            return false;
    }
    return true;
}

void Acceptor::stop()
{
    stopped_ = true;
    pause(true);
}

void Acceptor::pause(bool paused)
{
    for (event *e : listen_evs_)
        if (paused)
            event_del(e);
        else
            event_add(e, nullptr);
}

void Acceptor::on_listen(evutil_socket_t fd, short, void *arg)
{
    static_cast<Acceptor *>(arg)->accept_from(fd);
}

void Acceptor::accept_from(int lfd)
{
    for (int i = 0; i < 64 && !stopped_; i++) {
        if (near_limit_ && !spare_left(lfd))
            return;
        sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd =
            accept4(lfd, reinterpret_cast<sockaddr *>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                wait_a_moment((std::string("accept() failed: ") + strerror(errno)).c_str());
            return;
        }
        // The kernel gives the lowest free descriptor: every one below fd is in use.
        near_limit_ = fd >= fd_limit_ - kSpareFds;
        char ip[INET6_ADDRSTRLEN] = "?";
        address_text(ss, ip, sizeof ip);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        on_accept_(fd, ip);
    }
}

// Near the limit: whether the descriptor the next socket would get (the lowest free one,
// which a dup shows) leaves kSpareFds free; if not, accepting waits a moment.
bool Acceptor::spare_left(int lfd)
{
    int probe = fcntl(lfd, F_DUPFD_CLOEXEC, 0);
    if (probe >= 0)
        ::close(probe);
    if (probe >= 0 && probe < fd_limit_ - kSpareFds) {
        near_limit_ = false;
        return true;
    }
    wait_a_moment(("fewer than " + std::to_string(kSpareFds) + " descriptors left").c_str());
    return false;
}

// Out of descriptors or memory (or nearly): the listening sockets would stay readable, and
// the loop would spin on them. Accepting stops for kPauseMs (the connections wait in the
// listen queue), and the log says so at most once per kLogEverySec, with how often it
// happened.
void Acceptor::wait_a_moment(const char *why)
{
    pause(true);
    timeval wait = {0, kPauseMs * 1000};
    event_add(resume_ev_, &wait);
    failures_++;
    int64_t now = mono_us();
    if (now - logged_us_ >= kLogEverySec * 1000000) {
        JIM_LOG(log_, JIM_LOG_WARNING, tag_.c_str(),
                "%s: not accepting for %d ms (%llu times since the last report)", why, kPauseMs,
                static_cast<unsigned long long>(failures_));
        logged_us_ = now;
        failures_ = 0;
    }
}

void Acceptor::on_resume(evutil_socket_t, short, void *arg)
{
    auto *a = static_cast<Acceptor *>(arg);
    if (!a->stopped_)
        a->pause(false);
}

} // namespace jimd

// The reference relay: one epoll loop, no persistence, no JSON parser — it finds the
// few fields it needs by searching the line, and forwards the request line itself.
#include "relay.hh"
#include "net.hh"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace jimbench {

namespace {

// The string value of "key" in a JSON line, or empty.
std::string_view field(std::string_view line, std::string_view key)
{
    size_t at = line.find(key);
    if (at == std::string_view::npos)
        return {};
    size_t start = line.find('"', at + key.size() + 1);
    if (start == std::string_view::npos)
        return {};
    size_t end = line.find('"', start + 1);
    if (end == std::string_view::npos)
        return {};
    return line.substr(start + 1, end - start - 1);
}

const char kOk[] = "{\"response\":200,\"time\":0,\"alert\":\"OK\"}\n";

// The relay's loop and its state. Output is gathered and written once per connection
// per loop iteration.
class Relay {
  public:
    explicit Relay(int lfd) : lfd_(lfd), ep_(epoll_create1(EPOLL_CLOEXEC))
    {
        watch(EPOLL_CTL_ADD, lfd_, EPOLLIN);
    }

    int run()
    {
        std::vector<epoll_event> events(1024);
        for (;;) {
            int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), -1);
            for (int i = 0; i < n; i++) {
                if (events[i].data.fd == lfd_)
                    accept_all();
                else
                    on_event(events[i].data.fd, events[i].events);
            }
            flush_dirty();
        }
    }

  private:
    void watch(int op, int fd, uint32_t what)
    {
        epoll_event e = {};
        e.events = what;
        e.data.fd = fd;
        epoll_ctl(ep_, op, fd, &e);
    }
    void accept_all()
    {
        int cfd;
        while ((cfd = accept4(lfd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
            conns_[cfd].fd = cfd;
            watch(EPOLL_CTL_ADD, cfd, EPOLLIN);
        }
    }
    void on_event(int fd, uint32_t what)
    {
        auto it = conns_.find(fd);
        if (it == conns_.end())
            return;
        Conn &c = it->second;
        if (what & EPOLLOUT) {
            c.flush();
            if (c.out.empty()) {
                c.want_write = false;
                watch(EPOLL_CTL_MOD, fd, EPOLLIN);
            }
        }
        if (!(what & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            return;
        bool alive = c.fill();
        std::string_view line;
        while (c.line(&line))
            on_line(c, line);
        if (!alive) {
            epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
            close(fd);
            conns_.erase(it);
        }
    }
    // One request: a msg forwarded as it is, a login or join noted; each answered 200.
    void on_line(Conn &c, std::string_view line)
    {
        std::string_view action = field(line, "\"action\"");
        if (action == "msg") {
            std::string to(field(line, "\"to\""));
            std::string fwd(line);
            fwd.push_back('\n');
            if (!to.empty() && to[0] == '#') {
                for (int m : rooms_[to])
                    if (auto mc = conns_.find(m); m != c.fd && mc != conns_.end())
                        out(mc->second, fwd);
            } else if (auto t = by_name_.find(to); t != by_name_.end()) {
                if (auto tc = conns_.find(t->second); tc != conns_.end())
                    out(tc->second, fwd);
            }
        } else if (action == "presence" || action == "authenticate" || action == "register") {
            by_name_[std::string(field(line, "\"account_name\""))] = c.fd;
        } else if (action == "join") {
            rooms_[std::string(field(line, "\"room\""))].push_back(c.fd);
        }
        out(c, kOk);
    }
    void out(Conn &c, std::string_view s)
    {
        if (c.out.empty())
            dirty_.push_back(c.fd);
        c.out.append(s);
    }
    void flush_dirty()
    {
        for (int fd : dirty_) {
            auto it = conns_.find(fd);
            if (it == conns_.end())
                continue;
            Conn &c = it->second;
            c.flush();
            if (!c.out.empty() && !c.want_write) {
                c.want_write = true;
                watch(EPOLL_CTL_MOD, c.fd, EPOLLIN | EPOLLOUT);
            }
        }
        dirty_.clear();
    }

    int lfd_, ep_;
    std::unordered_map<int, Conn> conns_;
    std::unordered_map<std::string, int> by_name_;
    std::unordered_map<std::string, std::vector<int>> rooms_;
    std::vector<int> dirty_; // connections with output this iteration
};

} // namespace

int run_relay(int lfd)
{
    return Relay(lfd).run();
}

} // namespace jimbench

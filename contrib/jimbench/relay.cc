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

} // namespace

int run_relay(int lfd)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev = {};
    ev.events = EPOLLIN;
    ev.data.fd = lfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    std::unordered_map<int, Conn> conns;
    std::unordered_map<std::string, int> by_name;
    std::unordered_map<std::string, std::vector<int>> rooms;
    std::vector<epoll_event> events(1024);
    // Output is gathered and written once per connection per loop iteration.
    std::vector<int> dirty;
    auto out = [&](Conn &c, std::string_view s) {
        if (c.out.empty())
            dirty.push_back(c.fd);
        c.out.append(s);
    };
    auto flush_dirty = [&] {
        for (int fd : dirty) {
            auto it = conns.find(fd);
            if (it == conns.end())
                continue;
            Conn &c = it->second;
            c.flush();
            if (!c.out.empty() && !c.want_write) {
                c.want_write = true;
                epoll_event e = {};
                e.events = EPOLLIN | EPOLLOUT;
                e.data.fd = c.fd;
                epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &e);
            }
        }
        dirty.clear();
    };
    for (;;) {
        int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), -1);
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == lfd) {
                int cfd;
                while ((cfd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    Conn &c = conns[cfd];
                    c.fd = cfd;
                    epoll_event e = {};
                    e.events = EPOLLIN;
                    e.data.fd = cfd;
                    epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &e);
                }
                continue;
            }
            auto it = conns.find(fd);
            if (it == conns.end())
                continue;
            Conn &c = it->second;
            if (events[i].events & EPOLLOUT) {
                c.flush();
                if (c.out.empty()) {
                    c.want_write = false;
                    epoll_event e = {};
                    e.events = EPOLLIN;
                    e.data.fd = fd;
                    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
                }
            }
            if (!(events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                continue;
            bool alive = c.fill();
            std::string_view line;
            while (c.line(&line)) {
                std::string_view action = field(line, "\"action\"");
                if (action == "msg") {
                    std::string to(field(line, "\"to\""));
                    std::string fwd(line);
                    fwd.push_back('\n');
                    if (!to.empty() && to[0] == '#') {
                        for (int m : rooms[to])
                            if (auto mc = conns.find(m); m != fd && mc != conns.end())
                                out(mc->second, fwd);
                    } else if (auto t = by_name.find(to); t != by_name.end()) {
                        if (auto tc = conns.find(t->second); tc != conns.end())
                            out(tc->second, fwd);
                    }
                } else if (action == "presence" || action == "authenticate" ||
                           action == "register") {
                    by_name[std::string(field(line, "\"account_name\""))] = fd;
                } else if (action == "join") {
                    rooms[std::string(field(line, "\"room\""))].push_back(fd);
                }
                out(c, kOk);
            }
            if (!alive) {
                epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
                close(fd);
                conns.erase(it);
            }
        }
        flush_dirty();
    }
}

} // namespace jimbench

// The crash loop's load (see load.hh).
#include "load.hh"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <unordered_set>

namespace crash {

int64_t now_ns()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

namespace {

constexpr size_t kWindow = 64; // answers a session waits for at most, when paced

int connect_loopback(int port)
{
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
        if (fd >= 0)
            ::close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

} // namespace

struct Load::Session {
    std::string user;
    int fd = -1;
    jim_framer *framer = nullptr;
    enum class State { Down, LoggingIn, Online, Quitting } state = State::Down;
    std::unordered_set<std::string> waiting; // msg ids without an answer
    std::string out;
    int64_t retry_at = 0; // Down: when to connect again
    int logins = 0, syncs = 0;
    long until_quit = 0;     // messages until this session logs out and in again
    bool burst_only = false; // the burst user's session: sends only in bursts
};

Load::Load(int port, int round, Ledger &ledger, std::mt19937_64 &rnd, LoadConfig cfg)
    : port_(port), round_(round), ledger_(ledger), rnd_(rnd), cfg_(std::move(cfg))
{
    jim_msg_new(&msg_);
    for (const std::string &u : cfg_.online)
        for (int k = 0; k < 2; k++) {
            auto *s = new Session;
            s->user = u;
            s->until_quit = 50 + static_cast<long>(rnd_() % 400);
            sessions_.push_back(s);
        }
    started_ns_ = now_ns();
    for (Session *s : sessions_)
        connect(*s);
}

Load::~Load()
{
    for (Session *s : sessions_) {
        if (s->fd >= 0)
            ::close(s->fd);
        jim_framer_free(s->framer);
        delete s;
    }
    jim_msg_free(msg_);
}

void Load::connect(Session &s)
{
    s.fd = connect_loopback(port_);
    if (s.fd < 0) {
        s.retry_at = now_ns() + 50000000;
        return;
    }
    jim_framer_free(s.framer);
    jim_framer_new(&s.framer, nullptr);
    s.state = Session::State::LoggingIn;
    s.out = "{\"action\":\"authenticate\",\"id\":\"login\",\"user\":{\"account_name\":\"" + s.user +
            "\",\"password\":\"password1\",\"features\":[\"ndjson\"]}}\n";
    s.logins++;
}

// The connection is gone: what waited for an answer may or may not have been stored.
void Load::lost(Session &s)
{
    for (const std::string &id : s.waiting)
        ledger_.unanswered(id);
    s.waiting.clear();
    if (s.fd >= 0)
        ::close(s.fd);
    s.fd = -1;
    s.out.clear();
    s.state = Session::State::Down;
    s.retry_at = now_ns() + 20000000 + static_cast<int64_t>(rnd_() % 80000000);
}

std::string Load::text_for(const std::string &id)
{
    std::string t = id + " ";
    while (t.size() < cfg_.text_chars)
        t += "abcdefghijklmnopqrstuvwxyz0123456789 "[t.size() % 37];
    return t;
}

// One message from s to a target chosen as the mix says.
void Load::send_one(Session &s, const std::string &forced)
{
    std::string to = forced;
    unsigned pick = static_cast<unsigned>(rnd_() % 100);
    if (!to.empty()) {
    } else if (pick < 40 && cfg_.online.size() > 1) {
        do
            to = cfg_.online[rnd_() % cfg_.online.size()];
        while (to == s.user);
    } else if (pick < 60 && !cfg_.offline.empty()) {
        to = cfg_.offline[rnd_() % cfg_.offline.size()];
    } else if (pick < 90) {
        to = cfg_.room;
    } else if (pick < 95) {
        to = "nobody" + std::to_string(rnd_() % 1000); // no such user: 404
    } else {
        to = cfg_.locked_room; // not a member: 403
    }
    std::string id = ledger_.add(round_, s.user, to);
    s.out += "{\"action\":\"msg\",\"id\":\"" + id + "\",\"to\":\"" + to + "\",\"message\":\"" +
             text_for(id) + "\"}\n";
    s.waiting.insert(id);
    sent_++;
    if (--s.until_quit <= 0) { // log out, and in again on a new connection
        s.out += "{\"action\":\"quit\",\"id\":\"bye\"}\n";
        s.state = Session::State::Quitting;
        s.until_quit = 50 + static_cast<long>(rnd_() % 400);
    } else if (rnd_() % 100 == 0) { // now and then a sync, read like any list
        s.out += "{\"action\":\"sync\",\"id\":\"sync\",\"since\":" +
                 std::to_string(std::max<int64_t>(0, static_cast<int64_t>(sent_) - 200)) + "}\n";
        s.syncs++;
    }
}

void Load::on_object(Session &s, const jim_msg *m)
{
    int code = jim_msg_response(m);
    if (!code)
        return; // a push: read and dropped, as a client that keeps up does
    const char *id = jim_msg_get_str(m, JIM_FIELD_ID);
    std::string key = id ? id : "";
    if (key == "login") {
        if (code == 200)
            s.state = Session::State::Online;
        else
            lost(s); // 409 or 429 while the server catches up: try again
        return;
    }
    if (key == "bye") {
        lost(s);
        s.retry_at = now_ns(); // log in again at once
        return;
    }
    if (s.waiting.erase(key)) {
        int64_t seq = 0;
        jim_msg_get_int(m, JIM_FIELD_SEQ, &seq);
        ledger_.answered(key, code, seq);
    }
}

void Load::read(Session &s)
{
    for (;;) {
        void *buf;
        size_t cap;
        if (jim_framer_reserve(s.framer, 65536, &buf, &cap) != JIM_OK) {
            // Whole objects wait: take them first.
            while (jim_framer_next_msg(s.framer, msg_) == JIM_OK)
                on_object(s, msg_);
            if (jim_framer_reserve(s.framer, 65536, &buf, &cap) != JIM_OK) {
                lost(s);
                return;
            }
        }
        ssize_t n = ::recv(s.fd, buf, cap, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) {
            jim_framer_commit(s.framer, 0);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            jim_framer_commit(s.framer, 0);
            return;
        }
        if (n <= 0) {
            jim_framer_commit(s.framer, 0);
            lost(s);
            return;
        }
        jim_framer_commit(s.framer, static_cast<size_t>(n));
        int rc;
        while ((rc = jim_framer_next_msg(s.framer, msg_)) != JIM_EAGAIN && s.fd >= 0) {
            if (rc == JIM_OK)
                on_object(s, msg_);
            else if (!jim_framer_can_continue(s.framer))
                return lost(s);
        }
        if (s.fd < 0 || static_cast<size_t>(n) < cap)
            return;
    }
}

// One turn: connects what is down, sends what the pace allows, polls, reads and writes.
void Load::step(int timeout_ms, bool sending)
{
    int64_t now = now_ns();
    if (sending) {
        // The pace: as many messages by now as rate says, spread over the sessions.
        double due = (static_cast<double>(now - started_ns_) / 1e9) * cfg_.rate;
        for (size_t turn = 0; static_cast<double>(sent_) < due && turn < sessions_.size(); turn++) {
            Session &s = *sessions_[rnd_() % sessions_.size()];
            if (s.state == Session::State::Online && !s.burst_only && s.waiting.size() < kWindow)
                send_one(s);
        }
    }
    std::vector<pollfd> pfds;
    std::vector<Session *> who;
    for (Session *s : sessions_) {
        if (s->fd < 0) {
            if (sending && now >= s->retry_at)
                connect(*s);
            if (s->fd < 0)
                continue;
        }
        pfds.push_back({s->fd, static_cast<short>(POLLIN | (s->out.empty() ? 0 : POLLOUT)), 0});
        who.push_back(s);
    }
    if (::poll(pfds.data(), pfds.size(), timeout_ms) <= 0)
        return;
    for (size_t i = 0; i < pfds.size(); i++) {
        Session &s = *who[i];
        if (pfds[i].revents & POLLOUT) {
            ssize_t n = ::send(s.fd, s.out.data(), s.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0)
                s.out.erase(0, static_cast<size_t>(n));
            else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                lost(s);
                continue;
            }
        }
        if (pfds[i].revents & (POLLIN | POLLERR | POLLHUP))
            read(s);
    }
}

void Load::run(double seconds, const std::function<bool()> &tick)
{
    int64_t end = now_ns() + static_cast<int64_t>(seconds * 1e9);
    while (now_ns() < end) {
        step(2, true);
        if (tick && !tick())
            break;
    }
}

void Load::burst(const std::string &user, int n, const std::string &to)
{
    Session *s = nullptr;
    for (Session *c : sessions_)
        if (c->user == user)
            s = c;
    if (!s) {
        s = new Session;
        s->user = user;
        s->burst_only = true;
        s->until_quit = 1L << 40;
        sessions_.push_back(s);
        connect(*s);
    }
    for (int64_t end = now_ns() + 5000000000; s->state != Session::State::Online && now_ns() < end;)
        step(5, false);
    if (s->state != Session::State::Online)
        return;
    s->until_quit = 1L << 40;
    for (int i = 0; i < n; i++)
        send_one(*s, to);
    s->until_quit = 1L << 40;
    // Written whole before returning: the server has it all to commit.
    for (int64_t end = now_ns() + 5000000000; !s->out.empty() && s->fd >= 0 && now_ns() < end;)
        step(1, false);
}

void Load::finish(double seconds)
{
    int64_t end = now_ns() + static_cast<int64_t>(seconds * 1e9);
    auto waiting = [this] {
        for (Session *s : sessions_)
            if (s->fd >= 0 && (!s->waiting.empty() || !s->out.empty()))
                return true;
        return false;
    };
    while (waiting() && now_ns() < end)
        step(5, false);
    for (Session *s : sessions_)
        if (s->fd >= 0)
            lost(*s); // unanswered ones are Unknown; the close logs the session out
}

} // namespace crash

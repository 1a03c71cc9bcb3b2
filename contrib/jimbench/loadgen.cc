// Workloads W1 (direct), W2 (room), W3 (idle connections) and W4 (logins), each run on a
// fresh server, driven from one epoll loop.
#include "loadgen.hh"
#include "net.hh"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <vector>

namespace jimbench {

namespace {

// An epoll loop over a set of connections; lines go to a callback.
class Loop {
  public:
    using OnLine = std::function<void(Conn &, std::string_view)>;
    Loop() : ep_(epoll_create1(EPOLL_CLOEXEC)) {}
    ~Loop()
    {
        for (Conn &c : conns_)
            if (c.fd >= 0)
                close(c.fd);
        close(ep_);
    }
    // Opens n connections to port; false if one fails.
    bool open(int port, int n)
    {
        conns_.reserve(conns_.size() + static_cast<size_t>(n));
        for (int i = 0; i < n; i++) {
            int fd = connect_loopback(port);
            if (fd < 0) {
                std::fprintf(stderr, "jimbench: connect: %s\n", std::strerror(errno));
                return false;
            }
            Conn c;
            c.fd = fd;
            c.index = static_cast<int>(conns_.size());
            conns_.push_back(std::move(c));
            epoll_event e = {};
            e.events = EPOLLIN;
            e.data.u32 = static_cast<uint32_t>(conns_.size() - 1);
            epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &e);
        }
        return true;
    }
    Conn &operator[](size_t i) { return conns_[i]; }
    size_t size() const { return conns_.size(); }
    // Queues s; what a loop iteration queues goes out in one write per connection, as
    // an efficient client would send it.
    void send(Conn &c, std::string_view s)
    {
        if (c.out.empty())
            dirty_.push_back(c.index);
        c.out.append(s);
    }
    void flush_dirty()
    {
        for (int i : dirty_) {
            Conn &c = conns_[static_cast<size_t>(i)];
            c.flush();
            if (!c.out.empty() && !c.want_write) {
                c.want_write = true;
                epoll_event e = {};
                e.events = EPOLLIN | EPOLLOUT;
                e.data.u32 = static_cast<uint32_t>(c.index);
                epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &e);
            }
        }
        dirty_.clear();
    }
    // Runs until done() or the deadline; false on timeout or a dead connection. tick, if
    // given, runs after each wake-up and returns when (now_ns clock) it wants the next one:
    // the loop sleeps until then at the latest, to the microsecond (an open-loop sender's
    // schedule), or up to 100 ms when it returns 0.
    bool run(const OnLine &on_line, const std::function<bool()> &done, int64_t deadline_ns,
             const std::function<int64_t()> &tick = nullptr)
    {
        epoll_event ev[512];
        int64_t wake_at = tick ? tick() : 0;
        flush_dirty();
        while (!done()) {
            int64_t now = now_ns();
            if (now > deadline_ns)
                return false;
            int64_t wait = wake_at > 0 ? std::max<int64_t>(0, wake_at - now) : 100000000;
            timespec ts = {static_cast<time_t>(wait / 1000000000),
                           static_cast<long>(wait % 1000000000)};
            int n = epoll_pwait2(ep_, ev, 512, &ts, nullptr);
            if (n < 0 && errno != EINTR) { // ENOSYS before Linux 5.11: say so, do not spin
                std::fprintf(stderr, "jimbench: epoll_pwait2: %s\n", std::strerror(errno));
                return false;
            }
            read_ns_ = now_ns();
            for (int i = 0; i < n; i++) {
                Conn &c = conns_[ev[i].data.u32];
                if (ev[i].events & EPOLLOUT) {
                    c.flush();
                    if (c.out.empty()) {
                        c.want_write = false;
                        epoll_event e = {};
                        e.events = EPOLLIN;
                        e.data.u32 = static_cast<uint32_t>(c.index);
                        epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &e);
                    }
                }
                if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                    bool alive = c.fill();
                    std::string_view line;
                    while (c.line(&line))
                        on_line(c, line);
                    if (!alive) {
                        std::fprintf(stderr, "jimbench: connection %d closed by the server\n",
                                     c.index);
                        return false;
                    }
                }
            }
            if (tick)
                wake_at = tick();
            flush_dirty();
        }
        return true;
    }

    // When the lines being handled were read (the wake-up that read them): their arrival
    // time, taken once per wake-up rather than once per line.
    int64_t read_ns() const { return read_ns_; }

  private:
    int ep_;
    int64_t read_ns_ = 0;
    std::vector<Conn> conns_;
    std::vector<int> dirty_;
};

bool is_response(std::string_view l, int *code)
{
    if (l.rfind("{\"response\":", 0) != 0)
        return false;
    *code = std::atoi(l.data() + 12);
    return true;
}

bool is_msg(std::string_view l)
{
    return l.rfind("{\"action\":\"msg\"", 0) == 0;
}

// The send time carried at the start of a message's text (20 digits), or -1.
int64_t sent_at(std::string_view l)
{
    static constexpr std::string_view kKey = "\"message\":\"";
    // memmem, not string_view::find: find stops at every '"' the line has
    auto *at = static_cast<const char *>(memmem(l.data(), l.size(), kKey.data(), kKey.size()));
    if (!at || static_cast<size_t>(l.data() + l.size() - at) < kKey.size() + 20)
        return -1;
    int64_t t = 0;
    for (char d : std::string_view(at + kKey.size(), 20)) {
        if (d < '0' || d > '9')
            return -1;
        t = t * 10 + (d - '0');
    }
    return t;
}

// A 64-byte text that starts with the time ns (the now_ns clock): when it was sent, or in
// an open-loop run when it was due.
std::string text_at(int64_t ns)
{
    char buf[80];
    std::snprintf(buf, sizeof buf, "%020" PRId64 " the quick brown fox jumps over the lazy dog",
                  ns);
    return std::string(buf, 64);
}

std::string text_now()
{
    return text_at(now_ns());
}

// Logs connections [from, to) in as prefix<i> (auth none) and waits for every 200. A 409
// (the same name's session from the previous phase still known to the server: a worker
// still busy with the backlog, or a mesh round trip behind) is retried 20 ms later.
bool login_all(Loop &L, size_t from, size_t to, const char *prefix, int64_t deadline)
{
    size_t pending = 0;
    std::vector<char> waiting(L.size(), 0);
    std::vector<int64_t> retry_at(L.size(), 0);
    auto send_login = [&](size_t i) {
        char req[160];
        std::snprintf(req, sizeof req,
                      "{\"action\":\"presence\",\"time\":0,\"user\":{\"account_name\":\"%s%zu\","
                      "\"features\":[\"ndjson\"]}}\n",
                      prefix, i - from);
        L.send(L[i], req);
    };
    for (size_t i = from; i < to; i++) {
        send_login(i);
        waiting[i] = 1;
        pending++;
    }
    bool refused = false;
    bool ok = L.run(
        [&](Conn &c, std::string_view l) {
            int code;
            auto i = static_cast<size_t>(c.index);
            if (!waiting[i] || !is_response(l, &code))
                return;
            if (code == 409) {
                retry_at[i] = now_ns() + 20000000;
                return;
            }
            refused = refused || code != 200;
            waiting[i] = 0;
            pending--;
        },
        [&] { return pending == 0; }, deadline,
        [&]() -> int64_t {
            int64_t now = now_ns(), next = 0;
            for (size_t i = from; i < to; i++) {
                if (retry_at[i] && retry_at[i] <= now) {
                    retry_at[i] = 0;
                    send_login(i);
                } else if (retry_at[i] && (next == 0 || retry_at[i] < next)) {
                    next = retry_at[i];
                }
            }
            return next;
        });
    return ok && !refused;
}

struct Latency {
    std::vector<int64_t> ns;
    void add(int64_t v) { ns.push_back(v); }
    double pct(double p)
    {
        if (ns.empty())
            return 0;
        size_t k = static_cast<size_t>(p * static_cast<double>(ns.size() - 1));
        std::nth_element(ns.begin(), ns.begin() + static_cast<long>(k), ns.end());
        return static_cast<double>(ns[k]) / 1000.0;
    }
    double max() const
    {
        return ns.empty() ? 0 : static_cast<double>(*std::max_element(ns.begin(), ns.end())) / 1e3;
    }
};

struct Result {
    double rate = 0, per_cpu = 0, p50 = 0, p99 = 0, max = 0, extra = 0;
    double server_load = 0, bench_load = 0; // CPUs each used on average (1.0: one whole core)
    double server_kernel = -1; // the kernel's share of the server's CPU time (-1: under 0.5 s)
    double server_reads = -1, server_writes = -1; // read and write system calls a delivery
    double late_p50 = -1, late_p99 = -1; // open loop: how late jimbench sent (us), -1 closed
    long count = 0;
    bool ok = false;
};

const char kAuthNone[] = "auth none";

// The CPU time used so far: the server's (and its kernel part), jimbench's own; and the
// server's read and write system calls (io false: unknown).
struct CpuMark {
    double server = 0, server_kernel = 0, bench = 0;
    long reads = 0, writes = 0;
    bool io = false;
    explicit CpuMark(const Server &srv)
    {
        server = srv.cpu_seconds(&server_kernel);
        bench = own_cpu_seconds();
        io = srv.io_calls(&reads, &writes);
    }
};

// Fills the rates and CPU loads of delivered deliveries since t0, when the CPU time used
// was m0.
void finish_loads(Result *r, long delivered, int64_t t0, const CpuMark &m0, const Server &srv)
{
    CpuMark m(srv);
    double secs = static_cast<double>(now_ns() - t0) / 1e9;
    double cpu = m.server - m0.server;
    r->count = delivered;
    r->rate = static_cast<double>(delivered) / secs;
    r->per_cpu = cpu > 0 ? static_cast<double>(delivered) / cpu : 0;
    r->server_load = cpu / secs;
    // /proc counts in ticks, which sample user or kernel: a share of fewer is noise.
    r->server_kernel = cpu >= 0.5 ? (m.server_kernel - m0.server_kernel) / cpu : -1;
    r->bench_load = (m.bench - m0.bench) / secs;
    if (m.io && m0.io && delivered > 0) {
        r->server_reads = static_cast<double>(m.reads - m0.reads) / static_cast<double>(delivered);
        r->server_writes =
            static_cast<double>(m.writes - m0.writes) / static_cast<double>(delivered);
    }
}

// Fills a flow workload's rates, CPU loads and latency percentiles from what it counted
// since t0, when the CPU time used was m0.
void finish_flow(Result *r, long delivered, int64_t t0, const CpuMark &m0, const Server &srv,
                 Latency &lat)
{
    finish_loads(r, delivered, t0, m0, srv);
    r->p50 = lat.pct(0.5);
    r->p99 = lat.pct(0.99);
    r->max = lat.max();
}

// The sending side of a flow: senders [0, n) of a loop, each with at most -K messages in
// flight (counted by acknowledgements) to its target, `messages` in all.
class Senders {
  public:
    Senders(const Options &o, Loop &L, int n, const std::function<std::string(int)> &to,
            long messages, long rate)
        : o_(o), L_(L), messages_(messages), rate_(rate), inflight_(static_cast<size_t>(n), 0)
    {
        for (int i = 0; i < n; i++)
            targets_.push_back(to(i));
        if (rate > 0)
            late_.ns.reserve(static_cast<size_t>(messages));
    }
    // Closed loop: sender i tops up its window.
    void top_up(int i)
    {
        while (inflight_[static_cast<size_t>(i)] < o_.inflight && sent_ < messages_)
            send_one(i, now_ns());
    }
    // An acknowledgement reached sender i.
    void acked(int i) { inflight_[static_cast<size_t>(i)]--; }
    // Open loop: sends what is due by now, round robin over the senders with room; returns
    // when the next message is due (0: none left to send).
    int64_t send_due()
    {
        int64_t now = now_ns();
        auto n = static_cast<int>(inflight_.size());
        while (sent_ < messages_ && due(sent_) <= now) {
            int tried = 0;
            for (; tried < n && inflight_[static_cast<size_t>(next_)] >= o_.inflight; tried++)
                next_ = (next_ + 1) % n;
            if (tried == n)
                return now + 1000000; // every window full: an acknowledgement wakes the loop
            late_.add(now - due(sent_));
            send_one(next_, due(sent_));
            next_ = (next_ + 1) % n;
        }
        return sent_ < messages_ ? due(sent_) : 0;
    }
    // How late send_due sent, after its due time.
    Latency &late() { return late_; }

  private:
    int64_t due(long k) const
    {
        return t0_ +
               static_cast<int64_t>(static_cast<double>(k) * 1e9 / static_cast<double>(rate_));
    }
    void send_one(int i, int64_t stamp)
    {
        char req[240], id[48] = "";
        if (o_.ids) // as libjim's clients: a prefix per client and a counter
            std::snprintf(id, sizeof id, ",\"id\":\"b%d-%ld\"", i, sent_ + 1);
        std::snprintf(req, sizeof req,
                      "{\"action\":\"msg\",\"time\":0,\"to\":\"%s\",\"message\":\"%s\"%s}\n",
                      targets_[static_cast<size_t>(i)].c_str(), text_at(stamp).c_str(), id);
        L_.send(L_[static_cast<size_t>(i)], req);
        inflight_[static_cast<size_t>(i)]++;
        sent_++;
    }

    const Options &o_;
    Loop &L_;
    long messages_, rate_, sent_ = 0;
    int64_t t0_ = now_ns();
    int next_ = 0;
    std::vector<int> inflight_;
    std::vector<std::string> targets_;
    Latency late_;
};

// The flow shared by W1 and W2: Senders to to(i) until `expected` msg pushes have arrived
// anywhere.
//
// rate > 0 makes it an open loop: message k is due at t0 + k/rate, goes to the next sender
// in turn with room, and carries its due time, so the latency counts from when it was due
// and a stall anywhere (the server, or jimbench itself late to send) cannot hide. The loop
// wakes at each due time to the microsecond: jimbench's timer slack is 1 ns meanwhile
// (set here, after the server started, so the server does not inherit it).
Result run_flow(const Options &o, Server &srv, Loop &L, int senders,
                const std::function<std::string(int)> &to, long messages, long expected, long rate,
                int64_t deadline)
{
    Result r;
    long delivered = 0;
    // The latency of every delivery, or past kSamples deliveries of every stride-th: the
    // search for the time in each push would make jimbench the limit of a large W2.
    constexpr long kSamples = 500000;
    long stride = (expected + kSamples - 1) / kSamples;
    Latency lat;
    lat.ns.reserve(static_cast<size_t>(expected / stride + 1));
    int64_t t0 = now_ns();
    CpuMark m0(srv);
    Senders S(o, L, senders, to, messages, rate);
    int slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    if (rate > 0)
        prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0);
    else
        for (int i = 0; i < senders; i++)
            S.top_up(i);
    r.ok = L.run(
        [&](Conn &c, std::string_view l) {
            int code;
            if (is_response(l, &code)) {
                if (c.index < senders) {
                    S.acked(c.index);
                    if (rate <= 0)
                        S.top_up(c.index);
                }
            } else if (is_msg(l)) {
                int64_t t = delivered % stride == 0 ? sent_at(l) : -1;
                if (t > 0)
                    lat.add(L.read_ns() - t);
                delivered++;
            }
        },
        [&] { return delivered >= expected; }, deadline,
        rate > 0 ? std::function<int64_t()>([&] { return S.send_due(); }) : nullptr);
    if (rate > 0 && slack > 0)
        prctl(PR_SET_TIMERSLACK, static_cast<unsigned long>(slack), 0, 0, 0);
    finish_flow(&r, delivered, t0, m0, srv, lat);
    if (rate > 0) {
        r.late_p50 = S.late().pct(0.5);
        r.late_p99 = S.late().pct(0.99);
    }
    return r;
}

// W1: P sender -> receiver pairs, K in flight per sender, N messages in all.
Result w1(const Options &o, Server &srv, long messages, long rate)
{
    Result r;
    Loop L;
    int P = o.pairs;
    int64_t deadline = now_ns() + static_cast<int64_t>(o.time_limit * 1e9);
    if (!L.open(srv.port(), 2 * P) || !login_all(L, 0, static_cast<size_t>(P), "s", deadline) ||
        !login_all(L, static_cast<size_t>(P), static_cast<size_t>(2 * P), "r", deadline))
        return r;
    return run_flow(
        o, srv, L, P, [](int i) { return "r" + std::to_string(i); }, messages, messages, rate,
        deadline);
}

// W2: R members in one room, S of them sending, K in flight each.
Result w2(const Options &o, Server &srv)
{
    Result r;
    Loop L;
    int R = o.members, S = o.senders;
    long messages = std::max(1L, o.messages / (R - 1));
    int64_t deadline = now_ns() + static_cast<int64_t>(o.time_limit * 1e9);
    if (!L.open(srv.port(), R) || !login_all(L, 0, static_cast<size_t>(R), "m", deadline))
        return r;
    long joined = 0;
    for (int i = 0; i < R; i++)
        L.send(L[static_cast<size_t>(i)], "{\"action\":\"join\",\"time\":0,\"room\":\"#bench\"}\n");
    if (!L.run(
            [&](Conn &, std::string_view l) {
                int code;
                if (is_response(l, &code))
                    joined++;
            },
            [&] { return joined >= R; }, deadline))
        return r;
    return run_flow(
        o, srv, L, S, [](int) { return std::string("#bench"); }, messages, messages * (R - 1), 0,
        deadline);
}

// W3: C logged-in idle connections; server memory per connection.
Result w3(const Options &o, Server &srv)
{
    Result r;
    Loop L;
    int64_t deadline = now_ns() + static_cast<int64_t>(o.time_limit * 1e9);
    long before = srv.pss_bytes();
    for (int done = 0; done < o.idle; done += 500) {
        int n = std::min(500, o.idle - done);
        size_t from = L.size();
        if (!L.open(srv.port(), n) ||
            !login_all(L, from, from + static_cast<size_t>(n),
                       ("i" + std::to_string(done) + "_").c_str(), deadline))
            return r;
    }
    usleep(500000);
    long after = srv.pss_bytes();
    r.ok = true;
    r.count = o.idle;
    r.extra = static_cast<double>(after - before) / o.idle;
    r.rate = static_cast<double>(after) / 1048576.0;
    return r;
}

// W5: the general chat with C logged-in sessions in it. One sender posts `messages` general
// messages, one at a time (the next when every session has the last); meanwhile a pair
// exchanges direct messages, one in flight, on the same server, to show whether the
// fan-out stalls a worker for everyone else. r.p50/r.max: the time until the last session
// had a general message; r.extra: the pair's p99.
Result w5(const Options &o, Server &srv, int messages)
{
    Result r;
    Loop L;
    int64_t deadline = now_ns() + static_cast<int64_t>(o.time_limit * 1e9);
    for (int done = 0; done < o.idle; done += 500) {
        int n = std::min(500, o.idle - done);
        size_t from = L.size();
        if (!L.open(srv.port(), n) ||
            !login_all(L, from, from + static_cast<size_t>(n),
                       ("g" + std::to_string(done) + "_").c_str(), deadline))
            return r;
    }
    size_t sender = L.size(), pa = sender + 1, pb = sender + 2;
    if (!L.open(srv.port(), 3) || !login_all(L, sender, pb + 1, "gs_", deadline))
        return r;
    auto idle = static_cast<long>(o.idle);
    long posted = 0, reached = 0, delivered = 0;
    int64_t posted_at = 0;
    Latency fanout, pair;
    int64_t pair_sent = 0;
    auto post = [&] {
        posted_at = now_ns();
        reached = 0;
        L.send(L[sender], "{\"action\":\"msg\",\"time\":0,\"message\":\"" + text_now() + "\"}\n");
        posted++;
    };
    auto ping = [&] {
        pair_sent = now_ns();
        L.send(L[pa], "{\"action\":\"msg\",\"time\":0,\"to\":\"gs_2\",\"message\":\"" + text_now() +
                          "\"}\n");
    };
    int64_t t0 = now_ns();
    CpuMark m0(srv);
    post();
    ping();
    bool ok = L.run(
        [&](Conn &c, std::string_view l) {
            if (!is_msg(l))
                return;
            auto i = static_cast<size_t>(c.index);
            if (i == pb && l.find("\"to\":\"gs_2\"") != std::string_view::npos) {
                pair.add(now_ns() - pair_sent);
                ping();
                return;
            }
            if (i >= sender || l.find("\"to\":\"#general\"") == std::string_view::npos)
                return;
            delivered++;
            if (++reached == idle) {
                fanout.add(now_ns() - posted_at);
                if (posted < messages)
                    post();
            }
        },
        [&] { return posted == messages && reached == idle; }, deadline);
    r.ok = ok;
    finish_loads(&r, delivered, t0, m0, srv);
    r.p50 = fanout.pct(0.5);
    r.max = fanout.max();
    r.p99 = pair.pct(0.99);
    r.extra = pair.max();
    return r;
}

// W4: logins per second; with a password, every account is registered first.
Result w4(const Options &o, Server &srv, bool password, int count)
{
    Result r;
    int64_t deadline = now_ns() + static_cast<int64_t>(o.time_limit * 1e9);
    const int batch = 32;
    if (password) { // register the accounts (not timed)
        Loop L;
        if (!L.open(srv.port(), batch))
            return r;
        long answered = 0;
        for (int i = 0; i < count; i++) {
            char req[200];
            std::snprintf(req, sizeof req,
                          "{\"action\":\"register\",\"time\":0,\"user\":{\"account_name\":\"p%d\","
                          "\"password\":\"password%d\"}}\n",
                          i, i);
            L.send(L[static_cast<size_t>(i % batch)], req);
        }
        if (!L.run(
                [&](Conn &, std::string_view l) {
                    int code;
                    if (is_response(l, &code))
                        answered++;
                },
                [&] { return answered >= count; }, deadline))
            return r;
    }
    int64_t t0 = now_ns();
    double c0 = srv.cpu_seconds();
    for (int done = 0; done < count; done += batch) {
        int n = std::min(batch, count - done);
        Loop L;
        if (!L.open(srv.port(), n))
            return r;
        long answered = 0;
        for (int i = 0; i < n; i++) {
            char req[220];
            if (password)
                std::snprintf(req, sizeof req,
                              "{\"action\":\"authenticate\",\"time\":0,\"user\":{\"account_name\":"
                              "\"p%d\",\"password\":\"password%d\"}}\n",
                              done + i, done + i);
            else
                std::snprintf(req, sizeof req,
                              "{\"action\":\"presence\",\"time\":0,\"user\":{\"account_name\":"
                              "\"l%d\"}}\n",
                              done + i);
            L.send(L[static_cast<size_t>(i)], req);
        }
        if (!L.run(
                [&](Conn &, std::string_view l) {
                    int code;
                    if (is_response(l, &code))
                        answered++;
                },
                [&] { return answered >= n; }, deadline))
            return r;
    }
    double secs = static_cast<double>(now_ns() - t0) / 1e9;
    r.ok = true;
    r.count = count;
    r.rate = count / secs;
    double cpu = srv.cpu_seconds() - c0;
    r.per_cpu = cpu > 0 ? count / cpu : 0;
    return r;
}

// Says how busy the server and jimbench were, and which of them set the pace: a rate
// measured while jimbench itself used (nearly) a whole CPU tells about jimbench.
void print_loads(const char *name, const char *target, const Result &r)
{
    char kernel[32] = "";
    if (r.server_kernel >= 0)
        std::snprintf(kernel, sizeof kernel, " (%.0f%% in the kernel)", r.server_kernel * 100);
    std::printf("%-4s %-6s CPUs used: server %.2f%s, jimbench %.2f%s\n", name, target,
                r.server_load, kernel, r.bench_load,
                r.bench_load >= 0.9 ? " (jimbench was the limit, not the server)" : "");
    // Not for the relay: it sends with send(), which /proc/PID/io does not count.
    if (r.server_reads >= 0 && std::strcmp(target, "relay") != 0)
        std::printf("%-4s %-6s server system calls a delivery: %.4f reads, %.4f writes\n", name,
                    target, r.server_reads, r.server_writes);
    if (r.late_p50 >= 0) // included in the latency: jimbench's own share of it
        std::printf("%-4s %-6s jimbench sent after the due time by p50 %.0f us, p99 %.0f us\n",
                    name, target, r.late_p50, r.late_p99);
}

void print_flow(const char *name, const char *target, const Result &r)
{
    if (!r.ok) {
        std::printf("%-4s %-6s FAILED (timeout or lost connection; partial count %ld)\n", name,
                    target, r.count);
        return;
    }
    std::printf("%-4s %-6s %9.0f deliveries/s  %9.0f per server CPU-s  latency p50 %7.0f us  "
                "p99 %7.0f us  max %7.0f us  (%ld)\n",
                name, target, r.rate, r.per_cpu, r.p50, r.p99, r.max, r.count);
    print_loads(name, target, r);
}

bool selected(const Options &o, const char *w)
{
    return o.workload == "all" || o.workload == w;
}

// Each run_wN runs its workload against a server started for it and prints the lines:
// the failures, or -1 when the server did not start.

int run_w1(const Options &t, const char *self, const char *name, double *per_cpu)
{
    Server srv;
    if (!srv.start(t, self, kAuthNone))
        return -1;
    Result r = w1(t, srv, t.messages, t.rate);
    print_flow("W1", name, r);
    *per_cpu = r.per_cpu;
    if (!r.ok || t.rate != 0)
        return !r.ok;
    // Unloaded latency: one message in flight.
    Options one = t;
    one.pairs = 1;
    one.inflight = 1;
    Result u = w1(one, srv, std::min(t.messages, 20000L), 0);
    std::printf("W1   %-6s unloaded (1 in flight): latency p50 %.0f us  p99 %.0f us\n", name, u.p50,
                u.p99);
    // p99 at half the maximum rate.
    Result h = w1(t, srv, std::min(t.messages, static_cast<long>(r.rate * 3)),
                  static_cast<long>(r.rate / 2));
    std::printf("W1   %-6s at half rate (%.0f/s): latency p50 %.0f us  p99 %.0f us  "
                "max %.0f us  (%.0f per server CPU-s)\n",
                name, r.rate / 2, h.p50, h.p99, h.max, h.per_cpu);
    print_loads("W1", name, h);
    return !u.ok + !h.ok;
}

int run_w2(const Options &t, const char *self, const char *name, double *per_cpu)
{
    Server srv;
    if (!srv.start(t, self, kAuthNone))
        return -1;
    Result r = w2(t, srv);
    print_flow("W2", name, r);
    *per_cpu = r.per_cpu;
    return !r.ok;
}

int run_w3(const Options &t, const char *self, const char *name)
{
    Server srv;
    if (!srv.start(t, self, kAuthNone))
        return -1;
    Result r = w3(t, srv);
    if (r.ok)
        std::printf("W3   %-6s %d idle logged-in connections: %.0f bytes each (server PSS "
                    "%.1f MiB)\n",
                    name, t.idle, r.extra, r.rate);
    else
        std::printf("W3   %-6s FAILED\n", name);
    return !r.ok;
}

// Logins without a password, and (jimd only) with scrypt.
int run_w4(const Options &t, const char *self, const char *name)
{
    int failures = 0;
    {
        Server srv;
        if (!srv.start(t, self, kAuthNone))
            return -1;
        Result r = w4(t, srv, false, t.logins_plain);
        std::printf("W4   %-6s %.0f logins/s without a password (%ld)\n", name, r.rate, r.count);
        failures += !r.ok;
    }
    if (t.relay)
        return failures;
    Server srv;
    if (!srv.start(t, self, ""))
        return -1;
    Result r = w4(t, srv, true, t.logins_scrypt);
    std::printf("W4   %-6s %.1f logins/s with scrypt authentication (%ld)\n", name, r.rate,
                r.count);
    return failures + !r.ok;
}

// jimd only: the relay has no general chat.
int run_w5(const Options &o, const char *self)
{
    Options t = o;
    t.relay = false; // with --relay, o would start the relay
    Server srv;
    if (!srv.start(t, self, kAuthNone))
        return -1;
    Result r = w5(t, srv, o.general_messages);
    if (!r.ok) {
        std::printf("W5   jimd   FAILED (%ld deliveries)\n", r.count);
        return 1;
    }
    std::printf("W5   jimd   general chat of %d sessions: %.0f deliveries per server CPU-s; "
                "a message reaches all in p50 %.0f us, max %.0f us\n",
                o.idle, r.per_cpu, r.p50, r.max);
    std::printf("W5   jimd   meanwhile a direct pair on the same server: p99 %.0f us, "
                "max %.0f us\n",
                r.p99, r.extra);
    print_loads("W5", "jimd", r);
    return 0;
}

} // namespace

int run_benchmarks(const Options &o, const char *self)
{
    raise_fd_limit();
    if (o.bench_cpu >= 0 && !pin_to(std::to_string(o.bench_cpu)))
        std::fprintf(stderr, "jimbench: cannot pin to CPU %d (running unpinned)\n", o.bench_cpu);
    std::printf("jimbench: server on CPU %s, jimbench on CPU %d, jimd -w %d\n",
                o.server_cpus.c_str(), o.bench_cpu, o.workers);
    std::vector<std::pair<const char *, bool>> targets = {{"jimd", false}};
    if (o.relay)
        targets.push_back({"relay", true});
    int failures = 0;
    double w1_per_cpu[2] = {0, 0}, w2_per_cpu[2] = {0, 0}; // jimd, relay
    // A run's failures, or the end of all when its server did not start.
    auto add = [&failures](int run) {
        failures += run;
        return run >= 0;
    };
    for (auto [name, relay] : targets) {
        Options t = o;
        t.relay = relay;
        if ((selected(o, "w1") && !add(run_w1(t, self, name, &w1_per_cpu[relay]))) ||
            (selected(o, "w2") && !add(run_w2(t, self, name, &w2_per_cpu[relay]))) ||
            (selected(o, "w3") && !add(run_w3(t, self, name))) ||
            (selected(o, "w4") && !add(run_w4(t, self, name))))
            return 1;
    }
    if (selected(o, "w5") && !add(run_w5(o, self)))
        return 1;
    if (w1_per_cpu[1] > 0 && w1_per_cpu[0] > 0)
        std::printf("ratio jimd/relay per server CPU-second: W1 %.2f\n",
                    w1_per_cpu[0] / w1_per_cpu[1]);
    if (w2_per_cpu[1] > 0 && w2_per_cpu[0] > 0)
        std::printf("ratio jimd/relay per server CPU-second: W2 %.2f\n",
                    w2_per_cpu[0] / w2_per_cpu[1]);
    return failures ? 1 : 0;
}

} // namespace jimbench

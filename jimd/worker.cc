// The worker's loop: accepting, reading into the framer, dispatching, writing, signals.
#include "worker.hh"

#include "clock.hh"
#include "control.hh"
#include "daemon.hh"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace jimd {

#define WLOG(level, ...) JIM_LOG(log_, level, worker_tag(setup_.index), __VA_ARGS__)

Session::~Session()
{
    if (read_ev)
        event_free(read_ev);
    if (write_ev)
        event_free(write_ev);
    if (pace_ev)
        event_free(pace_ev);
    if (out)
        evbuffer_free(out);
    jim_framer_free(framer);
    if (fd >= 0)
        close(fd);
}

static void session_pace_cb(evutil_socket_t, short, void *arg);

void Session::send(std::string_view line)
{
    if (closing && fd < 0)
        return;
    if (!ndjson && pacing_us > 0) {
        if (!pace_ev) // made on first use: stream readers never need it
            pace_ev = event_new(event_get_base(read_ev), -1, 0, session_pace_cb, this);
        paced.emplace_back(line);
        paced_bytes += line.size();
        if (paced.size() - paced_head == 1 && !event_pending(pace_ev, EV_TIMEOUT, nullptr)) {
            // The first object waits only for what is left of the gap since the last one.
            int64_t wait = paced_at_us + pacing_us - mono_us();
            timeval tv = {0, 0};
            if (wait > 0) {
                tv.tv_sec = static_cast<time_t>(wait / 1000000);
                tv.tv_usec = static_cast<suseconds_t>(wait % 1000000);
            }
            event_add(pace_ev, &tv);
        }
        return;
    }
    evbuffer_add(out, line.data(), line.size());
    flush_soon();
}

void Session::flush_soon()
{
    if (!dirty && evbuffer_get_length(out)) {
        dirty = true;
        worker->want_flush(*this);
    }
}

static void session_read_cb(evutil_socket_t, short, void *arg)
{
    auto *s = static_cast<Session *>(arg);
    s->worker->on_readable(*s);
}

static void session_write_cb(evutil_socket_t, short, void *arg)
{
    auto *s = static_cast<Session *>(arg);
    s->worker->on_writable(*s);
}

static void session_pace_cb(evutil_socket_t, short, void *arg)
{
    auto *s = static_cast<Session *>(arg);
    s->worker->on_pace(*s);
}

Worker::Worker(WorkerSetup setup, const Settings &settings, jim_log *log)
    : setup_(std::move(setup)), settings_(settings), log_(log)
{
}

Worker::~Worker()
{
    sessions_.clear();
    mesh_.reset();
    hasher_.reset();
    journal_.reset();
    for (event *e : events_)
        event_free(e);
    if (ack_ev_)
        event_free(ack_ev_);
    if (flush_ev_)
        event_free(flush_ev_);
    if (more_input_ev_)
        event_free(more_input_ev_);
    if (accept_resume_ev_)
        event_free(accept_resume_ev_);
    if (fanout_ev_)
        event_free(fanout_ev_);
    if (tick_ev_)
        event_free(tick_ev_);
    jim_msg_free(in_);
    jim_msg_free(out_);
    jim_msg_free(tmp_);
    jim_limits_free(limits_);
    if (base_)
        event_base_free(base_);
}

bool Worker::start()
{
    // Everything below is made after fork(): the loop, the database, the thread.
    // Precise timers (timerfd): the group-commit wait is a fraction of a millisecond.
    event_config *cfg = event_config_new();
    if (cfg) {
        event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
        base_ = event_base_new_with_config(cfg);
        event_config_free(cfg);
    }
    if (!base_ || jim_msg_new(&in_) || jim_msg_new(&out_) || jim_msg_new(&tmp_) ||
        jim_limits_new(&limits_))
        return false;
    settings_.fill_limits(limits_);
    JournalConfig jc;
    jc.path = settings_.str(S_DATABASE);
    jc.sync_full = settings_.str(S_SYNCHRONOUS) == "full";
    jc.busy_ms = static_cast<int>(settings_.num(S_BUSY_TIMEOUT_MS));
    jc.workers = setup_.count;
    jc.log = log_;
    jc.tag = worker_tag(setup_.index);
    std::string why;
    journal_ = open_journal(jc, base_, *this, &why);
    if (!journal_) {
        report_fatal(log_, worker_tag(setup_.index), "database: " + why);
        return false;
    }
    hasher_ = std::make_unique<Helper>(base_);
    if (!hasher_->start())
        return false;
    handover_.assign(static_cast<size_t>(setup_.count), Handover{});
    mesh_ = std::make_unique<Mesh>(
        base_, setup_.index, setup_.count,
        [this](int from, peer::Type t, std::string_view body) {
            return on_peer_frame(from, t, body);
        },
        [this](int peer, bool up, const char *bad) { on_peer(peer, up, bad); });
    mesh_->on_drained([this] { resume_throttled(); });
    for (int i = 0; i < static_cast<int>(setup_.peers.size()); i++)
        if (setup_.peers[i] >= 0)
            mesh_->attach(i, setup_.peers[i]);

    for (int lfd : setup_.listeners) {
        event *e = event_new(base_, lfd, EV_READ | EV_PERSIST, on_accept, this);
        if (!e || event_add(e, nullptr))
            return false;
        events_.push_back(e);
    }
    event *ctl = event_new(base_, setup_.control_fd, EV_READ | EV_PERSIST, on_control, this);
    if (!ctl || event_add(ctl, nullptr))
        return false;
    events_.push_back(ctl);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) {
        event *e = evsignal_new(base_, sig, on_signal, this);
        if (!e || event_add(e, nullptr))
            return false;
        events_.push_back(e);
    }
    signal(SIGPIPE, SIG_IGN);
    ack_ev_ = event_new(base_, -1, 0, on_ack, this);
    flush_ev_ = event_new(base_, -1, 0, on_flush, this);
    more_input_ev_ = event_new(base_, -1, 0, on_more_input, this);
    accept_resume_ev_ = event_new(base_, -1, 0, on_accept_resume, this);
    fanout_ev_ = event_new(base_, -1, 0, on_fanout, this);
    if (!more_input_ev_ || !accept_resume_ev_ || !fanout_ev_)
        return false;
    tick_ev_ = event_new(base_, -1, EV_PERSIST, on_tick, this);
    timeval one_second = {1, 0};
    return ack_ev_ && flush_ev_ && tick_ev_ && event_add(tick_ev_, &one_second) == 0;
}

int Worker::run()
{
    if (!start()) {
        WLOG(JIM_LOG_CRITICAL, "worker failed to start");
        return 1;
    }
    quiet_stderr();
    WLOG(JIM_LOG_INFO, "worker %d of %d ready (pid %d)", setup_.index, setup_.count,
         static_cast<int>(getpid()));
    if (!control_send(setup_.control_fd, peer::Ready{static_cast<uint32_t>(setup_.index)}))
        WLOG(JIM_LOG_WARNING, "cannot tell the master: %s", strerror(errno));
    event_base_dispatch(base_);
    journal_->commit_now();
    WLOG(JIM_LOG_INFO, "worker %d stopped", setup_.index);
    return 0;
}

void Worker::on_accept(evutil_socket_t lfd, short, void *arg)
{
    static_cast<Worker *>(arg)->accept_from(lfd);
}

void Worker::accept_from(int lfd)
{
    for (int i = 0; i < 64 && !draining_; i++) {
        sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd =
            accept4(lfd, reinterpret_cast<sockaddr *>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                accept_failed(errno);
            return;
        }
        char ip[INET6_ADDRSTRLEN] = "?";
        if (ss.ss_family == AF_INET6) {
            auto *a = reinterpret_cast<sockaddr_in6 *>(&ss);
            if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr))
                inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], ip, sizeof ip);
            else
                inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        } else if (ss.ss_family == AF_INET) {
            inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in *>(&ss)->sin_addr, ip, sizeof ip);
        }
        if (connections_from(ip) >= settings_.num(S_MAX_CONNECTIONS_PER_IP)) {
            WLOG(JIM_LOG_WARNING, "too many connections from %s: refused", ip);
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);

        auto s = std::make_unique<Session>();
        s->id = next_id_++;
        s->worker = this;
        s->fd = fd;
        s->ip = ip;
        s->out = evbuffer_new();
        s->read_ev = event_new(base_, fd, EV_READ | EV_PERSIST, session_read_cb, s.get());
        s->write_ev = event_new(base_, fd, EV_WRITE, session_write_cb, s.get());
        s->pacing_us = settings_.num(S_LEGACY_PACING_MS) * 1000;
        s->dialect = settings_.str(S_LEGACY_DIALECT) == "reference" ? JIM_DIALECT_REFERENCE
                                                                    : JIM_DIALECT_JIM;
        s->tokens = static_cast<double>(settings_.num(S_MSG_BURST));
        s->tokens_at_us = s->last_input_us = mono_us();
        s->accepted_us = s->last_input_us;
        if (!s->out || !s->read_ev || !s->write_ev || jim_framer_new(&s->framer, limits_) ||
            event_add(s->read_ev, nullptr)) {
            WLOG(JIM_LOG_ERROR, "out of memory for a new session from %s", ip);
            continue; // the Session destructor closes fd
        }
        s->reading = true;
        count_ip(ip, +1);
        WLOG(JIM_LOG_DEBUG, "session %llu: connection from %s",
             static_cast<unsigned long long>(s->id), ip);
        sessions_.emplace(s->id, std::move(s));
    }
}

// Arms or disarms the session's read event: a session is read only while its requests can
// be handled — not while its password is checked, a long reply or too much output waits
// for the client, or the mesh is backed up. The kernel keeps what the client sends
// meanwhile, so no connection makes the server hold more than its socket buffer.
void Worker::update_reading(Session &s)
{
    bool want = !s.closing && !s.paused && !s.stream && !s.output_held && !s.throttled;
    if (want == s.reading || !s.read_ev)
        return;
    if (want)
        event_add(s.read_ev, nullptr);
    else
        event_del(s.read_ev);
    s.reading = want;
}

// accept() failed for want of descriptors or memory: the listening sockets would stay
// readable, and the loop would spin on them. Accepting stops for kAcceptPauseMs (the
// connections wait in the listen queue), and the log says so at most once per
// kAcceptLogEverySec, with how often it happened.
void Worker::accept_failed(int err)
{
    for (event *e : events_)
        if (event_get_callback(e) == on_accept)
            event_del(e);
    timeval pause = {0, kAcceptPauseMs * 1000};
    event_add(accept_resume_ev_, &pause);
    accept_failures_++;
    int64_t now = mono_us();
    if (now - accept_logged_us_ >= kAcceptLogEverySec * 1000000) {
        WLOG(JIM_LOG_WARNING,
             "accept() failed: %s: not accepting for %d ms (%llu times since the last report)",
             strerror(err), kAcceptPauseMs, static_cast<unsigned long long>(accept_failures_));
        accept_logged_us_ = now;
        accept_failures_ = 0;
    }
}

void Worker::on_accept_resume(evutil_socket_t, short, void *arg)
{
    auto *w = static_cast<Worker *>(arg);
    if (w->draining_)
        return;
    for (event *e : w->events_)
        if (event_get_callback(e) == on_accept)
            event_add(e, nullptr);
}

void Worker::on_readable(Session &s)
{
    if (s.paused || s.stream || s.output_held) { // armed when this became true: wait
        update_reading(s);
        return;
    }
    if (mesh_->backlog() > kMeshHighWater) {
        s.throttled = true; // resume_throttled reads it again
        update_reading(s);
        throttled_.push_back(s.id);
        return;
    }
    for (int rounds = 0; rounds < 4; rounds++) {
        void *buf;
        size_t cap;
        if (jim_framer_reserve(s.framer, 16384, &buf, &cap) != JIM_OK)
            break;
        ssize_t n = read(s.fd, buf, cap);
        if (n > 0) {
            jim_framer_commit(s.framer, static_cast<size_t>(n));
            s.last_input_us = mono_us();
            s.probed = false;
            if (static_cast<size_t>(n) < cap)
                break;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            break;
        // EOF or error: handle what arrived, then the session ends.
        process_input(s);
        uint64_t id = s.id;
        close_session(s);
        if (Session *left = find(id); left && !evbuffer_get_length(left->out))
            destroy_session(id);
        return;
    }
    process_input(s);
}

// Handles the requests that have arrived, in order, as long as the session can take them:
// not while a password check or a long reply is under way, nor while its output is past
// kOutputHighWater (it goes on when the client has read, output_drained), and at most
// kRequestsPerTurn at a time, so that one client's pipelined requests do not hold up
// every other session of the worker (the rest are handled after the others' turn).
void Worker::process_input(Session &s)
{
    uint64_t id = s.id;
    for (int handled = 0; !s.paused && !s.closing && !s.stream; handled++) {
        if (s.output_bytes() > kOutputHighWater) {
            s.output_held = true;
            break;
        }
        if (handled == kRequestsPerTurn) {
            more_input_.push_back(s.id);
            if (!more_input_scheduled_) {
                more_input_scheduled_ = true;
                event_active(more_input_ev_, EV_TIMEOUT, 0);
            }
            update_reading(s);
            return;
        }
        int rc = jim_framer_next_msg(s.framer, in_);
        if (rc == JIM_EAGAIN)
            break;
        if (rc != JIM_OK) {
            WLOG(JIM_LOG_DEBUG, "session %llu: bad object: %s",
                 static_cast<unsigned long long>(s.id), jim_framer_errmsg(s.framer));
            reply(s, 400, jim_framer_errmsg(s.framer));
            if (!jim_framer_can_continue(s.framer))
                close_session(s);
            continue;
        }
        dispatch(s, in_);
        if (!find(id))
            return;
    }
    update_reading(s);
    jim_framer_release(s.framer); // an idle session keeps no input buffer
}

// The sessions whose turn ended with requests left: handled now, after the others.
void Worker::on_more_input(evutil_socket_t, short, void *arg)
{
    auto *w = static_cast<Worker *>(arg);
    w->more_input_scheduled_ = false;
    std::vector<uint64_t> ids;
    ids.swap(w->more_input_);
    for (uint64_t id : ids)
        if (Session *s = w->find(id))
            w->process_input(*s);
}

// The client has read its output down to kOutputLowWater: a long reply goes on, or the
// requests that waited are handled.
void Worker::output_drained(Session &s)
{
    if (s.closing || s.output_bytes() > kOutputLowWater)
        return;
    if (s.stream) {
        uint64_t id = s.id;
        pump(s);
        if (Session *left = find(id); left && !left->stream && !left->closing)
            process_input(*left); // the requests that waited behind the reply
    } else if (s.output_held) {
        s.output_held = false;
        process_input(s);
    }
}

void Worker::dispatch(Session &s, jim_msg *m)
{
    if (jim_msg_response(m) != 0)
        return; // a client's response, e.g. to a probe: nothing to answer
    jim_action a = jim_msg_action(m);
    // A session speaks the course's dialect it was last seen using; the database course's
    // (lists as data_list) includes the reference one's (messages with mess_text).
    if (jim_msg_dialect(m) > s.dialect)
        s.dialect = jim_msg_dialect(m);
    WLOG(JIM_LOG_DEBUG, "session %llu%s%s: %s", static_cast<unsigned long long>(s.id),
         s.logged_in ? " " : "", s.user.c_str(), jim_action_name(a));
    const Handler *h = find_handler(a);
    if (!h) {
        reply(s, 400, "unknown action");
        return;
    }
    if (h->needs_login && !s.logged_in) {
        reply(s, 401);
        return;
    }
    // Answers go out in request order: commit this session's messages first.
    if (a != JIM_ACTION_MSG && s.in_batch > 0)
        journal_->commit_now();
    (this->*h->fn)(s, m);
}

void Worker::on_writable(Session &s)
{
    int n = evbuffer_write(s.out, s.fd);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
        uint64_t id = s.id;
        evbuffer_drain(s.out, evbuffer_get_length(s.out));
        close_session(s);
        destroy_session(id);
        return;
    }
    if (evbuffer_get_length(s.out)) {
        event_add(s.write_ev, nullptr);
    } else if (s.closing) {
        destroy_session(s.id);
        return;
    }
    output_drained(s);
}

void Worker::on_pace(Session &s)
{
    if (s.paced_head == s.paced.size())
        return;
    // Written at once, not at the next writable event, so the gap is what the client sees.
    std::string &line = s.paced[s.paced_head++];
    evbuffer_add(s.out, line.data(), line.size());
    s.paced_bytes -= line.size();
    std::string().swap(line);
    if (s.paced_head == s.paced.size()) {
        s.paced.clear();
        s.paced_head = 0;
    }
    s.paced_at_us = mono_us();
    uint64_t id = s.id;
    on_writable(s);
    Session *left = find(id);
    if (left && left->paced_head < left->paced.size()) {
        timeval tv = {static_cast<time_t>(left->pacing_us / 1000000),
                      static_cast<suseconds_t>(left->pacing_us % 1000000)};
        event_add(left->pace_ev, &tv);
    }
}

// Connections from ip on every worker, as far as this one knows.
int Worker::connections_from(const std::string &ip) const
{
    int n = 0;
    if (auto it = per_ip_.find(ip); it != per_ip_.end())
        n += it->second;
    if (auto it = remote_ip_.find(ip); it != remote_ip_.end())
        for (int c : it->second)
            n += c;
    return n;
}

// Counts a connection from ip opening (+1) or closing (-1), and tells the other workers.
void Worker::count_ip(const std::string &ip, int delta)
{
    int &n = per_ip_[ip];
    n += delta;
    mesh_->broadcast(peer::Conns{ip, static_cast<uint32_t>(std::max(n, 0))});
    if (n <= 0)
        per_ip_.erase(ip);
}

void Worker::resume_throttled()
{
    if (throttled_.empty())
        return;
    WLOG(JIM_LOG_DEBUG, "mesh drained: reading %zu sessions again", throttled_.size());
    std::vector<uint64_t> ids;
    ids.swap(throttled_);
    for (uint64_t id : ids)
        if (Session *s = find(id); s && s->throttled) {
            s->throttled = false;
            update_reading(*s);
        }
}

// Output is written once per loop iteration, after everything that produces it (the
// flush event is activated after them), straight to the socket; the write event is armed
// only when the socket cannot take it all.
void Worker::want_flush(Session &s)
{
    dirty_.push_back(s.id);
    if (!flush_scheduled_) {
        flush_scheduled_ = true;
        event_active(flush_ev_, EV_TIMEOUT, 0);
    }
}

void Worker::on_flush(evutil_socket_t, short, void *arg)
{
    auto *w = static_cast<Worker *>(arg);
    w->flush_scheduled_ = false;
    std::vector<uint64_t> &dirty = w->flushing_; // both keep their capacity
    dirty.clear();
    dirty.swap(w->dirty_);
    for (uint64_t id : dirty)
        if (Session *s = w->find(id)) {
            s->dirty = false;
            if (!event_pending(s->write_ev, EV_WRITE, nullptr))
                w->on_writable(*s);
        }
}

Session *Worker::find(uint64_t id)
{
    auto it = sessions_.find(id);
    return it == sessions_.end() ? nullptr : it->second.get();
}

void Worker::close_session(Session &s)
{
    if (s.closing)
        return;
    s.closing = true;
    s.paused = true;
    s.stream.reset();
    update_reading(s);
    // Whatever is paced still goes out, all at once now.
    for (size_t i = s.paced_head; i < s.paced.size(); i++)
        evbuffer_add(s.out, s.paced[i].data(), s.paced[i].size());
    s.paced.clear();
    s.paced_head = 0;
    s.paced_bytes = 0;
    if (s.in_batch > 0)
        journal_->commit_now();
    if (s.logged_in) {
        auto &list = by_user_[s.user];
        std::erase(list, &s);
        for (const std::string &room : s.rooms)
            std::erase(by_room_[room], &s);
        WLOG(JIM_LOG_INFO, "%s logged out from %s", s.user.c_str(), s.ip.c_str());
        bool last = list.empty();
        if (last)
            by_user_.erase(s.user);
        announce_sessions(s.user);
        if (last && !online_anywhere(s.user))
            became_offline(s.user);
        s.logged_in = false;
    }
    count_ip(s.ip, -1);
    if (evbuffer_get_length(s.out))
        s.flush_soon();
    else
        destroy_session(s.id);
}

void Worker::destroy_session(uint64_t id)
{
    auto it = sessions_.find(id);
    if (it == sessions_.end())
        return;
    if (!it->second->closing)
        close_session(*it->second);
    sessions_.erase(id);
    if (draining_ && sessions_.empty())
        event_base_loopexit(base_, nullptr);
}

void Worker::begin_drain()
{
    if (draining_)
        return;
    draining_ = true;
    WLOG(JIM_LOG_INFO, "worker %d draining %zu sessions", setup_.index, sessions_.size());
    for (event *e : events_)
        if (event_get_callback(e) == on_accept)
            event_del(e);
    journal_->commit_now();
    std::vector<uint64_t> ids;
    for (auto &kv : sessions_)
        ids.push_back(kv.first);
    for (uint64_t id : ids)
        if (Session *s = find(id))
            close_session(*s);
    if (sessions_.empty())
        event_base_loopexit(base_, nullptr);
}

void Worker::on_control(evutil_socket_t fd, short, void *arg)
{
    auto *w = static_cast<Worker *>(arg);
    for (;;) {
        ControlFrame f;
        int passed = -1;
        int rc = control_recv(fd, &f, &passed);
        if (rc == -1)
            return;
        if (rc == 0) {
            // The master is gone: finish up and leave.
            JIM_LOG(w->log_, JIM_LOG_WARNING, worker_tag(w->setup_.index), "master gone: exiting");
            w->begin_drain();
            event_base_loopexit(w->base_, nullptr);
            return;
        }
        if (rc == 1 && f.type == peer::Type::PeerLink && passed >= 0 &&
            f.worker < static_cast<uint32_t>(w->setup_.count)) {
            w->mesh_->attach(static_cast<int>(f.worker), passed);
        } else if (passed >= 0) {
            close(passed);
        }
    }
}

void Worker::on_signal(evutil_socket_t sig, short, void *arg)
{
    auto *w = static_cast<Worker *>(arg);
    if (sig == SIGTERM || sig == SIGINT) {
        w->begin_drain();
    } else if (sig == SIGHUP) {
        // Log level and limits change at once; what needs a restart keeps its value (the
        // master logs it), and what the command line set stays.
        Settings fresh;
        std::vector<std::string> errors;
        if (!w->setup_.config_path.empty() &&
            w->settings_.reloaded(w->setup_.config_path, &fresh, &errors)) {
            w->settings_.take_reloadable(fresh);
            w->settings_.fill_limits(w->limits_);
            jim_log_level level;
            if (jim_log_level_from_name(fresh.str(S_LOG_LEVEL).c_str(), &level) == JIM_OK)
                jim_log_set_level(w->log_, level);
        }
        jim_log_reopen(w->log_);
    } else if (sig == SIGUSR1) {
        jim_log_reopen(w->log_);
    }
}

void Worker::on_tick(evutil_socket_t, short, void *arg)
{
    auto *w = static_cast<Worker *>(arg);
    w->watch_idle();
}

// Probes quiet ndjson sessions and closes those that never answer.
void Worker::watch_idle()
{
    int64_t now = mono_us();
    int64_t interval = settings_.num(S_PROBE_INTERVAL) * 1000000;
    int64_t timeout = settings_.num(S_PROBE_TIMEOUT) * 1000000;
    std::vector<uint64_t> dead, stuck;
    int64_t login_timeout = settings_.num(S_LOGIN_TIMEOUT) * 1000000;
    std::vector<uint64_t> late;
    for (auto &kv : sessions_) {
        Session &s = *kv.second;
        if (!s.closing && s.output_bytes() > kMaxSessionOutput)
            stuck.push_back(s.id);
        if (!s.logged_in && !s.closing && !s.paused && now - s.accepted_us > login_timeout)
            late.push_back(s.id);
        if (!s.ndjson || s.closing)
            continue;
        if (s.probed && now - s.last_input_us > interval + timeout) {
            dead.push_back(s.id);
        } else if (!s.probed && now - s.last_input_us > interval) {
            jim_msg_init_action(out_, JIM_ACTION_PROBE);
            emit(s, out_);
            s.probed = true;
        }
    }
    // A client that stopped reading would hold ever more memory: it is dropped, and
    // catches up with sync when it comes back.
    for (uint64_t id : stuck) {
        if (Session *s = find(id)) {
            WLOG(JIM_LOG_WARNING, "session %llu (%s) does not read its messages: closed",
                 static_cast<unsigned long long>(id), s->user.c_str());
            evbuffer_drain(s->out, evbuffer_get_length(s->out));
            close_session(*s);
        }
    }
    // A connection that does not log in holds a slot of its address for nothing.
    for (uint64_t id : late) {
        if (Session *s = find(id)) {
            WLOG(JIM_LOG_INFO, "session %llu from %s did not log in within %ld s: closed",
                 static_cast<unsigned long long>(id), s->ip.c_str(),
                 settings_.num(S_LOGIN_TIMEOUT));
            emit(*s, response_to(nullptr, 401, "log in first: closing an idle connection"));
            close_session(*s);
        }
    }
    for (uint64_t id : dead) {
        if (Session *s = find(id)) {
            WLOG(JIM_LOG_INFO, "session %llu (%s) did not answer a probe: closed",
                 static_cast<unsigned long long>(id), s->user.c_str());
            close_session(*s);
        }
    }
}

jim_msg *Worker::response(int code, const char *text)
{
    const char *id = jim_msg_response(in_) == 0 ? jim_msg_get_str(in_, JIM_FIELD_ID) : nullptr;
    return response_to(id, code, text);
}

// A response echoing the given request id (none when id is null or empty). Used where
// the request being answered is not the one in in_ (group commit, password thread).
jim_msg *Worker::response_to(const char *id, int code, const char *text)
{
    jim_msg_init_response(out_, code, text);
    if (id && *id)
        jim_msg_set_str(out_, JIM_FIELD_ID, id);
    return out_;
}

void Worker::emit(Session &s, jim_msg *m)
{
    const char *json;
    size_t len;
    jim_msg_set_dialect(m, s.dialect);
    if (jim_msg_encode(m, &json, &len) == JIM_OK)
        s.send(std::string_view(json, len));
}

void Worker::reply(Session &s, int code, const char *text)
{
    emit(s, response(code, text));
}

} // namespace jimd

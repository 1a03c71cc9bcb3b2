// A worker's wiring (worker.hh): the parts are made after fork(), and what one reports is
// passed to the next along the path of a message: connection -> session -> handler ->
// journal -> router -> connection.
#include "worker.hh"

#include "clock.hh"
#include "control.hh"
#include "control_socket.hh"
#include "daemon.hh"
#include "stream.hh"
#include "tls.hh"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <unistd.h>

namespace jimd {

#define WLOG(level, ...) JIM_LOG(log_, level, worker_tag(setup_.index), __VA_ARGS__)

Worker::Worker(WorkerSetup setup, const Settings &settings, jim_log *log)
    : setup_(std::move(setup)), settings_(settings), log_(log)
{
}

// Torn down in the reverse order of what depends on what: sessions first (their
// connections are on the loop's lists and the router's), the threads before what their
// completions use.
Worker::~Worker()
{
    sessions_.clear();
    doomed_.clear();
    metrics_.reset();
    control_acceptor_.reset();
    acceptor_.reset();
    router_.reset();
    passwords_.reset();
    journal_.reset();
    cx_.reset();
    replies_.reset();
    loop_.reset();
    for (event *e : events_)
        event_free(e);
    for (Later &l : laters_) // timers still pending when the loop ended
        event_free(l.timer);
    laters_.clear();
    if (destroy_ev_)
        event_free(destroy_ev_);
    jim_limits_free(limits_);
    if (base_)
        event_base_free(base_);
}

JournalConfig Worker::journal_config() const
{
    JournalConfig c;
    c.path = settings_.str(S_DATABASE);
    c.sync_full = settings_.str(S_SYNCHRONOUS) == "full";
    c.busy_ms = static_cast<int>(settings_.num(S_BUSY_TIMEOUT_MS));
    c.workers = setup_.count;
    c.log = log_;
    c.tag = worker_tag(setup_.index);
    return c;
}

bool Worker::start()
{
    // Everything below is made after fork(): the loop, the database, the threads.
    // Whole-millisecond timers: the group commit's wait of a fraction of a millisecond has
    // its own (PreciseTimer), so no turn of the loop re-arms a timerfd.
    base_ = event_base_new();
    if (!base_ || jim_limits_new(&limits_) != JIM_OK)
        return false;
    settings_.fill_limits(limits_);
    if (!start_parts())
        return false;
    event *ctl = event_new(base_, setup_.control_fd, EV_READ | EV_PERSIST, on_control, this);
    if (!ctl)
        return false;
    events_.push_back(ctl);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) {
        event *e = evsignal_new(base_, sig, on_signal, this);
        if (!e)
            return false;
        events_.push_back(e);
    }
    for (event *e : events_)
        if (event_add(e, nullptr) != 0)
            return false;
    signal(SIGPIPE, SIG_IGN);
    event *tick = event_new(base_, -1, EV_PERSIST, on_tick, this);
    timeval one_second = {1, 0};
    if (!tick || event_add(tick, &one_second) != 0)
        return false;
    events_.push_back(tick);
    destroy_ev_ = event_new(base_, -1, 0, on_destroy, this);
    return destroy_ev_ != nullptr;
}

// The parts, each given what it needs of the ones made before it.
bool Worker::start_parts()
{
    counters_ = &setup_.board->worker(setup_.index);
    counters_->restart();
    counters_->mark(mono_us() / 1000000);
    loop_ = std::make_unique<ConnectionLoop>(base_, limits_);
    replies_ = std::make_unique<Replies>(limits_);
    replies_->count_into(counters_);
    if (!loop_->start() || !replies_->start())
        return false;
    loop_->set_tls(setup_.tls, tls_mode(settings_) == TlsMode::Required);
    std::string why;
    journal_ = open_journal(journal_config(), base_, *this, &why);
    if (!journal_) {
        report_fatal(log_, worker_tag(setup_.index), "database: " + why);
        return false;
    }
    RouterSetup rs;
    rs.base = base_;
    rs.self = setup_.index;
    rs.count = setup_.count;
    rs.peers = setup_.peers;
    rs.general = settings_.str(S_GENERAL_CHAT); // needs a restart to change
    rs.log = log_;
    rs.tag = worker_tag(setup_.index);
    router_ = make_mesh_router(rs, *replies_, *this);
    passwords_ = std::make_unique<Helper>(base_);
    if (!router_ || !passwords_->start())
        return false;
    cx_ = std::make_unique<Context>(Context{*journal_, *router_, settings_, *passwords_, *replies_,
                                            *this, *this, *counters_, log_,
                                            worker_tag(setup_.index)});
    // While the links to the other workers are backed up, clients are not read.
    loop_->set_backed_up([](void *w) { return static_cast<Worker *>(w)->router_->backed_up(); },
                         this);
    acceptor_ = std::make_unique<Acceptor>(base_, log_, worker_tag(setup_.index),
                                           [this](int fd, const char *ip) { accepted(fd, ip); });
    if (!acceptor_->start(setup_.listeners))
        return false;
    // One endpoint per jimd, on worker 0, reading every worker's counters (doc/design.md).
    // When it cannot listen, it says so and jimd goes on without it.
    if (setup_.index == 0 && !settings_.str(S_METRICS_ADDRESS).empty()) {
        metrics_ = std::make_unique<MetricsServer>(base_, setup_.board, settings_.str(S_DATABASE),
                                                   log_, worker_tag(setup_.index));
        if (!metrics_->start(settings_.str(S_METRICS_ADDRESS)))
            metrics_.reset();
    }
    if (setup_.control_listener < 0)
        return true;
    control_acceptor_ =
        std::make_unique<Acceptor>(base_, log_, worker_tag(setup_.index),
                                   [this](int fd, const char *) { control_accepted(fd); });
    return control_acceptor_->start({setup_.control_listener});
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

// A new connection: refused when its address has max_connections_per_ip on all workers.
void Worker::accepted(int fd, const char *ip)
{
    if (!setup_.ip_slots->take(setup_.index, ip, settings_.num(S_MAX_CONNECTIONS_PER_IP))) {
        static LogLimit limit(10'000'000); // a flood: a line per 10 s, not per connection
        uint64_t skipped = 0;
        if (limit.allow(&skipped))
            WLOG(JIM_LOG_WARNING,
                 "too many connections from %s: refused (%llu refused since "
                 "the last such line)",
                 ip, static_cast<unsigned long long>(skipped));
        ::close(fd);
        return;
    }
    auto s = std::make_unique<Session>(next_id_++, ip, *loop_, *this);
    s->conn.set_pacing(static_cast<uint32_t>(settings_.num(S_LEGACY_PACING_MS) * 1000));
    s->dialect =
        settings_.str(S_LEGACY_DIALECT) == "reference" ? JIM_DIALECT_REFERENCE : JIM_DIALECT_JIM;
    s->tokens = static_cast<double>(settings_.num(S_MSG_BURST));
    s->tokens_at_us = s->accepted_us = mono_us();
    if (!s->conn.open(fd)) {
        WLOG(JIM_LOG_ERROR, "out of memory for a new session from %s", ip);
        setup_.ip_slots->give(setup_.index, ip);
        return; // the connection closes fd
    }
    WorkerCounters::add(counters_->connections, 1);
    WLOG(JIM_LOG_DEBUG, "session %llu: connection from %s", static_cast<unsigned long long>(s->id),
         ip);
    sessions_.emplace(s->id, std::move(s));
}

// A connection to the control socket: admin actions without a login for root and jimd's own
// user; anyone else gets one 403 and is closed.
void Worker::control_accepted(int fd)
{
    long uid = -1;
    bool allowed = control_peer_allowed(fd, &uid);
    auto s = std::make_unique<Session>(next_id_++, "local", *loop_, *this);
    s->control = true;
    s->conn.set_pacing(0); // not ndjson: never probed, and it gets no pushes anyway
    if (!s->conn.open(fd)) {
        WLOG(JIM_LOG_ERROR, "out of memory for a control connection");
        return;
    }
    WorkerCounters::add(counters_->connections, 1);
    Session &session = *s;
    sessions_.emplace(s->id, std::move(s));
    if (allowed) {
        WLOG(JIM_LOG_INFO, "session %llu: control connection (uid %ld)",
             static_cast<unsigned long long>(session.id), uid);
        return;
    }
    WLOG(JIM_LOG_WARNING, "control connection from uid %ld refused", uid);
    replies_->reply(session, nullptr, JIM_RESP_FORBIDDEN,
                    "the control socket is for root and jimd's own user");
    close(session);
}

void Worker::on_request(Session &s, jim_msg *m)
{
    dispatch(*cx_, s, m);
}

// A bad object gets its 400 (with the id, if one was read) and the stream goes on, or
// closes, as the protocol says.
void Worker::on_bad_object(Session &s, jim_msg *m, const char *why, bool fatal)
{
    WLOG(JIM_LOG_DEBUG, "session %llu: bad object: %s", static_cast<unsigned long long>(s.id), why);
    const char *id = jim_msg_response(m) == 0 ? jim_msg_get_str(m, JIM_FIELD_ID) : nullptr;
    replies_->reply(s, id, JIM_RESP_BAD_REQUEST, why);
    if (fatal)
        close(s);
}

void Worker::on_peer_closed(Session &s)
{
    close(s);
}

// A long reply goes on at the loop's next turn, after the other sessions' events, not from
// inside this one: the output is written once per turn and each write that empties it would
// pump the next pages at once, so a client that reads as fast as the worker writes kept the
// loop to itself for as long as the kernel took the bytes (a second and more over a long
// catch-up) while every other session on the worker waited.
void Worker::on_output_drained(Session &s)
{
    if (!s.stream || s.pump_due)
        return;
    s.pump_due = next_turn(s.id, [this](Session &again) {
        again.pump_due = false;
        if (again.stream && !again.ended)
            Stream::pump(*cx_, again);
    });
    if (!s.pump_due && !s.ended) // no timer to be had: go on now rather than never
        Stream::pump(*cx_, s);
}

void Worker::on_finished(Session &s)
{
    destroy_soon(s);
}

Session *Worker::find(uint64_t id)
{
    auto it = sessions_.find(id);
    return it == sessions_.end() ? nullptr : it->second.get();
}

void Worker::close(Session &s)
{
    if (s.ended)
        return;
    s.ended = true;
    s.stream.reset();
    s.waiting.reset();
    if (s.logged_in) {
        router_->remove_session(s);
        WLOG(JIM_LOG_INFO, "%s logged out from %s", s.user.c_str(), s.ip.c_str());
        s.logged_in = false;
        WorkerCounters::add(counters_->sessions, -1);
    }
    if (!s.control)
        setup_.ip_slots->give(setup_.index, s.ip.c_str());
    s.conn.close(); // on_finished once its output is written
}

void Worker::later(uint64_t id, int ms, std::function<void(Session &)> fn)
{
    once(id, {ms / 1000, (ms % 1000) * 1000}, std::move(fn));
}

bool Worker::next_turn(uint64_t id, std::function<void(Session &)> fn)
{
    // A timeout, however short, waits for the next turn (a zero one would run in this one:
    // libevent makes it active at once).
    return once(id, {0, 1}, std::move(fn));
}

bool Worker::once(uint64_t id, timeval tv, std::function<void(Session &)> fn)
{
    auto it = laters_.emplace(laters_.end());
    it->worker = this;
    it->session = id;
    it->fn = std::move(fn);
    it->self = it;
    it->timer = evtimer_new(base_, on_later, &*it);
    if (!it->timer || evtimer_add(it->timer, &tv) != 0) {
        WLOG(JIM_LOG_ERROR, "cannot schedule a timer: out of memory");
        if (it->timer)
            event_free(it->timer);
        laters_.erase(it);
        return false;
    }
    return true;
}

// A once() is due: it leaves the list first, so that what it runs may schedule again.
void Worker::on_later(evutil_socket_t, short, void *arg)
{
    Later *l = static_cast<Later *>(arg);
    Worker *w = l->worker;
    uint64_t id = l->session;
    std::function<void(Session &)> fn = std::move(l->fn);
    event_free(l->timer);
    w->laters_.erase(l->self);
    if (Session *s = w->find(id))
        fn(*s);
}

// A session is freed from the loop, never from inside its own callbacks.
void Worker::destroy_soon(Session &s)
{
    auto it = sessions_.find(s.id);
    if (it == sessions_.end())
        return;
    doomed_.push_back(std::move(it->second));
    sessions_.erase(it);
    WorkerCounters::add(counters_->connections, -1);
    event_active(destroy_ev_, EV_TIMEOUT, 0);
    if (draining_ && sessions_.empty())
        event_base_loopexit(base_, nullptr);
}

void Worker::on_destroy(evutil_socket_t, short, void *arg)
{
    static_cast<Worker *>(arg)->doomed_.clear();
}

// During a commit, for each new direct message: a user whose login was answered on another
// worker just now is known once this worker has read that worker's Online frame, which was
// written before the answer. The router reads the other workers once per commit (only when
// a recipient looks offline), so such a message is delivered live rather than stored.
bool Worker::recipient_online(const std::string &user)
{
    if (router_->online_anywhere(user))
        return true;
    if (!refreshed_) {
        refreshed_ = true;
        router_->refresh();
    }
    return router_->online_anywhere(user);
}

// Into this worker's commit histograms.
void Worker::commit_took(size_t messages, int64_t elapsed_us)
{
    counters_->commit_batch.observe(kBatchBounds, messages);
    counters_->commit_us.observe(kCommitUsBounds,
                                 static_cast<uint64_t>(std::max<int64_t>(elapsed_us, 0)));
}

// After a commit: each message is routed and its sender answered, in the order they came;
// the hand-overs whose pending rows the commit wrote are confirmed; the requests that waited
// for these messages are handled.
void Worker::committed(Entry *entries, size_t n, bool)
{
    refreshed_ = false;
    resumed_.clear();
    replies_->begin_runs(); // a room's lines written member by member (Replies)
    for (size_t i = 0; i < n; i++) {
        Entry &e = entries[i];
        Session *s = find(e.origin);
        if (s && --s->in_batch == 0 && s->waiting)
            resumed_.push_back(s->id);
        message_committed(*cx_, e, s && !s->conn.closing() ? s : nullptr);
    }
    replies_->end_runs();
    router_->committed(journal_->last_ok());
    for (uint64_t id : resumed_)
        if (Session *s = find(id))
            dispatch_waiting(*cx_, *s);
}

uint64_t Worker::keep_pending(const std::string &user, int64_t seq)
{
    uint64_t ticket = journal_->next_commit();
    journal_->keep_pending(user, seq);
    return ticket;
}

void Worker::recover_pending(int64_t seq)
{
    journal_->recover_pending(seq);
}

void Worker::peers_drained()
{
    if (!loop_->held())
        return;
    WLOG(JIM_LOG_DEBUG, "mesh drained: reading %zu sessions again", loop_->held());
    loop_->resume();
}

void Worker::kick(const std::string &user, const std::string &text)
{
    kick_here(user, text);
    router_->kick(user, text);
}

void Worker::kick_here(const std::string &user, const std::string &text)
{
    std::span<Session *const> list = router_->local_sessions(user);
    std::vector<Session *> here(list.begin(), list.end()); // close() changes the list
    for (Session *s : here) {
        WLOG(JIM_LOG_INFO, "session %llu of %s closed: %s", static_cast<unsigned long long>(s->id),
             user.c_str(), text.c_str());
        replies_->reply(*s, nullptr, JIM_RESP_FORBIDDEN, text.c_str());
        close(*s);
    }
}

void Worker::look_here(const std::string &user, std::vector<int64_t> seqs)
{
    auto only = std::make_shared<const std::vector<int64_t>>(std::move(seqs));
    journal_->commit_now(); // the rows handed lately are cleared; then each session reads
                            // the same rows (its clears are queued till all have read)
    std::span<Session *const> list = router_->local_sessions(user);
    std::vector<uint64_t> here; // a look can close a session, which changes the list
    for (Session *s : list)
        here.push_back(s->id);
    for (uint64_t id : here)
        if (Session *s = find(id))
            look_again(*cx_, *s, only);
}

// Checked here, applied here at once, and through the master to the other workers (and to
// those it starts later).
bool Worker::set_setting(const std::string &name, const std::string &value, std::string *why)
{
    int index = setting_by_name(name);
    if (index < 0) {
        *why = "unknown setting '" + name + "'";
        return false;
    }
    if (Settings::needs_restart(static_cast<Setting>(index))) {
        *why = name + " takes a new value only when jimd restarts";
        return false;
    }
    Settings probe = settings_;
    if (!probe.set(static_cast<Setting>(index), value, why))
        return false;
    apply_setting(name, value);
    if (!control_send(setup_.control_fd, peer::Set{name, value}))
        WLOG(JIM_LOG_WARNING, "cannot tell the master of %s: %s", name.c_str(), strerror(errno));
    return true;
}

void Worker::apply_setting(const std::string &name, const std::string &value)
{
    std::string why;
    if (!settings_.set(name, value, &why)) {
        WLOG(JIM_LOG_WARNING, "setting from the master refused: %s", why.c_str());
        return;
    }
    settings_.fill_limits(limits_);
    if (loop_)
        loop_->limits_changed();
    jim_log_level level;
    if (name == "log_level" && jim_log_level_from_name(value.c_str(), &level) == JIM_OK)
        jim_log_set_level(log_, level);
}

CounterTotals Worker::totals(int64_t *uptime, int *workers)
{
    *uptime = wall_seconds() - setup_.started;
    *workers = setup_.count;
    return setup_.board->sum(mono_us() / 1000000);
}

void Worker::begin_drain()
{
    if (draining_)
        return;
    draining_ = true;
    WLOG(JIM_LOG_INFO, "worker %d draining %zu sessions", setup_.index, sessions_.size());
    acceptor_->stop();
    if (control_acceptor_)
        control_acceptor_->stop();
    journal_->commit_now();
    std::vector<uint64_t> ids;
    for (auto &kv : sessions_)
        ids.push_back(kv.first);
    for (uint64_t id : ids)
        if (Session *s = find(id))
            close(*s);
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
            f.worker < static_cast<uint32_t>(w->setup_.count))
            w->router_->attach(static_cast<int>(f.worker), passed);
        else if (rc == 1 && f.type == peer::Type::Set)
            w->apply_setting(f.name, f.value);
        else if (passed >= 0)
            ::close(passed);
    }
}

void Worker::on_signal(evutil_socket_t sig, short, void *arg)
{
    auto *w = static_cast<Worker *>(arg);
    if (sig == SIGTERM || sig == SIGINT)
        w->begin_drain();
    else if (sig == SIGHUP)
        w->reload();
    else if (sig == SIGUSR1)
        jim_log_reopen(w->log_);
}

// Log level and limits change at once; what needs a restart keeps its value (the master
// logs it), and what the command line set stays.
void Worker::reload()
{
    Settings fresh;
    std::vector<std::string> errors;
    if (!setup_.config_path.empty() && settings_.reloaded(setup_.config_path, &fresh, &errors)) {
        settings_.take_reloadable(fresh);
        settings_.fill_limits(limits_);
        loop_->limits_changed();
        jim_log_level level;
        if (jim_log_level_from_name(fresh.str(S_LOG_LEVEL).c_str(), &level) == JIM_OK)
            jim_log_set_level(log_, level);
        reload_tls();
    }
    jim_log_reopen(log_);
}

// The TLS settings again, for the connections that come from now on: those open keep
// their sessions. A certificate that does not load keeps the one before, and the log says
// why (the master's line; each worker's at debug level).
void Worker::reload_tls()
{
    TlsContext fresh;
    std::string why, warning;
    if (!make_tls_context(settings_, &fresh, &why, &warning)) {
        WLOG(JIM_LOG_DEBUG, "TLS not reloaded: %s", why.c_str());
        return;
    }
    loop_->set_tls(fresh.get(), tls_mode(settings_) == TlsMode::Required);
    if (fresh)
        WLOG(JIM_LOG_DEBUG, "TLS certificate loaded from %s", settings_.str(S_TLS_CERT).c_str());
}

void Worker::on_tick(evutil_socket_t, short, void *arg)
{
    auto *w = static_cast<Worker *>(arg);
    w->counters_->mark(mono_us() / 1000000);
    w->watch_idle();
}

// Once a second: a connection quiet since the last time frees its buffers (and the loop the
// spare ones no turn took); a client that stopped reading would hold ever more memory, so it
// is dropped (it catches up with sync when it comes back); a connection that does not log in
// holds a slot of its address for nothing; quiet ndjson sessions are probed, and those that
// never answer closed.
void Worker::watch_idle()
{
    int64_t now = mono_us();
    std::vector<uint64_t> stuck, late, dead;
    for (auto &kv : sessions_)
        check_session(*kv.second, now, &stuck, &late, &dead);
    loop_->trim_spares();
    for (uint64_t id : stuck)
        if (Session *s = find(id)) {
            WLOG(JIM_LOG_WARNING, "session %llu (%s) does not read its messages: closed",
                 static_cast<unsigned long long>(id), s->user.c_str());
            close(*s);
            s->conn.abort();
        }
    for (uint64_t id : late)
        if (Session *s = find(id)) {
            long limit = settings_.num(S_LOGIN_TIMEOUT);
            if (s->logged_in) {
                WLOG(JIM_LOG_INFO, "session %llu (%s) took over %ld s to send one object: closed",
                     static_cast<unsigned long long>(id), s->user.c_str(), limit);
                replies_->reply(*s, nullptr, JIM_RESP_BAD_REQUEST,
                                "an object took too long to arrive: closing the connection");
            } else {
                WLOG(JIM_LOG_INFO, "session %llu from %s did not log in within %ld s: closed",
                     static_cast<unsigned long long>(id), s->ip.c_str(), limit);
                replies_->reply(*s, nullptr, JIM_RESP_UNAUTHORIZED,
                                "log in first: closing an idle connection");
            }
            close(*s);
        }
    for (uint64_t id : dead)
        if (Session *s = find(id)) {
            WLOG(JIM_LOG_INFO, "session %llu (%s) did not answer a probe: closed",
                 static_cast<unsigned long long>(id), s->user.c_str());
            close(*s);
        }
}

void Worker::check_session(Session &s, int64_t now, std::vector<uint64_t> *stuck,
                           std::vector<uint64_t> *late, std::vector<uint64_t> *dead)
{
    if (s.ended)
        return;
    s.conn.release_idle();
    if (s.conn.output_bytes() > Connection::kMaxOutput)
        stuck->push_back(s.id);
    int64_t limit_us = settings_.num(S_LOGIN_TIMEOUT) * 1000000;
    if (!s.logged_in && !s.control && !s.conn.held(Connection::kHoldPassword) &&
        now - s.accepted_us > limit_us)
        late->push_back(s.id);
    // Logged in, one object may take as long as logging in may (a slowloris after log-in).
    int64_t partial = s.conn.partial_since_us();
    if (s.logged_in && partial != 0 && now - partial > limit_us)
        late->push_back(s.id);
    if (!s.ndjson)
        return;
    int64_t last_input = s.conn.last_input_us();
    if (s.probed_at_us && last_input > s.probed_at_us)
        s.probed_at_us = 0; // something came since: answered
    int64_t quiet = now - last_input;
    int64_t interval = settings_.num(S_PROBE_INTERVAL) * 1000000;
    if (s.probed_at_us && quiet > interval + settings_.num(S_PROBE_TIMEOUT) * 1000000) {
        dead->push_back(s.id);
    } else if (!s.probed_at_us && quiet > interval) {
        replies_->send(s, replies_->object(JIM_ACTION_PROBE));
        s.probed_at_us = now;
    }
}

} // namespace jimd

// A worker process: wires the parts along the path of a message — the acceptor and the
// connections, the sessions and the handlers, the journal, the router — around one
// libevent loop, and answers the master's control socket and the signals.
#pragma once

#include "acceptor.hh"
#include "connection.hh"
#include "counters.hh"
#include "handlers.hh"
#include "helper.hh"
#include "journal.hh"
#include "metrics.hh"
#include "replies.hh"
#include "router.hh"
#include "session.hh"
#include "settings.hh"

#include <jim/jim.h>

#include <event2/event.h>

#include "ip_slots.hh"

#include <functional>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace jimd {

// What the master hands a worker when it forks it.
struct WorkerSetup {
    int index = 0;
    int count = 1;
    std::vector<int> listeners;
    int control_fd = -1;         // socketpair to the master: EOF means the master is gone
    std::vector<int> peers;      // mesh fds by worker index; -1 for itself
    std::string config_path;     // reread on SIGHUP
    IpSlots *ip_slots = nullptr; // connections per address on all workers (the master's map)
    SSL_CTX *tls = nullptr;    // the master's TLS context (null: off); the worker takes a reference
    int control_listener = -1; // the local control socket; -1 for none
    CounterBoard *board = nullptr; // every worker's counters, shared
    int64_t started = 0;           // when jimd started, UNIX seconds
};

class Worker final : public SessionHost,
                     public Sessions,
                     public Server,
                     public JournalListener,
                     public RouterEvents {
  public:
    Worker(WorkerSetup setup, const Settings &settings, jim_log *log);
    ~Worker();
    // Runs the loop until the worker is told to stop; returns the exit status.
    int run();

  private:
    bool start();
    bool start_parts();
    JournalConfig journal_config() const;
    void accepted(int fd, const char *ip);
    void control_accepted(int fd);
    void apply_setting(const std::string &name, const std::string &value);
    void begin_drain();
    void destroy_soon(Session &s);
    static void on_destroy(evutil_socket_t, short, void *arg);
    static void on_control(evutil_socket_t fd, short, void *arg);
    static void on_signal(evutil_socket_t sig, short, void *arg);
    static void on_tick(evutil_socket_t, short, void *arg);
    void reload();
    void reload_tls();
    void watch_idle();
    void check_session(Session &s, int64_t now, std::vector<uint64_t> *stuck,
                       std::vector<uint64_t> *late, std::vector<uint64_t> *dead);

    // SessionHost: what a session's connection reports.
    void on_request(Session &s, jim_msg *m) override;
    void on_bad_object(Session &s, jim_msg *m, const char *why, bool fatal) override;
    void on_peer_closed(Session &s) override;
    void on_output_drained(Session &s) override;
    void on_finished(Session &s) override;
    // Sessions: what handlers may do to other sessions.
    Session *find(uint64_t id) override;
    void close(Session &s) override;
    void later(uint64_t id, int ms, std::function<void(Session &)> fn) override;
    // Runs fn on session id (if it still exists) at the loop's next turn, after the events
    // that are ready by then; false when no timer could be made (out of memory).
    bool next_turn(uint64_t id, std::function<void(Session &)> fn);
    // Runs fn on session id (if it still exists) after tv; false when it cannot.
    bool once(uint64_t id, timeval tv, std::function<void(Session &)> fn);
    // Server: what admin actions may do.
    void kick(const std::string &user, const std::string &text) override;
    bool set_setting(const std::string &name, const std::string &value, std::string *why) override;
    CounterTotals totals(int64_t *uptime, int *workers) override;
    // JournalListener.
    bool recipient_online(const std::string &user) override;
    void committed(Entry *entries, size_t n, bool ok) override;
    void commit_took(size_t messages, int64_t elapsed_us) override;
    // RouterEvents.
    Session *find_session(uint64_t id) override { return find(id); }
    uint64_t keep_pending(const std::string &user, int64_t seq) override;
    void recover_pending(int64_t seq) override;
    void peers_drained() override;
    void kick_here(const std::string &user, const std::string &text) override;
    void look_here(const std::string &user, std::vector<int64_t> seqs) override;

    WorkerSetup setup_;
    Settings settings_;
    jim_log *log_;
    jim_limits *limits_ = nullptr;
    event_base *base_ = nullptr;
    // The parts, made after fork() in start(), in the order they depend on each other.
    std::unique_ptr<ConnectionLoop> loop_;
    std::unique_ptr<Replies> replies_;
    std::unique_ptr<Journal> journal_;
    std::unique_ptr<Router> router_;
    std::unique_ptr<Helper> passwords_;
    std::unique_ptr<Acceptor> acceptor_;
    std::unique_ptr<Acceptor> control_acceptor_; // the local control socket's
    std::unique_ptr<MetricsServer> metrics_;     // worker 0's /metrics (metrics_address)
    WorkerCounters *counters_ = nullptr;         // this worker's slot of the board
    std::unique_ptr<Context> cx_;
    std::vector<event *> events_; // control socket, signals, tick
    event *destroy_ev_ = nullptr;
    // What once() waits to run: freed when it runs or, still pending, with the worker.
    struct Later {
        Worker *worker = nullptr;
        uint64_t session = 0;
        std::function<void(Session &)> fn;
        event *timer = nullptr;
        std::list<Later>::iterator self;
    };
    std::list<Later> laters_;
    static void on_later(evutil_socket_t, short, void *arg);
    std::unordered_map<uint64_t, std::unique_ptr<Session>> sessions_;
    std::vector<std::unique_ptr<Session>> doomed_; // finished: freed by on_destroy
    std::vector<uint64_t> resumed_;                // sessions whose batch a commit emptied
    uint64_t next_id_ = 1;
    bool draining_ = false;
    bool refreshed_ = false; // the router has read the other workers during this commit
};

} // namespace jimd

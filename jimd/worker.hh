// A worker process: one libevent loop serving many sessions, its own SQLite connection,
// the group-commit batch, and its side of the mesh to the other workers.
#pragma once

#include "helper.hh"
#include "journal.hh"
#include "mesh.hh"
#include "password.hh"
#include "session.hh"
#include "settings.hh"

#include <jim/jim.h>

#include <event2/event.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace jimd {

// What the master hands a worker when it forks it.
struct WorkerSetup {
    int index = 0;
    int count = 1;
    std::vector<int> listeners;
    int control_fd = -1;     // socketpair to the master: EOF means the master is gone
    std::vector<int> peers;  // mesh fds by worker index; -1 for itself
    std::string config_path; // reread on SIGHUP
};

class Worker final : public JournalListener {
  public:
    Worker(WorkerSetup setup, const Settings &settings, jim_log *log);
    ~Worker();
    // Runs the loop until the worker is told to stop; returns the exit status.
    int run();

    // Called by sessions.
    void on_readable(Session &s);
    void on_writable(Session &s);
    void on_pace(Session &s);
    void want_flush(Session &s);

  private:
    // One entry of the action table.
    struct Handler {
        jim_action action;
        bool needs_login; // the @login_required of the course: checked before the call
        void (Worker::*fn)(Session &, jim_msg *);
    };
    static const Handler kHandlers[];
    static const Handler *find_handler(jim_action a);

    // Infrastructure (worker.cc).
    bool start();
    static void on_accept(evutil_socket_t fd, short, void *arg);
    static void on_control(evutil_socket_t fd, short, void *arg);
    static void on_signal(evutil_socket_t sig, short, void *arg);
    static void on_tick(evutil_socket_t, short, void *arg);
    void accept_from(int lfd);
    void accept_failed(int err);
    static void on_accept_resume(evutil_socket_t, short, void *arg);
    event *accept_resume_ev_ = nullptr;
    uint64_t accept_failures_ = 0; // since the last report
    int64_t accept_logged_us_ = -(int64_t{1} << 60);
    static constexpr int kAcceptPauseMs = 250, kAcceptLogEverySec = 10;
    void process_input(Session &s);
    void update_reading(Session &s);
    void output_drained(Session &s);
    static void on_more_input(evutil_socket_t, short, void *arg);
    std::vector<uint64_t> more_input_; // sessions whose turn ended with requests left
    bool more_input_scheduled_ = false;
    event *more_input_ev_ = nullptr;
    // Output past which a session's requests wait (and a long reply pauses) until the
    // client has read it down to kOutputLowWater; requests handled per turn.
    static constexpr size_t kOutputHighWater = 256 << 10, kOutputLowWater = 64 << 10;
    static constexpr int kRequestsPerTurn = 32;
    // Long replies (delivery.cc): a page of messages at a time, as the client reads.
    void pump(Session &s);
    void start_stream(Session &s, Stream::Kind kind, int64_t cursor, const std::string &request_id,
                      bool recheck);
    static constexpr int kStreamPage = 256;
    void dispatch(Session &s, jim_msg *m);
    void close_session(Session &s);
    void destroy_session(uint64_t id);
    void begin_drain();
    Session *find(uint64_t id);
    void watch_idle();

    // Replies (worker.cc).
    jim_msg *response(int code, const char *text = nullptr);
    jim_msg *response_to(const char *id, int code, const char *text = nullptr);
    void emit(Session &s, jim_msg *m);
    void reply(Session &s, int code, const char *text = nullptr);
    void send_line(Session &s, const std::string &line);

    // Protocol (handlers.cc).
    void h_presence(Session &s, jim_msg *m);
    void h_authenticate(Session &s, jim_msg *m);
    void h_register(Session &s, jim_msg *m);
    void h_quit(Session &s, jim_msg *m);
    void h_msg(Session &s, jim_msg *m);
    void h_join(Session &s, jim_msg *m);
    void h_leave(Session &s, jim_msg *m);
    void h_get_contacts(Session &s, jim_msg *m);
    void h_add_contact(Session &s, jim_msg *m);
    void h_del_contact(Session &s, jim_msg *m);
    void h_get_rooms(Session &s, jim_msg *m);
    void h_get_users(Session &s, jim_msg *m);
    void h_sync(Session &s, jim_msg *m);
    void h_history(Session &s, jim_msg *m);
    void h_probe_answer(Session &s, jim_msg *m);
    void h_not_yet(Session &s, jim_msg *m);
    void log_in(Session &s, const Account &a, unsigned features);
    void send_name_list(Session &s, jim_action action, const std::vector<std::string> &names);
    bool login_attempt(Session &s, const std::string &account, int64_t *retry_after);
    static constexpr int64_t kMaxListed = 500; // most entries of a room or user list
    void login_forgiven(const std::string &ip, const std::string &account);
    // An authenticate whose password is being checked on the helper thread.
    struct LoginCheck {
        std::string name, ip, request_id;
        Account account;
        unsigned features = 0;
        bool known = false, ok = false;
    };
    void authenticated(uint64_t session_id, const LoginCheck &c);
    // A register whose password is being hashed on the helper thread.
    struct Registration {
        std::string name, info, request_id, hash;
    };
    void registered(uint64_t session_id, const Registration &r);

    // Delivery (delivery.cc).
    bool recipient_online(const std::string &user) override;
    void committed(Entry *entries, size_t n, bool ok) override;
    void route(Entry &e, Session *s);
    bool refreshed_ = false; // the mesh was read during this commit
    bool send_to_workers(const std::string &user, const std::string &line, int64_t seq);
    bool hand_here(const std::string &user, const std::string &line, int64_t seq);
    void keep_pending(const std::string &user, int64_t seq);
    void schedule_recheck(uint64_t session_id);
    void finish_stream(Session &s);
    void deliver_room(const std::string &room, const std::string &line, uint64_t except_session);
    void fan_out(const std::string &room, const std::string &line, uint64_t except_session);
    static void on_fanout(evutil_socket_t, short, void *arg);
    // A room message on its way to the room's members here, kFanoutChunk sessions a turn.
    struct Fanout {
        std::string line;
        std::vector<uint64_t> sessions;
        size_t next = 0;
    };
    std::deque<Fanout> fanouts_;
    event *fanout_ev_ = nullptr;
    static constexpr size_t kFanoutChunk = 128;
    // The jim-dialect push of m, in a buffer reused by the next call.
    const std::string &push_line(const StoredMessage &m);
    void push_stored(Session &s, const StoredMessage &m);
    void offline_delivery(Session &s);
    bool first_handing(Session &s, int64_t seq, bool remember);
    void recheck_offline(uint64_t session_id);
    bool on_peer_frame(int from, peer::Type type, std::string_view body);
    void on_peer(int peer, bool up, const char *why);
    bool online_anywhere(const std::string &user) const;
    void became_online(const std::string &user);
    void became_offline(const std::string &user);
    void presence_push(const std::string &user, bool online);

    WorkerSetup setup_;
    Settings settings_;
    jim_log *log_;
    jim_limits *limits_ = nullptr;
    event_base *base_ = nullptr;
    std::unique_ptr<Journal> journal_;
    std::unique_ptr<Helper> hasher_;
    std::unique_ptr<Mesh> mesh_;
    std::vector<event *> events_;
    event *flush_ev_ = nullptr;
    std::vector<uint64_t> dirty_;    // sessions with output to write this iteration
    std::vector<uint64_t> flushing_; // on_flush's list, reused
    bool flush_scheduled_ = false;
    static void on_flush(evutil_socket_t, short, void *arg);
    event *tick_ev_ = nullptr;
    jim_msg *in_ = nullptr;  // the request being handled
    jim_msg *out_ = nullptr; // the reply being built
    jim_msg *tmp_ = nullptr; // for re-encoding
    uint64_t next_id_ = 1;
    bool draining_ = false;
    // Backpressure: while a link to another worker holds more than this, sessions that
    // become readable are left unread until the link drains.
    static constexpr size_t kMeshHighWater = 1 << 20;
    // Output a session may hold before it counts as a client that does not read.
    static constexpr size_t kMaxSessionOutput = 16 << 20;
    std::vector<uint64_t> throttled_;
    void resume_throttled();
    std::unordered_map<uint64_t, std::unique_ptr<Session>> sessions_;
    std::unordered_map<std::string, std::vector<Session *>> by_user_; // logged-in, local
    std::unordered_map<std::string, std::vector<Session *>> by_room_; // members online here
    std::unordered_map<std::string, uint64_t> remote_;                // user -> mask of workers
    // user -> worker -> sessions there, only where a worker has two or more: the rest have
    // one each, so remote_'s mask counts them (max_sessions holds across workers).
    std::unordered_map<std::string, std::unordered_map<int, int>> remote_multi_;
    // Sessions of user on every worker, as far as this one knows.
    size_t sessions_of(const std::string &user) const;
    // Tells the other workers how many sessions user has here now.
    void announce_sessions(const std::string &user);
    std::unordered_map<std::string, int> per_ip_;                 // connections here
    std::unordered_map<std::string, std::vector<int>> remote_ip_; // ip -> count per worker
    int connections_from(const std::string &ip) const;
    void count_ip(const std::string &ip, int delta);
    std::string line_;                    // push_line's output
    std::string course_of_, course_line_; // send_line: the last push and its course form
    // The general chat's name ("" when there is none): every logged-in session is in it.
    const std::string &general() const { return settings_.str(S_GENERAL_CHAT); }
    void send_data_list(Session &s, const std::vector<std::string> &names);
    static constexpr size_t kCourseReadBytes = 1024; // what a course client reads at once
    void add_general_chat(const std::string &prefix, const std::string &after, size_t limit,
                          std::vector<std::pair<std::string, int64_t>> *rooms);
    std::string name_; // h_msg's recipient, before it has a batch entry
    // Direct messages handed over on one mesh link. A Deliver frame is not backed by a
    // pending row: the sender keeps its seq until the peer confirms it with an Ack, and
    // turns what is unconfirmed into pending rows if the peer goes away.
    struct Handover {
        uint64_t sent = 0, acked = 0; // Deliver frames sent; how many the peer confirmed
        std::vector<int64_t> unacked; // seqs of frames acked+1 .. sent, from `head`
        size_t head = 0;
        uint64_t got = 0, confirmed = 0; // Deliver frames received; how many confirmed back
        // Received frames kept as pending rows not yet committed: (frame number, the
        // journal's commit that carries the row). A frame is confirmed only once its row is.
        std::deque<std::pair<uint64_t, uint64_t>> unsure;
    };
    std::vector<Handover> handover_; // by peer index
    void handover_sent(int peer, int64_t seq);
    void handover_acked(int peer, uint64_t count);
    void handover_lost(int peer);
    void confirm_handovers();
    static void on_ack(evutil_socket_t, short, void *arg);
    event *ack_ev_ = nullptr;
    bool ack_scheduled_ = false;
    std::string peer_user_, peer_line_; // a Deliver frame's fields (capacity reused)
};

} // namespace jimd

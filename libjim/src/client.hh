// jim::Client, the object behind jim_client: one connection, its requests in flight,
// the incoming stream, reconnecting, and the loop that drives it (blocking, the
// program's own loop, or a thread of its own).
#pragma once

#include "chat.hh"
#include "client_store.hh"
#include "list.hh"
#include "outbox.hh"

#include <jim/client.h>
#include <jim/framer.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unordered_set>
#include <vector>

namespace jim {

class Client final : private ChatView, private ContactListView {
  public:
    // What a finished request hands back: status, the response (or null) and any list.
    using Done = std::function<void(int status, const jim_msg *resp, jim_list *list)>;

    Client(const jim_client_callbacks *cb, void *userdata);
    ~Client() override;

    // Every public entry point holds this; callbacks run with it held (it is recursive,
    // so a callback may make asynchronous requests).
    std::recursive_mutex mu;

    int timeout_ms = 10000;
    bool reconnect = true;
    int max_backoff_ms = 30000;
    jim_log *log = nullptr;

    int connect(const char *host, int port);
    int login(const char *account, const char *password);
    // Sends req (its id is set here) and waits for the answer (blocking modes).
    int call(jim_msg &req, jim_msg *resp_out, std::unique_ptr<jim_list> *list_out);
    // Sends req and calls done with the answer later; a msg goes through the outbox.
    int call_async(jim_msg &req, Done done, std::string *id_out = nullptr);
    // Queues a msg to `to` in the outbox (see outbox.hh); done gets the answer.
    int post_text(const char *to, const char *text, Done done, std::string *id_out);
    int send_text(const char *to, const char *text, int64_t *seq, int *delivered);
    int send_text_async(const char *to, const char *text, jim_reply_fn fn, void *ud);
    int quit();
    // Attaches (or with null detaches) a store; see jim_client_set_store().
    void set_store(jim_store *s);
    jim_store *store() const { return store_; }
    void set_outgoing_callback(jim_outgoing_fn fn, void *ud)
    {
        outgoing_fn_ = fn;
        outgoing_ud_ = ud;
    }
    Outbox &outbox() { return outbox_; }
    // A request that never reached the server: no code, and why; returns rc.
    int failed_here(int rc, const char *why);

    jim_client_state state() const { return state_; }
    const std::string &account() const { return account_; }
    int64_t last_seq() const { return last_seq_; }
    int last_code() const { return last_code_; }
    const std::string &last_error() const { return last_error_; }
    const jim_msg *last_response() const { return last_code_ ? &last_resp_ : nullptr; }
    ContactList &contacts() { return contacts_.list(); }

    // The loop.
    int fd() const { return fd_; }
    bool wants_write() const { return fd_ >= 0 && (connecting_ || out_pos_ < out_.size()); }
    int next_timeout() const;
    int on_readable();
    int on_writable();
    int on_timeout();
    int run(int timeout_ms);
    int start_thread();
    void stop_thread();
    // Whether the caller is the client's own thread (a callback): blocking is refused there.
    bool on_own_thread() const
    {
        return thread_.joinable() && std::this_thread::get_id() == thread_.get_id();
    }

  private:
    enum class Kind { Plain, List, Send, Login, Internal };
    struct Pending {
        std::string id;
        std::string line; // the encoded request, re-sent after a reconnect
        Kind kind;
        int64_t deadline_us;
        Done done;
        jim_msg request;          // kept for Send (saved with its seq once acknowledged)
        bool written;             // on the current connection already
        int64_t resend_at_us = 0; // a msg refused with 429: when to send it again
    };

    // What a blocking request waits for: the answer, filled in by its Done.
    struct Waiter {
        bool done = false;
        int status = JIM_OK;
        jim_msg resp;
        bool have_resp = false;
        std::unique_ptr<jim_list> list;
    };
    Done waiter(std::shared_ptr<Waiter> w);
    // Waits for w; on an answer sets last_code_/last_error_ and hands it out. A request
    // that got no answer leaves the queue unless it is a msg (that one stays pending).
    int await(Waiter &w, const std::string &id, jim_msg *resp_out,
              std::unique_ptr<jim_list> *list_out);
    std::string new_id();
    // Queues req with a new id (or, for a msg from the outbox, its own).
    int enqueue(jim_msg &req, Kind kind, Done done, std::string *id_out = nullptr,
                bool keep_id = false);
    int post(jim_msg &req, Done done, std::string *id_out);
    // Loads the store's pending messages and queues every pending one not in flight.
    void queue_outbox();
    void finish(std::deque<Pending>::iterator it, int status, const jim_msg *resp, jim_list *list);
    void dispatch(const jim_msg &m);
    void on_response(const jim_msg &m);
    void incoming(const jim_msg &m);
    void after_send(const Pending &p, int status, const jim_msg *resp);
    void show_outgoing(const jim_msg &m, jim_outgoing_state st, const jim_msg *resp);
    void after_list(jim_list &list);
    void after_contact_change(const jim_msg &request);
    void answer_probe();
    void seen_seq(int64_t seq);
    int64_t settled_seq();
    void write_out();
    void lost(const char *why);
    void set_state(jim_client_state s);
    void fail_all(int status);
    bool start_connect();
    void connected();
    void relogin();
    void schedule_reconnect();
    int wait(const bool &done, int64_t deadline_us);
    int poll_once(int timeout_ms);
    void thread_main();
    void wake();
    Kind kind_of(jim_action a) const;

    // ChatView and ContactListView: the C callbacks.
    void show_message(const jim_msg &m, bool outgoing) override;
    void show_error(int code, const std::string &text) override;
    void show_presence(const std::string &user, const std::string &status) override;

    jim_client_callbacks cb_{};
    void *ud_ = nullptr;
    jim_outgoing_fn outgoing_fn_ = nullptr;
    void *outgoing_ud_ = nullptr;
    jim_store *store_ = nullptr;
    Outbox outbox_;
    ChatController chats_;
    ContactController contacts_;

    int fd_ = -1;
    bool connecting_ = false;
    jim_client_state state_ = JIM_CLIENT_DISCONNECTED;
    std::vector<sockaddr_storage> addrs_;
    std::vector<socklen_t> addr_lens_;
    size_t addr_next_ = 0;
    jim_framer *framer_ = nullptr;
    jim_msg in_;
    std::string out_;
    size_t out_pos_ = 0;
    std::deque<Pending> pending_;
    uint64_t next_id_ = 0;
    std::string id_prefix_;

    // A list reply being collected: entries still to come, and for whom (null: nobody).
    long list_left_ = 0;
    std::unique_ptr<jim_list> list_;
    std::unique_ptr<Pending> list_owner_;
    jim_msg list_header_;

    std::string account_, password_;
    bool have_password_ = false, logged_in_once_ = false, quitting_ = false;
    int64_t last_seq_ = 0;
    int64_t settled_ = 0;                            // see seen_seq()
    std::deque<std::pair<int64_t, int64_t>> recent_; // (when seen, seq), the last few seconds
    std::unordered_set<int64_t> seen_;               // seqs shown, when there is no store
    int64_t backoff_ms_ = 0, reconnect_at_us_ = 0;
    int last_code_ = 0;
    jim_msg last_resp_; // the answer last_code_ is from
    std::string last_error_;

    std::thread thread_;
    bool stop_ = false;
    int wake_[2] = {-1, -1};
    std::condition_variable_any cv_;
};

} // namespace jim

struct jim_client {
    jim::Client impl;
    jim_client(const jim_client_callbacks *cb, void *ud) : impl(cb, ud) {}
};

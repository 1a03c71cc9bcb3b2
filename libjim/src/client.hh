// jim::Client, the object behind jim_client: one connection (plain or TLS), its requests in
// flight, the incoming stream, reconnecting, and the loop that drives it (blocking, the
// program's own loop, or a thread of its own). client.cc has the connection and requests,
// client_e2e.cc the end-to-end encryption of direct messages.
#pragma once

#include "chat.hh"
#include "client_store.hh"
#include "e2e.hh"
#include "list.hh"
#include "outbox.hh"
#include "tls.hh"

#include <jim/client.h>
#include <jim/e2e.h>
#include <jim/framer.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
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

    // TLS for the next connect and every reconnect (see jim_client_set_tls()).
    int set_tls(jim_tls_mode mode, const char *ca_file);
    const char *tls_version() const
    {
        return tls_version_.empty() ? nullptr : tls_version_.c_str();
    }

    // End-to-end encryption (client_e2e.cc; see jim/e2e.h).
    void set_e2e_callback(jim_e2e_fn fn, void *ud)
    {
        e2e_fn_ = fn;
        e2e_ud_ = ud;
    }
    int set_key_dir(const char *dir);
    void set_e2e(const char *peer, bool on) { e2e_.set_enabled(peer, on); }
    int fingerprint(char *out, size_t size);
    int peer_key(jim_peer_key *out, const std::string &peer, bool refresh);
    int trust_key(const std::string &peer);

    int connect(const char *host, int port);
    int login(const char *account, const char *password);
    // set_password (doc/protocol.md §3); the new password is remembered for reconnecting.
    int set_password(const char *old_password, const char *new_password);
    // Sends req (its id is set here) and waits for the answer (blocking modes).
    int call(jim_msg &req, jim_msg *resp_out, std::unique_ptr<jim_list> *list_out);
    // Sends req and calls done with the answer later; a msg goes through the outbox.
    int call_async(jim_msg &req, Done done, std::string *id_out = nullptr);
    // Queues a msg to `to` in the outbox (see outbox.hh); done gets the answer.
    int post_text(const char *to, const char *text, Done done, std::string *id_out);
    int send_text(const char *to, const char *text, int64_t *seq, int *delivered);
    // After a blocking sync: waits for messages held for their sender's key.
    void wait_held();
    // Before a blocking send or history with peer: its key, when not asked yet this login.
    void know_key(const char *peer);
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
    bool wants_write() const
    {
        return fd_ >= 0 &&
               (connecting_ || (handshaking_ ? hs_wants_write_ : out_pos_ < out_.size()) ||
                read_wants_write_);
    }
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
        bool encrypted = false;   // a msg that went end-to-end encrypted
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
    // A message pushed or synced: decrypted when it came encrypted, then delivered.
    void incoming(const jim_msg &m);
    // Saved first, shown once.
    void deliver(const jim_msg &m);
    void after_send(const Pending &p, int status, const jim_msg *resp);
    void show_outgoing(const jim_msg &m, jim_outgoing_state st, const jim_msg *resp);
    void after_list(jim_list &list);
    void after_contact_change(const jim_msg &request);
    void answer_probe();
    void seen_seq(int64_t seq);
    int64_t settled_seq();
    void write_out();
    // The connection carries JIM: connected, and the TLS handshake (if any) done.
    bool link_up() const { return fd_ >= 0 && !connecting_ && !handshaking_; }
    // Reads what the connection has into buf: > 0 bytes, 0 at its end, -1 when there is
    // nothing now (again) or it failed (why).
    ssize_t read_some(void *buf, size_t cap, bool &again, std::string &why);
    // Ends the TLS session and closes the socket.
    void close_link();
    // The TCP connection is up: start TLS, or go on as connected.
    void tcp_connected();
    void drive_handshake();
    void handshake_failed(const std::string &why);
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

    // End-to-end encryption (client_e2e.cc).
    // After every login: a key pair (first use makes it), published with put_key.
    void publish_key();
    // The account's key pair, loaded (or made) from the key directory; false: none.
    bool load_key();
    // Publishes the key pair's public key (put_key).
    void send_key();
    // A store attached while logged in: keep the keys in its directory.
    void adopt_store_keys();
    // Asks for peer's key (once at a time); the answer goes to on_key_answer().
    void ask_key(const std::string &peer);
    // Asks and waits (blocking modes).
    int fetch_key(const std::string &peer);
    void on_key_answer(const std::string &peer, int status, const jim_msg *resp);
    // Messages held for peer's key, and messages waiting to be sent to peer: on now.
    void resolve_peer(const std::string &peer);
    // m decrypted (or marked as not decryptable) into out. With may_ask, a message that
    // no pinned key opens is held instead (false) until the sender's key arrives.
    bool open_incoming(const jim_msg &m, jim_msg &out, bool may_ask);
    // Sends an outbox entry (req is a copy of its msg): encrypted, plain, or later when
    // the peer's key is known; refused when the peer's key changed.
    int send_entry(Outbox::Entry &e, jim_msg &req, Done done);
    // Why a message to `to` must not be sent now (its key changed), or "".
    std::string refusal_for(const char *to) const;
    // Fails an outbox entry here (403 made by the client). id is a copy: the entry goes.
    void refuse_locally(std::string id, const Done &done, const std::string &why);
    void tell_e2e(jim_e2e_event ev, const char *peer, const std::string &text);
    // Held messages that can wait no longer: delivered as not decrypted.
    void give_up_held(const std::string &why, bool show);

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
    std::string host_; // as given to connect(): what TLS checks the certificate against
    std::unique_ptr<TlsContext> tls_ctx_; // null: plain TCP
    std::unique_ptr<TlsConn> tls_;        // this connection's session
    std::string tls_version_;
    bool handshaking_ = false, hs_wants_write_ = false;
    bool read_wants_write_ = false, write_wants_read_ = false; // TLS turned around
    bool tls_refused_ = false;    // the last handshake failed: connect() says JIM_ETLS
    bool tls_error_told_ = false; // a failed handshake was told (once until one works)
    int64_t handshake_deadline_us_ = 0;
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

    E2e e2e_;
    std::string key_dir_;
    jim_e2e_fn e2e_fn_ = nullptr;
    void *e2e_ud_ = nullptr;
    bool memory_key_told_ = false;
    bool unavailable_told_ = false; // the server keeps no keys: said once
    // Incoming encrypted messages waiting for their sender's key, by sender.
    std::map<std::string, std::vector<jim_msg>, std::less<>> held_;
    // Outbox ids (and who waits for each) waiting for their recipient's key, by recipient.
    std::map<std::string, std::vector<std::pair<std::string, Done>>, std::less<>> awaiting_;

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

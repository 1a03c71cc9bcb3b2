// jim::Client: the connection (plain or TLS), requests and their answers, the incoming
// stream, reconnecting.
//
// Every request carries an `id` (a random prefix per client and a counter), which the
// server echoes: answers are matched by it, so a request that timed out cannot take
// another's answer, and a msg re-sent after a reconnect is stored once (the server
// de-duplicates by sender and id). A 202 with `quantity` starts a list: the next
// `quantity` objects belong to that request. Messages are de-duplicated by seq (in the
// store, or in memory without one) and saved before they are shown.
#include "client.hh"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/random.h>
#include <unistd.h>

namespace jim {

namespace {

constexpr int kFirstBackoffMs = 250;

int64_t mono_us()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t{ts.tv_sec} * 1000000 + ts.tv_nsec / 1000;
}

bool is_list_action(jim_action a)
{
    return a == JIM_ACTION_GET_CONTACTS || a == JIM_ACTION_GET_ROOMS || a == JIM_ACTION_GET_USERS ||
           a == JIM_ACTION_HISTORY || a == JIM_ACTION_ADMIN_USERS;
}

} // namespace

Client::Client(const jim_client_callbacks *cb, void *userdata)
    : ud_(userdata), chats_(*this), contacts_(*this)
{
    if (cb)
        cb_ = *cb;
    jim_framer_new(&framer_, nullptr);
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r))
        r = static_cast<uint64_t>(mono_us()) ^ (static_cast<uint64_t>(getpid()) << 32);
    char buf[24];
    std::snprintf(buf, sizeof buf, "%016llx-", static_cast<unsigned long long>(r));
    id_prefix_ = buf;
}

Client::~Client()
{
    stop_thread();
    for (int &fd : wake_) // the thread's wake-up pipe, made by start_thread()
        if (fd >= 0) {
            ::close(fd);
            fd = -1;
        }
    give_up_held("the client ended before the sender's key arrived", false);
    close_link();
    jim_framer_free(framer_);
    std::fill(password_.begin(), password_.end(), '\0');
}

void Client::set_state(jim_client_state s)
{
    state_ = s;
    if (cb_.on_state)
        cb_.on_state(ud_, s);
}

// ---- connecting ---------------------------------------------------------------

int Client::set_tls(jim_tls_mode mode, const char *ca_file)
{
    if (fd_ >= 0 || state_ != JIM_CLIENT_DISCONNECTED)
        return failed_here(JIM_ESTATE, "set TLS before connecting");
    if (mode == JIM_TLS_OFF) {
        tls_ctx_.reset();
        return JIM_OK;
    }
    auto ctx = std::make_unique<TlsContext>();
    std::string why;
    if (!ctx->configure(mode == JIM_TLS_INSECURE, ca_file ? ca_file : "", &why))
        return failed_here(JIM_ETLS, why.c_str());
    tls_ctx_ = std::move(ctx);
    return JIM_OK;
}

int Client::connect(const char *host, int port)
{
    if (fd_ >= 0 || state_ != JIM_CLIENT_DISCONNECTED)
        return JIM_ESTATE;
    host_ = host;
    addrinfo hints{}, *res = nullptr;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    char service[16];
    std::snprintf(service, sizeof service, "%d", port);
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        last_error_ = std::string(host) + ": " + gai_strerror(rc);
        return JIM_ECONNECT;
    }
    addrs_.clear();
    addr_lens_.clear();
    for (addrinfo *a = res; a; a = a->ai_next) {
        sockaddr_storage ss{};
        std::memcpy(&ss, a->ai_addr, a->ai_addrlen);
        addrs_.push_back(ss);
        addr_lens_.push_back(a->ai_addrlen);
    }
    freeaddrinfo(res);
    quitting_ = false;
    logged_in_once_ = false;
    tls_refused_ = false;
    addr_next_ = 0;
    int64_t deadline = mono_us() + int64_t{timeout_ms} * 1000;
    // Each address in turn, each with the time that is left; then the TLS handshake.
    for (;;) {
        if (fd_ < 0 && !start_connect()) {
            if (addr_next_ >= addrs_.size())
                break;
            continue;
        }
        int left = static_cast<int>((deadline - mono_us()) / 1000);
        if (left <= 0) {
            last_error_ = handshaking_ ? "TLS: the server did not finish the handshake in time"
                                       : "connection timed out";
            tls_refused_ = handshaking_;
            close_link();
            break;
        }
        pollfd p{fd_, static_cast<short>(POLLIN | (wants_write() ? POLLOUT : 0)), 0};
        if (::poll(&p, 1, left) > 0) {
            // connected, or on to the next address, or out of them; a handshake step
            if (p.revents & (POLLOUT | POLLERR | POLLHUP))
                on_writable();
            if (handshaking_ && (p.revents & (POLLIN | POLLERR | POLLHUP)))
                drive_handshake();
        }
        if (link_up())
            return JIM_OK;
        if (tls_refused_)
            break; // the next address is the same server: it would refuse the same way
        if (fd_ < 0 && addr_next_ >= addrs_.size())
            break;
    }
    if (state_ != JIM_CLIENT_DISCONNECTED)
        set_state(JIM_CLIENT_DISCONNECTED);
    return tls_refused_ ? JIM_ETLS : JIM_ECONNECT;
}

// Starts a non-blocking connect to the next address; false when it failed at once.
bool Client::start_connect()
{
    if (addr_next_ >= addrs_.size())
        return false;
    const sockaddr_storage &a = addrs_[addr_next_];
    socklen_t len = addr_lens_[addr_next_];
    addr_next_++;
    int fd = ::socket(a.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        last_error_ = std::strerror(errno);
        return false;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd, reinterpret_cast<const sockaddr *>(&a), len) != 0 && errno != EINPROGRESS) {
        last_error_ = std::strerror(errno);
        ::close(fd);
        return false;
    }
    fd_ = fd;
    connecting_ = true;
    if (state_ != JIM_CLIENT_CONNECTING)
        set_state(JIM_CLIENT_CONNECTING);
    return true;
}

// The TCP connection is up: with TLS, the handshake comes first (driven by the loop, with
// a deadline); without, the connection is ready.
void Client::tcp_connected()
{
    connecting_ = false;
    if (!tls_ctx_) {
        connected();
        return;
    }
    if (tls_ctx_->insecure())
        JIM_LOG(log, JIM_LOG_WARNING, "client",
                "TLS to %s WITHOUT checking its certificate (insecure mode, for tests only): "
                "anyone on the path can read and change this connection",
                host_.c_str());
    tls_ = std::make_unique<TlsConn>();
    std::string why;
    if (!tls_->start(*tls_ctx_, fd_, host_, &why)) {
        handshake_failed(why);
        return;
    }
    handshaking_ = true;
    hs_wants_write_ = true;
    handshake_deadline_us_ = mono_us() + int64_t{timeout_ms} * 1000;
    drive_handshake();
}

void Client::drive_handshake()
{
    switch (tls_->handshake()) {
    case TlsConn::Status::Ok:
        handshaking_ = false;
        hs_wants_write_ = false;
        tls_version_ = tls_->describe();
        tls_error_told_ = false;
        JIM_LOG(log, JIM_LOG_INFO, "client", "TLS with %s: %s", host_.c_str(),
                tls_version_.c_str());
        connected();
        break;
    case TlsConn::Status::WantRead: hs_wants_write_ = false; break;
    case TlsConn::Status::WantWrite: hs_wants_write_ = true; break;
    default: handshake_failed(tls_->error()); break;
    }
}

// The handshake failed: the first connect reports it (JIM_ETLS); a reconnect tries again
// after the backoff (the server may get a new certificate) and tells it once.
void Client::handshake_failed(const std::string &why)
{
    std::string text = "TLS: " + why;
    JIM_LOG(log, JIM_LOG_WARNING, "client", "%s: %s", host_.c_str(), text.c_str());
    last_error_ = text;
    tls_refused_ = true;
    close_link();
    if (!logged_in_once_)
        return; // connect() reports it
    if (!tls_error_told_) {
        tls_error_told_ = true;
        show_error(JIM_ETLS, text);
    }
    addr_next_ = 0;
    schedule_reconnect();
}

void Client::close_link()
{
    if (tls_)
        tls_->shutdown();
    tls_.reset();
    tls_version_.clear();
    handshaking_ = hs_wants_write_ = read_wants_write_ = write_wants_read_ = false;
    if (fd_ >= 0)
        ::close(fd_);
    fd_ = -1;
    connecting_ = false;
}

void Client::connected()
{
    connecting_ = false;
    jim_framer_free(framer_);
    framer_ = nullptr;
    jim_framer_new(&framer_, nullptr);
    out_.clear();
    out_pos_ = 0;
    list_left_ = 0;
    list_.reset();
    list_owner_.reset();
    set_state(JIM_CLIENT_CONNECTED);
    if (logged_in_once_)
        relogin();
}

// After a reconnect: log in again, re-send every request still unanswered, catch up.
void Client::relogin()
{
    jim_msg req;
    if (have_password_)
        jim_msg_make_authenticate(&req, account_.c_str(), password_.c_str());
    else
        jim_msg_make_presence(&req, account_.c_str(), "online");
    jim_msg_set_features(&req, JIM_FEATURE_NDJSON);
    std::deque<Pending> old;
    old.swap(pending_);
    enqueue(req, Kind::Login, [this](int status, const jim_msg *resp, jim_list *) {
        if (status != JIM_OK) {
            int code = resp ? jim_msg_response(resp) : 0;
            const char *why = resp ? jim_msg_get_str(resp, JIM_FIELD_ERROR) : nullptr;
            std::string text =
                std::string("logging in again failed: ") + (why ? why : jim_strerror(status));
            // 409: the old session is still known to the server (it may not have noticed
            // the dead connection yet); 429 and 5xx pass too. Try again after the backoff
            // (at least the 429's retry_after). Anything else (402 wrong password, 403
            // banned) will not get better.
            if (code == 409 || code == 429 || code >= 500 || status == JIM_ETIMEDOUT) {
                JIM_LOG(log, JIM_LOG_INFO, "client", "%s; trying again", text.c_str());
                lost(text.c_str());
                int64_t after = 0;
                if (code == 429 && jim_msg_get_int(resp, JIM_FIELD_RETRY_AFTER, &after) == JIM_OK)
                    reconnect_at_us_ =
                        std::max(reconnect_at_us_,
                                 mono_us() + std::clamp<int64_t>(after, 1, 3600) * 1000000);
                return;
            }
            // The refusal that ends reconnecting: what jim_client_last_code() tells.
            last_code_ = code;
            if (resp)
                last_resp_ = *resp;
            show_error(code ? code : status, text);
            quitting_ = true; // the account is refused: do not hammer the server
            lost(text.c_str());
            return;
        }
        backoff_ms_ = 0;
        set_state(JIM_CLIENT_ONLINE);
        publish_key();
        for (Pending &p : pending_) { // made while the login was on its way
            if (!p.written && p.resend_at_us == 0) {
                out_ += p.line;
                p.written = true;
            }
        }
        JIM_LOG(log, JIM_LOG_INFO, "client", "logged in again as %s", account_.c_str());
        queue_outbox(); // pending messages a store attached meanwhile brought
        jim_msg sync;
        jim_msg_init_action(&sync, JIM_ACTION_SYNC);
        jim_msg_set_int(&sync, JIM_FIELD_SINCE, settled_seq());
        enqueue(sync, Kind::Internal, nullptr);
    });
    // The unanswered requests follow the login, in their order.
    for (Pending &p : old) {
        out_ += p.line;
        p.written = true;
        p.resend_at_us = 0;
        pending_.push_back(std::move(p));
    }
    write_out();
}

void Client::schedule_reconnect()
{
    backoff_ms_ =
        backoff_ms_ == 0 ? kFirstBackoffMs : std::min<int64_t>(backoff_ms_ * 2, max_backoff_ms);
    reconnect_at_us_ = mono_us() + backoff_ms_ * 1000;
    if (state_ != JIM_CLIENT_CONNECTING)
        set_state(JIM_CLIENT_CONNECTING);
}

// The connection is gone: reconnect later, or give up and fail what waits.
void Client::lost(const char *why)
{
    close_link();
    out_.clear();
    out_pos_ = 0;
    list_left_ = 0;
    list_.reset();
    list_owner_.reset();
    JIM_LOG(log, JIM_LOG_INFO, "client", "connection lost: %s", why);
    for (Pending &p : pending_)
        p.written = false;
    // Internal requests die with the connection; the program's own wait for a new one.
    for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->kind == Kind::Internal || it->kind == Kind::Login) {
            Pending p = std::move(*it);
            it = pending_.erase(it);
            if (p.done && p.kind == Kind::Login && !logged_in_once_)
                p.done(JIM_ECLOSED, nullptr, nullptr);
        } else {
            ++it;
        }
    }
    if (reconnect && logged_in_once_ && !quitting_) {
        addr_next_ = 0;
        schedule_reconnect();
        return;
    }
    last_error_ = why;
    set_state(JIM_CLIENT_DISCONNECTED);
    fail_all(JIM_ECLOSED);
    give_up_held(std::string("the connection ended before the sender's key arrived (") + why + ")",
                 true);
}

void Client::fail_all(int status)
{
    while (!pending_.empty())
        finish(pending_.begin(), status, nullptr, nullptr);
}

// ---- requests -----------------------------------------------------------------

Client::Kind Client::kind_of(jim_action a) const
{
    if (a == JIM_ACTION_MSG)
        return Kind::Send;
    if (is_list_action(a))
        return Kind::List;
    return Kind::Plain;
}

std::string Client::new_id()
{
    return id_prefix_ + std::to_string(++next_id_);
}

// Gives req an id (a msg from the outbox keeps its own), queues it and writes it now when
// the connection allows. A msg waits for its answer however long the connection is down.
int Client::enqueue(jim_msg &req, Kind kind, Done done, std::string *id_out, bool keep_id)
{
    if (!keep_id || !jim_msg_has(&req, JIM_FIELD_ID))
        jim_msg_set_str(&req, JIM_FIELD_ID, new_id().c_str());
    const char *json;
    size_t len;
    int rc = jim_msg_encode(&req, &json, &len);
    if (rc != JIM_OK)
        return rc;
    Pending p{jim_msg_get_str(&req, JIM_FIELD_ID),
              std::string(json, len),
              kind,
              kind == Kind::Send ? INT64_MAX : mono_us() + int64_t{timeout_ms} * 1000,
              std::move(done),
              jim_msg{},
              false};
    if (id_out)
        *id_out = p.id;
    if (kind == Kind::Send || jim_msg_action(&req) == JIM_ACTION_ADD_CONTACT ||
        jim_msg_action(&req) == JIM_ACTION_DEL_CONTACT)
        p.request = req;
    // While reconnecting, requests wait for the new login (relogin writes them).
    bool write_now = link_up() && (state_ == JIM_CLIENT_ONLINE || kind == Kind::Login ||
                                   jim_msg_action(&req) == JIM_ACTION_REGISTER ||
                                   jim_msg_action(&req) == JIM_ACTION_QUIT || !logged_in_once_);
    if (write_now) {
        out_ += p.line;
        p.written = true;
    }
    pending_.push_back(std::move(p));
    if (write_now) {
        write_out();
        wake();
    }
    return JIM_OK;
}

int Client::failed_here(int rc, const char *why)
{
    last_code_ = 0;
    last_error_ = why;
    return rc;
}

int Client::call_async(jim_msg &req, Done done, std::string *id_out)
{
    if (state_ == JIM_CLIENT_DISCONNECTED)
        return failed_here(JIM_ESTATE, "not connected");
    if (jim_msg_validate(&req, nullptr) != JIM_OK)
        return failed_here(JIM_EINVAL, jim_msg_errmsg(&req));
    if (jim_msg_action(&req) == JIM_ACTION_MSG)
        return post(req, std::move(done), id_out);
    return enqueue(req, kind_of(jim_msg_action(&req)), std::move(done), id_out);
}

// ---- the outgoing queue -------------------------------------------------------

int Client::post_text(const char *to, const char *text, Done done, std::string *id_out)
{
    jim_msg req;
    int rc = jim_msg_make_text(&req, to, text);
    if (rc != JIM_OK)
        return failed_here(rc, jim_strerror(rc));
    if (jim_msg_validate(&req, nullptr) != JIM_OK)
        return failed_here(JIM_EINVAL, jim_msg_errmsg(&req));
    return post(req, std::move(done), id_out);
}

// A valid msg: into the outbox (and the store), then on its way when the client is online.
int Client::post(jim_msg &req, Done done, std::string *id_out)
{
    if (state_ == JIM_CLIENT_DISCONNECTED || !logged_in_once_)
        return failed_here(JIM_ESTATE, "not logged in");
    std::string refused = refusal_for(jim_msg_get_str(&req, JIM_FIELD_TO));
    if (!refused.empty())
        return failed_here(JIM_EKEYCHANGED, refused.c_str());
    std::string id = new_id();
    jim_msg_set_str(&req, JIM_FIELD_ID, id.c_str());
    if (outbox_.add(req, store_ ? store_->impl.get() : nullptr) != JIM_OK)
        return failed_here(JIM_EIO, "cannot keep the message in the store");
    Outbox::Entry *e = outbox_.find(id);
    e->queued = true;
    show_outgoing(e->msg, JIM_OUTGOING_PENDING, nullptr);
    if (id_out)
        *id_out = id;
    return send_entry(*e, req, std::move(done));
}

void Client::queue_outbox()
{
    if (store_)
        for (Outbox::Entry *e : outbox_.load(*store_->impl))
            show_outgoing(e->msg, JIM_OUTGOING_PENDING, nullptr);
    for (Outbox::Entry *e : outbox_.pending()) {
        if (e->queued)
            continue;
        e->queued = true;
        jim_msg req = e->msg;
        send_entry(*e, req, nullptr);
    }
}

void Client::set_store(jim_store *s)
{
    store_ = s;
    if (!s || !logged_in_once_ || state_ == JIM_CLIENT_DISCONNECTED)
        return; // login() catches up
    adopt_store_keys();
    // Logged in already: catch up from what the store has, as a reconnect does.
    int64_t have = s->impl->last_seq();
    last_seq_ = std::max(last_seq_, have);
    settled_ = std::max(settled_, have);
    queue_outbox();
    if (state_ == JIM_CLIENT_ONLINE) {
        jim_msg sync;
        jim_msg_init_action(&sync, JIM_ACTION_SYNC);
        jim_msg_set_int(&sync, JIM_FIELD_SINCE, have);
        enqueue(sync, Kind::Internal, nullptr);
    }
}

void Client::show_outgoing(const jim_msg &m, jim_outgoing_state st, const jim_msg *resp)
{
    if (outgoing_fn_)
        outgoing_fn_(outgoing_ud_, &m, st, resp);
}

// ---- blocking requests --------------------------------------------------------

Client::Done Client::waiter(std::shared_ptr<Waiter> w)
{
    return [this, w](int status, const jim_msg *resp, jim_list *list) {
        w->done = true;
        w->status = status;
        if (resp) {
            w->resp = *resp;
            w->have_resp = true;
        }
        if (list)
            w->list = std::make_unique<jim_list>(std::move(*list));
        cv_.notify_all();
    };
}

int Client::await(Waiter &w, const std::string &id, jim_msg *resp_out,
                  std::unique_ptr<jim_list> *list_out)
{
    int rc = wait(w.done, mono_us() + int64_t{timeout_ms} * 1000 + 1000000);
    if (!w.done) { // the loop never answered (thread stopped, or no connection)
        auto it = std::find_if(pending_.begin(), pending_.end(),
                               [&](const Pending &p) { return p.id == id; });
        if (it != pending_.end() && it->kind == Kind::Send)
            return failed_here(rc, "no answer yet: the message is pending, and is sent when "
                                   "the connection is back");
        if (it != pending_.end())
            pending_.erase(it);
        return failed_here(rc, jim_strerror(rc));
    }
    last_code_ = w.have_resp ? jim_msg_response(&w.resp) : 0;
    if (w.have_resp)
        last_resp_ = w.resp;
    if (w.status == JIM_OK) {
        last_error_.clear();
    } else if (w.have_resp) {
        const char *e = jim_msg_get_str(&w.resp, JIM_FIELD_ERROR);
        last_error_ = e ? e : jim_response_text(last_code_);
    } else {
        last_error_ = jim_strerror(w.status);
    }
    if (resp_out && w.have_resp)
        *resp_out = w.resp;
    if (list_out)
        *list_out = std::move(w.list);
    return w.status;
}

int Client::call(jim_msg &req, jim_msg *resp_out, std::unique_ptr<jim_list> *list_out)
{
    if (on_own_thread())
        return JIM_ESTATE;
    auto w = std::make_shared<Waiter>();
    std::string id;
    int rc = call_async(req, waiter(w), &id);
    if (rc != JIM_OK)
        return rc;
    return await(*w, id, resp_out, list_out);
}

int Client::set_password(const char *old_password, const char *new_password)
{
    if (state_ != JIM_CLIENT_ONLINE)
        return failed_here(JIM_ESTATE, "not logged in");
    jim_msg req;
    jim_msg_init_action(&req, JIM_ACTION_SET_PASSWORD);
    if (jim_msg_set_str(&req, JIM_FIELD_OLD_PASSWORD, old_password) != JIM_OK ||
        jim_msg_set_str(&req, JIM_FIELD_NEW_PASSWORD, new_password) != JIM_OK)
        return failed_here(JIM_EINVAL, "a password is not valid UTF-8");
    int rc = call(req, nullptr, nullptr);
    if (rc == JIM_OK && have_password_) {
        std::fill(password_.begin(), password_.end(), '\0');
        password_ = new_password;
    }
    return rc;
}

int Client::login(const char *account, const char *password)
{
    if (state_ != JIM_CLIENT_CONNECTED)
        return failed_here(JIM_ESTATE, "not connected");
    jim_msg req;
    int rc = password ? jim_msg_make_authenticate(&req, account, password)
                      : jim_msg_make_presence(&req, account, "online");
    if (rc != JIM_OK)
        return failed_here(rc, jim_strerror(rc));
    jim_msg_set_features(&req, JIM_FEATURE_NDJSON);
    // The direct messages kept for the account come right behind the answer (protocol.md
    // §4): they are opened as this account's, with its key pair, so both are in place first.
    std::string before = account_;
    auto forget_keys = [this] { // keys are an account's own
        e2e_ = E2e{};
        held_.clear();
        awaiting_.clear();
    };
    if (!before.empty() && before != account)
        forget_keys();
    account_ = account;
    // Only a key pair kept already (one that peers may have sealed messages for): a
    // login that fails leaves no file or directory behind.
    std::string key_dir = !key_dir_.empty() ? key_dir_ : store_ ? store_->dir : "";
    if (!e2e_.has_key() && !key_dir.empty() && ::access((key_dir + "/e2e_key").c_str(), R_OK) == 0)
        load_key();
    rc = call(req, nullptr, nullptr);
    if (rc != JIM_OK) {
        if (before != account_) {
            account_ = before;
            forget_keys();
        }
        return rc;
    }
    std::fill(password_.begin(), password_.end(), '\0');
    password_ = password ? password : "";
    have_password_ = password != nullptr;
    logged_in_once_ = true;
    chats_.set_account(account_);
    set_state(JIM_CLIENT_ONLINE);
    publish_key();
    if (store_ && store_->impl->last_seq() > last_seq_)
        last_seq_ = store_->impl->last_seq();
    settled_ = std::max(settled_, last_seq_);
    queue_outbox(); // what waited for this login, from this client or from its store
    if (store_ || last_seq_ > 0) {
        jim_msg sync;
        jim_msg_init_action(&sync, JIM_ACTION_SYNC);
        jim_msg_set_int(&sync, JIM_FIELD_SINCE, last_seq_);
        rc = call(sync, nullptr, nullptr);
        if (rc == JIM_OK)
            wait_held();
    }
    return rc;
}

// Encrypted messages whose senders' keys are on their way are shown before a blocking
// sync returns, as the others are: waits for them (at most the timeout).
void Client::wait_held()
{
    static const bool never = false;
    int64_t until = mono_us() + int64_t{timeout_ms} * 1000;
    while (!held_.empty() && state_ != JIM_CLIENT_DISCONNECTED && mono_us() < until)
        wait(never, std::min(until, mono_us() + 20000));
}

int Client::send_text(const char *to, const char *text, int64_t *seq, int *delivered)
{
    if (on_own_thread())
        return JIM_ESTATE;
    // The recipient's key first, so a changed one refuses the message here and now.
    if (to)
        know_key(to);
    auto w = std::make_shared<Waiter>();
    std::string id;
    int rc = post_text(to, text, waiter(w), &id);
    if (rc != JIM_OK)
        return rc;
    jim_msg resp;
    rc = await(*w, id, &resp, nullptr);
    if (rc == JIM_OK) {
        int64_t s = 0;
        jim_msg_get_int(&resp, JIM_FIELD_SEQ, &s);
        if (seq)
            *seq = s;
        if (delivered)
            *delivered = jim_msg_response(&resp) == 200;
    }
    return rc;
}

int Client::send_text_async(const char *to, const char *text, jim_reply_fn fn, void *ud)
{
    return post_text(
        to, text,
        [fn, ud](int status, const jim_msg *resp, jim_list *list) {
            if (fn)
                fn(ud, status, resp, list);
        },
        nullptr);
}

int Client::quit()
{
    if (state_ == JIM_CLIENT_DISCONNECTED)
        return JIM_ESTATE;
    quitting_ = true;
    int rc = JIM_OK;
    if (link_up()) {
        jim_msg req;
        jim_msg_init_action(&req, JIM_ACTION_QUIT);
        int saved = timeout_ms;
        timeout_ms = std::min(timeout_ms, 2000);
        rc = call(req, nullptr, nullptr);
        timeout_ms = saved;
    }
    if (state_ != JIM_CLIENT_DISCONNECTED)
        lost("quit");
    return rc == JIM_ECLOSED ? JIM_OK : rc;
}

// Removes a request and tells its owner.
void Client::finish(std::deque<Pending>::iterator it, int status, const jim_msg *resp,
                    jim_list *list)
{
    Pending p = std::move(*it);
    pending_.erase(it);
    if (p.kind == Kind::Send)
        after_send(p, status, resp);
    if (status == JIM_OK)
        after_contact_change(p.request);
    if (status == JIM_OK && list)
        after_list(*list);
    if (p.done)
        p.done(status, resp, list);
}

// A contact added or removed (by any way of asking): in the model and the store.
void Client::after_contact_change(const jim_msg &request)
{
    jim_action a = jim_msg_action(&request);
    const char *user = jim_msg_get_str(&request, JIM_FIELD_USER_ID);
    if ((a != JIM_ACTION_ADD_CONTACT && a != JIM_ACTION_DEL_CONTACT) || !user)
        return;
    if (a == JIM_ACTION_ADD_CONTACT) {
        contacts_.list().add(user);
        if (store_)
            store_->impl->add_contact(user);
    } else {
        contacts_.list().remove(user);
        if (store_)
            store_->impl->del_contact(user);
    }
}

// The end of a msg request. Answered 2xx: the server stored it; keep it, with its seq, as
// the server has it. Answered 4xx: refused for good. No answer (the client stopped for
// good): it stays pending in the outbox and the store, for the next login.
void Client::after_send(const Pending &p, int status, const jim_msg *resp)
{
    if (!resp) {
        if (Outbox::Entry *e = outbox_.find(p.id))
            e->queued = false;
        return;
    }
    ClientStore *st = store_ ? store_->impl.get() : nullptr;
    jim_msg m;
    if (status != JIM_OK) {
        if (outbox_.settle(p.id, JIM_OUTGOING_FAILED, st, &m))
            show_outgoing(m, JIM_OUTGOING_FAILED, resp);
        return;
    }
    if (!outbox_.settle(
            p.id, jim_msg_response(resp) == 202 ? JIM_OUTGOING_STORED : JIM_OUTGOING_DELIVERED, st,
            &m))
        m = p.request;
    jim_msg_set_str(&m, JIM_FIELD_FROM, account_.c_str());
    if (p.encrypted)
        jim_msg_set_bool(&m, JIM_FIELD_E2E, 1); // kept and shown as the text it was
    int64_t seq = 0, t = 0;
    if (jim_msg_get_int(resp, JIM_FIELD_SEQ, &seq) == JIM_OK && seq > 0) {
        jim_msg_set_int(&m, JIM_FIELD_SEQ, seq);
        if (jim_msg_get_int(resp, JIM_FIELD_TIME, &t) == JIM_OK)
            jim_msg_set_int(&m, JIM_FIELD_TIME, t);
        if (st)
            st->save(m);
        else
            seen_.insert(seq);
        seen_seq(seq);
    }
    show_outgoing(m, jim_msg_response(resp) == 202 ? JIM_OUTGOING_STORED : JIM_OUTGOING_DELIVERED,
                  resp);
}

// A list answer arrived: keep contacts and history in the model and the store.
void Client::after_list(jim_list &list)
{
    if (list.items.empty())
        return;
    jim_action entry = jim_msg_action(list.items.front().get());
    if (entry == JIM_ACTION_CONTACT_LIST) {
        std::vector<std::pair<std::string, std::string>> entries;
        std::vector<std::string> names;
        for (auto &m : list.items) {
            const char *u = jim_msg_get_str(m.get(), JIM_FIELD_USER_ID);
            const char *st = jim_msg_get_str(m.get(), JIM_FIELD_STATUS);
            if (!u)
                continue;
            entries.emplace_back(u, st ? st : "offline");
            names.emplace_back(u);
        }
        contacts_.list().replace(entries);
        if (store_)
            store_->impl->set_contacts(names);
    } else if (entry == JIM_ACTION_MSG) {
        // History: encrypted entries are opened with the keys known now (no waiting).
        for (auto &m : list.items) {
            const char *enc = jim_msg_get_str(m.get(), JIM_FIELD_ENCODING);
            if ((enc && std::strcmp(enc, JIM_E2E_ENCODING) == 0) ||
                jim_msg_has(m.get(), JIM_FIELD_E2E) || jim_msg_has(m.get(), JIM_FIELD_E2E_ERROR)) {
                jim_msg opened;
                open_incoming(*m, opened, false);
                *m = opened;
            }
        }
        if (store_) {
            store_->impl->begin();
            for (auto &m : list.items)
                store_->impl->save(*m);
            store_->impl->commit();
        }
    }
}

// ---- incoming -----------------------------------------------------------------

void Client::dispatch(const jim_msg &m)
{
    if (list_left_ > 0) {
        if (list_)
            list_->add(m);
        if (--list_left_ == 0) {
            std::unique_ptr<Pending> owner = std::move(list_owner_);
            std::unique_ptr<jim_list> list = std::move(list_);
            if (owner) {
                pending_.push_front(std::move(*owner));
                finish(pending_.begin(), JIM_OK, &list_header_, list.get());
            }
        }
        return;
    }
    if (jim_msg_response(&m) != 0) {
        on_response(m);
        return;
    }
    switch (jim_msg_action(&m)) {
    case JIM_ACTION_MSG: incoming(m); break;
    case JIM_ACTION_PRESENCE: {
        const char *u = jim_msg_get_str(&m, JIM_FIELD_ACCOUNT_NAME);
        const char *st = jim_msg_get_str(&m, JIM_FIELD_USER_STATUS);
        if (u)
            contacts_.presence(u, st ? st : "online");
        break;
    }
    case JIM_ACTION_PROBE: answer_probe(); break;
    default: break; // nothing else is pushed to a client
    }
}

void Client::on_response(const jim_msg &m)
{
    int code = jim_msg_response(&m);
    const char *id = jim_msg_get_str(&m, JIM_FIELD_ID);
    auto it = pending_.end();
    if (id)
        it = std::find_if(pending_.begin(), pending_.end(),
                          [&](const Pending &p) { return p.id == id; });
    else if (!pending_.empty() && code >= 400)
        it = pending_.begin(); // an answer the server could not tie to our id: the oldest
    int64_t quantity = -1;
    bool is_list = code == 202 && jim_msg_get_int(&m, JIM_FIELD_QUANTITY, &quantity) == JIM_OK;
    if (it == pending_.end()) {
        if (is_list && quantity > 0)
            list_left_ = quantity; // a list for a request that timed out: skip it
        if (code >= 400) {
            const char *e = jim_msg_get_str(&m, JIM_FIELD_ERROR);
            show_error(code, e ? e : jim_response_text(code));
        }
        return;
    }
    if (is_list && it->kind == Kind::List) {
        if (quantity <= 0) {
            jim_list empty;
            finish(it, JIM_OK, &m, &empty);
            return;
        }
        list_left_ = quantity;
        list_header_ = m;
        list_ = std::make_unique<jim_list>();
        list_owner_ = std::make_unique<Pending>(std::move(*it));
        pending_.erase(it);
        return;
    }
    if (it->kind == Kind::Send && (code == 429 || code >= 500)) {
        // The server's rate limit, or a failure of its own: the message was not stored.
        // Send it again (same id) when it says, so a fast writer is slowed down instead
        // of losing lines; only a refusal (4xx) ends a message.
        int64_t after = code == 429 ? 1 : 5;
        jim_msg_get_int(&m, JIM_FIELD_RETRY_AFTER, &after);
        after = std::clamp<int64_t>(after, 1, 60);
        it->resend_at_us = mono_us() + after * 1000000;
        it->written = false;
        return;
    }
    if (it->kind == Kind::Send && code == 401) {
        // The server no longer counts this connection as logged in: not a refusal of the
        // message. Log in again on a new connection; it is sent after that.
        lost("the server says this session is not logged in");
        return;
    }
    finish(it, code < 300 ? JIM_OK : JIM_ESERVER, &m, nullptr);
}

// A message pushed or synced. Only one that came encrypted (or that carries the client's
// own e2e fields, which no server may set) is copied: the plain path stays as it was.
void Client::incoming(const jim_msg &m)
{
    const char *enc = jim_msg_get_str(&m, JIM_FIELD_ENCODING);
    if ((enc && std::strcmp(enc, JIM_E2E_ENCODING) == 0) || jim_msg_has(&m, JIM_FIELD_E2E) ||
        jim_msg_has(&m, JIM_FIELD_E2E_ERROR)) {
        jim_msg opened;
        if (open_incoming(m, opened, true))
            deliver(opened);
        return;
    }
    deliver(m);
}

// Saved first, shown once.
void Client::deliver(const jim_msg &m)
{
    int64_t seq = 0;
    if (jim_msg_get_int(&m, JIM_FIELD_SEQ, &seq) == JIM_OK && seq > 0) {
        if (store_) {
            int rc = store_->impl->save(m);
            if (rc == 1)
                return; // seen before
            if (rc < 0)
                show_error(rc, "cannot save a message to the store");
            if (seen_.count(seq))
                return; // shown before the store was attached; saved now
        } else if (!seen_.insert(seq).second) {
            return;
        }
        seen_seq(seq);
    }
    chats_.incoming(m);
}

// Seqs are global and messages from different workers can arrive out of seq order, so the
// highest seq seen is not a safe place to sync from after a reconnect: something lower may
// have been on its way. Only seqs seen kSettleUs ago count as settled; a reconnect syncs
// from there (what comes twice is dropped by seq).
constexpr int64_t kSettleUs = 5000000;

void Client::seen_seq(int64_t seq)
{
    last_seq_ = std::max(last_seq_, seq);
    recent_.emplace_back(mono_us(), seq);
    settled_seq();
}

int64_t Client::settled_seq()
{
    int64_t cutoff = mono_us() - kSettleUs;
    while (!recent_.empty() && recent_.front().first <= cutoff) {
        settled_ = std::max(settled_, recent_.front().second);
        recent_.pop_front();
    }
    return settled_;
}

void Client::answer_probe()
{
    if (state_ != JIM_CLIENT_ONLINE)
        return;
    jim_msg req;
    if (jim_msg_make_presence(&req, account_.c_str(), "online") != JIM_OK)
        return;
    jim_msg_set_features(&req, JIM_FEATURE_NDJSON);
    enqueue(req, Kind::Internal, nullptr);
}

void Client::show_message(const jim_msg &m, bool outgoing)
{
    if (cb_.on_message)
        cb_.on_message(ud_, &m, outgoing ? 1 : 0);
}

void Client::show_error(int code, const std::string &text)
{
    JIM_LOG(log, JIM_LOG_WARNING, "client", "%d: %s", code, text.c_str());
    if (cb_.on_error)
        cb_.on_error(ud_, code, text.c_str());
}

void Client::show_presence(const std::string &user, const std::string &status)
{
    if (cb_.on_presence)
        cb_.on_presence(ud_, user.c_str(), status.c_str());
}

// ---- the loop -----------------------------------------------------------------

void Client::write_out()
{
    write_wants_read_ = false;
    while (link_up() && out_pos_ < out_.size()) {
        const char *data = out_.data() + out_pos_;
        size_t len = out_.size() - out_pos_;
        if (tls_) {
            size_t n = 0;
            switch (tls_->write(data, len, &n)) {
            case TlsConn::Status::Ok: out_pos_ += n; continue;
            case TlsConn::Status::WantWrite: return;
            case TlsConn::Status::WantRead: write_wants_read_ = true; return;
            default: lost(("TLS: " + tls_->error()).c_str()); return;
            }
        }
        ssize_t n = ::send(fd_, data, len, MSG_NOSIGNAL);
        if (n > 0) {
            out_pos_ += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        lost(n < 0 ? std::strerror(errno) : "closed");
        return;
    }
    if (out_pos_ == out_.size()) {
        out_.clear();
        out_pos_ = 0;
    }
}

int Client::on_writable()
{
    if (fd_ < 0)
        return state_ == JIM_CLIENT_DISCONNECTED ? JIM_ECLOSED : JIM_OK;
    if (connecting_) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err == EINPROGRESS)
            return JIM_OK;
        if (err == 0) {
            tcp_connected();
            return JIM_OK;
        }
        last_error_ = std::strerror(err);
        close_link();
        if (!start_connect() && logged_in_once_ && addr_next_ >= addrs_.size()) {
            addr_next_ = 0;
            schedule_reconnect();
        }
        return JIM_OK;
    }
    if (handshaking_) {
        drive_handshake();
        return state_ == JIM_CLIENT_DISCONNECTED ? JIM_ECLOSED : JIM_OK;
    }
    if (read_wants_write_)
        on_readable(); // a TLS read that had to write first
    write_out();
    return state_ == JIM_CLIENT_DISCONNECTED ? JIM_ECLOSED : JIM_OK;
}

ssize_t Client::read_some(void *buf, size_t cap, bool &again, std::string &why)
{
    again = false;
    if (tls_) {
        size_t n = 0;
        read_wants_write_ = false;
        switch (tls_->read(buf, cap, &n)) {
        case TlsConn::Status::Ok: return static_cast<ssize_t>(n);
        case TlsConn::Status::WantWrite: read_wants_write_ = true; [[fallthrough]];
        case TlsConn::Status::WantRead: again = true; return -1;
        case TlsConn::Status::Closed: return 0;
        default: why = "TLS: " + tls_->error(); return -1;
        }
    }
    for (;;) {
        ssize_t n = ::recv(fd_, buf, cap, 0);
        if (n < 0 && errno == EINTR)
            continue;
        again = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        if (n < 0 && !again)
            why = std::strerror(errno);
        return n;
    }
}

int Client::on_readable()
{
    if (fd_ < 0 || connecting_)
        return state_ == JIM_CLIENT_DISCONNECTED ? JIM_ECLOSED : JIM_OK;
    if (handshaking_) {
        drive_handshake();
        return state_ == JIM_CLIENT_DISCONNECTED ? JIM_ECLOSED : JIM_OK;
    }
    if (write_wants_read_)
        write_out(); // a TLS write that had to read first
    std::string why;
    for (int reads = 0; reads < 16 && fd_ >= 0; reads++) {
        void *buf;
        size_t cap;
        if (jim_framer_reserve(framer_, 65536, &buf, &cap) != JIM_OK) {
            lost("out of memory");
            break;
        }
        bool again = false;
        ssize_t n = read_some(buf, cap, again, why);
        if (n <= 0) {
            jim_framer_commit(framer_, 0);
            if (!again)
                lost(n == 0 ? "the server closed the connection" : why.c_str());
            break;
        }
        jim_framer_commit(framer_, static_cast<size_t>(n));
        if (store_)
            store_->impl->begin(); // one write for everything this read brought
        int rc;
        while (fd_ >= 0 && (rc = jim_framer_next_msg(framer_, &in_)) != JIM_EAGAIN) {
            if (rc == JIM_OK) {
                dispatch(in_);
            } else if (!jim_framer_can_continue(framer_)) {
                lost(jim_framer_errmsg(framer_));
                break;
            } else {
                JIM_LOG(log, JIM_LOG_WARNING, "client", "bad object from the server: %s",
                        jim_framer_errmsg(framer_));
            }
        }
        if (store_)
            store_->impl->commit();
        // A short read emptied the socket; TLS hands out a record at a time, so it reads
        // on until the session says it waits.
        if (!tls_ && static_cast<size_t>(n) < cap)
            break;
    }
    return state_ == JIM_CLIENT_DISCONNECTED ? JIM_ECLOSED : JIM_OK;
}

int Client::next_timeout() const
{
    int64_t now = mono_us(), due = INT64_MAX;
    for (const Pending &p : pending_) {
        due = std::min(due, p.deadline_us);
        if (p.resend_at_us > 0)
            due = std::min(due, p.resend_at_us);
    }
    if (list_owner_)
        due = std::min(due, list_owner_->deadline_us);
    if (state_ == JIM_CLIENT_CONNECTING && fd_ < 0)
        due = std::min(due, reconnect_at_us_);
    if (handshaking_)
        due = std::min(due, handshake_deadline_us_);
    // Decrypted bytes wait inside the TLS session, where poll() cannot see them.
    if (tls_ && tls_->has_pending())
        due = now;
    if (due == INT64_MAX)
        return -1;
    return due <= now ? 0 : static_cast<int>((due - now + 999) / 1000);
}

int Client::on_timeout()
{
    int64_t now = mono_us();
    if (handshaking_ && handshake_deadline_us_ <= now)
        handshake_failed("the server did not finish the handshake in time");
    if (tls_ && tls_->has_pending())
        on_readable();
    for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->deadline_us <= now) {
            finish(it, JIM_ETIMEDOUT, nullptr, nullptr);
            it = pending_.begin(); // finish may have changed the queue
        } else {
            ++it;
        }
    }
    bool resent = false;
    for (Pending &p : pending_) {
        if (p.resend_at_us > 0 && p.resend_at_us <= now && state_ == JIM_CLIENT_ONLINE &&
            link_up()) {
            p.resend_at_us = 0;
            p.written = true;
            out_ += p.line;
            resent = true;
        }
    }
    if (resent)
        write_out();
    if (list_owner_ && list_owner_->deadline_us <= now) {
        std::unique_ptr<Pending> owner = std::move(list_owner_);
        if (owner->done)
            owner->done(JIM_ETIMEDOUT, nullptr, nullptr);
    }
    if (state_ == JIM_CLIENT_CONNECTING && fd_ < 0 && reconnect_at_us_ <= now) {
        while (addr_next_ < addrs_.size() && !start_connect()) {
        }
        if (fd_ < 0) {
            addr_next_ = 0;
            schedule_reconnect();
        }
    }
    return state_ == JIM_CLIENT_DISCONNECTED ? JIM_ECLOSED : JIM_OK;
}

// One round: wait for the socket or the next deadline (at most timeout_ms), handle it.
int Client::poll_once(int timeout_ms_)
{
    int t = next_timeout();
    if (t < 0 || (timeout_ms_ >= 0 && timeout_ms_ < t))
        t = timeout_ms_;
    pollfd p{fd_, static_cast<short>(POLLIN | (wants_write() ? POLLOUT : 0)), 0};
    int n = ::poll(&p, fd_ >= 0 ? 1 : 0, t);
    if (n > 0) {
        if (p.revents & (POLLOUT | POLLERR | POLLHUP))
            on_writable();
        if (p.revents & (POLLIN | POLLERR | POLLHUP))
            on_readable();
    }
    if (next_timeout() == 0)
        on_timeout();
    return state_ == JIM_CLIENT_DISCONNECTED ? JIM_ECLOSED : JIM_OK;
}

// Waits until done is set: by driving the loop here, or (thread mode) by waiting for
// the thread to do it.
int Client::wait(const bool &done, int64_t deadline_us)
{
    if (thread_.joinable()) {
        std::unique_lock<std::recursive_mutex> lock(mu, std::adopt_lock);
        while (!done && mono_us() < deadline_us)
            cv_.wait_for(lock, std::chrono::milliseconds(50));
        lock.release(); // the caller's guard still owns it
        return done ? JIM_OK : JIM_ETIMEDOUT;
    }
    while (!done) {
        int left = static_cast<int>((deadline_us - mono_us()) / 1000);
        if (left <= 0)
            return JIM_ETIMEDOUT;
        poll_once(left);
        if (state_ == JIM_CLIENT_DISCONNECTED && !done)
            return JIM_ECLOSED;
    }
    return JIM_OK;
}

int Client::run(int timeout)
{
    if (thread_.joinable())
        return JIM_ESTATE;
    if (state_ == JIM_CLIENT_DISCONNECTED)
        return JIM_ECLOSED;
    int64_t end = timeout < 0 ? INT64_MAX : mono_us() + int64_t{timeout} * 1000;
    for (;;) {
        int left =
            timeout < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, (end - mono_us()) / 1000));
        if (poll_once(left) == JIM_ECLOSED)
            return JIM_ECLOSED;
        if (timeout >= 0 && mono_us() >= end)
            return JIM_OK;
    }
}

void Client::wake()
{
    if (wake_[1] >= 0) {
        char c = 1;
        [[maybe_unused]] ssize_t n = ::write(wake_[1], &c, 1);
    }
}

int Client::start_thread()
{
    if (thread_.joinable())
        return JIM_ESTATE;
    if (wake_[0] < 0 && ::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0)
        return JIM_EIO;
    stop_ = false;
    thread_ = std::thread([this] { thread_main(); });
    return JIM_OK;
}

void Client::stop_thread()
{
    {
        std::lock_guard<std::recursive_mutex> lock(mu);
        if (!thread_.joinable() || on_own_thread())
            return;
        stop_ = true;
        wake();
    }
    thread_.join();
    thread_ = std::thread();
    cv_.notify_all();
}

void Client::thread_main()
{
    std::unique_lock<std::recursive_mutex> lock(mu);
    while (!stop_) {
        int t = next_timeout();
        pollfd p[2] = {{wake_[0], POLLIN, 0},
                       {fd_, static_cast<short>(POLLIN | (wants_write() ? POLLOUT : 0)), 0}};
        nfds_t n = fd_ >= 0 ? 2 : 1;
        lock.unlock();
        int ready = ::poll(p, n, t);
        lock.lock();
        if (stop_)
            break;
        if (ready > 0 && (p[0].revents & POLLIN)) {
            char buf[64];
            while (::read(wake_[0], buf, sizeof buf) > 0) {
            }
        }
        // The descriptor may have changed while unlocked: only trust events for the same one.
        if (ready > 0 && n == 2 && p[1].fd == fd_) {
            if (p[1].revents & (POLLOUT | POLLERR | POLLHUP))
                on_writable();
            if (fd_ == p[1].fd && (p[1].revents & (POLLIN | POLLERR | POLLHUP)))
                on_readable();
        }
        if (next_timeout() == 0)
            on_timeout();
        cv_.notify_all();
    }
}

} // namespace jim

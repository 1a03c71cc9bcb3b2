// A client connection's input, output and flow control (connection.hh).
#include "connection.hh"

#include "clock.hh"

#include <openssl/ssl.h>

#include <algorithm>
#include <cerrno>
#include <new>
#include <sys/socket.h>

namespace jimd {

ConnectionLoop::ConnectionLoop(event_base *base, const jim_limits *limits)
    : base_(base), limits_(limits)
{
}

ConnectionLoop::~ConnectionLoop()
{
    if (flush_ev_)
        event_free(flush_ev_);
    if (more_ev_)
        event_free(more_ev_);
    jim_msg_free(request_);
    SSL_CTX_free(tls_);
    limits_changed();
}

void ConnectionLoop::limits_changed()
{
    for (jim_framer *f : spare_framers_)
        jim_framer_free(f);
    spare_framers_.clear();
    // A framer keeps the limits it was made with: those lent out now are freed, not kept,
    // when given back (a 16-bit count: one would have to stay lent through 65,536 changes).
    limits_gen_++;
}

// Connections give their empty buffers back at once and take them again when input or
// output comes: at any moment only the busy ones hold any (an idle connection none, and a
// burst of logins no thousands waiting for release_idle), without a malloc per turn.
OutputBuffer *ConnectionLoop::take_output()
{
    return spare_outputs_.take();
}

jim_framer *ConnectionLoop::take_framer(uint16_t *limits_gen)
{
    jim_framer *f = nullptr;
    *limits_gen = limits_gen_;
    if (spare_framers_.empty())
        return jim_framer_new(&f, limits_) == JIM_OK ? f : nullptr;
    f = spare_framers_.back();
    spare_framers_.pop_back();
    return f;
}

void ConnectionLoop::give_output(OutputBuffer *out)
{
    spare_outputs_.give(out);
}

void ConnectionLoop::give_framer(jim_framer *framer, uint16_t limits_gen)
{
    if (limits_gen == limits_gen_ && spare_framers_.size() < kSpares)
        spare_framers_.push_back(framer);
    else
        jim_framer_free(framer);
}

void ConnectionLoop::set_tls(SSL_CTX *ctx, bool required)
{
    if (ctx)
        SSL_CTX_up_ref(ctx);
    SSL_CTX_free(tls_);
    tls_ = ctx;
    tls_required_ = required && ctx;
}

bool ConnectionLoop::start()
{
    flush_ev_ = event_new(base_, -1, 0, on_flush, this);
    more_ev_ = event_new(base_, -1, 0, on_more, this);
    spare_framers_.reserve(kSpares);
    return flush_ev_ && more_ev_ && jim_msg_new(&request_) == JIM_OK;
}

// Output is written once per loop iteration, after everything that produces it (the flush
// event is activated after them), straight to the socket; the write event is armed only
// when the socket cannot take it all.
void ConnectionLoop::want_flush(Connection *c)
{
    if (dirty_.empty())
        event_active(flush_ev_, EV_TIMEOUT, 0);
    dirty_.push_back(c);
}

void ConnectionLoop::on_flush(evutil_socket_t, short, void *arg)
{
    auto *loop = static_cast<ConnectionLoop *>(arg);
    std::vector<Connection *> &list = loop->flushing_; // both keep their capacity
    list.clear();
    list.swap(loop->dirty_);
    for (size_t i = 0; i < list.size(); i++) // a destroyed connection is nulled (forget)
        if (Connection *c = list[i]) {
            c->dirty_ = false;
            if (!c->transport_->writing())
                c->on_writable();
        }
    list.clear();
}

// The connections whose turn ended with requests left: handled after the others.
void ConnectionLoop::want_more(Connection *c)
{
    if (more_.empty())
        event_active(more_ev_, EV_TIMEOUT, 0);
    more_.push_back(c);
}

void ConnectionLoop::on_more(evutil_socket_t, short, void *arg)
{
    auto *loop = static_cast<ConnectionLoop *>(arg);
    std::vector<Connection *> &list = loop->moving_;
    list.clear();
    list.swap(loop->more_);
    for (size_t i = 0; i < list.size(); i++)
        if (Connection *c = list[i]) {
            c->more_ = false;
            c->process_input();
        }
    list.clear();
}

void ConnectionLoop::resume()
{
    std::vector<Connection *> list;
    list.swap(held_);
    for (Connection *c : list)
        if (c)
            c->release(Connection::kHoldPeers);
}

// A connection going away leaves no pointer behind in the lists.
void ConnectionLoop::forget(Connection *c)
{
    for (auto *list : {&dirty_, &flushing_, &more_, &moving_, &held_})
        std::replace(list->begin(), list->end(), c, static_cast<Connection *>(nullptr));
}

Connection::Connection(ConnectionLoop &loop, Owner &owner) : loop_(loop), owner_(owner) {}

Connection::~Connection()
{
    if (dirty_ || more_ || held(kHoldPeers))
        loop_.forget(this);
    if (paced_ && paced_->ev)
        event_free(paced_->ev);
    delete out_;
    jim_framer_free(framer_);
    tls_.reset();
}

bool Connection::open(int fd)
{
    last_input_us_ = mono_us();
    sniff_ = loop_.tls_ != nullptr;
    if (!transport_->open(loop_.base_, fd, this))
        return false;
    update_reading();
    return true;
}

// The framer and the output buffer are made when input or output comes, and freed when a
// connection has been quiet since the last call: an idle connection holds neither.
void Connection::release_idle()
{
    bool was_active = active_;
    active_ = false;
    if (was_active || closing_ || in_input_)
        return;
    if (framer_ && !more_ && jim_framer_buffered(framer_) == 0) {
        jim_framer_free(framer_);
        framer_ = nullptr;
        bad_input_ = false;
    }
    if (out_ && !dirty_ && out_->size() == 0 && !transport_->writing()) {
        delete out_;
        out_ = nullptr;
    }
    // A second since the last paced object: the next one needs no gap.
    if (paced_ && paced_->head == paced_->lines.size() &&
        !(paced_->ev && event_pending(paced_->ev, EV_TIMEOUT, nullptr))) {
        if (paced_->ev)
            event_free(paced_->ev);
        paced_.reset();
    }
}

bool Connection::make_output()
{
    return out_ || (out_ = loop_.take_output()) != nullptr;
}

// Reads what the socket holds (up to 64 KiB a wake-up) into the framer in place, then
// handles the requests. A connection is read only while its requests can be handled — not
// while something holds it, nor while its output is past kHighWater — so no client makes
// the worker hold more than its socket buffer of input.
void Connection::on_readable()
{
    if (holds_ || output_held_ || closing_) { // armed when this became true: wait
        update_reading();
        return;
    }
    if (loop_.backed_up_ && loop_.backed_up_(loop_.backed_up_arg_)) {
        hold(kHoldPeers); // ConnectionLoop::resume releases it
        loop_.held_.push_back(this);
        return;
    }
    if (sniff_ && !choose_transport())
        return;
    active_ = true;
    if (!framer_ && !(framer_ = loop_.take_framer(&framer_gen_))) {
        owner_.on_peer_closed(); // out of memory: this connection cannot go on
        return;
    }
    for (int rounds = 0; rounds < 4; rounds++) {
        void *buf;
        size_t cap;
        if (jim_framer_reserve(framer_, 16384, &buf, &cap) != JIM_OK)
            break;
        ssize_t n = transport_->read(buf, cap);
        if (n > 0) {
            jim_framer_commit(framer_, static_cast<size_t>(n));
            last_input_us_ = mono_us();
            if (static_cast<size_t>(n) < cap)
                break;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            break;
        // EOF or an error: what arrived is handled, then the owner closes.
        process_input();
        owner_.on_peer_closed();
        return;
    }
    process_input();
}

// A first byte of 0x16 is a TLS handshake record: the socket goes to a TLS transport (and
// on_readable reads through it at once). Anything else is plain JIM, unless TLS is
// required: then one 403 goes out and the connection closes. Only a connection of a loop
// with TLS gets here, once: a plain server pays nothing.
bool Connection::choose_transport()
{
    unsigned char first = 0;
    ssize_t n = recv(plain_.fd(), &first, 1, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return false; // nothing yet: the next event decides
    sniff_ = false;
    // The loop's context now: a certificate SIGHUP loaded meanwhile is the one served.
    if (n == 1 && first == 0x16 && loop_.tls_) {
        tls_ = std::make_unique<TlsTransport>(loop_.tls_);
        transport_ = tls_.get();
        if (!transport_->open(loop_.base_, plain_.release_fd(), this)) {
            owner_.on_peer_closed(); // out of memory
            return false;
        }
        reading_ = false;
        update_reading();
        return true;
    }
    if (n == 1 && loop_.tls_required_) {
        const char *json;
        size_t len;
        jim_msg_init_response(loop_.request_, JIM_RESP_FORBIDDEN, "TLS required: connect with TLS");
        if (jim_msg_encode(loop_.request_, &json, &len) == JIM_OK)
            send(std::string_view(json, len));
        // What the client sent is read and dropped: a socket closed with unread input
        // sends a reset, which could reach the client before it read the 403.
        char drop[4096];
        for (int i = 0; i < 16 && recv(plain_.fd(), drop, sizeof drop, MSG_DONTWAIT) > 0; i++) {
        }
        owner_.on_peer_closed(); // the owner closes: the 403 is written first
        return false;
    }
    return true; // plain JIM (or the end of the stream, which the read finds)
}

// Hands the requests that have arrived to the owner, in order, as long as it can take them:
// not while something holds the connection, nor while the output is past kHighWater (it
// goes on when the client has read, output_drained), and at most kRequestsPerTurn at a
// time, so that one client's pipelined requests do not hold up every other connection of
// the worker (the rest are handled after the others' turn).
void Connection::process_input()
{
    if (in_input_ || closing_)
        return;           // called back from inside: the loop below goes on
    if (!framer_) {       // no input held (nothing came yet, or the framer went back to the spares)
        update_reading(); // but a hold or the output's bound may have just gone
        return;
    }
    in_input_ = true;
    bool partial = false; // part of an object waits for the rest
    for (int handled = 0; !holds_ && !closing_; handled++) {
        if (output_bytes() > kHighWater) {
            output_held_ = true;
            break;
        }
        if (handled == kRequestsPerTurn) {
            if (!more_) {
                more_ = true;
                loop_.want_more(this);
            }
            break;
        }
        int rc = jim_framer_next_msg(framer_, loop_.request_);
        if (rc == JIM_EAGAIN) {
            partial = jim_framer_buffered(framer_) > 0;
            break;
        }
        if (rc != JIM_OK) {
            bad_input_ = true;
            owner_.on_bad_object(loop_.request_, jim_framer_errmsg(framer_),
                                 !jim_framer_can_continue(framer_));
        } else
            owner_.on_request(loop_.request_);
    }
    in_input_ = false;
    if (!partial)
        partial_since_us_ = 0;
    else if (partial_since_us_ == 0)
        partial_since_us_ = mono_us();
    update_reading();
    if (more_ || jim_framer_release(framer_) != JIM_OK)
        return;
    if (!bad_input_ && !closing_) { // as good as a new one: back to the spares
        loop_.give_framer(framer_, framer_gen_);
        framer_ = nullptr;
    }
}

// Arms or disarms reading: only while requests can be handled.
void Connection::update_reading()
{
    bool want = !closing_ && !holds_ && !output_held_;
    if (want != reading_) {
        transport_->want_read(want);
        reading_ = want;
    }
}

void Connection::hold(Hold why)
{
    holds_ |= why;
    partial_since_us_ = 0; // the server's turn: its time does not count against the client
    update_reading();
}

void Connection::release(Hold why)
{
    if (!(holds_ & why))
        return;
    holds_ &= static_cast<uint8_t>(~why);
    // The requests that waited are handled in a turn of their own: a release can come from
    // inside another connection's request, whose object must not be overwritten.
    if (!holds_ && !in_input_ && !more_) {
        more_ = true;
        loop_.want_more(this);
    }
    update_reading();
}

void Connection::send(std::string_view line)
{
    if (finished_)
        return;
    active_ = true;
    if (pacing_us_ > 0 && !closing_) {
        queue_paced(line);
        return;
    }
    if (!make_output())
        return; // out of memory: the object is lost, as a write error would lose it
    out_->append(line);
    flush_soon();
}

void Connection::set_pacing(uint32_t us)
{
    pacing_us_ = us;
    if (!us && paced_ && paced_->head == paced_->lines.size()) { // nothing waits: not needed
        if (paced_->ev)
            event_free(paced_->ev);
        paced_.reset();
    }
}

void Connection::queue_paced(std::string_view line)
{
    if (!paced_)
        paced_ = std::make_unique<Paced>();
    Paced &p = *paced_;
    if (!p.ev && !(p.ev = event_new(loop_.base_, -1, 0, on_pace, this)))
        return;
    p.lines.emplace_back(line);
    p.bytes += line.size();
    if (p.lines.size() - p.head == 1 && !event_pending(p.ev, EV_TIMEOUT, nullptr)) {
        // The first object waits only for what is left of the gap since the last one.
        int64_t wait = p.at_us + pacing_us_ - mono_us();
        timeval tv = {0, 0};
        if (wait > 0) {
            tv.tv_sec = static_cast<time_t>(wait / 1000000);
            tv.tv_usec = static_cast<suseconds_t>(wait % 1000000);
        }
        event_add(p.ev, &tv);
    }
}

void Connection::on_pace(evutil_socket_t, short, void *arg)
{
    static_cast<Connection *>(arg)->pace_next();
}

// One paced object goes out, written at once rather than at the next writable event, so
// the gap is what the client sees.
void Connection::pace_next()
{
    Paced &p = *paced_;
    if (p.head == p.lines.size() || !make_output())
        return;
    std::string &line = p.lines[p.head++];
    out_->append(line);
    p.bytes -= line.size();
    std::string().swap(line);
    if (p.head == p.lines.size()) {
        p.lines.clear();
        p.head = 0;
    }
    p.at_us = mono_us();
    on_writable();
    if (paced_ && paced_->head < paced_->lines.size()) {
        timeval tv = {static_cast<time_t>(pacing_us_ / 1000000),
                      static_cast<suseconds_t>(pacing_us_ % 1000000)};
        event_add(paced_->ev, &tv);
    }
}

size_t Connection::output_bytes() const
{
    return queued() + (paced_ ? paced_->bytes : 0);
}

void Connection::flush_soon()
{
    if (!dirty_ && queued()) {
        dirty_ = true;
        loop_.want_flush(this);
    }
}

void Connection::on_writable()
{
    if (finished_)
        return;
    ssize_t n = queued() ? transport_->write(*out_) : 0;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        out_->clear(); // nobody will read it
        if (closing_)
            finish();
        else
            owner_.on_peer_closed();
        return;
    }
    if (queued()) {
        transport_->want_write();
    } else if (!closing_ && out_ && !transport_->writing()) {
        loop_.give_output(out_); // written out: the next output takes one again
        out_ = nullptr;
    } else if (closing_) {
        finish();
        return;
    }
    output_drained();
}

// The client has read its output down to kLowWater: a long reply goes on, or the
// requests that waited are handled.
void Connection::output_drained()
{
    if (closing_ || output_bytes() > kLowWater)
        return;
    bool was_held = output_held_;
    output_held_ = false;
    owner_.on_output_drained();
    if (was_held)
        process_input();
}

void Connection::close()
{
    if (closing_)
        return;
    closing_ = true;
    update_reading();
    if (paced_ && paced_->head < paced_->lines.size() && make_output()) {
        // Whatever is paced still goes out, all at once now.
        for (size_t i = paced_->head; i < paced_->lines.size(); i++)
            out_->append(paced_->lines[i]);
        paced_->lines.clear();
        paced_->head = paced_->bytes = 0;
        if (paced_->ev)
            event_del(paced_->ev);
    }
    if (queued())
        flush_soon();
    else
        finish();
}

void Connection::abort()
{
    if (out_)
        out_->clear();
    if (paced_) {
        paced_->lines.clear();
        paced_->head = paced_->bytes = 0;
    }
    if (closing_)
        finish(); // closed already, waiting for output that is gone now
    else
        close();
}

void Connection::finish()
{
    if (finished_)
        return;
    finished_ = true;
    transport_->want_read(false);
    reading_ = false;
    owner_.on_finished();
}

} // namespace jimd

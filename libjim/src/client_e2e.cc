// jim::Client's end-to-end encryption of direct messages (doc/protocol.md §7, jim/e2e.h):
// the key pair published at every login, peers' keys asked for once per login, messages
// sealed on their way out and opened on their way in. The keys themselves and the pins
// are jim::E2e's (e2e.hh); the construction is e2e_crypto.cc's.
//
// A message to a user whose key is not known yet waits in the outbox (pending) until the
// get_key answer; a message from a sender whose key is not known yet (or that the pinned
// key cannot open: the key may have changed) is held until the answer, then delivered —
// decrypted, or marked as not decryptable, never dropped.
#include "base64.hh"
#include "client.hh"

#include <cstring>
#include <strings.h>

namespace jim {

namespace {

bool is_direct(const char *to)
{
    return to && *to && to[0] != '#';
}

// Marks out (a copy of an encrypted message) as one that could not be read, and why.
void mark_unreadable(jim_msg &out, const std::string &why)
{
    jim_msg_set_bool(&out, JIM_FIELD_E2E, 0);
    jim_msg_set_str(&out, JIM_FIELD_E2E_ERROR, why.c_str());
}

} // namespace

void Client::tell_e2e(jim_e2e_event ev, const char *peer, const std::string &text)
{
    bool loud = ev == JIM_E2E_KEY_CHANGED || ev == JIM_E2E_KEY_ERROR;
    JIM_LOG(log, loud ? JIM_LOG_WARNING : JIM_LOG_INFO, "e2e", "%s", text.c_str());
    if (e2e_fn_)
        e2e_fn_(e2e_ud_, ev, peer, text.c_str());
}

// ---- the account's own key -----------------------------------------------------

int Client::set_key_dir(const char *dir)
{
    key_dir_ = dir ? dir : "";
    if (key_dir_.empty() || !e2e_.has_key())
        return JIM_OK; // taken at the next login
    bool made = false, replaced = false;
    std::string why;
    if (!e2e_.use_dir(key_dir_, &made, &replaced, &why))
        return failed_here(JIM_EIO, why.c_str());
    if (replaced && state_ == JIM_CLIENT_ONLINE)
        publish_key();
    return JIM_OK;
}

void Client::adopt_store_keys()
{
    if (!key_dir_.empty() || !store_ || store_->dir.empty() || !e2e_.memory_only() ||
        !e2e_.has_key())
        return;
    bool made = false, replaced = false;
    std::string why;
    if (!e2e_.use_dir(store_->dir, &made, &replaced, &why)) {
        tell_e2e(JIM_E2E_KEY_ERROR, nullptr,
                 "cannot keep the end-to-end key in " + store_->dir + ": " + why);
        return;
    }
    if (replaced && state_ == JIM_CLIENT_ONLINE)
        publish_key(); // the store's key is this account's: publish it instead
}

void Client::publish_key()
{
    e2e_.forget_session(); // keys may have changed while this client was away
    if (load_key())
        send_key();
}

bool Client::load_key()
{
    if (!e2e_.has_key()) {
        std::string dir = !key_dir_.empty() ? key_dir_ : store_ ? store_->dir : "";
        bool made = false, replaced = false;
        std::string why;
        if (!dir.empty() && !e2e_.use_dir(dir, &made, &replaced, &why))
            tell_e2e(JIM_E2E_KEY_ERROR, nullptr,
                     "cannot keep the end-to-end key in " + dir + ": " + why +
                         "; it lives in memory for this session only");
        if (!e2e_.has_key() && !e2e_.ensure_key(&made, &why)) {
            tell_e2e(JIM_E2E_KEY_ERROR, nullptr, "no end-to-end key pair: " + why);
            return false;
        }
        if (made)
            tell_e2e(JIM_E2E_NEW_KEY, nullptr,
                     "made an end-to-end key pair for " + account_ + ": fingerprint " +
                         e2e::fingerprint(e2e_.self().pub));
    }
    if (e2e_.memory_only() && !memory_key_told_) {
        memory_key_told_ = true;
        tell_e2e(JIM_E2E_MEMORY_KEY, nullptr,
                 "no store: the end-to-end key of this session lives in memory only (others "
                 "will see a new key next time)");
    }
    return true;
}

void Client::send_key()
{
    jim_msg req;
    jim_msg_init_action(&req, JIM_ACTION_PUT_KEY);
    jim_msg_set_str(&req, JIM_FIELD_KEY, e2e::key_base64(e2e_.self().pub).c_str());
    enqueue(req, Kind::Internal, [this](int status, const jim_msg *resp, jim_list *) {
        if (status == JIM_OK)
            unavailable_told_ = false; // told again should the server lose its keys
        if (status != JIM_ESERVER || !resp)
            return; // published; or no answer, and the next login publishes again
        e2e_.set_unavailable(true);
        const char *e = jim_msg_get_str(resp, JIM_FIELD_ERROR);
        if (!unavailable_told_) // once, not at every reconnect
            tell_e2e(JIM_E2E_UNAVAILABLE, nullptr,
                     "end-to-end encryption is not available: the server does not keep keys "
                     "(put_key: " +
                         std::to_string(jim_msg_response(resp)) + " " + (e ? e : "") +
                         "); direct messages go unencrypted");
        unavailable_told_ = true;
        std::vector<std::string> peers;
        for (const auto &[peer, v] : awaiting_)
            peers.push_back(peer);
        for (const auto &[peer, v] : held_)
            peers.push_back(peer);
        for (const std::string &peer : peers)
            resolve_peer(peer);
    });
    // What waited for a key when the connection went: ask again.
    for (const auto &[peer, v] : held_)
        if (e2e_.state(peer) == E2e::Peer::Unknown)
            ask_key(peer);
    for (const auto &[peer, v] : awaiting_)
        if (e2e_.state(peer) == E2e::Peer::Unknown)
            ask_key(peer);
}

int Client::fingerprint(char *out, size_t size)
{
    if (!e2e_.has_key())
        return failed_here(JIM_ESTATE, "no key pair yet: it is made at the first login");
    if (size < JIM_FINGERPRINT_SIZE)
        return JIM_ERANGE;
    std::snprintf(out, size, "%s", e2e::fingerprint(e2e_.self().pub).c_str());
    return JIM_OK;
}

// ---- peers' keys ---------------------------------------------------------------

void Client::ask_key(const std::string &peer)
{
    if (e2e_.state(peer) == E2e::Peer::Asking)
        return;
    jim_msg req;
    if (jim_msg_make_named(&req, JIM_ACTION_GET_KEY, peer.c_str()) != JIM_OK)
        return;
    e2e_.asking(peer);
    enqueue(req, Kind::Plain, [this, peer](int status, const jim_msg *resp, jim_list *) {
        on_key_answer(peer, status, resp);
    });
}

int Client::fetch_key(const std::string &peer)
{
    jim_msg req, resp;
    int rc = jim_msg_make_named(&req, JIM_ACTION_GET_KEY, peer.c_str());
    if (rc != JIM_OK)
        return failed_here(rc, "not a user name");
    // The answer is handled where answers are (the client's own thread in thread mode,
    // so the callbacks it may cause run there too); this thread only waits for it.
    auto w = std::make_shared<Waiter>();
    Done wake_waiter = waiter(w);
    std::string id;
    e2e_.asking(peer);
    rc = enqueue(
        req, Kind::Plain,
        [this, peer, wake_waiter](int status, const jim_msg *r, jim_list *list) {
            on_key_answer(peer, status, r);
            wake_waiter(status, r, list);
        },
        &id);
    if (rc != JIM_OK) {
        e2e_.unasked(peer);
        return failed_here(rc, jim_strerror(rc));
    }
    rc = await(*w, id, &resp, nullptr);
    if (!w->done)
        e2e_.unasked(peer); // no answer in time: ask again later
    int code = w->have_resp ? jim_msg_response(&resp) : 0;
    return rc == JIM_ESERVER && (code == 404 || code == 400) ? JIM_OK : rc;
}

void Client::know_key(const char *peer)
{
    if (is_direct(peer) && state_ == JIM_CLIENT_ONLINE && !on_own_thread() && !e2e_.unavailable() &&
        e2e_.enabled(peer) && account_ != peer && e2e_.state(peer) == E2e::Peer::Unknown)
        fetch_key(peer);
}

void Client::on_key_answer(const std::string &peer, int status, const jim_msg *resp)
{
    int code = resp ? jim_msg_response(resp) : 0;
    const char *key = status == JIM_OK && resp ? jim_msg_get_str(resp, JIM_FIELD_KEY) : nullptr;
    e2e::Key k;
    bool pinned_now = false;
    std::string why;
    if (key && e2e::key_from_base64(key, k)) {
        E2e::Peer st = e2e_.learned(peer, &k, &pinned_now, &why);
        if (!why.empty())
            tell_e2e(JIM_E2E_KEY_ERROR, peer.c_str(),
                     "cannot save the pinned key of " + peer + ": " + why);
        if (pinned_now)
            tell_e2e(JIM_E2E_PINNED, peer.c_str(),
                     "pinned the end-to-end key of " + peer + " (first seen): fingerprint " +
                         e2e::fingerprint(k));
        e2e::Key old;
        if (st == E2e::Peer::Changed && e2e_.pinned(peer, old) && e2e_.first_news_of_change(peer))
            tell_e2e(JIM_E2E_KEY_CHANGED, peer.c_str(),
                     "the end-to-end key of " + peer + " CHANGED: pinned " + e2e::fingerprint(old) +
                         ", now " + e2e::fingerprint(k) + ". Nothing is sent to " + peer +
                         " until the new key is trusted");
    } else if (status == JIM_OK || code == 404) {
        e2e_.learned(peer, nullptr, &pinned_now, &why); // no key published
    } else if (code == 400) {
        e2e_.unasked(peer);
        e2e_.set_unavailable(true); // the server has no get_key
    } else {
        // No answer (or another refusal). Messages waiting to go stay pending: asked for
        // again at the next login, or the next message to peer.
        e2e_.unasked(peer);
        if (status == JIM_ECLOSED) {
            give_up_held("the client stopped before the key of " + peer + " arrived", true);
            return;
        }
        if (state_ != JIM_CLIENT_ONLINE)
            return; // asked again after the next login
        auto h = held_.find(peer);
        if (h == held_.end())
            return;
        std::vector<jim_msg> msgs = std::move(h->second);
        held_.erase(h);
        std::string what = resp ? std::to_string(code) : std::string(jim_strerror(status));
        for (jim_msg &m : msgs) {
            jim_msg out;
            open_incoming(m, out, false); // the pinned key, if any, may still open it
            if (jim_msg_e2e_state(&out) == JIM_E2E_FAILED)
                mark_unreadable(out, "cannot be read: the key of " + peer +
                                         " could not be fetched (" + what + ")");
            deliver(out);
        }
        return;
    }
    resolve_peer(peer);
}

void Client::resolve_peer(const std::string &peer)
{
    auto h = held_.find(peer);
    if (h != held_.end()) {
        std::vector<jim_msg> msgs = std::move(h->second);
        held_.erase(h);
        for (jim_msg &m : msgs) {
            jim_msg out;
            if (open_incoming(m, out, false))
                deliver(out);
        }
    }
    auto a = awaiting_.find(peer);
    if (a != awaiting_.end()) {
        auto waiting = std::move(a->second);
        awaiting_.erase(a);
        for (auto &[id, done] : waiting) {
            if (Outbox::Entry *e = outbox_.find(id)) {
                jim_msg req = e->msg;
                send_entry(*e, req, std::move(done));
            }
        }
    }
}

int Client::peer_key(jim_peer_key *out, const std::string &peer, bool refresh)
{
    std::memset(out, 0, sizeof *out);
    bool self = peer == account_;
    if (refresh && !self) {
        if (state_ != JIM_CLIENT_ONLINE)
            return failed_here(JIM_ESTATE, "not logged in");
        if (on_own_thread())
            return JIM_ESTATE;
        int rc = fetch_key(peer);
        if (rc != JIM_OK)
            return rc;
    }
    out->e2e_on = e2e_.enabled(peer) ? 1 : 0;
    e2e::Key k;
    if (self && e2e_.has_key()) {
        std::string fp = e2e::fingerprint(e2e_.self().pub);
        std::snprintf(out->pinned, sizeof out->pinned, "%s", fp.c_str());
        std::snprintf(out->published, sizeof out->published, "%s", fp.c_str());
        out->state = JIM_KEY_TRUSTED;
        return JIM_OK;
    }
    if (e2e_.pinned(peer, k))
        std::snprintf(out->pinned, sizeof out->pinned, "%s", e2e::fingerprint(k).c_str());
    if (e2e_.published(peer, k))
        std::snprintf(out->published, sizeof out->published, "%s", e2e::fingerprint(k).c_str());
    switch (e2e_.state(peer)) {
    case E2e::Peer::None: out->state = JIM_KEY_NONE; break;
    case E2e::Peer::Trusted: out->state = JIM_KEY_TRUSTED; break;
    case E2e::Peer::Changed: out->state = JIM_KEY_CHANGED; break;
    default: out->state = JIM_KEY_UNKNOWN; break;
    }
    if (e2e_.unavailable())
        out->state = JIM_KEY_UNAVAILABLE;
    return JIM_OK;
}

int Client::trust_key(const std::string &peer)
{
    e2e::Key k;
    if (!e2e_.published(peer, k))
        return failed_here(JIM_ENOTFOUND,
                           ("no published key of " + peer + " is known: ask for it first").c_str());
    std::string why;
    if (!e2e_.trust(peer, &why))
        return failed_here(JIM_EIO, why.c_str());
    tell_e2e(JIM_E2E_PINNED, peer.c_str(),
             "trusted the new end-to-end key of " + peer + ": fingerprint " + e2e::fingerprint(k));
    return JIM_OK;
}

// ---- messages --------------------------------------------------------------------

bool Client::open_incoming(const jim_msg &m, jim_msg &out, bool may_ask)
{
    out = m;
    jim_msg_unset(&out, JIM_FIELD_E2E); // the client's own fields: no server sets them
    jim_msg_unset(&out, JIM_FIELD_E2E_ERROR);
    const char *enc = jim_msg_get_str(&m, JIM_FIELD_ENCODING);
    if (!enc || std::strcmp(enc, JIM_E2E_ENCODING) != 0)
        return true;
    const char *from = jim_msg_get_str(&m, JIM_FIELD_FROM);
    const char *to = jim_msg_get_str(&m, JIM_FIELD_TO);
    auto unreadable = [&](const std::string &why) {
        mark_unreadable(out, why);
        return true;
    };
    if (!from || !is_direct(to))
        return unreadable("an encrypted message that is not a direct one cannot be read");
    if (account_ != to)
        return unreadable(account_ == from
                              ? "sent by this account (from another session, or "
                                "before this store) encrypted for " +
                                    std::string(to) + ": only " + to + " can read it"
                              : "encrypted for " + std::string(to) + ", not for this account");
    const char *text = nullptr;
    size_t len = 0;
    jim_msg_get_strn(&m, JIM_FIELD_MESSAGE, &text, &len);
    std::string envelope, plain;
    if (!text || !base64_decode(std::string_view(text, len), envelope))
        return unreadable("not an encrypted envelope");
    if (!e2e_.has_key())
        return unreadable("this client has no key pair to decrypt with");
    bool self = account_ == from;
    E2e::Peer st = self ? E2e::Peer::Trusted : e2e_.state(from);
    e2e::Key sender;
    bool have = self ? (sender = e2e_.self().pub, true) : e2e_.pinned(from, sender);
    // A key that is trusted (pinned) authenticates the message, whatever was published since.
    if (have && e2e::open(plain, e2e_.self(), sender, from, to, envelope)) {
        if (jim_msg_set_strn(&out, JIM_FIELD_MESSAGE, plain.data(), plain.size()) != JIM_OK)
            return unreadable("decrypted, but not UTF-8 text");
        jim_msg_unset(&out, JIM_FIELD_ENCODING);
        jim_msg_set_bool(&out, JIM_FIELD_E2E, 1);
        return true;
    }
    // No pin, or the pin does not open it (a new key?): ask the server, then look again.
    if (may_ask && !self && st != E2e::Peer::Changed && !e2e_.unavailable()) {
        held_[from].push_back(m);
        ask_key(from);
        return false;
    }
    e2e::Key now;
    if (st == E2e::Peer::Changed && e2e_.published(from, now) &&
        e2e::open(plain, e2e_.self(), now, from, to, envelope))
        return unreadable(std::string("sent with a new key of ") + from +
                          " that is not trusted yet: compare fingerprints, then trust it");
    if (!have)
        return unreadable(e2e_.unavailable() ? "the server keeps no keys: the sender's key is "
                                               "unknown"
                                             : std::string(from) + " has published no key");
    return unreadable("cannot be decrypted: damaged, or not encrypted for this account's key");
}

std::string Client::refusal_for(const char *to) const
{
    if (!is_direct(to) || e2e_.unavailable() || e2e_.state(to) != E2e::Peer::Changed ||
        !e2e_.enabled(to))
        return "";
    e2e::Key old, now;
    e2e_.pinned(to, old);
    e2e_.published(to, now);
    return std::string("the end-to-end key of ") + to + " changed (pinned " +
           e2e::fingerprint(old) + ", now " + e2e::fingerprint(now) + "): nothing is sent to " +
           to + " until the new key is trusted";
}

void Client::refuse_locally(std::string id, const Done &done, const std::string &why)
{
    jim_msg resp, m;
    jim_msg_init_response(&resp, 403, why.c_str());
    if (outbox_.settle(id, JIM_OUTGOING_FAILED, store_ ? store_->impl.get() : nullptr, &m))
        show_outgoing(m, JIM_OUTGOING_FAILED, &resp);
    if (done)
        done(JIM_EKEYCHANGED, &resp, nullptr);
}

int Client::send_entry(Outbox::Entry &e, jim_msg &req, Done done)
{
    const char *to = jim_msg_get_str(&req, JIM_FIELD_TO);
    const char *enc = jim_msg_get_str(&req, JIM_FIELD_ENCODING);
    // A message the program gave an encoding of its own (not text) goes as it is.
    bool is_text = !enc || strcasecmp(enc, "utf-8") == 0 || strcasecmp(enc, "utf8") == 0;
    if (!is_direct(to) || !is_text || e2e_.unavailable() || !e2e_.has_key() || !e2e_.enabled(to))
        return enqueue(req, Kind::Send, std::move(done), nullptr, true);
    e2e::Key key;
    if (account_ == to) {
        key = e2e_.self().pub;
    } else {
        switch (e2e_.state(to)) {
        case E2e::Peer::None: return enqueue(req, Kind::Send, std::move(done), nullptr, true);
        case E2e::Peer::Changed: {
            std::string why = refusal_for(to);
            refuse_locally(e.id, done, why);
            return failed_here(JIM_EKEYCHANGED, why.c_str());
        }
        case E2e::Peer::Unknown:
        case E2e::Peer::Asking: {
            e.queued = true;
            std::string peer = to;
            awaiting_[peer].emplace_back(e.id, std::move(done));
            ask_key(peer);
            return JIM_OK;
        }
        case E2e::Peer::Trusted: e2e_.pinned(to, key); break;
        }
    }
    const char *text = nullptr;
    size_t len = 0;
    jim_msg_get_strn(&req, JIM_FIELD_MESSAGE, &text, &len);
    std::string envelope;
    if (!e2e::seal(envelope, e2e_.self(), key, account_, to, std::string_view(text, len))) {
        refuse_locally(e.id, done, "cannot encrypt the message");
        return failed_here(JIM_ERROR, "cannot encrypt the message");
    }
    jim_msg wire;
    jim_msg_init_action(&wire, JIM_ACTION_MSG);
    jim_msg_set_str(&wire, JIM_FIELD_TO, to);
    jim_msg_set_str(&wire, JIM_FIELD_ENCODING, JIM_E2E_ENCODING);
    jim_msg_set_str(&wire, JIM_FIELD_MESSAGE, base64_encode(envelope).c_str());
    jim_msg_set_str(&wire, JIM_FIELD_ID, e.id.c_str());
    int rc = enqueue(wire, Kind::Send, std::move(done), nullptr, true);
    if (rc == JIM_OK) {
        pending_.back().encrypted = true;
        pending_.back().request = e.msg; // what is kept and shown: the text
    }
    return rc;
}

void Client::give_up_held(const std::string &why, bool show)
{
    if (!held_.empty()) {
        auto held = std::move(held_);
        held_.clear();
        for (auto &[peer, msgs] : held) {
            for (jim_msg &m : msgs) {
                jim_msg out = m;
                jim_msg_unset(&out, JIM_FIELD_E2E);
                mark_unreadable(out, why);
                if (show)
                    deliver(out);
                else if (store_)
                    store_->impl->save(out); // kept, so no later sync skips it
            }
        }
    }
    if (!show || awaiting_.empty())
        return;
    auto waiting = std::move(awaiting_);
    awaiting_.clear();
    for (auto &[peer, list] : waiting) {
        for (auto &[id, done] : list) {
            if (Outbox::Entry *e = outbox_.find(id))
                e->queued = false; // pending: sent at the next login
            if (done)
                done(JIM_ECLOSED, nullptr, nullptr);
        }
    }
}

} // namespace jim

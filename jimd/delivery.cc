// Delivery: once the journal has committed a batch, the 200/202 answers and the deliveries
// go out. Also the directory of who is online on which worker, and the hand-over ledger.
#include "worker.hh"

#include "clock.hh"

namespace jimd {

#define WLOG(level, ...) JIM_LOG(log_, level, worker_tag(setup_.index), __VA_ARGS__)

// During a commit, for each new direct message: a user whose login was answered on
// another worker just now is known once this worker has read that worker's Online frame,
// which was written before the answer: the mesh is read once per commit (only when a
// recipient looks offline), so the message is delivered live rather than stored.
bool Worker::recipient_online(const std::string &user)
{
    if (online_anywhere(user))
        return true;
    if (!refreshed_) {
        refreshed_ = true;
        mesh_->poll_input();
    }
    return online_anywhere(user);
}

// After a commit: each message is routed to its recipients and its sender answered, in
// the order they came; then the hand-overs whose pending rows the commit wrote are
// confirmed.
void Worker::committed(Entry *entries, size_t n, bool ok)
{
    refreshed_ = false;
    for (size_t i = 0; i < n; i++) {
        Entry &e = entries[i];
        Session *s = find(e.origin);
        if (s)
            s->in_batch--;
        route(e, s && !s->closing ? s : nullptr);
    }
    if (ok)
        confirm_handovers();
}

// One committed message: delivered (a room's members, or a direct message's recipient
// online here or elsewhere), then its sender s (null: gone) answered with its seq.
void Worker::route(Entry &e, Session *s)
{
    const char *id = e.msg.client_id.c_str();
    if (e.outcome == Entry::Outcome::Failed || e.outcome == Entry::Outcome::Offline) {
        if (s && e.outcome == Entry::Outcome::Failed)
            emit(*s, response_to(id, JIM_RESP_SERVER_ERROR, "message not stored: database error"));
        else if (s)
            emit(*s, response_to(id, JIM_RESP_GONE, "user offline"));
        return;
    }
    bool handed = e.room;
    if (e.outcome == Entry::Outcome::Stored) {
        const std::string &line = push_line(e.msg);
        if (e.room) {
            deliver_room(e.msg.to, line, e.origin);
        } else if (e.live) {
            bool here = hand_here(e.msg.to, line, e.msg.seq);
            bool there = send_to_workers(e.msg.to, line, e.msg.seq);
            handed = here || there;
            if (!handed) // left meanwhile, or its worker's link is down: keep it
                keep_pending(e.msg.to, e.msg.seq);
        }
    } else {
        handed = e.room || online_anywhere(e.msg.to); // a resend: the first result stands
    }
    if (!s)
        return;
    jim_msg *r = response_to(id, handed ? JIM_RESP_OK : JIM_RESP_ACCEPTED,
                             handed ? "delivered" : "stored for delivery");
    jim_msg_set_int(r, JIM_FIELD_SEQ, e.msg.seq);
    emit(*s, r);
}

// Queues a pending row (a direct message not handed to anyone) for the next commit.
void Worker::keep_pending(const std::string &user, int64_t seq)
{
    journal_->keep_pending(user, seq);
}

const std::string &Worker::push_line(const StoredMessage &m)
{
    jim_msg_init_action(tmp_, JIM_ACTION_MSG);
    jim_msg_set_int(tmp_, JIM_FIELD_TIME, m.time);
    jim_msg_set_str(tmp_, JIM_FIELD_FROM, m.from.c_str());
    jim_msg_set_str(tmp_, JIM_FIELD_TO, m.to.c_str());
    if (!m.encoding.empty())
        jim_msg_set_str(tmp_, JIM_FIELD_ENCODING, m.encoding.c_str());
    jim_msg_set_strn(tmp_, JIM_FIELD_MESSAGE, m.text.data(), m.text.size());
    jim_msg_set_int(tmp_, JIM_FIELD_SEQ, m.seq);
    if (!m.client_id.empty())
        jim_msg_set_str(tmp_, JIM_FIELD_ID, m.client_id.c_str());
    const char *json;
    size_t len;
    jim_msg_encode(tmp_, &json, &len);
    line_.assign(json, len);
    return line_;
}

// Writes an encoded jim-dialect push to s, in the session's own dialect. The course's
// dialects (reference and database course) share one form of a push, made once per push
// however many sessions read it: a general chat's fan-out re-encodes nothing per session.
void Worker::send_line(Session &s, const std::string &line)
{
    if (s.dialect == JIM_DIALECT_JIM) {
        s.send(line);
        return;
    }
    if (course_of_ != line) {
        course_line_.clear();
        course_of_ = line;
        if (jim_msg_decode(tmp_, line.data(), line.size(), limits_) == JIM_OK) {
            jim_msg_set_dialect(tmp_, JIM_DIALECT_REFERENCE);
            const char *json;
            size_t len;
            if (jim_msg_encode(tmp_, &json, &len) == JIM_OK)
                course_line_.assign(json, len);
        }
    }
    if (!course_line_.empty())
        s.send(course_line_);
}

void Worker::push_stored(Session &s, const StoredMessage &m)
{
    send_line(s, push_line(m));
}

// Writes a direct message to the user's sessions on this worker; false if there are none.
bool Worker::hand_here(const std::string &user, const std::string &line, int64_t seq)
{
    bool handed = false;
    if (auto it = by_user_.find(user); it != by_user_.end()) {
        for (Session *s : it->second) {
            if (s->closing)
                continue;
            // A pending row for seq can exist beside this hand-over only when the user also
            // has sessions elsewhere (kept there because the user had left, or kept for a
            // worker that died before confirming it): only then could the re-check at
            // login find it again.
            if (first_handing(*s, seq, !s->rechecked && remote_.count(user)))
                send_line(*s, line);
            handed = true;
        }
    }
    return handed;
}

// Sends a direct message to the workers where the user has sessions; false if none.
bool Worker::send_to_workers(const std::string &user, const std::string &line, int64_t seq)
{
    bool sent = false;
    if (auto it = remote_.find(user); it != remote_.end()) {
        for (int w = 0; w < setup_.count; w++)
            if (((it->second >> w) & 1) && mesh_->send(w, peer::Deliver{user, seq, line})) {
                handover_sent(w, seq);
                sent = true;
            }
    }
    return sent;
}

// Remembers the seq of a Deliver frame just sent to peer, until the peer confirms it.
void Worker::handover_sent(int peer, int64_t seq)
{
    Handover &h = handover_[static_cast<size_t>(peer)];
    h.unacked.push_back(seq);
    h.sent++;
}

// Peer has dealt with the first `count` Deliver frames of the link: forget their seqs.
void Worker::handover_acked(int peer, uint64_t count)
{
    Handover &h = handover_[static_cast<size_t>(peer)];
    if (count <= h.acked || count > h.sent)
        return; // nothing new, or not a count this link has reached: ignored
    h.head += static_cast<size_t>(count - h.acked);
    h.acked = count;
    if (h.head == h.unacked.size()) { // all confirmed: start over, capacity kept
        h.unacked.clear();
        h.head = 0;
    } else if (h.head >= 4096 && h.head * 2 >= h.unacked.size()) {
        h.unacked.erase(h.unacked.begin(), h.unacked.begin() + static_cast<long>(h.head));
        h.head = 0;
    }
}

// The link to peer is gone (the worker died or was replaced): what it never confirmed
// gets its pending rows with the next commit, and the counts start over for a new link.
void Worker::handover_lost(int peer)
{
    Handover &h = handover_[static_cast<size_t>(peer)];
    size_t lost = h.unacked.size() - h.head;
    if (lost) {
        for (size_t i = h.head; i < h.unacked.size(); i++)
            journal_->recover_pending(h.unacked[i]);
        WLOG(JIM_LOG_INFO, "worker %d had not confirmed %zu direct messages: kept as pending", peer,
             lost);
    }
    h = Handover{};
}

// Confirms to each peer the Deliver frames dealt with: each was written to a session, or
// kept as a pending row that a commit has written. Runs at the end of a loop iteration
// that received Deliver frames, and after each commit.
void Worker::confirm_handovers()
{
    uint64_t durable = journal_->last_ok();
    for (size_t p = 0; p < handover_.size(); p++) {
        Handover &h = handover_[p];
        while (!h.unsure.empty() && h.unsure.front().second <= durable)
            h.unsure.pop_front();
        uint64_t upto = h.unsure.empty() ? h.got : h.unsure.front().first - 1;
        if (upto <= h.confirmed)
            continue;
        if (mesh_->send(static_cast<int>(p), peer::Ack{upto}))
            h.confirmed = upto;
    }
}

void Worker::on_ack(evutil_socket_t, short, void *arg)
{
    auto *w = static_cast<Worker *>(arg);
    w->ack_scheduled_ = false;
    w->confirm_handovers();
}

void Worker::deliver_room(const std::string &room, const std::string &line, uint64_t except_session)
{
    fan_out(room, line, except_session);
    mesh_->broadcast(peer::Room{room, line});
}

// Writes a room message to the room's members on this worker. A small room gets it at
// once; a large one (the general chat of thousands) a chunk of kFanoutChunk sessions per
// loop turn, so the other sessions of the worker are served in between instead of
// waiting for the whole fan-out. Room messages keep their order: while a fan-out is under
// way, later ones queue behind it.
void Worker::fan_out(const std::string &room, const std::string &line, uint64_t except_session)
{
    auto it = by_room_.find(room);
    if (it == by_room_.end())
        return;
    if (fanouts_.empty() && it->second.size() <= kFanoutChunk) {
        for (Session *s : it->second)
            if (s->id != except_session && !s->closing)
                send_line(*s, line);
        return;
    }
    Fanout &f = fanouts_.emplace_back();
    f.line = line;
    f.sessions.reserve(it->second.size());
    for (Session *s : it->second)
        if (s->id != except_session)
            f.sessions.push_back(s->id);
    if (fanouts_.size() == 1)
        on_fanout(-1, 0, this);
}

void Worker::on_fanout(evutil_socket_t, short, void *arg)
{
    auto *w = static_cast<Worker *>(arg);
    size_t budget = kFanoutChunk;
    while (!w->fanouts_.empty() && budget > 0) {
        Fanout &f = w->fanouts_.front();
        for (; f.next < f.sessions.size() && budget > 0; f.next++, budget--)
            if (Session *s = w->find(f.sessions[f.next]); s && !s->closing)
                w->send_line(*s, f.line);
        if (f.next == f.sessions.size())
            w->fanouts_.pop_front();
    }
    if (!w->fanouts_.empty()) {
        timeval now = {0, 0}; // after the loop has looked at the sockets once more
        event_add(w->fanout_ev_, &now);
    }
}

// False when seq was handed to s already in its login window; otherwise true, and seq is
// recorded if `remember` (it could come again).
bool Worker::first_handing(Session &s, int64_t seq, bool remember)
{
    if (!s.tracking_handed)
        return true;
    if (s.handed.count(seq))
        return false;
    if (remember)
        s.handed.insert(seq);
    return true;
}

// At login: every direct message kept for the user while offline, oldest first, as the
// client reads them (a long absence may have left a million).
void Worker::offline_delivery(Session &s)
{
    s.tracking_handed = true;
    start_stream(s, Stream::Kind::Pending, 0, std::string(), false);
    schedule_recheck(s.id);
}

// A message committed by another worker before it heard that this user is online was
// kept as pending and not sent here: look again once the news has spread.
void Worker::schedule_recheck(uint64_t session_id)
{
    timeval half_second = {0, 500000};
    event_base_once(
        base_, -1, EV_TIMEOUT,
        [](evutil_socket_t, short, void *arg) {
            auto *pair = static_cast<std::pair<Worker *, uint64_t> *>(arg);
            pair->first->recheck_offline(pair->second);
            delete pair;
        },
        new std::pair<Worker *, uint64_t>(this, session_id), &half_second);
}

void Worker::start_stream(Session &s, Stream::Kind kind, int64_t cursor,
                          const std::string &request_id, bool recheck)
{
    s.stream = std::make_unique<Stream>();
    s.stream->kind = kind;
    s.stream->cursor = cursor;
    s.stream->request_id = request_id;
    s.stream->recheck = recheck;
    update_reading(s);
    pump(s);
}

// Sends the next pages of the session's long reply while its output is under
// kOutputHighWater; output_drained calls it again as the client reads, and handles the
// requests that waited behind the reply once it is complete.
void Worker::pump(Session &s)
{
    uint64_t id = s.id;
    std::vector<StoredMessage> page;
    while (s.stream && !s.closing && s.output_bytes() < kOutputHighWater) {
        Stream &st = *s.stream;
        page.clear();
        bool ok = st.kind == Stream::Kind::Sync
                      ? journal_->read_since({s.user, s.user_id, general(), s.general_since},
                                             st.cursor, kStreamPage, &page)
                      : journal_->read_pending(s.user, st.cursor, kStreamPage, &page);
        if (!ok) {
            WLOG(JIM_LOG_ERROR, "reading messages for %s failed: %s", s.user.c_str(),
                 journal_->error().c_str());
            if (st.kind == Stream::Kind::Sync)
                emit(s, response_to(st.request_id.c_str(), 500, "database error"));
            s.stream.reset();
            break;
        }
        for (const StoredMessage &m : page)
            if (st.kind == Stream::Kind::Sync ||
                first_handing(s, m.seq, true)) // its live copy may still be on its way
                push_stored(s, m);
        if (!page.empty()) {
            st.cursor = page.back().seq;
            if (st.kind == Stream::Kind::Pending)
                journal_->clear_pending(s.user, st.cursor);
        }
        if (page.size() < static_cast<size_t>(kStreamPage))
            finish_stream(s);
    }
    if (Session *left = find(id); left && !left->stream)
        update_reading(*left);
}

// The last page of a long reply was sent.
void Worker::finish_stream(Session &s)
{
    std::unique_ptr<Stream> st = std::move(s.stream);
    if (st->kind == Stream::Kind::Sync) {
        jim_msg *r = response_to(st->request_id.c_str(), 200);
        jim_msg_set_int(r, JIM_FIELD_SEQ, st->cursor);
        emit(s, r);
        return;
    }
    if (!st->recheck)
        return;
    s.rechecked = true;
    if (s.handed.empty()) { // nothing pushed from the database that could also come live
        s.tracking_handed = false;
        return;
    }
    // What the queries found may still be on its way from another worker: keep
    // remembering for a while, then forget.
    timeval five_seconds = {5, 0};
    event_base_once(
        base_, -1, EV_TIMEOUT,
        [](evutil_socket_t, short, void *arg) {
            auto *pair = static_cast<std::pair<Worker *, uint64_t> *>(arg);
            if (Session *sp = pair->first->find(pair->second)) {
                sp->tracking_handed = false;
                sp->handed.clear();
            }
            delete pair;
        },
        new std::pair<Worker *, uint64_t>(this, s.id), &five_seconds);
}

void Worker::recheck_offline(uint64_t session_id)
{
    Session *s = find(session_id);
    if (!s || s->closing || !s->logged_in)
        return;
    if (s->stream) { // the first look (or a sync) is still being read: look later
        schedule_recheck(session_id);
        return;
    }
    // The rows of messages handed since login are cleared first, so the query below finds
    // only what never reached this session (find() again: a commit writes to sessions).
    journal_->commit_now();
    s = find(session_id);
    if (!s || s->closing)
        return;
    start_stream(*s, Stream::Kind::Pending, 0, std::string(), true);
    if ((s = find(session_id)) && !s->stream)
        process_input(*s);
}

bool Worker::online_anywhere(const std::string &user) const
{
    if (by_user_.count(user))
        return true;
    auto it = remote_.find(user);
    return it != remote_.end() && it->second != 0;
}

void Worker::became_online(const std::string &user)
{
    presence_push(user, true);
}

void Worker::became_offline(const std::string &user)
{
    presence_push(user, false);
}

// Tells this worker's ndjson sessions that have user as a contact.
void Worker::presence_push(const std::string &user, bool online)
{
    bool built = false;
    for (auto &kv : sessions_) {
        Session &s = *kv.second;
        if (!s.logged_in || !s.ndjson || s.closing || s.user == user || !s.contacts.count(user))
            continue;
        if (!built) {
            jim_msg_init_action(tmp_, JIM_ACTION_PRESENCE);
            jim_msg_set_str(tmp_, JIM_FIELD_ACCOUNT_NAME, user.c_str());
            jim_msg_set_str(tmp_, JIM_FIELD_USER_STATUS, online ? "online" : "offline");
            built = true;
        }
        emit(s, tmp_);
    }
}

bool Worker::on_peer_frame(int from, peer::Type type, std::string_view body)
{
    switch (type) {
    case peer::Type::Online: {
        peer::Online f;
        if (!peer::decode(body, &f))
            return false;
        std::string user(f.user);
        bool was = online_anywhere(user);
        remote_[user] |= uint64_t{1} << from;
        if (f.sessions >= 2) {
            remote_multi_[user][from] = static_cast<int>(f.sessions);
        } else if (auto it = remote_multi_.find(user); it != remote_multi_.end()) {
            it->second.erase(from);
            if (it->second.empty())
                remote_multi_.erase(it);
        }
        if (!was)
            became_online(user);
        return true;
    }
    case peer::Type::Offline: {
        peer::Offline f;
        if (!peer::decode(body, &f))
            return false;
        std::string user(f.user);
        auto it = remote_.find(user);
        if (it != remote_.end()) {
            it->second &= ~(uint64_t{1} << from);
            if (!it->second)
                remote_.erase(it);
        }
        if (auto m = remote_multi_.find(user); m != remote_multi_.end()) {
            m->second.erase(from);
            if (m->second.empty())
                remote_multi_.erase(m);
        }
        if (!online_anywhere(user))
            became_offline(user);
        return true;
    }
    case peer::Type::Deliver: {
        peer::Deliver f;
        if (!peer::decode(body, &f))
            return false;
        Handover &h = handover_[static_cast<size_t>(from)];
        h.got++;
        peer_user_.assign(f.user);
        peer_line_.assign(f.line);
        // Not handed (the user left): kept here as pending, for the next login; the frame
        // is confirmed once the row is written.
        if (!hand_here(peer_user_, peer_line_, f.seq)) {
            h.unsure.emplace_back(h.got, journal_->next_commit());
            keep_pending(peer_user_, f.seq);
        }
        if (!ack_scheduled_) { // confirmed at the end of this loop iteration
            ack_scheduled_ = true;
            event_active(ack_ev_, EV_TIMEOUT, 0);
        }
        return true;
    }
    case peer::Type::Ack: {
        peer::Ack f;
        if (!peer::decode(body, &f))
            return false;
        handover_acked(from, f.count);
        return true;
    }
    case peer::Type::Room: {
        peer::Room f;
        if (!peer::decode(body, &f))
            return false;
        fan_out(std::string(f.room), std::string(f.line), 0);
        return true;
    }
    case peer::Type::Conns: {
        peer::Conns f;
        if (!peer::decode(body, &f))
            return false;
        std::vector<int> &counts = remote_ip_[std::string(f.ip)];
        counts.resize(static_cast<size_t>(setup_.count));
        counts[static_cast<size_t>(from)] = static_cast<int>(f.count);
        return true;
    }
    default: return false; // a control frame on the mesh
    }
}

void Worker::on_peer(int peer, bool up, const char *why)
{
    if (why)
        WLOG(JIM_LOG_ERROR, "worker %d sent %s: link dropped", peer, why);
    handover_lost(peer); // a new link starts counting afresh; an old one's frames are lost
    if (up) {
        // A new or returning worker: tell it who is online here.
        for (auto &kv : by_user_)
            mesh_->send(peer, peer::Online{kv.first, static_cast<uint32_t>(kv.second.size())});
        for (auto &kv : per_ip_)
            mesh_->send(peer, peer::Conns{kv.first, static_cast<uint32_t>(kv.second)});
        WLOG(JIM_LOG_DEBUG, "worker %d connected", peer);
        return;
    }
    // A worker went away: its users are offline unless seen elsewhere, and its
    // connections are gone.
    WLOG(JIM_LOG_INFO, "worker %d went away", peer);
    for (auto &kv : remote_ip_)
        if (static_cast<size_t>(peer) < kv.second.size())
            kv.second[static_cast<size_t>(peer)] = 0;
    std::vector<std::string> gone;
    for (auto it = remote_.begin(); it != remote_.end();) {
        if ((it->second >> peer) & 1) {
            it->second &= ~(uint64_t{1} << peer);
            if (!it->second) {
                gone.push_back(it->first);
                it = remote_.erase(it);
                continue;
            }
        }
        ++it;
    }
    for (auto it = remote_multi_.begin(); it != remote_multi_.end();) {
        it->second.erase(peer);
        it = it->second.empty() ? remote_multi_.erase(it) : std::next(it);
    }
    for (const std::string &user : gone)
        if (!online_anywhere(user))
            became_offline(user);
}

size_t Worker::sessions_of(const std::string &user) const
{
    size_t n = 0;
    if (auto it = by_user_.find(user); it != by_user_.end())
        n += it->second.size();
    if (auto it = remote_.find(user); it != remote_.end())
        n += static_cast<size_t>(__builtin_popcountll(it->second));
    if (auto it = remote_multi_.find(user); it != remote_multi_.end())
        for (const auto &[worker, count] : it->second)
            n += static_cast<size_t>(count - 1);
    return n;
}

void Worker::announce_sessions(const std::string &user)
{
    auto it = by_user_.find(user);
    if (it == by_user_.end() || it->second.empty())
        mesh_->broadcast(peer::Offline{user});
    else
        mesh_->broadcast(peer::Online{user, static_cast<uint32_t>(it->second.size())});
}

} // namespace jimd

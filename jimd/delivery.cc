// Group commit and delivery: the batch of accepted messages is committed in one
// transaction at the end of a loop iteration; only then do the 200/202 answers and
// the deliveries go out. Also the directory of who is online on which worker.
#include "worker.hh"

#include "clock.hh"

namespace jimd {

#define WLOG(level, ...) JIM_LOG(log_, level, worker_tag(setup_.index), __VA_ARGS__)

// When to commit. Idle: at the end of this loop iteration (activated now, the commit runs
// after the I/O callbacks already queued), so a lone message waits for nothing. Busy (the
// last commit was under a millisecond ago): a moment later, so one commit serves many
// messages — a commit costs about the same for 15 messages as for 500.
void Worker::schedule_commit()
{
    if (batch_.size() >= kBatchMax && commit_scheduled_ && !commit_now_) {
        event_del(commit_ev_); // full: no reason to wait any longer
        commit_scheduled_ = false;
    }
    if (commit_scheduled_)
        return;
    commit_scheduled_ = true;
    int64_t since_last = mono_us() - last_commit_us_;
    bool busy = since_last < 1000 && last_batch_ >= 8;
    commit_now_ = !busy || batch_.size() >= kBatchMax;
    if (commit_now_) {
        event_active(commit_ev_, EV_TIMEOUT, 0);
    } else {
        timeval gather = {0, 250};
        event_add(commit_ev_, &gather);
    }
}

void Worker::on_commit(evutil_socket_t, short, void *arg)
{
    static_cast<Worker *>(arg)->commit_batch();
}

void Worker::commit_batch()
{
    if (committing_now_) { // reached from inside a commit: the outer one covers it
        schedule_commit();
        return;
    }
    if (commit_scheduled_)
        event_del(commit_ev_); // called directly: the scheduled run is not needed
    commit_scheduled_ = false;
    last_commit_us_ = mono_us();
    if (batch_.empty() && later_pending_.empty() && later_clear_.empty() &&
        later_recover_.empty()) {
        confirm_handovers(true); // the frames received were all written to sessions
        return;
    }
    Batch &batch = committing_;
    batch.swap(batch_);
    batch_.clear();
    committing_now_ = true;
    for (Handover &h : handover_)
        h.confirming = h.got; // each of them is handed, or its row is in later_pending_
    std::vector<std::pair<std::string, int64_t>> &add = adding_, &clear = clearing_;
    std::vector<int64_t> &recover = recovering_;
    add.swap(later_pending_);
    clear.swap(later_clear_);
    recover.swap(later_recover_);
    std::vector<bool> &dup = dup_, &live = live_;
    dup.assign(batch.size(), false);
    live.assign(batch.size(), false);

    // One transaction for the whole batch. A direct message gets a `pending` row when its
    // recipient is offline everywhere; it waits for the next login. One online elsewhere
    // is handed over in a Deliver frame after the commit, without a row: this worker
    // keeps the seq until that worker confirms it, and writes the rows of what it never
    // confirmed if it dies (later_recover_), so a worker dying in between loses nothing.
    bool ok = store_->begin();
    // Runs of messages without client ids are stored many to a statement, in order.
    std::vector<StoredMessage *> &run = run_;
    run.clear();
    for (size_t i = 0; ok && i <= batch.size(); i++) {
        if (i < batch.size() && batch[i].msg.client_id.empty()) {
            run.push_back(&batch[i].msg);
            continue;
        }
        ok = store_->insert_messages(run.data(), run.size());
        run.clear();
        if (ok && i < batch.size()) {
            bool d = false;
            ok = store_->insert_message(&batch[i].msg, &d);
            dup[i] = d;
        }
    }
    for (size_t i = 0; ok && i < batch.size(); i++) {
        Pending &p = batch[i];
        if (!dup[i] && !p.room) {
            live[i] = online_anywhere(p.msg.to);
            if (!live[i])
                ok = store_->add_pending(p.msg.to, p.msg.seq);
        }
    }
    for (size_t i = 0; ok && i < add.size(); i++)
        ok = store_->add_pending(add[i].first, add[i].second);
    for (size_t i = 0; ok && i < recover.size(); i++)
        ok = store_->add_pending_of(recover[i]);
    for (size_t i = 0; ok && i < clear.size(); i++)
        ok = store_->clear_pending(clear[i].first, clear[i].second);
    ok = ok && store_->commit();
    commits_++;
    committed_ += batch.size();
    last_batch_ = batch.size();
    if (!ok) {
        store_->rollback();
        WLOG(JIM_LOG_ERROR, "commit of %zu messages failed: %s", batch.size(),
             store_->error().c_str());
        // The rows and clears that were not messages of this batch are tried again with
        // the next commit: a hand-over is confirmed only once its row is in.
        later_pending_.insert(later_pending_.end(), add.begin(), add.end());
        later_clear_.insert(later_clear_.end(), clear.begin(), clear.end());
        later_recover_.insert(later_recover_.end(), recover.begin(), recover.end());
    } else {
        confirm_handovers(false);
    }
    add.clear();
    clear.clear();
    recover.clear();

    for (size_t i = 0; i < batch.size(); i++) {
        Pending &p = batch[i];
        Session *s = find(p.session);
        if (s)
            s->in_batch--;
        if (!ok) {
            if (s && !s->closing)
                emit(*s,
                     response_to(p.request_id.c_str(), 500, "message not stored: database error"));
            continue;
        }
        bool handed = p.room;
        if (!dup[i]) {
            const std::string &line = push_line(p.msg);
            if (p.room) {
                deliver_room(p.msg.to, line, p.session);
            } else if (live[i]) {
                bool here = hand_here(p.msg.to, line, p.msg.seq);
                bool there = send_to_workers(p.msg.to, line, p.msg.seq);
                handed = here || there;
                if (!handed) // left meanwhile, or its worker's link is down: keep it
                    keep_pending(p.msg.to, p.msg.seq);
            }
        } else {
            handed = p.room || online_anywhere(p.msg.to); // the first result stands
        }
        if (!s || s->closing)
            continue;
        // in_ may hold the request that made this commit run: it is not touched here.
        jim_msg *r = response_to(p.request_id.c_str(), handed ? 200 : 202,
                                 handed ? "delivered" : "stored for delivery");
        jim_msg_set_int(r, JIM_FIELD_SEQ, p.msg.seq);
        emit(*s, r);
    }
    committing_now_ = false;
    maybe_checkpoint();
}

// Queues a pending row (a direct message not handed to anyone) for the next commit.
void Worker::keep_pending(const std::string &user, int64_t seq)
{
    later_pending_.emplace_back(user, seq);
    schedule_commit();
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
        later_recover_.insert(later_recover_.end(), h.unacked.begin() + static_cast<long>(h.head),
                              h.unacked.end());
        WLOG(JIM_LOG_INFO, "worker %d had not confirmed %zu direct messages: kept as pending", peer,
             lost);
        schedule_commit();
    }
    h = Handover{};
}

// Confirms to each peer the Deliver frames dealt with: all received so far (upto_now,
// when nothing needed a commit), or those received before the commit that just ended.
void Worker::confirm_handovers(bool upto_now)
{
    for (size_t p = 0; p < handover_.size(); p++) {
        Handover &h = handover_[p];
        uint64_t upto = upto_now ? h.got : h.confirming;
        if (upto <= h.confirmed)
            continue;
        if (mesh_->send(static_cast<int>(p), peer::Ack{upto}))
            h.confirmed = upto;
    }
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
                      ? store_->sync(s.user, s.user_id, st.cursor, general(), s.general_since,
                                     kStreamPage, &page)
                      : store_->pending(s.user, st.cursor, kStreamPage, &page);
        if (!ok) {
            WLOG(JIM_LOG_ERROR, "reading messages for %s failed: %s", s.user.c_str(),
                 store_->error().c_str());
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
            if (st.kind == Stream::Kind::Pending) {
                later_clear_.emplace_back(s.user, st.cursor);
                schedule_commit();
            }
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
    commit_batch();
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

// A user who logged in on another worker just before this worker read a message for
// them: that worker flushed its Online frame before answering the login, so the frame
// is already in this worker's mesh socket, only not read yet. Reading it now turns a
// 202 (stored) into a live delivery. Once per client read: a frame sent after the read
// cannot be what the request's sender had seen.
void Worker::catch_up_with_peers()
{
    if (mesh_polled_at_ == client_reads_)
        return;
    mesh_polled_at_ = client_reads_;
    mesh_->poll_input();
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
        handover_[static_cast<size_t>(from)].got++;
        peer_user_.assign(f.user);
        peer_line_.assign(f.line);
        // Not handed (the user left): kept here as pending, for the next login.
        if (!hand_here(peer_user_, peer_line_, f.seq))
            keep_pending(peer_user_, f.seq);
        schedule_commit(); // its end confirms the frame to the sender
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

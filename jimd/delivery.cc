// Group commit and delivery: the batch of accepted messages is committed in one
// transaction at the end of a loop iteration; only then do the 200/202 answers and
// the deliveries go out. Also the directory of who is online on which worker.
#include "worker.hh"

#include "clock.hh"

namespace jimd {

#define WLOG(level, ...) JIM_LOG(log_, level, worker_tag(setup_.index), __VA_ARGS__)

void Worker::schedule_commit()
{
    if (commit_scheduled_)
        return;
    commit_scheduled_ = true;
    // Activated now, it runs after the I/O callbacks already queued in this iteration.
    event_active(commit_ev_, EV_TIMEOUT, 0);
}

void Worker::on_commit(evutil_socket_t, short, void *arg)
{
    static_cast<Worker *>(arg)->commit_batch();
}

void Worker::commit_batch()
{
    commit_scheduled_ = false;
    if (batch_.empty() && cursors_.empty())
        return;
    std::vector<Pending> batch;
    batch.swap(batch_);
    std::unordered_map<int64_t, int64_t> cursors;
    cursors.swap(cursors_);
    std::vector<bool> dup(batch.size());

    bool ok = store_->begin();
    for (size_t i = 0; ok && i < batch.size(); i++) {
        bool d = false;
        ok = store_->insert_message(&batch[i].msg, &d);
        dup[i] = d;
    }
    // Sessions here that will be handed a direct message: their cursors move in the
    // same transaction, so a crash cannot both lose the cursor and keep the delivery.
    for (size_t i = 0; ok && i < batch.size(); i++) {
        if (dup[i] || batch[i].room)
            continue;
        if (auto it = by_user_.find(batch[i].msg.to); it != by_user_.end())
            for (Session *s : it->second)
                if (!s->closing) {
                    int64_t &c = cursors[s->user_id];
                    c = std::max(c, batch[i].msg.seq);
                }
    }
    for (auto it = cursors.begin(); ok && it != cursors.end(); ++it)
        ok = store_->set_cursor(it->first, it->second);
    ok = ok && store_->commit();
    commits_++;
    committed_ += batch.size();
    if (!ok) {
        store_->rollback();
        WLOG(JIM_LOG_ERROR, "commit of %zu messages failed: %s", batch.size(),
             store_->error().c_str());
    }

    for (size_t i = 0; i < batch.size(); i++) {
        Pending &p = batch[i];
        Session *s = find(p.session);
        if (s)
            s->in_batch--;
        if (!ok) {
            if (s && !s->closing) {
                jim_msg_reset(in_);
                reply(*s, 500, "message not stored: database error");
            }
            continue;
        }
        int handed = 0;
        if (!dup[i]) {
            std::string line = push_line(p.msg);
            if (p.room)
                deliver_room(p.msg.to, line, p.session);
            else
                deliver_direct(p.msg.to, line, p.msg.seq, 0, &handed);
        } else {
            handed = online_anywhere(p.msg.to) ? 1 : 0; // the first result stands
        }
        if (!s || s->closing)
            continue;
        jim_msg_reset(in_);
        if (!p.request_id.empty())
            jim_msg_set_str(in_, JIM_FIELD_ID, p.request_id.c_str());
        jim_msg *r = response(p.room || handed > 0 ? 200 : 202,
                              p.room || handed > 0 ? "delivered" : "stored for delivery");
        jim_msg_set_int(r, JIM_FIELD_SEQ, p.msg.seq);
        emit(*s, r);
    }
    if (!cursors_.empty())
        schedule_commit();
}

std::string Worker::push_line(const StoredMessage &m)
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
    return std::string(json, len);
}

// Writes an encoded jim-dialect push to s, in the session's own dialect.
void Worker::send_line(Session &s, const std::string &line)
{
    if (s.dialect == JIM_DIALECT_JIM) {
        s.send(line);
        return;
    }
    if (jim_msg_decode(tmp_, line.data(), line.size(), limits_) == JIM_OK) {
        jim_msg_set_dialect(tmp_, s.dialect);
        const char *json;
        size_t len;
        if (jim_msg_encode(tmp_, &json, &len) == JIM_OK)
            s.send(std::string_view(json, len));
    }
}

void Worker::push_stored(Session &s, const StoredMessage &m)
{
    send_line(s, push_line(m));
}

void Worker::deliver_direct(const std::string &user, const std::string &line, int64_t seq,
                            uint64_t except_session, int *handed)
{
    if (auto it = by_user_.find(user); it != by_user_.end()) {
        for (Session *s : it->second) {
            if (s->id == except_session || s->closing)
                continue;
            if (first_handing(*s, seq))
                send_line(*s, line);
            (*handed)++;
        }
    }
    if (auto it = remote_.find(user); it != remote_.end()) {
        std::string seqtext = std::to_string(seq);
        for (int w = 0; w < setup_.count; w++) {
            if ((it->second >> w) & 1) {
                if (mesh_->send(w, PeerMsg::Deliver, {user, line, seqtext}))
                    (*handed)++;
            }
        }
    }
}

void Worker::deliver_room(const std::string &room, const std::string &line, uint64_t except_session)
{
    if (auto it = by_room_.find(room); it != by_room_.end())
        for (Session *s : it->second)
            if (s->id != except_session && !s->closing)
                send_line(*s, line);
    mesh_->broadcast(PeerMsg::Room, {room, line});
}

// False when seq was handed to s already in its login window; records it otherwise.
bool Worker::first_handing(Session &s, int64_t seq)
{
    return !s.tracking_handed || s.handed.insert(seq).second;
}

// At login: every direct message not yet handed to a session, oldest first.
void Worker::offline_delivery(Session &s)
{
    int64_t after = s.direct_floor;
    int64_t top = after;
    s.tracking_handed = true;
    for (;;) {
        std::vector<StoredMessage> page;
        if (!store_->undelivered(s.user, after, 500, &page))
            break;
        for (const StoredMessage &m : page)
            if (first_handing(s, m.seq))
                push_stored(s, m);
        if (!page.empty()) {
            after = page.back().seq;
            top = after;
        }
        if (page.size() < 500)
            break;
    }
    if (top > s.direct_floor) {
        int64_t &c = cursors_[s.user_id];
        c = std::max(c, top);
        schedule_commit();
    }
    // A message committed by another worker before it heard that this user is online
    // was answered 202 and not sent here: look again once the news has spread.
    s.direct_floor = top;
    uint64_t id = s.id;
    timeval half_second = {0, 500000};
    event_base_once(
        base_, -1, EV_TIMEOUT,
        [](evutil_socket_t, short, void *arg) {
            auto *pair = static_cast<std::pair<Worker *, uint64_t> *>(arg);
            pair->first->recheck_offline(pair->second);
            delete pair;
        },
        new std::pair<Worker *, uint64_t>(this, id), &half_second);
}

void Worker::recheck_offline(uint64_t session_id)
{
    Session *s = find(session_id);
    if (!s || s->closing || !s->logged_in)
        return;
    std::vector<StoredMessage> page;
    if (store_->undelivered(s->user, s->direct_floor, 5000, &page)) {
        int64_t top = s->direct_floor;
        for (const StoredMessage &m : page) {
            if (first_handing(*s, m.seq))
                push_stored(*s, m);
            top = std::max(top, m.seq);
        }
        if (top > s->direct_floor) {
            int64_t &c = cursors_[s->user_id];
            c = std::max(c, top);
            schedule_commit();
        }
    }
    // What the re-check found may still be on its way from another worker: keep
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
        new std::pair<Worker *, uint64_t>(this, session_id), &five_seconds);
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

void Worker::on_peer_message(int from, PeerMsg type, std::string_view *f, int n)
{
    switch (type) {
    case PeerMsg::Online:
        if (n >= 1) {
            std::string user(f[0]);
            bool was = online_anywhere(user);
            remote_[user] |= uint64_t{1} << from;
            if (!was)
                became_online(user);
        }
        break;
    case PeerMsg::Offline:
        if (n >= 1) {
            std::string user(f[0]);
            auto it = remote_.find(user);
            if (it != remote_.end()) {
                it->second &= ~(uint64_t{1} << from);
                if (!it->second)
                    remote_.erase(it);
            }
            if (!online_anywhere(user))
                became_offline(user);
        }
        break;
    case PeerMsg::Deliver:
        if (n >= 3) {
            std::string user(f[0]), line(f[1]);
            int64_t seq = std::stoll(std::string(f[2]));
            int handed = 0;
            if (auto it = by_user_.find(user); it != by_user_.end()) {
                for (Session *s : it->second) {
                    if (s->closing)
                        continue;
                    if (first_handing(*s, seq))
                        send_line(*s, line);
                    int64_t &c = cursors_[s->user_id];
                    c = std::max(c, seq);
                    handed++;
                }
            }
            if (handed)
                schedule_commit();
        }
        break;
    case PeerMsg::Room:
        if (n >= 2) {
            std::string room(f[0]), line(f[1]);
            if (auto it = by_room_.find(room); it != by_room_.end())
                for (Session *s : it->second)
                    if (!s->closing)
                        send_line(*s, line);
        }
        break;
    case PeerMsg::Kick: break;
    }
}

void Worker::on_peer(int peer, bool up)
{
    if (up) {
        // A new or returning worker: tell it who is online here.
        for (auto &kv : by_user_)
            mesh_->send(peer, PeerMsg::Online, {kv.first});
        WLOG(JIM_LOG_DEBUG, "worker %d connected", peer);
        return;
    }
    // A worker went away: its users are offline unless seen elsewhere.
    WLOG(JIM_LOG_INFO, "worker %d went away", peer);
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
    for (const std::string &user : gone)
        if (!online_anywhere(user))
            became_offline(user);
}

} // namespace jimd

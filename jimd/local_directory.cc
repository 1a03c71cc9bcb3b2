// The sessions of this worker by user and room, beside each user the other workers with
// sessions of theirs, and the writing of pushes to the sessions here (local_directory.hh).
#include "local_directory.hh"

#include <algorithm>

namespace jimd {

LocalDirectory::LocalDirectory(event_base *base, std::string general, Replies &replies,
                               std::function<Session *(uint64_t)> find)
    : base_(base), general_(std::move(general)), replies_(replies), find_(std::move(find))
{
}

LocalDirectory::~LocalDirectory()
{
    if (fanout_ev_)
        event_free(fanout_ev_);
}

bool LocalDirectory::start()
{
    fanout_ev_ = event_new(base_, -1, 0, on_fanout, this);
    return fanout_ev_ != nullptr;
}

// Before a member list changes, the run Replies holds for one is written (Replies).
bool LocalDirectory::add(Session &s)
{
    replies_.flush_run();
    for (const std::string &r : s.rooms)
        by_room_[r].push_back(&s);
    if (!general_.empty())
        by_room_[general_].push_back(&s);
    auto &entry = *by_user_.try_emplace(s.user).first;
    SessionList &list = entry.second.here;
    if (list.empty()) {
        entry.second.slot = here_.size();
        here_.push_back(&entry);
    }
    list.push_back(&s);
    return list.size() > 1;
}

bool LocalDirectory::remove(Session &s)
{
    replies_.flush_run();
    auto leave_room = [&](const std::string &room) {
        auto it = by_room_.find(room);
        if (it == by_room_.end())
            return;
        std::erase(it->second, &s);
        if (it->second.empty())
            by_room_.erase(it);
    };
    for (const std::string &room : s.rooms)
        leave_room(room);
    if (!general_.empty())
        leave_room(general_);
    auto it = by_user_.find(s.user);
    if (it == by_user_.end() || it->second.here.empty())
        return false;
    it->second.here.erase(&s);
    if (!it->second.here.empty())
        return false;
    size_t slot = it->second.slot; // off here_: the last one takes its place
    here_[slot] = here_.back();
    here_[slot]->second.slot = slot;
    here_.pop_back();
    if (!it->second.elsewhere)
        by_user_.erase(it);
    return true;
}

// A user's membership lives in each of their sessions on this worker.
void LocalDirectory::join(const std::string &user, const std::string &room)
{
    replies_.flush_run();
    auto it = by_user_.find(user);
    if (it == by_user_.end())
        return;
    for (Session *s : it->second.here)
        if (s->rooms.insert(room))
            by_room_[room].push_back(s);
}

void LocalDirectory::leave(const std::string &user, const std::string &room)
{
    replies_.flush_run();
    auto it = by_user_.find(user);
    if (it == by_user_.end())
        return;
    auto members = by_room_.find(room);
    for (Session *s : it->second.here)
        if (s->rooms.erase(room) && members != by_room_.end())
            std::erase(members->second, s);
    if (members != by_room_.end() && members->second.empty())
        by_room_.erase(members);
}

std::span<Session *const> LocalDirectory::of(const std::string &user) const
{
    auto it = by_user_.find(user);
    return it == by_user_.end() ? std::span<Session *const>() : it->second.here.view();
}

void LocalDirectory::each_user(const std::function<void(const std::string &, size_t)> &fn) const
{
    for (const UserMap::value_type *e : here_)
        fn(e->first, e->second.here.size());
}

void LocalDirectory::seen_on(const std::string &user, int worker)
{
    by_user_[user].elsewhere |= uint64_t{1} << worker;
}

void LocalDirectory::gone_from(const std::string &user, int worker)
{
    auto it = by_user_.find(user);
    if (it == by_user_.end())
        return;
    it->second.elsewhere &= ~(uint64_t{1} << worker);
    if (!it->second.elsewhere && it->second.here.empty())
        by_user_.erase(it);
}

void LocalDirectory::forget_worker(int worker, std::vector<std::string> *gone)
{
    uint64_t bit = uint64_t{1} << worker;
    for (auto it = by_user_.begin(); it != by_user_.end();) {
        UserEntry &e = it->second;
        if (!(e.elsewhere & bit)) {
            ++it;
            continue;
        }
        e.elsewhere &= ~bit;
        if (!e.elsewhere)
            gone->push_back(it->first);
        it = !e.elsewhere && e.here.empty() ? by_user_.erase(it) : std::next(it);
    }
}

bool LocalDirectory::hand(std::string_view user, std::string_view line, int64_t seq,
                          uint64_t *workers)
{
    auto it = by_user_.find(user);
    *workers = it == by_user_.end() ? 0 : it->second.elsewhere;
    if (it == by_user_.end())
        return false;
    bool remember = it->second.elsewhere != 0;
    bool handed = false;
    for (Session *s : it->second.here) {
        if (s->conn.closing())
            continue;
        if (s->first_handing(seq, remember && !s->rechecked))
            replies_.deliver(*s, line);
        handed = true;
    }
    return handed;
}

// A small room gets the message at once; a large one (the general chat of thousands) a
// chunk of kFanoutChunk sessions per loop turn, so the other sessions of the worker are
// served in between instead of waiting for the whole fan-out. Room messages keep their
// order: while a fan-out is under way, later ones queue behind it.
void LocalDirectory::fan_out(const std::string &room, const std::string &line,
                             uint64_t except_session)
{
    auto it = by_room_.find(room);
    if (it == by_room_.end())
        return;
    if (fanouts_.empty() && it->second.size() <= kFanoutChunk) {
        replies_.deliver_room(it->second, line, except_session);
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

void LocalDirectory::on_fanout(evutil_socket_t, short, void *arg)
{
    auto *d = static_cast<LocalDirectory *>(arg);
    size_t budget = kFanoutChunk;
    while (!d->fanouts_.empty() && budget > 0) {
        Fanout &f = d->fanouts_.front();
        for (; f.next < f.sessions.size() && budget > 0; f.next++, budget--)
            if (Session *s = d->find_(f.sessions[f.next]); s && !s->conn.closing())
                d->replies_.deliver(*s, f.line);
        if (f.next == f.sessions.size())
            d->fanouts_.pop_front();
    }
    if (!d->fanouts_.empty()) {
        timeval now = {0, 0}; // after the loop has looked at the sockets once more
        event_add(d->fanout_ev_, &now);
    }
}

void LocalDirectory::presence(const std::string &user, bool online)
{
    for (const UserMap::value_type *e : here_) {
        if (e->first == user)
            continue;
        for (Session *s : e->second.here) {
            if (!s->ndjson || s->conn.closing() || !s->contacts.count(user))
                continue;
            jim_msg *m = replies_.object(JIM_ACTION_PRESENCE);
            jim_msg_set_str(m, JIM_FIELD_ACCOUNT_NAME, user.c_str());
            jim_msg_set_str(m, JIM_FIELD_USER_STATUS, online ? "online" : "offline");
            replies_.send(*s, m);
        }
    }
}

} // namespace jimd

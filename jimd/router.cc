// The router over the socketpair mesh (router.hh): which other workers have sessions of
// each user, kept in the directory (local_directory.hh) from their Online/Offline frames;
// direct messages handed over in Deliver frames with their ledger and Acks, and the rows
// kept for a user who has since logged in elsewhere looked for there (Look frames); room
// messages in Room frames; kicks in Kick frames. (Connections per address are counted in
// shared memory: ip_slots.hh.)
#include "router.hh"

#include "clock.hh"
#include "local_directory.hh"
#include "mesh.hh"

#include <algorithm>
#include <deque>
#include <unordered_map>

namespace jimd {

namespace {

#define RLOG(level, ...) JIM_LOG(log_, level, tag_.c_str(), __VA_ARGS__)

// Direct messages handed over on one link. A Deliver frame is not backed by a pending
// row: the sender keeps its seq until the peer confirms it with an Ack, and turns what is
// unconfirmed into pending rows if the peer goes away. The receiving side counts the
// frames and confirms each once it was written to a session, left to another worker that
// has it too (Deliver.also), or kept as a pending row that a commit has written.
struct Handover {
    // Sending side.
    uint64_t sent = 0, acked = 0; // Deliver frames sent; how many the peer confirmed
    std::vector<int64_t> unacked; // seqs of frames acked+1 .. sent, from `head`
    size_t head = 0;
    // Receiving side.
    uint64_t got = 0, confirmed = 0; // Deliver frames received; how many confirmed back
    // Frames kept as pending rows not yet known to be on disk: (frame number, the
    // journal's commit that writes the row).
    std::deque<std::pair<uint64_t, uint64_t>> unsure;
};

// Items by user for a while after they were added: a user's list is dropped kRecentUs
// after its last addition, and keeps its last kMaxItems at most. Small: what goes in comes
// from races around a user leaving.
template <class Item> class RecentByUser {
  public:
    static constexpr int64_t kRecentUs = 10'000'000;
    static constexpr size_t kMaxItems = 1024;
    void add(const std::string &user, Item item, int64_t now)
    {
        expire(now);
        Entry &e = by_user_[user];
        if (e.items.size() >= kMaxItems)
            e.items.erase(e.items.begin(), e.items.begin() + kMaxItems / 2);
        e.at = now;
        e.items.push_back(std::move(item));
        order_.emplace_back(now, user);
    }
    // Takes the items for which pred(item) holds out of every user's list, into *out.
    template <class Pred> void take_if(Pred pred, std::vector<std::pair<std::string, Item>> *out)
    {
        for (auto &entry : by_user_) {
            const std::string &user = entry.first; // a structured binding: no capture in C++20
            std::erase_if(entry.second.items, [&](const Item &item) {
                if (!pred(item))
                    return false;
                out->emplace_back(user, item);
                return true;
            });
        }
    }
    // The user's items, or null.
    const std::vector<Item> *find(const std::string &user, int64_t now)
    {
        expire(now);
        auto it = by_user_.find(user);
        return it == by_user_.end() ? nullptr : &it->second.items;
    }
    bool empty() const { return by_user_.empty(); }

  private:
    void expire(int64_t now)
    {
        while (!order_.empty() && now - order_.front().first > kRecentUs) {
            auto it = by_user_.find(order_.front().second);
            if (it != by_user_.end() && it->second.at == order_.front().first)
                by_user_.erase(it);
            order_.pop_front();
        }
    }
    struct Entry {
        int64_t at = 0; // the last addition
        std::vector<Item> items;
    };
    std::unordered_map<std::string, Entry> by_user_;
    std::deque<std::pair<int64_t, std::string>> order_; // additions, oldest first
};

// Who answers for a hand-over whose user has left this worker (Deliver.also).
enum class Answers { Here, Sender, Higher };

class MeshRouter final : public Router {
  public:
    MeshRouter(const RouterSetup &setup, Replies &replies, RouterEvents &events);
    ~MeshRouter() override
    {
        if (confirm_ev_)
            event_free(confirm_ev_);
        if (look_ev_)
            event_free(look_ev_);
    }
    MeshRouter(const MeshRouter &) = delete;
    MeshRouter &operator=(const MeshRouter &) = delete;
    bool start(const std::vector<int> &peers);

    void add_session(Session &s) override;
    void remove_session(Session &s) override;
    void join_room(const std::string &user, const std::string &room) override
    {
        local_.join(user, room);
    }
    void leave_room(const std::string &user, const std::string &room) override
    {
        local_.leave(user, room);
    }
    std::span<Session *const> local_sessions(const std::string &user) const override
    {
        return local_.of(user);
    }
    bool online_anywhere(std::string_view user) const override;
    size_t sessions_of(const std::string &user) const override;
    void refresh() override { mesh_.poll_input(); }
    bool deliver(const std::string &user, const std::string &line, int64_t seq) override;
    void keep_pending(const std::string &user, int64_t seq) override
    {
        uint64_t commit = events_.keep_pending(user, seq);
        if (count_ > 1)
            kept_.push_back({commit, 0, seq, user});
    }
    void deliver_room(const std::string &room, const std::string &line,
                      uint64_t except_session) override;
    void committed(uint64_t last_ok) override;
    void kick(const std::string &user, const std::string &text) override
    {
        mesh_.broadcast(peer::Kick{user, text});
        mesh_.flush_now();
    }
    bool backed_up() const override { return mesh_.backlog() > kHighWater; }
    void attach(int peer, int fd) override { mesh_.attach(peer, fd); }

  private:
    bool on_frame(int from, peer::Type type, std::string_view body);
    template <class F> bool take(int from, std::string_view body)
    {
        F f;
        if (!peer::decode(body, &f))
            return false;
        on(from, f);
        return true;
    }
    void on(int from, const peer::Online &f);
    void on(int from, const peer::Offline &f);
    void on(int from, const peer::Deliver &f);
    void on(int from, const peer::Ack &f);
    void on(int from, const peer::Room &f);
    void on(int from, const peer::Kick &f);
    void on(int from, const peer::Look &f);
    Answers who_answers(uint64_t also, int from) const;
    void tell_to_look();
    void send_look(int peer, const std::string &user,
                   const std::vector<std::pair<int64_t, uint64_t>> &rows);
    void queue_look(std::string user, std::vector<int64_t> seqs);
    static void on_look(evutil_socket_t, short, void *arg);
    void on_peer(int peer, bool up, const char *why);
    void peer_gone(int peer);
    void forget_remote(const std::string &user, int peer);
    void keep_left_by(int peer);
    void announce(const std::string &user);
    void handover_lost(int peer);
    void confirm();
    void confirm_soon();
    static void on_confirm(evutil_socket_t, short, void *arg);

    // Past this much output on a link, readers wait until it drains below Mesh::kLowWater.
    static constexpr size_t kHighWater = 1 << 20;
    int self_, count_;
    jim_log *log_;
    std::string tag_;
    RouterEvents &events_;
    LocalDirectory local_;
    Mesh mesh_;
    // user -> worker -> sessions there, only where a worker has two or more: the rest have
    // one each, so the directory's mask counts them (max_sessions holds across workers).
    std::unordered_map<std::string, std::unordered_map<int, int>> remote_multi_;
    std::vector<Handover> handover_; // by peer index
    uint64_t last_ok_ = 0;           // the journal's
    // Pending rows kept here not yet known to be written. Once written, the workers where
    // the user is then are told to look (Look).
    struct Kept {
        uint64_t commit; // the journal's commit that writes the row
        uint64_t also;   // the message's Deliver.also (0: kept by its sender)
        int64_t seq;
        std::string user;
    };
    std::deque<Kept> kept_;
    // For a while after: the rows kept here and written, (seq, also), for a worker whose
    // Online frame for the user comes only then; the hand-overs this worker left to the
    // worker that answers for them, for a Look that says this one had them (only it knows
    // it never wrote them to a session), and to keep them itself if their sender goes away
    // (its frame to that worker may have died with it); and the seqs Looks asked for here,
    // each pushed once (a row written twice, e.g. by two workers that both kept it while
    // one was being replaced, is not).
    struct Left {
        int64_t seq;
        int from;      // the sender
        uint64_t also; // the frame's
        int64_t at;    // when it came (monotonic us)
    };
    RecentByUser<std::pair<int64_t, uint64_t>> written_;
    RecentByUser<Left> left_;
    RecentByUser<int64_t> asked_;
    // Looks asked for, (user, seqs to push), handled in a loop callback of their own
    // (on_look): never inside a commit or the frame handling, whose half-done state the
    // query would read.
    std::vector<std::pair<std::string, std::vector<int64_t>>> looks_;
    event *look_ev_ = nullptr;
    event *confirm_ev_ = nullptr;
    bool confirm_scheduled_ = false;
};

MeshRouter::MeshRouter(const RouterSetup &setup, Replies &replies, RouterEvents &events)
    : self_(setup.self), count_(setup.count), log_(setup.log), tag_(setup.tag), events_(events),
      local_(setup.base, setup.general, replies,
             [&events](uint64_t id) { return events.find_session(id); }),
      mesh_(
          setup.base, setup.self, setup.count,
          [this](int from, peer::Type t, std::string_view body) { return on_frame(from, t, body); },
          [this](int peer, bool up, const char *why) { on_peer(peer, up, why); }),
      handover_(static_cast<size_t>(setup.count))
{
    mesh_.on_drained([this] { events_.peers_drained(); });
    // A read's Room frames to one room reach its members here as one run (Replies).
    mesh_.on_frames([&replies](bool start) { start ? replies.begin_runs() : replies.end_runs(); });
    confirm_ev_ = event_new(setup.base, -1, 0, on_confirm, this);
    look_ev_ = event_new(setup.base, -1, 0, on_look, this);
}

bool MeshRouter::start(const std::vector<int> &peers)
{
    if (!confirm_ev_ || !look_ev_ || !local_.start())
        return false;
    for (int i = 0; i < static_cast<int>(peers.size()); i++)
        if (peers[i] >= 0)
            mesh_.attach(i, peers[i]);
    return true;
}

void MeshRouter::add_session(Session &s)
{
    bool was_online = online_anywhere(s.user);
    local_.add(s);
    // Sent before the login is answered: once the user has the answer, every worker that
    // reads a message for them finds the news in its mesh socket (refresh).
    announce(s.user);
    mesh_.flush_now();
    if (!was_online)
        local_.presence(s.user, true);
}

void MeshRouter::remove_session(Session &s)
{
    bool last = local_.remove(s);
    announce(s.user);
    if (last && !online_anywhere(s.user))
        local_.presence(s.user, false);
}

// Tells the other workers how many sessions user has here now.
void MeshRouter::announce(const std::string &user)
{
    size_t n = local_.of(user).size();
    if (n == 0)
        mesh_.broadcast(peer::Offline{user});
    else
        mesh_.broadcast(peer::Online{user, static_cast<uint32_t>(n)});
}

bool MeshRouter::online_anywhere(std::string_view user) const
{
    return local_.online_anywhere(user);
}

size_t MeshRouter::sessions_of(const std::string &user) const
{
    size_t n = local_.of(user).size();
    n += static_cast<size_t>(__builtin_popcountll(local_.elsewhere(user)));
    if (auto it = remote_multi_.find(user); it != remote_multi_.end())
        for (const auto &[worker, count] : it->second)
            n += static_cast<size_t>(count - 1);
    return n;
}

bool MeshRouter::deliver(const std::string &user, const std::string &line, int64_t seq)
{
    // A pending row for seq can exist beside this hand-over only when the user also has
    // sessions elsewhere (kept there because the user had left, or kept for a worker that
    // died before confirming it): only then could the re-check at login find it again.
    uint64_t workers = 0;
    bool handed = local_.hand(user, line, seq, &workers);
    if (!workers)
        return handed;
    // Each receiver is told who else has the message, so one that finds the user gone
    // leaves it to them instead of keeping a row that would push it again at next login.
    uint64_t also = handed ? uint64_t{1} << self_ : 0;
    for (int w = 0; w < count_; w++)
        if (((workers >> w) & 1) && mesh_.connected(w))
            also |= uint64_t{1} << w;
    bool unsent = false;
    for (int w = 0; w < count_; w++) {
        if (!((also >> w) & 1) || w == self_)
            continue;
        if (!mesh_.send(w, peer::Deliver{user, seq, also, line})) {
            unsent = true; // out of memory: the others may count on w, so keep a row
            continue;
        }
        Handover &h = handover_[static_cast<size_t>(w)];
        h.unacked.push_back(seq);
        h.sent++;
        handed = true;
    }
    if (unsent && handed)
        events_.recover_pending(seq);
    return handed;
}

void MeshRouter::deliver_room(const std::string &room, const std::string &line,
                              uint64_t except_session)
{
    local_.fan_out(room, line, except_session);
    mesh_.broadcast(peer::Room{room, line});
}

bool MeshRouter::on_frame(int from, peer::Type type, std::string_view body)
{
    switch (type) {
    case peer::Type::Online: return take<peer::Online>(from, body);
    case peer::Type::Offline: return take<peer::Offline>(from, body);
    case peer::Type::Deliver: return take<peer::Deliver>(from, body);
    case peer::Type::Ack: return take<peer::Ack>(from, body);
    case peer::Type::Room: return take<peer::Room>(from, body);
    case peer::Type::Kick: return take<peer::Kick>(from, body);
    case peer::Type::Look: return take<peer::Look>(from, body);
    default: return false; // a control frame has no business on the mesh
    }
}

void MeshRouter::on(int from, const peer::Online &f)
{
    std::string user(f.user);
    bool was = online_anywhere(user);
    local_.seen_on(user, from);
    if (f.sessions >= 2) {
        remote_multi_[user][from] = static_cast<int>(f.sessions);
    } else if (auto it = remote_multi_.find(user); it != remote_multi_.end()) {
        it->second.erase(from);
        if (it->second.empty())
            remote_multi_.erase(it);
    }
    if (!was)
        local_.presence(user, true);
    if (!written_.empty())
        if (const auto *rows = written_.find(user, mono_us()))
            send_look(from, user, *rows);
}

void MeshRouter::on(int from, const peer::Offline &f)
{
    std::string user(f.user);
    forget_remote(user, from);
    if (!online_anywhere(user))
        local_.presence(user, false);
}

// Worker `peer` has no session of user any more.
void MeshRouter::forget_remote(const std::string &user, int peer)
{
    local_.gone_from(user, peer);
    if (auto m = remote_multi_.find(user); m != remote_multi_.end()) {
        m->second.erase(peer);
        if (m->second.empty())
            remote_multi_.erase(m);
    }
}

// A direct message from another worker. Not handed (the user left): left to the worker
// that answers for it too, or else kept here as pending, for the next login; the frame is
// confirmed once that row is written.
void MeshRouter::on(int from, const peer::Deliver &f)
{
    Handover &h = handover_[static_cast<size_t>(from)];
    h.got++;
    // The frame's fields are read where they are: the frame stays in the mesh's input buffer
    // until this handler returns (Mesh::handle_frames drains it after).
    uint64_t workers = 0;
    if (!local_.hand(f.user, f.line, f.seq, &workers)) {
        Answers a = who_answers(f.also, from);
        if (a != Answers::Here) {
            int64_t now = mono_us();
            left_.add(std::string(f.user), Left{f.seq, from, f.also, now}, now);
        } else {
            std::string user(f.user);
            uint64_t commit = events_.keep_pending(user, f.seq);
            h.unsure.emplace_back(h.got, commit);
            kept_.push_back({commit, f.also, f.seq, std::move(user)});
        }
    }
    confirm_soon();
}

// Who answers for the message of a Deliver frame from `from` whose user has left here:
// the sender, which wrote it to a session of the user; or a worker it was handed to with a
// higher index, still linked here, which delivers it, keeps it, or (gone before confirming
// it) leaves it to the sender's ledger to keep. Only higher ones: two workers that both
// found the user gone must not each leave it to the other, so the highest keeps it.
Answers MeshRouter::who_answers(uint64_t also, int from) const
{
    if ((also >> from) & 1)
        return Answers::Sender;
    for (int w = self_ + 1; w < count_; w++)
        if (((also >> w) & 1) && mesh_.connected(w))
            return Answers::Higher;
    return Answers::Here;
}

// Peer has dealt with the first `count` Deliver frames of the link: forget their seqs.
void MeshRouter::on(int from, const peer::Ack &f)
{
    Handover &h = handover_[static_cast<size_t>(from)];
    if (f.count <= h.acked || f.count > h.sent)
        return; // nothing new, or not a count this link has reached: ignored
    h.head += static_cast<size_t>(f.count - h.acked);
    h.acked = f.count;
    if (h.head == h.unacked.size()) { // all confirmed: start over, capacity kept
        h.unacked.clear();
        h.head = 0;
    } else if (h.head >= 4096 && h.head * 2 >= h.unacked.size()) {
        h.unacked.erase(h.unacked.begin(), h.unacked.begin() + static_cast<long>(h.head));
        h.head = 0;
    }
}

void MeshRouter::on(int, const peer::Room &f)
{
    local_.fan_out(std::string(f.room), std::string(f.line), 0);
}

void MeshRouter::on(int, const peer::Kick &f)
{
    events_.kick_here(std::string(f.user), std::string(f.text));
}

// Another worker wrote pending rows for a user with sessions here. A row of a message this
// worker had too is pushed only if it left the message to a higher worker: if it wrote
// it to a session here, that session has it.
void MeshRouter::on(int, const peer::Look &f)
{
    std::string user(f.user);
    if (local_.of(user).empty())
        return;
    int64_t now = mono_us();
    const std::vector<Left> *left = left_.find(user, now);
    const std::vector<int64_t> *asked = asked_.find(user, now);
    std::vector<int64_t> seqs;
    for (size_t i = 0; i < f.entries.size() / 8; i++) {
        int64_t seq = 0;
        bool had = false;
        peer::look_entry(f, i, &seq, &had);
        bool passed_on = left && std::any_of(left->begin(), left->end(),
                                             [seq](const Left &l) { return l.seq == seq; });
        if ((!had || passed_on) &&
            !(asked && std::find(asked->begin(), asked->end(), seq) != asked->end()))
            seqs.push_back(seq);
    }
    for (int64_t seq : seqs)
        asked_.add(user, seq, now); // after the loop: `asked` points into the lists
    if (!seqs.empty())
        queue_look(std::move(user), std::move(seqs));
}

// The user's sessions here are to be sent the rows of seqs, from on_look.
void MeshRouter::queue_look(std::string user, std::vector<int64_t> seqs)
{
    if (looks_.empty())
        event_active(look_ev_, EV_TIMEOUT, 0);
    looks_.emplace_back(std::move(user), std::move(seqs));
}

void MeshRouter::on_look(evutil_socket_t, short, void *arg)
{
    auto *r = static_cast<MeshRouter *>(arg);
    std::vector<std::pair<std::string, std::vector<int64_t>>> looks;
    looks.swap(r->looks_);
    std::sort(looks.begin(), looks.end(),
              [](const auto &a, const auto &b) { return a.first < b.first; });
    for (size_t i = 0; i < looks.size();) {
        std::vector<int64_t> seqs;
        size_t j = i;
        for (; j < looks.size() && looks[j].first == looks[i].first; j++)
            seqs.insert(seqs.end(), looks[j].second.begin(), looks[j].second.end());
        std::sort(seqs.begin(), seqs.end());
        seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
        r->events_.look_here(looks[i].first, std::move(seqs));
        i = j;
    }
}

void MeshRouter::committed(uint64_t last_ok)
{
    last_ok_ = last_ok;
    confirm();
    tell_to_look();
}

// The pending rows kept here that the journal has written: a user who logged in on another
// worker since they were kept (whose login's looks may have come before the rows) is looked
// for there now, or when that worker's Online frame comes, within kRecentUs.
void MeshRouter::tell_to_look()
{
    if (kept_.empty() || kept_.front().commit > last_ok_)
        return;
    int64_t now = mono_us();
    std::vector<Kept> done;
    for (; !kept_.empty() && kept_.front().commit <= last_ok_; kept_.pop_front())
        done.push_back(std::move(kept_.front()));
    std::stable_sort(done.begin(), done.end(),
                     [](const Kept &a, const Kept &b) { return a.user < b.user; });
    std::vector<std::pair<int64_t, uint64_t>> rows;
    for (size_t i = 0; i < done.size();) {
        const std::string &user = done[i].user;
        rows.clear();
        size_t j = i;
        for (; j < done.size() && done[j].user == user; j++) {
            rows.emplace_back(done[j].seq, done[j].also);
            written_.add(user, rows.back(), now);
        }
        uint64_t there = local_.elsewhere(user);
        for (int w = 0; w < count_; w++)
            if ((there >> w) & 1)
                send_look(w, user, rows);
        // Sessions here logged in after the message found the user gone here (else it went
        // to them), so after their login's looks when the row came late (keep_left_by).
        if (!local_.of(user).empty()) {
            std::vector<int64_t> seqs;
            for (const auto &[seq, also] : rows)
                seqs.push_back(seq);
            queue_look(user, std::move(seqs));
        }
        i = j;
    }
}

// A Look to peer for these rows of user, each marked if peer was in its message's also.
void MeshRouter::send_look(int peer, const std::string &user,
                           const std::vector<std::pair<int64_t, uint64_t>> &rows)
{
    std::string entries;
    for (const auto &[seq, also] : rows)
        peer::append_look_entry(&entries, seq, (also >> peer) & 1);
    mesh_.send(peer, peer::Look{user, entries});
}

// Confirms to each peer the Deliver frames dealt with. Runs at the end of a loop iteration
// that received Deliver frames, and after each commit.
void MeshRouter::confirm()
{
    for (size_t p = 0; p < handover_.size(); p++) {
        Handover &h = handover_[p];
        while (!h.unsure.empty() && h.unsure.front().second <= last_ok_)
            h.unsure.pop_front();
        uint64_t upto = h.unsure.empty() ? h.got : h.unsure.front().first - 1;
        if (upto > h.confirmed && mesh_.send(static_cast<int>(p), peer::Ack{upto}))
            h.confirmed = upto;
    }
}

void MeshRouter::confirm_soon()
{
    if (!confirm_scheduled_) {
        confirm_scheduled_ = true;
        event_active(confirm_ev_, EV_TIMEOUT, 0);
    }
}

void MeshRouter::on_confirm(evutil_socket_t, short, void *arg)
{
    auto *r = static_cast<MeshRouter *>(arg);
    r->confirm_scheduled_ = false;
    r->confirm();
}

// The link to peer is gone (the worker died or was replaced): what it never confirmed gets
// its pending rows with the next commit, and the counts start over for a new link.
void MeshRouter::handover_lost(int peer)
{
    Handover &h = handover_[static_cast<size_t>(peer)];
    size_t lost = h.unacked.size() - h.head;
    if (lost) {
        for (size_t i = h.head; i < h.unacked.size(); i++)
            events_.recover_pending(h.unacked[i]);
        RLOG(JIM_LOG_INFO, "worker %d had not confirmed %zu direct messages: kept as pending", peer,
             lost);
    }
    h = Handover{};
}

void MeshRouter::on_peer(int peer, bool up, const char *why)
{
    if (why)
        RLOG(JIM_LOG_ERROR, "worker %d sent %s: link dropped", peer, why);
    handover_lost(peer); // a new link starts counting afresh; an old one's frames are lost
    keep_left_by(peer);
    if (!up) {
        peer_gone(peer);
        return;
    }
    // A new or returning worker: tell it who is online here.
    local_.each_user([this, peer](const std::string &user, size_t n) {
        mesh_.send(peer, peer::Online{user, static_cast<uint32_t>(n)});
    });
    RLOG(JIM_LOG_DEBUG, "worker %d connected", peer);
}

// The link to `peer` is gone: the hand-overs it sent here lately that this worker left to
// another are kept here as pending rows (and looked for like the others), since the frame
// it sent that other may have been lost with it. One that got there is then kept twice
// (the row once) and may reach the user twice; none is lost.
void MeshRouter::keep_left_by(int peer)
{
    std::vector<std::pair<std::string, Left>> taken;
    left_.take_if([peer](const Left &l) { return l.from == peer; }, &taken);
    int64_t now = mono_us();
    std::erase_if(taken, [now](const auto &t) {
        return now - t.second.at > decltype(left_)::kRecentUs; // long delivered or kept
    });
    for (auto &[user, l] : taken)
        kept_.push_back({events_.keep_pending(user, l.seq), l.also, l.seq, user});
    if (!taken.empty())
        RLOG(JIM_LOG_INFO,
             "worker %d went away: %zu direct messages it handed here and elsewhere "
             "kept as pending",
             peer, taken.size());
}

// A worker went away: its users are offline unless seen elsewhere, and its connections
// are gone.
void MeshRouter::peer_gone(int peer)
{
    RLOG(JIM_LOG_INFO, "worker %d went away", peer);
    std::vector<std::string> gone;
    local_.forget_worker(peer, &gone);
    for (auto it = remote_multi_.begin(); it != remote_multi_.end();) {
        it->second.erase(peer);
        it = it->second.empty() ? remote_multi_.erase(it) : std::next(it);
    }
    for (const std::string &user : gone)
        if (!online_anywhere(user))
            local_.presence(user, false);
}

} // namespace

std::unique_ptr<Router> make_mesh_router(const RouterSetup &setup, Replies &replies,
                                         RouterEvents &events)
{
    auto r = std::make_unique<MeshRouter>(setup, replies, events);
    if (!r->start(setup.peers))
        return nullptr;
    return r;
}

} // namespace jimd

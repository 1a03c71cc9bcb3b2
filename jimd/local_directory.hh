// The router's directory: this worker's logged-in sessions by user and by room, beside each
// user the other workers that have sessions of theirs (a mask the router keeps from their
// Online and Offline frames; one look-up answers both where a message goes), and the
// writing of pushes to the sessions here — a direct message to its user's sessions, a room
// message to the room's members (a large room a chunk of sessions per loop turn), a
// presence change to the sessions that have the user as a contact.
#pragma once

#include "replies.hh"
#include "session.hh"
#include "session_list.hh"

#include <event2/event.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace jimd {

class LocalDirectory {
  public:
    // general: the room every logged-in session is in without joining ("" for none);
    // find: the session with an id, or null (a chunked fan-out outlives sessions).
    LocalDirectory(event_base *base, std::string general, Replies &replies,
                   std::function<Session *(uint64_t)> find);
    ~LocalDirectory();
    LocalDirectory(const LocalDirectory &) = delete;
    LocalDirectory &operator=(const LocalDirectory &) = delete;
    bool start();

    // A logged-in session is listed under its user, its rooms and the general chat; false:
    // it was the user's first here.
    bool add(Session &s);
    // Takes it off the lists; true when it was the user's last here.
    bool remove(Session &s);
    // Every session of user here joins (leaves) room.
    void join(const std::string &user, const std::string &room);
    void leave(const std::string &user, const std::string &room);
    std::span<Session *const> of(const std::string &user) const;
    // Whether user has a session here, or one on another worker.
    bool online_anywhere(std::string_view user) const
    {
        auto it = by_user_.find(user);
        return it != by_user_.end() && (!it->second.here.empty() || it->second.elsewhere);
    }
    // Calls fn(user, sessions here) for every user with sessions here.
    void each_user(const std::function<void(const std::string &, size_t)> &fn) const;

    // The other workers with sessions of user (bit w: worker w), as the router last heard.
    uint64_t elsewhere(std::string_view user) const
    {
        auto it = by_user_.find(user);
        return it == by_user_.end() ? 0 : it->second.elsewhere;
    }
    // Worker has sessions of user (seen_on), or has none any more (gone_from).
    void seen_on(const std::string &user, int worker);
    void gone_from(const std::string &user, int worker);
    // Takes worker off every user's mask; adds to *gone each user it was the last worker of.
    void forget_worker(int worker, std::vector<std::string> *gone);

    // Writes a direct message to the user's sessions here; false if there are none. A
    // session in its login window remembers the message when it could also be found by the
    // user's offline queries: when the user has sessions elsewhere too (the message may have
    // a pending row there). *workers: the other workers with sessions of user. user and
    // line are read during the call only (a mesh frame's may be views of its input buffer).
    bool hand(std::string_view user, std::string_view line, int64_t seq, uint64_t *workers);
    // Writes a room message to the room's members here, except one session.
    void fan_out(const std::string &room, const std::string &line, uint64_t except_session);
    // Tells the ndjson sessions here that have user as a contact.
    void presence(const std::string &user, bool online);

  private:
    // A room message on its way to the room's members here, kFanoutChunk sessions a turn.
    struct Fanout {
        std::string line;
        std::vector<uint64_t> sessions;
        size_t next = 0;
    };
    static void on_fanout(evutil_socket_t, short, void *arg);
    static constexpr size_t kFanoutChunk = 128;

    event_base *base_;
    std::string general_;
    Replies &replies_;
    std::function<Session *(uint64_t)> find_;
    // A user's sessions here and the other workers with some; listed while either has any.
    struct UserEntry {
        SessionList here;
        uint64_t elsewhere = 0;
        size_t slot = 0; // where in here_ while `here` is not empty
    };
    using UserMap = std::unordered_map<std::string, UserEntry, NameHash, std::equal_to<>>;
    UserMap by_user_;
    // The entries with sessions here (a map's entries stay where they are until erased), so
    // that what walks this worker's users does not walk those only seen elsewhere.
    std::vector<UserMap::value_type *> here_;
    std::unordered_map<std::string, std::vector<Session *>> by_room_; // members online here
    std::deque<Fanout> fanouts_;
    event *fanout_ev_ = nullptr;
};

} // namespace jimd

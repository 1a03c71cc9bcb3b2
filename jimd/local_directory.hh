// The router's view of this worker: its logged-in sessions by user and by room, and the
// writing of pushes to them — a direct message to its user's sessions, a room message to
// the room's members (a large room a chunk of sessions per loop turn), a presence change
// to the sessions that have the user as a contact.
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
    bool has(std::string_view user) const { return by_user_.find(user) != by_user_.end(); }
    // Calls fn(user, sessions here) for every user with sessions here.
    void each_user(const std::function<void(const std::string &, size_t)> &fn) const;

    // Writes a direct message to the user's sessions here; false if there are none.
    // `remember()`: whether the message could also be found by the user's offline queries
    // (it has a pending row elsewhere), so a session in its login window remembers it;
    // called only for such a session, at most once. user and line are read during the
    // call only (a mesh frame's may be views of its input buffer).
    template <class Remember>
    bool hand(std::string_view user, std::string_view line, int64_t seq, Remember remember)
    {
        auto it = by_user_.find(user);
        if (it == by_user_.end())
            return false;
        bool handed = false;
        int asked = -1; // remember()'s answer once asked
        for (Session *s : it->second) {
            if (s->conn.closing())
                continue;
            bool keep = false;
            if (!s->rechecked) {
                if (asked < 0)
                    asked = remember() ? 1 : 0;
                keep = asked == 1;
            }
            if (s->first_handing(seq, keep))
                replies_.deliver(*s, line);
            handed = true;
        }
        return handed;
    }
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
    std::unordered_map<std::string, SessionList, NameHash, std::equal_to<>> by_user_;
    std::unordered_map<std::string, std::vector<Session *>> by_room_; // members online here
    std::deque<Fanout> fanouts_;
    event *fanout_ev_ = nullptr;
};

} // namespace jimd

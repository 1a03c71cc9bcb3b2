// The router: who is online where, and getting a committed message to them. It keeps this
// worker's logged-in sessions by user and by room, learns from the other workers which
// users they serve, writes pushes to the sessions here (a large room a chunk at a time),
// hands direct messages to the workers where their recipient is, keeps a ledger of those
// hand-overs until they are confirmed, and has the rows kept for a user who has since
// logged in elsewhere pushed there. Today's one implementation speaks the peer protocol
// over the socketpair mesh (router.cc); the interface is what another transport (a message
// bus between machines) fills in.
#pragma once

#include "replies.hh"
#include "session.hh"

#include <jim/log.h>

#include <event2/event.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace jimd {

// What the router asks of the worker.
class RouterEvents {
  public:
    // The session with this id, or null when it is gone.
    virtual Session *find_session(uint64_t id) = 0;
    // A direct message handed over by another worker found no session of its user here:
    // it is to be kept as a pending row. Returns the journal's number of the commit that
    // will write it (Journal::next_commit): the hand-over is confirmed once that commit is.
    virtual uint64_t keep_pending(const std::string &user, int64_t seq) = 0;
    // A worker went away before confirming the hand-over of the stored message seq: it is to
    // be kept as a pending row for its recipient.
    virtual void recover_pending(int64_t seq) = 0;
    // The links to the other workers, backed up before, have drained.
    virtual void peers_drained() = 0;
    // Another worker kicked user (admin_kick, admin_ban): their sessions here are to be
    // sent a 403 with text and closed.
    virtual void kick_here(const std::string &user, const std::string &text) = 0;
    // Another worker has just written pending rows for user, who has sessions here: those
    // of the messages seqs (ascending) are to be pushed to those sessions now, not at the
    // user's next login.
    virtual void look_here(const std::string &user, std::vector<int64_t> seqs) = 0;

  protected:
    ~RouterEvents() = default;
};

class Router {
  public:
    virtual ~Router() = default;

    // This worker's sessions. A session that logged in is listed under its user and its
    // rooms (and the general chat), and the other workers are told before this returns (its login
    // is answered next, so a message sent to it afterwards from anywhere finds it online). A
    // session leaving is taken off the lists, and the others are told.
    virtual void add_session(Session &s) = 0;
    virtual void remove_session(Session &s) = 0;
    // The user joined or left a room: every session of theirs here, and its room list.
    virtual void join_room(const std::string &user, const std::string &room) = 0;
    virtual void leave_room(const std::string &user, const std::string &room) = 0;
    // The user's sessions here (empty when none).
    virtual std::span<Session *const> local_sessions(const std::string &user) const = 0;

    // Where users are, as far as this worker knows: online on some worker; how many
    // sessions they have on all of them (for max_sessions).
    virtual bool online_anywhere(std::string_view user) const = 0;
    virtual size_t sessions_of(const std::string &user) const = 0;
    // Reads what the other workers have sent already, now: called when a user looks
    // offline, since that user's login may have been answered elsewhere a moment ago.
    virtual void refresh() = 0;

    // A committed direct message, its push in jim's dialect: written to its user's sessions
    // here and handed to the workers where the user has others. False when it reached
    // nobody (the caller keeps it: keep_pending).
    virtual bool deliver(const std::string &user, const std::string &line, int64_t seq) = 0;
    // A committed direct message that reached nobody: kept as a pending row for the user's
    // next login. If by the time that row is written the user has logged in on another
    // worker, that worker is told to look (a login's own looks cover the first half second).
    virtual void keep_pending(const std::string &user, int64_t seq) = 0;
    // A committed room message: written to the room's members here but the sender's
    // session, and to every other worker for theirs.
    virtual void deliver_room(const std::string &room, const std::string &line,
                              uint64_t except_session) = 0;
    // The journal's commits up to last_ok have succeeded (Journal::last_ok): hand-overs kept
    // as pending rows in them can be confirmed.
    virtual void committed(uint64_t last_ok) = 0;

    // Tells every other worker to close user's sessions there, each told text in a 403
    // (the caller closes those here): sent to all, so a login answered a moment ago
    // elsewhere is not missed.
    virtual void kick(const std::string &user, const std::string &text) = 0;

    // The links to the other workers hold so much that readers should wait.
    virtual bool backed_up() const = 0;
    // A link to worker `peer` (a descriptor from the master).
    virtual void attach(int peer, int fd) = 0;
};

// Where the mesh router runs.
struct RouterSetup {
    event_base *base = nullptr;
    int self = 0;           // this worker's index
    int count = 1;          // workers in all (at most 64: the online masks are 64 bits)
    std::vector<int> peers; // link descriptors by worker index; -1 for none
    std::string general;    // the room every logged-in session is in ("" for none)
    jim_log *log = nullptr;
    std::string tag; // the module column of log lines
};

// The router over the socketpair mesh between the workers of one machine.
std::unique_ptr<Router> make_mesh_router(const RouterSetup &setup, Replies &replies,
                                         RouterEvents &events);

} // namespace jimd

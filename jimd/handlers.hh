// The protocol's actions. One table says which function answers each action and whether it
// needs a logged-in session (checked in one place, dispatch); the functions live in one
// file per family: handlers_login.cc, handlers_messages.cc, handlers_rooms.cc,
// handlers_contacts.cc, handlers_keys.cc, handlers_admin.cc. A handler sees the worker only through
// its Context: no SQL, no peer frames.
#pragma once

#include "counters.hh"
#include "helper.hh"
#include "journal.hh"
#include "replies.hh"
#include "router.hh"
#include "session.hh"
#include "settings.hh"

#include <jim/jim.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace jimd {

// What a handler may do to the worker's sessions beyond the one it answers.
class Sessions {
  public:
    // The session with this id, or null when it is gone (for work that finishes later).
    virtual Session *find(uint64_t id) = 0;
    // Ends a session: logged out, its connection closed once its output is written.
    virtual void close(Session &s) = 0;
    // Runs fn for the session id after ms milliseconds, if it is still there.
    virtual void later(uint64_t id, int ms, std::function<void(Session &)> fn) = 0;

  protected:
    ~Sessions() = default;
};

// What the admin actions may do to the whole server beyond the journal (the worker does it).
class Server {
  public:
    // Closes every session of user on every worker, each sent a 403 with text first.
    virtual void kick(const std::string &user, const std::string &text) = 0;
    // Changes a setting that a running jimd can take, on every worker and the master:
    // false with *why for an unknown name, a bad value or one that needs a restart.
    virtual bool set_setting(const std::string &name, const std::string &value,
                             std::string *why) = 0;
    // Every worker's counters summed, and how long jimd has run, in seconds.
    virtual CounterTotals totals(int64_t *uptime, int *workers) = 0;

  protected:
    ~Server() = default;
};

// Everything a handler works with.
struct Context {
    Journal &journal;
    Router &router;
    const Settings &settings;
    Helper &passwords; // the thread that hashes and checks passwords
    Replies &out;
    Sessions &sessions;
    Server &server;
    WorkerCounters &counters; // this worker's
    jim_log *log;
    const char *tag; // the module column of log lines
};

// One request: the object (valid during the call) and its id (null when it has none).
struct Request {
    jim_msg *msg;
    const char *id;
};

using HandlerFn = void (*)(Context &, Session &, const Request &);

// Handles one object from a session: a client's response is dropped; an unknown action
// gets 400, one that needs a login from a session without one 401; a request that comes
// after messages of the session not yet committed waits for them.
void dispatch(Context &cx, Session &s, jim_msg *m);
// Handles the request that waited for the commit of the session's messages.
void dispatch_waiting(Context &cx, Session &s);

// handlers_login.cc
void h_presence(Context &cx, Session &s, const Request &rq);
void h_authenticate(Context &cx, Session &s, const Request &rq);
void h_register(Context &cx, Session &s, const Request &rq);
void h_quit(Context &cx, Session &s, const Request &rq);
void h_probe_answer(Context &cx, Session &s, const Request &rq);
void h_not_yet(Context &cx, Session &s, const Request &rq);
// The pending stream of a login window has been sent (recheck: the second look).
void offline_delivery_done(Context &cx, Session &s, bool recheck);
// Another worker has just written pending rows for s's user (Router::keep_pending): s is
// sent those of the messages `only` (seqs, ascending) that the table still holds. The
// caller has committed the rows handed before (Journal::commit_now).
void look_again(Context &cx, Session &s, std::shared_ptr<const std::vector<int64_t>> only);

// handlers_messages.cc
void h_msg(Context &cx, Session &s, const Request &rq);
void h_sync(Context &cx, Session &s, const Request &rq);
void h_history(Context &cx, Session &s, const Request &rq);
// A message the journal has committed: routed, and its sender s (null: gone) answered.
void message_committed(Context &cx, Entry &e, Session *s);

// handlers_rooms.cc
void h_join(Context &cx, Session &s, const Request &rq);
void h_leave(Context &cx, Session &s, const Request &rq);
void h_get_rooms(Context &cx, Session &s, const Request &rq);

// handlers_contacts.cc
void h_get_contacts(Context &cx, Session &s, const Request &rq);
void h_add_contact(Context &cx, Session &s, const Request &rq);
void h_del_contact(Context &cx, Session &s, const Request &rq);
void h_get_users(Context &cx, Session &s, const Request &rq);

// handlers_keys.cc
void h_put_key(Context &cx, Session &s, const Request &rq);
void h_get_key(Context &cx, Session &s, const Request &rq);
// handlers_admin.cc (the admin role or the control socket is checked by dispatch)
void h_admin_users(Context &cx, Session &s, const Request &rq);
void h_admin_stats(Context &cx, Session &s, const Request &rq);
void h_admin_kick(Context &cx, Session &s, const Request &rq);
void h_admin_ban(Context &cx, Session &s, const Request &rq);
void h_admin_unban(Context &cx, Session &s, const Request &rq);
void h_admin_set(Context &cx, Session &s, const Request &rq);
void h_admin_add_user(Context &cx, Session &s, const Request &rq);
void h_admin_password(Context &cx, Session &s, const Request &rq);
void h_admin_role(Context &cx, Session &s, const Request &rq);
// handlers_login.cc: a user changes their own password.
void h_set_password(Context &cx, Session &s, const Request &rq);

// The most entries of a room or user list.
constexpr int64_t kMaxListed = 500;

} // namespace jimd

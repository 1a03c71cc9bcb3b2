// A client's session: the JIM-level state of one connection — who is logged in, their
// rooms and contacts, the dialect they read, their message rate, the long reply being
// produced for them, and which messages were handed to them around their login.
#pragma once

#include "connection.hh"
#include "name_set.hh"

#include <jim/jim.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

namespace jimd {

class Session;
class Stream;

// Who hears what a session's connection reports: the worker.
class SessionHost {
  public:
    virtual void on_request(Session &s, jim_msg *m) = 0;
    virtual void on_bad_object(Session &s, jim_msg *m, const char *why, bool fatal) = 0;
    virtual void on_peer_closed(Session &s) = 0;
    virtual void on_output_drained(Session &s) = 0;
    virtual void on_finished(Session &s) = 0;

  protected:
    ~SessionHost() = default;
};

// Frees a jim_msg (for unique_ptr).
struct MsgFree {
    void operator()(jim_msg *m) const { jim_msg_free(m); }
};

class Session final : public Connection::Owner {
  public:
    Session(uint64_t id, std::string ip, ConnectionLoop &loop, SessionHost &host);
    ~Session();
    Session(const Session &) = delete;
    Session &operator=(const Session &) = delete;

    const uint64_t id;
    const std::string ip;
    Connection conn;

    // Login state.
    std::string user;
    int64_t user_id = 0;
    int64_t general_since = 0; // the general chat's messages after this seq
    LazyNameSet rooms;         // rooms the user joined (everyone is in the general chat besides)
    LazyNameSet contacts;      // the user's contact list

    // Requests.
    double tokens = 0; // msg_rate token bucket
    int64_t tokens_at_us = 0;
    int64_t accepted_us = 0;
    int64_t probed_at_us = 0; // when a probe was sent that no input has answered yet
    // A request that came after messages of this session not yet committed: it is handled
    // once they are, so that answers keep the order of the requests.
    std::unique_ptr<jim_msg, MsgFree> waiting;
    std::unique_ptr<Stream> stream; // a long reply in progress
    int in_batch = 0;               // messages of this session in the journal's uncommitted batch

    jim_dialect dialect = JIM_DIALECT_JIM; // dialect of objects sent to it
    // The flags, together (an idle session is mostly this struct: see doc/design.md).
    bool logged_in = false;
    bool ndjson = false; // reads a stream: no pacing, gets pushes
    // A connection to the local control socket: admin actions without a login.
    bool control = false;
    bool ended = false;    // closed: logged out, its connection closing
    bool pump_due = false; // the stream's next pages are sent at the loop's next turn

    // Around login a direct message can be found by the offline queries (at login and half
    // a second later) and also arrive live from another worker: in that window the seqs the
    // queries pushed, and those handed live that a query could still find, are remembered.
    // False when seq was handed already; otherwise true, and seq is remembered if asked.
    bool first_handing(int64_t seq, bool remember);
    void start_tracking() { tracking_handed = true; }
    // Stops remembering (and forgets).
    void stop_tracking();
    bool tracking() const { return tracking_handed; }
    bool handed_any() const { return handed && !handed->empty(); }
    bool rechecked = false; // the second query has run: live hand-overs need no record

  private:
    void on_request(jim_msg *m) override;
    void on_bad_object(jim_msg *m, const char *why, bool fatal) override;
    void on_peer_closed() override;
    void on_output_drained() override;
    void on_finished() override;

    bool tracking_handed = false;
    SessionHost &host_;
    std::unique_ptr<std::unordered_set<int64_t>> handed; // made on the first remembered seq
};

} // namespace jimd

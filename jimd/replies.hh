// What goes to a session: responses echoing a request's id, list entries, and pushed
// messages, each encoded in the dialect that session reads. A push is encoded once in
// jim's form and once in the course's form, however many sessions read it.
#pragma once

#include "counters.hh"
#include "journal.hh"
#include "room_run.hh"
#include "session.hh"

#include <jim/jim.h>

#include <string>
#include <string_view>
#include <vector>

namespace jimd {

class Replies {
  public:
    explicit Replies(const jim_limits *limits) : limits_(limits) {}
    ~Replies();
    Replies(const Replies &) = delete;
    Replies &operator=(const Replies &) = delete;
    // False: out of memory.
    bool start();
    // Counts pushes (messages out), deliveries and error responses (400 and up, by code)
    // into c.
    void count_into(WorkerCounters *c) { counters_ = c; }

    // A response echoing the request id (none when id is null or empty), sent at once.
    void reply(Session &s, const char *id, int code, const char *text = nullptr);
    // The same with retry_after, for a 429.
    void reply_retry(Session &s, const char *id, int code, const char *text, int64_t retry_after);
    // A response to fill in further, then send(); valid until the next call here.
    jim_msg *response(const char *id, int code, const char *text = nullptr);
    // An action object (a list entry, a probe) to fill in, then send().
    jim_msg *object(jim_action action);
    // Encodes m in the session's dialect and queues it.
    void send(Session &s, jim_msg *m);
    // The answer to a stored message (code 200 or 202, its seq), from a template (ack_line)
    // when it can be: the same bytes as response() + seq + send().
    void ack(Session &s, const char *id, int code, const char *text, int64_t seq);

    // The push of m in jim's dialect, in a buffer reused by the next call.
    const std::string &push_line(const StoredMessage &m);
    // Writes a push made by push_line (here or on another worker) to s, in its dialect.
    void push(Session &s, std::string_view jim_line);
    void push(Session &s, const StoredMessage &m) { push(s, push_line(m)); }
    // A push that delivers the message to its recipient (live, or pending at login), not a
    // replay (sync, history): counted as a delivery too.
    void deliver(Session &s, std::string_view jim_line);
    void deliver(Session &s, const StoredMessage &m) { deliver(s, push_line(m)); }

    // Between begin_runs() and end_runs() (a commit's messages, a read of mesh frames;
    // nested pairs count as one), room lines to the same members one after another, each
    // with its sender's ack, are held (RoomRun) and written member by member when anything
    // else is written, at flush_run() or at the last end_runs(). Outside: at once.
    void begin_runs() { runs_++; }
    void end_runs()
    {
        if (--runs_ == 0)
            end_run();
    }
    // Writes the run held now (before a room's member list changes).
    void flush_run() { end_run(); }
    // Delivers a room line to members (a room's list here: whoever changes it calls
    // flush_run() first), but not to the session except (its sender).
    void deliver_room(const std::vector<Session *> &members, std::string_view jim_line,
                      uint64_t except);

  private:
    // Writes the run held, if any (before anything else is written).
    void end_run()
    {
        if (!run_.empty())
            write_run();
    }
    void write_run();
    void write_run_line(Session &s, size_t i);
    void push_now(Session &s, std::string_view jim_line);
    void send_now(Session &s, jim_msg *m);

    const jim_limits *limits_;
    WorkerCounters *counters_ = nullptr;
    jim_msg *out_ = nullptr;              // the response or object being built
    jim_msg *tmp_ = nullptr;              // push_line's and the course form's
    std::string line_;                    // push_line's output
    std::string course_of_, course_line_; // the last push converted, and its course form
    int runs_ = 0;                        // begin_runs() not yet ended
    RoomRun run_;
    std::vector<uint64_t> served_;   // write_run's: the senders it wrote to as members
    std::vector<Session *> by_line_; // write_run's: members paced or in the course's dialect
};

} // namespace jimd

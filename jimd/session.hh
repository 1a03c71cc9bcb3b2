// One client connection of a worker: its socket, framer, output queue and login state.
#pragma once

#include <jim/jim.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace jimd {

class Worker;

// A long reply produced as the client reads it, a page at a time: the messages of a
// sync, or those kept for the user while offline (at login, and the second look half a
// second later). While one runs, the session's next requests wait.
struct Stream {
    enum class Kind { Sync, Pending } kind = Kind::Sync;
    int64_t cursor = 0;     // the last seq sent
    std::string request_id; // Sync: the id its final 200 echoes
    bool recheck = false;   // Pending: the second look
};

struct Session {
    uint64_t id = 0;
    Worker *worker = nullptr;
    int fd = -1;
    std::string ip;
    event *read_ev = nullptr;
    event *write_ev = nullptr;
    event *pace_ev = nullptr; // legacy pacing: one object per tick
    evbuffer *out = nullptr;
    std::vector<std::string> paced; // objects waiting for the next pacing tick, from
                                    // paced_head on (no deque: an empty one allocates half
                                    // a kilobyte)
    size_t paced_head = 0;
    size_t paced_bytes = 0;  // bytes in paced from paced_head on
    int64_t paced_at_us = 0; // when the last paced object was written
    int64_t pacing_us = 0;   // legacy_pacing_ms, in microseconds
    jim_framer *framer = nullptr;

    // Login state.
    bool logged_in = false;
    std::string user;
    int64_t user_id = 0;
    int64_t general_since = 0; // the general chat's messages after this seq are the user's
    bool admin = false;
    bool ndjson = false;                      // reads a stream: no pacing, gets pushes
    jim_dialect dialect = JIM_DIALECT_JIM;    // dialect of objects sent to it
    std::unordered_set<std::string> rooms;    // rooms the user is in, the general chat too
    std::unordered_set<std::string> contacts; // the user's contact list

    // Flow.
    bool paused = false;            // waiting for a password check: leave input in the framer
    bool output_held = false;       // too much output waiting: requests wait until it drains
    bool throttled = false;         // the mesh is backed up: not read until it drains
    bool reading = false;           // read_ev is armed
    std::unique_ptr<Stream> stream; // a long reply in progress
    bool closing = false;           // close once the output is written
    bool dirty = false;             // has output waiting for this iteration's flush
    int in_batch = 0;               // messages of this session in the uncommitted batch
    double tokens = 0;              // msg_rate token bucket
    int64_t tokens_at_us = 0;
    int64_t accepted_us = 0;
    int64_t last_input_us = 0;
    bool probed = false;

    // Around login a direct message can be found by the offline queries (at login and
    // half a second later) and also arrive live from another worker: in that window the
    // seqs the queries pushed, and those handed live that a query could still find, are
    // remembered.
    std::unordered_set<int64_t> handed;
    bool tracking_handed = false;
    bool rechecked = false; // the second query has run: live hand-overs need no record

    ~Session();
    // Queues one encoded object (ending in '\n') for the client.
    void send(std::string_view line);
    // Asks for the output to be written at the end of this loop iteration.
    void flush_soon();
    // Bytes queued for the client: in the output buffer and waiting for pacing.
    size_t output_bytes() const { return evbuffer_get_length(out) + paced_bytes; }
};

} // namespace jimd

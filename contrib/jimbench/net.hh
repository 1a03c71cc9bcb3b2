// jimbench's connections: non-blocking sockets with line-oriented input and buffered output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace jimbench {

// Nanoseconds on the monotonic clock.
int64_t now_ns();

// jimbench's own CPU time so far, user and system, in seconds.
double own_cpu_seconds();

// One TCP connection with an input buffer cut into lines and an output buffer.
struct Conn {
    int fd = -1;
    int index = 0;       // the workload's own number for it
    std::string in, out; // unparsed input; unsent output
    size_t in_off = 0;   // first unparsed byte of `in`
    bool want_write = false;

    // Queues text; writes at once when nothing is waiting. False when the peer is gone.
    bool send(std::string_view s);
    // Writes what is queued; false on error.
    bool flush();
    // Reads what is there; false on EOF or error.
    bool fill();
    // The next complete line (without '\n'), or false.
    bool line(std::string_view *out);
};

// Connects to 127.0.0.1:port (non-blocking after the connect); -1 on failure.
int connect_loopback(int port);
// Listens on 127.0.0.1 on any free port; returns the fd and sets *port.
int listen_loopback(int *port);
// Raises the open-file limit to the hard limit.
void raise_fd_limit();

} // namespace jimbench

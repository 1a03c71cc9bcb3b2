// The channel between the master and each worker: a SOCK_SEQPACKET socketpair carrying
// small typed, versioned frames; a frame may carry one descriptor (SCM_RIGHTS).
#pragma once

#include <cstdint>

namespace jimd {

enum class Control : uint8_t {
    PeerLink = 1, // master -> worker: arg = a worker's index; the frame carries the link's fd
    Ready = 2,    // worker -> master: arg = the worker's index; it has started and listens
};

constexpr uint8_t kControlVersion = 1;

// One frame as it travels.
struct ControlFrame {
    uint8_t version = kControlVersion;
    Control type = Control::Ready;
    uint16_t reserved = 0;
    uint32_t arg = 0;
};

// Makes the socketpair (SOCK_SEQPACKET, close-on-exec); false with errno set.
bool control_pair(int fds[2]);
// Sends a frame, with pass_fd attached when it is >= 0; false with errno set.
bool control_send(int fd, Control type, uint32_t arg, int pass_fd = -1);
// Receives one frame. 1: a frame (its descriptor, if any, in *passed, else -1); 0: the
// other end is gone; -1: nothing now (EAGAIN/EINTR) or an error; -2: a frame of another
// version or size, which the caller ignores (a descriptor it carried is closed).
int control_recv(int fd, ControlFrame *frame, int *passed);

} // namespace jimd

// The channel between the master and each worker: a SOCK_SEQPACKET socketpair carrying one
// peer-protocol frame per packet (peer_protocol.hh: Ready, PeerLink, Set); a packet may carry
// one descriptor (SCM_RIGHTS).
#pragma once

#include "peer_protocol.hh"

#include <cstdint>
#include <string>

namespace jimd {

// One control frame as received: its type, and the worker index (Ready, PeerLink) or the
// setting (Set) it carries.
struct ControlFrame {
    peer::Type type = peer::Type::Ready;
    uint32_t worker = 0;
    std::string name, value;
};

// Makes the socketpair (SOCK_SEQPACKET, close-on-exec); false with errno set.
bool control_pair(int fds[2]);
// Sends a frame, with pass_fd attached when it is >= 0; false with errno set.
bool control_send(int fd, const peer::Ready &f);
bool control_send(int fd, const peer::PeerLink &f, int pass_fd);
bool control_send(int fd, const peer::Set &f);
// Receives one frame. 1: a frame (its descriptor, if any, in *passed, else -1); 0: the
// other end is gone; -1: nothing now (EAGAIN/EINTR) or an error; -2: a packet that is not
// a control frame of this version, which the caller ignores (a descriptor it carried is
// closed).
int control_recv(int fd, ControlFrame *frame, int *passed);

} // namespace jimd

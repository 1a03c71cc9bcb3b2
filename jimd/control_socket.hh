// The local control socket (setting control_socket): a Unix stream socket, mode 0600, over
// which root and jimd's own user speak the admin actions of doc/protocol.md §8 without
// logging in (jimctl). The master makes it once it runs as its user; the workers accept on
// it like on the TCP port, and check each peer's uid.
#pragma once

#include "settings.hh"

#include <string>
#include <sys/types.h>

namespace jimd {

// Where the socket goes: the setting, or when it is empty the database's path with .ctl in
// place of its extension (var/jimd.db: var/jimd.ctl); "" for none (the setting "none").
std::string control_socket_path(const Settings &settings);
// Makes the listening socket at path (mode 0600), replacing a socket left there by a jimd
// that died (the caller holds path.lock, so no live jimd owns it); a file that is not a
// socket is left alone. The descriptor, or -1 with *why.
int control_socket_open(const std::string &path, std::string *why);
// Whether the peer of a connection accepted on it may use it: root, or the user jimd runs
// as (SO_PEERCRED). *uid gets the peer's uid (-1 when unknown).
bool control_peer_allowed(int fd, long *uid);

} // namespace jimd

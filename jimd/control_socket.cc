// The local control socket (control_socket.hh).
#include "control_socket.hh"

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace jimd {

std::string control_socket_path(const Settings &settings)
{
    const std::string &set = settings.str(S_CONTROL_SOCKET);
    if (set == "none")
        return "";
    if (!set.empty())
        return set;
    std::string db = settings.str(S_DATABASE);
    size_t slash = db.rfind('/'), dot = db.rfind('.');
    if (dot != std::string::npos && (slash == std::string::npos || dot > slash + 1))
        db.erase(dot);
    return db + ".ctl";
}

int control_socket_open(const std::string &path, std::string *why)
{
    sockaddr_un sa = {};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path) {
        *why = "control socket " + path + ": path too long";
        return -1;
    }
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    struct stat st;
    if (lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            *why = "control socket " + path + ": exists and is not a socket";
            return -1;
        }
        unlink(path.c_str()); // left by a jimd that died: the caller holds its lock
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    mode_t old = umask(077); // no moment with wider permissions
    bool ok = fd >= 0 && bind(fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa) == 0 &&
              chmod(path.c_str(), 0600) == 0 && listen(fd, 64) == 0;
    umask(old);
    if (!ok) {
        *why = "control socket " + path + ": " + strerror(errno);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

bool control_peer_allowed(int fd, long *uid)
{
    ucred cred = {};
    socklen_t len = sizeof cred;
    *uid = -1;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return false;
    *uid = static_cast<long>(cred.uid);
    return cred.uid == 0 || cred.uid == geteuid();
}

} // namespace jimd

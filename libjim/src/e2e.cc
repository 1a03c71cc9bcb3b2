// jim::E2e (e2e.hh): the key pair and the pinned keys on disk, and each peer's state.
//
// Files in the key directory (the store's, by default), both mode 0600:
//   e2e_key   the account's X25519 private key, base64, on the first line that is not a
//             comment; never sent, never logged;
//   e2e_pins  one line per peer: its name, a space, its pinned public key in base64.
// Both are written whole to a temporary file that is then renamed over the old one.
#include "e2e.hh"
#include "client_store.hh"

#include <openssl/crypto.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace jim {

namespace {

// Writes text to path through a temporary file (mode 0600), synced, then renamed over it;
// or, exclusive, linked to path only if there is none (false with errno EEXIST otherwise).
bool write_private(const std::string &path, const std::string &text, std::string *why,
                   bool exclusive = false)
{
    std::string tmp = path + ".tmp." + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        *why = "cannot write " + tmp + ": " + std::strerror(errno);
        return false;
    }
    size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *why = "cannot write " + tmp + ": " + std::strerror(errno);
            ::close(fd);
            ::unlink(tmp.c_str());
            return false;
        }
        done += static_cast<size_t>(n);
    }
    bool ok = ::fchmod(fd, 0600) == 0 && ::fsync(fd) == 0;
    ok = ::close(fd) == 0 && ok;
    if (ok && exclusive) {
        ok = ::link(tmp.c_str(), path.c_str()) == 0;
        int e = errno;
        ::unlink(tmp.c_str());
        errno = e;
        if (!ok)
            *why = "cannot write " + path + ": " + std::strerror(errno);
        return ok;
    }
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
        *why = "cannot write " + path + ": " + std::strerror(errno);
        ::unlink(tmp.c_str());
        return false;
    }
    return true;
}

// The lines of a file that are not empty and not comments; false when it cannot be read
// (*exists false when it is not there at all: no error).
bool read_lines(const std::string &path, std::vector<std::string> &lines, bool *exists,
                std::string *why)
{
    FILE *f = std::fopen(path.c_str(), "re");
    *exists = f != nullptr || errno != ENOENT;
    if (!f) {
        if (*exists)
            *why = "cannot read " + path + ": " + std::strerror(errno);
        return !*exists;
    }
    char *buf = nullptr;
    size_t cap = 0;
    ssize_t n;
    while ((n = ::getline(&buf, &cap, f)) >= 0) {
        std::string line(buf, static_cast<size_t>(n));
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
            line.pop_back();
        if (!line.empty() && line[0] != '#')
            lines.push_back(std::move(line));
    }
    if (buf)
        OPENSSL_cleanse(buf, cap);
    std::free(buf);
    std::fclose(f);
    return true;
}

// The key pair kept in path; false with *why (*exists false: there is none).
bool load_key(const std::string &path, e2e::KeyPair &kp, bool *exists, std::string *why)
{
    std::vector<std::string> lines;
    if (!read_lines(path, lines, exists, why) || !*exists)
        return false;
    bool ok = !lines.empty() && e2e::key_from_base64(lines[0], kp.priv) &&
              e2e::public_of(kp.priv, kp.pub);
    for (std::string &l : lines)
        OPENSSL_cleanse(l.data(), l.size());
    if (!ok) {
        *why = path + " holds no X25519 private key";
        return false;
    }
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077))
        ::chmod(path.c_str(), 0600); // a private key is for its owner alone
    return true;
}

} // namespace

bool E2e::use_dir(const std::string &dir, bool *made, bool *replaced, std::string *why)
{
    *made = *replaced = false;
    if (dir.empty()) {
        dir_.clear();
        return true;
    }
    if (!make_dirs(dir)) {
        *why = "cannot create " + dir + ": " + std::strerror(errno);
        return false;
    }
    std::string key_path = dir + "/e2e_key";
    auto kp = std::make_unique<e2e::KeyPair>();
    bool exists = false;
    if (!load_key(key_path, *kp, &exists, why) && exists)
        return false;
    if (!exists) {
        // None yet: keep the pair in use, or make one. Another client of this account
        // starting at the same moment may make one too: the first one written wins, and
        // the other client takes it.
        if (self_) {
            *kp = *self_;
        } else if (!e2e::generate(*kp)) {
            *why = "cannot make an X25519 key pair";
            return false;
        }
        std::string text = "# jim: the end-to-end private key of this account (doc/protocol.md "
                           "section 7). Keep it secret.\n" +
                           e2e::key_base64(kp->priv) + "\n";
        bool ok = write_private(key_path, text, why, true);
        OPENSSL_cleanse(text.data(), text.size());
        if (ok)
            *made = !self_;
        else if (errno != EEXIST || !load_key(key_path, *kp, &exists, why))
            return false;
    }
    *replaced = self_ && self_->pub != kp->pub;
    self_ = std::move(kp);
    std::string old_dir = dir_;
    dir_ = dir;
    std::map<std::string, e2e::Key, std::less<>> session_pins;
    session_pins.swap(pins_);
    if (!load_pins(why)) {
        dir_ = old_dir;
        pins_.swap(session_pins);
        return false;
    }
    // Pins made while the keys were in memory only join the directory's (which win).
    bool more = false;
    for (const auto &[peer, key] : session_pins)
        more |= pins_.emplace(peer, key).second;
    return !more || save_pins(why);
}

bool E2e::ensure_key(bool *made, std::string *why)
{
    *made = false;
    if (self_)
        return true;
    if (!dir_.empty()) {
        bool replaced;
        return use_dir(dir_, made, &replaced, why);
    }
    self_ = std::make_unique<e2e::KeyPair>();
    if (!e2e::generate(*self_)) {
        self_.reset();
        *why = "cannot make an X25519 key pair";
        return false;
    }
    *made = true;
    return true;
}

bool E2e::load_pins(std::string *why)
{
    std::vector<std::string> lines;
    bool exists = false;
    if (!read_lines(path("e2e_pins"), lines, &exists, why))
        return false;
    for (const std::string &l : lines) {
        size_t sp = l.find(' ');
        e2e::Key k;
        if (sp == std::string::npos || !e2e::key_from_base64(l.substr(sp + 1), k))
            continue; // a damaged line pins nothing: that peer is asked again
        pins_[l.substr(0, sp)] = k;
    }
    return true;
}

bool E2e::save_pins(std::string *why)
{
    if (dir_.empty())
        return true;
    std::string text = "# jim: peers' end-to-end public keys, pinned on first use\n";
    for (const auto &[peer, key] : pins_)
        text += peer + " " + e2e::key_base64(key) + "\n";
    return write_private(path("e2e_pins"), text, why);
}

namespace {

int64_t steady_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// How long "no key published" holds before the server is asked again.
constexpr int64_t kNoneForMs = 60000;

} // namespace

E2e::Peer E2e::state(std::string_view peer) const
{
    auto it = peers_.find(peer);
    if (it == peers_.end())
        return Peer::Unknown;
    if (it->second.state == Peer::None && steady_ms() - it->second.none_at_ms > kNoneForMs)
        return Peer::Unknown;
    return it->second.state;
}

E2e::Peer E2e::learned(const std::string &peer, const e2e::Key *key, bool *pinned_now,
                       std::string *why)
{
    *pinned_now = false;
    PeerInfo &p = peers_[peer];
    p.has_published = key != nullptr;
    if (!key) {
        p.state = Peer::None;
        p.none_at_ms = steady_ms();
        return p.state;
    }
    p.published = *key;
    auto pin = pins_.find(peer);
    if (pin == pins_.end()) {
        pins_[peer] = *key;
        *pinned_now = true;
        save_pins(why);
        p.state = Peer::Trusted;
    } else {
        p.state = pin->second == *key ? Peer::Trusted : Peer::Changed;
    }
    return p.state;
}

bool E2e::first_news_of_change(const std::string &peer)
{
    auto it = peers_.find(peer);
    if (it == peers_.end() || it->second.state != Peer::Changed)
        return false;
    PeerInfo &p = it->second;
    if (p.change_told && p.told == p.published)
        return false;
    p.change_told = true;
    p.told = p.published;
    return true;
}

void E2e::unasked(const std::string &peer)
{
    auto it = peers_.find(peer);
    if (it != peers_.end() && it->second.state == Peer::Asking)
        it->second.state = Peer::Unknown;
}

void E2e::forget_session()
{
    for (auto &[name, p] : peers_)
        if (p.state != Peer::Asking) // its answer is still to come
            p.state = Peer::Unknown;
    unavailable_ = false;
}

bool E2e::trust(const std::string &peer, std::string *why)
{
    auto it = peers_.find(peer);
    if (it == peers_.end() || !it->second.has_published) {
        *why = "no published key of " + peer + " is known";
        return false;
    }
    pins_[peer] = it->second.published;
    it->second.state = Peer::Trusted;
    return save_pins(why);
}

bool E2e::pinned(const std::string &peer, e2e::Key &out) const
{
    auto it = pins_.find(peer);
    if (it == pins_.end())
        return false;
    out = it->second;
    return true;
}

bool E2e::published(const std::string &peer, e2e::Key &out) const
{
    auto it = peers_.find(peer);
    if (it == peers_.end() || !it->second.has_published)
        return false;
    out = it->second.published;
    return true;
}

void E2e::set_enabled(const char *peer, bool on)
{
    if (!peer) {
        all_on_ = on;
        toggled_.clear();
    } else if (on == all_on_) {
        toggled_.erase(peer);
    } else {
        toggled_.insert(peer);
    }
}

bool E2e::enabled(std::string_view peer) const
{
    return all_on_ != (toggled_.count(peer) > 0);
}

} // namespace jim

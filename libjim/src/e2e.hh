// jim::E2e, what one client knows for end-to-end encryption (doc/protocol.md §7): its own
// key pair (kept in a directory, mode 0600, or in memory only), the peers' keys it pinned
// on first use (kept beside it), what the server said about each peer's key this session,
// and which conversations are sent encrypted. The client asks the server (put_key,
// get_key) and hands the answers in; this class does no network I/O.
#pragma once

#include "e2e_crypto.hh"

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

namespace jim {

class E2e {
  public:
    // What this session knows of a peer's key.
    enum class Peer {
        Unknown, // not asked this session
        Asking,  // a get_key is on its way
        None,    // the peer has published no key (asked again after a minute: it may publish)
        Trusted, // the published key is the pinned one (first use pinned it)
        Changed  // the published key is not the pinned one: not used until trusted
    };

    // Keeps keys in dir from now on (empty: memory only). Loads the key pair kept there; a
    // directory without one keeps the pair in use, or a new one. *replaced: the pair in use
    // changed (publish it again); *made: a new pair was made. False with *why.
    bool use_dir(const std::string &dir, bool *made, bool *replaced, std::string *why);
    // A key pair for this session when there is none yet (made in memory, or loaded or
    // made in the directory). *made: a new one was made.
    bool ensure_key(bool *made, std::string *why);
    bool has_key() const { return self_ != nullptr; }
    const e2e::KeyPair &self() const { return *self_; }
    bool memory_only() const { return dir_.empty(); }
    const std::string &dir() const { return dir_; }

    Peer state(std::string_view peer) const;
    void asking(const std::string &peer) { peers_[peer].state = Peer::Asking; }
    // A get_key answer: key, or null for none. Pins a key seen first (*pinned_now); a
    // pin that cannot be saved is still used this session (*why says so).
    Peer learned(const std::string &peer, const e2e::Key *key, bool *pinned_now, std::string *why);
    // True the first time a peer's changed key is seen (once per new key): tell it then.
    bool first_news_of_change(const std::string &peer);
    // A get_key that got no answer: ask again later.
    void unasked(const std::string &peer);
    // A new login: ask again about every peer (pins stay).
    void forget_session();
    // Pins the peer's published key; false when none is known (*why).
    bool trust(const std::string &peer, std::string *why);
    // The pinned and the published key of a peer; false when there is none.
    bool pinned(const std::string &peer, e2e::Key &out) const;
    bool published(const std::string &peer, e2e::Key &out) const;

    // The server serves no keys (put_key refused): nothing is encrypted.
    bool unavailable() const { return unavailable_; }
    void set_unavailable(bool u) { unavailable_ = u; }

    // Encryption of messages sent to peer (all peers when peer is null); default on.
    void set_enabled(const char *peer, bool on);
    bool enabled(std::string_view peer) const;

  private:
    struct PeerInfo {
        Peer state = Peer::Unknown;
        bool has_published = false;
        e2e::Key published{};
        bool change_told = false; // that `told` key was reported as a change
        e2e::Key told{};
        int64_t none_at_ms = 0; // when the server said there is no key (steady clock)
    };
    bool load_pins(std::string *why);
    bool save_pins(std::string *why);
    std::string path(const char *name) const { return dir_ + "/" + name; }

    std::string dir_;
    std::unique_ptr<e2e::KeyPair> self_;
    // Transparent maps: a lookup on the send path makes no std::string.
    std::map<std::string, e2e::Key, std::less<>> pins_;
    std::map<std::string, PeerInfo, std::less<>> peers_;
    std::set<std::string, std::less<>> toggled_; // peers whose setting is not all_on_
    bool all_on_ = true;
    bool unavailable_ = false;
};

} // namespace jim

// The crash loop's load: sessions of the load's users on non-blocking sockets, driven from
// one poll loop, sending direct messages (to users online and offline, some on other
// workers), room messages, messages that must be refused, syncs, log-outs and log-ins.
#pragma once

#include "ledger.hh"

#include <jim/jim.h>

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace crash {

struct LoadConfig {
    std::vector<std::string> online;  // users with sessions during the load (two each)
    std::vector<std::string> offline; // users who receive direct messages, never log in
    std::string room;                 // every online user is a member
    std::string locked_room;          // no online user is: a message there is a 403
    size_t text_chars = 40;           // length of each message's text
    double rate = 2000;               // messages per second, all sessions together
};

class Load {
  public:
    Load(int port, int round, Ledger &ledger, std::mt19937_64 &rnd, LoadConfig cfg);
    ~Load();
    Load(const Load &) = delete;
    Load &operator=(const Load &) = delete;
    // Runs the load for `seconds`; `tick` is called every few milliseconds and may end the
    // run early by returning false.
    void run(double seconds, const std::function<bool()> &tick);
    // Pipelines n messages on one session of `user` (made for it when the user has none), to
    // `to`, or (empty) to targets chosen as the mix says: one large commit. Returns once they
    // are all written to the socket.
    void burst(const std::string &user, int n, const std::string &to);
    // Stops sending and waits (at most `seconds`) for every answer; then logs everyone out.
    void finish(double seconds);
    long sent() const { return sent_; }

  private:
    struct Session;
    void connect(Session &s);
    void lost(Session &s);
    void send_one(Session &s, const std::string &to = "");
    void read(Session &s);
    void on_object(Session &s, const jim_msg *m);
    void step(int timeout_ms, bool sending);
    std::string text_for(const std::string &id);

    int port_, round_;
    Ledger &ledger_;
    std::mt19937_64 &rnd_;
    LoadConfig cfg_;
    std::vector<Session *> sessions_;
    jim_msg *msg_ = nullptr;
    long sent_ = 0;
    int64_t started_ns_ = 0;
};

// Nanoseconds on the monotonic clock.
int64_t now_ns();

} // namespace crash

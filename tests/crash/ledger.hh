// The crash loop's ledger: every message the load sent, what the server answered, and the
// check of what each user finds afterwards against it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace crash {

// What became of a message as its sender saw it.
enum class Fate {
    InFlight, // sent, no answer yet
    Acked,    // 200 or 202 with a seq: must be there, once, for each recipient
    Refused,  // 4xx or 5xx: must be nowhere
    Unknown   // the connection died before the answer: there once, or not at all
};

struct Entry {
    std::string from, to; // to: a user or a "#room"
    int round = 0;
    Fate fate = Fate::InFlight;
    int code = 0;
    int64_t seq = 0;
};

// What one user found: the messages of its `sync since 0`, and (a user that was offline
// during the load) those pushed at its login.
struct Found {
    std::unordered_map<std::string, int> synced;  // id -> times
    std::unordered_map<std::string, int64_t> seq; // id -> seq as synced
    std::vector<std::string> pushed;              // ids, in the order pushed
};

// The totals a check adds up.
struct Tally {
    long acked = 0, refused = 0, unknown = 0, unknown_stored = 0;
    long checked = 0; // (message, user) pairs looked up
    long lost = 0, duplicated = 0, refused_present = 0, phantom = 0, wrong_seq = 0;
    long pushed_checked = 0, push_lost = 0, push_duplicated = 0;
    std::vector<std::string> examples; // a few problems, said in words
    void add(const Tally &t);
    bool clean() const;
};

class Ledger {
  public:
    // A new message from `from` to `to` in round r; returns its id (also its text's start).
    std::string add(int round, const std::string &from, const std::string &to);
    // The sender got `code` (and seq for 200/202).
    void answered(const std::string &id, int code, int64_t seq);
    // The sender's connection died with the message unanswered.
    void unanswered(const std::string &id);
    // Who must find a message: sender and recipient, or the room's members.
    void set_room(const std::string &room, const std::vector<std::string> &members);
    // Checks what every user found. push_users were offline during round `round`: each
    // message acked to them in that round must have been pushed once at their login, and
    // none that an earlier login was handed.
    Tally check(const std::map<std::string, Found> &found, int round,
                const std::vector<std::string> &push_users);
    size_t size() const { return entries_.size(); }

  private:
    std::vector<std::string> viewers(const Entry &e) const;
    std::unordered_map<std::string, Entry> entries_;
    std::unordered_map<std::string, std::vector<std::string>> rooms_;
    std::unordered_map<std::string, int> pushed_before_; // id -> logins that were handed it
    long next_ = 0;
};

} // namespace crash

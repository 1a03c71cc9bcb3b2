// The client-side store's one interface (the course's Storage) and its two makers:
// SQLite (store_sqlite.cc) and JSON-lines files (store_files.cc, the course's FileStorage).
#pragma once

#include "list.hh"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace jim {

class ClientStore {
  public:
    virtual ~ClientStore() = default;
    // The highest seq saved, 0 when none.
    virtual int64_t last_seq() const = 0;
    // Saves a msg with seq: 0 saved, 1 already there, < 0 a jim_error.
    virtual int save(const jim_msg &m) = 0;
    // Groups many saves (a burst read at once) into one write; may be no-ops.
    virtual void begin() {}
    virtual void commit() {}
    // The `limit` newest messages of a conversation below `before` (0: any), oldest first.
    virtual int history(const std::string &with, int64_t before, int limit, jim_list &out) = 0;
    // Contact names, in name order.
    virtual int contacts(std::vector<std::string> &out) = 0;
    // Replaces the whole contact list (after get_contacts).
    virtual int set_contacts(const std::vector<std::string> &names) = 0;
    virtual int add_contact(const std::string &name) = 0;
    virtual int del_contact(const std::string &name) = 0;

    // Outgoing messages the server has not answered yet (outbox.hh): each is kept, by its
    // client id, from the moment it is queued until the answer, so a later client sends it.
    virtual int add_outgoing(const std::string &id, std::string_view json) = 0;
    // The answer came (or the message was refused): forget it. An unknown id is no error.
    virtual int drop_outgoing(const std::string &id) = 0;
    // The kept ones as JSON lines, oldest first.
    virtual int outgoing(std::vector<std::string> &out) = 0;
};

// Both return nullptr, with *why saying why in one line, when the store cannot be
// opened or created.
std::unique_ptr<ClientStore> open_sqlite_store(const std::string &dir, std::string *why);
std::unique_ptr<ClientStore> open_file_store(const std::string &dir, std::string *why);

// Creates dir and its parents (mode 0700); false with errno on failure.
bool make_dirs(const std::string &dir);

// A message as both stores keep it: its seq and its JSON line (without the newline).
struct StoredLine {
    int64_t seq;
    std::string_view json;
};
// Checks that m is a msg with a seq and encodes it through scratch (json lives as long as
// scratch); false when m cannot be stored.
bool stored_line(const jim_msg &m, jim_msg &scratch, StoredLine *out);

// The conversation a msg belongs to, seen from either side: a room, or the pair
// (from, to) for direct messages — a store matches either name against `with`.
inline bool is_room(std::string_view name)
{
    return !name.empty() && name[0] == '#';
}

} // namespace jim

struct jim_store {
    std::unique_ptr<jim::ClientStore> impl;
    std::string dir; // where it lives: a client keeps its end-to-end keys there too
};

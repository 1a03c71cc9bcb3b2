// The outgoing queue of a client: every message it was asked to send, from the moment it
// is queued until the server has answered it, kept in memory and, with a store attached,
// in the store, so a message typed while the server is down is sent when it is back —
// also by a client started later. What became of the recently answered ones is kept
// for jim_client_outgoing_state().
#pragma once

#include "client_store.hh"
#include "message.hh"

#include <jim/client.h>

#include <deque>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

namespace jim {

class Outbox {
  public:
    struct Entry {
        std::string id;
        jim_msg msg;         // as sent: action msg, to, message and id
        bool queued = false; // the client has a request in flight for it
    };

    // Queues m (a msg with its id) as pending, in store too when there is one.
    // JIM_OK, or JIM_EIO when the store cannot keep it (then it is not queued).
    int add(const jim_msg &m, ClientStore *store);
    // Adds the store's pending messages that are not here yet, and returns those.
    std::vector<Entry *> load(ClientStore &store);
    // The server answered: the message leaves the queue (and the store) with state st;
    // false when id is not pending. out gets the message as it was queued.
    bool settle(const std::string &id, jim_outgoing_state st, ClientStore *store, jim_msg *out);
    // The pending entry with this id, or null.
    Entry *find(const std::string &id);
    // The pending entries, oldest first.
    std::vector<Entry *> pending();
    // The state of a pending or recently answered message; false when unknown.
    bool state(const std::string &id, jim_outgoing_state *out) const;

  private:
    // How many answered messages are remembered for state(): the oldest are forgotten.
    static constexpr size_t kRemembered = 1000;

    std::list<Entry> pending_;
    std::unordered_map<std::string, std::list<Entry>::iterator> by_id_;
    std::deque<std::string> answered_order_;
    std::unordered_map<std::string, jim_outgoing_state> answered_;
};

} // namespace jim

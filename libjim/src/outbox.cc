// jim::Outbox: the client's outgoing messages until the server answered them (outbox.hh).
#include "outbox.hh"

namespace jim {

int Outbox::add(const jim_msg &m, ClientStore *store)
{
    const char *id = jim_msg_get_str(&m, JIM_FIELD_ID);
    if (!id || by_id_.count(id))
        return JIM_EINVAL;
    Entry e{id, m, false};
    if (store) {
        const char *json;
        size_t len;
        if (jim_msg_encode(&e.msg, &json, &len) != JIM_OK ||
            store->add_outgoing(e.id, std::string_view(json, len - 1)) != JIM_OK)
            return JIM_EIO;
    }
    pending_.push_back(std::move(e));
    by_id_[pending_.back().id] = std::prev(pending_.end());
    return JIM_OK;
}

std::vector<Outbox::Entry *> Outbox::load(ClientStore &store)
{
    std::vector<std::string> lines;
    std::vector<Entry *> added;
    if (store.outgoing(lines) != JIM_OK)
        return added;
    for (const std::string &line : lines) {
        Entry e;
        if (jim_msg_decode(&e.msg, line.data(), line.size(), nullptr) != JIM_OK ||
            jim_msg_action(&e.msg) != JIM_ACTION_MSG || !jim_msg_has(&e.msg, JIM_FIELD_ID))
            continue; // not ours to fail on: a damaged row stays where it is
        e.id = jim_msg_get_str(&e.msg, JIM_FIELD_ID);
        if (by_id_.count(e.id) || answered_.count(e.id))
            continue;
        pending_.push_back(std::move(e));
        by_id_[pending_.back().id] = std::prev(pending_.end());
        added.push_back(&pending_.back());
    }
    return added;
}

bool Outbox::settle(const std::string &id, jim_outgoing_state st, ClientStore *store, jim_msg *out)
{
    auto it = by_id_.find(id);
    if (it == by_id_.end())
        return false;
    if (out)
        *out = it->second->msg;
    pending_.erase(it->second);
    by_id_.erase(it);
    if (store)
        store->drop_outgoing(id);
    if (answered_.emplace(id, st).second) {
        answered_order_.push_back(id);
        if (answered_order_.size() > kRemembered) {
            answered_.erase(answered_order_.front());
            answered_order_.pop_front();
        }
    }
    return true;
}

Outbox::Entry *Outbox::find(const std::string &id)
{
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : &*it->second;
}

std::vector<Outbox::Entry *> Outbox::pending()
{
    std::vector<Entry *> out;
    for (Entry &e : pending_)
        out.push_back(&e);
    return out;
}

bool Outbox::state(const std::string &id, jim_outgoing_state *out) const
{
    if (by_id_.count(id)) {
        *out = JIM_OUTGOING_PENDING;
        return true;
    }
    auto it = answered_.find(id);
    if (it == answered_.end())
        return false;
    *out = it->second;
    return true;
}

} // namespace jim

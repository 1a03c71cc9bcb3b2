// The client object model's controllers (chat.hh).
#include "chat.hh"

namespace jim {

void ChatController::incoming(const jim_msg &m)
{
    const char *from = jim_msg_get_str(&m, JIM_FIELD_FROM);
    const char *to = jim_msg_get_str(&m, JIM_FIELD_TO);
    std::string f = from ? from : "", t = to ? to : "";
    bool outgoing = !me_.empty() && f == me_;
    std::string with = (!t.empty() && t[0] == '#') || outgoing ? t : f;
    Chat &c = chats_[with];
    c.with = with;
    int64_t seq = 0;
    if (jim_msg_get_int(&m, JIM_FIELD_SEQ, &seq) == JIM_OK && seq > c.last_seq)
        c.last_seq = seq;
    c.messages++;
    view_.show_message(m, outgoing);
}

void ContactList::replace(const std::vector<std::pair<std::string, std::string>> &entries)
{
    status_.clear();
    for (const auto &[name, status] : entries)
        status_[name] = status;
}

bool ContactList::set_status(const std::string &name, const std::string &status)
{
    auto it = status_.find(name);
    if (it == status_.end())
        return false;
    it->second = status;
    return true;
}

void ContactController::presence(const std::string &user, const std::string &status)
{
    list_.set_status(user, status);
    view_.show_presence(user, status);
}

} // namespace jim

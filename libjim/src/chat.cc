// The client object model's controllers (chat.hh).
#include "chat.hh"

namespace jim {

void ChatController::incoming(const jim_msg &m)
{
    const char *from = jim_msg_get_str(&m, JIM_FIELD_FROM);
    view_.show_message(m, !me_.empty() && from && me_ == from);
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

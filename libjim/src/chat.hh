// The course's client object model, inside libjim: the chat controller shows messages
// through an abstract chat view; the
// contact list holds names and presence, the contact controller keeps it current and
// shows changes through an abstract contact list view. The C callbacks of jim_client are
// one pair of views (client.cc); a console or GUI program supplies its own through them.
#pragma once

#include <jim/message.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace jim {

// How a program shows conversations.
class ChatView {
  public:
    virtual ~ChatView() = default;
    virtual void show_message(const jim_msg &m, bool outgoing) = 0;
    virtual void show_error(int code, const std::string &text) = 0;
};

// How a program shows the contact list.
class ContactListView {
  public:
    virtual ~ContactListView() = default;
    virtual void show_presence(const std::string &user, const std::string &status) = 0;
};

// Shows each message through the view, as the user's own (sent from another session of the
// account) or someone else's.
class ChatController {
  public:
    explicit ChatController(ChatView &view) : view_(view) {}
    void set_account(const std::string &me) { me_ = me; }
    // A message arrived (already saved): show it.
    void incoming(const jim_msg &m);
    void error(int code, const std::string &text) { view_.show_error(code, text); }

  private:
    ChatView &view_;
    std::string me_;
};

// Contact names and what the server last said about their presence.
class ContactList {
  public:
    void replace(const std::vector<std::pair<std::string, std::string>> &entries);
    void add(const std::string &name) { status_.emplace(name, "offline"); }
    void remove(const std::string &name) { status_.erase(name); }
    // Records a status; false when the name is not a contact.
    bool set_status(const std::string &name, const std::string &status);
    const std::map<std::string, std::string> &entries() const { return status_; }

  private:
    std::map<std::string, std::string> status_;
};

// Keeps the contact list current from answers and presence pushes.
class ContactController {
  public:
    explicit ContactController(ContactListView &view) : view_(view) {}
    void presence(const std::string &user, const std::string &status);
    ContactList &list() { return list_; }

  private:
    ContactListView &view_;
    ContactList list_;
};

} // namespace jim

// main_window.hh — jim-qt's main window: contacts and rooms on the left, a tab per open
// conversation, the connection's state in the status bar.
#pragma once

#include <QLabel>
#include <QListView>
#include <QMainWindow>
#include <QTabWidget>

#include "chat_list_model.hh"
#include "chat_view.hh"
#include "session.hh"

namespace jimqt {

/** The main window over a logged-in session (owned). */
class MainWindow : public QMainWindow {
    Q_OBJECT
  public:
    explicit MainWindow(Session *session, QWidget *parent = nullptr);

    /** Opens (or brings to front) the conversation with a user or "#room". */
    ChatView *openChat(const QString &name);
    /** The open conversation with name, or NULL. */
    ChatView *findChat(const QString &name) const;
    /** The models and views, for whoever drives the window (tests, screenshots). */
    ChatListModel *contactsModel() const { return contacts_; }
    ChatListModel *roomsModel() const { return rooms_; }
    QListView *contactsView() const { return contactsView_; }
    QListView *roomsView() const { return roomsView_; }
    QTabWidget *tabs() const { return tabs_; }
    Session *session() const { return session_; }
    /** The text of the status bar's connection state. */
    QString stateText() const { return state_->text(); }
    /** Runs a `/`-command as typed in a compose box (with: the conversation it came from). */
    void runCommand(const QString &line, const QString &with);

    void addContact(const QString &name);
    void removeContact(const QString &name);
    void joinRoom(const QString &room);
    void leaveRoom(const QString &room);

  private:
    void buildActions();
    void incoming(const ChatMessage &m);
    void outgoing(const ChatMessage &m);
    void stateChanged(int state);
    void answered(const QString &what, const QString &name, bool ok, const QString &error);
    void keyChanged(const QString &peer, const QString &text);
    void tabChanged(int index);
    void contextMenu(QListView *view, const QPoint &pos);
    void note(const QString &text);
    QString roomsKey() const;
    void saveRooms();

    Session *session_;
    ChatListModel *contacts_;
    ChatListModel *rooms_;
    QListView *contactsView_;
    QListView *roomsView_;
    QTabWidget *tabs_;
    QLabel *state_;
    QStringList joined_;
};

} // namespace jimqt

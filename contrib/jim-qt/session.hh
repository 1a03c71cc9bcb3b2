// session.hh — jim-qt's one connection: a jim_client in libjim's own-loop mode, driven by
// QSocketNotifier and QTimer on the UI thread, its callbacks turned into Qt signals.
#pragma once

#include <jim/jim.h>

#include <QObject>
#include <QSocketNotifier>
#include <QString>
#include <QTimer>
#include <QVector>

#include <functional>
#include <thread>

namespace jimqt {

/** One message of a conversation, copied out of libjim's jim_msg. */
struct ChatMessage {
    qint64 seq = 0;  // the server's seq; 0 while pending
    QString id;      // the client's id of an outgoing message
    qint64 time = 0; // UNIX seconds
    QString from;    // the sender
    QString to;      // a user or "#room"
    QString text;    // the text (or the envelope when it could not be decrypted)
    bool outgoing = false;
    int state = -1; // a jim_outgoing_state for an outgoing message, -1 for a received one
    int e2e = JIM_E2E_PLAIN;
    QString e2eError;
};

/** A contact, as libjim's contact list has it. */
struct Contact {
    QString name;
    bool online = false;
};

/** How and as whom to log in. */
struct LoginOptions {
    QString host = QStringLiteral("127.0.0.1");
    int port = 7777;
    bool tls = false;
    QString caFile; // with tls: the authorities to trust; empty: the system's
    QString user;
    QString password;
    bool create = false; // register the account first
};

/** The conversation a message belongs to, seen from account: a "#room" or the other user. */
QString conversationOf(const ChatMessage &m, const QString &account);

/**
 * A jim_client and its store. start() connects and logs in on a short-lived thread (the
 * only blocking calls jim-qt makes); from then on everything runs on the UI thread through
 * the _async requests, the socket notifiers and the timer.
 */
class Session : public QObject {
    Q_OBJECT
  public:
    explicit Session(QObject *parent = nullptr);
    ~Session() override;

    /** Connects and logs in without blocking: loggedIn() or loginFailed() follows. */
    void start(const LoginOptions &options);
    /** The account logged in as ("" before). */
    QString account() const { return account_; }
    /** The server's host and port, as given to start(). */
    QString server() const;
    /** The client (owned here), for what the session does not wrap. */
    jim_client *client() const { return client_; }
    /** The state as libjim says it. */
    jim_client_state state() const;

    /** Asks the server for the contact list (with each one's status): contactsChanged(). */
    void refreshContacts();
    /** The contact list as libjim keeps it (no network). */
    QVector<Contact> contacts() const;
    /** Queues a message; its id, or "" and *error says why. */
    QString post(const QString &to, const QString &text, QString *error);
    /** Up to limit messages of a conversation before seq before (0: the newest) from the
     *  store, oldest first (no network). */
    QVector<ChatMessage> storedHistory(const QString &with, qint64 before, int limit) const;
    /** Asks the server for older messages: historyLoaded() brings them. */
    void requestHistory(const QString &with, qint64 before, int limit);
    /** What request() hands the answer to: status, the response (NULL when none) and the
     *  list that followed it (or NULL); valid during the call. */
    using ReplyFn = std::function<void(int status, const jim_msg *response, const jim_list *list)>;
    /** Sends any request (copied) without waiting; fn gets the answer on the UI thread,
     *  unless the session or context is gone by then. */
    void request(const jim_msg *req, QObject *context, ReplyFn fn);
    /** add_contact, del_contact, join, leave, without waiting: done() says how it went. */
    void addContact(const QString &user);
    void removeContact(const QString &user);
    void join(const QString &room);
    void leave(const QString &room);
    /** Trusts peer's published key (after "key changed"). */
    bool trustKey(const QString &peer, QString *error);
    /** This account's key fingerprint, or "". */
    QString fingerprint() const;
    /** What the client knows of peer's key (no network). */
    jim_peer_key peerKey(const QString &peer) const;

  signals:
    void loggedIn();
    void loginFailed(const QString &why);
    void messageArrived(const jimqt::ChatMessage &msg);
    void outgoingChanged(const jimqt::ChatMessage &msg);
    void contactsChanged();
    void stateChanged(int state);
    void errorText(const QString &text);
    void keyChanged(const QString &peer, const QString &text);
    void historyLoaded(const QString &with, const QVector<jimqt::ChatMessage> &older);
    /** A request made by addContact() and the like was answered (ok, or error says why). */
    void done(const QString &what, const QString &name, bool ok, const QString &error);

  private:
    static void onMessage(void *ud, const jim_msg *msg, int outgoing);
    static void onPresence(void *ud, const char *user, const char *status);
    static void onError(void *ud, int code, const char *text);
    static void onState(void *ud, jim_client_state state);
    static void onOutgoing(void *ud, const jim_msg *msg, jim_outgoing_state state,
                           const jim_msg *response);
    static void onE2e(void *ud, jim_e2e_event event, const char *peer, const char *text);
    void finishLogin(int rc, const QString &why);
    void named(jim_action action, const QString &what, const QString &name);
    void readable();
    void writable();
    void due();
    void rearm();

    jim_client *client_ = nullptr;
    jim_store *store_ = nullptr;
    std::thread login_;
    bool live_ = false; // the UI thread drives the client (after the login)
    bool closing_ = false;
    QString account_;
    LoginOptions options_;
    int fd_ = -1;
    QSocketNotifier *read_ = nullptr;
    QSocketNotifier *write_ = nullptr;
    QTimer timer_;
};

/** The message as a ChatMessage. */
ChatMessage toChatMessage(const jim_msg *msg);

} // namespace jimqt

Q_DECLARE_METATYPE(jimqt::ChatMessage)

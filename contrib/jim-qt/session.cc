// session.cc — jim-qt's connection: the login thread, the own-loop wiring and the callbacks.
#include "session.hh"

#include <QPointer>

#include <memory>

namespace jimqt {

namespace {

QString str(const jim_msg *m, jim_field f)
{
    const char *s = jim_msg_get_str(m, f);
    return s ? QString::fromUtf8(s) : QString();
}

// What an _async request's answer is delivered to: the session, if it still exists.
struct Reply {
    QPointer<Session> session;
    QString what, name;
};

QString answerText(int status, const jim_msg *response)
{
    if (response && jim_msg_get_str(response, JIM_FIELD_ERROR))
        return str(response, JIM_FIELD_ERROR);
    return QString::fromUtf8(jim_strerror(status));
}

} // namespace

ChatMessage toChatMessage(const jim_msg *msg)
{
    ChatMessage m;
    int64_t v = 0;
    if (jim_msg_get_int(msg, JIM_FIELD_SEQ, &v) == JIM_OK)
        m.seq = v;
    if (jim_msg_get_int(msg, JIM_FIELD_TIME, &v) == JIM_OK)
        m.time = v;
    m.id = str(msg, JIM_FIELD_ID);
    m.from = str(msg, JIM_FIELD_FROM);
    m.to = str(msg, JIM_FIELD_TO);
    m.text = str(msg, JIM_FIELD_MESSAGE);
    m.e2e = jim_msg_e2e_state(msg);
    m.e2eError = str(msg, JIM_FIELD_E2E_ERROR);
    return m;
}

QString conversationOf(const ChatMessage &m, const QString &account)
{
    if (m.to.startsWith(QLatin1Char('#')))
        return m.to;
    if (m.to.isEmpty())
        return QStringLiteral("#general");
    return m.from == account || m.outgoing ? m.to : m.from;
}

Session::Session(QObject *parent) : QObject(parent)
{
    qRegisterMetaType<jimqt::ChatMessage>();
    qRegisterMetaType<QVector<jimqt::ChatMessage>>();
    timer_.setSingleShot(true);
    connect(&timer_, &QTimer::timeout, this, &Session::due);
    static const jim_client_callbacks cb = {onMessage, onPresence, onError, onState};
    if (jim_client_new(&client_, &cb, this) != JIM_OK)
        client_ = nullptr;
    if (client_) {
        jim_client_set_outgoing_callback(client_, onOutgoing, this);
        jim_client_set_e2e_callback(client_, onE2e, this);
        jim_client_set_reconnect(client_, 1, 10000);
    }
}

Session::~Session()
{
    closing_ = true;
    if (login_.joinable())
        login_.join();
    live_ = false;
    delete read_;
    delete write_;
    if (client_ && jim_client_get_state(client_) != JIM_CLIENT_DISCONNECTED)
        jim_client_quit(client_);
    jim_client_free(client_);
    jim_store_close(store_);
}

QString Session::server() const
{
    return QStringLiteral("%1:%2").arg(options_.host).arg(options_.port);
}

jim_client_state Session::state() const
{
    return client_ ? jim_client_get_state(client_) : JIM_CLIENT_DISCONNECTED;
}

void Session::start(const LoginOptions &o)
{
    options_ = o;
    if (!client_) {
        QTimer::singleShot(0, this, [this] { emit loginFailed(tr("out of memory")); });
        return;
    }
    // The account's end-to-end keys live beside its store, as jimc keeps them.
    char dir[1024];
    if (jim_store_default_dir(dir, sizeof dir, o.user.toUtf8().constData(),
                              o.host.toUtf8().constData(), o.port) == JIM_OK)
        jim_client_set_key_dir(client_, dir);
    login_ = std::thread([this, o] {
        QByteArray host = o.host.toUtf8(), user = o.user.toUtf8(), pass = o.password.toUtf8(),
                   ca = o.caFile.toUtf8();
        int rc = JIM_OK;
        QString why;
        if (o.tls)
            rc = jim_client_set_tls(client_, JIM_TLS_VERIFY, ca.isEmpty() ? nullptr : ca.data());
        if (rc == JIM_OK) {
            rc = jim_client_connect(client_, host.constData(), o.port);
            if (rc != JIM_OK)
                why = tr("cannot connect to %1 port %2: %3")
                          .arg(o.host)
                          .arg(o.port)
                          .arg(QString::fromUtf8(jim_client_last_error(client_)));
        } else {
            why = QString::fromUtf8(jim_client_last_error(client_));
        }
        if (rc == JIM_OK && o.create) {
            rc = jim_client_register(client_, user.constData(), pass.constData(), nullptr);
            if (rc != JIM_OK)
                why = tr("cannot create the account %1: %2")
                          .arg(o.user, QString::fromUtf8(jim_client_last_error(client_)));
        }
        if (rc == JIM_OK) {
            rc = jim_client_login(client_, user.constData(), pass.constData());
            if (rc != JIM_OK)
                why = tr("login as %1 refused: %2")
                          .arg(o.user, QString::fromUtf8(jim_client_last_error(client_)));
        }
        pass.fill('\0');
        QMetaObject::invokeMethod(
            this, [this, rc, why] { finishLogin(rc, why); }, Qt::QueuedConnection);
    });
}

void Session::finishLogin(int rc, const QString &why)
{
    if (login_.joinable())
        login_.join();
    if (rc != JIM_OK) {
        emit loginFailed(why);
        return;
    }
    account_ = options_.user;
    options_.password.fill(QLatin1Char('\0'));
    options_.password.clear();
    // The store, opened once the login succeeded; attaching it catches up with sync and
    // sends what an earlier run left pending, through the loop.
    QByteArray user = account_.toUtf8(), host = options_.host.toUtf8();
    char dir[1024], why2[256];
    if (jim_store_default_dir(dir, sizeof dir, user.constData(), host.constData(), options_.port) ==
            JIM_OK &&
        jim_store_open(&store_, why2, sizeof why2, JIM_STORE_SQLITE, dir) == JIM_OK)
        jim_client_set_store(client_, store_);
    else
        emit errorText(tr("no history on disk: %1").arg(QString::fromUtf8(why2)));
    live_ = true;
    refreshContacts();
    rearm();
    emit loggedIn();
    emit stateChanged(state());
}

void Session::refreshContacts()
{
    jim_msg *req = nullptr;
    if (jim_msg_new(&req) != JIM_OK)
        return;
    auto *r = new Reply{this, QString(), QString()};
    if (jim_msg_init_action(req, JIM_ACTION_GET_CONTACTS) != JIM_OK ||
        jim_client_request_async(
            client_, req,
            [](void *ud, int, const jim_msg *, const jim_list *) {
                std::unique_ptr<Reply> reply(static_cast<Reply *>(ud));
                if (reply->session)
                    emit reply->session->contactsChanged();
            },
            r) != JIM_OK)
        delete r;
    jim_msg_free(req);
    rearm();
}

QVector<Contact> Session::contacts() const
{
    QVector<Contact> out;
    jim_list *l = nullptr;
    if (!client_ || jim_client_contact_list(client_, &l) != JIM_OK)
        return out;
    for (size_t i = 0; i < jim_list_count(l); i++) {
        const jim_msg *m = jim_list_get(l, i);
        Contact c;
        c.name = str(m, JIM_FIELD_USER_ID);
        c.online = str(m, JIM_FIELD_STATUS) == QLatin1String("online");
        out.push_back(c);
    }
    jim_list_free(l);
    return out;
}

QString Session::post(const QString &to, const QString &text, QString *error)
{
    char id[JIM_OUTGOING_ID_SIZE] = "";
    QByteArray t = to.toUtf8(), body = text.toUtf8();
    int rc = jim_client_post(client_, id, sizeof id, t.constData(), body.constData());
    if (rc != JIM_OK && error)
        *error = QString::fromUtf8(jim_client_last_error(client_));
    rearm();
    return rc == JIM_OK ? QString::fromUtf8(id) : QString();
}

QVector<ChatMessage> Session::storedHistory(const QString &with, qint64 before, int limit) const
{
    QVector<ChatMessage> out;
    jim_list *l = nullptr;
    if (!store_ ||
        jim_store_history(store_, &l, with.toUtf8().constData(), before, limit) != JIM_OK)
        return out;
    for (size_t i = 0; i < jim_list_count(l); i++) {
        ChatMessage m = toChatMessage(jim_list_get(l, i));
        m.outgoing = m.from == account_;
        out.push_back(m);
    }
    jim_list_free(l);
    return out;
}

void Session::requestHistory(const QString &with, qint64 before, int limit)
{
    jim_msg *req = nullptr;
    if (jim_msg_new(&req) != JIM_OK)
        return;
    jim_msg_init_action(req, JIM_ACTION_HISTORY);
    jim_msg_set_str(req, JIM_FIELD_WITH, with.toUtf8().constData());
    if (before > 0)
        jim_msg_set_int(req, JIM_FIELD_BEFORE, before);
    jim_msg_set_int(req, JIM_FIELD_LIMIT, limit);
    auto *r = new Reply{this, QStringLiteral("history"), with};
    int rc = jim_client_request_async(
        client_, req,
        [](void *ud, int status, const jim_msg *, const jim_list *entries) {
            std::unique_ptr<Reply> reply(static_cast<Reply *>(ud));
            if (!reply->session)
                return;
            QVector<ChatMessage> older;
            QString me = reply->session->account();
            // The server sends the newest first: turn it around.
            for (size_t i = entries ? jim_list_count(entries) : 0; status == JIM_OK && i > 0; i--) {
                ChatMessage m = toChatMessage(jim_list_get(entries, i - 1));
                m.outgoing = m.from == me;
                older.push_back(m);
            }
            emit reply->session->historyLoaded(reply->name, older);
        },
        r);
    if (rc != JIM_OK)
        delete r;
    jim_msg_free(req);
    rearm();
}

void Session::request(const jim_msg *req, QObject *context, ReplyFn fn)
{
    struct Call {
        QPointer<Session> session;
        QPointer<QObject> context;
        ReplyFn fn;
    };
    auto *call = new Call{this, context, std::move(fn)};
    int rc = jim_client_request_async(
        client_, req,
        [](void *ud, int status, const jim_msg *response, const jim_list *list) {
            std::unique_ptr<Call> c(static_cast<Call *>(ud));
            if (c->session && c->context && c->fn)
                c->fn(status, response, list);
        },
        call);
    if (rc != JIM_OK) {
        std::unique_ptr<Call> c(call);
        if (c->fn)
            c->fn(rc, nullptr, nullptr);
    }
    rearm();
}

void Session::named(jim_action action, const QString &what, const QString &name)
{
    jim_msg *req = nullptr;
    if (jim_msg_new(&req) != JIM_OK)
        return;
    int rc = jim_msg_make_named(req, action, name.toUtf8().constData());
    auto *r = new Reply{this, what, name};
    if (rc == JIM_OK)
        rc = jim_client_request_async(
            client_, req,
            [](void *ud, int status, const jim_msg *response, const jim_list *) {
                std::unique_ptr<Reply> reply(static_cast<Reply *>(ud));
                if (!reply->session)
                    return;
                emit reply->session->done(reply->what, reply->name, status == JIM_OK,
                                          answerText(status, response));
                emit reply->session->contactsChanged();
                // libjim lists a contact just added as offline: ask for its real status.
                if (status == JIM_OK && reply->what == QLatin1String("add"))
                    reply->session->refreshContacts();
            },
            r);
    if (rc != JIM_OK) {
        emit done(what, name, false, QString::fromUtf8(jim_strerror(rc)));
        delete r;
    }
    jim_msg_free(req);
    rearm();
}

void Session::addContact(const QString &user)
{
    named(JIM_ACTION_ADD_CONTACT, QStringLiteral("add"), user);
}

void Session::removeContact(const QString &user)
{
    named(JIM_ACTION_DEL_CONTACT, QStringLiteral("remove"), user);
}

void Session::join(const QString &room)
{
    named(JIM_ACTION_JOIN, QStringLiteral("join"), room);
}

void Session::leave(const QString &room)
{
    named(JIM_ACTION_LEAVE, QStringLiteral("leave"), room);
}

bool Session::trustKey(const QString &peer, QString *error)
{
    int rc = jim_client_trust_key(client_, peer.toUtf8().constData());
    if (rc != JIM_OK && error)
        *error = QString::fromUtf8(jim_strerror(rc));
    rearm();
    return rc == JIM_OK;
}

QString Session::fingerprint() const
{
    char fp[JIM_FINGERPRINT_SIZE];
    return jim_client_fingerprint(client_, fp, sizeof fp) == JIM_OK ? QString::fromUtf8(fp)
                                                                    : QString();
}

jim_peer_key Session::peerKey(const QString &peer) const
{
    jim_peer_key k{};
    jim_client_peer_key(client_, &k, peer.toUtf8().constData(), 0);
    return k;
}

// ---- the own loop: notifiers and a timer over jim_client_fd() and next_timeout() ----

void Session::rearm()
{
    if (!live_ || closing_)
        return;
    int fd = jim_client_fd(client_);
    if (fd != fd_) {
        for (QSocketNotifier *n : {read_, write_})
            if (n) {
                n->setEnabled(false);
                n->deleteLater();
            }
        read_ = write_ = nullptr;
        fd_ = fd;
        if (fd >= 0) {
            read_ = new QSocketNotifier(fd, QSocketNotifier::Read, this);
            write_ = new QSocketNotifier(fd, QSocketNotifier::Write, this);
            connect(read_, &QSocketNotifier::activated, this, &Session::readable);
            connect(write_, &QSocketNotifier::activated, this, &Session::writable);
        }
    }
    if (write_)
        write_->setEnabled(jim_client_wants_write(client_) != 0);
    int ms = jim_client_next_timeout(client_);
    if (ms < 0)
        timer_.stop();
    else
        timer_.start(ms);
}

void Session::readable()
{
    if (!live_)
        return;
    jim_client_on_readable(client_);
    if (jim_client_next_timeout(client_) == 0)
        jim_client_on_timeout(client_);
    rearm();
}

void Session::writable()
{
    if (!live_)
        return;
    jim_client_on_writable(client_);
    rearm();
}

void Session::due()
{
    if (!live_)
        return;
    jim_client_on_timeout(client_);
    rearm();
}

// ---- libjim's callbacks: on the login thread during start(), on the UI thread after ----

void Session::onMessage(void *ud, const jim_msg *msg, int outgoing)
{
    auto *s = static_cast<Session *>(ud);
    if (s->closing_)
        return;
    ChatMessage m = toChatMessage(msg);
    m.outgoing = outgoing != 0;
    emit s->messageArrived(m);
}

void Session::onPresence(void *ud, const char *, const char *)
{
    auto *s = static_cast<Session *>(ud);
    if (!s->closing_)
        emit s->contactsChanged();
}

void Session::onError(void *ud, int, const char *text)
{
    auto *s = static_cast<Session *>(ud);
    if (!s->closing_)
        emit s->errorText(QString::fromUtf8(text ? text : ""));
}

void Session::onState(void *ud, jim_client_state state)
{
    auto *s = static_cast<Session *>(ud);
    if (s->closing_)
        return;
    if (s->live_)
        s->fd_ = -2; // a new connection may reuse the old descriptor's number
    emit s->stateChanged(state);
}

void Session::onOutgoing(void *ud, const jim_msg *msg, jim_outgoing_state state, const jim_msg *)
{
    auto *s = static_cast<Session *>(ud);
    if (s->closing_)
        return;
    ChatMessage m = toChatMessage(msg);
    m.outgoing = true;
    m.state = state;
    if (m.from.isEmpty())
        m.from = s->account_.isEmpty() ? s->options_.user : s->account_;
    emit s->outgoingChanged(m);
}

void Session::onE2e(void *ud, jim_e2e_event event, const char *peer, const char *text)
{
    auto *s = static_cast<Session *>(ud);
    if (s->closing_)
        return;
    QString t = QString::fromUtf8(text ? text : "");
    if (event == JIM_E2E_KEY_CHANGED && peer)
        emit s->keyChanged(QString::fromUtf8(peer), t);
    else if (event == JIM_E2E_KEY_ERROR)
        emit s->errorText(tr("end-to-end keys: %1").arg(t));
}

} // namespace jimqt

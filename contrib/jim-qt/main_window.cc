// main_window.cc — the main window: lists, tabs, toolbar and context menus, routing the
// session's messages to their conversations and unread counts, and `/`-commands.
#include "main_window.hh"

#include <QApplication>
#include <QInputDialog>
#include <QMenu>
#include <QMessageBox>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QToolBar>
#include <QVBoxLayout>

namespace jimqt {

MainWindow::MainWindow(Session *session, QWidget *parent) : QMainWindow(parent), session_(session)
{
    session_->setParent(this);
    setWindowTitle(tr("jim — %1 on %2").arg(session_->account(), session_->server()));
    contacts_ = new ChatListModel(this);
    rooms_ = new ChatListModel(this);
    auto *left = new QWidget(this);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(new QLabel(tr("Contacts"), left));
    contactsView_ = new QListView(left);
    contactsView_->setObjectName("contacts");
    contactsView_->setModel(contacts_);
    leftLayout->addWidget(contactsView_, 2);
    leftLayout->addWidget(new QLabel(tr("Rooms"), left));
    roomsView_ = new QListView(left);
    roomsView_->setObjectName("rooms");
    roomsView_->setModel(rooms_);
    leftLayout->addWidget(roomsView_, 1);
    for (QListView *v : {contactsView_, roomsView_}) {
        v->setEditTriggers(QAbstractItemView::NoEditTriggers);
        v->setContextMenuPolicy(Qt::CustomContextMenu);
        connect(v, &QListView::doubleClicked, this, [this](const QModelIndex &i) {
            openChat(i.data(ChatListModel::NameRole).toString());
        });
        connect(v, &QListView::customContextMenuRequested, this,
                [this, v](const QPoint &p) { contextMenu(v, p); });
    }
    tabs_ = new QTabWidget(this);
    tabs_->setObjectName("chats");
    tabs_->setTabsClosable(true);
    tabs_->setDocumentMode(true);
    connect(tabs_, &QTabWidget::tabCloseRequested, this, [this](int i) {
        QWidget *w = tabs_->widget(i);
        tabs_->removeTab(i);
        w->deleteLater();
    });
    connect(tabs_, &QTabWidget::currentChanged, this, &MainWindow::tabChanged);
    auto *split = new QSplitter(this);
    split->addWidget(left);
    split->addWidget(tabs_);
    split->setStretchFactor(1, 3);
    setCentralWidget(split);
    state_ = new QLabel(this);
    state_->setObjectName("state");
    statusBar()->addPermanentWidget(state_);
    buildActions();

    connect(session_, &Session::messageArrived, this, &MainWindow::incoming);
    connect(session_, &Session::outgoingChanged, this, &MainWindow::outgoing);
    connect(session_, &Session::contactsChanged, this,
            [this] { contacts_->setContacts(session_->contacts()); });
    connect(session_, &Session::stateChanged, this, &MainWindow::stateChanged);
    connect(session_, &Session::done, this, &MainWindow::answered);
    connect(session_, &Session::keyChanged, this, &MainWindow::keyChanged);
    connect(session_, &Session::errorText, this, &MainWindow::note);
    // The server tells no one which rooms they are in: the rooms joined here are kept with
    // the settings, and the general chat is everyone's.
    joined_ = QSettings().value(roomsKey()).toStringList();
    if (!joined_.contains("#general"))
        joined_.prepend("#general");
    rooms_->setRooms(joined_);
    contacts_->setContacts(session_->contacts());
    stateChanged(session_->state());
}

QString MainWindow::roomsKey() const
{
    return QStringLiteral("rooms/%1@%2").arg(session_->account(), session_->server());
}

void MainWindow::saveRooms()
{
    QSettings().setValue(roomsKey(), joined_);
    rooms_->setRooms(joined_);
}

void MainWindow::buildActions()
{
    QToolBar *bar = addToolBar(tr("Conversations"));
    bar->setObjectName("toolbar");
    bar->setMovable(false);
    bar->addAction(tr("Add contact…"), this, [this] {
        QString n = QInputDialog::getText(this, tr("Add a contact"), tr("Account name:"));
        if (!n.trimmed().isEmpty())
            addContact(n.trimmed());
    });
    bar->addAction(tr("Remove contact"), this, [this] {
        QModelIndex i = contactsView_->currentIndex();
        if (i.isValid())
            removeContact(i.data(ChatListModel::NameRole).toString());
    });
    bar->addSeparator();
    bar->addAction(tr("Join room…"), this, [this] {
        QString r = QInputDialog::getText(this, tr("Join a room"), tr("Room (#name):"));
        if (!r.trimmed().isEmpty())
            joinRoom(r.trimmed());
    });
    bar->addAction(tr("Leave room"), this, [this] {
        QModelIndex i = roomsView_->currentIndex();
        if (i.isValid())
            leaveRoom(i.data(ChatListModel::NameRole).toString());
    });
}

void MainWindow::contextMenu(QListView *view, const QPoint &pos)
{
    QModelIndex i = view->indexAt(pos);
    QString name = i.isValid() ? i.data(ChatListModel::NameRole).toString() : QString();
    QMenu menu(this);
    if (!name.isEmpty())
        menu.addAction(tr("Open conversation"), this, [this, name] { openChat(name); });
    if (view == contactsView_) {
        menu.addAction(tr("Add contact…"), this, [this] {
            QString n = QInputDialog::getText(this, tr("Add a contact"), tr("Account name:"));
            if (!n.trimmed().isEmpty())
                addContact(n.trimmed());
        });
        if (!name.isEmpty())
            menu.addAction(tr("Remove %1").arg(name), this, [this, name] { removeContact(name); });
    } else {
        menu.addAction(tr("Join room…"), this, [this] {
            QString r = QInputDialog::getText(this, tr("Join a room"), tr("Room (#name):"));
            if (!r.trimmed().isEmpty())
                joinRoom(r.trimmed());
        });
        if (!name.isEmpty())
            menu.addAction(tr("Leave %1").arg(name), this, [this, name] { leaveRoom(name); });
    }
    menu.exec(view->viewport()->mapToGlobal(pos));
}

ChatView *MainWindow::findChat(const QString &name) const
{
    for (int i = 0; i < tabs_->count(); i++)
        if (auto *v = qobject_cast<ChatView *>(tabs_->widget(i)); v && v->with() == name)
            return v;
    return nullptr;
}

ChatView *MainWindow::openChat(const QString &name)
{
    ChatView *v = findChat(name);
    if (!v) {
        v = new ChatView(session_, name, tabs_);
        connect(v, &ChatView::command, this, &MainWindow::runCommand);
        connect(v, &ChatView::failed, this, &MainWindow::note);
        tabs_->addTab(v, name);
        v->loadInitial();
    }
    tabs_->setCurrentWidget(v);
    v->compose()->setFocus();
    contacts_->clearUnread(name);
    rooms_->clearUnread(name);
    return v;
}

void MainWindow::tabChanged(int index)
{
    if (auto *v = qobject_cast<ChatView *>(tabs_->widget(index))) {
        contacts_->clearUnread(v->with());
        rooms_->clearUnread(v->with());
        tabs_->setTabText(index, v->with());
    }
}

void MainWindow::incoming(const ChatMessage &m)
{
    QString conv = conversationOf(m, session_->account());
    ChatView *v = findChat(conv);
    if (v)
        v->addMessage(m);
    if (m.outgoing)
        return;
    bool inFront = v && tabs_->currentWidget() == v;
    if (!inFront) {
        (conv.startsWith('#') ? rooms_ : contacts_)->bump(conv);
        if (v)
            tabs_->setTabText(tabs_->indexOf(v), QStringLiteral("%1 •").arg(conv));
    }
    if (!inFront || !isActiveWindow())
        QApplication::alert(this);
}

void MainWindow::outgoing(const ChatMessage &m)
{
    if (ChatView *v = findChat(conversationOf(m, session_->account())))
        v->addMessage(m);
    if (m.state == JIM_OUTGOING_FAILED)
        note(tr("a message to %1 was not sent").arg(m.to));
}

void MainWindow::stateChanged(int state)
{
    switch (state) {
    case JIM_CLIENT_ONLINE:
        state_->setText(tr("Online as %1 on %2").arg(session_->account(), session_->server()));
        break;
    case JIM_CLIENT_CONNECTING: state_->setText(tr("Reconnecting…")); break;
    case JIM_CLIENT_CONNECTED: state_->setText(tr("Connected, logging in again…")); break;
    default: state_->setText(tr("Disconnected")); break;
    }
}

void MainWindow::note(const QString &text)
{
    statusBar()->showMessage(text, 8000);
}

void MainWindow::answered(const QString &what, const QString &name, bool ok, const QString &error)
{
    if (!ok) {
        note(tr("%1 %2: %3").arg(what, name, error));
        if (ChatView *v = qobject_cast<ChatView *>(tabs_->currentWidget()))
            v->addNote(tr("%1 %2: %3").arg(what, name, error));
        return;
    }
    if (what == "join" && !joined_.contains(name)) {
        joined_ << name;
        saveRooms();
    } else if (what == "leave") {
        joined_.removeAll(name);
        saveRooms();
    }
    note(tr("%1 %2: done").arg(what, name));
}

void MainWindow::addContact(const QString &name)
{
    session_->addContact(name);
}

void MainWindow::removeContact(const QString &name)
{
    session_->removeContact(name);
}

void MainWindow::joinRoom(const QString &room)
{
    session_->join(room.startsWith('#') ? room : QStringLiteral("#") + room);
}

void MainWindow::leaveRoom(const QString &room)
{
    session_->leave(room);
}

void MainWindow::keyChanged(const QString &peer, const QString &text)
{
    auto *box = new QMessageBox(QMessageBox::Warning, tr("Key changed — trust?"),
                                tr("The end-to-end key of %1 changed:\n%2\n\nMessages to %1 "
                                   "are held back until you trust the new key. Compare the "
                                   "fingerprint with %1 first. Trust it?")
                                    .arg(peer, text),
                                QMessageBox::Yes | QMessageBox::No, this);
    box->setObjectName("keyChanged");
    box->setAttribute(Qt::WA_DeleteOnClose);
    connect(box, &QMessageBox::finished, this, [this, peer](int result) {
        if (result != QMessageBox::Yes)
            return;
        QString why;
        note(session_->trustKey(peer, &why) ? tr("%1's new key is trusted").arg(peer)
                                            : tr("cannot trust %1's key: %2").arg(peer, why));
    });
    box->open();
}

// The `/`-commands of jimc that make sense in a window.
void MainWindow::runCommand(const QString &line, const QString &with)
{
    QStringList w = line.split(' ', Qt::SkipEmptyParts);
    QString cmd = w.value(0), arg = w.value(1);
    ChatView *v = findChat(with);
    auto say = [v, this](const QString &t) {
        if (v)
            v->addNote(t);
        else
            note(t);
    };
    if (cmd == "/join" && !arg.isEmpty()) {
        joinRoom(arg);
    } else if (cmd == "/leave") {
        leaveRoom(arg.isEmpty() ? with : arg);
    } else if (cmd == "/add" && !arg.isEmpty()) {
        addContact(arg);
    } else if (cmd == "/del" && !arg.isEmpty()) {
        removeContact(arg);
    } else if (cmd == "/open" && !arg.isEmpty()) {
        openChat(arg);
    } else if (cmd == "/trust") {
        QString peer = arg.isEmpty() ? with : arg, why;
        say(session_->trustKey(peer, &why) ? tr("%1's key is trusted").arg(peer)
                                           : tr("cannot trust %1's key: %2").arg(peer, why));
    } else if (cmd == "/fingerprint") {
        if (arg.isEmpty()) {
            QString fp = session_->fingerprint();
            say(fp.isEmpty() ? tr("no key yet") : tr("your fingerprint: %1").arg(fp));
        } else {
            jim_peer_key k = session_->peerKey(arg);
            say(tr("%1: pinned %2, published %3")
                    .arg(arg, QString::fromUtf8(k.pinned), QString::fromUtf8(k.published)));
        }
    } else if (cmd == "/e2e" && (arg == "on" || arg == "off")) {
        QString peer = w.value(2, with.startsWith('#') ? QString() : with);
        jim_client_set_e2e(session_->client(), peer.isEmpty() ? nullptr : peer.toUtf8().constData(),
                           arg == "on");
        say(tr("encryption %1 for %2").arg(arg, peer.isEmpty() ? tr("everyone") : peer));
    } else {
        say(tr("commands: /join #room, /leave [#room], /add NAME, /del NAME, /open NAME, "
               "/trust [NAME], /fingerprint [NAME], /e2e on|off [NAME]"));
    }
}

} // namespace jimqt

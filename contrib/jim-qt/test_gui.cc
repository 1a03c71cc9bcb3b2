// test_gui.cc — jim-qt's QTest tests: the window driven like a user would, offscreen, against
// a real jimd, with libjim clients of the test's own on the other side. With the argument
// "screenshots" it saves the PNGs of `make screenshots` instead.
#include <QApplication>
#include <QCheckBox>
#include <QDir>
#include <QFont>
#include <QLineEdit>
#include <QListView>
#include <QMessageBox>
#include <QProcess>
#include <QPushButton>
#include <QScrollBar>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QtTest>

#include <cstdlib>
#include <cstring>

extern "C" {
#include "jimd_harness.h"
#include "tls_harness.h"
}
#include "admin_window.hh"
#include "login_dialog.hh"
#include "main_window.hh"

using namespace jimqt;

namespace {

constexpr int kWait = 20000; // generous: the machine is shared

// A libjim client of the test, in blocking mode; it records what it receives.
struct Peer {
    jim_client *client = nullptr;
    QStringList received;

    static void onMessage(void *ud, const jim_msg *m, int)
    {
        const char *t = jim_msg_get_str(m, JIM_FIELD_MESSAGE);
        static_cast<Peer *>(ud)->received << QString::fromUtf8(t ? t : "");
    }
    // Over TLS when ca is given, with its end-to-end keys in keyDir when given.
    bool logIn(int port, const char *name, const QString &ca = QString(),
               const QString &keyDir = QString())
    {
        static const jim_client_callbacks cb = {onMessage, nullptr, nullptr, nullptr};
        if (jim_client_new(&client, &cb, this) != JIM_OK)
            return false;
        jim_client_set_reconnect(client, 0, 1000);
        if (!ca.isEmpty() &&
            jim_client_set_tls(client, JIM_TLS_VERIFY, ca.toUtf8().constData()) != JIM_OK)
            return false;
        // An account keeps one key pair through the test (jimd keeps the public keys): a
        // peer made again for the same account must not come back with a new key.
        static QTemporaryDir keys;
        QString dir = keyDir.isEmpty() ? keys.filePath(QString::fromUtf8(name)) : keyDir;
        QDir().mkpath(dir);
        if (jim_client_set_key_dir(client, dir.toUtf8().constData()) != JIM_OK)
            return false;
        if (jim_client_connect(client, "127.0.0.1", port) != JIM_OK)
            return false;
        jim_client_register(client, name, "password1", nullptr); // 409 the second time
        return jim_client_login(client, name, "password1") == JIM_OK;
    }
    void close()
    {
        if (client && jim_client_get_state(client) != JIM_CLIENT_DISCONNECTED)
            jim_client_quit(client);
        jim_client_free(client);
        client = nullptr;
    }
    ~Peer() { close(); }
};

// Serves the window and a peer together until done() or the deadline.
template <typename F> bool pumpUntil(Peer &peer, F done, int ms = kWait)
{
    QElapsedTimer t;
    t.start();
    while (!done() && t.elapsed() < ms) {
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
        jim_client_run(peer.client, 20);
    }
    return done();
}

// Fills in the log-in dialog and logs in; the main window, or NULL.
MainWindow *logInWindow(int port, const QString &user, bool create, const QString &ca = QString())
{
    LoginDialog d;
    d.findChild<QCheckBox *>("tls")->setChecked(!ca.isEmpty());
    d.findChild<QLineEdit *>("caFile")->setText(ca);
    d.findChild<QLineEdit *>("server")->setText("127.0.0.1");
    d.findChild<QSpinBox *>("port")->setValue(port);
    d.findChild<QLineEdit *>("user")->setText(user);
    d.findChild<QLineEdit *>("password")->setText("password1");
    d.findChild<QCheckBox *>("create")->setChecked(create);
    d.show();
    QTest::mouseClick(d.findChild<QPushButton *>("login"), Qt::LeftButton);
    if (!QTest::qWaitFor([&] { return d.result() == QDialog::Accepted; }, kWait))
        return nullptr;
    auto *w = new MainWindow(d.takeSession());
    w->resize(900, 600);
    w->show();
    return w;
}

int session_key_state(MainWindow *w, const char *peer)
{
    return w->session()->peerKey(peer).state;
}

} // namespace

class TestGui : public QObject {
    Q_OBJECT
    jimd_proc jimd_{};
    QTemporaryDir home_;
    MainWindow *window_ = nullptr;

  private slots:
    void initTestCase()
    {
        QVERIFY(home_.isValid());
        qputenv("XDG_DATA_HOME", home_.filePath("data").toUtf8());
        qputenv("XDG_CONFIG_HOME", home_.filePath("config").toUtf8());
        QVERIFY(jimd_start(&jimd_, 1, nullptr) == 0);
    }

    void cleanupTestCase()
    {
        delete window_;
        jimd_cleanup(&jimd_);
    }

    void logIn__creates_the_account__shows_the_main_window()
    {
        window_ = logInWindow(jimd_.port, "alice", true);
        QVERIFY(window_);
        QTRY_VERIFY_WITH_TIMEOUT(window_->stateText().startsWith("Online as alice"), kWait);
        // What the dialog remembers: the server and the name, never the password.
        QSettings s;
        QCOMPARE(s.value("login/user").toString(), QString("alice"));
        QCOMPARE(s.value("login/port").toInt(), jimd_.port);
        for (const QString &k : s.allKeys())
            QVERIFY2(!s.value(k).toString().contains("password1"), qPrintable(k));
        QCOMPARE(window_->roomsModel()->names(), QStringList{"#general"});
    }

    void contactList__shows_a_contact_going_online_and_offline()
    {
        QVERIFY(window_);
        Peer carol;
        QVERIFY(carol.logIn(jimd_.port, "carol"));
        carol.close();
        window_->addContact("carol");
        QTRY_VERIFY_WITH_TIMEOUT(window_->contactsModel()->rowOf("carol") >= 0, kWait);
        QVERIFY(!window_->contactsModel()->online("carol"));
        QVERIFY(carol.logIn(jimd_.port, "carol"));
        QTRY_VERIFY_WITH_TIMEOUT(window_->contactsModel()->online("carol"), kWait);
        carol.close();
        QTRY_VERIFY_WITH_TIMEOUT(!window_->contactsModel()->online("carol"), kWait);
    }

    void doubleClick__opens_the_chat_in_a_tab()
    {
        QVERIFY(window_);
        Peer bob;
        QVERIFY(bob.logIn(jimd_.port, "bob"));
        window_->addContact("bob");
        QTRY_VERIFY_WITH_TIMEOUT(window_->contactsModel()->rowOf("bob") >= 0, kWait);
        // Added while online, bob is shown online (not only after his next login).
        QTRY_VERIFY_WITH_TIMEOUT(window_->contactsModel()->online("bob"), kWait);
        QListView *view = window_->contactsView();
        QModelIndex i = window_->contactsModel()->index(window_->contactsModel()->rowOf("bob"));
        QRect r = view->visualRect(i);
        QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, r.center());
        QTest::mouseDClick(view->viewport(), Qt::LeftButton, {}, r.center());
        QTRY_VERIFY_WITH_TIMEOUT(window_->findChat("bob") != nullptr, kWait);
        QCOMPARE(window_->tabs()->currentWidget(), window_->findChat("bob"));
    }

    void enter__sends__shift_enter_is_a_new_line()
    {
        QVERIFY(window_);
        ChatView *chat = window_->openChat("bob");
        Peer bob;
        QVERIFY(bob.logIn(jimd_.port, "bob"));
        QTest::keyClicks(chat->compose(), "hello from the window");
        QTest::keyClick(chat->compose(), Qt::Key_Return);
        QVERIFY(pumpUntil(bob, [&] { return bob.received.contains("hello from the window"); }));
        QVERIFY(chat->compose()->toPlainText().isEmpty());
        QTest::keyClicks(chat->compose(), "line one");
        QTest::keyClick(chat->compose(), Qt::Key_Return, Qt::ShiftModifier);
        QTest::keyClicks(chat->compose(), "line two");
        QTest::keyClick(chat->compose(), Qt::Key_Return);
        QVERIFY(pumpUntil(bob, [&] { return bob.received.contains("line one\nline two"); }));
        // The window shows both with their delivery state.
        QVERIFY(pumpUntil(bob, [&] {
            int delivered = 0;
            for (const ChatMessage &m : chat->messages())
                delivered += m.outgoing && m.state == JIM_OUTGOING_DELIVERED;
            return delivered == 2;
        }));
        // And a reply arrives in the open tab, which stays read.
        QCOMPARE(jim_client_send(bob.client, nullptr, nullptr, "alice", "hi alice"), JIM_OK);
        QTRY_VERIFY_WITH_TIMEOUT(chat->historyView()->toPlainText().contains("hi alice"), kWait);
        QCOMPARE(window_->contactsModel()->unread("bob"), 0);
    }

    void message_in_a_closed_chat__raises_its_unread_count()
    {
        QVERIFY(window_);
        ChatView *chat = window_->findChat("bob");
        QVERIFY(chat);
        window_->tabs()->tabCloseRequested(window_->tabs()->indexOf(chat));
        QTRY_VERIFY_WITH_TIMEOUT(window_->findChat("bob") == nullptr, kWait);
        Peer bob;
        QVERIFY(bob.logIn(jimd_.port, "bob"));
        QCOMPARE(jim_client_send(bob.client, nullptr, nullptr, "alice", "are you there?"), JIM_OK);
        QCOMPARE(jim_client_send(bob.client, nullptr, nullptr, "alice", "hello?"), JIM_OK);
        QTRY_COMPARE_WITH_TIMEOUT(window_->contactsModel()->unread("bob"), 2, kWait);
        // Opening it shows them (from the store) and reads them.
        ChatView *again = window_->openChat("bob");
        QCOMPARE(window_->contactsModel()->unread("bob"), 0);
        QVERIFY(again->historyView()->toPlainText().contains("hello?"));
    }

    void history__loads_when_scrolled_up()
    {
        QVERIFY(window_);
        // 70 messages in a room, sent before alice joins: her store has none of them.
        Peer erin;
        QVERIFY(erin.logIn(jimd_.port, "erin"));
        QCOMPARE(jim_client_join(erin.client, "#history"), JIM_OK);
        for (int i = 1; i <= 70; i++)
            QCOMPARE(jim_client_send(erin.client, nullptr, nullptr, "#history",
                                     QByteArray::number(i).prepend("old ").constData()),
                     JIM_OK);
        window_->joinRoom("#history");
        QTRY_VERIFY_WITH_TIMEOUT(window_->roomsModel()->rowOf("#history") >= 0, kWait);
        ChatView *chat = window_->openChat("#history");
        // The newest page comes from the server (`history`), then each scroll to the top
        // brings one more (`history before`).
        QTRY_COMPARE_WITH_TIMEOUT(chat->messages().size(), ChatView::kPage, kWait);
        QCOMPARE(chat->messages().last().text, QString("old 70"));
        QScrollBar *bar = chat->historyView()->verticalScrollBar();
        QTRY_VERIFY_WITH_TIMEOUT(bar->maximum() > 0, kWait);
        bar->setValue(bar->minimum());
        QTRY_COMPARE_WITH_TIMEOUT(chat->messages().size(), 2 * ChatView::kPage, kWait);
        QVERIFY(bar->value() > bar->minimum()); // what was in view stays in view
        bar->setValue(bar->minimum());
        QTRY_COMPARE_WITH_TIMEOUT(chat->messages().size(), 70, kWait);
        QCOMPARE(chat->messages().first().text, QString("old 1"));
        // Opened again, the store has them: the newest page at once, older ones on scrolling.
        window_->tabs()->tabCloseRequested(window_->tabs()->indexOf(chat));
        QTRY_VERIFY_WITH_TIMEOUT(window_->findChat("#history") == nullptr, kWait);
        chat = window_->openChat("#history");
        QCOMPARE(chat->messages().size(), ChatView::kPage);
        bar = chat->historyView()->verticalScrollBar();
        QTRY_VERIFY_WITH_TIMEOUT(bar->maximum() > 0, kWait);
        bar->setValue(bar->minimum());
        QCOMPARE(chat->messages().size(), 2 * ChatView::kPage);
    }

    void statusBar__shows_the_reconnect__messages_go_on_after_it()
    {
        QVERIFY(window_);
        QVERIFY(jimd_stop(&jimd_) >= 0);
        QTRY_VERIFY_WITH_TIMEOUT(window_->stateText().startsWith("Reconnecting"), kWait);
        QVERIFY(jimd_restart(&jimd_) == 0);
        QTRY_VERIFY_WITH_TIMEOUT(window_->stateText().startsWith("Online as alice"), 2 * kWait);
        Peer bob;
        QVERIFY(bob.logIn(jimd_.port, "bob"));
        ChatView *chat = window_->openChat("bob");
        QTest::keyClicks(chat->compose(), "back again");
        QTest::keyClick(chat->compose(), Qt::Key_Return);
        QVERIFY(pumpUntil(bob, [&] { return bob.received.contains("back again"); }));
    }

    // Against fakejim, whose certificates and keys the test controls (a changed key).
    void e2e_over_tls__lock_shown__a_changed_key_asks_to_trust()
    {
        QTemporaryDir certs;
        QVERIFY(make_certs(QString("'%1'").arg(certs.path()).toUtf8().constData()) == 0);
        QString ca = certs.filePath("ca.pem");
        QByteArray cert = certs.filePath("server.pem").toUtf8(),
                   key = certs.filePath("server.key").toUtf8();
        const char *args[] = {"--tls", cert.constData(), key.constData(), nullptr};
        test_server srv{};
        QVERIFY(fakejim_start(&srv, 0, args) == 0);
        Peer bob;
        QVERIFY(bob.logIn(srv.port, "bob", ca, certs.filePath("bob-old")));
        std::unique_ptr<MainWindow> w(logInWindow(srv.port, "alice", false, ca));
        QVERIFY(w);
        ChatView *chat = w->openChat("bob");
        QTest::keyClicks(chat->compose(), "secret one");
        QTest::keyClick(chat->compose(), Qt::Key_Return);
        QVERIFY(pumpUntil(bob, [&] { return bob.received.contains("secret one"); }));
        QTRY_VERIFY_WITH_TIMEOUT(chat->findChild<QLabel *>("lock")->text().contains("encrypted"),
                                 kWait);
        QTRY_VERIFY_WITH_TIMEOUT(chat->historyView()->toPlainText().contains("🔒"), kWait);
        // Bob comes back with a new key pair and writes: alice is asked whether to trust it.
        bob.close();
        Peer bob2;
        QVERIFY(bob2.logIn(srv.port, "bob", ca, certs.filePath("bob-new")));
        QCOMPARE(jim_client_send(bob2.client, nullptr, nullptr, "alice", "new phone"), JIM_OK);
        QMessageBox *ask = nullptr;
        QVERIFY(pumpUntil(bob2, [&] {
            ask = w->findChild<QMessageBox *>("keyChanged");
            return ask && ask->isVisible();
        }));
        QCOMPARE(session_key_state(w.get(), "bob"), int(JIM_KEY_CHANGED));
        ask->button(QMessageBox::Yes)->click();
        QTRY_COMPARE_WITH_TIMEOUT(session_key_state(w.get(), "bob"), int(JIM_KEY_TRUSTED), kWait);
        QTest::keyClicks(chat->compose(), "secret two");
        QTest::keyClick(chat->compose(), Qt::Key_Return);
        QVERIFY(pumpUntil(bob2, [&] { return bob2.received.contains("secret two"); }));
        bob2.close();
        w.reset();
        server_stop(&srv);
    }

    // alice is made an admin over jimd's control socket (jimctl); the window lists the
    // accounts, kicks bob (whose session is closed), and closes registration.
    void adminWindow__lists_accounts__kicks__changes_registration()
    {
        QVERIFY(window_);
        QString jimctl =
            QString::fromUtf8(std::getenv("top_builddir") ? std::getenv("top_builddir") : ".") +
            "/jimctl/jimctl";
        QString ctl = QString::fromUtf8(jimd_.dir) + "/jimd.ctl"; // the database's name, .ctl
        QCOMPARE(QProcess::execute(jimctl, {"-s", ctl, "role", "alice", "admin"}), 0);
        Peer bob;
        QVERIFY(bob.logIn(jimd_.port, "bob"));
        AdminWindow admin(window_->session());
        admin.show();
        auto listed = [&](const QString &name) {
            return !admin.accounts()->findItems(name, Qt::MatchExactly, 0).isEmpty();
        };
        QTRY_VERIFY2_WITH_TIMEOUT(listed("alice") && listed("bob"), qPrintable(admin.notice()),
                                  kWait);
        admin.kick("bob", "testing");
        QTRY_VERIFY_WITH_TIMEOUT(admin.notice() == "admin_kick bob: done", kWait);
        QVERIFY(pumpUntil(
            bob, [&] { return jim_client_get_state(bob.client) == JIM_CLIENT_DISCONNECTED; }));
        admin.setSetting("registration", "closed");
        QTRY_VERIFY_WITH_TIMEOUT(admin.notice() == "registration is now closed", kWait);
        Peer newcomer; // registration refused: its log-in fails
        QVERIFY(!newcomer.logIn(jimd_.port, "newcomer"));
        admin.setSetting("registration", "open");
        QTRY_VERIFY_WITH_TIMEOUT(admin.notice() == "registration is now open", kWait);
        // The conversations go on beside it.
        QVERIFY(window_->stateText().startsWith("Online as alice"));
    }

    void loginDialog__tells_a_refused_login()
    {
        LoginDialog d;
        d.findChild<QCheckBox *>("tls")->setChecked(false); // the last log-in was over TLS
        d.findChild<QSpinBox *>("port")->setValue(jimd_.port);
        d.findChild<QLineEdit *>("user")->setText("alice");
        d.findChild<QLineEdit *>("password")->setText("wrong password");
        d.findChild<QCheckBox *>("create")->setChecked(false);
        d.show();
        QTest::mouseClick(d.findChild<QPushButton *>("login"), Qt::LeftButton);
        QLabel *error = d.findChild<QLabel *>("error");
        QTRY_VERIFY_WITH_TIMEOUT(error->text().contains("refused"), kWait);
        QVERIFY(d.findChild<QPushButton *>("login")->isEnabled());
        QVERIFY(d.result() != QDialog::Accepted);
    }
};

// `make screenshots`: the log-in dialog, the main window with a conversation and the
// administration window, offscreen, with a fixed font and size.
static int screenshots(const QString &dir)
{
    QTemporaryDir home;
    qputenv("XDG_DATA_HOME", home.filePath("data").toUtf8());
    qputenv("XDG_CONFIG_HOME", home.filePath("config").toUtf8());
    QApplication::setFont(QFont("DejaVu Sans", 10));
    jimd_proc jimd{};
    if (jimd_start(&jimd, 1, nullptr) != 0)
        return 1;
    int rc = 1;
    {
        LoginDialog d;
        d.findChild<QLineEdit *>("server")->setText("chat.example.org");
        d.findChild<QSpinBox *>("port")->setValue(7777);
        d.findChild<QLineEdit *>("user")->setText("alice");
        d.findChild<QLineEdit *>("password")->setText("password1");
        d.resize(420, 300);
        d.show();
        QTest::qWait(200);
        d.grab().save(dir + "/login.png");
    }
    Peer bob, carol, dave;
    bob.logIn(jimd.port, "bob");
    carol.logIn(jimd.port, "carol");
    dave.logIn(jimd.port, "dave");
    dave.close();
    if (MainWindow *w = logInWindow(jimd.port, "alice", true)) {
        w->resize(900, 560);
        w->addContact("bob");
        w->addContact("carol");
        w->addContact("dave");
        w->joinRoom("#jim");
        (void)QTest::qWaitFor(
            [&] {
                return w->contactsModel()->rowCount() == 3 && w->contactsModel()->online("bob");
            },
            kWait);
        jim_client_send(bob.client, nullptr, nullptr, "alice", "Hi Alice! Did the release go out?");
        ChatView *chat = w->openChat("bob");
        (void)QTest::qWaitFor([&] { return !chat->messages().isEmpty(); }, kWait);
        QTest::keyClicks(chat->compose(), "It did: https://example.org/jim/releases");
        QTest::keyClick(chat->compose(), Qt::Key_Return);
        pumpUntil(bob, [&] { return bob.received.size() == 1; });
        jim_client_send(bob.client, nullptr, nullptr, "alice", "Great, thanks. Trying it now.");
        jim_client_send(carol.client, nullptr, nullptr, "alice", "lunch?");
        (void)QTest::qWaitFor([&] { return w->contactsModel()->unread("carol") == 1; }, kWait);
        QTest::keyClicks(chat->compose(), "Tell me how it goes");
        QTest::qWait(300);
        rc = w->grab().save(dir + "/main-window.png") ? 0 : 1;
        // The administration window, alice made an admin over the control socket.
        QString jimctl =
            QString::fromUtf8(std::getenv("top_builddir") ? std::getenv("top_builddir") : ".") +
            "/jimctl/jimctl";
        QString ctl = QString::fromUtf8(jimd.dir) + "/jimd.ctl";
        if (QProcess::execute(jimctl, {"-s", ctl, "role", "alice", "admin"}) == 0) {
            AdminWindow admin(w->session());
            admin.resize(900, 560);
            admin.show();
            (void)QTest::qWaitFor([&] { return admin.accounts()->rowCount() >= 4; }, kWait);
            QTest::qWait(2500); // a few seconds of statistics for the chart
            if (!admin.grab().save(dir + "/admin-window.png"))
                rc = 1;
        } else {
            rc = 1;
        }
        delete w;
    }
    bob.close();
    carol.close();
    jimd_cleanup(&jimd);
    return rc;
}

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QApplication::setOrganizationName("jim");
    QApplication::setApplicationName("jim-qt-test");
    if (argc > 1 && std::strcmp(argv[1], "screenshots") == 0) {
        const char *dir = std::getenv("JIMQT_SCREENSHOTS");
        return screenshots(dir ? dir : ".");
    }
    TestGui t;
    return QTest::qExec(&t, argc, argv);
}

#include "test_gui.moc"

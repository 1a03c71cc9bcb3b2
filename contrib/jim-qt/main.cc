// main.cc — jim-qt, the desktop client: the log-in dialog, then the main window.
#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>

#include "admin_window.hh"
#include "login_dialog.hh"
#include "main_window.hh"

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QApplication::setOrganizationName("jim");
    QApplication::setApplicationName("jim-qt");
    QApplication::setApplicationVersion(QString::fromUtf8(jim_version()));
    QApplication::setWindowIcon(QIcon::fromTheme("jim-qt"));
    QCommandLineParser args;
    args.setApplicationDescription("jim-qt: the JIM desktop client (contacts, rooms, "
                                   "conversations, end-to-end encryption).");
    args.addHelpOption();
    args.addVersionOption();
    QCommandLineOption admin("admin", "Open the administration window (accounts, statistics, "
                                      "settings) instead of the conversations.");
    args.addOption(admin);
    args.process(app);

    jimqt::LoginDialog login;
    if (login.exec() != QDialog::Accepted)
        return 0;
    jimqt::Session *session = login.takeSession();
    if (args.isSet(admin)) {
        jimqt::AdminWindow window(session);
        session->setParent(&window);
        window.resize(900, 600);
        window.show();
        return app.exec();
    }
    jimqt::MainWindow window(session);
    window.resize(900, 600);
    window.show();
    return app.exec();
}

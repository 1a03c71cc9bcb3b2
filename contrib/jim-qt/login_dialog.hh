// login_dialog.hh — jim-qt's log-in dialog: server, port, TLS and its CA file, account,
// password, "create an account"; it remembers the server and the name, never the password.
#pragma once

#include <QCheckBox>
#include <QDialog>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>

#include "session.hh"

namespace jimqt {

/** Asks where and as whom to log in, and logs in (without blocking) before it is accepted. */
class LoginDialog : public QDialog {
    Q_OBJECT
  public:
    explicit LoginDialog(QWidget *parent = nullptr);

    /** The options as filled in. */
    LoginOptions options() const;
    /** The logged-in session, handed over (the caller owns it); NULL before accepted. */
    Session *takeSession();

  private:
    void logIn();
    void loggedIn();
    void failed(const QString &why);
    void chooseCa();

    QLineEdit *server_;
    QSpinBox *port_;
    QCheckBox *tls_;
    QLineEdit *ca_;
    QPushButton *caButton_;
    QLineEdit *user_;
    QLineEdit *password_;
    QCheckBox *create_;
    QLabel *error_;
    QPushButton *login_;
    Session *session_ = nullptr;
};

} // namespace jimqt

// login_dialog.cc — the log-in dialog and what it remembers (QSettings: server, port, TLS,
// CA file and account name; the password never).
#include "login_dialog.hh"

#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QSettings>

namespace jimqt {

LoginDialog::LoginDialog(QWidget *parent) : QDialog(parent)
{
    setWindowTitle(tr("jim — log in"));
    QSettings s;
    auto *form = new QFormLayout;
    server_ = new QLineEdit(s.value("login/server", "127.0.0.1").toString(), this);
    server_->setObjectName("server");
    port_ = new QSpinBox(this);
    port_->setObjectName("port");
    port_->setRange(1, 65535);
    port_->setValue(s.value("login/port", 7777).toInt());
    tls_ = new QCheckBox(tr("Use TLS"), this);
    tls_->setObjectName("tls");
    tls_->setChecked(s.value("login/tls", false).toBool());
    ca_ = new QLineEdit(s.value("login/ca", "").toString(), this);
    ca_->setObjectName("caFile");
    ca_->setPlaceholderText(tr("the system's authorities"));
    caButton_ = new QPushButton(tr("…"), this);
    auto *caRow = new QHBoxLayout;
    caRow->addWidget(ca_, 1);
    caRow->addWidget(caButton_);
    user_ = new QLineEdit(s.value("login/user", "").toString(), this);
    user_->setObjectName("user");
    password_ = new QLineEdit(this);
    password_->setObjectName("password");
    password_->setEchoMode(QLineEdit::Password);
    create_ = new QCheckBox(tr("Create this account"), this);
    create_->setObjectName("create");
    form->addRow(tr("&Server:"), server_);
    form->addRow(tr("&Port:"), port_);
    form->addRow(QString(), tls_);
    form->addRow(tr("CA file:"), caRow);
    form->addRow(tr("&Account:"), user_);
    form->addRow(tr("Pass&word:"), password_);
    form->addRow(QString(), create_);
    error_ = new QLabel(this);
    error_->setObjectName("error");
    error_->setWordWrap(true);
    error_->setStyleSheet("color: #b00");
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    login_ = buttons->addButton(tr("Log in"), QDialogButtonBox::AcceptRole);
    login_->setObjectName("login");
    login_->setDefault(true);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(error_);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(login_, &QPushButton::clicked, this, &LoginDialog::logIn);
    connect(caButton_, &QPushButton::clicked, this, &LoginDialog::chooseCa);
    auto tlsToggled = [this](bool on) {
        ca_->setEnabled(on);
        caButton_->setEnabled(on);
    };
    connect(tls_, &QCheckBox::toggled, this, tlsToggled);
    tlsToggled(tls_->isChecked());
    if (!user_->text().isEmpty())
        password_->setFocus();
}

LoginOptions LoginDialog::options() const
{
    LoginOptions o;
    o.host = server_->text().trimmed();
    o.port = port_->value();
    o.tls = tls_->isChecked();
    o.caFile = ca_->text().trimmed();
    o.user = user_->text().trimmed();
    o.password = password_->text();
    o.create = create_->isChecked();
    return o;
}

void LoginDialog::chooseCa()
{
    QString f = QFileDialog::getOpenFileName(this, tr("Certificate authorities (PEM)"), ca_->text(),
                                             tr("PEM files (*.pem *.crt);;All (*)"));
    if (!f.isEmpty())
        ca_->setText(f);
}

void LoginDialog::logIn()
{
    LoginOptions o = options();
    if (o.host.isEmpty() || o.user.isEmpty()) {
        error_->setText(tr("Give a server and an account name."));
        return;
    }
    if (session_)
        return; // one attempt at a time
    error_->setText(tr("Connecting to %1 port %2…").arg(o.host).arg(o.port));
    login_->setEnabled(false);
    session_ = new Session;
    connect(session_, &Session::loggedIn, this, &LoginDialog::loggedIn);
    connect(session_, &Session::loginFailed, this, &LoginDialog::failed);
    session_->start(o);
}

void LoginDialog::loggedIn()
{
    QSettings s;
    s.setValue("login/server", server_->text().trimmed());
    s.setValue("login/port", port_->value());
    s.setValue("login/tls", tls_->isChecked());
    s.setValue("login/ca", ca_->text().trimmed());
    s.setValue("login/user", user_->text().trimmed());
    password_->clear();
    disconnect(session_, nullptr, this, nullptr);
    accept();
}

void LoginDialog::failed(const QString &why)
{
    error_->setText(why);
    login_->setEnabled(true);
    session_->deleteLater();
    session_ = nullptr;
}

Session *LoginDialog::takeSession()
{
    Session *s = result() == QDialog::Accepted ? session_ : nullptr;
    if (s)
        session_ = nullptr;
    return s;
}

} // namespace jimqt

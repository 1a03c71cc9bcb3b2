// admin_window.cc — the administration window: accounts (sortable, filterable), kick and
// ban, statistics every second with a chart of messages per second, runtime settings.
#include "admin_window.hh"

#include <QDateTime>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QPainter>
#include <QPushButton>
#include <QStatusBar>
#include <QVBoxLayout>

namespace jimqt {

namespace {

constexpr int kSamples = 300; // five minutes at one a second

QString text(const jim_msg *m, jim_field f)
{
    const char *s = jim_msg_get_str(m, f);
    return s ? QString::fromUtf8(s) : QString();
}

qint64 number(const jim_msg *m, jim_field f)
{
    int64_t v = 0;
    jim_msg_get_int(m, f, &v);
    return v;
}

QStandardItem *cell(const QVariant &v)
{
    auto *i = new QStandardItem;
    i->setData(v, Qt::DisplayRole);
    i->setEditable(false);
    return i;
}

QVariant when(qint64 t)
{
    return t > 0 ? QVariant(QDateTime::fromSecsSinceEpoch(t)) : QVariant(QString());
}

} // namespace

RateChart::RateChart(QWidget *parent) : QWidget(parent)
{
    setMinimumSize(240, 80);
}

void RateChart::add(double value)
{
    samples_.push_back(value);
    if (samples_.size() > kSamples)
        samples_.remove(0, samples_.size() - kSamples);
    update();
}

void RateChart::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    p.fillRect(rect(), palette().base());
    p.setPen(palette().mid().color());
    p.drawRect(rect().adjusted(0, 0, -1, -1));
    double top = 1;
    for (double v : samples_)
        top = std::max(top, v);
    p.setPen(palette().text().color());
    p.drawText(rect().adjusted(4, 2, -4, -2), Qt::AlignTop | Qt::AlignLeft,
               tr("messages/s (max %1)").arg(top));
    if (samples_.size() < 2)
        return;
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(QPen(QColor(0x2b, 0x5d, 0x8a), 2));
    double dx = double(width() - 2) / (kSamples - 1);
    double x0 = width() - 1 - dx * (samples_.size() - 1);
    QPolygonF line;
    for (int i = 0; i < samples_.size(); i++)
        line << QPointF(x0 + i * dx, height() - 2 - samples_[i] / top * (height() - 20));
    p.drawPolyline(line);
}

AdminWindow::AdminWindow(Session *session, QWidget *parent) : QMainWindow(parent), session_(session)
{
    setWindowTitle(tr("jim — administration of %1").arg(session_->server()));
    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);
    filter_ = new QLineEdit(central);
    filter_->setObjectName("filter");
    filter_->setPlaceholderText(tr("Filter accounts"));
    model_ = new QStandardItemModel(0, 7, this);
    model_->setHorizontalHeaderLabels({tr("Account"), tr("Created"), tr("Last log-in"),
                                       tr("Last IP"), tr("Log-ins"), tr("Messages sent"),
                                       tr("Online")});
    proxy_ = new QSortFilterProxyModel(this);
    proxy_->setSourceModel(model_);
    proxy_->setFilterKeyColumn(0);
    proxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);
    table_ = new QTableView(central);
    table_->setObjectName("accounts");
    table_->setModel(proxy_);
    table_->setSortingEnabled(true);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->horizontalHeader()->setStretchLastSection(true);
    connect(filter_, &QLineEdit::textChanged, proxy_, &QSortFilterProxyModel::setFilterFixedString);
    auto *buttons = new QHBoxLayout;
    auto *refresh = new QPushButton(tr("Refresh"), central);
    auto *kickButton = new QPushButton(tr("Kick…"), central);
    auto *banButton = new QPushButton(tr("Ban…"), central);
    buttons->addWidget(filter_, 1);
    buttons->addWidget(refresh);
    buttons->addWidget(kickButton);
    buttons->addWidget(banButton);
    layout->addLayout(buttons);
    layout->addWidget(table_, 1);
    connect(refresh, &QPushButton::clicked, this, &AdminWindow::refreshAccounts);
    for (auto [button, ban] : {std::pair{kickButton, false}, std::pair{banButton, true}})
        connect(button, &QPushButton::clicked, this, [this, ban = ban] {
            QString user = selected();
            if (user.isEmpty())
                return;
            bool ok = false;
            QString reason =
                QInputDialog::getText(this, ban ? tr("Ban %1").arg(user) : tr("Kick %1").arg(user),
                                      tr("Reason (optional):"), QLineEdit::Normal, QString(), &ok);
            if (ok)
                ban ? this->ban(user, reason) : kick(user, reason);
        });
    auto *bottom = new QHBoxLayout;
    stats_ = new QLabel(tr("Statistics: waiting for the server…"), central);
    stats_->setObjectName("stats");
    chart_ = new RateChart(central);
    bottom->addWidget(stats_);
    bottom->addWidget(chart_, 1);
    auto *settings = new QFormLayout;
    setting_ = new QLineEdit("registration", central);
    setting_->setObjectName("setting");
    value_ = new QLineEdit(central);
    value_->setObjectName("value");
    auto *apply = new QPushButton(tr("Change"), central);
    settings->addRow(tr("Setting:"), setting_);
    settings->addRow(tr("Value:"), value_);
    settings->addRow(QString(), apply);
    bottom->addLayout(settings);
    connect(apply, &QPushButton::clicked, this,
            [this] { setSetting(setting_->text().trimmed(), value_->text().trimmed()); });
    layout->addLayout(bottom);
    notice_ = new QLabel(central);
    notice_->setObjectName("notice");
    notice_->setWordWrap(true);
    layout->addWidget(notice_);
    setCentralWidget(central);
    connect(&tick_, &QTimer::timeout, this, &AdminWindow::refreshStats);
    tick_.start(1000);
    refreshAccounts();
    refreshStats();
}

QString AdminWindow::selected() const
{
    QModelIndex i = table_->currentIndex();
    return i.isValid() ? proxy_->index(i.row(), 0).data().toString() : QString();
}

void AdminWindow::refused(const QString &what, int status, const jim_msg *response)
{
    QString why = response && jim_msg_get_str(response, JIM_FIELD_ERROR)
                      ? text(response, JIM_FIELD_ERROR)
                      : QString::fromUtf8(jim_strerror(status));
    int code = response ? jim_msg_response(response) : 0;
    notice_->setText(code ? tr("%1: the server answered %2 %3").arg(what).arg(code).arg(why)
                          : tr("%1: %2").arg(what, why));
}

void AdminWindow::refreshAccounts()
{
    jim_msg *req = nullptr;
    if (jim_msg_new(&req) != JIM_OK)
        return;
    jim_msg_init_action(req, JIM_ACTION_ADMIN_USERS);
    session_->request(req, this, [this](int status, const jim_msg *resp, const jim_list *entries) {
        if (status != JIM_OK) {
            refused("admin_users", status, resp);
            return;
        }
        model_->removeRows(0, model_->rowCount());
        for (size_t i = 0; entries && i < jim_list_count(entries); i++) {
            const jim_msg *m = jim_list_get(entries, i);
            int online = 0;
            jim_msg_get_bool(m, JIM_FIELD_ONLINE, &online);
            model_->appendRow(
                {cell(text(m, JIM_FIELD_USER_ID)), cell(when(number(m, JIM_FIELD_CREATED))),
                 cell(when(number(m, JIM_FIELD_LAST_LOGIN))), cell(text(m, JIM_FIELD_LAST_IP)),
                 cell(number(m, JIM_FIELD_LOGINS)), cell(number(m, JIM_FIELD_MESSAGES_SENT)),
                 cell(online ? tr("online") : QString())});
        }
    });
    jim_msg_free(req);
}

void AdminWindow::refreshStats()
{
    jim_msg *req = nullptr;
    if (jim_msg_new(&req) != JIM_OK)
        return;
    jim_msg_init_action(req, JIM_ACTION_ADMIN_STATS);
    session_->request(req, this, [this](int status, const jim_msg *resp, const jim_list *) {
        if (status != JIM_OK) {
            refused("admin_stats", status, resp);
            return;
        }
        qint64 up = number(resp, JIM_FIELD_UPTIME), rate = number(resp, JIM_FIELD_MESSAGES_PER_SEC);
        stats_->setText(tr("Up %1 h %2 min\nWorkers: %3\nConnections: %4\nMessages/s: %5\n"
                           "Database: %6 KiB\nDelivered: %7, stored offline: %8\n"
                           "Failed logins: %9")
                            .arg(up / 3600)
                            .arg(up / 60 % 60)
                            .arg(number(resp, JIM_FIELD_WORKERS))
                            .arg(number(resp, JIM_FIELD_CONNECTIONS))
                            .arg(rate)
                            .arg(number(resp, JIM_FIELD_DB_BYTES) / 1024)
                            .arg(number(resp, JIM_FIELD_DELIVERIES))
                            .arg(number(resp, JIM_FIELD_OFFLINE_STORES))
                            .arg(number(resp, JIM_FIELD_LOGIN_FAILURES)));
        chart_->add(double(rate));
    });
    jim_msg_free(req);
}

void AdminWindow::action(jim_action a, const QString &user, const QString &reason)
{
    jim_msg *req = nullptr;
    if (jim_msg_new(&req) != JIM_OK)
        return;
    jim_msg_make_named(req, a, user.toUtf8().constData());
    if (!reason.isEmpty())
        jim_msg_set_str(req, JIM_FIELD_REASON, reason.toUtf8().constData());
    QString what = QString::fromUtf8(jim_action_name(a));
    session_->request(req, this,
                      [this, what, user](int status, const jim_msg *resp, const jim_list *) {
                          if (status != JIM_OK) {
                              refused(what, status, resp);
                              return;
                          }
                          notice_->setText(tr("%1 %2: done").arg(what, user));
                          refreshAccounts();
                      });
    jim_msg_free(req);
}

void AdminWindow::kick(const QString &user, const QString &reason)
{
    action(JIM_ACTION_ADMIN_KICK, user, reason);
}

void AdminWindow::ban(const QString &user, const QString &reason)
{
    action(JIM_ACTION_ADMIN_BAN, user, reason);
}

void AdminWindow::setSetting(const QString &setting, const QString &value)
{
    jim_msg *req = nullptr;
    if (jim_msg_new(&req) != JIM_OK)
        return;
    jim_msg_init_action(req, JIM_ACTION_ADMIN_SET);
    jim_msg_set_str(req, JIM_FIELD_SETTING, setting.toUtf8().constData());
    jim_msg_set_str(req, JIM_FIELD_VALUE, value.toUtf8().constData());
    session_->request(req, this,
                      [this, setting, value](int status, const jim_msg *resp, const jim_list *) {
                          if (status != JIM_OK) {
                              refused("admin_set", status, resp);
                              return;
                          }
                          notice_->setText(tr("%1 is now %2").arg(setting, value));
                      });
    jim_msg_free(req);
}

} // namespace jimqt

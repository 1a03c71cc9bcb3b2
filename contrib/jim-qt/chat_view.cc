// chat_view.cc — the conversation tab: rendering, history paging and the compose box.
#include "chat_view.hh"

#include <QDateTime>
#include <QKeyEvent>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollBar>
#include <QVBoxLayout>

#include <algorithm>

namespace jimqt {

ChatView::ChatView(Session *session, const QString &with, QWidget *parent)
    : QWidget(parent), session_(session), with_(with)
{
    setObjectName(QStringLiteral("chat:") + with);
    auto *layout = new QVBoxLayout(this);
    lock_ = new QLabel(this);
    lock_->setObjectName(QStringLiteral("lock"));
    layout->addWidget(lock_);
    history_ = new QTextBrowser(this);
    history_->setObjectName(QStringLiteral("history"));
    history_->setOpenExternalLinks(true);
    layout->addWidget(history_, 1);
    auto *row = new QHBoxLayout;
    compose_ = new QPlainTextEdit(this);
    compose_->setObjectName(QStringLiteral("compose"));
    compose_->setPlaceholderText(
        tr("Message %1 (Enter sends, Shift+Enter: new line, /help)").arg(with));
    compose_->setMaximumHeight(80);
    compose_->installEventFilter(this);
    row->addWidget(compose_, 1);
    auto *sendButton = new QPushButton(tr("Send"), this);
    row->addWidget(sendButton);
    layout->addLayout(row);
    connect(sendButton, &QPushButton::clicked, this, &ChatView::send);
    connect(history_->verticalScrollBar(), &QScrollBar::valueChanged, this, &ChatView::scrolled);
    // The document is laid out after setHtml(): hold the view where render() left it.
    connect(history_->verticalScrollBar(), &QScrollBar::rangeChanged, this, [this](int, int max) {
        QScrollBar *bar = history_->verticalScrollBar();
        QSignalBlocker quiet(bar);
        bar->setValue(max - fromBottom_);
    });
    connect(session_, &Session::historyLoaded, this, &ChatView::older);
    updateLock();
}

void ChatView::loadInitial()
{
    QVector<ChatMessage> stored = session_->storedHistory(with_, 0, kPage);
    merge(stored);
    render();
    if (stored.isEmpty()) {
        loading_ = true;
        session_->requestHistory(with_, 0, kPage);
    }
}

qint64 ChatView::oldestSeq() const
{
    for (const ChatMessage &m : messages_)
        if (m.seq > 0)
            return m.seq;
    return 0;
}

void ChatView::loadOlder()
{
    if (loading_ || exhausted_)
        return;
    qint64 before = oldestSeq();
    if (before == 0 && !messages_.isEmpty())
        return; // only pending messages: nothing to page from
    QVector<ChatMessage> stored =
        before > 0 ? session_->storedHistory(with_, before, kPage) : QVector<ChatMessage>();
    if (merge(stored) > 0) {
        render();
        return;
    }
    loading_ = true;
    session_->requestHistory(with_, before, kPage);
}

void ChatView::older(const QString &with, const QVector<ChatMessage> &older)
{
    if (with != with_)
        return;
    loading_ = false;
    if (merge(older) == 0)
        exhausted_ = true;
    render();
}

void ChatView::scrolled(int value)
{
    fromBottom_ = history_->verticalScrollBar()->maximum() - value;
    if (value == history_->verticalScrollBar()->minimum() &&
        history_->verticalScrollBar()->maximum() > 0)
        loadOlder();
}

// Adds what is new (by seq, or by id for this client's own), keeping the order; how many.
int ChatView::merge(const QVector<ChatMessage> &ms)
{
    int added = 0;
    for (const ChatMessage &m : ms) {
        auto same = std::find_if(messages_.begin(), messages_.end(), [&](const ChatMessage &o) {
            return (m.seq > 0 && o.seq == m.seq) || (!m.id.isEmpty() && o.id == m.id);
        });
        if (same != messages_.end()) {
            ChatMessage keep = *same;
            *same = m;
            if (same->text.isEmpty())
                same->text = keep.text;
            if (same->time == 0)
                same->time = keep.time;
            if (same->id.isEmpty())
                same->id = keep.id;
            if (same->state < 0 && m.outgoing)
                same->state = keep.state;
            continue;
        }
        messages_.push_back(m);
        added++;
    }
    std::stable_sort(messages_.begin(), messages_.end(),
                     [](const ChatMessage &a, const ChatMessage &b) {
                         if ((a.seq == 0) != (b.seq == 0))
                             return b.seq == 0;
                         return a.seq < b.seq;
                     });
    return added;
}

void ChatView::addMessage(const ChatMessage &m)
{
    merge({m});
    render();
}

void ChatView::addNote(const QString &text)
{
    notes_ << text;
    render();
}

QString ChatView::html(const ChatMessage &m) const
{
    static const QRegularExpression url(QStringLiteral("(https?://[^\\s<]+)"));
    QString when = m.time ? QDateTime::fromSecsSinceEpoch(m.time).toString(QStringLiteral("HH:mm"))
                          : QStringLiteral("--:--");
    QString text = m.e2e == JIM_E2E_FAILED
                       ? tr("[cannot decrypt: %1]").arg(m.e2eError).toHtmlEscaped()
                       : m.text.toHtmlEscaped();
    text.replace(url, QStringLiteral("<a href=\"\\1\">\\1</a>"));
    text.replace(QLatin1Char('\n'), QStringLiteral("<br>"));
    QString state;
    if (m.outgoing) {
        switch (m.state) {
        case JIM_OUTGOING_PENDING: state = tr("sent"); break;
        case JIM_OUTGOING_STORED: state = tr("stored ✓"); break;
        case JIM_OUTGOING_FAILED: state = tr("not sent ✗"); break;
        default: state = tr("delivered ✓✓"); break;
        }
    }
    QString lock = m.e2e == JIM_E2E_DECRYPTED ? QStringLiteral(" 🔒") : QString();
    return QStringLiteral("<p><span style=\"color:#777\">%1</span> <b>%2</b>%3: %4"
                          " <span style=\"color:#777;font-size:small\">%5</span></p>")
        .arg(when, m.from.toHtmlEscaped(), lock, text, state);
}

void ChatView::render()
{
    QScrollBar *bar = history_->verticalScrollBar();
    // At the bottom it stays at the bottom; older messages on top keep what was in view.
    fromBottom_ = bar->value() >= bar->maximum() - 4 ? 0 : bar->maximum() - bar->value();
    QString body;
    for (const ChatMessage &m : messages_)
        body += html(m);
    for (const QString &n : notes_)
        body += QStringLiteral("<p style=\"color:#a33\"><i>%1</i></p>").arg(n.toHtmlEscaped());
    {
        QSignalBlocker quiet(bar);
        history_->setHtml(body);
        bar->setValue(bar->maximum() - fromBottom_);
    }
    updateLock();
}

void ChatView::updateLock()
{
    if (with_.startsWith(QLatin1Char('#'))) {
        lock_->setText(tr("Room %1 — not end-to-end encrypted").arg(with_));
        return;
    }
    jim_peer_key k = session_->peerKey(with_);
    switch (k.state) {
    case JIM_KEY_TRUSTED:
        lock_->setText(
            k.e2e_on
                ? tr("🔒 End-to-end encrypted — %1's key %2").arg(with_, QString::fromUtf8(k.pinned))
                : tr("Encryption turned off for %1").arg(with_));
        break;
    case JIM_KEY_CHANGED:
        lock_->setText(tr("⚠ %1's key changed: not sent until trusted").arg(with_));
        break;
    case JIM_KEY_NONE: lock_->setText(tr("%1 has no key: not encrypted").arg(with_)); break;
    case JIM_KEY_UNAVAILABLE:
        lock_->setText(tr("This server serves no keys: not encrypted"));
        break;
    default: lock_->setText(tr("Conversation with %1").arg(with_)); break;
    }
}

void ChatView::send()
{
    QString text = compose_->toPlainText();
    while (text.endsWith(QLatin1Char('\n')))
        text.chop(1);
    if (text.trimmed().isEmpty())
        return;
    if (text.startsWith(QLatin1Char('/'))) {
        compose_->clear();
        emit command(text, with_);
        return;
    }
    QString why;
    if (session_->post(with_, text, &why).isEmpty()) {
        addNote(tr("not sent: %1").arg(why));
        emit failed(why);
        return;
    }
    compose_->clear();
}

bool ChatView::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == compose_ && event->type() == QEvent::KeyPress) {
        auto *key = static_cast<QKeyEvent *>(event);
        if (key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter) {
            if (key->modifiers() & Qt::ShiftModifier)
                compose_->insertPlainText(QStringLiteral("\n"));
            else
                send();
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

} // namespace jimqt

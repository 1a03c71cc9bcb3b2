// chat_view.hh — one conversation tab: the history (the store's first, then the server's
// when scrolled up) and the live messages above a compose box.
#pragma once

#include <QLabel>
#include <QPlainTextEdit>
#include <QTextBrowser>
#include <QWidget>

#include "session.hh"

namespace jimqt {

/** A conversation with a user or a "#room". */
class ChatView : public QWidget {
    Q_OBJECT
  public:
    /** How many messages one step of history brings. */
    static constexpr int kPage = 30;

    ChatView(Session *session, const QString &with, QWidget *parent = nullptr);

    /** The user or "#room". */
    QString with() const { return with_; }
    /** Adds a message, or updates the one with its seq or id (delivery state). */
    void addMessage(const ChatMessage &m);
    /** A line of the program's own (a command's answer, an error) under the messages. */
    void addNote(const QString &text);
    /** Shows the newest messages the store has, or asks the server when it has none. */
    void loadInitial();
    /** One step further back: the store first, then `history before` from the server. */
    void loadOlder();
    /** The messages shown. */
    const QVector<ChatMessage> &messages() const { return messages_; }
    /** The compose box and the history view. */
    QPlainTextEdit *compose() const { return compose_; }
    QTextBrowser *historyView() const { return history_; }

  signals:
    /** A line starting with '/' was entered. */
    void command(const QString &line, const QString &with);
    /** Sending failed at once: why. */
    void failed(const QString &why);

  protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

  private:
    void send();
    void render();
    void scrolled(int value);
    void older(const QString &with, const QVector<ChatMessage> &older);
    int merge(const QVector<ChatMessage> &ms);
    qint64 oldestSeq() const;
    QString html(const ChatMessage &m) const;
    void updateLock();

    Session *session_;
    QString with_;
    QTextBrowser *history_;
    QPlainTextEdit *compose_;
    QLabel *lock_;
    QVector<ChatMessage> messages_; // by seq; pending ones (seq 0) last
    QStringList notes_;
    int fromBottom_ = 0;     // where render() holds the view: pixels above the bottom
    bool loading_ = false;   // a history request is out
    bool exhausted_ = false; // the server has nothing older
};

} // namespace jimqt

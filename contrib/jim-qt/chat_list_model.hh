// chat_list_model.hh — a QAbstractListModel of conversations: the contacts (with online
// status from libjim's presence pushes) or the rooms, each with its unread count.
#pragma once

#include <QAbstractListModel>
#include <QVector>

#include "session.hh"

namespace jimqt {

/** A list of conversations: contacts or rooms. */
class ChatListModel : public QAbstractListModel {
    Q_OBJECT
  public:
    enum Role { NameRole = Qt::UserRole + 1, OnlineRole, UnreadRole };

    explicit ChatListModel(QObject *parent = nullptr) : QAbstractListModel(parent) {}

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role) const override;

    /** Replaces the entries by libjim's contact list; unread counts are kept. */
    void setContacts(const QVector<Contact> &contacts);
    /** Replaces the entries by these rooms; unread counts are kept. */
    void setRooms(const QStringList &rooms);
    /** One more unread message in name's conversation (an entry is added when missing). */
    void bump(const QString &name);
    /** Name's conversation was read. */
    void clearUnread(const QString &name);
    /** Name's unread count (0 when not listed). */
    int unread(const QString &name) const;
    /** Whether name is listed as online. */
    bool online(const QString &name) const;
    /** Name's row, or -1. */
    int rowOf(const QString &name) const;
    /** The names, in order. */
    QStringList names() const;

  private:
    struct Entry {
        QString name;
        bool online = false;
        int unread = 0;
    };
    void replace(QVector<Entry> entries);
    QVector<Entry> entries_;
};

} // namespace jimqt

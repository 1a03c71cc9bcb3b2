// chat_list_model.cc — the contacts' and rooms' list model.
#include "chat_list_model.hh"

#include <QFont>
#include <QHash>
#include <QIcon>
#include <QPainter>
#include <QPixmap>

namespace jimqt {

namespace {

// A small dot: green for online, grey for offline.
QIcon dot(QColor color)
{
    QPixmap p(12, 12);
    p.fill(Qt::transparent);
    QPainter painter(&p);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setPen(Qt::NoPen);
    painter.setBrush(color);
    painter.drawEllipse(2, 2, 8, 8);
    return QIcon(p);
}

} // namespace

int ChatListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(entries_.size());
}

QVariant ChatListModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= entries_.size())
        return QVariant();
    const Entry &e = entries_[index.row()];
    switch (role) {
    case Qt::DisplayRole:
        return e.unread ? QStringLiteral("%1 (%2)").arg(e.name).arg(e.unread) : e.name;
    case Qt::DecorationRole:
        if (e.name.startsWith(QLatin1Char('#')))
            return QVariant();
        {
            static const QIcon on = dot(QColor(0x2e, 0xa0, 0x43)),
                               off = dot(QColor(0xb0, 0xb0, 0xb0));
            return e.online ? on : off;
        }
    case Qt::FontRole: {
        QFont f;
        f.setBold(e.unread > 0);
        return f;
    }
    case Qt::ToolTipRole:
        if (e.name.startsWith(QLatin1Char('#')))
            return e.name;
        return e.online ? tr("%1 is online").arg(e.name) : tr("%1 is offline").arg(e.name);
    case NameRole: return e.name;
    case OnlineRole: return e.online;
    case UnreadRole: return e.unread;
    default: return QVariant();
    }
}

void ChatListModel::replace(QVector<Entry> entries)
{
    QHash<QString, int> unread;
    for (const Entry &e : entries_)
        unread.insert(e.name, e.unread);
    for (Entry &e : entries)
        e.unread = unread.value(e.name, 0);
    // A conversation with unread messages stays listed until it is read.
    for (const Entry &e : entries_) {
        bool kept = false;
        for (const Entry &n : entries)
            kept = kept || n.name == e.name;
        if (!kept && e.unread > 0)
            entries.push_back(e);
    }
    beginResetModel();
    entries_ = std::move(entries);
    endResetModel();
}

void ChatListModel::setContacts(const QVector<Contact> &contacts)
{
    QVector<Entry> entries;
    for (const Contact &c : contacts)
        entries.push_back(Entry{c.name, c.online, 0});
    replace(std::move(entries));
}

void ChatListModel::setRooms(const QStringList &rooms)
{
    QVector<Entry> entries;
    for (const QString &r : rooms)
        entries.push_back(Entry{r, false, 0});
    replace(std::move(entries));
}

void ChatListModel::bump(const QString &name)
{
    int row = rowOf(name);
    if (row < 0) {
        beginInsertRows(QModelIndex(), entries_.size(), entries_.size());
        entries_.push_back(Entry{name, false, 1});
        endInsertRows();
        return;
    }
    entries_[row].unread++;
    emit dataChanged(index(row), index(row));
}

void ChatListModel::clearUnread(const QString &name)
{
    int row = rowOf(name);
    if (row < 0 || entries_[row].unread == 0)
        return;
    entries_[row].unread = 0;
    emit dataChanged(index(row), index(row));
}

int ChatListModel::unread(const QString &name) const
{
    int row = rowOf(name);
    return row < 0 ? 0 : entries_[row].unread;
}

bool ChatListModel::online(const QString &name) const
{
    int row = rowOf(name);
    return row >= 0 && entries_[row].online;
}

int ChatListModel::rowOf(const QString &name) const
{
    for (int i = 0; i < entries_.size(); i++)
        if (entries_[i].name == name)
            return i;
    return -1;
}

QStringList ChatListModel::names() const
{
    QStringList out;
    for (const Entry &e : entries_)
        out << e.name;
    return out;
}

} // namespace jimqt

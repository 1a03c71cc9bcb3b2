// The store's queries on accounts, contacts, rooms and rate-limit events (store.hh).
#include "store.hh"

#include "store_sql.hh"

#include <algorithm>

namespace jimd {

using namespace sql;

Result Store::create_user(const std::string &name, const std::string &pwhash,
                          const std::string &info, int64_t now)
{
    Reset r{st_create_user_};
    bind_text(st_create_user_, 1, name);
    bind_text(st_create_user_, 2, pwhash);
    bind_text(st_create_user_, 3, info);
    sqlite3_bind_int64(st_create_user_, 4, now);
    if (sqlite3_step(st_create_user_) != SQLITE_DONE)
        return fail("create user"), Result::Error;
    return sqlite3_changes(db_) ? Result::Ok : Result::Exists;
}

Result Store::get_user(const std::string &name, Account *out)
{
    Reset r{st_get_user_};
    bind_text(st_get_user_, 1, name);
    int rc = sqlite3_step(st_get_user_);
    if (rc == SQLITE_DONE)
        return Result::NotFound;
    if (rc != SQLITE_ROW)
        return fail("get user"), Result::Error;
    out->id = sqlite3_column_int64(st_get_user_, 0);
    out->name = column_text(st_get_user_, 1);
    out->pwhash = column_text(st_get_user_, 2);
    out->role = column_text(st_get_user_, 3);
    out->banned = sqlite3_column_int(st_get_user_, 4) != 0;
    out->general_since = sqlite3_column_int64(st_get_user_, 5);
    return Result::Ok;
}

bool Store::record_login(int64_t user_id, int64_t now, const std::string &ip)
{
    Reset r{st_login_};
    sqlite3_bind_int64(st_login_, 1, user_id);
    sqlite3_bind_int64(st_login_, 2, now);
    bind_text(st_login_, 3, ip);
    return sqlite3_step(st_login_) == SQLITE_DONE || fail("record login");
}

bool Store::users_with_prefix(const std::string &prefix, const std::string &after, int limit,
                              std::vector<std::string> *out)
{
    Reset r{st_users_prefix_};
    bind_text(st_users_prefix_, 1, prefix);
    bind_text(st_users_prefix_, 2, after);
    sqlite3_bind_int(st_users_prefix_, 3, limit);
    int rc;
    while ((rc = sqlite3_step(st_users_prefix_)) == SQLITE_ROW)
        out->push_back(column_text(st_users_prefix_, 0));
    return rc == SQLITE_DONE || fail("list users");
}

bool Store::contacts(int64_t owner, std::vector<std::string> *out)
{
    Reset r{st_contacts_};
    sqlite3_bind_int64(st_contacts_, 1, owner);
    int rc;
    while ((rc = sqlite3_step(st_contacts_)) == SQLITE_ROW)
        out->push_back(column_text(st_contacts_, 0));
    return rc == SQLITE_DONE || fail("contacts");
}

Result Store::add_contact(int64_t owner, const std::string &contact)
{
    Account a;
    Result found = get_user(contact, &a);
    if (found != Result::Ok)
        return found;
    Reset r{st_add_contact_};
    sqlite3_bind_int64(st_add_contact_, 1, owner);
    bind_text(st_add_contact_, 2, contact);
    if (sqlite3_step(st_add_contact_) != SQLITE_DONE)
        return fail("add contact"), Result::Error;
    return sqlite3_changes(db_) ? Result::Ok : Result::Exists;
}

Result Store::del_contact(int64_t owner, const std::string &contact)
{
    Reset r{st_del_contact_};
    sqlite3_bind_int64(st_del_contact_, 1, owner);
    bind_text(st_del_contact_, 2, contact);
    if (sqlite3_step(st_del_contact_) != SQLITE_DONE)
        return fail("del contact"), Result::Error;
    return sqlite3_changes(db_) ? Result::Ok : Result::NotFound;
}

Result Store::join(const std::string &room, int64_t user_id, int64_t now, int max_rooms,
                   int max_created_per_hour)
{
    if (!begin())
        return Result::Error;
    int64_t room_id = 0;
    {
        Reset r{st_room_get_};
        bind_text(st_room_get_, 1, room);
        int rc = sqlite3_step(st_room_get_);
        if (rc == SQLITE_ROW)
            room_id = sqlite3_column_int64(st_room_get_, 0);
        else if (rc != SQLITE_DONE)
            return fail("join"), rollback(), Result::Error;
    }
    if (room_id) {
        sqlite3_bind_int64(st_member_, 1, room_id);
        sqlite3_bind_int64(st_member_, 2, user_id);
        if (one_int(st_member_) == 1)
            return rollback(), Result::Exists;
    }
    sqlite3_bind_int64(st_memberships_, 1, user_id);
    int64_t rooms = one_int(st_memberships_);
    if (rooms < 0)
        return fail("join"), rollback(), Result::Error;
    if (rooms >= max_rooms)
        return rollback(), Result::TooMany;
    if (!room_id) {
        sqlite3_bind_int64(st_created_since_, 1, user_id);
        sqlite3_bind_int64(st_created_since_, 2, now - 3600);
        int64_t created = one_int(st_created_since_);
        if (created < 0)
            return fail("join"), rollback(), Result::Error;
        if (created >= max_created_per_hour)
            return rollback(), Result::TooOften;
        Reset r{st_room_create_};
        bind_text(st_room_create_, 1, room);
        sqlite3_bind_int64(st_room_create_, 2, user_id);
        sqlite3_bind_int64(st_room_create_, 3, now);
        if (sqlite3_step(st_room_create_) != SQLITE_DONE)
            return fail("create room"), rollback(), Result::Error;
        room_id = sqlite3_last_insert_rowid(db_);
    }
    Reset r{st_join_};
    sqlite3_bind_int64(st_join_, 1, room_id);
    sqlite3_bind_int64(st_join_, 2, user_id);
    if (sqlite3_step(st_join_) != SQLITE_DONE)
        return fail("join"), rollback(), Result::Error;
    bool added = sqlite3_changes(db_) > 0;
    if (!commit())
        return Result::Error;
    return added ? Result::Ok : Result::Exists;
}

Result Store::leave(const std::string &room, int64_t user_id)
{
    Reset r{st_leave_};
    bind_text(st_leave_, 1, room);
    sqlite3_bind_int64(st_leave_, 2, user_id);
    if (sqlite3_step(st_leave_) != SQLITE_DONE)
        return fail("leave"), Result::Error;
    return sqlite3_changes(db_) ? Result::Ok : Result::NotFound;
}

bool Store::user_rooms(int64_t user_id, std::vector<std::string> *out)
{
    Reset r{st_user_rooms_};
    sqlite3_bind_int64(st_user_rooms_, 1, user_id);
    int rc;
    while ((rc = sqlite3_step(st_user_rooms_)) == SQLITE_ROW)
        out->push_back(column_text(st_user_rooms_, 0));
    return rc == SQLITE_DONE || fail("user rooms");
}

bool Store::room_exists(const std::string &room)
{
    Reset r{st_room_get_};
    bind_text(st_room_get_, 1, room);
    return sqlite3_step(st_room_get_) == SQLITE_ROW;
}

bool Store::rooms(const std::string &prefix, const std::string &after, int limit,
                  std::vector<std::pair<std::string, int64_t>> *out)
{
    Reset r{st_rooms_};
    bind_text(st_rooms_, 1, prefix);
    bind_text(st_rooms_, 2, after);
    sqlite3_bind_int(st_rooms_, 3, limit);
    int rc;
    while ((rc = sqlite3_step(st_rooms_)) == SQLITE_ROW)
        out->emplace_back(column_text(st_rooms_, 0), sqlite3_column_int64(st_rooms_, 1));
    return rc == SQLITE_DONE || fail("rooms");
}

Result Store::count_event(const std::vector<Limit> &limits, int64_t now, int64_t *retry_after)
{
    if (!begin())
        return Result::Error;
    for (const Limit &l : limits) {
        Reset r{st_events_};
        bind_text(st_events_, 1, l.key);
        sqlite3_bind_int64(st_events_, 2, now - l.window);
        if (sqlite3_step(st_events_) != SQLITE_ROW)
            return fail("count events"), rollback(), Result::Error;
        if (sqlite3_column_int64(st_events_, 0) >= l.max) {
            *retry_after =
                std::max<int64_t>(1, sqlite3_column_int64(st_events_, 1) + l.window - now);
            rollback();
            return Result::TooOften;
        }
    }
    for (const Limit &l : limits) {
        Reset r{st_add_event_};
        bind_text(st_add_event_, 1, l.key);
        sqlite3_bind_int64(st_add_event_, 2, now);
        if (sqlite3_step(st_add_event_) != SQLITE_DONE)
            return fail("count event"), rollback(), Result::Error;
    }
    return commit() ? Result::Ok : Result::Error;
}

bool Store::forgive_event(const std::vector<std::string> &keys)
{
    if (!begin())
        return false;
    for (const std::string &key : keys) {
        Reset r{st_forgive_};
        bind_text(st_forgive_, 1, key);
        if (sqlite3_step(st_forgive_) != SQLITE_DONE)
            return fail("forgive event"), rollback(), false;
    }
    return commit();
}

bool Store::prune_events(int64_t now)
{
    Reset r{st_prune_events_};
    sqlite3_bind_int64(st_prune_events_, 1, now - 86400);
    return sqlite3_step(st_prune_events_) == SQLITE_DONE || fail("prune events");
}

int64_t Store::user_count()
{
    Reset r{st_user_count_};
    return sqlite3_step(st_user_count_) == SQLITE_ROW ? sqlite3_column_int64(st_user_count_, 0)
                                                      : -1;
}

} // namespace jimd

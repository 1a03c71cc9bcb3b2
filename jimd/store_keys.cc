// The store's queries on the accounts' public keys, for end-to-end encryption (store.hh).
#include "store.hh"

#include "store_sql.hh"

namespace jimd {

using namespace sql;

bool Store::put_key(int64_t user_id, const std::string &key)
{
    if (!st_put_key_ && !(st_put_key_ = prepare("UPDATE users SET pubkey = ?2 WHERE id = ?1")))
        return false;
    Reset r{st_put_key_};
    sqlite3_bind_int64(st_put_key_, 1, user_id);
    bind_text(st_put_key_, 2, key);
    return sqlite3_step(st_put_key_) == SQLITE_DONE || fail("put key");
}

Result Store::get_key(const std::string &name, std::string *key)
{
    if (!st_get_key_ &&
        !(st_get_key_ = prepare("SELECT pubkey FROM users WHERE name = ?1 AND pubkey IS NOT NULL")))
        return Result::Error;
    Reset r{st_get_key_};
    bind_text(st_get_key_, 1, name);
    int rc = sqlite3_step(st_get_key_);
    if (rc == SQLITE_DONE)
        return Result::NotFound;
    if (rc != SQLITE_ROW)
        return fail("get key"), Result::Error;
    *key = column_text(st_get_key_, 0);
    return key->empty() ? Result::NotFound : Result::Ok;
}

} // namespace jimd

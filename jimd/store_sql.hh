// Helpers shared by the store's files (store.cc, store_accounts.cc, store_messages.cc):
// binding and reading columns, and resetting a statement whatever path leaves its scope.
#pragma once

#include "store.hh"

#include <sqlite3.h>

#include <string>
#include <vector>

namespace jimd::sql {

inline void bind_text(sqlite3_stmt *st, int i, const std::string &s)
{
    sqlite3_bind_text(st, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

inline std::string column_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? std::string(reinterpret_cast<const char *>(t),
                           static_cast<size_t>(sqlite3_column_bytes(st, i)))
             : std::string();
}

// Resets a statement when the scope ends, whatever path leaves it.
struct Reset {
    sqlite3_stmt *st;
    ~Reset()
    {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
};

// The single integer a statement returns, or -1; the statement is reset.
inline int64_t one_int(sqlite3_stmt *st)
{
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return v;
}

} // namespace jimd::sql

// The store's queries on the message log: inserts, pending rows, sync, history and the
// history index (store.hh).
#include "store.hh"

#include "store_sql.hh"

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>

namespace jimd {

using namespace sql;

bool Store::insert_message(StoredMessage *m, bool *dup)
{
    *dup = false;
    {
        Reset r{st_insert_};
        sqlite3_bind_int64(st_insert_, 1, m->time);
        // The strings outlive the statement's step: no copies (SQLITE_STATIC).
        sqlite3_bind_text(st_insert_, 2, m->from.data(), static_cast<int>(m->from.size()),
                          SQLITE_STATIC);
        sqlite3_bind_text(st_insert_, 3, m->to.data(), static_cast<int>(m->to.size()),
                          SQLITE_STATIC);
        sqlite3_bind_text(st_insert_, 4, m->encoding.data(), static_cast<int>(m->encoding.size()),
                          SQLITE_STATIC);
        sqlite3_bind_text(st_insert_, 5, m->text.data(), static_cast<int>(m->text.size()),
                          SQLITE_STATIC);
        if (m->client_id.empty())
            sqlite3_bind_null(st_insert_, 6);
        else
            bind_text(st_insert_, 6, m->client_id);
        if (sqlite3_step(st_insert_) != SQLITE_DONE)
            return fail("insert message");
        if (sqlite3_changes(db_) == 1) {
            m->seq = sqlite3_last_insert_rowid(db_);
            return true;
        }
    }
    // Nothing inserted: (sender, client_id) was stored before.
    *dup = true;
    Reset r{st_dup_};
    bind_text(st_dup_, 1, m->from);
    bind_text(st_dup_, 2, m->client_id);
    if (sqlite3_step(st_dup_) != SQLITE_ROW)
        return fail("find duplicate");
    m->seq = sqlite3_column_int64(st_dup_, 0);
    return true;
}

// Binds and runs one multi-row insert of `rows` messages; sets their seqs.
bool Store::insert_rows(sqlite3_stmt *st, StoredMessage *const *msgs, size_t rows)
{
    Reset r{st};
    for (size_t k = 0; k < rows; k++) {
        const StoredMessage &m = *msgs[k];
        int at = static_cast<int>(k) * 5;
        sqlite3_bind_int64(st, at + 1, m.time);
        sqlite3_bind_text(st, at + 2, m.from.data(), static_cast<int>(m.from.size()),
                          SQLITE_STATIC);
        sqlite3_bind_text(st, at + 3, m.to.data(), static_cast<int>(m.to.size()), SQLITE_STATIC);
        sqlite3_bind_text(st, at + 4, m.encoding.data(), static_cast<int>(m.encoding.size()),
                          SQLITE_STATIC);
        sqlite3_bind_text(st, at + 5, m.text.data(), static_cast<int>(m.text.size()),
                          SQLITE_STATIC);
    }
    if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(db_) != static_cast<int>(rows))
        return fail("insert messages");
    int64_t last = sqlite3_last_insert_rowid(db_);
    for (size_t k = 0; k < rows; k++)
        msgs[k]->seq = last - static_cast<int64_t>(rows - 1 - k);
    return true;
}

// A statement costs about as much as a few rows, so a run goes in as few statements as
// the sizes allow: as many of the largest as fit, then at most one of each smaller size
// (the binary digits of what is left).
bool Store::insert_messages(StoredMessage *const *msgs, size_t n)
{
    size_t i = 0;
    for (size_t k = 0; k < kInsertSizes; k++) {
        size_t rows = kInsertRowsMax >> k;
        for (; n - i >= rows; i += rows)
            if (!insert_rows(st_insert_rows_[k], msgs + i, rows))
                return false;
    }
    return true;
}

bool Store::add_pending(const std::string &user, int64_t seq)
{
    Reset r{st_add_pending_};
    bind_text(st_add_pending_, 1, user);
    sqlite3_bind_int64(st_add_pending_, 2, seq);
    return sqlite3_step(st_add_pending_) == SQLITE_DONE || fail("add pending");
}

bool Store::clear_pending(const std::string &user, int64_t upto)
{
    Reset r{st_clear_pending_};
    bind_text(st_clear_pending_, 1, user);
    sqlite3_bind_int64(st_clear_pending_, 2, upto);
    return sqlite3_step(st_clear_pending_) == SQLITE_DONE || fail("clear pending");
}

bool Store::add_pending_of(int64_t seq)
{
    Reset r{st_add_pending_of_};
    sqlite3_bind_int64(st_add_pending_of_, 1, seq);
    return sqlite3_step(st_add_pending_of_) == SQLITE_DONE || fail("add pending");
}

bool Store::pending(const std::string &user, int64_t after, int limit,
                    std::vector<StoredMessage> *out)
{
    Reset r{st_pending_};
    bind_text(st_pending_, 1, user);
    sqlite3_bind_int64(st_pending_, 2, after);
    sqlite3_bind_int(st_pending_, 3, limit);
    return read_messages(st_pending_, out) || fail("pending");
}

bool Store::sync(const std::string &name, int64_t user_id, int64_t since,
                 const std::string &general, int64_t general_since, int limit,
                 std::vector<StoredMessage> *out)
{
    Reset r{st_sync_};
    sqlite3_bind_int64(st_sync_, 1, since);
    bind_text(st_sync_, 2, name);
    sqlite3_bind_int64(st_sync_, 3, user_id);
    sqlite3_bind_int(st_sync_, 4, limit);
    if (general.empty())
        sqlite3_bind_null(st_sync_, 5); // matches no recipient
    else
        bind_text(st_sync_, 5, general);
    sqlite3_bind_int64(st_sync_, 6, general_since);
    return read_messages(st_sync_, out) || fail("sync");
}

namespace {

// Whether m belongs to the history of `with` as seen by `me`.
bool in_history(const StoredMessage &m, const std::string &me, const std::string &with)
{
    if (with[0] == '#')
        return m.to == with;
    return (m.to == with && m.from == me) || (m.to == me && m.from == with);
}

} // namespace

bool Store::history(const std::string &me, const std::string &with, int64_t before, int limit,
                    std::vector<StoredMessage> *out)
{
    const std::string &other = with[0] == '#' ? with : me;
    // The recent tail that the index does not cover yet, newest first.
    {
        Reset r{st_tail_};
        bind_text(st_tail_, 1, with);
        bind_text(st_tail_, 2, other);
        sqlite3_bind_int64(st_tail_, 3, before);
        std::vector<StoredMessage> rows;
        if (!read_messages(st_tail_, &rows))
            return fail("history");
        for (StoredMessage &m : rows) {
            if (static_cast<int>(out->size()) >= limit)
                return true;
            if (in_history(m, me, with))
                out->push_back(std::move(m));
        }
    }
    // Then the indexed chunks, newest first. A candidate seq is final once it is above
    // the next chunk's last seq: no older chunk can hold it.
    std::vector<int64_t> candidates;
    auto take = [&](int64_t above) {
        std::sort(candidates.begin(), candidates.end(), std::greater<>());
        size_t used = 0;
        for (; used < candidates.size() && candidates[used] > above; used++) {
            if (static_cast<int>(out->size()) >= limit)
                break;
            Reset r{st_by_seq_};
            sqlite3_bind_int64(st_by_seq_, 1, candidates[used]);
            std::vector<StoredMessage> one;
            if (!read_messages(st_by_seq_, &one))
                return false;
            if (!one.empty() && in_history(one[0], me, with))
                out->push_back(std::move(one[0]));
        }
        candidates.erase(candidates.begin(), candidates.begin() + static_cast<long>(used));
        return true;
    };
    Reset r{st_chunks_};
    bind_text(st_chunks_, 1, with);
    bind_text(st_chunks_, 2, other);
    int rc;
    while ((rc = sqlite3_step(st_chunks_)) == SQLITE_ROW) {
        int64_t last = sqlite3_column_int64(st_chunks_, 0);
        if (!take(last))
            return fail("history");
        if (static_cast<int>(out->size()) >= limit)
            return true;
        const auto *blob = static_cast<const unsigned char *>(sqlite3_column_blob(st_chunks_, 1));
        int bytes = sqlite3_column_bytes(st_chunks_, 1);
        for (int i = 0; i + 8 <= bytes; i += 8) {
            int64_t seq;
            std::memcpy(&seq, blob + i, 8);
            if (seq < before)
                candidates.push_back(seq);
        }
    }
    if (rc != SQLITE_DONE || !take(-1))
        return fail("history");
    return true;
}

bool Store::index_step(int max_rows, int *indexed_rows)
{
    *indexed_rows = 0;
    int64_t from = 0;
    {
        Reset r{st_indexed_};
        if (sqlite3_step(st_indexed_) != SQLITE_ROW)
            return fail("index");
        from = sqlite3_column_int64(st_indexed_, 0);
    }
    // Rows up to a committed seq never change, so they are read before the write lock.
    std::map<std::string, std::string> chunks; // recipient -> packed seqs
    std::map<std::string, int64_t> senders;    // sender -> messages in this step
    int64_t top = from;
    {
        Reset r{st_to_index_};
        sqlite3_bind_int64(st_to_index_, 1, from);
        sqlite3_bind_int(st_to_index_, 2, max_rows);
        int rc;
        while ((rc = sqlite3_step(st_to_index_)) == SQLITE_ROW) {
            top = sqlite3_column_int64(st_to_index_, 0);
            std::string &chunk = chunks[column_text(st_to_index_, 1)];
            chunk.append(reinterpret_cast<const char *>(&top), 8);
            senders[column_text(st_to_index_, 2)]++;
            ++*indexed_rows;
        }
        if (rc != SQLITE_DONE)
            return fail("index");
    }
    if (top == from)
        return true;
    if (!begin())
        return false;
    for (const auto &[recipient, seqs] : chunks) {
        Reset r{st_add_chunk_};
        bind_text(st_add_chunk_, 1, recipient);
        int64_t last;
        std::memcpy(&last, seqs.data() + seqs.size() - 8, 8);
        sqlite3_bind_int64(st_add_chunk_, 2, last);
        sqlite3_bind_blob(st_add_chunk_, 3, seqs.data(), static_cast<int>(seqs.size()),
                          SQLITE_STATIC);
        if (sqlite3_step(st_add_chunk_) != SQLITE_DONE)
            return rollback(), fail("index");
    }
    if (!count_sent(senders))
        return rollback(), false;
    Reset r{st_set_indexed_};
    sqlite3_bind_int64(st_set_indexed_, 1, top);
    if (sqlite3_step(st_set_indexed_) != SQLITE_DONE)
        return rollback(), fail("index");
    return commit();
}

} // namespace jimd

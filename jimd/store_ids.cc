// The store's de-duplication of resends by (sender, client id) (store.hh). The ids up to
// meta.indexed are in `ids`, folded there by the upkeep in bulk; the newer ones are in the
// `batch_heads` rows, one per commit (heads_row.hh), and in each worker's memory
// (recent_ids.hh), read in under the write lock at the start of each commit that has ids.
// A commit thus writes one row for its ids instead of a page of `ids` per sender, and the
// check stays exact across workers: every id is either at most meta.indexed (in `ids`) or in
// a `batch_heads` row.
#include "store.hh"

#include "heads_row.hh"
#include "store_sql.hh"

namespace jimd {

using namespace sql;

namespace {
// Past this many recent ids, each refresh first forgets those the upkeep has folded.
constexpr size_t kRecentPrune = 65536;
} // namespace

bool Store::refresh_recent_ids()
{
    if (recent_.seen < 0 || recent_.size() > kRecentPrune) {
        int64_t indexed = 0;
        {
            Reset r{st_indexed_};
            if (sqlite3_step(st_indexed_) != SQLITE_ROW)
                return fail("read message ids");
            indexed = sqlite3_column_int64(st_indexed_, 0);
        }
        if (recent_.seen < 0) {
            recent_.clear();
            recent_.seen = indexed;
        } else {
            recent_.forget_through(indexed);
        }
    }
    Reset r{st_heads_};
    sqlite3_bind_int64(st_heads_, 1, recent_.seen);
    int rc;
    while ((rc = sqlite3_step(st_heads_)) == SQLITE_ROW) {
        const auto *row = static_cast<const unsigned char *>(sqlite3_column_blob(st_heads_, 1));
        auto bytes = static_cast<size_t>(sqlite3_column_bytes(st_heads_, 1));
        if (!heads_row::parse(row, bytes, [&](const heads_row::Head &h) {
                if (!h.client_id.empty())
                    recent_.add(RecentIds::hash(h.from, h.client_id), h.seq);
            })) {
            recent_.clear();
            error_ = "a row of the message heads is damaged";
            return false;
        }
        recent_.seen = sqlite3_column_int64(st_heads_, 0);
    }
    if (rc != SQLITE_DONE) {
        recent_.clear();
        return fail("read message ids");
    }
    return true;
}

bool Store::find_id(const StoredMessage &m, uint64_t hash, int64_t first, int64_t *seq)
{
    bool ok = true;
    *seq = recent_.find(hash, [&](int64_t at) {
        if (at >= first) { // in the row being written
            auto i = static_cast<size_t>(at - first);
            if (i >= row_msgs_.size())
                return false; // not written yet: no other transaction's (it would be older)
            const StoredMessage &o = *row_msgs_[i];
            return o.from == m.from && o.client_id == m.client_id;
        }
        StoredMessage o; // the same hash: a resend, or (rarely) another id
        bool found = false;
        if (!message_at(at, &o, &found)) {
            ok = false;
            return true; // stop here: the error is reported
        }
        return found && o.from == m.from && o.client_id == m.client_id;
    });
    if (!ok)
        return false;
    if (*seq != 0)
        return true;
    Reset r{st_dup_}; // not a recent one: maybe an older one
    sqlite3_bind_text(st_dup_, 1, m.from.data(), static_cast<int>(m.from.size()), SQLITE_STATIC);
    sqlite3_bind_text(st_dup_, 2, m.client_id.data(), static_cast<int>(m.client_id.size()),
                      SQLITE_STATIC);
    int rc = sqlite3_step(st_dup_);
    if (rc == SQLITE_ROW)
        *seq = sqlite3_column_int64(st_dup_, 0);
    return rc == SQLITE_ROW || rc == SQLITE_DONE || fail("find duplicate");
}

bool Store::add_heads(int64_t last_seq, bool had_ids)
{
    if (heads_text_.empty())
        return true;
    Reset r{st_add_heads_};
    sqlite3_bind_int64(st_add_heads_, 1, last_seq);
    sqlite3_bind_blob(st_add_heads_, 2, heads_text_.data(), static_cast<int>(heads_text_.size()),
                      SQLITE_STATIC);
    if (sqlite3_step(st_add_heads_) != SQLITE_DONE)
        return fail("insert message heads");
    if (had_ids) { // read in up to the batch before (under this write lock)
        recent_.seen = last_seq;
        recent_own_ = true; // a seq a rollback frees: then read in again
    }
    return true;
}

bool Store::fold_ids(const std::string &ids, int64_t upto)
{
    // One transaction: each page of `ids` is written once however many ids it gets.
    bool ok = true;
    if (!heads_row::parse(reinterpret_cast<const unsigned char *>(ids.data()), ids.size(),
                          [&](const heads_row::Head &h) {
                              if (!ok)
                                  return;
                              Reset r{st_add_id_};
                              sqlite3_bind_text(st_add_id_, 1, h.from.data(),
                                                static_cast<int>(h.from.size()), SQLITE_STATIC);
                              sqlite3_bind_text(st_add_id_, 2, h.client_id.data(),
                                                static_cast<int>(h.client_id.size()),
                                                SQLITE_STATIC);
                              sqlite3_bind_int64(st_add_id_, 3, h.seq);
                              ok = sqlite3_step(st_add_id_) == SQLITE_DONE;
                          }) ||
        !ok)
        return fail("fold message ids");
    // A row whose batch was indexed only in part stays (its last seq is past upto).
    Reset r{st_drop_heads_};
    sqlite3_bind_int64(st_drop_heads_, 1, upto);
    return sqlite3_step(st_drop_heads_) == SQLITE_DONE || fail("fold message ids");
}

bool Store::forget_folded_ids()
{
    if (recent_.seen < 0)
        return true;
    Reset r{st_indexed_};
    if (sqlite3_step(st_indexed_) != SQLITE_ROW)
        return fail("read message ids");
    recent_.forget_through(sqlite3_column_int64(st_indexed_, 0));
    return true;
}

} // namespace jimd

// The store's queries on the message log: batch rows, de-duplication, pending rows, sync,
// history and the history index (store.hh).
#include "store.hh"

#include "batch_format.hh"
#include "heads_row.hh"
#include "store_sql.hh"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <unordered_map>

namespace jimd {

using namespace sql;

// The data version changes with every commit of this connection and whenever a transaction
// of it begins on a file another connection changed (SQLite's pager), so an unchanged one,
// read under the write lock that BEGIN IMMEDIATE took, means no batch row came since.
bool Store::next_seq(int64_t *next)
{
    if (pending_next_ > 0) { // a second batch in the same transaction
        *next = pending_next_;
        return true;
    }
    unsigned version = 0;
    if (next_seq_ > 0 &&
        sqlite3_file_control(db_, "main", SQLITE_FCNTL_DATA_VERSION, &version) == SQLITE_OK &&
        version == seq_version_) {
        *next = next_seq_;
        return true;
    }
    seq_queries_++;
    Reset r{st_last_seq_};
    if (sqlite3_step(st_last_seq_) != SQLITE_ROW)
        return fail("last seq");
    *next = sqlite3_column_int64(st_last_seq_, 0) + 1;
    return true;
}

bool Store::insert_batch(StoredMessage *const *msgs, size_t n, uint8_t *dup)
{
    int64_t next = 0;
    if (!next_seq(&next))
        return false;
    int64_t first = next;
    bool had_ids = false;
    for (size_t i = 0; i < n; i++)
        if (!msgs[i]->client_id.empty()) {
            if (!refresh_recent_ids())
                return false;
            had_ids = true;
            break;
        }
    batch_format::begin(&batch_text_);
    heads_text_.clear();
    row_msgs_.clear();
    for (size_t i = 0; i < n; i++) {
        StoredMessage &m = *msgs[i];
        dup[i] = 0;
        m.seq = next;
        if (!m.client_id.empty()) {
            uint64_t hash = RecentIds::hash(m.from, m.client_id);
            int64_t was = 0;
            if (!find_id(m, hash, first, &was))
                return false;
            if (was != 0) { // (sender, client_id) was stored before: a resend
                dup[i] = 1;
                m.seq = was;
                continue;
            }
            recent_.add(hash, next);
            recent_own_ = true;
        }
        m.plain_ascii = batch_format::add(&batch_text_, m);
        row_msgs_.push_back(&m);
        next++;
    }
    if (next == first)
        return true; // resends only
    batch_format::end(&batch_text_);
    // A heads row when the batch has ids (the de-duplication reads them there) or a text
    // past its page; else the upkeep reads the text as cheaply, and the commit writes one
    // page less.
    if (had_ids || batch_text_.size() > kTextInPage)
        for (const StoredMessage *m : row_msgs_)
            if (!heads_row::add(&heads_text_, m->seq, m->from, m->to, m->client_id))
                return fail("message name or id too long");
    Reset r{st_add_batch_};
    sqlite3_bind_int64(st_add_batch_, 1, next - 1);
    sqlite3_bind_int64(st_add_batch_, 2, first);
    sqlite3_bind_text(st_add_batch_, 3, batch_text_.data(), static_cast<int>(batch_text_.size()),
                      SQLITE_STATIC);
    if (sqlite3_step(st_add_batch_) != SQLITE_DONE)
        return fail("insert messages");
    pending_next_ = next; // remembered by commit()
    return add_heads(next - 1, had_ids);
}

template <class F> bool Store::scan_from(int64_t from, F each)
{
    Reset r{st_batches_};
    sqlite3_bind_int64(st_batches_, 1, from);
    std::vector<StoredMessage> rows;
    int rc;
    while ((rc = sqlite3_step(st_batches_)) == SQLITE_ROW) {
        const char *text = reinterpret_cast<const char *>(sqlite3_column_text(st_batches_, 1));
        if (!batch_format::parse(text, static_cast<size_t>(sqlite3_column_bytes(st_batches_, 1)),
                                 &rows)) {
            error_ = "a row of the message log is damaged";
            return false;
        }
        for (StoredMessage &m : rows)
            if (m.seq >= from && !each(m))
                return true;
    }
    return rc == SQLITE_DONE || fail("read messages");
}

bool Store::text_heads_row(size_t count)
{
    text_row_.clear();
    for (size_t i = 0; i < count; i++) {
        const batch_format::Head &h = text_heads_[i];
        if (!heads_row::add(&text_row_, h.seq, h.from, h.to, h.client_id)) {
            error_ = "a stored message's name or id is too long";
            return false;
        }
    }
    return true;
}

template <class F> bool Store::scan_heads(int64_t after, F each)
{
    Reset r{st_index_rows_};
    sqlite3_bind_int64(st_index_rows_, 1, after);
    bool more = true;
    auto offer = [&](const heads_row::Head &h) {
        if (more && h.seq > after)
            more = each(h);
    };
    int rc;
    while (more && (rc = sqlite3_step(st_index_rows_)) == SQLITE_ROW) {
        if (sqlite3_column_type(st_index_rows_, 1) != SQLITE_NULL) {
            const auto *row =
                static_cast<const unsigned char *>(sqlite3_column_blob(st_index_rows_, 1));
            auto bytes = static_cast<size_t>(sqlite3_column_bytes(st_index_rows_, 1));
            if (!heads_row::parse(row, bytes, offer)) {
                error_ = "a row of the message heads is damaged";
                return false;
            }
            continue;
        }
        // A small batch without ids has no heads row: its text is in its page.
        const char *text = reinterpret_cast<const char *>(sqlite3_column_text(st_index_rows_, 2));
        size_t count = 0;
        if (!batch_format::parse_heads(text,
                                       static_cast<size_t>(sqlite3_column_bytes(st_index_rows_, 2)),
                                       &text_heads_, &count)) {
            error_ = "a row of the message log is damaged";
            return false;
        }
        if (!text_heads_row(count))
            return false;
        heads_row::parse(reinterpret_cast<const unsigned char *>(text_row_.data()),
                         text_row_.size(), offer);
    }
    return !more || rc == SQLITE_DONE || fail("read message heads");
}

bool Store::message_at(int64_t seq, StoredMessage *out, bool *found)
{
    *found = false;
    if (seq < cached_first_ || seq > cached_last_) {
        cached_last_ = -1;
        Reset r{st_batch_at_};
        sqlite3_bind_int64(st_batch_at_, 1, seq);
        int rc = sqlite3_step(st_batch_at_);
        if (rc == SQLITE_DONE)
            return true;
        if (rc != SQLITE_ROW)
            return fail("read message");
        const char *text = reinterpret_cast<const char *>(sqlite3_column_text(st_batch_at_, 2));
        if (!batch_format::parse(text, static_cast<size_t>(sqlite3_column_bytes(st_batch_at_, 2)),
                                 &cached_)) {
            error_ = "a row of the message log is damaged";
            return false;
        }
        cached_first_ = sqlite3_column_int64(st_batch_at_, 0);
        cached_last_ = sqlite3_column_int64(st_batch_at_, 1);
    }
    size_t i = static_cast<size_t>(seq - cached_first_);
    if (seq < cached_first_ || i >= cached_.size() || cached_[i].seq != seq)
        return true; // not stored (a row's seqs are consecutive: this is not one of them)
    *out = cached_[i];
    *found = true;
    return true;
}

// Moves the old log's rows (schema 4) into batch rows of up to 256 consecutive seqs.
bool Store::convert_messages()
{
    sqlite3_stmt *read = nullptr, *write = nullptr;
    const char *read_sql = "SELECT seq, time, sender, recipient, encoding, body, client_id "
                           "FROM messages ORDER BY seq";
    if (sqlite3_prepare_v2(db_, read_sql, -1, &read, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db_, "INSERT INTO batches(last_seq, first_seq, data) VALUES(?1,?2,?3)",
                           -1, &write, nullptr) != SQLITE_OK) {
        sqlite3_finalize(read);
        return fail("convert messages");
    }
    std::vector<StoredMessage> rows;
    bool ok = true;
    auto flush = [&] {
        if (rows.empty())
            return true;
        std::string text;
        batch_format::begin(&text);
        for (const StoredMessage &m : rows)
            batch_format::add(&text, m);
        batch_format::end(&text);
        sqlite3_bind_int64(write, 1, rows.back().seq);
        sqlite3_bind_int64(write, 2, rows.front().seq);
        bind_text(write, 3, text);
        bool done = sqlite3_step(write) == SQLITE_DONE;
        sqlite3_reset(write);
        rows.clear();
        return done;
    };
    int rc;
    while (ok && (rc = sqlite3_step(read)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(read, 0);
        if (!rows.empty() && (rows.size() == 256 || seq != rows.back().seq + 1))
            ok = flush();
        StoredMessage m;
        m.seq = seq;
        m.time = sqlite3_column_int64(read, 1);
        m.from = column_text(read, 2);
        m.to = column_text(read, 3);
        m.encoding = column_text(read, 4);
        m.text = column_text(read, 5);
        m.client_id = column_text(read, 6);
        rows.push_back(std::move(m));
    }
    ok = ok && rc == SQLITE_DONE && flush();
    if (!ok)
        fail("convert messages");
    sqlite3_finalize(read);
    sqlite3_finalize(write);
    return ok;
}

// Writes the heads rows of the batches past meta.indexed from their texts (schema 7 kept
// only their ids, in `batch_ids`); those up to it are in the index and `ids` already.
bool Store::convert_heads()
{
    sqlite3_stmt *read = nullptr, *write = nullptr;
    const char *read_sql = "SELECT last_seq, data FROM batches WHERE last_seq > "
                           "(SELECT value FROM meta WHERE key = 'indexed') ORDER BY last_seq";
    if (sqlite3_prepare_v2(db_, read_sql, -1, &read, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db_, "INSERT INTO batch_heads(last_seq, heads) VALUES(?1, ?2)", -1,
                           &write, nullptr) != SQLITE_OK) {
        fail("convert message heads");
        sqlite3_finalize(read);
        return false;
    }
    bool ok = true;
    int rc;
    while (ok && (rc = sqlite3_step(read)) == SQLITE_ROW) {
        const char *text = reinterpret_cast<const char *>(sqlite3_column_text(read, 1));
        size_t count = 0;
        if (!batch_format::parse_heads(text, static_cast<size_t>(sqlite3_column_bytes(read, 1)),
                                       &text_heads_, &count)) {
            error_ = "convert message heads: a row of the message log is damaged";
            ok = false;
            break;
        }
        if (!text_heads_row(count)) {
            ok = false;
            break;
        }
        sqlite3_bind_int64(write, 1, sqlite3_column_int64(read, 0));
        sqlite3_bind_blob(write, 2, text_row_.data(), static_cast<int>(text_row_.size()),
                          SQLITE_STATIC);
        ok = sqlite3_step(write) == SQLITE_DONE || fail("convert message heads");
        sqlite3_reset(write);
    }
    if (ok && rc != SQLITE_DONE)
        ok = fail("convert message heads");
    sqlite3_finalize(read);
    sqlite3_finalize(write);
    return ok;
}

bool Store::add_pending(const std::string &user, int64_t seq)
{
    Reset r{st_add_pending_};
    bind_text(st_add_pending_, 1, user);
    sqlite3_bind_int64(st_add_pending_, 2, seq);
    return sqlite3_step(st_add_pending_) == SQLITE_DONE || fail("add pending");
}

bool Store::clear_pending(const std::string &user, std::span<const int64_t> seqs)
{
    Reset r{st_clear_pending_};
    bind_text(st_clear_pending_, 1, user);
    for (int64_t seq : seqs) {
        sqlite3_bind_int64(st_clear_pending_, 2, seq);
        if (sqlite3_step(st_clear_pending_) != SQLITE_DONE)
            return fail("clear pending");
        sqlite3_reset(st_clear_pending_);
    }
    return true;
}

bool Store::add_pending_of(int64_t seq)
{
    StoredMessage m;
    bool found = false;
    if (!message_at(seq, &m, &found))
        return false;
    return !found || add_pending(m.to, seq);
}

bool Store::pending(const std::string &user, int64_t after, int limit,
                    std::vector<StoredMessage> *out, std::vector<int64_t> *rows)
{
    std::vector<int64_t> &seqs = *rows;
    seqs.clear();
    {
        Reset r{st_pending_seqs_};
        bind_text(st_pending_seqs_, 1, user);
        sqlite3_bind_int64(st_pending_seqs_, 2, after);
        sqlite3_bind_int(st_pending_seqs_, 3, limit);
        int rc;
        while ((rc = sqlite3_step(st_pending_seqs_)) == SQLITE_ROW)
            seqs.push_back(sqlite3_column_int64(st_pending_seqs_, 0));
        if (rc != SQLITE_DONE)
            return fail("pending");
    }
    for (int64_t seq : seqs) {
        StoredMessage m;
        bool found = false;
        if (!message_at(seq, &m, &found))
            return false;
        if (found) // else not in the log (a damaged database): its row is cleared too
            out->push_back(std::move(m));
    }
    return true;
}

bool Store::sync(const std::string &name, int64_t user_id, int64_t since,
                 const std::string &general, int64_t general_since, int limit,
                 std::vector<StoredMessage> *out)
{
    // The user's rooms, each with the last seq before they joined.
    std::vector<std::pair<std::string, int64_t>> rooms;
    {
        Reset r{st_room_sinces_};
        sqlite3_bind_int64(st_room_sinces_, 1, user_id);
        int rc;
        while ((rc = sqlite3_step(st_room_sinces_)) == SQLITE_ROW)
            rooms.emplace_back(column_text(st_room_sinces_, 0),
                               sqlite3_column_int64(st_room_sinces_, 1));
        if (rc != SQLITE_DONE)
            return fail("sync");
    }
    auto wanted = [&](const StoredMessage &m) {
        if (m.to == name || m.from == name)
            return true;
        if (!general.empty() && m.to == general && m.seq > general_since)
            return true;
        for (const auto &[room, joined] : rooms)
            if (m.to == room && m.seq > joined)
                return true;
        return false;
    };
    if (since == INT64_MAX)
        return true; // nothing comes after it (and since + 1 would overflow)
    return scan_from(since + 1,
                     [&](StoredMessage &m) {
                         if (wanted(m))
                             out->push_back(std::move(m));
                         return static_cast<int>(out->size()) < limit;
                     }) ||
           fail("sync");
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
        int64_t indexed = 0;
        {
            Reset r{st_indexed_};
            if (sqlite3_step(st_indexed_) != SQLITE_ROW)
                return fail("history");
            indexed = sqlite3_column_int64(st_indexed_, 0);
        }
        std::vector<StoredMessage> rows;
        if (!scan_from(indexed + 1, [&](StoredMessage &m) {
                if (m.seq >= before)
                    return false;
                if ((m.to == with || m.to == other) && in_history(m, me, with))
                    rows.push_back(std::move(m));
                return true;
            }))
            return fail("history");
        for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
            if (static_cast<int>(out->size()) >= limit)
                return true;
            out->push_back(std::move(*it));
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
            StoredMessage m;
            bool found = false;
            if (!message_at(candidates[used], &m, &found))
                return false;
            if (found && in_history(m, me, with))
                out->push_back(std::move(m));
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
    // Rows up to a committed seq never change (the `batch_heads` ones go only with this
    // step's write), so they are read before the write lock.
    NameMap<std::string> chunks; // recipient -> packed seqs
    NameMap<int64_t> senders;    // sender -> messages in this step
    step_ids_.clear();           // the heads of those with an id, to fold into `ids`
    int64_t top = from;
    if (!scan_heads(from, [&](const heads_row::Head &h) {
            if (*indexed_rows >= max_rows)
                return false;
            top = h.seq;
            at_name(chunks, h.to).append(reinterpret_cast<const char *>(&top), 8);
            at_name(senders, h.from)++;
            if (!h.client_id.empty())
                step_ids_.append(h.bytes);
            ++*indexed_rows;
            return true;
        }))
        return false;
    if (top == from)
        return true;
    if (!begin())
        return false;
    {
        Reset r{st_indexed_}; // another indexer (a worker, past its recent ids' limit) was first
        if (sqlite3_step(st_indexed_) != SQLITE_ROW)
            return fail("index"), rollback(), false;
        if (sqlite3_column_int64(st_indexed_, 0) != from) {
            *indexed_rows = 0;
            rollback();
            return true;
        }
    }
    for (const auto &[recipient, seqs] : chunks) {
        Reset r{st_add_chunk_};
        bind_text(st_add_chunk_, 1, recipient);
        int64_t last;
        std::memcpy(&last, seqs.data() + seqs.size() - 8, 8);
        sqlite3_bind_int64(st_add_chunk_, 2, last);
        sqlite3_bind_blob(st_add_chunk_, 3, seqs.data(), static_cast<int>(seqs.size()),
                          SQLITE_STATIC);
        if (sqlite3_step(st_add_chunk_) != SQLITE_DONE)
            return fail("index"), rollback(), false;
    }
    if (!count_sent(senders) || !fold_ids(step_ids_, top))
        return rollback(), false;
    Reset r{st_set_indexed_};
    sqlite3_bind_int64(st_set_indexed_, 1, top);
    if (sqlite3_step(st_set_indexed_) != SQLITE_DONE)
        return fail("index"), rollback(), false;
    return commit();
}

} // namespace jimd

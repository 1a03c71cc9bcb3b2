// test_store_batches.cc — jimd's message log (jimd/store*.cc, jimd/batch_format.cc): a commit's
// messages go into one row whatever their number; resends are found by (sender, id) within a
// commit and across commits; sync, pending, history and message_at read them back; a
// database of schema 4 (a row per message) is converted, gaps in its seqs included; a batch
// row's text survives writing and reading for any string and is refused when cut short; a
// new database gets jimd's page size and an existing one keeps its own.
#include "batch_format.hh"
#include "heads_row.hh"
#include "store.hh"

#include <sqlite3.h>

#include <algorithm>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <setjmp.h>
#include <string>
#include <unistd.h>
#include <vector>

extern "C" {
#include <cmocka.h>
}

using jimd::Store;
using jimd::StoredMessage;

namespace {

struct Dir {
    char path[64] = "/tmp/jim-test-store-XXXXXX";
    Dir() { assert_non_null(mkdtemp(path)); }
    ~Dir()
    {
        std::string cmd = std::string("rm -rf ") + path;
        assert_int_equal(system(cmd.c_str()), 0);
    }
    std::string db() const { return std::string(path) + "/jimd.db"; }
};

StoredMessage msg(const char *from, const char *to, const std::string &text, const char *id = "")
{
    StoredMessage m;
    m.time = 1700000000;
    m.from = from;
    m.to = to;
    m.text = text;
    m.client_id = id;
    return m;
}

// Stores msgs in one commit; returns the dup flags.
std::vector<uint8_t> commit(Store &s, std::vector<StoredMessage> &msgs)
{
    std::vector<StoredMessage *> ptrs;
    for (StoredMessage &m : msgs)
        ptrs.push_back(&m);
    std::vector<uint8_t> dup(msgs.size());
    assert_true(s.begin());
    assert_true(s.insert_batch(ptrs.data(), ptrs.size(), dup.data()));
    assert_true(s.commit());
    return dup;
}

int64_t count(const std::string &db, const char *sql)
{
    sqlite3 *h = nullptr;
    sqlite3_stmt *st = nullptr;
    assert_int_equal(sqlite3_open(db.c_str(), &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, nullptr), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

void batch_format__any_string_round_trips_and_a_cut_row_is_refused(void **)
{
    std::vector<StoredMessage> in;
    std::string all;
    for (int c = 1; c < 256; c++)
        all.push_back(static_cast<char>(c));
    in.push_back(msg("a", "b", "plain"));
    in.push_back(msg("a\"q", "#r\\", "tab\there \"quoted\" back\\slash \x01\x1f", "id,1]"));
    in.push_back(msg("", "", "", ""));
    in.push_back(msg("u", "v", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \\u0041 null", "null"));
    in.push_back(msg("u", "v", all));
    in.back().encoding = "e2e";
    for (size_t i = 0; i < in.size(); i++)
        in[i].seq = 41 + static_cast<int64_t>(i);
    std::string text;
    jimd::batch_format::begin(&text);
    for (const StoredMessage &m : in)
        jimd::batch_format::add(&text, m);
    jimd::batch_format::end(&text);
    std::vector<StoredMessage> out;
    assert_true(jimd::batch_format::parse(text.data(), text.size(), &out));
    assert_int_equal(out.size(), in.size());
    for (size_t i = 0; i < in.size(); i++) {
        assert_int_equal(out[i].seq, in[i].seq);
        assert_int_equal(out[i].time, in[i].time);
        assert_true(out[i].from == in[i].from && out[i].to == in[i].to);
        assert_true(out[i].text == in[i].text && out[i].encoding == in[i].encoding);
        assert_true(out[i].client_id == in[i].client_id);
    }
    // SQLite reads the same text as JSON, strings and all.
    {
        sqlite3 *h = nullptr;
        sqlite3_stmt *st = nullptr;
        assert_int_equal(sqlite3_open(":memory:", &h), SQLITE_OK);
        assert_int_equal(
            sqlite3_prepare_v2(h, "SELECT json_extract(?1, '$[4][5]')", -1, &st, nullptr),
            SQLITE_OK);
        sqlite3_bind_text(st, 1, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_bytes(st, 0), static_cast<int>(all.size()));
        assert_memory_equal(sqlite3_column_text(st, 0), all.data(), all.size());
        sqlite3_finalize(st);
        sqlite3_close(h);
    }
    for (size_t n = 0; n < text.size(); n++)
        assert_false(jimd::batch_format::parse(text.data(), n, &out));
    std::string extra = text + "x";
    assert_false(jimd::batch_format::parse(extra.data(), extra.size(), &out));

    // The upkeep's reading: the same heads, the texts stepped over (one ends in an escaped
    // backslash, another holds a backslash before a quote, an encoding a quote), and the
    // elements reused.
    in.push_back(msg("w", "x", "ends in a backslash \\", "id\\\""));
    in.push_back(msg("w", "x", "a backslash and a quote: \\\" and \\\\\" inside", "null"));
    in.back().encoding = "quote \" in the encoding";
    for (size_t i = 0; i < in.size(); i++)
        in[i].seq = 41 + static_cast<int64_t>(i);
    jimd::batch_format::begin(&text);
    for (const StoredMessage &m : in)
        jimd::batch_format::add(&text, m);
    jimd::batch_format::end(&text);
    std::vector<jimd::batch_format::Head> heads(2);
    heads[1].from = "left over";
    size_t count = 99;
    assert_true(jimd::batch_format::parse_heads(text.data(), text.size(), &heads, &count));
    assert_int_equal(count, in.size());
    assert_true(heads.size() >= in.size());
    for (size_t i = 0; i < in.size(); i++) {
        assert_int_equal(heads[i].seq, in[i].seq);
        assert_true(heads[i].from == in[i].from && heads[i].to == in[i].to);
        assert_true(heads[i].client_id == in[i].client_id);
    }
    std::string empty = "[]";
    assert_true(jimd::batch_format::parse_heads(empty.data(), empty.size(), &heads, &count));
    assert_int_equal(count, 0);
    std::string after_empty = "[] x";
    assert_false(jimd::batch_format::parse(after_empty.data(), after_empty.size(), &out));
    assert_false(
        jimd::batch_format::parse_heads(after_empty.data(), after_empty.size(), &heads, &count));
    for (size_t n = 0; n < text.size(); n++)
        assert_false(jimd::batch_format::parse_heads(text.data(), n, &heads, &count));
    extra = text + "x";
    assert_false(jimd::batch_format::parse_heads(extra.data(), extra.size(), &heads, &count));
}

// The heads row beside each batch: every message's seq, names and id (none: empty) read
// back as written, any bytes in them; a row cut anywhere but between heads is refused.
void heads_row__round_trips_and_a_cut_row_is_refused(void **)
{
    std::string all;
    for (int c = 0; c < 256; c++)
        all.push_back(static_cast<char>(c));
    struct In {
        int64_t seq;
        std::string from, to, id;
    };
    std::vector<In> in = {{1, "alice", "bob", "m1"},
                          {2, "alice", "#room", ""},
                          {INT64_MAX, all, std::string(70000, 'x').substr(0, 65535), all},
                          {4, "", "", ""}};
    std::string row;
    std::vector<size_t> ends;
    for (const In &h : in) {
        assert_true(jimd::heads_row::add(&row, h.seq, h.from, h.to, h.id));
        ends.push_back(row.size());
    }
    assert_false(jimd::heads_row::add(&row, 5, std::string(65536, 'y'), "b", ""));
    assert_int_equal(row.size(), ends.back()); // nothing appended
    size_t i = 0;
    std::string copied;
    assert_true(jimd::heads_row::parse(reinterpret_cast<const unsigned char *>(row.data()),
                                       row.size(), [&](const jimd::heads_row::Head &h) {
                                           assert_true(i < in.size());
                                           assert_int_equal(h.seq, in[i].seq);
                                           assert_true(h.from == in[i].from && h.to == in[i].to &&
                                                       h.client_id == in[i].id);
                                           copied.append(h.bytes);
                                           i++;
                                       }));
    assert_int_equal(i, in.size());
    assert_true(copied == row); // an entry's bytes are a row of that one head
    for (size_t n = 0; n < row.size(); n++) {
        bool whole = n == 0 || std::find(ends.begin(), ends.end(), n) != ends.end();
        assert_int_equal(jimd::heads_row::parse(reinterpret_cast<const unsigned char *>(row.data()),
                                                n, [](const jimd::heads_row::Head &) {}),
                         whole);
    }
}

// The upkeep indexes from the heads rows: with the text of every batch that has one
// damaged, it still builds the history index, counts the senders and folds the ids. A batch
// with ids, or with a text too long to stay in its page, has a heads row; a small one without
// ids has none, and is read from its text. The heads rows go once indexed.
void index_step__reads_the_heads_and_not_the_texts(void **)
{
    Dir d;
    Store s;
    std::string why;
    assert_true(s.open(d.db(), false, 1000, &why));
    assert_true(s.create_user("alice", "", "", 1700000000) == jimd::Result::Ok);
    std::vector<StoredMessage> one = {msg("alice", "bob", "1", "a1"), msg("alice", "#r", "2"),
                                      msg("carol", "bob", "3", "c1")};
    std::vector<StoredMessage> two = {msg("alice", "bob", std::string(Store::kTextInPage, 'x'))};
    std::vector<StoredMessage> three = {msg("alice", "#r", "small")};
    commit(s, one);
    commit(s, two);
    commit(s, three);
    assert_int_equal(count(d.db(), "SELECT count(*) FROM batch_heads"), 2);
    assert_int_equal(count(d.db(), "SELECT count(*) FROM batch_heads WHERE last_seq = 5"), 0);
    {
        sqlite3 *h = nullptr;
        assert_int_equal(sqlite3_open(d.db().c_str(), &h), SQLITE_OK);
        assert_int_equal(sqlite3_exec(h,
                                      "UPDATE batches SET data = '[damaged' WHERE last_seq IN "
                                      "(SELECT last_seq FROM batch_heads)",
                                      nullptr, nullptr, nullptr),
                         SQLITE_OK);
        sqlite3_close(h);
    }
    Store upkeep;
    assert_true(upkeep.open(d.db(), false, 1000, &why));
    int rows = 0;
    assert_true(upkeep.index_step(10000, &rows));
    assert_int_equal(rows, 5);
    assert_int_equal(count(d.db(), "SELECT value FROM meta WHERE key = 'indexed'"), 5);
    assert_int_equal(count(d.db(), "SELECT count(*) FROM batch_heads"), 0);
    assert_int_equal(count(d.db(),
                           "SELECT count(*) FROM by_recipient WHERE recipient = 'bob' "
                           "AND seqs = x'010000000000000003000000000000000400000000000000'"),
                     1);
    assert_int_equal(count(d.db(), "SELECT count(*) FROM by_recipient WHERE recipient = '#r' "
                                   "AND seqs = x'02000000000000000500000000000000'"),
                     1);
    assert_int_equal(count(d.db(), "SELECT messages_sent FROM users WHERE name = 'alice'"), 4);
    assert_int_equal(count(d.db(), "SELECT count(*) FROM ids"), 2);
    assert_int_equal(count(d.db(), "SELECT seq FROM ids WHERE sender = 'carol' AND "
                                   "client_id = 'c1'"),
                     3);
}

void commit__one_row_however_many_messages(void **)
{
    Dir d;
    {
        Store s;
        std::string why;
        assert_true(s.open(d.db(), false, 1000, &why));
        std::vector<StoredMessage> msgs;
        for (int i = 0; i < 1500; i++)
            msgs.push_back(msg("alice", i % 3 ? "bob" : "#room", "text " + std::to_string(i)));
        std::vector<uint8_t> dup = commit(s, msgs);
        for (int i = 0; i < 1500; i++) {
            assert_int_equal(dup[i], 0);
            assert_int_equal(msgs[i].seq, i + 1);
        }
        std::vector<StoredMessage> more = {msg("bob", "alice", "reply")};
        commit(s, more);
        assert_int_equal(more[0].seq, 1501);
        StoredMessage m;
        bool found = false;
        assert_true(s.message_at(777, &m, &found));
        assert_true(found);
        assert_true(m.text == "text 776" && m.to == "bob" && m.from == "alice");
        assert_true(s.message_at(1502, &m, &found));
        assert_false(found);
    }
    assert_int_equal(count(d.db(), "SELECT count(*) FROM batches"), 2);
    // The view shows every message as the old table did.
    assert_int_equal(count(d.db(), "SELECT count(*) FROM messages"), 1501);
    assert_int_equal(count(d.db(), "SELECT count(*) FROM messages WHERE recipient = '#room'"), 500);
    assert_int_equal(count(d.db(), "SELECT seq FROM messages WHERE body = 'text 1499'"), 1500);
}

void resend__same_sender_and_id_is_a_duplicate_in_and_across_commits(void **)
{
    Dir d;
    Store s;
    std::string why;
    assert_true(s.open(d.db(), false, 1000, &why));
    std::vector<StoredMessage> one = {msg("alice", "bob", "hi", "m1"), msg("alice", "bob", "x"),
                                      msg("alice", "bob", "hi again", "m1"),
                                      msg("carol", "bob", "same id, other sender", "m1")};
    std::vector<uint8_t> dup = commit(s, one);
    assert_int_equal(dup[0], 0);
    assert_int_equal(dup[1], 0);
    assert_int_equal(dup[2], 1);
    assert_int_equal(dup[3], 0);
    assert_int_equal(one[0].seq, 1);
    assert_int_equal(one[1].seq, 2);
    assert_int_equal(one[2].seq, 1);
    assert_int_equal(one[3].seq, 3); // seqs in a row stay consecutive
    std::vector<StoredMessage> two = {msg("alice", "bob", "resent", "m1")};
    dup = commit(s, two);
    assert_int_equal(dup[0], 1);
    assert_int_equal(two[0].seq, 1);
    assert_int_equal(count(d.db(), "SELECT count(*) FROM batches"), 1); // resends write no row
    std::vector<StoredMessage> three = {msg("alice", "bob", "new")};
    commit(s, three);
    assert_int_equal(three[0].seq, 4);
}

void reads__sync_pending_history_over_batches(void **)
{
    Dir d;
    Store s;
    std::string why;
    assert_true(s.open(d.db(), false, 1000, &why));
    int64_t alice = 0, bob = 0;
    {
        assert_true(s.create_user("alice", "", "", 1) == jimd::Result::Ok);
        assert_true(s.create_user("bob", "", "", 1) == jimd::Result::Ok);
        jimd::Account a;
        assert_true(s.get_user("alice", &a) == jimd::Result::Ok);
        alice = a.id;
        assert_true(s.get_user("bob", &a) == jimd::Result::Ok);
        bob = a.id;
    }
    std::vector<StoredMessage> early = {msg("carol", "#room", "before bob joined"),
                                        msg("carol", "dave", "not ours")};
    commit(s, early);
    assert_true(s.join("#room", bob, 1, 10, 10) == jimd::Result::Ok);
    for (int c = 0; c < 5; c++) {
        std::vector<StoredMessage> msgs;
        for (int i = 0; i < 100; i++) {
            int k = c * 100 + i;
            msgs.push_back(k % 4 == 0   ? msg("alice", "bob", "ab" + std::to_string(k))
                           : k % 4 == 1 ? msg("bob", "alice", "ba" + std::to_string(k))
                           : k % 4 == 2 ? msg("carol", "#room", "r" + std::to_string(k))
                                        : msg("carol", "dave", "cd" + std::to_string(k)));
        }
        commit(s, msgs);
        assert_true(s.begin());
        for (const StoredMessage &m : msgs)
            if (m.to == "bob")
                assert_true(s.add_pending("bob", m.seq));
        assert_true(s.commit());
        if (c == 2) {
            int rows = 0;
            assert_true(s.index_step(10000, &rows));
            assert_int_equal(rows, 302);
        }
    }
    // sync: bob's direct messages, sent and received, and the room's after he joined.
    std::vector<StoredMessage> got;
    int64_t after = 0;
    for (;;) {
        std::vector<StoredMessage> page;
        assert_true(s.sync("bob", bob, after, "", 0, 64, &page));
        if (page.empty())
            break;
        for (StoredMessage &m : page) {
            assert_true(m.seq > after);
            after = m.seq;
            got.push_back(m);
        }
    }
    assert_int_equal(got.size(), 375);
    // A room that is also the general chat: either reason to see a message is enough.
    std::vector<StoredMessage> either;
    assert_true(s.sync("bob", bob, 0, "#room", 1000000, 1000, &either));
    assert_int_equal(either.size(), 375);
    std::vector<StoredMessage> none;
    assert_true(s.sync("bob", bob, INT64_MAX, "", 0, 64, &none));
    assert_true(none.empty());
    for (const StoredMessage &m : got)
        assert_true(m.to == "bob" || m.from == "bob" || m.to == "#room");
    assert_true(got[0].text == "ab0");
    // Only alice's: no room, nothing of carol's.
    std::vector<StoredMessage> a;
    assert_true(s.sync("alice", alice, 0, "", 0, 1000, &a));
    assert_int_equal(a.size(), 250);
    // pending: oldest first, a page at a time.
    std::vector<StoredMessage> p;
    std::vector<int64_t> rows; // the seqs of the rows read
    assert_true(s.pending("bob", 0, 1000, &p, &rows));
    assert_int_equal(p.size(), 125);
    assert_int_equal(rows.size(), 125);
    assert_true(p[0].text == "ab0" && p[124].text == "ab496");
    p.clear();
    assert_true(s.pending("bob", 300, 10, &p, &rows));
    assert_int_equal(p.size(), 10);
    assert_true(p[0].seq > 300);
    assert_true(s.add_pending_of(3)); // message 3 (ab0) for its recipient: no second row
    p.clear();
    assert_true(s.pending("bob", 0, 1000, &p, &rows));
    assert_int_equal(p.size(), 125);
    // Clearing takes exactly the rows handed: a row with a lower seq that another worker
    // added after the page was read stays for the next look.
    const int64_t late = p[3].seq;
    assert_true(s.clear_pending("bob", std::span<const int64_t>(&late, 1)));
    std::vector<StoredMessage> page;
    assert_true(s.pending("bob", 0, 10, &page, &rows));
    assert_int_equal(page.size(), 10);
    assert_int_equal(rows.size(), 10);
    assert_true(s.add_pending("bob", late)); // committed elsewhere meanwhile
    assert_true(s.clear_pending("bob", rows));
    p.clear();
    assert_true(s.pending("bob", 0, 1000, &p, &rows));
    assert_int_equal(p.size(), 115);
    assert_int_equal(p[0].seq, late);
    // A row whose message is not in the log (a damaged database) is not handed, but it is
    // among the rows read, to be cleared with the rest.
    assert_true(s.add_pending("bob", 1000000));
    p.clear();
    assert_true(s.pending("bob", 0, 1000, &p, &rows));
    assert_int_equal(p.size(), 115);
    assert_int_equal(rows.size(), 116);
    assert_int_equal(rows.back(), 1000000);
    // history: newest first across the unindexed tail and the indexed chunks.
    std::vector<StoredMessage> h;
    assert_true(s.history("alice", "bob", 1000000, 300, &h));
    assert_int_equal(h.size(), 250);
    for (size_t i = 1; i < h.size(); i++)
        assert_true(h[i].seq < h[i - 1].seq);
    assert_true(h.back().text == "ab0");
    h.clear();
    assert_true(s.history("bob", "#room", 200, 5, &h));
    assert_int_equal(h.size(), 5);
    assert_true(h[0].seq < 200 && h[0].to == "#room");
}

// Schema 4, as jimd 0.x wrote it: a row per message.
const char kSchema4[] =
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, info TEXT NOT NULL "
    "DEFAULT '', pwhash TEXT NOT NULL DEFAULT '', role TEXT NOT NULL DEFAULT 'user', banned "
    "INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL, pubkey TEXT);"
    "CREATE TABLE logins (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), "
    "time INTEGER NOT NULL, ip TEXT NOT NULL);"
    "CREATE INDEX logins_user ON logins(user_id, time);"
    "CREATE TABLE contacts (owner INTEGER NOT NULL REFERENCES users(id), contact INTEGER NOT NULL "
    "REFERENCES users(id), PRIMARY KEY (owner, contact)) WITHOUT ROWID;"
    "CREATE INDEX contacts_contact ON contacts(contact);"
    "CREATE TABLE rooms (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, owner INTEGER "
    "REFERENCES users(id), created INTEGER NOT NULL);"
    "CREATE TABLE members (room INTEGER NOT NULL REFERENCES rooms(id), user INTEGER NOT NULL "
    "REFERENCES users(id), since_seq INTEGER NOT NULL, PRIMARY KEY (room, user)) WITHOUT ROWID;"
    "CREATE INDEX members_user ON members(user);"
    "CREATE TABLE messages (seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, sender TEXT NOT NULL, "
    "recipient TEXT NOT NULL, encoding TEXT NOT NULL DEFAULT '', body TEXT NOT NULL, client_id "
    "TEXT);"
    "CREATE UNIQUE INDEX messages_dedup ON messages(sender, client_id) WHERE client_id IS NOT "
    "NULL;"
    "CREATE TABLE pending (user TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (user, seq)) "
    "WITHOUT ROWID;"
    "CREATE TABLE by_recipient (recipient TEXT NOT NULL, last_seq INTEGER NOT NULL, seqs BLOB NOT "
    "NULL, PRIMARY KEY (recipient, last_seq)) WITHOUT ROWID;"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO meta VALUES ('indexed', 0);"
    "CREATE INDEX rooms_owner ON rooms(owner, created);"
    "ALTER TABLE users ADD COLUMN general_since INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE events (key TEXT NOT NULL, time INTEGER NOT NULL);"
    "CREATE INDEX events_key ON events(key, time);"
    // 300 messages, then a gap at 301, then 302..310; ids on every tenth.
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 310) "
    "INSERT INTO messages SELECT i, 1600000000 + i, 'old' || (i % 3), 'to' || (i % 2), '', "
    "'body \"' || i || '\"', CASE WHEN i % 10 = 0 THEN 'id' || i END FROM n WHERE i != 301;"
    "INSERT INTO pending VALUES ('to1', 7), ('to1', 305);"
    "PRAGMA user_version = 4;";

void migration__schema_4_rows_become_batches(void **)
{
    Dir d;
    {
        sqlite3 *h = nullptr;
        assert_int_equal(sqlite3_open(d.db().c_str(), &h), SQLITE_OK);
        assert_int_equal(sqlite3_exec(h, kSchema4, nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(h);
    }
    Store s;
    std::string why;
    assert_true(s.open(d.db(), false, 1000, &why));
    assert_int_equal(count(d.db(), "PRAGMA user_version"), 8); /* 5: batches; 8: batch_heads */
    // 1..256, 257..300, 302..310: a row's seqs are consecutive.
    assert_int_equal(count(d.db(), "SELECT count(*) FROM batches"), 3);
    assert_int_equal(count(d.db(), "SELECT count(*) FROM messages"), 309);
    for (int64_t seq = 1; seq <= 311; seq++) {
        StoredMessage m;
        bool found = false;
        assert_true(s.message_at(seq, &m, &found));
        assert_int_equal(found, seq != 301 && seq <= 310);
        if (found) {
            assert_true(m.text == "body \"" + std::to_string(seq) + "\"");
            assert_int_equal(m.time, 1600000000 + seq);
            assert_true(m.client_id == (seq % 10 == 0 ? "id" + std::to_string(seq) : ""));
        }
    }
    std::vector<StoredMessage> p;
    std::vector<int64_t> pending_rows;
    assert_true(s.pending("to1", 0, 10, &p, &pending_rows));
    assert_int_equal(p.size(), 2);
    assert_int_equal(pending_rows.size(), 2);
    assert_int_equal(p[1].seq, 305);
    // The old ids still find their resends; new messages follow the last seq.
    std::vector<StoredMessage> more = {msg("old0", "x", "resend", "id30"), msg("a", "b", "new")};
    std::vector<uint8_t> dup = commit(s, more);
    assert_int_equal(dup[0], 1);
    assert_int_equal(more[0].seq, 30);
    assert_int_equal(more[1].seq, 311);
    // Schema 8 wrote the heads of the batches not indexed (all three here) from their texts,
    // and the new commit one of its own (it has an id): the upkeep indexes every message.
    assert_int_equal(count(d.db(), "SELECT count(*) FROM batch_heads"), 4);
    int rows = 0;
    assert_true(s.index_step(10000, &rows));
    assert_int_equal(rows, 310);
    assert_int_equal(count(d.db(), "SELECT sum(length(seqs)) / 8 FROM by_recipient"), 310);
    assert_int_equal(count(d.db(), "SELECT sum(length(seqs)) / 8 FROM by_recipient WHERE "
                                   "recipient = 'to1'"),
                     154); // the odd seqs of 1..310 but 301
    assert_int_equal(count(d.db(), "SELECT count(*) FROM ids"), 31);
    std::vector<StoredMessage> h;
    assert_true(s.history("old1", "to1", INT64_MAX, 3, &h));
    assert_int_equal(h.size(), 3);
    assert_int_equal(h[0].seq, 307); // old1 to to1: seq % 6 == 1, and 301 is the gap
    assert_int_equal(h[1].seq, 295);
    assert_int_equal(h[2].seq, 289);
}

// A database of schema 7, made here from one of schema 8: the ids of a commit were in a
// `batch_ids` row (seq: 8 bytes, sender's and id's lengths: 2 each, little-endian, then
// their bytes), without its recipients, for the commits that had ids.
void downgrade_to_schema_7(const std::string &db)
{
    sqlite3 *h = nullptr;
    assert_int_equal(sqlite3_open(db.c_str(), &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h,
                                  "CREATE TABLE batch_ids (last_seq INTEGER PRIMARY KEY, "
                                  "ids BLOB NOT NULL)",
                                  nullptr, nullptr, nullptr),
                     SQLITE_OK);
    sqlite3_stmt *read = nullptr, *write = nullptr;
    assert_int_equal(
        sqlite3_prepare_v2(h, "SELECT last_seq, heads FROM batch_heads", -1, &read, nullptr),
        SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(h, "INSERT INTO batch_ids VALUES(?1, ?2)", -1, &write, nullptr),
        SQLITE_OK);
    while (sqlite3_step(read) == SQLITE_ROW) {
        std::string ids;
        auto put = [&](uint64_t v, int bytes) {
            for (int i = 0; i < bytes; i++, v >>= 8)
                ids.push_back(static_cast<char>(v & 0xff));
        };
        assert_true(
            jimd::heads_row::parse(static_cast<const unsigned char *>(sqlite3_column_blob(read, 1)),
                                   static_cast<size_t>(sqlite3_column_bytes(read, 1)),
                                   [&](const jimd::heads_row::Head &m) {
                                       if (m.client_id.empty())
                                           return;
                                       put(static_cast<uint64_t>(m.seq), 8);
                                       put(m.from.size(), 2);
                                       put(m.client_id.size(), 2);
                                       ids.append(m.from).append(m.client_id);
                                   }));
        if (ids.empty())
            continue;
        sqlite3_bind_int64(write, 1, sqlite3_column_int64(read, 0));
        sqlite3_bind_blob(write, 2, ids.data(), static_cast<int>(ids.size()), SQLITE_TRANSIENT);
        assert_int_equal(sqlite3_step(write), SQLITE_DONE);
        sqlite3_reset(write);
    }
    sqlite3_finalize(read);
    sqlite3_finalize(write);
    assert_int_equal(sqlite3_exec(h, "DROP TABLE batch_heads; PRAGMA user_version = 7;", nullptr,
                                  nullptr, nullptr),
                     SQLITE_OK);
    sqlite3_close(h);
}

// Schema 7 to 8, as a deployed database takes it: batches past meta.indexed (one of them
// indexed in part) get their heads rows from their texts, the ids that were only in
// `batch_ids` are still found, and the upkeep indexes the rest from the new rows.
void migration__schema_7_batch_ids_become_heads_rows(void **)
{
    Dir d;
    {
        Store s;
        std::string why;
        assert_true(s.open(d.db(), false, 1000, &why));
        std::vector<StoredMessage> b1 = {msg("alice", "bob", "1", "x1"), msg("carol", "dave", "2")};
        std::vector<StoredMessage> b2 = {msg("alice", "bob", "3", "x2"), msg("alice", "#r", "4")};
        std::vector<StoredMessage> b3 = {msg("erin", "bob", "5")};
        std::vector<StoredMessage> b4 = {msg("carol", "bob", "6", "y1"),
                                         msg("carol", "bob", "7", "y2"),
                                         msg("carol", "bob", "8", "y3")};
        commit(s, b1);
        int rows = 0;
        assert_true(s.index_step(10000, &rows));
        commit(s, b2);
        commit(s, b3);
        commit(s, b4);
        assert_int_equal(b4[2].seq, 8);
        assert_true(s.index_step(4, &rows)); // 3..6: b4 in part
        assert_int_equal(count(d.db(), "SELECT value FROM meta WHERE key = 'indexed'"), 6);
    }
    downgrade_to_schema_7(d.db());
    assert_int_equal(count(d.db(), "SELECT count(*) FROM batch_ids"), 1); // b4's
    Store s;
    std::string why;
    if (!s.open(d.db(), false, 1000, &why))
        fail_msg("%s", why.c_str());
    assert_int_equal(count(d.db(), "PRAGMA user_version"), 8);
    assert_int_equal(count(d.db(), "SELECT count(*) FROM sqlite_master WHERE name = 'batch_ids'"),
                     0);
    assert_int_equal(count(d.db(), "SELECT count(*) FROM batch_heads WHERE last_seq = 8"), 1);
    assert_int_equal(count(d.db(), "SELECT count(*) FROM batch_heads"), 1);
    // y2 and y3 were only in batch_ids, y1 and x2 are in `ids` already.
    std::vector<StoredMessage> again = {
        msg("carol", "bob", "7", "y2"), msg("carol", "bob", "8", "y3"),
        msg("carol", "bob", "6", "y1"), msg("alice", "bob", "3", "x2")};
    std::vector<uint8_t> dup = commit(s, again);
    const int64_t want[] = {7, 8, 6, 3};
    for (size_t i = 0; i < again.size(); i++) {
        assert_int_equal(dup[i], 1);
        assert_int_equal(again[i].seq, want[i]);
    }
    int rows = 0;
    assert_true(s.index_step(10000, &rows));
    assert_int_equal(rows, 2); // 7 and 8
    assert_int_equal(count(d.db(), "SELECT count(*) FROM batch_heads"), 0);
    assert_int_equal(count(d.db(), "SELECT count(*) FROM ids"), 5);
    assert_int_equal(
        count(d.db(), "SELECT sum(length(seqs)) / 8 FROM by_recipient WHERE recipient = 'bob'"), 6);
    std::vector<StoredMessage> h;
    assert_true(s.history("carol", "bob", INT64_MAX, 10, &h));
    assert_int_equal(h.size(), 3);
    assert_int_equal(h[0].seq, 8);
    assert_int_equal(h[2].seq, 6);
}

// A database jimd creates has Store::kNewPageSize pages (a one-message commit writes one
// such page to the WAL); one from before (schema 4, SQLite's 4 KiB) keeps its pages and is
// converted and written as usual.
void page_size__new_database_small_pages_an_old_one_keeps_its_own(void **)
{
    Dir d;
    {
        Store s;
        std::string why;
        assert_true(s.open(d.db(), false, 1000, &why));
        std::vector<StoredMessage> one = {msg("a", "b", "hi")};
        commit(s, one);
        assert_int_equal(one[0].seq, 1);
    }
    assert_int_equal(count(d.db(), "PRAGMA page_size"), Store::kNewPageSize);
    Dir old;
    {
        sqlite3 *h = nullptr;
        assert_int_equal(sqlite3_open(old.db().c_str(), &h), SQLITE_OK);
        assert_int_equal(sqlite3_exec(h, "PRAGMA page_size = 4096", nullptr, nullptr, nullptr),
                         SQLITE_OK);
        assert_int_equal(sqlite3_exec(h, kSchema4, nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(h);
    }
    Store s;
    std::string why;
    if (!s.open(old.db(), false, 1000, &why))
        fail_msg("%s", why.c_str());
    std::vector<StoredMessage> one = {msg("a", "b", "hi")};
    commit(s, one);
    assert_int_equal(one[0].seq, 311); // after schema 4's 310
    assert_int_equal(count(old.db(), "PRAGMA page_size"), 4096);
    assert_int_equal(count(old.db(), "SELECT count(*) FROM messages"), 310);
}

// Two connections are two workers; a third runs the upkeep's indexing, which folds ids.
void resend__found_across_connections_before_and_after_the_fold(void **)
{
    Dir d;
    Store a, b, upkeep;
    std::string why;
    assert_true(a.open(d.db(), false, 1000, &why));
    assert_true(b.open(d.db(), false, 1000, &why));
    assert_true(upkeep.open(d.db(), false, 1000, &why));
    std::vector<StoredMessage> one = {msg("alice", "bob", "hi", "m1")};
    assert_int_equal(commit(a, one)[0], 0);
    std::vector<StoredMessage> two = {msg("alice", "bob", "hi", "m1"),
                                      msg("alice", "bob", "2", "m2")};
    std::vector<uint8_t> dup = commit(b, two);
    assert_int_equal(dup[0], 1);
    assert_int_equal(two[0].seq, 1);
    assert_int_equal(dup[1], 0);
    assert_int_equal(two[1].seq, 2);
    std::vector<StoredMessage> three = {msg("alice", "bob", "2", "m2")};
    assert_int_equal(commit(a, three)[0], 1); // b's id, read in by a
    assert_int_equal(three[0].seq, 2);
    // A commit writes its heads (with its ids) as one row; `ids` gets them when the upkeep
    // indexes.
    assert_int_equal(count(d.db(), "SELECT count(*) FROM batch_heads"), 2);
    assert_int_equal(count(d.db(), "SELECT count(*) FROM ids"), 0);
    int rows = 0;
    assert_true(upkeep.index_step(10000, &rows));
    assert_int_equal(rows, 2);
    assert_int_equal(count(d.db(), "SELECT count(*) FROM batch_heads"), 0);
    assert_int_equal(count(d.db(), "SELECT count(*) FROM ids"), 2);
    // After the fold: found by a worker that remembers them (b), by one that forgot them (a),
    // and by one that never saw them (a new connection: a restarted worker).
    assert_true(a.forget_folded_ids());
    assert_int_equal(a.recent_ids(), 0);
    assert_true(b.recent_ids() > 0);
    Store c;
    assert_true(c.open(d.db(), false, 1000, &why));
    for (Store *s : {&a, &b, &c}) {
        std::vector<StoredMessage> again = {msg("alice", "bob", "x", "m2"), msg("bob", "x", "new"),
                                            msg("alice", "bob", "x", "m1")};
        dup = commit(*s, again);
        assert_int_equal(dup[0], 1);
        assert_int_equal(again[0].seq, 2);
        assert_int_equal(dup[1], 0);
        assert_int_equal(dup[2], 1);
        assert_int_equal(again[2].seq, 1);
    }
    // A rollback of a transaction that wrote no ids (a refused join, a rate limit) keeps
    // what the worker has read in; one that wrote ids drops it.
    size_t kept = b.recent_ids();
    assert_true(b.begin());
    b.rollback();
    assert_int_equal(b.recent_ids(), kept);
    // A batch indexed only in part: its row stays, and both halves are found.
    std::vector<StoredMessage> four = {msg("carol", "bob", "1", "c1"),
                                       msg("carol", "bob", "2", "c2"),
                                       msg("carol", "bob", "3", "c3")};
    commit(a, four);
    int64_t indexed_to = four[0].seq;
    assert_true(upkeep.index_step(static_cast<int>(indexed_to - 3 + 1), &rows)); // up to c1
    assert_int_equal(count(d.db(), "SELECT value FROM meta WHERE key = 'indexed'"), indexed_to);
    assert_int_equal(count(d.db(), "SELECT count(*) FROM batch_heads"), 1);
    Store e;
    assert_true(e.open(d.db(), false, 1000, &why));
    std::vector<StoredMessage> five = {msg("carol", "bob", "3", "c3"),
                                       msg("carol", "bob", "1", "c1")};
    dup = commit(e, five);
    assert_int_equal(dup[0], 1);
    assert_int_equal(five[0].seq, four[2].seq);
    assert_int_equal(dup[1], 1);
    assert_int_equal(five[1].seq, four[0].seq);
    // The rest folded: the row goes, and a new connection finds all three in `ids`.
    assert_true(upkeep.index_step(10000, &rows));
    assert_int_equal(count(d.db(), "SELECT count(*) FROM batch_heads"), 0);
    assert_int_equal(count(d.db(), "SELECT count(*) FROM ids WHERE sender = 'carol'"), 3);
    // ... and the history index holds each of bob's five messages once: c1, indexed by the
    // first step, is not indexed again by the second, which starts in the same row.
    assert_int_equal(
        count(d.db(), "SELECT sum(length(seqs)) / 8 FROM by_recipient WHERE recipient = 'bob'"), 5);
    Store f;
    assert_true(f.open(d.db(), false, 1000, &why));
    std::vector<StoredMessage> six = {msg("carol", "bob", "1", "c1"),
                                      msg("carol", "bob", "2", "c2"),
                                      msg("carol", "bob", "3", "c3")};
    dup = commit(f, six);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(dup[i], 1);
        assert_int_equal(six[i].seq, four[i].seq);
    }
}

// A commit without ids reads no ids in, so it must not move the worker's mark of what it
// read past another worker's ids committed before it: a resend of one is still found.
void resend__found_after_the_worker_committed_messages_without_ids(void **)
{
    Dir d;
    Store a, b;
    std::string why;
    assert_true(a.open(d.db(), false, 1000, &why));
    assert_true(b.open(d.db(), false, 1000, &why));
    std::vector<StoredMessage> first = {msg("carol", "dave", "b's", "b0")};
    commit(b, first); // b has read the ids in up to here
    std::vector<StoredMessage> other = {msg("alice", "bob", "a's", "m1")};
    commit(a, other);
    // Long enough for a heads row, which the commit writes without reading any ids in.
    std::vector<StoredMessage> plain = {msg("carol", "dave", std::string(Store::kTextInPage, 'x'))};
    commit(b, plain);
    assert_true(plain[0].seq > other[0].seq);
    std::vector<StoredMessage> resend = {msg("alice", "bob", "a's", "m1")};
    std::vector<uint8_t> dup = commit(b, resend);
    assert_int_equal(dup[0], 1);
    assert_int_equal(resend[0].seq, other[0].seq);
}

// A commit that read the ids in (it has a resend) but adds none, rolled back: its seqs are
// free again, and the ids another worker commits at them are read in by the next commit.
void resend__found_at_the_seqs_of_a_rolled_back_commit(void **)
{
    Dir d;
    Store a, b;
    std::string why;
    assert_true(a.open(d.db(), false, 1000, &why));
    assert_true(b.open(d.db(), false, 1000, &why));
    std::vector<StoredMessage> first = {msg("alice", "bob", "1", "m1")};
    commit(a, first);
    std::vector<StoredMessage> undone = {msg("alice", "bob", "1", "m1"), msg("alice", "bob", "2")};
    std::vector<StoredMessage *> ptrs = {&undone[0], &undone[1]};
    uint8_t dup[2];
    assert_true(a.begin());
    assert_true(a.insert_batch(ptrs.data(), 2, dup));
    assert_int_equal(dup[0], 1);
    assert_int_equal(undone[1].seq, 2);
    a.rollback();
    std::vector<StoredMessage> other = {msg("carol", "bob", "3", "c1")};
    commit(b, other);
    assert_int_equal(other[0].seq, 2); // the seq the rollback freed
    std::vector<StoredMessage> resend = {msg("carol", "bob", "3", "c1")};
    std::vector<uint8_t> d2 = commit(a, resend);
    assert_int_equal(d2[0], 1);
    assert_int_equal(resend[0].seq, 2);
}

void resend__of_a_rolled_back_id_is_new(void **)
{
    Dir d;
    Store s;
    std::string why;
    assert_true(s.open(d.db(), false, 1000, &why));
    std::vector<StoredMessage> one = {msg("alice", "bob", "undone", "r1"),
                                      msg("alice", "bob", "x")};
    std::vector<StoredMessage *> ptrs = {&one[0], &one[1]};
    uint8_t dup[2];
    assert_true(s.begin());
    assert_true(s.insert_batch(ptrs.data(), 2, dup));
    assert_int_equal(s.recent_ids(), 1);
    s.rollback();
    assert_int_equal(s.recent_ids(), 0);
    std::vector<StoredMessage> two = {msg("alice", "bob", "x"), msg("alice", "bob", "kept", "r1"),
                                      msg("alice", "bob", "kept", "r1")};
    std::vector<uint8_t> d2 = commit(s, two);
    assert_int_equal(d2[0], 0);
    assert_int_equal(d2[1], 0); // the rolled-back r1 does not count
    assert_int_equal(two[1].seq, 2);
    assert_int_equal(d2[2], 1);
    assert_int_equal(two[2].seq, 2);
}

// The table in memory: ids that share a hash are all offered, forgotten ones are not, and it
// stays right as it grows and forgets.
void recent_ids__shared_hashes_growth_and_forgetting(void **)
{
    jimd::RecentIds r;
    r.add(7, 1);
    r.add(7, 2);
    r.add(9, 3);
    std::vector<int64_t> offered;
    assert_int_equal(r.find(7, [&](int64_t seq) { return offered.push_back(seq), false; }), 0);
    std::sort(offered.begin(), offered.end());
    assert_true(offered == std::vector<int64_t>({1, 2}));
    assert_int_equal(r.find(7, [](int64_t seq) { return seq == 2; }), 2);
    assert_int_equal(r.find(8, [](int64_t) { return true; }), 0);
    r.forget_through(1);
    assert_int_equal(r.size(), 2);
    assert_int_equal(r.find(7, [](int64_t) { return true; }), 2);
    for (int64_t seq = 4; seq < 100000; seq++)
        r.add(jimd::RecentIds::hash("u" + std::to_string(seq % 50), std::to_string(seq)), seq);
    r.forget_through(50000);
    assert_int_equal(r.size(), 100000 - 50001);
    for (int64_t seq : {4, 49999, 50000, 50001, 77777, 99999}) {
        uint64_t h = jimd::RecentIds::hash("u" + std::to_string(seq % 50), std::to_string(seq));
        assert_int_equal(r.find(h, [&](int64_t at) { return at == seq; }), seq > 50000 ? seq : 0);
    }
    assert_true(jimd::RecentIds::hash("a", "b") != jimd::RecentIds::hash("b", "a"));
    r.clear();
    assert_int_equal(r.size(), 0);
    assert_int_equal(r.seen, -1);
}

// The next seq is remembered after a commit and read again only when the file changed since:
// three connections (workers) take turns, and each one's seqs follow the others' exactly.
void next_seq__exact_across_workers_and_read_only_after_a_change(void **)
{
    Dir d;
    Store a, b, c;
    std::string why;
    for (Store *s : {&a, &b, &c})
        assert_true(s->open(d.db(), false, 1000, &why));
    int64_t expect = 1;
    auto store = [&](Store &s, size_t n) {
        std::vector<StoredMessage> msgs;
        for (size_t i = 0; i < n; i++)
            msgs.push_back(msg("alice", "bob", std::to_string(expect + i)));
        commit(s, msgs);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(msgs[i].seq, expect + static_cast<int64_t>(i));
        expect += static_cast<int64_t>(n);
    };
    store(a, 3);
    assert_int_equal(a.seq_queries(), 1);
    store(a, 2); // nothing changed since a's commit: no query
    store(a, 1);
    assert_int_equal(a.seq_queries(), 1);
    store(b, 4); // b's first
    store(c, 1);
    store(a, 2); // a must see b's and c's
    assert_int_equal(a.seq_queries(), 2);
    for (int round = 0; round < 20; round++) // turns in every order
        store(round % 3 == 0 ? a : round % 3 == 1 ? c : b, 1 + round % 4);
    // A transaction of a without a batch, committed, and one rolled back: both read again.
    uint64_t q = a.seq_queries();
    assert_true(a.begin());
    assert_true(a.add_pending("bob", 1));
    assert_true(a.commit());
    store(a, 1);
    assert_int_equal(a.seq_queries(), q + 1);
    std::vector<StoredMessage> undone = {msg("alice", "bob", "undone")};
    StoredMessage *p = &undone[0];
    uint8_t dup = 0;
    assert_true(a.begin());
    assert_true(a.insert_batch(&p, 1, &dup));
    assert_int_equal(undone[0].seq, expect);
    a.rollback();
    store(b, 1); // takes the seq the rolled-back batch had
    store(a, 2);
    // Two batches in one transaction follow each other.
    std::vector<StoredMessage> first = {msg("alice", "bob", "1")}, second = {msg("bob", "al", "2")};
    StoredMessage *p1 = &first[0], *p2 = &second[0];
    assert_true(c.begin());
    assert_true(c.insert_batch(&p1, 1, &dup));
    assert_true(c.insert_batch(&p2, 1, &dup));
    assert_true(c.commit());
    assert_int_equal(first[0].seq, expect);
    assert_int_equal(second[0].seq, expect + 1);
    expect += 2;
    store(c, 1);
    store(a, 1);
    assert_int_equal(count(d.db(), "SELECT max(last_seq) FROM batches"), expect - 1);
    assert_int_equal(count(d.db(), "SELECT count(*) FROM batches"),
                     count(d.db(), "SELECT count(DISTINCT first_seq) FROM batches"));
}

// A stored message is marked plain ASCII (its push then skips the template's look) exactly
// when every string is: a byte to escape or a non-ASCII one in any of them clears it.
void plain_ascii__set_by_the_batch_row_only_when_every_string_is(void **)
{
    Dir d;
    Store s;
    std::string why;
    assert_true(s.open(d.db(), false, 1000, &why));
    std::vector<StoredMessage> msgs = {msg("alice", "bob", "plain text", "id1"),
                                       msg("alice", "bob", "caf\xc3\xa9"),
                                       msg("alice", "bob", "a \"quote\""),
                                       msg("alice", "bob", "tab\there"),
                                       msg("alice", "bob", "x",
                                           "\xd0\xb8"
                                           "d"),
                                       msg("alice", "bob", "plain", "")};
    msgs[5].encoding = "b\\64";
    for (StoredMessage &m : msgs)
        m.plain_ascii = true; // whatever it was, the row decides
    commit(s, msgs);
    const bool want[] = {true, false, false, false, false, false};
    for (size_t i = 0; i < msgs.size(); i++)
        assert_int_equal(msgs[i].plain_ascii, want[i]);
    for (size_t i = 0; i < msgs.size(); i++) { // and every one reads back as written
        StoredMessage back;
        bool found = false;
        assert_true(s.message_at(msgs[i].seq, &back, &found));
        assert_true(found);
        assert_string_equal(back.text.c_str(), msgs[i].text.c_str());
        assert_string_equal(back.client_id.c_str(), msgs[i].client_id.c_str());
        assert_string_equal(back.encoding.c_str(), msgs[i].encoding.c_str());
        assert_false(back.plain_ascii);
    }
}

} // namespace

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(batch_format__any_string_round_trips_and_a_cut_row_is_refused),
        cmocka_unit_test(heads_row__round_trips_and_a_cut_row_is_refused),
        cmocka_unit_test(index_step__reads_the_heads_and_not_the_texts),
        cmocka_unit_test(commit__one_row_however_many_messages),
        cmocka_unit_test(resend__same_sender_and_id_is_a_duplicate_in_and_across_commits),
        cmocka_unit_test(reads__sync_pending_history_over_batches),
        cmocka_unit_test(migration__schema_4_rows_become_batches),
        cmocka_unit_test(migration__schema_7_batch_ids_become_heads_rows),
        cmocka_unit_test(page_size__new_database_small_pages_an_old_one_keeps_its_own),
        cmocka_unit_test(resend__found_across_connections_before_and_after_the_fold),
        cmocka_unit_test(resend__found_after_the_worker_committed_messages_without_ids),
        cmocka_unit_test(resend__found_at_the_seqs_of_a_rolled_back_commit),
        cmocka_unit_test(resend__of_a_rolled_back_id_is_new),
        cmocka_unit_test(recent_ids__shared_hashes_growth_and_forgetting),
        cmocka_unit_test(next_seq__exact_across_workers_and_read_only_after_a_change),
        cmocka_unit_test(plain_ascii__set_by_the_batch_row_only_when_every_string_is),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

// test_wal_vfs.cc — jimd's WAL-frame VFS (jimd/wal_vfs.hh): a database written through it
// is the same to a connection on the default VFS, committed transactions are all in the
// files as a kill -9 would leave them (nothing held back across a commit), SQLite's
// checksum rewrite of a transaction that spills its cache stays intact, so do the frames
// that synchronous=FULL pads to a sector (a write split there is not a frame's header),
// frames spilled by a transaction that then rolls back leave another connection's next
// commits whole, two connections taking turns each write a commit with one write() too,
// and
// a commit writes its frames with one write() per 64 KiB where the default VFS needs two
// per frame; a database file grows by whole chunks without a write per 4 KiB block.
#include "wal_vfs.hh"

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <setjmp.h>
#include <sqlite3.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

extern "C" {
#include <cmocka.h>
}

namespace {

std::string g_dir;

std::string path(const char *name)
{
    return g_dir + "/" + name;
}

sqlite3 *open_db(const std::string &file, const char *vfs)
{
    sqlite3 *db = nullptr;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    assert_int_equal(sqlite3_open_v2(file.c_str(), &db, flags, vfs), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                                  "PRAGMA wal_autocheckpoint = 0",
                                  nullptr, nullptr, nullptr),
                     SQLITE_OK);
    return db;
}

void exec(sqlite3 *db, const char *sql)
{
    char *err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err ? err : "?");
}

int64_t count_and_sum(sqlite3 *db, int64_t *sum)
{
    sqlite3_stmt *st = nullptr;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*), total(n) FROM t", -1, &st, nullptr),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    *sum = static_cast<int64_t>(sqlite3_column_double(st, 1));
    sqlite3_finalize(st);
    return n;
}

void integrity_ok(sqlite3 *db)
{
    sqlite3_stmt *st = nullptr;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal(reinterpret_cast<const char *>(sqlite3_column_text(st, 0)), "ok");
    sqlite3_finalize(st);
}

// Asserts that db's table t holds `rows` rows whose n add up to want_sum.
void has_rows(sqlite3 *db, int64_t rows, int64_t want_sum)
{
    int64_t sum = 0;
    assert_int_equal(count_and_sum(db, &sum), rows);
    assert_int_equal(sum, want_sum);
}

void copy_file(const std::string &from, const std::string &to)
{
    std::ifstream in(from, std::ios::binary);
    std::ofstream out(to, std::ios::binary | std::ios::trunc);
    if (in)
        out << in.rdbuf();
}

// A copy of the database at db_path and its WAL, made while its writer is still open (what
// a kill -9 leaves), opened on the default VFS as `name` (which recovers the WAL).
sqlite3 *open_copy(const std::string &db_path, const char *name)
{
    copy_file(db_path, path(name));
    copy_file(db_path + "-wal", path(name) + "-wal");
    return open_db(path(name), nullptr);
}

// Connections a and b on db_path, and a copy of its files taken now as `copy` (what kill -9
// leaves), each see `rows` rows summing to want_sum, and the copy is whole; a and b are
// closed.
void all_see(sqlite3 *a, sqlite3 *b, const std::string &db_path, const char *copy, int64_t rows,
             int64_t want_sum)
{
    has_rows(a, rows, want_sum);
    has_rows(b, rows, want_sum);
    sqlite3 *c = open_copy(db_path, copy);
    has_rows(c, rows, want_sum);
    integrity_ok(c);
    sqlite3_close(c);
    sqlite3_close(b);
    sqlite3_close(a);
}

// Write system calls of this process so far (/proc/self/io).
int64_t write_calls()
{
    std::ifstream io("/proc/self/io");
    std::string key;
    int64_t value;
    while (io >> key >> value)
        if (key == "syscw:")
            return value;
    return -1;
}

// 300 commits of one row each and one of 2,000 rows with a 10-page cache (it spills, so
// SQLite rewrites frames and then their checksums); a default-VFS connection opened
// meanwhile sees every row; the files copied while the writer is still open (what kill -9
// leaves) hold every committed row, and the copy passes integrity_check.
void committed__in_the_files_and_readable_elsewhere(void **)
{
    const char *vfs = jimd::wal_vfs_name();
    assert_non_null(vfs);
    std::string db_path = path("a.db");
    sqlite3 *w = open_db(db_path, vfs);
    exec(w, "PRAGMA cache_size = 10; CREATE TABLE t(n INTEGER, pad BLOB)");
    int64_t want_sum = 0;
    for (int i = 1; i <= 300; i++) {
        std::string sql = "INSERT INTO t VALUES(" + std::to_string(i) + ", randomblob(200))";
        exec(w, sql.c_str());
        want_sum += i;
    }
    exec(w, "BEGIN");
    for (int i = 301; i <= 2300; i++) {
        std::string sql = "INSERT INTO t VALUES(" + std::to_string(i) + ", randomblob(300))";
        exec(w, sql.c_str());
        want_sum += i;
    }
    exec(w, "UPDATE t SET pad = randomblob(310) WHERE n % 7 = 0"); // pages written twice
    exec(w, "COMMIT");

    sqlite3 *r = open_db(db_path, nullptr);
    has_rows(r, 2300, want_sum);
    sqlite3_close(r);

    sqlite3 *c = open_copy(db_path, "b.db"); // recovers the copied WAL from its frames
    has_rows(c, 2300, want_sum);
    integrity_ok(c);
    sqlite3_close(c);
    sqlite3_close(w);
}

// The WAL starting over (a checkpoint that copied it all, then the next commit) keeps the
// frames joined and readable.
void wal_restart__still_whole(void **)
{
    std::string db_path = path("c.db");
    sqlite3 *w = open_db(db_path, jimd::wal_vfs_name());
    exec(w, "CREATE TABLE t(n INTEGER, pad BLOB)");
    int64_t want_sum = 0;
    for (int round = 0; round < 3; round++) {
        for (int i = 1; i <= 50; i++) {
            int n = round * 50 + i;
            std::string sql = "INSERT INTO t VALUES(" + std::to_string(n) + ", randomblob(100))";
            exec(w, sql.c_str());
            want_sum += n;
        }
        exec(w, "PRAGMA wal_checkpoint(RESTART)");
    }
    exec(w, "INSERT INTO t VALUES(1000, x'00')");
    want_sum += 1000;
    sqlite3 *c = open_copy(db_path, "d.db");
    has_rows(c, 151, want_sum);
    integrity_ok(c);
    sqlite3_close(c);
    sqlite3_close(w);
}

int g_wal_frames = 0;
int on_wal_commit(void *, sqlite3 *, const char *, int frames)
{
    g_wal_frames = frames;
    return SQLITE_OK;
}

// synchronous=FULL on a device without power-safe overwrite (psow=0) pads each commit to a
// sector with copies of its last frame, splitting the write that crosses the sector; with
// 2 KiB pages such a split can leave a 24-byte tail at the end of the file. After each of
// 1,500 commits of 1-5 rows (a RESTART on the way, so the file is reused), the WAL file
// holds every frame SQLite counts, and a connection on the default VFS reads what the
// writer wrote.
void full_sync_padding__every_published_frame_in_the_file(void **)
{
    std::string db_path = path("g.db");
    std::string uri = "file:" + db_path + "?psow=0";
    sqlite3 *w = nullptr;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI;
    assert_int_equal(sqlite3_open_v2(uri.c_str(), &w, flags, jimd::wal_vfs_name()), SQLITE_OK);
    exec(w, "PRAGMA page_size = 2048; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
            "PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 33554432;"
            "CREATE TABLE t(n INTEGER, pad BLOB)");
    sqlite3_wal_hook(w, on_wal_commit, nullptr);
    sqlite3 *r = open_db(db_path, nullptr);
    int64_t rows = 0, want_sum = 0;
    for (int i = 0; i < 1500; i++) {
        if (i == 700)
            exec(w, "PRAGMA wal_checkpoint(RESTART)");
        int k = 1 + i % 5;
        exec(w, "BEGIN");
        for (int j = 0; j < k; j++) {
            rows++;
            std::string sql = "INSERT INTO t VALUES(" + std::to_string(rows) + ", randomblob(300))";
            exec(w, sql.c_str());
            want_sum += rows;
        }
        exec(w, "COMMIT");
        struct stat st;
        assert_int_equal(stat((db_path + "-wal").c_str(), &st), 0);
        if (st.st_size < 32 + int64_t{g_wal_frames} * (2048 + 24))
            fail_msg("commit %d: %d frames, WAL file %lld bytes", i, g_wal_frames,
                     static_cast<long long>(st.st_size));
        has_rows(r, rows, want_sum);
    }
    integrity_ok(r);
    sqlite3_close(r);
    sqlite3_close(w);
}

// 200 one-row commits, each one WAL frame: through the VFS about one write() each, on the
// default VFS two.
int64_t writes_for_200_commits(const char *vfs, const char *name)
{
    sqlite3 *w = open_db(path(name), vfs);
    exec(w, "CREATE TABLE t(n INTEGER, pad BLOB)");
    exec(w, "INSERT INTO t VALUES(0, x'00')");
    int64_t before = write_calls();
    for (int i = 1; i <= 200; i++) {
        std::string sql = "INSERT INTO t VALUES(" + std::to_string(i) + ", x'00')";
        exec(w, sql.c_str());
    }
    int64_t n = write_calls() - before;
    sqlite3_close(w);
    return n;
}

void one_write_per_frame(void **)
{
    int64_t joined = writes_for_200_commits(jimd::wal_vfs_name(), "e.db");
    int64_t plain = writes_for_200_commits(nullptr, "f.db");
    assert_true(plain >= 400);
    assert_true(joined >= 200);
    assert_true(joined <= 210);
}

// Two connections (two workers) taking turns: 200 one-row commits, 100 each, every one
// appended after the other connection's frames, and a WAL that the first starts over
// halfway (a checkpoint copied it back) while the second's idea of its end is older. Through
// the VFS about one write() each, as for one connection; every row is there, on either
// connection and in a copy of the files.
void two_connections_taking_turns__one_write_per_frame(void **)
{
    std::string db_path = path("l.db");
    sqlite3 *a = open_db(db_path, jimd::wal_vfs_name());
    sqlite3 *b = open_db(db_path, jimd::wal_vfs_name());
    exec(a, "CREATE TABLE t(n INTEGER, pad BLOB); INSERT INTO t VALUES(0, x'00')");
    int64_t before = write_calls(), want_sum = 0;
    for (int i = 1; i <= 200; i++) {
        if (i == 101)
            exec(a, "PRAGMA wal_checkpoint(PASSIVE)"); // a's next commit starts the WAL over
        std::string sql = "INSERT INTO t VALUES(" + std::to_string(i) + ", x'00')";
        exec(i % 2 ? a : b, sql.c_str());
        want_sum += i;
    }
    int64_t n = write_calls() - before;
    assert_true(n >= 200);
    assert_true(n <= 215); // the checkpoint's own writes, and the WAL's new header
    all_see(a, b, db_path, "m.db", 201, want_sum);
}

// A transaction that spills its cache (frames written without a commit frame, held by
// the VFS) and then rolls back; then another connection commits 40 times where those
// frames would go, and the first one reads. Page 1 is kept out of the WAL (a checkpoint
// first), so nothing in the rollback reads the WAL back. Both connections, and a copy of
// the files taken then (what kill -9 leaves), see exactly the committed rows: the held
// frames reached the file when the first connection gave up the write lock, not later
// over the other's.
void spilled_then_rolled_back__other_connections_commits_whole(void **)
{
    std::string db_path = path("h.db");
    sqlite3 *a = open_db(db_path, jimd::wal_vfs_name());
    sqlite3 *b = open_db(db_path, jimd::wal_vfs_name());
    exec(a, "CREATE TABLE t(n INTEGER, pad BLOB); INSERT INTO t VALUES(0, x'00')");
    exec(a, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA cache_size = 10; BEGIN");
    for (int i = 1; i <= 300; i++) {
        std::string sql = "INSERT INTO t VALUES(" + std::to_string(-i) + ", randomblob(300))";
        exec(a, sql.c_str());
    }
    exec(a, "ROLLBACK");
    int64_t want_sum = 0;
    for (int i = 1; i <= 40; i++) {
        std::string sql = "INSERT INTO t VALUES(" + std::to_string(i) + ", randomblob(3000))";
        exec(b, sql.c_str());
        want_sum += i;
    }
    integrity_ok(a);
    all_see(a, b, db_path, "i.db", 41, want_sum);
}

// One commit of 200 rows of 1,000 bytes (about 50 frames of 4 KiB, 200 KiB): through the
// VFS a write per 64 KiB, on the default VFS two per frame.
int64_t writes_for_a_large_commit(const char *vfs, const char *name)
{
    sqlite3 *w = open_db(path(name), vfs);
    exec(w, "PRAGMA page_size = 4096; CREATE TABLE t(n INTEGER, pad BLOB)");
    exec(w, "INSERT INTO t VALUES(0, x'00')");
    int64_t before = write_calls();
    exec(w, "BEGIN");
    for (int i = 1; i <= 200; i++) {
        std::string sql = "INSERT INTO t VALUES(" + std::to_string(i) + ", randomblob(1000))";
        exec(w, sql.c_str());
    }
    exec(w, "COMMIT");
    int64_t n = write_calls() - before;
    sqlite3_close(w);
    return n;
}

void large_commit__one_write_per_64_kib(void **)
{
    int64_t held = writes_for_a_large_commit(jimd::wal_vfs_name(), "j.db");
    int64_t plain = writes_for_a_large_commit(nullptr, "k.db");
    assert_true(plain >= 100);
    assert_true(held >= 3);
    assert_true(held <= 6);
}

// An integer pragma's value (page_count, page_size).
int64_t pragma(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = nullptr;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, nullptr), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

// With SQLITE_FCNTL_CHUNK_SIZE (jimd asks for 8 MiB), a checkpoint that grows the database
// file grows it by whole chunks without a write per 4 KiB block (the default VFS's way
// where it lacks posix_fallocate): about one write per page copied. The file stays whole
// chunks after the checkpoint's truncate, and a default-VFS connection reads every row.
void chunked_database__grown_without_a_write_per_block(void **)
{
    std::string db_path = path("chunk.db");
    sqlite3 *w = open_db(db_path, jimd::wal_vfs_name());
    int chunk = 1 << 20;
    assert_int_equal(sqlite3_file_control(w, "main", SQLITE_FCNTL_CHUNK_SIZE, &chunk), SQLITE_OK);
    exec(w, "CREATE TABLE t(n INTEGER, pad BLOB); BEGIN");
    int64_t want_sum = 0;
    for (int i = 1; i <= 2500; i++) { // about 2.6 MiB: three chunks
        std::string sql = "INSERT INTO t VALUES(" + std::to_string(i) + ", randomblob(1000))";
        exec(w, sql.c_str());
        want_sum += i;
    }
    exec(w, "COMMIT");
    int64_t pages = pragma(w, "PRAGMA page_count"), page_size = pragma(w, "PRAGMA page_size");
    int64_t before = write_calls();
    exec(w, "PRAGMA wal_checkpoint(TRUNCATE)");
    int64_t writes = write_calls() - before;
    struct stat st {};
    assert_int_equal(stat(db_path.c_str(), &st), 0);
    assert_int_equal(st.st_size % chunk, 0);
    assert_true(st.st_size >= pages * page_size);
    assert_true(writes >= pages / 2); // the pages were copied (the VFS may join none)
    assert_true(writes < pages + pages / 4);

    sqlite3 *r = open_db(db_path, nullptr);
    has_rows(r, 2500, want_sum);
    integrity_ok(r);
    sqlite3_close(r);
    sqlite3_close(w);
}

int setup(void **)
{
    char dir[] = "/tmp/test_wal_vfs.XXXXXX";
    if (!mkdtemp(dir))
        return -1;
    g_dir = dir;
    return 0;
}

int teardown(void **)
{
    std::string rm = "rm -rf '" + g_dir + "'";
    return std::system(rm.c_str()) == 0 ? 0 : -1;
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(committed__in_the_files_and_readable_elsewhere),
        cmocka_unit_test(wal_restart__still_whole),
        cmocka_unit_test(full_sync_padding__every_published_frame_in_the_file),
        cmocka_unit_test(one_write_per_frame),
        cmocka_unit_test(two_connections_taking_turns__one_write_per_frame),
        cmocka_unit_test(spilled_then_rolled_back__other_connections_commits_whole),
        cmocka_unit_test(large_commit__one_write_per_64_kib),
        cmocka_unit_test(chunked_database__grown_without_a_write_per_block),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

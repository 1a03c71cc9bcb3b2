// The WAL-frame VFS (wal_vfs.hh). SQLite writes a frame as two writes, the header and then
// the page at the next offset (wal.c, walWriteOneFrame), and a commit's frames one after
// the other. For a WAL file, the frames of a commit are held and written with one write
// when its last frame (the commit frame: its header holds the database size) has come, or
// when the next frame would make the run longer than kMaxRun. Only whole frames written in
// order at the end of what this handle wrote are held — or, for the first frame since the
// connection took the WAL's write lock, at any frame's place, since other connections may
// have written since: a 24-byte write at a frame's place in the file (32 + k * (page size
// + 24)) starts or extends the run, and the page right after it joins it; any other call
// on the file first writes what is held. The frames thus reach the file in order and
// before the write call of the commit frame's page returns, which is before SQLite
// publishes them to other connections: nothing is held across a commit. A transaction
// that spills its cache writes frames without a commit frame; the same connection reads
// them back through xRead, which writes them first, and if it rolls back they are written
// when it gives up the WAL's write lock (the database file is ours too, for its xShmLock),
// before another connection can write at their place. Not held: headers rewritten in place
// (SQLite's checksum rewrite: below the end), and 24-byte tails of a write that SQLite
// split at a sector for synchronous=FULL (never at a frame's place).
#include "wal_vfs.hh"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sqlite3.h>
#include <vector>

namespace jimd {

namespace {

constexpr int kFrameHeader = 24;
constexpr int kWalHeader = 32;
// Held at most, but for a lone frame of 64 KiB pages. The default VFS writes at most
// 128 KiB - 1 bytes a call (os_unix.c, seekAndWrite): a longer write fails as disk full.
constexpr int kMaxRun = 64 * 1024;

sqlite3_vfs *g_real = nullptr; // the default VFS
sqlite3_vfs g_vfs;             // ours: the default's, with our xOpen and a larger file

// A WAL file: ours in front, the default VFS's file right after it.
struct WalFile {
    sqlite3_file base;    // its pMethods: g_methods
    sqlite3_file *real;   // the default VFS's file
    sqlite3_int64 end;    // the end of what was written since the WAL's header, run
                          // included; -1: not known (another connection may have written)
    sqlite3_int64 frame;  // page size + kFrameHeader; 0 until known
    sqlite3_int64 run_at; // where the held run goes; -1: none held
    unsigned char *run;   // whole frames, then maybe one frame's header, not yet written
    int run_len, run_cap;
    bool page_due;     // the run ends with a header: its page comes next
    bool commit;       // ... and it is a commit frame's
    struct DbFile *db; // its connection's database file; nullptr: not found
};

// A database file: ours in front, the default VFS's right after it. Ours to learn when its
// connection gives up the WAL's write lock (db_shm_lock), and to grow it by whole chunks
// (db_file_control, db_truncate).
struct DbFile {
    sqlite3_file base;  // its pMethods: g_db_methods
    sqlite3_file *real; // the default VFS's file
    const char *name;   // as SQLite opened it: its WAL's name leads back to it
    WalFile *wal;       // the connection's WAL file, while open
    int chunk;          // SQLITE_FCNTL_CHUNK_SIZE, kept here (db_file_control); 0: none
};

// Our part of a file, the default VFS's file after it (aligned for it).
constexpr size_t kOursSize = (std::max(sizeof(WalFile), sizeof(DbFile)) + 15) & ~size_t{15};

// The open database files, to pair each WAL file with its connection's.
std::mutex g_dbs_lock;
std::vector<DbFile *> g_dbs;

WalFile *wal(sqlite3_file *f)
{
    return reinterpret_cast<WalFile *>(f);
}

// Writes through to the default VFS's file and moves the end of what was written.
int write_through(WalFile *w, const void *data, int amount, sqlite3_int64 offset)
{
    int rc = w->real->pMethods->xWrite(w->real, data, amount, offset);
    if (rc == SQLITE_OK && offset + amount > w->end)
        w->end = offset + amount;
    return rc;
}

// Writes the held run, if any.
int flush(WalFile *w)
{
    if (w->run_at < 0)
        return SQLITE_OK;
    sqlite3_int64 at = w->run_at;
    w->run_at = -1;
    w->page_due = false;
    return write_through(w, w->run, w->run_len, at);
}

// The page size from a WAL header (big-endian at byte 8; 1 means 65536), or 0.
sqlite3_int64 page_size_of(const unsigned char *header)
{
    uint32_t v = (uint32_t{header[8]} << 24) | (uint32_t{header[9]} << 16) |
                 (uint32_t{header[10]} << 8) | uint32_t{header[11]};
    if (v == 1)
        return 65536;
    return v >= 512 && v <= 32768 && (v & (v - 1)) == 0 ? v : 0;
}

// Whether a 24-byte write at offset is a new frame's header (see the top of the file). The
// page size comes from the WAL's header, written by this handle or read once (it cannot
// change while the database is in WAL mode). Where the end is not known — the first frame
// since this connection took the write lock, when other connections may have appended
// frames or started the WAL over — a frame's place is enough: that first frame is always
// appended at the WAL's end (SQLite rewrites in place only frames of its own transaction).
bool new_frame_header(WalFile *w, sqlite3_int64 offset)
{
    if ((w->end >= 0 && offset != w->end) || offset < kWalHeader)
        return false;
    if (w->frame == 0) {
        unsigned char header[kWalHeader];
        if (w->real->pMethods->xRead(w->real, header, kWalHeader, 0) != SQLITE_OK)
            return false;
        sqlite3_int64 page = page_size_of(header);
        if (page == 0)
            return false;
        w->frame = page + kFrameHeader;
    }
    return (offset - kWalHeader) % w->frame == 0;
}

// Appends to the run (starting one at offset if none is held); false if the buffer for
// it cannot grow.
bool hold(WalFile *w, const void *data, int amount, sqlite3_int64 offset)
{
    int len = w->run_at < 0 ? 0 : w->run_len;
    if (len + amount > w->run_cap) {
        int cap = w->run_cap ? w->run_cap : 8192;
        while (cap < len + amount)
            cap *= 2;
        auto *grown = static_cast<unsigned char *>(std::realloc(w->run, static_cast<size_t>(cap)));
        if (!grown)
            return false;
        w->run = grown;
        w->run_cap = cap;
    }
    if (w->run_at < 0) {
        w->run_at = offset;
        w->run_len = 0;
    }
    std::memcpy(w->run + w->run_len, data, static_cast<size_t>(amount));
    w->run_len += amount;
    if (offset + amount > w->end)
        w->end = offset + amount;
    return true;
}

// A write that continues the run: a frame's header at its place, or the page after the
// run's last header. The run is written when the page ends a commit frame, and before a
// header that would make it longer than kMaxRun; SQLITE_NOTFOUND when the write is
// neither, for the caller to write the plain way.
int continue_run(WalFile *w, const void *data, int amount, sqlite3_int64 offset)
{
    if (w->page_due && amount == w->frame - kFrameHeader) {
        if (!hold(w, data, amount, offset))
            return SQLITE_NOTFOUND;
        w->page_due = false;
        // Without its database file no held frame could be written when the transaction
        // ends without a commit (db_shm_lock): then each frame is written at once.
        return w->commit || !w->db ? flush(w) : SQLITE_OK;
    }
    if (!w->page_due && amount == kFrameHeader && new_frame_header(w, offset)) {
        if (w->run_at >= 0 && w->run_len + w->frame > kMaxRun) {
            if (int rc = flush(w); rc != SQLITE_OK)
                return rc;
        }
        if (!hold(w, data, amount, offset))
            return SQLITE_NOTFOUND;
        const auto *h = static_cast<const unsigned char *>(data);
        w->page_due = true;
        w->commit = (h[4] | h[5] | h[6] | h[7]) != 0; // the database size after a commit
        return SQLITE_OK;
    }
    return SQLITE_NOTFOUND;
}

int x_write(sqlite3_file *f, const void *data, int amount, sqlite3_int64 offset)
{
    WalFile *w = wal(f);
    if (offset == 0) {
        w->end = 0; // the WAL's header: the log starts over
        if (amount >= kWalHeader) {
            sqlite3_int64 page = page_size_of(static_cast<const unsigned char *>(data));
            w->frame = page ? page + kFrameHeader : 0;
        }
    }
    bool at_run_end = w->run_at >= 0 && offset == w->run_at + w->run_len;
    if (at_run_end || (w->run_at < 0 && amount == kFrameHeader)) {
        int rc = continue_run(w, data, amount, offset);
        if (rc != SQLITE_NOTFOUND)
            return rc;
    }
    int rc = flush(w);
    return rc != SQLITE_OK ? rc : write_through(w, data, amount, offset);
}

int x_close(sqlite3_file *f)
{
    WalFile *w = wal(f);
    if (w->db)
        w->db->wal = nullptr;
    int rc = flush(w);
    int closed = w->real->pMethods->xClose(w->real);
    std::free(w->run);
    w->run = nullptr;
    return rc != SQLITE_OK ? rc : closed;
}

// The other calls: what is held is written first, then the default VFS's method runs.
template <auto Method, typename... Args> int forward(sqlite3_file *f, Args... args)
{
    WalFile *w = wal(f);
    int rc = flush(w);
    return rc != SQLITE_OK ? rc : (w->real->pMethods->*Method)(w->real, args...);
}

int x_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    WalFile *w = wal(f);
    int rc = flush(w);
    if (rc != SQLITE_OK)
        return rc;
    if (w->end > size)
        w->end = size;
    return w->real->pMethods->xTruncate(w->real, size);
}

int x_sector_size(sqlite3_file *f)
{
    WalFile *w = wal(f);
    return w->real->pMethods->xSectorSize(w->real);
}

int x_device_characteristics(sqlite3_file *f)
{
    WalFile *w = wal(f);
    return w->real->pMethods->xDeviceCharacteristics(w->real);
}

// A WAL file is never mapped or used for the shared index (those are the database
// file's), so the version-1 methods are all it needs.
const sqlite3_io_methods g_methods = {
    1,
    x_close,
    forward<&sqlite3_io_methods::xRead, void *, int, sqlite3_int64>,
    x_write,
    x_truncate,
    forward<&sqlite3_io_methods::xSync, int>,
    forward<&sqlite3_io_methods::xFileSize, sqlite3_int64 *>,
    forward<&sqlite3_io_methods::xLock, int>,
    forward<&sqlite3_io_methods::xUnlock, int>,
    forward<&sqlite3_io_methods::xCheckReservedLock, int *>,
    forward<&sqlite3_io_methods::xFileControl, int, void *>,
    x_sector_size,
    x_device_characteristics,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
};

DbFile *db_file(sqlite3_file *f)
{
    return reinterpret_cast<DbFile *>(f);
}

// A transaction that ends without a commit frame (a rollback after its cache spilled
// frames to the WAL) leaves frames held; they must reach the file before another
// connection can write at their place — which it can once this one gives up the WAL's
// write lock (lock 0 of the shared index, wal.c) — or writing them later would overwrite
// its frames. They are written here, just before (they are past the WAL's end for
// SQLite: what the default VFS would have written at once).
//
// When it takes the write lock, what this connection wrote last may no longer be the WAL's
// end (another connection appended frames since, or started the WAL over): the end is
// forgotten, and the transaction's first frame tells it again (new_frame_header).
int db_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    DbFile *d = db_file(f);
    if (d->wal && (flags & SQLITE_SHM_UNLOCK) && offset == 0 && n > 0)
        flush(d->wal);
    int rc = d->real->pMethods->xShmLock(d->real, offset, n, flags);
    if (rc == SQLITE_OK && d->wal && (flags & SQLITE_SHM_LOCK) && (flags & SQLITE_SHM_EXCLUSIVE) &&
        offset == 0 && n > 0)
        d->wal->end = -1;
    return rc;
}

// A size rounded up to the file's chunk, as the default VFS rounds for its own chunks.
sqlite3_int64 whole_chunks(const DbFile *d, sqlite3_int64 size)
{
    return d->chunk > 0 ? (size + d->chunk - 1) / d->chunk * d->chunk : size;
}

// The database file's chunks are ours. The default VFS grows a file by a chunk with
// posix_fallocate where it was built with it, and otherwise (Debian's libsqlite3) by
// writing one byte in each 4 KiB block: 2,048 writes for 8 MiB, in the loop of the
// connection whose checkpoint needs the room. Here a chunk is one ftruncate (through the
// default VFS's xTruncate): the size is set at once, which is what chunks are for (a sync
// after a checkpoint seldom records a new size), and blocks are taken as pages are written.
int db_file_control(sqlite3_file *f, int op, void *arg)
{
    DbFile *d = db_file(f);
    if (op == SQLITE_FCNTL_CHUNK_SIZE) {
        d->chunk = std::max(*static_cast<int *>(arg), 0);
        return SQLITE_OK;
    }
    if (op == SQLITE_FCNTL_SIZE_HINT && d->chunk > 0) {
        sqlite3_int64 want = whole_chunks(d, *static_cast<sqlite3_int64 *>(arg)), size = 0;
        int rc = d->real->pMethods->xFileSize(d->real, &size);
        if (rc == SQLITE_OK && want > size)
            rc = d->real->pMethods->xTruncate(d->real, want);
        if (rc != SQLITE_OK)
            return rc;
        // The default VFS's own part of the hint: growing a memory map, where mmap_size
        // is set (jimd sets none). With the rounded size, which the file already has.
        return d->real->pMethods->xFileControl(d->real, SQLITE_FCNTL_SIZE_HINT, &want);
    }
    return d->real->pMethods->xFileControl(d->real, op, arg);
}

// A checkpoint that copied the whole WAL truncates the file to its pages: to whole chunks
// here, as the default VFS does for its own, so the next one need not grow it again.
int db_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    DbFile *d = db_file(f);
    return d->real->pMethods->xTruncate(d->real, whole_chunks(d, size));
}

int db_close(sqlite3_file *f)
{
    DbFile *d = db_file(f);
    {
        std::lock_guard<std::mutex> lock(g_dbs_lock);
        std::erase(g_dbs, d);
    }
    if (d->wal)
        d->wal->db = nullptr;
    return d->real->pMethods->xClose(d->real);
}

// The database file's other calls: the default VFS's method.
template <auto Method, typename... Args> auto db_forward(sqlite3_file *f, Args... args)
{
    DbFile *d = db_file(f);
    return (d->real->pMethods->*Method)(d->real, args...);
}

using M = sqlite3_io_methods;
const sqlite3_io_methods g_db_methods = {
    3,
    db_close,
    db_forward<&M::xRead, void *, int, sqlite3_int64>,
    db_forward<&M::xWrite, const void *, int, sqlite3_int64>,
    db_truncate,
    db_forward<&M::xSync, int>,
    db_forward<&M::xFileSize, sqlite3_int64 *>,
    db_forward<&M::xLock, int>,
    db_forward<&M::xUnlock, int>,
    db_forward<&M::xCheckReservedLock, int *>,
    db_file_control,
    db_forward<&M::xSectorSize>,
    db_forward<&M::xDeviceCharacteristics>,
    db_forward<&M::xShmMap, int, int, int, void volatile **>,
    db_shm_lock,
    db_forward<&M::xShmBarrier>,
    db_forward<&M::xShmUnmap, int>,
    db_forward<&M::xFetch, sqlite3_int64, int, void **>,
    db_forward<&M::xUnfetch, sqlite3_int64, void *>,
};

// A database file: the default VFS's, behind ours if it has every method ours forwards.
int open_db_file(const char *name, sqlite3_file *file, int flags, int *out_flags)
{
    DbFile *d = db_file(file);
    std::memset(d, 0, sizeof *d);
    d->real = reinterpret_cast<sqlite3_file *>(reinterpret_cast<char *>(file) + kOursSize);
    int rc = g_real->xOpen(g_real, name, d->real, flags, out_flags);
    if (!d->real->pMethods) {
        d->base.pMethods = nullptr;
        return rc;
    }
    if (d->real->pMethods->iVersion < 3) {
        // Not expected of the unix VFS: then the default VFS's file alone, in place.
        d->real->pMethods->xClose(d->real);
        return g_real->xOpen(g_real, name, file, flags, out_flags);
    }
    d->name = name;
    d->base.pMethods = &g_db_methods;
    std::lock_guard<std::mutex> lock(g_dbs_lock);
    g_dbs.push_back(d);
    return rc;
}

// The database file of the connection that opens the WAL file name: the one SQLite opened
// with the very name its WAL's name leads back to (sqlite3_filename_database).
DbFile *db_of_wal(const char *name)
{
    const char *db_name = name ? sqlite3_filename_database(name) : nullptr;
    std::lock_guard<std::mutex> lock(g_dbs_lock);
    for (DbFile *d : g_dbs)
        if (d->name == db_name && !d->wal)
            return d;
    return nullptr;
}

// The database and WAL files are ours, every other file is the default VFS's own, in place:
// no call of it goes through here. The file name's type is sqlite3_filename since SQLite
// 3.40, const char * before.
int x_open(sqlite3_vfs *, const char *name, sqlite3_file *file, int flags, int *out_flags)
{
    if (flags & SQLITE_OPEN_MAIN_DB)
        return open_db_file(name, file, flags, out_flags);
    if (!(flags & SQLITE_OPEN_WAL))
        return g_real->xOpen(g_real, name, file, flags, out_flags);
    WalFile *w = wal(file);
    std::memset(w, 0, sizeof *w);
    w->run_at = -1;
    w->real = reinterpret_cast<sqlite3_file *>(reinterpret_cast<char *>(file) + kOursSize);
    int rc = g_real->xOpen(g_real, name, w->real, flags, out_flags);
    // SQLite calls xClose only when pMethods is set: set it exactly when the file is open.
    w->base.pMethods = w->real->pMethods ? &g_methods : nullptr;
    if (w->base.pMethods && (w->db = db_of_wal(name)) != nullptr)
        w->db->wal = w;
    return rc;
}

bool register_vfs()
{
    g_real = sqlite3_vfs_find(nullptr);
    if (!g_real)
        return false;
    g_vfs = *g_real;
    g_vfs.zName = "jim-wal";
    g_vfs.szOsFile = static_cast<int>(kOursSize) + g_real->szOsFile;
    g_vfs.xOpen = x_open;
    g_vfs.pNext = nullptr;
    return sqlite3_vfs_register(&g_vfs, 0) == SQLITE_OK;
}

} // namespace

const char *wal_vfs_name()
{
    static const bool registered = register_vfs();
    return registered ? g_vfs.zName : nullptr;
}

} // namespace jimd

// The WAL-frame VFS (wal_vfs.hh). SQLite writes a frame as two writes, the header and then
// the page at the next offset (wal.c, walWriteOneFrame). For a WAL file, a 24-byte write
// is held back only when it is a new frame's header: at a frame's place in the file
// (32 + k * (page size + 24)) and at the end of what this handle wrote. It is joined with
// the write that follows when that is the page right after it; any other call on the file
// first writes what is held. A frame's header and page thus still reach the file in order
// and before the write call of the page returns, which is before SQLite publishes the
// frame to other connections: nothing is held across a commit. Not held: headers
// rewritten in place (SQLite's checksum rewrite: below the end), and 24-byte tails of a
// write that SQLite split at a sector for synchronous=FULL (never at a frame's place).
#include "wal_vfs.hh"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <sqlite3.h>

namespace jimd {

namespace {

constexpr int kFrameHeader = 24;
constexpr int kWalHeader = 32;

sqlite3_vfs *g_real = nullptr; // the default VFS
sqlite3_vfs g_vfs;             // ours: the default's, with our xOpen and a larger file

// A WAL file: ours in front, the default VFS's file right after it.
struct WalFile {
    sqlite3_file base;                // its pMethods: g_methods
    sqlite3_file *real;               // the default VFS's file
    sqlite3_int64 end;                // the end of what was written since the WAL's header
    sqlite3_int64 frame;              // page size + kFrameHeader; 0 until known
    sqlite3_int64 held_at;            // where the held header goes; -1: none held
    unsigned char held[kFrameHeader]; // a frame header not yet written
    unsigned char *joined;            // header + page, for the joined write
    int joined_size;
};

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

// Writes the held header, if any.
int flush(WalFile *w)
{
    if (w->held_at < 0)
        return SQLITE_OK;
    sqlite3_int64 at = w->held_at;
    w->held_at = -1;
    return write_through(w, w->held, kFrameHeader, at);
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
// change while the database is in WAL mode).
bool new_frame_header(WalFile *w, sqlite3_int64 offset)
{
    if (offset != w->end || offset < kWalHeader)
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

// The page right after a held header: both in one write (or, if the buffer for that cannot
// grow, the header and then the page).
int write_joined(WalFile *w, const void *page, int amount)
{
    int size = kFrameHeader + amount;
    if (size > w->joined_size) {
        auto *grown = static_cast<unsigned char *>(std::realloc(w->joined, size));
        if (!grown) {
            sqlite3_int64 at = w->held_at + kFrameHeader;
            int rc = flush(w);
            return rc != SQLITE_OK ? rc : write_through(w, page, amount, at);
        }
        w->joined = grown;
        w->joined_size = size;
    }
    std::memcpy(w->joined, w->held, kFrameHeader);
    std::memcpy(w->joined + kFrameHeader, page, static_cast<size_t>(amount));
    sqlite3_int64 at = w->held_at;
    w->held_at = -1;
    return write_through(w, w->joined, size, at);
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
    if (w->held_at >= 0 && offset == w->held_at + kFrameHeader && amount > 0)
        return write_joined(w, data, amount);
    int rc = flush(w);
    if (rc != SQLITE_OK)
        return rc;
    if (amount == kFrameHeader && new_frame_header(w, offset)) {
        std::memcpy(w->held, data, kFrameHeader);
        w->held_at = offset;
        return SQLITE_OK;
    }
    return write_through(w, data, amount, offset);
}

int x_close(sqlite3_file *f)
{
    WalFile *w = wal(f);
    int rc = flush(w);
    int closed = w->real->pMethods->xClose(w->real);
    std::free(w->joined);
    w->joined = nullptr;
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

// Every file but a WAL is the default VFS's own, in place: no call of it goes through here.
// The file name's type is sqlite3_filename since SQLite 3.40, const char * before.
int x_open(sqlite3_vfs *, const char *name, sqlite3_file *file, int flags, int *out_flags)
{
    if (!(flags & SQLITE_OPEN_WAL))
        return g_real->xOpen(g_real, name, file, flags, out_flags);
    WalFile *w = wal(file);
    std::memset(w, 0, sizeof *w);
    w->held_at = -1;
    w->real = reinterpret_cast<sqlite3_file *>(w + 1);
    int rc = g_real->xOpen(g_real, name, w->real, flags, out_flags);
    // SQLite calls xClose only when pMethods is set: set it exactly when the file is open.
    w->base.pMethods = w->real->pMethods ? &g_methods : nullptr;
    return rc;
}

bool register_vfs()
{
    g_real = sqlite3_vfs_find(nullptr);
    if (!g_real)
        return false;
    g_vfs = *g_real;
    g_vfs.zName = "jim-wal";
    g_vfs.szOsFile = static_cast<int>(sizeof(WalFile)) + g_real->szOsFile;
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

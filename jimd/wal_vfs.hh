// A SQLite VFS over the default one that writes the WAL frames a commit appends — each a
// 24-byte header and a page — with one write() per 64 KiB instead of two per frame, and
// that grows a database file by a chunk (SQLITE_FCNTL_CHUNK_SIZE) with one ftruncate
// instead of a write per 4 KiB block. Everything else, the locks and the shared WAL index
// included, is the default VFS's, so connections with and without it share a database as
// usual.
#pragma once

namespace jimd {

// The VFS's name for sqlite3_open_v2, registered on the first call (not as the default).
// nullptr, meaning the default VFS, if it could not be registered.
const char *wal_vfs_name();

} // namespace jimd

// What the master checks in the database's files before SQLite first opens them: SQLite
// would silently drop a WAL it cannot read (and the commits in it), and a directory it
// cannot write fails with a misleading errno. The format of the WAL is SQLite's
// (https://sqlite.org/fileformat2.html#walformat): a 32-byte header (magic, version, page
// size, checkpoint sequence, two salts, a checksum), then frames of a 24-byte header
// (page number, the database size after a commit or 0, the salts, a checksum) and a page.
#include "journal.hh"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace jimd {

namespace {

#define FLOG(level, ...) JIM_LOG(config.log, level, config.tag.c_str(), __VA_ARGS__)

constexpr size_t kWalHeader = 32, kFrameHeader = 24;

uint32_t be32(const unsigned char *p)
{
    return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

// Reads up to n bytes at offset; how many were read (0 at the end or on an error).
size_t read_at(int fd, unsigned char *buf, size_t n, off_t offset)
{
    ssize_t got = pread(fd, buf, n, offset);
    return got > 0 ? static_cast<size_t>(got) : 0;
}

// What a walk over the WAL's frames found.
struct WalWalk {
    uint64_t frames = 0;       // whole frames of this WAL's generation (its salts)
    uint64_t after_commit = 0; // of them, after the last commit frame
    bool torn = false;         // the file ends inside a frame of this generation
};

// Walks the frame headers of the WAL in fd (size bytes, page_size pages, salts from its
// header) until the first frame of an older generation: SQLite reuses a WAL from its start,
// so stale frames after the current ones are normal.
WalWalk walk_frames(int fd, off_t size, uint32_t page_size, const unsigned char *salts)
{
    WalWalk w;
    off_t frame = static_cast<off_t>(kFrameHeader + page_size);
    for (off_t at = kWalHeader; at < size; at += frame) {
        unsigned char h[kFrameHeader];
        if (read_at(fd, h, sizeof h, at) != sizeof h || std::memcmp(h + 8, salts, 8) != 0) {
            w.torn = size - at < frame && std::memcmp(h + 8, salts, 8) == 0;
            break;
        }
        if (size - at < frame) {
            w.torn = true;
            break;
        }
        w.frames++;
        w.after_commit = be32(h + 4) != 0 ? 0 : w.after_commit + 1;
    }
    return w;
}

// The WAL beside the database: refused (false, *why) when it is no SQLite WAL, which SQLite
// would delete with every commit in it; a warning when it ends inside a transaction.
bool check_wal(const JournalConfig &config, std::string *why)
{
    std::string path = config.path + "-wal";
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return true; // none: the last stop was clean, or the database is new
    struct stat st;
    unsigned char h[kWalHeader];
    bool ok = true;
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
        uint32_t magic = 0, page_size = 0;
        if (read_at(fd, h, sizeof h, 0) == sizeof h) {
            magic = be32(h);
            page_size = be32(h + 8);
        }
        bool pow2 = page_size >= 512 && page_size <= 65536 && (page_size & (page_size - 1)) == 0;
        if ((magic != 0x377f0682 && magic != 0x377f0683) || !pow2) {
            *why = path + ": not a SQLite WAL (its header is damaged); it may hold the last " +
                   "commits: move it away to start without them";
            ok = false;
        } else {
            WalWalk w = walk_frames(fd, st.st_size, page_size, h + 16);
            if (w.torn || w.after_commit > 0)
                FLOG(JIM_LOG_WARNING,
                     "the WAL %s ends inside a transaction (%llu frames after its last whole "
                     "commit%s): SQLite drops them. After a crash in the middle of a commit that "
                     "is expected; if the file was cut or damaged, the commits after that point "
                     "are gone",
                     path.c_str(), static_cast<unsigned long long>(w.after_commit),
                     w.torn ? ", then a torn frame" : "");
        }
    }
    close(fd);
    return ok;
}

// The directory must take the -wal and -shm files SQLite makes beside the database.
bool check_directory(const JournalConfig &config, std::string *why)
{
    size_t slash = config.path.rfind('/');
    std::string dir = slash == std::string::npos ? "."
                      : slash == 0               ? "/"
                                                 : config.path.substr(0, slash);
    if (access(dir.c_str(), W_OK) == 0)
        return true;
    int err = errno;
    if (err == ENOENT)
        return true; // SQLite says it, naming the database
    bool have_both = access((config.path + "-wal").c_str(), W_OK) == 0 &&
                     access((config.path + "-shm").c_str(), W_OK) == 0;
    if (have_both)
        return true;
    *why = config.path + ": its directory " + dir + " is not writable (" + strerror(err) +
           "): the database needs its -wal and -shm files beside it";
    return false;
}

} // namespace

bool journal_check_files(const JournalConfig &config, std::string *why)
{
    struct stat st;
    if (stat(config.path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
        FLOG(JIM_LOG_WARNING, "%s is an empty file: a new database is made in it",
             config.path.c_str());
    return check_directory(config, why) && check_wal(config, why);
}

} // namespace jimd

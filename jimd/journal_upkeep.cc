// The master's part of the SQLite journal (journal.hh): the schema before the workers
// start, the periodic upkeep in short-lived children (the master keeps no connection open,
// so a fork never copies one), the WAL's restart when the workers' own copying could not
// keep up, and the last upkeep at exit.
#include "journal.hh"

#include "clock.hh"
#include "store.hh"

#include <algorithm>
#include <unistd.h>

namespace jimd {

namespace {

#define ULOG(level, ...) JIM_LOG(config.log, level, config.tag.c_str(), __VA_ARGS__)

// Opens a connection for the upkeep; false (logged) if the database cannot be opened.
bool open_store(const JournalConfig &config, Store *store)
{
    std::string why;
    if (store->open(config.path, config.sync_full, config.busy_ms, &why))
        return true;
    if (!config.quiet)
        ULOG(JIM_LOG_WARNING, "maintenance: %s", why.c_str());
    return false;
}

// Extends the history index over the messages committed since the last run, in steps
// that keep the write lock short, at most a million messages per run.
void index_messages(const JournalConfig &config, Store &store)
{
    for (int i = 0; i < 100; i++) {
        int rows = 0;
        if (!store.index_step(10000, &rows)) {
            ULOG(JIM_LOG_WARNING, "indexing messages failed: %s", store.error().c_str());
            return;
        }
        if (rows < 10000)
            return; // caught up
    }
}

// Copies the WAL back in PASSIVE passes, each synced, until one copies little; *copied
// is how far the last one got. A worker's thread may still be finishing a pass (it holds
// the checkpoint lock, and the checkpoint answers -1 frames): it waits a second at most.
// False when it could not start (logged).
bool copy_back(const JournalConfig &config, Store &store, int *copied)
{
    int frames = -1, before = 0;
    for (int i = 0; i < 40 && frames < 0; i++) {
        if (i)
            usleep(25000);
        if (!store.checkpoint(Store::Checkpoint::Passive, &frames, copied)) {
            ULOG(JIM_LOG_WARNING, "checkpoint failed: %s", store.error().c_str());
            return false;
        }
    }
    if (frames < 0) {
        ULOG(JIM_LOG_INFO, "WAL restart put off: another checkpoint is running");
        return false;
    }
    for (int pass = 0; pass < 8 && *copied - before > 256 && *copied >= 0; pass++) {
        before = *copied;
        if (!(store.sync_files() &&
              store.checkpoint(Store::Checkpoint::Passive, &frames, copied))) {
            ULOG(JIM_LOG_WARNING, "checkpoint failed: %s", store.error().c_str());
            return false;
        }
    }
    return true;
}

} // namespace

bool journal_prepare(const JournalConfig &config, std::string *why)
{
    if (!journal_check_files(config, why))
        return false;
    Store store; // opening brings the schema up to date; closed before any fork
    return store.open(config.path, config.sync_full, config.busy_ms, why);
}

// Forgets rate-limit events past every window, then extends the history index.
void journal_upkeep(const JournalConfig &config)
{
    Store store;
    if (!open_store(config, &store))
        return;
    if (!store.prune_events(wall_seconds()))
        ULOG(JIM_LOG_WARNING, "pruning old events failed: %s", store.error().c_str());
    index_messages(config, store);
}

bool journal_upkeep_urgent(const JournalConfig &config)
{
    return Store::wal_file_bytes(config.path) > Store::kWalLimit;
}

// The fallback for a WAL grown past Store::kWalLimit (the workers copy it back themselves
// as they commit, checkpoint.cc): PASSIVE passes copy without holding anyone up, then a
// RESTART holds commits only for what was committed meanwhile, and makes the next commit
// start the WAL over (which also cuts the file down to the limit).
void journal_rescue(const JournalConfig &config)
{
    Store store;
    if (!open_store(config, &store))
        return;
    ULOG(JIM_LOG_INFO, "WAL at %lld bytes: restarting it",
         static_cast<long long>(store.wal_bytes()));
    int copied = -1;
    if (!copy_back(config, store, &copied))
        return;
    int64_t t0 = mono_us();
    int restart_frames = -1, restart_copied = -1;
    if (!(store.sync_files() &&
          store.checkpoint(Store::Checkpoint::Restart, &restart_frames, &restart_copied)))
        ULOG(JIM_LOG_WARNING, "checkpoint failed: %s", store.error().c_str());
    ULOG(JIM_LOG_DEBUG, "WAL restart: %d frames, the RESTART copied %d of them in %lld us",
         restart_frames, std::max(restart_copied - copied, 0),
         static_cast<long long>(mono_us() - t0));
}

// With the workers gone: index everything, empty the WAL.
void journal_finish(const JournalConfig &config)
{
    journal_upkeep(config);
    Store store;
    if (open_store(config, &store) && !store.checkpoint(Store::Checkpoint::Truncate))
        ULOG(JIM_LOG_WARNING, "final checkpoint failed: %s", store.error().c_str());
}

} // namespace jimd

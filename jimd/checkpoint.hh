// A worker's share of keeping the SQLite WAL short: after each commit it looks at the WAL's
// length and copies it back into the database on a thread of its own, so the WAL starts
// over without anyone holding the write lock for it (the master's RESTART is only the
// fallback: journal_upkeep.cc).
#pragma once

#include "helper.hh"
#include "journal.hh"
#include "store.hh"

#include <atomic>
#include <memory>
#include <string>

namespace jimd {

class Checkpointer {
  public:
    Checkpointer(event_base *base, const JournalConfig &config);
    ~Checkpointer();
    // Opens its own connection and starts its thread (at nice kNice); false with *why.
    bool start(std::string *why);
    // Called after each commit on main, the loop's connection: the WAL policy.
    void after_commit(Store &main);

  private:
    void finish(Store &main, int left, const std::string &error);

    // The WAL's length (4 KiB pages) at which a worker copies it back, and what the
    // thread may leave for the loop to copy. Each copy ends with a few device syncs on the
    // loop, so the longer the WAL between copies, the rarer those stalls (doc/benchmarks.md).
    static constexpr int kFrames = 4000, kRest = 64;
    // kFrames, or for a test JIMD_TEST_CHECKPOINT_FRAMES (a crash test needs a copy to run
    // without writing 16 MB first).
    int frames_;
    static constexpr int kNice = 19; // the copying waits for a free moment
    event_base *base_;
    JournalConfig config_;
    std::unique_ptr<Helper> thread_;
    std::unique_ptr<Store> store_; // used on thread_ only
    bool running_ = false;
    // Set when the WAL outgrows Store::kWalLimit, and when the worker stops: the thread
    // stops after its current pass.
    std::atomic<bool> stand_down_{false};
    int tried_at_ = 0; // the WAL's frames when the last checkpoint began
};

} // namespace jimd

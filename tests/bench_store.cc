// bench_store.cc — the cost of storing messages in jimd's database, without the server: for each
// group-commit size (messages per transaction) it stores 64-byte direct messages as
// the worker does (BEGIN IMMEDIATE, one batch row per commit, COMMIT, on a fresh WAL database
// in a temporary folder), copying the WAL back every 4,000 frames so that it starts
// over as jimd's does (here on the same thread, and with the syncs jimd's checkpoint
// thread does), and reports messages per CPU-second and CPU-µs per message.
// Bounded: at most -n messages per size (default 200,000) and -s CPU seconds (1). Every
// 20,000 messages it indexes them as the upkeep does, counted too and shown apart ("of
// which the upkeep"): the index is part of what storing a message costs. -i gives every
// message a client id, as libjim's clients do (jimbench's do not; the upkeep then also
// folds the ids into `ids`).
// For instruction counts that do not depend on the machine's load:
//   valgrind --tool=callgrind tests/bench_store -n 20000   (then callgrind_annotate
//   --inclusive=yes: run_size is the storing and the indexing, setup excluded, summed over
//   all sizes; index_step the indexing)
// Run with `make bench`.
#include "store.hh"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

constexpr int kCheckpointFrames = 4000; // as jimd's workers

double cpu_seconds()
{
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Indexes what is not yet indexed, as the upkeep does, adding its CPU time to *secs;
// false on a database error (reported).
bool index_all(jimd::Store &store, double *secs)
{
    int rows = 0;
    double t0 = cpu_seconds();
    do {
        if (!store.index_step(10000, &rows)) {
            std::fprintf(stderr, "bench_store: %s\n", store.error().c_str());
            return false;
        }
    } while (rows == 10000);
    *secs += cpu_seconds() - t0;
    return true;
}

// Stores up to `limit` messages `batch` per transaction within `budget` CPU seconds;
// returns how many it stored (0 on a database error, reported).
long run_size(jimd::Store &store, std::vector<jimd::StoredMessage *> &msgs, size_t batch,
              long limit, double budget, bool ids, double *secs, double *upkeep_secs)
{
    static long counter = 0; // ids stay unique across sizes
    long done = 0;
    std::vector<uint8_t> dup(batch);
    double t0 = cpu_seconds();
    while (done + static_cast<long>(batch) <= limit && cpu_seconds() - t0 < budget) {
        // As libjim's clients: a prefix per client and a counter.
        for (size_t i = 0; ids && i < batch; i++)
            msgs[i]->client_id = "c" + msgs[i]->from + "-" + std::to_string(++counter);
        if (!store.begin() || !store.insert_batch(msgs.data(), batch, dup.data()) ||
            !store.commit()) {
            std::fprintf(stderr, "bench_store: %s\n", store.error().c_str());
            return 0;
        }
        done += static_cast<long>(batch);
        // The upkeep indexes about once a second in jimd (and folds the ids into `ids`):
        // here every 20,000 messages, on this thread, so that its cost is counted too.
        if (done / 20000 != (done - static_cast<long>(batch)) / 20000 &&
            !index_all(store, upkeep_secs))
            return 0;
        if (store.wal_frames() >= kCheckpointFrames &&
            !(store.checkpoint(jimd::Store::Checkpoint::Passive) && store.sync_files())) {
            std::fprintf(stderr, "bench_store: %s\n", store.error().c_str());
            return 0;
        }
    }
    if (!index_all(store, upkeep_secs)) // the rest: every message stored is counted indexed
        return 0;
    *secs = cpu_seconds() - t0;
    return done;
}

} // namespace

int main(int argc, char **argv)
{
    long limit = 200000;
    double budget = 1.0;
    bool ids = false;
    for (int opt; (opt = getopt(argc, argv, "in:s:")) != -1;) {
        if (opt == 'i')
            ids = true;
        else if (opt == 'n' && std::atol(optarg) > 0)
            limit = std::atol(optarg);
        else if (opt == 's' && std::atof(optarg) > 0)
            budget = std::atof(optarg);
        else {
            std::fprintf(stderr, "usage: bench_store [-i] [-n MESSAGES] [-s CPU_SECONDS]\n");
            return 64;
        }
    }
    char dir[] = "/tmp/jim-bench-store-XXXXXX";
    if (!mkdtemp(dir)) {
        std::perror("bench_store: mkdtemp");
        return 74;
    }
    std::string path = std::string(dir) + "/jimd.db", why;
    int rc = 0;
    {
        jimd::Store store;
        if (!store.open(path, false, 1000, &why)) {
            std::fprintf(stderr, "bench_store: %s\n", why.c_str());
            rc = 74;
        }
        // The largest group commit jimbench's W1 sees is about 300 messages.
        const size_t sizes[] = {1, 10, 40, 100, 300};
        std::vector<jimd::StoredMessage> storage(300);
        std::vector<jimd::StoredMessage *> msgs;
        for (size_t i = 0; i < storage.size(); i++) {
            storage[i].time = 1700000000000 + static_cast<int64_t>(i);
            storage[i].from = "s" + std::to_string(i % 50);
            storage[i].to = "r" + std::to_string(i % 50);
            storage[i].encoding = "utf-8";
            storage[i].text = std::string(64, 'x');
            msgs.push_back(&storage[i]);
        }
        for (size_t k = 0; rc == 0 && k < sizeof sizes / sizeof sizes[0]; k++) {
            double secs = 0, upkeep = 0;
            long n = run_size(store, msgs, sizes[k], limit, budget, ids, &secs, &upkeep);
            if (n == 0) {
                rc = 70;
                break;
            }
            std::printf("%3zu per commit  %10.0f messages per CPU-s  %6.2f CPU-us per message  "
                        "(%ld messages, %.2f CPU s)",
                        sizes[k], static_cast<double>(n) / secs,
                        secs * 1e6 / static_cast<double>(n), n, secs);
            std::printf("  of which the upkeep %.2f\n", upkeep * 1e6 / static_cast<double>(n));
        }
    }
    for (const char *suffix : {"", "-wal", "-shm"})
        unlink((path + suffix).c_str());
    rmdir(dir);
    return rc;
}

// crashloop — kill -9 under load, then check that nothing acknowledged was lost.
//
// A jimd with several workers serves a load (load.hh: direct messages across workers and to
// users who are offline, room messages, messages that must be refused, syncs, log-outs and
// log-ins). Each round kills one process with SIGKILL: a worker at a random moment (the
// master respawns it), or in the other run the master (its workers leave, and jimd is
// started again on the same database). A third of the rounds kill right after a burst of
// 2,000 pipelined messages (a large commit), a third while the WAL is being copied back
// (more than 1,000 frames in it, part of them copied: read from the WAL index). After each
// round every user logs in: those who were offline are handed their messages, each acked
// one exactly once; then `sync since 0` must hold each acked message once for each of its
// recipients, with its seq, and no refused one; PRAGMA integrity_check must say ok.
//
// Prints TAP, one line per round, and the totals. Options: -r ROUNDS (each kind), -k worker,
// -k master (default: both), -w WORKERS, -s SEED, -t LOAD_SECONDS.
#include "ledger.hh"
#include "load.hh"

extern "C" {
#include "jimd_harness.h"
}

#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <map>
#include <random>
#include <string>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace crash;

namespace {

struct Options {
    int rounds = 5;
    bool workers_kind = true, master_kind = true;
    int workers = 3;
    unsigned long seed = 0;
    double load_seconds = 0.8;
    double rate = 1500;
};

enum class Moment { Random, Burst, Checkpoint };
const char *moment_name(Moment m)
{
    return m == Moment::Random  ? "at a random moment"
           : m == Moment::Burst ? "after a burst of 2000"
                                : "during a WAL checkpoint";
}

const std::vector<std::string> kOnline = {"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7"};
const std::vector<std::string> kOffline = {"o0", "o1", "o2", "o3"};

double seconds_since(int64_t t0)
{
    return static_cast<double>(now_ns() - t0) / 1e9;
}

// The WAL's length in frames and how many of them are copied back, from its index (the
// -shm file: the header's mxFrame at byte 16, the checkpoint's nBackfill at byte 96).
bool wal_state(const std::string &db, uint32_t *frames, uint32_t *copied)
{
    int fd = open((db + "-shm").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    unsigned char h[100];
    bool ok = pread(fd, h, sizeof h, 0) == static_cast<ssize_t>(sizeof h);
    close(fd);
    if (ok) {
        std::memcpy(frames, h + 16, 4);
        std::memcpy(copied, h + 96, 4);
    }
    return ok;
}

bool integrity_ok(const std::string &db, std::string *why)
{
    sqlite3 *h = nullptr;
    sqlite3_stmt *st = nullptr;
    bool ok = false;
    if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
        sqlite3_busy_timeout(h, 10000) == SQLITE_OK &&
        sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        const char *r = reinterpret_cast<const char *>(sqlite3_column_text(st, 0));
        *why = r ? r : "";
        ok = *why == "ok";
    } else {
        *why = h ? sqlite3_errmsg(h) : "cannot open";
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return ok;
}

// Logs in as user and reads what it finds: what the login hands over (kept with `pushed`),
// up to a marker request, which waits behind it; then `sync since 0`.
bool collect(int port, const std::string &user, bool pushed, Found *f)
{
    tclient *c = tc_connect(port);
    if (c) { // the checkpoint rounds' messages are longer than the default limit
        jim_limits *lim = nullptr;
        jim_limits_new(&lim);
        jim_limits_set(lim, JIM_LIMIT_MESSAGE_CHARS, 4000);
        jim_framer_free(c->framer);
        jim_framer_new(&c->framer, lim);
        jim_limits_free(lim);
    }
    int code = c ? tc_login(c, user.c_str(), "password1") : -1;
    if (code != 200) {
        std::printf("# %s: login answered %d\n", user.c_str(), code);
        tc_close(c);
        return false;
    }
    auto id_of = [](const jim_msg *m, std::string *id) {
        const char *text = nullptr;
        size_t len = 0;
        if (jim_msg_get_strn(m, JIM_FIELD_MESSAGE, &text, &len) != JIM_OK)
            return false;
        std::string t(text, len);
        *id = t.substr(0, t.find(' '));
        return true;
    };
    // Reads until the answer with this id; msg objects before it go to `each`.
    auto until = [&](const char *id, auto each) {
        for (;;) {
            jim_msg *m = tc_recv(c, 60000);
            if (!m)
                return false;
            const char *rid = jim_msg_get_str(m, JIM_FIELD_ID);
            if (jim_msg_response(m) && rid && std::strcmp(rid, id) == 0)
                return jim_msg_response(m) == 200;
            std::string mid;
            if (jim_msg_action(m) == JIM_ACTION_MSG && id_of(m, &mid))
                each(m, mid);
        }
    };
    // What the login hands over comes first: a request waits behind it.
    tc_send(c, "{\"action\":\"sync\",\"id\":\"mark\",\"since\":9000000000000000000}");
    bool ok = until("mark", [&](const jim_msg *, const std::string &mid) {
        if (pushed)
            f->pushed.push_back(mid);
    });
    tc_send(c, "{\"action\":\"sync\",\"id\":\"all\",\"since\":0}");
    ok = ok && until("all", [&](const jim_msg *m, const std::string &mid) {
             int64_t seq = 0;
             jim_msg_get_int(m, JIM_FIELD_SEQ, &seq);
             f->synced[mid]++;
             f->seq[mid] = seq;
         });
    if (!ok)
        std::printf("# %s: sync failed (%s)\n", user.c_str(), c->last_error);
    tc_send(c, "{\"action\":\"quit\"}");
    tc_close(c);
    return ok;
}

class Run {
  public:
    Run(const Options &o, bool kill_master) : o_(o), kill_master_(kill_master), rnd_(o.seed) {}
    int start();
    // One round; prints its TAP line as number n. False when it found a problem.
    bool round(int r, int n);
    void stop() { jimd_cleanup(&p_); }
    const Tally &total() const { return total_; }
    long sent() const { return sent_; }
    long integrity_failures() const { return integrity_bad_; }
    // Checkpoint rounds, and those whose kill came while the WAL was being copied back.
    int checkpoint_rounds() const { return checkpoint_rounds_; }
    int checkpoint_hits() const { return checkpoint_hits_; }

  private:
    void reap();
    bool kill_a_worker(std::string *what, int prefer);
    bool kill_the_master(std::string *what);
    bool wait_workers_ready();

    Options o_;
    bool kill_master_;
    std::mt19937_64 rnd_;
    jimd_proc p_{};
    Ledger ledger_;
    Tally total_;
    long sent_ = 0, integrity_bad_ = 0;
    int checkpoint_rounds_ = 0, checkpoint_hits_ = 0;
    std::map<pid_t, int64_t> born_; // worker pid -> when first seen
};

int Run::start()
{
    // Messages of 3,000 characters fill the WAL fast for the checkpoint rounds; a short
    // drain_timeout, so a master's death is followed quickly by its workers'.
    // A worker copies the WAL back from 1,000 frames on, not 4,000: a checkpoint round's
    // burst of 1,500 long messages gets there at once.
    setenv("JIMD_TEST_CHECKPOINT_FRAMES", "1000", 1);
    if (jimd_start(&p_, o_.workers,
                   "log_level info\nmsg_rate 0\nmax_message_chars 4000\ndrain_timeout 2\n") != 0)
        return -1;
    std::vector<std::string> all = kOnline;
    all.insert(all.end(), kOffline.begin(), kOffline.end());
    all.push_back("keeper");
    all.push_back("burst"); // the bursts' sender, alone on its connection
    for (const std::string &u : all) {
        tclient *c = tc_online(p_.port, u.c_str());
        if (!c)
            return -1;
        const char *room = u == "keeper"                 ? "#locked"
                           : u[0] == 'u' || u == "burst" ? "#crash"
                                                         : nullptr;
        if (room) {
            tc_send(c, "{\"action\":\"join\",\"room\":\"%s\"}", room);
            if (tc_response(c, 10000) != 200)
                return -1;
        }
        tc_close(c);
    }
    std::vector<std::string> members = kOnline;
    members.push_back("burst");
    ledger_.set_room("#crash", members);
    ledger_.set_room("#locked", {"keeper"});
    return 0;
}

// Reaps what the master left to us (prctl PR_SET_CHILD_SUBREAPER): workers, upkeep children.
void Run::reap()
{
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
}

// Kills worker `prefer` (the one busy with a burst), or with -1 a random one.
bool Run::kill_a_worker(std::string *what, int prefer)
{
    // A worker killed young is respawned ever more slowly: take one that lived 5 s if any.
    std::vector<int> old, any;
    for (int i = 0; i < o_.workers; i++) {
        pid_t pid = jimd_worker_pid(&p_, i);
        if (pid <= 0 || kill(pid, 0) != 0)
            continue;
        auto [it, fresh] = born_.emplace(pid, now_ns());
        any.push_back(i);
        if (!fresh && seconds_since(it->second) >= 5)
            old.push_back(i);
    }
    const std::vector<int> &from = old.empty() ? any : old;
    if (from.empty())
        return false;
    int i = prefer >= 0 && prefer < o_.workers ? prefer : from[rnd_() % from.size()];
    pid_t pid = jimd_worker_pid(&p_, i);
    kill(pid, SIGKILL);
    *what = "worker " + std::to_string(i) + " (pid " + std::to_string(pid) + ")";
    return true;
}

bool Run::kill_the_master(std::string *what)
{
    std::vector<pid_t> workers;
    for (int i = 0; i < o_.workers; i++)
        workers.push_back(jimd_worker_pid(&p_, i));
    *what = "the master (pid " + std::to_string(p_.pid) + ")";
    jimd_kill9(&p_);
    // Its workers see the control socket close, drain and leave; then it starts again.
    int64_t t0 = now_ns();
    for (bool alive = true; alive && seconds_since(t0) < 15;) {
        reap();
        alive = false;
        for (pid_t w : workers)
            alive = alive || (w > 0 && kill(w, 0) == 0);
        if (alive)
            usleep(20000);
    }
    for (pid_t w : workers)
        if (w > 0 && kill(w, 0) == 0) {
            *what += "; a worker outlived it by 15 s";
            kill(w, SIGKILL);
        }
    reap();
    return jimd_restart(&p_) == 0;
}

bool Run::wait_workers_ready()
{
    int64_t t0 = now_ns();
    while (seconds_since(t0) < 40) {
        reap();
        bool all = true;
        for (int i = 0; i < o_.workers && all; i++) {
            pid_t pid = jimd_worker_pid(&p_, i);
            char ready[96];
            std::snprintf(ready, sizeof ready, "worker %d of %d ready (pid %d)", i, o_.workers,
                          static_cast<int>(pid));
            all = pid > 0 && kill(pid, 0) == 0 && jimd_log_count(&p_, ready) > 0;
        }
        if (all)
            return true;
        usleep(20000);
    }
    return false;
}

bool Run::round(int r, int n)
{
    Moment moment = static_cast<Moment>(r % 3);
    LoadConfig cfg{kOnline, kOffline, "#crash", "#locked", 40, o_.rate};
    Load load(p_.port, r, ledger_, rnd_, cfg);
    double kill_at = o_.load_seconds * (0.2 + 0.5 * static_cast<double>(rnd_() % 1000) / 1000);
    bool killed = false, restarted = true;
    std::string what;
    int64_t t0 = now_ns();
    // The checkpoint rounds: long messages between two users of their own, so the WAL
    // passes 1,000 frames at once and no one else's sync grows with them.
    std::string burster = "b" + std::to_string(r), sink = "s" + std::to_string(r);
    if (moment == Moment::Checkpoint) {
        tclient *a = tc_online(p_.port, burster.c_str()), *b = tc_online(p_.port, sink.c_str());
        tc_close(a);
        tc_close(b);
    }
    // Kills (the worker of `busy`, a user whose burst it is committing, if given).
    auto do_kill = [&](const char *busy) {
        killed = true;
        if (kill_master_)
            restarted = kill_the_master(&what);
        else
            kill_a_worker(&what, busy ? jimd_user_worker(&p_, busy) : -1);
        return !kill_master_; // the master's death ends the round's load
    };
    uint32_t frames = 0, copied = 0, at_frames = 0, at_copied = 0;
    bool hit = false; // the checkpoint round's kill came while the WAL was being copied
    load.run(o_.load_seconds, [&]() {
        if (killed || seconds_since(t0) < kill_at)
            return true;
        if (moment == Moment::Burst) {
            load.burst("burst", 2000, "");
            usleep(static_cast<useconds_t>(rnd_() % 20000));
            return do_kill("burst");
        }
        if (moment == Moment::Checkpoint) {
            Load big(p_.port, r, ledger_, rnd_, {{burster}, {sink}, "#crash", "#locked", 3000, 0});
            big.burst(burster, 1500, sink);
            // Now a checkpoint thread copies the WAL back: kill while the count of frames
            // copied moves (a count left from an earlier pass may stand still below the end).
            uint32_t last = 0;
            wal_state(p_.db, &frames, &last);
            for (int64_t w0 = now_ns(); seconds_since(w0) < 5 && !hit; usleep(100)) {
                bool got = wal_state(p_.db, &frames, &copied);
                hit = got && frames >= 1000 && copied != last && copied > 0 && copied < frames;
                last = copied;
            }
            at_frames = frames;
            at_copied = copied;
            bool go_on = do_kill(burster.c_str());
            big.finish(10);
            sent_ += big.sent();
            return go_on;
        }
        return do_kill(nullptr);
    });
    if (!killed) // the load ended before its moment came
        do_kill(nullptr);
    load.finish(15);
    sent_ += load.sent();
    const char *when = moment_name(moment);
    if (moment == Moment::Checkpoint) {
        checkpoint_rounds_++;
        checkpoint_hits_ += hit;
        if (hit)
            what += " with the WAL at " + std::to_string(at_frames) + " frames, " +
                    std::to_string(at_copied) + " copied,";
        else
            when = "after 1500 long messages (no checkpoint seen in 5 s)";
    }

    bool ready = restarted && wait_workers_ready();
    std::map<std::string, Found> found;
    bool collected = ready;
    std::vector<std::string> users = kOnline;
    users.insert(users.end(), kOffline.begin(), kOffline.end());
    users.push_back("keeper");
    users.push_back("burst");
    if (moment == Moment::Checkpoint) {
        users.push_back(burster);
        users.push_back(sink);
    }
    std::vector<std::string> pushed_to = kOffline;
    if (moment == Moment::Checkpoint)
        pushed_to.push_back(sink);
    for (const std::string &u : users) {
        if (!collected)
            break;
        bool offline = std::find(pushed_to.begin(), pushed_to.end(), u) != pushed_to.end();
        Found f;
        collected = collect(p_.port, u, offline, &f);
        if (collected) // only what was read whole is checked
            found[u] = std::move(f);
    }
    Tally t = ledger_.check(found, r, pushed_to);
    std::string why;
    bool sound = integrity_ok(p_.db, &why);
    integrity_bad_ += !sound;
    total_.add(t);
    bool good = ready && collected && sound && t.clean();
    std::printf("%s %d - %s killed %s: %ld acked, %ld refused, %ld unanswered (%ld stored), "
                "%ld checked, %ld pushed at login; lost %ld, duplicated %ld, refused present "
                "%ld; integrity %s\n",
                good ? "ok" : "not ok", n, what.c_str(), when, t.acked, t.refused, t.unknown,
                t.unknown_stored, t.checked, t.pushed_checked, t.lost + t.push_lost,
                t.duplicated + t.push_duplicated, t.refused_present, why.c_str());
    if (!ready)
        std::printf("# jimd did not come back with every worker ready\n");
    if (!collected)
        std::printf("# a user could not log in or sync afterwards\n");
    for (const std::string &e : t.examples)
        std::printf("# %s\n", e.c_str());
    std::fflush(stdout);
    return good;
}

void usage()
{
    std::fprintf(stderr, "usage: crashloop [-r ROUNDS] [-k worker|master] [-w WORKERS] "
                         "[-s SEED] [-t LOAD_SECONDS]\n");
    std::exit(64);
}

} // namespace

int main(int argc, char **argv)
{
    Options o;
    o.seed = static_cast<unsigned long>(time(nullptr));
    if (const char *r = std::getenv("CRASH_ROUNDS"))
        o.rounds = std::atoi(r);
    for (int c; (c = getopt(argc, argv, "r:k:w:s:t:")) != -1;) {
        switch (c) {
        case 'r': o.rounds = std::atoi(optarg); break;
        case 'k':
            o.workers_kind = std::strcmp(optarg, "worker") == 0;
            o.master_kind = std::strcmp(optarg, "master") == 0;
            if (!o.workers_kind && !o.master_kind)
                usage();
            break;
        case 'w': o.workers = std::atoi(optarg); break;
        case 's': o.seed = std::strtoul(optarg, nullptr, 10); break;
        case 't': o.load_seconds = std::atof(optarg); break;
        default: usage();
        }
    }
    if (o.rounds < 1 || o.workers < 2)
        usage();
    // Workers whose master was killed become ours to reap, not init's.
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    signal(SIGPIPE, SIG_IGN);
    std::printf("1..%d\n# seed %lu\n", o.rounds * (o.workers_kind + o.master_kind), o.seed);
    int n = 0, failed = 0;
    for (bool master : {false, true}) {
        if (master ? !o.master_kind : !o.workers_kind)
            continue;
        Run run(o, master);
        if (run.start() != 0) {
            std::printf("Bail out! jimd did not start, or the users could not be made\n");
            return 1;
        }
        int64_t t0 = now_ns();
        for (int r = 1; r <= o.rounds; r++)
            failed += !run.round(r, ++n);
        const Tally &t = run.total();
        std::printf("# %s kills: %d rounds in %.0f s, %ld messages sent, %ld acknowledged, "
                    "%ld refused, %ld unanswered (%ld of them stored); checked %ld deliveries "
                    "by sync and %ld by offline delivery: lost: %ld, duplicated: %ld, refused "
                    "present: %ld, integrity failures: %ld\n",
                    master ? "master" : "worker", o.rounds, seconds_since(t0), run.sent(), t.acked,
                    t.refused, t.unknown, t.unknown_stored, t.checked, t.pushed_checked,
                    t.lost + t.push_lost, t.duplicated + t.push_duplicated, t.refused_present,
                    run.integrity_failures());
        std::printf("# %s kills: %d of %d checkpoint rounds killed while the WAL was being "
                    "copied back\n",
                    master ? "master" : "worker", run.checkpoint_hits(), run.checkpoint_rounds());
        std::fflush(stdout);
        run.stop();
    }
    return failed ? 1 : 0;
}

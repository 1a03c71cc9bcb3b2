// diskfull — jimd with `synchronous full` on a volume that fills up: a tmpfs of 24 MB mounted
// for the test (needs root; skipped elsewhere). While the volume is full jimd must refuse new
// messages with 500, keep serving reads and log-ins, and say so in its log without a line for
// every refusal; once space is back it stores messages again. Nothing acknowledged may be
// lost, nothing refused stored, and the database must pass PRAGMA integrity_check. Prints TAP.
extern "C" {
#include "jimd_harness.h"
}

#include <sqlite3.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <map>
#include <string>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace {

int n = 0, failures = 0;

void tap(bool ok, const std::string &what, const char *todo = nullptr)
{
    std::printf("%s %d - %s%s%s\n", ok ? "ok" : "not ok", ++n, what.c_str(), todo ? " # TODO " : "",
                todo ? todo : "");
    if (!ok && !todo)
        failures++;
    std::fflush(stdout);
}

double now_s()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Sends `count` messages from c to `to`, pipelined, numbered from *next; records each answer.
void send_batch(tclient *c, const char *to, int count, int *next, std::map<std::string, int> *codes)
{
    std::vector<std::string> ids;
    for (int i = 0; i < count; i++) {
        std::string id = "df" + std::to_string((*next)++);
        tc_send(c, "{\"action\":\"msg\",\"id\":\"%s\",\"to\":\"%s\",\"message\":\"%s %s\"}",
                id.c_str(), to, id.c_str(), tc_long_text() + 100);
        ids.push_back(id);
    }
    for (size_t got = 0; got < ids.size();) {
        jim_msg *m = tc_recv(c, 30000);
        if (!m)
            return; // unanswered: neither acked nor refused
        const char *id = jim_msg_get_str(m, JIM_FIELD_ID);
        if (jim_msg_response(m) && id) {
            (*codes)[id] = jim_msg_response(m);
            got++;
        }
    }
}

// Fills the file system of dir; returns the filler's path (removing it gives the space back).
std::string fill(const std::string &dir)
{
    std::string path = dir + "/filler";
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    static char block[1 << 16];
    while (fd >= 0 && write(fd, block, sizeof block) > 0) {
    }
    if (fd >= 0)
        close(fd);
    return path;
}

// What b's `sync since 0` holds: message id -> times.
std::map<std::string, int> synced(int port, bool *ok)
{
    std::map<std::string, int> out;
    tclient *c = tc_online(port, "df_b");
    *ok = c != nullptr;
    if (!c)
        return out;
    // What the login hands over comes first (a request waits behind it): not counted here.
    tc_send(c, "{\"action\":\"sync\",\"id\":\"mark\",\"since\":9000000000000000000}");
    tc_send(c, "{\"action\":\"sync\",\"id\":\"all\",\"since\":0}");
    bool marked = false;
    for (;;) {
        jim_msg *m = tc_recv(c, 30000);
        if (!m) {
            *ok = false;
            break;
        }
        const char *rid = jim_msg_get_str(m, JIM_FIELD_ID);
        if (jim_msg_response(m) && rid && std::strcmp(rid, "all") == 0)
            break;
        marked = marked || (jim_msg_response(m) && rid && std::strcmp(rid, "mark") == 0);
        const char *text = jim_msg_get_str(m, JIM_FIELD_MESSAGE);
        if (marked && jim_msg_action(m) == JIM_ACTION_MSG && text)
            out[std::string(text).substr(0, std::string(text).find(' '))]++;
    }
    tc_close(c);
    return out;
}

bool integrity_ok(const std::string &db)
{
    sqlite3 *h = nullptr;
    sqlite3_stmt *st = nullptr;
    bool ok = sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
              sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK &&
              sqlite3_step(st) == SQLITE_ROW &&
              std::strcmp(reinterpret_cast<const char *>(sqlite3_column_text(st, 0)), "ok") == 0;
    sqlite3_finalize(st);
    sqlite3_close(h);
    return ok;
}

} // namespace

int main()
{
    jimd_proc p;
    if (geteuid() != 0) {
        std::printf("1..0 # SKIP mounting a small volume needs root\n");
        return 0;
    }
    if (jimd_prepare(&p, 1, "synchronous full\nmsg_rate 0\nlog_level info") != 0) {
        std::printf("Bail out! cannot make the test directory\n");
        return 1;
    }
    std::string vol = std::string(p.dir) + "/vol";
    mkdir(vol.c_str(), 0755);
    if (mount("tmpfs", vol.c_str(), "tmpfs", 0, "size=24m") != 0) {
        std::printf("1..0 # SKIP cannot mount a tmpfs here: %s\n", std::strerror(errno));
        jimd_cleanup(&p);
        return 0;
    }
    std::printf("1..9\n");
    std::snprintf(p.db, sizeof p.db, "%s/jimd.db", vol.c_str());
    tap(jimd_restart(&p) == 0, "synchronous full, the database on a 24 MB volume: jimd starts");

    std::map<std::string, int> codes;
    int next = 0;
    tclient *a = tc_online(p.port, "df_a");
    tclient *b = tc_online(p.port, "df_b");
    tc_close(b); // b is away: a's messages wait for it
    send_batch(a, "df_b", 200, &next, &codes);

    // Full: new messages are refused, and only with 500.
    std::string filler = fill(vol);
    double full_at = now_s();
    int log_before = jimd_log_count(&p, "disk is full");
    int refused = 0, other = 0, acked_full = 0;
    for (int round = 0; round < 40 && refused == 0; round++) {
        std::map<std::string, int> batch;
        send_batch(a, "df_b", 50, &next, &batch);
        for (auto &[id, code] : batch) {
            refused += code == 500;
            acked_full += code == 200 || code == 202;
            other += code != 500 && code != 200 && code != 202;
        }
        codes.insert(batch.begin(), batch.end());
    }
    std::map<std::string, int> more;
    send_batch(a, "df_b", 300, &next, &more); // every one now finds the volume full
    for (auto &[id, code] : more) {
        refused += code == 500;
        acked_full += code == 200 || code == 202;
        other += code != 500 && code != 200 && code != 202;
    }
    codes.insert(more.begin(), more.end());
    tap(refused > 0 && other == 0,
        "the volume full: messages refused with 500 (" + std::to_string(refused) + " refused, " +
            std::to_string(acked_full) + " stored before the space ran out), no other answer");

    // Reads and log-ins go on.
    bool ok = false;
    std::map<std::string, int> seen = synced(p.port, &ok);
    tclient *h = tc_online(p.port, "df_a");
    bool history = false;
    if (h) {
        tc_send(h, "{\"action\":\"history\",\"with\":\"df_b\",\"limit\":5}");
        history = tc_response(h, 10000) == 202;
        tc_close(h);
    }
    tap(ok && history && !seen.empty(), "while full, log-ins, sync and history are served (" +
                                            std::to_string(seen.size()) + " messages synced)");
    tclient *r = tc_connect(p.port);
    int reg = -1;
    if (r) {
        tc_send(r, "{\"action\":\"register\",\"user\":{\"account_name\":\"df_new\",\"password\":"
                   "\"password1\"}}");
        reg = tc_response(r, 10000);
        tc_close(r);
    }
    tap(reg == 500 || reg == 201,
        "while full, a registration is answered (" + std::to_string(reg) + "), not dropped");
    double full_for = now_s() - full_at;
    int lines = jimd_log_count(&p, "disk is full") - log_before;
    tap(lines <= 2 * (1 + static_cast<int>(full_for / 10)),
        "while full, the log says so once per 10 s per process, not once per refusal (" +
            std::to_string(lines) + " lines in " + std::to_string(static_cast<int>(full_for)) +
            " s)");

    // Space back: messages are stored again.
    unlink(filler.c_str());
    int stored_again = 0;
    for (double t0 = now_s(); now_s() - t0 < 15 && stored_again == 0; usleep(100000)) {
        std::map<std::string, int> one;
        send_batch(a, "df_b", 1, &next, &one);
        for (auto &[id, code] : one)
            stored_again += code == 200 || code == 202;
        codes.insert(one.begin(), one.end());
    }
    std::map<std::string, int> after;
    send_batch(a, "df_b", 200, &next, &after);
    int acked_after = 0;
    for (auto &[id, code] : after)
        acked_after += code == 200 || code == 202;
    codes.insert(after.begin(), after.end());
    tap(stored_again && acked_after == 200,
        "space back: messages are stored again (" + std::to_string(acked_after) + " of 200)");
    tc_close(a);

    // Nothing acknowledged lost, nothing refused stored, after a stop and a start too.
    int stop_status = jimd_stop(&p);
    bool sound = integrity_ok(p.db);
    int lost = 0, twice = 0, refused_kept = 0, acked = 0;
    bool up = jimd_restart(&p) == 0;
    seen = synced(p.port, &ok);
    for (auto &[id, code] : codes) {
        int times = seen.count(id) ? seen[id] : 0;
        bool was_acked = code == 200 || code == 202;
        acked += was_acked;
        lost += was_acked && times == 0;
        twice += times > 1;
        refused_kept += !was_acked && times > 0;
    }
    tap(up && ok && lost == 0 && twice == 0 && refused_kept == 0,
        "after a restart: " + std::to_string(acked) + " acknowledged, lost: " +
            std::to_string(lost) + ", duplicated: " + std::to_string(twice) +
            ", refused yet stored: " + std::to_string(refused_kept));
    tap(stop_status == 0, "jimd stopped cleanly after the volume was full (exit " +
                              std::to_string(stop_status) + ")");
    tap(sound, "PRAGMA integrity_check: ok");
    jimd_stop(&p);
    umount2(vol.c_str(), MNT_DETACH);
    jimd_cleanup(&p);
    return failures ? 1 : 0;
}

// The /metrics endpoint (metrics.hh): one page in the Prometheus text exposition format
// (version 0.0.4), a series per worker so that a restarted worker shows.
#include "metrics.hh"

#include "settings.hh"

#include <event2/buffer.h>
#include <event2/http.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <sys/stat.h>

namespace jimd {

namespace {

// The size of the file at path in bytes; 0 when it is not there.
uint64_t file_size(const std::string &path)
{
    struct stat st;
    return stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

// One metric: its HELP and TYPE lines.
void header(std::string *out, const char *name, const char *type, const char *help)
{
    *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

// One line: name{worker="i"} value.
void sample(std::string *out, const char *name, int worker, uint64_t value)
{
    char line[160];
    std::snprintf(line, sizeof line, "%s{worker=\"%d\"} %" PRIu64 "\n", name, worker, value);
    *out += line;
}

// One worker's histogram h in the Prometheus form: cumulative buckets up to +Inf, whose
// count is _count (added up from the buckets as read, so they agree), then _sum, the sum
// divided by scale (1e6 for microseconds into seconds).
template <size_t N>
void histogram(std::string *out, const char *name, int worker, const Histogram<N> &h,
               const uint64_t (&bounds)[N], double scale)
{
    char line[200];
    uint64_t count = 0;
    for (size_t i = 0; i <= N; i++) {
        count += h.buckets[i].load(std::memory_order_relaxed);
        if (i < N)
            std::snprintf(line, sizeof line, "%s_bucket{worker=\"%d\",le=\"%g\"} %" PRIu64 "\n",
                          name, worker, static_cast<double>(bounds[i]) / scale, count);
        else
            std::snprintf(line, sizeof line, "%s_bucket{worker=\"%d\",le=\"+Inf\"} %" PRIu64 "\n",
                          name, worker, count);
        *out += line;
    }
    // Whole numbers stay whole (a sum of messages); microseconds become seconds.
    uint64_t sum = h.sum.load(std::memory_order_relaxed);
    if (scale == 1)
        std::snprintf(line, sizeof line, "%s_sum{worker=\"%d\"} %" PRIu64 "\n", name, worker, sum);
    else
        std::snprintf(line, sizeof line, "%s_sum{worker=\"%d\"} %.6f\n", name, worker,
                      static_cast<double>(sum) / scale);
    *out += line;
    std::snprintf(line, sizeof line, "%s_count{worker=\"%d\"} %" PRIu64 "\n", name, worker, count);
    *out += line;
}

// A series with one sample per worker, read from its counters.
struct Gauge {
    const char *name, *type, *help;
    uint64_t (*get)(const WorkerCounters &);
};
const Gauge kPerWorker[] = {
    {"jimd_connections", "gauge", "Connections open on the worker (control connections too).",
     [](const WorkerCounters &c) {
         return static_cast<uint64_t>(c.connections.load(std::memory_order_relaxed));
     }},
    {"jimd_sessions", "gauge", "Sessions logged in on the worker.",
     [](const WorkerCounters &c) {
         return static_cast<uint64_t>(c.sessions.load(std::memory_order_relaxed));
     }},
    {"jimd_messages_in_total", "counter", "Messages clients sent to the worker.",
     [](const WorkerCounters &c) { return c.messages_in.load(std::memory_order_relaxed); }},
    {"jimd_messages_out_total", "counter",
     "Messages the worker pushed to its clients: deliveries, and sync and history replays.",
     [](const WorkerCounters &c) { return c.messages_out.load(std::memory_order_relaxed); }},
    {"jimd_deliveries_total", "counter",
     "Messages written to a recipient's session as they came or at login (one per session; "
     "no sync or history replays).",
     [](const WorkerCounters &c) { return c.deliveries.load(std::memory_order_relaxed); }},
    {"jimd_offline_stores_total", "counter",
     "Direct messages stored for a recipient online nowhere (answered 202).",
     [](const WorkerCounters &c) { return c.offline_stores.load(std::memory_order_relaxed); }},
    {"jimd_logins_total", "counter", "Successful logins on the worker.",
     [](const WorkerCounters &c) { return c.logins.load(std::memory_order_relaxed); }},
    {"jimd_login_failures_total", "counter",
     "Logins refused on the worker (wrong password, too many failures, banned, ...).",
     [](const WorkerCounters &c) { return c.login_failures.load(std::memory_order_relaxed); }},
    {"jimd_errors_total", "counter", "Error responses (code 400 and above) the worker sent.",
     [](const WorkerCounters &c) { return c.errors.load(std::memory_order_relaxed); }},
    {"jimd_worker_restarts_total", "counter", "Times the master started the worker again.",
     [](const WorkerCounters &c) { return c.restarts.load(std::memory_order_relaxed); }},
};

// The samples of jimd_responses_total for worker i: one per code jimd sends, and one for any
// other code once it was sent.
void responses(std::string *out, int i, const WorkerCounters &w)
{
    for (int k = 0; k < kResponseSlots; k++) {
        uint64_t v = w.responses[k].load(std::memory_order_relaxed);
        char line[160];
        if (k < kResponseSlots - 1)
            std::snprintf(line, sizeof line,
                          "jimd_responses_total{worker=\"%d\",code=\"%d\"} %" PRIu64 "\n", i,
                          kResponseCodes[k], v);
        else if (v != 0) // a code jimd is not known to send: shown once it was
            std::snprintf(line, sizeof line,
                          "jimd_responses_total{worker=\"%d\",code=\"other\"} %" PRIu64 "\n", i, v);
        else
            continue;
        *out += line;
    }
}

} // namespace

MetricsServer::MetricsServer(event_base *base, CounterBoard *board, std::string database,
                             jim_log *log, const char *tag)
    : base_(base), board_(board), database_(std::move(database)), log_(log), tag_(tag)
{
}

MetricsServer::~MetricsServer()
{
    if (http_)
        evhttp_free(http_);
}

bool MetricsServer::start(const std::string &address)
{
    std::string host;
    int port = 0;
    if (!split_metrics_address(address, &host, &port)) {
        JIM_LOG(log_, JIM_LOG_ERROR, tag_, "metrics_address %s: not an address and port",
                address.c_str());
        return false;
    }
    http_ = evhttp_new(base_);
    if (!http_) {
        JIM_LOG(log_, JIM_LOG_ERROR, tag_, "metrics: out of memory");
        return false;
    }
    // evhttp binds with SO_REUSEADDR: a restarted worker 0 binds again at once. Nothing the
    // worker starts keeps the socket (close-on-exec), so nothing holds the port after it.
    evhttp_bound_socket *bound =
        evhttp_bind_socket_with_handle(http_, host.c_str(), static_cast<uint16_t>(port));
    if (bound)
        evutil_make_socket_closeonexec(evhttp_bound_socket_get_fd(bound));
    if (!bound) {
        JIM_LOG(log_, JIM_LOG_ERROR, tag_, "cannot serve metrics on %s: %s; going on without",
                address.c_str(), std::strerror(errno));
        evhttp_free(http_);
        http_ = nullptr;
        return false;
    }
    evhttp_set_timeout(http_, 10);
    evhttp_set_max_headers_size(http_, 8192);
    evhttp_set_max_body_size(http_, 1024);
    evhttp_set_gencb(http_, on_request, this);
    JIM_LOG(log_, JIM_LOG_INFO, tag_, "metrics on http://%s/metrics", address.c_str());
    return true;
}

std::string MetricsServer::page() const
{
    std::string out;
    for (const Gauge &g : kPerWorker) {
        header(&out, g.name, g.type, g.help);
        for (int i = 0; i < board_->workers(); i++) {
            uint64_t v = g.get(board_->worker(i));
            // A gauge is never below 0; a worker that died mid-update could leave it so.
            if (static_cast<int64_t>(v) < 0)
                v = 0;
            sample(&out, g.name, i, v);
        }
    }
    header(&out, "jimd_responses_total", "counter",
           "Error responses (400 and up) the worker sent, by code; they add up to "
           "jimd_errors_total.");
    for (int i = 0; i < board_->workers(); i++)
        responses(&out, i, board_->worker(i));
    header(&out, "jimd_commit_batch_messages", "histogram",
           "Messages per journal commit (one SQLite transaction).");
    for (int i = 0; i < board_->workers(); i++)
        histogram(&out, "jimd_commit_batch_messages", i, board_->worker(i).commit_batch,
                  kBatchBounds, 1);
    header(&out, "jimd_commit_seconds", "histogram",
           "Wall time of a journal commit, from BEGIN until COMMIT returned.");
    for (int i = 0; i < board_->workers(); i++)
        histogram(&out, "jimd_commit_seconds", i, board_->worker(i).commit_us, kCommitUsBounds,
                  1e6);
    header(&out, "jimd_database_bytes", "gauge", "Size of the SQLite database file.");
    out += "jimd_database_bytes " + std::to_string(file_size(database_)) + "\n";
    header(&out, "jimd_wal_bytes", "gauge", "Size of the database's write-ahead log.");
    out += "jimd_wal_bytes " + std::to_string(file_size(database_ + "-wal")) + "\n";
    return out;
}

void MetricsServer::on_request(evhttp_request *rq, void *arg)
{
    auto *self = static_cast<MetricsServer *>(arg);
    evhttp_cmd_type cmd = evhttp_request_get_command(rq);
    const evhttp_uri *uri = evhttp_request_get_evhttp_uri(rq);
    const char *path = uri ? evhttp_uri_get_path(uri) : nullptr;
    evkeyvalq *headers = evhttp_request_get_output_headers(rq);
    if (cmd != EVHTTP_REQ_GET || !path || std::strcmp(path, "/metrics") != 0) {
        evhttp_add_header(headers, "Content-Type", "text/plain; charset=utf-8");
        evbuffer *body = evbuffer_new();
        if (body)
            evbuffer_add_printf(body, "not found: only GET /metrics\n");
        evhttp_send_reply(rq, HTTP_NOTFOUND, "Not Found", body);
        if (body)
            evbuffer_free(body);
        return;
    }
    evbuffer *body = evbuffer_new();
    if (!body) {
        evhttp_send_error(rq, HTTP_INTERNAL, nullptr);
        return;
    }
    std::string page = self->page();
    evbuffer_add(body, page.data(), page.size());
    evhttp_add_header(headers, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    evhttp_send_reply(rq, HTTP_OK, "OK", body);
    evbuffer_free(body);
}

} // namespace jimd

// The /metrics endpoint: worker 0 serves every worker's counters (the shared CounterBoard)
// and the database's sizes over HTTP (libevent's evhttp) in the Prometheus text format.
#pragma once

#include "counters.hh"

#include <jim/jim.h>

#include <event2/event.h>

#include <string>

struct evhttp;
struct evhttp_request;

namespace jimd {

class MetricsServer {
  public:
    MetricsServer(event_base *base, CounterBoard *board, std::string database, jim_log *log,
                  const char *tag);
    ~MetricsServer();
    MetricsServer(const MetricsServer &) = delete;
    MetricsServer &operator=(const MetricsServer &) = delete;
    // Listens on address ("IPv4:port" or "[IPv6]:port"); false, with one line logged, when
    // it cannot (the worker goes on without the endpoint).
    bool start(const std::string &address);
    // The page GET /metrics answers, as of now.
    std::string page() const;

  private:
    static void on_request(evhttp_request *rq, void *arg);

    event_base *base_;
    CounterBoard *board_;
    std::string database_;
    jim_log *log_;
    const char *tag_;
    evhttp *http_ = nullptr;
};

} // namespace jimd

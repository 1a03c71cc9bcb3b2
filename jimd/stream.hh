// A long reply produced as the client reads it, a page at a time: the messages of a sync,
// or those kept for the user while offline (at login, the second look half a second later,
// and a look another worker asks for). While one runs, the session's next requests wait.
#pragma once

#include "handlers.hh"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace jimd {

class Stream {
  public:
    enum class Kind { Sync, Pending };
    Stream(Kind kind, int64_t cursor, std::string request_id, bool recheck,
           std::shared_ptr<const std::vector<int64_t>> only)
        : kind_(kind), cursor_(cursor), request_id_(std::move(request_id)), recheck_(recheck),
          only_(std::move(only))
    {
    }
    // Starts a long reply to s (none may be running) and sends its first pages. Pending with
    // `only` (seqs, ascending): just the rows of those messages are pushed and cleared.
    static void start(Context &cx, Session &s, Kind kind, int64_t cursor, const char *request_id,
                      bool recheck, std::shared_ptr<const std::vector<int64_t>> only = nullptr);
    // Sends the next pages of s's long reply while its output is under
    // Connection::kHighWater; called again as the client reads. After the last page the
    // session's requests go on.
    static void pump(Context &cx, Session &s);

  private:
    static void finish(Context &cx, Session &s);
    // Pending: whether the row of seq is to be pushed.
    bool wanted(int64_t seq) const
    {
        return !only_ || std::binary_search(only_->begin(), only_->end(), seq);
    }
    // Reads the next page after cursor_ (Pending: *rows gets the seqs of the rows read);
    // false on a database error.
    bool next_page(Context &cx, Session &s, std::vector<StoredMessage> *page,
                   std::vector<int64_t> *rows);
    static constexpr int kPage = 256;
    Kind kind_;
    int64_t cursor_;                                   // the last seq read
    std::string request_id_;                           // Sync: the id its final 200 echoes
    bool recheck_;                                     // Pending: the second look
    std::shared_ptr<const std::vector<int64_t>> only_; // Pending: these seqs alone, or all
};

} // namespace jimd

// The room lines that come one after another for the same room's members here while
// Replies handles a commit's outcomes (or a read of another worker's frames), held and
// written member by member when the run ends: a member that only reads the run gets all of
// it with one append (one copy of a block that stays in the cache, and one look at the
// member's connection) instead of one append per line. A line's sender does not get it back
// but its acknowledgement at its place (attached here), so every session receives the same
// bytes in the same order as if each line had been written at once.
#pragma once

#include "session.hh"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace jimd {

class RoomRun {
  public:
    // No line held.
    bool empty() const { return lines_.empty(); }
    // The member list the run goes to (the room's list here; whoever changes that list
    // has the run written first, Replies::flush_run).
    const std::vector<Session *> *members() const { return members_; }
    // Starts a run to members (the last one must have been taken: clear()).
    void start(const std::vector<Session *> &members) { members_ = &members; }
    // A line for every member but the session except.
    void add(std::string_view line, uint64_t except)
    {
        text_.append(line);
        lines_.push_back({text_.size(), except, nullptr, acks_.size(), acks_.size()});
    }
    // The answer to the last line's sender, written to it in that line's place; false
    // when s is not that sender or its answer is already there.
    bool attach_ack(Session &s, std::string_view ack)
    {
        if (lines_.empty() || lines_.back().except != s.id || lines_.back().acked)
            return false;
        acks_.append(ack);
        lines_.back().acked = &s;
        lines_.back().ack_end = acks_.size();
        return true;
    }
    // All the lines, one after another.
    std::string_view text() const { return text_; }
    size_t count() const { return lines_.size(); }
    // Line i, its except session and its attached answer (empty: none).
    std::string_view line(size_t i) const
    {
        size_t begin = i ? lines_[i - 1].end : 0;
        return std::string_view(text_).substr(begin, lines_[i].end - begin);
    }
    uint64_t except(size_t i) const { return lines_[i].except; }
    Session *acked(size_t i) const { return lines_[i].acked; }
    std::string_view ack(size_t i) const
    {
        return std::string_view(acks_).substr(lines_[i].ack_begin,
                                              lines_[i].ack_end - lines_[i].ack_begin);
    }
    // Makes sent_by() ready: call once the run is complete.
    void close()
    {
        senders_.clear();
        for (const Line &l : lines_)
            senders_.push_back(l.except);
        std::sort(senders_.begin(), senders_.end());
        senders_.erase(std::unique(senders_.begin(), senders_.end()), senders_.end());
    }
    // Whether session sent one of the lines (and so reads the run line by line).
    bool sent_by(uint64_t session) const
    {
        return std::binary_search(senders_.begin(), senders_.end(), session);
    }
    // Drops the run, keeping the buffers' capacity up to kKeptBytes.
    void clear()
    {
        members_ = nullptr;
        text_.clear();
        acks_.clear();
        if (text_.capacity() > kKeptBytes)
            std::string().swap(text_);
        lines_.clear();
        senders_.clear();
    }

  private:
    static constexpr size_t kKeptBytes = 1 << 20; // a commit of long messages: not kept
    struct Line {
        size_t end; // in text_
        uint64_t except;
        Session *acked;            // the sender, once its answer is attached
        size_t ack_begin, ack_end; // in acks_
    };
    const std::vector<Session *> *members_ = nullptr;
    std::string text_, acks_;
    std::vector<Line> lines_;
    std::vector<uint64_t> senders_; // sorted, by close()
};

} // namespace jimd

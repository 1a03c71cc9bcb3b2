// Bytes waiting for a socket, or read from one and not handled yet (a connection's output, a
// mesh link's input and output): one contiguous block that keeps its capacity when it is
// emptied, so that a busy connection appends without allocating. (libevent's evbuffer frees
// its chains whenever a write empties it: a malloc and a free per connection per loop turn,
// and ~70 instructions an append; a mesh frame cost ~190 to reserve and ~170 to read.)
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace jimd {

class OutputBuffer {
  public:
    OutputBuffer() = default;
    ~OutputBuffer() { std::free(buf_); }
    OutputBuffer(const OutputBuffer &) = delete;
    OutputBuffer &operator=(const OutputBuffer &) = delete;

    // Adds bytes at the end; false, with nothing added, when out of memory.
    bool append(std::string_view s)
    {
        if (s.size() > cap_ - end_ && !make_room(s.size()))
            return false;
        if (!s.empty())
            std::memcpy(buf_ + end_, s.data(), s.size());
        end_ += s.size();
        return true;
    }
    // Room for n more bytes at the end, to be written there and then committed; null when
    // out of memory. Valid until the next call that adds bytes.
    char *reserve(size_t n)
    {
        if (n > cap_ - end_ && !make_room(n))
            return nullptr;
        return buf_ + end_;
    }
    // The first n bytes of reserve()'s room now belong to the buffer.
    void commit(size_t n) { end_ += n; }
    // The bytes not consumed yet (not written out, or not handled).
    const char *data() const { return buf_ + head_; }
    size_t size() const { return end_ - head_; }
    // n bytes from the front have been written out (or handled).
    void consume(size_t n)
    {
        head_ += n;
        if (head_ >= end_)
            head_ = end_ = 0;
    }
    // Drops every byte, keeping the block.
    void clear() { head_ = end_ = 0; }
    size_t capacity() const { return cap_; }
    // Frees the block when it is empty and bigger than `keep` bytes: what a burst grew is
    // given back once it has gone through, and a block of ordinary use is kept.
    void trim(size_t keep)
    {
        if (end_ == head_ && cap_ > keep) {
            std::free(buf_);
            buf_ = nullptr;
            head_ = end_ = cap_ = 0;
        }
    }

  private:
    // Room for n more bytes at the end. The bytes already written are dropped by moving the
    // others to the front, but only when they are at least as many (so each byte is moved
    // at most once per block it fills: a slow reader's backlog of megabytes is not copied
    // for every few bytes it reads); else the block grows, twofold up to kMaxGrowth at a
    // time (realloc, which often needs no copy, and a block at most that much too big).
    bool make_room(size_t n)
    {
        if (head_ > 0 && head_ >= end_ - head_) {
            size_t live = end_ - head_;
            std::memmove(buf_, buf_ + head_, live);
            head_ = 0;
            end_ = live;
            if (n <= cap_ - end_)
                return true;
        }
        size_t want = std::max({end_ + n, cap_ + std::min(cap_, kMaxGrowth), kFirstBlock});
        auto *p = static_cast<char *>(std::realloc(buf_, want));
        if (!p)
            return false;
        buf_ = p;
        cap_ = want;
        return true;
    }

    static constexpr size_t kFirstBlock = 512; // a few objects
    static constexpr size_t kMaxGrowth = 1 << 20;
    char *buf_ = nullptr;
    size_t head_ = 0; // bytes at the front already written
    size_t end_ = 0;  // bytes in the block
    size_t cap_ = 0;
};

} // namespace jimd

// The empty output buffers a connection loop keeps for the next connections that write, so
// that a busy connection's appends do not allocate: a connection gives its buffer back as
// soon as it is written out, and takes one again when output comes (so an idle one holds
// none). The spares are a stack; what lay at its bottom, untaken, between two
// trim() calls is freed down to a small reserve, so a loop keeps what its turns use (a
// room's members written every turn) and an idle one gives the rest back.
#pragma once

#include "output_buffer.hh"

#include <algorithm>
#include <cstddef>
#include <new>
#include <vector>

namespace jimd {

class SpareOutputs {
  public:
    // Kept however long the loop is idle (bytes of blocks), and at most while it is busy.
    static constexpr size_t kIdleBytes = 4 << 20;
    static constexpr size_t kBusyBytes = 64 << 20;
    static constexpr size_t kMaxCount = 1024;
    // A larger block (a slow reader's backlog) is freed, not kept.
    static constexpr size_t kMaxBlock = 1 << 20;

    SpareOutputs() { spares_.reserve(kMaxCount); }
    ~SpareOutputs()
    {
        for (OutputBuffer *out : spares_)
            delete out;
    }
    SpareOutputs(const SpareOutputs &) = delete;
    SpareOutputs &operator=(const SpareOutputs &) = delete;

    // A spare buffer, the last given back first, else a new one; null when out of memory.
    OutputBuffer *take()
    {
        if (spares_.empty())
            return new (std::nothrow) OutputBuffer;
        OutputBuffer *out = spares_.back();
        spares_.pop_back();
        bytes_ -= out->capacity();
        low_ = std::min(low_, bytes_);
        return out;
    }
    // Keeps an emptied buffer with its block (within kMaxBlock, kMaxCount and kBusyBytes),
    // or frees it.
    void give(OutputBuffer *out)
    {
        out->clear();
        if (out->capacity() <= kMaxBlock && spares_.size() < kMaxCount &&
            bytes_ + out->capacity() <= kBusyBytes) {
            spares_.push_back(out); // reserve()d: no allocation here
            bytes_ += out->capacity();
        } else {
            delete out;
        }
    }
    // Called now and then (a worker: once a second): frees, bottom first, the spares that
    // no take() reached since the last call, keeping kIdleBytes.
    void trim()
    {
        size_t keep = std::max(kIdleBytes, bytes_ - std::min(low_, bytes_));
        size_t n = 0;
        while (n < spares_.size() && bytes_ > keep) {
            bytes_ -= spares_[n]->capacity();
            delete spares_[n++];
        }
        spares_.erase(spares_.begin(), spares_.begin() + static_cast<std::ptrdiff_t>(n));
        low_ = bytes_;
    }
    // The spares' blocks, in bytes, and how many there are.
    size_t bytes() const { return bytes_; }
    size_t count() const { return spares_.size(); }

  private:
    std::vector<OutputBuffer *> spares_;
    size_t bytes_ = 0; // the spares' blocks
    size_t low_ = 0;   // the least bytes_ since the last trim()
};

} // namespace jimd

// jim::Framer, the object behind jim_framer: finds whole JSON objects in a byte stream.
#pragma once

#include "limits.hh"

#include <jim/common.h>

#include <bitset>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace jim {

class Message;

// A growable byte buffer that, unlike std::vector<char>, does not zero what it adds:
// a socket read fills it anyway.
class ByteBuffer {
  public:
    char *data() { return p_.get(); }
    const char *data() const { return p_.get(); }
    size_t size() const { return n_; }
    char operator[](size_t i) const { return p_[i]; }
    // Grows to n bytes, keeping the first `keep` bytes.
    void grow(size_t n, size_t keep)
    {
        auto q = std::make_unique_for_overwrite<char[]>(n);
        if (keep)
            std::memcpy(q.get(), p_.get(), keep);
        p_ = std::move(q);
        n_ = n;
    }
    void clear()
    {
        p_.reset();
        n_ = 0;
    }

  private:
    std::unique_ptr<char[]> p_;
    size_t n_ = 0;
};

// Cuts a byte stream into JSON objects by scanning strings and brackets, checking
// UTF-8, depth and size as it goes; parsing is left to the codec.
class Framer {
  public:
    explicit Framer(const Limits &lim);

    int feed(const void *data, size_t len);
    int reserve(size_t want, void **buf, size_t *cap);
    int commit(size_t len);
    // The next object (JIM_OK), JIM_EAGAIN, or an error as in jim_framer_next().
    int next(std::string_view *obj);
    // next() then decode into m; a decode failure counts as a bad object.
    int next_msg(Message &m);

    bool can_continue() const { return !closed_; }
    const std::string &error() const { return error_; }
    size_t buffered() const { return end_ - first_held(); }
    // Frees the buffer when it holds nothing; false otherwise.
    bool release();
    const Limits &limits() const { return limits_; }

    // The largest want reserve() takes: the object limit, or 64 KiB if that is more.
    size_t max_read() const;
    // The most bytes reserve() lets the framer hold: the object limit plus one read.
    size_t max_held() const;

  private:
    enum class Outcome { Incomplete, Complete };
    Outcome scan();
    // scan()'s steps for one byte c (p: just past it); true when the object ended there.
    bool continued_byte(unsigned char c); // true: c was an escaped byte or a UTF-8 tail
    bool string_byte(unsigned char c, const unsigned char *p);
    bool structural_byte(unsigned char c, const unsigned char *p);
    int next_raw(std::string_view *obj);
    int next_flat_line(Message &m);
    void skip_delimiter();
    // Scans for the next object or bad object, as next() reports it.
    int step(std::string_view *obj);
    // Makes room for want more bytes; past max_held() only when force (feed()).
    int make_room(size_t want, bool force);
    int bad(int code, std::string_view why);
    void compact();
    size_t first_held() const { return pending_ ? pending_off_ : start_; }
    // Whether the '{' at `at` starts a line where the object in progress could not
    // take an object, so that the object ends before it (scan()).
    bool starts_truncating_line(size_t at) const;

    Limits limits_;
    ByteBuffer buf_;
    size_t start_ = 0;         // first byte not yet handed out or skipped
    size_t scan_ = 0;          // next byte to scan
    size_t end_ = 0;           // end of data
    size_t no_flat_until_ = 0; // next_flat_line() searched up to here: no new try before
    size_t reserved_ = 0;

    // What step() found when make_room() looked ahead, kept for the next next().
    bool pending_ = false;
    int pending_rc_ = JIM_OK;
    size_t pending_off_ = 0, pending_len_ = 0;

    // Scanner state for the object being scanned (valid while in_object_).
    bool in_object_ = false;
    bool in_string_ = false;
    bool escape_ = false;
    bool in_garbage_ = false;
    bool bad_utf8_ = false;
    bool too_deep_ = false;
    bool not_object_ = false;   // top-level '[' scanned as a unit, then rejected
    bool broken_ = false;       // a raw newline inside a string ended the object
    bool truncated_ = false;    // a line starting with '{' ended the object (see scan())
    std::bitset<256> in_array_; // per depth: the container open there is an array
    int depth_ = 0;
    int utf8_tail_ = 0;
    unsigned char utf8_lo_ = 0x80, utf8_hi_ = 0xBF;

    bool closed_ = false;
    long bad_in_row_ = 0;
    std::string error_;
};

} // namespace jim

struct jim_framer {
    explicit jim_framer(const jim::Limits &lim) : impl(lim) {}
    jim::Framer impl;
};

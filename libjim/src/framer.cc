// The stream framer: a byte-level scanner over a growable buffer.
//
// The scanner tracks only what it needs to find the end of an object: whether
// it is inside a string, after a backslash, and how deep the brackets go. It
// checks UTF-8 inside strings on the way, so the parser can skip that work.
// A bad object is scanned to its end and then reported, which resynchronises
// the stream on the next object whatever the delimiters. An object that is never
// closed ends at a line starting with '{' where it could not take one (the rule
// is in jim/framer.h): for that the scanner keeps each open container's kind and,
// at a '{', looks back at the bytes before it. The buffer holds at most the object
// limit plus one read (make_room()). next_msg() reads a whole line holding one flat object
// in one pass instead (next_flat_line()): the decoder checks what the scan would have.
#include "framer.hh"
#include "message.hh"
#include "scan8.hh"
#include "utf8.hh"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace jim {

namespace {

// A byte inside a string that needs no attention: printable ASCII but '"' and '\\'.
inline bool plain_string_byte(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

} // namespace

Framer::Framer(const Limits &lim) : limits_(lim) {}

size_t Framer::max_read() const
{
    return std::max<size_t>(static_cast<size_t>(limits_[JIM_LIMIT_OBJECT_BYTES]), 65536);
}

size_t Framer::max_held() const
{
    return static_cast<size_t>(limits_[JIM_LIMIT_OBJECT_BYTES]) + max_read();
}

int Framer::feed(const void *data, size_t len)
{
    if (closed_)
        return JIM_ECLOSED;
    // The caller holds these bytes already, so they are all kept, even past max_held()
    // when whole objects wait in front of them; only an object in progress over the
    // limit stops the copy (the rest could never be used).
    const char *p = static_cast<const char *>(data);
    do {
        size_t n = std::min(len, max_read());
        int rc = make_room(n, true);
        if (rc != JIM_OK)
            return rc;
        if (n)
            std::memcpy(buf_.data() + end_, p, n);
        end_ += n;
        p += n;
        len -= n;
    } while (len);
    return JIM_OK;
}

int Framer::reserve(size_t want, void **buf, size_t *cap)
{
    if (closed_)
        return JIM_ECLOSED;
    if (want > max_read())
        return JIM_EINVAL; // never possible: see jim_framer_reserve()
    int rc = make_room(want, false);
    if (rc != JIM_OK)
        return rc;
    reserved_ = buf_.size() - end_;
    *buf = buf_.data() + end_;
    *cap = reserved_;
    return JIM_OK;
}

int Framer::make_room(size_t want, bool force)
{
    reserved_ = 0;
    if (buf_.size() - end_ >= want)
        return JIM_OK;
    if (end_ - first_held() + want > max_held() && !pending_) {
        // Holding more would pass the bound: see what the held bytes are. An object in
        // progress over the limit ends the stream here; one within it is all that is
        // held afterwards (start_ moves to it), so the read fits; anything else found
        // waits in pending_ for next().
        std::string_view obj;
        int rc = step(&obj);
        if (rc != JIM_EAGAIN) {
            pending_ = true;
            pending_rc_ = rc;
            pending_off_ = rc == JIM_OK ? static_cast<size_t>(obj.data() - buf_.data()) : start_;
            pending_len_ = obj.size();
            if (rc == JIM_ETOOBIG)
                return JIM_ETOOBIG;
        }
    }
    if (end_ - first_held() + want > max_held() && !force)
        return JIM_EAGAIN; // whole objects wait: they are taken first
    compact();
    if (buf_.size() - end_ >= want)
        return JIM_OK;
    if (want > SIZE_MAX / 4 - end_)
        return JIM_ENOMEM;
    size_t need = end_ + want;
    size_t size = buf_.size() ? buf_.size() : 4096;
    while (size < need)
        size *= 2;
    if (!force) // the bound holds for the buffer too: no capacity past it
        size = std::max(need, std::min(size, max_held()));
    buf_.grow(size, end_);
    return JIM_OK;
}

int Framer::commit(size_t len)
{
    if (len > reserved_)
        return JIM_EINVAL;
    end_ += len;
    reserved_ = 0;
    return JIM_OK;
}

// Moves the held bytes to the front of the buffer.
void Framer::compact()
{
    size_t from = first_held();
    if (from == 0)
        return;
    std::memmove(buf_.data(), buf_.data() + from, end_ - from);
    if (pending_)
        pending_off_ -= from;
    start_ -= from;
    scan_ -= from;
    end_ -= from;
    no_flat_until_ = no_flat_until_ > from ? no_flat_until_ - from : 0;
}

bool Framer::release()
{
    if (end_ != start_ || in_object_ || reserved_ || pending_)
        return false;
    buf_.clear();
    start_ = scan_ = end_ = no_flat_until_ = 0;
    return true;
}

int Framer::bad(int code, std::string_view why)
{
    error_.assign(why);
    if (code == JIM_ETOOBIG || ++bad_in_row_ >= limits_[JIM_LIMIT_BAD_OBJECTS])
        closed_ = true;
    return code;
}

bool Framer::starts_truncating_line(size_t at) const
{
    if (depth_ <= 0 || depth_ > static_cast<int>(in_array_.size()))
        return false; // not tracked that deep: let it be
    // Back over the whitespace before the '{' to the byte that precedes it. Whitespace
    // there is outside strings (a string ends in '"'), and the object's first byte is
    // a bracket, so this stops inside the object; each run is walked once per '{'.
    bool newline = false;
    size_t i = at;
    unsigned char prev = 0;
    while (i > start_) {
        prev = static_cast<unsigned char>(buf_[--i]);
        if (prev == '\n')
            newline = true;
        else if (prev != ' ' && prev != '\t' && prev != '\r')
            break;
    }
    if (!newline)
        return false;
    if (in_array_[static_cast<size_t>(depth_ - 1)])
        return prev != '[' && prev != ',';
    return prev != ':';
}

// The delimiter after an object (whitespace, newlines) is consumed with it, so buffered()
// is what is left.
void Framer::skip_delimiter()
{
    while (scan_ < end_ && (buf_[scan_] == '\n' || buf_[scan_] == '\r' || buf_[scan_] == ' ' ||
                            buf_[scan_] == '\t'))
        scan_++;
    start_ = scan_;
}

// The common case in one pass: a whole line that holds one flat object is decoded
// without scanning it first (Message::decode_flat_line checks what scan() would have).
// JIM_EAGAIN when the next bytes are not such a line, with nothing consumed: next_msg
// then takes the general way.
int Framer::next_flat_line(Message &m)
{
    if (pending_ || closed_ || in_object_ || scan_ == end_ || buf_[scan_] != '{' ||
        scan_ < no_flat_until_)
        return JIM_EAGAIN;
    const char *obj = buf_.data() + scan_;
    size_t bound = std::min(end_ - scan_, static_cast<size_t>(limits_[JIM_LIMIT_OBJECT_BYTES]) + 1);
    const char *nl = static_cast<const char *>(std::memchr(obj, '\n', bound));
    // Bytes searched are not searched again for the objects that follow on them (several
    // on one line, or a line not yet whole): those take the general way, so each byte is
    // searched once however the line goes on.
    if (!nl) {
        no_flat_until_ = scan_ + bound;
        return JIM_EAGAIN;
    }
    int rc = m.decode_flat_line(std::string_view(obj, static_cast<size_t>(nl - obj)), limits_);
    if (rc == JIM_EAGAIN) {
        no_flat_until_ = static_cast<size_t>(nl - buf_.data());
        return JIM_EAGAIN;
    }
    scan_ = static_cast<size_t>(nl - buf_.data()) + 1;
    skip_delimiter();
    in_garbage_ = false;
    if (rc != JIM_OK)
        return bad(rc, m.error());
    bad_in_row_ = 0;
    error_.clear();
    return JIM_OK;
}

// The position after the first byte at or after p that is not plain in a string (or end,
// when all are): eight at a time while eight are left.
[[gnu::always_inline]] inline const unsigned char *skip_plain(const unsigned char *p,
                                                              const unsigned char *end)
{
    for (;;) {
        if (end - p >= 8) {
            uint64_t special = special_in_word(p, true);
            if (!special) {
                p += 8;
                continue;
            }
            return p + __builtin_ctzll(special) / 8 + 1; // the lowest byte is the first
        }
        if (p == end)
            return p;
        if (!plain_string_byte(*p++))
            return p;
    }
}

// Byte c outside strings, read from just before p. True when the object ended (its
// closing brace, or a line that starts another), with scan_ set where it ends.
[[gnu::always_inline]] inline bool Framer::structural_byte(unsigned char c, const unsigned char *p)
{
    auto at = [&] {
        return static_cast<size_t>(p - reinterpret_cast<const unsigned char *>(buf_.data()));
    };
    switch (c) {
    case '"': in_string_ = true; break;
    case '{':
    case '[':
        // A line that starts with '{' where no object may stand ends the object in
        // progress, unfinished: the new line is the next object (doc/protocol.md §1).
        if (c == '{' && starts_truncating_line(at() - 1)) {
            truncated_ = true;
            scan_ = at() - 1;
            return true;
        }
        if (++depth_ > limits_[JIM_LIMIT_DEPTH])
            too_deep_ = true;
        if (depth_ <= static_cast<int>(in_array_.size()))
            in_array_[static_cast<size_t>(depth_ - 1)] = c == '[';
        break;
    case '}':
    case ']':
        if (--depth_ == 0) {
            scan_ = at();
            return true;
        }
        break;
    default:
        if (c >= 0x80)
            bad_utf8_ = bad_utf8_ || utf8_tail_len(c) < 0;
        break;
    }
    return false;
}

// Byte c of a string that follows a backslash or starts a UTF-8 sequence: true when it
// was that escaped byte or a byte of the sequence; else c is to be looked at afresh.
[[gnu::always_inline]] inline bool Framer::continued_byte(unsigned char c)
{
    if (utf8_tail_) {
        if (c >= utf8_lo_ && c <= utf8_hi_) {
            utf8_tail_--;
            utf8_lo_ = 0x80;
            utf8_hi_ = 0xBF;
            return true;
        }
        bad_utf8_ = true; // truncated sequence: look at c afresh
        utf8_tail_ = 0;
    }
    if (escape_) {
        escape_ = false;
        return true;
    }
    return false;
}

// Byte c of a string that is not plain (or the last plain one read), read from just
// before p. True when the object ended (a raw newline breaks it), with scan_ set past it.
[[gnu::always_inline]] inline bool Framer::string_byte(unsigned char c, const unsigned char *p)
{
    if (c == '"') {
        in_string_ = false;
    } else if (c == '\n') {
        // A raw newline cannot be inside a JSON string: the object is broken and the
        // next line starts afresh.
        broken_ = true;
        scan_ = static_cast<size_t>(p - reinterpret_cast<const unsigned char *>(buf_.data()));
        return true;
    } else if (c == '\\') {
        escape_ = true;
    } else if (c >= 0x80) {
        int tail = utf8_tail_len(c);
        if (tail < 0) {
            bad_utf8_ = true;
        } else {
            utf8_tail_ = tail;
            utf8_second_range(c, &utf8_lo_, &utf8_hi_);
        }
    }
    return false;
}

// Scans from scan_ for the end of the current object.
Framer::Outcome Framer::scan()
{
    const unsigned char *p = reinterpret_cast<const unsigned char *>(buf_.data()) + scan_;
    const unsigned char *end = reinterpret_cast<const unsigned char *>(buf_.data()) + end_;
    while (p < end) {
        unsigned char c = *p++;
        if (!in_string_) {
            if (structural_byte(c, p))
                return Outcome::Complete; // scan_ was set where the object ends
            continue;
        }
        if ((utf8_tail_ || escape_) && continued_byte(c))
            continue;
        // Plain ASCII string bytes are the common case: skip them to the first that is
        // not plain.
        if (plain_string_byte(c)) {
            p = skip_plain(p, end);
            c = p[-1];
        }
        if (string_byte(c, p))
            return Outcome::Complete;
    }
    scan_ = end_;
    return Outcome::Incomplete;
}

int Framer::next(std::string_view *obj)
{
    int rc = next_raw(obj);
    if (rc == JIM_OK)
        bad_in_row_ = 0;
    return rc;
}

int Framer::next_raw(std::string_view *obj)
{
    if (pending_) { // found by make_room(), error text and counts already recorded
        pending_ = false;
        if (pending_rc_ == JIM_OK)
            *obj = std::string_view(buf_.data() + pending_off_, pending_len_);
        return pending_rc_;
    }
    return step(obj);
}

int Framer::step(std::string_view *obj)
{
    if (closed_)
        return JIM_ECLOSED;
    const long max_bytes = limits_[JIM_LIMIT_OBJECT_BYTES];
    for (;;) {
        if (!in_object_) {
            // Between objects: skip whitespace; anything else but '{' is garbage.
            while (scan_ < end_) {
                char c = buf_[scan_];
                if (c == '{' || c == '[') {
                    in_object_ = true;
                    in_garbage_ = false;
                    not_object_ = c == '[';
                    break;
                }
                if (c == '\n') {
                    in_garbage_ = false; // a newline ends a garbage line
                } else if (c != ' ' && c != '\t' && c != '\r' && !in_garbage_) {
                    in_garbage_ = true;
                    start_ = ++scan_;
                    return bad(JIM_ESYNTAX, "not a JSON object");
                }
                start_ = ++scan_;
            }
            if (!in_object_) {
                start_ = scan_ = end_ = no_flat_until_ = 0; // everything was consumed
                return JIM_EAGAIN;
            }
            in_string_ = escape_ = bad_utf8_ = too_deep_ = broken_ = truncated_ = false;
            depth_ = 0;
            utf8_tail_ = 0;
        }
        Outcome o = scan();
        size_t size = scan_ - start_;
        if (o == Outcome::Incomplete) {
            if (static_cast<long>(size) > max_bytes) {
                start_ = scan_ = end_;
                return bad(JIM_ETOOBIG,
                           "object larger than " + std::to_string(max_bytes) + " bytes");
            }
            if (start_ > buf_.size() / 2)
                compact();
            return JIM_EAGAIN;
        }
        in_object_ = false;
        std::string_view found(buf_.data() + start_, size);
        skip_delimiter();
        if (static_cast<long>(size) > max_bytes)
            return bad(JIM_ETOOBIG, "object larger than " + std::to_string(max_bytes) + " bytes");
        if (too_deep_)
            return bad(JIM_EDEPTH,
                       "JSON nested deeper than " + std::to_string(limits_[JIM_LIMIT_DEPTH]));
        if (bad_utf8_)
            return bad(JIM_EUTF8, "invalid UTF-8");
        if (not_object_)
            return bad(JIM_ESYNTAX, "not a JSON object");
        if (broken_)
            return bad(JIM_ESYNTAX, "malformed JSON: unterminated string");
        if (truncated_)
            return bad(JIM_ESYNTAX, "malformed JSON: object not closed before the next line's '{'");
        error_.clear();
        *obj = found;
        return JIM_OK;
    }
}

int Framer::next_msg(Message &m)
{
    if (int rc = next_flat_line(m); rc != JIM_EAGAIN)
        return rc;
    std::string_view obj;
    int rc = next_raw(&obj);
    if (rc != JIM_OK) {
        m.reset(); // nothing of an object the framer refused (a flat try may have begun)
        if (rc != JIM_EAGAIN)
            m.fail(rc, error_);
        return rc;
    }
    rc = m.decode(obj, limits_, true);
    if (rc != JIM_OK)
        return bad(rc, m.error());
    bad_in_row_ = 0;
    return JIM_OK;
}

} // namespace jim

/**
 * @file jim/framer.h
 * @brief The stream framer: byte chunks of any size in, whole JIM objects out.
 *
 * A ::jim_framer takes what a socket delivers, split anywhere, and finds the
 * JSON objects in it: back-to-back, with or without whitespace or newlines
 * between them. It enforces the size limit before any parsing, and checks
 * UTF-8 and nesting depth as it scans. A bad object is reported and skipped
 * so the stream goes on; an oversize object, or too many bad objects in a
 * row, ends the stream (jim_framer_can_continue() turns false).
 *
 * Resynchronisation: a raw newline inside a string ends the object there (a
 * JSON string cannot hold one). An object that is never closed ends where a
 * line (after a raw newline outside strings, and optional spaces, tabs, `\r`
 * or blank lines) starts with `{` at a place where its open container could
 * not take an object: in an object anywhere but after `:`, in an array
 * anywhere but after `[` or `,`. That object is reported as #JIM_ESYNTAX and
 * the `{` starts the next one. Pretty-printed JSON always has a nested object
 * after `:`, `[` or `,`, so it is never cut; a line starting with `{` right
 * after a truncated `"key":` is taken as that key's value, and the object is
 * ended at the next line that cannot belong to it.
 *
 * Memory: jim_framer_reserve() never lets the framer hold more than the object
 * limit plus one read (see there), so a peer cannot make it buffer more by
 * sending an endless object while its reader takes nothing.
 */
#ifndef JIM_FRAMER_H
#define JIM_FRAMER_H

#include "common.h"
#include "limits.h"
#include "message.h"

JIM_BEGIN_DECL

/** A stream framer. Made by jim_framer_new(), freed by jim_framer_free(). */
typedef struct jim_framer jim_framer;

/**
 * Makes a framer.
 * @param[out] out receives the handle; NULL on failure.
 * @param limits object size, depth and bad-object limits; NULL for the defaults.
 *        The values are copied.
 * @return #JIM_OK, #JIM_EINVAL or #JIM_ENOMEM.
 */
JIM_EXTERN(int) jim_framer_new(jim_framer **out, const jim_limits *limits);

/** Frees a framer. NULL is accepted and ignored. */
JIM_EXTERN(void) jim_framer_free(jim_framer *framer);

/**
 * Appends @p len bytes of input (copied). All of them are kept (the caller held
 * them already), even past jim_framer_reserve()'s bound when whole objects wait
 * untaken; but an object in progress over the size limit ends the stream at once.
 * @return #JIM_OK, #JIM_EINVAL, #JIM_ENOMEM, #JIM_ETOOBIG (an object over the size
 *         limit: the stream has ended, jim_framer_next() reports it too) or
 *         #JIM_ECLOSED (the stream had ended).
 */
JIM_EXTERN(int) jim_framer_feed(jim_framer *framer, const void *data, size_t len);

/**
 * Lends a buffer to read input into directly, saving the copy of jim_framer_feed().
 * Call jim_framer_commit() with the number of bytes written before any other call.
 *
 * One read may want at most the object limit (`max_object_bytes`) or 64 KiB,
 * whichever is larger, and the framer then holds at most the object limit plus
 * that much. When a read would take it past that bound, the framer looks at
 * what it holds: an object in progress over the size limit ends the stream
 * (#JIM_ETOOBIG: answer 400 and close; jim_framer_next() reports it too);
 * whole objects not taken yet make it answer #JIM_EAGAIN: take them with
 * jim_framer_next() before reading more (or stop reading while the objects
 * cannot be served).
 * @param framer the framer.
 * @param want the least number of bytes wanted.
 * @param[out] buf receives the buffer.
 * @param[out] cap receives its size (at least @p want; never past the bound).
 * @return #JIM_OK, #JIM_EINVAL (also @p want past the largest read), #JIM_ENOMEM,
 *         #JIM_EAGAIN (full: take objects first), #JIM_ETOOBIG or #JIM_ECLOSED.
 */
JIM_EXTERN(int) jim_framer_reserve(jim_framer *framer, size_t want, void **buf, size_t *cap);

/** Records that @p len bytes were written into the buffer from jim_framer_reserve(). */
JIM_EXTERN(int) jim_framer_commit(jim_framer *framer, size_t len);

/**
 * Takes the next whole object out of the stream.
 * @param framer the framer.
 * @param[out] obj receives a pointer to the object's bytes (no trailing newline),
 *             valid until the next call on @p framer.
 * @param[out] len receives its length.
 * @return #JIM_OK (an object), #JIM_EAGAIN (feed more input),
 *         #JIM_ESYNTAX, #JIM_EUTF8 or #JIM_EDEPTH (a bad object, or one cut short
 *         by the next line as the file comment says, was skipped:
 *         answer 400 and call again), #JIM_ETOOBIG (an object over the size
 *         limit: answer 400 and close), #JIM_ECLOSED (too many bad objects in a
 *         row, or the stream already ended), or #JIM_EINVAL.
 */
JIM_EXTERN(int) jim_framer_next(jim_framer *framer, const char **obj, size_t *len);

/**
 * Takes the next object and decodes it into @p msg (see jim_msg_decode()).
 * Returns what jim_framer_next() returns, or a decode error (#JIM_EFIELD,
 * #JIM_EACTION, #JIM_ERANGE, #JIM_ESYNTAX) for an object that framed but did
 * not decode; such an object counts as bad, and jim_msg_errmsg() says why.
 * After a decode error @p msg holds the fields read (its "id", say, for the
 * 400); after any other error, and after #JIM_EAGAIN, it holds none.
 */
JIM_EXTERN(int) jim_framer_next_msg(jim_framer *framer, jim_msg *msg);

/** Nonzero while the stream can go on; zero once it has ended (oversize or too many bad). */
JIM_EXTERN(int) jim_framer_can_continue(const jim_framer *framer);

/** Why the last call failed, for the 400 `error` text; "" when it did not. Never NULL. */
JIM_EXTERN(const char *) jim_framer_errmsg(const jim_framer *framer);

/** Bytes held that are not yet part of a returned object. */
JIM_EXTERN(size_t) jim_framer_buffered(const jim_framer *framer);

/**
 * Frees the input buffer if it holds nothing (jim_framer_buffered() is 0), so an idle
 * connection costs no buffer memory; the next input allocates it again.
 * @return #JIM_OK, #JIM_EAGAIN (bytes are held: nothing freed) or #JIM_EINVAL.
 */
JIM_EXTERN(int) jim_framer_release(jim_framer *framer);

JIM_END_DECL

#endif /* JIM_FRAMER_H */

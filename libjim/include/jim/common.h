/**
 * @file jim/common.h
 * @brief Version, export macros and error codes shared by every libjim module.
 *
 * Every libjim function that can fail returns an `int`: #JIM_OK (zero) on
 * success or one of the negative ::jim_error codes. The codes have fixed
 * values that are never renumbered; jim_strerror() turns one into text.
 */
#ifndef JIM_COMMON_H
#define JIM_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
/** Opens a block of declarations with C linkage (expands to nothing in C). */
#define JIM_BEGIN_DECL extern "C" {
/** Closes a block opened by #JIM_BEGIN_DECL. */
#define JIM_END_DECL }
#else
/** Opens a block of declarations with C linkage (expands to nothing in C). */
#define JIM_BEGIN_DECL
/** Closes a block opened by #JIM_BEGIN_DECL. */
#define JIM_END_DECL
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
/** Declares a public libjim function returning @p type. */
#define JIM_EXTERN(type) __attribute__((visibility("default"))) type
#else
/** Declares a public libjim function returning @p type. */
#define JIM_EXTERN(type) type
#endif

/** Major version of the libjim headers. */
#define JIM_VERSION_MAJOR 0
/** Minor version of the libjim headers. */
#define JIM_VERSION_MINOR 2
/** Patch level of the libjim headers. */
#define JIM_VERSION_PATCH 0
/** The version of the headers as text; the build reads the package version from here. */
#define JIM_VERSION_STRING "0.2.0"
/** The version of the headers as one number: MAJOR * 1000000 + MINOR * 1000 + PATCH. */
#define JIM_VERSION_NUMBER \
    (JIM_VERSION_MAJOR * 1000000 + JIM_VERSION_MINOR * 1000 + JIM_VERSION_PATCH)

JIM_BEGIN_DECL

/**
 * Error codes returned by libjim functions. Values are part of the ABI and
 * never change; new codes take new numbers.
 */
typedef enum jim_error {
    JIM_OK = 0,          /**< Success. */
    JIM_ERROR = -1,      /**< Failure with no more specific code. */
    JIM_EINVAL = -2,     /**< An argument is invalid (NULL handle, unknown field, bad value). */
    JIM_ENOMEM = -3,     /**< Out of memory. */
    JIM_ENOTFOUND = -4,  /**< The thing asked for is absent (a field, a name). */
    JIM_EAGAIN = -5,     /**< Not yet: more input is needed, or the call would block. */
    JIM_ESYNTAX = -6,    /**< Malformed JSON, or a value that is not a JSON object. */
    JIM_EUTF8 = -7,      /**< Invalid UTF-8, or a `\\u` escape of a lone surrogate. */
    JIM_EDEPTH = -8,     /**< JSON nested deeper than the limit. */
    JIM_ETOOBIG = -9,    /**< An object is larger than the size limit. */
    JIM_EFIELD = -10,    /**< A field is missing or has the wrong type. */
    JIM_EACTION = -11,   /**< Unknown action. */
    JIM_ERANGE = -12,    /**< A value is outside its limit (length, charset, range). */
    JIM_ECLOSED = -13,   /**< The stream or connection cannot go on. */
    JIM_EIO = -14,       /**< An operating-system I/O call failed. */
    JIM_EINTERNAL = -15, /**< A bug inside libjim was caught at the API boundary. */
    JIM_ESERVER = -16,   /**< The server answered with an error (4xx/5xx): see the response. */
    JIM_ETIMEDOUT = -17, /**< No answer in time. */
    JIM_ECONNECT = -18,  /**< Could not connect to the server (or resolve its name). */
    JIM_ESTATE = -19,    /**< Not possible in this state (not connected, not logged in, ...). */
    JIM_ETLS = -20,      /**< TLS failed: the server's certificate was refused, or the handshake. */
    /** A peer's published end-to-end key is not the one pinned: nothing is sent to that
     *  peer until the new key is trusted (jim_client_trust_key()). */
    JIM_EKEYCHANGED = -21
} jim_error;

/**
 * Describes an error code in a short English phrase.
 * @param code a ::jim_error value (or any int).
 * @return a static string; never NULL ("unknown error" for unknown codes).
 */
JIM_EXTERN(const char *) jim_strerror(int code);

/**
 * The version of the library that is actually linked, as #JIM_VERSION_NUMBER.
 * Compare it with #JIM_VERSION_NUMBER to detect a header/library mismatch.
 */
JIM_EXTERN(int) jim_version_number(void);

/** The version of the linked library as text, e.g. "0.1.0". Static; never NULL. */
JIM_EXTERN(const char *) jim_version(void);

JIM_END_DECL

#endif /* JIM_COMMON_H */

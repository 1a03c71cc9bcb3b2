/**
 * @file jim/limits.h
 * @brief The protocol's configurable limits, defined once for library and server.
 *
 * Each limit has a configuration key (the name jimd's config file uses), a
 * default and an allowed range. A ::jim_limits handle holds one value for
 * each; functions that take a `const jim_limits *` accept NULL to mean the
 * defaults.
 */
#ifndef JIM_LIMITS_H
#define JIM_LIMITS_H

#include "common.h"

JIM_BEGIN_DECL

/** The limits a ::jim_limits handle holds. Values are part of the ABI. */
typedef enum jim_limit {
    JIM_LIMIT_OBJECT_BYTES = 0,   /**< `max_object_bytes`: bytes in one JSON object (65536). */
    JIM_LIMIT_DEPTH = 1,          /**< `max_depth`: JSON nesting depth (32). */
    JIM_LIMIT_NAME_CHARS = 2,     /**< `max_name_chars`: account and room names (25). */
    JIM_LIMIT_MESSAGE_CHARS = 3,  /**< `max_message_chars`: code points of a message text (500). */
    JIM_LIMIT_BAD_OBJECTS = 4,    /**< `max_bad_objects`: bad objects in a row before close (16). */
    JIM_LIMIT_PASSWORD_MIN = 5,   /**< `min_password_chars`: shortest password at register (8). */
    JIM_LIMIT_PASSWORD_BYTES = 6, /**< `max_password_bytes`: longest password (1024). */
    JIM_LIMIT_INFO_CHARS = 7,     /**< `max_info_chars`: account info text (256). */
    JIM_LIMIT_ID_CHARS = 8,       /**< `max_id_chars`: client-chosen request id (64). */
    JIM_LIMIT_HISTORY = 9, /**< `max_history_limit`: most messages one history reply (500). */
    JIM_LIMIT_COUNT = 10   /**< Number of limits; not a limit. */
} jim_limit;

/** A set of limit values. Made by jim_limits_new(), freed by jim_limits_free(). */
typedef struct jim_limits jim_limits;

/**
 * Makes a limits handle holding the defaults.
 * @param[out] out receives the handle; set to NULL on failure.
 * @return #JIM_OK, #JIM_EINVAL (out is NULL) or #JIM_ENOMEM.
 */
JIM_EXTERN(int) jim_limits_new(jim_limits **out);

/** Frees a limits handle. NULL is accepted and ignored. */
JIM_EXTERN(void) jim_limits_free(jim_limits *lim);

/**
 * Sets one limit.
 * @return #JIM_OK, #JIM_EINVAL (NULL handle or unknown limit) or
 *         #JIM_ERANGE (value outside jim_limit_min() .. jim_limit_max()).
 */
JIM_EXTERN(int) jim_limits_set(jim_limits *lim, jim_limit which, long value);

/** Reads one limit; with NULL @p lim, the default. Returns -1 for an unknown limit. */
JIM_EXTERN(long) jim_limits_get(const jim_limits *lim, jim_limit which);

/** The configuration key of a limit, e.g. "max_object_bytes"; NULL if unknown. */
JIM_EXTERN(const char *) jim_limit_name(jim_limit which);

/** A one-line description of a limit for help texts; NULL if unknown. */
JIM_EXTERN(const char *) jim_limit_help(jim_limit which);

/** The default value of a limit, or -1 if unknown. */
JIM_EXTERN(long) jim_limit_default(jim_limit which);

/** The smallest allowed value of a limit, or -1 if unknown. */
JIM_EXTERN(long) jim_limit_min(jim_limit which);

/** The largest allowed value of a limit, or -1 if unknown. */
JIM_EXTERN(long) jim_limit_max(jim_limit which);

/**
 * Finds a limit by its configuration key.
 * @param name a key such as "max_message_chars".
 * @param[out] which receives the limit.
 * @return #JIM_OK, #JIM_EINVAL (NULL argument) or #JIM_ENOTFOUND.
 */
JIM_EXTERN(int) jim_limit_by_name(const char *name, jim_limit *which);

JIM_END_DECL

#endif /* JIM_LIMITS_H */

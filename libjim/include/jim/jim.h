/**
 * @file jim/jim.h
 * @brief The umbrella header of libjim: include this one.
 *
 * @mainpage libjim
 *
 * libjim is the C library of jim, a JIM (JSON Instant Messaging) messenger
 * suite. Its modules:
 * - jim/common.h — version, export macros and ::jim_error codes;
 * - jim/limits.h — the protocol's limits (object size, names, messages);
 * - jim/message.h — the message model and its JSON codec;
 * - jim/framer.h — the stream framer that cuts a byte stream into objects;
 * - jim/log.h — named loggers, daily rotation and call traces;
 * - jim/client.h — a client connection: blocking, in your event loop, or on
 *   its own thread; plain TCP or TLS; reconnects and catches up by itself;
 * - jim/e2e.h — end-to-end encryption of direct messages in a client: keys,
 *   pinning, fingerprints;
 * - jim/list.h — the lists of objects the client and the store return;
 * - jim/store.h — the client-side store of contacts and message history
 *   (SQLite or JSON-lines files).
 *
 * Conventions: functions return #JIM_OK or a negative ::jim_error; handles are
 * opaque, made by `jim_*_new()` or `jim_*_open()` and freed by `jim_*_free()`
 * or `jim_*_close()`, which accept NULL; output parameters come first after
 * the handle (after the handle and the field, for a message's field getters;
 * a constructor's handle is itself its first output); a callback comes last,
 * followed by its `void *userdata`; strings are UTF-8 and are copied when stored. No function
 * aborts on bad input. The wire protocol is described in doc/protocol.md.
 */
#ifndef JIM_JIM_H
#define JIM_JIM_H

#include "client.h"
#include "common.h"
#include "e2e.h"
#include "framer.h"
#include "limits.h"
#include "list.h"
#include "log.h"
#include "message.h"
#include "store.h"

#endif /* JIM_JIM_H */

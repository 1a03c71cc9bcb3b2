/**
 * @file jim/store.h
 * @brief The client-side store: one account's contacts and message history on disk.
 *
 * A ::jim_store keeps what a client has seen, so a restarted client shows its
 * history and a reconnecting one catches up with `sync` from the last seq it
 * saved: no gap and no duplicate (messages are keyed by their server seq).
 * Two implementations behind one interface: SQLite (the default, one file
 * `store.sqlite`) and plain text files (`messages.jsonl`, one JSON object per
 * line, and `contacts.jsonl`). The default place is one directory per account
 * and server under `$XDG_DATA_HOME/jim/` (see jim_store_default_dir()).
 *
 * Attach a store to a client with jim_client_set_store(): the client then saves
 * every message it receives before handing it to the program, every message it
 * sent once the server acknowledged it, and the messages it was asked to send
 * until then (jim_store_outgoing()). A store is not thread-safe on its own; the
 * client serialises its use.
 */
#ifndef JIM_STORE_H
#define JIM_STORE_H

#include "common.h"
#include "list.h"
#include "message.h"

JIM_BEGIN_DECL

/** One account's store. */
typedef struct jim_store jim_store;

/** How a store keeps its data. Values are part of the ABI. */
typedef enum jim_store_kind {
    JIM_STORE_SQLITE = 0, /**< One SQLite database, `store.sqlite` (the default). */
    JIM_STORE_FILES = 1   /**< JSON-lines text files: `messages.jsonl`, `contacts.jsonl`. */
} jim_store_kind;

/**
 * Writes the default store directory of an account on a server:
 * `$XDG_DATA_HOME/jim/<account>@<host>_<port>` (`~/.local/share` when
 * XDG_DATA_HOME is unset).
 * @return #JIM_OK, #JIM_ERANGE when it does not fit in size, #JIM_EINVAL.
 */
JIM_EXTERN(int)
jim_store_default_dir(char *buf, size_t size, const char *account, const char *host, int port);

/**
 * Opens (creating it and its directory, mode 0700, if needed) the store in dir.
 * @param[out] out receives the store; NULL on failure.
 * @param[out] why (may be NULL) on failure, one line saying why, NUL-terminated
 *        (cut to why_size bytes); "" on success.
 * @param why_size bytes at why.
 * @param kind #JIM_STORE_SQLITE or #JIM_STORE_FILES.
 * @param dir the directory (the client keeps the account's end-to-end keys there too).
 * @return #JIM_OK, #JIM_EIO (cannot create or open it: see why), #JIM_EINVAL.
 */
JIM_EXTERN(int)
jim_store_open(jim_store **out, char *why, size_t why_size, jim_store_kind kind, const char *dir);

/** Closes a store; NULL is accepted. */
JIM_EXTERN(void) jim_store_close(jim_store *store);

/** The highest message seq saved, 0 when none: what `sync` starts from. */
JIM_EXTERN(int64_t) jim_store_last_seq(const jim_store *store);

/**
 * Saves a message (a `msg` object with `seq`, `from` and `to`); saving a seq that
 * is already there changes nothing.
 * @param store the store.
 * @param[out] added_out (may be NULL) 1 when the message was saved now, 0 when that
 *        seq was there already.
 * @param msg the message.
 * @return #JIM_OK, #JIM_EINVAL (not a msg with seq) or #JIM_EIO.
 */
JIM_EXTERN(int) jim_store_save_message(jim_store *store, int *added_out, const jim_msg *msg);

/**
 * The saved messages of one conversation (a user name or a "#room"), oldest
 * first, in *out: the `limit` newest with seq below `before` (0: no bound).
 */
JIM_EXTERN(int)
jim_store_history(jim_store *store, jim_list **out, const char *with, int64_t before, int limit);

/** The saved contacts as `contact_list` objects with `user_id`, in name order. */
JIM_EXTERN(int) jim_store_contacts(jim_store *store, jim_list **out);

/**
 * The outgoing messages kept for sending (see jim_client_post()): queued by a
 * client and not answered by the server yet, oldest first, as `msg` objects with
 * their `id`. A client sends them at its next login with this store attached.
 */
JIM_EXTERN(int) jim_store_outgoing(jim_store *store, jim_list **out);

JIM_END_DECL

#endif /* JIM_STORE_H */

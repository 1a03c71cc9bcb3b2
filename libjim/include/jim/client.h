/**
 * @file jim/client.h
 * @brief A JIM client connection: connect, log in, send, receive, reconnect.
 *
 * A ::jim_client is one connection to a JIM server (doc/protocol.md). It
 * announces `ndjson`, answers probes itself, keeps a contact list current from
 * presence pushes, and after a lost connection reconnects with backoff, logs in
 * again, re-sends what was not answered (messages carry ids, so the server never
 * delivers one twice) and catches up with `sync` from the last seq it saw.
 *
 * It works three ways; pick one per client:
 * - **Blocking**: every request function sends and waits for its answer
 *   (jim_client_set_timeout()); incoming messages are handed to the callbacks
 *   while it waits, and jim_client_run() waits for more.
 * - **Your event loop**: watch jim_client_fd() for reading, and for writing
 *   when jim_client_wants_write(); call jim_client_on_readable(),
 *   jim_client_on_writable(), and jim_client_on_timeout() after
 *   jim_client_next_timeout() milliseconds. Use the `_async` request
 *   functions; their callback runs when the answer arrives. The descriptor
 *   changes when the client reconnects: ::jim_client_callbacks.on_state says so.
 * - **A thread of its own**: jim_client_start_thread() runs the loop on a
 *   background thread that calls the callbacks; any thread may then call the
 *   request functions (blocking ones wait for the answer; do not call blocking
 *   functions from a callback — they return #JIM_ESTATE there).
 *
 * Request functions return #JIM_OK for a 2xx answer, #JIM_ESERVER for a 4xx/5xx
 * one (jim_client_last_code() and jim_client_last_error() tell which),
 * #JIM_ETIMEDOUT, #JIM_ECLOSED when the connection is gone for good, or another
 * ::jim_error. Strings are UTF-8.
 *
 * The connection is plain TCP, or TLS (jim_client_set_tls()) in every one of the three
 * ways. Direct messages are end-to-end encrypted when the peer has published a key:
 * see jim/e2e.h.
 *
 * Messages go through an outgoing queue (jim_client_post() and the send
 * functions): a message is #JIM_OUTGOING_PENDING — kept by the client, and by
 * the attached store — from the moment it is queued until the server answers
 * it. While the connection is down it waits, and it is sent when the client is
 * logged in again, with its id, so the server stores it once; a message still
 * pending when the program ends is sent at the next login of a client with the
 * same store. Only a refusal (4xx) makes it #JIM_OUTGOING_FAILED.
 */
#ifndef JIM_CLIENT_H
#define JIM_CLIENT_H

#include "common.h"
#include "list.h"
#include "log.h"
#include "message.h"
#include "store.h"

JIM_BEGIN_DECL

/** One connection to a JIM server. */
typedef struct jim_client jim_client;

/** Where a client is. Values are part of the ABI. */
typedef enum jim_client_state {
    JIM_CLIENT_DISCONNECTED = 0, /**< Not connected (before connect, after quit or failure). */
    JIM_CLIENT_CONNECTING = 1,   /**< A connection is being made (reconnecting). */
    JIM_CLIENT_CONNECTED = 2,    /**< Connected, not logged in. */
    JIM_CLIENT_ONLINE = 3        /**< Logged in. */
} jim_client_state;

/** What the client tells the program. Every member may be NULL. */
typedef struct jim_client_callbacks {
    /** A message arrived (a `msg` object; already saved when a store is attached).
     *  `outgoing` is 1 for a message this account sent from another session. */
    void (*on_message)(void *userdata, const jim_msg *msg, int outgoing);
    /** A contact's presence changed: status is "online" or "offline". */
    void (*on_presence)(void *userdata, const char *user, const char *status);
    /** Something went wrong that no request is waiting for (a server error
     *  without a request, a failed reconnect): code is a ::jim_error or a
     *  response code, text says what. */
    void (*on_error)(void *userdata, int code, const char *text);
    /** The state changed; also when the descriptor changed (reconnect). */
    void (*on_state)(void *userdata, jim_client_state state);
} jim_client_callbacks;

/** What became of a message this client sent. Values are part of the ABI. */
typedef enum jim_outgoing_state {
    /** Queued, and kept (in the store too) until the server answers: sent as soon as the
     *  client is logged in, again after a reconnect or at the next login. */
    JIM_OUTGOING_PENDING = 0,
    /** The server stored it for a recipient who is offline (202). */
    JIM_OUTGOING_STORED = 1,
    /** The server stored it and handed it to a live session of the recipient, or to the
     *  room's members (200). */
    JIM_OUTGOING_DELIVERED = 2,
    /** The server refused it (4xx: no such user, not a member, too long): never sent again. */
    JIM_OUTGOING_FAILED = 3
} jim_outgoing_state;

/**
 * An outgoing message changed state (see jim_client_set_outgoing_callback()).
 * msg is the message as queued (`to`, `message`, `id`), with `from` and `seq`
 * once the server stored it (and `e2e` true when it went encrypted); response is the
 * server's answer, whose `error` says why a message failed (NULL for
 * #JIM_OUTGOING_PENDING). A message the client refused itself, because the recipient's
 * key changed (#JIM_EKEYCHANGED, jim/e2e.h), fails with a response made by the client:
 * 403 and the reason. Both are valid only during the call.
 */
typedef void (*jim_outgoing_fn)(void *userdata, const jim_msg *msg, jim_outgoing_state state,
                                const jim_msg *response);

/**
 * The answer to an asynchronous request. status is #JIM_OK (2xx), #JIM_ESERVER
 * (response tells which), #JIM_ETIMEDOUT or #JIM_ECLOSED; response is the
 * server's answer (NULL when there was none); entries holds the list that
 * followed it (contacts, rooms, users, history), or NULL. Both are valid only
 * during the call.
 */
typedef void (*jim_reply_fn)(void *userdata, int status, const jim_msg *response,
                             const jim_list *entries);

/**
 * Makes a client; callbacks (may be NULL) are copied.
 * @return #JIM_OK, #JIM_ENOMEM, #JIM_EINVAL.
 */
JIM_EXTERN(int)
jim_client_new(jim_client **out, const jim_client_callbacks *callbacks, void *userdata);

/** Closes the connection, stops the thread and frees the client; NULL is accepted. */
JIM_EXTERN(void) jim_client_free(jim_client *client);

/** How long a blocking request waits for its answer (default 10,000 ms). */
JIM_EXTERN(void) jim_client_set_timeout(jim_client *client, int timeout_ms);

/**
 * Whether to reconnect after a lost connection (default: on), and the longest
 * wait between attempts (default 30,000 ms; the first is 250 ms, then doubling).
 */
JIM_EXTERN(void) jim_client_set_reconnect(jim_client *client, int enabled, int max_backoff_ms);

/**
 * Attaches a store (not owned; it must outlive the client or be detached; NULL
 * detaches). Attached before jim_client_login(), the login catches up with `sync`
 * from the store's last seq and queues the store's pending outgoing messages.
 * Attached to a client that is logged in, it does the same without waiting (the
 * answers arrive through the loop); messages the client has shown already are
 * saved but not shown again. So a program may open its store only once the
 * login succeeded.
 */
JIM_EXTERN(int) jim_client_set_store(jim_client *client, jim_store *store);

/**
 * Sets the function told when an outgoing message is queued (#JIM_OUTGOING_PENDING,
 * also for those a store kept from an earlier run, when they are queued at login)
 * and when the server answered it. It runs where the other callbacks run. NULL: none.
 */
JIM_EXTERN(void)
jim_client_set_outgoing_callback(jim_client *client, jim_outgoing_fn fn, void *userdata);

/** Logs what the client does to log (not owned; NULL: the default logger). */
JIM_EXTERN(void) jim_client_set_log(jim_client *client, jim_log *log);

/** How a client's connection is made (jim_client_set_tls()). Values are part of the ABI. */
typedef enum jim_tls_mode {
    JIM_TLS_OFF = 0, /**< Plain TCP (the default). */
    /** TLS 1.2 or later. The server's certificate chain must lead to a trusted authority
     *  (the CA file given, or the system's store) and the certificate must be made out for
     *  the host name (or address) connected to; the name goes to the server as SNI. */
    JIM_TLS_VERIFY = 1,
    /** TLS without any check of the certificate: for tests only. Anyone on the path can
     *  read and change the traffic; every connect logs a warning that says so. */
    JIM_TLS_INSECURE = 2
} jim_tls_mode;

/**
 * Makes the next connect, and every reconnect, use TLS (or plain TCP again).
 * @param client the client, not connected.
 * @param mode #JIM_TLS_OFF, #JIM_TLS_VERIFY or #JIM_TLS_INSECURE.
 * @param ca_file for #JIM_TLS_VERIFY: a PEM file of the authorities to trust (a private
 *        CA); NULL: the system's store. Read now.
 * @return #JIM_OK, #JIM_ETLS (the CA file or the system's store cannot be loaded:
 *         jim_client_last_error() says why), #JIM_ESTATE (connected), #JIM_EINVAL.
 */
JIM_EXTERN(int) jim_client_set_tls(jim_client *client, jim_tls_mode mode, const char *ca_file);

/**
 * The TLS version and cipher of the connection ("TLSv1.3, TLS_AES_256_GCM_SHA384"), owned
 * by the client and valid until it next connects; NULL when the connection is not TLS.
 */
JIM_EXTERN(const char *) jim_client_tls_version(const jim_client *client);

/**
 * Connects to host (a name, an IPv4 or an IPv6 address) and port, trying each
 * address the name has, and makes the TLS handshake when TLS is on; blocks up to the
 * timeout.
 * @return #JIM_OK, #JIM_ECONNECT (errno-style reason in jim_client_last_error()),
 *         #JIM_ETLS (the handshake failed or the certificate was refused; the reason in
 *         words in jim_client_last_error(): "unknown CA", "name mismatch", "expired", a
 *         server that does not speak TLS), #JIM_ESTATE when already connected, #JIM_EINVAL.
 */
JIM_EXTERN(int) jim_client_connect(jim_client *client, const char *host, int port);

/** Creates an account (does not log in). 201 → #JIM_OK; 409 exists → #JIM_ESERVER. */
JIM_EXTERN(int)
jim_client_register(jim_client *client, const char *account, const char *password,
                    const char *info);

/**
 * Logs in as account; password NULL logs in with `presence` (servers with
 * `auth none`). Remembers both for reconnecting (in memory only). With a store
 * attached, then catches up with `sync` from the store's last seq.
 */
JIM_EXTERN(int) jim_client_login(jim_client *client, const char *account, const char *password);

/**
 * Changes the logged-in account's password (`set_password`, doc/protocol.md §3). The server
 * checks @p old_password first; on success the client logs in with @p new_password when it
 * reconnects (in memory only, as jim_client_login()). The account's other sessions stay
 * logged in.
 * @return #JIM_OK; #JIM_ESERVER when refused (jim_client_last_code(): 402 wrong old
 *         password, 400 new one too short, 429 too many failures); #JIM_EINVAL (NULL, or a
 *         password that is not UTF-8); #JIM_ESTATE (not logged in); a connection error.
 */
JIM_EXTERN(int)
jim_client_set_password(jim_client *client, const char *old_password, const char *new_password);

/**
 * Queues text for a user or a "#room" and returns at once: the message is
 * #JIM_OUTGOING_PENDING until the server answers (see "outgoing queue" above;
 * jim_client_set_outgoing_callback() tells what became of it).
 * @param client the client; logged in, or reconnecting after it was.
 * @param[out] id_out (may be NULL) receives the message's id, NUL-terminated ("" on failure).
 * @param id_size bytes at id_out; #JIM_OUTGOING_ID_SIZE is always enough.
 * @param to a user name or a "#room"; NULL: the server's general chat (doc/protocol.md §5).
 * @param text the message (UTF-8, at most the server's `max_message_chars`).
 * @return #JIM_OK (queued), #JIM_EINVAL or #JIM_EUTF8 (not a valid message, e.g. a bad
 *         name or too long: jim_client_last_error() says why), #JIM_ESTATE (not logged in,
 *         or disconnected for good), #JIM_EIO (the store cannot keep it: it is not queued).
 */
JIM_EXTERN(int)
jim_client_post(jim_client *client, char *id_out, size_t id_size, const char *to, const char *text);

/** Room for a message id from jim_client_post(), the NUL included. */
#define JIM_OUTGOING_ID_SIZE 65

/**
 * What became of an outgoing message of this client, by its id: pending, or the
 * answer's outcome (the last 1,000 answered ones are remembered), in *state_out.
 * @return #JIM_OK, #JIM_ENOTFOUND (not a message this client queued or loaded
 *         from its store, or answered long ago), #JIM_EINVAL.
 */
JIM_EXTERN(int)
jim_client_outgoing_state(jim_client *client, jim_outgoing_state *state_out, const char *id);

/** The outgoing messages still pending, oldest first, as `msg` objects with their `id`. */
JIM_EXTERN(int) jim_client_outgoing(jim_client *client, jim_list **out);

/**
 * Sends text to a user or a "#room" through the outgoing queue and waits until the
 * server stored it.
 * @param client the client (logged in).
 * @param[out] seq_out (may be NULL) the message's seq.
 * @param[out] delivered_out (may be NULL) 1 for 200 (handed to a live session),
 *        0 for 202 (stored for an offline recipient).
 * @param to a user name or a "#room"; NULL: the server's general chat.
 * @param text the message (UTF-8, at most the server's `max_message_chars`).
 * @return as the other requests; #JIM_ETIMEDOUT means no answer came in time (the
 *         connection is down): the message stays pending and is sent when it is back.
 */
JIM_EXTERN(int)
jim_client_send(jim_client *client, int64_t *seq_out, int *delivered_out, const char *to,
                const char *text);

/**
 * jim_client_post() with a callback: done gets the server's answer (with `seq`)
 * when it comes — however long the connection is down, never #JIM_ETIMEDOUT —
 * or #JIM_ECLOSED when the client stops for good first (the message then stays
 * pending, in the store for the next login).
 */
JIM_EXTERN(int)
jim_client_send_async(jim_client *client, const char *to, const char *text, jim_reply_fn done,
                      void *userdata);

/** Joins a room (creating it when new). */
JIM_EXTERN(int) jim_client_join(jim_client *client, const char *room);

/** Leaves a room. */
JIM_EXTERN(int) jim_client_leave(jim_client *client, const char *room);

/** The contact list as `contact_list` objects (user_id, status); saved to the store. */
JIM_EXTERN(int) jim_client_get_contacts(jim_client *client, jim_list **out);

/**
 * The contact list as the client knows it now, without asking the server: the last
 * jim_client_get_contacts() answer, kept current by add/del and by presence pushes.
 * `contact_list` objects with user_id and status, in name order.
 */
JIM_EXTERN(int) jim_client_contact_list(jim_client *client, jim_list **out);

/** Adds a contact. */
JIM_EXTERN(int) jim_client_add_contact(jim_client *client, const char *user);

/** Removes a contact. */
JIM_EXTERN(int) jim_client_del_contact(jim_client *client, const char *user);

/** Users whose names start with prefix ("" for all) as `user_list` objects, in *out. */
JIM_EXTERN(int) jim_client_get_users(jim_client *client, jim_list **out, const char *prefix);

/** Every room as `room_list` objects (room, members). */
JIM_EXTERN(int) jim_client_get_rooms(jim_client *client, jim_list **out);

/**
 * Asks for every message after seq since; they arrive through on_message (and the
 * store) before this returns. *last_seq_out (may be NULL) gets the server's LAST.
 */
JIM_EXTERN(int) jim_client_sync(jim_client *client, int64_t *last_seq_out, int64_t since);

/**
 * Up to limit older messages of a conversation ("bob" or "#room") with seq below
 * before (0: the newest), newest first, as `msg` objects in *out; saved to the store.
 */
JIM_EXTERN(int)
jim_client_history(jim_client *client, jim_list **out, const char *with, int64_t before, int limit);

/**
 * Sends any request (a built ::jim_msg with an action) without waiting; the
 * client sets its `id`. done (may be NULL) gets the answer and any list.
 */
JIM_EXTERN(int)
jim_client_request_async(jim_client *client, const jim_msg *request, jim_reply_fn done,
                         void *userdata);

/** Says goodbye (`quit`), waits briefly for the answer and disconnects. */
JIM_EXTERN(int) jim_client_quit(jim_client *client);

/** The state. */
JIM_EXTERN(jim_client_state) jim_client_get_state(const jim_client *client);

/** The logged-in account name, or NULL. */
JIM_EXTERN(const char *) jim_client_account(const jim_client *client);

/** The highest message seq seen (received, sent or saved), 0 when none. */
JIM_EXTERN(int64_t) jim_client_last_seq(const jim_client *client);

/**
 * The response code of the last answer a blocking request got, or of the refusal
 * that ended reconnecting (a login refused); 0 when there was none, and after a
 * request that failed before reaching the server (a bad argument, a timeout).
 */
JIM_EXTERN(int) jim_client_last_code(const jim_client *client);

/**
 * That answer itself (owned by the client, valid until the next request), e.g. for
 * a 429's `retry_after`; NULL when jim_client_last_code() is 0.
 */
JIM_EXTERN(const jim_msg *) jim_client_last_response(const jim_client *client);

/** The text of the last failure (server error text, or why connecting failed). Never NULL. */
JIM_EXTERN(const char *) jim_client_last_error(const jim_client *client);

/**
 * Waits up to timeout_ms (-1: no limit) for traffic and handles it (callbacks run
 * here), reconnecting when needed. Blocking mode's receive loop.
 * @return #JIM_OK after the wait, #JIM_ECLOSED when disconnected for good.
 */
JIM_EXTERN(int) jim_client_run(jim_client *client, int timeout_ms);

/** The socket to watch in your own loop; -1 when there is none. */
JIM_EXTERN(int) jim_client_fd(const jim_client *client);

/** 1 when the socket should also be watched for writing. */
JIM_EXTERN(int) jim_client_wants_write(const jim_client *client);

/** Milliseconds until jim_client_on_timeout() is due; -1 when nothing is due. */
JIM_EXTERN(int) jim_client_next_timeout(const jim_client *client);

/** Call when the socket is readable. @return #JIM_OK or #JIM_ECLOSED (gone for good). */
JIM_EXTERN(int) jim_client_on_readable(jim_client *client);

/** Call when the socket is writable. */
JIM_EXTERN(int) jim_client_on_writable(jim_client *client);

/** Call when the timeout is due: request deadlines, reconnect attempts. */
JIM_EXTERN(int) jim_client_on_timeout(jim_client *client);

/** Starts the background thread (thread mode). @return #JIM_OK, #JIM_ESTATE if running. */
JIM_EXTERN(int) jim_client_start_thread(jim_client *client);

/** Stops the background thread and waits for it; callbacks have stopped when it returns. */
JIM_EXTERN(void) jim_client_stop_thread(jim_client *client);

JIM_END_DECL

#endif /* JIM_CLIENT_H */

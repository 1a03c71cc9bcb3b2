/**
 * @file jim/e2e.h
 * @brief End-to-end encryption of direct messages in a ::jim_client (doc/protocol.md §7).
 *
 * A client encrypts what it sends to one user, so that the server stores and relays only
 * ciphertext; it needs nothing from the program to do so:
 * - At its first login an account gets an X25519 key pair. The private key is kept in the
 *   key directory (jim_client_set_key_dir(); by default the directory of the attached
 *   store), file `e2e_key`, mode 0600; it is never sent and never logged. With neither, the
 *   pair lives in memory for the session only (#JIM_E2E_MEMORY_KEY says so), and peers see
 *   a new key at every start.
 * - Every login publishes the public key (`put_key`). A server that answers with an error
 *   (today's 400 "action not supported by this server") serves no keys: #JIM_E2E_UNAVAILABLE
 *   is told (once, not at every reconnect), and messages go as plain text.
 * - A message to a user is encrypted when that user has published a key and encryption is
 *   on for the conversation (jim_client_set_e2e(), default on); otherwise it goes plain.
 *   The client asks for the user's key (`get_key`) once per login, before the first message.
 *   Messages to rooms are never encrypted.
 * - The first key seen for a user is pinned (file `e2e_pins` beside the key). A published key
 *   that differs from the pinned one is #JIM_KEY_CHANGED: #JIM_E2E_KEY_CHANGED is told,
 *   messages to that user are refused (#JIM_EKEYCHANGED; nothing is sent) and messages
 *   from that user cannot be read, until the program trusts the new key
 *   (jim_client_trust_key()), typically after the user compared fingerprints.
 * - An encrypted message that arrives is decrypted before it is stored and shown: the
 *   program gets the plain text with `e2e` true (jim_msg_e2e_state()). One that cannot be
 *   decrypted (damaged, sent with an untrusted key, or sent from another session of this
 *   account, which only its recipient can read) is still delivered, never dropped, with
 *   `e2e` false, `e2e_error` saying why and `message` holding the envelope, not text.
 */
#ifndef JIM_E2E_H
#define JIM_E2E_H

#include "client.h"

JIM_BEGIN_DECL

/** What a received message was. Values are part of the ABI. */
typedef enum jim_e2e_state {
    JIM_E2E_PLAIN = 0,     /**< Sent as plain text (or sent by this client, unencrypted). */
    JIM_E2E_DECRYPTED = 1, /**< Sent encrypted; decrypted and authenticated: `message` is text. */
    /** Sent encrypted and could not be decrypted: `message` is the envelope (base64),
     *  `e2e_error` says why. Show it as such, never as text. */
    JIM_E2E_FAILED = 2
} jim_e2e_state;

/**
 * Whether a message came encrypted, from its `e2e` field (which libjim sets on what it
 * receives and sends, and drops from anything a server sends).
 * @return the state; #JIM_E2E_PLAIN for NULL.
 */
JIM_EXTERN(jim_e2e_state) jim_msg_e2e_state(const jim_msg *msg);

/** What the client knows of a user's key. Values are part of the ABI. */
typedef enum jim_key_state {
    JIM_KEY_UNKNOWN = 0,    /**< Not asked since the last login. */
    JIM_KEY_NONE = 1,       /**< The user has published no key: messages go plain. */
    JIM_KEY_TRUSTED = 2,    /**< The published key is the pinned one: messages are encrypted. */
    JIM_KEY_CHANGED = 3,    /**< The published key is not the pinned one: refused until trusted. */
    JIM_KEY_UNAVAILABLE = 4 /**< The server serves no keys: messages go plain. */
} jim_key_state;

/** Room for a fingerprint, the NUL included: 8 groups of 4 hex digits and 7 spaces. */
#define JIM_FINGERPRINT_SIZE 40

/** A user's key as the client knows it (jim_client_peer_key()). */
typedef struct jim_peer_key {
    jim_key_state state; /**< What it is. */
    int e2e_on; /**< 1 when encryption is on for this conversation (jim_client_set_e2e()). */
    char pinned[JIM_FINGERPRINT_SIZE];    /**< Fingerprint of the pinned key; "" when none. */
    char published[JIM_FINGERPRINT_SIZE]; /**< Of the key the server has; "" when unknown. */
} jim_peer_key;

/** What the client tells about keys (jim_client_set_e2e_callback()). Values are ABI. */
typedef enum jim_e2e_event {
    /** The server refused `put_key` (peer NULL; text has its answer): no encryption. */
    JIM_E2E_UNAVAILABLE = 0,
    /** No key directory: this session's key pair is in memory only (peer NULL). */
    JIM_E2E_MEMORY_KEY = 1,
    /** A key pair was made for this account (peer NULL; text has its fingerprint). */
    JIM_E2E_NEW_KEY = 2,
    /** A user's key was seen for the first time and pinned (text has its fingerprint). */
    JIM_E2E_PINNED = 3,
    /** A user's published key is not the pinned one (text has both fingerprints). */
    JIM_E2E_KEY_CHANGED = 4,
    /** The key directory cannot be used (text says why): keys stay in memory. */
    JIM_E2E_KEY_ERROR = 5
} jim_e2e_event;

/** Told about keys: event, the user it is about (or NULL) and a line of text. */
typedef void (*jim_e2e_fn)(void *userdata, jim_e2e_event event, const char *peer, const char *text);

/** Sets the function told about keys (it runs where the other callbacks run); NULL: none. */
JIM_EXTERN(void) jim_client_set_e2e_callback(jim_client *client, jim_e2e_fn fn, void *userdata);

/**
 * Keeps this account's key pair and pinned keys in dir (created, mode 0700, when needed),
 * instead of the attached store's directory. Set it before jim_client_login(), so the key
 * published at the first login is the one kept. NULL: back to the store's directory.
 * @return #JIM_OK, #JIM_EIO (dir cannot be used: jim_client_last_error() says why),
 *         #JIM_EINVAL.
 */
JIM_EXTERN(int) jim_client_set_key_dir(jim_client *client, const char *dir);

/**
 * Turns encryption of the messages sent to peer on or off (peer NULL: every peer, and
 * forgets the per-peer settings). Received messages are decrypted whatever it says.
 * @return #JIM_OK, #JIM_EINVAL.
 */
JIM_EXTERN(int) jim_client_set_e2e(jim_client *client, const char *peer, int enabled);

/**
 * This account's key fingerprint (SHA-256 of the public key, first 16 bytes, hex in
 * groups of 4) into out.
 * @return #JIM_OK, #JIM_ESTATE (no key pair yet: before the first login), #JIM_ERANGE
 *         (size below #JIM_FINGERPRINT_SIZE), #JIM_EINVAL.
 */
JIM_EXTERN(int) jim_client_fingerprint(jim_client *client, char *out, size_t size);

/**
 * What the client knows of peer's key; with refresh, asks the server first (blocking,
 * like the other requests). A key seen for the first time is pinned.
 * @return #JIM_OK (also for #JIM_KEY_NONE and #JIM_KEY_UNAVAILABLE), #JIM_ESTATE (refresh
 *         while not logged in, or from a callback), #JIM_ETIMEDOUT, #JIM_EINVAL.
 */
JIM_EXTERN(int)
jim_client_peer_key(jim_client *client, jim_peer_key *out, const char *peer, int refresh);

/**
 * Trusts peer's published key: it becomes the pinned one, and messages to and from peer
 * are encrypted again.
 * @return #JIM_OK, #JIM_ENOTFOUND (no published key of peer is known: ask with
 *         jim_client_peer_key() first), #JIM_EIO (the pin cannot be saved; it holds for
 *         this session), #JIM_EINVAL.
 */
JIM_EXTERN(int) jim_client_trust_key(jim_client *client, const char *peer);

JIM_END_DECL

#endif /* JIM_E2E_H */

/*
 * fakejim.c — a tiny JIM server the client's tests control fully (certificates, keys it
 * hands out): TLS (OpenSSL, non-blocking) and the key actions of doc/protocol.md §7. It
 * speaks just enough JIM for libjim and jimc: register, authenticate, presence, msg (stored,
 * relayed to every session of the recipient and the sender's other sessions), sync, put_key,
 * get_key, quit; anything else is a 400. Built on libjim's framer and codec.
 *
 *   fakejim [--port N] [--tls CERT KEY] [--no-keys] [--tamper] [--capture FILE]
 *
 * Listens on loopback, on port N or an ephemeral one, and prints "port N" as its first line.
 * --no-keys answers put_key and get_key as today's jimd does (400 "action not supported by this
 * server"); --tamper changes one character of every encrypted message it relays; --capture
 * appends every byte it reads and writes on the wire (after TLS: the bytes a server sees) to
 * FILE. Ends on SIGTERM, or after five idle minutes.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#define _GNU_SOURCE
#include <jim/jim.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 64
#define MAX_USERS 64
#define MAX_LOG 4096

typedef struct conn {
    int fd;
    SSL *ssl;
    int handshaken;
    int want_write; /* TLS: the last call waits for writability */
    jim_framer *framer;
    char *out;
    size_t out_len, out_cap;
    char account[32];
    int closing;
} conn;

typedef struct user {
    char name[32];
    char key[64]; /* "" when none published */
} user;

typedef struct logged {
    long long seq;
    char from[32], to[32];
    char *line; /* the push as sent, without id */
} logged;

static conn conns[MAX_CONNS];
static user users[MAX_USERS];
static logged logbook[MAX_LOG];
static int n_logged;
static long long next_seq = 1;
static int no_keys, tamper;
static FILE *capture;
static SSL_CTX *tls;
static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static user *find_user(const char *name, int create)
{
    for (int i = 0; i < MAX_USERS; i++)
        if (users[i].name[0] && strcmp(users[i].name, name) == 0)
            return &users[i];
    if (!create)
        return NULL;
    for (int i = 0; i < MAX_USERS; i++)
        if (!users[i].name[0]) {
            snprintf(users[i].name, sizeof users[i].name, "%s", name);
            return &users[i];
        }
    return NULL;
}

static void put(conn *c, const char *data, size_t len)
{
    if (c->out_len + len > c->out_cap) {
        size_t cap = (c->out_len + len) * 2;
        char *grown = realloc(c->out, cap);
        if (!grown)
            return;
        c->out = grown;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
}

static void put_msg(conn *c, jim_msg *m)
{
    const char *json;
    size_t len;
    if (jim_msg_encode(m, &json, &len) == JIM_OK)
        put(c, json, len);
}

/* A response with code and text, echoing the request's id, with key (may be NULL) and seq
 * (when >= 0). */
static void reply(conn *c, const jim_msg *req, int code, const char *text, const char *key,
                  long long seq)
{
    jim_msg *r = NULL;
    jim_msg_new(&r);
    jim_msg_init_response(r, code, text);
    const char *id = jim_msg_get_str(req, JIM_FIELD_ID);
    if (id)
        jim_msg_set_str(r, JIM_FIELD_ID, id);
    if (key)
        jim_msg_set_str(r, JIM_FIELD_KEY, key);
    if (seq >= 0)
        jim_msg_set_int(r, JIM_FIELD_SEQ, seq);
    put_msg(c, r);
    jim_msg_free(r);
}

static int online(const char *name)
{
    for (int i = 0; i < MAX_CONNS; i++)
        if (conns[i].fd >= 0 && strcmp(conns[i].account, name) == 0)
            return 1;
    return 0;
}

static void handle_msg(conn *c, const jim_msg *req)
{
    const char *to = jim_msg_get_str(req, JIM_FIELD_TO);
    const char *enc = jim_msg_get_str(req, JIM_FIELD_ENCODING);
    const char *text = NULL;
    size_t text_len = 0;
    jim_msg_get_strn(req, JIM_FIELD_MESSAGE, &text, &text_len);
    if (!to || to[0] == '#') {
        reply(c, req, 400, "only direct messages here", NULL, -1);
        return;
    }
    if (!find_user(to, 0)) {
        reply(c, req, 404, "no such user", NULL, -1);
        return;
    }
    if (n_logged >= MAX_LOG) {
        reply(c, req, 500, "log full", NULL, -1);
        return;
    }
    jim_msg *push = NULL;
    jim_msg_new(&push);
    jim_msg_init_action(push, JIM_ACTION_MSG);
    jim_msg_set_str(push, JIM_FIELD_FROM, c->account);
    jim_msg_set_str(push, JIM_FIELD_TO, to);
    if (enc)
        jim_msg_set_str(push, JIM_FIELD_ENCODING, enc);
    char *copy = malloc(text_len + 1);
    memcpy(copy, text, text_len);
    if (tamper && enc && strcmp(enc, JIM_E2E_ENCODING) == 0 && text_len > 10)
        copy[10] = copy[10] == 'A' ? 'B' : 'A'; /* still base64, no longer the envelope */
    jim_msg_set_strn(push, JIM_FIELD_MESSAGE, copy, text_len);
    free(copy);
    long long seq = next_seq++;
    jim_msg_set_int(push, JIM_FIELD_SEQ, seq);
    const char *json;
    size_t len;
    jim_msg_encode(push, &json, &len);
    logged *l = &logbook[n_logged++];
    l->seq = seq;
    snprintf(l->from, sizeof l->from, "%s", c->account);
    snprintf(l->to, sizeof l->to, "%s", to);
    l->line = strndup(json, len);
    jim_msg_free(push);
    reply(c, req, online(to) ? 200 : 202, online(to) ? "OK" : "accepted", NULL, seq);
    for (int i = 0; i < MAX_CONNS; i++) {
        conn *o = &conns[i];
        if (o->fd < 0 || o == c || !o->account[0])
            continue;
        if (strcmp(o->account, to) == 0 || strcmp(o->account, c->account) == 0)
            put(o, l->line, strlen(l->line));
    }
}

static void handle(conn *c, const jim_msg *req)
{
    jim_action a = jim_msg_action(req);
    const char *name = jim_msg_get_str(req, JIM_FIELD_ACCOUNT_NAME);
    if (a == JIM_ACTION_QUIT) {
        reply(c, req, 200, "bye", NULL, -1);
        c->closing = 1;
        return;
    }
    if (a == JIM_ACTION_REGISTER) {
        int exists = find_user(name, 0) != NULL;
        find_user(name, 1);
        reply(c, req, exists ? 409 : 201, exists ? "account exists" : "created", NULL, -1);
        return;
    }
    if (a == JIM_ACTION_AUTHENTICATE || a == JIM_ACTION_PRESENCE) {
        find_user(name, 1);
        snprintf(c->account, sizeof c->account, "%s", name);
        reply(c, req, 200, "OK", NULL, -1);
        return;
    }
    if (!c->account[0]) {
        reply(c, req, 401, "log in first", NULL, -1);
        return;
    }
    if ((a == JIM_ACTION_PUT_KEY || a == JIM_ACTION_GET_KEY) && no_keys) {
        reply(c, req, 400, "action not supported by this server", NULL, -1);
        return;
    }
    if (a == JIM_ACTION_PUT_KEY) {
        user *u = find_user(c->account, 1);
        snprintf(u->key, sizeof u->key, "%s", jim_msg_get_str(req, JIM_FIELD_KEY));
        reply(c, req, 200, "OK", NULL, -1);
    } else if (a == JIM_ACTION_GET_KEY) {
        user *u = find_user(jim_msg_get_str(req, JIM_FIELD_USER_ID), 0);
        if (u && u->key[0])
            reply(c, req, 200, "OK", u->key, -1);
        else
            reply(c, req, 404, "no key", NULL, -1);
    } else if (a == JIM_ACTION_MSG) {
        handle_msg(c, req);
    } else if (a == JIM_ACTION_SYNC) {
        int64_t since = 0, last = 0;
        jim_msg_get_int(req, JIM_FIELD_SINCE, &since);
        last = since;
        for (int i = 0; i < n_logged; i++) {
            logged *l = &logbook[i];
            if (l->seq > since &&
                (strcmp(l->from, c->account) == 0 || strcmp(l->to, c->account) == 0)) {
                put(c, l->line, strlen(l->line));
                last = l->seq;
            }
        }
        reply(c, req, 200, "OK", NULL, last);
    } else {
        reply(c, req, 400, "action not supported by this server", NULL, -1);
    }
}

static void drop(conn *c)
{
    if (c->ssl)
        SSL_free(c->ssl);
    close(c->fd);
    jim_framer_free(c->framer);
    free(c->out);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

/* 1 when the call must wait, 0 on success, -1 when the connection is done. */
static int tls_status(conn *c, int ret)
{
    switch (SSL_get_error(c->ssl, ret)) {
    case SSL_ERROR_WANT_READ: c->want_write = 0; return 1;
    case SSL_ERROR_WANT_WRITE: c->want_write = 1; return 1;
    default: ERR_clear_error(); return -1;
    }
}

static void on_input(conn *c, const char *data, size_t len)
{
    if (capture) {
        fwrite(data, 1, len, capture);
        fflush(capture);
    }
    jim_framer_feed(c->framer, data, len);
    jim_msg *m = NULL;
    jim_msg_new(&m);
    int rc;
    while ((rc = jim_framer_next_msg(c->framer, m)) != JIM_EAGAIN) {
        if (rc == JIM_OK) {
            handle(c, m);
        } else {
            jim_msg *r = NULL;
            jim_msg_new(&r);
            jim_msg_init_response(r, 400, jim_framer_errmsg(c->framer));
            put_msg(c, r);
            jim_msg_free(r);
            if (!jim_framer_can_continue(c->framer)) {
                c->closing = 1;
                break;
            }
        }
    }
    jim_msg_free(m);
}

static void service(conn *c)
{
    char buf[16384];
    if (c->ssl && !c->handshaken) {
        int r = SSL_accept(c->ssl);
        if (r == 1)
            c->handshaken = 1;
        else if (tls_status(c, r) < 0) {
            drop(c);
            return;
        } else {
            return;
        }
    }
    for (;;) { /* read until it would block */
        ssize_t n;
        if (c->ssl) {
            size_t got = 0;
            int r = SSL_read_ex(c->ssl, buf, sizeof buf, &got);
            if (r != 1) {
                if (tls_status(c, r) < 0) {
                    drop(c);
                    return;
                }
                break;
            }
            n = (ssize_t)got;
        } else {
            n = recv(c->fd, buf, sizeof buf, 0);
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                break;
            if (n <= 0) {
                drop(c);
                return;
            }
        }
        on_input(c, buf, (size_t)n);
    }
    while (c->out_len > 0) {
        size_t done = 0;
        if (c->ssl) {
            int r = SSL_write_ex(c->ssl, c->out, c->out_len, &done);
            if (r != 1) {
                if (tls_status(c, r) < 0) {
                    drop(c);
                    return;
                }
                break;
            }
        } else {
            ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                break;
            if (n <= 0) {
                drop(c);
                return;
            }
            done = (size_t)n;
        }
        if (capture) {
            fwrite(c->out, 1, done, capture);
            fflush(capture);
        }
        memmove(c->out, c->out + done, c->out_len - done);
        c->out_len -= done;
    }
    if (c->closing && c->out_len == 0)
        drop(c);
}

int main(int argc, char **argv)
{
    const char *cert = NULL, *key = NULL;
    int port = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--tls") == 0 && i + 2 < argc) {
            cert = argv[++i];
            key = argv[++i];
        } else if (strcmp(argv[i], "--no-keys") == 0) {
            no_keys = 1;
        } else if (strcmp(argv[i], "--tamper") == 0) {
            tamper = 1;
        } else if (strcmp(argv[i], "--capture") == 0 && i + 1 < argc) {
            capture = fopen(argv[++i], "ab");
        } else {
            fprintf(stderr, "usage: fakejim [--port N] [--tls CERT KEY] [--no-keys] [--tamper] "
                            "[--capture FILE]\n");
            return 64;
        }
    }
    if (cert) {
        tls = SSL_CTX_new(TLS_server_method());
        SSL_CTX_set_min_proto_version(tls, TLS1_2_VERSION);
        SSL_CTX_set_mode(tls, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
        if (SSL_CTX_use_certificate_chain_file(tls, cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(tls, key, SSL_FILETYPE_PEM) != 1) {
            fprintf(stderr, "fakejim: cannot load %s / %s\n", cert, key);
            return 78;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    for (int i = 0; i < MAX_CONNS; i++)
        conns[i].fd = -1;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t alen = sizeof a;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 16) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) != 0) {
        perror("fakejim");
        return 71;
    }
    printf("port %d\n", ntohs(a.sin_port));
    fflush(stdout);
    time_t idle_since = time(NULL);
    while (!stop && time(NULL) - idle_since < 300) {
        struct pollfd p[MAX_CONNS + 1];
        int idx[MAX_CONNS + 1], n = 0;
        p[n].fd = lfd;
        p[n].events = POLLIN;
        idx[n++] = -1;
        for (int i = 0; i < MAX_CONNS; i++) {
            conn *c = &conns[i];
            if (c->fd < 0)
                continue;
            p[n].fd = c->fd;
            p[n].events = POLLIN;
            if (c->out_len > 0 || c->want_write || (c->ssl && !c->handshaken))
                p[n].events |= POLLOUT;
            idx[n++] = i;
        }
        if (poll(p, (nfds_t)n, 1000) <= 0)
            continue;
        idle_since = time(NULL);
        for (int k = 1; k < n; k++)
            if (p[k].revents)
                service(&conns[idx[k]]);
        if (p[0].revents & POLLIN) {
            int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            for (int i = 0; fd >= 0 && i < MAX_CONNS; i++) {
                conn *c = &conns[i];
                if (c->fd >= 0)
                    continue;
                c->fd = fd;
                jim_framer_new(&c->framer, NULL);
                if (tls) {
                    c->ssl = SSL_new(tls);
                    SSL_set_fd(c->ssl, fd);
                }
                fd = -1;
            }
            if (fd >= 0)
                close(fd);
        }
    }
    for (int i = 0; i < MAX_CONNS; i++)
        if (conns[i].fd >= 0)
            drop(&conns[i]);
    for (int i = 0; i < n_logged; i++)
        free(logbook[i].line);
    SSL_CTX_free(tls);
    if (capture)
        fclose(capture);
    return 0;
}

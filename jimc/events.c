/*
 * events.c — what the client reports, told to the user: incoming messages, presence,
 * errors no request waits for, the connection lost and back, what became of each
 * message sent (pending while the connection is down, stored for an offline recipient,
 * sent once the connection is back, or refused), and end-to-end keys (made, pinned,
 * changed, or not available on this server).
 */
#define _POSIX_C_SOURCE 200809L
#include "jimc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void on_message(void *ud, const jim_msg *m, int outgoing)
{
    out_message(ud, m, outgoing);
}

static void on_presence(void *ud, const char *user, const char *status)
{
    jimc *app = ud;
    if (app->mode == JIMC_COMMANDS)
        out_info(app, "%s is %s", user, status);
}

static void on_error(void *ud, int code, const char *text)
{
    (void)code;
    out_error(ud, "%s", text);
}

static void on_state(void *ud, jim_client_state st)
{
    jimc *app = ud;
    if (!jim_client_account(app->client))
        return; /* connecting for the first time: main() reports failures */
    if (st == JIM_CLIENT_CONNECTING && !app->was_lost) {
        app->was_lost = 1;
        out_info(app, "connection lost, reconnecting...");
    } else if (st == JIM_CLIENT_ONLINE && app->was_lost) {
        app->was_lost = 0;
        if (app->insecure)
            events_warn_insecure(app);
        out_info(app, "reconnected");
    }
}

void events_warn_insecure(jimc *app)
{
    (void)app;
    fprintf(stderr, "jimc: WARNING: --insecure: the server's certificate is not checked; "
                    "anyone on the way can read and change this connection\n");
}

void events_on_e2e(void *ud, jim_e2e_event ev, const char *peer, const char *text)
{
    jimc *app = ud;
    switch (ev) {
    case JIM_E2E_KEY_CHANGED:
        if (app->mode != JIMC_WRITE) /* -w says itself that it sends nothing */
            out_error(app, "%s; check it (/fingerprint %s), then /trust %s", text, peer, peer);
        return;
    case JIM_E2E_KEY_ERROR: out_error(app, "%s", text); return;
    default:
        /* Notes for a person at the prompt; scripts and pipes see what matters in what
         * they get (a lock mark, "e2e" in JSON). */
        if (app->tty)
            out_info(app, "%s", text);
        return;
    }
}

const jim_client_callbacks events_callbacks = {on_message, on_presence, on_error, on_state};

static void remember_pending(jimc *app, const char *id)
{
    char **grown = realloc(app->pending_ids, (app->n_pending_ids + 1) * sizeof *grown);
    char *copy = strdup(id);
    if (!grown || !copy) {
        free(copy);
        if (grown)
            app->pending_ids = grown;
        return;
    }
    app->pending_ids = grown;
    app->pending_ids[app->n_pending_ids++] = copy;
}

/* Forgets id; nonzero when it had been announced as pending. */
static int forget_pending(jimc *app, const char *id)
{
    for (size_t i = 0; i < app->n_pending_ids; i++) {
        if (strcmp(app->pending_ids[i], id) == 0) {
            free(app->pending_ids[i]);
            app->pending_ids[i] = app->pending_ids[--app->n_pending_ids];
            return 1;
        }
    }
    return 0;
}

void events_on_outgoing(void *ud, const jim_msg *m, jim_outgoing_state st, const jim_msg *resp)
{
    jimc *app = ud;
    if (app->mode == JIMC_WRITE)
        return; /* -w waits for each line and says itself what became of it */
    const char *to = jim_msg_get_str(m, JIM_FIELD_TO), *id = jim_msg_get_str(m, JIM_FIELD_ID);
    const char *text = jim_msg_get_str(m, JIM_FIELD_MESSAGE);
    to = to ? to : "the general chat";
    id = id ? id : "";
    switch (st) {
    case JIM_OUTGOING_PENDING:
        if (app->posting && jim_client_get_state(app->client) == JIM_CLIENT_ONLINE)
            return; /* on its way: nothing to say unless it is refused */
        remember_pending(app, id);
        if (app->posting)
            out_info(app,
                     "pending: the connection is down; the message to %s is kept and sent "
                     "when it is back",
                     to);
        else
            out_info(app, "pending from before, sending it now: -> %s: %s", to, text ? text : "");
        return;
    case JIM_OUTGOING_STORED:
    case JIM_OUTGOING_DELIVERED:
        if (forget_pending(app, id))
            out_info(app, "sent to %s: %s", to, text ? text : "");
        if (st == JIM_OUTGOING_STORED && strcmp(app->offline_for, to) != 0) {
            /* Said once while the recipient stays offline, not for every line. */
            snprintf(app->offline_for, sizeof app->offline_for, "%s", to);
            out_info(app, "stored for %s (offline)", to);
        } else if (st == JIM_OUTGOING_DELIVERED && strcmp(app->offline_for, to) == 0) {
            app->offline_for[0] = '\0';
        }
        return;
    case JIM_OUTGOING_FAILED: {
        forget_pending(app, id);
        const char *e = resp ? jim_msg_get_str(resp, JIM_FIELD_ERROR) : NULL;
        jim_peer_key pk;
        if (to[0] != '#' && jim_client_peer_key(app->client, &pk, to, 0) == JIM_OK &&
            pk.state == JIM_KEY_CHANGED)
            out_error(app, "message to %s not sent: %s; check it (/fingerprint %s), then /trust %s",
                      to, e ? e : "refused", to, to);
        else
            out_error(app, "message to %s not sent: %s", to, e ? e : "refused");
        app->refused++;
        return;
    }
    }
}

size_t events_pending(jimc *app)
{
    jim_list *l = NULL;
    if (jim_client_outgoing(app->client, &l) != JIM_OK)
        return 0;
    size_t n = jim_list_count(l);
    jim_list_free(l);
    return n;
}

void events_tell_pending(jimc *app)
{
    size_t n = events_pending(app);
    if (n == 0)
        return;
    if (app->store)
        out_error(app, "%zu message%s not sent yet: kept, and sent at the next login", n,
                  n == 1 ? "" : "s");
    else
        out_error(app, "%zu message%s not sent (--store none keeps nothing for later)", n,
                  n == 1 ? "" : "s");
}

int events_ended(jimc *app)
{
    int code = jim_client_last_code(app->client);
    if (code >= 400 && code < 500)
        return JIMC_EXIT_AUTH; /* the refusal was told when it came (on_error) */
    out_error(app, "connection lost: %s", jim_client_last_error(app->client));
    return JIMC_EXIT_CONNECT;
}

void events_free(jimc *app)
{
    for (size_t i = 0; i < app->n_pending_ids; i++)
        free(app->pending_ids[i]);
    free(app->pending_ids);
    app->pending_ids = NULL;
    app->n_pending_ids = 0;
}

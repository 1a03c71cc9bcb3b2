/*
 * commands.c — the irssi-style commands of jimc, shared by the interactive mode and by
 * scripts read from stdin, in one table (commands[]): /msg /join /leave /contacts /add
 * /del /who /rooms /history /e2e /fingerprint /trust /passwd /quit /exit /help. A line that
 * is not a command goes to the current chat (at first the general chat).
 */
#define _POSIX_C_SOURCE 200809L
#include "jimc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void names_add(jimc *app, const char *name)
{
    for (size_t i = 0; i < app->n_names; i++)
        if (strcmp(app->names[i], name) == 0)
            return;
    char **grown = realloc(app->names, (app->n_names + 1) * sizeof *grown);
    char *copy = strdup(name);
    if (!grown || !copy) {
        free(copy);
        if (grown)
            app->names = grown;
        return;
    }
    app->names = grown;
    app->names[app->n_names++] = copy;
}

void names_remove(jimc *app, const char *name)
{
    for (size_t i = 0; i < app->n_names; i++) {
        if (strcmp(app->names[i], name) == 0) {
            free(app->names[i]);
            app->names[i] = app->names[--app->n_names];
            return;
        }
    }
}

/* Reports a failed request: the server's code and error, or (refused before it was sent,
 * e.g. a bad name) only the reason; returns -1. */
static int refused(jimc *app, const char *what)
{
    int code = jim_client_last_code(app->client);
    if (code >= 400)
        out_error(app, "%s: %d %s", what, code, jim_client_last_error(app->client));
    else
        out_error(app, "%s: %s", what, jim_client_last_error(app->client));
    app->refused++;
    return -1;
}

/* Splits off the next space-separated word of *rest into word. */
static int next_word(const char **rest, char *word, size_t size)
{
    const char *p = *rest;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = 0;
    while (p[n] && p[n] != ' ' && p[n] != '\t')
        n++;
    if (n == 0 || n >= size)
        return n == 0 ? 0 : -1;
    memcpy(word, p, n);
    word[n] = '\0';
    p += n;
    while (*p == ' ' || *p == '\t')
        p++;
    *rest = p;
    return 1;
}

/* Queues text for `to`: what becomes of it is told by events_on_outgoing(). */
static int send_text(jimc *app, const char *to, const char *text)
{
    app->posting = 1;
    int rc = jim_client_post(app->client, NULL, 0, to, text);
    app->posting = 0;
    if (rc == JIM_EKEYCHANGED) {
        out_error(app, "message not sent: %s; check it (/fingerprint %s), then /trust %s",
                  jim_client_last_error(app->client), to, to);
        app->refused++;
        return -1;
    }
    if (rc != JIM_OK) {
        out_error(app, "message not sent: %s", jim_client_last_error(app->client));
        app->refused++;
        return -1;
    }
    return 0;
}

/* A list answer: one line per entry, or with --json the entries as JSON lines. */
static void print_list(jimc *app, const jim_list *l, jim_field name, jim_field extra)
{
    if (jim_list_count(l) == 0) {
        out_info(app, "(none)");
        return;
    }
    for (size_t i = 0; i < jim_list_count(l); i++) {
        const jim_msg *m = jim_list_get(l, i);
        const char *n = jim_msg_get_str(m, name);
        if (n && name != JIM_FIELD_USER_ID)
            names_add(app, n);
        if (app->json) {
            out_json(app, m);
            continue;
        }
        char line[256];
        if (extra == JIM_FIELD_MEMBERS) {
            int64_t k = 0;
            jim_msg_get_int(m, extra, &k);
            snprintf(line, sizeof line, "%s (%lld)", n ? n : "?", (long long)k);
        } else {
            const char *e = jim_msg_get_str(m, extra);
            snprintf(line, sizeof line, "%s%s%s", n ? n : "?", e ? " " : "", e ? e : "");
        }
        out_info(app, "%s", line);
    }
}

/* A command's arguments: the first word (has_arg: 1, or 0 when none) and what follows it. */
typedef struct cmd_args {
    const char *line; /* everything after the command's name */
    char arg[64];
    int has_arg;
    const char *rest; /* after the first word */
} cmd_args;

static int cmd_history(jimc *app, const cmd_args *a)
{
    const char *rest = a->line;
    char with[64] = "", num[16] = "";
    if (next_word(&rest, with, sizeof with) < 0 || next_word(&rest, num, sizeof num) < 0)
        return out_error(app, "usage: /history [NAME] [N]"), -1;
    if (with[0] >= '0' && with[0] <= '9') { /* "/history 5": the current chat */
        memcpy(num, with, sizeof num - 1);
        num[sizeof num - 1] = '\0';
        with[0] = '\0';
    }
    if (!with[0])
        snprintf(with, sizeof with, "%s", app->current);
    if (!with[0])
        return out_error(app, "/history: which chat? /history NAME"), -1;
    int n = num[0] ? atoi(num) : 20;
    if (n <= 0 || n > 500)
        return out_error(app, "/history: N must be 1 to 500"), -1;
    jim_list *l = NULL;
    if (jim_client_history(app->client, &l, with, 0, n) != JIM_OK)
        return refused(app, "/history");
    if (jim_list_count(l) == 0)
        out_info(app, "no messages with %s yet", with);
    for (size_t i = jim_list_count(l); i-- > 0;) { /* the server sends newest first */
        const jim_msg *m = jim_list_get(l, i);
        const char *from = jim_msg_get_str(m, JIM_FIELD_FROM);
        out_message(app, m, from && strcmp(from, app->user) == 0);
    }
    jim_list_free(l);
    return 0;
}

static int cmd_msg(jimc *app, const cmd_args *a)
{
    if (!a->has_arg || !*a->rest)
        return out_error(app, "usage: /msg NAME TEXT"), -1;
    if (send_text(app, a->arg, a->rest) != 0)
        return -1; /* not a name a message can go to: not the current chat either */
    snprintf(app->current, sizeof app->current, "%s", a->arg);
    names_add(app, a->arg);
    return 0;
}

static int cmd_join(jimc *app, const cmd_args *a)
{
    if (!a->has_arg)
        return out_error(app, "usage: /join #room"), -1;
    if (a->arg[0] != '#') {
        out_error(app, "/join: a room's name starts with #: /join #%s", a->arg);
        app->refused++;
        return -1;
    }
    if (jim_client_join(app->client, a->arg) != JIM_OK)
        return refused(app, "/join");
    snprintf(app->current, sizeof app->current, "%s", a->arg);
    names_add(app, a->arg);
    out_info(app, "joined %s", a->arg);
    return 0;
}

static int cmd_leave(jimc *app, const cmd_args *a)
{
    const char *room = a->has_arg ? a->arg : app->current;
    if (!room[0])
        return out_error(app, "usage: /leave #room"), -1;
    if (jim_client_leave(app->client, room) != JIM_OK)
        return refused(app, "/leave");
    out_info(app, "left %s", room);
    if (strcmp(room, app->current) == 0)
        app->current[0] = '\0';
    return 0;
}

/* /add and /del. */
static int change_contact(jimc *app, const cmd_args *a, int add)
{
    const char *cmd = add ? "/add" : "/del";
    if (!a->has_arg)
        return out_error(app, "usage: %s NAME", cmd), -1;
    int rc = add ? jim_client_add_contact(app->client, a->arg)
                 : jim_client_del_contact(app->client, a->arg);
    if (rc != JIM_OK)
        return refused(app, cmd);
    if (add)
        names_add(app, a->arg);
    out_info(app, "%s %s", add ? "added" : "removed", a->arg);
    return 0;
}

static int cmd_add(jimc *app, const cmd_args *a)
{
    return change_contact(app, a, 1);
}

static int cmd_del(jimc *app, const cmd_args *a)
{
    return change_contact(app, a, 0);
}

/* Prints a list answer (rc its request's code) for what; -1 when refused. */
static int show_list(jimc *app, const char *what, int rc, jim_list *l, jim_field name,
                     jim_field extra)
{
    if (rc != JIM_OK)
        return refused(app, what);
    print_list(app, l, name, extra);
    jim_list_free(l);
    return 0;
}

static int cmd_contacts(jimc *app, const cmd_args *a)
{
    (void)a;
    jim_list *l = NULL;
    int rc = jim_client_get_contacts(app->client, &l);
    for (size_t i = 0; rc == JIM_OK && i < jim_list_count(l); i++)
        names_add(app, jim_msg_get_str(jim_list_get(l, i), JIM_FIELD_USER_ID));
    return show_list(app, "/contacts", rc, l, JIM_FIELD_USER_ID, JIM_FIELD_STATUS);
}

static int cmd_who(jimc *app, const cmd_args *a)
{
    jim_list *l = NULL;
    int rc = jim_client_get_users(app->client, &l, a->has_arg ? a->arg : "");
    return show_list(app, "/who", rc, l, JIM_FIELD_USER_ID, JIM_FIELD_STATUS);
}

static int cmd_rooms(jimc *app, const cmd_args *a)
{
    (void)a;
    jim_list *l = NULL;
    int rc = jim_client_get_rooms(app->client, &l);
    return show_list(app, "/rooms", rc, l, JIM_FIELD_ROOM, JIM_FIELD_MEMBERS);
}

/* What a peer's key state means, in words. */
static const char *key_words(jim_key_state st)
{
    switch (st) {
    case JIM_KEY_NONE: return "no key published: messages go unencrypted";
    case JIM_KEY_TRUSTED: return "trusted";
    case JIM_KEY_CHANGED: return "CHANGED: nothing is sent until you /trust it";
    case JIM_KEY_UNAVAILABLE: return "this server keeps no keys: messages go unencrypted";
    default: return "not asked yet";
    }
}

/* /e2e [on|off]: end-to-end encryption of the current conversation. */
static int cmd_e2e(jimc *app, const cmd_args *a)
{
    const char *peer = app->current;
    if (!peer[0] || peer[0] == '#')
        return out_error(app, "/e2e: pick a user to talk to first (/msg NAME): only direct "
                              "messages are encrypted"),
               -1;
    if (a->has_arg && strcmp(a->arg, "on") != 0 && strcmp(a->arg, "off") != 0)
        return out_error(app, "usage: /e2e [on|off]"), -1;
    if (a->has_arg)
        jim_client_set_e2e(app->client, peer, strcmp(a->arg, "on") == 0);
    jim_peer_key pk;
    if (jim_client_peer_key(app->client, &pk, peer, 1) != JIM_OK)
        return refused(app, "/e2e");
    out_info(app, "end-to-end encryption with %s: %s (key: %s)", peer, pk.e2e_on ? "on" : "off",
             key_words(pk.state));
    return 0;
}

/* /fingerprint [NAME]: this account's key, or NAME's as pinned and as published. */
static int cmd_fingerprint(jimc *app, const cmd_args *a)
{
    if (!a->has_arg || strcmp(a->arg, app->user) == 0) {
        char fp[JIM_FINGERPRINT_SIZE];
        if (jim_client_fingerprint(app->client, fp, sizeof fp) != JIM_OK)
            return refused(app, "/fingerprint");
        out_info(app, "your key (%s): %s", app->user, fp);
        return 0;
    }
    jim_peer_key pk;
    if (jim_client_peer_key(app->client, &pk, a->arg, 1) != JIM_OK)
        return refused(app, "/fingerprint");
    if (pk.state == JIM_KEY_CHANGED)
        out_info(app, "%s: pinned %s, published now %s (%s)", a->arg, pk.pinned, pk.published,
                 key_words(pk.state));
    else if (pk.pinned[0])
        out_info(app, "%s: %s (%s)", a->arg, pk.pinned, key_words(pk.state));
    else
        out_info(app, "%s: %s", a->arg, key_words(pk.state));
    return 0;
}

/* /trust NAME: accept NAME's new key (after comparing fingerprints). */
static int cmd_trust(jimc *app, const cmd_args *a)
{
    if (!a->has_arg)
        return out_error(app, "usage: /trust NAME"), -1;
    jim_peer_key pk;
    if (jim_client_peer_key(app->client, &pk, a->arg, 1) != JIM_OK)
        return refused(app, "/trust");
    if (pk.state != JIM_KEY_CHANGED) {
        out_info(app, "%s: %s; nothing to trust", a->arg, key_words(pk.state));
        return 0;
    }
    if (jim_client_trust_key(app->client, a->arg) != JIM_OK)
        return refused(app, "/trust");
    out_info(app, "trusted the new key of %s: %s", a->arg, pk.published);
    return 0;
}

static int cmd_quit(jimc *app, const cmd_args *a)
{
    (void)a;
    app->quit = 1;
    return 0;
}

/* The old password, then the new one twice, typed without echo at the terminal. */
static int cmd_passwd(jimc *app, const cmd_args *a)
{
    (void)a;
    char *old = prompt_password("old password: ");
    char *fresh = old && *old ? prompt_password("new password: ") : NULL;
    char *again = fresh && *fresh ? prompt_password("the same again, to confirm: ") : NULL;
    int rc = -1;
    if (!again) {
        out_error(app, "/passwd: no password typed (it is read from the terminal)");
        app->refused++;
    } else if (strcmp(fresh, again) != 0) {
        out_error(app, "/passwd: the two new passwords differ; nothing was changed");
        app->refused++;
    } else if (jim_client_set_password(app->client, old, fresh) != JIM_OK) {
        refused(app, "/passwd");
    } else {
        out_info(app, "password changed");
        rc = 0;
    }
    wipe(old);
    wipe(fresh);
    wipe(again);
    return rc;
}

static int cmd_help(jimc *app, const cmd_args *a);

/* Every command: its name, arguments, help and what runs it — the one list that /help,
 * tab completion and cmd_run read. */
static const struct command {
    const char *name, *args, *help;
    int (*run)(jimc *app, const cmd_args *a);
} commands[] = {
    {"/msg", "NAME TEXT", "send TEXT to NAME or #room, and make it the current chat", cmd_msg},
    {"/join", "#room", "join (or create) a room and make it the current chat", cmd_join},
    {"/leave", "[#room]", "leave a room (the current one by default)", cmd_leave},
    {"/contacts", "", "list contacts and whether they are online", cmd_contacts},
    {"/add", "NAME", "add a contact", cmd_add},
    {"/del", "NAME", "remove a contact", cmd_del},
    {"/who", "[PREFIX]", "list users (whose names start with PREFIX)", cmd_who},
    {"/rooms", "", "list rooms and their sizes", cmd_rooms},
    {"/history", "[NAME] [N]", "show the last N (default 20) messages with NAME or #room",
     cmd_history},
    {"/e2e", "[on|off]", "end-to-end encryption with the current user (default on)", cmd_e2e},
    {"/fingerprint", "[NAME]", "your key's fingerprint, or NAME's", cmd_fingerprint},
    {"/trust", "NAME", "accept NAME's changed key (compare fingerprints first)", cmd_trust},
    {"/passwd", "", "change your password (typed without echo)", cmd_passwd},
    {"/quit", "", "leave", cmd_quit},
    {"/exit", "", "leave (as /quit)", cmd_quit},
    {"/help", "", "this list", cmd_help},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static int cmd_help(jimc *app, const cmd_args *a)
{
    (void)a;
    for (size_t i = 0; i < N_COMMANDS; i++) {
        char usage[48];
        snprintf(usage, sizeof usage, "%s%s%s", commands[i].name, commands[i].args[0] ? " " : "",
                 commands[i].args);
        out_info(app, "%-19s %s", usage, commands[i].help);
    }
    out_info(app, "anything else goes to the current chat: %s",
             app->current[0] ? app->current : "the general chat, where every user is");
    return 0;
}

const char *cmd_name(size_t i)
{
    return i < N_COMMANDS ? commands[i].name : NULL;
}

int cmd_run(jimc *app, const char *line)
{
    while (*line == ' ' || *line == '\t')
        line++;
    if (!*line)
        return 0;
    if (line[0] != '/') /* to the current chat; before one is picked, the general chat */
        return send_text(app, app->current[0] ? app->current : NULL, line);
    cmd_args a;
    char cmd[32];
    const char *after = line;
    if (next_word(&after, cmd, sizeof cmd) <= 0) {
        out_error(app, "unknown command (/help lists them)");
        return -1;
    }
    a.line = after;
    a.rest = after;
    a.has_arg = next_word(&a.rest, a.arg, sizeof a.arg);
    if (a.has_arg < 0) {
        out_error(app, "%s: name too long", cmd);
        return -1;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].run(app, &a);
    out_error(app, "unknown command %s (/help lists them)", cmd);
    app->refused++;
    return -1;
}

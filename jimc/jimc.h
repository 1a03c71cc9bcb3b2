/*
 * jimc.h — what the parts of jimc share: the session state, output, commands.
 * jimc is built only on libjim's public API (jim/jim.h).
 */
#ifndef JIMC_H
#define JIMC_H

#include <jim/jim.h>

#include <signal.h>
#include <stddef.h>

/* Exit codes (sysexits.h values; documented in jimc.1). */
enum {
    JIMC_EXIT_OK = 0,
    JIMC_EXIT_USAGE = 64,   /* bad command line, or the two passwords typed differ */
    JIMC_EXIT_REFUSED = 65, /* a message or command was refused (scripts, -w) */
    JIMC_EXIT_CONNECT = 69, /* cannot connect, or the connection was lost for good */
    JIMC_EXIT_INTERNAL = 70,
    JIMC_EXIT_STORE = 74, /* the local store cannot be opened */
    JIMC_EXIT_AUTH = 77   /* the account was refused: login, registration, no password */
};

/* How jimc runs: commands (a terminal or a script on stdin), -r or -w. */
enum jimc_mode { JIMC_COMMANDS, JIMC_READ, JIMC_WRITE };

typedef struct jimc {
    jim_client *client;
    jim_store *store;
    const char *host;
    int port;
    const char *user;
    enum jimc_mode mode;
    int json;             /* print JSON lines */
    int color;            /* ANSI colour on */
    int interactive;      /* readline is active: print above the prompt */
    int tty;              /* commands come from a terminal (the interactive mode) */
    int insecure;         /* --insecure: every connect says the certificate is not checked */
    int in_command;       /* a typed line is running: readline shows no prompt meanwhile */
    char current[64];     /* the chat plain text goes to */
    int refused;          /* requests the server refused (scripts, -w) */
    int quit;             /* /quit was given */
    int posting;          /* inside jim_client_post(): a pending message is a new one */
    int was_lost;         /* the connection was lost since the last login */
    char offline_for[64]; /* the last recipient a message was stored for (202) */
    /* Ids of messages announced as pending, to say when they are sent. */
    char **pending_ids;
    size_t n_pending_ids;
    /* Names for tab completion: contacts and rooms. */
    char **names;
    size_t n_names;
} jimc;

extern volatile sig_atomic_t jimc_stop; /* set by SIGINT/SIGTERM */

/* output.c: every line jimc prints goes through these. */
void out_line(jimc *app, const char *line);                  /* a line above the prompt */
void out_message(jimc *app, const jim_msg *m, int outgoing); /* one incoming message */
void out_json(jimc *app, const jim_msg *m);                  /* an object as a JSON line */
/* Reads one line without echo from the terminal (/dev/tty); NULL when there is none, or
 * when the user gave up (Ctrl-C, Ctrl-D). Free it with wipe(). (main.c) */
char *prompt_password(const char *prompt);
/* Overwrites a password and frees it; NULL is ignored. */
void wipe(char *password);
void out_error(jimc *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void out_info(jimc *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Nonzero once stdout is gone (a closed pipe): the program should end quietly. */
int out_broken(void);

/* commands.c */
/* Runs one input line: a /command or text for the current chat. 0 ok, -1 refused. */
int cmd_run(jimc *app, const char *line);
/* The command names, NULL-terminated, for completion and /help. */
/* The name of command i ("/msg"), or NULL past the last: for tab completion. */
const char *cmd_name(size_t i);
/* Remembers a name (contact or room) for completion. */
void names_add(jimc *app, const char *name);
void names_remove(jimc *app, const char *name);

/* loop.c: waits for in_fd or the client (at most until the client's next deadline) and
 * lets the client handle its part; 1 when in_fd is ready, 0 when not, -1 on error. */
int loop_once(jimc *app, int in_fd);

/* interactive.c: the readline loop; returns an exit code. */
int run_interactive(jimc *app);

/* events.c: what the client reports (messages, presence, errors, the connection, the
 * messages sent), told to the user. */
extern const jim_client_callbacks events_callbacks;
void events_on_outgoing(void *ud, const jim_msg *m, jim_outgoing_state st, const jim_msg *resp);
/* What the client tells about end-to-end keys (jim/e2e.h). */
void events_on_e2e(void *ud, jim_e2e_event ev, const char *peer, const char *text);
/* The line jimc prints on every connect with --insecure. */
void events_warn_insecure(jimc *app);
/* Messages still pending; at the end, says where they are (kept in the store or lost). */
size_t events_pending(jimc *app);
void events_tell_pending(jimc *app);
/* The exit code and a line for a client that stopped for good. */
int events_ended(jimc *app);
void events_free(jimc *app);

#endif

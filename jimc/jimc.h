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
    JIMC_EXIT_USAGE = 64,   /* bad command line */
    JIMC_EXIT_REFUSED = 65, /* a message or command was refused (scripts, -w) */
    JIMC_EXIT_CONNECT = 69, /* cannot connect, or the connection was lost for good */
    JIMC_EXIT_INTERNAL = 70,
    JIMC_EXIT_STORE = 74, /* the local store cannot be opened */
    JIMC_EXIT_AUTH = 77   /* the server refused the login or registration */
};

typedef struct jimc {
    jim_client *client;
    jim_store *store;
    const char *host;
    int port;
    const char *user;
    int json;          /* print JSON lines */
    int color;         /* ANSI colour on */
    int interactive;   /* readline is active: print above the prompt */
    char current[64];  /* the chat plain text goes to */
    int refused;       /* requests the server refused (scripts, -w) */
    int async_pending; /* asynchronous sends not yet answered */
    int quit;          /* /quit was given */
    /* Names for tab completion: contacts and rooms. */
    char **names;
    size_t n_names;
} jimc;

extern volatile sig_atomic_t jimc_stop; /* set by SIGINT/SIGTERM */

/* output.c: every line jimc prints goes through these. */
void out_line(jimc *app, const char *line);                  /* a line above the prompt */
void out_message(jimc *app, const jim_msg *m, int outgoing); /* one incoming message */
void out_error(jimc *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void out_info(jimc *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Nonzero once stdout is gone (a closed pipe): the program should end quietly. */
int out_broken(void);

/* commands.c */
/* Runs one input line: a /command or text for the current chat. 0 ok, -1 refused. */
int cmd_run(jimc *app, const char *line);
/* The command names, NULL-terminated, for completion and /help. */
extern const char *const cmd_names[];
/* Remembers a name (contact or room) for completion. */
void names_add(jimc *app, const char *name);
void names_remove(jimc *app, const char *name);

/* interactive.c: the readline loop; returns an exit code. */
int run_interactive(jimc *app);

#endif

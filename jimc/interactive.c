/*
 * interactive.c — jimc on a terminal: GNU readline in callback mode in the same poll()
 * loop as the connection, so incoming messages print above the prompt while a line is
 * being typed; history in $XDG_STATE_HOME/jim/history; tab completion of commands,
 * contacts and rooms.
 */
#define _POSIX_C_SOURCE 200809L
#include "jimc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

static jimc *the_app; /* readline's callbacks carry no user data */
static char history_path[512];
static char prompt[96];

static void set_prompt(jimc *app)
{
    if (app->color)
        snprintf(prompt, sizeof prompt, "\001\033[1m\002%s\001\033[0m\002> ",
                 app->current[0] ? app->current : app->user);
    else
        snprintf(prompt, sizeof prompt, "%s> ", app->current[0] ? app->current : app->user);
    rl_set_prompt(prompt);
}

static void on_line(char *line)
{
    jimc *app = the_app;
    if (!line) { /* Ctrl-D */
        app->quit = 1;
        return;
    }
    if (*line) {
        add_history(line);
        /* The typed line stays on the screen as it is; run it. Readline shows no prompt
         * while it runs (it draws one when this returns), so output goes straight out. */
        app->in_command = 1;
        cmd_run(app, line);
        app->in_command = 0;
    }
    free(line);
    set_prompt(app);
}

/* Completion candidates: commands at the start of the line, names elsewhere. */
static char *complete_word(const char *text, int state)
{
    static size_t index;
    static int commands;
    if (state == 0) {
        index = 0;
        commands = rl_point == (int)strlen(text) && text[0] == '/';
    }
    size_t len = strlen(text);
    if (commands) {
        for (const char *c; (c = cmd_name(index)) != NULL;) {
            index++;
            if (strncmp(c, text, len) == 0)
                return strdup(c);
        }
        return NULL;
    }
    while (index < the_app->n_names) {
        const char *n = the_app->names[index++];
        if (strncmp(n, text, len) == 0)
            return strdup(n);
    }
    return NULL;
}

static char **complete(const char *text, int start, int end)
{
    (void)start;
    (void)end;
    rl_attempted_completion_over = 1; /* never fall back to file names */
    return rl_completion_matches(text, complete_word);
}

static void open_history(void)
{
    const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    char dir[480];
    if (state && state[0] == '/')
        snprintf(dir, sizeof dir, "%s/jim", state);
    else if (home && *home)
        snprintf(dir, sizeof dir, "%s/.local/state/jim", home);
    else
        return;
    /* mkdir -p with mode 0700 */
    for (char *p = dir + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0700);
            *p = '/';
        }
    }
    mkdir(dir, 0700);
    snprintf(history_path, sizeof history_path, "%s/history", dir);
    using_history();
    stifle_history(1000);
    read_history(history_path);
}

int run_interactive(jimc *app)
{
    the_app = app;
    app->interactive = 1;
    open_history();
    rl_readline_name = "jimc";
    rl_attempted_completion_function = complete;
    rl_basic_word_break_characters = " \t";
    set_prompt(app);
    rl_callback_handler_install(prompt, on_line);
    int rc = JIMC_EXIT_OK;
    while (!app->quit && !jimc_stop) {
        int ready = loop_once(app, STDIN_FILENO);
        if (ready < 0)
            break;
        if (ready > 0)
            rl_callback_read_char();
        if (jim_client_get_state(app->client) == JIM_CLIENT_DISCONNECTED) {
            rc = events_ended(app);
            break;
        }
    }
    rl_callback_handler_remove();
    if (history_path[0])
        write_history(history_path);
    putchar('\n');
    app->interactive = 0;
    return rc;
}

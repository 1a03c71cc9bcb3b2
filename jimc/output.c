/*
 * output.c — how jimc prints: incoming messages (plain, coloured on a terminal, or JSON
 * lines; a lock mark on those that came end-to-end encrypted, and what could not be
 * decrypted said as such, never shown as text), lists, notices and errors. In interactive
 * mode a line goes above the prompt and the line being typed is redrawn after it — except
 * while a typed command runs, when readline shows no prompt and draws a new one once the
 * command is done.
 */
#define _POSIX_C_SOURCE 200809L
#include "jimc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <readline/readline.h>

static int broken;

int out_broken(void)
{
    return broken;
}

static void put(const char *line)
{
    if (broken)
        return;
    if (fputs(line, stdout) == EOF || fputc('\n', stdout) == EOF || fflush(stdout) == EOF) {
        if (errno == EPIPE)
            broken = 1;
    }
}

/* Whether a line must go above readline's prompt (and the prompt be drawn again). */
static int above_prompt(const jimc *app)
{
    return app->interactive && !app->in_command;
}

void out_line(jimc *app, const char *line)
{
    if (!above_prompt(app)) {
        put(line);
        return;
    }
    /* Above the prompt: clear the input line, print, draw the prompt and input again. */
    rl_clear_visible_line();
    put(line);
    rl_forced_update_display();
}

/* Copies text with control characters shown as spaces, so one message is one line. */
static void flatten(char *dst, size_t size, const char *src)
{
    size_t i = 0;
    for (; src && *src && i + 1 < size; src++)
        dst[i++] = (unsigned char)*src < 0x20 ? ' ' : *src;
    dst[i] = '\0';
}

void out_json(jimc *app, const jim_msg *m)
{
    char line[2048];
    jim_msg *copy = NULL;
    const char *json;
    size_t len;
    if (jim_msg_new(&copy) != JIM_OK)
        return;
    /* Re-encode what arrived (lent as const): one ASCII-safe JSON object per line. */
    if (jim_msg_copy(copy, m) == JIM_OK && jim_msg_encode(copy, &json, &len) == JIM_OK) {
        snprintf(line, sizeof line, "%.*s", (int)(len - 1), json);
        out_line(app, line);
    }
    jim_msg_free(copy);
}

/* The mark of a line that came end-to-end encrypted: a lock where the locale is UTF-8. */
static const char *lock_mark(void)
{
    static const char *mark;
    if (!mark) {
        const char *vars[] = {"LC_ALL", "LC_CTYPE", "LANG"};
        const char *loc = "";
        for (size_t i = 0; i < 3 && !*loc; i++)
            loc = getenv(vars[i]) ? getenv(vars[i]) : "";
        mark = strstr(loc, "UTF-8") || strstr(loc, "utf8") || strstr(loc, "UTF8") ||
                       strstr(loc, "utf-8")
                   ? "\xf0\x9f\x94\x92 "
                   : "[e2e] ";
    }
    return mark;
}

void out_message(jimc *app, const jim_msg *m, int outgoing)
{
    char line[2048];
    if (app->json) {
        out_json(app, m);
        return;
    }
    const char *from = jim_msg_get_str(m, JIM_FIELD_FROM);
    const char *to = jim_msg_get_str(m, JIM_FIELD_TO);
    char text[1600];
    jim_e2e_state e2e = jim_msg_e2e_state(m);
    if (e2e == JIM_E2E_FAILED) { /* the envelope is no text: say what happened instead */
        char why[1200];
        flatten(why, sizeof why, jim_msg_get_str(m, JIM_FIELD_E2E_ERROR));
        snprintf(text, sizeof text, "[encrypted message not decrypted: %s]", why);
    } else {
        char plain[1580];
        flatten(plain, sizeof plain, jim_msg_get_str(m, JIM_FIELD_MESSAGE));
        snprintf(text, sizeof text, "%s%s", e2e == JIM_E2E_DECRYPTED ? lock_mark() : "", plain);
    }
    int64_t t = 0;
    jim_msg_get_int(m, JIM_FIELD_TIME, &t);
    time_t tt = (time_t)t;
    struct tm tm;
    char when[8] = "--:--";
    if (t > 0 && localtime_r(&tt, &tm))
        strftime(when, sizeof when, "%H:%M", &tm);
    const char *bold = app->color ? "\033[1m" : "", *dim = app->color ? "\033[2m" : "",
               *cyan = app->color ? "\033[36m" : "", *reset = app->color ? "\033[0m" : "";
    int room = to && to[0] == '#';
    if (room)
        snprintf(line, sizeof line, "%s%s%s %s%s%s %s%s%s: %s", dim, when, reset, cyan, to, reset,
                 bold, from ? from : "?", reset, text);
    else if (outgoing)
        snprintf(line, sizeof line, "%s%s%s -> %s%s%s: %s", dim, when, reset, bold, to ? to : "?",
                 reset, text);
    else
        snprintf(line, sizeof line, "%s%s%s %s%s%s: %s", dim, when, reset, bold, from ? from : "?",
                 reset, text);
    out_line(app, line);
}

__attribute__((format(printf, 4, 0))) static void vout(jimc *app, FILE *stream, const char *prefix,
                                                       const char *fmt, va_list ap)
{
    char msg[1024], line[1100];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (stream == stderr) {
        if (above_prompt(app))
            rl_clear_visible_line();
        fprintf(stderr, "jimc: %s\n", msg);
        if (above_prompt(app))
            rl_forced_update_display();
        return;
    }
    snprintf(line, sizeof line, "%s%s", prefix, msg);
    out_line(app, line);
}

void out_error(jimc *app, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vout(app, stderr, "", fmt, ap);
    va_end(ap);
}

void out_info(jimc *app, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    /* Messages (-r) and JSON lines on stdout stay pure: notices go to stderr then. */
    vout(app, app->json || app->mode != JIMC_COMMANDS ? stderr : stdout,
         app->color ? "\033[2m-- \033[0m" : "-- ", fmt, ap);
    va_end(ap);
}

/*
 * print.c — jimctl's output: JSON lines with --json, else an aligned table on a terminal
 * and tab-separated lines (no header) for scripts.
 */
#define _POSIX_C_SOURCE 200809L
#include "jimctl.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

void print_json(jim_msg *m)
{
    const char *json;
    size_t len;
    if (jim_msg_encode(m, &json, &len) == JIM_OK)
        fwrite(json, 1, len, stdout);
}

static int64_t get_int(jim_msg *m, jim_field f)
{
    int64_t v = 0;
    jim_msg_get_int(m, f, &v);
    return v;
}

static const char *get_str(jim_msg *m, jim_field f)
{
    const char *s = jim_msg_get_str(m, f);
    return s && *s ? s : "-";
}

static int get_bool(jim_msg *m, jim_field f)
{
    int v = 0;
    jim_msg_get_bool(m, f, &v);
    return v;
}

/* A UNIX time as local "YYYY-MM-DD HH:MM", "-" for none. */
static const char *when(int64_t t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (t <= 0 || !localtime_r(&tt, &tm) || !strftime(buf, size, "%Y-%m-%d %H:%M", &tm))
        return "-";
    return buf;
}

#define USER_ROW "%-25s %-5s %-6s %-6s %7s %8s %-16s %-16s %s\n"
#define USER_TSV "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n"

void print_user_header(const ctl_out *o)
{
    if (!o->json && o->tty)
        printf(USER_ROW, "NAME", "ROLE", "BANNED", "ONLINE", "LOGINS", "SENT", "LAST LOGIN",
               "CREATED", "LAST IP");
}

void print_user(const ctl_out *o, jim_msg *m)
{
    if (o->json) {
        print_json(m);
        return;
    }
    char logins[24], sent[24], last[32], created[32];
    snprintf(logins, sizeof logins, "%" PRId64, get_int(m, JIM_FIELD_LOGINS));
    snprintf(sent, sizeof sent, "%" PRId64, get_int(m, JIM_FIELD_MESSAGES_SENT));
    printf(o->tty ? USER_ROW : USER_TSV, get_str(m, JIM_FIELD_USER_ID), get_str(m, JIM_FIELD_ROLE),
           get_bool(m, JIM_FIELD_BANNED) ? "yes" : "no",
           get_bool(m, JIM_FIELD_ONLINE) ? "yes" : "no", logins, sent,
           when(get_int(m, JIM_FIELD_LAST_LOGIN), last, sizeof last),
           when(get_int(m, JIM_FIELD_CREATED), created, sizeof created),
           get_str(m, JIM_FIELD_LAST_IP));
}

void print_stats(const ctl_out *o, jim_msg *m)
{
    static const jim_field fields[] = {
        JIM_FIELD_UPTIME,
        JIM_FIELD_WORKERS,
        JIM_FIELD_CONNECTIONS,
        JIM_FIELD_SESSIONS,
        JIM_FIELD_MESSAGES_IN_PER_SEC,
        JIM_FIELD_MESSAGES_OUT_PER_SEC,
        JIM_FIELD_DELIVERIES,
        JIM_FIELD_OFFLINE_STORES,
        JIM_FIELD_LOGINS,
        JIM_FIELD_LOGIN_FAILURES,
        JIM_FIELD_ERRORS,
        JIM_FIELD_DB_BYTES,
        JIM_FIELD_WAL_BYTES,
    };
    if (o->json) {
        print_json(m);
        return;
    }
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        printf(o->tty ? "%-22s %" PRId64 "\n" : "%s\t%" PRId64 "\n", jim_field_name(fields[i]),
               get_int(m, fields[i]));
}

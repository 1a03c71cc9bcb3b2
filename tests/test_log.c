/* test_log.c — log line format, levels, daily rotation with an injected clock, reopen, traces. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <jim/jim.h>

/* Tests run with TZ=UTC (tests/local.mk), so these instants have fixed local dates. */
#define T_2023_11_14_221320_123 1700000000123456LL /* 2023-11-14 22:13:20.123 */
#define T_2023_11_14_235959 1700006399000000LL     /* 2023-11-14 23:59:59 */
#define T_2023_11_15_000001 1700006401000000LL     /* 2023-11-15 00:00:01 */
#define T_2023_11_16_000001 1700092801000000LL     /* 2023-11-16 00:00:01 */

struct fixture {
    char dir[64];
    char path[128];
    int64_t now;
};

static int64_t fake_clock(void *userdata)
{
    return ((struct fixture *)userdata)->now;
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    strcpy(fx->dir, "/tmp/jim-test-log-XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
    snprintf(fx->path, sizeof fx->path, "%s/jimd.log", fx->dir);
    fx->now = T_2023_11_14_221320_123;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
    if (system(cmd) != 0)
        return -1;
    free(fx);
    return 0;
}

/* Reads a whole file into a static buffer ("" if missing). */
static const char *slurp(const char *path)
{
    static char buf[65536];
    FILE *fp = fopen(path, "r");
    size_t n = 0;
    if (fp) {
        n = fread(buf, 1, sizeof buf - 1, fp);
        fclose(fp);
    }
    buf[n] = '\0';
    return buf;
}

static jim_log *open_log(struct fixture *fx, jim_log_level level, unsigned flags)
{
    jim_log *log = NULL;
    assert_int_equal(jim_log_open(&log, "jimd", fx->path, level, flags), JIM_OK);
    jim_log_set_clock(log, fake_clock, fx);
    return log;
}

static void write__line_format__date_level_module_function_message(void **state)
{
    struct fixture *fx = *state;
    jim_log *log = open_log(fx, JIM_LOG_INFO, 0);
    jim_log_write(log, JIM_LOG_INFO, "server", "main", "listening on port %d", 7777);
    jim_log_write(log, JIM_LOG_WARNING, NULL, "accept_cb", "accept() failed: %s", "EMFILE");
    JIM_LOG(log, JIM_LOG_ERROR, "session", "bad %s", "client");
    assert_string_equal(slurp(fx->path),
                        "2023-11-14 22:13:20.123 INFO server main listening on port 7777\n"
                        "2023-11-14 22:13:20.123 WARNING jimd accept_cb accept() failed: EMFILE\n"
                        "2023-11-14 22:13:20.123 ERROR session write__line_format__date_level_"
                        "module_function_message bad client\n");
    jim_log_close(log);
}

static void write__below_level__nothing_written(void **state)
{
    struct fixture *fx = *state;
    jim_log *log = open_log(fx, JIM_LOG_WARNING, 0);
    assert_false(jim_log_enabled(log, JIM_LOG_INFO));
    assert_true(jim_log_enabled(log, JIM_LOG_ERROR));
    jim_log_write(log, JIM_LOG_DEBUG, "m", "f", "hidden");
    jim_log_write(log, JIM_LOG_INFO, "m", "f", "hidden");
    assert_string_equal(slurp(fx->path), "");
    jim_log_set_level(log, JIM_LOG_DEBUG);
    assert_int_equal(jim_log_get_level(log), JIM_LOG_DEBUG);
    jim_log_write(log, JIM_LOG_DEBUG, "m", "f", "shown");
    assert_non_null(strstr(slurp(fx->path), "DEBUG m f shown\n"));
    jim_log_set_level(log, JIM_LOG_OFF);
    jim_log_write(log, JIM_LOG_CRITICAL, "m", "f", "off");
    assert_null(strstr(slurp(fx->path), "off"));
    assert_false(jim_log_enabled(NULL, JIM_LOG_CRITICAL));
    jim_log_write(NULL, JIM_LOG_CRITICAL, "m", "f", "to nowhere"); /* must not crash */
    jim_log_close(log);
}

static void write__newlines_and_long_lines__one_line_each(void **state)
{
    struct fixture *fx = *state;
    jim_log *log = open_log(fx, JIM_LOG_INFO, 0);
    jim_log_write(log, JIM_LOG_INFO, "m", "f", "two\nlines\r");
    char *big = malloc(10000);
    assert_non_null(big);
    memset(big, 'z', 9999);
    big[9999] = '\0';
    jim_log_write(log, JIM_LOG_INFO, "m", "f", "%s", big);
    free(big);
    const char *text = slurp(fx->path);
    const char *second = strchr(text, '\n') + 1;
    assert_memory_equal(strstr(text, "two"), "two lines \n", 11);
    assert_true(strlen(second) <= 4096);
    assert_int_equal(second[strlen(second) - 1], '\n');
    assert_ptr_equal(strchr(second, '\n'), second + strlen(second) - 1);
    jim_log_close(log);
}

static void daily__midnight_passed__old_file_gets_date(void **state)
{
    struct fixture *fx = *state;
    char dated[160];
    fx->now = T_2023_11_14_235959;
    jim_log *log = open_log(fx, JIM_LOG_INFO, JIM_LOG_DAILY);
    jim_log_write(log, JIM_LOG_INFO, "m", "f", "before midnight");
    fx->now = T_2023_11_15_000001;
    jim_log_write(log, JIM_LOG_INFO, "m", "f", "after midnight");
    snprintf(dated, sizeof dated, "%s.2023-11-14", fx->path);
    assert_string_equal(slurp(dated), "2023-11-14 23:59:59.000 INFO m f before midnight\n");
    assert_string_equal(slurp(fx->path), "2023-11-15 00:00:01.000 INFO m f after midnight\n");
    /* The next day rotates again, to the next date. */
    fx->now = T_2023_11_16_000001;
    jim_log_write(log, JIM_LOG_INFO, "m", "f", "day three");
    snprintf(dated, sizeof dated, "%s.2023-11-15", fx->path);
    assert_string_equal(slurp(dated), "2023-11-15 00:00:01.000 INFO m f after midnight\n");
    assert_non_null(strstr(slurp(fx->path), "day three"));
    jim_log_close(log);
}

static void daily__two_loggers_share_file__nothing_lost(void **state)
{
    struct fixture *fx = *state;
    char dated[160];
    fx->now = T_2023_11_14_235959;
    jim_log *a = open_log(fx, JIM_LOG_INFO, JIM_LOG_DAILY);
    jim_log *b = open_log(fx, JIM_LOG_INFO, JIM_LOG_DAILY);
    jim_log_write(a, JIM_LOG_INFO, "a", "f", "a1");
    jim_log_write(b, JIM_LOG_INFO, "b", "f", "b1");
    fx->now = T_2023_11_15_000001;
    jim_log_write(a, JIM_LOG_INFO, "a", "f", "a2"); /* a rotates */
    jim_log_write(b, JIM_LOG_INFO, "b", "f", "b2"); /* b sees it was done */
    snprintf(dated, sizeof dated, "%s.2023-11-14", fx->path);
    const char *old = slurp(dated);
    assert_non_null(strstr(old, "a1"));
    assert_non_null(strstr(old, "b1"));
    const char *cur = slurp(fx->path);
    assert_non_null(strstr(cur, "a2"));
    assert_non_null(strstr(cur, "b2"));
    jim_log_close(a);
    jim_log_close(b);
}

static void daily__off__no_rotation(void **state)
{
    struct fixture *fx = *state;
    char dated[160];
    fx->now = T_2023_11_14_235959;
    jim_log *log = open_log(fx, JIM_LOG_INFO, 0);
    jim_log_write(log, JIM_LOG_INFO, "m", "f", "one");
    fx->now = T_2023_11_15_000001;
    jim_log_write(log, JIM_LOG_INFO, "m", "f", "two");
    snprintf(dated, sizeof dated, "%s.2023-11-14", fx->path);
    assert_int_equal(access(dated, F_OK), -1);
    assert_non_null(strstr(slurp(fx->path), "one"));
    jim_log_close(log);
}

static void reopen__after_move__writes_new_file(void **state)
{
    struct fixture *fx = *state;
    char moved[160];
    jim_log *log = open_log(fx, JIM_LOG_INFO, 0);
    jim_log_write(log, JIM_LOG_INFO, "m", "f", "first");
    snprintf(moved, sizeof moved, "%s.1", fx->path);
    assert_int_equal(rename(fx->path, moved), 0);
    jim_log_write(log, JIM_LOG_INFO, "m", "f", "second"); /* still the moved file */
    assert_int_equal(jim_log_reopen(log), JIM_OK);
    jim_log_write(log, JIM_LOG_INFO, "m", "f", "third");
    assert_non_null(strstr(slurp(moved), "second"));
    assert_string_equal(slurp(fx->path), "2023-11-14 22:13:20.123 INFO m f third\n");
    /* The signal-safe request reopens before the next line. */
    assert_int_equal(rename(fx->path, moved), 0);
    jim_log_request_reopen(log);
    jim_log_write(log, JIM_LOG_INFO, "m", "f", "fourth");
    assert_string_equal(slurp(fx->path), "2023-11-14 22:13:20.123 INFO m f fourth\n");
    assert_int_equal(jim_log_reopen(NULL), JIM_EINVAL);
    jim_log_close(log);
}

static void open__bad_path_or_args__error(void **state)
{
    (void)state;
    jim_log *log = (jim_log *)1;
    assert_int_equal(jim_log_open(&log, "x", "/nonexistent-dir/x.log", JIM_LOG_INFO, 0), JIM_EIO);
    assert_null(log);
    assert_int_equal(jim_log_open(NULL, "x", NULL, JIM_LOG_INFO, 0), JIM_EINVAL);
    assert_int_equal(jim_log_open(&log, NULL, NULL, JIM_LOG_INFO, 0), JIM_EINVAL);
    assert_int_equal(jim_log_open(&log, "x", NULL, (jim_log_level)9, 0), JIM_EINVAL);
    assert_int_equal(jim_log_open(&log, "stderr", NULL, JIM_LOG_INFO, JIM_LOG_DAILY), JIM_OK);
    jim_log_close(log);
    jim_log_close(NULL);
}

/* JIM_LOG_JOURNAL: standard error, no date, the sd-daemon priority prefix; never a file. */
static void journal__stderr__priority_prefix_and_no_date(void **state)
{
    struct fixture *fx = *state;
    jim_log *log = NULL;
    assert_int_equal(jim_log_open(&log, "x", fx->path, JIM_LOG_INFO, JIM_LOG_JOURNAL), JIM_EINVAL);
    fflush(stderr);
    int saved = dup(2);
    FILE *f = freopen(fx->path, "w", stderr);
    assert_non_null(f);
    assert_int_equal(jim_log_open(&log, "jimd", NULL, JIM_LOG_DEBUG, JIM_LOG_JOURNAL), JIM_OK);
    jim_log_set_clock(log, fake_clock, fx);
    JIM_LOG(log, JIM_LOG_WARNING, "master", "disk %d%% full", 90);
    JIM_LOG(log, JIM_LOG_DEBUG, NULL, "detail");
    jim_log_close(log);
    fflush(stderr);
    assert_int_equal(dup2(saved, 2), 2);
    close(saved);
    const char *text = slurp(fx->path);
    assert_non_null(strstr(text, "<4>WARNING master "));
    assert_non_null(strstr(text, " disk 90% full\n<7>DEBUG jimd "));
    assert_null(strstr(text, "2023-"));
}

static void level_names__round_trip(void **state)
{
    (void)state;
    static const char *const names[] = {"TRACE", "DEBUG",    "INFO", "WARNING",
                                        "ERROR", "CRITICAL", "OFF"};
    jim_log_level l;
    for (int i = 0; i <= JIM_LOG_OFF; i++) {
        assert_string_equal(jim_log_level_name((jim_log_level)i), names[i]);
        assert_int_equal(jim_log_level_from_name(names[i], &l), JIM_OK);
        assert_int_equal(l, i);
    }
    assert_int_equal(jim_log_level_from_name("debug", &l), JIM_OK);
    assert_int_equal(l, JIM_LOG_DEBUG);
    assert_int_equal(jim_log_level_from_name("warn", &l), JIM_OK);
    assert_int_equal(l, JIM_LOG_WARNING);
    assert_int_equal(jim_log_level_from_name("loud", &l), JIM_ENOTFOUND);
    assert_int_equal(jim_log_level_from_name(NULL, &l), JIM_EINVAL);
    assert_null(jim_log_level_name((jim_log_level)7));
}

static void inner_step(jim_log *log, int len)
{
    const char *t = jim_trace_enter(log, "framer", __func__, "len=%d", len);
    jim_trace_leave(t);
}

static void session_read(jim_log *log)
{
    const char *t = jim_trace_enter(log, "session", __func__, "fd=%d", 7);
    inner_step(log, 12);
    jim_trace_leave(t);
}

static void trace__nested_calls__name_args_and_caller(void **state)
{
    struct fixture *fx = *state;
    jim_log *log = open_log(fx, JIM_LOG_TRACE, 0);
    session_read(log);
    inner_step(log, 3); /* after session_read returned: no caller */
    assert_string_equal(slurp(fx->path),
                        "2023-11-14 22:13:20.123 TRACE session session_read session_read(fd=7)\n"
                        "2023-11-14 22:13:20.123 TRACE framer inner_step inner_step(len=12) "
                        "called from session_read\n"
                        "2023-11-14 22:13:20.123 TRACE framer inner_step inner_step(len=3)\n");
    jim_log_close(log);
}

static void trace__level_off__nothing_and_null_token(void **state)
{
    struct fixture *fx = *state;
    jim_log *log = open_log(fx, JIM_LOG_DEBUG, 0);
    assert_null(jim_trace_enter(log, "m", "f", "x=%d", 1));
    assert_null(jim_trace_enter(NULL, "m", "f", NULL));
    jim_trace_leave(NULL);
    session_read(log);
    assert_string_equal(slurp(fx->path), "");
    jim_log_close(log);
}

static void trace__library_function__reports_embedding_caller(void **state)
{
    struct fixture *fx = *state;
    jim_log *log = open_log(fx, JIM_LOG_TRACE, 0);
    jim_framer *f = NULL;
    assert_int_equal(jim_framer_new(&f, NULL), JIM_OK);
    jim_log_set_default(log);
    assert_ptr_equal(jim_log_get_default(), log);
    const char *t = jim_trace_enter(log, "session", "session_read", NULL);
    assert_int_equal(jim_framer_feed(f, "{\"action\":\"x\"}", 14), JIM_OK);
    jim_trace_leave(t);
    jim_log_set_default(NULL);
    assert_int_equal(jim_framer_feed(f, "{}", 2), JIM_OK); /* no default logger: silent */
    assert_non_null(strstr(slurp(fx->path),
                           "TRACE framer jim_framer_feed jim_framer_feed(len=14) called from "
                           "session_read\n"));
    assert_null(strstr(slurp(fx->path), "len=2"));
    jim_framer_free(f);
    jim_log_close(log);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(write__line_format__date_level_module_function_message),
        T(write__below_level__nothing_written),
        T(write__newlines_and_long_lines__one_line_each),
        T(daily__midnight_passed__old_file_gets_date),
        T(daily__two_loggers_share_file__nothing_lost),
        T(daily__off__no_rotation),
        T(reopen__after_move__writes_new_file),
        T(open__bad_path_or_args__error),
        T(journal__stderr__priority_prefix_and_no_date),
        T(level_names__round_trip),
        T(trace__nested_calls__name_args_and_caller),
        T(trace__level_off__nothing_and_null_token),
        T(trace__library_function__reports_embedding_caller),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

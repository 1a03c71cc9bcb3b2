/* test_framer.c — the stream framer: chunking, resynchronisation and limits. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <jim/jim.h>

static int setup(void **state)
{
    jim_framer *f = NULL;
    if (jim_framer_new(&f, NULL) != JIM_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    jim_framer_free(*state);
    return 0;
}

/* Feeds a C string. */
static void feed(jim_framer *f, const char *s)
{
    assert_int_equal(jim_framer_feed(f, s, strlen(s)), JIM_OK);
}

/* Expects the next object to be exactly want. */
static void expect_obj(jim_framer *f, const char *want)
{
    const char *obj = NULL;
    size_t len = 0;
    int rc = jim_framer_next(f, &obj, &len);
    if (rc != JIM_OK)
        fail_msg("wanted %s, got %d (%s)", want, rc, jim_framer_errmsg(f));
    assert_int_equal(len, strlen(want));
    assert_memory_equal(obj, want, len);
}

static void expect_rc(jim_framer *f, int want)
{
    const char *obj;
    size_t len;
    int rc = jim_framer_next(f, &obj, &len);
    if (rc != want)
        fail_msg("wanted %d, got %d (%s)", want, rc, jim_framer_errmsg(f));
}

static const char *const objs[] = {
    "{\"action\":\"msg\",\"to\":\"bob\",\"message\":\"a}b{c\\\"}\\\\\"}",
    "{\"action\":\"presence\",\"user\":{\"account_name\":\"x\",\"features\":[\"ndjson\"]}}",
    "{\"response\":200,\"alert\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}",
    "{}",
};
#define NOBJS (sizeof objs / sizeof objs[0])

static void next__empty__eagain(void **state)
{
    jim_framer *f = *state;
    expect_rc(f, JIM_EAGAIN);
    assert_int_equal(jim_framer_buffered(f), 0);
    assert_true(jim_framer_can_continue(f));
}

static void feed__one_byte_chunks__every_object_whole(void **state)
{
    jim_framer *f = *state;
    char stream[1024] = "";
    for (size_t i = 0; i < NOBJS; i++) {
        strcat(stream, objs[i]);
        strcat(stream, i % 2 ? "\n" : "");
    }
    size_t got = 0;
    for (const char *p = stream; *p; p++) {
        assert_int_equal(jim_framer_feed(f, p, 1), JIM_OK);
        const char *obj;
        size_t len;
        int rc;
        while ((rc = jim_framer_next(f, &obj, &len)) == JIM_OK) {
            assert_true(got < NOBJS);
            assert_int_equal(len, strlen(objs[got]));
            assert_memory_equal(obj, objs[got], len);
            got++;
        }
        assert_int_equal(rc, JIM_EAGAIN);
    }
    assert_int_equal(got, NOBJS);
}

static void feed__split_at_every_byte__same_objects(void **state)
{
    (void)state;
    char stream[1024] = "";
    for (size_t i = 0; i < NOBJS; i++)
        strcat(stream, objs[i]);
    size_t n = strlen(stream);
    for (size_t cut = 0; cut <= n; cut++) {
        jim_framer *f = NULL;
        assert_int_equal(jim_framer_new(&f, NULL), JIM_OK);
        assert_int_equal(jim_framer_feed(f, stream, cut), JIM_OK);
        size_t got = 0;
        const char *obj;
        size_t len;
        while (jim_framer_next(f, &obj, &len) == JIM_OK)
            assert_memory_equal(obj, objs[got++], len);
        assert_int_equal(jim_framer_feed(f, stream + cut, n - cut), JIM_OK);
        while (jim_framer_next(f, &obj, &len) == JIM_OK)
            assert_memory_equal(obj, objs[got++], len);
        assert_int_equal(got, NOBJS);
        jim_framer_free(f);
    }
}

/* Feeds f count copies of one, in one chunk. */
static void feed_repeated(jim_framer *f, const char *one, size_t count)
{
    size_t n1 = strlen(one);
    char *chunk = malloc(n1 * count);
    assert_non_null(chunk);
    for (size_t i = 0; i < count; i++)
        memcpy(chunk + i * n1, one, n1);
    assert_int_equal(jim_framer_feed(f, chunk, n1 * count), JIM_OK);
    free(chunk);
}

static void feed__ten_thousand_objects_in_one_chunk__all_out(void **state)
{
    jim_framer *f = *state;
    size_t count = 10000;
    feed_repeated(f, "{\"action\":\"msg\",\"to\":\"bob\",\"message\":\"hello there\"}", count);
    jim_msg *m = NULL;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    size_t got = 0;
    int rc;
    while ((rc = jim_framer_next_msg(f, m)) == JIM_OK) {
        assert_int_equal(jim_msg_action(m), JIM_ACTION_MSG);
        got++;
    }
    assert_int_equal(rc, JIM_EAGAIN);
    assert_int_equal(got, count);
    assert_int_equal(jim_framer_buffered(f), 0);
    jim_msg_free(m);
}

static void feed__whitespace_between__skipped(void **state)
{
    jim_framer *f = *state;
    feed(f, " \r\n\t{\"a\":1}\r\n\r\n  {\"b\":[2]}\n\n");
    expect_obj(f, "{\"a\":1}");
    assert_int_equal(jim_framer_buffered(f), 11); /* the delimiter went with the object */
    expect_obj(f, "{\"b\":[2]}");
    expect_rc(f, JIM_EAGAIN);
    assert_int_equal(jim_framer_buffered(f), 0);
}

static void feed__brace_inside_string__not_a_boundary(void **state)
{
    jim_framer *f = *state;
    feed(f, "{\"m\":\"}}}{{{\\\"\\\\\"}{\"n\":\"\\\\\"}");
    expect_obj(f, "{\"m\":\"}}}{{{\\\"\\\\\"}");
    expect_obj(f, "{\"n\":\"\\\\\"}");
}

static void oversize__etoobig_then_closed(void **state)
{
    (void)state;
    jim_limits *lim = NULL;
    jim_framer *f = NULL;
    char big[600];
    assert_int_equal(jim_limits_new(&lim), JIM_OK);
    assert_int_equal(jim_limits_set(lim, JIM_LIMIT_OBJECT_BYTES, 256), JIM_OK);
    assert_int_equal(jim_framer_new(&f, lim), JIM_OK);
    jim_limits_free(lim); /* the framer keeps a copy */
    /* An object exactly at the limit passes. */
    memset(big, 'x', sizeof big);
    memcpy(big, "{\"a\":\"", 6);
    memcpy(big + 254, "\"}", 2);
    assert_int_equal(jim_framer_feed(f, big, 256), JIM_OK);
    const char *obj;
    size_t len;
    assert_int_equal(jim_framer_next(f, &obj, &len), JIM_OK);
    assert_int_equal(len, 256);
    /* One that never closes is refused once past the limit, before it ends. */
    assert_int_equal(jim_framer_feed(f, big, 200), JIM_OK);
    expect_rc(f, JIM_EAGAIN);
    assert_int_equal(jim_framer_feed(f, big + 6, 100), JIM_OK);
    expect_rc(f, JIM_ETOOBIG);
    assert_non_null(strstr(jim_framer_errmsg(f), "256"));
    assert_false(jim_framer_can_continue(f));
    expect_rc(f, JIM_ECLOSED);
    assert_int_equal(jim_framer_feed(f, "{}", 2), JIM_ECLOSED);
    jim_framer_free(f);
}

static void bad_utf8__eutf8_then_stream_goes_on(void **state)
{
    jim_framer *f = *state;
    static const char *const bad[] = {
        "\xff", "\xc3(", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char s[128];
        snprintf(s, sizeof s, "{\"m\":\"%s\"}{\"ok\":%zu}", bad[i], i);
        feed(f, s);
        expect_rc(f, JIM_EUTF8);
        assert_true(jim_framer_can_continue(f));
        snprintf(s, sizeof s, "{\"ok\":%zu}", i);
        expect_obj(f, s);
    }
    /* A sequence split across two feeds is fine. */
    feed(f, "{\"m\":\"\xf0\x9f");
    expect_rc(f, JIM_EAGAIN);
    feed(f, "\x98\x80\"}");
    expect_obj(f, "{\"m\":\"\xf0\x9f\x98\x80\"}");
}

static void deep_nesting__edepth_then_stream_goes_on(void **state)
{
    jim_framer *f = *state;
    char s[20000] = "";
    /* A nesting bomb: 5000 levels, skipped whole. */
    for (int i = 0; i < 5000; i++)
        strcat(s, "[");
    for (int i = 0; i < 5000; i++)
        strcat(s, "]");
    feed(f, "{\"x\":");
    feed(f, s);
    feed(f, "}\n{\"ok\":1}\n");
    expect_rc(f, JIM_EDEPTH);
    expect_obj(f, "{\"ok\":1}");
    /* 32 levels pass, 33 do not. */
    strcpy(s, "{");
    for (int i = 0; i < 31; i++)
        strcat(s, "{\"a\":");
    strcat(s, "1");
    for (int i = 0; i < 32; i++)
        strcat(s, "}");
    feed(f, s);
    expect_obj(f, s);
    strcpy(s, "{");
    for (int i = 0; i < 32; i++)
        strcat(s, "{\"a\":");
    strcat(s, "1");
    for (int i = 0; i < 33; i++)
        strcat(s, "}");
    feed(f, s);
    expect_rc(f, JIM_EDEPTH);
}

static void garbage__esyntax_once_then_next_object(void **state)
{
    jim_framer *f = *state;
    feed(f, "hello there\n{\"a\":1}");
    expect_rc(f, JIM_ESYNTAX);
    assert_non_null(strstr(jim_framer_errmsg(f), "not a JSON object"));
    expect_obj(f, "{\"a\":1}");
    /* Garbage without newlines: skipped up to the next '{'. */
    feed(f, "xyz{\"b\":2}");
    expect_rc(f, JIM_ESYNTAX);
    expect_obj(f, "{\"b\":2}");
    /* A top-level array is one bad object, not the objects inside it. */
    feed(f, "[{\"action\":\"quit\"}]{\"c\":3}");
    expect_rc(f, JIM_ESYNTAX);
    expect_obj(f, "{\"c\":3}");
    expect_rc(f, JIM_EAGAIN);
}

static void unterminated_string__ends_at_newline(void **state)
{
    jim_framer *f = *state;
    feed(f, "{\"message\":\"no closing quote\n{\"action\":\"quit\"}\n");
    expect_rc(f, JIM_ESYNTAX);
    assert_non_null(strstr(jim_framer_errmsg(f), "unterminated string"));
    expect_obj(f, "{\"action\":\"quit\"}");
    /* Newlines between tokens (pretty-printed JSON) are fine. */
    feed(f, "{\n  \"a\": 1,\n  \"b\": \"x\"\n}\n");
    expect_obj(f, "{\n  \"a\": 1,\n  \"b\": \"x\"\n}");
}

static void bad_objects_in_a_row__closed_at_limit(void **state)
{
    jim_framer *f = *state;
    jim_msg *m = NULL;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    /* Bad objects separated by a good one never add up. */
    for (int i = 0; i < 40; i++) {
        feed(f, "{\"action\":\"fly\"}{\"action\":\"quit\"}");
        assert_int_equal(jim_framer_next_msg(f, m), JIM_EACTION);
        assert_string_equal(jim_msg_errmsg(m), "unknown action");
        assert_int_equal(jim_framer_next_msg(f, m), JIM_OK);
    }
    /* Sixteen in a row end the stream; the sixteenth is still reported. */
    for (int i = 1; i <= 16; i++) {
        feed(f, i % 2 ? "{\"action\":5}" : "{\"m\":\"\xff\"}");
        int rc = jim_framer_next_msg(f, m);
        assert_int_equal(rc, i % 2 ? JIM_EFIELD : JIM_EUTF8);
        assert_int_equal(jim_framer_can_continue(f), i < 16);
    }
    assert_int_equal(jim_framer_next_msg(f, m), JIM_ECLOSED);
    jim_msg_free(m);
}

static void next_msg__decodes_and_reports_reason(void **state)
{
    jim_framer *f = *state;
    jim_msg *m = NULL;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    feed(f, "{\"action\":\"msg\",\"to\":\"bob\",\"message\":\"hi\"}\n{\"action\":\"msg\"}\n");
    assert_int_equal(jim_framer_next_msg(f, m), JIM_OK);
    assert_string_equal(jim_msg_get_str(m, JIM_FIELD_TO), "bob");
    assert_int_equal(jim_framer_next_msg(f, m), JIM_EFIELD);
    assert_string_equal(jim_framer_errmsg(f), "missing field 'message'");
    assert_int_equal(jim_framer_next_msg(f, m), JIM_EAGAIN);
    assert_int_equal(jim_framer_next_msg(NULL, m), JIM_EINVAL);
    assert_int_equal(jim_framer_next_msg(f, NULL), JIM_EINVAL);
    jim_msg_free(m);
}

/* What next_msg makes of one object, and where the framer stands after it. */
struct outcome {
    int rc;
    char why[128];
    int action;
    char to[32], message[64];
    size_t left;
};

static struct outcome next_msg_of(const char *input)
{
    struct outcome o;
    memset(&o, 0, sizeof o);
    jim_framer *f = NULL;
    jim_msg *m = NULL;
    assert_int_equal(jim_framer_new(&f, NULL), JIM_OK);
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    feed(f, input);
    o.rc = jim_framer_next_msg(f, m);
    snprintf(o.why, sizeof o.why, "%s", o.rc == JIM_OK ? "" : jim_framer_errmsg(f));
    if (o.rc == JIM_OK) {
        o.action = (int)jim_msg_action(m);
        const char *to = jim_msg_get_str(m, JIM_FIELD_TO);
        const char *text = jim_msg_get_str(m, JIM_FIELD_MESSAGE);
        snprintf(o.to, sizeof o.to, "%s", to ? to : "");
        snprintf(o.message, sizeof o.message, "%s", text ? text : "");
    }
    o.left = jim_framer_buffered(f);
    jim_msg_free(m);
    jim_framer_free(f);
    return o;
}

/* A whole line with one flat object is decoded in one pass (no scan first): each such
 * line, a tail after it or not, comes out exactly as the same object does the general
 * way (a second object after it on the line, so the line is not flat). */
static void next_msg__whole_flat_lines__same_outcome_as_the_general_way(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "{\"action\":\"msg\",\"time\":0,\"to\":\"bob\",\"message\":\"hello there\"}",
        ("{\"action\":\"msg\",\"to\":\"bob\",\"message\":\"caf\xc3\xa9 \xe2\x98\x95 "
         "\xf0\x9f\x98\x80\"}"),
        "{\"action\":\"msg\",\"to\":\"bob\",\"message\":\"bad \xff byte\"}",
        "{\"action\":\"msg\",\"to\":\"bob\",\"message\":\"surrogate \xed\xa0\x80\"}",
        "{\"action\":\"msg\",\"to\":\"bob\",\"message\":\"overlong \xc0\xaf\"}",
        "{\"action\":\"msg\",\"to\":\"bob\",\"message\":\"cut \xe2\x98\"}",
        "{\"action\":\"msg\",\"to\":\"b\xc3\xb6\x62\",\"message\":\"x\"}",
        "{\"action\":\"fly\",\"to\":\"bob\"}",
        "{\"action\":\"msg\",\"to\":\"bob\"}",
        "{\"action\":\"msg\",\"to\":5,\"message\":\"x\"}",
        "{\"action\":\"msg\",\"to\":\"bob\",\"message\":\"esc\\\"aped\"}",
        "{\"action\":\"msg\",\"to\":\"bob\",\"message\":\"x\",\"n\":null,\"b\":true,\"f\":1.5}",
        "{\"response\":200,\"seq\":7}",
        "{\"response\":99}",
        "{}",
        "  {\"action\":\"quit\"}  \r",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        char line[256], general[512];
        snprintf(line, sizeof line, "%s\n{\"action\":\"quit\"}", lines[i]);
        snprintf(general, sizeof general, "%s{\"action\":\"quit\"}\n", lines[i]);
        struct outcome a = next_msg_of(line), b = next_msg_of(general);
        if (a.rc != b.rc || strcmp(a.why, b.why) != 0)
            fail_msg("line %zu: %d '%s' against %d '%s'", i, a.rc, a.why, b.rc, b.why);
        assert_int_equal(a.action, b.action);
        assert_string_equal(a.to, b.to);
        assert_string_equal(a.message, b.message);
        assert_int_equal(a.left, strlen("{\"action\":\"quit\"}"));
    }
    /* Checked on their own: the two ways cannot both be wrong the same way. */
    assert_int_equal(next_msg_of(lines[0]).rc, JIM_OK);
    struct outcome cafe = next_msg_of("{\"action\":\"msg\",\"to\":\"bob\",\"message\":"
                                      "\"caf\xc3\xa9 \xe2\x98\x95 \xf0\x9f\x98\x80\"}\n");
    assert_int_equal(cafe.rc, JIM_OK);
    assert_string_equal(cafe.message, "caf\xc3\xa9 \xe2\x98\x95 \xf0\x9f\x98\x80");
    assert_int_equal(cafe.left, 0);
    assert_int_equal(
        next_msg_of("{\"action\":\"msg\",\"to\":\"bob\",\"message\":\"\xed\xa0\x80\"}\n").rc,
        JIM_EUTF8);
    assert_int_equal(next_msg_of("{\"action\":\"fly\"}\n").rc, JIM_EACTION);
}

/* Bad flat lines count as bad objects: sixteen in a row end the stream, as anywhere. */
static void next_msg__bad_flat_lines_in_a_row__closed_at_limit(void **state)
{
    jim_framer *f = *state;
    jim_msg *m = NULL;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    feed(f, "{\"action\":\"fly\"}\n{\"action\":\"quit\"}\n");
    assert_int_equal(jim_framer_next_msg(f, m), JIM_EACTION);
    assert_int_equal(jim_framer_next_msg(f, m), JIM_OK);
    for (int i = 1; i <= 16; i++) {
        feed(f, i % 2 ? "{\"action\":5}\n" : "{\"m\":\"\xff\"}\n");
        assert_int_equal(jim_framer_next_msg(f, m), i % 2 ? JIM_EFIELD : JIM_EUTF8);
        assert_int_equal(jim_framer_can_continue(f), i < 16);
    }
    assert_int_equal(jim_framer_next_msg(f, m), JIM_ECLOSED);
    jim_msg_free(m);
}

/* A flat line within the object limit is decoded; one past it is too big, not decoded. */
static void next_msg__flat_line_over_the_limit__etoobig(void **state)
{
    (void)state;
    jim_limits *lim = NULL;
    assert_int_equal(jim_limits_new(&lim), JIM_OK);
    assert_int_equal(jim_limits_set(lim, JIM_LIMIT_OBJECT_BYTES, 256), JIM_OK);
    jim_framer *f = NULL;
    assert_int_equal(jim_framer_new(&f, lim), JIM_OK);
    jim_limits_free(lim);
    jim_msg *m = NULL;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    char line[400];
    const char *head = "{\"action\":\"msg\",\"to\":\"bob\",\"message\":\"";
    size_t h = strlen(head);
    for (size_t size = 256; size <= 257; size++) { /* the object's bytes, the '}' included */
        memset(line, 'x', sizeof line);
        memcpy(line, head, h);
        memcpy(line + size - 2, "\"}\n", 3);
        assert_int_equal(jim_framer_feed(f, line, size + 1), JIM_OK);
        assert_int_equal(jim_framer_next_msg(f, m), size == 256 ? JIM_OK : JIM_ETOOBIG);
    }
    jim_msg_free(m);
    jim_framer_free(f);
}

/* Many objects on one long line with no newline yet, under a 4 MiB object limit: each
 * byte is searched for the line's end once, not once per object (that took seconds of
 * CPU for this line; now milliseconds: the bound leaves a wide margin). */
static void next_msg__many_objects_on_one_line__linear(void **state)
{
    (void)state;
    jim_limits *lim = NULL;
    assert_int_equal(jim_limits_new(&lim), JIM_OK);
    assert_int_equal(jim_limits_set(lim, JIM_LIMIT_OBJECT_BYTES, 4 << 20), JIM_OK);
    jim_framer *f = NULL;
    assert_int_equal(jim_framer_new(&f, lim), JIM_OK);
    jim_limits_free(lim);
    size_t count = 100000;
    feed_repeated(f, "{\"action\":\"quit\"} ", count);
    jim_msg *m = NULL;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    struct timespec t0, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    size_t got = 0;
    while (jim_framer_next_msg(f, m) == JIM_OK)
        got++;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_int_equal(got, count);
    if (secs > 0.4)
        fail_msg("%zu objects on one line took %.2f CPU s", count, secs);
    /* A newline then: the next line is read the one-pass way again, and whole. */
    feed(f, "\n{\"action\":\"msg\",\"to\":\"bob\",\"message\":\"hi\"}\n");
    assert_int_equal(jim_framer_next_msg(f, m), JIM_OK);
    assert_string_equal(jim_msg_get_str(m, JIM_FIELD_TO), "bob");
    jim_msg_free(m);
    jim_framer_free(f);
}

/* After a decode error the message holds what was read (the id, for the 400); after an
 * error of the framer's own it holds nothing, not the last good object's id nor part of
 * the refused one. */
static void next_msg__framer_error__no_fields_left(void **state)
{
    jim_framer *f = *state;
    jim_msg *m = NULL;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    feed(f, "{\"action\":\"msg\",\"id\":\"A1\",\"to\":\"bob\",\"message\":\"hi\"}\n"
            "{\"action\":\"msg\",\"id\":\"X\",\"to\":\"bob\",\"message\":\"bad \xff\"}\n"
            "{\"action\":\"msg\",\"id\":\"B2\",\"to\":5,\"message\":\"hi\"}\n");
    assert_int_equal(jim_framer_next_msg(f, m), JIM_OK);
    assert_string_equal(jim_msg_get_str(m, JIM_FIELD_ID), "A1");
    assert_int_equal(jim_framer_next_msg(f, m), JIM_EUTF8);
    assert_null(jim_msg_get_str(m, JIM_FIELD_ID));
    assert_int_equal(jim_framer_next_msg(f, m), JIM_EFIELD);
    assert_string_equal(jim_msg_get_str(m, JIM_FIELD_ID), "B2");
    assert_int_equal(jim_framer_next_msg(f, m), JIM_EAGAIN);
    assert_null(jim_msg_get_str(m, JIM_FIELD_ID));
    jim_msg_free(m);
}

static void reserve_commit__reads_in_place(void **state)
{
    jim_framer *f = *state;
    void *buf;
    size_t cap;
    const char *s = "{\"a\":1}{\"b\"";
    assert_int_equal(jim_framer_reserve(f, 10, &buf, &cap), JIM_OK);
    assert_true(cap >= 10);
    memcpy(buf, s, strlen(s));
    assert_int_equal(jim_framer_commit(f, strlen(s)), JIM_OK);
    expect_obj(f, "{\"a\":1}");
    expect_rc(f, JIM_EAGAIN);
    assert_int_equal(jim_framer_buffered(f), 4);
    assert_int_equal(jim_framer_reserve(f, 65536, &buf, &cap), JIM_OK); /* the most */
    assert_true(cap >= 65536);
    memcpy(buf, ":2}", 3);
    assert_int_equal(jim_framer_commit(f, 3), JIM_OK);
    expect_obj(f, "{\"b\":2}");
    assert_int_equal(jim_framer_reserve(f, 4, &buf, &cap), JIM_OK);
    assert_int_equal(jim_framer_commit(f, cap + 1), JIM_EINVAL);
}

static void release__frees_only_when_empty(void **state)
{
    jim_framer *f = *state;
    assert_int_equal(jim_framer_release(f), JIM_OK); /* nothing held: fine */
    feed(f, "{\"a\":1}{\"b\"");
    expect_obj(f, "{\"a\":1}");
    assert_int_equal(jim_framer_release(f), JIM_EAGAIN); /* half an object is held */
    feed(f, ":2}");
    expect_obj(f, "{\"b\":2}");
    assert_int_equal(jim_framer_release(f), JIM_OK);
    assert_int_equal(jim_framer_buffered(f), 0);
    feed(f, "{\"c\":3}");
    expect_obj(f, "{\"c\":3}");
    assert_int_equal(jim_framer_release(NULL), JIM_EINVAL);
}

/* A want past what the framer may ever hold is refused, overflow included: it used to
 * double its size until it wrapped to 0 and answer OK with a capacity it did not have. */
static void reserve__huge_want__refused_and_framer_goes_on(void **state)
{
    jim_framer *f = *state;
    void *buf;
    size_t cap;
    feed(f, "{\"a\":"); /* some bytes held, as a real read leaves them */
    assert_int_equal(jim_framer_reserve(f, SIZE_MAX / 2 + 2, &buf, &cap), JIM_EINVAL);
    assert_int_equal(jim_framer_reserve(f, SIZE_MAX, &buf, &cap), JIM_EINVAL);
    assert_int_equal(jim_framer_reserve(f, 65537, &buf, &cap), JIM_EINVAL); /* > limit */
    assert_true(jim_framer_can_continue(f));
    assert_int_equal(jim_framer_reserve(f, 65536, &buf, &cap), JIM_OK); /* one read: fine */
    assert_true(cap >= 65536);
    memcpy(buf, "1}", 2);
    assert_int_equal(jim_framer_commit(f, 2), JIM_OK);
    expect_obj(f, "{\"a\":1}");
    /* A larger object limit allows a larger read. */
    jim_limits *lim = NULL;
    jim_framer *g = NULL;
    assert_int_equal(jim_limits_new(&lim), JIM_OK);
    assert_int_equal(jim_limits_set(lim, JIM_LIMIT_OBJECT_BYTES, 1 << 20), JIM_OK);
    assert_int_equal(jim_framer_new(&g, lim), JIM_OK);
    assert_int_equal(jim_framer_reserve(g, 1 << 20, &buf, &cap), JIM_OK);
    assert_int_equal(jim_framer_commit(g, 0), JIM_OK);
    assert_int_equal(jim_framer_reserve(g, (1 << 20) + 1, &buf, &cap), JIM_EINVAL);
    jim_framer_free(g);
    jim_limits_free(lim);
}

/* Reads into the framer 16 KB at a time without taking objects (a session paused while a
 * password is hashed) until reserve() stops it; returns that code. The most bytes held at
 * any time is *peak. */
static int read_without_taking(jim_framer *f, const char *fill, size_t *peak)
{
    size_t at = 0, fill_len = strlen(fill);
    *peak = jim_framer_buffered(f);
    for (int round = 0; round < 2000; round++) { /* 32 MB at most */
        void *buf;
        size_t cap;
        int rc = jim_framer_reserve(f, 16384, &buf, &cap);
        if (rc != JIM_OK)
            return rc;
        size_t n = cap < 16384 ? cap : 16384;
        for (size_t i = 0; i < n; i++)
            ((char *)buf)[i] = fill[at++ % fill_len];
        assert_int_equal(jim_framer_commit(f, n), JIM_OK);
        if (jim_framer_buffered(f) > *peak)
            *peak = jim_framer_buffered(f);
    }
    return JIM_OK;
}

/* An object in progress cannot make the framer hold more than the object limit plus one
 * read, whether or not objects are taken: past it, reserve() reports the oversize object
 * (the stream ends) instead of buffering 200 MB for a connection that never logged in. */
static void reserve__object_in_progress_past_limit__etoobig_not_buffered(void **state)
{
    jim_framer *f = *state;
    size_t peak = 0;
    feed(f, "{\"action\":\"register\"}{\"a\":\"");
    expect_obj(f, "{\"action\":\"register\"}"); /* taken; then nothing is taken */
    assert_int_equal(read_without_taking(f, "x", &peak), JIM_ETOOBIG);
    assert_true(peak <= 65536 + 65536);
    assert_non_null(strstr(jim_framer_errmsg(f), "65536"));
    assert_false(jim_framer_can_continue(f));
    /* next() says it too, once, and the stream has ended. */
    expect_rc(f, JIM_ETOOBIG);
    expect_rc(f, JIM_ECLOSED);
    void *buf;
    size_t cap;
    assert_int_equal(jim_framer_reserve(f, 16, &buf, &cap), JIM_ECLOSED);
}

/* Whole objects that were not taken yet are not an error: reserve() answers EAGAIN (take
 * them first) at the same bound, and the object in progress behind them is judged when its
 * turn comes. */
static void reserve__untaken_objects__eagain_at_the_bound(void **state)
{
    jim_framer *f = *state;
    size_t peak = 0;
    assert_int_equal(read_without_taking(f, "{\"action\":\"quit\"}\n", &peak), JIM_EAGAIN);
    assert_true(peak <= 65536 + 65536);
    assert_true(jim_framer_can_continue(f));
    size_t n = 0;
    const char *obj;
    size_t len;
    while (jim_framer_next(f, &obj, &len) == JIM_OK)
        n++;
    assert_true(n >= (65536 + 65536 - 16384) / 18);
    /* Then, on a new stream, one object in progress behind untaken ones. */
    jim_framer *g = NULL;
    assert_int_equal(jim_framer_new(&g, NULL), JIM_OK);
    assert_int_equal(jim_framer_feed(g, "{\"a\":1}{\"b\":2}{\"c\":\"", 20), JIM_OK);
    assert_int_equal(read_without_taking(g, "y", &peak), JIM_EAGAIN);
    assert_true(peak <= 65536 + 65536);
    expect_obj(g, "{\"a\":1}");
    expect_obj(g, "{\"b\":2}");
    expect_rc(g, JIM_ETOOBIG);
    assert_false(jim_framer_can_continue(g));
    jim_framer_free(g);
}

/* A line that starts with '{' where the object in progress could not take one ends that
 * object: it gets a 400 and the stream resynchronises there, instead of swallowing every
 * request after it until the size limit. */
static void truncated_object__esyntax_at_a_line_starting_an_object(void **state)
{
    jim_framer *f = *state;
    feed(f, "{\"action\":\"quit\"\n{\"action\":\"get_rooms\"}\n");
    expect_rc(f, JIM_ESYNTAX);
    assert_non_null(strstr(jim_framer_errmsg(f), "not closed"));
    expect_obj(f, "{\"action\":\"get_rooms\"}");
    /* Inside the user object, after a comma, with indentation and a CRLF. */
    feed(f, "{\"user\":{\"account_name\":\"a\"\r\n{\"b\":1}\n"
            "{\"a\":1,\n  {\"c\":2}\n");
    expect_rc(f, JIM_ESYNTAX);
    expect_obj(f, "{\"b\":1}");
    expect_rc(f, JIM_ESYNTAX);
    expect_obj(f, "{\"c\":2}");
    /* In an array, after a value. */
    feed(f, "{\"x\":[1,2\n{\"d\":3}");
    expect_rc(f, JIM_ESYNTAX);
    expect_obj(f, "{\"d\":3}");
    /* The newline and the next line split across reads, a blank line between. */
    feed(f, "{\"action\":\"quit\"\n");
    expect_rc(f, JIM_EAGAIN);
    feed(f, "   \n\t");
    expect_rc(f, JIM_EAGAIN);
    feed(f, "{\"e\":4}\n");
    expect_rc(f, JIM_ESYNTAX);
    expect_obj(f, "{\"e\":4}");
    /* After a ':' a value may follow on the next line: the line is taken as that value,
     * and the object is ended at the next line that cannot belong to it. */
    feed(f, "{\"a\":\n{\"b\":1}\n{\"f\":5}\n");
    expect_rc(f, JIM_ESYNTAX);
    expect_obj(f, "{\"f\":5}");
    expect_rc(f, JIM_EAGAIN);
    assert_true(jim_framer_can_continue(f));
}

/* Pretty-printed objects are whole whatever their style: a nested object on its own line
 * always follows a ':' or, in an array, a '[' or a ','. */
static void pretty_printed__nested_objects_on_own_lines__whole(void **state)
{
    jim_framer *f = *state;
    /* Python's json.dumps(indent=2) */
    static const char python[] =
        "{\n  \"action\": \"presence\",\n  \"user\": {\n    \"account_name\": \"a\",\n"
        "    \"features\": [\n      \"ndjson\"\n    ]\n  },\n  \"list\": [\n    {\n"
        "      \"x\": 1\n    },\n    {\n      \"y\": [\n        {\n          \"z\": 2\n"
        "        }\n      ]\n    }\n  ]\n}";
    /* Allman style: every brace on its own line */
    static const char allman[] =
        "{\n  \"action\": \"presence\",\n  \"user\":\n  {\n    \"account_name\": \"a\"\n  },\n"
        "  \"list\":\n  [\n    {\n      \"x\": 1\n    }\n    ,\n    {\n    }\n  ]\n}";
    /* commas first */
    static const char commas_first[] =
        "{ \"action\": \"quit\"\n, \"list\":\n  [ {\"a\": 1}\n  , {\"b\": 2}\n  ]\n}";
    static const char *const pretty[] = {python, allman, commas_first};
    for (size_t i = 0; i < sizeof pretty / sizeof pretty[0]; i++) {
        feed(f, pretty[i]);
        feed(f, "\n");
        expect_obj(f, pretty[i]);
        expect_rc(f, JIM_EAGAIN);
        /* Byte by byte too. */
        for (const char *p = pretty[i]; *p; p++) {
            assert_int_equal(jim_framer_feed(f, p, 1), JIM_OK);
            if (p[1])
                expect_rc(f, JIM_EAGAIN);
        }
        expect_obj(f, pretty[i]);
    }
}

/* Strings are skipped eight bytes at a time to the first byte that needs a look: whatever
 * its place in the word, an escaped quote, a brace, a UTF-8 sequence or a bad byte after
 * k plain bytes is seen. */
static void string_special_at_every_offset__seen(void **state)
{
    jim_framer *f = *state;
    static const char *const good[] = {"\\\"}{", "\xc3\xa9", "\xf0\x9f\x98\x80", "\\\\", "}"};
    static const char *const bad[] = {"\xff", "\xc3(", "\xed\xa0\x80"};
    char pad[40], s[160], ok[160];
    for (int k = 0; k < 24; k++) {
        memset(pad, 'a', (size_t)k);
        pad[k] = '\0';
        for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
            snprintf(s, sizeof s, "{\"message\":\"%s%s%s\",\"n\":1}", pad, good[i], pad);
            feed(f, s);
            feed(f, "\n");
            expect_obj(f, s);
        }
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            snprintf(s, sizeof s, "{\"message\":\"%s%s%s\"}{\"ok\":%d}", pad, bad[i], pad, k);
            feed(f, s);
            expect_rc(f, JIM_EUTF8);
            snprintf(ok, sizeof ok, "{\"ok\":%d}", k);
            expect_obj(f, ok);
        }
    }
}

static void bad_args__einval(void **state)
{
    jim_framer *f = *state;
    const char *obj;
    size_t len;
    void *buf;
    size_t cap;
    assert_int_equal(jim_framer_new(NULL, NULL), JIM_EINVAL);
    assert_int_equal(jim_framer_feed(NULL, "x", 1), JIM_EINVAL);
    assert_int_equal(jim_framer_feed(f, NULL, 1), JIM_EINVAL);
    assert_int_equal(jim_framer_feed(f, NULL, 0), JIM_OK);
    assert_int_equal(jim_framer_next(f, NULL, &len), JIM_EINVAL);
    assert_int_equal(jim_framer_next(f, &obj, NULL), JIM_EINVAL);
    assert_int_equal(jim_framer_reserve(f, 1, NULL, &cap), JIM_EINVAL);
    assert_int_equal(jim_framer_reserve(f, 1, &buf, NULL), JIM_EINVAL);
    assert_false(jim_framer_can_continue(NULL));
    assert_string_equal(jim_framer_errmsg(NULL), "");
    jim_framer_free(NULL);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(next__empty__eagain),
        T(feed__one_byte_chunks__every_object_whole),
        T(feed__split_at_every_byte__same_objects),
        T(feed__ten_thousand_objects_in_one_chunk__all_out),
        T(feed__whitespace_between__skipped),
        T(feed__brace_inside_string__not_a_boundary),
        T(oversize__etoobig_then_closed),
        T(bad_utf8__eutf8_then_stream_goes_on),
        T(string_special_at_every_offset__seen),
        T(deep_nesting__edepth_then_stream_goes_on),
        T(garbage__esyntax_once_then_next_object),
        T(unterminated_string__ends_at_newline),
        T(bad_objects_in_a_row__closed_at_limit),
        T(next_msg__decodes_and_reports_reason),
        T(next_msg__whole_flat_lines__same_outcome_as_the_general_way),
        T(next_msg__bad_flat_lines_in_a_row__closed_at_limit),
        T(next_msg__flat_line_over_the_limit__etoobig),
        T(next_msg__many_objects_on_one_line__linear),
        T(next_msg__framer_error__no_fields_left),
        T(reserve_commit__reads_in_place),
        T(release__frees_only_when_empty),
        T(reserve__huge_want__refused_and_framer_goes_on),
        T(reserve__object_in_progress_past_limit__etoobig_not_buffered),
        T(reserve__untaken_objects__eagain_at_the_bound),
        T(truncated_object__esyntax_at_a_line_starting_an_object),
        T(pretty_printed__nested_objects_on_own_lines__whole),
        T(bad_args__einval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

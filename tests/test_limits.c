/* test_limits.c — the limits table: defaults, names, ranges and lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <jim/jim.h>

static void limits_new__defaults__match_protocol(void **state)
{
    (void)state;
    jim_limits *l = NULL;
    assert_int_equal(jim_limits_new(&l), JIM_OK);
    assert_int_equal(jim_limits_get(l, JIM_LIMIT_OBJECT_BYTES), 65536);
    assert_int_equal(jim_limits_get(l, JIM_LIMIT_DEPTH), 32);
    assert_int_equal(jim_limits_get(l, JIM_LIMIT_NAME_CHARS), 25);
    assert_int_equal(jim_limits_get(l, JIM_LIMIT_MESSAGE_CHARS), 500);
    assert_int_equal(jim_limits_get(l, JIM_LIMIT_BAD_OBJECTS), 16);
    assert_int_equal(jim_limits_get(l, JIM_LIMIT_ID_CHARS), 64);
    assert_int_equal(jim_limits_get(l, JIM_LIMIT_HISTORY), 500);
    for (int i = 0; i < JIM_LIMIT_COUNT; i++)
        assert_int_equal(jim_limits_get(l, (jim_limit)i), jim_limit_default((jim_limit)i));
    jim_limits_free(l);
}

static void limits_get__null_handle__defaults(void **state)
{
    (void)state;
    assert_int_equal(jim_limits_get(NULL, JIM_LIMIT_MESSAGE_CHARS), 500);
    assert_int_equal(jim_limits_get(NULL, JIM_LIMIT_COUNT), -1);
    assert_int_equal(jim_limits_get(NULL, (jim_limit)-1), -1);
}

static void limits_set__in_and_out_of_range(void **state)
{
    (void)state;
    jim_limits *l = NULL;
    assert_int_equal(jim_limits_new(&l), JIM_OK);
    assert_int_equal(jim_limits_set(l, JIM_LIMIT_MESSAGE_CHARS, 1000), JIM_OK);
    assert_int_equal(jim_limits_get(l, JIM_LIMIT_MESSAGE_CHARS), 1000);
    assert_int_equal(jim_limits_set(l, JIM_LIMIT_MESSAGE_CHARS, 0), JIM_ERANGE);
    assert_int_equal(
        jim_limits_set(l, JIM_LIMIT_MESSAGE_CHARS, jim_limit_max(JIM_LIMIT_MESSAGE_CHARS) + 1),
        JIM_ERANGE);
    assert_int_equal(jim_limits_get(l, JIM_LIMIT_MESSAGE_CHARS), 1000);
    assert_int_equal(jim_limits_set(l, JIM_LIMIT_COUNT, 1), JIM_EINVAL);
    assert_int_equal(jim_limits_set(NULL, JIM_LIMIT_DEPTH, 8), JIM_EINVAL);
    jim_limits_free(l);
    jim_limits_free(NULL);
    assert_int_equal(jim_limits_new(NULL), JIM_EINVAL);
}

static void limit_table__every_limit__named_and_ordered(void **state)
{
    (void)state;
    for (int i = 0; i < JIM_LIMIT_COUNT; i++) {
        jim_limit w = (jim_limit)i, found;
        const char *name = jim_limit_name(w);
        assert_non_null(name);
        assert_non_null(jim_limit_help(w));
        assert_true(jim_limit_min(w) <= jim_limit_default(w));
        assert_true(jim_limit_default(w) <= jim_limit_max(w));
        assert_int_equal(jim_limit_by_name(name, &found), JIM_OK);
        assert_int_equal(found, w);
    }
    assert_null(jim_limit_name(JIM_LIMIT_COUNT));
    assert_int_equal(jim_limit_default(JIM_LIMIT_COUNT), -1);
}

static void limit_by_name__unknown__enotfound(void **state)
{
    (void)state;
    jim_limit w;
    assert_int_equal(jim_limit_by_name("max_everything", &w), JIM_ENOTFOUND);
    assert_int_equal(jim_limit_by_name(NULL, &w), JIM_EINVAL);
    assert_int_equal(jim_limit_by_name("max_depth", NULL), JIM_EINVAL);
    assert_int_equal(jim_limit_by_name("max_object_bytes", &w), JIM_OK);
    assert_int_equal(w, JIM_LIMIT_OBJECT_BYTES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(limits_new__defaults__match_protocol),
        cmocka_unit_test(limits_get__null_handle__defaults),
        cmocka_unit_test(limits_set__in_and_out_of_range),
        cmocka_unit_test(limit_table__every_limit__named_and_ordered),
        cmocka_unit_test(limit_by_name__unknown__enotfound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

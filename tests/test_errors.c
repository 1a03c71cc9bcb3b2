/* test_errors.c — error codes, their texts, and the version functions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <jim/jim.h>

static const int all_codes[] = {
    JIM_OK,       JIM_ERROR,   JIM_EINVAL, JIM_ENOMEM,     JIM_ENOTFOUND, JIM_EAGAIN,
    JIM_ESYNTAX,  JIM_EUTF8,   JIM_EDEPTH, JIM_ETOOBIG,    JIM_EFIELD,    JIM_EACTION,
    JIM_ERANGE,   JIM_ECLOSED, JIM_EIO,    JIM_EINTERNAL,  JIM_ESERVER,   JIM_ETIMEDOUT,
    JIM_ECONNECT, JIM_ESTATE,  JIM_ETLS,   JIM_EKEYCHANGED};

static void strerror__every_code__distinct_text(void **state)
{
    (void)state;
    size_t n = sizeof all_codes / sizeof all_codes[0];
    for (size_t i = 0; i < n; i++) {
        const char *a = jim_strerror(all_codes[i]);
        assert_non_null(a);
        assert_string_not_equal(a, "unknown error");
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(a, jim_strerror(all_codes[j]));
    }
}

static void strerror__unknown_code__unknown_error(void **state)
{
    (void)state;
    assert_string_equal(jim_strerror(-9999), "unknown error");
    assert_string_equal(jim_strerror(42), "unknown error");
}

static void error_codes__fixed_values(void **state)
{
    (void)state;
    /* These numbers are ABI: a change here is a break for every user. */
    assert_int_equal(JIM_OK, 0);
    assert_int_equal(JIM_EINVAL, -2);
    assert_int_equal(JIM_EAGAIN, -5);
    assert_int_equal(JIM_ETOOBIG, -9);
    assert_int_equal(JIM_EINTERNAL, -15);
    assert_int_equal(JIM_ESERVER, -16);
    assert_int_equal(JIM_ESTATE, -19);
    assert_int_equal(JIM_ETLS, -20);
    assert_int_equal(JIM_EKEYCHANGED, -21);
}

static void version__library_matches_header(void **state)
{
    (void)state;
    assert_int_equal(jim_version_number(), JIM_VERSION_NUMBER);
    assert_string_equal(jim_version(), JIM_VERSION_STRING);
    assert_int_equal(JIM_VERSION_NUMBER,
                     JIM_VERSION_MAJOR * 1000000 + JIM_VERSION_MINOR * 1000 + JIM_VERSION_PATCH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strerror__every_code__distinct_text),
        cmocka_unit_test(strerror__unknown_code__unknown_error),
        cmocka_unit_test(error_codes__fixed_values),
        cmocka_unit_test(version__library_matches_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

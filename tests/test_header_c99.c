/* test_header_c99.c — jim.h compiles as strict C99 (-std=c99 -pedantic -Werror) and links. */
#include <jim/jim.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void header__c99__compiles_and_links(void **state)
{
    jim_msg *m = NULL;
    const char *json;
    size_t len;
    (void)state;
    assert_int_equal(jim_version_number(), JIM_VERSION_NUMBER);
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    assert_int_equal(jim_msg_make_text(m, "bob", "hi"), JIM_OK);
    assert_int_equal(jim_msg_encode(m, &json, &len), JIM_OK);
    assert_true(len > 0);
    jim_msg_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(header__c99__compiles_and_links)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

// test_header_cxx.cc — jim.h compiles as C++ (-std=c++11 -pedantic -Werror) with C linkage.
#include <jim/jim.h>

#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>

extern "C" {
#include <cmocka.h>
}

static void header__cxx__compiles_and_links(void **)
{
    jim_framer *f = nullptr;
    assert_int_equal(jim_framer_new(&f, nullptr), JIM_OK);
    assert_int_equal(jim_framer_feed(f, "{}", 2), JIM_OK);
    const char *obj = nullptr;
    size_t len = 0;
    assert_int_equal(jim_framer_next(f, &obj, &len), JIM_OK);
    assert_int_equal(len, 2);
    jim_framer_free(f);
    assert_string_equal(jim_strerror(JIM_EINVAL), "invalid argument");
}

int main()
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(header__cxx__compiles_and_links)};
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

// test_name_set.cc — jimd's lazy set of names (jimd/name_set.hh), which a session keeps its
// rooms and contacts in: nothing allocated while empty, freed when the last name leaves.
#include "name_set.hh"

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <setjmp.h>
#include <string>
#include <vector>

extern "C" {
#include <cmocka.h>
}

namespace {

using jimd::LazyNameSet;

void empty__holds_nothing(void **)
{
    LazyNameSet s;
    assert_true(s.empty());
    assert_int_equal(s.size(), 0);
    assert_int_equal(s.count("#a"), 0);
    assert_false(s.erase("#a"));
    assert_true(s.begin() == s.end());
    // A lazy set is a pointer: a session pays 8 bytes for each while it is empty.
    static_assert(sizeof(LazyNameSet) == sizeof(void *));
}

void insert_erase__like_a_set(void **)
{
    LazyNameSet s;
    assert_true(s.insert("#a"));
    assert_false(s.insert("#a"));
    assert_true(s.insert("#b"));
    assert_false(s.empty());
    assert_int_equal(s.size(), 2);
    assert_int_equal(s.count(std::string_view("#a")), 1);
    assert_int_equal(s.count("#c"), 0);
    size_t seen = 0;
    for (const std::string &name : s)
        seen += name == "#a" || name == "#b";
    assert_int_equal(seen, 2);
    assert_true(s.erase("#a"));
    assert_false(s.erase("#a"));
    assert_int_equal(s.size(), 1);
    assert_true(s.erase("#b"));
    assert_true(s.empty()); // the last name out frees the table
    assert_true(s.begin() == s.end());
}

void assign__replaces_and_empty_stays_empty(void **)
{
    LazyNameSet s;
    s.insert("old");
    std::vector<std::string> none;
    s.assign(none.begin(), none.end());
    assert_true(s.empty());
    assert_int_equal(s.count("old"), 0);
    std::vector<std::string> two = {"x", "y", "x"};
    s.assign(two.begin(), two.end());
    assert_int_equal(s.size(), 2);
    assert_int_equal(s.count("x"), 1);
    assert_int_equal(s.count("y"), 1);
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty__holds_nothing),
        cmocka_unit_test(insert_erase__like_a_set),
        cmocka_unit_test(assign__replaces_and_empty_stays_empty),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

// test_name_set.cc — jimd's lazy set of names (jimd/name_set.hh), which a session keeps its
// rooms and contacts in: nothing allocated while empty, freed when the last name leaves;
// and the hash of names the sets and the directories use.
#include "name_set.hh"

#include <algorithm>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <setjmp.h>
#include <string>
#include <string_view>
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

// The hash is the same for a name as std::string and as std::string_view, and every byte
// counts: changing any one byte of a name of 1 to 40 bytes changes it.
void name_hash__every_byte_counts(void **)
{
    jimd::NameHash h;
    for (size_t len = 1; len <= 40; len++) {
        std::string name(len, 'a');
        for (size_t i = 0; i < len; i++)
            name[i] = static_cast<char>('a' + i % 26);
        size_t base = h(name);
        assert_int_equal(base, h(std::string_view(name)));
        for (size_t i = 0; i < len; i++) {
            std::string other = name;
            other[i] = static_cast<char>(other[i] ^ 1);
            assert_int_not_equal(h(other), base);
        }
        assert_int_not_equal(h(name + "a"), base); // and the length
    }
}

// Names as jimd's users have them ("user1".."user20000") spread over a set's buckets: all
// found, and no bucket holds more than a few (a hash that skipped bytes would pile them up).
void name_hash__spreads_numbered_names(void **)
{
    jimd::NameSet set;
    for (int i = 1; i <= 20000; i++)
        set.insert("user" + std::to_string(i));
    size_t most = 0;
    for (size_t b = 0; b < set.bucket_count(); b++)
        most = std::max(most, set.bucket_size(b));
    assert_true(most <= 10); // 7 here; random placement gives about as many
    for (int i = 1; i <= 20000; i++)
        assert_true(set.find(std::string_view("user" + std::to_string(i))) != set.end());
    assert_true(set.find(std::string_view("user0")) == set.end());
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty__holds_nothing),
        cmocka_unit_test(insert_erase__like_a_set),
        cmocka_unit_test(assign__replaces_and_empty_stays_empty),
        cmocka_unit_test(name_hash__every_byte_counts),
        cmocka_unit_test(name_hash__spreads_numbered_names),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

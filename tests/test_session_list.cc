// test_session_list.cc — the router's list of a user's sessions on a worker
// (jimd/session_list.hh): one kept inline, more in an array, order kept on removal.
#include "session_list.hh"

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <setjmp.h>
#include <vector>

extern "C" {
#include <cmocka.h>
}

namespace {

using jimd::Session;
using jimd::SessionList;

// Distinct pointers to stand for sessions (never dereferenced).
Session *fake(uintptr_t n)
{
    return reinterpret_cast<Session *>(n * 16);
}

std::vector<Session *> contents(const SessionList &l)
{
    return {l.begin(), l.end()};
}

void one__inline(void **)
{
    static_assert(sizeof(SessionList) == 16);
    SessionList l;
    assert_true(l.empty());
    assert_true(l.view().empty());
    l.push_back(fake(1));
    assert_int_equal(l.size(), 1);
    assert_true(contents(l) == std::vector<Session *>{fake(1)});
    l.erase(fake(2)); // not there
    assert_int_equal(l.size(), 1);
    l.erase(fake(1));
    assert_true(l.empty());
}

void many__grow_and_erase_in_order(void **)
{
    SessionList l;
    for (uintptr_t i = 1; i <= 9; i++)
        l.push_back(fake(i));
    assert_int_equal(l.size(), 9);
    assert_int_equal(l.view().size(), 9);
    l.erase(fake(1));
    l.erase(fake(5));
    l.erase(fake(9));
    std::vector<Session *> want = {fake(2), fake(3), fake(4), fake(6), fake(7), fake(8)};
    assert_true(contents(l) == want);
    for (Session *s : want)
        l.erase(s);
    assert_true(l.empty());
    l.push_back(fake(3)); // an emptied array is used again
    assert_true(contents(l) == std::vector<Session *>{fake(3)});
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one__inline),
        cmocka_unit_test(many__grow_and_erase_in_order),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

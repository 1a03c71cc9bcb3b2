// test_wal_policy.cc — how much of the WAL's copy a worker's loop does itself
// (jimd/wal_policy.hh): only the little its checkpoint thread left, never a long WAL that a
// starved thread fell behind on, and nothing when the thread could not copy.
#include "wal_policy.hh"

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <setjmp.h>

extern "C" {
#include <cmocka.h>
}

namespace {

void loop__finishes_what_the_thread_left_when_little(void **)
{
    assert_true(jimd::loop_may_finish(4100, 4100));
    assert_true(jimd::loop_may_finish(4100, 4036));
    assert_true(jimd::loop_may_finish(4000 + jimd::kLoopFrames, 4000));
    // The WAL started over meanwhile (the master's restart): what is there is little.
    assert_true(jimd::loop_may_finish(12, 5000));
}

void loop__leaves_a_long_rest_and_a_failed_thread_alone(void **)
{
    assert_false(jimd::loop_may_finish(4001 + jimd::kLoopFrames, 4000));
    assert_false(jimd::loop_may_finish(20235, 4280)); // the 417 ms stall at full load
    assert_false(jimd::loop_may_finish(100, -1));
    assert_false(jimd::loop_may_finish(0, -1));
}

} // namespace

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loop__finishes_what_the_thread_left_when_little),
        cmocka_unit_test(loop__leaves_a_long_rest_and_a_failed_thread_alone),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

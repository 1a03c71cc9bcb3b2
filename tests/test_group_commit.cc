// test_group_commit.cc — jimd's group-commit policy (jimd/group_commit.hh), driven with
// times of its own: a lone sender's messages never wait for their commit, and a heavy load
// gets the full wait.
#include "group_commit.hh"

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <setjmp.h>

extern "C" {
#include <cmocka.h>
}

using jimd::GroupCommit;

namespace {

// One batch through the policy as the journal drives it: its first message comes at *now,
// it waits what the policy says (having `first` messages then), and its commit holds n.
// Returns the wait; *now moves past the commit, which takes `commit_us`.
int64_t batch(GroupCommit &p, int64_t *now, size_t first, size_t n, int64_t commit_us = 20)
{
    int64_t wait = p.wait_us(*now);
    if (wait > 0)
        p.waiting(first);
    *now += wait;
    p.started(*now);
    p.finished(n);
    *now += commit_us;
    return wait;
}

// One message in flight: each message's commit comes before the next message, which
// therefore never has company; waiting would only add to its round trip.
void lone_sender__never_waits(void **)
{
    GroupCommit p;
    int64_t now = 1000000;
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(batch(p, &now, 1, 1), 0);
        now += 50; // the round trip to the client and back
    }
}

// Commits of hundreds of messages in a row: the next batch waits the full time, so one
// commit serves many; a millisecond without a commit ends it.
void heavy_load__full_wait(void **)
{
    GroupCommit p;
    int64_t now = 1000000;
    batch(p, &now, 1, 1);
    assert_int_equal(batch(p, &now, 1, 500), 0); // the load begins: the last commit was small
    for (int i = 0; i < 100; i++)
        assert_int_equal(batch(p, &now, 20, 600, 400), GroupCommit::kWaitUs);
    now += GroupCommit::kRecentUs;
    assert_int_equal(p.wait_us(now), 0);
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lone_sender__never_waits),
        cmocka_unit_test(heavy_load__full_wait),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

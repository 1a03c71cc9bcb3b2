// test_group_commit.cc — jimd's group-commit policy (jimd/group_commit.hh), driven with
// times of its own: a lone sender's messages never wait for their commit, a heavy load gets
// the full wait, a busy journal's commits of 8 or more a wait that grows with them,
// commits of fewer (a moderate rate from several senders) none, and a wait that gathered
// one message is not made again.
#include "group_commit.hh"

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <random>
#include <setjmp.h>

extern "C" {
#include <cmocka.h>
}

using jimd::GroupCommit;

namespace {

// One batch through the policy as the journal drives it: its first message comes at *now,
// it waits what the policy says, and its commit holds n. Returns the wait; *now moves past
// the commit, which takes `commit_us`.
int64_t batch(GroupCommit &p, int64_t *now, size_t n, int64_t commit_us = 20)
{
    int64_t wait = p.wait_us(*now);
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
        assert_int_equal(batch(p, &now, 1), 0);
        now += 50; // the round trip to the client and back
    }
}

// Commits of hundreds of messages in a row: the next batch waits the full time, so one
// commit serves many; a millisecond without a commit ends it.
void heavy_load__full_wait(void **)
{
    GroupCommit p;
    int64_t now = 1000000;
    batch(p, &now, 1);
    assert_int_equal(batch(p, &now, 500), 0); // the load begins: the last commit was small
    for (int i = 0; i < 100; i++)
        assert_int_equal(batch(p, &now, 600, 400), 250);
    now += GroupCommit::kRecentUs;
    assert_int_equal(p.wait_us(now), 0);
}

// Several senders at a moderate rate: commits of two to seven messages make no wait (it
// would gather a fraction of a message, and every message would wait it); a busy journal's
// commit of 8 or more makes one of 10 us a message: 100 us after one of ten, not 250.
void moderate_rate__waits_only_after_a_busy_commit(void **)
{
    GroupCommit p;
    int64_t now = 1000000;
    for (size_t n = 2; n < GroupCommit::kBusyBatch; n++)
        assert_int_equal(batch(p, &now, n), 0);
    assert_int_equal(batch(p, &now, GroupCommit::kBusyBatch), 0);
    assert_int_equal(batch(p, &now, 10), 80);
    assert_int_equal(p.wait_us(now), 100);
}

// A busy commit's wait that gathered one message: the commit after it held one, so the
// next batch does not wait.
void fruitless_wait__not_repeated(void **)
{
    GroupCommit p;
    int64_t now = 1000000;
    batch(p, &now, 10);
    assert_true(batch(p, &now, 1) > 0);
    assert_int_equal(p.wait_us(now), 0);
}

// 20,000 messages/s from many senders (random arrivals, 50 us apart on average), after a
// burst that made a commit of 10: messages that come during a wait or a commit join its
// batch or the next one. The burst's commit makes the next batch wait once; after that the
// commits hold one or two and none waits (a policy that waited for commits of two put
// 10-30 us on every message here).
void steady_20k__no_waits_after_the_burst(void **)
{
    GroupCommit p;
    int64_t now = 1000000;
    batch(p, &now, 10);
    std::mt19937 rng(15);
    std::exponential_distribution<double> gap(1.0 / 50);
    auto arrival = [&](int64_t after) { return after + 1 + static_cast<int64_t>(gap(rng)); };
    int64_t next = now; // the next message's arrival
    int64_t waits = 0, waited_late = 0, commits = 0, messages = 0;
    for (int i = 0; i < 4000; i++) {
        int64_t first = next; // the batch's first message
        int64_t wait = p.wait_us(first);
        int64_t at = first + wait + 5; // the rest of the loop iteration
        size_t n = 0;
        while (next <= at) {
            n++;
            next = arrival(next);
        }
        p.started(at);
        p.finished(n);
        int64_t end = at + 20 + 2 * static_cast<int64_t>(n); // the commit and the writes
        if (next < end)
            next = end; // came during the commit: read in the next iteration
        waits += wait > 0;
        if (i >= 1)
            waited_late += wait;
        if (i == 0)
            assert_true(n < GroupCommit::kBusyBatch); // the burst's wait made no busy commit
        commits++;
        messages += static_cast<int64_t>(n);
    }
    assert_int_equal(waits, 1);       // the burst's
    assert_int_equal(waited_late, 0); // and none once the rate is steady
    assert_true(messages > commits);  // commits still gather what came meanwhile
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lone_sender__never_waits),
        cmocka_unit_test(heavy_load__full_wait),
        cmocka_unit_test(moderate_rate__waits_only_after_a_busy_commit),
        cmocka_unit_test(fruitless_wait__not_repeated),
        cmocka_unit_test(steady_20k__no_waits_after_the_burst),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

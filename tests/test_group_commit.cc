// test_group_commit.cc — jimd's group-commit policy (jimd/group_commit.hh), driven with
// times of its own: a lone sender's messages never wait for their commit, a heavy load gets
// the full wait, a moderate rate from several senders a short one, and a wait that gathered
// nothing is not made again.
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
        assert_int_equal(batch(p, &now, 20, 600, 400), 250);
    now += GroupCommit::kRecentUs;
    assert_int_equal(p.wait_us(now), 0);
}

// Several senders at a moderate rate: a commit of two messages that came together makes
// the next batch wait a little (20 us) for company; after one of ten, 100 us, not 250.
void moderate_rate__short_wait(void **)
{
    GroupCommit p;
    int64_t now = 1000000;
    assert_int_equal(batch(p, &now, 1, 2), 0);
    assert_int_equal(batch(p, &now, 1, 3), 20);
    assert_int_equal(batch(p, &now, 1, 10), 30);
    assert_int_equal(p.wait_us(now), 100);
}

// Messages that came together once, then a wait that gathered nothing: the next batch
// does not wait.
void fruitless_wait__not_repeated(void **)
{
    GroupCommit p;
    int64_t now = 1000000;
    batch(p, &now, 1, 2);
    assert_true(batch(p, &now, 1, 1) > 0);
    assert_int_equal(p.wait_us(now), 0);
}

// 20,000 messages/s from many senders (random arrivals, 50 us apart on average), after a
// burst that made a commit of 10: messages that come during a wait or a commit join its
// batch or the next one. The waits stay short (a steady 250 us wait would put ~250 us on
// every message), and some are made: commits gather more than one message on average.
void steady_20k__short_waits(void **)
{
    GroupCommit p;
    int64_t now = 1000000;
    batch(p, &now, 1, 10);
    std::mt19937 rng(15);
    std::exponential_distribution<double> gap(1.0 / 50);
    auto arrival = [&](int64_t after) { return after + 1 + static_cast<int64_t>(gap(rng)); };
    int64_t next = now; // the next message's arrival
    int64_t waited = 0, commits = 0, messages = 0;
    for (int i = 0; i < 4000; i++) {
        int64_t first = next; // the batch's first message
        int64_t wait = p.wait_us(first);
        if (wait > 0)
            p.waiting(1);
        assert_true(wait <= 100);
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
        waited += wait;
        commits++;
        messages += static_cast<int64_t>(n);
    }
    assert_true(waited > 0 && waited / commits <= 50);
    assert_true(messages > commits);
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lone_sender__never_waits),  cmocka_unit_test(heavy_load__full_wait),
        cmocka_unit_test(moderate_rate__short_wait), cmocka_unit_test(fruitless_wait__not_repeated),
        cmocka_unit_test(steady_20k__short_waits),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

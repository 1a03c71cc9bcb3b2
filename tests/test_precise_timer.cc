// test_precise_timer.cc — jimd's PreciseTimer (jimd/precise_timer.hh) on a real libevent
// loop whose own timers are whole milliseconds: it fires once, not before its time; a
// re-arm replaces the earlier time; a cancelled timer does not fire.
#include "precise_timer.hh"

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <event2/event.h>
#include <memory>
#include <setjmp.h>

extern "C" {
#include <cmocka.h>
}

using jimd::PreciseTimer;

namespace {

int64_t now_us()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t{ts.tv_sec} * 1000000 + ts.tv_nsec / 1000;
}

// A loop with a plain (millisecond) base, a timer, and a 100 ms guard that ends the loop.
// Members go in reverse order: the timer and the guard before the base they are on.
struct Fixture {
    struct BaseFree {
        void operator()(event_base *b) const { event_base_free(b); }
    };
    struct EventFree {
        void operator()(event *e) const { event_free(e); }
    };
    std::unique_ptr<event_base, BaseFree> base{event_base_new()};
    std::unique_ptr<event, EventFree> guard;
    PreciseTimer timer;
    int fired = 0;
    int64_t fired_at = 0;

    Fixture()
    {
        assert_non_null(base.get());
        assert_true(timer.open(base.get(), [this] {
            fired++;
            fired_at = now_us();
        }));
        auto stop = [](evutil_socket_t, short, void *b) {
            event_base_loopbreak(static_cast<event_base *>(b));
        };
        guard.reset(evtimer_new(base.get(), stop, base.get()));
        timeval t = {0, 100000};
        assert_int_equal(evtimer_add(guard.get(), &t), 0);
    }
    void run() { event_base_dispatch(base.get()); }
};

// Armed for 300 us, it fires once, no earlier, and well before the loop's 100 ms guard.
void fires_once_on_time(void **)
{
    Fixture f;
    int64_t start = now_us();
    assert_true(f.timer.arm(300));
    assert_true(f.timer.armed());
    f.run();
    assert_int_equal(f.fired, 1);
    assert_true(f.fired_at - start >= 300);
    assert_true(f.fired_at - start < 90000);
    assert_false(f.timer.armed());
}

// A second arm replaces the first: one expiry, at the second time.
void rearm_replaces(void **)
{
    Fixture f;
    int64_t start = now_us();
    assert_true(f.timer.arm(200));
    assert_true(f.timer.arm(5000));
    f.run();
    assert_int_equal(f.fired, 1);
    assert_true(f.fired_at - start >= 5000);
}

// Cancelled before its time, or after it expired but before the loop read it: no call.
void cancelled_does_not_fire(void **)
{
    Fixture f;
    assert_true(f.timer.arm(200));
    f.timer.cancel();
    f.run();
    assert_int_equal(f.fired, 0);

    Fixture g;
    assert_true(g.timer.arm(1));
    timespec pause = {0, 2000000}; // expired meanwhile, not yet read
    nanosleep(&pause, nullptr);
    g.timer.cancel();
    g.run();
    assert_int_equal(g.fired, 0);
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fires_once_on_time),
        cmocka_unit_test(rearm_replaces),
        cmocka_unit_test(cancelled_does_not_fire),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

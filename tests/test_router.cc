// test_router.cc — the mesh router's side of a direct message handed over by another worker
// (jimd/router.cc), over real socketpair links and an event loop, as one worker of three: a
// hand-over for a user who has left is left to a worker that answers for the message too
// (Deliver.also: the sender that wrote it to a session, or a higher receiver) and confirmed
// at once, or else kept as a pending row and confirmed only when the commit that writes it
// has succeeded; once that row is written, the worker where the user has logged in since
// is told to look (Look), also when its Online frame comes only later, marking the rows
// of messages that worker was handed too; and Looks for a user with sessions here are
// handled once per loop turn, outside the frame handling, without the rows of messages
// this worker wrote to a session.
#include "peer_protocol.hh"
#include "replies.hh"
#include "router.hh"

#include <event2/event.h>

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <setjmp.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>
#include <vector>

extern "C" {
#include <cmocka.h>
}

namespace {

using namespace jimd;

// What the router asked of its worker.
struct Events final : RouterEvents {
    std::vector<std::pair<std::string, int64_t>> kept;
    std::vector<std::pair<std::string, std::vector<int64_t>>> looks;
    uint64_t next_commit = 1;
    Session *find_session(uint64_t) override { return nullptr; }
    uint64_t keep_pending(const std::string &user, int64_t seq) override
    {
        kept.emplace_back(user, seq);
        return next_commit;
    }
    void recover_pending(int64_t) override {}
    void peers_drained() override {}
    void kick_here(const std::string &, const std::string &) override {}
    void look_here(const std::string &user, std::vector<int64_t> seqs) override
    {
        looks.emplace_back(user, std::move(seqs));
    }
};

// A frame read back from a far end.
struct Frame {
    peer::Type type;
    std::string body;
};

// What a session's connection reports: nothing happens to these.
struct Host final : SessionHost {
    void on_request(Session &, jim_msg *) override {}
    void on_bad_object(Session &, jim_msg *, const char *, bool) override {}
    void on_peer_closed(Session &) override {}
    void on_output_drained(Session &) override {}
    void on_finished(Session &) override {}
};

// Worker `self`'s router with links to the two others, whose ends (far[w]) the test
// writes and reads.
struct Fixture {
    std::unique_ptr<event_base, decltype(&event_base_free)> owner{event_base_new(),
                                                                  event_base_free};
    event_base *base = owner.get();
    Replies replies{nullptr};
    Events events;
    int far[3] = {-1, -1, -1};
    std::unique_ptr<Router> router;

    explicit Fixture(int self = 0)
    {
        RouterSetup setup;
        setup.base = base;
        setup.self = self;
        setup.count = 3;
        setup.peers.assign(3, -1);
        for (int w = 0; w < 3; w++) {
            if (w == self)
                continue;
            int sv[2];
            assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
            assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
            assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
            setup.peers[static_cast<size_t>(w)] = sv[0];
            far[w] = sv[1];
        }
        assert_true(replies.start());
        router = make_mesh_router(setup, replies, events);
        assert_non_null(router.get());
    }
    ~Fixture()
    {
        router.reset();
        for (int fd : far)
            if (fd >= 0)
                close(fd);
    }
    template <class F> void from(int w, const F &f)
    {
        std::string s;
        peer::append_frame(f, &s);
        assert_int_equal(write(far[w], s.data(), s.size()), static_cast<ssize_t>(s.size()));
        turn();
    }
    // Runs the loop until nothing is ready.
    void turn()
    {
        for (int i = 0; i < 3; i++)
            event_base_loop(base, EVLOOP_NONBLOCK);
    }
    // The frames worker 0 has sent to worker w since the last call.
    std::vector<Frame> sent_to(int w)
    {
        turn();
        std::string in;
        char buf[4096];
        ssize_t n;
        while ((n = read(far[w], buf, sizeof buf)) > 0)
            in.append(buf, static_cast<size_t>(n));
        std::vector<Frame> out;
        size_t at = 0;
        peer::Header h;
        while (peer::decode_header(in.data() + at, in.size() - at, &h, nullptr) ==
               peer::HeaderStatus::Ok) {
            out.push_back({h.type, in.substr(at + peer::kHeaderBytes, h.length)});
            at += peer::kHeaderBytes + h.length;
        }
        assert_int_equal(at, in.size());
        return out;
    }
    // The count of the one Ack among frames, or 0 when there is none.
    static uint64_t ack_of(const std::vector<Frame> &frames)
    {
        uint64_t count = 0;
        for (const Frame &f : frames) {
            peer::Ack a;
            if (f.type == peer::Type::Ack && peer::decode(f.body, &a)) {
                assert_int_equal(count, 0);
                count = a.count;
            }
        }
        return count;
    }
};

constexpr uint64_t bit(int w)
{
    return uint64_t{1} << w;
}

// The (seq, marked as had) entries of the Looks for user among frames, in order; Looks for
// other users fail the test.
std::vector<std::pair<int64_t, bool>> looks_in(const std::vector<Frame> &frames, const char *user)
{
    std::vector<std::pair<int64_t, bool>> out;
    for (const Frame &fr : frames) {
        peer::Look look;
        if (fr.type != peer::Type::Look)
            continue;
        assert_true(peer::decode(fr.body, &look));
        assert_true(look.user == user);
        for (size_t i = 0; i < look.entries.size() / 8; i++) {
            int64_t seq = 0;
            bool had = false;
            peer::look_entry(look, i, &seq, &had);
            out.emplace_back(seq, had);
        }
    }
    return out;
}

using Entries = std::vector<std::pair<int64_t, bool>>;

// A Look for user with these entries.
std::string look_entries(const Entries &entries)
{
    std::string packed;
    for (const auto &[seq, had] : entries)
        peer::append_look_entry(&packed, seq, had);
    return packed;
}

const char kLine[] = R"({"action":"msg","from":"amy","to":"bob","message":"hi","seq":7})";

// Worker 1 wrote the message to bob's session there too, or handed it to worker 2 as well:
// worker 0, where bob has left, keeps no row (which the next login would push a second
// time) and confirms the frame at once. Worker 2, the highest receiver, leaves it only to
// the sender: were it to leave it to worker 0 as worker 0 leaves it to worker 2, and bob
// had left both, nobody would keep it.
void gone_here__left_to_a_worker_that_has_it(void **)
{
    Fixture f;
    f.from(1, peer::Deliver{"bob", 7, bit(0) | bit(1), kLine});
    assert_int_equal(f.events.kept.size(), 0);
    assert_int_equal(Fixture::ack_of(f.sent_to(1)), 1);

    f.from(1, peer::Deliver{"bob", 8, bit(0) | bit(2), kLine});
    assert_int_equal(f.events.kept.size(), 0);
    assert_int_equal(Fixture::ack_of(f.sent_to(1)), 2);

    Fixture top(2);
    top.from(1, peer::Deliver{"bob", 9, bit(1) | bit(2), kLine});
    top.from(1, peer::Deliver{"bob", 10, bit(0) | bit(2), kLine});
    assert_int_equal(top.events.kept.size(), 1);
    assert_int_equal(top.events.kept[0].second, 10);
}

// Only worker 0 had it, or the other that had it is no longer linked here: kept, and
// confirmed only once the commit that writes the row has succeeded.
void gone_here__kept_when_nobody_else_has_it(void **)
{
    Fixture f;
    f.from(1, peer::Deliver{"bob", 7, bit(0), kLine});
    assert_int_equal(f.events.kept.size(), 1);
    assert_true(f.events.kept[0].first == "bob");
    assert_int_equal(f.events.kept[0].second, 7);
    assert_int_equal(Fixture::ack_of(f.sent_to(1)), 0);
    f.router->committed(1);
    assert_int_equal(Fixture::ack_of(f.sent_to(1)), 1);

    close(f.far[2]); // worker 2 went away
    f.far[2] = -1;
    f.turn();
    f.events.next_commit = 2;
    f.from(1, peer::Deliver{"bob", 8, bit(0) | bit(2), kLine});
    assert_int_equal(f.events.kept.size(), 2);
    assert_int_equal(f.events.kept[1].second, 8);
    f.router->committed(2);
    assert_int_equal(Fixture::ack_of(f.sent_to(1)), 2);
}

// Bob logged in on worker 2 after worker 0 found him gone: once the kept rows are
// written, worker 2 is told to look for them; a worker without the user is not. A Look for
// a user with no session here asks nothing of the worker.
void kept_row_written__worker_where_user_is_now_told_to_look(void **)
{
    Fixture f;
    f.from(1, peer::Deliver{"bob", 7, bit(0), kLine});
    f.from(1, peer::Deliver{"bob", 8, bit(0), kLine});
    f.from(2, peer::Online{"bob", 1});
    assert_int_equal(f.sent_to(2).size(), 0); // not before the rows are written
    f.router->committed(1);
    assert_true(looks_in(f.sent_to(2), "bob") == (Entries{{7, false}, {8, false}}));
    assert_true(looks_in(f.sent_to(1), "bob").empty());

    std::string e = look_entries({{3, false}});
    f.from(2, peer::Look{"carol", e});
    assert_int_equal(f.events.looks.size(), 0);
}

// The row was written before worker 0 read that bob had logged in on worker 2 (it was held
// up): the Look goes out when the Online frame comes.
void kept_row_written__told_to_look_when_online_comes_later(void **)
{
    Fixture f;
    f.from(1, peer::Deliver{"bob", 7, bit(0), kLine});
    f.router->committed(1);
    assert_int_equal(f.sent_to(2).size(), 0);
    f.from(2, peer::Online{"bob", 1});
    assert_true(looks_in(f.sent_to(2), "bob") == (Entries{{7, false}}));
    f.from(1, peer::Online{"carol", 1}); // no row kept for carol
    assert_true(looks_in(f.sent_to(1), "carol").empty());
}

// Worker 2 kept a message that worker 0 was handed too: the Look to worker 0 says so (only
// worker 0 knows whether it wrote it to bob's session or left it to worker 2); the one to
// worker 1, which was not handed it, does not. The same when their Online frames come.
void kept_row_written__look_marks_the_workers_that_had_it(void **)
{
    Fixture f(2);
    f.from(0, peer::Online{"bob", 1});
    f.from(1, peer::Online{"bob", 1});
    f.from(1, peer::Deliver{"bob", 7, bit(0) | bit(2), kLine});
    assert_int_equal(f.events.kept.size(), 1);
    f.router->committed(1);
    assert_true(looks_in(f.sent_to(0), "bob") == (Entries{{7, true}}));
    assert_true(looks_in(f.sent_to(1), "bob") == (Entries{{7, false}}));
    f.from(0, peer::Online{"bob", 2});
    assert_true(looks_in(f.sent_to(0), "bob") == (Entries{{7, true}}));
}

// A session of bob here. Declared after the fixture, so gone before it.
struct Bob {
    jim_limits *limits = nullptr;
    std::unique_ptr<ConnectionLoop> loop;
    Host host;
    std::unique_ptr<Session> s;
    Router &router;
    explicit Bob(Fixture &f) : router(*f.router)
    {
        assert_int_equal(jim_limits_new(&limits), JIM_OK);
        loop = std::make_unique<ConnectionLoop>(f.base, limits);
        s = std::make_unique<Session>(1, "127.0.0.1", *loop, host);
        s->user = "bob";
        s->logged_in = true;
        router.add_session(*s);
    }
    ~Bob()
    {
        router.remove_session(*s);
        s.reset();
        loop.reset();
        jim_limits_free(limits);
    }
};

// Looks for a user with a session here reach the worker once per loop turn, however many
// came in it, with the seqs of all of them. A row of a message this worker had too is
// asked for only if it left that message to a higher worker (bob was gone from here):
// one it wrote to bob's session is not pushed to it again.
void looks_for_a_user_here__once_a_turn_without_what_came_live(void **)
{
    Fixture f;
    f.from(1, peer::Deliver{"bob", 5, bit(0) | bit(2), kLine}); // left to worker 2
    Bob bob(f);
    f.sent_to(1);
    f.sent_to(2);
    std::string two;
    std::string e1 = look_entries({{9, false}, {5, true}}), e2 = look_entries({{6, true}});
    peer::append_frame(peer::Look{"bob", e1}, &two);
    peer::append_frame(peer::Look{"bob", e2}, &two);
    assert_int_equal(write(f.far[2], two.data(), two.size()), static_cast<ssize_t>(two.size()));
    f.turn();
    assert_int_equal(f.events.looks.size(), 1);
    assert_true(f.events.looks[0].first == "bob");
    assert_true(f.events.looks[0].second == (std::vector<int64_t>{5, 9}));
    std::string e3 = look_entries({{6, true}});
    f.from(2, peer::Look{"bob", e3}); // only what came live: nothing to ask
    assert_int_equal(f.events.looks.size(), 1);
}

// Worker 0 left two hand-overs from worker 1 to others (worker 1 wrote one to bob's session
// there, worker 2 was handed the other): when worker 1 goes away, its frame to worker 2
// and its write to the session may have died with it, so worker 0 keeps both itself; once
// written, they are looked for here too, where bob has logged in since.
void sender_gone__what_was_left_to_others_kept_here(void **)
{
    Fixture f;
    f.from(1, peer::Deliver{"bob", 7, bit(0) | bit(1), kLine});
    f.from(1, peer::Deliver{"bob", 8, bit(0) | bit(2), kLine});
    f.from(2, peer::Deliver{"carol", 9, bit(0) | bit(2), kLine});
    assert_int_equal(f.events.kept.size(), 0);
    Bob bob(f);
    close(f.far[1]);
    f.far[1] = -1;
    f.turn();
    assert_int_equal(f.events.kept.size(), 2);
    assert_int_equal(f.events.kept[0].second, 7);
    assert_int_equal(f.events.kept[1].second, 8);
    assert_int_equal(f.events.looks.size(), 0);
    f.router->committed(1);
    f.turn();
    assert_int_equal(f.events.looks.size(), 1);
    assert_true(f.events.looks[0].second == (std::vector<int64_t>{7, 8}));
}

// A seq a Look asked for here is not asked for again (a row written twice is pushed once).
void look_for_a_seq_asked_before__not_asked_again(void **)
{
    Fixture f;
    Bob bob(f);
    std::string e1 = look_entries({{7, false}}), e2 = look_entries({{7, false}, {8, false}});
    f.from(2, peer::Look{"bob", e1});
    f.from(2, peer::Look{"bob", e2});
    f.from(1, peer::Look{"bob", e1});
    assert_int_equal(f.events.looks.size(), 2);
    assert_true(f.events.looks[0].second == (std::vector<int64_t>{7}));
    assert_true(f.events.looks[1].second == (std::vector<int64_t>{8}));
}

// A row kept by the sending side (the user was online nowhere when the commit ended) is
// looked for the same way.
void kept_by_the_sender__worker_where_user_is_now_told_to_look(void **)
{
    Fixture f;
    f.router->keep_pending("bob", 9);
    assert_int_equal(f.events.kept.size(), 1);
    f.from(1, peer::Online{"bob", 2});
    f.router->committed(0);
    assert_int_equal(f.sent_to(1).size(), 0); // the row is not written yet
    f.router->committed(1);
    assert_true(looks_in(f.sent_to(1), "bob") == (Entries{{9, false}}));
    assert_int_equal(f.sent_to(2).size(), 0);
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gone_here__left_to_a_worker_that_has_it),
        cmocka_unit_test(gone_here__kept_when_nobody_else_has_it),
        cmocka_unit_test(kept_row_written__worker_where_user_is_now_told_to_look),
        cmocka_unit_test(kept_by_the_sender__worker_where_user_is_now_told_to_look),
        cmocka_unit_test(kept_row_written__told_to_look_when_online_comes_later),
        cmocka_unit_test(kept_row_written__look_marks_the_workers_that_had_it),
        cmocka_unit_test(looks_for_a_user_here__once_a_turn_without_what_came_live),
        cmocka_unit_test(sender_gone__what_was_left_to_others_kept_here),
        cmocka_unit_test(look_for_a_seq_asked_before__not_asked_again),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

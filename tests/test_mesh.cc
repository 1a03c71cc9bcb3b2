// test_mesh.cc — the links between workers (jimd/mesh.cc), over a real socketpair and event
// loop: frames cut anywhere by the socket (a header in pieces, frames across 64 KiB reads)
// each reach the handler once, whole and in order; frames written before an EOF are
// handled before the link is dropped; a header of another version drops the link with a
// reason; a frame sent is the bytes peer_protocol encodes; and what a burst made the link's
// blocks grow to is kept as they empty and given back within two seconds after it.
#include "mesh.hh"
#include "peer_protocol.hh"

#include <event2/event.h>

#include <cerrno>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <setjmp.h>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern "C" {
#include <cmocka.h>
}

namespace {

using namespace jimd;

// Worker 0's mesh with a link to worker 1, whose end (`far`) the test writes and reads.
struct Fixture {
    // Declared before the mesh, so freed after it (the mesh frees its events first).
    std::unique_ptr<event_base, decltype(&event_base_free)> owner{event_base_new(),
                                                                  event_base_free};
    event_base *base = owner.get();
    int far = -1;
    std::vector<std::string> bodies; // Deliver lines, as handled
    std::vector<int64_t> seqs;
    int ups = 0, downs = 0;
    std::string why; // of the last drop
    Mesh mesh{base, 0, 2,
              [this](int from, peer::Type type, std::string_view body) {
                  assert_int_equal(from, 1);
                  peer::Deliver d;
                  if (type != peer::Type::Deliver || !peer::decode(body, &d))
                      return false;
                  bodies.emplace_back(d.line);
                  seqs.push_back(d.seq);
                  return true;
              },
              [this](int peer, bool up, const char *reason) {
                  assert_int_equal(peer, 1);
                  (up ? ups : downs)++;
                  why = reason ? reason : "";
              }};

    Fixture()
    {
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        far = sv[1];
        assert_true(mesh.attach(1, sv[0]));
        assert_int_equal(ups, 1);
    }
    ~Fixture()
    {
        if (far >= 0)
            close(far);
    }
    // Writes all of s to the far end (blocking).
    void put(const std::string &s)
    {
        for (size_t at = 0; at < s.size();) {
            ssize_t n = write(far, s.data() + at, s.size() - at);
            assert_true(n > 0);
            at += static_cast<size_t>(n);
        }
    }
    // Runs the loop until nothing is ready.
    void turn() { event_base_loop(base, EVLOOP_NONBLOCK); }
    // Runs the loop for a little over two seconds: a link that carried nothing for a whole
    // second of it has met the once-a-second trim.
    void past_trim()
    {
        for (int i = 0; i < 230; i++) {
            turn();
            usleep(10000);
        }
    }
};

// What the links' blocks may hold between bursts: a read chunk of 64 KiB each way, doubled
// where a read ended in the middle of a frame.
constexpr size_t kOrdinary = 2 * 2 * (64 << 10);

std::string frame(int64_t seq, const std::string &line)
{
    peer::Deliver d{"bob", seq, 0, line};
    std::string out(peer::frame_size(d), '\0');
    peer::encode_frame(d, reinterpret_cast<uint8_t *>(out.data()));
    return out;
}

std::string line_of(int64_t seq, size_t bytes)
{
    std::string s(bytes, static_cast<char>('a' + seq % 26));
    s.replace(0, std::to_string(seq).size(), std::to_string(seq));
    return s;
}

void split_header__one_frame_once(void **)
{
    Fixture f;
    std::string fr = frame(7, "{\"action\":\"msg\"}");
    f.put(fr.substr(0, 3));
    f.turn();
    assert_int_equal(f.bodies.size(), 0);
    f.put(fr.substr(3, 6)); // the header whole, the body begun
    f.turn();
    assert_int_equal(f.bodies.size(), 0);
    f.put(fr.substr(9));
    f.turn();
    assert_int_equal(f.bodies.size(), 1);
    assert_string_equal(f.bodies[0].c_str(), "{\"action\":\"msg\"}");
    assert_int_equal(f.seqs[0], 7);
    assert_int_equal(f.downs, 0);
}

// ~600 frames of 1,000-3,000 bytes in one write: reads of 64 KiB cut many of them.
void frames_across_reads__each_whole_once_in_order(void **)
{
    Fixture f;
    std::string all;
    const int kFrames = 600;
    for (int i = 1; i <= kFrames; i++)
        all += frame(i, line_of(i, 1000 + static_cast<size_t>(i * 37) % 2000));
    assert_true(all.size() > 4 * (64 << 10));
    // The socket holds less than all of it: write it from a child, read in the loop.
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        f.put(all);
        _exit(0);
    }
    for (int spins = 0; spins < 10000 && f.bodies.size() < kFrames; spins++) {
        f.turn();
        usleep(100);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(f.bodies.size(), kFrames);
    for (int i = 1; i <= kFrames; i++) {
        assert_int_equal(f.seqs[static_cast<size_t>(i - 1)], i);
        assert_true(f.bodies[static_cast<size_t>(i - 1)] ==
                    line_of(i, 1000 + static_cast<size_t>(i * 37) % 2000));
    }
    assert_int_equal(f.downs, 0);
    // The burst went through: the blocks are back to their ordinary size within two seconds.
    f.past_trim();
    assert_true(f.mesh.held() <= kOrdinary);
}

void eof__frames_before_it_handled_then_dropped(void **)
{
    Fixture f;
    f.put(frame(1, "one") + frame(2, "two"));
    close(f.far);
    f.far = -1;
    f.turn();
    assert_int_equal(f.bodies.size(), 2);
    assert_string_equal(f.bodies[1].c_str(), "two");
    assert_int_equal(f.downs, 1);
    assert_true(f.why.empty());
    assert_false(f.mesh.connected(1));
}

void other_version__dropped_with_a_reason(void **)
{
    Fixture f;
    std::string fr = frame(1, "x");
    fr[2] = static_cast<char>(peer::kVersion + 1);
    f.put(fr);
    f.turn();
    assert_int_equal(f.bodies.size(), 0);
    assert_int_equal(f.downs, 1);
    assert_false(f.why.empty());
}

// What send() queues is the frame peer_protocol encodes, written out by the loop; a
// backlog's block is kept as it empties, and given back within two seconds.
void send__encoded_frame_written_and_block_trimmed(void **)
{
    Fixture f;
    std::string big = line_of(3, 1 << 20);
    for (int i = 0; i < 4; i++)
        assert_true(f.mesh.send(1, peer::Deliver{"bob", 3, 0, big}));
    assert_true(f.mesh.backlog() >= 4 * big.size());
    std::string want;
    for (int i = 0; i < 4; i++)
        want += frame(3, big);
    std::string got;
    fcntl(f.far, F_SETFL, O_NONBLOCK);
    for (int spins = 0; spins < 10000 && got.size() < want.size(); spins++) {
        f.turn();
        char buf[65536];
        ssize_t n;
        while ((n = read(f.far, buf, sizeof buf)) > 0)
            got.append(buf, static_cast<size_t>(n));
    }
    assert_true(got == want);
    assert_int_equal(f.mesh.backlog(), 0);
    // Kept as it empties: the next commit's frames go where these went, with no realloc.
    assert_true(f.mesh.held() > 4 * big.size());
    f.past_trim();
    assert_true(f.mesh.held() <= kOrdinary);
}

} // namespace

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(split_header__one_frame_once),
        cmocka_unit_test(frames_across_reads__each_whole_once_in_order),
        cmocka_unit_test(eof__frames_before_it_handled_then_dropped),
        cmocka_unit_test(other_version__dropped_with_a_reason),
        cmocka_unit_test(send__encoded_frame_written_and_block_trimmed),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

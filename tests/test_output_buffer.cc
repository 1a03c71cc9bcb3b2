// test_output_buffer.cc — a connection's output queue (jimd/output_buffer.hh): bytes come out
// in the order they went in across partial writes, an emptied queue keeps its block (so the
// next turn appends without allocating), and a slow reader's written bytes are dropped before
// the block grows; and the loop's spare buffers (jimd/spare_outputs.hh): a busy turn's are
// kept however many bytes they hold, and those no turn takes are freed down to a reserve.
#include "output_buffer.hh"
#include "spare_outputs.hh"

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <setjmp.h>
#include <string>
#include <string_view>
#include <vector>

extern "C" {
#include <cmocka.h>
}

namespace {

using jimd::OutputBuffer;
using jimd::SpareOutputs;

std::string contents(const OutputBuffer &b)
{
    return std::string(b.data(), b.size());
}

// A mesh link writes a frame in place and reads a socket into the buffer: reserve gives room
// at the end, only what is committed counts, a frame cut by a read is whole once the rest
// is committed behind it, and the room comes from the bytes handled before growing.
void reserve_commit__in_place_and_in_order(void **)
{
    OutputBuffer b;
    char *at = b.reserve(5);
    assert_non_null(at);
    std::memcpy(at, "frame", 5);
    assert_int_equal(b.size(), 0); // not committed yet
    b.commit(5);
    assert_string_equal(contents(b).c_str(), "frame");
    at = b.reserve(100);
    std::memcpy(at, " and more", 9);
    b.commit(3); // a read that brought fewer bytes than the room
    assert_string_equal(contents(b).c_str(), "frame an");
    b.append("d");
    assert_string_equal(contents(b).c_str(), "frame and");
    b.consume(6);
    size_t cap = b.capacity();
    at = b.reserve(cap - 4); // room by moving "and" (3 bytes) over the 6 handled ones
    assert_non_null(at);
    assert_int_equal(b.capacity(), cap);
    assert_string_equal(contents(b).c_str(), "and");
    at = b.reserve(cap); // more than the block holds: it grows, and keeps what it had
    assert_true(b.capacity() > cap);
    b.commit(0);
    assert_string_equal(contents(b).c_str(), "and");
}

// trim gives back an empty block bigger than asked, and keeps one holding bytes or small.
void trim__only_an_empty_block_over_the_size(void **)
{
    OutputBuffer b;
    b.append(std::string(4096, 'x'));
    b.trim(1024);
    assert_int_equal(b.size(), 4096); // not empty: kept
    b.consume(4096);
    size_t cap = b.capacity();
    b.trim(cap);
    assert_int_equal(b.capacity(), cap); // not bigger than asked: kept
    b.trim(1024);
    assert_int_equal(b.capacity(), 0);
    b.append("again"); // a new block when bytes come
    assert_string_equal(contents(b).c_str(), "again");
}

void append_consume__in_order(void **)
{
    OutputBuffer b;
    assert_int_equal(b.size(), 0);
    b.append("hello ");
    b.append("world\n");
    assert_string_equal(contents(b).c_str(), "hello world\n");
    b.consume(3); // a partial write
    assert_string_equal(contents(b).c_str(), "lo world\n");
    b.append("again\n");
    assert_string_equal(contents(b).c_str(), "lo world\nagain\n");
    b.consume(b.size());
    assert_int_equal(b.size(), 0);
    b.append("x");
    assert_string_equal(contents(b).c_str(), "x");
}

void written_out__keeps_its_block(void **)
{
    OutputBuffer b;
    std::string line(200, 'a');
    for (int i = 0; i < 20; i++)
        b.append(line);
    const char *block = b.data();
    size_t cap = b.capacity();
    b.consume(b.size()); // all written
    assert_int_equal(b.size(), 0);
    assert_int_equal(b.capacity(), cap);
    for (int i = 0; i < 20; i++)
        b.append(line);
    assert_ptr_equal(b.data(), block); // the same block, no allocation
    b.clear();
    assert_int_equal(b.size(), 0);
    assert_int_equal(b.capacity(), cap);
}

void slow_reader__written_bytes_dropped_before_growing(void **)
{
    OutputBuffer b;
    std::string expect;
    uint64_t next = 0; // every byte is the low byte of its position in the stream
    auto add = [&](size_t n) {
        std::string s;
        for (size_t i = 0; i < n; i++)
            s += static_cast<char>(next++ & 0xff);
        b.append(s);
        expect += s;
    };
    add(1000);
    size_t cap = b.capacity();
    // Written a little at a time while more comes: the block never grows past what the
    // unwritten bytes need, and they stay in order.
    for (int round = 0; round < 1000; round++) {
        size_t w = b.size() / 2 + 1;
        b.consume(w);
        expect.erase(0, w);
        add(w);
        assert_int_equal(b.size(), expect.size());
        assert_memory_equal(b.data(), expect.data(), expect.size());
        assert_true(b.capacity() <= 2 * cap);
    }
    b.consume(b.size() + 5); // more than it holds: empty, not past its end
    assert_int_equal(b.size(), 0);
}

// A slow reader: the written bytes are moved out of the way only when they are at least as
// many as those still to write; a few written bytes in front of a large backlog make the
// block grow instead of moving the backlog (which could be megabytes, every loop turn).
void backlog__moved_only_when_half_is_written(void **)
{
    OutputBuffer b;
    std::string block(1000, 'b');
    b.append(block);
    size_t cap = b.capacity();
    b.consume(600); // more written than left: moving 400 bytes makes the room
    b.append(std::string(cap - 400, 'c'));
    assert_int_equal(b.capacity(), cap);
    assert_int_equal(b.size(), cap);
    b.consume(10); // 10 written in front of the rest: the block grows, nothing moves
    b.append("dd");
    assert_true(b.capacity() > cap);
    assert_int_equal(b.size(), cap - 10 + 2);
    assert_memory_equal(b.data(), std::string(390, 'b').data(), 390);
    assert_memory_equal(b.data() + b.size() - 2, "dd", 2);
}

// Past kMaxGrowth a full block grows by that much, not twofold.
void large_block__grows_by_a_megabyte(void **)
{
    OutputBuffer b;
    b.append(std::string(4 << 20, 'x'));
    size_t cap = b.capacity();
    b.append(std::string(cap - b.size() + 1, 'y'));
    assert_int_equal(b.capacity(), cap + (1 << 20));
}

// n buffers from the spares, each filled with `fill` bytes (its block grows to hold them).
std::vector<OutputBuffer *> take_filled(SpareOutputs &spares, size_t n, size_t fill)
{
    std::vector<OutputBuffer *> v;
    for (size_t i = 0; i < n; i++) {
        v.push_back(spares.take());
        assert_non_null(v.back());
        v.back()->append(std::string(fill, 'm'));
    }
    return v;
}

void give_all(SpareOutputs &spares, std::vector<OutputBuffer *> &v)
{
    for (OutputBuffer *b : v)
        spares.give(b);
    v.clear();
}

// A room of 100 members, 64 KiB each a turn: 6.4 MiB, more than the idle reserve. The next
// turn takes the same blocks again (none is freed and made again, grown a doubling at a
// time), and a trim between busy turns frees none of them.
void spares__a_busy_turn_keeps_its_blocks(void **)
{
    SpareOutputs spares;
    auto turn = take_filled(spares, 100, 64 << 10);
    give_all(spares, turn);
    assert_int_equal(spares.count(), 100);
    assert_true(spares.bytes() >= 100 * (64u << 10));
    assert_true(spares.bytes() > SpareOutputs::kIdleBytes);
    spares.trim();
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < 100; i++) {
            turn.push_back(spares.take());
            assert_true(turn.back()->capacity() >= 64u << 10);
            assert_int_equal(turn.back()->size(), 0);
        }
        give_all(spares, turn);
        spares.trim(); // every spare was taken since the last trim: all kept
        assert_int_equal(spares.count(), 100);
    }
}

// Once no turn takes them, two trims leave the idle reserve, and the spares last given back
// are the ones kept.
void spares__unused_ones_trimmed_to_the_reserve(void **)
{
    SpareOutputs spares;
    auto turn = take_filled(spares, 100, 64 << 10);
    OutputBuffer *last = turn.back();
    give_all(spares, turn);
    spares.trim();
    assert_int_equal(spares.count(), 100);
    spares.trim(); // nothing taken since: down to the reserve
    assert_true(spares.bytes() <= SpareOutputs::kIdleBytes);
    assert_true(spares.bytes() > SpareOutputs::kIdleBytes - (128u << 10));
    assert_ptr_equal(spares.take(), last);
    delete last;
}

// Half the spares taken between two trims: the half never taken is freed (down to the
// reserve), the half in use is kept.
void spares__half_used_keeps_the_used_half(void **)
{
    SpareOutputs spares;
    auto turn = take_filled(spares, 200, 64 << 10); // 12.5 MiB
    give_all(spares, turn);
    spares.trim();
    turn = take_filled(spares, 100, 0);
    give_all(spares, turn);
    spares.trim();
    assert_int_equal(spares.count(), 100);
    spares.trim();
    assert_true(spares.bytes() <= SpareOutputs::kIdleBytes);
}

// However busy, the spares hold at most kBusyBytes and kMaxCount buffers, none of them
// larger than kMaxBlock.
void spares__bounded(void **)
{
    SpareOutputs spares;
    size_t n = SpareOutputs::kBusyBytes / (1 << 20) + 8;
    auto big = take_filled(spares, n, 1 << 20);
    give_all(spares, big);
    assert_true(spares.bytes() <= SpareOutputs::kBusyBytes);
    assert_true(spares.count() < n);
    SpareOutputs many;
    auto small = take_filled(many, SpareOutputs::kMaxCount + 10, 10);
    give_all(many, small);
    assert_int_equal(many.count(), SpareOutputs::kMaxCount);
    SpareOutputs one; // a slow reader's large block is not kept
    auto large = take_filled(one, 1, 2 * SpareOutputs::kMaxBlock);
    give_all(one, large);
    assert_int_equal(one.count(), 0);
    assert_int_equal(one.bytes(), 0);
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reserve_commit__in_place_and_in_order),
        cmocka_unit_test(trim__only_an_empty_block_over_the_size),
        cmocka_unit_test(append_consume__in_order),
        cmocka_unit_test(written_out__keeps_its_block),
        cmocka_unit_test(slow_reader__written_bytes_dropped_before_growing),
        cmocka_unit_test(backlog__moved_only_when_half_is_written),
        cmocka_unit_test(large_block__grows_by_a_megabyte),
        cmocka_unit_test(spares__a_busy_turn_keeps_its_blocks),
        cmocka_unit_test(spares__unused_ones_trimmed_to_the_reserve),
        cmocka_unit_test(spares__half_used_keeps_the_used_half),
        cmocka_unit_test(spares__bounded),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

// test_line_templates.cc — jimd's templated acknowledgement and push (jimd/line_templates.cc)
// write exactly what jim_msg_encode writes for the same object, or decline.
#include "json_bytes.hh"
#include "line_templates.hh"

#include <charconv>
#include <climits>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <setjmp.h>
#include <string>
#include <thread>
#include <vector>

extern "C" {
#include <cmocka.h>
}

#include <jim/jim.h>

namespace {

// What jim_msg_encode writes for m; m is freed.
std::string encoded_and_freed(jim_msg *m)
{
    const char *json;
    size_t len;
    assert_int_equal(jim_msg_encode(m, &json, &len), JIM_OK);
    std::string out(json, len);
    jim_msg_free(m);
    return out;
}

// What libjim encodes for the response, in dialect d.
std::string through_jim_msg(int code, int64_t now, const char *id, int64_t seq, const char *alert,
                            jim_dialect d)
{
    jim_msg *m = nullptr;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    assert_int_equal(jim_msg_init_response(m, code, alert), JIM_OK);
    assert_int_equal(jim_msg_set_int(m, JIM_FIELD_TIME, now), JIM_OK);
    if (id && *id)
        assert_int_equal(jim_msg_set_str(m, JIM_FIELD_ID, id), JIM_OK);
    assert_int_equal(jim_msg_set_int(m, JIM_FIELD_SEQ, seq), JIM_OK);
    jim_msg_set_dialect(m, d);
    return encoded_and_freed(m);
}

void template__plain_ids__same_bytes_as_jim_msg(void **)
{
    std::string long_id(jimd::kAckIdMax, 'x');
    const char *ids[] = {nullptr, "", "c-1", "a b ~!#$%&'()*+,-./:;<=>?@[]^_`{|}", long_id.c_str()};
    const int64_t seqs[] = {0, 1, 9, 10, 99, 100, 101, 1234567890123, INT64_MAX, -5, INT64_MIN};
    const int64_t times[] = {0, 1700000000, INT64_MAX};
    const struct {
        int code;
        const char *alert;
    } answers[] = {{JIM_RESP_OK, "delivered"}, {JIM_RESP_ACCEPTED, "stored for delivery"}};
    const jim_dialect dialects[] = {JIM_DIALECT_JIM, JIM_DIALECT_REFERENCE, JIM_DIALECT_DB};
    char line[jimd::kAckLineMax];
    for (const char *id : ids)
        for (int64_t seq : seqs)
            for (int64_t now : times)
                for (const auto &a : answers) {
                    size_t n = jimd::ack_line(line, a.code, now, id, seq, a.alert);
                    assert_true(n > 0 && n <= sizeof line);
                    for (jim_dialect d : dialects)
                        assert_string_equal(
                            std::string(line, n).c_str(),
                            through_jim_msg(a.code, now, id, seq, a.alert, d).c_str());
                }
}

void template__ids_to_escape_or_too_long__declined(void **)
{
    std::string too_long(jimd::kAckIdMax + 1, 'x');
    const char *ids[] = {"a\"b", "a\\b", "tab\there", "caf\xc3\xa9", "\x7f", too_long.c_str()};
    char line[jimd::kAckLineMax];
    for (const char *id : ids)
        assert_int_equal(jimd::ack_line(line, JIM_RESP_OK, 1, id, 1, "delivered"), 0);
    assert_int_equal(jimd::ack_line(line, JIM_RESP_OK, 1, "id", 1, "d\xc3\xa9j\xc3\xa0"), 0);
}

// put_int, which the templates and the batch rows use, writes what std::to_chars writes, at
// every number of digits and at both ends of the range, and nothing past it.
void put_int__same_text_as_to_chars(void **)
{
    std::vector<int64_t> values = {0, INT64_MAX, INT64_MIN, INT64_MIN + 1, 1700000000, -1};
    for (int64_t p = 1; p <= INT64_MAX / 10; p *= 10)
        for (int64_t v : {p - 1, p, p + 1, 3 * p, -p, -(p - 1)})
            values.push_back(v);
    for (int64_t v : values) {
        char want[24], got[32];
        std::memset(got, '#', sizeof got);
        size_t n = static_cast<size_t>(std::to_chars(want, want + sizeof want, v).ptr - want);
        char *end = jimd::put_int(got, v);
        assert_int_equal(end - got, n);
        assert_memory_equal(got, want, n);
        assert_int_equal(got[n], '#');
    }
}

// Whether put_time wrote v as std::to_chars does, with nothing past the end.
bool put_time_as_to_chars(int64_t v)
{
    char want[24], got[32];
    std::memset(got, '#', sizeof got);
    size_t n = static_cast<size_t>(std::to_chars(want, want + sizeof want, v).ptr - want);
    char *end = jimd::put_time(got, v);
    return static_cast<size_t>(end - got) == n && std::memcmp(got, want, n) == 0 && got[n] == '#';
}

// put_time keeps the text of the last time it wrote: a repeated time, a new one, and the
// old one again each come out as std::to_chars writes them, with nothing past the end.
void put_time__repeated_and_changed_times__same_text_as_to_chars(void **)
{
    for (int64_t v :
         {int64_t{1700000000}, int64_t{1700000000}, int64_t{1700000001}, int64_t{7},
          int64_t{1700000000}, int64_t{-1}, INT64_MAX, INT64_MIN, int64_t{0}, int64_t{0}})
        assert_true(put_time_as_to_chars(v));
}

// A thread's first time, whatever it is, is written in full: its kept text starts as that
// of 0, which agrees with it (not "nothing" for some value taken as the empty start).
void put_time__first_of_a_thread__written_in_full(void **)
{
    for (int64_t v : {int64_t{-1}, int64_t{0}, int64_t{1700000000}, INT64_MIN}) {
        bool ok = false;
        std::thread([&ok, v] { ok = put_time_as_to_chars(v); }).join();
        assert_true(ok);
    }
}

// The push as jimd built it through a jim_msg (Replies::push_line), in jim's dialect.
std::string push_through_jim_msg(int64_t time, const std::string &id, const std::string &to,
                                 const std::string &from, const std::string &encoding,
                                 const std::string &text, int64_t seq)
{
    jim_msg *m = nullptr;
    assert_int_equal(jim_msg_new(&m), JIM_OK);
    assert_int_equal(jim_msg_init_action(m, JIM_ACTION_MSG), JIM_OK);
    assert_int_equal(jim_msg_set_int(m, JIM_FIELD_TIME, time), JIM_OK);
    assert_int_equal(jim_msg_set_str(m, JIM_FIELD_FROM, from.c_str()), JIM_OK);
    assert_int_equal(jim_msg_set_str(m, JIM_FIELD_TO, to.c_str()), JIM_OK);
    if (!encoding.empty())
        assert_int_equal(jim_msg_set_str(m, JIM_FIELD_ENCODING, encoding.c_str()), JIM_OK);
    assert_int_equal(jim_msg_set_strn(m, JIM_FIELD_MESSAGE, text.data(), text.size()), JIM_OK);
    assert_int_equal(jim_msg_set_int(m, JIM_FIELD_SEQ, seq), JIM_OK);
    if (!id.empty())
        assert_int_equal(jim_msg_set_str(m, JIM_FIELD_ID, id.c_str()), JIM_OK);
    return encoded_and_freed(m);
}

void push__plain_strings__same_bytes_as_jim_msg(void **)
{
    const std::string texts[] = {"", "hi",
                                 "00000000001700000000 the quick brown fox jumps over the lazy dog",
                                 std::string(4000, 'z') + "~ {}[]:,'`\x7f", "\x7f"};
    const std::string ids[] = {"", "c-1", std::string(64, 'i')};
    const std::string encodings[] = {"", "utf-8"};
    const std::string tos[] = {"bob", "#room", ""};
    std::string line;
    for (const std::string &text : texts)
        for (const std::string &id : ids)
            for (const std::string &encoding : encodings)
                for (const std::string &to : tos)
                    for (int64_t seq : {int64_t{1}, int64_t{-77}, INT64_MAX}) {
                        line = "left over from before";
                        assert_true(
                            jimd::push_line(&line, 1700000000, id, to, "al", encoding, text, seq));
                        assert_string_equal(
                            line.c_str(),
                            push_through_jim_msg(1700000000, id, to, "al", encoding, text, seq)
                                .c_str());
                    }
}

void push__strings_to_escape__declined(void **)
{
    const std::string bad[] = {"a\"b",
                               "a\\b",
                               "line\nbreak",
                               "caf\xc3\xa9",
                               std::string("nul\0in", 6),
                               std::string(20, 'a') + "\x01"};
    std::string line;
    for (const std::string &b : bad) {
        assert_false(jimd::push_line(&line, 1, "", "bob", "al", "", b, 1));
        assert_false(jimd::push_line(&line, 1, b, "bob", "al", "", "x", 1));
        assert_false(jimd::push_line(&line, 1, "", b, "al", "", "x", 1));
        assert_false(jimd::push_line(&line, 1, "", "bob", b, "", "x", 1));
        assert_false(jimd::push_line(&line, 1, "", "bob", "al", b, "x", 1));
    }
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(template__plain_ids__same_bytes_as_jim_msg),
        cmocka_unit_test(template__ids_to_escape_or_too_long__declined),
        cmocka_unit_test(push__plain_strings__same_bytes_as_jim_msg),
        cmocka_unit_test(push__strings_to_escape__declined),
        cmocka_unit_test(put_int__same_text_as_to_chars),
        cmocka_unit_test(put_time__repeated_and_changed_times__same_text_as_to_chars),
        cmocka_unit_test(put_time__first_of_a_thread__written_in_full),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

// test_ack_line.cc — jimd's templated acknowledgement (jimd/ack_line.cc) writes exactly what
// jim_msg_encode writes for the same response, in every dialect, or declines.
#include "ack_line.hh"

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <setjmp.h>
#include <string>

extern "C" {
#include <cmocka.h>
}

#include <jim/jim.h>

namespace {

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
    const char *json;
    size_t len;
    assert_int_equal(jim_msg_encode(m, &json, &len), JIM_OK);
    std::string out(json, len);
    jim_msg_free(m);
    return out;
}

void template__plain_ids__same_bytes_as_jim_msg(void **)
{
    std::string long_id(jimd::kAckIdMax, 'x');
    const char *ids[] = {nullptr, "", "c-1", "a b ~!#$%&'()*+,-./:;<=>?@[]^_`{|}", long_id.c_str()};
    const int64_t seqs[] = {0, 1, 99, 1234567890123, INT64_MAX};
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

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(template__plain_ids__same_bytes_as_jim_msg),
        cmocka_unit_test(template__ids_to_escape_or_too_long__declined),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

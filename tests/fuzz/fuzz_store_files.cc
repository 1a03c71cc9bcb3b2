// fuzz_store_files.cc — fuzz target for the client store's JSON-lines reader
// (libjim/src/store_files.cc). The input is the store's files: messages.jsonl, then,
// after a form feed (0x0c, never in JSON text), contacts.jsonl, and after another,
// outgoing.jsonl. Opening such a store must succeed; its last seq is the highest seq of
// the whole lines that are messages; a torn last line is cut off; history gives each
// conversation oldest first within its limit; a message saved then is found again
// after the store is reopened.
#include "fuzz_check.hh"

#include <jim/jim.h>

#include <algorithm>
#include <set>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace {

struct Parts {
    std::string messages, contacts, outgoing;
};

Parts split(const uint8_t *data, size_t size)
{
    std::string in(reinterpret_cast<const char *>(data), size);
    Parts p;
    std::string *part[] = {&p.messages, &p.contacts, &p.outgoing};
    size_t k = 0, at = 0;
    for (size_t ff; k < 2 && (ff = in.find('\f', at)) != std::string::npos; k++, at = ff + 1)
        *part[k] = in.substr(at, ff - at);
    *part[k] = in.substr(at);
    return p;
}

// What the store must make of messages.jsonl: the highest seq of a whole line that is a
// message with a seq (0 if none), and the names the lines talk about.
int64_t expected_last_seq(const std::string &text, std::set<std::string> &names)
{
    int64_t last = 0;
    jim_msg *m = nullptr;
    FUZZ_CHECK(jim_msg_new(&m) == JIM_OK, "jim_msg_new");
    for (size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) {
        if (jim_msg_decode(m, text.data() + at, nl - at, nullptr) != JIM_OK)
            continue;
        int64_t seq = 0;
        if (jim_msg_action(m) == JIM_ACTION_MSG &&
            jim_msg_get_int(m, JIM_FIELD_SEQ, &seq) == JIM_OK)
            last = std::max(last, seq);
        for (jim_field f : {JIM_FIELD_FROM, JIM_FIELD_TO})
            if (const char *n = jim_msg_get_str(m, f); n && names.size() < 4)
                names.insert(n);
    }
    jim_msg_free(m);
    return last;
}

jim_store *open_store(const std::string &dir)
{
    jim_store *st = nullptr;
    char why[512];
    int rc = jim_store_open(&st, why, sizeof why, JIM_STORE_FILES, dir.c_str());
    FUZZ_CHECK(rc == JIM_OK, "open failed (%d): %s", rc, why);
    return st;
}

void check_history(jim_store *st, const std::string &with)
{
    for (int limit : {0, 1, 3}) {
        jim_list *list = nullptr;
        FUZZ_CHECK(jim_store_history(st, &list, with.c_str(), 0, limit) == JIM_OK, "history");
        size_t n = jim_list_count(list);
        FUZZ_CHECK(n <= static_cast<size_t>(limit ? limit : 50), "%zu messages for limit %d", n,
                   limit);
        int64_t prev = INT64_MIN;
        for (size_t i = 0; i < n; i++) {
            int64_t seq = 0;
            jim_msg_get_int(jim_list_get(list, i), JIM_FIELD_SEQ, &seq);
            FUZZ_CHECK(seq > prev, "history out of order: %lld after %lld",
                       static_cast<long long>(seq), static_cast<long long>(prev));
            prev = seq;
        }
        jim_list_free(list);
    }
}

off_t file_size(const std::string &path)
{
    struct stat s;
    return ::stat(path.c_str(), &s) == 0 ? s.st_size : -1;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string dir = fuzz_scratch_dir() + "/store";
    ::mkdir(dir.c_str(), 0700);
    Parts p = split(data, size);
    auto put = [&](const char *name, const std::string &text) {
        FUZZ_CHECK(fuzz_write_file(dir + "/" + name, reinterpret_cast<const uint8_t *>(text.data()),
                                   text.size()),
                   "cannot write %s", name);
    };
    put("messages.jsonl", p.messages);
    put("contacts.jsonl", p.contacts);
    put("outgoing.jsonl", p.outgoing);

    std::set<std::string> names;
    int64_t want = expected_last_seq(p.messages, names);
    jim_store *st = open_store(dir);
    int64_t last = jim_store_last_seq(st);
    FUZZ_CHECK(last == want, "last seq %lld, the file's highest %lld", static_cast<long long>(last),
               static_cast<long long>(want));
    size_t whole = p.messages.rfind('\n');
    whole = whole == std::string::npos ? 0 : whole + 1;
    FUZZ_CHECK(file_size(dir + "/messages.jsonl") == static_cast<off_t>(whole),
               "a torn last line was not cut off");
    names.insert("#general");
    for (const std::string &n : names)
        check_history(st, n);
    jim_list *list = nullptr;
    FUZZ_CHECK(jim_store_contacts(st, &list) == JIM_OK, "contacts");
    for (size_t i = 0; i + 1 < jim_list_count(list); i++)
        FUZZ_CHECK(std::string(jim_msg_get_str(jim_list_get(list, i), JIM_FIELD_USER_ID)) <
                       jim_msg_get_str(jim_list_get(list, i + 1), JIM_FIELD_USER_ID),
                   "contacts not in name order");
    jim_list_free(list);
    FUZZ_CHECK(jim_store_outgoing(st, &list) == JIM_OK, "outgoing");
    jim_list_free(list);

    // A new message after the highest: saved, and there after reopening.
    if (last < INT64_MAX) {
        jim_msg *m = nullptr;
        FUZZ_CHECK(jim_msg_new(&m) == JIM_OK, "jim_msg_new");
        jim_msg_make_text(m, "bob", "after the fuzz");
        jim_msg_set_str(m, JIM_FIELD_FROM, "alice");
        jim_msg_set_int(m, JIM_FIELD_SEQ, last + 1);
        int added = 0;
        FUZZ_CHECK(jim_store_save_message(st, &added, m) == JIM_OK && added, "save");
        jim_store_close(st);
        st = open_store(dir);
        FUZZ_CHECK(jim_store_last_seq(st) == last + 1, "the saved message is gone");
        jim_msg_free(m);
    }
    jim_store_close(st);
    for (const char *f : {"messages.jsonl", "contacts.jsonl", "outgoing.jsonl"})
        ::unlink((dir + "/" + f).c_str());
    return 0;
}

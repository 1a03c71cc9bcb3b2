// What both client stores share: the directory they live in, and a message as a line.
#include "client_store.hh"

#include <cerrno>
#include <sys/stat.h>

namespace jim {

bool make_dirs(const std::string &dir)
{
    for (size_t at = 1; at <= dir.size(); at++) {
        if (at < dir.size() && dir[at] != '/')
            continue;
        std::string part = dir.substr(0, at);
        if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST)
            return false;
    }
    struct stat st;
    return ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool stored_line(const jim_msg &m, jim_msg &scratch, StoredLine *out)
{
    int64_t seq = 0;
    if (jim_msg_action(&m) != JIM_ACTION_MSG ||
        jim_msg_get_int(&m, JIM_FIELD_SEQ, &seq) != JIM_OK || seq <= 0)
        return false;
    scratch = m; // encoding needs a mutable object; scratch keeps its buffers
    const char *json;
    size_t len;
    if (jim_msg_encode(&scratch, &json, &len) != JIM_OK)
        return false;
    out->seq = seq;
    out->json = std::string_view(json, len - 1); // without the newline
    return true;
}

} // namespace jim

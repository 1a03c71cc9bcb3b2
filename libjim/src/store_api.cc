// The C functions of jim_store.
#include "client_store.hh"
#include "guard.hh"

#include <cstdio>
#include <cstdlib>
#include <cstring>

JIM_EXTERN(int)
jim_store_default_dir(char *buf, size_t size, const char *account, const char *host, int port)
{
    if (!buf || !account || !*account || !host || !*host || port <= 0 || port > 65535 ||
        std::strchr(account, '/') || std::strchr(host, '/'))
        return JIM_EINVAL;
    const char *xdg = std::getenv("XDG_DATA_HOME");
    const char *home = std::getenv("HOME");
    int n;
    if (xdg && *xdg == '/')
        n = std::snprintf(buf, size, "%s/jim/%s@%s_%d", xdg, account, host, port);
    else if (home && *home)
        n = std::snprintf(buf, size, "%s/.local/share/jim/%s@%s_%d", home, account, host, port);
    else
        return JIM_ENOTFOUND;
    return n > 0 && static_cast<size_t>(n) < size ? JIM_OK : JIM_ERANGE;
}

JIM_EXTERN(int)
jim_store_open(jim_store **out, char *why, size_t why_size, jim_store_kind kind, const char *dir)
{
    if (why && why_size > 0)
        *why = '\0';
    if (!out || !dir || !*dir || (why && why_size == 0))
        return JIM_EINVAL;
    *out = nullptr;
    int k = jim::raw(kind);
    if (k != JIM_STORE_SQLITE && k != JIM_STORE_FILES)
        return JIM_EINVAL;
    return jim::api_guard([&]() -> int {
        std::string reason;
        auto impl = k == JIM_STORE_SQLITE ? jim::open_sqlite_store(dir, &reason)
                                          : jim::open_file_store(dir, &reason);
        if (!impl) {
            if (why)
                std::snprintf(why, why_size, "%s", reason.c_str());
            return JIM_EIO;
        }
        *out = new jim_store{std::move(impl), dir};
        return JIM_OK;
    });
}

JIM_EXTERN(void) jim_store_close(jim_store *store)
{
    delete store;
}

JIM_EXTERN(int64_t) jim_store_last_seq(const jim_store *store)
{
    return store ? store->impl->last_seq() : 0;
}

JIM_EXTERN(int) jim_store_save_message(jim_store *store, int *added_out, const jim_msg *msg)
{
    if (added_out)
        *added_out = 0;
    if (!store || !msg)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        int rc = store->impl->save(*msg); // 0: saved now, 1: there already
        if (rc < 0)
            return rc;
        if (added_out)
            *added_out = rc == 0;
        return static_cast<int>(JIM_OK);
    });
}

JIM_EXTERN(int)
jim_store_history(jim_store *store, jim_list **out, const char *with, int64_t before, int limit)
{
    if (!store || !with || !out)
        return JIM_EINVAL;
    *out = nullptr;
    return jim::api_guard([&] {
        auto list = std::make_unique<jim_list>();
        int rc = store->impl->history(with, before, limit, *list);
        if (rc == JIM_OK)
            *out = list.release();
        return rc;
    });
}

JIM_EXTERN(int) jim_store_contacts(jim_store *store, jim_list **out)
{
    if (!store || !out)
        return JIM_EINVAL;
    *out = nullptr;
    return jim::api_guard([&] {
        std::vector<std::string> names;
        int rc = store->impl->contacts(names);
        if (rc != JIM_OK)
            return rc;
        auto list = std::make_unique<jim_list>();
        for (const std::string &n : names) {
            jim_msg &m = list->add_new();
            jim_msg_init_action(&m, JIM_ACTION_CONTACT_LIST);
            jim_msg_set_str(&m, JIM_FIELD_USER_ID, n.c_str());
        }
        *out = list.release();
        return static_cast<int>(JIM_OK);
    });
}

JIM_EXTERN(int) jim_store_outgoing(jim_store *store, jim_list **out)
{
    if (!store || !out)
        return JIM_EINVAL;
    *out = nullptr;
    return jim::api_guard([&] {
        std::vector<std::string> lines;
        int rc = store->impl->outgoing(lines);
        if (rc != JIM_OK)
            return rc;
        auto list = std::make_unique<jim_list>();
        for (const std::string &line : lines) {
            jim_msg &m = list->add_new();
            if (jim_msg_decode(&m, line.data(), line.size(), nullptr) != JIM_OK)
                list->items.pop_back(); // a damaged line: not the caller's to fail on
        }
        *out = list.release();
        return static_cast<int>(JIM_OK);
    });
}

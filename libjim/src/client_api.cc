// The C functions of jim_client: argument checks, the client's lock, and the guard that
// keeps C++ exceptions inside.
#include "client.hh"
#include "guard.hh"

#include <cstdio>
#include <mutex>

namespace {

using Lock = std::lock_guard<std::recursive_mutex>;

// A blocking request with an optional list answer.
int list_call(jim_client *c, jim_msg &req, jim_list **out)
{
    std::unique_ptr<jim_list> list;
    int rc = c->impl.call(req, nullptr, &list);
    if (out) {
        *out = nullptr;
        if (rc == JIM_OK)
            *out = list ? list.release() : new jim_list;
    }
    return rc;
}

int named_call(jim_client *c, jim_action action, const char *name)
{
    if (!name)
        return JIM_EINVAL;
    jim_msg req;
    int rc = jim_msg_make_named(&req, action, name);
    if (rc != JIM_OK)
        return c->impl.failed_here(rc, jim_strerror(rc));
    return c->impl.call(req, nullptr, nullptr);
}

} // namespace

JIM_EXTERN(int)
jim_client_new(jim_client **out, const jim_client_callbacks *callbacks, void *userdata)
{
    if (!out)
        return JIM_EINVAL;
    *out = nullptr;
    return jim::api_guard([&] {
        *out = new jim_client(callbacks, userdata);
        return JIM_OK;
    });
}

JIM_EXTERN(void) jim_client_free(jim_client *client)
{
    jim::api_guard_void([&] { delete client; });
}

JIM_EXTERN(void) jim_client_set_timeout(jim_client *client, int timeout_ms)
{
    if (!client || timeout_ms <= 0)
        return;
    Lock l(client->impl.mu);
    client->impl.timeout_ms = timeout_ms;
}

JIM_EXTERN(void) jim_client_set_reconnect(jim_client *client, int enabled, int max_backoff_ms)
{
    if (!client)
        return;
    Lock l(client->impl.mu);
    client->impl.reconnect = enabled != 0;
    if (max_backoff_ms > 0)
        client->impl.max_backoff_ms = max_backoff_ms;
}

JIM_EXTERN(int) jim_client_set_store(jim_client *client, jim_store *store)
{
    if (!client)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        client->impl.set_store(store);
        return JIM_OK;
    });
}

JIM_EXTERN(void)
jim_client_set_outgoing_callback(jim_client *client, jim_outgoing_fn fn, void *userdata)
{
    if (!client)
        return;
    Lock l(client->impl.mu);
    client->impl.set_outgoing_callback(fn, userdata);
}

JIM_EXTERN(void) jim_client_set_log(jim_client *client, jim_log *log)
{
    if (!client)
        return;
    Lock l(client->impl.mu);
    client->impl.log = log ? log : jim_log_get_default();
}

JIM_EXTERN(int) jim_client_set_tls(jim_client *client, jim_tls_mode mode, const char *ca_file)
{
    int m = client ? jim::raw(mode) : -1;
    if (m != JIM_TLS_OFF && m != JIM_TLS_VERIFY && m != JIM_TLS_INSECURE)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        return client->impl.set_tls(static_cast<jim_tls_mode>(m),
                                    ca_file && *ca_file ? ca_file : nullptr);
    });
}

JIM_EXTERN(const char *) jim_client_tls_version(const jim_client *client)
{
    if (!client)
        return nullptr;
    Lock l(const_cast<jim_client *>(client)->impl.mu);
    return client->impl.tls_version();
}

JIM_EXTERN(int) jim_client_connect(jim_client *client, const char *host, int port)
{
    if (!client || !host || !*host || port <= 0 || port > 65535)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        return client->impl.connect(host, port);
    });
}

JIM_EXTERN(int)
jim_client_register(jim_client *client, const char *account, const char *password, const char *info)
{
    if (!client || !account || !password)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        jim_msg req;
        int rc = jim_msg_make_register(&req, account, password, info);
        return rc == JIM_OK ? client->impl.call(req, nullptr, nullptr)
                            : client->impl.failed_here(rc, jim_strerror(rc));
    });
}

JIM_EXTERN(int) jim_client_login(jim_client *client, const char *account, const char *password)
{
    if (!client || !account)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        return client->impl.login(account, password);
    });
}

JIM_EXTERN(int)
jim_client_send(jim_client *client, int64_t *seq_out, int *delivered_out, const char *to,
                const char *text)
{
    if (!client || !text)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        return client->impl.send_text(to, text, seq_out, delivered_out);
    });
}

JIM_EXTERN(int)
jim_client_post(jim_client *client, char *id_out, size_t id_size, const char *to, const char *text)
{
    if (id_out && id_size > 0)
        *id_out = '\0';
    if (!client || !text || (id_out && id_size == 0))
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        std::string id;
        int rc = client->impl.post_text(to, text, nullptr, &id);
        if (rc == JIM_OK && id_out)
            std::snprintf(id_out, id_size, "%s", id.c_str());
        return rc;
    });
}

JIM_EXTERN(int)
jim_client_outgoing_state(jim_client *client, jim_outgoing_state *state_out, const char *id)
{
    if (!client || !id || !state_out)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        return client->impl.outbox().state(id, state_out) ? JIM_OK : JIM_ENOTFOUND;
    });
}

JIM_EXTERN(int) jim_client_outgoing(jim_client *client, jim_list **out)
{
    if (!client || !out)
        return JIM_EINVAL;
    *out = nullptr;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        auto list = std::make_unique<jim_list>();
        for (const jim::Outbox::Entry *e : client->impl.outbox().pending())
            list->add(e->msg);
        *out = list.release();
        return static_cast<int>(JIM_OK);
    });
}

JIM_EXTERN(int)
jim_client_send_async(jim_client *client, const char *to, const char *text, jim_reply_fn done,
                      void *userdata)
{
    if (!client || !text)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        return client->impl.send_text_async(to, text, done, userdata);
    });
}

JIM_EXTERN(int) jim_client_join(jim_client *client, const char *room)
{
    if (!client)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        return named_call(client, JIM_ACTION_JOIN, room);
    });
}

JIM_EXTERN(int) jim_client_leave(jim_client *client, const char *room)
{
    if (!client)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        return named_call(client, JIM_ACTION_LEAVE, room);
    });
}

JIM_EXTERN(int) jim_client_get_contacts(jim_client *client, jim_list **out)
{
    if (!client)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        jim_msg req;
        jim_msg_init_action(&req, JIM_ACTION_GET_CONTACTS);
        return list_call(client, req, out);
    });
}

JIM_EXTERN(int) jim_client_contact_list(jim_client *client, jim_list **out)
{
    if (!client || !out)
        return JIM_EINVAL;
    *out = nullptr;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        auto list = std::make_unique<jim_list>();
        for (const auto &[name, status] : client->impl.contacts().entries()) {
            jim_msg &m = list->add_new();
            jim_msg_init_action(&m, JIM_ACTION_CONTACT_LIST);
            jim_msg_set_str(&m, JIM_FIELD_USER_ID, name.c_str());
            jim_msg_set_str(&m, JIM_FIELD_STATUS, status.c_str());
        }
        *out = list.release();
        return static_cast<int>(JIM_OK);
    });
}

JIM_EXTERN(int)
jim_client_set_password(jim_client *client, const char *old_password, const char *new_password)
{
    if (!client || !old_password || !new_password)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        return client->impl.set_password(old_password, new_password);
    });
}

JIM_EXTERN(int) jim_client_add_contact(jim_client *client, const char *user)
{
    if (!client)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        return named_call(client, JIM_ACTION_ADD_CONTACT, user);
    });
}

JIM_EXTERN(int) jim_client_del_contact(jim_client *client, const char *user)
{
    if (!client)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        return named_call(client, JIM_ACTION_DEL_CONTACT, user);
    });
}

JIM_EXTERN(int) jim_client_get_users(jim_client *client, jim_list **out, const char *prefix)
{
    if (!client)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        jim_msg req;
        jim_msg_init_action(&req, JIM_ACTION_GET_USERS);
        if (prefix && *prefix)
            jim_msg_set_str(&req, JIM_FIELD_QUERY, prefix);
        return list_call(client, req, out);
    });
}

JIM_EXTERN(int) jim_client_get_rooms(jim_client *client, jim_list **out)
{
    if (!client)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        jim_msg req;
        jim_msg_init_action(&req, JIM_ACTION_GET_ROOMS);
        return list_call(client, req, out);
    });
}

JIM_EXTERN(int) jim_client_sync(jim_client *client, int64_t *last_seq_out, int64_t since)
{
    if (!client || since < 0)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        jim_msg req, resp;
        jim_msg_init_action(&req, JIM_ACTION_SYNC);
        jim_msg_set_int(&req, JIM_FIELD_SINCE, since);
        int rc = client->impl.call(req, &resp, nullptr);
        if (rc == JIM_OK)
            client->impl.wait_held();
        if (rc == JIM_OK && last_seq_out) {
            *last_seq_out = since;
            jim_msg_get_int(&resp, JIM_FIELD_SEQ, last_seq_out);
        }
        return rc;
    });
}

JIM_EXTERN(int)
jim_client_history(jim_client *client, jim_list **out, const char *with, int64_t before, int limit)
{
    if (!client || !with || before < 0 || limit < 0)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        client->impl.know_key(with); // to open what came encrypted
        jim_msg req;
        jim_msg_init_action(&req, JIM_ACTION_HISTORY);
        jim_msg_set_str(&req, JIM_FIELD_WITH, with);
        if (before > 0)
            jim_msg_set_int(&req, JIM_FIELD_BEFORE, before);
        if (limit > 0)
            jim_msg_set_int(&req, JIM_FIELD_LIMIT, limit);
        return list_call(client, req, out);
    });
}

JIM_EXTERN(int)
jim_client_request_async(jim_client *client, const jim_msg *request, jim_reply_fn done,
                         void *userdata)
{
    if (!client || !request || jim_msg_action(request) == JIM_ACTION_NONE)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        jim_msg req = *request;
        return client->impl.call_async(
            req, [done, userdata](int status, const jim_msg *resp, jim_list *list) {
                if (done)
                    done(userdata, status, resp, list);
            });
    });
}

JIM_EXTERN(int) jim_client_quit(jim_client *client)
{
    if (!client)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        return client->impl.quit();
    });
}

JIM_EXTERN(jim_client_state) jim_client_get_state(const jim_client *client)
{
    if (!client)
        return JIM_CLIENT_DISCONNECTED;
    Lock l(const_cast<jim_client *>(client)->impl.mu);
    return client->impl.state();
}

JIM_EXTERN(const char *) jim_client_account(const jim_client *client)
{
    if (!client || client->impl.account().empty())
        return nullptr;
    return client->impl.account().c_str();
}

JIM_EXTERN(int64_t) jim_client_last_seq(const jim_client *client)
{
    if (!client)
        return 0;
    Lock l(const_cast<jim_client *>(client)->impl.mu);
    return client->impl.last_seq();
}

JIM_EXTERN(int) jim_client_last_code(const jim_client *client)
{
    return client ? client->impl.last_code() : 0;
}

JIM_EXTERN(const jim_msg *) jim_client_last_response(const jim_client *client)
{
    return client ? client->impl.last_response() : nullptr;
}

JIM_EXTERN(const char *) jim_client_last_error(const jim_client *client)
{
    return client ? client->impl.last_error().c_str() : "";
}

JIM_EXTERN(int) jim_client_run(jim_client *client, int timeout_ms)
{
    if (!client)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        return client->impl.run(timeout_ms);
    });
}

JIM_EXTERN(int) jim_client_fd(const jim_client *client)
{
    return client ? client->impl.fd() : -1;
}

JIM_EXTERN(int) jim_client_wants_write(const jim_client *client)
{
    return client && client->impl.wants_write() ? 1 : 0;
}

JIM_EXTERN(int) jim_client_next_timeout(const jim_client *client)
{
    if (!client)
        return -1;
    Lock l(const_cast<jim_client *>(client)->impl.mu);
    return client->impl.next_timeout();
}

JIM_EXTERN(int) jim_client_on_readable(jim_client *client)
{
    if (!client)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        return client->impl.on_readable();
    });
}

JIM_EXTERN(int) jim_client_on_writable(jim_client *client)
{
    if (!client)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        return client->impl.on_writable();
    });
}

JIM_EXTERN(int) jim_client_on_timeout(jim_client *client)
{
    if (!client)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        return client->impl.on_timeout();
    });
}

JIM_EXTERN(int) jim_client_start_thread(jim_client *client)
{
    if (!client)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        return client->impl.start_thread();
    });
}

JIM_EXTERN(void) jim_client_stop_thread(jim_client *client)
{
    if (client)
        jim::api_guard_void([&] { client->impl.stop_thread(); });
}

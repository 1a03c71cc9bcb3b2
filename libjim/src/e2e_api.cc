// The C functions of jim/e2e.h: a client's end-to-end keys and a message's e2e state.
#include "client.hh"
#include "guard.hh"

#include <mutex>

namespace {
using Lock = std::lock_guard<std::recursive_mutex>;
} // namespace

JIM_EXTERN(jim_e2e_state) jim_msg_e2e_state(const jim_msg *msg)
{
    int v = 0;
    if (!msg || jim_msg_get_bool(msg, JIM_FIELD_E2E, &v) != JIM_OK)
        return JIM_E2E_PLAIN;
    return v ? JIM_E2E_DECRYPTED : JIM_E2E_FAILED;
}

JIM_EXTERN(void) jim_client_set_e2e_callback(jim_client *client, jim_e2e_fn fn, void *userdata)
{
    if (!client)
        return;
    Lock l(client->impl.mu);
    client->impl.set_e2e_callback(fn, userdata);
}

JIM_EXTERN(int) jim_client_set_key_dir(jim_client *client, const char *dir)
{
    if (!client)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        return client->impl.set_key_dir(dir && *dir ? dir : nullptr);
    });
}

JIM_EXTERN(int) jim_client_set_e2e(jim_client *client, const char *peer, int enabled)
{
    if (!client)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        client->impl.set_e2e(peer, enabled != 0);
        return static_cast<int>(JIM_OK);
    });
}

JIM_EXTERN(int) jim_client_fingerprint(jim_client *client, char *out, size_t size)
{
    if (out && size > 0)
        *out = '\0';
    if (!client || !out)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        return client->impl.fingerprint(out, size);
    });
}

JIM_EXTERN(int)
jim_client_peer_key(jim_client *client, jim_peer_key *out, const char *peer, int refresh)
{
    if (!client || !out || !peer || !*peer)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        return client->impl.peer_key(out, peer, refresh != 0);
    });
}

JIM_EXTERN(int) jim_client_trust_key(jim_client *client, const char *peer)
{
    if (!client || !peer || !*peer)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        Lock l(client->impl.mu);
        return client->impl.trust_key(peer);
    });
}

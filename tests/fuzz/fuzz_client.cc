// fuzz_client.cc — fuzz target for the client's incoming path: a libjim jim_client,
// driven through its own-event-loop calls (jim_client_on_readable and friends), fed the
// input as what a server sent after the login exchange.
//
// The client connects to a listening socket on 127.0.0.1 that this process holds, so
// libjim is used exactly as a program uses it, with no hook. Before the input the client
// has made these requests, numbered as libjim numbers its ids:
//   1 get_contacts (before logging in)  2 authenticate (answered 200 here)
//   3 msg to bob (jim_client_post)      4 history with bob     5 add_contact carol
//   6 get_users                         7 msg to #room (jim_client_send_async)
//   8 sync (only when a store is attached: one input in two, a JSON-lines store)
// In the input, `$` and a number stands for that request's id (e.g. "id":"$4"), so the
// corpus can answer requests; the rest goes to the client as it is, in chunks of sizes
// chosen from the input's hash, and then the server closes the connection.
#include "fuzz_check.hh"

#include <jim/jim.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

int listener = -1;
int port = 0;

void listen_once()
{
    if (listener >= 0)
        return;
    listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    FUZZ_CHECK(listener >= 0 && ::bind(listener, reinterpret_cast<sockaddr *>(&a), len) == 0 &&
                   ::listen(listener, 16) == 0 &&
                   ::getsockname(listener, reinterpret_cast<sockaddr *>(&a), &len) == 0,
               "cannot listen on 127.0.0.1: %s", std::strerror(errno));
    port = ntohs(a.sin_port);
}

// What the callbacks saw; each checks what libjim promises about its arguments.
struct Seen {
    int messages = 0, presences = 0, errors = 0, replies = 0, outgoing = 0;
};

void on_message(void *ud, const jim_msg *m, int)
{
    FUZZ_CHECK(jim_msg_action(m) == JIM_ACTION_MSG, "on_message with action %d", jim_msg_action(m));
    static_cast<Seen *>(ud)->messages++;
}

void on_presence(void *ud, const char *user, const char *status)
{
    FUZZ_CHECK(user && status, "presence without user or status");
    static_cast<Seen *>(ud)->presences++;
}

void on_error(void *ud, int, const char *text)
{
    FUZZ_CHECK(text != nullptr, "error without text");
    static_cast<Seen *>(ud)->errors++;
}

void on_reply(void *ud, int, const jim_msg *, const jim_list *entries)
{
    for (size_t i = 0; entries && i < jim_list_count(entries); i++)
        FUZZ_CHECK(jim_list_get(entries, i) != nullptr, "list entry %zu missing", i);
    static_cast<Seen *>(ud)->replies++;
}

void on_outgoing(void *ud, const jim_msg *m, jim_outgoing_state, const jim_msg *)
{
    FUZZ_CHECK(jim_msg_action(m) == JIM_ACTION_MSG, "outgoing callback for a non-msg");
    static_cast<Seen *>(ud)->outgoing++;
}

// Reads one line the client wrote (the server's end is blocking); "" on EOF.
std::string read_line(int fd)
{
    std::string line;
    char c;
    while (::read(fd, &c, 1) == 1 && c != '\n')
        line.push_back(c);
    return line;
}

// Discards whatever the client wrote since (presence answers to probes, requests).
void discard(int fd)
{
    char buf[65536];
    while (::recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
}

// The input with each `$N` replaced by the id of request N.
std::string with_ids(const uint8_t *data, size_t size, const std::string &prefix)
{
    std::string out;
    out.reserve(size + 64);
    for (size_t i = 0; i < size; i++) {
        if (data[i] == '$' && i + 1 < size && data[i + 1] >= '0' && data[i + 1] <= '9') {
            out += prefix;
            continue; // the digits follow as they are
        }
        out.push_back(static_cast<char>(data[i]));
    }
    return out;
}

// Gives the client its bytes while it runs: every write is followed by the client's
// turn, as a loop would run it; the client never waits on this side.
void serve(jim_client *c, int sfd, const std::string &bytes, FuzzRandom &rnd)
{
    for (size_t at = 0; at < bytes.size() && jim_client_fd(c) >= 0;) {
        size_t n = rnd.below(4) == 0 ? 1 + rnd.below(4096) : 1 + rnd.below(64);
        n = std::min(n, bytes.size() - at);
        ssize_t w = ::send(sfd, bytes.data() + at, n, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w > 0)
            at += static_cast<size_t>(w);
        else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            break;
        jim_client_on_readable(c);
        if (jim_client_wants_write(c))
            jim_client_on_writable(c);
        discard(sfd);
    }
    ::shutdown(sfd, SHUT_WR);
    // The client reads to the end and sees the close.
    for (int turns = 0; turns < 1000 && jim_client_fd(c) >= 0; turns++) {
        pollfd p{jim_client_fd(c), POLLIN, 0};
        if (::poll(&p, 1, 1000) <= 0)
            break;
        jim_client_on_readable(c);
        discard(sfd);
    }
    jim_client_on_timeout(c);
}

void remove_store_files(const std::string &dir)
{
    for (const char *f : {"messages.jsonl", "contacts.jsonl", "outgoing.jsonl",
                          "contacts.jsonl.tmp", "outgoing.jsonl.tmp"})
        ::unlink((dir + "/" + f).c_str());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    listen_once();
    uint64_t seed = fuzz_hash(data, size);
    FuzzRandom rnd(seed);
    Seen seen;
    jim_client_callbacks cb{on_message, on_presence, on_error, nullptr};
    jim_client *c = nullptr;
    FUZZ_CHECK(jim_client_new(&c, &cb, &seen) == JIM_OK, "jim_client_new");
    jim_client_set_reconnect(c, 0, 0);
    jim_client_set_outgoing_callback(c, on_outgoing, &seen);
    FUZZ_CHECK(jim_client_connect(c, "127.0.0.1", port) == JIM_OK, "connect: %s",
               jim_client_last_error(c));
    int sfd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    FUZZ_CHECK(sfd >= 0, "accept: %s", std::strerror(errno));

    // Request 1 tells the id prefix; request 2, the login, finds its answer waiting.
    jim_msg *req = nullptr;
    FUZZ_CHECK(jim_msg_new(&req) == JIM_OK, "jim_msg_new");
    jim_msg_init_action(req, JIM_ACTION_GET_CONTACTS);
    FUZZ_CHECK(jim_client_request_async(c, req, on_reply, &seen) == JIM_OK, "get_contacts");
    std::string first = read_line(sfd);
    size_t at = first.find("\"id\":\"");
    size_t dash = first.find('-', at);
    FUZZ_CHECK(at != std::string::npos && dash != std::string::npos, "no id in %s", first.c_str());
    std::string prefix = first.substr(at + 6, dash + 1 - (at + 6));
    std::string ok = "{\"response\":200,\"alert\":\"OK\",\"id\":\"" + prefix + "2\"}\n";
    FUZZ_CHECK(::send(sfd, ok.data(), ok.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(ok.size()),
               "send");
    int rc = jim_client_login(c, "alice", "password1");
    FUZZ_CHECK(rc == JIM_OK, "login: %d %s", rc, jim_client_last_error(c));

    char id[JIM_OUTGOING_ID_SIZE];
    FUZZ_CHECK(jim_client_post(c, id, sizeof id, "bob", "hello") == JIM_OK, "post");
    jim_msg_init_action(req, JIM_ACTION_HISTORY);
    jim_msg_set_str(req, JIM_FIELD_WITH, "bob");
    FUZZ_CHECK(jim_client_request_async(c, req, on_reply, &seen) == JIM_OK, "history");
    jim_msg_make_named(req, JIM_ACTION_ADD_CONTACT, "carol");
    FUZZ_CHECK(jim_client_request_async(c, req, on_reply, &seen) == JIM_OK, "add_contact");
    jim_msg_init_action(req, JIM_ACTION_GET_USERS);
    FUZZ_CHECK(jim_client_request_async(c, req, on_reply, &seen) == JIM_OK, "get_users");
    FUZZ_CHECK(jim_client_send_async(c, "#room", "hi all", on_reply, &seen) == JIM_OK, "send");
    jim_msg_free(req);

    jim_store *store = nullptr;
    const std::string dir = fuzz_scratch_dir() + "/client-store";
    if (seed & 1) {
        char why[256];
        FUZZ_CHECK(jim_store_open(&store, why, sizeof why, JIM_STORE_FILES, dir.c_str()) == JIM_OK,
                   "store: %s", why);
        jim_client_set_store(c, store);
    }
    discard(sfd);

    serve(c, sfd, with_ids(data, size, prefix), rnd);

    jim_outgoing_state state;
    jim_client_outgoing_state(c, &state, id);
    jim_list *list = nullptr;
    if (jim_client_outgoing(c, &list) == JIM_OK)
        jim_list_free(list);
    if (jim_client_contact_list(c, &list) == JIM_OK)
        jim_list_free(list);
    jim_client_last_seq(c);
    // An abortive close: no TIME_WAIT left behind, however many inputs run.
    linger l{1, 0};
    ::setsockopt(sfd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(sfd);
    jim_client_free(c);
    if (store) {
        jim_store_close(store);
        remove_store_files(dir);
    }
    return 0;
}

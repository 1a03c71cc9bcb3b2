// A client's session (session.hh).
#include "session.hh"

#include "stream.hh"

namespace jimd {

// What every connection holds while idle (W3 in doc/benchmarks.md): keep it from growing
// unnoticed. 312 bytes is a 320-byte block of glibc's malloc.
static_assert(sizeof(Session) <= 312, "Session grew: see what an idle connection costs");

Session::Session(uint64_t session_id, std::string address, ConnectionLoop &loop, SessionHost &host)
    : id(session_id), ip(std::move(address)), conn(loop, *this), host_(host)
{
}

Session::~Session() = default;

bool Session::first_handing(int64_t seq, bool remember)
{
    if (!tracking_handed)
        return true;
    if (handed && handed->count(seq))
        return false;
    if (remember) {
        if (!handed)
            handed = std::make_unique<std::unordered_set<int64_t>>();
        handed->insert(seq);
    }
    return true;
}

void Session::stop_tracking()
{
    tracking_handed = false;
    handed.reset();
}

void Session::on_request(jim_msg *m)
{
    host_.on_request(*this, m);
}

void Session::on_bad_object(jim_msg *m, const char *why, bool fatal)
{
    host_.on_bad_object(*this, m, why, fatal);
}

void Session::on_peer_closed()
{
    host_.on_peer_closed(*this);
}

void Session::on_output_drained()
{
    host_.on_output_drained(*this);
}

void Session::on_finished()
{
    host_.on_finished(*this);
}

} // namespace jimd

// Encoding what goes to sessions (replies.hh).
#include "replies.hh"

#include "line_templates.hh"

#include <ctime>

namespace jimd {

Replies::~Replies()
{
    jim_msg_free(out_);
    jim_msg_free(tmp_);
}

bool Replies::start()
{
    return jim_msg_new(&out_) == JIM_OK && jim_msg_new(&tmp_) == JIM_OK;
}

jim_msg *Replies::response(const char *id, int code, const char *text)
{
    jim_msg_init_response(out_, code, text);
    if (code >= 400 && counters_) {
        WorkerCounters::add(counters_->errors);
        WorkerCounters::add(counters_->responses[response_slot(code)]);
    }
    if (id && *id)
        jim_msg_set_str(out_, JIM_FIELD_ID, id);
    return out_;
}

jim_msg *Replies::object(jim_action action)
{
    jim_msg_init_action(out_, action);
    return out_;
}

void Replies::send(Session &s, jim_msg *m)
{
    const char *json;
    size_t len;
    jim_msg_set_dialect(m, s.dialect);
    if (jim_msg_encode(m, &json, &len) == JIM_OK)
        s.conn.send(std::string_view(json, len));
}

void Replies::ack(Session &s, const char *id, int code, const char *text, int64_t seq)
{
    char line[kAckLineMax];
    size_t n = ack_line(line, code, static_cast<int64_t>(time(nullptr)), id, seq, text);
    if (n) {
        s.conn.send(std::string_view(line, n));
        return;
    }
    jim_msg *r = response(id, code, text);
    jim_msg_set_int(r, JIM_FIELD_SEQ, seq);
    send(s, r);
}

void Replies::reply(Session &s, const char *id, int code, const char *text)
{
    send(s, response(id, code, text));
}

void Replies::reply_retry(Session &s, const char *id, int code, const char *text,
                          int64_t retry_after)
{
    jim_msg *r = response(id, code, text);
    jim_msg_set_int(r, JIM_FIELD_RETRY_AFTER, retry_after);
    send(s, r);
}

const std::string &Replies::push_line(const StoredMessage &m)
{
    if (jimd::push_line(&line_, m.time, m.client_id, m.to, m.from, m.encoding, m.text, m.seq,
                        m.plain_ascii))
        return line_; // the template: plain ASCII strings, the same bytes as below
    jim_msg_init_action(tmp_, JIM_ACTION_MSG);
    jim_msg_set_int(tmp_, JIM_FIELD_TIME, m.time);
    jim_msg_set_str(tmp_, JIM_FIELD_FROM, m.from.c_str());
    jim_msg_set_str(tmp_, JIM_FIELD_TO, m.to.c_str());
    if (!m.encoding.empty())
        jim_msg_set_str(tmp_, JIM_FIELD_ENCODING, m.encoding.c_str());
    jim_msg_set_strn(tmp_, JIM_FIELD_MESSAGE, m.text.data(), m.text.size());
    jim_msg_set_int(tmp_, JIM_FIELD_SEQ, m.seq);
    if (!m.client_id.empty())
        jim_msg_set_str(tmp_, JIM_FIELD_ID, m.client_id.c_str());
    const char *json;
    size_t len;
    jim_msg_encode(tmp_, &json, &len);
    line_.assign(json, len);
    return line_;
}

void Replies::deliver(Session &s, std::string_view jim_line)
{
    if (counters_)
        WorkerCounters::add(counters_->deliveries);
    push(s, jim_line);
}

// The course's dialects (reference and database course) share one form of a push, made
// once per push however many sessions read it: a general chat's fan-out re-encodes nothing
// per session.
void Replies::push(Session &s, std::string_view jim_line)
{
    if (counters_)
        WorkerCounters::add(counters_->messages_out);
    if (s.dialect == JIM_DIALECT_JIM) {
        s.conn.send(jim_line);
        return;
    }
    if (course_of_ != jim_line) {
        course_line_.clear();
        course_of_ = jim_line;
        if (jim_msg_decode(tmp_, jim_line.data(), jim_line.size(), limits_) == JIM_OK) {
            jim_msg_set_dialect(tmp_, JIM_DIALECT_REFERENCE);
            const char *json;
            size_t len;
            if (jim_msg_encode(tmp_, &json, &len) == JIM_OK)
                course_line_.assign(json, len);
        }
    }
    if (!course_line_.empty())
        s.conn.send(course_line_);
}

} // namespace jimd

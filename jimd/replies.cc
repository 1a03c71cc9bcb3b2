// Encoding what goes to sessions (replies.hh).
#include "replies.hh"

#include "line_templates.hh"

#include <algorithm>
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
    end_run();
    send_now(s, m);
}

void Replies::send_now(Session &s, jim_msg *m)
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
    if (n && run_.attach_ack(s, std::string_view(line, n)))
        return; // written in its line's place
    end_run();
    if (n) {
        s.conn.send(std::string_view(line, n));
        return;
    }
    jim_msg *r = response(id, code, text);
    jim_msg_set_int(r, JIM_FIELD_SEQ, seq);
    send_now(s, r);
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
    end_run();
    if (counters_)
        WorkerCounters::add(counters_->deliveries);
    push_now(s, jim_line);
}

void Replies::deliver_room(const std::vector<Session *> &members, std::string_view jim_line,
                           uint64_t except)
{
    if (!runs_) {
        for (Session *s : members)
            if (s->id != except && !s->conn.closing())
                deliver(*s, jim_line);
        return;
    }
    if (!run_.empty() && run_.members() != &members)
        write_run();
    if (run_.empty())
        run_.start(members);
    run_.add(jim_line, except);
}

// Each member gets the lines not its own in order, and a sender its answers in its lines'
// places (also when it is not a member here). A member that sent none of them, reads jim's
// dialect and is not paced gets the whole run in one append; those reading the course's
// dialect or paced (one object a write) get it line by line, all of them a line at a time,
// so that each line is converted once.
void Replies::write_run()
{
    run_.close();
    size_t n = run_.count();
    served_.clear();
    by_line_.clear();
    for (Session *s : *run_.members()) {
        if (s->conn.closing())
            continue;
        bool sender = run_.sent_by(s->id);
        if (sender)
            served_.push_back(s->id);
        if (s->dialect != JIM_DIALECT_JIM || s->conn.paced()) {
            by_line_.push_back(s);
        } else if (!sender) {
            if (counters_) {
                WorkerCounters::add(counters_->deliveries, n);
                WorkerCounters::add(counters_->messages_out, n);
            }
            s->conn.send(run_.text());
        } else {
            for (size_t i = 0; i < n; i++)
                write_run_line(*s, i);
        }
    }
    for (size_t i = 0; i < n; i++)
        for (Session *s : by_line_)
            write_run_line(*s, i);
    std::sort(served_.begin(), served_.end());
    for (size_t i = 0; i < n; i++)
        if (Session *to = run_.acked(i);
            to && !std::binary_search(served_.begin(), served_.end(), to->id))
            to->conn.send(run_.ack(i));
    run_.clear();
}

// Line i of the run to member s: the line, or if s sent it, its answer.
void Replies::write_run_line(Session &s, size_t i)
{
    if (run_.except(i) != s.id) {
        if (counters_)
            WorkerCounters::add(counters_->deliveries);
        push_now(s, run_.line(i));
    } else if (Session *to = run_.acked(i)) {
        to->conn.send(run_.ack(i));
    }
}

// The course's dialects (reference and database course) share one form of a push, made
// once per push however many sessions read it: a general chat's fan-out re-encodes nothing
// per session.
void Replies::push(Session &s, std::string_view jim_line)
{
    end_run();
    push_now(s, jim_line);
}

void Replies::push_now(Session &s, std::string_view jim_line)
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

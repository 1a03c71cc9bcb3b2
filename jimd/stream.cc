// Long replies, a page at a time (stream.hh).
#include "stream.hh"

namespace jimd {

void Stream::start(Context &cx, Session &s, Kind kind, int64_t cursor, const char *request_id,
                   bool recheck, std::shared_ptr<const std::vector<int64_t>> only)
{
    s.stream = std::make_unique<Stream>(kind, cursor, request_id ? request_id : "", recheck,
                                        std::move(only));
    s.conn.hold(Connection::kHoldReply);
    pump(cx, s);
}

bool Stream::next_page(Context &cx, Session &s, std::vector<StoredMessage> *page,
                       std::vector<int64_t> *rows)
{
    if (kind_ == Kind::Sync)
        return cx.journal.read_since(
            {s.user, s.user_id, cx.settings.str(S_GENERAL_CHAT), s.general_since}, cursor_, kPage,
            page);
    return cx.journal.read_pending(s.user, cursor_, kPage, page, rows);
}

void Stream::pump(Context &cx, Session &s)
{
    std::vector<StoredMessage> page;
    std::vector<int64_t> rows; // Pending: the seqs of the rows read
    while (s.stream && !s.conn.closing() && s.conn.output_bytes() < Connection::kHighWater) {
        Stream &st = *s.stream;
        page.clear();
        rows.clear();
        if (!st.next_page(cx, s, &page, &rows)) {
            JIM_LOG(cx.log, JIM_LOG_ERROR, cx.tag, "reading messages for %s failed: %s",
                    s.user.c_str(), cx.journal.error().c_str());
            if (st.kind_ == Kind::Sync)
                cx.out.reply(s, st.request_id_.c_str(), JIM_RESP_SERVER_ERROR, "database error");
            s.stream.reset();
            s.conn.release(Connection::kHoldReply);
            return;
        }
        for (const StoredMessage &m : page) {
            if (st.kind_ == Kind::Sync)
                cx.out.push(s, m);                                     // a replay, not a delivery
            else if (st.wanted(m.seq) && s.first_handing(m.seq, true)) // its live copy may
                cx.out.deliver(s, m);                                  // still be on its way
        }
        size_t read = st.kind_ == Kind::Sync ? page.size() : rows.size();
        if (st.kind_ == Kind::Sync && !page.empty())
            st.cursor_ = page.back().seq;
        if (!rows.empty()) { // handed: exactly these rows go with the next commit
            st.cursor_ = rows.back();
            if (st.only_)
                std::erase_if(rows, [&st](int64_t seq) { return !st.wanted(seq); });
            if (!rows.empty())
                cx.journal.clear_pending(s.user, rows);
        }
        if (read < static_cast<size_t>(kPage) || (st.only_ && st.cursor_ >= st.only_->back()))
            finish(cx, s);
    }
}

// The last page was sent.
void Stream::finish(Context &cx, Session &s)
{
    std::unique_ptr<Stream> st = std::move(s.stream);
    s.conn.release(Connection::kHoldReply);
    if (st->kind_ == Kind::Sync) {
        jim_msg *r = cx.out.response(st->request_id_.c_str(), JIM_RESP_OK);
        jim_msg_set_int(r, JIM_FIELD_SEQ, st->cursor_);
        cx.out.send(s, r);
        return;
    }
    offline_delivery_done(cx, s, st->recheck_);
}

} // namespace jimd

// The plain-file client store: messages.jsonl (one msg object per line, appended in
// the order received), contacts.jsonl (one contact_list object per line) and
// outgoing.jsonl (the msg objects not answered yet, oldest first), the last two
// replaced whole through a temporary file and rename. At open the message file is read once
// into an index of (seq, from, to, offset); history reads the lines back by offset.
// A torn last line (a crash in the middle of a write) is cut off at open.
#include "client_store.hh"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_set>
#include <vector>

namespace jim {

namespace {

bool write_all(int fd, const std::string &s)
{
    size_t done = 0;
    while (done < s.size()) {
        ssize_t n = ::write(fd, s.data() + done, s.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += static_cast<size_t>(n);
    }
    return true;
}

bool read_file(const std::string &path, std::string &out)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return n == 0;
}

// Replaces path with data through a temporary file and rename, so a reader finds the old
// file or the new one, never a part.
int replace_file(const std::string &path, const std::string &data)
{
    std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return JIM_EIO;
    bool ok = write_all(fd, data);
    ok = ::close(fd) == 0 && ok;
    ok = ok && ::rename(tmp.c_str(), path.c_str()) == 0;
    return ok ? JIM_OK : JIM_EIO;
}

class FileStore final : public ClientStore {
  public:
    ~FileStore() override
    {
        flush();
        if (fd_ >= 0)
            ::close(fd_);
    }

    bool open(const std::string &dir)
    {
        dir_ = dir;
        std::string path = dir + "/messages.jsonl", data;
        if (!read_file(path, data))
            return false;
        size_t good = data.rfind('\n');
        good = good == std::string::npos ? 0 : good + 1;
        fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd_ < 0)
            return false;
        if (good < data.size() && ::ftruncate(fd_, static_cast<off_t>(good)) != 0)
            return false;
        size_ = good;
        jim_msg m;
        for (size_t at = 0; at < good;) {
            size_t nl = data.find('\n', at);
            // Only what save() writes counts: a msg with a seq. Any other object (a
            // hand-edited or damaged line) must not move last_seq(), which sync starts from.
            int64_t seq = 0;
            if (jim_msg_decode(&m, data.data() + at, nl - at, nullptr) == JIM_OK &&
                jim_msg_action(&m) == JIM_ACTION_MSG &&
                jim_msg_get_int(&m, JIM_FIELD_SEQ, &seq) == JIM_OK && seq > 0)
                index(m, at, nl - at);
            at = nl + 1;
        }
        std::string contacts;
        if (!read_file(dir + "/contacts.jsonl", contacts))
            return false;
        for (size_t at = 0; at < contacts.size();) {
            size_t nl = contacts.find('\n', at);
            if (nl == std::string::npos)
                break;
            if (jim_msg_decode(&m, contacts.data() + at, nl - at, nullptr) == JIM_OK &&
                jim_msg_has(&m, JIM_FIELD_USER_ID))
                contacts_.insert(jim_msg_get_str(&m, JIM_FIELD_USER_ID));
            at = nl + 1;
        }
        std::string out;
        if (!read_file(dir + "/outgoing.jsonl", out))
            return false;
        for (size_t at = 0; at < out.size();) {
            size_t nl = out.find('\n', at);
            if (nl == std::string::npos)
                break;
            if (jim_msg_decode(&m, out.data() + at, nl - at, nullptr) == JIM_OK &&
                jim_msg_has(&m, JIM_FIELD_ID))
                outgoing_.emplace_back(jim_msg_get_str(&m, JIM_FIELD_ID), out.substr(at, nl - at));
            at = nl + 1;
        }
        return true;
    }

    int64_t last_seq() const override { return last_seq_; }

    int save(const jim_msg &m) override
    {
        StoredLine line;
        if (!stored_line(m, scratch_, &line))
            return JIM_EINVAL;
        if (seqs_.count(line.seq))
            return 1;
        index(m, size_ + pending_.size(), line.json.size());
        pending_.append(line.json);
        pending_.push_back('\n');
        if (depth_ == 0 && !flush())
            return JIM_EIO;
        return JIM_OK;
    }

    void begin() override { depth_++; }
    void commit() override
    {
        if (depth_ > 0 && --depth_ == 0)
            flush();
    }

    int history(const std::string &with, int64_t before, int limit, jim_list &out) override
    {
        flush();
        if (limit <= 0)
            limit = 50;
        std::vector<const Entry *> hits;
        for (auto it = entries_.rbegin();
             it != entries_.rend() && hits.size() < static_cast<size_t>(limit); ++it) {
            const Entry &e = it->second;
            bool match = e.to == with || (e.from == with && !is_room(e.to));
            if (match && (before <= 0 || it->first < before))
                hits.push_back(&e);
        }
        int rfd = ::open((dir_ + "/messages.jsonl").c_str(), O_RDONLY | O_CLOEXEC);
        if (rfd < 0)
            return JIM_EIO;
        std::string line;
        for (auto it = hits.rbegin(); it != hits.rend(); ++it) {
            line.resize((*it)->len);
            if (::pread(rfd, line.data(), line.size(), static_cast<off_t>((*it)->off)) !=
                static_cast<ssize_t>(line.size()))
                continue;
            jim_msg &m = out.add_new();
            if (jim_msg_decode(&m, line.data(), line.size(), nullptr) != JIM_OK)
                out.items.pop_back();
        }
        ::close(rfd);
        return JIM_OK;
    }

    int contacts(std::vector<std::string> &out) override
    {
        out.insert(out.end(), contacts_.begin(), contacts_.end());
        std::sort(out.begin(), out.end());
        return JIM_OK;
    }
    int set_contacts(const std::vector<std::string> &names) override
    {
        contacts_.clear();
        contacts_.insert(names.begin(), names.end());
        return write_contacts();
    }
    int add_contact(const std::string &name) override
    {
        contacts_.insert(name);
        return write_contacts();
    }
    int del_contact(const std::string &name) override
    {
        contacts_.erase(name);
        return write_contacts();
    }

    int add_outgoing(const std::string &id, std::string_view json) override
    {
        for (const auto &[have, line] : outgoing_)
            if (have == id)
                return JIM_OK;
        outgoing_.emplace_back(id, std::string(json));
        return write_outgoing();
    }
    int drop_outgoing(const std::string &id) override
    {
        size_t before = outgoing_.size();
        std::erase_if(outgoing_, [&](const auto &o) { return o.first == id; });
        return outgoing_.size() == before ? JIM_OK : write_outgoing();
    }
    int outgoing(std::vector<std::string> &out) override
    {
        for (const auto &o : outgoing_)
            out.push_back(o.second);
        return JIM_OK;
    }

  private:
    struct Entry {
        std::string from, to;
        size_t off, len;
    };

    void index(const jim_msg &m, size_t off, size_t len)
    {
        int64_t seq = 0;
        jim_msg_get_int(&m, JIM_FIELD_SEQ, &seq);
        const char *from = jim_msg_get_str(&m, JIM_FIELD_FROM);
        const char *to = jim_msg_get_str(&m, JIM_FIELD_TO);
        seqs_.insert(seq);
        entries_[seq] = Entry{from ? from : "", to ? to : "", off, len};
        last_seq_ = std::max(last_seq_, seq);
    }

    bool flush()
    {
        if (pending_.empty())
            return true;
        bool ok = write_all(fd_, pending_);
        if (ok)
            size_ += pending_.size();
        pending_.clear();
        return ok;
    }

    int write_contacts()
    {
        std::vector<std::string> names;
        contacts(names);
        std::string data;
        jim_msg m;
        for (const std::string &n : names) {
            jim_msg_init_action(&m, JIM_ACTION_CONTACT_LIST);
            jim_msg_set_str(&m, JIM_FIELD_USER_ID, n.c_str());
            jim_msg_set_int(&m, JIM_FIELD_TIME, 0);
            const char *json;
            size_t len;
            if (jim_msg_encode(&m, &json, &len) == JIM_OK)
                data.append(json, len);
        }
        return replace_file(dir_ + "/contacts.jsonl", data);
    }

    int write_outgoing()
    {
        std::string data;
        for (const auto &o : outgoing_) {
            data += o.second;
            data += '\n';
        }
        return replace_file(dir_ + "/outgoing.jsonl", data);
    }

    std::string dir_;
    int fd_ = -1;
    size_t size_ = 0;     // bytes of whole lines in the file
    std::string pending_; // lines saved but not yet written (inside begin/commit)
    jim_msg scratch_;     // encodes the message being saved
    int depth_ = 0;
    std::unordered_set<int64_t> seqs_;
    std::map<int64_t, Entry> entries_;
    std::unordered_set<std::string> contacts_;
    std::vector<std::pair<std::string, std::string>> outgoing_; // (id, JSON line), oldest first
    int64_t last_seq_ = 0;
};

} // namespace

std::unique_ptr<ClientStore> open_file_store(const std::string &dir, std::string *why)
{
    if (!make_dirs(dir)) {
        *why = "cannot create " + dir + ": " + std::strerror(errno);
        return nullptr;
    }
    auto s = std::make_unique<FileStore>();
    errno = 0;
    if (!s->open(dir)) {
        *why = dir + ": " + std::strerror(errno ? errno : EIO);
        return nullptr;
    }
    return s;
}

} // namespace jim

// The crash loop's ledger and its check (see ledger.hh).
#include "ledger.hh"

#include <algorithm>

namespace crash {

void Tally::add(const Tally &t)
{
    acked += t.acked;
    refused += t.refused;
    unknown += t.unknown;
    unknown_stored += t.unknown_stored;
    checked += t.checked;
    lost += t.lost;
    duplicated += t.duplicated;
    refused_present += t.refused_present;
    phantom += t.phantom;
    wrong_seq += t.wrong_seq;
    pushed_checked += t.pushed_checked;
    push_lost += t.push_lost;
    push_duplicated += t.push_duplicated;
    for (const std::string &e : t.examples)
        if (examples.size() < 10)
            examples.push_back(e);
}

bool Tally::clean() const
{
    return lost == 0 && duplicated == 0 && refused_present == 0 && phantom == 0 && wrong_seq == 0 &&
           push_lost == 0 && push_duplicated == 0;
}

std::string Ledger::add(int round, const std::string &from, const std::string &to)
{
    std::string id = "r" + std::to_string(round) + "." + std::to_string(++next_);
    Entry &e = entries_[id];
    e.from = from;
    e.to = to;
    e.round = round;
    return id;
}

void Ledger::answered(const std::string &id, int code, int64_t seq)
{
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.fate != Fate::InFlight)
        return;
    it->second.code = code;
    if (code == 200 || code == 202) {
        it->second.fate = Fate::Acked;
        it->second.seq = seq;
    } else {
        it->second.fate = Fate::Refused;
    }
}

void Ledger::unanswered(const std::string &id)
{
    auto it = entries_.find(id);
    if (it != entries_.end() && it->second.fate == Fate::InFlight)
        it->second.fate = Fate::Unknown;
}

void Ledger::set_room(const std::string &room, const std::vector<std::string> &members)
{
    rooms_[room] = members;
}

std::vector<std::string> Ledger::viewers(const Entry &e) const
{
    if (!e.to.empty() && e.to[0] == '#') {
        auto it = rooms_.find(e.to);
        return it == rooms_.end() ? std::vector<std::string>{} : it->second;
    }
    return {e.from, e.to};
}

Tally Ledger::check(const std::map<std::string, Found> &found, int round,
                    const std::vector<std::string> &push_users)
{
    Tally t;
    auto note = [&t](std::string what) {
        if (t.examples.size() < 10)
            t.examples.push_back(std::move(what));
    };
    for (auto &[id, e] : entries_) {
        if (e.fate == Fate::InFlight)
            e.fate = Fate::Unknown; // the load is over: no answer will come
        if (e.round == round) {
            t.acked += e.fate == Fate::Acked;
            t.refused += e.fate == Fate::Refused;
            t.unknown += e.fate == Fate::Unknown;
        }
        bool stored = false;
        for (const std::string &v : viewers(e)) {
            auto f = found.find(v);
            if (f == found.end())
                continue;
            auto s = f->second.synced.find(id);
            int times = s == f->second.synced.end() ? 0 : s->second;
            stored = stored || times > 0;
            if (e.fate == Fate::Acked) {
                t.checked++;
                if (times == 0) {
                    t.lost++;
                    note("lost: " + id + " (" + e.from + " to " + e.to + ", seq " +
                         std::to_string(e.seq) + ") not in " + v + "'s sync");
                } else if (f->second.seq.at(id) != e.seq) {
                    t.wrong_seq++;
                    note("seq: " + id + " acked as " + std::to_string(e.seq) + ", synced as " +
                         std::to_string(f->second.seq.at(id)));
                }
            }
            if (times > 1) {
                t.duplicated++;
                note("duplicated: " + id + " (seq " + std::to_string(f->second.seq.at(id)) + ") " +
                     std::to_string(times) + " times in " + v + "'s sync");
            }
            if (times > 0 && e.fate == Fate::Refused) {
                t.refused_present++;
                note("refused (" + std::to_string(e.code) + ") yet stored: " + id);
            }
        }
        if (e.round == round && e.fate == Fate::Unknown && stored)
            t.unknown_stored++;
    }
    // Nothing synced that was never sent.
    for (const auto &[user, f] : found)
        for (const auto &[id, times] : f.synced)
            if (!entries_.count(id)) {
                t.phantom++;
                note("phantom: " + user + " synced " + id + ", never sent");
            }
    // Offline delivery: what each user away during the round was handed at its login.
    for (const std::string &u : push_users) {
        auto f = found.find(u);
        if (f == found.end())
            continue;
        std::unordered_map<std::string, int> times;
        for (const std::string &id : f->second.pushed)
            times[id]++;
        for (auto &[id, e] : entries_) {
            if (e.to != u || e.round != round || e.fate == Fate::Refused)
                continue;
            int n = times.count(id) ? times[id] : 0;
            if (e.fate == Fate::Acked) {
                t.pushed_checked++;
                if (n == 0) {
                    t.push_lost++;
                    note("not pushed at login: " + id + " to " + u);
                }
            }
        }
        for (auto &[id, n] : times) {
            if (n > 1 || pushed_before_[id] > 0) {
                t.push_duplicated++;
                note("pushed again: " + id + " to " + u);
            }
            pushed_before_[id]++;
        }
    }
    return t;
}

} // namespace crash

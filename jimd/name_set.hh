// Sets and maps of names (users, rooms) asked about by std::string_view without making a
// string, and the lazy form a session keeps its rooms and contacts in: an empty one is a
// null pointer (8 bytes, no allocation) instead of an empty hash table (56 bytes), since
// most sessions join no room and have no contact.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace jimd {

// A hash of names that takes a std::string_view as well as a std::string. Inline, eight
// bytes at a time, multiplied and folded: names are short, and std::hash's out-of-line
// Murmur cost more than the rest of a look-up (a message looks its recipient up 3-4 times).
// Not noexcept on purpose: then libstdc++'s tables keep each name's hash beside it (as with
// std::hash), and a look-up walks a bucket comparing those instead of hashing the next
// name to find the bucket's end.
struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const
    {
        constexpr uint64_t k = 0x9e3779b97f4a7c15ULL;
        const char *p = s.data();
        size_t n = s.size();
        uint64_t h = (n + 1) * k;
        auto mix = [&h](uint64_t w) {
            h = (h ^ w) * k;
            h ^= h >> 32;
        };
        for (; n >= 8; p += 8, n -= 8) {
            uint64_t w;
            std::memcpy(&w, p, 8);
            mix(w);
        }
        if (n >= 4) { // the last 4..7 bytes as two words that may overlap
            uint32_t a, b;
            std::memcpy(&a, p, 4);
            std::memcpy(&b, p + n - 4, 4);
            mix(uint64_t{a} << 32 | b);
        } else if (n > 0) {
            auto at = [p](size_t i) { return uint64_t{static_cast<unsigned char>(p[i])}; };
            mix(at(0) << 16 | at(n / 2) << 8 | at(n - 1));
        }
        h *= k; // a last mix, so that the low bits depend on every byte too
        return static_cast<size_t>(h ^ h >> 32);
    }
};
using NameSet = std::unordered_set<std::string, NameHash, std::equal_to<>>;
// A map from names, asked about by std::string_view as well.
template <class T> using NameMap = std::unordered_map<std::string, T, NameHash, std::equal_to<>>;

// The value of name in map, made (value-initialized) if it is not there: operator[] for a
// std::string_view, which makes a string only for a new name.
template <class T> T &at_name(NameMap<T> &map, std::string_view name)
{
    auto it = map.find(name);
    if (it == map.end())
        it = map.emplace(std::string(name), T{}).first;
    return it->second;
}

// A NameSet made on the first insert and freed when the last name leaves.
class LazyNameSet {
  public:
    // Whether name is in it (0 or 1).
    size_t count(std::string_view name) const
    {
        return set_ && set_->find(name) != set_->end() ? 1 : 0;
    }
    bool empty() const { return !set_; }
    size_t size() const { return set_ ? set_->size() : 0; }
    // True when name was not in it yet.
    bool insert(const std::string &name)
    {
        if (!set_)
            set_ = std::make_unique<NameSet>();
        return set_->insert(name).second;
    }
    // True when name was in it.
    bool erase(const std::string &name)
    {
        if (!set_ || set_->erase(name) == 0)
            return false;
        if (set_->empty())
            set_.reset();
        return true;
    }
    // Replaces the contents with [first, last) (nothing allocated when it is empty).
    template <class It> void assign(It first, It last)
    {
        set_.reset();
        for (; first != last; ++first)
            insert(*first);
    }
    NameSet::const_iterator begin() const { return set_ ? set_->begin() : none().begin(); }
    NameSet::const_iterator end() const { return set_ ? set_->end() : none().end(); }

  private:
    static const NameSet &none()
    {
        static const NameSet empty_set;
        return empty_set;
    }
    std::unique_ptr<NameSet> set_;
};

} // namespace jimd

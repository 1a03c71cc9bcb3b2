// The sessions of one user on this worker, as the router lists them: nearly always one, so
// one pointer is kept inline and only a second session makes an array. 16 bytes, against a
// std::vector's 24 plus a heap block of 32 for its one pointer.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <span>

namespace jimd {

class Session;

class SessionList {
  public:
    SessionList() = default;
    ~SessionList()
    {
        if (cap_ > 1)
            std::free(many_);
    }
    SessionList(const SessionList &) = delete;
    SessionList &operator=(const SessionList &) = delete;

    // Appends s (throws std::bad_alloc when out of memory, as std::vector would).
    void push_back(Session *s)
    {
        if (size_ == cap_)
            grow();
        data()[size_++] = s;
    }
    // Removes s (every occurrence), keeping the order of the rest.
    void erase(Session *s)
    {
        Session **d = data();
        uint32_t kept = 0;
        for (uint32_t i = 0; i < size_; i++)
            if (d[i] != s)
                d[kept++] = d[i];
        size_ = kept;
    }
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    Session *const *begin() const { return data(); }
    Session *const *end() const { return data() + size_; }
    std::span<Session *const> view() const { return {data(), size_}; }

  private:
    Session **data() { return cap_ > 1 ? many_ : &one_; }
    Session *const *data() const { return cap_ > 1 ? many_ : &one_; }
    void grow()
    {
        uint32_t cap = cap_ * 2;
        auto *bigger = static_cast<Session **>(std::malloc(cap * sizeof(Session *)));
        if (!bigger)
            throw std::bad_alloc();
        std::memcpy(bigger, data(), size_ * sizeof(Session *));
        if (cap_ > 1)
            std::free(many_);
        many_ = bigger;
        cap_ = cap;
    }

    union {
        Session *one_ = nullptr; // while cap_ is 1
        Session **many_;         // cap_ entries, from malloc
    };
    uint32_t size_ = 0;
    uint32_t cap_ = 1;
};

} // namespace jimd

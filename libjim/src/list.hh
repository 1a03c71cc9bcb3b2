// jim_list: an owned sequence of JIM objects handed to C callers (contacts, rooms, history).
#pragma once

#include "message.hh"

#include <jim/store.h>

#include <memory>
#include <vector>

struct jim_list {
    std::vector<std::unique_ptr<jim_msg>> items;

    // Appends a copy of m.
    void add(const jim_msg &m) { items.push_back(std::make_unique<jim_msg>(m)); }
    // Appends a new empty object and returns it.
    jim_msg &add_new()
    {
        items.push_back(std::make_unique<jim_msg>());
        return *items.back();
    }
};

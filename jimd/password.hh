// Password hashing: salted scrypt (run on a worker's helper thread: see helper.hh).
#pragma once

#include <cstdint>
#include <string>

namespace jimd {

// Makes "scrypt$N$r$p$salt$hash" (base64 parts) for password with a fresh random salt.
bool password_hash(const std::string &password, uint64_t n, std::string *out);
// A stored hash with cost n that no password matches: checking a log-in for an unknown
// account against it takes as long as for a real one.
std::string password_dummy(uint64_t n);
// True when password matches stored (compared in constant time).
bool password_verify(const std::string &password, const std::string &stored);

} // namespace jimd

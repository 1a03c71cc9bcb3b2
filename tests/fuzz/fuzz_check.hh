// fuzz_check.hh — what every fuzz target shares: a check that stops the run with a
// message (libFuzzer keeps the input as a crash), a small seeded random generator for
// choices made from the input, and a scratch directory for targets that need files.
#pragma once

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

// Stops the process when cond is false: an invariant of the code under test broke.
#define FUZZ_CHECK(cond, ...)                                  \
    do {                                                       \
        if (!(cond))                                           \
            fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
    } while (0)

[[noreturn]] inline void fuzz_fail(const char *file, int line, const char *cond, const char *fmt,
                                   ...) __attribute__((format(printf, 4, 5)));

[[noreturn]] inline void fuzz_fail(const char *file, int line, const char *cond, const char *fmt,
                                   ...)
{
    std::fprintf(stderr, "%s:%d: check failed: %s: ", file, line, cond);
    va_list ap;
    va_start(ap, fmt);
    std::vfprintf(stderr, fmt, ap);
    va_end(ap);
    std::fputc('\n', stderr);
    std::abort();
}

// FNV-1a of the input: seeds the choices a target makes (chunk sizes, limits), so a
// corpus file replays the same way every time and stays plain protocol bytes.
inline uint64_t fuzz_hash(const uint8_t *data, size_t size)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 1099511628211ull;
    return h;
}

// xorshift64*: small and fast; never zero.
struct FuzzRandom {
    uint64_t s;
    explicit FuzzRandom(uint64_t seed) : s(seed ? seed : 0x9e3779b97f4a7c15ull) {}
    uint64_t next()
    {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        return s * 2685821657736338717ull;
    }
    // A number in [0, n).
    size_t below(size_t n) { return n ? static_cast<size_t>(next() % n) : 0; }
};

// A directory of this process's own under /tmp, made once and kept for the run.
const std::string &fuzz_scratch_dir();

// Writes data to path (replacing it); false on failure.
bool fuzz_write_file(const std::string &path, const uint8_t *data, size_t size);

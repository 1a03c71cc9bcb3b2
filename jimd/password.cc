// scrypt password hashes (OpenSSL).
#include "password.hh"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <fcntl.h>
#include <unistd.h>
#include <vector>

namespace jimd {

namespace {

constexpr uint64_t kR = 8, kP = 1;
constexpr size_t kSaltBytes = 16, kKeyBytes = 32;

std::string b64(const unsigned char *p, size_t n)
{
    std::string out(4 * ((n + 2) / 3) + 1, '\0');
    int len =
        EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()), p, static_cast<int>(n));
    out.resize(static_cast<size_t>(len));
    return out;
}

bool unb64(const std::string &s, std::vector<unsigned char> *out)
{
    out->assign(3 * s.size() / 4 + 3, 0);
    int len = EVP_DecodeBlock(out->data(), reinterpret_cast<const unsigned char *>(s.data()),
                              static_cast<int>(s.size()));
    if (len < 0)
        return false;
    size_t pad = s.size() >= 2 ? (s[s.size() - 1] == '=') + (s[s.size() - 2] == '=') : 0;
    out->resize(static_cast<size_t>(len) - pad);
    return true;
}

bool derive(const std::string &password, const unsigned char *salt, size_t saltlen, uint64_t n,
            uint64_t r, uint64_t p, unsigned char *key, size_t keylen)
{
    uint64_t maxmem = 128 * r * (n + p + 2) + (1u << 20);
    return EVP_PBE_scrypt(password.data(), password.size(), salt, saltlen, n, r, p, maxmem, key,
                          keylen) == 1;
}

} // namespace

bool password_hash(const std::string &password, uint64_t n, std::string *out)
{
    unsigned char salt[kSaltBytes], key[kKeyBytes];
    if (RAND_bytes(salt, sizeof salt) != 1 ||
        !derive(password, salt, sizeof salt, n, kR, kP, key, sizeof key))
        return false;
    *out = "scrypt$" + std::to_string(n) + "$" + std::to_string(kR) + "$" + std::to_string(kP) +
           "$" + b64(salt, sizeof salt) + "$" + b64(key, sizeof key);
    OPENSSL_cleanse(key, sizeof key);
    return true;
}

std::string password_dummy(uint64_t n)
{
    unsigned char zero[kKeyBytes] = {};
    return "scrypt$" + std::to_string(n) + "$" + std::to_string(kR) + "$" + std::to_string(kP) +
           "$" + b64(zero, kSaltBytes) + "$" + b64(zero, sizeof zero);
}

bool password_verify(const std::string &password, const std::string &stored)
{
    std::vector<std::string> part;
    size_t start = 0;
    for (size_t i = 0; i <= stored.size(); i++) {
        if (i == stored.size() || stored[i] == '$') {
            part.push_back(stored.substr(start, i - start));
            start = i + 1;
        }
    }
    if (part.size() != 6 || part[0] != "scrypt")
        return false;
    uint64_t n = std::strtoull(part[1].c_str(), nullptr, 10);
    uint64_t r = std::strtoull(part[2].c_str(), nullptr, 10);
    uint64_t p = std::strtoull(part[3].c_str(), nullptr, 10);
    std::vector<unsigned char> salt, want;
    if (!n || !r || !p || n > (1u << 20) || r > 32 || p > 16 || !unb64(part[4], &salt) ||
        !unb64(part[5], &want) || want.empty() || want.size() > 64)
        return false;
    std::vector<unsigned char> got(want.size());
    if (!derive(password, salt.data(), salt.size(), n, r, p, got.data(), got.size()))
        return false;
    bool same = CRYPTO_memcmp(got.data(), want.data(), want.size()) == 0;
    OPENSSL_cleanse(got.data(), got.size());
    return same;
}

} // namespace jimd

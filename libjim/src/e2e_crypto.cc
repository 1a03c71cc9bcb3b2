// The §7 construction through OpenSSL's EVP API (e2e_crypto.hh).
#include "e2e_crypto.hh"
#include "base64.hh"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <memory>

namespace jim::e2e {

namespace {

struct PkeyFree {
    void operator()(EVP_PKEY *p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX *p) const { EVP_PKEY_CTX_free(p); }
};
struct KdfCtxFree {
    void operator()(EVP_KDF_CTX *p) const { EVP_KDF_CTX_free(p); }
};
struct CipherCtxFree {
    void operator()(EVP_CIPHER_CTX *p) const { EVP_CIPHER_CTX_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using KdfCtx = std::unique_ptr<EVP_KDF_CTX, KdfCtxFree>;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

constexpr std::string_view kInfoLabel = "jim-e2e-v1";

// A secret that wipes itself.
template <size_t N> struct Secret {
    std::array<uint8_t, N> b{};
    ~Secret() { OPENSSL_cleanse(b.data(), N); }
};

// X25519(priv, pub) into out; false when OpenSSL fails or the result is all zeros (a
// low-order public key: OpenSSL refuses it).
bool x25519(const Key &priv, const Key &pub, uint8_t *out)
{
    Pkey p(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, priv.data(), priv.size()));
    Pkey q(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, pub.data(), pub.size()));
    if (!p || !q)
        return false;
    PkeyCtx ctx(EVP_PKEY_CTX_new(p.get(), nullptr));
    size_t len = kKeyBytes;
    return ctx && EVP_PKEY_derive_init(ctx.get()) == 1 &&
           EVP_PKEY_derive_set_peer(ctx.get(), q.get()) == 1 &&
           EVP_PKEY_derive(ctx.get(), out, &len) == 1 && len == kKeyBytes;
}

// key = HKDF-SHA256(salt = 32 zero bytes, ikm, info = "jim-e2e-v1" ‖ s_pub ‖ r ‖ epk).
bool derive(uint8_t *key, const uint8_t *ikm, const Key &s_pub, const Key &r, const Key &epk)
{
    static EVP_KDF *const kdf = EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_HKDF, nullptr);
    if (!kdf)
        return false;
    KdfCtx ctx(EVP_KDF_CTX_new(kdf));
    if (!ctx)
        return false;
    uint8_t info[kInfoLabel.size() + 3 * kKeyBytes];
    uint8_t *at = info;
    for (char c : kInfoLabel)
        *at++ = static_cast<uint8_t>(c);
    for (const Key *k : {&s_pub, &r, &epk})
        at = std::copy(k->begin(), k->end(), at);
    uint8_t salt[32] = {}; // RFC 5869's default: HashLen zeros
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t *>(ikm),
                                          2 * kKeyBytes),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt, sizeof salt),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, sizeof info),
        OSSL_PARAM_construct_end()};
    return EVP_KDF_derive(ctx.get(), key, kKeyBytes, params) == 1;
}

// The associated data: UTF-8 of from ‖ 0x00 ‖ UTF-8 of to.
std::string aad_of(std::string_view from, std::string_view to)
{
    std::string aad;
    aad.reserve(from.size() + 1 + to.size());
    aad.append(from);
    aad.push_back('\0');
    aad.append(to);
    return aad;
}

// ChaCha20-Poly1305 with a zero nonce, in either direction. Encrypting writes the tag
// to tag; decrypting checks it. out has room for in.size() bytes.
bool chacha(bool encrypt, const uint8_t *key, std::string_view aad, std::string_view in,
            uint8_t *out, uint8_t *tag)
{
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    const uint8_t nonce[12] = {};
    int n = 0;
    const auto *aad_bytes = reinterpret_cast<const uint8_t *>(aad.data());
    const auto *in_bytes = reinterpret_cast<const uint8_t *>(in.data());
    if (!ctx ||
        EVP_CipherInit_ex(ctx.get(), EVP_chacha20_poly1305(), nullptr, key, nonce, encrypt) != 1 ||
        EVP_CipherUpdate(ctx.get(), nullptr, &n, aad_bytes, static_cast<int>(aad.size())) != 1)
        return false;
    if (!in.empty() &&
        EVP_CipherUpdate(ctx.get(), out, &n, in_bytes, static_cast<int>(in.size())) != 1)
        return false;
    if (!encrypt && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, kTagBytes, tag) != 1)
        return false;
    int fin = 0;
    if (EVP_CipherFinal_ex(ctx.get(), out + in.size(), &fin) != 1) // the tag check
        return false;
    return !encrypt || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, kTagBytes, tag) == 1;
}

} // namespace

KeyPair::~KeyPair()
{
    OPENSSL_cleanse(priv.data(), priv.size());
}

bool generate(KeyPair &out)
{
    Pkey p(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
    size_t a = kKeyBytes, b = kKeyBytes;
    return p && EVP_PKEY_get_raw_private_key(p.get(), out.priv.data(), &a) == 1 &&
           EVP_PKEY_get_raw_public_key(p.get(), out.pub.data(), &b) == 1 && a == kKeyBytes &&
           b == kKeyBytes;
}

bool public_of(const Key &priv, Key &pub)
{
    Pkey p(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, priv.data(), priv.size()));
    size_t n = kKeyBytes;
    return p && EVP_PKEY_get_raw_public_key(p.get(), pub.data(), &n) == 1 && n == kKeyBytes;
}

bool seal(std::string &envelope, const KeyPair &s, const Key &r, std::string_view from,
          std::string_view to, std::string_view text, const Key *eph)
{
    KeyPair e;
    if (eph) {
        e.priv = *eph;
        if (!public_of(e.priv, e.pub))
            return false;
    } else if (!generate(e)) {
        return false;
    }
    Secret<2 * kKeyBytes> ikm;
    Secret<kKeyBytes> key;
    if (!x25519(e.priv, r, ikm.b.data()) || !x25519(s.priv, r, ikm.b.data() + kKeyBytes) ||
        !derive(key.b.data(), ikm.b.data(), s.pub, r, e.pub))
        return false;
    envelope.assign(kOverhead + text.size(), '\0');
    auto *out = reinterpret_cast<uint8_t *>(envelope.data());
    std::copy(e.pub.begin(), e.pub.end(), out);
    return chacha(true, key.b.data(), aad_of(from, to), text, out + kKeyBytes,
                  out + kKeyBytes + text.size());
}

bool open(std::string &text, const KeyPair &r, const Key &s_pub, std::string_view from,
          std::string_view to, std::string_view envelope)
{
    if (envelope.size() < kOverhead)
        return false;
    const auto *in = reinterpret_cast<const uint8_t *>(envelope.data());
    Key epk;
    std::copy(in, in + kKeyBytes, epk.begin());
    Secret<2 * kKeyBytes> ikm;
    Secret<kKeyBytes> key;
    if (!x25519(r.priv, epk, ikm.b.data()) || !x25519(r.priv, s_pub, ikm.b.data() + kKeyBytes) ||
        !derive(key.b.data(), ikm.b.data(), s_pub, r.pub, epk))
        return false;
    std::string_view ct = envelope.substr(kKeyBytes, envelope.size() - kOverhead);
    uint8_t tag[kTagBytes];
    std::copy(in + envelope.size() - kTagBytes, in + envelope.size(), tag);
    std::string plain(ct.size(), '\0');
    if (!chacha(false, key.b.data(), aad_of(from, to), ct,
                reinterpret_cast<uint8_t *>(plain.data()), tag)) {
        OPENSSL_cleanse(plain.data(), plain.size());
        return false;
    }
    text = std::move(plain);
    return true;
}

std::string key_base64(const Key &k)
{
    return base64_encode(std::string_view(reinterpret_cast<const char *>(k.data()), k.size()));
}

bool key_from_base64(std::string_view text, Key &k)
{
    std::string raw;
    if (text.size() != 44 || !base64_decode(text, raw) || raw.size() != kKeyBytes)
        return false;
    std::copy(raw.begin(), raw.end(), k.begin());
    return true;
}

std::string fingerprint(const Key &pub)
{
    uint8_t md[32];
    unsigned int len = 0;
    if (EVP_Digest(pub.data(), pub.size(), md, &len, EVP_sha256(), nullptr) != 1)
        return "";
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 16; i++) {
        if (i > 0 && i % 2 == 0)
            out.push_back(' ');
        out.push_back(hex[md[i] >> 4]);
        out.push_back(hex[md[i] & 15]);
    }
    return out;
}

} // namespace jim::e2e

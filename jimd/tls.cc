// The server's TLS context from its settings (tls.hh).
#include "tls.hh"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509err.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace jimd {

namespace {

// TLS 1.2's suites: forward secrecy and AEAD only (TLS 1.3's are all of that kind).
constexpr const char *kCiphers12 = "ECDHE+AESGCM:ECDHE+CHACHA20";

// OpenSSL's reason for the last failure, its queue emptied.
std::string openssl_reason()
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : nullptr;
    ERR_clear_error();
    return r ? r : "unknown OpenSSL error";
}

// Whether the file named by setting s can be read; *why says why not.
bool readable(const Settings &settings, Setting s, std::string *why)
{
    const std::string &path = settings.str(s);
    std::FILE *f = std::fopen(path.c_str(), "r");
    if (!f) {
        *why = std::string(setting_info(s).name) + " " + path + ": " + std::strerror(errno);
        return false;
    }
    std::fclose(f);
    return true;
}

// *why = "setting path: what" and false.
bool bad_file(const Settings &settings, Setting s, const std::string &what, std::string *why)
{
    *why = std::string(setting_info(s).name) + " " + settings.str(s) + ": " + what;
    ERR_clear_error();
    return false;
}

} // namespace

TlsMode tls_mode(const Settings &settings)
{
    const std::string &m = settings.str(S_TLS);
    if (m == "off")
        return TlsMode::Off;
    if (m == "required")
        return TlsMode::Required;
    if (m == "optional")
        return TlsMode::Optional;
    return settings.str(S_TLS_CERT).empty() ? TlsMode::Off : TlsMode::Optional; // auto
}

bool make_tls_context(const Settings &settings, TlsContext *out, std::string *why,
                      std::string *warning)
{
    out->reset();
    warning->clear();
    TlsMode mode = tls_mode(settings);
    const std::string &cert = settings.str(S_TLS_CERT), &key = settings.str(S_TLS_KEY),
                      &ca = settings.str(S_TLS_CA);
    if (mode == TlsMode::Off)
        return true; // `tls off` said so: the files are not read
    if (cert.empty() || key.empty()) {
        *why = cert.empty() && key.empty()
                   ? "tls " + settings.str(S_TLS) + " needs tls_cert and tls_key"
               : cert.empty() ? "tls_key is set but tls_cert is not"
                              : "tls_cert is set but tls_key is not";
        return false;
    }
    if (!readable(settings, S_TLS_CERT, why) || !readable(settings, S_TLS_KEY, why) ||
        (!ca.empty() && !readable(settings, S_TLS_CA, why)))
        return false;
    TlsContext ctx(SSL_CTX_new(TLS_server_method()));
    if (!ctx) {
        *why = "TLS: " + openssl_reason();
        return false;
    }
    SSL_CTX *c = ctx.get();
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
    // Partial writes straight from the output buffer, which may move between retries;
    // an idle connection keeps no record buffers.
    SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_set_cipher_list(c, kCiphers12) != 1) {
        *why = "TLS: " + openssl_reason();
        return false;
    }
    if (SSL_CTX_use_certificate_chain_file(c, cert.c_str()) != 1)
        return bad_file(settings, S_TLS_CERT, "not a PEM certificate (" + openssl_reason() + ")",
                        why);
    if (SSL_CTX_use_PrivateKey_file(c, key.c_str(), SSL_FILETYPE_PEM) != 1) {
        // OpenSSL compares the key with the certificate as it takes it.
        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
            return bad_file(settings, S_TLS_KEY, "does not match the certificate in " + cert, why);
        return bad_file(settings, S_TLS_KEY, "not a PEM private key (" + openssl_reason() + ")",
                        why);
    }
    if (SSL_CTX_check_private_key(c) != 1)
        return bad_file(settings, S_TLS_KEY, "does not match the certificate in " + cert, why);
    if (!ca.empty()) {
        // Client certificates: a TLS client must show one that this CA signed.
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca.c_str());
        if (!names || SSL_CTX_load_verify_locations(c, ca.c_str(), nullptr) != 1) {
            if (names)
                sk_X509_NAME_pop_free(names, X509_NAME_free);
            return bad_file(settings, S_TLS_CA, "no PEM CA certificate in it", why);
        }
        SSL_CTX_set_client_CA_list(c, names);
        SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
        static const unsigned char kSessionContext[] = "jimd";
        SSL_CTX_set_session_id_context(c, kSessionContext, sizeof kSessionContext - 1);
    }
    X509 *x = SSL_CTX_get0_certificate(c);
    if (x && X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
        *warning = "tls_cert " + cert + ": the certificate has expired: clients will refuse it";
    else if (x && X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
        *warning =
            "tls_cert " + cert + ": the certificate is not valid yet: clients will refuse it";
    *out = std::move(ctx);
    return true;
}

} // namespace jimd

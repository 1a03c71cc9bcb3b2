// jimd's TLS settings made into a server context: the certificate and its key, the
// optional CA for client certificates, TLS 1.2 and 1.3 only, no compression, no
// renegotiation, the server's cipher order. Made by the master before it drops privileges
// (and by jimd -t), again by each worker on SIGHUP.
#pragma once

#include "settings.hh"

#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace jimd {

// What the `tls` setting means once resolved: `auto` is optional with a certificate, else off.
enum class TlsMode { Off, Optional, Required };
TlsMode tls_mode(const Settings &settings);

// Frees an SSL_CTX (for unique_ptr); OpenSSL counts references, so connections made from a
// context keep it alive after it is replaced.
struct SslCtxFree {
    void operator()(SSL_CTX *ctx) const { SSL_CTX_free(ctx); }
};
using TlsContext = std::unique_ptr<SSL_CTX, SslCtxFree>;

// The context the settings describe, in *out (null when TLS is off). False with *why, one
// line naming the setting and the file, when the TLS settings are half there or a file is
// unreadable or wrong (a certificate without its key, a key that does not match). *warning
// says what works but should not (an expired certificate), or stays empty.
bool make_tls_context(const Settings &settings, TlsContext *out, std::string *why,
                      std::string *warning);

} // namespace jimd

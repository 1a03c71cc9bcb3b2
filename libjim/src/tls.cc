// TLS for the client connection (tls.hh). The session writes to its socket through a BIO
// of our own that sends with MSG_NOSIGNAL, so a server that went away is an error to
// handle, never a SIGPIPE in the program that uses libjim.
#include "tls.hh"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <sys/socket.h>

namespace jim {

namespace {

// ---- a socket BIO that never raises SIGPIPE ----------------------------------

int sock_fd(BIO *b)
{
    return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(b)));
}

int sock_write(BIO *b, const char *data, int len)
{
    BIO_clear_retry_flags(b);
    ssize_t n;
    do
        n = ::send(sock_fd(b), data, static_cast<size_t>(len), MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        BIO_set_retry_write(b);
    return static_cast<int>(n);
}

int sock_read(BIO *b, char *data, int len)
{
    BIO_clear_retry_flags(b);
    ssize_t n;
    do
        n = ::recv(sock_fd(b), data, static_cast<size_t>(len), 0);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        BIO_set_retry_read(b);
    return static_cast<int>(n);
}

long sock_ctrl(BIO *, int cmd, long, void *)
{
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

int sock_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

const BIO_METHOD *sock_method()
{
    static BIO_METHOD *m = [] {
        BIO_METHOD *mm = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "jim socket");
        if (mm) {
            BIO_meth_set_write(mm, sock_write);
            BIO_meth_set_read(mm, sock_read);
            BIO_meth_set_ctrl(mm, sock_ctrl);
            BIO_meth_set_create(mm, sock_create);
        }
        return mm;
    }();
    return m;
}

// The first error OpenSSL queued, as its reason text ("" when none).
std::string ssl_reason(unsigned long *code_out = nullptr)
{
    unsigned long e = ERR_peek_error();
    if (code_out)
        *code_out = e;
    if (!e)
        return "";
    const char *r = ERR_reason_error_string(e);
    return r ? r : "unknown OpenSSL error";
}

std::string utc(const ASN1_TIME *t)
{
    struct tm tm {};
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return "";
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

// Verification goes on as OpenSSL decides; this only notes the dates of a certificate it
// refuses, for the words of the error.
int verify_note(int ok, X509_STORE_CTX *x)
{
    if (!ok) {
        auto *ssl =
            static_cast<SSL *>(X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx()));
        auto *conn = ssl ? static_cast<TlsConn *>(SSL_get_app_data(ssl)) : nullptr;
        if (conn)
            conn->note_refused(X509_STORE_CTX_get_current_cert(x));
    }
    return ok;
}

bool is_ip_literal(const std::string &host)
{
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(host.c_str());
    ASN1_OCTET_STRING_free(ip);
    return ip != nullptr;
}

} // namespace

// ---- the context ----------------------------------------------------------------

void TlsContext::Free::operator()(SSL_CTX *c) const
{
    SSL_CTX_free(c);
}

bool TlsContext::configure(bool insecure, const std::string &ca_file, std::string *why)
{
    ERR_clear_error();
    std::unique_ptr<SSL_CTX, Free> ctx(SSL_CTX_new(TLS_client_method()));
    if (!ctx || !sock_method()) {
        *why = "cannot set up TLS: " + ssl_reason();
        return false;
    }
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    // The client's output buffer may move between a write that would block and its retry,
    // and a write may go out in parts.
    SSL_CTX_set_mode(ctx.get(),
                     SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
    if (!insecure && !ca_file.empty()) {
        FILE *f = std::fopen(ca_file.c_str(), "r");
        if (!f) {
            *why = "cannot load the CA file " + ca_file + ": " + std::strerror(errno);
            return false;
        }
        std::fclose(f);
    }
    if (!insecure) {
        int ok = ca_file.empty()
                     ? SSL_CTX_set_default_verify_paths(ctx.get())
                     : SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr);
        if (ok != 1) {
            std::string r = ssl_reason();
            *why = ca_file.empty() ? "cannot load the system's certificate store"
                                   : "cannot load the CA file " + ca_file;
            if (!r.empty())
                *why += ": " + r;
            return false;
        }
    }
    SSL_CTX_set_verify(ctx.get(), insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
                       insecure ? nullptr : verify_note);
    ctx_ = std::move(ctx);
    insecure_ = insecure;
    return true;
}

// ---- a session --------------------------------------------------------------------

TlsConn::~TlsConn()
{
    SSL_free(ssl_);
}

bool TlsConn::start(const TlsContext &ctx, int fd, const std::string &host, std::string *why)
{
    ERR_clear_error();
    host_ = host;
    ssl_ = SSL_new(ctx.get());
    BIO *bio = ssl_ ? BIO_new(sock_method()) : nullptr;
    if (!bio) {
        *why = "cannot set up TLS: " + ssl_reason();
        return false;
    }
    SSL_set_app_data(ssl_, this);
    BIO_set_data(bio, reinterpret_cast<void *>(static_cast<intptr_t>(fd)));
    SSL_set_bio(ssl_, bio, bio);
    bool ip = is_ip_literal(host);
    // SNI carries names only (RFC 6066); the certificate is checked against either.
    bool ok = ip || SSL_set_tlsext_host_name(ssl_, host.c_str()) == 1;
    if (ok && !ctx.insecure())
        ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host.c_str()) == 1
                : SSL_set1_host(ssl_, host.c_str()) == 1;
    if (!ok) {
        *why = "cannot set up TLS for " + host + ": " + ssl_reason();
        return false;
    }
    SSL_set_connect_state(ssl_);
    return true;
}

TlsConn::Status TlsConn::status_of(int ret)
{
    Status st = classify(ret);
    failed_ = failed_ || st == Status::Failed;
    return st;
}

TlsConn::Status TlsConn::classify(int ret)
{
    int saved_errno = errno;
    int e = SSL_get_error(ssl_, ret);
    switch (e) {
    case SSL_ERROR_WANT_READ: return Status::WantRead;
    case SSL_ERROR_WANT_WRITE: return Status::WantWrite;
    case SSL_ERROR_ZERO_RETURN: error_ = "the server closed the TLS session"; return Status::Closed;
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() == 0) {
            if (saved_errno == 0) {
                error_ = done_ ? "the server closed the connection"
                               : "the server closed the connection during the TLS handshake "
                                 "(does it serve TLS on this port?)";
                return done_ ? Status::Closed : Status::Failed;
            }
            error_ = std::strerror(saved_errno);
            return Status::Failed;
        }
        break;
    default: break;
    }
    unsigned long code = 0;
    std::string reason = ssl_reason(&code);
    int r = ERR_GET_LIB(code) == ERR_LIB_SSL ? ERR_GET_REASON(code) : 0;
    long verify = SSL_get_verify_result(ssl_);
    if (r == SSL_R_CERTIFICATE_VERIFY_FAILED && verify != X509_V_OK) {
        error_ = "the server's certificate was refused: ";
        switch (verify) {
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        case X509_V_ERR_CERT_UNTRUSTED:
            error_ += "unknown CA (it is not signed by a certificate authority this client "
                      "trusts)";
            break;
        case X509_V_ERR_HOSTNAME_MISMATCH:
        case X509_V_ERR_IP_ADDRESS_MISMATCH:
            error_ += "name mismatch (it is not made out for " + host_ + ")";
            break;
        case X509_V_ERR_CERT_HAS_EXPIRED:
            error_ += "expired";
            if (!refused_until_.empty())
                error_ += " (on " + refused_until_ + ")";
            break;
        case X509_V_ERR_CERT_NOT_YET_VALID:
            error_ += "not valid yet";
            if (!refused_from_.empty())
                error_ += " (valid from " + refused_from_ + ")";
            break;
        default: error_ += X509_verify_cert_error_string(verify); break;
        }
        return Status::Failed;
    }
    if (r == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        error_ = done_ ? "the server closed the connection"
                       : "the server closed the connection during the TLS handshake (does it "
                         "serve TLS on this port?)";
        return done_ ? Status::Closed : Status::Failed;
    }
    if (r == SSL_R_WRONG_VERSION_NUMBER || r == SSL_R_PACKET_LENGTH_TOO_LONG ||
        r == SSL_R_RECORD_LENGTH_MISMATCH || r == SSL_R_UNKNOWN_PROTOCOL)
        error_ = "the server does not speak TLS on this port (" + reason + ")";
    else if (r == SSL_R_UNSUPPORTED_PROTOCOL)
        error_ = "the server offers no TLS version from 1.2 up (" + reason + ")";
    else
        error_ = reason.empty() ? "TLS failed" : reason;
    return Status::Failed;
}

TlsConn::Status TlsConn::handshake()
{
    ERR_clear_error();
    errno = 0;
    int ret = SSL_do_handshake(ssl_);
    if (ret == 1) {
        done_ = true;
        return Status::Ok;
    }
    return status_of(ret);
}

TlsConn::Status TlsConn::read(void *buf, size_t cap, size_t *n)
{
    ERR_clear_error();
    errno = 0;
    *n = 0;
    int ret = SSL_read_ex(ssl_, buf, cap, n);
    return ret == 1 ? Status::Ok : status_of(ret);
}

TlsConn::Status TlsConn::write(const void *buf, size_t len, size_t *n)
{
    ERR_clear_error();
    errno = 0;
    *n = 0;
    int ret = SSL_write_ex(ssl_, buf, len, n);
    return ret == 1 ? Status::Ok : status_of(ret);
}

bool TlsConn::has_pending() const
{
    return ssl_ && done_ && SSL_has_pending(ssl_) == 1;
}

void TlsConn::shutdown()
{
    if (ssl_ && done_ && !failed_) {
        ERR_clear_error();
        SSL_shutdown(ssl_); // one try: close_notify if the socket takes it now
        ERR_clear_error();
    }
}

void TlsConn::note_refused(const X509 *cert)
{
    if (cert) {
        refused_from_ = utc(X509_get0_notBefore(cert));
        refused_until_ = utc(X509_get0_notAfter(cert));
    }
}

std::string TlsConn::describe() const
{
    if (!ssl_)
        return "";
    const char *cipher = SSL_get_cipher_name(ssl_);
    return std::string(SSL_get_version(ssl_)) + ", " + (cipher ? cipher : "?");
}

} // namespace jim

// TLS for the client connection (OpenSSL 3): a context per client (what to trust, whether
// to verify at all), and a session per connection over the client's non-blocking socket,
// driven by the client's own loop: every call returns at once and says what it waits for.
#pragma once

#include <memory>
#include <string>
#include <sys/types.h>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct x509_st X509;

namespace jim {

// What a client trusts: the system store or one CA file, or (insecure) nothing at all.
class TlsContext {
  public:
    // Makes the context; false with *why (an unreadable CA file, OpenSSL failing).
    bool configure(bool insecure, const std::string &ca_file, std::string *why);
    SSL_CTX *get() const { return ctx_.get(); }
    bool insecure() const { return insecure_; }

  private:
    struct Free {
        void operator()(SSL_CTX *c) const;
    };
    std::unique_ptr<SSL_CTX, Free> ctx_;
    bool insecure_ = false;
};

// One TLS connection over a socket it does not own.
class TlsConn {
  public:
    enum class Status {
        Ok,        // done (handshake), or n bytes moved
        WantRead,  // call again when the socket is readable
        WantWrite, // call again when the socket is writable
        Closed,    // the peer closed the connection (close_notify or EOF)
        Failed     // see error()
    };

    ~TlsConn();
    // Sets up a client session on fd for host (a name or an IP address: checked against
    // the certificate unless the context is insecure; a name is sent as SNI).
    bool start(const TlsContext &ctx, int fd, const std::string &host, std::string *why);
    Status handshake();
    // At most cap bytes into buf (*n of them); Ok means *n > 0.
    Status read(void *buf, size_t cap, size_t *n);
    // Up to len bytes from buf (*n of them written).
    Status write(const void *buf, size_t len, size_t *n);
    // Decrypted bytes wait inside: the socket will not say so, so read again now.
    bool has_pending() const;
    // Sends close_notify if it can without waiting.
    void shutdown();
    // Why the last call failed, in words ("the server's certificate is ...").
    const std::string &error() const { return error_; }
    // "TLSv1.3, TLS_AES_256_GCM_SHA384" once the handshake is done.
    std::string describe() const;
    // For the verify callback: the dates of the certificate it refused (the session
    // keeps no peer certificate after a refusal).
    void note_refused(const X509 *cert);

  private:
    // What a failed call (ret) means; records why in error_.
    Status status_of(int ret);
    Status classify(int ret);
    SSL *ssl_ = nullptr;
    std::string host_;
    std::string error_;
    std::string refused_from_, refused_until_; // validity of a refused certificate
    bool done_ = false;                        // the handshake is done
    bool failed_ = false;                      // a fatal error: no shutdown may follow
};

} // namespace jim

/*
 * tls_harness.h — what the client's TLS and end-to-end tests start: certificates made by
 * contrib/jim-certs.sh, `openssl s_server` and tests/fakejim (a tiny JIM server with TLS and
 * the key actions) on ephemeral loopback ports, and whether the real jimd serves a setting
 * or an action yet (to skip, with the reason, what only jimd can show).
 */
#ifndef TLS_HARNESS_H
#define TLS_HARNESS_H

#include <sys/types.h>

/* A server process on 127.0.0.1:port. */
typedef struct test_server {
    pid_t pid;
    int port;
    int in;        /* its standard input, kept open (s_server ends at its end) */
    char out[160]; /* what it printed (s_server: the bytes it received) */
} test_server;

/* A fresh temporary directory in buf (/tmp/jim-tls-XXXXXX); 0 on success. */
int temp_dir(char *buf, size_t size);
/* Removes a directory made by temp_dir(). */
void remove_dir(const char *dir);
/* Runs contrib/jim-certs.sh with args (e.g. "--expired --out old DIR"); 0 on success. */
int make_certs(const char *args);

/* openssl s_server with cert/key on an ephemeral port; 0 on success. */
int sserver_start(test_server *s, const char *cert, const char *key);
/* tests/fakejim with args (a NULL-terminated list; may be NULL) on an ephemeral port, or on
 * port when it is not 0; 0 on success. */
int fakejim_start(test_server *s, int port, const char *const *args);
/* Stops a server (SIGTERM, then SIGKILL) and waits for it. */
void server_stop(test_server *s);

/* 1 when `jimd --help-config` lists setting (e.g. "tls_cert"). */
int jimd_has_setting(const char *setting);
/* The number of lines of file that contain needle (0 when it cannot be read). */
int file_count(const char *file, const char *needle);

#endif

/*
 * bench_codec.c — throughput of libjim's codec and framer on typical protocol
 * objects: objects/s and MB/s per CPU core for encode, decode, framing alone and
 * framing + decode. Bounded: each phase runs at most -n passes over the stream
 * and at most -s CPU seconds (default 200 passes, 1 s). Run with `make bench`.
 * For instruction counts that do not depend on the machine's load:
 *   valgrind --tool=callgrind tests/.libs/bench_codec -n 2   (then callgrind_annotate
 *   --inclusive=yes: phase_encode, phase_decode, phase_frame report Ir per phase)
 */
#define _POSIX_C_SOURCE 200809L
#include <jim/jim.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STREAM_OBJECTS 40000
#define CHUNK 16384

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *name, double objects, double bytes, double secs)
{
    printf("%-22s %12.0f objects/s %9.1f MB/s   (%.0f objects, %.2f CPU s)\n", name, objects / secs,
           bytes / secs / 1e6, objects, secs);
}

/* Builds the typical objects of a chat session, in the proportions of a busy server. */
static void build(jim_msg *m, int kind, int i)
{
    static const char text[] = "the quick brown fox jumps over the lazy dog, 64 bytes of text..";
    switch (kind) {
    case 0:
    case 1:
    case 2: /* a message delivered to a recipient */
        jim_msg_make_text(m, "bob", text);
        jim_msg_set_str(m, JIM_FIELD_FROM, "alice");
        jim_msg_set_int(m, JIM_FIELD_SEQ, 1000000 + i);
        break;
    case 3: /* its acknowledgement */
        jim_msg_init_response(m, 200, NULL);
        jim_msg_set_int(m, JIM_FIELD_SEQ, 1000000 + i);
        break;
    case 4: /* a presence with features */
        jim_msg_make_presence(m, "alice", "online");
        jim_msg_set_features(m, JIM_FEATURE_NDJSON);
        break;
    default: /* a room message with non-ASCII text */
        jim_msg_make_text(m, "#lobby", "caf\xc3\xa9 \xe2\x98\x95 and more text to be typical");
        jim_msg_set_str(m, JIM_FIELD_FROM, "carol");
        break;
    }
}
#define KINDS 6

static double budget = 1.0;
static int max_passes = 200;
static char *stream;
static size_t used;
static size_t offsets[STREAM_OBJECTS + 1];

/* Phase 1: build + encode every kind of object. */
__attribute__((noinline)) static int phase_encode(jim_msg *m)
{
    double t0 = cpu_seconds(), n = 0, bytes = 0;
    for (int pass = 0; pass < max_passes && cpu_seconds() - t0 < budget; pass++) {
        for (int i = 0; i < STREAM_OBJECTS; i++) {
            const char *json;
            size_t len;
            build(m, i % KINDS, i);
            if (jim_msg_encode(m, &json, &len) != JIM_OK)
                return 1;
            bytes += (double)len;
        }
        n += STREAM_OBJECTS;
    }
    report("build+encode", n, bytes, cpu_seconds() - t0);
    return 0;
}

/* Phase 2: decode each object given whole (UTF-8 checked, validated). */
__attribute__((noinline)) static int phase_decode(jim_msg *m)
{
    double t0 = cpu_seconds(), n = 0;
    for (int pass = 0; pass < max_passes && cpu_seconds() - t0 < budget; pass++) {
        for (int i = 0; i < STREAM_OBJECTS; i++) {
            if (jim_msg_decode(m, stream + offsets[i], offsets[i + 1] - offsets[i], NULL) !=
                JIM_OK) {
                fprintf(stderr, "decode failed: %s\n", jim_msg_errmsg(m));
                return 1;
            }
        }
        n += STREAM_OBJECTS;
    }
    report("decode", n, n / STREAM_OBJECTS * (double)used, cpu_seconds() - t0);
    return 0;
}

/* Phases 3 and 4: the stream in 16 KiB chunks through a framer, with or without decoding. */
__attribute__((noinline)) static int phase_frame(jim_msg *m, int decode)
{
    jim_framer *f = NULL;
    if (jim_framer_new(&f, NULL) != JIM_OK)
        return 1;
    double t0 = cpu_seconds(), n = 0, got = 0;
    for (int pass = 0; pass < max_passes && cpu_seconds() - t0 < budget; pass++) {
        for (size_t off = 0; off < used; off += CHUNK) {
            size_t len = used - off < CHUNK ? used - off : CHUNK;
            const char *obj;
            size_t olen;
            int rc;
            jim_framer_feed(f, stream + off, len);
            if (decode)
                while ((rc = jim_framer_next_msg(f, m)) == JIM_OK)
                    got++;
            else
                while ((rc = jim_framer_next(f, &obj, &olen)) == JIM_OK)
                    got++;
            if (rc != JIM_EAGAIN) {
                fprintf(stderr, "framer failed: %s\n", jim_framer_errmsg(f));
                return 1;
            }
        }
        n += STREAM_OBJECTS;
    }
    double secs = cpu_seconds() - t0;
    jim_framer_free(f);
    if (got != n) {
        fprintf(stderr, "framer lost objects: %.0f of %.0f\n", got, n);
        return 1;
    }
    report(decode ? "frame+decode" : "frame", n, n / STREAM_OBJECTS * (double)used, secs);
    return 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-s") == 0)
            budget = atof(argv[i + 1]);
        else if (strcmp(argv[i], "-n") == 0)
            max_passes = atoi(argv[i + 1]);
        else
            budget = -1;
    }
    if (argc % 2 == 0 || budget <= 0 || budget > 60 || max_passes < 1 || max_passes > 10000) {
        fprintf(stderr, "usage: bench_codec [-s SECONDS (0-60]] [-n PASSES (1-10000)]\n");
        return 2;
    }

    jim_msg *m = NULL;
    if (jim_msg_new(&m) != JIM_OK)
        return 1;

    /* The stream: STREAM_OBJECTS encoded objects, one per line. */
    size_t cap = (size_t)STREAM_OBJECTS * 160;
    stream = malloc(cap);
    if (!stream)
        return 1;
    for (int i = 0; i < STREAM_OBJECTS; i++) {
        const char *json;
        size_t len;
        build(m, i % KINDS, i);
        jim_msg_set_int(m, JIM_FIELD_TIME, 1700000000 + i);
        if (jim_msg_encode(m, &json, &len) != JIM_OK || used + len > cap)
            return 1;
        offsets[i] = used;
        memcpy(stream + used, json, len);
        used += len;
    }
    offsets[STREAM_OBJECTS] = used;
    printf("jim %s codec benchmark: %d objects, %.1f bytes/object average\n", jim_version(),
           STREAM_OBJECTS, (double)used / STREAM_OBJECTS);

    int rc = phase_encode(m) || phase_decode(m) || phase_frame(m, 0) || phase_frame(m, 1);
    free(stream);
    jim_msg_free(m);
    return rc;
}

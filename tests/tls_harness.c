/* tls_harness.c — certificates, s_server and fakejim for the client's TLS and E2E tests. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include "tls_harness.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Servers still running, killed at exit so a failed test leaves none behind. */
static pid_t running[16];

static void kill_running(void)
{
    for (size_t i = 0; i < sizeof running / sizeof running[0]; i++)
        if (running[i] > 0) {
            kill(running[i], SIGKILL);
            waitpid(running[i], NULL, 0);
            running[i] = 0;
        }
}

static void track(pid_t pid, pid_t old)
{
    static int registered;
    if (!registered) {
        atexit(kill_running);
        registered = 1;
    }
    for (size_t i = 0; i < sizeof running / sizeof running[0]; i++)
        if (running[i] == old) {
            running[i] = pid;
            return;
        }
}

int temp_dir(char *buf, size_t size)
{
    if (snprintf(buf, size, "/tmp/jim-tls-XXXXXX") >= (int)size)
        return -1;
    return mkdtemp(buf) ? 0 : -1;
}

void remove_dir(const char *dir)
{
    char cmd[512];
    if (!dir[0] || getenv("JIM_KEEP_TEST_DIR"))
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

int make_certs(const char *args)
{
    const char *top = getenv("top_srcdir");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "sh '%s/contrib/jim-certs.sh' %s >/dev/null", top ? top : ".", args);
    return system(cmd) == 0 ? 0 : -1;
}

/* Starts argv with stdout and stderr to s->out (a temporary file) and stdin from a pipe kept
 * open; waits until the file has a line starting with marker, whose number after the last
 * sep is the port. */
static int spawn(test_server *s, char *const argv[], const char *marker, char sep)
{
    snprintf(s->out, sizeof s->out, "/tmp/jim-srv-XXXXXX");
    int fd = mkstemp(s->out), in[2];
    if (fd < 0 || pipe(in) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(in[0], 0);
        close(in[1]);
        dup2(fd, 1);
        dup2(fd, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fd);
    close(in[0]);
    s->in = in[1];
    fcntl(s->in, F_SETFD, FD_CLOEXEC);
    s->pid = pid;
    track(pid, 0);
    for (long deadline = now_ms() + 10000; now_ms() < deadline; usleep(20000)) {
        FILE *f = fopen(s->out, "r");
        char line[256];
        while (f && fgets(line, sizeof line, f)) {
            if (strncmp(line, marker, strlen(marker)) != 0)
                continue;
            const char *p = strrchr(line, sep);
            s->port = p ? atoi(p + 1) : 0;
        }
        if (f)
            fclose(f);
        if (s->port > 0)
            return 0;
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            track(0, pid);
            s->pid = 0;
            return -1;
        }
    }
    server_stop(s);
    return -1;
}

int sserver_start(test_server *s, const char *cert, const char *key)
{
    memset(s, 0, sizeof *s);
    char *argv[] = {"openssl", "s_server",  "-accept",  "127.0.0.1:0", "-cert",    (char *)cert,
                    "-key",    (char *)key, "-naccept", "1",           "-ign_eof", NULL};
    return spawn(s, argv, "ACCEPT", ':');
}

int fakejim_start(test_server *s, int port, const char *const *args)
{
    memset(s, 0, sizeof *s);
    const char *top = getenv("top_builddir");
    char bin[512], portarg[16];
    snprintf(bin, sizeof bin, "%s/tests/fakejim", top ? top : ".");
    snprintf(portarg, sizeof portarg, "%d", port);
    char *argv[24];
    int n = 0;
    argv[n++] = bin;
    if (port > 0) {
        argv[n++] = "--port";
        argv[n++] = portarg;
    }
    for (int i = 0; args && args[i] && n < 23; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    return spawn(s, argv, "port ", ' ');
}

void server_stop(test_server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        int status;
        long deadline = now_ms() + 5000;
        while (waitpid(s->pid, &status, WNOHANG) != s->pid) {
            if (now_ms() > deadline) {
                kill(s->pid, SIGKILL);
                waitpid(s->pid, &status, 0);
                break;
            }
            usleep(10000);
        }
        track(0, s->pid);
        s->pid = 0;
    }
    if (s->out[0])
        unlink(s->out);
    s->out[0] = '\0';
    if (s->in > 0)
        close(s->in);
    s->in = 0;
}

int jimd_has_setting(const char *setting)
{
    const char *top = getenv("top_builddir");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "'%s/jimd/jimd' --help-config 2>/dev/null | grep -q '^%s '",
             top ? top : ".", setting);
    return system(cmd) == 0;
}

int file_count(const char *file, const char *needle)
{
    FILE *f = fopen(file, "r");
    char line[4096];
    int n = 0;
    while (f && fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    if (f)
        fclose(f);
    return n;
}

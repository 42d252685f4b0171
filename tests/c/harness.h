/*
 * A small test harness for the C tests: checks that count, and an emulator started per test
 * program (path in $STORETASKS_EMULATOR) with a client for its control endpoint.
 */
#ifndef STORETASKS_TEST_HARNESS_H
#define STORETASKS_TEST_HARNESS_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define EMU_ACCESS_KEY "AKIASTORETASKSLOCAL1"
#define EMU_SECRET_KEY "storetasks-local-secret-key-0000000000000"
#define EMU_DENIED_KEY "AKIASTORETASKSDENIED"

static int h_passed, h_failed;

#define CHECK(cond, ...)                                                         \
    do {                                                                         \
        if (cond) {                                                              \
            h_passed++;                                                          \
        } else {                                                                 \
            h_failed++;                                                          \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);      \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
        }                                                                        \
    } while (0)

#define CHECK_STATUS(got, want)                                                  \
    CHECK((got) == (want), "got %s, want %s", storetasks_status_name((int)(got)), \
          storetasks_status_name((int)(want)))

static inline int h_finish(void) {
    printf("%d passed, %d failed\n", h_passed, h_failed);
    return h_failed == 0 ? 0 : 1;
}

typedef struct emulator {
    pid_t pid;
    int port;
    char endpoint[64];
} emulator;

/* Starts the emulator with extra arguments (NULL-terminated list). Exits the program on failure. */
static inline void emu_start(emulator *emu, const char *const *extra) {
    const char *bin = getenv("STORETASKS_EMULATOR");
    if (!bin) {
        fprintf(stderr, "STORETASKS_EMULATOR is not set\n");
        exit(2);
    }
    const char *argv[64];
    int n = 0;
    argv[n++] = bin;
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--deny-key";
    argv[n++] = EMU_DENIED_KEY;
    for (; extra && *extra && n < 62; extra++) argv[n++] = *extra;
    argv[n] = NULL;
    int fds[2];
    if (pipe(fds) != 0) exit(2);
    pid_t pid = fork();
    if (pid < 0) exit(2);
    if (pid == 0) {
#ifdef __linux__
        /* The emulator goes when the test program does, even when it crashes or is killed. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    char line[128];
    size_t used = 0;
    while (used + 1 < sizeof line) {
        ssize_t r = read(fds[0], line + used, 1);
        if (r <= 0 || line[used] == '\n') break;
        used++;
    }
    line[used] = '\0';
    close(fds[0]);
    const char *colon = strrchr(line, ':');
    if (strncmp(line, "listening ", 10) != 0 || !colon) {
        fprintf(stderr, "emulator did not start: %s\n", line);
        exit(2);
    }
    emu->pid = pid;
    emu->port = atoi(colon + 1);
    snprintf(emu->endpoint, sizeof emu->endpoint, "http://127.0.0.1:%d", emu->port);
}

static inline void emu_stop(emulator *emu) {
    if (emu->pid > 0) {
        kill(emu->pid, SIGTERM);
        waitpid(emu->pid, NULL, 0);
        emu->pid = 0;
    }
}

/* One request to the control endpoint; returns the HTTP status and copies the body into out. */
static inline int emu_http(const emulator *emu, const char *method, const char *path, const char *body,
                    char *out, size_t out_len) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)emu->port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof addr) != 0) {
        if (s >= 0) close(s);
        return -1;
    }
    char req[2048];
    int len = snprintf(req, sizeof req,
                       "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                       "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                       method, path, strlen(body), body);
    if (write(s, req, (size_t)len) != len) {
        close(s);
        return -1;
    }
    char resp[16384];
    size_t got = 0;
    ssize_t r;
    while (got + 1 < sizeof resp && (r = read(s, resp + got, sizeof resp - 1 - got)) > 0) got += (size_t)r;
    resp[got] = '\0';
    close(s);
    int status = 0;
    sscanf(resp, "HTTP/1.%*d %d", &status);
    if (out && out_len) {
        const char *b = strstr(resp, "\r\n\r\n");
        snprintf(out, out_len, "%s", b ? b + 4 : "");
    }
    return status;
}

/* Installs one fault (see the emulator's README for the grammar). */
static inline void emu_fault(const emulator *emu, const char *spec) {
    char body[256];
    snprintf(body, sizeof body, "{\"faults\":[\"%s\"]}", spec);
    int st = emu_http(emu, "POST", "/_emulator/faults", body, NULL, 0);
    if (st != 200) {
        fprintf(stderr, "installing fault %s failed (%d)\n", spec, st);
        exit(2);
    }
}

static inline void emu_clear_faults(const emulator *emu) {
    emu_http(emu, "DELETE", "/_emulator/faults", "", NULL, 0);
}

/* EC2 API requests the emulator received so far. */
static inline long emu_requests(const emulator *emu) {
    char body[1024];
    if (emu_http(emu, "GET", "/_emulator/stats", "", body, sizeof body) != 200) return -1;
    const char *p = strstr(body, "\"requests\":");
    return p ? atol(p + 11) : -1;
}

#endif

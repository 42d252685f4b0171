/*
 * A small test harness for the C tests: checks that count, an emulator started per test program
 * (path in $STORETASKS_EMULATOR) with a client for its control endpoint, clients of the library
 * for it, and a timer that cancels a call in flight.
 */
#ifndef STORETASKS_TEST_HARNESS_H
#define STORETASKS_TEST_HARNESS_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _WIN32
#include <winsock2.h>
#include <windows.h>
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#endif

#include "storetasks.h"

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

/* Evaluates `got` once: a call that changes state (a take) reports what it returned. */
#define CHECK_STATUS(got, want)                                                  \
    do {                                                                         \
        int h_got_ = (int)(got), h_want_ = (int)(want);                          \
        CHECK(h_got_ == h_want_, "%s: got %s, want %s", #got,                    \
              storetasks_status_name(h_got_), storetasks_status_name(h_want_));  \
    } while (0)

static inline int h_finish(void) {
    printf("%d passed, %d failed\n", h_passed, h_failed);
    return h_failed == 0 ? 0 : 1;
}

typedef struct emulator {
#ifdef _WIN32
    int running;
#else
    pid_t pid;
#endif
    int port;
    char endpoint[64];
} emulator;

static inline int emu_http(const emulator *emu, const char *method, const char *path, const char *body, char *out,
                           size_t out_len);

static inline const char *emu_binary(void) {
    const char *bin = getenv("STORETASKS_EMULATOR");
    if (!bin) {
        fprintf(stderr, "STORETASKS_EMULATOR is not set\n");
        exit(2);
    }
    return bin;
}

#ifdef _WIN32
#define h_closesocket closesocket

/* On Windows (and under Wine, where the emulator is the Linux program, which gets no pipe from a
 * Windows parent but does get a file) the emulator listens on a port it picks itself and writes
 * its `listening ADDR:PORT` line into a temporary file that the harness reads; it is stopped
 * through its control endpoint. */
static inline void emu_start(emulator *emu, const char *const *extra) {
    const char *bin = emu_binary();
    WSADATA wsa;
    if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) exit(2);
    char dir[MAX_PATH], path[MAX_PATH];
    DWORD dir_len = GetTempPathA(sizeof dir, dir);
    if (dir_len == 0 || dir_len >= sizeof dir || GetTempFileNameA(dir, "emu", 0, path) == 0) {
        fprintf(stderr, "could not name a temporary file for the emulator's first line (error %lu)\n",
                (unsigned long)GetLastError());
        exit(2);
    }
    SECURITY_ATTRIBUTES inherit = {sizeof inherit, NULL, TRUE};
    HANDLE out = CreateFileA(path, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, &inherit,
                             CREATE_ALWAYS, FILE_ATTRIBUTE_TEMPORARY, NULL);
    if (out == INVALID_HANDLE_VALUE) {
        fprintf(stderr, "could not create %s for the emulator's first line (error %lu)\n", path,
                (unsigned long)GetLastError());
        exit(2);
    }
    char cmd[4096];
    int used = snprintf(cmd, sizeof cmd, "\"%s\" --port 0 --deny-key %s", bin, EMU_DENIED_KEY);
    for (; extra && *extra && used > 0 && (size_t)used < sizeof cmd; extra++)
        used += snprintf(cmd + used, sizeof cmd - (size_t)used, " \"%s\"", *extra);
    STARTUPINFOA si;
    PROCESS_INFORMATION pi;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = out;
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    if (used <= 0 || (size_t)used >= sizeof cmd || !CreateProcessA(NULL, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
        fprintf(stderr, "could not start the emulator: %s (error %lu)\n", cmd, (unsigned long)GetLastError());
        exit(2);
    }
    CloseHandle(out);
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    char line[128] = "";
    for (int tries = 0; tries < 400 && !strchr(line, '\n'); tries++) {
        if (tries) Sleep(50);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        if (!fgets(line, sizeof line, f)) line[0] = '\0';
        fclose(f);
    }
    DeleteFileA(path);
    const char *colon = strrchr(line, ':');
    if (strncmp(line, "listening ", 10) != 0 || !colon || !strchr(line, '\n')) {
        fprintf(stderr, "the emulator did not start: its first line is \"%.*s\"\n", (int)strcspn(line, "\r\n"), line);
        exit(2);
    }
    emu->running = 1;
    emu->port = atoi(colon + 1);
    snprintf(emu->endpoint, sizeof emu->endpoint, "http://127.0.0.1:%d", emu->port);
}

static inline void emu_stop(emulator *emu) {
    if (emu->running) {
        emu_http(emu, "POST", "/_emulator/shutdown", "", NULL, 0);
        /* Gone once its port refuses connections. */
        for (int tries = 0; tries < 200 && emu_http(emu, "GET", "/_emulator/stats", "", NULL, 0) > 0; tries++) Sleep(25);
        emu->running = 0;
    }
}
#else
#define h_closesocket close

/* Starts the emulator with extra arguments (NULL-terminated list). Exits the program on failure. */
static inline void emu_start(emulator *emu, const char *const *extra) {
    const char *bin = emu_binary();
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
#endif

/* One request to the control endpoint: returns the HTTP status (-1 when it cannot connect) and,
 * when body_out is not NULL, sets *body_out to the whole body of the answer (NUL-terminated, freed
 * by the caller with free(); NULL when there was no answer). */
static inline int emu_request(const emulator *emu, const char *method, const char *path, const char *body,
                              char **body_out) {
    if (body_out) *body_out = NULL;
#ifdef _WIN32
    SOCKET s = socket(AF_INET, SOCK_STREAM, 0);
    int bad = s == INVALID_SOCKET;
#else
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int bad = s < 0;
#endif
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)emu->port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bad || connect(s, (struct sockaddr *)&addr, sizeof addr) != 0) {
        if (!bad) h_closesocket(s);
        return -1;
    }
    char req[4096];
    int len = snprintf(req, sizeof req,
                       "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                       "Content-Length: %lu\r\nConnection: close\r\n\r\n%s",
                       method, path, (unsigned long)strlen(body), body);
    if (len < 0 || (size_t)len >= sizeof req || send(s, req, len, 0) != len) {
        h_closesocket(s);
        return -1;
    }
    /* The answer, read until the emulator closes the connection (Connection: close). */
    size_t cap = 16384, got = 0;
    char *resp = (char *)malloc(cap);
    int r = 0;
    while (resp && (r = (int)recv(s, resp + got, (int)(cap - 1 - got), 0)) > 0) {
        got += (size_t)r;
        if (got + 1 == cap) {
            char *bigger = (char *)realloc(resp, cap * 2);
            if (!bigger) {
                free(resp);
                resp = NULL;
                break;
            }
            resp = bigger;
            cap *= 2;
        }
    }
    h_closesocket(s);
    if (!resp) {
        fprintf(stderr, "out of memory reading the emulator's answer to %s %s\n", method, path);
        exit(2);
    }
    resp[got] = '\0';
    int status = 0;
    sscanf(resp, "HTTP/1.%*d %d", &status);
    if (body_out) {
        const char *b = strstr(resp, "\r\n\r\n");
        b = b ? b + 4 : "";
        memmove(resp, b, strlen(b) + 1);
        *body_out = resp;
    } else {
        free(resp);
    }
    return status;
}

/* One request to the control endpoint; returns the HTTP status (-1 when it cannot connect) and
 * copies the body into out (cut to out_len - 1 bytes). */
static inline int emu_http(const emulator *emu, const char *method, const char *path, const char *body, char *out,
                           size_t out_len) {
    char *whole = NULL;
    int status = emu_request(emu, method, path, body, out && out_len ? &whole : NULL);
    if (out && out_len) snprintf(out, out_len, "%s", whole ? whole : "");
    free(whole);
    return status;
}

/* Frees what emu_pair_ids gave. */
static inline void emu_free_ids(char **ids, long n) {
    for (long i = 0; ids && i < n; i++) free(ids[i]);
    free(ids);
}

/* The AMI ids DescribeStoreImageTasks reports in one (account, region) pair, newest first, read
 * from the emulator's own store (GET /_emulator/tasks?region=R&account=A; account NULL for the
 * home account): its tasks less those started before `cutoff`, an RFC 3339 UTC time written as
 * the emulator writes them (2026-10-20T12:00:00.000Z: 31 days before its clock). Tasks without a
 * start time are kept. Returns the number of ids and sets *ids (free them with emu_free_ids), or
 * returns -1 and sets *ids to NULL when the list cannot be read. */
static inline long emu_pair_ids(const emulator *emu, const char *region, const char *account, const char *cutoff,
                                char ***ids) {
    *ids = NULL;
    char path[256];
    snprintf(path, sizeof path, "/_emulator/tasks?region=%s%s%s", region, account ? "&account=" : "",
             account ? account : "");
    char *doc = NULL;
    if (emu_request(emu, "GET", path, "", &doc) != 200) {
        free(doc);
        return -1;
    }
    /* {"StoreImageTaskResults":[{"AmiId":"...",...,"TaskStartTime":"..."},...]}: each task is an
     * object at depth 3, its members' values are strings, numbers or absent. */
    long n = 0;
    size_t cap = 0;
    char **out = NULL;
    int depth = 0, ok = 1;
    const char *key = NULL, *ami = NULL, *start = NULL;
    size_t key_len = 0, ami_len = 0, start_len = 0;
    for (const char *p = doc; ok && *p; p++) {
        if (*p == '"') {
            const char *str = ++p;
            while (*p && *p != '"') p += (*p == '\\' && p[1]) ? 2 : 1;
            if (!*p) {
                ok = 0;
                break;
            }
            size_t len = (size_t)(p - str);
            const char *next = p + 1;
            while (*next == ' ' || *next == '\n' || *next == '\r' || *next == '\t') next++;
            if (depth != 3) continue;
            if (*next == ':') {
                key = str;
                key_len = len;
            } else if (key && key_len == 5 && strncmp(key, "AmiId", 5) == 0) {
                ami = str;
                ami_len = len;
            } else if (key && key_len == 13 && strncmp(key, "TaskStartTime", 13) == 0) {
                start = str;
                start_len = len;
            }
            continue;
        }
        if (*p == '{' || *p == '[') {
            if (++depth == 3) key = ami = start = NULL;
        } else if (*p == '}' || *p == ']') {
            if (depth == 3 && *p == '}' && ami) {
                size_t cut = strlen(cutoff);
                int visible = !start || strncmp(start, cutoff, start_len < cut ? start_len : cut) >= 0;
                if (visible) {
                    if ((size_t)n == cap) {
                        cap = cap ? cap * 2 : 64;
                        char **bigger = (char **)realloc(out, cap * sizeof *out);
                        if (!bigger) {
                            ok = 0;
                            break;
                        }
                        out = bigger;
                    }
                    out[n] = (char *)malloc(ami_len + 1);
                    if (!out[n]) {
                        ok = 0;
                        break;
                    }
                    memcpy(out[n], ami, ami_len);
                    out[n++][ami_len] = '\0';
                }
            }
            depth--;
        }
    }
    free(doc);
    if (!ok || depth != 0) {
        emu_free_ids(out, n);
        return -1;
    }
    *ids = out;
    return n;
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

/* Adds tasks (a tasks-file document, see the emulator's README). */
static inline void emu_add_tasks(const emulator *emu, const char *doc) {
    int st = emu_http(emu, "POST", "/_emulator/tasks", doc, NULL, 0);
    if (st != 200) {
        fprintf(stderr, "adding tasks failed (%d)\n", st);
        exit(2);
    }
}

static inline void emu_clear_faults(const emulator *emu) {
    emu_http(emu, "DELETE", "/_emulator/faults", "", NULL, 0);
}

/* A configuration for the emulator's home account: region us-east-1, the emulator's endpoint
 * and its access key. */
static inline storetasks_config *emu_config(const emulator *emu) {
    storetasks_config *cfg = storetasks_config_new();
    storetasks_config_set_region(cfg, "us-east-1");
    storetasks_config_set_endpoint_url(cfg, emu->endpoint);
    storetasks_config_set_credentials(cfg, EMU_ACCESS_KEY, EMU_SECRET_KEY, NULL);
    return cfg;
}

/* A client made from emu_config, checked to be made. */
static inline storetasks_client *emu_client(const emulator *emu) {
    storetasks_config *cfg = emu_config(emu);
    storetasks_client *client = NULL;
    CHECK_STATUS(storetasks_client_new(cfg, &client, NULL), STORETASKS_STATUS_OK);
    storetasks_config_free(cfg);
    return client;
}

/* A fleet of the `n` regions given, freed with storetasks_fleet_free. */
static inline storetasks_fleet *h_fleet(const char *const *regions, int n) {
    storetasks_fleet *fleet = storetasks_fleet_new();
    for (int i = 0; i < n; i++) CHECK_STATUS(storetasks_fleet_add_region(fleet, regions[i]), STORETASKS_STATUS_OK);
    return fleet;
}

/* Seconds on the monotonic clock since `start`. */
static inline double h_seconds_since(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* A thread that triggers a cancellation token after a delay, for the tests that a call
 * cancelled in flight returns soon after: h_cancel_later starts it, h_cancel_join waits for it
 * and says how long the call took. */
typedef struct h_cancel_timer {
    storetasks_cancel *cancel;
    long ms;
    pthread_t thread;
    struct timespec started;
} h_cancel_timer;

static inline void *h_cancel_timer_run(void *arg) {
    const h_cancel_timer *timer = (const h_cancel_timer *)arg;
    struct timespec ts = {timer->ms / 1000, (timer->ms % 1000) * 1000 * 1000};
    nanosleep(&ts, NULL);
    storetasks_cancel_trigger(timer->cancel);
    return NULL;
}

/* Triggers `cancel` `ms` milliseconds from now, and starts the clock of the call to cancel. */
static inline void h_cancel_later(h_cancel_timer *timer, storetasks_cancel *cancel, long ms) {
    timer->cancel = cancel;
    timer->ms = ms;
    pthread_create(&timer->thread, NULL, h_cancel_timer_run, timer);
    clock_gettime(CLOCK_MONOTONIC, &timer->started);
}

/* Stops the clock, waits for the timer's thread, and returns the seconds the call took. */
static inline double h_cancel_join(h_cancel_timer *timer) {
    double secs = h_seconds_since(&timer->started);
    pthread_join(timer->thread, NULL);
    return secs;
}

/* EC2 API requests the emulator received so far. */
static inline long emu_requests(const emulator *emu) {
    char body[16384];
    if (emu_http(emu, "GET", "/_emulator/stats", "", body, sizeof body) != 200) return -1;
    /* The keys come sorted: each by_pair entry's "requests" first, the total after them (and
     * before "user_agents", whose strings hold no such key). */
    const char *p = NULL;
    for (const char *q = strstr(body, "\"requests\":"); q; q = strstr(q + 1, "\"requests\":")) p = q;
    return p ? atol(p + 11) : -1;
}

#endif

/*
 * Replacing the log callback while other threads log. Eight threads list tasks against the
 * emulator with TRACE logging on, while the main thread swaps the callback between two functions
 * many times, each time with fresh heap user data, and poisons and frees the previous user data
 * as soon as storetasks_set_log_callback returns. The library promises that no call to the old
 * callback is still running then, so no callback may ever see freed or poisoned user data (ASan
 * and valgrind report the read of freed memory; the plain run sees the poisoned magic). At the
 * end the callback is removed, and no call may arrive after that.
 */
#include <pthread.h>
#include <time.h>

#include "storetasks.h"
#include "harness.h"

#define WORKERS 8
#define MAGIC 0x5eed10c5u

static emulator emu;
static storetasks_client *client;

typedef struct sink {
    volatile unsigned magic; /* MAGIC while the sink is installed; 0 just before it is freed */
    int which;               /* 0 or 1: which callback it was installed with */
} sink;

static pthread_mutex_t counts = PTHREAD_MUTEX_INITIALIZER;
static long events, bad_events, late_events, worker_calls, worker_failures;
static volatile int removed; /* set once the callback is removed */
static volatile int stop_workers;

static void record(const sink *s, int which) {
    /* Read the user data first: this is the read that must never touch freed memory. */
    int good = s && s->magic == MAGIC && s->which == which;
    pthread_mutex_lock(&counts);
    events++;
    if (!good) bad_events++;
    if (removed) late_events++;
    pthread_mutex_unlock(&counts);
}

static void log_a(int32_t level, const char *target, const char *message, void *user_data) {
    (void)level, (void)target, (void)message;
    record(user_data, 0);
}

static void log_b(int32_t level, const char *target, const char *message, void *user_data) {
    (void)level, (void)target, (void)message;
    record(user_data, 1);
}

static void *worker(void *arg) {
    (void)arg;
    storetasks_query *q = storetasks_query_new();
    storetasks_query_set_max_results(q, 5);
    while (!stop_workers) {
        storetasks_task_list *list = NULL;
        storetasks_status st = storetasks_client_describe(client, q, NULL, &list, NULL);
        pthread_mutex_lock(&counts);
        worker_calls++;
        if (st != STORETASKS_STATUS_OK || storetasks_task_list_len(list) != 5) worker_failures++;
        pthread_mutex_unlock(&counts);
        storetasks_task_list_free(list);
    }
    storetasks_query_free(q);
    return NULL;
}

static sink *new_sink(int which) {
    sink *s = malloc(sizeof *s);
    if (!s) exit(2);
    s->magic = MAGIC;
    s->which = which;
    return s;
}

static void poison_and_free(sink *s) {
    s->magic = 0;
    free(s);
}

static long events_now(void) {
    pthread_mutex_lock(&counts);
    long n = events;
    pthread_mutex_unlock(&counts);
    return n;
}

int main(void) {
    /* Swap for `busy` seconds, and on until `min_events` log events arrived while swapping (at
     * most `cap` seconds): valgrind runs everything tens of times slower. */
    int under_valgrind = getenv("STORETASKS_UNDER_VALGRIND") != NULL;
    double busy = under_valgrind ? 10.0 : 2.0, cap = under_valgrind ? 60.0 : 10.0;
    long min_events = under_valgrind ? 20 : 500;
    const char *args[] = {"--generate", "40", "--seed", "3", NULL};
    emu_start(&emu, args);
    client = emu_client(&emu);

    sink *current = new_sink(0);
    CHECK_STATUS(storetasks_set_log_callback(log_a, STORETASKS_LOG_LEVEL_TRACE, current), STORETASKS_STATUS_OK);
    pthread_t threads[WORKERS];
    for (int i = 0; i < WORKERS; i++) pthread_create(&threads[i], NULL, worker, NULL);

    /* Start swapping once events flow, so that swaps meet callbacks in flight. */
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (events_now() == 0 && h_seconds_since(&start) < 10.0) {
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    long events_before = events_now();
    clock_gettime(CLOCK_MONOTONIC, &start);
    int done = 0;
    for (;; done++) {
        double spent = h_seconds_since(&start);
        if (spent >= cap || (spent >= busy && events_now() - events_before >= min_events)) break;
        int which = (done + 1) % 2;
        sink *next = new_sink(which);
        storetasks_status st = storetasks_set_log_callback(which ? log_b : log_a, STORETASKS_LOG_LEVEL_TRACE, next);
        if (st != STORETASKS_STATUS_OK) CHECK_STATUS(st, STORETASKS_STATUS_OK);
        poison_and_free(current); /* the previous callback can no longer be running */
        current = next;
        struct timespec pause = {0, 100 * 1000}; /* let calls log between swaps */
        nanosleep(&pause, NULL);
    }
    long events_during = events_now() - events_before;
    CHECK_STATUS(storetasks_set_log_callback(NULL, STORETASKS_LOG_LEVEL_TRACE, NULL), STORETASKS_STATUS_OK);
    removed = 1;
    poison_and_free(current);
    /* Calls go on for a moment with no callback installed. */
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    stop_workers = 1;
    for (int i = 0; i < WORKERS; i++) pthread_join(threads[i], NULL);

    printf("logswap: %d swaps in %.2f s, %ld log events while swapping, %ld calls by %d threads\n", done,
           h_seconds_since(&start), events_during, worker_calls, WORKERS);
    CHECK(done >= 100, "only %d swaps", done);
    CHECK(events_during >= min_events, "only %ld log events arrived while the callbacks were swapped",
          events_during);
    CHECK(bad_events == 0, "%ld log events saw freed or wrong user data", bad_events);
    CHECK(late_events == 0, "%ld log events after the callback was removed", late_events);
    CHECK(worker_calls > 0 && worker_failures == 0, "%ld of %ld calls failed", worker_failures, worker_calls);
    storetasks_client_free(client);
    emu_stop(&emu);
    return h_finish();
}

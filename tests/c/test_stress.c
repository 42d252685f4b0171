/*
 * Sixteen threads share one client, each listing and waiting in a loop, while another thread
 * cancels calls at random moments. Every call must end OK with the right result, or CANCELLED;
 * nothing may hang, crash or leak (this program also runs under valgrind and ASan). A watchdog
 * fails the program when the workers have not all finished within a deadline, and the counts
 * at the end check that each worker made exactly the calls its rounds call for.
 */
#include <pthread.h>
#include <time.h>

#include "storetasks.h"
#include "harness.h"

#define THREADS 16
#define TASKS 120

static emulator emu;
static storetasks_client *client;
static int rounds;

typedef struct slot {
    pthread_mutex_t lock;
    storetasks_cancel *cancel; /* the token of the call in flight, or NULL */
} slot;

static slot slots[THREADS];
static volatile int stop_cancelling;
static int ok_calls, cancelled_calls, wrong_calls;
static int describe_calls, describe_ok, wait_calls;
static int finished_workers;
static int rounds_done[THREADS];
static pthread_mutex_t counts = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t worker_done = PTHREAD_COND_INITIALIZER;

static void count(storetasks_status st, int right) {
    pthread_mutex_lock(&counts);
    if (st == STORETASKS_STATUS_OK && right) ok_calls++;
    else if (st == STORETASKS_STATUS_CANCELLED) cancelled_calls++;
    else {
        wrong_calls++;
        fprintf(stderr, "unexpected outcome %s (right=%d)\n", storetasks_status_name(st), right);
    }
    pthread_mutex_unlock(&counts);
}

static storetasks_cancel *arm(slot *s) {
    storetasks_cancel *c = storetasks_cancel_new();
    pthread_mutex_lock(&s->lock);
    s->cancel = c;
    pthread_mutex_unlock(&s->lock);
    return c;
}

static void disarm(slot *s, storetasks_cancel *c) {
    pthread_mutex_lock(&s->lock);
    s->cancel = NULL;
    pthread_mutex_unlock(&s->lock);
    storetasks_cancel_free(c);
}

static void *worker(void *arg) {
    slot *s = arg;
    int id = (int)(s - slots);
    storetasks_query *q = storetasks_query_new();
    storetasks_query_set_max_results(q, 7 + id);
    storetasks_wait_options *o = storetasks_wait_options_new();
    storetasks_wait_options_set_delays(o, 20, 50);
    storetasks_wait_options_set_timeout(o, 20000);
    for (int r = 0; r < rounds; r++) {
        storetasks_cancel *c = arm(s);
        storetasks_task_list *list = NULL;
        storetasks_status st = storetasks_client_describe_all(client, q, 0, c, &list, NULL);
        count(st, storetasks_task_list_len(list) == TASKS);
        pthread_mutex_lock(&counts);
        describe_calls++;
        if (st == STORETASKS_STATUS_OK) describe_ok++;
        pthread_mutex_unlock(&counts);
        const char *ids[3] = {NULL, NULL, NULL};
        if (st == STORETASKS_STATUS_OK) {
            /* Wait on three completed tasks of the listing: returns at the first poll. */
            size_t found = 0;
            for (size_t i = 0; i < storetasks_task_list_len(list) && found < 3; i++) {
                const storetasks_task *t = storetasks_task_list_get(list, i);
                if (t->state == STORETASKS_TASK_STATE_COMPLETED) ids[found++] = t->ami_id;
            }
            storetasks_task_list *done = NULL;
            st = storetasks_client_wait(client, ids, found, o, c, &done, NULL);
            count(st, storetasks_task_list_len(done) == found);
            pthread_mutex_lock(&counts);
            wait_calls++;
            pthread_mutex_unlock(&counts);
            storetasks_task_list_free(done);
        }
        storetasks_task_list_free(list);
        disarm(s, c);
        pthread_mutex_lock(&counts);
        rounds_done[id]++;
        pthread_mutex_unlock(&counts);
    }
    storetasks_wait_options_free(o);
    storetasks_query_free(q);
    pthread_mutex_lock(&counts);
    finished_workers++;
    pthread_cond_signal(&worker_done);
    pthread_mutex_unlock(&counts);
    return NULL;
}

/* Waits until every worker has finished, or gives up after `seconds`: then a call never
 * returned (a deadlock or a lost wake-up), the workers cannot be joined, and the program ends
 * here with a failure, naming the workers still inside a call. */
static void await_workers(int seconds) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += seconds;
    pthread_mutex_lock(&counts);
    while (finished_workers < THREADS)
        if (pthread_cond_timedwait(&worker_done, &counts, &deadline) != 0) break;
    int finished = finished_workers;
    if (finished < THREADS) {
        fprintf(stderr, "FAIL: %d of %d workers still inside a call after %d s:", THREADS - finished, THREADS,
                seconds);
        for (int i = 0; i < THREADS; i++)
            if (rounds_done[i] < rounds) fprintf(stderr, " worker %d in round %d;", i, rounds_done[i] + 1);
        fputc('\n', stderr);
        fflush(stderr);
        _exit(1);
    }
    pthread_mutex_unlock(&counts);
}

static void *canceller(void *arg) {
    (void)arg;
    unsigned seed = 7;
    while (!stop_cancelling) {
        struct timespec ts = {0, (long)(rand_r(&seed) % 20) * 1000 * 1000};
        nanosleep(&ts, NULL);
        slot *s = &slots[rand_r(&seed) % THREADS];
        pthread_mutex_lock(&s->lock);
        if (s->cancel) storetasks_cancel_trigger(s->cancel);
        pthread_mutex_unlock(&s->lock);
    }
    return NULL;
}

int main(void) {
    rounds = getenv("STORETASKS_UNDER_VALGRIND") ? 2 : 10;
    const char *args[] = {"--generate", "120", "--seed", "9", NULL};
    emu_start(&emu, args);
    client = emu_client(&emu);

    pthread_t threads[THREADS], cancel_thread;
    for (int i = 0; i < THREADS; i++) {
        pthread_mutex_init(&slots[i].lock, NULL);
        pthread_create(&threads[i], NULL, worker, &slots[i]);
    }
    pthread_create(&cancel_thread, NULL, canceller, NULL);
    await_workers(getenv("STORETASKS_UNDER_VALGRIND") ? 600 : 90);
    for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
    stop_cancelling = 1;
    pthread_join(cancel_thread, NULL);

    printf("stress: %d calls ok, %d cancelled, %d wrong (%d listings, %d waits)\n", ok_calls, cancelled_calls,
           wrong_calls, describe_calls, wait_calls);
    CHECK(wrong_calls == 0, "%d calls ended wrongly", wrong_calls);
    CHECK(ok_calls > 0, "some calls completed");
    /* One listing per round, and one wait per listing that succeeded: no call was skipped. */
    CHECK(describe_calls == THREADS * rounds, "%d listings returned, want %d", describe_calls, THREADS * rounds);
    CHECK(wait_calls == describe_ok, "%d waits returned, want %d", wait_calls, describe_ok);
    CHECK(ok_calls + cancelled_calls + wrong_calls == describe_calls + wait_calls, "every outcome counted once");
    storetasks_client_free(client);
    emu_stop(&emu);
    return h_finish();
}

/*
 * Sixteen threads share one client, each listing and waiting in a loop, while another thread
 * cancels calls at random moments. Every call must end OK with the right result, or CANCELLED;
 * nothing may hang, crash or leak (this program also runs under valgrind and ASan).
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
static pthread_mutex_t counts = PTHREAD_MUTEX_INITIALIZER;

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
            storetasks_task_list_free(done);
        }
        storetasks_task_list_free(list);
        disarm(s, c);
    }
    storetasks_wait_options_free(o);
    storetasks_query_free(q);
    return NULL;
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
    storetasks_config *cfg = storetasks_config_new();
    storetasks_config_set_region(cfg, "us-east-1");
    storetasks_config_set_endpoint_url(cfg, emu.endpoint);
    storetasks_config_set_credentials(cfg, EMU_ACCESS_KEY, EMU_SECRET_KEY, NULL);
    CHECK_STATUS(storetasks_client_new(cfg, &client, NULL), STORETASKS_STATUS_OK);
    storetasks_config_free(cfg);

    pthread_t threads[THREADS], cancel_thread;
    for (int i = 0; i < THREADS; i++) {
        pthread_mutex_init(&slots[i].lock, NULL);
        pthread_create(&threads[i], NULL, worker, &slots[i]);
    }
    pthread_create(&cancel_thread, NULL, canceller, NULL);
    for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
    stop_cancelling = 1;
    pthread_join(cancel_thread, NULL);

    printf("stress: %d calls ok, %d cancelled, %d wrong\n", ok_calls, cancelled_calls, wrong_calls);
    CHECK(wrong_calls == 0, "%d calls ended wrongly", wrong_calls);
    CHECK(ok_calls > 0, "some calls completed");
    CHECK(ok_calls + cancelled_calls + wrong_calls >= THREADS * rounds, "every call returned");
    storetasks_client_free(client);
    emu_stop(&emu);
    return h_finish();
}

/*
 * Calls that do not block, learning of news through their callbacks alone: the way a program
 * waits for them on Windows, where calls have no descriptor, and the way a program without an
 * event loop may wait everywhere. Many calls at once, a third of them cancelled; pages of a
 * listing and of a fleet taken inside the callback as they come; a callback that takes its
 * result and frees its own call. Runs on Linux (plain, valgrind, ASan/UBSan) and under Wine.
 */
#include <pthread.h>
#include <time.h>

#include "storetasks.h"
#include "harness.h"

static emulator emu;
static storetasks_client *client;

/* What callbacks report to the test's thread: how many calls ended, under a lock. */
typedef struct {
    pthread_mutex_t lock;
    int ended;
} news;

static news all_news = {PTHREAD_MUTEX_INITIALIZER, 0};

static void count_end(news *n) {
    pthread_mutex_lock(&n->lock);
    n->ended++;
    pthread_mutex_unlock(&n->lock);
}

/* Waits (at most 60 s) until `want` calls ended; returns how many did. */
static int wait_for_ends(news *n, int want) {
    struct timespec start, pause = {0, 5 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        pthread_mutex_lock(&n->lock);
        int ended = n->ended;
        pthread_mutex_unlock(&n->lock);
        if (ended >= want || h_seconds_since(&start) > 60) return ended;
        nanosleep(&pause, NULL);
    }
}

static storetasks_query *page_query(int max_results) {
    storetasks_query *q = storetasks_query_new();
    CHECK_STATUS(storetasks_query_set_max_results(q, max_results), STORETASKS_STATUS_OK);
    return q;
}

/* The number of tasks the blocking listing of `q` gives. */
static size_t blocking_count(const storetasks_query *q) {
    storetasks_task_list *all = NULL;
    CHECK_STATUS(storetasks_client_describe_all(client, q, 0, NULL, &all, NULL), STORETASKS_STATUS_OK);
    size_t n = storetasks_task_list_len(all);
    storetasks_task_list_free(all);
    return n;
}

/* --- many calls, learning of their end through the callback ------------------------------- */

static void on_end(storetasks_call *call, void *user_data) {
    (void)call;
    count_end((news *)user_data);
}

static void many_calls(int n) {
    storetasks_query *q = page_query(5);
    storetasks_call **calls = calloc((size_t)n, sizeof *calls);
    all_news.ended = 0;
    for (int i = 0; i < n; i++) {
        CHECK_STATUS(storetasks_client_describe_start(client, q, on_end, &all_news, &calls[i], NULL), STORETASKS_STATUS_OK);
#ifdef _WIN32
        CHECK(storetasks_call_fd(calls[i]) == -1, "a call has a descriptor on Windows");
#else
        CHECK(storetasks_call_fd(calls[i]) >= 0, "a call has no descriptor");
#endif
        if (i % 3 == 0) storetasks_call_cancel(calls[i]);
    }
    CHECK(wait_for_ends(&all_news, n) == n, "not every call's callback told of its end");
    int listed = 0, cancelled = 0;
    for (int i = 0; i < n; i++) {
        CHECK(storetasks_call_finished(calls[i]), "call %d ended but is not finished", i);
        storetasks_task_list *list = NULL;
        storetasks_error *err = NULL;
        storetasks_status st = storetasks_call_take_list(calls[i], &list, &err);
        if (st == STORETASKS_STATUS_OK) {
            listed++;
            CHECK(storetasks_task_list_len(list) == 5, "call %d listed %zu tasks", i, storetasks_task_list_len(list));
            storetasks_task_list_free(list);
        } else {
            cancelled++;
            CHECK(st == STORETASKS_STATUS_CANCELLED && i % 3 == 0, "call %d ended with %s", i, storetasks_status_name(st));
            storetasks_error_free(err);
        }
        storetasks_call_free(calls[i]);
    }
    CHECK(listed >= n - (n + 2) / 3, "%d listed", listed);
    printf("%d calls through callbacks: %d listed, %d cancelled\n", n, listed, cancelled);
    free(calls);
    storetasks_query_free(q);
}

/* --- pages taken inside the callback -------------------------------------------------------- */

/* A listing's pages as the callback takes them: tasks per region (one slot for a plain
 * listing), and whether the end came. */
typedef struct {
    news n;
    size_t tasks[2];
    int pages, wrong_place, fleet;
    storetasks_status end;
    storetasks_fleet_result *result;
} taker;

static void take_pages(storetasks_call *call, void *user_data) {
    taker *t = (taker *)user_data;
    storetasks_task_list *page = NULL;
    storetasks_status st;
    while ((st = storetasks_call_next_page(call, &page, NULL)) == STORETASKS_STATUS_OK && page != NULL) {
        const char *region = storetasks_task_list_region(page);
        int at = 0;
        if (t->fleet) {
            at = region && strcmp(region, "eu-west-3") == 0 ? 1 : 0;
            if (!region || (at == 0 && strcmp(region, "us-east-1") != 0)) t->wrong_place++;
        } else if (region) {
            t->wrong_place++;
        }
        t->tasks[at] += storetasks_task_list_len(page);
        t->pages++;
        storetasks_task_list_free(page);
    }
    if (st == STORETASKS_STATUS_PENDING) return;
    t->end = st;
    if (t->fleet && st == STORETASKS_STATUS_OK) t->end = storetasks_call_take_fleet(call, &t->result, NULL);
    count_end(&t->n);
}

static void pages_in_the_callback(void) {
    storetasks_query *q = page_query(7);
    taker t = {{PTHREAD_MUTEX_INITIALIZER, 0}, {0, 0}, 0, 0, 0, STORETASKS_STATUS_PENDING, NULL};
    storetasks_call *call = NULL;
    CHECK_STATUS(storetasks_client_describe_pages_start(client, q, 0, take_pages, &t, &call, NULL), STORETASKS_STATUS_OK);
    CHECK(wait_for_ends(&t.n, 1) == 1, "the listing's end never came");
    CHECK_STATUS(t.end, STORETASKS_STATUS_OK);
    size_t want = blocking_count(q);
    CHECK(t.tasks[0] == want && t.pages == (int)((want + 6) / 7), "%d pages of %zu tasks, want %zu", t.pages, t.tasks[0],
          want);
    CHECK(t.wrong_place == 0, "a plain listing's page named a place");
    storetasks_call_free(call);
    storetasks_query_free(q);
}

static void fleet_pages_in_the_callback(void) {
    const char *const regions[] = {"us-east-1", "eu-west-3"};
    storetasks_fleet *fleet = h_fleet(regions, 2);
    storetasks_query *q = page_query(7);
    taker t = {{PTHREAD_MUTEX_INITIALIZER, 0}, {0, 0}, 0, 0, 1, STORETASKS_STATUS_PENDING, NULL};
    storetasks_call *call = NULL;
    CHECK_STATUS(storetasks_client_describe_fleet_pages_start(client, fleet, q, take_pages, &t, &call, NULL),
                 STORETASKS_STATUS_OK);
    CHECK(wait_for_ends(&t.n, 1) == 1, "the fleet listing's end never came");
    CHECK_STATUS(t.end, STORETASKS_STATUS_OK);
    CHECK(t.wrong_place == 0, "%d pages named another place", t.wrong_place);
    storetasks_fleet_result *blocking = NULL;
    CHECK_STATUS(storetasks_client_describe_fleet(client, fleet, q, NULL, &blocking, NULL), STORETASKS_STATUS_OK);
    for (size_t i = 0; i < 2 && t.result; i++) {
        size_t want = storetasks_task_list_len(storetasks_fleet_result_tasks(blocking, i));
        CHECK(strcmp(storetasks_fleet_result_region(t.result, i), regions[i]) == 0, "place %zu's region", i);
        CHECK(t.tasks[i] == want && storetasks_fleet_result_task_count(t.result, i) == want,
              "%s: %zu tasks in pages, %zu counted, %zu in the blocking fleet", regions[i], t.tasks[i],
              storetasks_fleet_result_task_count(t.result, i), want);
    }
    storetasks_fleet_result_free(blocking);
    storetasks_fleet_result_free(t.result);
    storetasks_call_free(call);
    storetasks_fleet_free(fleet);
    storetasks_query_free(q);
}

/* --- a callback that frees its own call ----------------------------------------------------- */

typedef struct {
    news n;
    size_t tasks;
} freeing;

static void take_and_free(storetasks_call *call, void *user_data) {
    freeing *f = (freeing *)user_data;
    storetasks_task_list *list = NULL;
    if (storetasks_call_take_list(call, &list, NULL) == STORETASKS_STATUS_OK) f->tasks = storetasks_task_list_len(list);
    storetasks_task_list_free(list);
    storetasks_call_free(call);
    count_end(&f->n);
}

static void a_callback_frees_its_call(void) {
    storetasks_query *q = page_query(9);
    freeing f = {{PTHREAD_MUTEX_INITIALIZER, 0}, 0};
    storetasks_call *call = NULL;
    CHECK_STATUS(storetasks_client_describe_start(client, q, take_and_free, &f, &call, NULL), STORETASKS_STATUS_OK);
    CHECK(wait_for_ends(&f.n, 1) == 1, "the callback never ran");
    CHECK(f.tasks == 9, "the callback took %zu tasks", f.tasks);
    storetasks_query_free(q);
}

int main(void) {
    const char *args[] = {"--generate", "60", "--regions", "us-east-1,eu-west-3", NULL};
    emu_start(&emu, args);
    client = emu_client(&emu);
    many_calls(getenv("STORETASKS_UNDER_VALGRIND") ? 30 : 200);
    pages_in_the_callback();
    fleet_pages_in_the_callback();
    a_callback_frees_its_call();
    storetasks_client_free(client);
    emu_stop(&emu);
    return h_finish();
}

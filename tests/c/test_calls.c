/*
 * Calls that do not block, driven the way an event loop drives them: from one thread, waiting on
 * their descriptors with poll(). Many calls in flight at once against an emulator that delays its
 * replies, half of them cancelled at random points, each result taken exactly once; page-by-page
 * calls whose queue stays bounded when the caller is slow; callbacks on the library's threads
 * that take results, start new calls and free their own call; waits that end completed,
 * failed, not found or cancelled; fleets equal to the blocking call's, whole or page by page; a call freed while running or
 * while its callback runs; the client freed under running calls; and, over thousands of calls,
 * no descriptor or thread left behind. Runs plain, under valgrind and with ASan/UBSan.
 */
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>

#include "storetasks.h"
#include "harness.h"

static emulator emu;
static storetasks_client *client;
static int under_valgrind;

static storetasks_query *page_query(int max_results) {
    storetasks_query *q = storetasks_query_new();
    CHECK_STATUS(storetasks_query_set_max_results(q, max_results), STORETASKS_STATUS_OK);
    return q;
}

static long count_entries(const char *dir) {
    DIR *d = opendir(dir);
    long n = 0;
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits on the descriptors of every call still running in `calls` (NULL slots are done) and
 * takes what is ready through `take`, until none is left or `seconds` pass. */
static void drive(storetasks_call **calls, int n, double seconds, void (*take)(storetasks_call **, int)) {
    struct pollfd *fds = calloc((size_t)n, sizeof *fds);
    int *index = calloc((size_t)n, sizeof *index);
    struct timespec started;
    clock_gettime(CLOCK_MONOTONIC, &started);
    for (;;) {
        int m = 0;
        for (int i = 0; i < n; i++) {
            if (!calls[i]) continue;
            fds[m].fd = storetasks_call_fd(calls[i]);
            fds[m].events = POLLIN;
            index[m++] = i;
        }
        if (m == 0) break;
        if (h_seconds_since(&started) > seconds) {
            CHECK(0, "%d calls still running after %.0f s", m, seconds);
            break;
        }
        int ready = poll(fds, (nfds_t)m, 200);
        for (int k = 0; ready > 0 && k < m; k++)
            if (fds[k].revents & POLLIN) take(calls, index[k]);
    }
    free(fds);
    free(index);
}

/* --- many calls in flight, half cancelled ------------------------------------------------ */

static int ok_results, cancelled_results, other_results;
static char *cancelled_at;

static void take_one_list(storetasks_call **calls, int i) {
    storetasks_task_list *list = NULL;
    storetasks_error *err = NULL;
    storetasks_status st = storetasks_call_take_list(calls[i], &list, &err);
    if (st == STORETASKS_STATUS_PENDING) return; /* woken for nothing: not allowed to happen twice */
    if (st == STORETASKS_STATUS_OK && storetasks_task_list_len(list) == 5) ok_results++;
    else if (st == STORETASKS_STATUS_CANCELLED && cancelled_at[i]) cancelled_results++;
    else {
        other_results++;
        fprintf(stderr, "call %d: %s (%s)\n", i, storetasks_status_name(st), err ? storetasks_error_message(err) : "");
    }
    /* The result is handed over once. */
    storetasks_task_list *again = NULL;
    CHECK_STATUS(storetasks_call_take_list(calls[i], &again, NULL), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK(again == NULL, "a second take wrote a list");
    CHECK(storetasks_call_finished(calls[i]), "a call whose result was taken is not finished");
    storetasks_task_list_free(list);
    storetasks_error_free(err);
    storetasks_call_free(calls[i]);
    calls[i] = NULL;
}

static void many_calls_in_flight(int n) {
    emu_fault(&emu, "delay,ms=400,count=1000000");
    storetasks_query *q = page_query(5);
    storetasks_call **calls = calloc((size_t)n, sizeof *calls);
    cancelled_at = calloc((size_t)n, 1);
    ok_results = cancelled_results = other_results = 0;
    struct timespec started;
    clock_gettime(CLOCK_MONOTONIC, &started);
    for (int i = 0; i < n; i++)
        CHECK_STATUS(storetasks_client_describe_start(client, q, NULL, NULL, &calls[i], NULL), STORETASKS_STATUS_OK);
    double start_secs = h_seconds_since(&started);
    /* Starting does not wait for the replies. */
    CHECK(start_secs < 0.4 * (under_valgrind ? 50 : 1), "starting %d calls took %.2f s", n, start_secs);
    storetasks_task_list *early = NULL;
    CHECK_STATUS(storetasks_call_take_list(calls[0], &early, NULL), STORETASKS_STATUS_PENDING);
    CHECK(early == NULL && !storetasks_call_finished(calls[0]), "a running call gave a list");
    /* Half are cancelled: a quarter at once, a quarter after a while. */
    srand(7);
    for (int i = 0; i < n; i++)
        if (rand() % 4 == 0) {
            cancelled_at[i] = 1;
            storetasks_call_cancel(calls[i]);
        }
    sleep_ms(150);
    for (int i = 0; i < n; i++)
        if (!cancelled_at[i] && rand() % 3 == 0) {
            cancelled_at[i] = 1;
            storetasks_call_cancel(calls[i]);
        }
    drive(calls, n, under_valgrind ? 600 : 60, take_one_list);
    int cancelled = 0;
    for (int i = 0; i < n; i++) cancelled += cancelled_at[i];
    printf("%d calls: %d listed, %d cancelled (%d asked), %d other\n", n, ok_results, cancelled_results, cancelled,
           other_results);
    CHECK(ok_results + cancelled_results == n, "every call ended once: %d + %d of %d", ok_results, cancelled_results, n);
    CHECK(other_results == 0, "%d calls ended otherwise", other_results);
    CHECK(cancelled_results > n / 4, "cancelled calls ended as cancelled: %d", cancelled_results);
    emu_clear_faults(&emu);
    storetasks_query_free(q);
    free(calls);
    free(cancelled_at);
}

/* --- page by page ------------------------------------------------------------------------- */

static void pages_match_the_blocking_listing(void) {
    storetasks_query *q = page_query(7);
    storetasks_task_list *all = NULL;
    CHECK_STATUS(storetasks_client_describe_all(client, q, 0, NULL, &all, NULL), STORETASKS_STATUS_OK);
    size_t total = storetasks_task_list_len(all);
    long before = emu_requests(&emu);
    storetasks_call *call = NULL;
    CHECK_STATUS(storetasks_client_describe_pages_start(client, q, 0, NULL, NULL, &call, NULL), STORETASKS_STATUS_OK);
    /* A caller that takes nothing: the listing stops once two pages wait for it. */
    sleep_ms(under_valgrind ? 3000 : 600);
    long asked = emu_requests(&emu) - before;
    CHECK(asked >= 2 && asked <= 3, "a listing whose pages are not taken asked %ld pages", asked);
    size_t seen = 0, pages = 0;
    int ended = 0;
    struct pollfd p = {storetasks_call_fd(call), POLLIN, 0};
    while (!ended) {
        if (poll(&p, 1, under_valgrind ? 20000 : 5000) != 1) {
            CHECK(0, "no page for 5 s after %zu tasks", seen);
            break;
        }
        for (;;) {
            storetasks_task_list *page = NULL;
            storetasks_status st = storetasks_call_next_page(call, &page, NULL);
            if (st == STORETASKS_STATUS_PENDING) break;
            CHECK_STATUS(st, STORETASKS_STATUS_OK);
            if (st != STORETASKS_STATUS_OK || !page) {
                ended = 1;
                break;
            }
            size_t len = storetasks_task_list_len(page);
            const storetasks_task *got = storetasks_task_list_get(page, 0);
            const storetasks_task *want = storetasks_task_list_get(all, seen);
            CHECK(seen + len <= total && got && want && strcmp(got->ami_id, want->ami_id) == 0,
                  "page %zu does not continue the listing", pages);
            seen += len;
            pages++;
            storetasks_task_list_free(page);
        }
    }
    CHECK(seen == total, "pages held %zu tasks, the listing %zu", seen, total);
    CHECK(storetasks_call_finished(call), "a listing taken to its end is not finished");
    storetasks_task_list *after = (storetasks_task_list *)1;
    CHECK_STATUS(storetasks_call_next_page(call, &after, NULL), STORETASKS_STATUS_OK);
    CHECK(after == NULL, "a page after the end");
    CHECK_STATUS(storetasks_call_take_list(call, &after, NULL), STORETASKS_STATUS_INVALID_ARGUMENT);
    storetasks_call_free(call);
    storetasks_task_list_free(all);
    storetasks_query_free(q);
}

/* --- callbacks --------------------------------------------------------------------------- */

typedef struct chain {
    pthread_mutex_t lock;
    pthread_cond_t done;
    storetasks_query *query;
    int left, listed, failed;
} chain;

/* Takes the result, frees its own call and starts the next one, until the chain is done. */
static void chain_step(storetasks_call *call, void *user_data) {
    chain *c = user_data;
    storetasks_task_list *list = NULL;
    storetasks_status st = storetasks_call_take_list(call, &list, NULL);
    storetasks_task_list_free(list);
    storetasks_call_free(call);
    pthread_mutex_lock(&c->lock);
    if (st == STORETASKS_STATUS_OK) c->listed++;
    else c->failed++;
    int more = --c->left > 0;
    pthread_mutex_unlock(&c->lock);
    storetasks_call *next = NULL;
    if (more && storetasks_client_describe_start(client, c->query, chain_step, c, &next, NULL) == STORETASKS_STATUS_OK)
        return;
    pthread_mutex_lock(&c->lock);
    c->left = 0;
    pthread_cond_broadcast(&c->done);
    pthread_mutex_unlock(&c->lock);
}

static void callbacks_start_new_calls(void) {
    chain c = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, page_query(3), 20, 0, 0};
    storetasks_call *first = NULL;
    CHECK_STATUS(storetasks_client_describe_start(client, c.query, chain_step, &c, &first, NULL), STORETASKS_STATUS_OK);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += under_valgrind ? 300 : 30;
    pthread_mutex_lock(&c.lock);
    while (c.left > 0)
        if (pthread_cond_timedwait(&c.done, &c.lock, &deadline) != 0) break;
    pthread_mutex_unlock(&c.lock);
    CHECK(c.listed == 20 && c.failed == 0, "a chain of 20 calls started from callbacks: %d listed, %d failed", c.listed,
          c.failed);
    storetasks_query_free(c.query);
}

/* --- freeing ------------------------------------------------------------------------------ */

typedef struct slow {
    int *alive; /* freed by the test once storetasks_call_free returns */
    volatile int entered;
} slow;

static void slow_callback(storetasks_call *call, void *user_data) {
    (void)call;
    slow *s = user_data;
    s->entered = 1;
    sleep_ms(300);
    *s->alive += 1; /* ASan and valgrind see a use after free if the free did not wait */
}

static void freeing_running_calls(void) {
    storetasks_query *q = page_query(5);
    /* A call freed while its request runs: the free returns at once. */
    emu_fault(&emu, "delay,ms=3000,count=1");
    storetasks_call *call = NULL;
    CHECK_STATUS(storetasks_client_describe_start(client, q, NULL, NULL, &call, NULL), STORETASKS_STATUS_OK);
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    storetasks_call_free(call);
    CHECK(h_seconds_since(&t) < 0.5 * (under_valgrind ? 10 : 1), "freeing a running call took %.2f s", h_seconds_since(&t));
    emu_clear_faults(&emu);

    /* A call freed while its callback runs on a library thread: the free waits for it. */
    slow s = {malloc(sizeof(int)), 0};
    *s.alive = 0;
    CHECK_STATUS(storetasks_client_describe_start(client, q, slow_callback, &s, &call, NULL), STORETASKS_STATUS_OK);
    for (int i = 0; i < 2000 && !s.entered; i++) sleep_ms(5);
    CHECK(s.entered, "the callback never ran");
    storetasks_call_free(call);
    CHECK(*s.alive == 1, "the free returned before the callback did");
    free(s.alive);

    /* Free of NULL, and the functions given NULL. */
    storetasks_call_free(NULL);
    CHECK(storetasks_call_fd(NULL) == -1, "the descriptor of NULL");
    CHECK(!storetasks_call_finished(NULL), "NULL finished");
    storetasks_call_cancel(NULL);
    storetasks_task_list *list = NULL;
    CHECK_STATUS(storetasks_call_take_list(NULL, &list, NULL), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(storetasks_call_next_page(NULL, &list, NULL), STORETASKS_STATUS_INVALID_ARGUMENT);

    /* A bad query is refused at the start, and nothing is written. */
    storetasks_query *bad = storetasks_query_new();
    storetasks_query_add_image_id(bad, "ami-00000000000000001");
    storetasks_query_set_max_results(bad, 10);
    call = (storetasks_call *)1;
    storetasks_error *err = NULL;
    CHECK_STATUS(storetasks_client_describe_start(client, bad, NULL, NULL, &call, &err), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK(call == (storetasks_call *)1 && err, "a refused start wrote the call or no error");
    storetasks_error_free(err);
    CHECK_STATUS(storetasks_client_describe_start(NULL, q, NULL, NULL, &call, NULL), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(storetasks_client_describe_start(client, q, NULL, NULL, NULL, NULL), STORETASKS_STATUS_INVALID_ARGUMENT);
    storetasks_query_free(bad);
    storetasks_query_free(q);
}

/* The client freed while calls run on it: they end as cancelled, and stay to be freed. */
static void freeing_the_client_under_running_calls(void) {
    storetasks_client *own = emu_client(&emu);
    storetasks_query *q = page_query(5);
    emu_fault(&emu, "delay,ms=5000,count=3");
    storetasks_call *calls[3] = {NULL, NULL, NULL};
    for (int i = 0; i < 3; i++)
        CHECK_STATUS(storetasks_client_describe_start(own, q, NULL, NULL, &calls[i], NULL), STORETASKS_STATUS_OK);
    sleep_ms(100);
    storetasks_client_free(own);
    for (int i = 0; i < 3; i++) {
        struct pollfd p = {storetasks_call_fd(calls[i]), POLLIN, 0};
        CHECK(poll(&p, 1, 10000) == 1, "call %d did not end when its client went", i);
        storetasks_task_list *list = NULL;
        storetasks_error *err = NULL;
        CHECK_STATUS(storetasks_call_take_list(calls[i], &list, &err), STORETASKS_STATUS_CANCELLED);
        CHECK(err && strstr(storetasks_error_message(err), "client was freed"), "message: %s",
              err ? storetasks_error_message(err) : "(none)");
        storetasks_error_free(err);
        storetasks_call_free(calls[i]);
    }
    emu_clear_faults(&emu);
    storetasks_query_free(q);
}

/* --- waits ------------------------------------------------------------------------------- */

/* Waits for `call` through its descriptor and takes its list: the status, with *list_out set
 * on success and *err on failure. */
static storetasks_status wait_and_take(storetasks_call *call, storetasks_task_list **list_out, storetasks_error **err) {
    struct pollfd p = {storetasks_call_fd(call), POLLIN, 0};
    CHECK(poll(&p, 1, under_valgrind ? 60000 : 15000) == 1, "the call never ended");
    return storetasks_call_take_list(call, list_out, err);
}

static void waits_that_do_not_block(void) {
    emu_add_tasks(&emu,
                  "{\"StoreImageTaskResults\":["
                  "{\"AmiId\":\"ami-0c0000000000000c1\",\"TaskStartTime\":\"2026-11-20T11:59:00.000Z\",\"Bucket\":\"b\","
                  "\"ProgressPercentage\":100,\"StoreTaskState\":\"Completed\"},"
                  "{\"AmiId\":\"ami-0c0000000000000c2\",\"TaskStartTime\":\"2026-11-20T11:59:00.000Z\",\"Bucket\":\"b\","
                  "\"ProgressPercentage\":100,\"StoreTaskState\":\"Completed\"},"
                  "{\"AmiId\":\"ami-0f0000000000000f1\",\"TaskStartTime\":\"2026-11-20T11:59:00.000Z\",\"Bucket\":\"b\","
                  "\"ProgressPercentage\":40,\"StoreTaskState\":\"Failed\",\"StoreTaskFailureReason\":\"the bucket is gone\"},"
                  "{\"AmiId\":\"ami-0a0000000000000a1\",\"TaskStartTime\":\"2026-11-20T11:59:00.000Z\",\"Bucket\":\"b\","
                  "\"ProgressPercentage\":10,\"StoreTaskState\":\"InProgress\"}]}");
    storetasks_wait_options *o = storetasks_wait_options_new();
    CHECK_STATUS(storetasks_wait_options_set_delays(o, 100, 300), STORETASKS_STATUS_OK);
    CHECK_STATUS(storetasks_wait_options_set_timeout(o, 30000), STORETASKS_STATUS_OK);
    CHECK_STATUS(storetasks_wait_options_set_not_found_grace(o, 300), STORETASKS_STATUS_OK);

    /* Completed tasks: their list, in the order asked. */
    const char *done[] = {"ami-0c0000000000000c2", "ami-0c0000000000000c1"};
    storetasks_call *call = NULL;
    CHECK_STATUS(storetasks_client_wait_start(client, done, 2, o, NULL, NULL, &call, NULL), STORETASKS_STATUS_OK);
    storetasks_task_list *list = NULL;
    CHECK_STATUS(wait_and_take(call, &list, NULL), STORETASKS_STATUS_OK);
    CHECK(storetasks_task_list_len(list) == 2 && strcmp(storetasks_task_list_get(list, 0)->ami_id, done[0]) == 0 &&
              storetasks_task_list_get(list, 1)->state == STORETASKS_TASK_STATE_COMPLETED,
          "the completed tasks in the order asked");
    storetasks_task_list_free(list);
    storetasks_call_free(call);

    /* A failed task and an image without one end the wait as the blocking wait ends it. */
    const char *failed[] = {"ami-0f0000000000000f1"}, *missing[] = {"ami-0ffffffffffffffff"};
    storetasks_error *err = NULL;
    CHECK_STATUS(storetasks_client_wait_start(client, failed, 1, o, NULL, NULL, &call, NULL), STORETASKS_STATUS_OK);
    CHECK_STATUS(wait_and_take(call, &list, &err), STORETASKS_STATUS_TASK_FAILED);
    CHECK(err && strcmp(storetasks_error_ami_id(err), failed[0]) == 0, "the failed AMI is named");
    storetasks_error_free(err);
    storetasks_call_free(call);
    err = NULL;
    CHECK_STATUS(storetasks_client_wait_start(client, missing, 1, o, NULL, NULL, &call, NULL), STORETASKS_STATUS_OK);
    CHECK_STATUS(wait_and_take(call, &list, &err), STORETASKS_STATUS_NOT_FOUND);
    storetasks_error_free(err);
    storetasks_call_free(call);

    /* Across targets (here both in the client's own place). */
    storetasks_wait_target targets[] = {{NULL, NULL, "ami-0c0000000000000c1"}, {"us-east-1", NULL, "ami-0c0000000000000c2"}};
    CHECK_STATUS(storetasks_client_wait_targets_start(client, targets, 2, o, NULL, NULL, &call, NULL), STORETASKS_STATUS_OK);
    CHECK_STATUS(wait_and_take(call, &list, NULL), STORETASKS_STATUS_OK);
    CHECK(storetasks_task_list_len(list) == 2, "two targets, two tasks");
    storetasks_task_list_free(list);
    storetasks_call_free(call);

    /* Bad input fails at the start; a wait still running is cancelled promptly. */
    call = NULL;
    CHECK_STATUS(storetasks_client_wait_start(client, done, 0, o, NULL, NULL, &call, NULL), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(storetasks_client_wait_targets_start(client, targets, 0, o, NULL, NULL, &call, NULL),
                 STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK(call == NULL, "a refused start wrote its call");
    const char *running[] = {"ami-0a0000000000000a1"};
    CHECK_STATUS(storetasks_client_wait_start(client, running, 1, NULL, NULL, NULL, &call, NULL), STORETASKS_STATUS_OK);
    sleep_ms(200);
    CHECK_STATUS(storetasks_call_take_list(call, &list, NULL), STORETASKS_STATUS_PENDING);
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    storetasks_call_cancel(call);
    CHECK_STATUS(wait_and_take(call, &list, NULL), STORETASKS_STATUS_CANCELLED);
    CHECK(h_seconds_since(&t) < (under_valgrind ? 5.0 : 1.0), "the cancelled wait took %.2f s to end", h_seconds_since(&t));
    storetasks_call_free(call);
    storetasks_wait_options_free(o);
}

/* --- fleets ------------------------------------------------------------------------------- */

/* The JSON of the tasks of place `i` of a fleet result (freed by the caller). */
static char *place_json(const storetasks_fleet_result *r, size_t i) {
    char *json = NULL;
    CHECK_STATUS(storetasks_task_list_to_json(storetasks_fleet_result_tasks(r, i), &json, NULL), STORETASKS_STATUS_OK);
    return json;
}

static const char *const regions[] = {"us-east-1", "eu-west-3", "ap-south-1"};

/* The blocking listing of `fleet`, which a started one must equal. */
static storetasks_fleet_result *blocking_fleet(const storetasks_fleet *fleet, const storetasks_query *q) {
    storetasks_fleet_result *blocking = NULL;
    CHECK_STATUS(storetasks_client_describe_fleet(client, fleet, q, NULL, &blocking, NULL), STORETASKS_STATUS_OK);
    return blocking;
}

static void fleets_that_do_not_block(void) {
    storetasks_fleet *fleet = h_fleet(regions, 3);
    storetasks_query *q = page_query(7);
    storetasks_fleet_result *blocking = blocking_fleet(fleet, q), *started = NULL;
    storetasks_call *call = NULL;
    CHECK_STATUS(storetasks_client_describe_fleet_start(client, fleet, q, NULL, NULL, &call, NULL), STORETASKS_STATUS_OK);
    /* The fleet and the query were copied: changing them now changes nothing for the call. */
    storetasks_fleet_add_region(fleet, "us-west-2");
    storetasks_query_set_max_results(q, 5);
    storetasks_task_list *wrong = NULL;
    CHECK_STATUS(storetasks_call_take_list(call, &wrong, NULL), STORETASKS_STATUS_INVALID_ARGUMENT);
    struct pollfd p = {storetasks_call_fd(call), POLLIN, 0};
    CHECK(poll(&p, 1, under_valgrind ? 60000 : 15000) == 1, "the fleet call never ended");
    CHECK_STATUS(storetasks_call_take_fleet(call, &started, NULL), STORETASKS_STATUS_OK);
    CHECK_STATUS(storetasks_call_take_fleet(call, &started, NULL), STORETASKS_STATUS_INVALID_ARGUMENT);
    size_t n = storetasks_fleet_result_len(blocking);
    CHECK(n == 3 && storetasks_fleet_result_len(started) == n, "places: %zu and %zu", n, storetasks_fleet_result_len(started));
    CHECK(storetasks_fleet_result_failed(started) == storetasks_fleet_result_failed(blocking), "failed places differ");
    for (size_t i = 0; i < n && i < storetasks_fleet_result_len(started); i++) {
        CHECK(strcmp(storetasks_fleet_result_region(started, i), storetasks_fleet_result_region(blocking, i)) == 0,
              "place %zu's region", i);
        const storetasks_error *eb = storetasks_fleet_result_error(blocking, i), *es = storetasks_fleet_result_error(started, i);
        CHECK((eb == NULL) == (es == NULL) && (!eb || storetasks_error_status(eb) == storetasks_error_status(es)),
              "place %zu ends alike", i);
        char *jb = place_json(blocking, i), *js = place_json(started, i);
        CHECK(jb && js && strcmp(jb, js) == 0, "place %zu holds the same tasks", i);
        storetasks_string_free(jb);
        storetasks_string_free(js);
    }
    storetasks_fleet_result_free(started);
    storetasks_fleet_result_free(blocking);
    storetasks_call_free(call);

    /* A fleet with nothing to list is refused at the start; a running fleet call is cancelled. */
    storetasks_fleet *empty = storetasks_fleet_new();
    call = NULL;
    CHECK_STATUS(storetasks_client_describe_fleet_start(client, empty, q, NULL, NULL, &call, NULL),
                 STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK(call == NULL, "a refused start wrote its call");
    emu_fault(&emu, "delay,ms=3000,count=8");
    CHECK_STATUS(storetasks_client_describe_fleet_start(client, fleet, q, NULL, NULL, &call, NULL), STORETASKS_STATUS_OK);
    sleep_ms(100);
    storetasks_call_cancel(call);
    p.fd = storetasks_call_fd(call);
    CHECK(poll(&p, 1, 2000) == 1, "the cancelled fleet call did not end at once");
    CHECK_STATUS(storetasks_call_take_fleet(call, &started, NULL), STORETASKS_STATUS_CANCELLED);
    storetasks_call_free(call);
    emu_clear_faults(&emu);
    storetasks_fleet_free(empty);
    storetasks_fleet_free(fleet);
    storetasks_query_free(q);
}

/* A fleet listed page by page: every page names its place, the pages of a place add up to that
 * place's tasks in the blocking fleet, and the end (taken after the last page) counts them. */
static void fleet_pages_that_do_not_block(void) {
    storetasks_fleet *fleet = h_fleet(regions, 3);
    storetasks_query *q = page_query(7);
    storetasks_fleet_result *blocking = blocking_fleet(fleet, q), *end = NULL;
    storetasks_call *call = NULL;
    CHECK_STATUS(storetasks_client_describe_fleet_pages_start(client, fleet, q, NULL, NULL, &call, NULL),
                 STORETASKS_STATUS_OK);
    size_t seen[3] = {0, 0, 0};
    storetasks_task_list *page = NULL;
    storetasks_status st;
    for (;;) {
        struct pollfd p = {storetasks_call_fd(call), POLLIN, 0};
        CHECK(poll(&p, 1, under_valgrind ? 60000 : 15000) == 1, "the fleet pages call went quiet");
        /* Before the last page is taken, the end is not handed over. */
        while ((st = storetasks_call_next_page(call, &page, NULL)) == STORETASKS_STATUS_OK && page != NULL) {
            const char *region = storetasks_task_list_region(page);
            int at = -1;
            for (int i = 0; i < 3; i++)
                if (region && strcmp(region, regions[i]) == 0) at = i;
            CHECK(at >= 0, "a page names region %s", region ? region : "(null)");
            CHECK(storetasks_task_list_account(page) == NULL, "a page of the client's own account names one");
            CHECK(storetasks_task_list_len(page) <= 7, "a page of %zu tasks", storetasks_task_list_len(page));
            if (at >= 0) seen[at] += storetasks_task_list_len(page);
            storetasks_task_list_free(page);
        }
        if (st == STORETASKS_STATUS_OK) break;
        CHECK_STATUS(st, STORETASKS_STATUS_PENDING);
    }
    CHECK(storetasks_call_finished(call), "the call is not finished after its last page");
    CHECK_STATUS(storetasks_call_take_fleet(call, &end, NULL), STORETASKS_STATUS_OK);
    CHECK_STATUS(storetasks_call_next_page(call, &page, NULL), STORETASKS_STATUS_OK);
    CHECK(page == NULL, "a page after the end");
    size_t n = storetasks_fleet_result_len(end);
    CHECK(n == 3 && storetasks_fleet_result_len(blocking) == 3, "places: %zu", n);
    for (size_t i = 0; i < n && i < 3; i++) {
        size_t want = storetasks_task_list_len(storetasks_fleet_result_tasks(blocking, i));
        CHECK(strcmp(storetasks_fleet_result_region(end, i), regions[i]) == 0, "place %zu's region", i);
        CHECK(seen[i] == want && storetasks_fleet_result_task_count(end, i) == want,
              "place %zu: %zu tasks in pages, %zu counted, %zu in the blocking fleet", i, seen[i],
              storetasks_fleet_result_task_count(end, i), want);
        CHECK(storetasks_task_list_len(storetasks_fleet_result_tasks(end, i)) == 0, "place %zu kept its tasks", i);
    }
    CHECK(seen[0] > 7 && seen[1] > 7, "the listing had more than one page per region (%zu, %zu)", seen[0], seen[1]);
    storetasks_fleet_result_free(end);
    storetasks_fleet_result_free(blocking);
    /* A place that fails half-way: eu-west-3's second request fails every attempt. Its first
     * page was delivered and counted, its outcome is the service's error, and the other places
     * are listed to their end. */
    emu_fault(&emu, "internal,region=eu-west-3,at=2,count=20");
    storetasks_call *halfway = NULL;
    CHECK_STATUS(storetasks_client_describe_fleet_pages_start(client, fleet, q, NULL, NULL, &halfway, NULL),
                 STORETASKS_STATUS_OK);
    size_t got[3] = {0, 0, 0};
    for (;;) {
        struct pollfd p = {storetasks_call_fd(halfway), POLLIN, 0};
        CHECK(poll(&p, 1, under_valgrind ? 60000 : 15000) == 1, "the fleet pages call went quiet");
        while ((st = storetasks_call_next_page(halfway, &page, NULL)) == STORETASKS_STATUS_OK && page != NULL) {
            const char *region = storetasks_task_list_region(page);
            for (int i = 0; i < 3; i++)
                if (region && strcmp(region, regions[i]) == 0) got[i] += storetasks_task_list_len(page);
            storetasks_task_list_free(page);
        }
        if (st != STORETASKS_STATUS_PENDING) break;
    }
    CHECK_STATUS(st, STORETASKS_STATUS_OK);
    CHECK_STATUS(storetasks_call_take_fleet(halfway, &end, NULL), STORETASKS_STATUS_OK);
    const storetasks_error *failed = end ? storetasks_fleet_result_error(end, 1) : NULL;
    CHECK(failed && storetasks_error_status(failed) == STORETASKS_STATUS_SERVICE, "eu-west-3 did not fail with the service's error");
    CHECK(got[1] == 7 && storetasks_fleet_result_task_count(end, 1) == 7, "eu-west-3: %zu tasks delivered, %zu counted", got[1],
          storetasks_fleet_result_task_count(end, 1));
    CHECK(storetasks_fleet_result_error(end, 0) == NULL && got[0] == seen[0], "us-east-1 was not listed to its end");
    storetasks_fleet_result_free(end);
    storetasks_call_free(halfway);
    emu_clear_faults(&emu);

    /* Taken as a list, it is refused; cancelled while running, it ends CANCELLED. */
    storetasks_task_list *wrong = NULL;
    CHECK_STATUS(storetasks_call_take_list(call, &wrong, NULL), STORETASKS_STATUS_INVALID_ARGUMENT);
    storetasks_call_free(call);
    emu_fault(&emu, "delay,ms=3000,count=8");
    CHECK_STATUS(storetasks_client_describe_fleet_pages_start(client, fleet, q, NULL, NULL, &call, NULL),
                 STORETASKS_STATUS_OK);
    sleep_ms(100);
    storetasks_call_cancel(call);
    struct pollfd p = {storetasks_call_fd(call), POLLIN, 0};
    CHECK(poll(&p, 1, 2000) == 1, "the cancelled fleet pages call did not end at once");
    CHECK_STATUS(storetasks_call_next_page(call, &page, NULL), STORETASKS_STATUS_OK);
    CHECK(page == NULL, "a page from a cancelled call");
    CHECK_STATUS(storetasks_call_take_fleet(call, &end, NULL), STORETASKS_STATUS_CANCELLED);
    storetasks_call_free(call);
    emu_clear_faults(&emu);
    storetasks_fleet_free(fleet);
    storetasks_query_free(q);
}

/* --- nothing left behind -------------------------------------------------------------------- */

static void take_and_check(storetasks_call **calls, int i) {
    storetasks_task_list *list = NULL;
    storetasks_status st = storetasks_call_take_list(calls[i], &list, NULL);
    if (st == STORETASKS_STATUS_PENDING) return;
    if (st == STORETASKS_STATUS_OK) ok_results++;
    else other_results++;
    storetasks_task_list_free(list);
    storetasks_call_free(calls[i]);
    calls[i] = NULL;
}

static void nothing_left_behind(int batches, int per_batch) {
    storetasks_query *q = page_query(5);
    storetasks_call **calls = calloc((size_t)per_batch, sizeof *calls);
    long fds_before = 0, threads_before = 0;
    ok_results = other_results = 0;
    for (int b = 0; b <= batches; b++) {
        for (int i = 0; i < per_batch; i++)
            CHECK_STATUS(storetasks_client_describe_start(client, q, NULL, NULL, &calls[i], NULL), STORETASKS_STATUS_OK);
        drive(calls, per_batch, under_valgrind ? 600 : 60, take_and_check);
        if (b == 0) {
            /* After a first batch the connection pool holds what this concurrency needs. */
            fds_before = count_entries("/proc/self/fd");
            threads_before = count_entries("/proc/self/task");
        }
    }
    long fds_after = count_entries("/proc/self/fd"), threads_after = count_entries("/proc/self/task");
    printf("%d calls: descriptors %ld -> %ld, threads %ld -> %ld\n", batches * per_batch, fds_before, fds_after,
           threads_before, threads_after);
    CHECK(ok_results == (batches + 1) * per_batch && other_results == 0, "%d listed, %d not", ok_results, other_results);
    /* Each call has descriptors of its own, closed when it is freed: a leak would add two per
     * call, thousands here. The connection pool may still open a few more connections when
     * requests overlap differently (under valgrind they do), never more than one per call of a
     * batch. */
    CHECK(fds_after - fds_before < per_batch, "descriptors grew from %ld to %ld", fds_before, fds_after);
    CHECK(threads_after == threads_before, "threads went from %ld to %ld", threads_before, threads_after);
    free(calls);
    storetasks_query_free(q);
}

int main(void) {
    under_valgrind = getenv("STORETASKS_UNDER_VALGRIND") != NULL;
    const char *args[] = {"--generate", "60", "--regions", "us-east-1,eu-west-3", NULL};
    emu_start(&emu, args);
    client = emu_client(&emu);
    many_calls_in_flight(under_valgrind ? 100 : 1000);
    pages_match_the_blocking_listing();
    callbacks_start_new_calls();
    freeing_running_calls();
    freeing_the_client_under_running_calls();
    waits_that_do_not_block();
    fleets_that_do_not_block();
    fleet_pages_that_do_not_block();
    nothing_left_behind(under_valgrind ? 5 : 100, 100);
    storetasks_client_free(client);
    emu_stop(&emu);
    return h_finish();
}

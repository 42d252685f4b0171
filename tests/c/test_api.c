/*
 * The C API through its header, against the emulator: listings, batching, errors, NULL and bad
 * input, cancellation and threads. Run under valgrind and with sanitizers by tests/c/run.sh.
 */
#include <pthread.h>
#include <time.h>

#include "storetasks.h"
#include "harness.h"

static emulator emu;

static storetasks_client *make_client(const char *access_key, unsigned attempts, uint64_t attempt_ms) {
    storetasks_config *cfg = storetasks_config_new();
    storetasks_config_set_region(cfg, "us-east-1");
    storetasks_config_set_endpoint_url(cfg, emu.endpoint);
    storetasks_config_set_credentials(cfg, access_key, EMU_SECRET_KEY, NULL);
    storetasks_config_set_retry(cfg, STORETASKS_RETRY_MODE_STANDARD, attempts);
    storetasks_config_set_timeouts(cfg, 0, attempt_ms, 0);
    storetasks_client *client = NULL;
    storetasks_error *err = NULL;
    storetasks_status st = storetasks_client_new(cfg, &client, &err);
    CHECK_STATUS(st, STORETASKS_STATUS_OK);
    CHECK(err == NULL, "no error object on success");
    storetasks_config_free(cfg);
    return client;
}

/* Runs a one-page describe expected to fail; checks status and code; frees everything. */
static void expect_failure(storetasks_client *c, storetasks_query *q, storetasks_status want,
                           const char *want_code, int want_http) {
    storetasks_task_list *list = NULL;
    storetasks_error *err = NULL;
    storetasks_status st = storetasks_client_describe(c, q, NULL, &list, &err);
    CHECK_STATUS(st, want);
    CHECK(list == NULL, "the list is untouched on failure");
    CHECK(err != NULL, "an error object is returned");
    CHECK(storetasks_error_status(err) == want, "the error object carries the status");
    const char *code = storetasks_error_code(err);
    if (want_code)
        CHECK(code && strcmp(code, want_code) == 0, "code %s, want %s", code ? code : "(none)", want_code);
    else
        CHECK(code == NULL, "no code expected, got %s", code);
    CHECK(storetasks_error_http_status(err) == want_http, "http %d, want %d",
          (int)storetasks_error_http_status(err), want_http);
    const char *msg = storetasks_error_message(err);
    CHECK(msg && *msg, "a message");
    CHECK(!strstr(msg, EMU_SECRET_KEY), "no secret in the message");
    storetasks_error_free(err);
}

static void test_version_and_names(void) {
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", STORETASKS_VERSION_MAJOR, STORETASKS_VERSION_MINOR,
             STORETASKS_VERSION_PATCH);
    CHECK(strcmp(storetasks_version(), want) == 0, "version %s vs macros %s", storetasks_version(), want);
    CHECK(strcmp(storetasks_status_name(STORETASKS_STATUS_THROTTLED), "STORETASKS_STATUS_THROTTLED") == 0, "name");
    CHECK(strcmp(storetasks_status_name(1000), "STORETASKS_STATUS_UNKNOWN") == 0, "unknown name");
}

static void test_null_and_bad_input(void) {
    storetasks_error *err = NULL;
    storetasks_client *client = NULL;
    storetasks_task_list *list = NULL;
    /* Frees accept NULL. */
    storetasks_config_free(NULL);
    storetasks_query_free(NULL);
    storetasks_client_free(NULL);
    storetasks_task_list_free(NULL);
    storetasks_error_free(NULL);
    storetasks_cancel_free(NULL);
    storetasks_string_free(NULL);
    storetasks_cancel_trigger(NULL);
    CHECK(!storetasks_cancel_is_triggered(NULL), "NULL token is not triggered");
    /* Accessors on NULL. */
    CHECK(storetasks_task_list_len(NULL) == 0, "len");
    CHECK(storetasks_task_list_tasks(NULL) == NULL, "tasks");
    CHECK(storetasks_task_list_get(NULL, 0) == NULL, "get");
    CHECK(storetasks_task_list_next_token(NULL) == NULL, "token");
    CHECK(storetasks_error_message(NULL) == NULL, "message");
    CHECK(storetasks_error_status(NULL) == STORETASKS_STATUS_INVALID_ARGUMENT, "status");
    /* Setters and calls on NULL. */
    CHECK_STATUS(storetasks_config_set_region(NULL, "us-east-1"), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(storetasks_query_add_image_id(NULL, "ami-1"), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(storetasks_client_new(NULL, NULL, &err), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK(err && strstr(storetasks_error_message(err), "client_out"), "names the NULL argument");
    storetasks_error_free(err);
    err = NULL;
    CHECK_STATUS(storetasks_client_describe(NULL, NULL, NULL, &list, &err), STORETASKS_STATUS_INVALID_ARGUMENT);
    storetasks_error_free(err);
    err = NULL;
    CHECK_STATUS(storetasks_client_describe_all(NULL, NULL, 0, NULL, &list, NULL), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(storetasks_task_list_to_json(NULL, NULL, NULL), STORETASKS_STATUS_INVALID_ARGUMENT);

    client = make_client(EMU_ACCESS_KEY, 1, 0);
    CHECK_STATUS(storetasks_client_describe(client, NULL, NULL, NULL, NULL), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(storetasks_client_describe_pages(client, NULL, 0, NULL, NULL, NULL, NULL),
                 STORETASKS_STATUS_INVALID_ARGUMENT);
    /* Invalid UTF-8, empty ids, NULL values. */
    storetasks_query *q = storetasks_query_new();
    CHECK_STATUS(storetasks_query_add_image_id(q, "ami-\xff\xfe"), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(storetasks_query_add_image_id(q, ""), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(storetasks_query_add_image_id(q, NULL), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(storetasks_query_add_filter(q, "bucket", NULL, 2), STORETASKS_STATUS_INVALID_ARGUMENT);
    const char *bad_values[] = {"ok", NULL};
    CHECK_STATUS(storetasks_query_add_filter(q, "bucket", bad_values, 2), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(storetasks_query_add_filter(q, NULL, bad_values, 1), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(storetasks_config_set_retry(NULL, 99, 1), STORETASKS_STATUS_INVALID_ARGUMENT);
    /* Out-of-range page size: refused before sending. */
    long before = emu_requests(&emu);
    CHECK_STATUS(storetasks_query_set_max_results(q, 500), STORETASKS_STATUS_OK);
    expect_failure(client, q, STORETASKS_STATUS_INVALID_ARGUMENT, NULL, 0);
    CHECK(emu_requests(&emu) == before, "nothing was sent");
    storetasks_query_free(q);
    storetasks_client_free(client);
}

/* A reason from a *_last_error accessor reads as a sentence: several words, no trailing newline. */
static int is_sentence(const char *s) {
    size_t n = s ? strlen(s) : 0;
    return n >= 10 && strchr(s, ' ') != NULL && s[n - 1] != '\n';
}

static void test_last_error(void) {
    CHECK(storetasks_config_last_error(NULL) == NULL, "NULL config");
    CHECK(storetasks_query_last_error(NULL) == NULL, "NULL query");
    CHECK(storetasks_wait_options_last_error(NULL) == NULL, "NULL wait options");

    storetasks_config *cfg = storetasks_config_new();
    CHECK(storetasks_config_last_error(cfg) == NULL, "a new config has no reason");
    CHECK_STATUS(storetasks_config_set_retry(cfg, 99, 1), STORETASKS_STATUS_INVALID_ARGUMENT);
    const char *why = storetasks_config_last_error(cfg);
    CHECK(is_sentence(why), "a refused retry mode says why: %s", why ? why : "(NULL)");
    CHECK_STATUS(storetasks_config_set_region(cfg, "us-\xff"), STORETASKS_STATUS_INVALID_ARGUMENT);
    why = storetasks_config_last_error(cfg);
    CHECK(is_sentence(why), "a region in invalid UTF-8: %s", why ? why : "(NULL)");
    CHECK_STATUS(storetasks_config_set_credentials(cfg, NULL, EMU_SECRET_KEY, NULL), STORETASKS_STATUS_INVALID_ARGUMENT);
    why = storetasks_config_last_error(cfg);
    CHECK(is_sentence(why), "a NULL access key: %s", why ? why : "(NULL)");
    CHECK_STATUS(storetasks_config_set_region(cfg, "us-east-1"), STORETASKS_STATUS_OK);
    CHECK(storetasks_config_last_error(cfg) == NULL, "a successful setter clears the reason");
    storetasks_config_free(cfg);

    storetasks_query *q = storetasks_query_new();
    CHECK(storetasks_query_last_error(q) == NULL, "a new query has no reason");
    CHECK_STATUS(storetasks_query_add_image_id(q, ""), STORETASKS_STATUS_INVALID_ARGUMENT);
    why = storetasks_query_last_error(q);
    CHECK(is_sentence(why), "an empty image id: %s", why ? why : "(NULL)");
    CHECK_STATUS(storetasks_query_add_image_id(q, "ami-\xff\xfe"), STORETASKS_STATUS_INVALID_ARGUMENT);
    why = storetasks_query_last_error(q);
    CHECK(is_sentence(why), "invalid UTF-8: %s", why ? why : "(NULL)");
    CHECK_STATUS(storetasks_query_add_filter(q, "bucket", NULL, 2), STORETASKS_STATUS_INVALID_ARGUMENT);
    why = storetasks_query_last_error(q);
    CHECK(is_sentence(why), "NULL filter values: %s", why ? why : "(NULL)");
    CHECK_STATUS(storetasks_query_set_max_results(q, 5), STORETASKS_STATUS_OK);
    CHECK(storetasks_query_last_error(q) == NULL, "a successful setter clears the reason");
    storetasks_query_free(q);

    storetasks_wait_options *o = storetasks_wait_options_new();
    CHECK(storetasks_wait_options_last_error(o) == NULL, "new wait options have no reason");
    CHECK_STATUS(storetasks_wait_options_set_delays(o, 2000, 1000), STORETASKS_STATUS_INVALID_ARGUMENT);
    why = storetasks_wait_options_last_error(o);
    CHECK(is_sentence(why), "min delay above max: %s", why ? why : "(NULL)");
    CHECK_STATUS(storetasks_wait_options_set_delays(o, 0, 1000), STORETASKS_STATUS_INVALID_ARGUMENT);
    why = storetasks_wait_options_last_error(o);
    CHECK(is_sentence(why), "zero min delay: %s", why ? why : "(NULL)");
    CHECK_STATUS(storetasks_wait_options_set_timeout(o, 5000), STORETASKS_STATUS_OK);
    CHECK(storetasks_wait_options_last_error(o) == NULL, "a successful setter clears the reason");
    storetasks_wait_options_free(o);
}

static int newest_first_and_unique(const storetasks_task_list *list) {
    size_t n = storetasks_task_list_len(list);
    const storetasks_task *t = storetasks_task_list_tasks(list);
    for (size_t i = 0; i < n; i++) {
        if (!t[i].ami_id || !t[i].has_task_start_time) return 0;
        for (size_t j = 0; j < i; j++)
            if (strcmp(t[i].ami_id, t[j].ami_id) == 0) return 0;
        if (i > 0 && t[i].task_start_time_ms > t[i - 1].task_start_time_ms) return 0;
    }
    return 1;
}

typedef struct page_count {
    size_t pages, tasks, stop_after;
} page_count;

static bool count_pages(const storetasks_task_list *page, void *user) {
    page_count *pc = user;
    pc->pages++;
    pc->tasks += storetasks_task_list_len(page);
    return pc->stop_after == 0 || pc->pages < pc->stop_after;
}

static void test_listing(void) {
    storetasks_client *client = make_client(EMU_ACCESS_KEY, 3, 0);
    storetasks_query *q = storetasks_query_new();
    storetasks_query_set_max_results(q, 40);
    storetasks_task_list *list = NULL;
    long before = emu_requests(&emu);
    CHECK_STATUS(storetasks_client_describe_all(client, q, 0, NULL, &list, NULL), STORETASKS_STATUS_OK);
    CHECK(storetasks_task_list_len(list) == 150, "all 150 tasks, got %zu", storetasks_task_list_len(list));
    CHECK(emu_requests(&emu) - before == 4, "four pages of 40");
    CHECK(newest_first_and_unique(list), "newest first, each once");
    CHECK(storetasks_task_list_next_token(list) == NULL, "no token after the last page");
    CHECK(storetasks_task_list_get(list, 150) == NULL, "index out of range");

    size_t failed = 0, absent_progress = 0;
    for (size_t i = 0; i < storetasks_task_list_len(list); i++) {
        const storetasks_task *t = storetasks_task_list_get(list, i);
        if (t->state == STORETASKS_TASK_STATE_FAILED) {
            failed++;
            CHECK(t->failure_reason != NULL, "failed tasks carry a reason");
        }
        if (!t->has_progress_percentage) absent_progress++;
        CHECK(t->state_raw != NULL, "state text kept");
    }
    CHECK(failed > 0, "the generated data has failed tasks");

    char *json = NULL;
    CHECK_STATUS(storetasks_task_list_to_json(list, &json, NULL), STORETASKS_STATUS_OK);
    CHECK(json && strncmp(json, "{\n    \"StoreImageTaskResults\": [", 32) == 0, "CLI-shaped JSON");
    storetasks_string_free(json);

    /* Ids beyond 20 are batched: 45 ids of the listing come back in 3 requests. */
    storetasks_query *ids = storetasks_query_new();
    for (size_t i = 0; i < 45; i++)
        storetasks_query_add_image_id(ids, storetasks_task_list_get(list, i * 3)->ami_id);
    storetasks_task_list *by_id = NULL;
    before = emu_requests(&emu);
    CHECK_STATUS(storetasks_client_describe(client, ids, NULL, &by_id, NULL), STORETASKS_STATUS_OK);
    CHECK(storetasks_task_list_len(by_id) == 45, "45 tasks by id, got %zu", storetasks_task_list_len(by_id));
    CHECK(emu_requests(&emu) - before == 3, "20 + 20 + 5");
    CHECK(newest_first_and_unique(by_id), "merged newest first");
    storetasks_task_list_free(by_id);
    storetasks_query_free(ids);

    /* A cap that cuts a listing by image ids: EC2 answers ids without a token, so the list
     * says it was truncated and has no token. */
    storetasks_query *thirty = storetasks_query_new();
    for (size_t i = 0; i < 30; i++)
        storetasks_query_add_image_id(thirty, storetasks_task_list_get(list, i * 5)->ami_id);
    storetasks_task_list *cut = NULL;
    CHECK_STATUS(storetasks_client_describe_all(client, thirty, 10, NULL, &cut, NULL), STORETASKS_STATUS_OK);
    CHECK(storetasks_task_list_len(cut) == 10, "10 of the 30 ids' tasks, got %zu", storetasks_task_list_len(cut));
    CHECK(storetasks_task_list_truncated(cut), "a cap on image ids truncates");
    CHECK(storetasks_task_list_next_token(cut) == NULL, "no token can resume a listing by ids");
    storetasks_task_list_free(cut);
    /* Uncapped, the same ids are all there and nothing is cut. */
    CHECK_STATUS(storetasks_client_describe_all(client, thirty, 0, NULL, &cut, NULL), STORETASKS_STATUS_OK);
    CHECK(storetasks_task_list_len(cut) == 30, "all 30 ids' tasks, got %zu", storetasks_task_list_len(cut));
    CHECK(!storetasks_task_list_truncated(cut), "nothing cut without a cap");
    storetasks_task_list_free(cut);
    storetasks_query_free(thirty);
    /* A cap on a paged listing: the token resumes it, so nothing is lost and it is not truncated. */
    CHECK_STATUS(storetasks_client_describe_all(client, q, 25, NULL, &cut, NULL), STORETASKS_STATUS_OK);
    CHECK(storetasks_task_list_len(cut) == 25, "capped at 25, got %zu", storetasks_task_list_len(cut));
    CHECK(!storetasks_task_list_truncated(cut), "a capped paged listing is not truncated");
    CHECK(storetasks_task_list_next_token(cut) != NULL, "a capped paged listing has a token");
    storetasks_task_list_free(cut);
    CHECK(!storetasks_task_list_truncated(list), "a full listing is not truncated");
    CHECK(!storetasks_task_list_truncated(NULL), "NULL is not truncated");
    storetasks_task_list_free(list);

    /* Page by page, and stopping early. */
    page_count pc = {0, 0, 0};
    CHECK_STATUS(storetasks_client_describe_pages(client, q, 0, NULL, count_pages, &pc, NULL), STORETASKS_STATUS_OK);
    CHECK(pc.pages == 4 && pc.tasks == 150, "%zu pages, %zu tasks", pc.pages, pc.tasks);
    page_count stop = {0, 0, 2};
    CHECK_STATUS(storetasks_client_describe_pages(client, q, 0, NULL, count_pages, &stop, NULL), STORETASKS_STATUS_OK);
    CHECK(stop.pages == 2, "stopped after two pages");

    /* Filters. */
    storetasks_query *f = storetasks_query_new();
    const char *states[] = {"Failed"};
    storetasks_query_add_filter(f, "task-state", states, 1);
    CHECK_STATUS(storetasks_client_describe_all(client, f, 0, NULL, &list, NULL), STORETASKS_STATUS_OK);
    CHECK(storetasks_task_list_len(list) == failed, "the filter keeps the %zu failed tasks", failed);
    storetasks_task_list_free(list);
    storetasks_query_free(f);
    storetasks_query_free(q);
    storetasks_client_free(client);
}

static void test_errors(void) {
    storetasks_client *client = make_client(EMU_ACCESS_KEY, 3, 0);
    storetasks_client *once = make_client(EMU_ACCESS_KEY, 1, 400);
    storetasks_client *denied = make_client(EMU_DENIED_KEY, 1, 0);
    storetasks_query *q = storetasks_query_new();
    storetasks_query *dry = storetasks_query_new();
    storetasks_query_set_dry_run(dry, true);

    expect_failure(client, dry, STORETASKS_STATUS_DRY_RUN_OK, "DryRunOperation", 412);
    expect_failure(denied, q, STORETASKS_STATUS_UNAUTHORIZED, "UnauthorizedOperation", 403);
    expect_failure(denied, dry, STORETASKS_STATUS_UNAUTHORIZED, "UnauthorizedOperation", 403);

    emu_fault(&emu, "throttle,count=2");
    storetasks_task_list *list = NULL;
    CHECK_STATUS(storetasks_client_describe(client, q, NULL, &list, NULL), STORETASKS_STATUS_OK);
    storetasks_task_list_free(list);
    emu_fault(&emu, "throttle,count=3");
    expect_failure(client, q, STORETASKS_STATUS_THROTTLED, "RequestLimitExceeded", 503);
    emu_fault(&emu, "internal");
    expect_failure(once, q, STORETASKS_STATUS_SERVICE, "InternalError", 500);
    emu_fault(&emu, "drop");
    expect_failure(once, q, STORETASKS_STATUS_NETWORK, NULL, 0);
    emu_fault(&emu, "delay,ms=1500");
    expect_failure(once, q, STORETASKS_STATUS_TIMEOUT, NULL, 0);
    emu_fault(&emu, "malformed");
    expect_failure(once, q, STORETASKS_STATUS_RESPONSE, NULL, 200);
    emu_clear_faults(&emu);

    storetasks_query_free(dry);
    storetasks_query_free(q);
    storetasks_client_free(denied);
    storetasks_client_free(once);
    storetasks_client_free(client);
}

static void test_cancel(void) {
    storetasks_client *client = make_client(EMU_ACCESS_KEY, 1, 0);
    storetasks_query *q = storetasks_query_new();
    storetasks_query_set_max_results(q, 10);
    storetasks_cancel *cancel = storetasks_cancel_new();
    emu_fault(&emu, "delay,ms=20000,at=2");
    h_cancel_timer timer;
    h_cancel_later(&timer, cancel, 300);
    storetasks_task_list *list = NULL;
    storetasks_error *err = NULL;
    CHECK_STATUS(storetasks_client_describe_all(client, q, 0, cancel, &list, &err), STORETASKS_STATUS_CANCELLED);
    double secs = h_cancel_join(&timer);
    CHECK(secs < 5.0, "cancelled after %.2f s", secs);
    CHECK(storetasks_cancel_is_triggered(cancel), "triggered");
    storetasks_error_free(err);
    emu_clear_faults(&emu);
    storetasks_cancel_free(cancel);
    storetasks_query_free(q);
    storetasks_client_free(client);
}

typedef struct thread_arg {
    storetasks_client *client;
    int max_results;
    size_t got;
    storetasks_status status;
} thread_arg;

static void *list_all(void *p) {
    thread_arg *a = p;
    storetasks_query *q = storetasks_query_new();
    storetasks_query_set_max_results(q, a->max_results);
    storetasks_task_list *list = NULL;
    a->status = storetasks_client_describe_all(a->client, q, 0, NULL, &list, NULL);
    a->got = storetasks_task_list_len(list);
    storetasks_task_list_free(list);
    storetasks_query_free(q);
    return NULL;
}

static void test_threads(void) {
    storetasks_client *client = make_client(EMU_ACCESS_KEY, 3, 0);
    pthread_t threads[4];
    thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (thread_arg){client, 17 + 31 * i, 0, STORETASKS_STATUS_PANIC};
        pthread_create(&threads[i], NULL, list_all, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        CHECK_STATUS(args[i].status, STORETASKS_STATUS_OK);
        CHECK(args[i].got == 150, "thread %d saw %zu tasks", i, args[i].got);
    }
    storetasks_client_free(client);
}

int main(void) {
    const char *args[] = {"--generate", "150", "--seed", "11", NULL};
    emu_start(&emu, args);
    test_version_and_names();
    test_null_and_bad_input();
    test_last_error();
    test_listing();
    test_errors();
    test_cancel();
    test_threads();
    emu_stop(&emu);
    return h_finish();
}

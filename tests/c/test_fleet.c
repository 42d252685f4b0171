/*
 * The fleet calls through the C API, against one emulator that serves five regions and an
 * assumable role: the builder's refusals and NULL handling, every place's tasks equal to the
 * ordinary listing of its region, failed places next to healthy ones, a role's account (each
 * place listed in several pages and equal to the emulator's own list of that pair), every
 * enabled region, the streaming form and its stop, and a cancelled call. Each result, list and
 * error is freed exactly once: valgrind and ASan check that.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "storetasks.h"

#define ROLE_A "arn:aws:iam::111111111111:role/StoreTasksReader"
#define N_TASKS 25
/* The emulator's clock at start-up, and 31 days before it: DescribeStoreImageTasks reports
 * tasks started since then. */
#define NOW "2026-11-20T12:00:00Z"
#define CUTOFF "2026-10-20T12:00:00.000Z"
/* The page size of the listings through a role. */
#define ROLE_PAGE 7

static emulator emu;

/* Whether a string the library returned (NULL allowed) is `want`. */
static bool eq(const char *got, const char *want) { return got && strcmp(got, want) == 0; }

/* The emulator's count of EC2 API requests: the top-level "requests" of its stats, after the
 * per-pair table ("by_pair", whose members have counts of the same name). -1 when unreadable. */
static long total_requests(void) {
    char body[16384];
    if (emu_http(&emu, "GET", "/_emulator/stats", "", body, sizeof body) != 200) return -1;
    char *pairs = strstr(body, "\"by_pair\":");
    if (pairs) {
        char *p = strchr(pairs, '{');
        int depth = 0;
        for (; p && *p; p++) {
            if (*p == '{') depth++;
            if (*p == '}' && --depth == 0) break;
        }
        if (!p || !*p) return -1;
        memmove(pairs, p + 1, strlen(p + 1) + 1);
    }
    const char *n = strstr(body, "\"requests\":");
    return n ? atol(n + 11) : -1;
}

static storetasks_client *client_for(const char *region, uint32_t attempts) {
    storetasks_config *cfg = storetasks_config_new();
    storetasks_config_set_region(cfg, region);
    storetasks_config_set_endpoint_url(cfg, emu.endpoint);
    /* The emulator answers STS on the same port: the endpoint URL alone is EC2's. */
    storetasks_config_set_sts_endpoint_url(cfg, emu.endpoint);
    storetasks_config_set_credentials(cfg, EMU_ACCESS_KEY, EMU_SECRET_KEY, NULL);
    storetasks_config_set_retry(cfg, STORETASKS_RETRY_MODE_STANDARD, attempts);
    storetasks_config_set_timeouts(cfg, 2000, 10000, 30000);
    storetasks_client *c = NULL;
    storetasks_error *err = NULL;
    storetasks_status st = storetasks_client_new(cfg, &c, &err);
    CHECK_STATUS(st, STORETASKS_STATUS_OK);
    storetasks_error_free(err);
    storetasks_config_free(cfg);
    return c;
}

static storetasks_fleet *fleet_of(const char *const *regions) {
    storetasks_fleet *f = storetasks_fleet_new();
    CHECK(f != NULL, "a new fleet");
    for (; regions && *regions; regions++) CHECK_STATUS(storetasks_fleet_add_region(f, *regions), STORETASKS_STATUS_OK);
    return f;
}

/* Runs describe_fleet; NULL (after a check) when the call itself failed. */
static storetasks_fleet_result *run(const storetasks_client *c, const storetasks_fleet *f, const storetasks_query *q) {
    storetasks_fleet_result *r = NULL;
    storetasks_error *err = NULL;
    storetasks_status st = storetasks_client_describe_fleet(c, f, q, NULL, &r, &err);
    CHECK(st == STORETASKS_STATUS_OK && r != NULL && err == NULL, "describe_fleet: %s: %s", storetasks_status_name(st),
          err ? storetasks_error_message(err) : "-");
    storetasks_error_free(err);
    return r;
}

/* The place of `region` (and `account`, NULL for the client's own), or SIZE_MAX. */
static size_t find_place(const storetasks_fleet_result *r, const char *region, const char *account) {
    for (size_t i = 0; i < storetasks_fleet_result_len(r); i++) {
        const char *a = storetasks_fleet_result_account(r, i);
        if (eq(storetasks_fleet_result_region(r, i), region) && ((!a && !account) || (account && eq(a, account))))
            return i;
    }
    return (size_t)-1;
}

/* Whether two lists hold the same AMIs in the same order. */
static bool same_tasks(const storetasks_task_list *a, const storetasks_task_list *b) {
    size_t n = storetasks_task_list_len(a);
    if (n != storetasks_task_list_len(b)) return false;
    for (size_t i = 0; i < n; i++) {
        const char *x = storetasks_task_list_get(a, i)->ami_id, *y = storetasks_task_list_get(b, i)->ami_id;
        if (!x || !y || strcmp(x, y) != 0) return false;
    }
    return true;
}

/* Every task of `region` for the client's own account, listed the ordinary way (caller frees). */
static storetasks_task_list *baseline(const char *region) {
    storetasks_client *c = client_for(region, 3);
    storetasks_query *q = storetasks_query_new();
    storetasks_query_set_max_results(q, 200);
    storetasks_task_list *list = NULL;
    storetasks_error *err = NULL;
    CHECK_STATUS(storetasks_client_describe_all(c, q, 0, NULL, &list, &err), STORETASKS_STATUS_OK);
    storetasks_error_free(err);
    storetasks_query_free(q);
    storetasks_client_free(c);
    return list;
}

static void test_builder_and_bad_calls(void) {
    storetasks_fleet *f = storetasks_fleet_new();
    CHECK_STATUS(storetasks_fleet_add_region(f, "EU WEST"), STORETASKS_STATUS_INVALID_ARGUMENT);
    const char *why = storetasks_fleet_last_error(f);
    CHECK(why && strstr(why, "region"), "the reason names the region: %s", why ? why : "(null)");
    CHECK_STATUS(storetasks_fleet_add_region(f, NULL), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(storetasks_fleet_add_region(f, "eu-west-\377"), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(storetasks_fleet_add_role_arn(f, "arn:aws:iam::1:role/x"), STORETASKS_STATUS_INVALID_ARGUMENT);
    why = storetasks_fleet_last_error(f);
    CHECK(why && strstr(why, "role"), "the reason names the role: %s", why ? why : "(null)");
    CHECK_STATUS(storetasks_fleet_add_region(f, "eu-west-3"), STORETASKS_STATUS_OK);
    CHECK(storetasks_fleet_last_error(f) == NULL, "a successful setter clears the reason");
    CHECK_STATUS(storetasks_fleet_add_region(NULL, "eu-west-3"), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(storetasks_fleet_set_all_regions(NULL, true), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK(storetasks_fleet_last_error(NULL) == NULL, "no reason for NULL");

    storetasks_client *c = client_for("us-east-1", 1);
    long before = total_requests();
    storetasks_fleet_result *sentinel = (storetasks_fleet_result *)&emu; /* never read: must stay untouched */
    storetasks_fleet_result *r = sentinel;
    storetasks_error *err = NULL;
    storetasks_fleet *empty = storetasks_fleet_new();
    CHECK_STATUS(storetasks_client_describe_fleet(c, empty, NULL, NULL, &r, &err), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK(r == sentinel && err && strstr(storetasks_error_message(err), "no region"), "no region: %s",
          err ? storetasks_error_message(err) : "(no error)");
    storetasks_error_free(err);
    err = NULL;
    CHECK_STATUS(storetasks_fleet_set_all_regions(f, true), STORETASKS_STATUS_OK);
    CHECK_STATUS(storetasks_client_describe_fleet(c, f, NULL, NULL, &r, &err), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK(r == sentinel && err != NULL, "regions and all regions are refused");
    storetasks_error_free(err);
    err = NULL;
    CHECK_STATUS(storetasks_fleet_set_all_regions(f, false), STORETASKS_STATUS_OK);
    storetasks_query *q = storetasks_query_new();
    storetasks_query_set_next_token(q, "abc");
    CHECK_STATUS(storetasks_client_describe_fleet(c, f, q, NULL, &r, &err), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK(r == sentinel && err && strstr(storetasks_error_message(err), "NextToken"), "a token is refused");
    storetasks_error_free(err);
    err = NULL;
    CHECK_STATUS(storetasks_client_describe_fleet(c, NULL, NULL, NULL, &r, &err), STORETASKS_STATUS_INVALID_ARGUMENT);
    storetasks_error_free(err);
    CHECK_STATUS(storetasks_client_describe_fleet(c, f, NULL, NULL, NULL, NULL), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(storetasks_client_describe_fleet(NULL, f, NULL, NULL, &r, NULL), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(storetasks_client_describe_fleet_pages(c, f, NULL, NULL, NULL, NULL, NULL, NULL),
                 STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK(r == sentinel, "the result stays untouched on every failure");
    CHECK(before >= 0 && total_requests() == before, "nothing was sent");

    /* A triggered token ends the call at once. */
    storetasks_cancel *cancel = storetasks_cancel_new();
    storetasks_cancel_trigger(cancel);
    err = NULL;
    CHECK_STATUS(storetasks_client_describe_fleet(c, f, NULL, cancel, &r, &err), STORETASKS_STATUS_CANCELLED);
    CHECK(r == sentinel, "a cancelled call leaves the result untouched");
    storetasks_error_free(err);
    storetasks_cancel_free(cancel);

    /* NULL results read as empty. */
    CHECK(storetasks_fleet_result_len(NULL) == 0 && storetasks_fleet_result_failed(NULL) == 0, "NULL result");
    CHECK(!storetasks_fleet_result_region(NULL, 0) && !storetasks_fleet_result_tasks(NULL, 0) &&
              !storetasks_fleet_result_error(NULL, 0) && storetasks_fleet_result_task_count(NULL, 0) == 0,
          "NULL result accessors");
    char *json = NULL;
    CHECK_STATUS(storetasks_fleet_result_to_json(NULL, &json, NULL), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK(json == NULL, "no JSON for NULL");
    storetasks_fleet_result_free(NULL);
    storetasks_fleet_free(NULL);
    storetasks_query_free(q);
    storetasks_fleet_free(empty);
    storetasks_fleet_free(f);
    storetasks_client_free(c);
}

static void test_regions(void) {
    static const char *const regions[] = {"us-east-1", "eu-west-3", "ap-south-1", NULL};
    storetasks_client *c = client_for("us-east-1", 3);
    storetasks_fleet *f = fleet_of(regions);
    CHECK_STATUS(storetasks_fleet_add_region(f, "eu-west-3"), STORETASKS_STATUS_OK); /* listed once */
    storetasks_query *q = storetasks_query_new();
    storetasks_query_set_max_results(q, 10);
    storetasks_fleet_result *r = run(c, f, q);
    CHECK(storetasks_fleet_result_len(r) == 3 && storetasks_fleet_result_failed(r) == 0, "%zu places, %zu failed",
          storetasks_fleet_result_len(r), storetasks_fleet_result_failed(r));
    for (size_t i = 0; i < 3 && i < storetasks_fleet_result_len(r); i++) {
        CHECK(eq(storetasks_fleet_result_region(r, i), regions[i]), "place %zu is %s", i, regions[i]);
        CHECK(!storetasks_fleet_result_account(r, i) && !storetasks_fleet_result_role_arn(r, i) &&
                  !storetasks_fleet_result_error(r, i),
              "%s: own credentials, answered", regions[i]);
        const storetasks_task_list *tasks = storetasks_fleet_result_tasks(r, i);
        storetasks_task_list *expected = baseline(regions[i]);
        CHECK(storetasks_task_list_len(expected) >= N_TASKS && same_tasks(tasks, expected),
              "%s: %zu tasks, its listing has %zu", regions[i], storetasks_task_list_len(tasks),
              storetasks_task_list_len(expected));
        CHECK(storetasks_fleet_result_task_count(r, i) == storetasks_task_list_len(tasks) &&
                  !storetasks_task_list_next_token(tasks),
              "%s: count, no token", regions[i]);
        storetasks_task_list_free(expected);
    }
    CHECK(!storetasks_fleet_result_region(r, 3) && !storetasks_fleet_result_tasks(r, 3), "out of range: NULL");
    char *json = NULL;
    CHECK_STATUS(storetasks_fleet_result_to_json(r, &json, NULL), STORETASKS_STATUS_OK);
    CHECK(json && strncmp(json, "{\n    \"Places\": [", 17) == 0 && strstr(json, "\"Region\": \"ap-south-1\"") &&
              !strstr(json, "\"Error\""),
          "the JSON: %.60s", json ? json : "(null)");
    storetasks_string_free(json);
    storetasks_fleet_result_free(r);
    storetasks_query_free(q);
    storetasks_fleet_free(f);
    storetasks_client_free(c);
}

static void test_failed_places(void) {
    static const char *const regions[] = {"us-east-1", "eu-west-3", "ap-south-1", "us-west-2", NULL};
    emu_fault(&emu, "throttle,region=eu-west-3,count=1000000");
    emu_fault(&emu, "deny,region=ap-south-1,count=1000000");
    storetasks_client *c = client_for("us-east-1", 1);
    storetasks_fleet *f = fleet_of(regions);
    storetasks_fleet_result *r = run(c, f, NULL);
    emu_clear_faults(&emu);
    CHECK(storetasks_fleet_result_len(r) == 4 && storetasks_fleet_result_failed(r) == 2, "%zu failed",
          storetasks_fleet_result_failed(r));
    const storetasks_error *throttled = storetasks_fleet_result_error(r, find_place(r, "eu-west-3", NULL));
    CHECK(throttled && storetasks_error_status(throttled) == STORETASKS_STATUS_THROTTLED &&
              eq(storetasks_error_code(throttled), "RequestLimitExceeded") &&
              storetasks_error_http_status(throttled) == 503 && storetasks_error_request_id(throttled),
          "eu-west-3 is throttled");
    const storetasks_error *denied = storetasks_fleet_result_error(r, find_place(r, "ap-south-1", NULL));
    CHECK(denied && storetasks_error_status(denied) == STORETASKS_STATUS_UNAUTHORIZED &&
              eq(storetasks_error_code(denied), "UnauthorizedOperation") &&
              storetasks_error_http_status(denied) == 403,
          "ap-south-1 is denied");
    for (size_t i = 0; i < storetasks_fleet_result_len(r); i++) {
        const char *region = storetasks_fleet_result_region(r, i);
        if (storetasks_fleet_result_error(r, i)) {
            CHECK(storetasks_task_list_len(storetasks_fleet_result_tasks(r, i)) == 0, "%s failed on its first page", region);
            continue;
        }
        storetasks_task_list *expected = baseline(region);
        CHECK(same_tasks(storetasks_fleet_result_tasks(r, i), expected), "%s answered in full", region);
        storetasks_task_list_free(expected);
    }
    char *json = NULL;
    CHECK_STATUS(storetasks_fleet_result_to_json(r, &json, NULL), STORETASKS_STATUS_OK);
    CHECK(json && strstr(json, "\"Status\": \"STORETASKS_STATUS_THROTTLED\"") &&
              strstr(json, "\"Code\": \"UnauthorizedOperation\""),
          "the JSON carries each error");
    storetasks_string_free(json);
    storetasks_fleet_result_free(r);
    storetasks_fleet_free(f);
    storetasks_client_free(c);
}

/* Whether a place's tasks are, in order, the AMIs the emulator holds for its pair; when not,
 * `why` says where they part. */
static bool same_as_emulator(const storetasks_task_list *tasks, const char *region, const char *account, char *why,
                             size_t why_len) {
    char **want = NULL;
    long n = emu_pair_ids(&emu, region, account, CUTOFF, &want);
    size_t got = storetasks_task_list_len(tasks);
    snprintf(why, why_len, "%zu tasks, the emulator holds %ld", got, n);
    bool same = n >= 0 && (size_t)n == got;
    for (size_t i = 0; same && i < got; i++) {
        const char *id = storetasks_task_list_get(tasks, i)->ami_id;
        if (!eq(id, want[i])) {
            snprintf(why, why_len, "task %zu is %s where the emulator has %s", i, id ? id : "(none)", want[i]);
            same = false;
        }
    }
    emu_free_ids(want, n);
    return same;
}

static void test_role_and_all_regions(void) {
    static const char *const regions[] = {"eu-west-3", "us-west-2", NULL};
    storetasks_client *c = client_for("us-east-1", 3);
    storetasks_fleet *f = fleet_of(regions);
    CHECK_STATUS(storetasks_fleet_add_role_arn(f, ROLE_A), STORETASKS_STATUS_OK);
    /* Pages of ROLE_PAGE tasks: every place takes several requests. */
    storetasks_query *q = storetasks_query_new();
    storetasks_query_set_max_results(q, ROLE_PAGE);
    storetasks_fleet_result *r = run(c, f, q);
    CHECK(storetasks_fleet_result_len(r) == 2 && storetasks_fleet_result_failed(r) == 0, "two places through the role");
    for (size_t i = 0; i < storetasks_fleet_result_len(r); i++) {
        const char *account = storetasks_fleet_result_account(r, i), *role = storetasks_fleet_result_role_arn(r, i);
        const char *region = storetasks_fleet_result_region(r, i);
        CHECK(eq(account, "111111111111") && eq(role, ROLE_A), "the role's account");
        storetasks_task_list *own = baseline(region);
        const storetasks_task_list *tasks = storetasks_fleet_result_tasks(r, i);
        CHECK(storetasks_task_list_len(tasks) >= N_TASKS && !same_tasks(tasks, own), "the account has tasks of its own");
        char why[160] = "";
        CHECK(storetasks_task_list_len(tasks) > 2 * ROLE_PAGE &&
                  same_as_emulator(tasks, region, "111111111111", why, sizeof why),
              "111111111111/%s through the role differs from the emulator's list: %s", region ? region : "(none)", why);
        storetasks_task_list_free(own);
    }
    storetasks_fleet_result_free(r);
    storetasks_query_free(q);
    storetasks_fleet_free(f);

    f = storetasks_fleet_new();
    CHECK_STATUS(storetasks_fleet_set_all_regions(f, true), STORETASKS_STATUS_OK);
    r = run(c, f, NULL);
    static const char *const sorted[] = {"ap-south-1", "ca-central-1", "eu-west-3", "us-east-1", "us-west-2"};
    CHECK(storetasks_fleet_result_len(r) == 5, "every enabled region: %zu", storetasks_fleet_result_len(r));
    for (size_t i = 0; i < 5 && i < storetasks_fleet_result_len(r); i++)
        CHECK(eq(storetasks_fleet_result_region(r, i), sorted[i]) && !storetasks_fleet_result_error(r, i),
              "place %zu: %s", i, storetasks_fleet_result_region(r, i));
    storetasks_fleet_result_free(r);
    storetasks_fleet_free(f);
    storetasks_client_free(c);
}

typedef struct seen_pages {
    size_t pages, tasks_eu, tasks_us, with_account, stop_after;
} seen_pages;

static bool on_page(const char *region, const char *account, const storetasks_task_list *page, void *user_data) {
    seen_pages *seen = user_data;
    seen->pages++;
    if (eq(region, "eu-west-3")) seen->tasks_eu += storetasks_task_list_len(page);
    if (eq(region, "us-west-2")) seen->tasks_us += storetasks_task_list_len(page);
    if (account) seen->with_account++;
    return seen->pages < seen->stop_after;
}

static void test_pages(void) {
    static const char *const regions[] = {"eu-west-3", "us-west-2", NULL};
    storetasks_client *c = client_for("us-east-1", 3);
    storetasks_fleet *f = fleet_of(regions);
    storetasks_query *q = storetasks_query_new();
    storetasks_query_set_max_results(q, 10);
    seen_pages seen = {0, 0, 0, 0, (size_t)-1};
    storetasks_fleet_result *r = NULL;
    storetasks_error *err = NULL;
    CHECK_STATUS(storetasks_client_describe_fleet_pages(c, f, q, NULL, on_page, &seen, &r, &err), STORETASKS_STATUS_OK);
    storetasks_error_free(err);
    storetasks_task_list *eu = baseline("eu-west-3"), *us = baseline("us-west-2");
    CHECK(seen.tasks_eu == storetasks_task_list_len(eu) && seen.tasks_us == storetasks_task_list_len(us) &&
              seen.with_account == 0 && seen.pages >= 6,
          "%zu pages, %zu + %zu tasks", seen.pages, seen.tasks_eu, seen.tasks_us);
    CHECK(storetasks_fleet_result_task_count(r, 0) == seen.tasks_eu && storetasks_fleet_result_task_count(r, 1) == seen.tasks_us &&
              storetasks_task_list_len(storetasks_fleet_result_tasks(r, 0)) == 0,
          "counts kept, tasks not");
    storetasks_fleet_result_free(r);
    storetasks_task_list_free(eu);
    storetasks_task_list_free(us);

    /* Stopping after two pages, without a result. */
    seen_pages stop = {0, 0, 0, 0, 2};
    CHECK_STATUS(storetasks_client_describe_fleet_pages(c, f, q, NULL, on_page, &stop, NULL, NULL), STORETASKS_STATUS_OK);
    CHECK(stop.pages == 2, "no page after false: %zu", stop.pages);
    storetasks_query_free(q);
    storetasks_fleet_free(f);
    storetasks_client_free(c);
}

int main(void) {
    const char *args[] = {"--now", NOW, "--generate", "25", "--seed", "4",
                          "--regions", "us-east-1,eu-west-3,ap-south-1,us-west-2,ca-central-1",
                          "--opt-in-region", "me-south-1", "--role", ROLE_A, NULL};
    emu_start(&emu, args);
    test_builder_and_bad_calls();
    test_regions();
    test_failed_places();
    test_role_and_all_regions();
    test_pages();
    emu_stop(&emu);
    return h_finish();
}

/*
 * storetasks_bench: the C side of the benchmark harness (bench/run.sh). Each mode does one
 * kind of measurement in this process and prints one JSON object on stdout.
 *
 *   list     ENDPOINT TASKS WARMUP REPS         describe_all of the whole listing, pages of 200
 *   pages    ENDPOINT TASKS WARMUP REPS         the same through describe_pages (a callback a page)
 *   batch    ENDPOINT IDS_FILE CONCURRENCY WARMUP REPS
 *                                               describe_all of the image ids in IDS_FILE (one a line)
 *   create   ENDPOINT REPS explicit|default     client creation, then the first and a second call
 *   memory   ENDPOINT TASKS all|pages|baseline  peak RSS (VmHWM) after one listing
 *   fleet    ENDPOINT REGIONS TASKS_PER_REGION WARMUP REPS
 *                                               every task of each region in REGIONS (comma-separated),
 *                                               pages of 200, two ways taking turns: region by region
 *                                               on this thread (one client per region, describe_all in
 *                                               turn) and one describe_fleet call on one client with a
 *                                               max concurrency of the number of regions
 *
 * Times are wall-clock (CLOCK_MONOTONIC) seconds. Clients are created outside the timed part,
 * except in `create`. With `default`, region and credentials come from the environment (the
 * SDK's default chain); only the endpoint URL is set.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storetasks.h"

#define ACCESS_KEY "AKIASTORETASKSLOCAL1"
#define SECRET_KEY "storetasks-local-secret-key-0000000000000"
#define REGION "us-east-1"
#define PAGE_SIZE 200

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, storetasks_status st, storetasks_error *err) {
    fprintf(stderr, "%s: %s", what, storetasks_status_name((int32_t)st));
    if (err) {
        const char *code = storetasks_error_code(err);
        fprintf(stderr, " %s: %s", code ? code : "", storetasks_error_message(err));
        storetasks_error_free(err);
    }
    fputc('\n', stderr);
    exit(1);
}

static void check(const char *what, storetasks_status st) {
    if (st != STORETASKS_STATUS_OK) die(what, st, NULL);
}

/* region not NULL: that region, the emulator's credentials and the endpoint set; otherwise the
 * endpoint only. */
static storetasks_client *client_in(const char *endpoint, const char *region, size_t concurrency) {
    storetasks_config *cfg = storetasks_config_new();
    if (!cfg) die("storetasks_config_new", STORETASKS_STATUS_PANIC, NULL);
    check("endpoint", storetasks_config_set_endpoint_url(cfg, endpoint));
    if (region) {
        check("region", storetasks_config_set_region(cfg, region));
        check("credentials", storetasks_config_set_credentials(cfg, ACCESS_KEY, SECRET_KEY, NULL));
    }
    if (concurrency) check("max concurrency", storetasks_config_set_max_concurrency(cfg, concurrency));
    storetasks_client *client = NULL;
    storetasks_error *err = NULL;
    storetasks_status st = storetasks_client_new(cfg, &client, &err);
    storetasks_config_free(cfg);
    if (st != STORETASKS_STATUS_OK) die("storetasks_client_new", st, err);
    return client;
}

/* explicit: region, credentials and endpoint set; otherwise the endpoint only. */
static storetasks_client *new_client(const char *endpoint, int explicit, size_t concurrency) {
    return client_in(endpoint, explicit ? REGION : NULL, concurrency);
}

static storetasks_query *page_query(void) {
    storetasks_query *q = storetasks_query_new();
    if (!q) die("storetasks_query_new", STORETASKS_STATUS_PANIC, NULL);
    check("max results", storetasks_query_set_max_results(q, PAGE_SIZE));
    return q;
}

/* Touches every task of a list as a caller would; returns its length. */
static size_t touch_tasks(const storetasks_task_list *list) {
    size_t n = storetasks_task_list_len(list);
    const storetasks_task *t = storetasks_task_list_tasks(list);
    size_t with_id = 0;
    for (size_t i = 0; i < n; i++) with_id += t[i].ami_id != NULL;
    if (with_id != n) fprintf(stderr, "%zu tasks without an AMI id\n", n - with_id);
    return n;
}

/* One listing into one list; returns its length. */
static size_t list_all(const storetasks_client *client, const storetasks_query *q) {
    storetasks_task_list *list = NULL;
    storetasks_error *err = NULL;
    storetasks_status st = storetasks_client_describe_all(client, q, 0, NULL, &list, &err);
    if (st != STORETASKS_STATUS_OK) die("storetasks_client_describe_all", st, err);
    size_t n = touch_tasks(list);
    storetasks_task_list_free(list);
    return n;
}

static bool count_page(const storetasks_task_list *page, void *user_data) {
    *(size_t *)user_data += storetasks_task_list_len(page);
    return true;
}

static size_t list_pages(const storetasks_client *client, const storetasks_query *q) {
    size_t n = 0;
    storetasks_error *err = NULL;
    storetasks_status st = storetasks_client_describe_pages(client, q, 0, NULL, count_page, &n, &err);
    if (st != STORETASKS_STATUS_OK) die("storetasks_client_describe_pages", st, err);
    return n;
}

/* The times of `reps` runs of one thing, printed as a member `key` of the mode's JSON object. */
typedef struct series {
    const char *key;
    double *times;
} series;

static double *new_times(int reps) {
    double *times = calloc((size_t)reps, sizeof *times);
    if (!times) die("out of memory", STORETASKS_STATUS_PANIC, NULL);
    return times;
}

/* Prints the series as the last members of the JSON object whose "{" (and any members before
 * them) is printed already, closes the object, and frees the times. */
static void print_series(const series *s, size_t count, int reps) {
    for (size_t k = 0; k < count; k++) {
        printf("%s\"%s\": [", k ? ", " : "", s[k].key);
        for (int i = 0; i < reps; i++) printf("%s%.6f", i ? ", " : "", s[k].times[i]);
        printf("]");
        free(s[k].times);
    }
    printf("}\n");
}

typedef size_t (*listing_fn)(const storetasks_client *, const storetasks_query *);

static void timed(const storetasks_client *client, const storetasks_query *q, listing_fn f, size_t expect,
                  int warmup, int reps) {
    double *times = new_times(reps);
    for (int i = 0; i < warmup + reps; i++) {
        double start = now();
        size_t n = f(client, q);
        double elapsed = now() - start;
        if (expect && n != expect) {
            fprintf(stderr, "listed %zu tasks, expected %zu\n", n, expect);
            exit(1);
        }
        if (i >= warmup) times[i - warmup] = elapsed;
    }
    printf("{");
    print_series(&(series){"times", times}, 1, reps);
}

/* A whole decimal number in [min, max], or exit with a message. */
static size_t parse_count(const char *what, const char *text, size_t min, size_t max) {
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (*text < '0' || *text > '9' || *end || errno || v < min || v > max) {
        fprintf(stderr, "%s: `%s` is not a whole number from %zu to %zu\n", what, text, min, max);
        exit(2);
    }
    return (size_t)v;
}

/* Splits a comma-separated list of region names in place; exits on an empty name. */
static char **split_regions(char *csv, size_t *count) {
    size_t n = 1;
    for (const char *c = csv; *c; c++) n += *c == ',';
    char **regions = calloc(n, sizeof *regions);
    if (!regions) die("out of memory", STORETASKS_STATUS_PANIC, NULL);
    char *p = csv;
    for (size_t i = 0; i < n; i++) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        if (!*p) {
            fprintf(stderr, "regions: empty name in the list (expected r1,r2,...)\n");
            exit(2);
        }
        regions[i] = p;
        p = comma ? comma + 1 : p + strlen(p);
    }
    *count = n;
    return regions;
}

/* Region by region on this thread: the clients' listings one after another. */
static size_t list_region_by_region(storetasks_client *const *clients, size_t n, const storetasks_query *q) {
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += list_all(clients[i], q);
    return total;
}

/* One fleet call over every region; exits when a place failed or a region is missing. */
static size_t list_fleet(const storetasks_client *client, const storetasks_fleet *fleet, const storetasks_query *q,
                         size_t places) {
    storetasks_fleet_result *result = NULL;
    storetasks_error *err = NULL;
    storetasks_status st = storetasks_client_describe_fleet(client, fleet, q, NULL, &result, &err);
    if (st != STORETASKS_STATUS_OK) die("storetasks_client_describe_fleet", st, err);
    size_t len = storetasks_fleet_result_len(result);
    if (len != places) {
        fprintf(stderr, "the fleet call gave %zu places, expected %zu\n", len, places);
        exit(1);
    }
    size_t total = 0;
    for (size_t i = 0; i < len; i++) {
        const storetasks_error *e = storetasks_fleet_result_error(result, i);
        if (e) {
            const char *code = storetasks_error_code(e);
            fprintf(stderr, "region %s failed: %s %s: %s\n", storetasks_fleet_result_region(result, i),
                    storetasks_status_name((int32_t)storetasks_error_status(e)), code ? code : "",
                    storetasks_error_message(e));
        }
        total += touch_tasks(storetasks_fleet_result_tasks(result, i));
    }
    size_t failed = storetasks_fleet_result_failed(result);
    storetasks_fleet_result_free(result);
    if (failed) {
        fprintf(stderr, "%zu of %zu regions failed\n", failed, places);
        exit(1);
    }
    return total;
}

static void expect_total(const char *how, size_t got, size_t expected) {
    if (got != expected) {
        fprintf(stderr, "%s listed %zu tasks, expected %zu\n", how, got, expected);
        exit(1);
    }
}

static int fleet_mode(const char *endpoint, char *regions_csv, size_t per_region, int warmup, int reps) {
    size_t n = 0;
    char **regions = split_regions(regions_csv, &n);
    size_t expected = per_region * n;
    storetasks_client **clients = calloc(n, sizeof *clients);
    storetasks_fleet *fleet = storetasks_fleet_new();
    if (!clients || !fleet) die("out of memory", STORETASKS_STATUS_PANIC, NULL);
    for (size_t i = 0; i < n; i++) {
        clients[i] = client_in(endpoint, regions[i], 0);
        if (storetasks_fleet_add_region(fleet, regions[i]) != STORETASKS_STATUS_OK) {
            fprintf(stderr, "region %s: %s\n", regions[i], storetasks_fleet_last_error(fleet));
            return 2;
        }
    }
    storetasks_client *one = client_in(endpoint, REGION, n);
    storetasks_query *q = page_query();
    double *by_region = new_times(reps), *at_once = new_times(reps);
    /* The two ways take turns, so that drift of the machine hits them alike. */
    for (int i = 0; i < warmup + reps; i++) {
        double t0 = now();
        size_t a = list_region_by_region(clients, n, q);
        double t1 = now();
        size_t b = list_fleet(one, fleet, q, n);
        double t2 = now();
        expect_total("region by region", a, expected);
        expect_total("the fleet call", b, expected);
        if (i >= warmup) {
            by_region[i - warmup] = t1 - t0;
            at_once[i - warmup] = t2 - t1;
        }
    }
    printf("{\"regions\": %zu, \"tasks\": %zu, ", n, expected);
    print_series((series[]){{"region_by_region", by_region}, {"fleet", at_once}}, 2, reps);
    storetasks_query_free(q);
    storetasks_client_free(one);
    storetasks_fleet_free(fleet);
    for (size_t i = 0; i < n; i++) storetasks_client_free(clients[i]);
    free(clients);
    free(regions);
    return 0;
}

static long vm_hwm_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0) kb = strtol(line + 6, NULL, 10);
    if (f) fclose(f);
    return kb;
}

static int usage(void) {
    fprintf(stderr,
            "usage: storetasks_bench list|pages ENDPOINT TASKS WARMUP REPS\n"
            "       storetasks_bench batch ENDPOINT IDS_FILE CONCURRENCY WARMUP REPS\n"
            "       storetasks_bench create ENDPOINT REPS explicit|default\n"
            "       storetasks_bench memory ENDPOINT TASKS all|pages|baseline\n"
            "       storetasks_bench fleet ENDPOINT REGION,REGION,... TASKS_PER_REGION WARMUP REPS\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 3) return usage();
    const char *mode = argv[1], *endpoint = argv[2];

    if ((strcmp(mode, "list") == 0 || strcmp(mode, "pages") == 0) && argc == 6) {
        size_t tasks = strtoul(argv[3], NULL, 10);
        storetasks_client *client = new_client(endpoint, 1, 0);
        storetasks_query *q = page_query();
        timed(client, q, strcmp(mode, "list") == 0 ? list_all : list_pages, tasks, atoi(argv[4]), atoi(argv[5]));
        storetasks_query_free(q);
        storetasks_client_free(client);
        return 0;
    }

    if (strcmp(mode, "batch") == 0 && argc == 7) {
        FILE *f = fopen(argv[3], "r");
        if (!f) { perror(argv[3]); return 1; }
        storetasks_query *q = storetasks_query_new();
        char line[128];
        size_t ids = 0;
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n")] = '\0';
            if (!*line) continue;
            check("image id", storetasks_query_add_image_id(q, line));
            ids++;
        }
        fclose(f);
        storetasks_client *client = new_client(endpoint, 1, strtoul(argv[4], NULL, 10));
        timed(client, q, list_all, ids, atoi(argv[5]), atoi(argv[6]));
        storetasks_query_free(q);
        storetasks_client_free(client);
        return 0;
    }

    if (strcmp(mode, "create") == 0 && argc == 5) {
        int reps = atoi(argv[3]);
        int explicit = strcmp(argv[4], "explicit") == 0;
        double *create = new_times(reps), *first = new_times(reps), *second = new_times(reps);
        storetasks_query *q = page_query();
        for (int i = 0; i < reps; i++) {
            double t0 = now();
            storetasks_client *client = new_client(endpoint, explicit, 0);
            double t1 = now();
            storetasks_task_list *page = NULL;
            storetasks_error *err = NULL;
            storetasks_status st = storetasks_client_describe(client, q, NULL, &page, &err);
            double t2 = now();
            if (st != STORETASKS_STATUS_OK) die("first call", st, err);
            storetasks_task_list_free(page);
            st = storetasks_client_describe(client, q, NULL, &page, &err);
            double t3 = now();
            if (st != STORETASKS_STATUS_OK) die("second call", st, err);
            storetasks_task_list_free(page);
            storetasks_client_free(client);
            create[i] = t1 - t0;
            first[i] = t2 - t1;
            second[i] = t3 - t2;
        }
        printf("{");
        print_series((series[]){{"create", create}, {"first_call", first}, {"second_call", second}}, 3, reps);
        storetasks_query_free(q);
        return 0;
    }

    if (strcmp(mode, "memory") == 0 && argc == 5) {
        size_t tasks = strtoul(argv[3], NULL, 10);
        const char *how = argv[4];
        storetasks_client *client = new_client(endpoint, 1, 0);
        storetasks_query *q = page_query();
        size_t n = 0;
        if (strcmp(how, "all") == 0) {
            storetasks_task_list *list = NULL;
            storetasks_error *err = NULL;
            storetasks_status st = storetasks_client_describe_all(client, q, 0, NULL, &list, &err);
            if (st != STORETASKS_STATUS_OK) die("storetasks_client_describe_all", st, err);
            n = storetasks_task_list_len(list);
            /* Peak with the whole list alive. */
            printf("{\"tasks\": %zu, \"vm_hwm_kb\": %ld}\n", n, vm_hwm_kb());
            storetasks_task_list_free(list);
        } else if (strcmp(how, "pages") == 0) {
            n = list_pages(client, q);
            printf("{\"tasks\": %zu, \"vm_hwm_kb\": %ld}\n", n, vm_hwm_kb());
        } else if (strcmp(how, "baseline") == 0) {
            /* The client, its runtime and connection, and the SDK's one-off state: one call of one task. */
            check("max results", storetasks_query_set_max_results(q, 1));
            storetasks_task_list *page = NULL;
            storetasks_error *err = NULL;
            storetasks_status st = storetasks_client_describe(client, q, NULL, &page, &err);
            if (st != STORETASKS_STATUS_OK) die("storetasks_client_describe", st, err);
            storetasks_task_list_free(page);
            printf("{\"tasks\": 0, \"vm_hwm_kb\": %ld}\n", vm_hwm_kb());
            tasks = 0;
        } else {
            return usage();
        }
        if (tasks && n != tasks) {
            fprintf(stderr, "listed %zu tasks, expected %zu\n", n, tasks);
            return 1;
        }
        storetasks_query_free(q);
        storetasks_client_free(client);
        return 0;
    }
    if (strcmp(mode, "fleet") == 0 && argc == 7) {
        size_t per_region = parse_count("tasks per region", argv[4], 0, (size_t)1 << 32);
        int warmup = (int)parse_count("warm-up runs", argv[5], 0, 1000);
        int reps = (int)parse_count("timed runs", argv[6], 1, 1000);
        return fleet_mode(endpoint, argv[3], per_region, warmup, reps);
    }
    return usage();
}

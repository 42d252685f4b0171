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
 *
 * Times are wall-clock (CLOCK_MONOTONIC) seconds. Clients are created outside the timed part,
 * except in `create`. With `default`, region and credentials come from the environment (the
 * SDK's default chain); only the endpoint URL is set.
 */
#define _POSIX_C_SOURCE 200809L

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

/* explicit: region, credentials and endpoint set; otherwise the endpoint only. */
static storetasks_client *new_client(const char *endpoint, int explicit, size_t concurrency) {
    storetasks_config *cfg = storetasks_config_new();
    if (!cfg) die("storetasks_config_new", STORETASKS_STATUS_PANIC, NULL);
    check("endpoint", storetasks_config_set_endpoint_url(cfg, endpoint));
    if (explicit) {
        check("region", storetasks_config_set_region(cfg, REGION));
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

static storetasks_query *page_query(void) {
    storetasks_query *q = storetasks_query_new();
    if (!q) die("storetasks_query_new", STORETASKS_STATUS_PANIC, NULL);
    check("max results", storetasks_query_set_max_results(q, PAGE_SIZE));
    return q;
}

/* One listing into one list; returns its length. */
static size_t list_all(const storetasks_client *client, const storetasks_query *q) {
    storetasks_task_list *list = NULL;
    storetasks_error *err = NULL;
    storetasks_status st = storetasks_client_describe_all(client, q, 0, NULL, &list, &err);
    if (st != STORETASKS_STATUS_OK) die("storetasks_client_describe_all", st, err);
    size_t n = storetasks_task_list_len(list);
    /* Touch every task as a caller would. */
    const storetasks_task *t = storetasks_task_list_tasks(list);
    size_t with_id = 0;
    for (size_t i = 0; i < n; i++) with_id += t[i].ami_id != NULL;
    if (with_id != n) fprintf(stderr, "%zu tasks without an AMI id\n", n - with_id);
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

static void print_times(const char *key, const double *t, int n, int last) {
    printf("\"%s\": [", key);
    for (int i = 0; i < n; i++) printf("%s%.6f", i ? ", " : "", t[i]);
    printf("]%s", last ? "" : ", ");
}

typedef size_t (*listing_fn)(const storetasks_client *, const storetasks_query *);

static void timed(const storetasks_client *client, const storetasks_query *q, listing_fn f, size_t expect,
                  int warmup, int reps) {
    double *times = calloc((size_t)reps, sizeof *times);
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
    print_times("times", times, reps, 1);
    printf("}\n");
    free(times);
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
            "       storetasks_bench memory ENDPOINT TASKS all|pages|baseline\n");
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
        double *create = calloc((size_t)reps, sizeof(double));
        double *first = calloc((size_t)reps, sizeof(double));
        double *second = calloc((size_t)reps, sizeof(double));
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
        print_times("create", create, reps, 0);
        print_times("first_call", first, reps, 0);
        print_times("second_call", second, reps, 1);
        printf("}\n");
        storetasks_query_free(q);
        free(create);
        free(first);
        free(second);
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
    return usage();
}

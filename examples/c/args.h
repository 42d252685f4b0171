/*
 * args.h: what the C examples share besides console handling: reading a `--filter` argument in
 * the AWS CLI's shorthand into a query, and printing a task's start time.
 */
#ifndef STORETASKS_EXAMPLES_ARGS_H
#define STORETASKS_EXAMPLES_ARGS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storetasks.h"

#define MAX_FILTER_VALUES 64

/* Parses "Name=task-state,Values=InProgress,Failed" into the query. Returns -1 when the text
 * does not parse (*st untouched), else 0 with the setter's status in *st. */
static int add_filter(storetasks_query *query, const char *spec, storetasks_status *st) {
    char *copy = strdup(spec);
    if (!copy) return -1;
    int rc = -1;
    char *values = strstr(copy, ",Values=");
    if (strncmp(copy, "Name=", 5) == 0 && values) {
        *values = '\0';
        const char *name = copy + 5;
        const char *list[MAX_FILTER_VALUES];
        size_t n = 0;
        for (char *v = strtok(values + 8, ","); v && n < MAX_FILTER_VALUES; v = strtok(NULL, ","))
            list[n++] = v;
        if (n > 0) {
            *st = storetasks_query_add_filter(query, name, list, n);
            rc = 0;
        }
    }
    free(copy);
    return rc;
}

/* Milliseconds since the epoch as "YYYY-MM-DD HH:MM:SS" (UTC). */
static void print_time(int64_t ms, char *buf, size_t len) {
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
#ifdef _WIN32
    gmtime_s(&tm, &secs);
#else
    gmtime_r(&secs, &tm);
#endif
    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

#endif

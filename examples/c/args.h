/*
 * args.h: what the C examples share besides console handling: reading a `--filter` argument in
 * the AWS CLI's shorthand into a query, applying `--proxy` and `--no-proxy`, and printing a
 * task's start time.
 */
#ifndef STORETASKS_EXAMPLES_ARGS_H
#define STORETASKS_EXAMPLES_ARGS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storetasks.h"

/* Parses "Name=task-state,Values=InProgress,Failed" into the query, every value kept however
 * many there are. Returns -1 when the text does not parse or memory runs out (*st untouched),
 * else 0 with the setter's status in *st. */
static int add_filter(storetasks_query *query, const char *spec, storetasks_status *st) {
    char *copy = strdup(spec);
    if (!copy) return -1;
    int rc = -1;
    char *values = strstr(copy, ",Values=");
    if (strncmp(copy, "Name=", 5) == 0 && values) {
        *values = '\0';
        const char *name = copy + 5;
        /* At most one value per comma, plus one. */
        size_t most = 1;
        for (const char *c = values + 8; *c; c++) most += *c == ',';
        const char **list = (const char **)malloc(most * sizeof *list);
        size_t n = 0;
        if (list) {
            for (char *v = strtok(values + 8, ","); v; v = strtok(NULL, ",")) list[n++] = v;
            if (n > 0) {
                *st = storetasks_query_add_filter(query, name, list, n);
                rc = 0;
            }
            free((void *)list);
        }
    }
    free(copy);
    return rc;
}

/* Applies `--proxy URL` and `--no-proxy RULES` (NULL when not given; an empty URL means no proxy
 * at all) to the configuration, in one call since the library takes them together. Returns 0, or
 * -1 after saying on stderr what was refused and why. */
static int set_proxy(storetasks_config *config, const char *proxy, const char *no_proxy) {
    if (!proxy && !no_proxy) return 0; /* the environment's HTTPS_PROXY, HTTP_PROXY and NO_PROXY */
    if (!proxy) {
        fputs("error: --no-proxy needs --proxy (without it, the environment's NO_PROXY applies)\n", stderr);
        return -1;
    }
    storetasks_status st = storetasks_config_set_proxy(config, proxy, no_proxy);
    if (st == STORETASKS_STATUS_OK) return 0;
    const char *why = storetasks_config_last_error(config);
    fprintf(stderr, "error: --proxy: %s\n", why ? why : storetasks_status_name(st));
    return -1;
}

/* Milliseconds since the epoch as "YYYY-MM-DD HH:MM:SS" (UTC); a time the C library cannot
 * convert (before 1970 or after 3000 on Windows, or beyond what its calendar holds) as
 * "(invalid time)". The seconds are rounded down, so that 1969-12-31T23:59:59.500Z is the last
 * second of 1969 (and before 1970 on Windows), not the first of 1970. */
static void print_time(int64_t ms, char *buf, size_t len) {
    time_t secs = (time_t)(ms / 1000 - (ms % 1000 < 0));
    struct tm tm;
#ifdef _WIN32
    int converted = gmtime_s(&tm, &secs) == 0;
#else
    int converted = gmtime_r(&secs, &tm) != NULL;
#endif
    if (!converted || strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0) {
        snprintf(buf, len, "(invalid time)");
    }
}

#endif

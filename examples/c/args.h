/*
 * args.h: what the C examples share besides console handling: checking an AMI id, applying the
 * client's options (`--region` and the like, `--proxy` and `--no-proxy`), reading a command line
 * of such options and a program's own, reading a `--filter` argument in the AWS CLI's shorthand
 * into a query, printing a refused value and a failed call's error, and printing tasks as rows of
 * a table.
 */
#ifndef STORETASKS_EXAMPLES_ARGS_H
#define STORETASKS_EXAMPLES_ARGS_H

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storetasks.h"

/* An AMI id as EC2 writes it: "ami-" and 8 (older images) or 17 lowercase hex digits. */
static inline int is_ami_id(const char *s) {
    if (strncmp(s, "ami-", 4) != 0) return 0;
    size_t n = 0;
    for (const char *p = s + 4; *p; p++, n++)
        if (!isdigit((unsigned char)*p) && !(*p >= 'a' && *p <= 'f')) return 0;
    return n == 8 || n == 17;
}

/* Says on stderr that the value given for `what` was refused: "error: WHAT: " and the reason
 * `why` (the refusing object's last error) or, without one, the status's name. */
static inline void print_refused(const char *what, storetasks_status st, const char *why) {
    fprintf(stderr, "error: %s: %s\n", what, why ? why : storetasks_status_name(st));
}

/* Sets the option `arg` to `val` in the configuration when `arg` is one of the client's options
 * that the configuration takes one by one: `--region`, `--endpoint-url`, `--profile` and
 * `--ca-bundle`. Returns 1 when it took the value, 0 when `arg` is none of them, or -1 after
 * saying on stderr what was refused and why. */
static inline int set_config_option(storetasks_config *config, const char *arg, const char *val) {
    storetasks_status st;
    if (!strcmp(arg, "--region")) st = storetasks_config_set_region(config, val);
    else if (!strcmp(arg, "--endpoint-url")) st = storetasks_config_set_endpoint_url(config, val);
    else if (!strcmp(arg, "--profile")) st = storetasks_config_set_profile(config, val);
    else if (!strcmp(arg, "--ca-bundle")) st = storetasks_config_set_ca_bundle(config, val);
    else return 0;
    if (st == STORETASKS_STATUS_OK) return 1;
    print_refused(arg, st, storetasks_config_last_error(config));
    return -1;
}

/* Parses "Name=task-state,Values=InProgress,Failed" into the query, every value kept however
 * many there are. Returns -1 after saying on stderr what `--filter` takes when the text does not
 * parse or memory runs out (*st untouched), else 0 with the setter's status in *st. */
static inline int add_filter(storetasks_query *query, const char *spec, storetasks_status *st) {
    char *copy = strdup(spec);
    char *values = copy ? strstr(copy, ",Values=") : NULL;
    int rc = -1;
    if (values && strncmp(copy, "Name=", 5) == 0) {
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
    if (rc != 0) fprintf(stderr, "error: --filter takes Name=NAME,Values=V1[,V2...], not %s\n", spec);
    return rc;
}

/* Applies `--proxy URL` and `--no-proxy RULES` (NULL when not given; an empty URL means no proxy
 * at all) to the configuration, in one call since the library takes them together. Returns 0, or
 * -1 after saying on stderr what was refused and why. */
static inline int set_proxy(storetasks_config *config, const char *proxy, const char *no_proxy) {
    if (!proxy && !no_proxy) return 0; /* the environment's HTTPS_PROXY, HTTP_PROXY and NO_PROXY */
    if (!proxy) {
        fputs("error: --no-proxy needs --proxy (without it, the environment's NO_PROXY applies)\n", stderr);
        return -1;
    }
    storetasks_status st = storetasks_config_set_proxy(config, proxy, no_proxy);
    if (st == STORETASKS_STATUS_OK) return 0;
    print_refused("--proxy", st, storetasks_config_last_error(config));
    return -1;
}

/* The command line of an example that calls the service: the client's options (`--region` and
 * the like, `--proxy`, `--no-proxy`), `--help` or `-h`, and the program's own options, of which
 * those named in `flags` take no value and every other one takes the argument after it. */
typedef struct command_line {
    int argc;
    char **argv;
    int next;                  /* the argument to read next; 1 to start */
    void (*usage)(FILE *to);   /* prints the program's usage */
    const char *const *flags;  /* the program's options without a value, NULL-terminated */
    storetasks_config *config; /* takes the client's options */
    const char *proxy;         /* --proxy and --no-proxy as given, applied at the end */
    const char *no_proxy;
} command_line;

/* What next_option read. */
enum option_kind {
    OPTION_OWN,  /* one of the program's own options: *arg, and its value *val (NULL for a flag) */
    OPTION_END,  /* the end of the command line: the client's options are all applied */
    OPTION_HELP, /* --help or -h: the usage is printed on stdout */
    OPTION_BAD   /* a value missing or refused, said on stderr */
};

/* Reads the command line up to the next of the program's own options, applying the client's
 * options it meets on the way. The program judges its own option, and calls unknown_option for
 * one it does not take (the option's value is read first all the same: a missing one is
 * reported as such). */
static inline enum option_kind next_option(command_line *cl, const char **arg, const char **val) {
    while (cl->next < cl->argc) {
        *arg = cl->argv[cl->next++];
        *val = NULL;
        for (const char *const *flag = cl->flags; *flag; flag++)
            if (!strcmp(*arg, *flag)) return OPTION_OWN;
        if (!strcmp(*arg, "--help") || !strcmp(*arg, "-h")) {
            cl->usage(stdout);
            return OPTION_HELP;
        }
        if (cl->next >= cl->argc) {
            fprintf(stderr, "error: %s needs a value\n", *arg);
            cl->usage(stderr);
            return OPTION_BAD;
        }
        *val = cl->argv[cl->next++];
        int took = set_config_option(cl->config, *arg, *val);
        if (took < 0) return OPTION_BAD;
        if (took) continue;
        if (!strcmp(*arg, "--proxy")) cl->proxy = *val;
        else if (!strcmp(*arg, "--no-proxy")) cl->no_proxy = *val;
        else return OPTION_OWN;
    }
    return set_proxy(cl->config, cl->proxy, cl->no_proxy) == 0 ? OPTION_END : OPTION_BAD;
}

/* Says on stderr that the program takes no option `arg`, and how to call it. */
static inline void unknown_option(const command_line *cl, const char *arg) {
    fprintf(stderr, "error: unknown option %s\n", arg);
    cl->usage(stderr);
}

/* Whether the program goes on once next_option has returned `kind` (anything but OPTION_OWN):
 * only when it read the whole command line (OPTION_END). After --help the exit code becomes 0;
 * after a bad option it stays the one the program set for a usage error. */
static inline int command_line_read(enum option_kind kind, int *exit_code) {
    if (kind == OPTION_HELP) *exit_code = 0;
    return kind == OPTION_END;
}

/* Milliseconds since the epoch as "YYYY-MM-DD HH:MM:SS" (UTC); a time the C library cannot
 * convert (before 1970 or after 3000 on Windows, or beyond what its calendar holds) as
 * "(invalid time)". The seconds are rounded down, so that 1969-12-31T23:59:59.500Z is the last
 * second of 1969 (and before 1970 on Windows), not the first of 1970. */
static inline void print_time(int64_t ms, char *buf, size_t len) {
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

/* Says on stderr why a call failed: "error: " and its status, the AWS error code when there is
 * one, and the message ("error: STORETASKS_STATUS_THROTTLED (RequestLimitExceeded): ..."). */
static inline void print_error(storetasks_status status, const storetasks_error *err) {
    const char *code = storetasks_error_code(err);
    fprintf(stderr, "error: %s%s%s%s: %s\n", storetasks_status_name(status), code ? " (" : "", code ? code : "",
            code ? ")" : "", err ? storetasks_error_message(err) : "no details");
}

/* A client made from the configuration, or NULL after saying on stderr why there is none (as
 * print_error does) and setting the exit code to 1. */
static inline storetasks_client *new_client(const storetasks_config *config, int *exit_code) {
    storetasks_client *client = NULL;
    storetasks_error *err = NULL;
    storetasks_status st = storetasks_client_new(config, &client, &err);
    if (st != STORETASKS_STATUS_OK) {
        print_error(st, err);
        *exit_code = 1;
    }
    storetasks_error_free(err);
    return client;
}

/* The columns of a task in a table, and their heading: the AMI, the state, the progress, the start
 * time (UTC), the bucket, and the S3 object key or, for a failed task, the reason it failed. A
 * program may print columns of its own before them. */
static inline void print_task_heading(void) {
    printf("%-21s  %-10s  %8s  %-19s  %-24s  %s\n", "AMI", "STATE", "PROGRESS", "STARTED (UTC)", "BUCKET",
           "OBJECT KEY / FAILURE");
}

static inline void print_task_row(const storetasks_task *t) {
    char started[32] = "-";
    char progress[16] = "-";
    if (t->has_task_start_time) print_time(t->task_start_time_ms, started, sizeof started);
    if (t->has_progress_percentage) snprintf(progress, sizeof progress, "%d%%", t->progress_percentage);
    const char *detail = t->state == STORETASKS_TASK_STATE_FAILED && t->failure_reason
                             ? t->failure_reason
                             : (t->s3_object_key ? t->s3_object_key : "-");
    printf("%-21s  %-10s  %8s  %-19s  %-24s  %s\n", t->ami_id ? t->ami_id : "-", t->state_raw ? t->state_raw : "-",
           progress, started, t->bucket ? t->bucket : "-", detail);
}

#endif

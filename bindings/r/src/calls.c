/*
 * The calls R makes on a client: describe (one page, or the batches of a long id list, which
 * paginate() repeats), the fleet call, and the waits with their progress events. Each runs as a
 * job (jobs.c).
 */
#include "storetasks_r.h"

#include <stdlib.h>

/* -- describe -------------------------------------------------------------------------------- */

#define QUERY_CHECK(call)                                                                    \
    do {                                                                                     \
        storetasks_status st_ = (call);                                                      \
        if (st_ != STORETASKS_STATUS_OK)                                                     \
            return error_value(st_, NULL, setter_error(st_, storetasks_query_last_error(j->query))); \
    } while (0)

/* Makes the job's query: NULL when it is ready, else the error list of the value the library
 * refused (the caller frees the job). R errors for malformed arguments. */
static SEXP fill_query(job *j, SEXP image_ids, SEXP filter_names, SEXP filter_values, SEXP next_token,
                       SEXP max_results, SEXP dry_run) {
    if (TYPEOF(image_ids) != STRSXP || TYPEOF(filter_names) != STRSXP || TYPEOF(filter_values) != VECSXP ||
        XLENGTH(filter_names) != XLENGTH(filter_values))
        Rf_error("bad arguments");
    j->query = storetasks_query_new();
    if (j->query == NULL) Rf_error("out of memory");
    for (R_xlen_t i = 0; i < XLENGTH(image_ids); i++) {
        if (STRING_ELT(image_ids, i) == NA_STRING) Rf_error("ImageIds may not hold NA");
        QUERY_CHECK(storetasks_query_add_image_id(j->query, Rf_translateCharUTF8(STRING_ELT(image_ids, i))));
    }
    for (R_xlen_t i = 0; i < XLENGTH(filter_names); i++) {
        SEXP values = VECTOR_ELT(filter_values, i);
        if (TYPEOF(values) != STRSXP) Rf_error("filter values must be character");
        R_xlen_t n = XLENGTH(values);
        const char **v = (const char **)R_alloc((size_t)(n > 0 ? n : 1), sizeof(char *));
        for (R_xlen_t k = 0; k < n; k++) {
            if (STRING_ELT(values, k) == NA_STRING) Rf_error("filter values may not hold NA");
            v[k] = Rf_translateCharUTF8(STRING_ELT(values, k));
        }
        if (STRING_ELT(filter_names, i) == NA_STRING) Rf_error("a filter name may not be NA");
        QUERY_CHECK(storetasks_query_add_filter(j->query, Rf_translateCharUTF8(STRING_ELT(filter_names, i)),
                                                n > 0 ? v : NULL, (size_t)n));
    }
    const char *token = opt_string(next_token, "NextToken");
    if (token != NULL) QUERY_CHECK(storetasks_query_set_next_token(j->query, token));
    if (!Rf_isNull(max_results)) {
        double m = Rf_asReal(max_results);
        int32_t mr = (ISNAN(m) || m < 1 || m > 2147483647.0) ? -1 : (int32_t)m;
        QUERY_CHECK(storetasks_query_set_max_results(j->query, mr));
    }
    if (Rf_asLogical(dry_run) == TRUE) QUERY_CHECK(storetasks_query_set_dry_run(j->query, true));
    return NULL;
}

/* Runs a describe or fleet job with its query: the job's outcome (jobs.c), or the error list of a
 * value the library refused. `jptr`, the caller's last protected value, is unprotected here. */
static SEXP run_query(job *j, SEXP jptr, SEXP image_ids, SEXP filter_names, SEXP filter_values, SEXP next_token,
                      SEXP max_results, SEXP dry_run, job_ok_value ok, int keep_ms) {
    SEXP refused = fill_query(j, image_ids, filter_names, filter_values, next_token, max_results, dry_run);
    if (refused != NULL) return job_refused(jptr, refused);
    if (!job_start(j)) Rf_error("could not start a thread");
    job_next_event(j, 0);
    SEXP out = job_outcome(jptr, "the call was cancelled: the client was closed", ok, keep_ms);
    UNPROTECT(1);
    return out;
}

/* list(kind = "ok", response, request_id, truncated) of a describe job. */
static SEXP describe_ok(job *j, int keep_ms) {
    static const char *const names[] = {"kind", "response", "request_id", "truncated"};
    SEXP v[4];
    v[0] = PROTECT(Rf_mkString("ok"));
    v[1] = PROTECT(response_value(j->list, keep_ms));
    v[2] = PROTECT(str1(storetasks_task_list_request_id(j->list)));
    v[3] = PROTECT(Rf_ScalarLogical(storetasks_task_list_truncated(j->list)));
    SEXP out = named_list(4, names, v);
    UNPROTECT(4);
    return out;
}

/* st_describe(client, image_ids (character), filter_names (character), filter_values (list of
 * character), next_token, max_results (integer or NULL), dry_run (logical), keep_ms (logical)):
 * list(kind = "ok", response, request_id, truncated), an error list, or list(kind = "interrupted"). */
SEXP st_describe(SEXP client, SEXP image_ids, SEXP filter_names, SEXP filter_values, SEXP next_token,
                 SEXP max_results, SEXP dry_run, SEXP keep_ms) {
    client_box *box = open_client(client);
    if (box == NULL) return closed_error();
    int keep = Rf_asLogical(keep_ms) == TRUE;
    job *j;
    SEXP jptr = job_new(box, JOB_DESCRIBE, &j);
    return run_query(j, jptr, image_ids, filter_names, filter_values, next_token, max_results, dry_run, describe_ok,
                     keep);
}

/* -- fleet ----------------------------------------------------------------------------------- */

#define FLEET_CHECK(call)                                                                                  \
    do {                                                                                                   \
        storetasks_status st_ = (call);                                                                    \
        if (st_ != STORETASKS_STATUS_OK)                                                                   \
            return job_refused(jptr, error_value(st_, NULL, setter_error(st_, storetasks_fleet_last_error(j->fleet)))); \
    } while (0)

/* list(kind = "ok", response) of a fleet job. */
static SEXP fleet_ok(job *j, int keep_ms) {
    SEXP response = PROTECT(fleet_value(j->fleet_result, keep_ms));
    SEXP out = kind_list("ok", "response", response);
    UNPROTECT(1);
    return out;
}

/* st_describe_fleet(client, regions (character), all_regions (logical), role_arns (character),
 * image_ids, filter_names, filter_values, max_results, dry_run, keep_ms): the query in every
 * (account, region) place at once. list(kind = "ok", response) (a failing place is in the
 * response, not an error), an error list for what ends the whole call, or
 * list(kind = "interrupted"). */
SEXP st_describe_fleet(SEXP client, SEXP regions, SEXP all_regions, SEXP role_arns, SEXP image_ids,
                       SEXP filter_names, SEXP filter_values, SEXP max_results, SEXP dry_run, SEXP keep_ms) {
    client_box *box = open_client(client);
    if (box == NULL) return closed_error();
    if (TYPEOF(regions) != STRSXP || TYPEOF(role_arns) != STRSXP) Rf_error("bad arguments");
    int keep = Rf_asLogical(keep_ms) == TRUE;
    job *j;
    SEXP jptr = job_new(box, JOB_FLEET, &j);
    j->fleet = storetasks_fleet_new();
    if (j->fleet == NULL) Rf_error("out of memory");
    for (R_xlen_t i = 0; i < XLENGTH(regions); i++) {
        if (STRING_ELT(regions, i) == NA_STRING) Rf_error("Regions may not hold NA");
        FLEET_CHECK(storetasks_fleet_add_region(j->fleet, Rf_translateCharUTF8(STRING_ELT(regions, i))));
    }
    if (Rf_asLogical(all_regions) == TRUE) FLEET_CHECK(storetasks_fleet_set_all_regions(j->fleet, true));
    for (R_xlen_t i = 0; i < XLENGTH(role_arns); i++) {
        if (STRING_ELT(role_arns, i) == NA_STRING) Rf_error("RoleArns may not hold NA");
        FLEET_CHECK(storetasks_fleet_add_role_arn(j->fleet, Rf_translateCharUTF8(STRING_ELT(role_arns, i))));
    }
    return run_query(j, jptr, image_ids, filter_names, filter_values, R_NilValue, max_results, dry_run, fleet_ok,
                     keep);
}

/* -- wait ------------------------------------------------------------------------------------ */

#define WAIT_CHECK(call)                                                                                      \
    do {                                                                                                      \
        storetasks_status st_ = (call);                                                                       \
        if (st_ != STORETASKS_STATUS_OK) {                                                                    \
            SEXP e_ = error_value(st_, NULL, setter_error(st_, storetasks_wait_options_last_error(j->options))); \
            UNPROTECT(1);                                                                                     \
            job_finalizer(jptr);                                                                              \
            return e_;                                                                                        \
        }                                                                                                     \
    } while (0)

/* A wait's Delay, MaxDelay and Timeout in milliseconds, converted (R errors for bad values)
 * before its job exists. */
typedef struct wait_times {
    uint64_t delay_ms, max_delay_ms, timeout_ms;
} wait_times;

static wait_times wait_times_of(SEXP delay, SEXP max_delay, SEXP timeout) {
    wait_times t;
    t.delay_ms = ms_of(delay, "Delay");
    t.max_delay_ms = ms_of(max_delay, "MaxDelay");
    t.timeout_ms = ms_of(timeout, "Timeout");
    return t;
}

/* Sets the options of a wait job (its progress callback included) and hands it to a worker, for
 * st_wait_start and st_wait_targets_start: returns the job's external pointer `jptr` (the
 * caller's last protected value, unprotected here), or the error list of an option the library
 * refused (the job then freed). */
static SEXP wait_job_start(job *j, SEXP jptr, const wait_times *times, SEXP grace) {
    j->options = storetasks_wait_options_new();
    if (j->options == NULL) Rf_error("out of memory");
    WAIT_CHECK(storetasks_wait_options_set_delays(j->options, times->delay_ms, times->max_delay_ms));
    WAIT_CHECK(storetasks_wait_options_set_timeout(j->options, times->timeout_ms));
    if (!Rf_isNull(grace)) WAIT_CHECK(storetasks_wait_options_set_not_found_grace(j->options, ms_of(grace, "NotFoundGrace")));
    WAIT_CHECK(storetasks_wait_options_set_progress(j->options, job_progress, j));
    if (!job_start(j)) Rf_error("could not start a thread");
    UNPROTECT(1);
    return jptr;
}

/* A copy of element i of a character vector, NULL for NA when `na_is_null` (an R error for NA
 * otherwise). The job owns the copy: it goes into j->ids, counted by j->n_ids. */
static const char *job_string(job *j, SEXP x, R_xlen_t i, int na_is_null, const char *what) {
    SEXP e = STRING_ELT(x, i);
    if (e == NA_STRING) {
        if (na_is_null) return NULL;
        Rf_error("%s may not hold NA", what);
    }
    char *copy = dup_or_null(Rf_translateCharUTF8(e));
    if (copy == NULL) Rf_error("out of memory");
    j->ids[j->n_ids++] = copy;
    return copy;
}

/* st_wait_start(client, image_ids, delay_s, max_delay_s, timeout_s (0: none), grace_s or NULL):
 * the job's external pointer (a running wait), or an error list. */
SEXP st_wait_start(SEXP client, SEXP image_ids, SEXP delay, SEXP max_delay, SEXP timeout, SEXP grace) {
    client_box *box = open_client(client);
    if (box == NULL) return closed_error();
    if (TYPEOF(image_ids) != STRSXP) Rf_error("ImageIds must be character");
    wait_times times = wait_times_of(delay, max_delay, timeout);
    job *j;
    SEXP jptr = job_new(box, JOB_WAIT, &j);
    R_xlen_t n = XLENGTH(image_ids);
    j->ids = calloc((size_t)(n > 0 ? n : 1), sizeof(char *));
    if (j->ids == NULL) Rf_error("out of memory");
    for (R_xlen_t i = 0; i < n; i++) job_string(j, image_ids, i, 0, "ImageIds");
    return wait_job_start(j, jptr, &times, grace);
}

/* st_wait_targets_start(client, regions, role_arns, image_ids (character vectors of one length;
 * NA in regions and role_arns: the client's region, its own credentials), delay_s, max_delay_s,
 * timeout_s, grace_s or NULL): a wait across regions and accounts (storetasks_client_wait_targets).
 * The job's external pointer, or an error list. */
SEXP st_wait_targets_start(SEXP client, SEXP regions, SEXP role_arns, SEXP image_ids, SEXP delay,
                           SEXP max_delay, SEXP timeout, SEXP grace) {
    client_box *box = open_client(client);
    if (box == NULL) return closed_error();
    if (TYPEOF(regions) != STRSXP || TYPEOF(role_arns) != STRSXP || TYPEOF(image_ids) != STRSXP ||
        XLENGTH(regions) != XLENGTH(image_ids) || XLENGTH(role_arns) != XLENGTH(image_ids))
        Rf_error("bad arguments");
    wait_times times = wait_times_of(delay, max_delay, timeout);
    job *j;
    SEXP jptr = job_new(box, JOB_WAIT_TARGETS, &j);
    R_xlen_t n = XLENGTH(image_ids);
    j->ids = calloc((size_t)(n > 0 ? 3 * n : 1), sizeof(char *));
    j->targets = calloc((size_t)(n > 0 ? n : 1), sizeof(storetasks_wait_target));
    if (j->ids == NULL || j->targets == NULL) Rf_error("out of memory");
    for (R_xlen_t i = 0; i < n; i++) {
        storetasks_wait_target *t = &j->targets[i];
        t->region = job_string(j, regions, i, 1, "Region");
        t->role_arn = job_string(j, role_arns, i, 1, "RoleArn");
        t->image_id = job_string(j, image_ids, i, 0, "ImageId");
        j->n_targets = (size_t)i + 1;
    }
    return wait_job_start(j, jptr, &times, grace);
}

/* list(kind = "progress", tasks) for the wait's latest snapshot, which moves to `consumed` (R's
 * thread only) while it is turned into R values: the job frees it if that fails. */
static SEXP wait_progress(job *j, int keep_ms) {
    snapshot_clear(&j->consumed);
    pthread_mutex_lock(&j->mu);
    j->consumed = j->progress;
    j->progress.tasks = NULL;
    j->progress.len = 0;
    j->progress_seen = j->progress_seq;
    pthread_mutex_unlock(&j->mu);
    SEXP tasks = PROTECT(tasks_value(j->consumed.tasks, j->consumed.len, keep_ms));
    SEXP out = kind_list("progress", "tasks", tasks);
    UNPROTECT(1);
    snapshot_clear(&j->consumed);
    return out;
}

/* list(kind = "ok", response) of a wait job. */
static SEXP wait_ok(job *j, int keep_ms) {
    SEXP response = PROTECT(response_value(j->list, keep_ms));
    SEXP out = kind_list("ok", "response", response);
    UNPROTECT(1);
    return out;
}

/* st_job_next(job, keep_ms): the next event of a wait: list(kind = "progress", tasks),
 * list(kind = "ok", response), an error list or list(kind = "interrupted"). After anything but
 * "progress" the job has ended and is freed. */
SEXP st_job_next(SEXP jptr, SEXP keep_ms) {
    job *j = job_get(jptr);
    if (j == NULL) Rf_error("the wait has already ended");
    int keep = Rf_asLogical(keep_ms) == TRUE;
    if (job_next_event(j, 1) == EVENT_PROGRESS) return wait_progress(j, keep);
    return job_outcome(jptr, "the wait was cancelled: the client was closed", wait_ok, keep);
}

/* Ends a job early (on.exit of the R waiter): cancels it, waits for its thread, frees it. */
SEXP st_job_finish(SEXP jptr) {
    job_get(jptr);
    job_finalizer(jptr);
    return R_NilValue;
}

/* -- the library ----------------------------------------------------------------------------- */

SEXP st_version(void) {
    return Rf_mkString(storetasks_version());
}

SEXP st_status_name(SEXP status) {
    return Rf_mkString(storetasks_status_name(Rf_asInteger(status)));
}

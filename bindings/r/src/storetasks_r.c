/*
 * .Call glue between R and libstoretasks (storetasks.h).
 *
 * Rules this file keeps:
 *  - No R API call ever runs on a thread other than R's main thread, and no longjmp ever crosses
 *    a frame of the library: every blocking library call (describe, wait) is a "job" run by a
 *    worker thread that the client keeps, while R's thread waits for it in slices of 50 ms and
 *    checks for a user interrupt between slices with R_ToplevelExec, which returns normally. An
 *    interrupt triggers the job's cancellation token; the job then ends promptly with CANCELLED,
 *    R's thread waits for it to be done, and only then is the interrupt reported to R (which
 *    signals it again).
 *  - The library's progress callback runs on the job's thread: it only copies the tasks into a
 *    snapshot under the job's mutex; R's thread turns snapshots into R values.
 *  - Every C object that must outlive an R allocation (the client, a job with its query, list
 *    and error) is owned by an external pointer with a finalizer, so that an R error (out of
 *    memory...) raised while R values are built leaks nothing.
 *  - Strings go in as UTF-8 (translateCharUTF8) and come out marked UTF-8 (mkCharCE).
 */

#define R_NO_REMAP
#include <R.h>
#include <Rinternals.h>
#include <R_ext/Rdynload.h>
#include <R_ext/Visibility.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <storetasks.h>

/* -- the client ------------------------------------------------------------------------------ */

struct job;

/* Owned by the client's external pointer and by each job running on it: freed when the client
 * was closed (close() or the finalizer) and no job holds it any more. Touched by R's thread only
 * (a job's thread reads `client`, which stays valid while the job holds the box). */
/* A thread that runs the client's blocking calls one job at a time. The library is much faster
 * on a thread it has seen before (a new thread per call costs milliseconds), so the threads are
 * kept, idle, by the client and reused. */
typedef struct worker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *job; /* under mu: the job to run */
    int quit;        /* under mu */
    struct worker *next_idle;
} worker;

typedef struct client_box {
    storetasks_client *client;
    int holders; /* jobs holding it */
    int closed;
    struct job *jobs;  /* running jobs, whose tokens close() triggers */
    worker *idle;      /* threads waiting for a job */
} client_box;

static void worker_stop(worker *w) {
    pthread_mutex_lock(&w->mu);
    w->quit = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

static void box_release_if_unused(client_box *box) {
    if (box->closed && box->holders == 0) {
        while (box->idle != NULL) {
            worker *w = box->idle;
            box->idle = w->next_idle;
            worker_stop(w);
        }
        storetasks_client_free(box->client);
        free(box);
    }
}

/* -- jobs ------------------------------------------------------------------------------------ */

enum { JOB_DESCRIBE = 1, JOB_WAIT = 2, JOB_FLEET = 3, JOB_WAIT_TARGETS = 4 };
enum { EVENT_DONE = 1, EVENT_PROGRESS = 2 };

typedef struct snapshot {
    storetasks_task *tasks; /* strings owned (strdup'd) */
    size_t len;
} snapshot;

typedef struct job {
    int kind;
    client_box *box;
    struct job *next; /* in box->jobs */
    storetasks_query *query;
    storetasks_fleet *fleet;
    char **ids; /* a wait's image ids; for JOB_WAIT_TARGETS, the copies of the targets' strings */
    size_t n_ids;
    storetasks_wait_target *targets; /* pointing into `ids` */
    size_t n_targets;
    storetasks_wait_options *options;
    storetasks_cancel *cancel;
    worker *worker; /* running it, until it is done */
    int started;    /* handed to a worker */
    int finished;   /* seen done by R's thread; the worker is idle again */
    int interrupted; /* a user interrupt cancelled it */
    int cancelled_by_close;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* under mu */
    int done;
    storetasks_status status;
    storetasks_task_list *list;
    storetasks_fleet_result *fleet_result;
    storetasks_error *err;
    snapshot progress;
    unsigned long progress_seq;
    /* R's thread only */
    unsigned long progress_seen;
    snapshot consumed;
} job;

static char *dup_or_null(const char *s) {
    if (s == NULL) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL) memcpy(d, s, n);
    return d;
}

static void snapshot_clear(snapshot *s) {
    for (size_t i = 0; i < s->len; i++) {
        storetasks_task *t = &s->tasks[i];
        free((char *)t->ami_id);
        free((char *)t->bucket);
        free((char *)t->s3_object_key);
        free((char *)t->failure_reason);
        free((char *)t->state_raw);
    }
    free(s->tasks);
    s->tasks = NULL;
    s->len = 0;
}

/* A copy of a borrowed list's tasks; false when memory ran out (nothing is kept then). */
static int snapshot_take(snapshot *s, const storetasks_task_list *list) {
    size_t n = storetasks_task_list_len(list);
    const storetasks_task *src = storetasks_task_list_tasks(list);
    s->tasks = NULL;
    s->len = 0;
    if (n == 0) return 1;
    s->tasks = calloc(n, sizeof(storetasks_task));
    if (s->tasks == NULL) return 0;
    for (size_t i = 0; i < n; i++) {
        storetasks_task *t = &s->tasks[i];
        *t = src[i];
        t->ami_id = dup_or_null(src[i].ami_id);
        t->bucket = dup_or_null(src[i].bucket);
        t->s3_object_key = dup_or_null(src[i].s3_object_key);
        t->failure_reason = dup_or_null(src[i].failure_reason);
        t->state_raw = dup_or_null(src[i].state_raw);
        s->len = i + 1;
    }
    return 1;
}

static void job_run(job *j) {
    storetasks_task_list *list = NULL;
    storetasks_fleet_result *fleet_result = NULL;
    storetasks_error *err = NULL;
    storetasks_status st;
    if (j->kind == JOB_DESCRIBE) {
        st = storetasks_client_describe(j->box->client, j->query, j->cancel, &list, &err);
    } else if (j->kind == JOB_FLEET) {
        st = storetasks_client_describe_fleet(j->box->client, j->fleet, j->query, j->cancel, &fleet_result, &err);
    } else if (j->kind == JOB_WAIT_TARGETS) {
        st = storetasks_client_wait_targets(j->box->client, j->targets, j->n_targets, j->options, j->cancel, &list,
                                            &err);
    } else {
        st = storetasks_client_wait(j->box->client, (const char *const *)j->ids, j->n_ids, j->options, j->cancel,
                                    &list, &err);
    }
    pthread_mutex_lock(&j->mu);
    j->status = st;
    j->list = list;
    j->fleet_result = fleet_result;
    j->err = err;
    j->done = 1;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    /* j may be freed from here on */
}

static void *worker_main(void *arg) {
    worker *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (w->job == NULL && !w->quit) pthread_cond_wait(&w->cv, &w->mu);
        job *j = w->job;
        w->job = NULL;
        pthread_mutex_unlock(&w->mu);
        if (j == NULL) return NULL; /* quit */
        job_run(j);
    }
}

/* The library's progress callback, on the job's thread: no R here. */
static bool job_progress(const storetasks_task_list *tasks, void *user_data) {
    job *j = user_data;
    snapshot s;
    if (snapshot_take(&s, tasks)) {
        pthread_mutex_lock(&j->mu);
        snapshot_clear(&j->progress);
        j->progress = s;
        j->progress_seq++;
        pthread_cond_broadcast(&j->cv);
        pthread_mutex_unlock(&j->mu);
    } else {
        snapshot_clear(&s);
    }
    return !storetasks_cancel_is_triggered(j->cancel);
}

/* Waits until the job is done, and gives its worker back to the client. */
static void job_join(job *j) {
    if (!j->started || j->finished) return;
    pthread_mutex_lock(&j->mu);
    while (!j->done) pthread_cond_wait(&j->cv, &j->mu);
    pthread_mutex_unlock(&j->mu);
    j->finished = 1;
    j->worker->next_idle = j->box->idle;
    j->box->idle = j->worker;
    j->worker = NULL;
}

static void job_unlink(job *j) {
    if (j->box == NULL) return;
    for (job **p = &j->box->jobs; *p != NULL; p = &(*p)->next) {
        if (*p == j) {
            *p = j->next;
            break;
        }
    }
    j->box->holders--;
    box_release_if_unused(j->box);
    j->box = NULL;
}

/* Cancels a running job, waits for its thread, frees everything. */
static void job_free(job *j) {
    if (j == NULL) return;
    if (j->started && !j->finished) storetasks_cancel_trigger(j->cancel);
    job_join(j);
    job_unlink(j);
    storetasks_query_free(j->query);
    storetasks_fleet_free(j->fleet);
    storetasks_wait_options_free(j->options);
    storetasks_cancel_free(j->cancel);
    if (j->ids != NULL) {
        for (size_t i = 0; i < j->n_ids; i++) free(j->ids[i]);
        free(j->ids);
    }
    free(j->targets);
    storetasks_task_list_free(j->list);
    storetasks_fleet_result_free(j->fleet_result);
    storetasks_error_free(j->err);
    snapshot_clear(&j->progress);
    snapshot_clear(&j->consumed);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    free(j);
}

static SEXP job_tag;
static SEXP client_tag;

static void job_finalizer(SEXP ptr) {
    job *j = R_ExternalPtrAddr(ptr);
    R_ClearExternalPtr(ptr);
    job_free(j);
}

static job *job_get(SEXP ptr) {
    if (TYPEOF(ptr) != EXTPTRSXP || R_ExternalPtrTag(ptr) != job_tag) Rf_error("not a storetasks job");
    return R_ExternalPtrAddr(ptr);
}

static client_box *client_get(SEXP ptr) {
    if (TYPEOF(ptr) != EXTPTRSXP || R_ExternalPtrTag(ptr) != client_tag) Rf_error("not a storetasks client");
    return R_ExternalPtrAddr(ptr);
}

/* A new job on the client (held), owned by the returned (protected) external pointer. */
static SEXP job_new(client_box *box, int kind, job **out) {
    job *j = calloc(1, sizeof(job));
    if (j == NULL) Rf_error("out of memory");
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    j->kind = kind;
    j->box = box;
    box->holders++;
    j->next = box->jobs;
    box->jobs = j;
    SEXP ptr = PROTECT(R_MakeExternalPtr(j, job_tag, R_NilValue));
    R_RegisterCFinalizerEx(ptr, job_finalizer, TRUE);
    j->cancel = storetasks_cancel_new();
    if (j->cancel == NULL) Rf_error("out of memory");
    *out = j;
    return ptr; /* protected: the caller unprotects */
}

/* Hands the job to an idle worker of its client, or to a new one. */
static int job_start(job *j) {
    client_box *box = j->box;
    worker *w = box->idle;
    if (w != NULL) {
        box->idle = w->next_idle;
    } else {
        w = calloc(1, sizeof(worker));
        if (w == NULL) return 0;
        pthread_mutex_init(&w->mu, NULL);
        pthread_cond_init(&w->cv, NULL);
        /* The worker (and what it starts) takes no asynchronous signal: SIGINT is R's. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        int rc = pthread_create(&w->thread, NULL, worker_main, w);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (rc != 0) {
            pthread_cond_destroy(&w->cv);
            pthread_mutex_destroy(&w->mu);
            free(w);
            return 0;
        }
    }
    w->next_idle = NULL;
    j->worker = w;
    j->started = 1;
    pthread_mutex_lock(&w->mu);
    w->job = j;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return 1;
}

static void check_interrupt(void *data) {
    (void)data;
    R_CheckUserInterrupt();
}

/* Waits for the job to end (EVENT_DONE, its worker idle again) or, with `want_progress`, for a new
 * progress snapshot (EVENT_PROGRESS). A snapshot not yet seen comes before the end, so that the
 * poll a wait ended on still reaches R. Checks for a user interrupt every 50 ms without leaving
 * this frame: an interrupt cancels the job, which is then waited for (j->interrupted is set). */
static int job_next_event(job *j, int want_progress) {
    for (;;) {
        int event = 0;
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_nsec += 50 * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec += 1;
            deadline.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&j->mu);
        for (;;) {
            if (want_progress && !j->interrupted && j->progress_seq != j->progress_seen) {
                event = EVENT_PROGRESS;
                break;
            }
            if (j->done) {
                event = EVENT_DONE;
                break;
            }
            if (pthread_cond_timedwait(&j->cv, &j->mu, &deadline) == ETIMEDOUT) break;
        }
        pthread_mutex_unlock(&j->mu);
        if (event == EVENT_DONE) {
            job_join(j);
            return EVENT_DONE;
        }
        if (event == EVENT_PROGRESS) return EVENT_PROGRESS;
        if (!j->interrupted && !R_ToplevelExec(check_interrupt, NULL)) {
            j->interrupted = 1;
            storetasks_cancel_trigger(j->cancel);
        }
    }
}

/* -- R values -------------------------------------------------------------------------------- */

static SEXP sym_tzone;
static SEXP item_names;   /* the seven members, in paws's order */
static SEXP result_names; /* StoreImageTaskResults, NextToken */
static SEXP posixct_class;
static SEXP gmt;

static SEXP str1(const char *s) {
    if (s == NULL) return Rf_allocVector(STRSXP, 0);
    return Rf_ScalarString(Rf_mkCharCE(s, CE_UTF8));
}

static SEXP time_value(const storetasks_task *t, int keep_ms) {
    if (!t->has_task_start_time) {
        SEXP v = PROTECT(Rf_allocVector(REALSXP, 0));
        Rf_setAttrib(v, R_ClassSymbol, posixct_class);
        UNPROTECT(1);
        return v;
    }
    int64_t ms = t->task_start_time_ms;
    double secs;
    if (keep_ms) {
        secs = (double)ms / 1000.0;
    } else {
        /* paws parses "%Y-%m-%dT%H:%M:%S": the milliseconds are dropped (floor, before 1970 too) */
        int64_t s = ms / 1000;
        if (ms % 1000 < 0) s -= 1;
        secs = (double)s;
    }
    SEXP v = PROTECT(Rf_ScalarReal(secs));
    Rf_setAttrib(v, R_ClassSymbol, posixct_class);
    Rf_setAttrib(v, sym_tzone, gmt);
    UNPROTECT(1);
    return v;
}

static SEXP task_value(const storetasks_task *t, int keep_ms) {
    SEXP item = PROTECT(Rf_allocVector(VECSXP, 7));
    SET_VECTOR_ELT(item, 0, str1(t->ami_id));
    SET_VECTOR_ELT(item, 1, time_value(t, keep_ms));
    SET_VECTOR_ELT(item, 2, str1(t->bucket));
    SET_VECTOR_ELT(item, 3, str1(t->s3_object_key));
    SET_VECTOR_ELT(item, 4, t->has_progress_percentage ? Rf_ScalarReal((double)t->progress_percentage)
                                                       : Rf_allocVector(REALSXP, 0));
    SET_VECTOR_ELT(item, 5, str1(t->state_raw));
    SET_VECTOR_ELT(item, 6, str1(t->failure_reason));
    Rf_setAttrib(item, R_NamesSymbol, item_names);
    UNPROTECT(1);
    return item;
}

static SEXP tasks_value(const storetasks_task *tasks, size_t n, int keep_ms) {
    if (n > (size_t)R_XLEN_T_MAX) Rf_error("too many tasks");
    SEXP out = PROTECT(Rf_allocVector(VECSXP, (R_xlen_t)n));
    for (size_t i = 0; i < n; i++) SET_VECTOR_ELT(out, (R_xlen_t)i, task_value(&tasks[i], keep_ms));
    UNPROTECT(1);
    return out;
}

static SEXP response_value(const storetasks_task_list *list, int keep_ms) {
    SEXP out = PROTECT(Rf_allocVector(VECSXP, 2));
    SET_VECTOR_ELT(out, 0, tasks_value(storetasks_task_list_tasks(list), storetasks_task_list_len(list), keep_ms));
    SET_VECTOR_ELT(out, 1, str1(storetasks_task_list_next_token(list)));
    Rf_setAttrib(out, R_NamesSymbol, result_names);
    UNPROTECT(1);
    return out;
}

/* list(kind = kind, ...) built from names and values (values protected by the caller). */
static SEXP named_list(int n, const char **names, SEXP *values) {
    SEXP out = PROTECT(Rf_allocVector(VECSXP, n));
    SEXP nm = PROTECT(Rf_allocVector(STRSXP, n));
    for (int i = 0; i < n; i++) {
        SET_VECTOR_ELT(out, i, values[i]);
        SET_STRING_ELT(nm, i, Rf_mkChar(names[i]));
    }
    Rf_setAttrib(out, R_NamesSymbol, nm);
    UNPROTECT(2);
    return out;
}

static SEXP kind_only(const char *kind) {
    const char *names[] = {"kind"};
    SEXP v = PROTECT(Rf_mkString(kind));
    SEXP out = named_list(1, names, &v);
    UNPROTECT(1);
    return out;
}

/* The error of a failed call as list(kind = "error", status, status_name, message, code,
 * http_status, request_id, ami_id, failure_reason); `err` may be NULL. */
static SEXP error_value(storetasks_status status, const storetasks_error *err, const char *fallback) {
    const char *names[] = {"kind", "status", "status_name", "message", "code", "http_status", "request_id",
                           "ami_id", "failure_reason"};
    SEXP v[9];
    int st = err != NULL ? (int)storetasks_error_status(err) : (int)status;
    const char *message = err != NULL ? storetasks_error_message(err) : NULL;
    if (message == NULL) message = fallback != NULL ? fallback : storetasks_status_name(st);
    v[0] = PROTECT(Rf_mkString("error"));
    v[1] = PROTECT(Rf_ScalarInteger(st));
    v[2] = PROTECT(Rf_mkString(storetasks_status_name(st)));
    v[3] = PROTECT(str1(message));
    v[4] = PROTECT(str1(err != NULL ? storetasks_error_code(err) : NULL));
    v[5] = PROTECT(Rf_ScalarInteger(err != NULL ? (int)storetasks_error_http_status(err) : 0));
    v[6] = PROTECT(str1(err != NULL ? storetasks_error_request_id(err) : NULL));
    v[7] = PROTECT(str1(err != NULL ? storetasks_error_ami_id(err) : NULL));
    v[8] = PROTECT(str1(err != NULL ? storetasks_error_failure_reason(err) : NULL));
    SEXP out = named_list(9, names, v);
    UNPROTECT(9);
    return out;
}

/* -- argument helpers ------------------------------------------------------------------------ */

/* NULL, or the element as UTF-8 (R errors for NA: nothing of the library is held yet). */
static const char *opt_string(SEXP x, const char *what) {
    if (Rf_isNull(x)) return NULL;
    if (TYPEOF(x) != STRSXP || XLENGTH(x) != 1 || STRING_ELT(x, 0) == NA_STRING)
        Rf_error("%s must be one string", what);
    return Rf_translateCharUTF8(STRING_ELT(x, 0));
}

static double opt_number(SEXP x, const char *what) {
    if (Rf_isNull(x)) return -1;
    if (!Rf_isNumeric(x) || XLENGTH(x) != 1) Rf_error("%s must be one number", what);
    double d = Rf_asReal(x);
    if (ISNAN(d) || d < 0) Rf_error("%s must be a number >= 0", what);
    return d;
}

/* Seconds (>= 0: opt_number) as whole milliseconds, rounded. The R code passes only seconds up to
 * max_seconds (R/client.R); anything larger, Inf included, would make the cast undefined
 * behaviour, so it is an R error here as well. */
static uint64_t seconds_to_ms(double seconds, const char *what) {
    double ms = seconds * 1000.0 + 0.5;
    if (!(ms < 18446744073709551616.0)) /* 2^64 */
        Rf_error("%s must be a number of seconds whose milliseconds fit in 64 bits", what);
    return (uint64_t)ms;
}

/* A whole number (>= 0: opt_number) as a size_t; an R error for what a size_t cannot hold
 * (Inf, 1e300: undefined behaviour in a cast), which the R code never passes. */
static size_t whole_to_size(double d, const char *what) {
    /* SIZE_MAX + 1 as a double: 2^64 (or 2^32), exact, while SIZE_MAX itself may not be. */
    if (!(d < (double)SIZE_MAX + 1.0) || d != floor(d)) Rf_error("%s must be a whole number that fits in a size_t", what);
    return (size_t)d;
}

static const char *setter_error(storetasks_status st, const char *reason) {
    return reason != NULL ? reason : storetasks_status_name(st);
}

/* -- the client ------------------------------------------------------------------------------ */

static void client_finalizer(SEXP ptr) {
    client_box *box = R_ExternalPtrAddr(ptr);
    R_ClearExternalPtr(ptr);
    if (box == NULL) return;
    box->closed = 1;
    for (job *j = box->jobs; j != NULL; j = j->next) {
        j->cancelled_by_close = 1;
        storetasks_cancel_trigger(j->cancel);
    }
    box_release_if_unused(box);
}

/* Holds a configuration while it is filled, so that an R error frees it. */
static void config_finalizer(SEXP ptr) {
    storetasks_config_free(R_ExternalPtrAddr(ptr));
    R_ClearExternalPtr(ptr);
}

#define CONFIG_CHECK(call)                                                                         \
    do {                                                                                           \
        storetasks_status st_ = (call);                                                            \
        if (st_ != STORETASKS_STATUS_OK) {                                                         \
            SEXP e_ = error_value(st_, NULL, setter_error(st_, storetasks_config_last_error(cfg))); \
            UNPROTECT(1);                                                                          \
            return e_;                                                                             \
        }                                                                                          \
    } while (0)

/* st_client_new(region, endpoint, profile, access_key_id, secret_access_key, session_token,
 * connect_timeout_s, timeout_s, max_attempts, max_concurrency, app_name, proxy, no_proxy, sts_endpoint,
 * ca_bundle): the client's external pointer, or an error list. NULL arguments keep the library's
 * defaults (for proxy and no_proxy: the environment's; "" is a value). */
static SEXP st_client_new(SEXP region, SEXP endpoint, SEXP profile, SEXP akid, SEXP secret, SEXP token,
                          SEXP connect_timeout, SEXP timeout, SEXP max_attempts, SEXP max_concurrency,
                          SEXP app_name, SEXP proxy, SEXP no_proxy, SEXP sts_endpoint, SEXP ca_bundle) {
    const char *r = opt_string(region, "region");
    const char *e = opt_string(endpoint, "endpoint");
    const char *sts = opt_string(sts_endpoint, "sts_endpoint");
    const char *p = opt_string(profile, "profile");
    const char *a = opt_string(akid, "access_key_id");
    const char *s = opt_string(secret, "secret_access_key");
    const char *t = opt_string(token, "session_token");
    const char *app = opt_string(app_name, "app_name");
    const char *px = opt_string(proxy, "proxy");
    const char *npx = opt_string(no_proxy, "no_proxy");
    const char *ca = opt_string(ca_bundle, "ca_bundle");
    double connect_s = opt_number(connect_timeout, "connect_timeout");
    double attempt_s = opt_number(timeout, "timeout");
    double attempts = opt_number(max_attempts, "max_attempts");
    double concurrency = opt_number(max_concurrency, "max_concurrency");

    storetasks_config *cfg = storetasks_config_new();
    if (cfg == NULL) Rf_error("out of memory");
    SEXP holder = PROTECT(R_MakeExternalPtr(cfg, R_NilValue, R_NilValue));
    R_RegisterCFinalizerEx(holder, config_finalizer, TRUE);
    if (r != NULL) CONFIG_CHECK(storetasks_config_set_region(cfg, r));
    if (e != NULL) CONFIG_CHECK(storetasks_config_set_endpoint_url(cfg, e));
    if (sts != NULL) CONFIG_CHECK(storetasks_config_set_sts_endpoint_url(cfg, sts));
    if (p != NULL) CONFIG_CHECK(storetasks_config_set_profile(cfg, p));
    if (a != NULL || s != NULL) CONFIG_CHECK(storetasks_config_set_credentials(cfg, a, s, t));
    if (app != NULL) CONFIG_CHECK(storetasks_config_set_app_name(cfg, app));
    if (px != NULL || npx != NULL) CONFIG_CHECK(storetasks_config_set_proxy(cfg, px, npx));
    if (ca != NULL) CONFIG_CHECK(storetasks_config_set_ca_bundle(cfg, ca));
    if (connect_s > 0 || attempt_s > 0) {
        uint64_t connect_ms = connect_s > 0 ? seconds_to_ms(connect_s, "connect_timeout") : 0;
        uint64_t attempt_ms = attempt_s > 0 ? seconds_to_ms(attempt_s, "timeout") : 0;
        if (connect_s > 0 && connect_ms == 0) connect_ms = 1;
        if (attempt_s > 0 && attempt_ms == 0) attempt_ms = 1;
        CONFIG_CHECK(storetasks_config_set_timeouts(cfg, connect_ms, attempt_ms, 0));
    }
    if (attempts >= 0) {
        if (attempts < 1 || attempts > 4294967295.0) {
            SEXP e_ = error_value(STORETASKS_STATUS_INVALID_ARGUMENT, NULL, "max_retries must be between 0 and 2^32 - 2");
            UNPROTECT(1);
            return e_;
        }
        CONFIG_CHECK(storetasks_config_set_retry(cfg, STORETASKS_RETRY_MODE_DEFAULT, (uint32_t)attempts));
    }
    if (concurrency >= 0)
        CONFIG_CHECK(storetasks_config_set_max_concurrency(cfg, whole_to_size(concurrency, "max_concurrency")));

    storetasks_client *client = NULL;
    storetasks_error *err = NULL;
    storetasks_status st = storetasks_client_new(cfg, &client, &err);
    storetasks_config_free(cfg);
    R_ClearExternalPtr(holder);
    if (st != STORETASKS_STATUS_OK) {
        /* Hold the error in case building its R value fails. */
        SEXP e_ = error_value(st, err, NULL);
        storetasks_error_free(err);
        UNPROTECT(1);
        return e_;
    }
    client_box *box = calloc(1, sizeof(client_box));
    if (box == NULL) {
        storetasks_client_free(client);
        Rf_error("out of memory");
    }
    box->client = client;
    SEXP ptr = PROTECT(R_MakeExternalPtr(box, client_tag, R_NilValue));
    R_RegisterCFinalizerEx(ptr, client_finalizer, TRUE);
    UNPROTECT(2);
    return ptr;
}

/* Closes the client: cancels its running jobs; the native client is freed now, or when the last
 * job using it ends. Safe to repeat. */
static SEXP st_client_close(SEXP ptr) {
    client_get(ptr);
    client_finalizer(ptr);
    return R_NilValue;
}

static SEXP st_client_is_open(SEXP ptr) {
    return Rf_ScalarLogical(client_get(ptr) != NULL);
}

/* Gets the client, or returns an error list (as the library would) when it was closed. */
static client_box *open_client(SEXP ptr) {
    client_box *box = client_get(ptr);
    if (box == NULL || box->closed) return NULL;
    return box;
}

static SEXP closed_error(void) {
    return error_value(STORETASKS_STATUS_INVALID_ARGUMENT, NULL, "the client is closed");
}

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

/* Returns the error list `e` of a job that could not start, after freeing the job (whose
 * pointer `jptr` is the caller's last protected value). */
static SEXP job_refused(SEXP jptr, SEXP e) {
    PROTECT(e);
    job_finalizer(jptr);
    UNPROTECT(2);
    return e;
}

/* st_describe(client, image_ids (character), filter_names (character), filter_values (list of
 * character), next_token, max_results (integer or NULL), dry_run (logical), keep_ms (logical)):
 * list(kind = "ok", response, request_id), an error list, or list(kind = "interrupted"). */
static SEXP st_describe(SEXP client, SEXP image_ids, SEXP filter_names, SEXP filter_values, SEXP next_token,
                        SEXP max_results, SEXP dry_run, SEXP keep_ms) {
    client_box *box = open_client(client);
    if (box == NULL) return closed_error();
    int keep = Rf_asLogical(keep_ms) == TRUE;
    job *j;
    SEXP jptr = job_new(box, JOB_DESCRIBE, &j);
    SEXP refused = fill_query(j, image_ids, filter_names, filter_values, next_token, max_results, dry_run);
    if (refused != NULL) return job_refused(jptr, refused);

    if (!job_start(j)) Rf_error("could not start a thread");
    job_next_event(j, 0);
    SEXP out;
    if (j->interrupted) {
        out = PROTECT(kind_only("interrupted"));
    } else if (j->status != STORETASKS_STATUS_OK) {
        if (j->cancelled_by_close && j->status == STORETASKS_STATUS_CANCELLED)
            out = PROTECT(error_value(j->status, NULL, "the call was cancelled: the client was closed"));
        else
            out = PROTECT(error_value(j->status, j->err, NULL));
    } else {
        const char *names[] = {"kind", "response", "request_id", "truncated"};
        SEXP v[4];
        v[0] = PROTECT(Rf_mkString("ok"));
        v[1] = PROTECT(response_value(j->list, keep));
        v[2] = PROTECT(str1(storetasks_task_list_request_id(j->list)));
        v[3] = PROTECT(Rf_ScalarLogical(storetasks_task_list_truncated(j->list)));
        out = named_list(4, names, v);
        UNPROTECT(4);
        PROTECT(out);
    }
    job_finalizer(jptr);
    UNPROTECT(2);
    return out;
}

/* -- fleet ----------------------------------------------------------------------------------- */

/* A place's error (borrowed from its result): list(Status, Code, Message, HttpStatus, RequestId),
 * a detail the failure lacks being a zero-length value. */
static SEXP place_error_value(const storetasks_error *err) {
    const char *names[] = {"Status", "Code", "Message", "HttpStatus", "RequestId"};
    SEXP v[5];
    uint16_t http = storetasks_error_http_status(err);
    v[0] = PROTECT(Rf_mkString(storetasks_status_name(storetasks_error_status(err))));
    v[1] = PROTECT(str1(storetasks_error_code(err)));
    v[2] = PROTECT(str1(storetasks_error_message(err)));
    v[3] = PROTECT(http != 0 ? Rf_ScalarInteger(http) : Rf_allocVector(INTSXP, 0));
    v[4] = PROTECT(str1(storetasks_error_request_id(err)));
    SEXP out = named_list(5, names, v);
    UNPROTECT(5);
    return out;
}

/* list(Regions = list(list(Region, Account, RoleArn (with a role), StoreImageTaskResults, Error
 * (for a failed place)), ...)): the shape of storetasks_fleet_result_to_json, with paws's tasks. */
static SEXP fleet_value(const storetasks_fleet_result *r, int keep_ms) {
    size_t n = storetasks_fleet_result_len(r);
    if (n > (size_t)R_XLEN_T_MAX) Rf_error("too many places");
    SEXP places = PROTECT(Rf_allocVector(VECSXP, (R_xlen_t)n));
    for (size_t i = 0; i < n; i++) {
        const char *names[5];
        SEXP v[5];
        int k = 0;
        names[k] = "Region";
        v[k++] = PROTECT(str1(storetasks_fleet_result_region(r, i)));
        names[k] = "Account";
        v[k++] = PROTECT(str1(storetasks_fleet_result_account(r, i)));
        const char *role = storetasks_fleet_result_role_arn(r, i);
        if (role != NULL) {
            names[k] = "RoleArn";
            v[k++] = PROTECT(str1(role));
        }
        const storetasks_task_list *tasks = storetasks_fleet_result_tasks(r, i);
        names[k] = "StoreImageTaskResults";
        v[k++] = PROTECT(tasks_value(storetasks_task_list_tasks(tasks), storetasks_task_list_len(tasks), keep_ms));
        const storetasks_error *err = storetasks_fleet_result_error(r, i);
        if (err != NULL) {
            names[k] = "Error";
            v[k++] = PROTECT(place_error_value(err));
        }
        SET_VECTOR_ELT(places, (R_xlen_t)i, named_list(k, names, v));
        UNPROTECT(k);
    }
    const char *names[] = {"Regions"};
    SEXP out = named_list(1, names, &places);
    UNPROTECT(1);
    return out;
}

#define FLEET_CHECK(call)                                                                                  \
    do {                                                                                                   \
        storetasks_status st_ = (call);                                                                    \
        if (st_ != STORETASKS_STATUS_OK)                                                                   \
            return job_refused(jptr, error_value(st_, NULL, setter_error(st_, storetasks_fleet_last_error(j->fleet)))); \
    } while (0)

/* st_describe_fleet(client, regions (character), all_regions (logical), role_arns (character),
 * image_ids, filter_names, filter_values, max_results, dry_run, keep_ms): the query in every
 * (account, region) place at once. list(kind = "ok", response) (a failing place is in the
 * response, not an error), an error list for what ends the whole call, or
 * list(kind = "interrupted"). */
static SEXP st_describe_fleet(SEXP client, SEXP regions, SEXP all_regions, SEXP role_arns, SEXP image_ids,
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
    SEXP refused = fill_query(j, image_ids, filter_names, filter_values, R_NilValue, max_results, dry_run);
    if (refused != NULL) return job_refused(jptr, refused);

    if (!job_start(j)) Rf_error("could not start a thread");
    job_next_event(j, 0);
    SEXP out;
    if (j->interrupted) {
        out = PROTECT(kind_only("interrupted"));
    } else if (j->status != STORETASKS_STATUS_OK) {
        if (j->cancelled_by_close && j->status == STORETASKS_STATUS_CANCELLED)
            out = PROTECT(error_value(j->status, NULL, "the call was cancelled: the client was closed"));
        else
            out = PROTECT(error_value(j->status, j->err, NULL));
    } else {
        const char *names[] = {"kind", "response"};
        SEXP v[2];
        v[0] = PROTECT(Rf_mkString("ok"));
        v[1] = PROTECT(fleet_value(j->fleet_result, keep));
        out = named_list(2, names, v);
        UNPROTECT(2);
        PROTECT(out);
    }
    job_finalizer(jptr);
    UNPROTECT(2);
    return out;
}

/* -- wait ------------------------------------------------------------------------------------ */

static uint64_t ms_of(SEXP x, const char *what) {
    double d = opt_number(x, what);
    return d < 0 ? 0 : seconds_to_ms(d, what);
}

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

/* Sets the options of a wait job (its progress callback included) and hands it to a worker, for
 * st_wait_start and st_wait_targets_start: returns the job's external pointer `jptr` (the
 * caller's last protected value, unprotected here), or the error list of an option the library
 * refused (the job then freed). */
static SEXP wait_job_start(job *j, SEXP jptr, uint64_t delay_ms, uint64_t max_delay_ms, uint64_t timeout_ms,
                           SEXP grace) {
    j->options = storetasks_wait_options_new();
    if (j->options == NULL) Rf_error("out of memory");
    WAIT_CHECK(storetasks_wait_options_set_delays(j->options, delay_ms, max_delay_ms));
    WAIT_CHECK(storetasks_wait_options_set_timeout(j->options, timeout_ms));
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
static SEXP st_wait_start(SEXP client, SEXP image_ids, SEXP delay, SEXP max_delay, SEXP timeout, SEXP grace) {
    client_box *box = open_client(client);
    if (box == NULL) return closed_error();
    if (TYPEOF(image_ids) != STRSXP) Rf_error("ImageIds must be character");
    uint64_t delay_ms = ms_of(delay, "Delay");
    uint64_t max_delay_ms = ms_of(max_delay, "MaxDelay");
    uint64_t timeout_ms = ms_of(timeout, "Timeout");
    job *j;
    SEXP jptr = job_new(box, JOB_WAIT, &j);
    R_xlen_t n = XLENGTH(image_ids);
    j->ids = calloc((size_t)(n > 0 ? n : 1), sizeof(char *));
    if (j->ids == NULL) Rf_error("out of memory");
    for (R_xlen_t i = 0; i < n; i++) job_string(j, image_ids, i, 0, "ImageIds");
    return wait_job_start(j, jptr, delay_ms, max_delay_ms, timeout_ms, grace);
}

/* st_wait_targets_start(client, regions, role_arns, image_ids (character vectors of one length;
 * NA in regions and role_arns: the client's region, its own credentials), delay_s, max_delay_s,
 * timeout_s, grace_s or NULL): a wait across regions and accounts (storetasks_client_wait_targets).
 * The job's external pointer, or an error list. */
static SEXP st_wait_targets_start(SEXP client, SEXP regions, SEXP role_arns, SEXP image_ids, SEXP delay,
                                  SEXP max_delay, SEXP timeout, SEXP grace) {
    client_box *box = open_client(client);
    if (box == NULL) return closed_error();
    if (TYPEOF(regions) != STRSXP || TYPEOF(role_arns) != STRSXP || TYPEOF(image_ids) != STRSXP ||
        XLENGTH(regions) != XLENGTH(image_ids) || XLENGTH(role_arns) != XLENGTH(image_ids))
        Rf_error("bad arguments");
    uint64_t delay_ms = ms_of(delay, "Delay");
    uint64_t max_delay_ms = ms_of(max_delay, "MaxDelay");
    uint64_t timeout_ms = ms_of(timeout, "Timeout");
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
    return wait_job_start(j, jptr, delay_ms, max_delay_ms, timeout_ms, grace);
}

/* st_job_next(job, keep_ms): the next event of a wait: list(kind = "progress", tasks),
 * list(kind = "ok", response), an error list or list(kind = "interrupted"). After anything but
 * "progress" the job has ended and is freed. */
static SEXP st_job_next(SEXP jptr, SEXP keep_ms) {
    job *j = job_get(jptr);
    if (j == NULL) Rf_error("the wait has already ended");
    int keep = Rf_asLogical(keep_ms) == TRUE;
    int event = job_next_event(j, 1);
    SEXP out;
    if (event == EVENT_PROGRESS) {
        /* The snapshot moves to `consumed` (R's thread only): the job frees it if building the
         * R value fails. */
        snapshot_clear(&j->consumed);
        pthread_mutex_lock(&j->mu);
        j->consumed = j->progress;
        j->progress.tasks = NULL;
        j->progress.len = 0;
        j->progress_seen = j->progress_seq;
        pthread_mutex_unlock(&j->mu);
        const char *names[] = {"kind", "tasks"};
        SEXP v[2];
        v[0] = PROTECT(Rf_mkString("progress"));
        v[1] = PROTECT(tasks_value(j->consumed.tasks, j->consumed.len, keep));
        out = named_list(2, names, v);
        UNPROTECT(2);
        snapshot_clear(&j->consumed);
        return out;
    }
    if (j->interrupted) {
        out = PROTECT(kind_only("interrupted"));
    } else if (j->status != STORETASKS_STATUS_OK) {
        if (j->cancelled_by_close && j->status == STORETASKS_STATUS_CANCELLED)
            out = PROTECT(error_value(j->status, NULL, "the wait was cancelled: the client was closed"));
        else
            out = PROTECT(error_value(j->status, j->err, NULL));
    } else {
        const char *names[] = {"kind", "response"};
        SEXP v[2];
        v[0] = PROTECT(Rf_mkString("ok"));
        v[1] = PROTECT(response_value(j->list, keep));
        out = named_list(2, names, v);
        UNPROTECT(2);
        PROTECT(out);
    }
    job_finalizer(jptr);
    UNPROTECT(1);
    return out;
}

/* Ends a job early (on.exit of the R waiter): cancels it, waits for its thread, frees it. */
static SEXP st_job_finish(SEXP jptr) {
    job_get(jptr);
    job_finalizer(jptr);
    return R_NilValue;
}

static SEXP st_version(void) {
    return Rf_mkString(storetasks_version());
}

static SEXP st_status_name(SEXP status) {
    return Rf_mkString(storetasks_status_name(Rf_asInteger(status)));
}

/* -- registration ---------------------------------------------------------------------------- */

static const R_CallMethodDef call_methods[] = {
    {"st_client_new", (DL_FUNC)&st_client_new, 15},
    {"st_client_close", (DL_FUNC)&st_client_close, 1},
    {"st_client_is_open", (DL_FUNC)&st_client_is_open, 1},
    {"st_describe", (DL_FUNC)&st_describe, 8},
    {"st_describe_fleet", (DL_FUNC)&st_describe_fleet, 10},
    {"st_wait_start", (DL_FUNC)&st_wait_start, 6},
    {"st_wait_targets_start", (DL_FUNC)&st_wait_targets_start, 8},
    {"st_job_next", (DL_FUNC)&st_job_next, 2},
    {"st_job_finish", (DL_FUNC)&st_job_finish, 1},
    {"st_version", (DL_FUNC)&st_version, 0},
    {"st_status_name", (DL_FUNC)&st_status_name, 1},
    {NULL, NULL, 0}};

static SEXP preserve(SEXP x) {
    R_PreserveObject(x);
    MARK_NOT_MUTABLE(x);
    return x;
}

static SEXP strings(int n, const char **s) {
    SEXP out = PROTECT(Rf_allocVector(STRSXP, n));
    for (int i = 0; i < n; i++) SET_STRING_ELT(out, i, Rf_mkChar(s[i]));
    UNPROTECT(1);
    return preserve(out);
}

void attribute_visible R_init_storetasks(DllInfo *dll) {
    R_registerRoutines(dll, NULL, call_methods, NULL, NULL);
    R_useDynamicSymbols(dll, FALSE);
    R_forceSymbols(dll, TRUE);
    job_tag = Rf_install("storetasks_job");
    client_tag = Rf_install("storetasks_client");
    sym_tzone = Rf_install("tzone");
    const char *item[] = {"AmiId", "TaskStartTime", "Bucket", "S3objectKey", "ProgressPercentage", "StoreTaskState",
                          "StoreTaskFailureReason"};
    item_names = strings(7, item);
    const char *result[] = {"StoreImageTaskResults", "NextToken"};
    result_names = strings(2, result);
    const char *cls[] = {"POSIXct", "POSIXt"};
    posixct_class = strings(2, cls);
    const char *g[] = {"GMT"};
    gmt = strings(1, g);
}

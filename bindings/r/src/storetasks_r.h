/*
 * .Call glue between R and libstoretasks (storetasks.h): what the glue's files share.
 *
 *   init.c     the routines R may call, and the R constants made once when the package loads
 *   client.c   the client (ec2()): its configuration, close() and the finalizer
 *   jobs.c     the background job that runs a blocking call, user interrupts, the job's outcome
 *   convert.c  values between R and C: arguments in, tasks, responses and errors out
 *   calls.c    the calls: describe, the fleet call, the waits and their events
 *
 * Rules the glue keeps:
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
#ifndef STORETASKS_R_H
#define STORETASKS_R_H

#define R_NO_REMAP
#include <R.h>
#include <Rinternals.h>
#include <R_ext/Rdynload.h>
#include <R_ext/Visibility.h>

#include <pthread.h>
#include <stdint.h>

#include <storetasks.h>

/* -- the client and its threads (client.c, jobs.c) ------------------------------------------- */

struct job;

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

/* Owned by the client's external pointer and by each job running on it: freed when the client
 * was closed (close() or the finalizer) and no job holds it any more. Touched by R's thread only
 * (a job's thread reads `client`, which stays valid while the job holds the box). */
typedef struct client_box {
    storetasks_client *client;
    int holders; /* jobs holding it */
    int closed;
    struct job *jobs; /* running jobs, whose tokens close() triggers */
    worker *idle;     /* threads waiting for a job */
} client_box;

/* The client of an external pointer made by st_client_new (NULL once closed); an R error for
 * anything else. */
client_box *client_get(SEXP ptr) attribute_hidden;
/* The client, or NULL when it was closed (the caller returns closed_error() then). */
client_box *open_client(SEXP ptr) attribute_hidden;
/* The error list of a call on a closed client, as the library would give it. */
SEXP closed_error(void) attribute_hidden;

/* -- jobs (jobs.c) --------------------------------------------------------------------------- */

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
    worker *worker;  /* running it, until it is done */
    int started;     /* handed to a worker */
    int finished;    /* seen done by R's thread; the worker is idle again */
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

/* Frees the client, and stops its idle threads, once it is closed and no job holds it. */
void box_release_if_unused(client_box *box) attribute_hidden;
/* A new job on the client (held), owned by the returned external pointer, which is protected:
 * the caller unprotects it. */
SEXP job_new(client_box *box, int kind, job **out) attribute_hidden;
/* Hands the job to an idle worker of its client, or to a new one; false when no thread starts. */
int job_start(job *j) attribute_hidden;
/* The job of an external pointer made by job_new (NULL once it was freed). */
job *job_get(SEXP ptr) attribute_hidden;
/* Cancels the job of `ptr` if it runs, waits for its thread and frees it. Safe to repeat. */
void job_finalizer(SEXP ptr) attribute_hidden;
/* Waits for the job's next event: EVENT_DONE, or with `want_progress` EVENT_PROGRESS. */
int job_next_event(job *j, int want_progress) attribute_hidden;
/* The library's progress callback of a wait job (user_data: the job). */
bool job_progress(const storetasks_task_list *tasks, void *user_data) attribute_hidden;
/* Returns the error list `e` of a job that could not start, after freeing the job (whose
 * pointer `jptr` is the caller's last protected value). */
SEXP job_refused(SEXP jptr, SEXP e) attribute_hidden;

/* Builds list(kind = "ok", ...) from a job that succeeded. */
typedef SEXP (*job_ok_value)(job *j, int keep_ms);
/* What an ended job gives R, the job then freed: list(kind = "interrupted") after a user
 * interrupt, the error list of a failure (with `closed_message` when close() cancelled it), else
 * ok(j, keep_ms). `jptr` owns the job. */
SEXP job_outcome(SEXP jptr, const char *closed_message, job_ok_value ok, int keep_ms) attribute_hidden;

void snapshot_clear(snapshot *s) attribute_hidden;

/* -- values (convert.c) ---------------------------------------------------------------------- */

/* A copy (malloc) of a C string; NULL for NULL or when memory ran out. */
char *dup_or_null(const char *s) attribute_hidden;

/* NULL, or the element as UTF-8; an R error for anything but one string. */
const char *opt_string(SEXP x, const char *what) attribute_hidden;
/* -1 for NULL, else one number >= 0; an R error otherwise. */
double opt_number(SEXP x, const char *what) attribute_hidden;
/* Seconds (>= 0) as whole milliseconds, rounded; an R error when they do not fit in 64 bits. */
uint64_t seconds_to_ms(double seconds, const char *what) attribute_hidden;
/* opt_number() as milliseconds, 0 for NULL. */
uint64_t ms_of(SEXP x, const char *what) attribute_hidden;
/* A whole number >= 0 as a size_t; an R error for what a size_t cannot hold. */
size_t whole_to_size(double d, const char *what) attribute_hidden;
/* The message of a value a builder refused: the builder's reason, else the status name. */
const char *setter_error(storetasks_status st, const char *reason) attribute_hidden;

/* A string marked UTF-8, or character(0) for NULL. */
SEXP str1(const char *s) attribute_hidden;
/* The list of `n` names and values, a NULL value (and its name) left out; the values are
 * protected by the caller. */
SEXP named_list(int n, const char *const *names, const SEXP *values) attribute_hidden;
/* list(kind = kind), or list(kind = kind, <name> = value) (value protected by the caller). */
SEXP kind_list(const char *kind, const char *name, SEXP value) attribute_hidden;
/* The tasks as paws's task items. */
SEXP tasks_value(const storetasks_task *tasks, size_t n, int keep_ms) attribute_hidden;
/* list(StoreImageTaskResults, NextToken): paws's response. */
SEXP response_value(const storetasks_task_list *list, int keep_ms) attribute_hidden;
/* list(Places = list(<place>, ...), Regions = <the same list>): a fleet call's response (Regions,
 * a deprecated alias of Places, goes at 1.0). */
SEXP fleet_value(const storetasks_fleet_result *r, int keep_ms) attribute_hidden;
/* The error list of a failed call, list(kind = "error", status, ...); `err` may be NULL. */
SEXP error_value(storetasks_status status, const storetasks_error *err, const char *fallback) attribute_hidden;

/* -- R constants (init.c) -------------------------------------------------------------------- */

extern SEXP job_tag;       /* the tag of a job's external pointer */
extern SEXP client_tag;    /* the tag of a client's external pointer */
extern SEXP sym_tzone;     /* tzone */
extern SEXP posixct_class; /* c("POSIXct", "POSIXt") */
extern SEXP gmt;           /* "GMT" */

void R_init_storetasks(DllInfo *dll);

/* -- the .Call entry points (client.c, calls.c) ---------------------------------------------- */

SEXP st_client_new(SEXP region, SEXP endpoint, SEXP profile, SEXP akid, SEXP secret, SEXP token,
                   SEXP connect_timeout, SEXP timeout, SEXP max_attempts, SEXP max_concurrency, SEXP app_name,
                   SEXP proxy, SEXP no_proxy, SEXP sts_endpoint, SEXP ca_bundle) attribute_hidden;
SEXP st_client_close(SEXP ptr) attribute_hidden;
SEXP st_client_is_open(SEXP ptr) attribute_hidden;
SEXP st_describe(SEXP client, SEXP image_ids, SEXP filter_names, SEXP filter_values, SEXP next_token,
                 SEXP max_results, SEXP dry_run, SEXP keep_ms) attribute_hidden;
SEXP st_describe_fleet(SEXP client, SEXP regions, SEXP all_regions, SEXP role_arns, SEXP image_ids,
                       SEXP filter_names, SEXP filter_values, SEXP max_results, SEXP dry_run,
                       SEXP keep_ms) attribute_hidden;
SEXP st_wait_start(SEXP client, SEXP image_ids, SEXP delay, SEXP max_delay, SEXP timeout,
                   SEXP grace) attribute_hidden;
SEXP st_wait_targets_start(SEXP client, SEXP regions, SEXP role_arns, SEXP image_ids, SEXP delay,
                           SEXP max_delay, SEXP timeout, SEXP grace) attribute_hidden;
SEXP st_job_next(SEXP jptr, SEXP keep_ms) attribute_hidden;
SEXP st_job_finish(SEXP jptr) attribute_hidden;
SEXP st_version(void) attribute_hidden;
SEXP st_status_name(SEXP status) attribute_hidden;

#endif

/*
 * The background job: a blocking library call run by one of the client's worker threads while
 * R's thread waits for it, checking for user interrupts; progress snapshots; the job's outcome.
 */
#include "storetasks_r.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* -- the client's threads -------------------------------------------------------------------- */

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

void box_release_if_unused(client_box *box) {
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

/* -- progress snapshots ---------------------------------------------------------------------- */

void snapshot_clear(snapshot *s) {
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

/* The library's progress callback, on the job's thread: no R here. */
bool job_progress(const storetasks_task_list *tasks, void *user_data) {
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

/* -- the job's thread ------------------------------------------------------------------------ */

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

int job_start(job *j) {
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

/* -- the job's life on R's thread ------------------------------------------------------------ */

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

void job_finalizer(SEXP ptr) {
    job *j = R_ExternalPtrAddr(ptr);
    R_ClearExternalPtr(ptr);
    job_free(j);
}

job *job_get(SEXP ptr) {
    if (TYPEOF(ptr) != EXTPTRSXP || R_ExternalPtrTag(ptr) != job_tag) Rf_error("not a storetasks job");
    return R_ExternalPtrAddr(ptr);
}

SEXP job_new(client_box *box, int kind, job **out) {
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

SEXP job_refused(SEXP jptr, SEXP e) {
    PROTECT(e);
    job_finalizer(jptr);
    UNPROTECT(2);
    return e;
}

/* -- interrupts ------------------------------------------------------------------------------ */

static void check_interrupt(void *data) {
    (void)data;
    R_CheckUserInterrupt();
}

/* Waits for the job to end (EVENT_DONE, its worker idle again) or, with `want_progress`, for a new
 * progress snapshot (EVENT_PROGRESS). A snapshot not yet seen comes before the end, so that the
 * poll a wait ended on still reaches R. Checks for a user interrupt every 50 ms without leaving
 * this frame: an interrupt cancels the job, which is then waited for (j->interrupted is set). */
int job_next_event(job *j, int want_progress) {
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

/* -- the outcome ----------------------------------------------------------------------------- */

SEXP job_outcome(SEXP jptr, const char *closed_message, job_ok_value ok, int keep_ms) {
    job *j = R_ExternalPtrAddr(jptr);
    SEXP out;
    if (j->interrupted)
        out = kind_list("interrupted", NULL, NULL);
    else if (j->status == STORETASKS_STATUS_CANCELLED && j->cancelled_by_close)
        out = error_value(j->status, NULL, closed_message);
    else if (j->status != STORETASKS_STATUS_OK)
        out = error_value(j->status, j->err, NULL);
    else
        out = ok(j, keep_ms);
    PROTECT(out);
    job_finalizer(jptr);
    UNPROTECT(1);
    return out;
}

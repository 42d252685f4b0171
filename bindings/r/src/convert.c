/*
 * Values between R and C: the arguments R passes (strings, numbers, seconds), and the R values of
 * the library's answers (paws's tasks and responses, a fleet call's places, error lists), every
 * named list built by named_list().
 */
#include "storetasks_r.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* -- C strings ------------------------------------------------------------------------------- */

char *dup_or_null(const char *s) {
    if (s == NULL) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL) memcpy(d, s, n);
    return d;
}

/* -- arguments ------------------------------------------------------------------------------- */

/* R errors for NA and the like: nothing of the library is held yet. */
const char *opt_string(SEXP x, const char *what) {
    if (Rf_isNull(x)) return NULL;
    if (TYPEOF(x) != STRSXP || XLENGTH(x) != 1 || STRING_ELT(x, 0) == NA_STRING)
        Rf_error("%s must be one string", what);
    return Rf_translateCharUTF8(STRING_ELT(x, 0));
}

double opt_number(SEXP x, const char *what) {
    if (Rf_isNull(x)) return -1;
    if (!Rf_isNumeric(x) || XLENGTH(x) != 1) Rf_error("%s must be one number", what);
    double d = Rf_asReal(x);
    if (ISNAN(d) || d < 0) Rf_error("%s must be a number >= 0", what);
    return d;
}

/* The R code passes only seconds up to max_seconds (R/client.R); anything larger, Inf included,
 * would make the cast undefined behaviour, so it is an R error here as well. */
uint64_t seconds_to_ms(double seconds, const char *what) {
    double ms = seconds * 1000.0 + 0.5;
    if (!(ms < 18446744073709551616.0)) /* 2^64 */
        Rf_error("%s must be a number of seconds whose milliseconds fit in 64 bits", what);
    return (uint64_t)ms;
}

uint64_t ms_of(SEXP x, const char *what) {
    double d = opt_number(x, what);
    return d < 0 ? 0 : seconds_to_ms(d, what);
}

/* Inf or 1e300 would be undefined behaviour in the cast; the R code never passes them. */
size_t whole_to_size(double d, const char *what) {
    /* SIZE_MAX + 1 as a double: 2^64 (or 2^32), exact, while SIZE_MAX itself may not be. */
    if (!(d < (double)SIZE_MAX + 1.0) || d != floor(d)) Rf_error("%s must be a whole number that fits in a size_t", what);
    return (size_t)d;
}

const char *setter_error(storetasks_status st, const char *reason) {
    return reason != NULL ? reason : storetasks_status_name(st);
}

/* -- R values -------------------------------------------------------------------------------- */

SEXP str1(const char *s) {
    if (s == NULL) return Rf_allocVector(STRSXP, 0);
    return Rf_ScalarString(Rf_mkCharCE(s, CE_UTF8));
}

SEXP named_list(int n, const char *const *names, const SEXP *values) {
    int kept = 0;
    for (int i = 0; i < n; i++) kept += values[i] != NULL;
    SEXP out = PROTECT(Rf_allocVector(VECSXP, kept));
    SEXP nm = PROTECT(Rf_allocVector(STRSXP, kept));
    for (int i = 0, k = 0; i < n; i++) {
        if (values[i] == NULL) continue;
        SET_VECTOR_ELT(out, k, values[i]);
        SET_STRING_ELT(nm, k, Rf_mkChar(names[i]));
        k++;
    }
    Rf_setAttrib(out, R_NamesSymbol, nm);
    UNPROTECT(2);
    return out;
}

SEXP kind_list(const char *kind, const char *name, SEXP value) {
    const char *names[] = {"kind", name};
    SEXP v[2];
    v[0] = PROTECT(Rf_mkString(kind));
    v[1] = name != NULL ? value : NULL;
    SEXP out = named_list(2, names, v);
    UNPROTECT(1);
    return out;
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

/* A task item: the seven members, in paws's order. */
static SEXP task_value(const storetasks_task *t, int keep_ms) {
    static const char *const names[] = {"AmiId", "TaskStartTime", "Bucket", "S3objectKey", "ProgressPercentage",
                                        "StoreTaskState", "StoreTaskFailureReason"};
    SEXP v[7];
    v[0] = PROTECT(str1(t->ami_id));
    v[1] = PROTECT(time_value(t, keep_ms));
    v[2] = PROTECT(str1(t->bucket));
    v[3] = PROTECT(str1(t->s3_object_key));
    v[4] = PROTECT(t->has_progress_percentage ? Rf_ScalarReal((double)t->progress_percentage)
                                              : Rf_allocVector(REALSXP, 0));
    v[5] = PROTECT(str1(t->state_raw));
    v[6] = PROTECT(str1(t->failure_reason));
    SEXP out = named_list(7, names, v);
    UNPROTECT(7);
    return out;
}

SEXP tasks_value(const storetasks_task *tasks, size_t n, int keep_ms) {
    if (n > (size_t)R_XLEN_T_MAX) Rf_error("too many tasks");
    SEXP out = PROTECT(Rf_allocVector(VECSXP, (R_xlen_t)n));
    for (size_t i = 0; i < n; i++) SET_VECTOR_ELT(out, (R_xlen_t)i, task_value(&tasks[i], keep_ms));
    UNPROTECT(1);
    return out;
}

SEXP response_value(const storetasks_task_list *list, int keep_ms) {
    static const char *const names[] = {"StoreImageTaskResults", "NextToken"};
    SEXP v[2];
    v[0] = PROTECT(tasks_value(storetasks_task_list_tasks(list), storetasks_task_list_len(list), keep_ms));
    v[1] = PROTECT(str1(storetasks_task_list_next_token(list)));
    SEXP out = named_list(2, names, v);
    UNPROTECT(2);
    return out;
}

/* A place's error (borrowed from its result): list(Status, Code, Message, HttpStatus, RequestId),
 * a detail the failure lacks being a zero-length value. */
static SEXP place_error_value(const storetasks_error *err) {
    static const char *const names[] = {"Status", "Code", "Message", "HttpStatus", "RequestId"};
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

/* Place i of a fleet result: list(Region, Account, RoleArn (with a role), StoreImageTaskResults,
 * Error (for a failed place)). */
static SEXP place_value(const storetasks_fleet_result *r, size_t i, int keep_ms) {
    static const char *const names[] = {"Region", "Account", "RoleArn", "StoreImageTaskResults", "Error"};
    const char *role = storetasks_fleet_result_role_arn(r, i);
    const storetasks_task_list *tasks = storetasks_fleet_result_tasks(r, i);
    const storetasks_error *err = storetasks_fleet_result_error(r, i);
    SEXP v[5] = {NULL, NULL, NULL, NULL, NULL};
    int protected = 3;
    v[0] = PROTECT(str1(storetasks_fleet_result_region(r, i)));
    v[1] = PROTECT(str1(storetasks_fleet_result_account(r, i)));
    if (role != NULL) {
        v[2] = PROTECT(str1(role));
        protected++;
    }
    v[3] = PROTECT(tasks_value(storetasks_task_list_tasks(tasks), storetasks_task_list_len(tasks), keep_ms));
    if (err != NULL) {
        v[4] = PROTECT(place_error_value(err));
        protected++;
    }
    SEXP out = named_list(5, names, v);
    UNPROTECT(protected);
    return out;
}

/* The shape of storetasks_fleet_result_to_json, with paws's tasks: list(Places = <places>), and
 * Regions, the list's earlier name, kept until 1.0 as a deprecated alias holding the same list
 * object (R copies it only if one of the two is modified). */
SEXP fleet_value(const storetasks_fleet_result *r, int keep_ms) {
    static const char *const names[] = {"Places", "Regions"};
    size_t n = storetasks_fleet_result_len(r);
    if (n > (size_t)R_XLEN_T_MAX) Rf_error("too many places");
    SEXP places = PROTECT(Rf_allocVector(VECSXP, (R_xlen_t)n));
    for (size_t i = 0; i < n; i++) SET_VECTOR_ELT(places, (R_xlen_t)i, place_value(r, i, keep_ms));
    const SEXP v[2] = {places, places};
    SEXP out = named_list(2, names, v);
    UNPROTECT(1);
    return out;
}

/* list(kind = "error", status, status_name, message, code, http_status, request_id, ami_id,
 * failure_reason); the message is the error's, else `fallback`, else the status name. */
SEXP error_value(storetasks_status status, const storetasks_error *err, const char *fallback) {
    static const char *const names[] = {"kind", "status", "status_name", "message", "code", "http_status",
                                        "request_id", "ami_id", "failure_reason"};
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

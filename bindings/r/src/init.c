/*
 * The routines R may call (.Call, registered: R code names them as symbols), and the R constants
 * the glue makes once when the package loads.
 */
#include "storetasks_r.h"

SEXP job_tag;
SEXP client_tag;
SEXP sym_tzone;
SEXP posixct_class;
SEXP gmt;

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

/* A character vector kept for the session, never modified. */
static SEXP constant_strings(int n, const char *const *s) {
    SEXP out = PROTECT(Rf_allocVector(STRSXP, n));
    for (int i = 0; i < n; i++) SET_STRING_ELT(out, i, Rf_mkChar(s[i]));
    R_PreserveObject(out);
    MARK_NOT_MUTABLE(out);
    UNPROTECT(1);
    return out;
}

void attribute_visible R_init_storetasks(DllInfo *dll) {
    R_registerRoutines(dll, NULL, call_methods, NULL, NULL);
    R_useDynamicSymbols(dll, FALSE);
    R_forceSymbols(dll, TRUE);
    job_tag = Rf_install("storetasks_job");
    client_tag = Rf_install("storetasks_client");
    sym_tzone = Rf_install("tzone");
    static const char *const cls[] = {"POSIXct", "POSIXt"};
    posixct_class = constant_strings(2, cls);
    static const char *const g[] = {"GMT"};
    gmt = constant_strings(1, g);
}

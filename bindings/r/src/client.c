/*
 * The client behind ec2(): made from its settings, closed by close() or the finalizer.
 */
#include "storetasks_r.h"

#include <stdlib.h>

client_box *client_get(SEXP ptr) {
    if (TYPEOF(ptr) != EXTPTRSXP || R_ExternalPtrTag(ptr) != client_tag) Rf_error("not a storetasks client");
    return R_ExternalPtrAddr(ptr);
}

client_box *open_client(SEXP ptr) {
    client_box *box = client_get(ptr);
    if (box == NULL || box->closed) return NULL;
    return box;
}

SEXP closed_error(void) {
    return error_value(STORETASKS_STATUS_INVALID_ARGUMENT, NULL, "the client is closed");
}

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
SEXP st_client_new(SEXP region, SEXP endpoint, SEXP profile, SEXP akid, SEXP secret, SEXP token,
                   SEXP connect_timeout, SEXP timeout, SEXP max_attempts, SEXP max_concurrency, SEXP app_name,
                   SEXP proxy, SEXP no_proxy, SEXP sts_endpoint, SEXP ca_bundle) {
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
SEXP st_client_close(SEXP ptr) {
    client_get(ptr);
    client_finalizer(ptr);
    return R_NilValue;
}

SEXP st_client_is_open(SEXP ptr) {
    return Rf_ScalarLogical(client_get(ptr) != NULL);
}

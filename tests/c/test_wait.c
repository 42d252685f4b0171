/*
 * The waiter and the log callback through the header, against the emulator's moving clock.
 */
#include <pthread.h>
#include <time.h>

#include "storetasks.h"
#include "harness.h"

static emulator emu;

static storetasks_wait_options *fast_options(void) {
    storetasks_wait_options *o = storetasks_wait_options_new();
    CHECK_STATUS(storetasks_wait_options_set_delays(o, 100, 300), STORETASKS_STATUS_OK);
    CHECK_STATUS(storetasks_wait_options_set_timeout(o, 30000), STORETASKS_STATUS_OK);
    CHECK_STATUS(storetasks_wait_options_set_not_found_grace(o, 500), STORETASKS_STATUS_OK);
    return o;
}

typedef struct seen {
    int polls;
    int first, last;
} seen;

static bool on_progress(const storetasks_task_list *tasks, void *user) {
    seen *s = user;
    const storetasks_task *t = storetasks_task_list_get(tasks, 0);
    if (t && t->has_progress_percentage) {
        if (s->polls == 0) s->first = t->progress_percentage;
        s->last = t->progress_percentage;
    }
    s->polls++;
    return true;
}

typedef struct log_capture {
    pthread_mutex_t lock;
    int lines, secret_seen;
} log_capture;

static void on_log(int32_t level, const char *target, const char *message, void *user) {
    log_capture *c = user;
    (void)level;
    pthread_mutex_lock(&c->lock);
    c->lines++;
    if (strstr(message, EMU_SECRET_KEY) || strstr(target, EMU_SECRET_KEY)) c->secret_seen++;
    pthread_mutex_unlock(&c->lock);
}

static void test_completes(storetasks_client *client) {
    const char *ids[] = {"ami-00000000000000001"};
    storetasks_wait_options *o = fast_options();
    seen s = {0, -1, -1};
    storetasks_wait_options_set_progress(o, on_progress, &s);
    storetasks_task_list *final = NULL;
    storetasks_error *err = NULL;
    CHECK_STATUS(storetasks_client_wait(client, ids, 1, o, NULL, &final, &err), STORETASKS_STATUS_OK);
    CHECK(storetasks_task_list_len(final) == 1, "one final task");
    CHECK(storetasks_task_list_get(final, 0)->state == STORETASKS_TASK_STATE_COMPLETED, "completed");
    CHECK(s.polls >= 1 && s.first <= s.last && s.last == 100, "%d polls, %d%% -> %d%%", s.polls, s.first, s.last);
    storetasks_task_list_free(final);
    storetasks_error_free(err);
    storetasks_wait_options_free(o);
}

static void test_failed_and_not_found(storetasks_client *client) {
    const char *ids[] = {"ami-00000000000000002"};
    storetasks_wait_options *o = fast_options();
    storetasks_error *err = NULL;
    CHECK_STATUS(storetasks_client_wait(client, ids, 1, o, NULL, NULL, &err), STORETASKS_STATUS_TASK_FAILED);
    CHECK(err && strcmp(storetasks_error_ami_id(err), "ami-00000000000000002") == 0, "the failed AMI");
    CHECK(err && strstr(storetasks_error_failure_reason(err), "KMS"), "the reason");
    storetasks_error_free(err);
    err = NULL;
    const char *unknown[] = {"ami-0ffffffffffffffff"};
    CHECK_STATUS(storetasks_client_wait(client, unknown, 1, o, NULL, NULL, &err), STORETASKS_STATUS_NOT_FOUND);
    CHECK(err && strcmp(storetasks_error_ami_id(err), "ami-0ffffffffffffffff") == 0, "the missing AMI");
    storetasks_error_free(err);
    storetasks_wait_options_free(o);
}

static void test_timeout_and_bad_input(storetasks_client *client) {
    const char *ids[] = {"ami-00000000000000003"};
    storetasks_wait_options *o = fast_options();
    storetasks_wait_options_set_timeout(o, 600);
    storetasks_error *err = NULL;
    CHECK_STATUS(storetasks_client_wait(client, ids, 1, o, NULL, NULL, &err), STORETASKS_STATUS_WAIT_TIMEOUT);
    CHECK(err && strstr(storetasks_error_message(err), "ami-00000000000000003: InProgress"), "last state: %s",
          err ? storetasks_error_message(err) : "");
    storetasks_error_free(err);
    CHECK_STATUS(storetasks_client_wait(client, NULL, 1, o, NULL, NULL, NULL), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(storetasks_client_wait(client, ids, 0, o, NULL, NULL, NULL), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(storetasks_client_wait(NULL, ids, 1, o, NULL, NULL, NULL), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(storetasks_wait_options_set_delays(o, 0, 10), STORETASKS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(storetasks_wait_options_set_delays(NULL, 1, 10), STORETASKS_STATUS_INVALID_ARGUMENT);
    storetasks_wait_options_free(NULL);
    storetasks_wait_options_free(o);
}

static void test_cancel(storetasks_client *client) {
    const char *ids[] = {"ami-00000000000000003"};
    storetasks_wait_options *o = fast_options();
    storetasks_wait_options_set_delays(o, 5000, 10000);
    storetasks_cancel *cancel = storetasks_cancel_new();
    h_cancel_timer timer;
    h_cancel_later(&timer, cancel, 400);
    CHECK_STATUS(storetasks_client_wait(client, ids, 1, o, cancel, NULL, NULL), STORETASKS_STATUS_CANCELLED);
    double secs = h_cancel_join(&timer);
    CHECK(secs < 2.0, "cancelled after %.2f s", secs);
    storetasks_cancel_free(cancel);
    storetasks_wait_options_free(o);
}

int main(void) {
    const char *doc =
        "{\"StoreImageTaskResults\":["
        "{\"AmiId\":\"ami-00000000000000001\",\"TaskStartTime\":\"2026-11-20T11:59:50.000Z\",\"Bucket\":\"b\","
        "\"ProgressPercentage\":0,\"StoreTaskState\":\"InProgress\"},"
        "{\"AmiId\":\"ami-00000000000000002\",\"TaskStartTime\":\"2026-11-20T11:59:40.000Z\",\"Bucket\":\"b\","
        "\"ProgressPercentage\":18,\"StoreTaskState\":\"InProgress\",\"EmulatorFailAt\":20,"
        "\"StoreTaskFailureReason\":\"the KMS key is disabled\"},"
        "{\"AmiId\":\"ami-00000000000000003\",\"TaskStartTime\":\"2026-11-20T11:59:30.000Z\",\"Bucket\":\"b\","
        "\"ProgressPercentage\":0,\"StoreTaskState\":\"InProgress\",\"EmulatorFailAt\":100}]}";
    const char *args[] = {"--now", "2026-11-20T12:00:00Z", "--progress-rate", "2", NULL};
    emu_start(&emu, args);
    emu_add_tasks(&emu, doc);

    log_capture logs = {PTHREAD_MUTEX_INITIALIZER, 0, 0};
    CHECK_STATUS(storetasks_set_log_callback(on_log, STORETASKS_LOG_LEVEL_TRACE, &logs), STORETASKS_STATUS_OK);
    CHECK_STATUS(storetasks_set_log_callback(on_log, 42, &logs), STORETASKS_STATUS_INVALID_ARGUMENT);
    storetasks_client *client = emu_client(&emu);
    test_failed_and_not_found(client);
    test_timeout_and_bad_input(client);
    test_cancel(client);
    emu_http(&emu, "POST", "/_emulator/clock", "{\"advance_seconds\":40}", NULL, 0);
    test_completes(client);
    storetasks_client_free(client);
    CHECK_STATUS(storetasks_set_log_callback(NULL, 0, NULL), STORETASKS_STATUS_OK);
    CHECK(logs.lines > 0, "log lines arrived: %d", logs.lines);
    CHECK(logs.secret_seen == 0, "%d log lines held the secret key", logs.secret_seen);

    emu_stop(&emu);
    return h_finish();
}

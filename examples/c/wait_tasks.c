/*
 * wait_tasks: wait for AMI store-to-S3 tasks to finish, with a live progress bar per AMI.
 *
 *   wait_tasks [--region R] [--endpoint-url URL] [--profile P]
 *              [--min-delay MS] [--max-delay MS] [--timeout MS] [--grace MS] ami-... [ami-...]
 *
 * On a terminal it redraws one bar per AMI after each poll; otherwise it prints one line per AMI
 * per poll. Ctrl-C cancels the wait cleanly (on Windows also Ctrl-Break and closing the
 * console); a second Ctrl-C ends the program at once, with status 130. An AMI id is "ami-" and 8
 * or 17 lowercase hex digits. Exits 0 when every task completed (and for --help), 1 when one
 * failed or the wait ended otherwise, 2 for a bad command line (nothing is sent then), 130 when
 * cancelled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#endif

#include "args.h"
#include "console.h"
#include "storetasks.h"

#define BAR_WIDTH 30

static void usage(FILE *to) {
    fputs("usage: wait_tasks [--region R] [--endpoint-url URL] [--profile P] [--min-delay MS]\n"
          "                  [--max-delay MS] [--timeout MS] [--grace MS] ami-... [ami-...]\n",
          to);
}

typedef struct progress_view {
    const char *const *ids;
    size_t count;
    int tty;
    int drawn; /* lines drawn last time, to move the cursor back over them */
} progress_view;

static const storetasks_task *find(const storetasks_task_list *tasks, const char *id) {
    for (size_t i = 0; i < storetasks_task_list_len(tasks); i++) {
        const storetasks_task *t = storetasks_task_list_get(tasks, i);
        if (t->ami_id && strcmp(t->ami_id, id) == 0) return t;
    }
    return NULL;
}

static bool on_progress(const storetasks_task_list *tasks, void *user_data) {
    progress_view *view = user_data;
    if (view->tty && view->drawn > 0) printf("\033[%dA", view->drawn);
    for (size_t i = 0; i < view->count; i++) {
        const storetasks_task *t = find(tasks, view->ids[i]);
        int pct = t && t->has_progress_percentage ? t->progress_percentage : 0;
        const char *state = t ? (t->state_raw ? t->state_raw : "?") : "waiting for a task";
        if (pct < 0) pct = 0;
        if (pct > 100) pct = 100;
        if (view->tty) {
            char bar[BAR_WIDTH + 1];
            int filled = pct * BAR_WIDTH / 100;
            for (int b = 0; b < BAR_WIDTH; b++) bar[b] = b < filled ? '#' : '.';
            bar[BAR_WIDTH] = '\0';
            printf("\033[2K%-21s [%s] %3d%%  %s\n", view->ids[i], bar, pct, state);
        } else {
            printf("%s %d%% %s\n", view->ids[i], pct, state);
        }
    }
    view->drawn = (int)view->count;
    fflush(stdout);
    return true;
}

/* The token Ctrl-C triggers, published before any interrupt is watched for and cleared (under the
 * lock) before the token is freed, so that an interrupt never reaches a freed token. The first
 * interrupt triggers it; a second one, or one that comes once the token is gone, ends the program
 * at once. */
static storetasks_cancel *interrupt_cancel;

#ifdef _WIN32
/* Ctrl-C, Ctrl-Break and closing the console window: Windows runs this handler on a thread of
 * its own (a new one for each event), where calling into the library is allowed. */
static CRITICAL_SECTION interrupt_lock;
static volatile LONG interrupts;

static BOOL WINAPI on_console_event(DWORD kind) {
    if (kind != CTRL_C_EVENT && kind != CTRL_BREAK_EVENT && kind != CTRL_CLOSE_EVENT) return FALSE;
    /* TerminateProcess rather than ExitProcess: the other threads may hold locks (stdout's) that
     * ExitProcess would wait for. */
    if (InterlockedIncrement(&interrupts) > 1) TerminateProcess(GetCurrentProcess(), 130);
    EnterCriticalSection(&interrupt_lock);
    storetasks_cancel *cancel = interrupt_cancel;
    if (cancel) storetasks_cancel_trigger(cancel);
    LeaveCriticalSection(&interrupt_lock);
    if (!cancel) TerminateProcess(GetCurrentProcess(), 130);
    return TRUE;
}

static void watch_for_interrupts(storetasks_cancel *cancel) {
    InitializeCriticalSection(&interrupt_lock);
    interrupt_cancel = cancel;
    SetConsoleCtrlHandler(on_console_event, TRUE);
}

/* After this, Ctrl-C ends the program as it does by default, and the token may be freed. */
static void stop_watching(void) {
    SetConsoleCtrlHandler(on_console_event, FALSE);
    EnterCriticalSection(&interrupt_lock);
    interrupt_cancel = NULL;
    LeaveCriticalSection(&interrupt_lock);
}
#else
/* Ctrl-C: a thread waits for SIGINT/SIGTERM and triggers the cancellation token (a signal
 * handler itself may not call into the library). The signals stay blocked in every thread, so
 * the thread also takes the second one, which ends the program with status 128 + its number
 * (130 for SIGINT), as the default action would be reported by a shell. */
static pthread_mutex_t interrupt_lock = PTHREAD_MUTEX_INITIALIZER;

static void *cancel_on_signal(void *arg) {
    (void)arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    for (int seen = 0;; seen++) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) return NULL;
        pthread_mutex_lock(&interrupt_lock);
        storetasks_cancel *cancel = interrupt_cancel;
        if (cancel && seen == 0) storetasks_cancel_trigger(cancel);
        pthread_mutex_unlock(&interrupt_lock);
        if (!cancel || seen > 0) _exit(128 + sig);
    }
}

static void watch_for_interrupts(storetasks_cancel *cancel) {
    pthread_mutex_lock(&interrupt_lock);
    interrupt_cancel = cancel;
    pthread_mutex_unlock(&interrupt_lock);
    pthread_t watcher;
    if (pthread_create(&watcher, NULL, cancel_on_signal, NULL) == 0) {
        pthread_detach(watcher);
    } else {
        /* No watcher: let the signals act as they do by default. */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    }
}

/* After this, an interrupt ends the program at once, and the token may be freed. */
static void stop_watching(void) {
    pthread_mutex_lock(&interrupt_lock);
    interrupt_cancel = NULL;
    pthread_mutex_unlock(&interrupt_lock);
}
#endif

static int number(const char *flag, const char *val, uint64_t *out) {
    char *end = NULL;
    unsigned long long n = strtoull(val, &end, 10);
    if (*val == '\0' || *end != '\0' || *val == '-') {
        fprintf(stderr, "error: %s takes milliseconds, not %s\n", flag, val);
        return -1;
    }
    *out = (uint64_t)n;
    return 0;
}

int main(int argc, char **argv) {
#ifndef _WIN32
    /* Block the signals before any thread starts, so only the watcher thread receives them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
#endif
    console_setup();
    console_utf8_args(&argc, &argv);

    storetasks_config *config = storetasks_config_new();
    storetasks_wait_options *options = storetasks_wait_options_new();
    storetasks_cancel *cancel = storetasks_cancel_new();
    const char **ids = calloc((size_t)argc, sizeof *ids);
    size_t count = 0;
    uint64_t min_delay = 0, max_delay = 0, timeout = 0, grace = 0;
    int have_timeout = 0, have_grace = 0, exit_code = 2;
    if (!config || !options || !cancel || !ids) goto done;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            usage(stdout);
            exit_code = 0;
            goto done;
        }
        if (arg[0] != '-') {
            if (!is_ami_id(arg)) {
                fprintf(stderr, "error: \"%s\" is not an AMI id (ami- and 8 or 17 lowercase hex digits)\n", arg);
                goto done;
            }
            ids[count++] = arg;
            continue;
        }
        static const char *const options_with_values[] = {"--region", "--endpoint-url", "--profile", "--min-delay",
                                                          "--max-delay", "--timeout", "--grace"};
        int known = 0;
        for (size_t o = 0; o < sizeof options_with_values / sizeof *options_with_values; o++)
            known |= !strcmp(arg, options_with_values[o]);
        if (!known) { fprintf(stderr, "error: unknown option %s\n", arg); usage(stderr); goto done; }
        if (i + 1 >= argc) { fprintf(stderr, "error: %s needs a value\n", arg); usage(stderr); goto done; }
        const char *val = argv[++i];
        int took = set_config_option(config, arg, val);
        if (took < 0) goto done;
        if (took) continue;
        if (!strcmp(arg, "--min-delay")) { if (number(arg, val, &min_delay)) goto done; }
        else if (!strcmp(arg, "--max-delay")) { if (number(arg, val, &max_delay)) goto done; }
        else if (!strcmp(arg, "--timeout")) { if (number(arg, val, &timeout)) goto done; have_timeout = 1; }
        else if (!strcmp(arg, "--grace")) { if (number(arg, val, &grace)) goto done; have_grace = 1; }
    }
    if (count == 0) {
        fprintf(stderr, "error: no AMI id to wait for\n");
        usage(stderr);
        goto done;
    }
    storetasks_status st = STORETASKS_STATUS_OK;
    const char *flag = NULL;
    if (min_delay || max_delay) {
        if (!min_delay) min_delay = max_delay < 5000 ? max_delay : 5000;
        if (!max_delay) max_delay = min_delay > 120000 ? min_delay : 120000;
        st = storetasks_wait_options_set_delays(options, min_delay, max_delay);
        flag = "--min-delay/--max-delay";
    }
    if (st == STORETASKS_STATUS_OK && have_timeout) {
        st = storetasks_wait_options_set_timeout(options, timeout);
        flag = "--timeout";
    }
    if (st == STORETASKS_STATUS_OK && have_grace) {
        st = storetasks_wait_options_set_not_found_grace(options, grace);
        flag = "--grace";
    }
    if (st != STORETASKS_STATUS_OK) {
        print_refused(flag, st, storetasks_wait_options_last_error(options));
        goto done;
    }
    progress_view view = {ids, count, console_is_live(), 0};
    storetasks_wait_options_set_progress(options, on_progress, &view);

    watch_for_interrupts(cancel);

    storetasks_client *client = NULL;
    storetasks_task_list *final = NULL;
    storetasks_error *err = NULL;
    st = storetasks_client_new(config, &client, &err);
    if (st == STORETASKS_STATUS_OK)
        st = storetasks_client_wait(client, ids, count, options, cancel, &final, &err);
    stop_watching();

    switch (st) {
    case STORETASKS_STATUS_OK:
        printf("All %zu store task%s completed.\n", count, count == 1 ? "" : "s");
        exit_code = 0;
        break;
    case STORETASKS_STATUS_TASK_FAILED:
        printf("Store task for %s failed: %s\n", storetasks_error_ami_id(err),
               storetasks_error_failure_reason(err) ? storetasks_error_failure_reason(err) : "no reason given");
        exit_code = 1;
        break;
    case STORETASKS_STATUS_CANCELLED:
        printf("Cancelled.\n");
        exit_code = 130;
        break;
    default:
        print_error(st, err);
        exit_code = 1;
    }
    storetasks_error_free(err);
    storetasks_task_list_free(final);
    storetasks_client_free(client);
done:
    free(ids);
    storetasks_cancel_free(cancel);
    storetasks_wait_options_free(options);
    storetasks_config_free(config);
    return exit_code;
}

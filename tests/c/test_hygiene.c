/*
 * Creating and freeing many clients leaves no threads, file descriptors or memory behind:
 * counted from /proc/self before and after the loop.
 */
#include <dirent.h>
#include <time.h>

#include "storetasks.h"
#include "harness.h"

static emulator emu;

static long proc_status(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long value = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0) value = atol(line + n);
    if (f) fclose(f);
    return value;
}

static int open_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    if (d) closedir(d);
    return n - 1; /* the directory stream itself */
}

static void one_client(int call) {
    storetasks_config *cfg = emu_config(&emu);
    storetasks_client *client = NULL;
    storetasks_status st = storetasks_client_new(cfg, &client, NULL);
    if (st != STORETASKS_STATUS_OK) CHECK_STATUS(st, STORETASKS_STATUS_OK);
    if (call) {
        storetasks_task_list *list = NULL;
        st = storetasks_client_describe(client, NULL, NULL, &list, NULL);
        size_t len = storetasks_task_list_len(list);
        /* Checked only when wrong, so that a thousand good calls do not flood the counts. */
        if (st != STORETASKS_STATUS_OK || len != 5)
            CHECK(st == STORETASKS_STATUS_OK && len == 5, "describe: %s with %zu tasks, want OK with 5",
                  storetasks_status_name(st), len);
        storetasks_task_list_free(list);
    }
    storetasks_client_free(client);
    storetasks_config_free(cfg);
}

int main(void) {
    int loops = getenv("STORETASKS_UNDER_VALGRIND") ? 50 : 1000;
    const char *args[] = {"--generate", "5", NULL};
    emu_start(&emu, args);
    /* Warm up: the first clients fill process-wide caches (TLS roots, endpoint tables). */
    for (int i = 0; i < 20; i++) one_client(1);
    long threads0 = proc_status("Threads:"), rss0 = proc_status("VmRSS:");
    int fds0 = open_fds();
    for (int i = 0; i < loops; i++) one_client(i % 2);
    long threads1 = proc_status("Threads:"), rss1 = proc_status("VmRSS:");
    /* A worker thread the library has already joined can still be counted for a moment while the
     * kernel finishes its exit (valgrind, which runs one thread at a time, widens that window to
     * where a loaded machine sees it). Give the count up to five seconds to settle: a thread that
     * was really left behind never leaves, so the check below still fails. */
    for (int i = 0; i < 50 && threads1 > threads0; i++) {
        struct timespec pause = {0, 100 * 1000 * 1000};
        nanosleep(&pause, NULL);
        threads1 = proc_status("Threads:");
    }
    int fds1 = open_fds();
    printf("hygiene: %d clients; threads %ld -> %ld; fds %d -> %d; rss %ld kB -> %ld kB\n", loops, threads0,
           threads1, fds0, fds1, rss0, rss1);
    CHECK(threads1 == threads0, "threads %ld -> %ld", threads0, threads1);
    CHECK(fds1 == fds0, "fds %d -> %d", fds0, fds1);
#if defined(__SANITIZE_ADDRESS__)
    /* ASan keeps freed memory in quarantine, so RSS says nothing here; LeakSanitizer checks. */
    int rss_meaningful = 0;
#else
    /* Under valgrind, its own leak check is the measure. */
    int rss_meaningful = getenv("STORETASKS_UNDER_VALGRIND") == NULL;
#endif
    if (rss_meaningful) CHECK(rss1 - rss0 < 4 * 1024, "rss grew by %ld kB", rss1 - rss0);
    emu_stop(&emu);
    return h_finish();
}

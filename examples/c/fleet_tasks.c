/*
 * fleet_tasks: list AMI store-to-S3 tasks in many regions, and in many accounts through IAM
 * roles, with one libstoretasks call.
 *
 *   fleet_tasks (--regions R1,R2,... | --all-regions) [--role-arn ARN]...
 *               [--filter Name=task-state,Values=InProgress,Failed]... [--json]
 *               [--region R] [--endpoint-url URL] [--profile P] [--ca-bundle PEM]
 *               [--proxy URL] [--no-proxy RULES]
 *
 * Every (account, region) place is listed at once. Without --role-arn the client's own
 * credentials list their own account; with roles, each role's account is listed with the role's
 * temporary credentials. --region is the client's own region (where --all-regions asks which
 * regions are enabled, and where roles are assumed).
 *
 * Without --json it prints one table of every task with its place, then a line per place with
 * its counts by state; a place that failed gets a line on stderr with its status, AWS error code,
 * message and request id. --json prints the result as JSON (each failed place with its "Error").
 * Exits 0 when every place answered (and for --help), 2 when some places failed, 1 when none
 * answered, the call failed, or the command line is bad (nothing is sent then).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "console.h"
#include "storetasks.h"


static void usage(FILE *to) {
    fputs("usage: fleet_tasks (--regions R1,R2,... | --all-regions) [--role-arn ARN]...\n"
          "                   [--filter Name=N,Values=V1,V2]... [--json]\n"
          "                   [--region R] [--endpoint-url URL] [--profile P] [--ca-bundle PEM]\n"
          "                   [--proxy URL] [--no-proxy RULES]\n",
          to);
}

/* Adds each region of "R1,R2,..." to the fleet. Returns 0, or -1 after saying on stderr which
 * name was refused and why. */
static int add_regions(storetasks_fleet *fleet, const char *list) {
    char *copy = strdup(list);
    if (!copy) {
        fprintf(stderr, "error: out of memory\n");
        return -1;
    }
    int rc = 0;
    char *start = copy;
    for (;;) {
        char *comma = strchr(start, ',');
        if (comma) *comma = '\0';
        if (*start == '\0') {
            fprintf(stderr, "error: --regions takes region names separated by commas, not \"%s\"\n", list);
            rc = -1;
            break;
        }
        storetasks_status st = storetasks_fleet_add_region(fleet, start);
        if (st != STORETASKS_STATUS_OK) {
            print_refused("--regions", st, storetasks_fleet_last_error(fleet));
            rc = -1;
            break;
        }
        if (!comma) break;
        start = comma + 1;
    }
    free(copy);
    return rc;
}

/* Prints a failed call's details on stderr and frees the error. Returns the exit code. */
static int report(storetasks_status status, storetasks_error *err) {
    print_error(status, err);
    storetasks_error_free(err);
    return 1;
}

/* A place's region for people: an account whose regions could not be listed has none. */
static const char *region_label(const char *region) {
    return region && *region ? region : "(region list)";
}

static void print_table(const storetasks_fleet_result *result, int accounts) {
    size_t places = storetasks_fleet_result_len(result), total = 0;
    if (accounts) printf("%-12s  ", "ACCOUNT");
    printf("%-14s  ", "REGION");
    print_task_heading();
    for (size_t p = 0; p < places; p++) {
        const storetasks_task_list *list = storetasks_fleet_result_tasks(result, p);
        const storetasks_task *tasks = storetasks_task_list_tasks(list);
        const char *account = storetasks_fleet_result_account(result, p);
        const char *region = region_label(storetasks_fleet_result_region(result, p));
        size_t n = storetasks_task_list_len(list);
        for (size_t i = 0; i < n; i++) {
            if (accounts) printf("%-12s  ", account ? account : "-");
            printf("%-14s  ", region);
            print_task_row(&tasks[i]);
        }
        total += n;
    }
    size_t failed = storetasks_fleet_result_failed(result);
    printf("%zu task%s in %zu place%s (%zu answered, %zu failed)\n", total, total == 1 ? "" : "s", places,
           places == 1 ? "" : "s", places - failed, failed);
}

/* One line per place: whether it answered, and its tasks by state (for a failed place, those
 * read before it failed; the details of the failure go to stderr). */
static void print_summary(const storetasks_fleet_result *result, int accounts) {
    size_t places = storetasks_fleet_result_len(result);
    printf("\n");
    for (size_t p = 0; p < places; p++) {
        const storetasks_task_list *list = storetasks_fleet_result_tasks(result, p);
        const storetasks_error *err = storetasks_fleet_result_error(result, p);
        const char *account = storetasks_fleet_result_account(result, p);
        size_t n = storetasks_task_list_len(list), by_state[4] = {0, 0, 0, 0};
        for (size_t i = 0; i < n; i++) {
            int state = (int)storetasks_task_list_get(list, i)->state;
            by_state[state >= 1 && state <= 3 ? state : 0]++;
        }
        if (accounts) printf("%-12s  ", account ? account : "-");
        printf("%-14s  %-8s  %zu task%s", region_label(storetasks_fleet_result_region(result, p)),
               err ? "FAILED" : "answered", n, n == 1 ? "" : "s");
        if (n > 0)
            printf(": %zu InProgress, %zu Completed, %zu Failed", by_state[STORETASKS_TASK_STATE_IN_PROGRESS],
                   by_state[STORETASKS_TASK_STATE_COMPLETED], by_state[STORETASKS_TASK_STATE_FAILED]);
        if (by_state[STORETASKS_TASK_STATE_UNKNOWN]) printf(", %zu other", by_state[STORETASKS_TASK_STATE_UNKNOWN]);
        if (err) printf(" (%s)", storetasks_status_name(storetasks_error_status(err)));
        printf("\n");
    }
}

/* A line on stderr for each failed place: where, status, AWS error code, message, request id. */
static void print_failures(const storetasks_fleet_result *result) {
    size_t places = storetasks_fleet_result_len(result);
    for (size_t p = 0; p < places; p++) {
        const storetasks_error *err = storetasks_fleet_result_error(result, p);
        if (!err) continue;
        const char *account = storetasks_fleet_result_account(result, p);
        const char *region = storetasks_fleet_result_region(result, p);
        const char *code = storetasks_error_code(err);
        const char *request_id = storetasks_error_request_id(err);
        if (region && *region) fprintf(stderr, "error: %s", region);
        else fputs("error: the region list", stderr);
        if (account) fprintf(stderr, " (account %s)", account);
        fprintf(stderr, ": %s", storetasks_status_name(storetasks_error_status(err)));
        if (code) fprintf(stderr, " (%s)", code);
        fprintf(stderr, ": %s", storetasks_error_message(err));
        if (request_id) fprintf(stderr, " [request id %s]", request_id);
        fputc('\n', stderr);
    }
}

int main(int argc, char **argv) {
    console_setup();
    console_utf8_args(&argc, &argv);
    storetasks_config *config = storetasks_config_new();
    storetasks_query *query = storetasks_query_new();
    storetasks_fleet *fleet = storetasks_fleet_new();
    int json = 0, regions = 0, all_regions = 0, roles = 0, exit_code = 1;
    if (!config || !query || !fleet) {
        fprintf(stderr, "error: out of memory\n");
        goto done;
    }
    static const char *const flags[] = {"--json", "--all-regions", NULL};
    command_line cl = {argc, argv, 1, usage, flags, config, NULL, NULL};
    const char *arg = NULL, *val = NULL;
    enum option_kind kind;
    while ((kind = next_option(&cl, &arg, &val)) == OPTION_OWN) {
        storetasks_status st = STORETASKS_STATUS_OK;
        const char *why = NULL;
        if (!strcmp(arg, "--json")) {
            json = 1;
        } else if (!strcmp(arg, "--all-regions")) {
            all_regions = 1;
        } else if (!strcmp(arg, "--regions")) {
            if (add_regions(fleet, val) != 0) goto done;
            regions = 1;
        } else if (!strcmp(arg, "--role-arn")) {
            st = storetasks_fleet_add_role_arn(fleet, val);
            if (st != STORETASKS_STATUS_OK) why = storetasks_fleet_last_error(fleet);
            roles = 1;
        } else if (!strcmp(arg, "--filter")) {
            if (add_filter(query, val, &st) != 0) goto done;
            if (st != STORETASKS_STATUS_OK) why = storetasks_query_last_error(query);
        } else {
            unknown_option(&cl, arg);
            goto done;
        }
        if (st != STORETASKS_STATUS_OK) {
            print_refused(arg, st, why);
            goto done;
        }
    }
    if (!command_line_read(kind, &exit_code)) goto done;
    if (regions == all_regions) {
        fprintf(stderr, regions ? "error: give either --regions or --all-regions, not both\n"
                                : "error: say where to look: --regions R1,R2,... or --all-regions\n");
        usage(stderr);
        goto done;
    }
    if (all_regions && storetasks_fleet_set_all_regions(fleet, true) != STORETASKS_STATUS_OK) {
        fprintf(stderr, "error: --all-regions: %s\n", storetasks_fleet_last_error(fleet));
        goto done;
    }

    storetasks_client *client = new_client(config, &exit_code);
    if (!client) goto done;
    storetasks_fleet_result *result = NULL;
    storetasks_error *err = NULL;
    storetasks_status st = storetasks_client_describe_fleet(client, fleet, query, NULL, &result, &err);
    if (st != STORETASKS_STATUS_OK) {
        exit_code = report(st, err);
    } else {
        size_t places = storetasks_fleet_result_len(result), failed = storetasks_fleet_result_failed(result);
        exit_code = failed == 0 ? 0 : (failed < places ? 2 : 1);
        if (json) {
            char *text = NULL;
            st = storetasks_fleet_result_to_json(result, &text, &err);
            if (st == STORETASKS_STATUS_OK) fputs(text, stdout);
            else exit_code = report(st, err);
            storetasks_string_free(text);
        } else {
            print_table(result, roles);
            print_summary(result, roles);
        }
        fflush(stdout);
        print_failures(result);
    }
    storetasks_fleet_result_free(result);
    storetasks_client_free(client);
done:
    storetasks_fleet_free(fleet);
    storetasks_query_free(query);
    storetasks_config_free(config);
    return exit_code;
}

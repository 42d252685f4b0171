/*
 * describe_tasks: list the progress of AMI store-to-S3 tasks with libstoretasks.
 *
 *   describe_tasks [--region R] [--endpoint-url URL] [--profile P] [--ca-bundle PEM]
 *                  [--proxy URL] [--no-proxy RULES]
 *                  [--image-id ami-...]... [--filter Name=task-state,Values=InProgress,Failed]...
 *                  [--max-results N] [--all] [--dry-run] [--json]
 *
 * Credentials come from the usual places (environment, shared files, SSO, instance role).
 * Without --json it prints a table; with --json --all it prints what
 * `aws ec2 describe-store-image-tasks --output json` prints. An image id is "ami-" and 8 or 17
 * lowercase hex digits. Exits 0 on success (and for --help), 1 when the call fails, 2 for a bad
 * command line (nothing is sent then).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "console.h"
#include "storetasks.h"


static void usage(FILE *to) {
    fputs("usage: describe_tasks [--region R] [--endpoint-url URL] [--profile P] [--ca-bundle PEM]\n"
          "                      [--proxy URL] [--no-proxy RULES]\n"
          "                      [--image-id ID]... [--filter Name=N,Values=V1,V2]...\n"
          "                      [--max-results N] [--all] [--dry-run] [--json]\n",
          to);
}

/* Prints a failed call's details on stderr and frees the error. Returns the exit code. */
static int report(storetasks_status status, storetasks_error *err) {
    if (status == STORETASKS_STATUS_DRY_RUN_OK) {
        printf("Dry run: the request would have succeeded.\n");
        storetasks_error_free(err);
        return 0;
    }
    print_error(status, err);
    storetasks_error_free(err);
    return 1;
}

static void print_table(const storetasks_task_list *list) {
    size_t n = storetasks_task_list_len(list);
    const storetasks_task *tasks = storetasks_task_list_tasks(list);
    print_task_heading();
    for (size_t i = 0; i < n; i++) print_task_row(&tasks[i]);
    printf("%zu task%s\n", n, n == 1 ? "" : "s");
}

int main(int argc, char **argv) {
    console_setup();
    console_utf8_args(&argc, &argv);
    storetasks_config *config = storetasks_config_new();
    storetasks_query *query = storetasks_query_new();
    int all = 0, json = 0, exit_code = 2;
    if (!config || !query) {
        fprintf(stderr, "error: out of memory\n");
        goto done;
    }
    static const char *const flags[] = {"--all", "--json", "--dry-run", NULL};
    command_line cl = {argc, argv, 1, usage, flags, config, NULL, NULL};
    const char *arg = NULL, *val = NULL;
    enum option_kind kind;
    while ((kind = next_option(&cl, &arg, &val)) == OPTION_OWN) {
        storetasks_status st = STORETASKS_STATUS_OK;
        if (!strcmp(arg, "--all")) all = 1;
        else if (!strcmp(arg, "--json")) json = 1;
        else if (!strcmp(arg, "--dry-run")) storetasks_query_set_dry_run(query, true);
        else if (!strcmp(arg, "--image-id")) {
            if (!is_ami_id(val)) {
                fprintf(stderr, "error: --image-id takes an AMI id (ami- and 8 or 17 lowercase hex digits), not \"%s\"\n",
                        val);
                goto done;
            }
            st = storetasks_query_add_image_id(query, val);
        } else if (!strcmp(arg, "--max-results")) {
            char *end = NULL;
            long n = strtol(val, &end, 10);
            if (*val == '\0' || *end != '\0' || n < -2147483647L || n > 2147483647L) {
                fprintf(stderr, "error: --max-results takes a number, not %s\n", val);
                goto done;
            }
            st = storetasks_query_set_max_results(query, (int32_t)n);
        } else if (!strcmp(arg, "--filter")) {
            if (add_filter(query, val, &st) != 0) goto done;
        } else {
            unknown_option(&cl, arg);
            goto done;
        }
        if (st != STORETASKS_STATUS_OK) {
            /* The query's reason for refusing the value. */
            print_refused(arg, st, storetasks_query_last_error(query));
            goto done;
        }
    }
    if (!command_line_read(kind, &exit_code)) goto done;

    storetasks_client *client = new_client(config, &exit_code);
    if (!client) goto done;
    storetasks_task_list *list = NULL;
    storetasks_error *err = NULL;
    storetasks_status st = all ? storetasks_client_describe_all(client, query, 0, NULL, &list, &err)
                                : storetasks_client_describe(client, query, NULL, &list, &err);
    if (st != STORETASKS_STATUS_OK) {
        exit_code = report(st, err);
    } else if (json) {
        char *text = NULL;
        st = storetasks_task_list_to_json(list, &text, &err);
        if (st == STORETASKS_STATUS_OK) {
            fputs(text, stdout);
            exit_code = 0;
        } else {
            exit_code = report(st, err);
        }
        storetasks_string_free(text);
    } else {
        print_table(list);
        const char *next = storetasks_task_list_next_token(list);
        if (next) printf("NextToken: %s\n", next);
        exit_code = 0;
    }
    storetasks_task_list_free(list);
    storetasks_client_free(client);
done:
    storetasks_query_free(query);
    storetasks_config_free(config);
    return exit_code;
}

/* A program built from an installed prefix: lists every task of an endpoint and checks them. */
#include <stdio.h>
#include <string.h>

#include <storetasks.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: consumer ENDPOINT EXPECTED_TASKS\n");
        return 2;
    }
    storetasks_config *cfg = storetasks_config_new();
    storetasks_config_set_region(cfg, "us-east-1");
    storetasks_config_set_endpoint_url(cfg, argv[1]);
    storetasks_config_set_credentials(cfg, "AKIASTORETASKSLOCAL1", "storetasks-local-secret-key-0000000000000", NULL);
    storetasks_client *client = NULL;
    storetasks_task_list *list = NULL;
    storetasks_error *err = NULL;
    storetasks_query *q = storetasks_query_new();
    storetasks_query_set_max_results(q, 25);
    storetasks_status st = storetasks_client_new(cfg, &client, &err);
    if (st == STORETASKS_STATUS_OK) st = storetasks_client_describe_all(client, q, 0, NULL, &list, &err);
    int rc = 1;
    if (st != STORETASKS_STATUS_OK) {
        fprintf(stderr, "%s: %s\n", storetasks_status_name(st), storetasks_error_message(err));
    } else {
        size_t want = 0;
        sscanf(argv[2], "%zu", &want);
        size_t n = storetasks_task_list_len(list);
        printf("consumer (libstoretasks %s): %zu tasks\n", storetasks_version(), n);
        rc = n == want ? 0 : 1;
    }
    storetasks_error_free(err);
    storetasks_task_list_free(list);
    storetasks_query_free(q);
    storetasks_client_free(client);
    storetasks_config_free(cfg);
    return rc;
}

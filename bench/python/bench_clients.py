"""Times a listing of every task through the storetasks package or boto3's paginator, in this
process. The client is built once, outside the timed part; pages hold 200 tasks.

    python bench/python/bench_clients.py storetasks|boto3 ENDPOINT TASKS WARMUP REPS

Prints {"times": [seconds, ...]} for the timed repetitions.
"""

import json
import os
import sys
import time

ACCESS_KEY = "AKIASTORETASKSLOCAL1"
SECRET_KEY = "storetasks-local-secret-key-0000000000000"
REGION = "us-east-1"
PAGE_SIZE = 200


def make_client(which, endpoint):
    if which == "storetasks":
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        sys.path.insert(0, os.path.join(root, "bindings", "python"))
        import storetasks

        return storetasks.Client(region=REGION, endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
                                 aws_secret_access_key=SECRET_KEY)
    if which == "boto3":
        import boto3

        return boto3.client("ec2", region_name=REGION, endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY)
    raise SystemExit(f"unknown client {which!r}")


def listing(client):
    pages = client.get_paginator("describe_store_image_tasks").paginate(PaginationConfig={"PageSize": PAGE_SIZE})
    n = 0
    for page in pages:
        for task in page["StoreImageTaskResults"]:
            if not task["AmiId"]:
                raise SystemExit("a task without AmiId")
            n += 1
    return n


def main():
    if len(sys.argv) != 6:
        raise SystemExit(__doc__)
    which, endpoint, tasks, warmup, reps = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
    client = make_client(which, endpoint)
    times = []
    for i in range(warmup + reps):
        start = time.perf_counter()
        n = listing(client)
        elapsed = time.perf_counter() - start
        if n != tasks:
            raise SystemExit(f"listed {n} tasks, expected {tasks}")
        if i >= warmup:
            times.append(elapsed)
    print(json.dumps({"times": times}))


if __name__ == "__main__":
    main()

"""Many listings at once from one asyncio event loop, through storetasks.aio or aiobotocore, in
this process alone, with what they cost it:

    python bench/python/async_listings.py --client storetasks|aiobotocore --endpoint URL
        [--listings 200] [--regions us-east-1,us-east-2,...] [--page-size 50]

One client per region, each created and given one call of one task before the listings start.
Listing i runs in region i mod R with a filter of its own: one bucket of the emulator's four
(storetasks-bucket-a to -d), alone or with a task-state filter (InProgress, Completed, Failed, or
InProgress and Failed), so up to 20 x R listings are all different. All of them start at once
(asyncio.gather) and each runs through every page, with the same paginator code for both clients.

Prints one JSON object: the listings' wall and CPU time (user + system of the whole process, every
thread), the process's CPU time from its start, the peak resident set (VmHWM) before the client's
import (the interpreter with asyncio), right after it, once the clients are ready and at the end,
the OS threads (/proc/self/task) at those
points and the most seen while the listings ran (sampled on the loop every few milliseconds), and
per listing its pages, its tasks and a CRC-32 of its AmiIds in order, so that two clients' runs
can be compared.
"""

import argparse
import asyncio
import contextlib
import json
import os
import resource
import sys
import time
import zlib

ACCESS_KEY = "AKIASTORETASKSLOCAL1"
SECRET_KEY = "storetasks-local-secret-key-0000000000000"
BUCKETS = ("storetasks-bucket-a", "storetasks-bucket-b", "storetasks-bucket-c", "storetasks-bucket-d")
STATES = (None, ["InProgress"], ["Completed"], ["Failed"], ["InProgress", "Failed"])
SAMPLE_EVERY = 0.005


def threads():
    """The process's OS threads (threading.active_count() misses the native ones)."""
    return len(os.listdir("/proc/self/task"))


def vm_hwm_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def cpu_seconds():
    """User + system CPU time of the whole process, all its threads."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def listing_filters(i, regions):
    """Listing i's region and Filters."""
    kind = i // len(regions)
    filters = [{"Name": "bucket", "Values": [BUCKETS[kind % len(BUCKETS)]]}]
    states = STATES[kind // len(BUCKETS)]
    if states:
        filters.append({"Name": "task-state", "Values": states})
    return regions[i % len(regions)], filters


def import_client(which):
    """The client's module, imported: a function that makes a client (an async context manager)
    for a region, and the versions to report."""
    if which == "storetasks":
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        sys.path.insert(0, os.path.join(root, "bindings", "python"))
        import storetasks
        from storetasks.aio import AsyncClient

        def make(region, endpoint, per_client):
            return AsyncClient(region=region, endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
                               aws_secret_access_key=SECRET_KEY)

        return make, {"storetasks": storetasks.__version__, "libstoretasks": storetasks.library_version()}
    if which == "aiobotocore":
        import aiobotocore
        import botocore
        import aiohttp
        from aiobotocore.config import AioConfig
        from aiobotocore.session import get_session

        sessions = []

        def make(region, endpoint, per_client):
            if not sessions:
                sessions.append(get_session())
            # One connection for each listing the client runs at once (the default pool holds 10),
            # as the other client has.
            return sessions[0].create_client("ec2", region_name=region, endpoint_url=endpoint,
                                         aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                                         config=AioConfig(max_pool_connections=per_client))

        return make, {"aiobotocore": aiobotocore.__version__, "botocore": botocore.__version__,
                      "aiohttp": aiohttp.__version__}
    raise SystemExit(f"unknown client {which!r}")


async def one_listing(client, filters, page_size):
    pages = tasks = crc = 0
    paginator = client.get_paginator("describe_store_image_tasks")
    async for page in paginator.paginate(Filters=filters, PaginationConfig={"PageSize": page_size}):
        pages += 1
        for task in page["StoreImageTaskResults"]:
            crc = zlib.crc32(task["AmiId"].encode(), crc)
            tasks += 1
    return [pages, tasks, crc]


async def run(make, args, regions, out):
    plan = [listing_filters(i, regions) for i in range(args.listings)]
    async with contextlib.AsyncExitStack() as stack:
        clients = {}
        for region in regions:
            in_flight = max(1, sum(r == region for r, _ in plan))
            clients[region] = await stack.enter_async_context(make(region, args.endpoint, in_flight))
        # Whatever a client starts with its first call, it starts here.
        for client in clients.values():
            await client.describe_store_image_tasks(MaxResults=1)
        out["vm_hwm_kb_ready"], out["threads_ready"] = vm_hwm_kb(), threads()

        samples = []
        running = True

        async def sample():
            while running:
                samples.append(threads())
                await asyncio.sleep(SAMPLE_EVERY)

        sampler = asyncio.ensure_future(sample())
        await asyncio.sleep(0)
        cpu0, start = cpu_seconds(), time.perf_counter()
        results = await asyncio.gather(*(one_listing(clients[region], filters, args.page_size)
                                         for region, filters in plan))
        wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu0
        running = False
        await sampler
        out["threads_after"] = threads()
    out["wall"], out["cpu"] = wall, cpu
    out["threads_max"], out["threads_min"], out["thread_samples"] = max(samples), min(samples), len(samples)
    out["per_listing"] = results
    out["pages"] = sum(r[0] for r in results)
    out["tasks"] = sum(r[1] for r in results)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--client", required=True, choices=("storetasks", "aiobotocore"))
    p.add_argument("--endpoint", required=True)
    p.add_argument("--listings", type=int, default=200)
    p.add_argument("--regions", default="us-east-1")
    p.add_argument("--page-size", type=int, default=50)
    args = p.parse_args()
    regions = args.regions.split(",")
    if args.listings > len(BUCKETS) * len(STATES) * len(regions):
        raise SystemExit(f"{args.listings} listings would not all differ: at most "
                         f"{len(BUCKETS) * len(STATES)} per region")
    out = {"client": args.client, "vm_hwm_kb_start": vm_hwm_kb(), "threads_start": threads()}
    make, out["versions"] = import_client(args.client)
    out["vm_hwm_kb_imports"], out["threads_imports"] = vm_hwm_kb(), threads()
    asyncio.run(run(make, args, regions, out))
    out["vm_hwm_kb_peak"] = vm_hwm_kb()
    out["cpu_process"] = cpu_seconds()
    print(json.dumps(out))


if __name__ == "__main__":
    main()

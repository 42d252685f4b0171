"""storetasks.aio, the asyncio client, against the emulator: its results and exceptions are the
blocking client's (and so boto3's), its calls wait on the event loop without a thread each, and
every native call it starts is freed exactly once, however the wait ends.

Coroutines run under asyncio.run inside plain tests. Tests that take a ``wake`` argument run twice:
waiting on the calls' descriptors (POSIX), and through the calls' callbacks (the Windows way).
"""

import asyncio
import ctypes
import gc
import os
import time

import pytest
from botocore.exceptions import ClientError as BotoClientError

from conftest import ACCESS_KEY, DENIED_KEY, REGION, SECRET_KEY, import_storetasks
from test_python_package import (N_TASKS, PAGINATION_CONFIGS, assert_same_client_error, boto, comparable,
                                 expected_tasks, ours)

storetasks = import_storetasks()
from storetasks import _native, aio  # noqa: E402 (the package is on sys.path only now)
from storetasks.aio import AsyncClient  # noqa: E402

SLOW = "delay,ms=10000"  # a reply the tests never wait for


def aours(emu, access_key=ACCESS_KEY, **kwargs):
    return AsyncClient(region=REGION, endpoint_url=emu.url, aws_access_key_id=access_key,
                       aws_secret_access_key=SECRET_KEY, **kwargs)


def threads():
    """The process's OS threads (threading.active_count() misses the library's)."""
    return len(os.listdir("/proc/self/task"))


def unix_sockets():
    """How many Unix sockets the process holds: a call's descriptor is one end of a pair (the
    connections to the emulator, which the client keeps in its pool, are TCP)."""
    with open("/proc/self/net/unix") as table:
        inodes = {line.split()[6] for line in table.readlines()[1:]}
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the listing's own descriptor, closed by now
            continue
        count += target.startswith("socket:[") and target[len("socket:["):-1] in inodes
    return count


def watched(loop):
    """How many descriptors the loop's selector watches."""
    return len(loop._selector.get_map())


@pytest.fixture(params=["descriptor", "callback"])
def wake(request, monkeypatch):
    """How calls tell of their news: through their descriptor, or through their callback."""
    monkeypatch.setattr(aio, "WAKE_BY_CALLBACK", request.param == "callback")
    return request.param


@pytest.fixture
def native_calls(monkeypatch):
    """Records the native calls started and freed: {"started": [address, ...], "freed": [...]}.
    The real functions still run; the package looks them up on the library at each call."""
    lib = _native.calls()
    seen = {"started": [], "freed": []}

    def address(pointer):
        return ctypes.cast(pointer, ctypes.c_void_p).value

    for name in ("storetasks_client_describe_start", "storetasks_client_describe_pages_start"):
        def starting(*args, real=getattr(lib, name)):
            status = real(*args)
            started = address(args[-2]._obj)  # call_out, passed by reference
            if started:
                seen["started"].append(started)
            return status

        monkeypatch.setattr(lib, name, starting)

    def freeing(call, real=lib.storetasks_call_free):
        seen["freed"].append(address(call))
        return real(call)

    monkeypatch.setattr(lib, "storetasks_call_free", freeing)
    return seen


def assert_each_freed_once(seen, count=None):
    assert sorted(seen["started"]) == sorted(seen["freed"])
    if count is not None:
        assert len(seen["freed"]) == count


def run(coroutine):
    return asyncio.run(coroutine)


def full_results(ec2, params, config):
    """The blocking paginator's pages and full result (with its resume token), for comparison."""
    paginator = ec2.get_paginator("describe_store_image_tasks")
    pages = [comparable(p) for p in paginator.paginate(**params, PaginationConfig=dict(config))]
    iterator = paginator.paginate(**params, PaginationConfig=dict(config))
    return pages, iterator.build_full_result(), iterator.resume_token


# -- the C functions ----------------------------------------------------------------------------


def test_the_calls_are_declared_on_first_use_and_a_library_without_them_is_named(monkeypatch):
    lib = _native.calls()
    for name in _native._CALL_SIGNATURES:
        assert getattr(lib, name).argtypes is not None, name
    assert _native.status_name(_native.status("PENDING")) == "STORETASKS_STATUS_PENDING"

    class Older:
        """A loaded library from before the calls that do not block."""

        storetasks_path = "/old/libstoretasks.so"
        calls_declared = False
        status_numbers = {"OK": 0}

    monkeypatch.setattr(_native, "_loaded", Older())
    with pytest.raises(storetasks.LibraryNotFoundError,
                       match="/old/libstoretasks.so has no status STORETASKS_STATUS_PENDING: storetasks.aio needs"):
        _native.calls()
    Older.status_numbers = {"OK": 0, "PENDING": 16}
    with pytest.raises(storetasks.LibraryNotFoundError, match="lacks storetasks_client_describe_start"):
        _native.calls()


def test_it_offers_the_calls_that_do_not_block_and_nothing_else():
    for name in ("get_waiter", "waiter_names", "describe_store_image_tasks_fleet",
                 "describe_store_image_tasks_fleet_pages"):
        assert not hasattr(AsyncClient, name), name
    assert "describe_store_image_tasks" in aio.__doc__ and "waiter" in aio.__doc__
    ec2 = AsyncClient(region=REGION, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
    assert ec2.can_paginate("describe_store_image_tasks") and not ec2.can_paginate("describe_images")
    with pytest.raises(storetasks.OperationNotPageableError):
        ec2.get_paginator("describe_images")
    run(ec2.close())
    import inspect

    assert list(inspect.signature(AsyncClient).parameters) == list(inspect.signature(storetasks.Client).parameters)


# -- results ------------------------------------------------------------------------------------


@pytest.mark.parametrize("params", [
    {},
    {"MaxResults": 5},
    {"Filters": [{"Name": "task-state", "Values": ["InProgress", "Completed"]}], "MaxResults": 9},
    {"ImageIds": ["ami-00000000000000000"]},
    {"DryRun": False, "MaxResults": 3},
])
def test_one_call_equals_the_blocking_client_and_boto3(emulator, wake, params):
    async def main():
        async with aours(emulator) as ec2:
            return await ec2.describe_store_image_tasks(**params)

    got = run(main())
    with ours(emulator) as client:
        blocking = client.describe_store_image_tasks(**params)
    want = boto(emulator).describe_store_image_tasks(**params)
    assert comparable(got) == comparable(blocking) == comparable(want)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200 and got["ResponseMetadata"]["RequestId"]


def test_many_image_ids_and_every_task_member(emulator):
    expected = expected_tasks(emulator)
    ids = [t["AmiId"] for t in expected[::-1]][:45]

    async def main():
        async with aours(emulator) as ec2:
            return (await ec2.describe_store_image_tasks(ImageIds=ids),
                    await ec2.describe_store_image_tasks(MaxResults=200))

    by_id, everything = run(main())
    assert by_id["StoreImageTaskResults"] == [t for t in expected if t["AmiId"] in ids]
    assert everything["StoreImageTaskResults"] == expected
    assert everything["StoreImageTaskResults"] == boto(emulator).describe_store_image_tasks(
        MaxResults=200)["StoreImageTaskResults"]


@pytest.mark.parametrize("config", PAGINATION_CONFIGS)
def test_pages_equal_the_blocking_paginator_and_boto3(emulator, wake, config):
    params = {"Filters": [{"Name": "task-state", "Values": ["Completed", "InProgress"]}]}

    async def main():
        async with aours(emulator) as ec2:
            paginator = ec2.get_paginator("describe_store_image_tasks")
            pages = [comparable(p) async for p in paginator.paginate(**params, PaginationConfig=dict(config))]
            iterator = paginator.paginate(**params, PaginationConfig=dict(config))
            return pages, await iterator.build_full_result(), iterator.resume_token

    pages, full, resume = run(main())
    with ours(emulator) as client:
        want_pages, want_full, want_resume = full_results(client, params, config)
    assert pages == want_pages == [comparable(p) for p in boto(emulator).get_paginator(
        "describe_store_image_tasks").paginate(**params, PaginationConfig=dict(config))]
    # Resume tokens are botocore's encoding; they differ only by the service token inside.
    assert comparable(full) == comparable(want_full)
    assert (resume is None) == (want_resume is None) == ("NextToken" not in full)


def test_starting_tokens_and_search(emulator):
    config = {"PageSize": 6, "MaxItems": 16}

    async def main():
        async with aours(emulator) as ec2:
            paginator = ec2.get_paginator("describe_store_image_tasks")
            first = await paginator.paginate(PaginationConfig=config).build_full_result()
            rest = await paginator.paginate(
                PaginationConfig={**config, "StartingToken": first["NextToken"]}).build_full_result()
            service = (await ec2.describe_store_image_tasks(MaxResults=50))["NextToken"]
            tail = await paginator.paginate(PaginationConfig={"StartingToken": service}).build_full_result()
            amis = [a async for a in paginator.paginate(PaginationConfig={"PageSize": 20}).search(
                "StoreImageTaskResults[].AmiId")]
            return first, rest, tail, amis

    first, rest, tail, amis = run(main())
    everything = expected_tasks(emulator)
    assert first["StoreImageTaskResults"] + rest["StoreImageTaskResults"] == everything[:32]
    with ours(emulator) as client:
        blocking = client.get_paginator("describe_store_image_tasks").paginate(
            PaginationConfig={**config, "StartingToken": first["NextToken"]}).build_full_result()
    assert comparable(rest) == comparable(blocking)
    assert tail["StoreImageTaskResults"] == everything[50:] and "NextToken" not in tail
    assert amis == [t["AmiId"] for t in everything]


def test_a_repeated_token_ends_the_listing_as_the_library_does(emulator):
    """libstoretasks follows the tokens of an asynchronous listing and stops one that repeats or
    restarts with an unreadable-reply error; the blocking paginator raises PaginationError."""
    emulator.add_faults("repeat-token,count=3")

    async def main():
        async with aours(emulator) as ec2:
            return [p async for p in ec2.get_paginator("describe_store_image_tasks").paginate(
                PaginationConfig={"PageSize": 5})]

    with pytest.raises(storetasks.ResponseParserError, match="NextToken") as info:
        run(main())
    assert info.value.status_name == "STORETASKS_STATUS_RESPONSE"


def test_an_async_iterator_of_pages_is_not_a_blocking_one(emulator):
    async def main():
        async with aours(emulator) as ec2:
            pages = ec2.get_paginator("describe_store_image_tasks").paginate()
            with pytest.raises(TypeError):
                iter(pages)
            # Each iteration starts again from the beginning, as the blocking paginator's.
            counts = [sum([len(p["StoreImageTaskResults"]) async for p in pages]) for _ in range(2)]
            return counts

    assert run(main()) == [N_TASKS, N_TASKS]


# -- errors -------------------------------------------------------------------------------------


def same_error(blocking_call, async_call):
    """The exceptions the blocking call and the coroutine raise: the same class and message."""
    with pytest.raises(storetasks.StoreTasksError) as blocking:
        blocking_call()
    with pytest.raises(storetasks.StoreTasksError) as asynchronous:
        run(async_call())
    mine, theirs = asynchronous.value, blocking.value
    assert type(mine) is type(theirs)
    assert str(mine) == str(theirs) and mine.status_name == theirs.status_name
    return mine


@pytest.mark.parametrize("params", [
    {"Foo": 1},
    {"MaxResults": "5"},
    {"Filters": [{"Name": "bucket", "Values": ["a"], "Extra": 1}]},
    {"MaxResults": 201},
    {"ImageIds": ["ami-1"], "MaxResults": 5},
    {"ImageIds": ["ami-\x00"]},
    {"NextToken": ""},
    {"NextToken": "bm90IGEgdG9rZW4="},
])
def test_errors_are_the_blocking_clients(emulator, params):
    client, ec2 = ours(emulator), aours(emulator)
    paginate = "describe_store_image_tasks"
    try:
        async def one():
            return await ec2.describe_store_image_tasks(**params)

        async def pages():
            return [p async for p in ec2.get_paginator(paginate).paginate(**params)]

        before = emulator.stats()["requests"]
        mine = same_error(lambda: client.describe_store_image_tasks(**params), one)
        same_error(lambda: list(client.get_paginator(paginate).paginate(**params)), pages)
        if isinstance(mine, storetasks.ParamValidationError):
            assert emulator.stats()["requests"] == before  # refused before anything was sent
    finally:
        client.close()
        run(ec2.close())


@pytest.mark.parametrize("access_key, params, code, http_status", [
    (DENIED_KEY, {}, "UnauthorizedOperation", 403),
    (DENIED_KEY, {"DryRun": True}, "UnauthorizedOperation", 403),
    (ACCESS_KEY, {"DryRun": True}, "DryRunOperation", 412),
    (ACCESS_KEY, {"Filters": [{"Name": "no-such-filter", "Values": ["x"]}]}, "InvalidParameterValue", 400),
])
def test_service_errors_equal_boto3(emulator, wake, native_calls, access_key, params, code, http_status):
    async def main():
        async with aours(emulator, access_key=access_key) as ec2:
            with pytest.raises(storetasks.ClientError) as one:
                await ec2.describe_store_image_tasks(**params)
            with pytest.raises(storetasks.ClientError) as pages:
                [p async for p in ec2.get_paginator("describe_store_image_tasks").paginate(**params)]
            return one.value, pages.value

    errors = run(main())
    with pytest.raises(BotoClientError) as theirs:
        boto(emulator, access_key=access_key).describe_store_image_tasks(**params)
    for mine in errors:
        assert_same_client_error(mine, theirs.value, code, http_status)
    assert_each_freed_once(native_calls, 2)


def test_positional_arguments_are_refused(emulator):
    async def main():
        async with aours(emulator) as ec2:
            await ec2.describe_store_image_tasks({"MaxResults": 5})

    with pytest.raises(TypeError, match="only accepts keyword arguments"):
        run(main())


# -- cancellation -------------------------------------------------------------------------------


def test_cancelling_the_task_cancels_and_frees_the_call(emulator, wake, native_calls):
    emulator.add_faults(SLOW + ",count=3")

    async def main():
        loop = asyncio.get_running_loop()
        idle = watched(loop)
        async with aours(emulator) as ec2:
            task = asyncio.ensure_future(ec2.describe_store_image_tasks())
            await asyncio.sleep(0.3)
            assert not task.done() and native_calls["freed"] == []
            assert watched(loop) == idle + (wake == "descriptor")
            started = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert time.monotonic() - started < 3
            assert watched(loop) == idle  # the reader went before the call
            assert_each_freed_once(native_calls, 1)

            # A timeout cancels it the same way, and so does cancelling an iteration of pages.
            started = time.monotonic()
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(ec2.describe_store_image_tasks(), 0.3)
            assert time.monotonic() - started < 3
            assert_each_freed_once(native_calls, 2)

            async def listing():
                return [p async for p in ec2.get_paginator("describe_store_image_tasks").paginate()]

            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(listing(), 0.3)
            assert_each_freed_once(native_calls, 3)
            assert watched(loop) == idle

            # The client goes on serving.
            emulator.clear_faults()
            return await ec2.describe_store_image_tasks(MaxResults=3)

    assert len(run(main())["StoreImageTaskResults"]) == 3
    assert_each_freed_once(native_calls, 4)


def test_an_abandoned_iteration_of_pages_stops_its_listing_and_is_freed(emulator, native_calls):
    async def main():
        async with aours(emulator) as ec2:
            paginator = ec2.get_paginator("describe_store_image_tasks")
            before = emulator.stats()["describe"]
            pages = paginator.paginate(PaginationConfig={"PageSize": 5}).__aiter__()  # 12 pages
            assert len((await pages.__anext__())["StoreImageTaskResults"]) == 5
            await asyncio.sleep(0.3)  # time to run ahead
            await pages.aclose()
            assert_each_freed_once(native_calls, 1)
            await asyncio.sleep(0.3)
            # The page taken, two held and one waiting for room at the most: the listing stopped.
            assert 1 <= emulator.stats()["describe"] - before <= 4

            # Left by a break: asyncio closes the generator once it is collected.
            async for _ in paginator.paginate(PaginationConfig={"PageSize": 5}):
                break
            for _ in range(10):
                await asyncio.sleep(0.01)
            assert_each_freed_once(native_calls, 2)

            # Cut by MaxItems while pages are held: freed at the end of the iteration.
            got = [p async for p in paginator.paginate(PaginationConfig={"PageSize": 5, "MaxItems": 7})]
            assert [len(p["StoreImageTaskResults"]) for p in got] == [5, 2]
            assert_each_freed_once(native_calls, 3)

    run(main())


def test_calls_left_when_the_loop_ends_are_freed(emulator, native_calls):
    emulator.add_faults(SLOW + ",count=2")
    kept = []

    async def leave_behind():
        ec2 = aours(emulator)
        kept.append(ec2)
        pages = ec2.get_paginator("describe_store_image_tasks").paginate(PaginationConfig={"PageSize": 60}).__aiter__()
        kept.append(pages)
        kept.append(asyncio.ensure_future(pages.__anext__()))  # waits for a slow reply
        kept.append(asyncio.ensure_future(ec2.describe_store_image_tasks()))  # another one
        await asyncio.sleep(0.2)
        assert native_calls["freed"] == []

    run(leave_behind())  # asyncio.run cancels the tasks and closes the generator
    assert_each_freed_once(native_calls, 2)

    # A loop closed under a waiting task: the task's coroutine frees the call when collected.
    emulator.add_faults(SLOW)
    loop = asyncio.new_event_loop()
    task = loop.create_task(kept[0].describe_store_image_tasks())
    loop.run_until_complete(asyncio.sleep(0.2))
    loop.close()
    loop.set_exception_handler(lambda *_: None)  # "Task was destroyed but it is pending"
    del task
    gc.collect()
    assert_each_freed_once(native_calls, 3)
    run(kept[0].close())


# -- many calls at once -------------------------------------------------------------------------


def test_200_listings_at_once_on_the_loop_s_thread_alone(start_emulator, wake, native_calls):
    emu = start_emulator("--generate", N_TASKS, "--seed", 21, "--fault", "delay,ms=30,count=1000000")
    with ours(emu) as client:
        want = client.get_paginator("describe_store_image_tasks").paginate(
            PaginationConfig={"PageSize": 20}).build_full_result()

    async def main():
        async with aours(emu) as ec2:
            await ec2.describe_store_image_tasks(MaxResults=1)  # whatever starts with the first call
            before = threads(), unix_sockets()
            samples, in_flight = [], []
            listing = True

            async def sample():
                while listing:
                    samples.append(threads())
                    if len(samples) == 2:  # once the listings have started
                        in_flight.append(unix_sockets())
                    await asyncio.sleep(0.002)

            async def one():
                full = await ec2.get_paginator("describe_store_image_tasks").paginate(
                    PaginationConfig={"PageSize": 20}).build_full_result()
                samples.append(threads())
                return full

            sampler = asyncio.ensure_future(sample())
            results = await asyncio.gather(*(one() for _ in range(200)))
            listing = False
            await sampler
            return before, samples, in_flight, (threads(), unix_sockets()), results

    requests = emu.stats()["describe"]
    before, samples, in_flight, after, results = run(main())
    assert results == [want] * 200
    assert emu.stats()["describe"] - requests == 1 + 200 * 3
    assert len(samples) > 200 and set(samples) == {before[0]}
    assert in_flight[0] >= before[1] + 2 * 200  # every listing's call at once, each with its pair of sockets
    assert after == before  # no thread and no call's descriptor left
    assert_each_freed_once(native_calls, 201)


# -- closing ------------------------------------------------------------------------------------


def test_close_cancels_the_calls_in_flight_and_refuses_new_ones(emulator, wake, native_frees, native_calls):
    emulator.add_faults(SLOW)

    async def main():
        ec2 = aours(emulator)
        assert repr(ec2).endswith(" open>")
        task = asyncio.ensure_future(ec2.describe_store_image_tasks())
        await asyncio.sleep(0.3)
        started = time.monotonic()
        await ec2.close()
        assert ec2.closed and repr(ec2).endswith(" closed>")
        with pytest.raises(storetasks.ClientClosedError, match="the client was closed") as info:
            await task
        assert time.monotonic() - started < 3
        assert info.value.status_name == "STORETASKS_STATUS_CANCELLED"
        # The native client went with the last call.
        assert len(native_frees["storetasks_client_free"]) == 1
        with pytest.raises(storetasks.ClientClosedError,
                           match="^describe_store_image_tasks was called on a closed AsyncClient$") as info:
            await ec2.describe_store_image_tasks()
        assert info.value.status is None
        with pytest.raises(storetasks.ClientClosedError, match="paginator was called on a closed AsyncClient"):
            [p async for p in ec2.get_paginator("describe_store_image_tasks").paginate()]
        await ec2.close()  # again

        async with aours(emulator) as other:
            await other.describe_store_image_tasks(MaxResults=1)
        assert other.closed and len(native_frees["storetasks_client_free"]) == 2

    run(main())
    assert_each_freed_once(native_calls, 2)

"""storetasks.aio, the asyncio client, against the emulator: its results and exceptions are the
blocking client's (and so boto3's), its calls wait on the event loop without a thread each, and
every native call it starts is freed exactly once, however the wait ends.

Coroutines run under asyncio.run inside plain tests. Tests that take a ``wake`` argument run twice:
waiting on the calls' descriptors (POSIX), and through the calls' callbacks (the Windows way).
"""

import asyncio
import ctypes
import gc
import inspect
import os
import re
import signal
import time

import pytest
from botocore.exceptions import ClientError as BotoClientError

from conftest import ACCESS_KEY, DENIED_KEY, REGION, SECRET_KEY, import_storetasks
from test_python_fleet import (FAULTS, REGIONS, ROLE_A, check_unreadable_error, fleet_emulator, readable,
                               year_one_emulator)
from test_python_fleet import N_TASKS as FLEET_TASKS
from test_python_fleet import impatient as impatient_client
from test_python_fleet import ours as fleet_client
from test_python_package import (N_TASKS, PAGINATION_CONFIGS, assert_same_client_error, boto, comparable,
                                 expected_tasks, ours)
from test_python_wait_targets import latest_in_state, listing
from test_python_waiter import FAST, ID, UNKNOWN, moving_emulator

storetasks = import_storetasks()
from storetasks import _native, aio  # noqa: E402 (the package is on sys.path only now)
from storetasks.aio import AsyncClient  # noqa: E402
from storetasks.waiter import _IN_PROGRESS  # noqa: E402

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


async def gathered_while_sampling(coroutines):
    """Awaits the coroutines at once (asyncio.gather, exceptions returned) while sampling the
    process's threads, every 2 ms and as each coroutine ends. Returns (threads and Unix sockets
    before, the thread samples, threads and Unix sockets after, the results). A freed call's
    sockets are closed soon after, on a library thread: "after" is read once the sockets are no
    more than before, or 5 s after the end; "before" may still count an earlier call's. The calls'
    sockets while they run are counted by ``native_calls``, at the moment they are all alive."""
    before = threads(), unix_sockets()
    samples = []
    running = True

    async def sample():
        while running:
            samples.append(threads())
            await asyncio.sleep(0.002)

    async def sampled(coroutine):
        try:
            return await coroutine
        finally:
            samples.append(threads())

    sampler = asyncio.ensure_future(sample())
    try:
        results = await asyncio.gather(*map(sampled, coroutines), return_exceptions=True)
    finally:
        running = False
        await sampler
    for _ in range(500):
        if unix_sockets() <= before[1]:
            break
        await asyncio.sleep(0.01)
    return before, samples, (threads(), unix_sockets()), results


def assert_nothing_left(before, after):
    """No thread more than before, and no call's descriptor left."""
    assert after[0] == before[0] and after[1] <= before[1], (before, after)


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
    """Records the native calls started and freed: {"started": [address, ...], "freed": [...]},
    and the most alive at once ("at_once"). A test that sets "count_sockets_at" to N gets in
    "sockets" the Unix sockets the process held when the N-th call alive at once had started.
    The real functions still run; the package looks them up on the library at each call."""
    lib = _native.calls()
    seen = {"started": [], "freed": [], "at_once": 0, "count_sockets_at": None, "sockets": None}
    alive = set()

    def address(pointer):
        return ctypes.cast(pointer, ctypes.c_void_p).value

    for name in ("storetasks_client_describe_start", "storetasks_client_describe_pages_start",
                 "storetasks_client_wait_start", "storetasks_client_wait_targets_start",
                 "storetasks_client_describe_fleet_start", "storetasks_client_describe_fleet_pages_start"):
        def starting(*args, real=getattr(lib, name)):
            status = real(*args)
            started = address(args[-2]._obj)  # call_out, passed by reference
            if started:
                seen["started"].append(started)
                alive.add(started)
                seen["at_once"] = max(seen["at_once"], len(alive))
                if len(alive) == seen["count_sockets_at"] and seen["sockets"] is None:
                    seen["sockets"] = unix_sockets()
            return status

        monkeypatch.setattr(lib, name, starting)

    def freeing(call, real=lib.storetasks_call_free):
        seen["freed"].append(address(call))
        alive.discard(address(call))
        return real(call)

    monkeypatch.setattr(lib, "storetasks_call_free", freeing)
    return seen


def assert_all_at_once(seen, count):
    """`count` calls were alive at one moment (the test set "count_sockets_at" to `count`), each
    holding its pair of Unix sockets then."""
    assert seen["at_once"] == count
    assert seen["sockets"] >= 2 * count


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
    assert "describe_store_image_tasks_fleet_pages" in aio.__doc__
    assert "no call that does not block" not in aio.__doc__
    for name in ("describe_store_image_tasks", "describe_store_image_tasks_fleet"):
        assert inspect.iscoroutinefunction(getattr(AsyncClient, name)), name
    ec2 = AsyncClient(region=REGION, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
    # The fleet listed page by page: an async iterable made at once, whose call starts when iterated.
    pages = ec2.describe_store_image_tasks_fleet_pages(Regions=["us-west-2"])
    assert isinstance(pages, aio.AsyncFleetPages) and (pages.result, pages.stopped) == (None, False)
    with pytest.raises(TypeError):
        iter(pages)
    with pytest.raises(TypeError, match="only accepts keyword arguments"):
        ec2.describe_store_image_tasks_fleet_pages({"Regions": ["us-west-2"]})
    assert ec2.can_paginate("describe_store_image_tasks") and not ec2.can_paginate("describe_images")
    with pytest.raises(storetasks.OperationNotPageableError):
        ec2.get_paginator("describe_images")
    with storetasks.Client(region=REGION, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY) as client:
        assert ec2.waiter_names == client.waiter_names == ["store_image_task_complete"]
        waiter = ec2.get_waiter("store_image_task_complete")
        assert isinstance(waiter, aio.AsyncWaiter) and inspect.iscoroutinefunction(waiter.wait)
        assert (waiter.name, waiter.config.delay, waiter.config.max_attempts) == \
            (client.get_waiter("store_image_task_complete").name, 5, 40)
        for owner in (ec2, client):
            with pytest.raises(ValueError, match="^Waiter does not exist: image_available$"):
                owner.get_waiter("image_available")
    run(ec2.close())
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


async def cancelled_while_waiting(task, native_calls, wake, idle, limit):
    """Lets ``task`` start its call and wait for news, then cancels it: it ends within ``limit``
    seconds, and the loop no longer watches the call's descriptor."""
    loop = asyncio.get_running_loop()
    await asyncio.sleep(0.3)
    assert not task.done() and native_calls["freed"] == []
    assert watched(loop) == idle + (wake == "descriptor")
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < limit
    assert watched(loop) == idle  # the reader went before the call


def test_cancelling_the_task_cancels_and_frees_the_call(emulator, wake, native_calls):
    emulator.add_faults(SLOW + ",count=3")

    async def main():
        loop = asyncio.get_running_loop()
        idle = watched(loop)
        async with aours(emulator) as ec2:
            task = asyncio.ensure_future(ec2.describe_store_image_tasks())
            await cancelled_while_waiting(task, native_calls, wake, idle, 3)
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


INTERRUPTED = {
    "call": lambda ec2: ec2.describe_store_image_tasks(),
    "pages": lambda ec2: ec2.get_paginator("describe_store_image_tasks").paginate().build_full_result(),
    "wait": lambda ec2: ec2.get_waiter("store_image_task_complete").wait(ImageIds=["ami-0000000000000c0de"]),
    "fleet pages": lambda ec2: streamed(ec2.describe_store_image_tasks_fleet_pages(Regions=["us-east-1"])),
}


@pytest.mark.parametrize("form", INTERRUPTED)
def test_ctrl_c_ends_the_loop_at_once_and_frees_the_call(emulator, wake, native_calls, form):
    """A real SIGINT while a call waits for a slow reply: asyncio.run cancels the main task, which
    stops the call, and raises KeyboardInterrupt at once; the call is freed and the client closed."""
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT is not Python's here")
    emulator.add_faults(SLOW + ",count=3")
    closed = []

    async def main():
        async with aours(emulator) as ec2:
            closed.append(ec2)
            asyncio.get_running_loop().call_later(0.3, signal.raise_signal, signal.SIGINT)
            await INTERRUPTED[form](ec2)

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run(main())
    assert time.monotonic() - started < 3
    assert closed[0].closed
    assert_each_freed_once(native_calls, 1)


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
    emu = start_emulator("--generate", N_TASKS, "--seed", 21, "--fault", "delay,ms=200,count=1000000")
    with ours(emu) as client:
        want = client.get_paginator("describe_store_image_tasks").paginate(
            PaginationConfig={"PageSize": 20}).build_full_result()

    async def main():
        async with aours(emu) as ec2:
            await ec2.describe_store_image_tasks(MaxResults=1)  # whatever starts with the first call
            paginator = ec2.get_paginator("describe_store_image_tasks")
            return await gathered_while_sampling(
                paginator.paginate(PaginationConfig={"PageSize": 20}).build_full_result() for _ in range(200))

    requests = emu.stats()["describe"]
    native_calls["count_sockets_at"] = 200
    before, samples, after, results = run(main())
    assert results == [want] * 200
    assert emu.stats()["describe"] - requests == 1 + 200 * 3
    assert len(samples) > 200 and set(samples) == {before[0]}
    assert_all_at_once(native_calls, 200)  # every listing's first call at once
    assert_nothing_left(before, after)
    assert_each_freed_once(native_calls, 201)


# -- closing ------------------------------------------------------------------------------------


async def assert_closing_ends(ec2, coroutine, native_frees):
    """Closes ``ec2`` while ``coroutine`` runs: it raises ClientClosedError (status CANCELLED) at
    once, and the native client goes with it."""
    task = asyncio.ensure_future(coroutine)
    await asyncio.sleep(0.3)
    assert not task.done()
    started = time.monotonic()
    await ec2.close()
    with pytest.raises(storetasks.ClientClosedError, match="the client was closed") as info:
        await task
    assert time.monotonic() - started < 3
    assert info.value.status_name == "STORETASKS_STATUS_CANCELLED"
    assert len(native_frees["storetasks_client_free"]) == 1


def test_close_cancels_the_calls_in_flight_and_refuses_new_ones(emulator, wake, native_frees, native_calls):
    emulator.add_faults(SLOW)

    async def main():
        ec2 = aours(emulator)
        assert repr(ec2).endswith(" open>")
        await assert_closing_ends(ec2, ec2.describe_store_image_tasks(), native_frees)
        assert ec2.closed and repr(ec2).endswith(" closed>")
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


# -- the waiter ---------------------------------------------------------------------------------

WAITER = "store_image_task_complete"
#: The durations and percentages in the library's messages, which differ between two waits.
_MOVING = re.compile(r"\d+(?:\.\d+)?(?:ns|µs|ms|s)\b|\d+%")


@pytest.fixture
def moving(start_emulator, tmp_path):
    """The waiter tests' emulator: tasks that progress, complete and fail as time passes."""
    return moving_emulator(start_emulator, tmp_path)


def both_waits(emu, client_kwargs=None, **params):
    """The outcomes (the final response, or the exception) of the blocking waiter, in a thread, and
    of the asyncio waiter, waiting at the same time so that both see the same tasks."""
    client_kwargs = client_kwargs or {}

    async def main():
        with ours(emu, **client_kwargs) as client:
            async with aours(emu, **client_kwargs) as ec2:
                return await asyncio.gather(asyncio.to_thread(client.get_waiter(WAITER).wait, **params),
                                            ec2.get_waiter(WAITER).wait(**params), return_exceptions=True)

    return run(main())


def without_request_id(response):
    """A response (or None) without its ResponseMetadata's RequestId, which each request has its own."""
    if response is None:
        return None
    meta = {k: v for k, v in response["ResponseMetadata"].items() if k != "RequestId"}
    return {**response, "ResponseMetadata": meta}


def assert_same_waiter_error(mine, theirs):
    """The asyncio waiter's exception is the blocking waiter's but for what polls would tell:
    the wait that does not block reports none, so a task's end has no last response, and a
    timeout no "Previously accepted state" (the library's message still names each last state)."""
    assert type(mine) is type(theirs) is storetasks.WaiterError, (mine, theirs)
    for name in ("name", "status", "status_name", "ami_id", "failure_reason", "code", "http_status"):
        assert getattr(mine, name) == getattr(theirs, name), name
    if theirs.code is None:
        assert mine.last_response is None
    else:
        assert without_request_id(mine.last_response) == without_request_id(theirs.last_response)
    reason = theirs.reason.replace(f". Previously accepted state: {_IN_PROGRESS}", "")
    assert _MOVING.sub("*", mine.reason) == _MOVING.sub("*", reason)
    assert _MOVING.sub("*", mine.message) == _MOVING.sub("*", theirs.message)
    assert str(mine) == f"Waiter StoreImageTaskComplete failed: {mine.reason}"


@pytest.mark.parametrize("params, status", [
    ({"ImageIds": [ID[2], ID[1], ID[7]], "WaiterConfig": FAST, "MaxDelay": 0.2}, None),
    ({"Targets": [{"ImageId": ID[7]}, {"Region": REGION, "RoleArn": None, "ImageId": ID[1]}],
      "WaiterConfig": FAST, "MaxDelay": 0.2}, None),
    ({"ImageIds": [ID[1], ID[3]], "WaiterConfig": FAST}, "TASK_FAILED"),
    ({"ImageIds": [ID[1], UNKNOWN], "WaiterConfig": FAST, "NotFoundGrace": 0.3}, "NOT_FOUND"),
    ({"ImageIds": [ID[6]], "WaiterConfig": {"Delay": 0.2, "MaxAttempts": 3}, "MaxDelay": 0.2}, "WAIT_TIMEOUT"),
    ({"ImageIds": [ID[8]], "WaiterConfig": {"Delay": 0.1, "MaxAttempts": 1000}, "Timeout": 0.5}, "WAIT_TIMEOUT"),
], ids=["completed", "targets-completed", "failed", "not-found", "max-attempts", "timeout"])
def test_the_waiter_ends_as_the_blocking_one(moving, wake, native_calls, params, status):
    started = time.monotonic()
    theirs, mine = both_waits(moving, **params)
    assert time.monotonic() - started < 10
    if status is None:
        assert mine == theirs
        assert [t["StoreTaskState"] for t in mine["StoreImageTaskResults"]] == ["Completed"] * len(
            mine["StoreImageTaskResults"])
    else:
        assert mine.status_name == f"STORETASKS_STATUS_{status}"
        assert_same_waiter_error(mine, theirs)
        if status == "WAIT_TIMEOUT":
            assert theirs.reason.startswith("Max attempts exceeded. Previously accepted state: ")
            assert mine.reason.startswith("Max attempts exceeded (gave up after ")
    assert_each_freed_once(native_calls, 1)


def test_a_service_error_ends_the_wait_as_the_blocking_one(moving):
    theirs, mine = both_waits(moving, {"access_key": DENIED_KEY}, ImageIds=[ID[1]], WaiterConfig=FAST)
    assert_same_waiter_error(mine, theirs)
    assert (mine.code, mine.http_status) == ("UnauthorizedOperation", 403)
    assert mine.reason.startswith("An error occurred (UnauthorizedOperation): ")
    assert mine.last_response["Error"]["Code"] == "UnauthorizedOperation"


def test_targets_across_regions_and_a_role_end_as_the_blocking_waiter(start_emulator, wake):
    emu = fleet_emulator(start_emulator, "--role", ROLE_A)
    with fleet_client(emu) as client:
        west = listing(client, "us-west-2")
        role = latest_in_state(listing(client, "eu-west-3", ROLE_A), "Completed")["AmiId"]
        eu = latest_in_state(listing(client, "eu-west-3"), "Completed")["AmiId"]
    completed = latest_in_state(west, "Completed")["AmiId"]
    failed = latest_in_state(west, "Failed")["AmiId"]
    places = {"client_kwargs": {"sts_endpoint_url": emu.url}, "WaiterConfig": FAST}

    theirs, mine = both_waits(emu, Targets=[{"Region": "us-west-2", "ImageId": completed},
                                            {"Region": "eu-west-3", "RoleArn": ROLE_A, "ImageId": role}], **places)
    assert mine == theirs and [t["AmiId"] for t in mine["StoreImageTaskResults"]] == [completed, role]
    for targets in ([{"Region": "eu-west-3", "ImageId": eu}, {"Region": "us-west-2", "ImageId": failed}],
                    [{"Region": "eu-west-3", "ImageId": eu}, {"Region": "us-west-2", "ImageId": eu}]):
        theirs, mine = both_waits(emu, Targets=targets, NotFoundGrace=0.3, **places)
        assert_same_waiter_error(mine, theirs)
        assert mine.message.startswith(f"us-west-2/{mine.ami_id} ")


@pytest.mark.parametrize("params", [
    {"ImageIds": []},
    {"ImageIds": [ID[1]], "MaxResults": 5},
    {"ImageIds": [ID[1], ""]},
    {"ImageIds": [ID[1]], "WaiterConfig": {"Delay": 1, "Retries": 2}},
    {"ImageIds": [ID[1]], "WaiterConfig": {"Delay": 2**64 // 1000, "MaxAttempts": 2}},
    {"ImageIds": [ID[1]], "Timeout": float("nan")},
    {"ImageIds": [ID[1]], "MaxDelay": 0.001},
    {"Targets": [{"ImageId": ID[1]}], "ImageIds": [ID[1]]},
    {"Targets": [{"Region": "EU WEST", "ImageId": ID[1]}]},  # refused by the library's start
    {"Targets": [{"RoleArn": "arn:nope", "ImageId": ID[1]}]},
    {"Targets": [{"ImageId": "  "}]},
])
def test_waiter_parameters_are_refused_as_the_blocking_waiter_refuses_them(moving, native_calls, params):
    client, ec2 = ours(moving), aours(moving)
    try:
        async def wait():
            return await ec2.get_waiter(WAITER).wait(**params)

        before = moving.stats()["requests"]
        mine = same_error(lambda: client.get_waiter(WAITER).wait(**params), wait)
        assert isinstance(mine, storetasks.ParamValidationError)
        assert moving.stats()["requests"] == before, "nothing was sent"
    finally:
        client.close()
        run(ec2.close())
    assert native_calls["started"] == []


def test_the_asyncio_waiter_takes_no_progress_callable(moving):
    async def main():
        async with aours(moving) as ec2:
            await ec2.get_waiter(WAITER).wait(ImageIds=[ID[7]], progress=print)

    with pytest.raises(storetasks.ParamValidationError,
                       match=r"\nAsyncWaiter\.wait\(\) takes no progress callable: the wait reports no polls$"):
        run(main())


def test_cancelling_a_wait_stops_its_polling_and_frees_the_call(moving, wake, native_calls):
    forever = {"ImageIds": [UNKNOWN], "WaiterConfig": {"Delay": 0.05, "MaxAttempts": 10**6}, "MaxDelay": 0.05,
               "NotFoundGrace": 3600}

    async def main():
        loop = asyncio.get_running_loop()
        idle = watched(loop)
        async with aours(moving) as ec2:
            waiter = ec2.get_waiter(WAITER)
            task = asyncio.ensure_future(waiter.wait(**forever))
            await asyncio.sleep(0.5)
            assert not task.done() and native_calls["freed"] == []
            assert watched(loop) == idle + (wake == "descriptor")
            polls = moving.stats()["describe"]
            assert polls >= 3
            started = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert time.monotonic() - started < 0.5
            assert watched(loop) == idle
            assert_each_freed_once(native_calls, 1)
            await asyncio.sleep(0.3)
            assert moving.stats()["describe"] - polls <= 1, "the polling stopped (one poll may have been under way)"

            started = time.monotonic()
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(waiter.wait(**forever), 0.3)
            assert time.monotonic() - started < 1
            assert_each_freed_once(native_calls, 2)
            return await waiter.wait(ImageIds=[ID[7]])  # the client goes on serving

    assert run(main())["StoreImageTaskResults"][0]["AmiId"] == ID[7]
    assert_each_freed_once(native_calls, 3)


def test_120_waits_at_once_on_the_loop_s_thread_alone(moving, wake, native_calls):
    # Complete 1.5 s and 2 s after the emulator started; not found 1 s after the wait started.
    images = [ID[1], ID[2], UNKNOWN] * 40

    async def main():
        async with aours(moving) as ec2:
            waiter = ec2.get_waiter(WAITER)
            await waiter.wait(ImageIds=[ID[7]])  # whatever starts with the first call
            return await gathered_while_sampling(
                waiter.wait(ImageIds=[image], WaiterConfig=FAST, MaxDelay=0.3, NotFoundGrace=1) for image in images)

    native_calls["count_sockets_at"] = len(images)
    before, samples, after, outcomes = run(main())
    with ours(moving) as client:
        completed = {image: client.get_waiter(WAITER).wait(ImageIds=[image]) for image in (ID[1], ID[2])}
    for image, outcome in zip(images, outcomes):
        if image == UNKNOWN:
            assert isinstance(outcome, storetasks.WaiterError) and outcome.ami_id == UNKNOWN, outcome
            assert outcome.status_name == "STORETASKS_STATUS_NOT_FOUND"
        else:
            assert outcome == completed[image]
    assert len(samples) > 100 and set(samples) == {before[0]}
    assert_all_at_once(native_calls, len(images))  # every wait's call at once
    assert_nothing_left(before, after)
    assert_each_freed_once(native_calls, 1 + len(images))


# -- the fleet call -----------------------------------------------------------------------------


def without_request_ids(result):
    """A fleet result without its places' request ids, which each request has its own."""
    places = [{**place, "Error": {**place["Error"], "RequestId": None}} if "Error" in place else place
              for place in result["Places"]]
    return {"Places": places}


#: Fleets the fleet calls are compared on: failing places (FAULTS), a region given twice, a role,
#: a filter and a dry run.
FLEET_CASES = [
    {"Regions": ["us-east-1", "eu-west-3", "ap-south-1", "ca-central-1", "us-west-2", "eu-west-3"], "MaxResults": 25},
    {"Regions": ["us-west-2", "us-east-1"], "RoleArns": [ROLE_A], "MaxResults": 7},
    {"Regions": ["us-west-2", "us-east-1"], "Filters": [{"Name": "task-state", "Values": ["InProgress"]}]},
    {"Regions": ["us-west-2", "ap-south-1"], "DryRun": True},
]


def fleet_settings(emu):
    """The client settings of the fleet comparisons: the emulator's STS, few and short retries."""
    return {"sts_endpoint_url": emu.url, "retry_mode": "standard", "max_attempts": 2, "connect_timeout": 2,
            "read_timeout": 5, "operation_timeout": 20}


def test_the_fleet_call_equals_the_blocking_client(start_emulator, wake, native_calls):
    emu = fleet_emulator(start_emulator, "--role", ROLE_A, *FAULTS)
    cases, settings = FLEET_CASES, fleet_settings(emu)

    async def main():
        async with aours(emu, **settings) as ec2:
            return await asyncio.gather(*(ec2.describe_store_image_tasks_fleet(**params) for params in cases))

    mine = run(main())
    with impatient_client(emu) as client:
        theirs = [client.describe_store_image_tasks_fleet(**params) for params in cases]
    for got, want in zip(mine, theirs):
        assert list(got) == ["Places", "Regions"] and got["Regions"] is got["Places"]
        assert without_request_ids(got) == without_request_ids(want)
    places = {p["Region"]: p for p in mine[0]["Places"]}
    assert [p["Region"] for p in mine[0]["Places"]] == FLEET_CASES[0]["Regions"][:5]  # the repeated region once
    assert len(places["us-east-1"]["StoreImageTaskResults"]) >= 60 and "Error" not in places["us-east-1"]
    assert {places[r]["Error"]["Status"] for r in ("eu-west-3", "ap-south-1", "ca-central-1")} == \
        {"STORETASKS_STATUS_THROTTLED", "STORETASKS_STATUS_UNAUTHORIZED", "STORETASKS_STATUS_NETWORK"}
    assert {p["Account"] for p in mine[1]["Places"]} == {"111111111111"}
    assert_each_freed_once(native_calls, len(cases))


@pytest.mark.parametrize("params", [
    {"Regions": "us-west-2"},
    {"Regions": ["us-west-2"], "AllRegions": 1},
    {"Regions": ["us-west-2"], "Foo": 1},
    {"Regions": ["us-west-2"], "NextToken": "x"},  # refused by the library's start
    {"Regions": ["EU WEST"]},
    {"Regions": ["us-west-2"], "RoleArns": ["arn:nope"]},
    {"Regions": ["us-west-2"], "MaxResults": 0},
])
def test_fleet_parameters_are_refused_as_the_blocking_client_refuses_them(start_emulator, native_calls, params):
    emu = fleet_emulator(start_emulator)
    client, ec2 = fleet_client(emu), aours(emu, sts_endpoint_url=emu.url)
    try:
        async def fleet():
            return await ec2.describe_store_image_tasks_fleet(**params)

        async def pages():
            # Type errors when the iterable is made, the library's refusals when it is iterated.
            return [item async for item in ec2.describe_store_image_tasks_fleet_pages(**params)]

        before = emu.stats()["requests"]
        mine = same_error(lambda: client.describe_store_image_tasks_fleet(**params), fleet)
        assert isinstance(mine, storetasks.ParamValidationError)
        streamed = same_error(lambda: list(client.describe_store_image_tasks_fleet_pages(**params)), pages)
        assert str(streamed) == str(mine)
        assert emu.stats()["requests"] == before, "nothing was sent"

        async def positional():
            await ec2.describe_store_image_tasks_fleet({"Regions": ["us-west-2"]})

        with pytest.raises(TypeError, match="only accepts keyword arguments"):
            run(positional())
    finally:
        client.close()
        run(ec2.close())
    assert native_calls["started"] == []


@pytest.fixture
def slow_fleet(start_emulator):
    """A fleet emulator whose replies the tests never wait for."""
    return fleet_emulator(start_emulator, "--fault", SLOW + ",count=1000")


async def cancelled_fleet_call(coroutine, native_calls, wake):
    """Runs ``coroutine``, a fleet call, until it waits for news, then cancels it: it ends within a
    second and its native call is freed. Returns how many descriptors the loop watched before."""
    idle = watched(asyncio.get_running_loop())
    task = asyncio.ensure_future(coroutine)
    await cancelled_while_waiting(task, native_calls, wake, idle, 1)
    assert_each_freed_once(native_calls, 1)
    return idle


def test_cancelling_or_closing_stops_a_fleet_call(slow_fleet, wake, native_calls, native_frees):
    async def main():
        ec2 = aours(slow_fleet)
        await cancelled_fleet_call(ec2.describe_store_image_tasks_fleet(Regions=REGIONS), native_calls, wake)

        await assert_closing_ends(ec2, ec2.describe_store_image_tasks_fleet(Regions=REGIONS), native_frees)
        with pytest.raises(storetasks.ClientClosedError,
                           match="^describe_store_image_tasks_fleet was called on a closed AsyncClient$"):
            await ec2.describe_store_image_tasks_fleet(Regions=REGIONS)
        with pytest.raises(storetasks.ClientClosedError,
                           match="^the StoreImageTaskComplete waiter was called on a closed AsyncClient$"):
            await ec2.get_waiter(WAITER).wait(ImageIds=[ID[1]])

    run(main())
    assert_each_freed_once(native_calls, 2)


def test_closing_ends_a_running_wait_as_the_blocking_waiter_ends(moving, wake, native_calls):
    forever = {"ImageIds": [UNKNOWN], "WaiterConfig": {"Delay": 0.05, "MaxAttempts": 10**6}, "NotFoundGrace": 3600}

    async def main():
        ec2 = aours(moving)
        with ours(moving) as client:
            blocking = asyncio.ensure_future(asyncio.to_thread(client.get_waiter(WAITER).wait, **forever))
            mine = asyncio.ensure_future(ec2.get_waiter(WAITER).wait(**forever))
            await asyncio.sleep(0.3)
            started = time.monotonic()
            client.close()
            await ec2.close()
            outcomes = await asyncio.gather(blocking, mine, return_exceptions=True)
            return time.monotonic() - started, outcomes

    took, (theirs, mine) = run(main())
    assert took < 1
    assert type(mine) is type(theirs) is storetasks.ClientClosedError
    assert (str(mine), mine.status_name) == (str(theirs), theirs.status_name) == \
        ("the call was cancelled: the client was closed", "STORETASKS_STATUS_CANCELLED")
    assert_each_freed_once(native_calls, 1)


# -- the fleet listed page by page ----------------------------------------------------------------


def by_place(items):
    """A fleet's streamed ``(region, account, page)`` items as {(region, account): [page without
    its ResponseMetadata, ...]}: the pages of a place come in order, those of different places
    interleave as they arrive."""
    out = {}
    for region, account, page in items:
        assert page["ResponseMetadata"]["HTTPStatusCode"] == 200 and page["ResponseMetadata"]["RequestId"]
        out.setdefault((region, account), []).append(comparable(page))
    return out


async def streamed(pages):
    """Every item of an iteration of an AsyncFleetPages, then its result."""
    return [item async for item in pages], pages.result


def test_fleet_pages_equal_the_blocking_client_s(start_emulator, wake, native_calls):
    emu = fleet_emulator(start_emulator, "--role", ROLE_A, *FAULTS)
    cases, settings = FLEET_CASES, fleet_settings(emu)

    async def main():
        async with aours(emu, **settings) as ec2:
            return await asyncio.gather(*(streamed(ec2.describe_store_image_tasks_fleet_pages(**params))
                                          for params in cases))

    mine = run(main())
    with impatient_client(emu) as client:
        theirs = []
        for params in cases:
            pages = client.describe_store_image_tasks_fleet_pages(**params)
            theirs.append((list(pages), pages.result))
    for (items, result), (want_items, want_result) in zip(mine, theirs):
        assert all(type(item) is tuple and len(item) == 3 for item in items)
        assert by_place(items) == by_place(want_items)
        assert list(result) == ["Places", "Regions"] and result["Regions"] is result["Places"]
        assert without_request_ids(result) == without_request_ids(want_result)
        assert [p["TaskCount"] for p in result["Places"]] == [
            sum(len(page["StoreImageTaskResults"]) for region, _, page in items if region == p["Region"])
            for p in result["Places"]]
    places = {p["Region"]: p for p in mine[0][1]["Places"]}
    assert places["us-east-1"]["TaskCount"] >= FLEET_TASKS and "Error" not in places["us-east-1"]
    assert {places[r]["Error"]["Status"] for r in ("eu-west-3", "ap-south-1", "ca-central-1")} == \
        {"STORETASKS_STATUS_THROTTLED", "STORETASKS_STATUS_UNAUTHORIZED", "STORETASKS_STATUS_NETWORK"}
    # With a role, the pages name its account and the outcomes its ARN.
    role_items, role_result = mine[1]
    assert {(region, account) for region, account, _ in role_items} == \
        {("us-west-2", "111111111111"), ("us-east-1", "111111111111")}
    assert [(p["Account"], p["RoleArn"]) for p in role_result["Places"]] == [("111111111111", ROLE_A)] * 2
    assert {account for _, account, _ in mine[0][0]} == {None}
    assert mine[3][0] == [] and {p["Error"]["Code"] for p in mine[3][1]["Places"]} == \
        {"DryRunOperation", "UnauthorizedOperation"}
    assert_each_freed_once(native_calls, len(cases))


def test_a_task_the_package_cannot_read_fails_its_place_alone_in_the_fleet_pages(start_emulator, native_calls):
    emu = year_one_emulator(start_emulator)
    params = {"Regions": ["us-east-1", "eu-west-3"], "MaxResults": 1}

    async def main():
        async with aours(emu) as ec2:
            return await streamed(ec2.describe_store_image_tasks_fleet_pages(**params))

    items, result = run(main())
    with fleet_client(emu) as client:
        pages = client.describe_store_image_tasks_fleet_pages(**params)
        want_items = list(pages)
    assert by_place(items) == by_place(want_items)
    assert result == pages.result
    tasks = {}
    for region, _, page in items:
        tasks.setdefault(region, []).extend(page["StoreImageTaskResults"])
    assert tasks == {"us-east-1": readable("us-east-1"), "eu-west-3": readable("eu-west-3", 2)}
    healthy, failed = result["Places"]
    assert healthy == {"Region": "us-east-1", "Account": None, "TaskCount": 2}
    assert list(failed) == ["Region", "Account", "TaskCount", "Error"] and failed["TaskCount"] == 2
    check_unreadable_error(failed["Error"])
    assert_each_freed_once(native_calls, 1)


def test_leaving_the_fleet_pages_early_stops_every_listing_and_frees_the_call(start_emulator, wake, native_calls):
    emu = fleet_emulator(start_emulator)
    params = {"Regions": REGIONS, "MaxResults": 10}  # 6 pages a region

    async def main():
        loop = asyncio.get_running_loop()
        idle = watched(loop)
        async with aours(emu) as ec2:
            pages = ec2.describe_store_image_tasks_fleet_pages(**params)
            iterator = pages.__aiter__()
            region, account, page = await iterator.__anext__()
            assert region in REGIONS and account is None and len(page["StoreImageTaskResults"]) == 10
            await asyncio.sleep(0.3)  # time to run ahead
            assert native_calls["freed"] == []
            await iterator.aclose()
            assert pages.stopped and pages.result is None
            assert watched(loop) == idle
            assert_each_freed_once(native_calls, 1)
            # A request already on the wire may still reach the emulator's count: let those land,
            # then no request may start any more.
            await asyncio.sleep(0.3)
            describes = emu.stats()["describe"]
            await asyncio.sleep(0.5)
            assert emu.stats()["describe"] == describes, "nothing is listed after the iteration stopped"

            # aclose() of the object closes the iteration it holds; so does the end of async with.
            iterator = pages.__aiter__()
            await iterator.__anext__()
            await pages.aclose()
            assert pages.stopped and pages.result is None
            assert_each_freed_once(native_calls, 2)
            async with ec2.describe_store_image_tasks_fleet_pages(**params) as held:
                iterator = held.__aiter__()
                await iterator.__anext__()
            assert held.stopped and held.result is None
            assert_each_freed_once(native_calls, 3)
            await held.aclose()  # again

            # Left by a break: asyncio closes the generator once it is collected.
            async for _ in pages:
                break
            for _ in range(10):
                await asyncio.sleep(0.01)
            assert pages.stopped and pages.result is None
            assert_each_freed_once(native_calls, 4)

            # Iterating again runs the call again, from the beginning.
            items, result = await streamed(pages)
            assert sum(len(page["StoreImageTaskResults"]) for _, _, page in items) == FLEET_TASKS * len(REGIONS)
            assert not pages.stopped
            assert [(p["Region"], p["TaskCount"]) for p in result["Places"]] == [(r, FLEET_TASKS) for r in REGIONS]
            assert_each_freed_once(native_calls, 5)
            assert watched(loop) == idle

    run(main())


def test_cancelling_or_closing_ends_the_fleet_pages(slow_fleet, wake, native_calls, native_frees):
    async def main():
        ec2 = aours(slow_fleet)
        pages = ec2.describe_store_image_tasks_fleet_pages(Regions=REGIONS)
        idle = await cancelled_fleet_call(streamed(pages), native_calls, wake)
        assert (pages.result, pages.stopped) == (None, False)

        started = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(streamed(pages), 0.3)
        assert time.monotonic() - started < 1 and watched(asyncio.get_running_loop()) == idle
        assert_each_freed_once(native_calls, 2)

        await assert_closing_ends(ec2, streamed(pages), native_frees)
        assert (pages.result, pages.stopped) == (None, False)
        with pytest.raises(storetasks.ClientClosedError,
                           match="^describe_store_image_tasks_fleet_pages was called on a closed AsyncClient$"):
            await streamed(pages)

    run(main())
    assert_each_freed_once(native_calls, 3)


def test_100_fleet_iterations_at_once_on_the_loop_s_thread_alone(start_emulator, wake, native_calls):
    emu = fleet_emulator(start_emulator, "--role", ROLE_A, "--fault", "delay,ms=200,count=1000000")
    params = {"Regions": ["us-west-2", "eu-west-3"], "RoleArns": [ROLE_A], "MaxResults": 25}
    with fleet_client(emu) as client:
        pages = client.describe_store_image_tasks_fleet_pages(**params)
        want = by_place(pages), pages.result
    assert sum(map(len, want[0].values())) == 6 and {account for _, account in want[0]} == {"111111111111"}

    async def one(ec2):
        items, result = await streamed(ec2.describe_store_image_tasks_fleet_pages(**params))
        return by_place(items), result

    async def main():
        async with aours(emu, sts_endpoint_url=emu.url) as ec2:
            await one(ec2)  # whatever starts with the first call
            return await gathered_while_sampling(one(ec2) for _ in range(100))

    native_calls["count_sockets_at"] = 100
    before, samples, after, results = run(main())
    assert results == [want] * 100
    assert len(samples) > 100 and set(samples) == {before[0]}
    assert_all_at_once(native_calls, 100)  # every iteration's call at once
    assert_nothing_left(before, after)
    assert_each_freed_once(native_calls, 101)

"""asyncio: the client of this package with aiobotocore's shapes, over libstoretasks's calls that
do not block::

    from storetasks.aio import AsyncClient

    async with AsyncClient(region="us-east-1") as ec2:
        first = await ec2.describe_store_image_tasks(MaxResults=10)
        async for page in ec2.get_paginator("describe_store_image_tasks").paginate():
            for task in page["StoreImageTaskResults"]:
                print(task["AmiId"], task.get("ProgressPercentage"))
        await ec2.get_waiter("store_image_task_complete").wait(ImageIds=["ami-0123456789abcdef0"])
        fleet = await ec2.describe_store_image_tasks_fleet(Regions=["eu-west-3", "us-west-2"])
        async for region, account, page in ec2.describe_store_image_tasks_fleet_pages(Regions=["eu-west-3"]):
            print(region, account, len(page["StoreImageTaskResults"]))

What it offers: ``await describe_store_image_tasks(**params)`` (one page, as
``storetasks_client_describe_start`` fetches it) and ``get_paginator("describe_store_image_tasks")``,
whose ``paginate(**params)`` is an async iterator of pages (``storetasks_client_describe_pages_start``)
with ``await build_full_result()`` and ``async for ... in search(expression)``;
``get_waiter("store_image_task_complete")`` and ``waiter_names``, the waiter's ``await
wait(**params)`` waiting for ``ImageIds`` (``storetasks_client_wait_start``) or ``Targets``
(``storetasks_client_wait_targets_start``); ``await describe_store_image_tasks_fleet(**params)``
(``storetasks_client_describe_fleet_start``) and ``describe_store_image_tasks_fleet_pages(**params)``,
an async iterator of ``(region, account, page)`` whose ``result`` holds each place's outcome once
the iteration has ended (``storetasks_client_describe_fleet_pages_start``, see
:class:`AsyncFleetPages`); ``can_paginate``, ``close()`` and ``async with``.
The parameters, the result dictionaries and the exceptions are those of
:class:`storetasks.Client`, its waiter (:mod:`storetasks.waiter`) and its fleet calls
(:mod:`storetasks.fleet`), with two differences in the waiter, whose wait that does not block
reports no polls: ``wait()`` takes no ``progress`` callable, and a ``WaiterError`` has no
``last_response`` (None) but for a service error's, so that the reason of a timeout has no
"Previously accepted state"; and one in the fleet listed page by page: an iteration left early
leaves ``result`` None, as libstoretasks ends a cancelled call without outcomes.

How a call waits: it starts the C call, which runs on the client's own threads, and takes what is
ready; while the take answers ``STORETASKS_STATUS_PENDING`` it awaits a future that the event loop
completes when the call's descriptor (``storetasks_call_fd``) becomes readable (``loop.add_reader``).
Where calls have no descriptor (Windows), the call's callback, run on a library thread, completes
the future through ``loop.call_soon_threadsafe``. No thread is started for a call: any number of
calls may be in flight on the loop's one thread.

Cancelling the task that awaits a call (``task.cancel()``, ``asyncio.wait_for``, ``asyncio.timeout``)
stops the wait, cancels the C call and frees it; so does closing an async iterator of pages or of
a fleet's pages (``aclose()``, or asyncio's own closing of a generator abandoned or left when the
loop shuts down).
"""

import asyncio
import contextlib
import ctypes
import inspect
import sys
import threading
import weakref

from . import _marshal as M
from . import _native as N
from . import fleet
from .client import BotoShape, Client
from .exceptions import ClientClosedError, ParamValidationError
from .paginate import PageIterator, Paginator, _found, _Walk
from .waiter import Waiter, wait_arguments, wait_parameters

__all__ = ["AsyncClient", "AsyncFleetPages", "AsyncPageIterator", "AsyncPaginator", "AsyncWaiter"]

#: Whether calls tell of their news through their callback rather than their descriptor: where
#: there are no descriptors (Windows). The tests set it to run that way elsewhere too.
WAKE_BY_CALLBACK = sys.platform == "win32"


def _wake(future):
    if not future.done():
        future.set_result(None)


def _wake_owner(ref):
    """On the loop's thread: completes the future the owner of a call awaits, if it awaits one."""
    call = ref()
    if call is not None and call._waiter is not None:
        _wake(call._waiter)


def _callback(loop, ref):
    """A storetasks_call_callback, run on a library thread, that hands the news to the loop."""

    def news(_call, _user_data):
        try:
            loop.call_soon_threadsafe(_wake_owner, ref)
        except BaseException:  # noqa: BLE001 - the loop is closed; nothing may cross the C frames
            pass

    return N.CallCallback(news)


class _Call:
    """One native call, owned by the coroutine that started it: it waits for the call's news on
    the event loop and frees the call exactly once (free(), or the garbage collector as a last
    resort). ``on_close`` is run by the client's close(), from any thread."""

    def __init__(self, loop, endpoint_url):
        self._loop = loop
        self._endpoint_url = endpoint_url
        self._ptr = None
        self._lock = threading.Lock()  # between free() and on_close(), which may run on another thread
        self._fd = -1
        self._callback = None  # the C callback, kept as long as the call exists
        self._waiter = None  # the future the owner awaits, while it waits through the callback
        self._reading = False  # whether the loop watches the descriptor
        #: Whether close() cancelled the call.
        self.closed = False

    def start(self, function, *arguments):
        """Starts the call with ``function`` (a storetasks_client_*_start name) and its
        ``arguments`` up to the callback; raises what a refused start means."""
        lib = N.calls()
        callback = _callback(self._loop, weakref.ref(self)) if WAKE_BY_CALLBACK else N.CallCallback()
        ptr = ctypes.POINTER(N.Call)()
        err = ctypes.POINTER(N.Error)()
        status = getattr(lib, function)(*arguments, callback, None, ctypes.byref(ptr), ctypes.byref(err))
        if not M.is_status(status, "OK"):
            raise M.exception(status, err, self._endpoint_url)
        self._callback = callback
        if not WAKE_BY_CALLBACK:
            self._fd = lib.storetasks_call_fd(ptr)
        with self._lock:
            self._ptr = ptr
            if self.closed:  # close() ran while the call started
                lib.storetasks_call_cancel(ptr)

    def on_close(self):
        with self._lock:
            self.closed = True
            if self._ptr:
                N.lib().storetasks_call_cancel(self._ptr)

    async def take(self, function, kind=N.TaskList):
        """(status, pointer to a ``kind``, error object) of what the call hands over next
        (``function``: a storetasks_call_take_* or storetasks_call_next_page name), all of it now
        the caller's to free. Waits on the loop while there is nothing to take yet."""
        lib = N.calls()
        while True:
            out = ctypes.POINTER(kind)()
            err = ctypes.POINTER(N.Error)()
            status = getattr(lib, function)(self._ptr, ctypes.byref(out), ctypes.byref(err))
            if not M.is_status(status, "PENDING"):
                return status, out, err
            await self._news()

    async def next(self, function, read=M.response):
        """What ``read`` (by default the dict) makes of the list the call hands over next
        (``function``: storetasks_call_take_list or storetasks_call_next_page), or None at the end
        of a listing; raises the exception of a failed call."""
        status, out, err = await self.take(function)
        if M.is_status(status, "OK") and not out:
            return None
        return M.outcome(status, out, err, self.closed, self._endpoint_url, read)

    async def _news(self):
        """Returns once the call may have something to take."""
        future = self._loop.create_future()
        if self._callback:
            self._waiter = future
            try:
                await future
            finally:
                self._waiter = None
            return
        self._loop.add_reader(self._fd, _wake, future)
        self._reading = True
        try:
            await future
        finally:
            self._stop_reading()

    def _stop_reading(self):
        if self._reading:
            self._reading = False
            if not self._loop.is_closed():  # a closed loop watches nothing
                self._loop.remove_reader(self._fd)

    def free(self):
        """Stops watching the descriptor, then cancels and frees the native call (the cancel does
        nothing to a call that has ended). Safe to repeat."""
        self._stop_reading()  # before the descriptor goes away with the call
        with self._lock:
            ptr, self._ptr = self._ptr, None
        if ptr:
            lib = N.lib()
            lib.storetasks_call_cancel(ptr)
            lib.storetasks_call_free(ptr)  # waits for a callback running on another thread
        self._callback = None

    def __del__(self):
        try:
            self.free()
        except Exception:  # noqa: BLE001 - interpreter shutdown: the library may be gone
            pass


def _query(params, *extra):
    """Checks a listing's parameters (raising ParamValidationError with botocore's wording) and
    returns its C arguments after the client: a context manager of (a new storetasks_query,
    ``extra``...), the query freed on leaving it."""
    problems = M.validate(params)
    if problems:
        raise ParamValidationError("\n".join(problems))
    return _built_query(params, extra)


@contextlib.contextmanager
def _built_query(params, extra):
    query = M.build_query(params)
    try:
        yield (query, *extra)
    finally:
        N.lib().storetasks_query_free(query)


class AsyncPageIterator(PageIterator):
    """``paginate()``'s result: ``async for page in ...`` (each iteration starts again from the
    beginning), ``await build_full_result()``, ``async for result in search(expression)``.
    The pages are those of the blocking :class:`~storetasks.PageIterator`, with the same
    ``PaginationConfig``. libstoretasks runs the listing, at most two pages ahead of the
    iteration, and follows its tokens itself: one that repeats or restarts raises
    ResponseParserError (where the blocking iterator raises PaginationError)."""

    __iter__ = None  # not a blocking iterable

    def __aiter__(self):
        return self._pages()

    async def _pages(self):
        walk = _Walk(self)
        with self._method(walk.kwargs) as call:
            while True:
                page = await call.next("storetasks_call_next_page")
                if page is None:
                    return
                yield walk.page(page)
                if not walk.follow():
                    return

    async def build_full_result(self):
        """Every page's tasks in one dict, with ``NextToken`` set to the resume token when
        ``MaxItems`` stopped the listing early."""
        result = {}
        async for page in self:
            self._add_to_full_result(result, page)
        return self._full_result(result)

    async def search(self, expression):
        """botocore's ``search``: a JMESPath expression over each page (needs ``jmespath``)."""
        import jmespath

        compiled = jmespath.compile(expression)
        async for page in self:
            for result in _found(compiled, page):
                yield result


class AsyncPaginator(Paginator):
    """``client.get_paginator("describe_store_image_tasks")`` of an :class:`AsyncClient`."""

    PAGE_ITERATOR_CLS = AsyncPageIterator


class AsyncFleetPages(fleet.FleetPagesBase):
    """``AsyncClient.describe_store_image_tasks_fleet_pages(...)``: ``async for region, account,
    page in ...`` gives the items of the blocking :class:`storetasks.fleet.FleetPages`, one per
    page as it arrives from any place (each iteration runs the fleet call again, from the
    beginning), and once an iteration has ended ``result`` is the blocking one's: each place's
    outcome, with its ``"TaskCount"``. Over ``storetasks_client_describe_fleet_pages_start``:
    at most two pages wait for the iteration in the call and ``max_concurrency`` in the listings,
    which then wait for room, so memory stays bounded however slowly the loop runs.

    Leaving the loop early cancels the native call and frees it: at once with ``await aclose()``
    (of the object, or of the iterator ``__aiter__()`` returned) or at the end of an ``async
    with`` block; after a ``break`` (or an exception out of the loop body), as soon as asyncio
    has closed the abandoned generator, as for an iteration of pages. ``stopped`` is then True and
    ``result`` None: libstoretasks ends a cancelled call without outcomes. Cancelling the task
    that awaits a page frees the call too and leaves ``stopped`` False, as do the errors that end
    the whole call, which the iteration raises.
    """

    def __aiter__(self):
        return self._track(self._items())

    async def aclose(self):
        """Stops the iteration in progress, if any (as a ``break`` would). Safe to repeat."""
        generator = self._last()
        if generator is not None:
            await generator.aclose()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.aclose()

    async def _items(self):
        lib = N.calls()
        delivered = fleet.Delivered()

        def read(page):
            return delivered.item(lib.storetasks_task_list_region(page), lib.storetasks_task_list_account(page), page)

        with self._client._started("describe_store_image_tasks_fleet_pages",
                                   "storetasks_client_describe_fleet_pages_start",
                                   fleet.arguments(self._params)) as call:
            try:
                while (item := await call.next("storetasks_call_next_page", read)) is not None:
                    if item:  # else a page of a place that failed with a task the package cannot read
                        yield item
            except GeneratorExit:
                self.stopped = True
                raise
            status, result, err = await call.take("storetasks_call_take_fleet", N.FleetResult)
            self._end(lib, status, result, err, None, call.closed, delivered)


class AsyncWaiter(Waiter):
    """``get_waiter("store_image_task_complete")`` of an :class:`AsyncClient`: ``await
    wait(...)``, over ``storetasks_client_wait_start`` (``ImageIds``) or
    ``storetasks_client_wait_targets_start`` (``Targets``)."""

    async def wait(self, WaiterConfig=None, Timeout=None, NotFoundGrace=None, MaxDelay=None,  # noqa: N803
                   **kwargs):
        """Waits until the latest store task of every image in ``ImageIds`` (or of every target
        in ``Targets``) is Completed, and returns the final response; the parameters, the
        settings and the exceptions are those of :meth:`storetasks.Waiter.wait` (see
        :mod:`storetasks.waiter`), but for ``progress``: the wait that does not block reports no
        polls, so there is none, and ``WaiterError.last_response`` is None unless the service
        answered with an error."""
        if kwargs.pop("progress", None) is not None:
            raise ParamValidationError("AsyncWaiter.wait() takes no progress callable: the wait reports no polls")
        kind, images, settings = wait_parameters(kwargs, WaiterConfig, Timeout, NotFoundGrace, MaxDelay)
        function = "storetasks_client_wait_targets_start" if kind == "Targets" else "storetasks_client_wait_start"
        arguments = wait_arguments(N.calls(), kind, images, settings)
        with self._client._started(f"the {self.name} waiter", function, arguments) as call:
            status, task_list, err = await call.take("storetasks_call_take_list")
            # Turned into its result at once, inside the call's block: what the take handed over
            # is freed even when an exception comes while the call is freed.
            return self._outcome(status, task_list, err, call.closed, kind == "Targets")


class AsyncClient(BotoShape):
    """An EC2 client for DescribeStoreImageTasks on asyncio, with aiobotocore's interface for
    that call. It takes the settings of :class:`storetasks.Client` and holds one.

    ``close()`` (awaited, or the end of an ``async with`` block) cancels the calls in flight, which
    raise :class:`~storetasks.ClientClosedError`, and frees the native client, at once when no
    call is in flight, else when the last one ends (an iteration of pages counts until it ends or
    is closed). Calls made after it raise ClientClosedError. Like :meth:`storetasks.Client.close`,
    it returns at once for the calls of its own thread and waits for those of other threads.
    """

    _PAGINATOR, _WAITER, _FLEET_PAGES, _PAGED = AsyncPaginator, AsyncWaiter, AsyncFleetPages, "_listing"

    def __init__(self, *args, **kwargs):
        self._client = Client(*args, **kwargs)

    __init__.__signature__ = inspect.signature(Client.__init__)

    @property
    def endpoint_url(self):
        return self._client.endpoint_url

    @property
    def closed(self):
        return self._client.closed

    def __repr__(self):
        state = "closed" if self.closed else "open"
        return f"<storetasks.aio.AsyncClient endpoint_url={self.endpoint_url!r} {state}>"

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()

    async def close(self):
        """Closes the client (see the class); safe to repeat."""
        self._client.close()

    @contextlib.contextmanager
    def _started(self, operation, function, arguments):
        """A started _Call of ``function``, held on the native client while it exists; freed on
        leaving the block, however it is left. ``arguments``: a context manager of the C
        arguments after the client, which the library copies at the start: left once the call
        has started."""
        if self.closed:
            raise ClientClosedError(f"{operation} was called on a closed AsyncClient")
        call = _Call(asyncio.get_running_loop(), self.endpoint_url)
        with self._client._call(call.on_close) as handle:
            with arguments as after_client:
                call.start(function, handle, *after_client)
            try:
                yield call
            finally:
                call.free()

    async def describe_store_image_tasks(self, *args, **kwargs):
        """One DescribeStoreImageTasks call, with boto3's parameters and result (see
        :meth:`storetasks.Client.describe_store_image_tasks`)."""
        if args:
            raise TypeError("describe_store_image_tasks() only accepts keyword arguments.")
        with self._started("describe_store_image_tasks", "storetasks_client_describe_start", _query(kwargs)) as call:
            return await call.next("storetasks_call_take_list")

    def _listing(self, kwargs):
        """The paginator's listing: a started page-by-page call (see _started)."""
        return self._started("the describe_store_image_tasks paginator", "storetasks_client_describe_pages_start",
                             _query(kwargs, 0))

    async def describe_store_image_tasks_fleet(self, *args, **kwargs):
        """The query in many regions and accounts at once, over
        ``storetasks_client_describe_fleet_start``: the parameters, the result (``"Places"``, and
        its deprecated alias ``"Regions"``) and the exceptions of
        :meth:`storetasks.Client.describe_store_image_tasks_fleet` (see :mod:`storetasks.fleet`)."""
        if args:
            raise TypeError("describe_store_image_tasks_fleet() only accepts keyword arguments.")
        fleet.validate(kwargs)
        with self._started("describe_store_image_tasks_fleet", "storetasks_client_describe_fleet_start",
                           fleet.arguments(kwargs)) as call:
            status, result, err = await call.take("storetasks_call_take_fleet", N.FleetResult)
            return fleet.outcome(status, result, err, call.closed, self.endpoint_url)


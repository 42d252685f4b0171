"""One DescribeStoreImageTasks query in many regions and accounts at once (libstoretasks's fleet
calls), as ``Client.describe_store_image_tasks_fleet`` and its streaming form
``Client.describe_store_image_tasks_fleet_pages``.

::

    fleet = client.describe_store_image_tasks_fleet(Regions=["eu-west-3", "us-west-2"],
                                                    Filters=[{"Name": "task-state", "Values": ["InProgress"]}])
    for place in fleet["Places"]:
        print(place["Region"], place.get("Error", {}).get("Code"), len(place["StoreImageTaskResults"]))

A place is one (account, region) pair. The fleet names its regions (``Regions``) or asks for
every region enabled for each account (``AllRegions=True``, from EC2 DescribeRegions; regions
that are not opted in are left out). Without ``RoleArns`` the client's own credentials list
every region (``Account`` is None); with them, each role is assumed once and lists its own
account's regions. Places come in that order: accounts in the order of ``RoleArns``, then regions
in the order of ``Regions`` (or sorted by name with ``AllRegions``).

The result is ``{"Places": [<place>, ...]}``, as ``storetasks_fleet_result_to_json`` writes it,
and it also holds ``"Regions"``: a deprecated alias of ``"Places"``, the very same list object
(``result["Regions"] is result["Places"]``), which earlier releases named so. It will be removed
at 1.0: read ``"Places"``. Only the result is renamed; ``Regions=[...]`` stays the parameter
that names the regions to list.

The other parameters are those of ``describe_store_image_tasks`` (``ImageIds``, ``Filters``,
``MaxResults``, ``DryRun``), sent to every place; ``MaxResults`` is the page size, and every
place is listed to its end. A ``NextToken`` is refused: it belongs to one region's listing.

A place that fails (throttled, denied, unreachable, a role that cannot be assumed...) does not
fail the call: its entry carries ``"Error": {"Status", "Code", "Message", "HttpStatus",
"RequestId"}`` (``Status`` is the libstoretasks status name such as
``"STORETASKS_STATUS_THROTTLED"``; the others are None when the failure has none) and the tasks
it read before it failed. A task the package cannot read (a ``TaskStartTime`` that ``datetime``
cannot hold, before year 1 or after 9999) fails its place alone: the place keeps the tasks before
it, and its ``Error`` (status ``STORETASKS_STATUS_RESPONSE``, no code) names the task, replacing
any other; in the streaming form, that place's pages from the one with the task on are not handed
to the loop, and its ``TaskCount`` counts those that were. A ``DryRun`` answers in every place
with the error ``DryRunOperation`` (status ``STORETASKS_STATUS_DRY_RUN_OK``) when the request
would have succeeded there. Only what ends the whole call raises: parameters the library refuses
(:class:`~storetasks.ParamValidationError`), ``close()`` (:class:`~storetasks.ClientClosedError`),
KeyboardInterrupt and the other exceptions a signal handler raises.

The call runs on a worker thread while the calling thread waits, so that Ctrl-C ends it at
once: whatever interrupts the wait cancels the native call, lets it return and is then raised.
On asyncio, ``await AsyncClient.describe_store_image_tasks_fleet(...)`` (:mod:`storetasks.aio`)
makes the same call without a thread, and ``async for region, account, page in
AsyncClient.describe_store_image_tasks_fleet_pages(...)`` the streaming one.
"""

import contextlib
import ctypes
import weakref

from . import _marshal as M
from . import _native as N
from . import _worker
from .exceptions import ParamValidationError, ResponseParserError

#: The fleet's own parameters; the query's are _marshal's (NextToken is left for the library to
#: refuse with its reason).
FLEET_MEMBERS = ("Regions", "AllRegions", "RoleArns")
QUERY_MEMBERS = tuple(m for m in M._MEMBERS if m != "NextToken")


def validate(params):
    """Raises ParamValidationError, with botocore's wording, for parameters of the wrong type."""
    problems = []
    known = FLEET_MEMBERS + QUERY_MEMBERS
    for key in params:
        if key not in known and key not in M._MEMBERS:
            problems.append(f'Unknown parameter in input: "{key}", must be one of: {", ".join(known)}')
    for name in ("Regions", "RoleArns"):
        if name not in params:
            continue
        value = params[name]
        if not isinstance(value, (list, tuple)):
            problems.append(M._type_error(name, value, (list, tuple)))
            continue
        for i, item in enumerate(value):
            if not isinstance(item, str):
                problems.append(M._type_error(f"{name}[{i}]", item, (str,)))
    if "AllRegions" in params and not isinstance(params["AllRegions"], bool):
        problems.append(M._type_error("AllRegions", params["AllRegions"], (bool,)))
    problems += M.validate({k: v for k, v in params.items() if k in M._MEMBERS})
    if problems:
        raise ParamValidationError("\n".join(problems))


@contextlib.contextmanager
def arguments(params):
    """A new (storetasks_fleet, storetasks_query) for validated parameters, both freed on leaving
    the block."""
    lib = N.lib()
    query = M.build_query({k: v for k, v in params.items() if k in M._MEMBERS})
    try:
        fleet = lib.storetasks_fleet_new()
        if not fleet:
            raise MemoryError("storetasks_fleet_new")
        try:
            def check(status, what):
                M.check_setter(status, f"parameter {what}", lib.storetasks_fleet_last_error, fleet)

            for i, region in enumerate(params.get("Regions", ())):
                what = f"Regions[{i}]"
                check(lib.storetasks_fleet_add_region(fleet, M.c_string(what, region)), what)
            if params.get("AllRegions"):
                check(lib.storetasks_fleet_set_all_regions(fleet, True), "AllRegions")
            for i, arn in enumerate(params.get("RoleArns", ())):
                what = f"RoleArns[{i}]"
                check(lib.storetasks_fleet_add_role_arn(fleet, M.c_string(what, arn)), what)
            yield fleet, query
        finally:
            lib.storetasks_fleet_free(fleet)
    finally:
        lib.storetasks_query_free(query)


def _error(lib, err):
    """A place's error (borrowed from its result) as a dict; every member is there, None when the
    failure has no such detail."""
    http_status = lib.storetasks_error_http_status(err)
    return {
        "Status": N.status_name(lib.storetasks_error_status(err)),
        "Code": N.text(lib.storetasks_error_code(err)),
        "Message": N.text(lib.storetasks_error_message(err)),
        "HttpStatus": http_status or None,
        "RequestId": N.text(lib.storetasks_error_request_id(err)),
    }


def _unreadable(e):
    """The error of a place with a task the package cannot read (a ResponseParserError, such as a
    TaskStartTime datetime cannot hold), in the shape of _error's."""
    return {"Status": e.status_name, "Code": None, "Message": e.message, "HttpStatus": None, "RequestId": None}


def _place(lib, result, i, with_tasks):
    """Place ``i`` of a fleet result as a dict (strings copied: the result is freed after).
    ``with_tasks``: its tasks as boto3's task dicts, up to the first one the package cannot read,
    whose error then replaces the place's own; otherwise the count of tasks it delivered."""
    out = {"Region": N.text(lib.storetasks_fleet_result_region(result, i)),
           "Account": N.text(lib.storetasks_fleet_result_account(result, i))}
    role_arn = N.text(lib.storetasks_fleet_result_role_arn(result, i))
    if role_arn is not None:
        out["RoleArn"] = role_arn
    unreadable = None
    if with_tasks:
        tasks = lib.storetasks_fleet_result_tasks(result, i)
        views = lib.storetasks_task_list_tasks(tasks)
        out["StoreImageTaskResults"] = []
        for j in range(lib.storetasks_task_list_len(tasks)):
            try:
                out["StoreImageTaskResults"].append(M.task(views[j]))
            except ResponseParserError as e:
                unreadable = _unreadable(e)
                break
    else:
        out["TaskCount"] = lib.storetasks_fleet_result_task_count(result, i)
    err = lib.storetasks_fleet_result_error(result, i)
    if unreadable is not None:
        out["Error"] = unreadable
    elif err:
        out["Error"] = _error(lib, err)
    return out


class Delivered:
    """What an iteration of a streaming fleet call handed to its loop, by place (region, account):
    the count of tasks, and the error of a place with a task the package cannot read, whose pages
    from that one on are dropped (that place fails alone)."""

    def __init__(self):
        self._tasks = {}
        self._unreadable = {}

    def item(self, region, account, page):
        """The ``(region, account, page dict)`` item of a page (``region`` and ``account`` as C
        strings, ``page`` a task list, borrowed), or ``()`` for a page not handed to the loop."""
        place = (N.text(region), N.text(account))
        if place in self._unreadable:
            return ()
        try:
            response = M.response(page)
        except ResponseParserError as e:
            self._unreadable[place] = _unreadable(e)
            return ()
        self._tasks[place] = self._tasks.get(place, 0) + len(response["StoreImageTaskResults"])
        return (*place, response)

    def outcomes(self, lib, result):
        """The result dict of the streaming form for the call's storetasks_fleet_result (not
        freed): each place's outcome, with the count and the error of a place that failed here."""
        out = _places(lib, result, with_tasks=False)
        for place in out["Places"]:
            key = (place["Region"], place["Account"])
            if key in self._unreadable:
                place["TaskCount"] = self._tasks.get(key, 0)
                place["Error"] = self._unreadable[key]
        return out


def _places(lib, result, with_tasks):
    """The result dict: ``"Places"``, and ``"Regions"``, its deprecated alias until 1.0 (the same
    list object, so that what is changed through one shows through the other)."""
    places = [_place(lib, result, i, with_tasks) for i in range(lib.storetasks_fleet_result_len(result))]
    return {"Places": places, "Regions": places}


def _raise_failure(lib, status, err, error, closed, endpoint_url):
    """Raises for a fleet call that did not succeed (``status``, its error object ``err``, which
    is freed): ``error`` when something stopped the call, else ClientClosedError when ``close()``
    cancelled it (``closed``), else the library's error."""
    if error is not None:
        lib.storetasks_error_free(err)
        raise error
    if closed and M.is_status(status, "CANCELLED"):
        lib.storetasks_error_free(err)
        raise M.closed_error(status)
    raise M.exception(status, err, endpoint_url)


def describe(client, params):
    """``Client.describe_store_image_tasks_fleet``: see the module's documentation."""
    validate(params)
    lib = N.lib()
    result = ctypes.POINTER(N.FleetResult)()
    err = ctypes.POINTER(N.Error)()
    error = None
    with arguments(params) as (fleet, query):
        cancel = lib.storetasks_cancel_new()
        try:
            if not cancel:
                raise MemoryError("storetasks_cancel_new")
            worker = _worker.Worker(lib, cancel, "storetasks-fleet")
            try:
                worker.start(client, lambda handle: lib.storetasks_client_describe_fleet(
                    handle, fleet, query, cancel, ctypes.byref(result), ctypes.byref(err)))
            except BaseException as e:  # noqa: BLE001 - raised once the worker is done
                error = e
            finally:
                # Waits for the worker; what interrupts the wait cancels the call and is raised after.
                status, error = worker.finish(error)
        finally:
            # Freed (with the fleet and the query) only once the worker is done with them.
            lib.storetasks_cancel_free(cancel)
    return outcome(_worker.ran(status, error), result, err, worker.closed, client.endpoint_url, error)


def outcome(status, result, err, closed, endpoint_url, error=None):
    """The dict of a fleet call that ended with ``status`` (``result``, its storetasks_fleet_result
    on success), or raises: ``error`` when something stopped the call, else what the status means
    (see _raise_failure). Frees the result and the error object."""
    lib = N.lib()
    if error is not None or not M.is_status(status, "OK"):
        lib.storetasks_fleet_result_free(result)  # NULL unless the call succeeded
        _raise_failure(lib, status, err, error, closed, endpoint_url)
    try:
        return _places(lib, result, with_tasks=True)
    finally:
        lib.storetasks_fleet_result_free(result)


class FleetPagesBase:
    """What the streaming form shares with its asyncio counterpart (:mod:`storetasks.aio`): the
    parameters, the iteration in progress, ``result`` and ``stopped``."""

    def __init__(self, client, params):
        self._client = client
        self._params = params
        self._running = None  # a weak reference to the last iteration's generator
        self.result = None
        self.stopped = False

    def _track(self, generator):
        """A new iteration's generator, remembered (weakly) for closing it; the last one's
        outcome goes."""
        self.result = None
        self.stopped = False
        self._running = weakref.ref(generator)
        return generator

    def _last(self):
        """The generator of the last iteration, while it exists."""
        return self._running() if self._running is not None else None

    def _end(self, lib, status, result, err, error, closed, delivered):
        """Ends an iteration whose call ended with ``status`` (``result``, its
        storetasks_fleet_result on success, ``err`` its error object; ``closed``: close()
        cancelled it): sets ``result`` to the outcomes (``delivered``, a :class:`Delivered`,
        correcting them) unless ``error``, what stopped the iteration, is other than
        GeneratorExit; then raises ``error``, or the call's failure (see _raise_failure). Frees
        the result and the error object."""
        if not M.is_status(status, "OK"):
            _raise_failure(lib, status, err, error, closed, self._client.endpoint_url)
        try:
            # The outcomes of a loop that stopped early; none for a call that an error ended.
            if error is None or isinstance(error, GeneratorExit):
                self.result = delivered.outcomes(lib, result)
        finally:
            lib.storetasks_fleet_result_free(result)
        if error is not None:
            raise error


class FleetPages(FleetPagesBase):
    """``Client.describe_store_image_tasks_fleet_pages(...)``: iterate it for
    ``(region, account, page)`` items, one per page as it arrives from any place (``account``
    None for the client's own credentials, ``page`` a boto3 response dict of that region's
    listing); each iteration runs the fleet call again, from the beginning.

    After an iteration ends, ``result`` is the outcome of every place: ``{"Places": [{"Region",
    "Account", "RoleArn" (with a role), "TaskCount": tasks delivered, "Error" (for a failed
    place)}]}``, with ``"Regions"`` as a deprecated alias of ``"Places"`` (the same list object;
    removed at 1.0). Leaving the loop early (``break``, or ``close()``) stops every listing:
    ``stopped`` is then True and ``result`` holds the outcomes so far (a place still being
    listed has no error and the count of what it delivered). Errors that end the whole call are
    raised by the iteration and leave ``result`` None.

    The next page is fetched while the loop body runs (at most ``max_concurrency`` wait), and the
    places wait for the loop, so memory stays bounded however large the fleet. An iteration holds
    a call on the client until it ends: use the object as a context manager (or call ``close()``)
    when the loop body may raise and the iterator could outlive it.
    """

    def __iter__(self):
        return self._track(self._iterate())

    def close(self):
        """Stops the iteration in progress, if any (as a ``break`` would). Safe to repeat."""
        generator = self._last()
        if generator is not None:
            generator.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _iterate(self):
        lib = N.lib()
        with arguments(self._params) as (fleet, query):
            cancel = lib.storetasks_cancel_new()
            try:
                if not cancel:
                    raise MemoryError("storetasks_cancel_new")
                yield from self._run(lib, fleet, query, cancel)
            finally:
                # _run returns or raises only once the native call has returned.
                lib.storetasks_cancel_free(cancel)

    def _run(self, lib, fleet, query, cancel):
        # The worker's callback hands each page to the iterating thread and waits for it to ask
        # for the next one (True) or stop (False).
        worker = _worker.Worker(lib, cancel, "storetasks-fleet-pages")
        delivered = Delivered()  # written by the worker

        def on_page(region, account, page, _user_data):
            try:
                item = delivered.item(region, account, page)
                if not item:
                    return worker.going()
            except BaseException as e:  # noqa: BLE001 - raised by the iterating thread
                item = e
            return worker.offer(item)

        callback = N.FleetPageCallback(on_page)  # kept alive until the C call has returned
        result = ctypes.POINTER(N.FleetResult)()
        err = ctypes.POINTER(N.Error)()
        error = None
        try:
            worker.start(self._client, lambda handle: lib.storetasks_client_describe_fleet_pages(
                handle, fleet, query, cancel, callback, None, ctypes.byref(result), ctypes.byref(err)))
            while (item := worker.take()) is not _worker.END:
                yield item
                worker.answer(True)
        except BaseException as e:  # GeneratorExit (the loop stopped), KeyboardInterrupt, a page's error...
            error = e
            if isinstance(e, GeneratorExit):
                self.stopped = True  # answering False stops every listing
            else:
                worker.stop()
        finally:
            # Never leave while the worker runs: the C call uses `fleet`, `query`, `cancel` and
            # `callback`. What interrupts this is raised afterwards.
            status, error = worker.finish(error)
        self._end(lib, _worker.ran(status, error), result, err, error, worker.closed, delivered)


def pages(client, params, kind):
    """``describe_store_image_tasks_fleet_pages`` of a client, whose form ``kind`` is
    (:class:`FleetPages`, or :class:`storetasks.aio.AsyncFleetPages`): parameters checked now, the
    call made when the result is iterated."""
    validate(params)
    return kind(client, dict(params))

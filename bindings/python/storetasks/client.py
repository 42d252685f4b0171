"""The client: boto3's ``describe_store_image_tasks`` and its paginator, over libstoretasks."""

import contextlib
import ctypes
import threading

from . import _marshal as M
from . import _native as N
from . import fleet
from .exceptions import ClientClosedError, OperationNotPageableError, ParamValidationError
from .paginate import Paginator
from .waiter import Waiter

PAGINATED = {"describe_store_image_tasks": M.OPERATION_NAME}
#: boto3's waiter name -> botocore's model name (the one WaiterError messages carry).
WAITERS = {"store_image_task_complete": "StoreImageTaskComplete"}


def status_name(status):
    """The name libstoretasks gives a status number, such as ``"STORETASKS_STATUS_THROTTLED"``."""
    return N.status_name(status)


def library_version():
    """The version of the loaded libstoretasks, such as ``"0.1.0"``."""
    return N.text(N.lib().storetasks_version())


def library_path():
    """The path (or name) libstoretasks was loaded from."""
    return N.lib().storetasks_path


class BotoShape:
    """What boto3's and aiobotocore's clients both offer, the same way on both of this package's
    clients: the paginator, the waiter and the fleet listed page by page. A client class names the
    classes of its forms (``_PAGINATOR``, ``_WAITER``, ``_FLEET_PAGES``) and the method its
    paginator pages through (``_PAGED``)."""

    def can_paginate(self, operation_name):
        return operation_name in PAGINATED

    def get_paginator(self, operation_name):
        """boto3's (or aiobotocore's) paginator; only ``"describe_store_image_tasks"`` exists."""
        if operation_name not in PAGINATED:
            raise OperationNotPageableError(f"Operation cannot be paginated: {operation_name}")
        return self._PAGINATOR(getattr(self, self._PAGED))

    @property
    def waiter_names(self):
        """The waiters get_waiter() knows, as boto3's ``client.waiter_names``."""
        return sorted(WAITERS)

    def get_waiter(self, waiter_name):
        """boto3's (or aiobotocore's) waiter; only ``"store_image_task_complete"`` exists. See
        :mod:`storetasks.waiter`."""
        if waiter_name not in WAITERS:
            raise ValueError(f"Waiter does not exist: {waiter_name}")
        return self._WAITER(self, WAITERS[waiter_name])

    def describe_store_image_tasks_fleet_pages(self, *args, **kwargs):
        """The streaming form of ``describe_store_image_tasks_fleet`` (same parameters): an
        iterable (on :class:`storetasks.aio.AsyncClient`, an async iterable) of ``(region, account,
        page)`` whose ``result`` holds each place's outcome once the iteration has ended. See
        :class:`storetasks.fleet.FleetPages` and :class:`storetasks.aio.AsyncFleetPages`."""
        if args:
            raise TypeError("describe_store_image_tasks_fleet_pages() only accepts keyword arguments.")
        return fleet.pages(self, kwargs, self._FLEET_PAGES)


# -- the client --------------------------------------------------------------------------------


def _seconds_to_ms(name, seconds):
    """A timeout in seconds as the library's milliseconds: 0 (the library's default) for None,
    else from 1 ms to the largest uint64_t."""
    return 0 if seconds is None else M.in_range(name, seconds, 1, M.UINT64_MAX, seconds=True)


def _proxy_arguments(proxy, no_proxy):
    """``proxy`` and ``no_proxy`` checked, as storetasks_config_set_proxy takes them. A message
    shows the type of a value, never the value: a proxy URL may hold a password."""
    for name, value in (("proxy", proxy), ("no_proxy", no_proxy)):
        if value is not None and not isinstance(value, str):
            raise ParamValidationError(f"Invalid type for parameter {name}, type: {type(value)}, "
                                       f"valid types: {str}, {type(None)}")
    if proxy is None:
        raise ParamValidationError("no_proxy needs proxy (without it, the environment's NO_PROXY applies)")
    return M.c_string("proxy", proxy), None if no_proxy is None else M.c_string("no_proxy", no_proxy)


class Client(BotoShape):
    """An EC2 client for DescribeStoreImageTasks, with boto3's interface for that call.

    Every argument is optional; what is not given comes from the usual AWS sources (environment,
    shared config and credentials files, SSO, instance role), as in boto3. ``max_attempts``
    counts the first attempt (like ``AWS_MAX_ATTEMPTS``); timeouts are in seconds:
    ``connect_timeout`` bounds each connect, ``read_timeout`` each attempt and
    ``operation_timeout`` a whole call with its retries (from 0.001 to 18446744073709551.615, the
    milliseconds a 64-bit unsigned number holds). ``max_concurrency`` bounds what runs at once
    (default 8): the requests of 20 image ids that a longer id list is split into (in each place),
    the places a fleet call lists, and the pages a fleet call queues for its caller. A value
    beyond what its C type holds (``max_attempts`` 32 bits, ``max_concurrency`` a ``size_t``),
    NaN, infinity or a bool raises :class:`~storetasks.ParamValidationError` rather than being
    wrapped, and so does one the library refuses with its reason (``max_attempts`` above 100,
    ``max_concurrency`` above 1024).

    ``endpoint_url`` is EC2's alone: the roles of fleet calls and waits are assumed through STS at
    ``sts_endpoint_url``, else ``AWS_ENDPOINT_URL_STS``, the profile's, or STS's regional endpoint.

    ``proxy`` is the proxy every request (EC2, STS for roles, SSO) goes through:
    ``"http://[user:password@]host:port"``, ``"https://..."`` for a proxy reached over TLS, or
    ``"host:port"``; ``""`` sends every request directly, whatever the environment says; None
    follows the environment's ``HTTPS_PROXY``, ``HTTP_PROXY`` and ``NO_PROXY``. ``no_proxy`` lists
    the hosts reached directly instead (comma-separated: ``*``, a host, a domain suffix, an IP
    address or a CIDR block; ``""`` for none; None keeps ``NO_PROXY``'s) and needs ``proxy``. A
    URL the library cannot use (a scheme other than http or https, no host) raises
    :class:`~storetasks.ParamValidationError` with the library's reason, which never shows the
    password. The instance metadata service is never reached through a proxy.

    The client is safe to share between threads (calls release the GIL and run in parallel).
    Close it with ``close()`` or a ``with`` block; garbage collection closes a forgotten one.
    """

    _PAGINATOR, _WAITER, _FLEET_PAGES, _PAGED = Paginator, Waiter, fleet.FleetPages, "describe_store_image_tasks"

    def __init__(self, region=None, endpoint_url=None, profile=None, aws_access_key_id=None,
                 aws_secret_access_key=None, aws_session_token=None, retry_mode=None, max_attempts=None,
                 connect_timeout=None, read_timeout=None, operation_timeout=None, app_name=None,
                 max_concurrency=None, use_fips_endpoint=None, use_dualstack_endpoint=None, ca_bundle=None,
                 proxy=None, no_proxy=None, sts_endpoint_url=None):
        # The native client, owned by this object and by each call in flight (see _call): it is
        # freed by whichever lets go of it last, once close() has run.
        self._handle = None
        self._closed = True
        self._refs = 0            # calls in flight
        self._holders = {}        # thread id -> calls that thread has in flight
        self._cancels = {}        # call id -> what close() runs to cancel it
        self._freed = True        # no native client exists (none yet, or freed)
        self._cond = threading.Condition()
        self.endpoint_url = endpoint_url
        lib = N.lib()
        config = lib.storetasks_config_new()
        if not config:
            raise MemoryError("storetasks_config_new")

        def _config_setter(status, what):
            M.check_setter(status, f"parameter {what}", lib.storetasks_config_last_error, config)

        try:
            for name, setter, value in (
                ("region", lib.storetasks_config_set_region, region),
                ("endpoint_url", lib.storetasks_config_set_endpoint_url, endpoint_url),
                ("sts_endpoint_url", lib.storetasks_config_set_sts_endpoint_url, sts_endpoint_url),
                ("profile", lib.storetasks_config_set_profile, profile),
                ("ca_bundle", lib.storetasks_config_set_ca_bundle, ca_bundle),
                ("app_name", lib.storetasks_config_set_app_name, app_name),
            ):
                if value is not None:
                    _config_setter(setter(config, M.c_string(name, str(value))), name)
            if aws_access_key_id is not None or aws_secret_access_key is not None:
                if aws_access_key_id is None or aws_secret_access_key is None:
                    raise ParamValidationError("aws_access_key_id and aws_secret_access_key go together")
                token = None if aws_session_token is None else M.c_string("aws_session_token", aws_session_token)
                _config_setter(lib.storetasks_config_set_credentials(
                    config, M.c_string("aws_access_key_id", aws_access_key_id),
                    M.c_string("aws_secret_access_key", aws_secret_access_key), token), "credentials")
            elif aws_session_token is not None:
                raise ParamValidationError("aws_session_token needs aws_access_key_id and aws_secret_access_key")
            if retry_mode is not None or max_attempts is not None:
                mode = N.RETRY_MODES.get(retry_mode or "default")
                if mode is None:
                    raise ParamValidationError(f"Invalid value for retry_mode: {retry_mode!r} "
                                               f"(one of {', '.join(N.RETRY_MODES)})")
                if max_attempts is not None:
                    M.in_range("max_attempts", max_attempts, 1, M.UINT32_MAX)
                _config_setter(lib.storetasks_config_set_retry(config, mode, max_attempts or 0), "retry")
            timeouts = (_seconds_to_ms("connect_timeout", connect_timeout),
                        _seconds_to_ms("read_timeout", read_timeout),
                        _seconds_to_ms("operation_timeout", operation_timeout))
            if any(timeouts):
                _config_setter(lib.storetasks_config_set_timeouts(config, *timeouts), "timeouts")
            if use_fips_endpoint is not None:
                _config_setter(lib.storetasks_config_set_use_fips(config, bool(use_fips_endpoint)), "use_fips_endpoint")
            if use_dualstack_endpoint is not None:
                _config_setter(lib.storetasks_config_set_use_dual_stack(config, bool(use_dualstack_endpoint)),
                              "use_dualstack_endpoint")
            if max_concurrency is not None:
                M.in_range("max_concurrency", max_concurrency, 1, M.SIZE_MAX)
                _config_setter(lib.storetasks_config_set_max_concurrency(config, max_concurrency), "max_concurrency")
            if proxy is not None or no_proxy is not None:
                _config_setter(lib.storetasks_config_set_proxy(config, *_proxy_arguments(proxy, no_proxy)), "proxy")
            handle = ctypes.POINTER(N.ClientHandle)()
            err = ctypes.POINTER(N.Error)()
            status = lib.storetasks_client_new(config, ctypes.byref(handle), ctypes.byref(err))
            if not M.is_status(status, "OK"):
                raise M.exception(status, err, endpoint_url)
            self._handle = handle
            self._freed = False
            self._closed = False
        finally:
            lib.storetasks_config_free(config)

    def __repr__(self):
        state = "closed" if self._closed else "open"
        return f"<storetasks.Client endpoint_url={self.endpoint_url!r} {state}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Closes the client: cancels the calls running on it (they raise
        :class:`~storetasks.ClientClosedError`), waits for them to return and frees the native
        client. Safe to repeat, and to call from any thread, from a waiter's ``progress`` callable
        or from a signal handler: a call running on the calling thread itself is not waited for,
        and the native client is then freed when the last call returns. If the wait is
        interrupted (KeyboardInterrupt...), the native client is still freed by the last call."""
        cond = getattr(self, "_cond", None)
        if cond is None:  # __init__ failed before the state existed
            return
        with cond:
            self._closed = True
            # Under the lock: a call unregisters itself under it before freeing what its cancel
            # touches, so none of these runs on freed memory.
            for cancel in list(self._cancels.values()):
                cancel()
            handle = self._take_handle()
        if handle is not None:
            self._free(handle)
            return
        if self._holders.get(threading.get_ident()):
            return  # this thread's own call frees it when it returns
        with cond:
            while not self._freed:
                # With a timeout: a thread blocked on a lock only sees the signals (Ctrl-C)
                # delivered to it, and a process's signal may go to any of its threads.
                cond.wait(0.2)

    def _take_handle(self):
        """With the lock held: the handle, if it is time to free it and nobody has taken it."""
        if self._closed and self._refs == 0 and self._handle is not None:
            handle, self._handle = self._handle, None
            return handle
        return None

    def _free(self, handle):
        try:
            N.lib().storetasks_client_free(handle)
        finally:
            with self._cond:
                self._freed = True
                self._cond.notify_all()

    @property
    def closed(self):
        return self._closed

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may already be unloaded
            pass

    @contextlib.contextmanager
    def _call(self, cancel):
        """Holds the native client for one call; yields it. ``cancel()`` is run (quick, under the
        client's lock) if close() is called meanwhile. The last call to end after close() frees
        the native client."""
        ident = threading.get_ident()
        key = object()
        with self._cond:
            if self._closed:
                raise ClientClosedError("the client is closed")
            self._refs += 1
            self._holders[ident] = self._holders.get(ident, 0) + 1
            self._cancels[key] = cancel
            handle = self._handle
        try:
            yield handle
        finally:
            with self._cond:
                del self._cancels[key]
                self._refs -= 1
                if self._holders[ident] == 1:
                    del self._holders[ident]
                else:
                    self._holders[ident] -= 1
                handle = self._take_handle()
            if handle is not None:
                self._free(handle)

    def describe_store_image_tasks(self, *args, **kwargs):
        """One DescribeStoreImageTasks call, with boto3's parameters and result.

        ``ImageIds`` may hold more than EC2's 20: they are sent as several requests (at most
        ``max_concurrency`` at once) and the results merged newest first.
        """
        if args:
            raise TypeError("describe_store_image_tasks() only accepts keyword arguments.")
        problems = M.validate(kwargs)
        if problems:
            raise ParamValidationError("\n".join(problems))
        lib = N.lib()
        if self._closed:
            raise ClientClosedError("the client is closed")
        query = M.build_query(kwargs)
        token = lib.storetasks_cancel_new()
        closed = []

        def cancel():
            closed.append(True)
            lib.storetasks_cancel_trigger(token)

        try:
            if not token:
                raise MemoryError("storetasks_cancel_new")
            task_list = ctypes.POINTER(N.TaskList)()
            err = ctypes.POINTER(N.Error)()
            with self._call(cancel) as handle:
                status = lib.storetasks_client_describe(handle, query, token, ctypes.byref(task_list),
                                                        ctypes.byref(err))
        finally:
            lib.storetasks_cancel_free(token)
            lib.storetasks_query_free(query)
        return M.outcome(status, task_list, err, bool(closed), self.endpoint_url)

    def describe_store_image_tasks_fleet(self, *args, **kwargs):
        """The query in many regions and accounts at once: ``Regions=[...]`` or
        ``AllRegions=True``, optional ``RoleArns=[...]``, and the parameters of
        ``describe_store_image_tasks`` but ``NextToken``. Returns ``{"Places": [{"Region",
        "Account", "RoleArn" (with a role), "StoreImageTaskResults", "Error" (for a failed
        place)}]}``, one entry per (account, region); a failing place does not fail the call.
        ``"Regions"`` is a deprecated alias of ``"Places"`` (the same list object), removed at
        1.0. See :mod:`storetasks.fleet`."""
        if args:
            raise TypeError("describe_store_image_tasks_fleet() only accepts keyword arguments.")
        if self._closed:
            raise ClientClosedError("the client is closed")
        return fleet.describe(self, kwargs)


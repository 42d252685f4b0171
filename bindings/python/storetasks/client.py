"""The client: boto3's ``describe_store_image_tasks`` and its paginator, over libstoretasks."""

import contextlib
import ctypes
import datetime
import math
import threading

from . import _native as N
from .exceptions import (
    ClientClosedError,
    ClientError,
    ConfigError,
    EndpointConnectionError,
    NoCredentialsError,
    OperationNotPageableError,
    ParamValidationError,
    ReadTimeoutError,
    ResponseParserError,
    StoreTasksError,
)
from .paginate import Paginator

OPERATION_NAME = "DescribeStoreImageTasks"
PAGINATED = {"describe_store_image_tasks": OPERATION_NAME}
#: boto3's waiter name -> botocore's model name (the one WaiterError messages carry).
WAITERS = {"store_image_task_complete": "StoreImageTaskComplete"}

# The request members in the order of botocore's service model (its messages list them so).
_MEMBERS = ("ImageIds", "DryRun", "Filters", "NextToken", "MaxResults")
_FILTER_MEMBERS = ("Name", "Values")
_INT32 = range(-(2**31), 2**31)

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)

_ERRORS_BY_STATUS = {
    N.INVALID_ARGUMENT: ParamValidationError,
    N.NETWORK: EndpointConnectionError,
    N.TIMEOUT: ReadTimeoutError,
    N.RESPONSE: ResponseParserError,
    N.CREDENTIALS: NoCredentialsError,
    N.CONFIG: ConfigError,
}


def status_name(status):
    """The name libstoretasks gives a status number, such as ``"STORETASKS_STATUS_THROTTLED"``."""
    return N.text(N.lib().storetasks_status_name(status))


def library_version():
    """The version of the loaded libstoretasks, such as ``"0.1.0"``."""
    return N.text(N.lib().storetasks_version())


def library_path():
    """The path (or name) libstoretasks was loaded from."""
    return N.lib().storetasks_path


# -- parameters --------------------------------------------------------------------------------


def _type_error(name, value, valid):
    return (f"Invalid type for parameter {name}, value: {value}, type: {type(value)}, "
            f"valid types: {', '.join(str(t) for t in valid)}")


def _validate(params):
    """The checks botocore makes before sending, with its wording. Returns a list of problems."""
    problems = []
    for key in params:
        if key not in _MEMBERS:
            problems.append(f'Unknown parameter in input: "{key}", must be one of: {", ".join(_MEMBERS)}')

    def strings(name, value):
        if not isinstance(value, (list, tuple)):
            problems.append(_type_error(name, value, (list, tuple)))
            return
        for i, item in enumerate(value):
            if not isinstance(item, str):
                problems.append(_type_error(f"{name}[{i}]", item, (str,)))

    if "ImageIds" in params:
        strings("ImageIds", params["ImageIds"])
    if "DryRun" in params and not isinstance(params["DryRun"], bool):
        problems.append(_type_error("DryRun", params["DryRun"], (bool,)))
    if "Filters" in params:
        filters = params["Filters"]
        if not isinstance(filters, (list, tuple)):
            problems.append(_type_error("Filters", filters, (list, tuple)))
        else:
            for i, f in enumerate(filters):
                where = f"Filters[{i}]"
                if not isinstance(f, dict):
                    problems.append(_type_error(where, f, (dict,)))
                    continue
                for key in f:
                    if key not in _FILTER_MEMBERS:
                        problems.append(f'Unknown parameter in {where}: "{key}", must be one of: '
                                        f'{", ".join(_FILTER_MEMBERS)}')
                if "Name" not in f:
                    # botocore lets this through and EC2 answers MissingParameter; libstoretasks
                    # cannot send a filter without a name.
                    problems.append(f'Missing required parameter in {where}: "Name"')
                elif not isinstance(f["Name"], str):
                    problems.append(_type_error(f"{where}.Name", f["Name"], (str,)))
                if "Values" in f:
                    strings(f"{where}.Values", f["Values"])
    if "NextToken" in params and not isinstance(params["NextToken"], str):
        problems.append(_type_error("NextToken", params["NextToken"], (str,)))
    if "MaxResults" in params:
        m = params["MaxResults"]
        if not isinstance(m, int):
            problems.append(_type_error("MaxResults", m, (int,)))
        elif m < 1:
            problems.append(f"Invalid value for parameter MaxResults, value: {m}, valid min value: 1")
        elif m not in _INT32:
            problems.append(f"Invalid value for parameter MaxResults, value: {m}, valid range: 1-200")
    return problems


def _c_string(name, value):
    """A str as NUL-terminated UTF-8, refusing what C would silently cut or cannot represent."""
    if "\x00" in value:
        raise ParamValidationError(f"Invalid value for parameter {name}: it contains a NUL character")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ParamValidationError(f"Invalid value for parameter {name}: {e}") from None


def _check_setter(status, what):
    if status != N.OK:
        raise ParamValidationError(f"Invalid value for parameter {what}: {status_name(status)}",
                                   status=status, status_name=status_name(status))


def _build_query(params):
    """A new storetasks_query for the parameters (already validated); the caller frees it."""
    lib = N.lib()
    query = lib.storetasks_query_new()
    if not query:
        raise MemoryError("storetasks_query_new")
    try:
        for i, image_id in enumerate(params.get("ImageIds", ())):
            _check_setter(lib.storetasks_query_add_image_id(query, _c_string(f"ImageIds[{i}]", image_id)),
                          f"ImageIds[{i}] (an image id cannot be empty)")
        for i, f in enumerate(params.get("Filters", ())):
            values = [_c_string(f"Filters[{i}].Values[{j}]", v) for j, v in enumerate(f.get("Values", ()))]
            array = (ctypes.c_char_p * len(values))(*values) if values else None
            _check_setter(lib.storetasks_query_add_filter(query, _c_string(f"Filters[{i}].Name", f["Name"]),
                                                          array, len(values)), f"Filters[{i}]")
        if "MaxResults" in params:
            _check_setter(lib.storetasks_query_set_max_results(query, params["MaxResults"]), "MaxResults")
        if "NextToken" in params:
            _check_setter(lib.storetasks_query_set_next_token(query, _c_string("NextToken", params["NextToken"])),
                          "NextToken")
        if params.get("DryRun"):
            _check_setter(lib.storetasks_query_set_dry_run(query, True), "DryRun")
    except BaseException:
        lib.storetasks_query_free(query)
        raise
    return query


# -- results -----------------------------------------------------------------------------------


def _task(t):
    """One storetasks_task as botocore's StoreImageTaskResult dict: only the members EC2 sent."""
    d = {}
    if t.ami_id is not None:
        d["AmiId"] = t.ami_id.decode("utf-8")
    if t.has_task_start_time:
        d["TaskStartTime"] = _EPOCH + datetime.timedelta(milliseconds=t.task_start_time_ms)
    if t.bucket is not None:
        d["Bucket"] = t.bucket.decode("utf-8")
    if t.s3_object_key is not None:
        d["S3objectKey"] = t.s3_object_key.decode("utf-8")
    if t.has_progress_percentage:
        d["ProgressPercentage"] = t.progress_percentage
    if t.state_raw is not None:
        d["StoreTaskState"] = t.state_raw.decode("utf-8")
    if t.failure_reason is not None:
        d["StoreTaskFailureReason"] = t.failure_reason.decode("utf-8")
    return d


def _response(task_list):
    """A task list as the dict boto3 returns (the strings copied: the list is freed after)."""
    lib = N.lib()
    n = lib.storetasks_task_list_len(task_list)
    tasks = lib.storetasks_task_list_tasks(task_list)
    out = {"StoreImageTaskResults": [_task(tasks[i]) for i in range(n)]}
    token = lib.storetasks_task_list_next_token(task_list)
    if token is not None:
        out["NextToken"] = token.decode("utf-8")
    # libstoretasks does not expose the reply's headers or retry count on success; the request id
    # is there when the service sent one (a wait's lists, gathered from several replies, have none).
    meta = {}
    request_id = lib.storetasks_task_list_request_id(task_list)
    if request_id is not None:
        meta["RequestId"] = request_id.decode("utf-8")
    meta.update(HTTPStatusCode=200, HTTPHeaders={})
    out["ResponseMetadata"] = meta
    return out


def _read_error(status, err):
    """What a C error object holds, as a dict; frees it. ``err`` may be NULL."""
    lib = N.lib()
    try:
        if err:
            return dict(status=lib.storetasks_error_status(err),
                        message=N.text(lib.storetasks_error_message(err)),
                        code=N.text(lib.storetasks_error_code(err)),
                        http_status=lib.storetasks_error_http_status(err),
                        request_id=N.text(lib.storetasks_error_request_id(err)),
                        ami_id=N.text(lib.storetasks_error_ami_id(err)),
                        failure_reason=N.text(lib.storetasks_error_failure_reason(err)))
        return dict(status=status, message=status_name(status), code=None, http_status=0, request_id=None,
                    ami_id=None, failure_reason=None)
    finally:
        lib.storetasks_error_free(err)


def _error_response(code, message, http_status, request_id):
    """botocore's parsed error response."""
    meta = {"HTTPStatusCode": http_status, "HTTPHeaders": {}}
    if request_id is not None:
        meta["RequestId"] = request_id
    return {"Error": {"Code": code, "Message": message}, "ResponseMetadata": meta}


def _exception(status, err, endpoint_url=None):
    """The exception for a failed call; frees the error object."""
    return _exception_from(_read_error(status, err), endpoint_url)


def _exception_from(fields, endpoint_url=None):
    """The exception for the fields of a C error object (see _read_error)."""
    status, message, code = fields["status"], fields["message"], fields["code"]
    http_status, request_id = fields["http_status"], fields["request_id"]
    name = status_name(status)
    if status == N.DRY_RUN_OK and code is None:
        code, http_status = "DryRunOperation", http_status or 412
    if code is not None:
        response = _error_response(code, message, http_status, request_id)
        return ClientError(response, OPERATION_NAME, status=status, status_name=name)
    details = dict(status=status, status_name=name, http_status=http_status, request_id=request_id)
    if status == N.INVALID_ARGUMENT:
        return ParamValidationError(message, **details)
    if endpoint_url and status in (N.NETWORK, N.TIMEOUT):
        message = f'{message} (endpoint URL: "{endpoint_url}")'
    return _ERRORS_BY_STATUS.get(status, StoreTasksError)(message, **details)


# -- the client --------------------------------------------------------------------------------


def _seconds_to_ms(name, seconds):
    if seconds is None:
        return 0
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0 \
            or math.isinf(seconds):
        raise ParamValidationError(f"Invalid value for {name}: {seconds!r} (a positive number of seconds)")
    return max(1, round(seconds * 1000))


class Client:
    """An EC2 client for DescribeStoreImageTasks, with boto3's interface for that call.

    Every argument is optional; what is not given comes from the usual AWS sources (environment,
    shared config and credentials files, SSO, instance role), as in boto3. ``max_attempts``
    counts the first attempt (like ``AWS_MAX_ATTEMPTS``); timeouts are in seconds:
    ``connect_timeout`` bounds each connect, ``read_timeout`` each attempt and
    ``operation_timeout`` a whole call with its retries. ``max_concurrency`` is how many requests
    may run at once when more than 20 image ids are split into several.

    The client is safe to share between threads (calls release the GIL and run in parallel).
    Close it with ``close()`` or a ``with`` block; garbage collection closes a forgotten one.
    """

    def __init__(self, region=None, endpoint_url=None, profile=None, aws_access_key_id=None,
                 aws_secret_access_key=None, aws_session_token=None, retry_mode=None, max_attempts=None,
                 connect_timeout=None, read_timeout=None, operation_timeout=None, app_name=None,
                 max_concurrency=None, use_fips_endpoint=None, use_dualstack_endpoint=None, ca_bundle=None):
        self._handle = None
        self._in_flight = 0
        self._cond = threading.Condition()
        self.endpoint_url = endpoint_url
        lib = N.lib()
        config = lib.storetasks_config_new()
        if not config:
            raise MemoryError("storetasks_config_new")
        try:
            for name, setter, value in (
                ("region", lib.storetasks_config_set_region, region),
                ("endpoint_url", lib.storetasks_config_set_endpoint_url, endpoint_url),
                ("profile", lib.storetasks_config_set_profile, profile),
                ("ca_bundle", lib.storetasks_config_set_ca_bundle, ca_bundle),
                ("app_name", lib.storetasks_config_set_app_name, app_name),
            ):
                if value is not None:
                    _check_setter(setter(config, _c_string(name, str(value))), name)
            if aws_access_key_id is not None or aws_secret_access_key is not None:
                if aws_access_key_id is None or aws_secret_access_key is None:
                    raise ParamValidationError("aws_access_key_id and aws_secret_access_key go together")
                token = None if aws_session_token is None else _c_string("aws_session_token", aws_session_token)
                _check_setter(lib.storetasks_config_set_credentials(
                    config, _c_string("aws_access_key_id", aws_access_key_id),
                    _c_string("aws_secret_access_key", aws_secret_access_key), token), "credentials")
            elif aws_session_token is not None:
                raise ParamValidationError("aws_session_token needs aws_access_key_id and aws_secret_access_key")
            if retry_mode is not None or max_attempts is not None:
                mode = N.RETRY_MODES.get(retry_mode or "default")
                if mode is None:
                    raise ParamValidationError(f"Invalid value for retry_mode: {retry_mode!r} "
                                               f"(one of {', '.join(N.RETRY_MODES)})")
                if max_attempts is not None and (not isinstance(max_attempts, int) or not 1 <= max_attempts < 2**32):
                    raise ParamValidationError(f"Invalid value for max_attempts: {max_attempts!r} (at least 1)")
                _check_setter(lib.storetasks_config_set_retry(config, mode, max_attempts or 0), "retry")
            timeouts = (_seconds_to_ms("connect_timeout", connect_timeout),
                        _seconds_to_ms("read_timeout", read_timeout),
                        _seconds_to_ms("operation_timeout", operation_timeout))
            if any(timeouts):
                _check_setter(lib.storetasks_config_set_timeouts(config, *timeouts), "timeouts")
            if use_fips_endpoint is not None:
                _check_setter(lib.storetasks_config_set_use_fips(config, bool(use_fips_endpoint)), "use_fips_endpoint")
            if use_dualstack_endpoint is not None:
                _check_setter(lib.storetasks_config_set_use_dual_stack(config, bool(use_dualstack_endpoint)),
                              "use_dualstack_endpoint")
            if max_concurrency is not None:
                if not isinstance(max_concurrency, int) or max_concurrency < 1:
                    raise ParamValidationError(f"Invalid value for max_concurrency: {max_concurrency!r} (at least 1)")
                _check_setter(lib.storetasks_config_set_max_concurrency(config, max_concurrency), "max_concurrency")
            handle = ctypes.POINTER(N.ClientHandle)()
            err = ctypes.POINTER(N.Error)()
            status = lib.storetasks_client_new(config, ctypes.byref(handle), ctypes.byref(err))
            if status != N.OK:
                raise _exception(status, err, endpoint_url)
            self._handle = handle
        finally:
            lib.storetasks_config_free(config)

    def __repr__(self):
        state = "closed" if self._handle is None else "open"
        return f"<storetasks.Client endpoint_url={self.endpoint_url!r} {state}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Frees the client, after waiting for calls running on other threads. Safe to repeat."""
        cond = getattr(self, "_cond", None)
        if cond is None:
            return
        with cond:
            handle, self._handle = self._handle, None
            while self._in_flight:
                cond.wait()
        if handle:
            N.lib().storetasks_client_free(handle)

    @property
    def closed(self):
        return self._handle is None

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may already be unloaded
            pass

    @contextlib.contextmanager
    def _use(self):
        with self._cond:
            if self._handle is None:
                raise ClientClosedError("the client is closed")
            self._in_flight += 1
            handle = self._handle
        try:
            yield handle
        finally:
            with self._cond:
                self._in_flight -= 1
                if self._in_flight == 0:
                    self._cond.notify_all()

    def describe_store_image_tasks(self, *args, **kwargs):
        """One DescribeStoreImageTasks call, with boto3's parameters and result.

        ``ImageIds`` may hold more than EC2's 20: they are sent as several requests (at most
        ``max_concurrency`` at once) and the results merged newest first.
        """
        if args:
            raise TypeError("describe_store_image_tasks() only accepts keyword arguments.")
        problems = _validate(kwargs)
        if problems:
            raise ParamValidationError("\n".join(problems))
        lib = N.lib()
        with self._use() as handle:
            query = _build_query(kwargs)
            task_list = ctypes.POINTER(N.TaskList)()
            err = ctypes.POINTER(N.Error)()
            try:
                status = lib.storetasks_client_describe(handle, query, None, ctypes.byref(task_list),
                                                        ctypes.byref(err))
            finally:
                lib.storetasks_query_free(query)
        if status != N.OK:
            raise _exception(status, err, self.endpoint_url)
        try:
            return _response(task_list)
        finally:
            lib.storetasks_task_list_free(task_list)

    def can_paginate(self, operation_name):
        return operation_name in PAGINATED

    def get_paginator(self, operation_name):
        """boto3's paginator; only ``"describe_store_image_tasks"`` exists."""
        if operation_name not in PAGINATED:
            raise OperationNotPageableError(f"Operation cannot be paginated: {operation_name}")
        return Paginator(self.describe_store_image_tasks)

    @property
    def waiter_names(self):
        """The waiters get_waiter() knows, as boto3's ``client.waiter_names``."""
        return sorted(WAITERS)

    def get_waiter(self, waiter_name):
        """boto3's waiter; only ``"store_image_task_complete"`` exists. See :mod:`storetasks.waiter`."""
        if waiter_name not in WAITERS:
            raise ValueError(f"Waiter does not exist: {waiter_name}")
        from .waiter import Waiter

        return Waiter(self, WAITERS[waiter_name])

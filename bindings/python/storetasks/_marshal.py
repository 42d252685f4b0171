"""Private: between Python values and libstoretasks's C objects, for the client and the waiter.

Request parameters are checked as botocore checks them and turned into a ``storetasks_query``;
task lists become the dictionaries boto3 returns; error objects and statuses become this
package's exceptions. Nothing here holds state: the client and the waiter both call in.
"""

import ctypes
import datetime
import decimal
import math

from . import _native as N
from .exceptions import (
    ClientClosedError,
    ClientError,
    ConfigError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
    ResponseParserError,
    StoreTasksError,
)

OPERATION_NAME = "DescribeStoreImageTasks"

# The request members in the order of botocore's service model (its messages list them so).
_MEMBERS = ("ImageIds", "DryRun", "Filters", "NextToken", "MaxResults")
_FILTER_MEMBERS = ("Name", "Values")
_INT32 = range(-(2**31), 2**31)
#: The largest values of the unsigned C types numbers are passed as: ctypes would wrap a larger
#: int silently (2**64 + 1 becomes 1), so in_range() checks against these first.
UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1
SIZE_MAX = 2**(8 * ctypes.sizeof(ctypes.c_size_t)) - 1

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)

# The exception for a status without an AWS error code, by the status's short name.
_ERRORS_BY_STATUS = {
    "INVALID_ARGUMENT": ParamValidationError,
    "NETWORK": EndpointConnectionError,
    "TIMEOUT": ReadTimeoutError,
    "RESPONSE": ResponseParserError,
    "CREDENTIALS": NoCredentialsError,
    "CONFIG": ConfigError,
}


def is_status(number, name):
    """Whether ``number`` is the status ``STORETASKS_STATUS_<name>``."""
    return number == N.status(name)


# -- parameters --------------------------------------------------------------------------------


def _type_error(name, value, valid):
    return (f"Invalid type for parameter {name}, value: {value}, type: {type(value)}, "
            f"valid types: {', '.join(str(t) for t in valid)}")


def validate(params):
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


def in_range(name, value, low, high, seconds=False, why=None):
    """``value`` checked before it goes to a C integer: an int (not a bool: ctypes passes True as
    1) from ``low`` to ``high``, returned as is; with ``seconds``, an int or finite float number
    of seconds whose milliseconds (rounded) are from ``low`` to ``high``, returned in
    milliseconds. Anything else raises ParamValidationError naming ``name`` and the range (in
    seconds for seconds), followed by ``why`` when given."""
    out = None
    if isinstance(value, bool):
        pass
    elif isinstance(value, int):
        out = value * 1000 if seconds else value
    elif seconds and isinstance(value, float) and math.isfinite(value * 1000):  # not NaN, inf, 1e306
        out = round(value * 1000)
    if out is None or not low <= out <= high:
        if seconds:
            kind, low, high = "a number of seconds", _ms_as_seconds(low), _ms_as_seconds(high)
        else:
            kind = "an integer"
        raise ParamValidationError(f"Invalid value for {name}: {value!r} ({kind} from {low} to {high}"
                                   f"{', ' + why if why else ''})")
    return out


def _ms_as_seconds(ms):
    """Whole milliseconds as exact seconds, for messages: 1500 as 1.5, 18446744073709551615 as
    18446744073709551.615."""
    return format(decimal.Decimal(ms).scaleb(-3).normalize(), "f")


def c_string(name, value):
    """A str as NUL-terminated UTF-8, refusing what C would silently cut or cannot represent."""
    if "\x00" in value:
        raise ParamValidationError(f"Invalid value for parameter {name}: it contains a NUL character")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ParamValidationError(f"Invalid value for parameter {name}: {e}") from None


def check_setter(status, what, last_error, obj):
    """Raises ParamValidationError when a setter refused its value: the message names the
    parameter and gives the library's reason (``last_error(obj)``, its ``*_last_error`` accessor
    for that object, read before anything else touches the object)."""
    if status == N.status("OK"):
        return
    reason = N.text(last_error(obj)) or N.status_name(status)
    raise ParamValidationError(f"Invalid value for {what}: {reason}", status=status,
                               status_name=N.status_name(status))


def build_query(params):
    """A new storetasks_query for the parameters (already validated); the caller frees it."""
    lib = N.lib()
    query = lib.storetasks_query_new()
    if not query:
        raise MemoryError("storetasks_query_new")
    def check(status, what):
        check_setter(status, f"parameter {what}", lib.storetasks_query_last_error, query)

    try:
        for i, image_id in enumerate(params.get("ImageIds", ())):
            check(lib.storetasks_query_add_image_id(query, c_string(f"ImageIds[{i}]", image_id)), f"ImageIds[{i}]")
        for i, f in enumerate(params.get("Filters", ())):
            values = [c_string(f"Filters[{i}].Values[{j}]", v) for j, v in enumerate(f.get("Values", ()))]
            array = (ctypes.c_char_p * len(values))(*values) if values else None
            check(lib.storetasks_query_add_filter(query, c_string(f"Filters[{i}].Name", f["Name"]), array,
                                                  len(values)), f"Filters[{i}]")
        if "MaxResults" in params:
            check(lib.storetasks_query_set_max_results(query, params["MaxResults"]), "MaxResults")
        if "NextToken" in params:
            check(lib.storetasks_query_set_next_token(query, c_string("NextToken", params["NextToken"])), "NextToken")
        if params.get("DryRun"):
            check(lib.storetasks_query_set_dry_run(query, True), "DryRun")
    except BaseException:
        lib.storetasks_query_free(query)
        raise
    return query


# -- results -----------------------------------------------------------------------------------


def task(t):
    """One storetasks_task as botocore's StoreImageTaskResult dict: only the members EC2 sent."""
    d = {}
    if t.ami_id is not None:
        d["AmiId"] = t.ami_id.decode("utf-8")
    if t.has_task_start_time:
        d["TaskStartTime"] = start_time(t.task_start_time_ms, d.get("AmiId"))
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


def start_time(ms, ami_id=None):
    """Milliseconds since the epoch as an aware UTC datetime. A time datetime cannot hold (before
    year 1 or after 9999: a reply no real EC2 sends) is an unreadable reply, as botocore's parser
    makes of a timestamp it cannot read: ResponseParserError naming the task (a fleet call makes
    it the error of that task's place alone)."""
    try:
        return _EPOCH + datetime.timedelta(milliseconds=ms)
    except (OverflowError, ValueError):
        status = N.status("RESPONSE")
        raise ResponseParserError(f"the TaskStartTime of {ami_id or 'a task without an AmiId'} cannot be represented: "
                                  f"{ms} ms since 1970 is outside the years 1 to 9999",
                                  status=status, status_name=N.status_name(status)) from None


def response(task_list):
    """A task list as the dict boto3 returns (the strings copied: the list is freed after).

    The package never asks libstoretasks to cap a listing, so a list it cut
    (``storetasks_task_list_truncated``) is refused rather than returned looking complete.
    """
    lib = N.lib()
    if lib.storetasks_task_list_truncated(task_list):
        status = N.status("RESPONSE")
        raise ResponseParserError("the task list was cut short by a cap and has no token to resume it",
                                  status=status, status_name=N.status_name(status))
    n = lib.storetasks_task_list_len(task_list)
    tasks = lib.storetasks_task_list_tasks(task_list)
    out = {"StoreImageTaskResults": [task(tasks[i]) for i in range(n)]}
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


def outcome(status, task_list, err, closed=False, endpoint_url=None, read=response):
    """What ``read`` (by default :func:`response`, the dict) makes of a call's list, or the
    exception its status means (``closed``: close() cancelled the call); frees the list and the
    error object."""
    lib = N.lib()
    if not is_status(status, "OK"):
        if closed and is_status(status, "CANCELLED"):
            lib.storetasks_error_free(err)
            raise closed_error(status)
        raise exception(status, err, endpoint_url)
    try:
        return read(task_list)
    finally:
        lib.storetasks_task_list_free(task_list)


def read_error(status, err):
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
        return dict(status=status, message=N.status_name(status), code=None, http_status=0, request_id=None,
                    ami_id=None, failure_reason=None)
    finally:
        lib.storetasks_error_free(err)


def error_response(code, message, http_status, request_id):
    """botocore's parsed error response."""
    meta = {"HTTPStatusCode": http_status, "HTTPHeaders": {}}
    if request_id is not None:
        meta["RequestId"] = request_id
    return {"Error": {"Code": code, "Message": message}, "ResponseMetadata": meta}


def exception(status, err, endpoint_url=None):
    """The exception for a failed call; frees the error object."""
    return exception_from(read_error(status, err), endpoint_url)


def exception_from(fields, endpoint_url=None):
    """The exception for the fields of a C error object (see _read_error)."""
    status, message, code = fields["status"], fields["message"], fields["code"]
    http_status, request_id = fields["http_status"], fields["request_id"]
    name = N.status_name(status)
    if is_status(status, "DRY_RUN_OK") and code is None:
        code, http_status = "DryRunOperation", http_status or 412
    if code is not None:
        response = error_response(code, message, http_status, request_id)
        return ClientError(response, OPERATION_NAME, status=status, status_name=name)
    details = dict(status=status, status_name=name, http_status=http_status, request_id=request_id)
    if is_status(status, "INVALID_ARGUMENT"):
        return ParamValidationError(message, **details)
    if endpoint_url and (is_status(status, "NETWORK") or is_status(status, "TIMEOUT")):
        message = f'{message} (endpoint URL: "{endpoint_url}")'
    short = name[len(N.STATUS_PREFIX):] if name.startswith(N.STATUS_PREFIX) else name
    return _ERRORS_BY_STATUS.get(short, StoreTasksError)(message, **details)


def closed_error(status):
    """The error of a call that close() cancelled while it ran."""
    return ClientClosedError("the call was cancelled: the client was closed", status=status,
                             status_name=N.status_name(status))



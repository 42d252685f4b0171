"""Exceptions, named and shaped like botocore's so that code written for boto3 keeps working.

Every exception derives from :class:`StoreTasksError`, which carries what libstoretasks reported:

========================  ==================================  ======================================
libstoretasks status      exception                           botocore raises
========================  ==================================  ======================================
any with an AWS code      :class:`ClientError`                ``ClientError``
(DRY_RUN_OK, UNAUTHORIZED, THROTTLED, SERVICE...)
INVALID_ARGUMENT          :class:`ParamValidationError`       ``ParamValidationError`` (or a
                          (also a ``ValueError``)             ``ClientError`` from EC2, see README)
NETWORK                   :class:`EndpointConnectionError`    ``EndpointConnectionError``
                          (also a ``ConnectionError``)
TIMEOUT                   :class:`ReadTimeoutError`           ``ReadTimeoutError`` or
                          (also a ``TimeoutError``)           ``ConnectTimeoutError``
RESPONSE                  :class:`ResponseParserError`        ``ResponseParserError``
CREDENTIALS               :class:`NoCredentialsError`         ``NoCredentialsError``
CONFIG                    :class:`ConfigError`                ``NoRegionError``, ``InvalidConfigError``
CANCELLED by close()      :class:`ClientClosedError`          (a call on a closed client)
CANCELLED, PANIC, other   :class:`StoreTasksError`
========================  ==================================  ======================================

A setter the library refused (a value it cannot send) raises :class:`ParamValidationError` whose
message gives the library's reason. A ``TaskStartTime`` that ``datetime`` cannot hold (before
year 1 or after 9999) raises :class:`ResponseParserError`, as any other unreadable reply; in a
fleet call it fails only the place that sent it (status ``STORETASKS_STATUS_RESPONSE``, a message
naming the task), and the other places keep their tasks.

The waiter (``client.get_waiter("store_image_task_complete")``) raises :class:`WaiterError`, as
botocore's does, when the wait ends without success: TASK_FAILED, WAIT_TIMEOUT, NOT_FOUND,
CANCELLED (the progress callback returned False) and errors the service answered with an AWS code.
Errors without a code (network, credentials, configuration...) raise the exceptions above.
"""


class StoreTasksError(Exception):
    """Base of every exception of this package.

    Attributes: ``status`` (the libstoretasks status number, or None for an error raised by this
    package itself), ``status_name`` (such as ``"STORETASKS_STATUS_THROTTLED"``), ``message``,
    ``code`` (the AWS error code or None), ``http_status`` (0 when there was no reply) and
    ``request_id`` (or None).
    """

    def __init__(self, message, status=None, status_name=None, code=None, http_status=0, request_id=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.status_name = status_name
        self.code = code
        self.http_status = http_status
        self.request_id = request_id


class ClientError(StoreTasksError):
    """The service answered with an AWS error code, as botocore's ``ClientError``.

    ``response`` is ``{"Error": {"Code": ..., "Message": ...}, "ResponseMetadata": {...}}`` and
    ``operation_name`` is ``"DescribeStoreImageTasks"``.
    """

    MSG_TEMPLATE = "An error occurred ({error_code}) when calling the {operation_name} operation: {error_message}"

    def __init__(self, error_response, operation_name, status=None, status_name=None):
        err = error_response.get("Error", {})
        meta = error_response.get("ResponseMetadata", {})
        message = self.MSG_TEMPLATE.format(
            error_code=err.get("Code", "Unknown"),
            operation_name=operation_name,
            error_message=err.get("Message", "Unknown"),
        )
        super().__init__(message, status=status, status_name=status_name, code=err.get("Code"),
                         http_status=meta.get("HTTPStatusCode", 0), request_id=meta.get("RequestId"))
        self.response = error_response
        self.operation_name = operation_name

    def __reduce__(self):
        return self.__class__, (self.response, self.operation_name, self.status, self.status_name)


class ParamValidationError(StoreTasksError, ValueError):
    """The parameters were refused before anything was sent.

    As botocore's, ``str(e)`` starts with ``"Parameter validation failed:"`` and ``e.kwargs["report"]``
    holds the details.
    """

    def __init__(self, report, **details):
        super().__init__("Parameter validation failed:\n" + report, **details)
        self.report = report
        self.kwargs = {"report": report}


class EndpointConnectionError(StoreTasksError, ConnectionError):
    """The connection to the endpoint failed or was dropped."""


class ReadTimeoutError(StoreTasksError, TimeoutError):
    """A connect, attempt or operation timeout expired (libstoretasks does not say which)."""


class ResponseParserError(StoreTasksError):
    """A reply that could not be understood (malformed, truncated, looping pagination)."""


class NoCredentialsError(StoreTasksError):
    """No usable credentials were found."""


class ConfigError(StoreTasksError):
    """The client could not be configured (no region, unreadable CA bundle, bad app name...)."""


class PaginationError(StoreTasksError):
    """The paginator was misused, or the service repeated a NextToken."""


class OperationNotPageableError(StoreTasksError):
    """get_paginator() was asked for an operation this client cannot paginate."""


class ClientClosedError(StoreTasksError, RuntimeError):
    """A call on a client after close() (``status`` None), or a call that close() cancelled while
    it ran (``status_name`` ``"STORETASKS_STATUS_CANCELLED"``)."""


class LibraryNotFoundError(StoreTasksError, OSError):
    """libstoretasks could not be loaded, or is not a version this package supports."""


class WaiterError(StoreTasksError):
    """A wait that ended without success, as botocore's ``WaiterError``.

    ``str(e)`` is ``"Waiter StoreImageTaskComplete failed: <reason>"``; ``name``, ``reason``,
    ``last_response`` (the last response seen: the tasks of the last poll, or the error response
    for a service error) and ``kwargs`` (``{"name": ..., "reason": ...}``) are botocore's
    attributes. Added: the libstoretasks ``status``/``status_name`` (TASK_FAILED, WAIT_TIMEOUT,
    NOT_FOUND, CANCELLED or the service error's), ``ami_id`` (the AMI that failed or was not
    found, else None), ``failure_reason`` (EC2's reason for a failed task, else None) and
    ``message`` (the library's own message), with ``code``, ``http_status`` and ``request_id`` for
    a service error.
    """

    fmt = "Waiter {name} failed: {reason}"

    def __init__(self, name, reason, last_response, status=None, status_name=None, message=None, code=None,
                 http_status=0, request_id=None, ami_id=None, failure_reason=None):
        super().__init__(self.fmt.format(name=name, reason=reason), status=status, status_name=status_name,
                         code=code, http_status=http_status, request_id=request_id)
        self.message = message if message is not None else reason
        self.name = name
        self.reason = reason
        self.last_response = last_response
        self.kwargs = {"name": name, "reason": reason}
        self.ami_id = ami_id
        self.failure_reason = failure_reason

    def __reduce__(self):
        return self.__class__, (self.name, self.reason, self.last_response, self.status, self.status_name,
                                self.message, self.code, self.http_status, self.request_id, self.ami_id,
                                self.failure_reason)

"""boto3's ``store_image_task_complete`` waiter, over ``storetasks_client_wait``.

::

    waiter = client.get_waiter("store_image_task_complete")
    waiter.wait(ImageIds=["ami-0123456789abcdef0"], WaiterConfig={"Delay": 5, "MaxAttempts": 40})

The same waiter follows images in several regions and accounts with ``Targets`` in place of
``ImageIds`` (``storetasks_client_wait_targets``)::

    waiter.wait(Targets=[{"Region": "eu-west-3", "ImageId": "ami-0123456789abcdef0"},
                         {"Region": "us-west-2", "RoleArn": "arn:aws:iam::111111111111:role/Reader",
                          "ImageId": "ami-0fedcba9876543210"}])

Each target is a dict with ``ImageId`` and, optionally, ``Region`` (absent or None: the client's
region) and ``RoleArn`` (an IAM role of the image's account, assumed once per wait with the
client's credentials; absent or None: the client's own account). Each poll asks every (account,
region) place for its images at once. The tasks (in the final response and those given to
``progress``) come in the order of ``Targets``, a target given twice once. When the targets span
more than one place, messages name an image ``REGION/ami-...`` (``ACCOUNT/REGION/ami-...`` in a
role's account) while ``ami_id`` holds the bare id; a place's throttling or network error means
another poll, and any other error of a place (denied, for instance) ends the wait with a message
that starts with the place (``REGION: ``). A region name or role ARN the library refuses raises
:class:`~storetasks.ParamValidationError` before anything is sent.

How boto3's settings map onto libstoretasks's waiter, which backs off instead of polling at a
fixed pace:

- ``WaiterConfig["Delay"]`` (seconds, default 5 as in botocore) is the first pause between polls;
  the pauses then double up to ``MaxDelay`` (default: the larger of ``Delay`` and 120 s), each one
  drawn at random between ``Delay`` and the current ceiling. ``MaxDelay=Delay`` polls at
  boto3's fixed pace.
- ``WaiterConfig["MaxAttempts"]`` (default 40) does not count polls: ``Delay * MaxAttempts``
  becomes the deadline of the whole wait, unless ``Timeout`` is given (seconds; 0 waits without
  a deadline).
- ``NotFoundGrace`` (seconds, default 60) is how long an image may have no store task before the
  wait ends; boto3 keeps polling such an image until it runs out of attempts.
- Every duration is sent in whole milliseconds as a 64-bit unsigned number: a number of seconds
  (an int or a float) beyond 18446744073709551.615, NaN, infinity or a bool raises
  :class:`~storetasks.ParamValidationError`, as does a ``MaxAttempts`` that makes
  ``Delay * MaxAttempts`` go beyond it.
- ``progress`` is called after each poll with the latest task (a boto3 task dict) of each image
  that has one, in the order of ``ImageIds`` (or ``Targets``); returning False stops the wait
  (``WaiterError`` with status ``STORETASKS_STATUS_CANCELLED``), returning True or None goes on.
  It runs on the thread that called ``wait()``; an exception it raises stops the wait and is
  raised by ``wait()``. It may close the client: the wait then ends at once with
  :class:`~storetasks.ClientClosedError`, as does a wait running when another thread closes it.

Throttling, network errors, timeouts and 5xx replies are retried at the next poll. ``wait()``
returns the final response (boto3's returns None): the completed tasks under
``StoreImageTaskResults``. The poll runs on a worker thread so that Ctrl-C (KeyboardInterrupt)
ends a wait at once, between polls as well. Whatever interrupts a wait (KeyboardInterrupt,
SystemExit, any exception a signal handler raises), ``wait()`` cancels the native wait, lets the
worker finish and only then raises it.

On asyncio, :class:`storetasks.aio.AsyncWaiter` (``AsyncClient.get_waiter``) makes the same wait
without a thread (``await wait(...)``), with no ``progress``: see :mod:`storetasks.aio`.
"""

import contextlib
import ctypes

from . import _marshal as M
from . import _native as N
from . import _worker
from .exceptions import ParamValidationError, WaiterError

DEFAULT_DELAY = 5  # botocore's model for StoreImageTaskComplete
DEFAULT_MAX_ATTEMPTS = 40
DEFAULT_MAX_DELAY = 120  # libstoretasks's default ceiling

_ARGUMENT = "StoreImageTaskResults[].StoreTaskState"
# botocore's explanations of the acceptors, quoted in its reasons.
_FAILED = f'For expression "{_ARGUMENT}" we matched expected path: "Failed" at least once'
_IN_PROGRESS = f'For expression "{_ARGUMENT}" we matched expected path: "InProgress" at least once'
_WAITER_CONFIG_KEYS = ("Delay", "MaxAttempts")
#: The members of a target, in storetasks_wait_target's order.
_TARGET_MEMBERS = ("Region", "RoleArn", "ImageId")


class WaiterModel:
    """What botocore's ``waiter.config`` holds for this waiter."""

    operation = "DescribeStoreImageTasks"
    delay = DEFAULT_DELAY
    max_attempts = DEFAULT_MAX_ATTEMPTS


def _settings(waiter_config, timeout, not_found_grace, max_delay):
    """(min delay, max delay, timeout, grace) in milliseconds, each one a uint64_t; grace None
    keeps the default."""
    if not isinstance(waiter_config, dict):
        raise ParamValidationError(f"Invalid value for WaiterConfig: {waiter_config!r} (a dict)")
    for key in waiter_config:
        if key not in _WAITER_CONFIG_KEYS:
            raise ParamValidationError(f'Unknown key in WaiterConfig: "{key}", must be one of: '
                                       f'{", ".join(_WAITER_CONFIG_KEYS)}')

    def ms(name, value, minimum_ms):
        return M.in_range(name, value, minimum_ms, M.UINT64_MAX, seconds=True)

    delay_ms = ms("WaiterConfig.Delay", waiter_config.get("Delay", DEFAULT_DELAY), 1)
    # Delay * MaxAttempts is the deadline when Timeout is not given: it must fit as well (checked
    # whether Timeout is given or not, so that a WaiterConfig is valid or not on its own).
    attempts = M.in_range("WaiterConfig.MaxAttempts", waiter_config.get("MaxAttempts", DEFAULT_MAX_ATTEMPTS), 1,
                          M.UINT64_MAX // delay_ms,
                          why="as Delay times MaxAttempts, the deadline, must fit in 64 bits of milliseconds")
    if max_delay is None:
        max_delay_ms = max(delay_ms, DEFAULT_MAX_DELAY * 1000)
    else:
        max_delay_ms = ms("MaxDelay", max_delay, delay_ms)
    timeout_ms = delay_ms * attempts if timeout is None else ms("Timeout", timeout, 0)
    grace_ms = None if not_found_grace is None else ms("NotFoundGrace", not_found_grace, 0)
    return delay_ms, max_delay_ms, timeout_ms, grace_ms


def _images(params):
    """The images to wait for: ("ImageIds", [id as bytes]) or ("Targets", [(region, role ARN,
    image id) as bytes, None for an absent Region or RoleArn])."""
    if "Targets" in params:
        others = [k for k in params if k != "Targets"]
        if others:
            raise ParamValidationError("The StoreImageTaskComplete waiter takes ImageIds or Targets, "
                                       f"not Targets with: {', '.join(others)}")
        return "Targets", _targets(params["Targets"])
    return "ImageIds", _image_ids(params)


def _targets(targets):
    """Targets checked with botocore's wording (types first, then the strings for C)."""
    if not isinstance(targets, (list, tuple)):
        raise ParamValidationError(M._type_error("Targets", targets, (list, tuple)))
    if not targets:
        raise ParamValidationError("Invalid length for parameter Targets, value: 0, valid min length: 1")
    problems = []
    for i, target in enumerate(targets):
        where = f"Targets[{i}]"
        if not isinstance(target, dict):
            problems.append(M._type_error(where, target, (dict,)))
            continue
        for key in target:
            if key not in _TARGET_MEMBERS:
                problems.append(f'Unknown parameter in {where}: "{key}", must be one of: {", ".join(_TARGET_MEMBERS)}')
        if "ImageId" not in target:
            problems.append(f'Missing required parameter in {where}: "ImageId"')
        for key in _TARGET_MEMBERS:
            value = target.get(key)
            if key in target and not isinstance(value, str) and not (value is None and key != "ImageId"):
                problems.append(M._type_error(f"{where}.{key}", value, (str,)))
    if problems:
        raise ParamValidationError("\n".join(problems))
    out = []
    for i, target in enumerate(targets):
        where = f"Targets[{i}]"
        if not target["ImageId"]:
            raise ParamValidationError(f"Invalid value for parameter {where}.ImageId: ''")
        out.append(tuple(None if target.get(key) is None else M.c_string(f"{where}.{key}", target[key])
                         for key in _TARGET_MEMBERS))
    return out


def _image_ids(params):
    problems = M.validate(params)
    if problems:
        raise ParamValidationError("\n".join(problems))
    others = [k for k in params if k != "ImageIds"]
    if others:
        raise ParamValidationError("The StoreImageTaskComplete waiter takes ImageIds (or Targets) only, "
                                   f"not: {', '.join(others)}")
    ids = params.get("ImageIds")
    if not ids:
        raise ParamValidationError('Missing required parameter in input: "ImageIds" (at least one image id)')
    out = []
    for i, image_id in enumerate(ids):
        if not image_id or "\x00" in image_id:
            raise ParamValidationError(f"Invalid value for parameter ImageIds[{i}]: {image_id!r}")
        out.append(image_id.encode("utf-8"))
    return out


def wait_parameters(params, waiter_config, timeout, not_found_grace, max_delay):
    """A wait's parameters checked before anything is built: ("ImageIds" or "Targets", the images
    (see _images), the settings in milliseconds (see _settings))."""
    kind, images = _images(params)
    return kind, images, _settings(waiter_config or {}, timeout, not_found_grace, max_delay)


@contextlib.contextmanager
def wait_arguments(lib, kind, images, settings):
    """The C arguments of a wait, from what :func:`wait_parameters` returned: (the images as a C
    array, their count, a new storetasks_wait_options), the options freed on leaving the block."""
    delay_ms, max_delay_ms, timeout_ms, grace_ms = settings
    if kind == "Targets":
        array = (N.WaitTarget * len(images))(*(N.WaitTarget(*t) for t in images))
    else:
        array = (ctypes.c_char_p * len(images))(*images)
    options = lib.storetasks_wait_options_new()
    if not options:
        raise MemoryError("storetasks_wait_options_new")
    try:
        def check(status, what):
            M.check_setter(status, what, lib.storetasks_wait_options_last_error, options)

        check(lib.storetasks_wait_options_set_delays(options, delay_ms, max_delay_ms), "WaiterConfig.Delay/MaxDelay")
        check(lib.storetasks_wait_options_set_timeout(options, timeout_ms), "Timeout")
        if grace_ms is not None:
            check(lib.storetasks_wait_options_set_not_found_grace(options, grace_ms), "NotFoundGrace")
        yield array, len(images), options  # `images` (this frame's) holds the bytes the array points to
    finally:
        lib.storetasks_wait_options_free(options)


class Waiter:
    """``client.get_waiter("store_image_task_complete")``.

    ``client`` is the :class:`~storetasks.Client` (only its private ``_call`` and
    ``endpoint_url`` are used, so that this module does not import the client's; the
    :class:`storetasks.aio.AsyncWaiter` uses an AsyncClient's ``_started`` instead)."""

    def __init__(self, client, name):
        self._client = client
        self.name = name
        self.config = WaiterModel()

    def wait(self, WaiterConfig=None, progress=None, Timeout=None, NotFoundGrace=None, MaxDelay=None,  # noqa: N803
             **kwargs):
        """Waits until the latest store task of every image in ``ImageIds`` (or of every target
        in ``Targets``, images in several regions and accounts) is Completed.

        Raises :class:`~storetasks.WaiterError` when one fails, the deadline passes, an image has
        no task for ``NotFoundGrace`` seconds, ``progress`` returns False or the service answers
        with an error; returns the final response. See the module's documentation.
        """
        if progress is not None and not callable(progress):
            raise ParamValidationError(f"Invalid value for progress: {progress!r} (a callable)")
        kind, images, settings = wait_parameters(kwargs, WaiterConfig, Timeout, NotFoundGrace, MaxDelay)
        lib = N.lib()
        wait = lib.storetasks_client_wait_targets if kind == "Targets" else lib.storetasks_client_wait
        with wait_arguments(lib, kind, images, settings) as (array, count, options):
            cancel = lib.storetasks_cancel_new()
            try:
                if not cancel:
                    raise MemoryError("storetasks_cancel_new")

                def call(handle, task_list, err):
                    return wait(handle, array, count, options, cancel, task_list, err)

                return self._run(lib, call, options, cancel, progress, kind == "Targets")
            finally:
                lib.storetasks_cancel_free(cancel)

    def _run(self, lib, call, options, cancel, progress, by_place):
        """Runs ``call(handle, byref(task list), byref(error))`` (one of the library's waits, with
        ``options`` and ``cancel``) on a worker thread. ``by_place``: the library's messages name
        the images (the Targets form), so the reason of a failed task quotes its message."""
        # The worker's progress callback hands each poll's tasks (or the exception reading them
        # raised) to this thread, which runs `progress` and answers whether to go on.
        worker = _worker.Worker(lib, cancel, "storetasks-wait")

        def on_progress(task_list, _user_data):
            try:
                item = M.response(task_list)
            except BaseException as e:  # noqa: BLE001 - raised by the waiting thread
                item = e
            return worker.offer(item)

        callback = N.ProgressCallback(on_progress)  # kept alive until the C call has returned
        M.check_setter(lib.storetasks_wait_options_set_progress(options, callback, None), "progress",
                       lib.storetasks_wait_options_last_error, options)
        task_list = ctypes.POINTER(N.TaskList)()
        err = ctypes.POINTER(N.Error)()
        last_response = None
        stopped = False
        error = None
        try:
            worker.start(self._client, lambda handle: call(handle, ctypes.byref(task_list), ctypes.byref(err)))
            while (item := worker.take()) is not _worker.END:
                last_response = item
                keep = True
                if progress is not None:
                    keep = progress(list(last_response["StoreImageTaskResults"]))
                    keep = keep is None or bool(keep)
                worker.answer(keep)
                if not keep:
                    stopped = True
        except BaseException as e:  # the progress callable's exception, KeyboardInterrupt, SystemExit...
            error = e
            worker.stop()
        finally:
            # Never leave while the worker runs: the C call uses `options`, `cancel` and
            # `callback`, which the caller frees. What interrupts this is raised afterwards.
            status, error = worker.finish(error)
        status = _worker.ran(status, error)
        if error is not None:
            lib.storetasks_task_list_free(task_list)
            lib.storetasks_error_free(err)
            raise error
        return self._outcome(status, task_list, err, worker.closed, by_place, last_response, stopped)

    def _outcome(self, status, task_list, err, closed, by_place, last_response=None, stopped=False):
        """The final response of a wait that ended with ``status``, or raises what the end means
        (``closed``: close() cancelled the wait; ``last_response``: the last poll's response, if
        one was seen; ``stopped``: ``progress`` stopped it). Frees the list and the error object."""
        lib = N.lib()
        ok = M.is_status(status, "OK")
        try:
            if ok:
                return M.response(task_list)
        finally:
            lib.storetasks_task_list_free(task_list)
            if ok or closed:
                lib.storetasks_error_free(err)
        if closed:
            raise M.closed_error(status)
        raise self._error(M.read_error(status, err), last_response, stopped, by_place)

    def _error(self, fields, last_response, stopped, by_place=False):
        status, message = fields["status"], fields["message"]
        details = dict(status=status, status_name=N.status_name(status), message=message,
                       http_status=fields["http_status"], request_id=fields["request_id"],
                       ami_id=fields["ami_id"], failure_reason=fields["failure_reason"])
        if M.is_status(status, "TASK_FAILED"):
            # With Targets, the library's message names the image with its place.
            failed = message if by_place else f"{fields['ami_id']}: {fields['failure_reason']}"
            reason = f"Waiter encountered a terminal failure state: {_FAILED} ({failed})"
        elif M.is_status(status, "WAIT_TIMEOUT"):
            reason = "Max attempts exceeded"
            if last_response and any(t.get("StoreTaskState") == "InProgress"
                                     for t in last_response["StoreImageTaskResults"]):
                reason += f". Previously accepted state: {_IN_PROGRESS}"
            reason += f" ({message})"
        elif M.is_status(status, "NOT_FOUND"):
            reason = f"No store task was found ({message})"
        elif M.is_status(status, "CANCELLED") and stopped:
            reason = "The progress callback stopped the wait"
        elif fields["code"] is not None:
            # What botocore's waiter makes of a ClientError no acceptor matches.
            reason = f"An error occurred ({fields['code']}): {message}"
            last_response = M.error_response(fields["code"], message, fields["http_status"], fields["request_id"])
            details["code"] = fields["code"]
        else:
            return M.exception_from(fields, self._client.endpoint_url)
        return WaiterError(self.name, reason, last_response, **details)

"""Finding libstoretasks and declaring the C functions this package calls.

The library is looked for, in this order:

1. ``$STORETASKS_LIBRARY``: the path of the shared library (nothing else is tried when it is set);
2. this package's folder (a copy placed next to the modules, for a self-contained install);
3. ``target/release`` of the source checkout this package sits in (``bindings/python/storetasks``);
4. ``ctypes.util.find_library("storetasks")``, then the dynamic loader's own search path
   (``LD_LIBRARY_PATH``, ``/etc/ld.so.conf``, ``DYLD_LIBRARY_PATH``...).
"""

import ctypes
import ctypes.util
import os
import sys
import threading
from pathlib import Path

from .exceptions import LibraryNotFoundError

#: The major version this package was written for; the library's SONAME changes with it.
SUPPORTED_MAJOR = 0
#: The oldest minor version that has every function this package declares.
MIN_MINOR = 1

if sys.platform == "darwin":
    LIBRARY_FILE = "libstoretasks.dylib"
elif sys.platform == "win32":
    LIBRARY_FILE = "storetasks.dll"
else:
    LIBRARY_FILE = "libstoretasks.so"

PACKAGE_DIR = Path(__file__).resolve().parent

# Status numbers are not written here: they are read from the library when it is loaded (see
# _read_statuses), by name, so that this package follows the library's own table.
#: How many numbers in a row may have no name before the table is taken to have ended (numbers of
#: retired statuses are never reused, so the table may have gaps).
_STATUS_GAP = 16
#: The statuses this package tells apart; a library that lacks one of them is refused.
REQUIRED_STATUSES = ("OK", "DRY_RUN_OK", "INVALID_ARGUMENT", "TIMEOUT", "NETWORK", "RESPONSE", "CANCELLED",
                     "CONFIG", "CREDENTIALS", "TASK_FAILED", "WAIT_TIMEOUT", "NOT_FOUND")
STATUS_PREFIX = "STORETASKS_STATUS_"
UNKNOWN_STATUS = STATUS_PREFIX + "UNKNOWN"

# storetasks_retry_mode
RETRY_MODES = {"default": 0, "standard": 1, "adaptive": 2}


class _Opaque(ctypes.Structure):
    """Base of the opaque C types: only ever handled through pointers."""


class Config(_Opaque):
    pass


class ClientHandle(_Opaque):
    pass


class Query(_Opaque):
    pass


class TaskList(_Opaque):
    pass


class Error(_Opaque):
    pass


class Cancel(_Opaque):
    pass


class WaitOptions(_Opaque):
    pass


class Fleet(_Opaque):
    pass


class FleetResult(_Opaque):
    pass


class Call(_Opaque):
    pass


class Task(ctypes.Structure):
    """storetasks_task: a read-only view that lives as long as its list."""

    _fields_ = [
        ("ami_id", ctypes.c_char_p),
        ("bucket", ctypes.c_char_p),
        ("s3_object_key", ctypes.c_char_p),
        ("failure_reason", ctypes.c_char_p),
        ("state_raw", ctypes.c_char_p),
        ("task_start_time_ms", ctypes.c_int64),
        ("progress_percentage", ctypes.c_int32),
        ("state", ctypes.c_int),
        ("has_task_start_time", ctypes.c_bool),
        ("has_progress_percentage", ctypes.c_bool),
    ]


class WaitTarget(ctypes.Structure):
    """storetasks_wait_target: one image of storetasks_client_wait_targets and where its store
    task runs (NULL region: the client's; NULL role: the client's own credentials)."""

    _fields_ = [
        ("region", ctypes.c_char_p),
        ("role_arn", ctypes.c_char_p),
        ("image_id", ctypes.c_char_p),
    ]


P = ctypes.POINTER
_status = ctypes.c_int
_char = ctypes.c_char_p

#: storetasks_progress_callback: bool (*)(const storetasks_task_list *tasks, void *user_data).
ProgressCallback = ctypes.CFUNCTYPE(ctypes.c_bool, P(TaskList), ctypes.c_void_p)
#: storetasks_fleet_page_callback: bool (*)(const char *region, const char *account,
#: const storetasks_task_list *page, void *user_data).
FleetPageCallback = ctypes.CFUNCTYPE(ctypes.c_bool, _char, _char, P(TaskList), ctypes.c_void_p)
#: storetasks_call_callback: void (*)(storetasks_call *call, void *user_data).
CallCallback = ctypes.CFUNCTYPE(None, P(Call), ctypes.c_void_p)

# name: (restype, argtypes). Every function this package calls but those of _CALL_SIGNATURES, and
# nothing else (the tests also call storetasks_fleet_result_failed and
# storetasks_fleet_result_to_json, to check the package's own reading of a fleet result).
_SIGNATURES = {
    "storetasks_version": (_char, []),
    "storetasks_status_name": (_char, [ctypes.c_int32]),
    "storetasks_config_new": (P(Config), []),
    "storetasks_config_free": (None, [P(Config)]),
    "storetasks_config_set_region": (_status, [P(Config), _char]),
    "storetasks_config_set_endpoint_url": (_status, [P(Config), _char]),
    "storetasks_config_set_profile": (_status, [P(Config), _char]),
    "storetasks_config_set_credentials": (_status, [P(Config), _char, _char, _char]),
    "storetasks_config_set_retry": (_status, [P(Config), ctypes.c_int32, ctypes.c_uint32]),
    "storetasks_config_set_timeouts": (_status, [P(Config), ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64]),
    "storetasks_config_set_use_fips": (_status, [P(Config), ctypes.c_bool]),
    "storetasks_config_set_use_dual_stack": (_status, [P(Config), ctypes.c_bool]),
    "storetasks_config_set_ca_bundle": (_status, [P(Config), _char]),
    "storetasks_config_set_sts_endpoint_url": (_status, [P(Config), _char]),
    "storetasks_config_set_proxy": (_status, [P(Config), _char, _char]),
    "storetasks_config_set_app_name": (_status, [P(Config), _char]),
    "storetasks_config_set_max_concurrency": (_status, [P(Config), ctypes.c_size_t]),
    "storetasks_config_last_error": (_char, [P(Config)]),
    "storetasks_client_new": (_status, [P(Config), P(P(ClientHandle)), P(P(Error))]),
    "storetasks_client_free": (None, [P(ClientHandle)]),
    "storetasks_client_describe": (_status, [P(ClientHandle), P(Query), P(Cancel), P(P(TaskList)), P(P(Error))]),
    "storetasks_error_status": (_status, [P(Error)]),
    "storetasks_error_message": (_char, [P(Error)]),
    "storetasks_error_code": (_char, [P(Error)]),
    "storetasks_error_http_status": (ctypes.c_uint16, [P(Error)]),
    "storetasks_error_request_id": (_char, [P(Error)]),
    "storetasks_error_ami_id": (_char, [P(Error)]),
    "storetasks_error_failure_reason": (_char, [P(Error)]),
    "storetasks_error_free": (None, [P(Error)]),
    "storetasks_query_new": (P(Query), []),
    "storetasks_query_free": (None, [P(Query)]),
    "storetasks_query_add_image_id": (_status, [P(Query), _char]),
    "storetasks_query_add_filter": (_status, [P(Query), _char, P(_char), ctypes.c_size_t]),
    "storetasks_query_set_max_results": (_status, [P(Query), ctypes.c_int32]),
    "storetasks_query_set_next_token": (_status, [P(Query), _char]),
    "storetasks_query_set_dry_run": (_status, [P(Query), ctypes.c_bool]),
    "storetasks_query_last_error": (_char, [P(Query)]),
    "storetasks_task_list_len": (ctypes.c_size_t, [P(TaskList)]),
    "storetasks_task_list_tasks": (P(Task), [P(TaskList)]),
    "storetasks_task_list_next_token": (_char, [P(TaskList)]),
    "storetasks_task_list_request_id": (_char, [P(TaskList)]),
    "storetasks_task_list_truncated": (ctypes.c_bool, [P(TaskList)]),
    "storetasks_task_list_free": (None, [P(TaskList)]),
    "storetasks_cancel_new": (P(Cancel), []),
    "storetasks_cancel_trigger": (None, [P(Cancel)]),
    "storetasks_cancel_free": (None, [P(Cancel)]),
    "storetasks_wait_options_new": (P(WaitOptions), []),
    "storetasks_wait_options_free": (None, [P(WaitOptions)]),
    "storetasks_wait_options_set_delays": (_status, [P(WaitOptions), ctypes.c_uint64, ctypes.c_uint64]),
    "storetasks_wait_options_set_timeout": (_status, [P(WaitOptions), ctypes.c_uint64]),
    "storetasks_wait_options_set_not_found_grace": (_status, [P(WaitOptions), ctypes.c_uint64]),
    "storetasks_wait_options_set_progress": (_status, [P(WaitOptions), ProgressCallback, ctypes.c_void_p]),
    "storetasks_wait_options_last_error": (_char, [P(WaitOptions)]),
    "storetasks_client_wait": (_status, [P(ClientHandle), P(_char), ctypes.c_size_t, P(WaitOptions), P(Cancel),
                                         P(P(TaskList)), P(P(Error))]),
    "storetasks_client_wait_targets": (_status, [P(ClientHandle), P(WaitTarget), ctypes.c_size_t, P(WaitOptions),
                                                 P(Cancel), P(P(TaskList)), P(P(Error))]),
    "storetasks_string_free": (None, [ctypes.c_void_p]),
    "storetasks_fleet_new": (P(Fleet), []),
    "storetasks_fleet_free": (None, [P(Fleet)]),
    "storetasks_fleet_last_error": (_char, [P(Fleet)]),
    "storetasks_fleet_add_region": (_status, [P(Fleet), _char]),
    "storetasks_fleet_set_all_regions": (_status, [P(Fleet), ctypes.c_bool]),
    "storetasks_fleet_add_role_arn": (_status, [P(Fleet), _char]),
    "storetasks_client_describe_fleet": (_status, [P(ClientHandle), P(Fleet), P(Query), P(Cancel),
                                                   P(P(FleetResult)), P(P(Error))]),
    "storetasks_client_describe_fleet_pages": (_status, [P(ClientHandle), P(Fleet), P(Query), P(Cancel),
                                                         FleetPageCallback, ctypes.c_void_p, P(P(FleetResult)),
                                                         P(P(Error))]),
    "storetasks_fleet_result_len": (ctypes.c_size_t, [P(FleetResult)]),
    "storetasks_fleet_result_failed": (ctypes.c_size_t, [P(FleetResult)]),
    "storetasks_fleet_result_region": (_char, [P(FleetResult), ctypes.c_size_t]),
    "storetasks_fleet_result_account": (_char, [P(FleetResult), ctypes.c_size_t]),
    "storetasks_fleet_result_role_arn": (_char, [P(FleetResult), ctypes.c_size_t]),
    "storetasks_fleet_result_tasks": (P(TaskList), [P(FleetResult), ctypes.c_size_t]),
    "storetasks_fleet_result_task_count": (ctypes.c_size_t, [P(FleetResult), ctypes.c_size_t]),
    "storetasks_fleet_result_error": (P(Error), [P(FleetResult), ctypes.c_size_t]),
    # The string out is a char * the library allocated: kept as an address for storetasks_string_free.
    "storetasks_fleet_result_to_json": (_status, [P(FleetResult), P(ctypes.c_void_p), P(P(Error))]),
    "storetasks_fleet_result_free": (None, [P(FleetResult)]),
}

# The calls that do not block, for storetasks.aio alone: declared by calls() on first use, so that
# a library without them still serves everything else.
_CALL_SIGNATURES = {
    "storetasks_client_describe_start": (_status, [P(ClientHandle), P(Query), CallCallback, ctypes.c_void_p,
                                                   P(P(Call)), P(P(Error))]),
    "storetasks_client_describe_pages_start": (_status, [P(ClientHandle), P(Query), ctypes.c_size_t, CallCallback,
                                                         ctypes.c_void_p, P(P(Call)), P(P(Error))]),
    "storetasks_client_wait_start": (_status, [P(ClientHandle), P(_char), ctypes.c_size_t, P(WaitOptions),
                                               CallCallback, ctypes.c_void_p, P(P(Call)), P(P(Error))]),
    "storetasks_client_wait_targets_start": (_status, [P(ClientHandle), P(WaitTarget), ctypes.c_size_t,
                                                       P(WaitOptions), CallCallback, ctypes.c_void_p, P(P(Call)),
                                                       P(P(Error))]),
    "storetasks_client_describe_fleet_start": (_status, [P(ClientHandle), P(Fleet), P(Query), CallCallback,
                                                         ctypes.c_void_p, P(P(Call)), P(P(Error))]),
    "storetasks_client_describe_fleet_pages_start": (_status, [P(ClientHandle), P(Fleet), P(Query), CallCallback,
                                                               ctypes.c_void_p, P(P(Call)), P(P(Error))]),
    # A fleet listing's page names its place (NULL for any other list; the account NULL for the
    # client's own credentials).
    "storetasks_task_list_region": (_char, [P(TaskList)]),
    "storetasks_task_list_account": (_char, [P(TaskList)]),
    "storetasks_call_fd": (ctypes.c_int32, [P(Call)]),
    "storetasks_call_cancel": (None, [P(Call)]),
    "storetasks_call_take_list": (_status, [P(Call), P(P(TaskList)), P(P(Error))]),
    "storetasks_call_take_fleet": (_status, [P(Call), P(P(FleetResult)), P(P(Error))]),
    "storetasks_call_next_page": (_status, [P(Call), P(P(TaskList)), P(P(Error))]),
    "storetasks_call_free": (None, [P(Call)]),
}
#: The statuses the calls that do not block add.
CALL_STATUSES = ("PENDING",)


def candidates():
    """Where the library is looked for, in order: (description, path or name) pairs."""
    env = os.environ.get("STORETASKS_LIBRARY")
    if env:
        return [("$STORETASKS_LIBRARY", env)]
    out = [("the package folder", str(PACKAGE_DIR / LIBRARY_FILE))]
    checkout = PACKAGE_DIR.parents[2] if len(PACKAGE_DIR.parents) > 2 else None
    if checkout is not None and (checkout / "include" / "storetasks.h").is_file():
        out.append(("the source checkout", str(checkout / "target" / "release" / LIBRARY_FILE)))
    found = ctypes.util.find_library("storetasks")
    if found:
        out.append(("ctypes.util.find_library", found))
    out.append(("the system search path", LIBRARY_FILE))
    return out


def _open():
    tried = []
    for where, path in candidates():
        is_path = os.sep in path
        if is_path and not os.path.exists(path):
            tried.append(f"{path} ({where}): no such file")
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried.append(f"{path} ({where}): {e}")
            continue
        return lib, path
    raise LibraryNotFoundError(
        "libstoretasks was not found; set STORETASKS_LIBRARY to the path of " + LIBRARY_FILE
        + ". Tried:\n  " + "\n  ".join(tried))


def _declare_functions(lib, path, signatures, needed_by="it is not a compatible libstoretasks"):
    for name, (restype, argtypes) in signatures.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            raise LibraryNotFoundError(f"{path} lacks {name}: {needed_by}") from None
        fn.restype = restype
        fn.argtypes = argtypes


def _declare(lib, path):
    _declare_functions(lib, path, _SIGNATURES)
    version = lib.storetasks_version().decode()
    major, minor = (int(x) for x in version.split(".")[:2])
    if major != SUPPORTED_MAJOR or minor < MIN_MINOR:
        raise LibraryNotFoundError(
            f"{path} is libstoretasks {version}; this package needs {SUPPORTED_MAJOR}.{MIN_MINOR} or a later "
            f"{SUPPORTED_MAJOR}.x")
    lib.status_names, lib.status_numbers = _read_statuses(lib, path)


def _read_statuses(lib, path):
    """The library's status table, from storetasks_status_name: ({number: full name},
    {short name such as "TASK_FAILED": number})."""
    names, numbers = {}, {}
    number, gap = 0, 0
    while gap < _STATUS_GAP:
        name = lib.storetasks_status_name(number).decode()
        if name == UNKNOWN_STATUS:
            gap += 1
        else:
            gap = 0
            names[number] = name
            numbers[name[len(STATUS_PREFIX):] if name.startswith(STATUS_PREFIX) else name] = number
        number += 1
    _check_statuses(numbers, REQUIRED_STATUSES, path)
    return names, numbers


def _check_statuses(numbers, required, path, needed_by="it is not a compatible libstoretasks"):
    missing = [n for n in required if n not in numbers]
    if missing:
        raise LibraryNotFoundError(f"{path} has no status {', '.join(STATUS_PREFIX + n for n in missing)}: "
                                   f"{needed_by}")


_lock = threading.Lock()
_loaded = None


def lib():
    """The loaded library, its functions declared. Loaded once, on first use."""
    global _loaded
    if _loaded is None:
        with _lock:
            if _loaded is None:
                handle, path = _open()
                _declare(handle, path)
                handle.storetasks_path = path
                handle.calls_declared = False  # see calls()
                _loaded = handle
    return _loaded


def calls():
    """The loaded library, with the functions of the calls that do not block declared too (on
    first use); raises LibraryNotFoundError for a library that has not got them."""
    loaded = lib()
    if not loaded.calls_declared:
        with _lock:
            if not loaded.calls_declared:
                needed_by = "storetasks.aio needs a libstoretasks with calls that do not block"
                path = loaded.storetasks_path
                _check_statuses(loaded.status_numbers, CALL_STATUSES, path, needed_by)
                _declare_functions(loaded, path, _CALL_SIGNATURES, needed_by)
                loaded.calls_declared = True
    return loaded


def status(name):
    """The number the loaded library gives the status ``STORETASKS_STATUS_<name>``."""
    return lib().status_numbers[name]


def status_name(number):
    """The library's name of a status number, such as ``"STORETASKS_STATUS_THROTTLED"``."""
    loaded = lib()
    name = loaded.status_names.get(number)
    return name if name is not None else loaded.storetasks_status_name(number).decode()


def text(value):
    """A borrowed C string (bytes or None) as str."""
    return None if value is None else value.decode("utf-8")

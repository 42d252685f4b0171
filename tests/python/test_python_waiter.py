"""The package's store_image_task_complete waiter against the emulator's moving tasks, and next to
boto3's own waiter where that stays fast (botocore sleeps a fixed Delay between polls)."""

import json
import pickle
import re
import threading
import time
import _thread

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import WaiterError as BotoWaiterError

from conftest import ACCESS_KEY, REGION, SECRET_KEY, import_storetasks

storetasks = import_storetasks()

RATE = 20  # percentage points per second of emulator time
T = "2026-11-20T11:59:{:02d}.000Z"


def task(n, progress, fail_at=None, reason=None, state="InProgress"):
    out = {"AmiId": f"ami-{n:017x}", "TaskStartTime": T.format(n), "Bucket": "waiter-bucket",
           "S3objectKey": f"ami-{n:017x}.bin", "ProgressPercentage": progress, "StoreTaskState": state}
    if fail_at is not None:
        out["EmulatorFailAt"] = fail_at
    if reason is not None:
        out["StoreTaskFailureReason"] = reason
    return out


TASKS = [
    task(1, 70),                                              # completes in 1.5 s
    task(2, 60),                                              # completes in 2 s
    task(3, 20, 30, "the KMS key is disabled"),               # fails in 0.5 s
    task(4, 10, 15, "Snapshot deleted: <&> é"),               # fails in 0.25 s
    task(5, 0, 100, "never reached"),                         # InProgress for 5 s, then fails
    task(6, 0),                                               # InProgress for 5 s
    task(7, 100, state="Completed"),
    task(8, 0),                                               # InProgress for 5 s
]
ID = {n: f"ami-{n:017x}" for n in range(1, 10)}
UNKNOWN = "ami-0ffffffffffffffff"
FAST = {"Delay": 0.1, "MaxAttempts": 300}


def moving_emulator(start_emulator, tmp_path):
    """An emulator whose TASKS move at RATE from its start."""
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps({"StoreImageTaskResults": TASKS}))
    return start_emulator("--tasks-file", path, "--progress-rate", RATE)


@pytest.fixture
def emu(start_emulator, tmp_path):
    return moving_emulator(start_emulator, tmp_path)


@pytest.fixture
def client(emu):
    with storetasks.Client(region=REGION, endpoint_url=emu.url, aws_access_key_id=ACCESS_KEY,
                           aws_secret_access_key=SECRET_KEY) as c:
        yield c


def boto(emu):
    return boto3.client("ec2", region_name=REGION, endpoint_url=emu.url, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, config=BotoConfig(retries={"max_attempts": 1}))


def waiter(client):
    return client.get_waiter("store_image_task_complete")


def wait_error(client, **kwargs):
    with pytest.raises(storetasks.WaiterError) as info:
        waiter(client).wait(**kwargs)
    return info.value


def test_completion_with_progress_seen(client, emu):
    seen = []
    before = emu.stats()["describe"]
    started = time.monotonic()
    final = waiter(client).wait(ImageIds=[ID[2], ID[1], ID[7]], WaiterConfig=FAST, MaxDelay=0.2,
                                progress=lambda tasks: seen.append(tasks))
    took = time.monotonic() - started
    assert 1.0 < took < 10
    assert [t["AmiId"] for t in final["StoreImageTaskResults"]] == [ID[2], ID[1], ID[7]]
    assert all(t["StoreTaskState"] == "Completed" and t["ProgressPercentage"] == 100
               for t in final["StoreImageTaskResults"])
    assert final["ResponseMetadata"]["HTTPStatusCode"] == 200
    # Each poll: the latest task of each image, in the order of ImageIds, as boto3 dicts.
    assert len(seen) >= 4 and len(seen) == emu.stats()["describe"] - before
    for tasks in seen:
        assert [t["AmiId"] for t in tasks] == [ID[2], ID[1], ID[7]]
        assert set(tasks[0]) == {"AmiId", "TaskStartTime", "Bucket", "S3objectKey", "ProgressPercentage",
                                 "StoreTaskState"}
    progress = [tasks[0]["ProgressPercentage"] for tasks in seen]
    assert progress == sorted(progress) and progress[0] < 100 and progress[-1] == 100
    assert seen[0][0]["StoreTaskState"] == "InProgress" and seen[-1][0]["StoreTaskState"] == "Completed"
    # A completed task needs one poll; a progress callable returning True goes on.
    assert waiter(client).wait(ImageIds=[ID[7]], progress=lambda tasks: True)["StoreImageTaskResults"][0][
        "AmiId"] == ID[7]


def test_a_failed_task_raises_with_the_ami_and_the_reason(client):
    e = wait_error(client, ImageIds=[ID[1], ID[3]], WaiterConfig=FAST)
    assert e.name == "StoreImageTaskComplete" and e.kwargs == {"name": e.name, "reason": e.reason}
    assert e.status_name == "STORETASKS_STATUS_TASK_FAILED" and e.status == 13
    assert e.ami_id == ID[3] and e.failure_reason == "the KMS key is disabled"
    assert e.reason.startswith('Waiter encountered a terminal failure state: For expression '
                               '"StoreImageTaskResults[].StoreTaskState" we matched expected path: "Failed" at least once')
    assert ID[3] in e.reason and "the KMS key is disabled" in e.reason
    assert str(e) == f"Waiter StoreImageTaskComplete failed: {e.reason}"
    failed = [t for t in e.last_response["StoreImageTaskResults"] if t["AmiId"] == ID[3]]
    assert failed[0]["StoreTaskState"] == "Failed" and failed[0]["StoreTaskFailureReason"] == "the KMS key is disabled"
    copy = pickle.loads(pickle.dumps(e))
    assert (copy.reason, copy.last_response, copy.ami_id, copy.failure_reason, copy.status) == \
        (e.reason, e.last_response, e.ami_id, e.failure_reason, e.status)
    assert isinstance(e, storetasks.StoreTasksError)


def test_the_deadline_is_delay_times_max_attempts_unless_timeout_is_given(client):
    started = time.monotonic()
    e = wait_error(client, ImageIds=[ID[6]], WaiterConfig={"Delay": 0.2, "MaxAttempts": 3}, MaxDelay=0.2)
    took = time.monotonic() - started
    assert 0.5 < took < 3
    assert e.status_name == "STORETASKS_STATUS_WAIT_TIMEOUT" and e.ami_id is None
    assert e.reason.startswith('Max attempts exceeded. Previously accepted state: For expression '
                               '"StoreImageTaskResults[].StoreTaskState" we matched expected path: "InProgress" at least once')
    assert f"{ID[6]}: InProgress" in e.reason and e.message in e.reason
    assert e.last_response["StoreImageTaskResults"][0]["StoreTaskState"] == "InProgress"

    started = time.monotonic()
    e = wait_error(client, ImageIds=[ID[8]], WaiterConfig={"Delay": 0.1, "MaxAttempts": 1000}, Timeout=0.5)
    assert time.monotonic() - started < 3 and e.status_name == "STORETASKS_STATUS_WAIT_TIMEOUT"


#: Seconds whose milliseconds are one second past 2**64 - 1: ctypes made them 384 ms.
BEYOND_UINT64_MS = 2**64 // 1000 + 1
#: The most whole seconds whose milliseconds fit in 64 bits.
LARGEST_S = 2**64 // 1000


def test_a_timeout_beyond_64_bits_of_milliseconds_is_refused_not_wrapped(client, emu):
    # Wrapped by ctypes, this Timeout was 384 ms: the wait gave up at once on a task in progress.
    before = emu.stats()["describe"]
    with pytest.raises(storetasks.ParamValidationError) as info:
        waiter(client).wait(ImageIds=[ID[8]], WaiterConfig=FAST, Timeout=BEYOND_UINT64_MS)
    assert info.value.report == ("Invalid value for Timeout: 18446744073709552 (a number of seconds from 0 to "
                                 "18446744073709551.615)")
    assert emu.stats()["describe"] == before


@pytest.mark.parametrize("kwargs, name", [
    ({"Timeout": 1e300}, "Timeout"),
    ({"Timeout": float("inf")}, "Timeout"),
    ({"Timeout": True}, "Timeout"),
    ({"NotFoundGrace": BEYOND_UINT64_MS}, "NotFoundGrace"),
    ({"NotFoundGrace": float("nan")}, "NotFoundGrace"),
    ({"MaxDelay": BEYOND_UINT64_MS}, "MaxDelay"),
    ({"MaxDelay": 1e306}, "MaxDelay"),
    ({"WaiterConfig": {"Delay": BEYOND_UINT64_MS}}, "WaiterConfig.Delay"),
    ({"WaiterConfig": {"Delay": 1e300}}, "WaiterConfig.Delay"),
    ({"WaiterConfig": {"Delay": True}}, "WaiterConfig.Delay"),
    ({"WaiterConfig": {"MaxAttempts": True}}, "WaiterConfig.MaxAttempts"),
    # Without Timeout the deadline is Delay * MaxAttempts (5000 ms * this wrapped to 3384 ms).
    ({"WaiterConfig": {"MaxAttempts": 2**64 // 5000 + 1}}, "WaiterConfig.MaxAttempts"),
    ({"WaiterConfig": {"Delay": LARGEST_S}}, "WaiterConfig.MaxAttempts"),
])
def test_durations_beyond_64_bits_of_milliseconds_are_refused_not_wrapped(client, emu, kwargs, name):
    before = emu.stats()["describe"]
    with pytest.raises(storetasks.ParamValidationError) as info:
        waiter(client).wait(ImageIds=[ID[7]], **kwargs)  # a completed task: a wrapped value returns at once
    # One sentence: the parameter, the value and the range.
    assert re.fullmatch(rf"Invalid value for {re.escape(name)}: \S+ \((a number of seconds|an integer) from "
                        r"[0-9.]+ to [0-9.]+(, as Delay times MaxAttempts, the deadline, must fit in 64 bits of "
                        r"milliseconds)?\)", info.value.report), info.value.report
    assert emu.stats()["describe"] == before


def test_the_longest_durations_that_fit_are_accepted(client):
    done = waiter(client).wait(ImageIds=[ID[7]], WaiterConfig={"Delay": 0.1, "MaxAttempts": (2**64 - 1) // 100},
                               MaxDelay=LARGEST_S, NotFoundGrace=LARGEST_S)
    assert done["StoreImageTaskResults"][0]["StoreTaskState"] == "Completed"
    done = waiter(client).wait(ImageIds=[ID[7]], WaiterConfig={"Delay": LARGEST_S, "MaxAttempts": 1},
                               Timeout=LARGEST_S)
    assert done["StoreImageTaskResults"][0]["StoreTaskState"] == "Completed"


def test_an_image_without_a_task_is_not_found_after_the_grace(client):
    started = time.monotonic()
    e = wait_error(client, ImageIds=[ID[1], UNKNOWN], WaiterConfig=FAST, NotFoundGrace=0.3)
    assert time.monotonic() - started < 3
    assert e.status_name == "STORETASKS_STATUS_NOT_FOUND" and e.ami_id == UNKNOWN
    assert e.reason.startswith("No store task was found") and UNKNOWN in e.reason
    assert [t["AmiId"] for t in e.last_response["StoreImageTaskResults"]] == [ID[1]]
    # Within a deadline shorter than the grace, the image is only late: a timeout, as boto3's.
    e = wait_error(client, ImageIds=[UNKNOWN], WaiterConfig={"Delay": 0.1, "MaxAttempts": 3})
    assert e.status_name == "STORETASKS_STATUS_WAIT_TIMEOUT" and e.reason.startswith("Max attempts exceeded (")


def test_progress_returning_false_or_raising_stops_the_wait(client, emu):
    calls = []

    def stop_at_third(tasks):
        calls.append(tasks)
        return len(calls) < 3

    before = emu.stats()["describe"]
    e = wait_error(client, ImageIds=[ID[8]], WaiterConfig=FAST, progress=stop_at_third)
    assert len(calls) == 3 and emu.stats()["describe"] - before == 3
    assert e.status_name == "STORETASKS_STATUS_CANCELLED"
    assert e.reason == "The progress callback stopped the wait"
    assert e.last_response["StoreImageTaskResults"] == calls[-1]

    class Stop(Exception):
        pass

    def boom(tasks):
        raise Stop(tasks[0]["AmiId"])

    before = emu.stats()["describe"]
    with pytest.raises(Stop, match=ID[8]):
        waiter(client).wait(ImageIds=[ID[8]], WaiterConfig=FAST, progress=boom)
    assert emu.stats()["describe"] - before == 1
    # Falsy values other than None stop too; None goes on.
    e = wait_error(client, ImageIds=[ID[8]], WaiterConfig=FAST, progress=lambda tasks: 0)
    assert e.status_name == "STORETASKS_STATUS_CANCELLED"
    assert waiter(client).wait(ImageIds=[ID[7]], WaiterConfig=FAST, progress=lambda tasks: None)
    # The client is still usable.
    assert len(client.describe_store_image_tasks(ImageIds=[ID[1]])["StoreImageTaskResults"]) == 1


def test_keyboard_interrupt_ends_a_wait_between_polls(client):
    timer = threading.Timer(0.4, _thread.interrupt_main)
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            # Polls 5 s apart: only the interrupt ends this wait early.
            waiter(client).wait(ImageIds=[ID[8]], WaiterConfig={"Delay": 5, "MaxAttempts": 10})
    finally:
        timer.join()
    assert time.monotonic() - started < 2.5
    assert waiter(client).wait(ImageIds=[ID[7]])["StoreImageTaskResults"][0]["StoreTaskState"] == "Completed"


def test_service_errors_are_waiter_errors_like_botocore(emu, client):
    emu.add_faults("internal,count=1")
    # 5xx replies are retried at the next poll.
    assert waiter(client).wait(ImageIds=[ID[7]], WaiterConfig=FAST)["StoreImageTaskResults"][0]["AmiId"] == ID[7]
    with storetasks.Client(region=REGION, endpoint_url=emu.url, aws_access_key_id="AKIASTORETASKSDENIED",
                           aws_secret_access_key=SECRET_KEY) as denied:
        e = wait_error(denied, ImageIds=[ID[7]], WaiterConfig=FAST)
    assert e.code == "UnauthorizedOperation" and e.http_status == 403
    assert e.reason.startswith("An error occurred (UnauthorizedOperation): ")
    assert e.last_response["Error"]["Code"] == "UnauthorizedOperation"
    assert e.last_response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_the_waiter_is_found_and_refused_like_boto3s(client, emu):
    ec2 = boto(emu)
    assert "store_image_task_complete" in ec2.waiter_names
    assert client.waiter_names == ["store_image_task_complete"]
    assert waiter(client).name == ec2.get_waiter("store_image_task_complete").name == "StoreImageTaskComplete"
    assert (waiter(client).config.delay, waiter(client).config.max_attempts) == \
        (ec2.get_waiter("store_image_task_complete").config.delay,
         ec2.get_waiter("store_image_task_complete").config.max_attempts)
    with pytest.raises(ValueError) as mine:
        client.get_waiter("image_available")
    with pytest.raises(ValueError) as theirs:
        ec2.get_waiter("no_such_waiter")
    assert str(mine.value) == "Waiter does not exist: image_available"
    assert str(theirs.value) == "Waiter does not exist: no_such_waiter"
    before = emu.stats()["describe"]
    for kwargs in ({}, {"ImageIds": []}, {"ImageIds": "ami-1"}, {"ImageIds": [""]}, {"ImageIds": [ID[1]], "Bogus": 1},
                   {"ImageIds": [ID[1]], "Filters": []}, {"ImageIds": [ID[1]], "WaiterConfig": {"Delay": 0}},
                   {"ImageIds": [ID[1]], "WaiterConfig": {"Delay": -1}},
                   {"ImageIds": [ID[1]], "WaiterConfig": {"MaxAttempts": 0}},
                   {"ImageIds": [ID[1]], "WaiterConfig": {"Dely": 1}}, {"ImageIds": [ID[1]], "Timeout": "1"},
                   {"ImageIds": [ID[1]], "MaxDelay": 0.01, "WaiterConfig": {"Delay": 1}},
                   {"ImageIds": [ID[1]], "progress": 3}):
        with pytest.raises(storetasks.ParamValidationError):
            waiter(client).wait(**kwargs)
    assert emu.stats()["describe"] == before


def test_next_to_boto3s_waiter(client, emu):
    """One fast case each way: botocore sleeps Delay between polls, so Delay is small here."""
    ec2 = boto(emu)
    quick = {"Delay": 0.1, "MaxAttempts": 50}
    # A task that fails: both raise WaiterError with botocore's reason.
    with pytest.raises(BotoWaiterError) as theirs:
        ec2.get_waiter("store_image_task_complete").wait(ImageIds=[ID[4]], WaiterConfig=quick)
    mine = wait_error(client, ImageIds=[ID[4]], WaiterConfig=quick)
    assert mine.name == theirs.value.kwargs["name"] and mine.kwargs.keys() == theirs.value.kwargs.keys()
    assert mine.reason.startswith(theirs.value.kwargs["reason"])
    assert str(mine).startswith(str(theirs.value))
    theirs_tasks = theirs.value.last_response["StoreImageTaskResults"]
    assert mine.last_response["StoreImageTaskResults"] == theirs_tasks
    assert theirs_tasks[0]["StoreTaskFailureReason"] == mine.failure_reason == "Snapshot deleted: <&> é"
    # Tasks that complete: both succeed; ours also hands back the final tasks.
    assert ec2.get_waiter("store_image_task_complete").wait(ImageIds=[ID[2], ID[7]], WaiterConfig=quick) is None
    final = waiter(client).wait(ImageIds=[ID[2], ID[7]], WaiterConfig=quick)
    want = ec2.describe_store_image_tasks(ImageIds=[ID[2], ID[7]])["StoreImageTaskResults"]
    assert sorted(final["StoreImageTaskResults"], key=lambda t: t["AmiId"]) == sorted(want, key=lambda t: t["AmiId"])
    # An image without a task: boto3 polls until MaxAttempts; so does ours within a short deadline.
    few = {"Delay": 0.1, "MaxAttempts": 2}
    with pytest.raises(BotoWaiterError) as theirs:
        ec2.get_waiter("store_image_task_complete").wait(ImageIds=[UNKNOWN], WaiterConfig=few)
    mine = wait_error(client, ImageIds=[UNKNOWN], WaiterConfig=few)
    assert theirs.value.kwargs["reason"] == "Max attempts exceeded"
    assert mine.reason.startswith("Max attempts exceeded")


# -- closing and interrupting a wait -------------------------------------------------------------


def run_bounded(fn, seconds=15):
    """fn() on a thread, which must end within `seconds` (a deadlock fails the test instead of
    hanging it); its result or exception."""
    out = {}

    def target():
        try:
            out["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the test
            out["error"] = e

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s (deadlock?)"
    return out


def test_progress_may_close_the_client(emu, native_frees):
    client = storetasks.Client(region=REGION, endpoint_url=emu.url, aws_access_key_id=ACCESS_KEY,
                               aws_secret_access_key=SECRET_KEY)
    seen = []

    def close_at_second_poll(tasks):
        seen.append(tasks)
        if len(seen) == 2:
            client.close()  # cancels this very wait; returns once the client is freed
            assert client.closed and len(native_frees["storetasks_client_free"]) == 1
        return True

    before = emu.stats()["describe"]
    out = run_bounded(lambda: waiter(client).wait(ImageIds=[ID[8]], WaiterConfig=FAST, progress=close_at_second_poll))
    e = out.get("error")
    assert isinstance(e, storetasks.ClientClosedError), out
    assert e.status_name == "STORETASKS_STATUS_CANCELLED" and "closed" in str(e)
    assert len(seen) == 2 and emu.stats()["describe"] - before == 2
    assert len(native_frees["storetasks_client_free"]) == 1
    with pytest.raises(storetasks.ClientClosedError):
        waiter(client).wait(ImageIds=[ID[7]])
    client.close()
    assert len(native_frees["storetasks_client_free"]) == 1


def test_closing_from_another_thread_ends_a_running_wait(emu, native_frees):
    client = storetasks.Client(region=REGION, endpoint_url=emu.url, aws_access_key_id=ACCESS_KEY,
                               aws_secret_access_key=SECRET_KEY)
    timer = threading.Timer(0.4, client.close)
    timer.start()
    started = time.monotonic()
    # Polls 5 s apart and a 4 s deadline: only close() ends this wait early.
    out = run_bounded(lambda: waiter(client).wait(ImageIds=[ID[8]], WaiterConfig={"Delay": 5}, Timeout=4))
    timer.join()
    assert time.monotonic() - started < 2
    assert isinstance(out.get("error"), storetasks.ClientClosedError), out
    assert len(native_frees["storetasks_client_free"]) == 1


class LingeringThread(threading.Thread):
    """The waiter's worker, lingering 0.5 s after its C call returned; its first join() is hit by
    a SystemExit, as from a signal handler."""

    started = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.joins = 0
        LingeringThread.started.append(self)

    def run(self):
        super().run()
        time.sleep(0.5)

    def join(self, timeout=None):
        self.joins += 1
        if self.joins == 1:
            raise SystemExit(7)
        return super().join(timeout)


def test_system_exit_while_joining_the_worker_waits_for_it_then_is_raised(client, monkeypatch):
    from types import SimpleNamespace

    from storetasks import _worker

    LingeringThread.started.clear()
    monkeypatch.setattr(_worker, "threading", SimpleNamespace(Thread=LingeringThread))
    with pytest.raises(SystemExit) as info:
        waiter(client).wait(ImageIds=[ID[7]], WaiterConfig=FAST)
    assert info.value.code == 7
    [worker] = LingeringThread.started
    assert not worker.is_alive(), "wait() raised while its worker still ran"
    monkeypatch.undo()
    assert waiter(client).wait(ImageIds=[ID[7]])["StoreImageTaskResults"][0]["AmiId"] == ID[7]


def test_system_exit_while_draining_a_stopped_wait_is_raised_after_the_cleanup(client, monkeypatch, native_frees):
    from storetasks import _worker

    real_next = _worker.Worker.next
    state = {"stopping": False, "hit": 0}

    def interrupted_next(worker):
        if state["stopping"] and not state["hit"]:
            state["hit"] += 1
            raise SystemExit(9)
        return real_next(worker)

    def interrupt(tasks):
        state["stopping"] = True
        raise KeyboardInterrupt

    monkeypatch.setattr(_worker.Worker, "next", interrupted_next)
    with pytest.raises(SystemExit) as info:
        waiter(client).wait(ImageIds=[ID[8]], WaiterConfig=FAST, progress=interrupt)
    assert info.value.code == 9 and state["hit"] == 1
    # The cancelled C call's error object was freed: the wait saw the call end before raising.
    assert len(native_frees["storetasks_error_free"]) == 1
    assert not [t for t in threading.enumerate() if t.name == "storetasks-wait"]


def test_a_refused_wait_option_raises_with_the_library_s_reason(client, monkeypatch, emu):
    from storetasks import waiter as waiter_module

    # Delays the package's own checks would have refused, to reach the library's setter.
    monkeypatch.setattr(waiter_module, "_settings", lambda *args: (0, 0, 1000, None))
    before = emu.stats()["describe"]
    with pytest.raises(storetasks.ParamValidationError) as info:
        waiter(client).wait(ImageIds=[ID[7]])
    # The library's reason (its wording is the library's) after the setting's name.
    assert re.search(r"Invalid value for WaiterConfig.Delay/MaxDelay: [^\n]*min_delay_ms", str(info.value))
    assert info.value.status_name == "STORETASKS_STATUS_INVALID_ARGUMENT"
    assert emu.stats()["describe"] == before

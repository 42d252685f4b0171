"""The store_image_task_complete waiter's Targets form (storetasks_client_wait_targets): one wait
over images in several regions and accounts of one emulator. The AMI ids come from each place's
own listing (the fleet call), chosen among the images whose latest task is in a given state."""

import _thread
import re
import threading
import time

import pytest

from conftest import ACCESS_KEY, REGION, REPO, SECRET_KEY, checkout_only, import_storetasks

storetasks = import_storetasks()

ROLE_A = "arn:aws:iam::111111111111:role/StoreTasksReader"
SERVED = "us-east-1,eu-west-3,us-west-2"
FAST = {"Delay": 0.1, "MaxAttempts": 300}


@pytest.fixture
def emu(start_emulator):
    return start_emulator("--generate", 60, "--seed", 7, "--regions", SERVED, "--role", ROLE_A)


@pytest.fixture
def client(emu):
    with storetasks.Client(region=REGION, endpoint_url=emu.url, sts_endpoint_url=emu.url, aws_access_key_id=ACCESS_KEY,
                           aws_secret_access_key=SECRET_KEY) as c:
        yield c


def listing(client, region, role=None):
    """Every task of one place, newest first, through the fleet call."""
    params = {"Regions": [region]}
    if role is not None:
        params["RoleArns"] = [role]
    [place] = client.describe_store_image_tasks_fleet(**params)["Places"]
    assert "Error" not in place and place["StoreImageTaskResults"], place
    return place["StoreImageTaskResults"]


def latest_in_state(tasks, state):
    """The first task of a listing (newest first) that is in `state` and the latest of its image,
    so that a wait on its image sees that very task."""
    seen = set()
    for task in tasks:
        if task["AmiId"] not in seen and task["StoreTaskState"] == state:
            return task
        seen.add(task["AmiId"])
    pytest.fail(f"no image whose latest task is {state} among {len(tasks)} tasks")


def ids(tasks):
    return [t["AmiId"] for t in tasks]


def wait(client, **kwargs):
    return client.get_waiter("store_image_task_complete").wait(**kwargs)


def wait_error(client, **kwargs):
    with pytest.raises(storetasks.WaiterError) as info:
        wait(client, **kwargs)
    return info.value


@checkout_only("reads include/storetasks.h")
def test_the_target_struct_has_the_c_layout():
    """storetasks_wait_target: region, role_arn, image_id, three pointers in that order."""
    import ctypes

    from storetasks import _native

    pointer = ctypes.sizeof(ctypes.c_void_p)
    assert ctypes.sizeof(_native.WaitTarget) == 3 * pointer
    assert [(name, getattr(_native.WaitTarget, name).offset) for name, _ in _native.WaitTarget._fields_] == \
        [("region", 0), ("role_arn", pointer), ("image_id", 2 * pointer)]
    header = (REPO / "include" / "storetasks.h").read_text()
    body = header[header.index("typedef struct storetasks_wait_target {"):header.index("} storetasks_wait_target;")]
    assert re.findall(r"const char \*(\w+);", body) == ["region", "role_arn", "image_id"]


def test_completed_tasks_of_two_regions_and_a_role_come_back_in_the_order_of_the_targets(client, emu):
    home = latest_in_state(listing(client, "us-east-1"), "Completed")
    eu = latest_in_state(listing(client, "eu-west-3"), "Completed")
    west = latest_in_state(listing(client, "us-west-2"), "Completed")
    role = latest_in_state(listing(client, "eu-west-3", ROLE_A), "Completed")
    assert len({home["AmiId"], eu["AmiId"], west["AmiId"], role["AmiId"]}) == 4, "every place has its own images"
    targets = [
        {"Region": "us-west-2", "ImageId": west["AmiId"]},
        {"Region": "eu-west-3", "RoleArn": ROLE_A, "ImageId": role["AmiId"]},
        {"ImageId": home["AmiId"]},  # the client's region and account
        {"Region": "eu-west-3", "RoleArn": None, "ImageId": eu["AmiId"]},
        {"Region": "us-west-2", "ImageId": west["AmiId"]},  # given twice, comes once
    ]
    want = [west, role, home, eu]
    polls = []
    before = emu.stats()
    final = wait(client, Targets=targets, WaiterConfig=FAST, progress=polls.append)
    after = emu.stats()
    assert final["StoreImageTaskResults"] == want
    assert final["ResponseMetadata"]["HTTPStatusCode"] == 200
    # Every task was already Completed: one poll saw them all, in the same order.
    assert polls == [want]
    assert after["assume_role_requests"] - before["assume_role_requests"] == 1
    # One request per place: us-west-2, the role's eu-west-3, us-east-1 and eu-west-3.
    assert after["describe"] - before["describe"] == 4

    # Targets in one place only: the same answer as ImageIds.
    assert wait(client, Targets=[{"ImageId": home["AmiId"]}])["StoreImageTaskResults"] == \
        wait(client, ImageIds=[home["AmiId"]])["StoreImageTaskResults"] == [home]


def test_an_image_looked_for_in_the_wrong_place_is_not_found_there(client):
    eu = latest_in_state(listing(client, "eu-west-3"), "Completed")["AmiId"]
    cases = [
        # An image of eu-west-3 looked for in us-west-2 as well.
        ([{"Region": "eu-west-3", "ImageId": eu}, {"Region": "us-west-2", "ImageId": eu}], f"us-west-2/{eu}"),
        # An image of the client's account looked for in the role's account.
        ([{"Region": "eu-west-3", "RoleArn": ROLE_A, "ImageId": eu}], f"111111111111/eu-west-3/{eu}"),
    ]
    for targets, name in cases:
        started = time.monotonic()
        e = wait_error(client, Targets=targets, WaiterConfig=FAST, NotFoundGrace=0.3)
        took = time.monotonic() - started
        assert e.status_name == "STORETASKS_STATUS_NOT_FOUND" and e.ami_id == eu
        assert f"{name} has had no store task" in e.message, e.message
        assert e.reason.startswith("No store task was found (") and name in e.reason
        assert 0.3 <= took < 3, took


def test_a_failed_task_in_one_region_ends_the_wait(client, emu):
    eu = latest_in_state(listing(client, "eu-west-3"), "Completed")
    west = listing(client, "us-west-2")
    failed = latest_in_state(west, "Failed")
    assert failed.get("StoreTaskFailureReason")
    e = wait_error(client, Targets=[{"Region": "eu-west-3", "ImageId": eu["AmiId"]},
                                    {"Region": "us-west-2", "ImageId": failed["AmiId"]}], WaiterConfig=FAST)
    assert e.status_name == "STORETASKS_STATUS_TASK_FAILED"
    assert e.ami_id == failed["AmiId"] and e.failure_reason == failed["StoreTaskFailureReason"]
    assert e.message.startswith(f"us-west-2/{failed['AmiId']} failed: ")
    assert e.reason.startswith('Waiter encountered a terminal failure state: For expression '
                               '"StoreImageTaskResults[].StoreTaskState" we matched expected path: "Failed" at least once')
    assert f"us-west-2/{failed['AmiId']} failed: {failed['StoreTaskFailureReason']}" in e.reason
    assert e.last_response["StoreImageTaskResults"] == [eu, failed]

    # A denied place ends the wait with its own error, whatever the other places hold.
    emu.add_faults("deny,region=eu-west-3,count=1000")
    ok = latest_in_state(west, "Completed")
    e = wait_error(client, Targets=[{"Region": "us-west-2", "ImageId": ok["AmiId"]},
                                    {"Region": "eu-west-3", "ImageId": eu["AmiId"]}], WaiterConfig=FAST)
    assert (e.code, e.http_status, e.status_name) == ("UnauthorizedOperation", 403, "STORETASKS_STATUS_UNAUTHORIZED")
    assert e.message.startswith("eu-west-3: "), e.message
    assert e.reason.startswith("An error occurred (UnauthorizedOperation): eu-west-3: ")
    assert e.last_response["Error"]["Code"] == "UnauthorizedOperation"


AMI = "ami-00000000000000014"


@pytest.mark.parametrize("kwargs, fragment", [
    ({"Targets": []}, "Invalid length for parameter Targets"),
    ({"Targets": "ami-1"}, "Invalid type for parameter Targets"),
    ({"Targets": [AMI]}, r"Invalid type for parameter Targets\[0\]"),
    ({"Targets": [{"Region": "eu-west-3", "ImageId": AMI}, {"Region": "us-west-2"}]},
     r'Missing required parameter in Targets\[1\]: "ImageId"'),
    ({"Targets": [{"ImageId": AMI, "Account": "1"}]}, r'Unknown parameter in Targets\[0\]: "Account"'),
    ({"Targets": [{"Region": 3, "ImageId": AMI}]}, r"Invalid type for parameter Targets\[0\].Region"),
    ({"Targets": [{"ImageId": None}]}, r"Invalid type for parameter Targets\[0\].ImageId"),
    ({"Targets": [{"ImageId": ""}]}, r"Targets\[0\].ImageId"),
    ({"Targets": [{"Region": "eu-west-3\x00", "ImageId": AMI}]}, r"Targets\[0\].Region: it contains a NUL"),
    ({"Targets": [{"ImageId": AMI}], "ImageIds": [AMI]}, "ImageIds or Targets"),
    # What the library refuses, with its reason.
    ({"Targets": [{"Region": "EU WEST", "ImageId": AMI}]}, '"EU WEST" is not a region name'),
    ({"Targets": [{"Region": "eu-west-3", "ImageId": AMI}, {"Region": "eu_west_3", "ImageId": AMI}]},
     '"eu_west_3" is not a region name'),
    ({"Targets": [{"RoleArn": "arn:nope", "ImageId": AMI}]}, '"arn:nope" is not an IAM role ARN'),
    ({"Targets": [{"ImageId": "  "}]}, "an image id is empty"),
    ({"Targets": [{"ImageId": AMI}], "WaiterConfig": {"Delay": -1}}, "WaiterConfig.Delay"),
])
def test_bad_input_raises_before_anything_is_sent(client, emu, kwargs, fragment):
    before = emu.stats()["requests"]
    with pytest.raises(storetasks.ParamValidationError, match=fragment) as info:
        wait(client, **kwargs)
    assert info.value.status_name in (None, "STORETASKS_STATUS_INVALID_ARGUMENT")
    assert emu.stats()["requests"] == before, "nothing was sent"


def test_progress_stops_and_ctrl_c_ends_a_wait_across_regions(client):
    # Without --progress-rate these stay InProgress.
    eu = latest_in_state(listing(client, "eu-west-3"), "InProgress")["AmiId"]
    west = latest_in_state(listing(client, "us-west-2"), "InProgress")["AmiId"]
    targets = [{"Region": "us-west-2", "ImageId": west}, {"Region": "eu-west-3", "ImageId": eu}]
    polls = []

    def stop_at_second(tasks):
        polls.append(ids(tasks))
        return len(polls) < 2

    e = wait_error(client, Targets=targets, WaiterConfig=FAST, progress=stop_at_second)
    assert e.status_name == "STORETASKS_STATUS_CANCELLED" and e.reason == "The progress callback stopped the wait"
    assert polls == [[west, eu], [west, eu]]

    timer = threading.Timer(0.4, _thread.interrupt_main)
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            # Polls 5 s apart: only the interrupt ends this wait early.
            wait(client, Targets=targets, WaiterConfig={"Delay": 5, "MaxAttempts": 10})
    finally:
        timer.join()
    assert time.monotonic() - started < 2.5
    assert not [t for t in threading.enumerate() if t.name == "storetasks-wait"]

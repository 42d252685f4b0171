"""The fleet calls of the Python package (describe_store_image_tasks_fleet and its streaming form)
against one emulator that serves several regions and accounts, each healthy place compared with
boto3 listing that region (a boto3 client whose region_name is that region, on the same
emulator), and with the library's own JSON rendering of the same result.
"""

import _thread
import ctypes
import gc
import json
import threading
import time
from datetime import datetime

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError as BotoClientError

from conftest import ACCESS_KEY, REGION, SECRET_KEY, import_storetasks

storetasks = import_storetasks()

ROLE_A = "arn:aws:iam::111111111111:role/StoreTasksReader"
ROLE_B = "arn:aws:iam::222222222222:role/StoreTasksReader"
SERVED = "us-east-1,eu-west-3,ap-south-1,us-west-2,ca-central-1"
REGIONS = ["us-east-1", "eu-west-3", "ap-south-1", "us-west-2"]
N_TASKS = 60  # --generate: each (account, region) pair has this many visible tasks of its own
FAULTS = ("--fault", "throttle,region=eu-west-3,count=1000000",
          "--fault", "deny,region=ap-south-1,count=1000000",
          "--fault", "drop,region=ca-central-1,count=1000000")


def fleet_emulator(start_emulator, *extra):
    return start_emulator("--generate", N_TASKS, "--seed", 5, "--regions", SERVED, *extra)


def ours(emu, **kwargs):
    # The emulator answers STS on its EC2 port; the endpoint URL alone is EC2's.
    return storetasks.Client(region=REGION, endpoint_url=emu.url, sts_endpoint_url=emu.url, aws_access_key_id=ACCESS_KEY,
                             aws_secret_access_key=SECRET_KEY, **kwargs)


def impatient(emu):
    """A client that gives up quickly on a region that keeps failing."""
    return ours(emu, retry_mode="standard", max_attempts=2, connect_timeout=2, read_timeout=5,
                operation_timeout=20)


def boto(emu, region, credentials=None, **config):
    keys = credentials or {"aws_access_key_id": ACCESS_KEY, "aws_secret_access_key": SECRET_KEY}
    return boto3.client("ec2", region_name=region, endpoint_url=emu.url, config=BotoConfig(**config), **keys)


def boto_listing(emu, region, credentials=None, **params):
    """Every task boto3 lists in `region`, through its paginator."""
    pages = boto(emu, region, credentials).get_paginator("describe_store_image_tasks").paginate(
        PaginationConfig={"PageSize": 200}, **params)
    return pages.build_full_result().get("StoreImageTaskResults", [])


def role_credentials(emu, role_arn):
    """The temporary credentials boto3 gets from the emulator's STS for a role."""
    sts = boto3.client("sts", region_name=REGION, endpoint_url=emu.url, aws_access_key_id=ACCESS_KEY,
                       aws_secret_access_key=SECRET_KEY)
    c = sts.assume_role(RoleArn=role_arn, RoleSessionName="boto3-baseline")["Credentials"]
    return {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"],
            "aws_session_token": c["SessionToken"]}


def ids(tasks):
    return [t["AmiId"] for t in tasks]


def boto_error(call):
    with pytest.raises(BotoClientError) as info:
        call()
    return info.value.response


# -- places, failures, roles ---------------------------------------------------------------------


def test_a_failing_region_never_hides_the_others_and_healthy_ones_equal_boto3(start_emulator):
    emu = fleet_emulator(start_emulator, *FAULTS)
    order = ["us-east-1", "eu-west-3", "ap-south-1", "ca-central-1", "us-west-2"]
    with impatient(emu) as client:
        got = client.describe_store_image_tasks_fleet(Regions=order + ["eu-west-3"], MaxResults=40)
    places = got["Places"]
    assert [p["Region"] for p in places] == order, "in the order given, a repeated region once"
    by_region = {p["Region"]: p for p in places}
    for region in ("us-east-1", "us-west-2"):
        place = by_region[region]
        assert list(place) == ["Region", "Account", "StoreImageTaskResults"]
        assert place["Account"] is None
        expected = boto_listing(emu, region)
        assert len(expected) >= N_TASKS
        assert place["StoreImageTaskResults"] == expected, region
    # boto3's own answer in the failing regions (one attempt, so that it does not wait long).
    throttled = by_region["eu-west-3"]["Error"]
    theirs = boto_error(lambda: boto(emu, "eu-west-3", retries={"max_attempts": 1}).describe_store_image_tasks())
    assert (throttled["Code"], throttled["Message"], throttled["HttpStatus"]) == \
        (theirs["Error"]["Code"], theirs["Error"]["Message"], theirs["ResponseMetadata"]["HTTPStatusCode"]) == \
        ("RequestLimitExceeded", "Request limit exceeded.", 503)
    assert throttled["Status"] == "STORETASKS_STATUS_THROTTLED" and len(throttled["RequestId"]) == 36
    denied = by_region["ap-south-1"]["Error"]
    theirs = boto_error(lambda: boto(emu, "ap-south-1").describe_store_image_tasks())
    assert (denied["Code"], denied["Message"], denied["HttpStatus"]) == \
        (theirs["Error"]["Code"], theirs["Error"]["Message"], 403)
    assert denied["Status"] == "STORETASKS_STATUS_UNAUTHORIZED" and denied["Code"] == "UnauthorizedOperation"
    dropped = by_region["ca-central-1"]["Error"]
    assert dropped["Status"] == "STORETASKS_STATUS_NETWORK"
    assert (dropped["Code"], dropped["HttpStatus"], dropped["RequestId"]) == (None, None, None)
    assert dropped["Message"]
    for region in ("eu-west-3", "ap-south-1", "ca-central-1"):
        assert list(by_region[region]) == ["Region", "Account", "StoreImageTaskResults", "Error"]
        assert by_region[region]["StoreImageTaskResults"] == [], f"{region} failed on its first page"


def test_the_dict_is_the_library_s_own_json_rendering(start_emulator):
    """The package reads a result member by member; the library renders the same result as JSON
    (storetasks_fleet_result_to_json). Both must say the same thing."""
    from storetasks import _native, fleet

    emu = fleet_emulator(start_emulator, "--role", ROLE_A, *FAULTS)
    lib = _native.lib()
    ok = _native.status("OK")
    with impatient(emu) as client:
        params = {"Regions": ["us-west-2", "eu-west-3", "ca-central-1"], "RoleArns": [ROLE_A], "MaxResults": 50}
        result = ctypes.POINTER(_native.FleetResult)()
        text = ctypes.c_void_p()
        try:
            with fleet.arguments(params) as (f, q), client._call(lambda: None) as handle:
                assert lib.storetasks_client_describe_fleet(handle, f, q, None, ctypes.byref(result), None) == ok
            assert lib.storetasks_fleet_result_failed(result) == 2
            assert lib.storetasks_fleet_result_to_json(result, ctypes.byref(text), None) == ok
            rendered = json.loads(ctypes.string_at(text.value).decode("utf-8"))
            mine = fleet._places(lib, result, with_tasks=True)
        finally:
            lib.storetasks_string_free(text)
            lib.storetasks_fleet_result_free(result)
    for place in rendered["Places"]:
        for task in place["StoreImageTaskResults"]:
            task["TaskStartTime"] = datetime.fromisoformat(task["TaskStartTime"].replace("Z", "+00:00"))
        if "Error" in place:
            place["Error"] = {k: place["Error"].get(k) for k in ("Status", "Code", "Message", "HttpStatus", "RequestId")}
    assert list(rendered) == ["Places"], "the library's JSON names the list Places alone"
    assert list(mine) == ["Places", "Regions"] and mine["Regions"] is mine["Places"]
    assert mine["Places"] == rendered["Places"]
    assert [(p["Account"], p.get("RoleArn"), "Error" in p) for p in mine["Places"]] == \
        [("111111111111", ROLE_A, False), ("111111111111", ROLE_A, True), ("111111111111", ROLE_A, True)]


def test_regions_is_the_places_list_itself_until_1_0(start_emulator):
    """"Regions", the list's earlier name, is a deprecated alias of "Places": the same list object,
    in the result of the call and in the streaming form's result."""
    emu = fleet_emulator(start_emulator)
    with ours(emu) as client:
        got = client.describe_store_image_tasks_fleet(Regions=["eu-west-3", "us-west-2"], MaxResults=50)
        pages = client.describe_store_image_tasks_fleet_pages(Regions=["eu-west-3", "us-west-2"], MaxResults=50)
        streamed = sum(len(page["StoreImageTaskResults"]) for _, _, page in pages)
    for result in (got, pages.result):
        assert list(result) == ["Places", "Regions"]
        assert result["Regions"] is result["Places"]
        assert [p["Region"] for p in result["Places"]] == ["eu-west-3", "us-west-2"]
    assert sum(len(p["StoreImageTaskResults"]) for p in got["Places"]) == streamed == \
        sum(p["TaskCount"] for p in pages.result["Regions"]) == 2 * N_TASKS


def test_roles_list_their_own_accounts_as_boto3_with_the_role_does(start_emulator):
    emu = fleet_emulator(start_emulator, "--role", ROLE_A, "--role", ROLE_B)
    with ours(emu) as client:
        got = client.describe_store_image_tasks_fleet(Regions=["eu-west-3", "us-west-2"], RoleArns=[ROLE_A, ROLE_B])
    places = got["Places"]
    assert [(p["Account"], p["RoleArn"], p["Region"]) for p in places] == [
        ("111111111111", ROLE_A, "eu-west-3"), ("111111111111", ROLE_A, "us-west-2"),
        ("222222222222", ROLE_B, "eu-west-3"), ("222222222222", ROLE_B, "us-west-2")]
    assert emu.stats()["assume_role_requests"] == 2, "one AssumeRole per role, shared by its regions"
    seen = set()
    for place in places:
        assert "Error" not in place, place
        assert len(place["StoreImageTaskResults"]) >= N_TASKS
        expected = boto_listing(emu, place["Region"], role_credentials(emu, place["RoleArn"]))
        assert place["StoreImageTaskResults"] == expected, (place["Account"], place["Region"])
        assert seen.isdisjoint(ids(expected)), "accounts and regions do not share data"
        seen.update(ids(expected))
    assert seen.isdisjoint(ids(boto_listing(emu, "eu-west-3"))), "the client's own account is another one"


def test_a_role_that_cannot_be_assumed_fails_only_its_own_places(start_emulator):
    emu = fleet_emulator(start_emulator, "--role", ROLE_A)
    with ours(emu) as client:
        places = client.describe_store_image_tasks_fleet(Regions=["us-west-2", "eu-west-3"],
                                                         RoleArns=[ROLE_B, ROLE_A])["Places"]
    assert [p["Account"] for p in places] == ["222222222222"] * 2 + ["111111111111"] * 2
    for place in places[:2]:
        assert place["Error"]["Status"] in ("STORETASKS_STATUS_CREDENTIALS", "STORETASKS_STATUS_UNAUTHORIZED")
        assert place["StoreImageTaskResults"] == []
    for place in places[2:]:
        assert "Error" not in place and len(place["StoreImageTaskResults"]) >= N_TASKS


def test_all_regions_are_the_enabled_ones_sorted_without_the_opt_in_region(start_emulator):
    emu = fleet_emulator(start_emulator, "--opt-in-region", "me-south-1")
    failed = [{"Name": "task-state", "Values": ["Failed"]}]
    with ours(emu) as client:
        places = client.describe_store_image_tasks_fleet(AllRegions=True, Filters=failed)["Places"]
    ec2 = boto(emu, REGION)
    enabled = sorted(r["RegionName"] for r in ec2.describe_regions()["Regions"])
    every = {r["RegionName"] for r in ec2.describe_regions(AllRegions=True)["Regions"]}
    assert "me-south-1" in every and "me-south-1" not in enabled
    assert [p["Region"] for p in places] == enabled == sorted(SERVED.split(","))
    for place in places:
        assert "Error" not in place, place
        tasks = place["StoreImageTaskResults"]
        assert tasks and all(t["StoreTaskState"] == "Failed" for t in tasks), place["Region"]
        assert tasks == boto_listing(emu, place["Region"], Filters=failed)


@pytest.mark.parametrize("params, code, http_status, status", [
    ({"DryRun": True}, "DryRunOperation", 412, "STORETASKS_STATUS_DRY_RUN_OK"),
    ({"Filters": [{"Name": "no-such-filter", "Values": ["x"]}]}, "InvalidParameterValue", 400,
     "STORETASKS_STATUS_SERVICE"),
])
def test_an_error_answer_comes_back_from_every_region_as_boto3_gets_it(start_emulator, params, code, http_status,
                                                                        status):
    emu = fleet_emulator(start_emulator, "--fault", "deny,region=ap-south-1,count=1000000")
    with ours(emu) as client:
        places = client.describe_store_image_tasks_fleet(Regions=REGIONS, **params)["Places"]
    assert [p["Region"] for p in places] == REGIONS
    for place in places:
        region = place["Region"]
        theirs = boto_error(lambda: boto(emu, region).describe_store_image_tasks(**params))
        mine = place["Error"]
        assert (mine["Code"], mine["Message"], mine["HttpStatus"]) == \
            (theirs["Error"]["Code"], theirs["Error"]["Message"], theirs["ResponseMetadata"]["HTTPStatusCode"])
        if region == "ap-south-1":
            assert (mine["Code"], mine["Status"]) == ("UnauthorizedOperation", "STORETASKS_STATUS_UNAUTHORIZED")
        else:
            assert (mine["Code"], mine["HttpStatus"], mine["Status"]) == (code, http_status, status)
        assert place["StoreImageTaskResults"] == []


# -- streaming -----------------------------------------------------------------------------------


def test_pages_stream_with_their_place_and_equal_boto3_s_listing(start_emulator):
    emu = fleet_emulator(start_emulator, "--role", ROLE_A)
    with ours(emu) as client:
        pages = client.describe_store_image_tasks_fleet_pages(Regions=REGIONS, MaxResults=25)
        assert pages.result is None, "nothing runs before the iteration"
        streamed = {}
        for region, account, page in pages:
            assert account is None
            assert 0 < len(page["StoreImageTaskResults"]) <= 25
            assert page["ResponseMetadata"]["HTTPStatusCode"] == 200
            streamed.setdefault(region, []).append(page)
        assert not pages.stopped
        assert [p["Region"] for p in pages.result["Places"]] == REGIONS
        for place in pages.result["Places"]:
            region = place["Region"]
            assert list(place) == ["Region", "Account", "TaskCount"]
            tasks = [t for page in streamed[region] for t in page["StoreImageTaskResults"]]
            assert tasks == boto_listing(emu, region), region
            assert place["TaskCount"] == len(tasks)
            # Every page of a region but its last says there is more, as EC2's pages do.
            assert ["NextToken" in page for page in streamed[region]] == [True] * (len(streamed[region]) - 1) + [False]

        # With a role: the pages carry its account, the outcomes its ARN.
        items = list(client.describe_store_image_tasks_fleet_pages(Regions=["us-west-2"], RoleArns=[ROLE_A]))
        assert {(region, account) for region, account, _ in items} == {("us-west-2", "111111111111")}
        tasks = [t for _, _, page in items for t in page["StoreImageTaskResults"]]
        assert tasks == boto_listing(emu, "us-west-2", role_credentials(emu, ROLE_A))


def test_leaving_the_loop_stops_every_listing(start_emulator):
    emu = fleet_emulator(start_emulator)
    with ours(emu) as client:
        pages = client.describe_store_image_tasks_fleet_pages(Regions=REGIONS, MaxResults=10)
        seen = []
        for item in pages:
            seen.append(item)
            if len(seen) == 3:
                break
        assert pages.stopped
        assert sum(p["TaskCount"] for p in pages.result["Places"]) == \
            sum(len(page["StoreImageTaskResults"]) for _, _, page in seen) == 30
        # The regions still being listed when the loop stopped say so (one may have ended).
        stopped = [p for p in pages.result["Places"] if "Error" in p]
        assert stopped, pages.result
        for p in stopped:
            assert p["Error"]["Status"] == "STORETASKS_STATUS_CANCELLED", p
            assert p["Error"]["Message"].startswith("the caller stopped the call before the listing of"), p
        # A request already on the wire when the loop stopped may still reach the emulator's count
        # a moment later (the count is taken when the emulator reads it): let those land, then
        # no request may start any more.
        time.sleep(0.3)
        describes = emu.stats()["describe"]
        time.sleep(0.5)
        assert emu.stats()["describe"] == describes, "nothing is listed after the loop stopped"
        # Iterating again runs the call again, from the beginning.
        assert sum(len(page["StoreImageTaskResults"]) for _, _, page in pages) == N_TASKS * len(REGIONS)
        assert not pages.stopped
        # An exception in the loop body, under `with`: the listing is stopped before it propagates.
        with pytest.raises(ValueError, match="loop body"):
            with client.describe_store_image_tasks_fleet_pages(Regions=REGIONS, MaxResults=10) as pages:
                for _ in pages:
                    raise ValueError("loop body")
        assert pages.stopped and pages.result is not None
        assert not [t for t in threading.enumerate() if t.name.startswith("storetasks-fleet")]
        assert len(client.describe_store_image_tasks_fleet(Regions=["us-west-2"])["Places"][0]
                   ["StoreImageTaskResults"]) == N_TASKS


def test_failed_places_are_in_the_outcomes_of_a_stream(start_emulator):
    emu = fleet_emulator(start_emulator, *FAULTS)
    with impatient(emu) as client:
        pages = client.describe_store_image_tasks_fleet_pages(Regions=["eu-west-3", "us-west-2", "ca-central-1"])
        regions = {region for region, _, _ in pages}
    assert regions == {"us-west-2"}
    outcomes = {p["Region"]: p for p in pages.result["Places"]}
    assert outcomes["us-west-2"]["TaskCount"] == N_TASKS and "Error" not in outcomes["us-west-2"]
    assert outcomes["eu-west-3"]["Error"]["Code"] == "RequestLimitExceeded"
    assert outcomes["ca-central-1"]["Error"]["Status"] == "STORETASKS_STATUS_NETWORK"
    assert outcomes["eu-west-3"]["TaskCount"] == outcomes["ca-central-1"]["TaskCount"] == 0


# -- what ends the whole call --------------------------------------------------------------------


@pytest.mark.parametrize("params, fragment", [
    ({}, "no region"),
    ({"Regions": ["us-east-1"], "AllRegions": True}, "choose one"),
    ({"Regions": ["us-east-1", "EU WEST"]}, r"Regions\[1\]: [^\n]*not a region name"),
    ({"Regions": ["us-east-1"], "RoleArns": ["arn:aws:iam::1:role/x"]}, r"RoleArns\[0\]: [^\n]*IAM role ARN"),
    ({"Regions": ["us-east-1"], "NextToken": "abc"}, "NextToken"),
    ({"Regions": ["us-east-1"], "MaxResults": 500}, "between 1 and 200"),
    ({"Regions": "us-east-1"}, "Invalid type for parameter Regions"),
    ({"Regions": ["us-east-1", 7]}, r"Invalid type for parameter Regions\[1\]"),
    ({"AllRegions": "yes"}, "Invalid type for parameter AllRegions"),
    ({"Regions": ["us-east-1"], "Region": "us-east-1"}, 'Unknown parameter in input: "Region"'),
    ({"Regions": ["us-east-1\x00"]}, "NUL character"),
])
def test_bad_input_raises_before_anything_is_sent(start_emulator, params, fragment):
    emu = fleet_emulator(start_emulator)
    with ours(emu) as client:
        before = emu.stats()["requests"]
        with pytest.raises(storetasks.ParamValidationError, match=fragment) as info:
            client.describe_store_image_tasks_fleet(**params)
        assert str(info.value).startswith("Parameter validation failed:\n")
        # The streaming form: type errors when it is made, the library's refusals when it runs.
        with pytest.raises(storetasks.ParamValidationError, match=fragment):
            pages = client.describe_store_image_tasks_fleet_pages(**params)
            for _ in pages:
                pytest.fail("no page may come")
        assert emu.stats()["requests"] == before, "nothing was sent"
        with pytest.raises(TypeError):
            client.describe_store_image_tasks_fleet(["us-east-1"])


def test_close_from_another_thread_ends_a_fleet_call(start_emulator, native_frees):
    emu = fleet_emulator(start_emulator, "--fault", "delay,ms=3000,count=1000")
    for streaming in (False, True):
        client = ours(emu)
        timer = threading.Timer(0.3, client.close)
        started = time.monotonic()
        timer.start()
        try:
            with pytest.raises(storetasks.ClientClosedError) as info:
                if streaming:
                    list(client.describe_store_image_tasks_fleet_pages(Regions=REGIONS))
                else:
                    client.describe_store_image_tasks_fleet(Regions=REGIONS)
        finally:
            timer.join()
        assert time.monotonic() - started < 2.5
        assert info.value.status_name == "STORETASKS_STATUS_CANCELLED"
        with pytest.raises(storetasks.ClientClosedError):
            client.describe_store_image_tasks_fleet(Regions=REGIONS)
    assert len(native_frees["storetasks_client_free"]) == 2


def test_ctrl_c_cancels_a_fleet_call_and_is_raised(start_emulator, native_frees):
    emu = fleet_emulator(start_emulator, "--fault", "delay,ms=3000,count=1000")
    client = ours(emu)
    calls = {
        "fleet": lambda: client.describe_store_image_tasks_fleet(Regions=REGIONS),
        "pages": lambda: list(client.describe_store_image_tasks_fleet_pages(Regions=REGIONS)),
    }
    for name, call in calls.items():
        timer = threading.Timer(0.3, _thread.interrupt_main)
        started = time.monotonic()
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                call()
        finally:
            timer.join()
        assert time.monotonic() - started < 2.5, name
        assert not [t for t in threading.enumerate() if t.name.startswith("storetasks-fleet")], name
    # The client is intact: the interrupted calls were cancelled and let go of it.
    emu.control("DELETE", "/_emulator/faults")
    assert len(client.describe_store_image_tasks_fleet(Regions=["us-west-2"])["Places"][0]
               ["StoreImageTaskResults"]) == N_TASKS
    client.close()
    del client, calls
    gc.collect()
    assert len(native_frees["storetasks_client_free"]) == 1


def test_an_interrupt_while_a_page_waits_ends_the_stream(start_emulator, monkeypatch):
    """A KeyboardInterrupt that arrives while a page is handed over (the library's callback
    waiting for an answer) cancels the call, answers the page and is raised; nothing hangs."""
    from storetasks import _worker

    emu = fleet_emulator(start_emulator)
    real_next = _worker.Worker.next
    waits = []

    def interrupted(worker):
        waits.append(worker)
        if len(waits) == 2:  # the first page was taken: wait for the second to be handed over
            deadline = time.monotonic() + 10
            while len(worker._events) == worker._read and time.monotonic() < deadline:
                time.sleep(0.01)
            assert len(worker._events) > worker._read
            raise KeyboardInterrupt
        return real_next(worker)

    monkeypatch.setattr(_worker.Worker, "next", interrupted)
    outcome = []
    with ours(emu) as client:
        pages = client.describe_store_image_tasks_fleet_pages(Regions=REGIONS, MaxResults=5)

        def consume():
            try:
                for _ in pages:
                    pass
            except BaseException as e:  # noqa: BLE001 - checked below
                outcome.append(e)

        consumer = threading.Thread(target=consume)
        consumer.start()
        consumer.join(20)
        assert not consumer.is_alive(), "the stream hangs (close() at the end of the block frees it)"
    assert len(outcome) == 1 and isinstance(outcome[0], KeyboardInterrupt), outcome
    assert pages.result is None and not pages.stopped
    assert not [t for t in threading.enumerate() if t.name.startswith("storetasks-fleet")]


def year_one_task(ami_id, start):
    return {"AmiId": ami_id, "TaskStartTime": start, "Bucket": "b", "StoreTaskState": "Completed",
            "ProgressPercentage": 100}


# A task started in year 0 is the one time the emulator can send that datetime cannot hold (see
# test_python_package.py); the emulator's clock in year 1 reports it next to tasks Python reads.
UNREADABLE = "ami-0000000000000bad0"
YEAR_ONE = {
    "us-east-1": [year_one_task("ami-00000000000000e01", "0001-01-10T00:00:00Z"),
                  year_one_task("ami-00000000000000e02", "0001-01-05T00:00:00Z")],
    "eu-west-3": [year_one_task("ami-00000000000000f01", "0001-01-12T00:00:00Z"),
                  year_one_task("ami-00000000000000f02", "0001-01-02T00:00:00Z"),
                  year_one_task(UNREADABLE, "0000-12-31T23:59:59Z"),
                  year_one_task("ami-00000000000000f04", "0000-12-20T00:00:00Z")],
}


def readable(region, upto=None):
    """The tasks of YEAR_ONE[region] (up to `upto`) as the package returns them."""
    return [dict(t, TaskStartTime=datetime.fromisoformat(t["TaskStartTime"].replace("Z", "+00:00")))
            for t in YEAR_ONE[region][:upto]]


def year_one_emulator(start_emulator):
    emu = start_emulator("--now", "0001-01-15T00:00:00Z", "--regions", "eu-west-3")
    for region, tasks in YEAR_ONE.items():
        emu.control("POST", f"/_emulator/tasks?region={region}", {"StoreImageTaskResults": tasks})
    return emu


def check_unreadable_error(error):
    assert set(error) == {"Status", "Code", "Message", "HttpStatus", "RequestId"}, error
    assert (error["Status"], error["Code"], error["HttpStatus"], error["RequestId"]) == \
        ("STORETASKS_STATUS_RESPONSE", None, None, None), error
    message = error["Message"]
    assert UNREADABLE in message and "TaskStartTime" in message and "cannot be represented" in message, message
    assert "\n" not in message and "Error(" not in message and "{" not in message, message


def test_a_task_the_package_cannot_read_fails_its_place_alone(start_emulator):
    emu = year_one_emulator(start_emulator)
    with ours(emu) as client:
        places = client.describe_store_image_tasks_fleet(Regions=["us-east-1", "eu-west-3"])["Places"]
        healthy, failed = places
        assert healthy == {"Region": "us-east-1", "Account": None, "StoreImageTaskResults": readable("us-east-1")}
        # The tasks before the unreadable one, and an error naming it.
        assert list(failed) == ["Region", "Account", "StoreImageTaskResults", "Error"]
        assert failed["StoreImageTaskResults"] == readable("eu-west-3", 2)
        check_unreadable_error(failed["Error"])

        # The stream: the failed place's pages stop at the one with that task (later ones too).
        pages = client.describe_store_image_tasks_fleet_pages(Regions=["us-east-1", "eu-west-3"], MaxResults=1)
        streamed = {}
        for region, account, page in pages:
            streamed.setdefault(region, []).extend(page["StoreImageTaskResults"])
        assert streamed == {"us-east-1": readable("us-east-1"), "eu-west-3": readable("eu-west-3", 2)}
        assert not pages.stopped
        healthy, failed = pages.result["Places"]
        assert healthy == {"Region": "us-east-1", "Account": None, "TaskCount": 2}
        assert list(failed) == ["Region", "Account", "TaskCount", "Error"] and failed["TaskCount"] == 2
        check_unreadable_error(failed["Error"])
        assert not [t for t in threading.enumerate() if t.name.startswith("storetasks-fleet")]

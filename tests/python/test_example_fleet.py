"""The C example fleet_tasks against one emulator serving several regions and a role: its `--json`
equals what boto3 lists region by region (and through the role's credentials), its table and
per-place summary agree with that listing, failed places get their line on stderr, and the exit
status says whether every place, some places or no place answered."""

import json
import re
from collections import Counter

import boto3
import pytest

from conftest import ACCESS_KEY, REGION, SECRET_KEY, checkout_only
from example_runs import run_example

pytestmark = checkout_only("the C example links the checkout's build, not the wheel's library")

ROLE = "arn:aws:iam::111111111111:role/StoreTasksReader"
ROLE_ACCOUNT = "111111111111"
SERVED = ["us-east-1", "eu-west-3", "ap-south-1", "us-west-2"]
N_TASKS = 60


def example(emu, *args):
    # The endpoint URL is EC2's alone: the emulator's STS (same port) is named by the variable the
    # AWS CLI reads too.
    return run_example("fleet_tasks", emu, *args, extra_env={"AWS_ENDPOINT_URL_STS": emu.url}, timeout=120)


def wire_time(dt):
    """A botocore datetime as the JSON writes it (EC2's own form): 2026-11-20T12:00:00.123Z."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def boto_tasks(emu, region, filters=(), credentials=None):
    """Every task of a region, listed by boto3's paginator, in the JSON's shape."""
    keys = credentials or {"aws_access_key_id": ACCESS_KEY, "aws_secret_access_key": SECRET_KEY}
    ec2 = boto3.client("ec2", region_name=region, endpoint_url=emu.url, **keys)
    out = []
    for page in ec2.get_paginator("describe_store_image_tasks").paginate(Filters=list(filters)):
        for task in page["StoreImageTaskResults"]:
            task = dict(task)
            if "TaskStartTime" in task:
                task["TaskStartTime"] = wire_time(task["TaskStartTime"])
            out.append(task)
    return out


def role_credentials(emu, role_arn):
    sts = boto3.client("sts", region_name=REGION, endpoint_url=emu.url,
                       aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
    c = sts.assume_role(RoleArn=role_arn, RoleSessionName="boto3-baseline")["Credentials"]
    return {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"],
            "aws_session_token": c["SessionToken"]}


@pytest.fixture
def fleet_emulator(start_emulator):
    return start_emulator("--generate", N_TASKS, "--seed", 13, "--regions", ",".join(SERVED),
                          "--opt-in-region", "me-south-1", "--role", ROLE)


@pytest.mark.parametrize("filters", [
    [],
    [{"Name": "task-state", "Values": ["Failed", "InProgress"]}],
    [{"Name": "bucket", "Values": ["storetasks-bucket-b"]}],
])
def test_json_equals_boto3_region_by_region(fleet_emulator, filters):
    regions = ["eu-west-3", "us-east-1", "ap-south-1"]
    args = [arg for f in filters for arg in ("--filter", f"Name={f['Name']},Values={','.join(f['Values'])}")]
    ours = example(fleet_emulator, "--regions", ",".join(regions), "--json", *args)
    assert ours.returncode == 0, ours.stderr
    assert ours.stderr == ""
    doc = json.loads(ours.stdout)
    assert list(doc) == ["Places"], "the list of places is the document's one member"
    assert [p["Region"] for p in doc["Places"]] == regions, "places in the order given"
    seen = set()
    for place in doc["Places"]:
        assert place["Account"] is None and "RoleArn" not in place and "Error" not in place, place.keys()
        theirs = boto_tasks(fleet_emulator, place["Region"], filters)
        assert place["StoreImageTaskResults"] == theirs, place["Region"]
        assert theirs, f"{place['Region']}: an empty listing would prove nothing"
        ids = {t["AmiId"] for t in theirs}
        assert not ids & seen, "each region has tasks of its own"
        seen |= ids


def test_json_through_a_role_equals_boto3_with_the_assumed_credentials(fleet_emulator):
    ours = example(fleet_emulator, "--regions", "us-west-2,eu-west-3", "--role-arn", ROLE, "--json")
    assert ours.returncode == 0, ours.stderr
    doc = json.loads(ours.stdout)
    credentials = role_credentials(fleet_emulator, ROLE)
    assert [(p["Account"], p["Region"]) for p in doc["Places"]] == [(ROLE_ACCOUNT, "us-west-2"),
                                                                     (ROLE_ACCOUNT, "eu-west-3")]
    for place in doc["Places"]:
        assert place["RoleArn"] == ROLE
        theirs = boto_tasks(fleet_emulator, place["Region"], credentials=credentials)
        assert len(theirs) >= N_TASKS
        assert place["StoreImageTaskResults"] == theirs
        assert theirs != boto_tasks(fleet_emulator, place["Region"]), "the role's account is not the caller's"


def test_all_regions_are_the_enabled_ones_boto3_sees(fleet_emulator):
    ours = example(fleet_emulator, "--all-regions", "--json", "--filter", "Name=task-state,Values=Completed")
    assert ours.returncode == 0, ours.stderr
    doc = json.loads(ours.stdout)
    ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=fleet_emulator.url,
                       aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
    enabled = sorted(r["RegionName"] for r in ec2.describe_regions()["Regions"])
    assert enabled == sorted(SERVED) and "me-south-1" not in enabled
    assert [p["Region"] for p in doc["Places"]] == enabled
    filters = [{"Name": "task-state", "Values": ["Completed"]}]
    for place in doc["Places"]:
        assert place["StoreImageTaskResults"] == boto_tasks(fleet_emulator, place["Region"], filters)


TABLE_ROW = re.compile(r"^(?:(?P<account>\d{12})  )?(?P<region>[a-z0-9-]+)\s+(?P<ami>ami-[0-9a-f]+)\s+(?P<state>\S+)\s")
SUMMARY = re.compile(r"^(?:(?P<account>\d{12})  )?(?P<region>\S+)\s+(?P<outcome>answered|FAILED)\s+(?P<n>\d+) tasks?"
                     r"(?:: (?P<ip>\d+) InProgress, (?P<c>\d+) Completed, (?P<f>\d+) Failed)?")
FAILURE = re.compile(r"^error: (?P<region>\S+)(?: \(account (?P<account>\d{12})\))?: (?P<status>STORETASKS_STATUS_\w+)"
                     r"(?: \((?P<code>\w+)\))?: (?P<message>.+?)(?: \[request id (?P<request_id>[^\]]+)\])?$")


def parse_table(stdout):
    rows, summary = [], {}
    for line in stdout.splitlines():
        if (m := TABLE_ROW.match(line)):
            rows.append((m["region"], m["ami"], m["state"]))
        elif (m := SUMMARY.match(line)):
            summary[m["region"]] = m
    return rows, summary


def test_table_and_summary_agree_with_boto3(fleet_emulator):
    regions = ["us-west-2", "ap-south-1"]
    ours = example(fleet_emulator, "--regions", ",".join(regions))
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout.splitlines()[0].split()[:3] == ["REGION", "AMI", "STATE"], "no ACCOUNT column without roles"
    rows, summary = parse_table(ours.stdout)
    expected = [(r, t["AmiId"], t["StoreTaskState"]) for r in regions for t in boto_tasks(fleet_emulator, r)]
    assert rows == expected
    assert f"{len(expected)} tasks in 2 places (2 answered, 0 failed)" in ours.stdout
    for region in regions:
        states = Counter(state for r, _, state in expected if r == region)
        m = summary[region]
        assert m["outcome"] == "answered"
        assert (int(m["n"]), int(m["ip"]), int(m["c"]), int(m["f"])) == (
            sum(states.values()), states["InProgress"], states["Completed"], states["Failed"])
        assert states["InProgress"] and states["Completed"] and states["Failed"], "every state is counted"


def test_roles_add_the_account_column(fleet_emulator):
    ours = example(fleet_emulator, "--regions", "eu-west-3", "--role-arn", ROLE)
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout.splitlines()[0].split()[:2] == ["ACCOUNT", "REGION"]
    rows = [TABLE_ROW.match(line) for line in ours.stdout.splitlines()[1:]]
    rows = [m for m in rows if m]
    assert len(rows) == len(boto_tasks(fleet_emulator, "eu-west-3", credentials=role_credentials(fleet_emulator, ROLE)))
    assert all(m["account"] == ROLE_ACCOUNT and m["region"] == "eu-west-3" for m in rows)
    summary = parse_table(ours.stdout)[1]
    assert summary["eu-west-3"]["account"] == ROLE_ACCOUNT


def failure_lines(stderr):
    lines = [line for line in stderr.splitlines() if line.startswith("error: ")]
    matches = [FAILURE.match(line) for line in lines]
    assert all(matches), lines
    return {m["region"]: m for m in matches}


def test_some_places_failed_exits_2_with_a_line_for_each(fleet_emulator):
    fleet_emulator.add_faults("deny,region=ap-south-1,count=1000000", "throttle,region=eu-west-3,count=1000000")
    regions = ["us-east-1", "ap-south-1", "eu-west-3", "us-west-2"]
    ours = example(fleet_emulator, "--regions", ",".join(regions), "--json")
    assert ours.returncode == 2, ours.stderr
    doc = json.loads(ours.stdout)
    by_region = {p["Region"]: p for p in doc["Places"]}
    for healthy in ["us-east-1", "us-west-2"]:
        assert "Error" not in by_region[healthy]
        assert by_region[healthy]["StoreImageTaskResults"] == boto_tasks(fleet_emulator, healthy)
    denied, throttled = by_region["ap-south-1"]["Error"], by_region["eu-west-3"]["Error"]
    assert (denied["Status"], denied["Code"], denied["HttpStatus"]) == (
        "STORETASKS_STATUS_UNAUTHORIZED", "UnauthorizedOperation", 403)
    assert (throttled["Status"], throttled["Code"], throttled["HttpStatus"]) == (
        "STORETASKS_STATUS_THROTTLED", "RequestLimitExceeded", 503)
    # stderr has one line per failed place, with what the JSON says about it.
    lines = failure_lines(ours.stderr)
    assert sorted(lines) == ["ap-south-1", "eu-west-3"]
    for region, line in lines.items():
        error = by_region[region]["Error"]
        assert line["account"] is None
        assert (line["status"], line["code"], line["message"], line["request_id"]) == (
            error["Status"], error["Code"], error["Message"], error["RequestId"])
        assert error["RequestId"]

    table = example(fleet_emulator, "--regions", ",".join(regions))
    assert table.returncode == 2
    summary = parse_table(table.stdout)[1]
    assert {r: summary[r]["outcome"] for r in regions} == {
        "us-east-1": "answered", "ap-south-1": "FAILED", "eu-west-3": "FAILED", "us-west-2": "answered"}
    assert "(STORETASKS_STATUS_UNAUTHORIZED)" in summary["ap-south-1"].string
    assert "(2 answered, 2 failed)" in table.stdout
    assert sorted(failure_lines(table.stderr)) == ["ap-south-1", "eu-west-3"]


def test_no_place_answered_exits_1(fleet_emulator):
    fleet_emulator.add_faults("deny,region=ap-south-1,count=1000000")
    ours = example(fleet_emulator, "--regions", "ap-south-1,me-south-1", "--role-arn", ROLE)
    assert ours.returncode == 1, ours.stdout + ours.stderr
    lines = failure_lines(ours.stderr)
    assert sorted(lines) == ["ap-south-1", "me-south-1"]
    assert lines["ap-south-1"]["account"] == ROLE_ACCOUNT
    assert lines["ap-south-1"]["code"] == "UnauthorizedOperation"
    assert lines["me-south-1"]["code"] == "AuthFailure", "a region that is not opted in"
    assert "(0 answered, 2 failed)" in ours.stdout


def test_a_role_that_cannot_be_assumed_fails_its_places(fleet_emulator):
    other = "arn:aws:iam::999999999999:role/Nobody"
    ours = example(fleet_emulator, "--regions", "us-east-1", "--role-arn", ROLE, "--role-arn", other, "--json")
    assert ours.returncode == 2, ours.stderr
    doc = json.loads(ours.stdout)
    assert [(p["Account"], "Error" in p) for p in doc["Places"]] == [(ROLE_ACCOUNT, False), ("999999999999", True)]
    assert failure_lines(ours.stderr)["us-east-1"]["account"] == "999999999999"


@pytest.mark.parametrize("args, message", [
    ([], "--regions R1,R2,... or --all-regions"),
    (["--regions", "us-east-1", "--all-regions"], "not both"),
    (["--regions", "us-east-1,,eu-west-3"], "separated by commas"),
    (["--regions", "EU-WEST-3"], "not a region name"),
    (["--regions", "us-east-1", "--role-arn", "arn:aws:iam::1:role/x"], "not an IAM role ARN"),
    (["--regions", "us-east-1", "--filter", "task-state=Failed"], "--filter takes Name=NAME,Values="),
    (["--regions", "us-east-1", "--bogus", "x"], "unknown option --bogus"),
    (["--regions"], "--regions needs a value"),
])
def test_bad_arguments_exit_1_and_send_nothing(fleet_emulator, args, message):
    before = fleet_emulator.stats()["requests"]
    ours = example(fleet_emulator, *args)
    assert ours.returncode == 1
    assert ours.stdout == ""
    assert message in ours.stderr and ours.stderr.startswith("error: "), ours.stderr
    assert fleet_emulator.stats()["requests"] == before


def test_help_and_a_refused_query(fleet_emulator):
    for flag in ["--help", "-h"]:
        ours = example(fleet_emulator, flag)
        assert ours.returncode == 0 and ours.stdout.startswith("usage: fleet_tasks") and ours.stderr == ""
    # EC2 refuses an unknown filter in every place: each place failed, the call did not.
    ours = example(fleet_emulator, "--regions", "us-east-1,us-west-2", "--filter", "Name=colour,Values=blue")
    assert ours.returncode == 1
    lines = failure_lines(ours.stderr)
    assert {m["code"] for m in lines.values()} == {"InvalidParameterValue"} and len(lines) == 2

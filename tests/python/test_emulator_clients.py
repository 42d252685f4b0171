"""The emulator against real AWS clients: botocore (boto3) and the AWS CLI."""

import json
import math
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, CLEAN_ENV, DENIED_KEY, NOW, REGION, SECRET_KEY

N_TASKS = 57  # the `emulator` fixture's --generate count


def parse_time(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def wire_time(dt):
    """A datetime as EC2 writes taskStartTime: 2026-11-20T12:00:00.123Z."""
    dt = dt.astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def expected_results(fixture):
    """What DescribeStoreImageTasks reports for a fixture at NOW with --progress-rate 0."""
    cutoff = parse_time(NOW) - timedelta(days=31)
    out = []
    for task in fixture:
        if "TaskStartTime" in task and parse_time(task["TaskStartTime"]) < cutoff:
            continue
        task = dict(task)
        fail_at = task.pop("EmulatorFailAt", None)
        if fail_at is not None and task.get("StoreTaskState") == "InProgress":
            task.pop("StoreTaskFailureReason", None)  # held back until the task fails
        out.append(task)
    return out


def client(emu, access_key=ACCESS_KEY):
    return boto3.client("ec2", aws_access_key_id=access_key, aws_secret_access_key=SECRET_KEY,
                        region_name=REGION, endpoint_url=emu.url)


def from_botocore(item):
    item = dict(item)
    item["TaskStartTime"] = wire_time(item["TaskStartTime"])
    return item


def aws_cli(emu, *args, access_key=ACCESS_KEY, timeout=60):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(CLEAN_ENV)
    env.update(AWS_ACCESS_KEY_ID=access_key, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_DEFAULT_REGION=REGION)
    return subprocess.run([sys.executable, "-m", "awscli", *args, "--endpoint-url", emu.url, "--output", "json"],
                          env=env, capture_output=True, text=True, timeout=timeout)


def test_botocore_paginator_returns_every_task_once_in_order(emulator):
    expected = expected_results(emulator.fixture())
    assert len(expected) == N_TASKS
    paginator = client(emulator).get_paginator("describe_store_image_tasks")
    pages = list(paginator.paginate(PaginationConfig={"PageSize": 7}))
    got = [from_botocore(t) for page in pages for t in page["StoreImageTaskResults"]]
    assert got == expected
    assert len(pages) == math.ceil(N_TASKS / 7)
    assert all("NextToken" in p for p in pages[:-1]) and "NextToken" not in pages[-1]
    assert emulator.stats()["describe"] == len(pages)


def test_aws_cli_prints_the_wire_values(emulator):
    expected = expected_results(emulator.fixture())
    run = aws_cli(emulator, "ec2", "describe-store-image-tasks", "--page-size", "10")
    assert run.returncode == 0, run.stderr
    results = json.loads(run.stdout)["StoreImageTaskResults"]
    assert results == expected
    # TaskStartTime is printed exactly as sent on the wire.
    assert all(r["TaskStartTime"].endswith("Z") and len(r["TaskStartTime"]) == 24 for r in results)
    assert emulator.stats()["describe"] == math.ceil(N_TASKS / 10)


def test_filters_and_image_ids_through_botocore(emulator):
    expected = expected_results(emulator.fixture())
    ec2 = client(emulator)
    failed = ec2.describe_store_image_tasks(Filters=[{"Name": "task-state", "Values": ["Failed"]}], MaxResults=200)
    assert [from_botocore(t) for t in failed["StoreImageTaskResults"]] == \
        [t for t in expected if t.get("StoreTaskState") == "Failed"]
    ids = [t["AmiId"] for t in expected[:3]]
    by_id = ec2.describe_store_image_tasks(ImageIds=list(reversed(ids)))
    assert [t["AmiId"] for t in by_id["StoreImageTaskResults"]] == ids


def expect_error(call, code):
    with pytest.raises(ClientError) as info:
        call()
    assert info.value.response["Error"]["Code"] == code
    return info.value


def test_dry_run(emulator):
    err = expect_error(lambda: client(emulator).describe_store_image_tasks(DryRun=True), "DryRunOperation")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    run = aws_cli(emulator, "ec2", "describe-store-image-tasks", "--dry-run")
    assert run.returncode != 0 and "DryRunOperation" in run.stderr


def test_denied_key(emulator):
    denied = client(emulator, access_key=DENIED_KEY)
    err = expect_error(lambda: denied.describe_store_image_tasks(), "UnauthorizedOperation")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    expect_error(lambda: denied.describe_store_image_tasks(DryRun=True), "UnauthorizedOperation")
    run = aws_cli(emulator, "ec2", "describe-store-image-tasks", access_key=DENIED_KEY)
    assert run.returncode != 0 and "UnauthorizedOperation" in run.stderr


def test_forged_token(emulator):
    ec2 = client(emulator)
    token = ec2.describe_store_image_tasks(MaxResults=5)["NextToken"]
    assert "+" in token and "/" in token and "=" in token
    assert len(ec2.describe_store_image_tasks(MaxResults=5, NextToken=token)["StoreImageTaskResults"]) == 5
    forged = token[:8] + ("A" if token[8] != "A" else "B") + token[9:]
    expect_error(lambda: ec2.describe_store_image_tasks(NextToken=forged), "InvalidParameterValue")


def test_throttled_request_is_retried(emulator):
    ec2 = client(emulator)
    before = emulator.stats()
    emulator.add_faults("throttle,count=2")
    result = ec2.describe_store_image_tasks(MaxResults=10)
    assert len(result["StoreImageTaskResults"]) == 10
    assert result["ResponseMetadata"]["RetryAttempts"] == 2
    after = emulator.stats()
    assert after["requests"] - before["requests"] == 3
    assert after["faults_fired"] - before["faults_fired"] == 2


def test_create_then_cli_waiter_sees_completion(start_emulator):
    emu = start_emulator("--progress-rate", 40)
    ec2 = client(emu)
    ami = "ami-0fedcba9876543210"
    assert ec2.create_store_image_task(ImageId=ami, Bucket="storetasks-bucket-a")["ObjectKey"] == f"{ami}.bin"
    started = time.monotonic()
    run = aws_cli(emu, "ec2", "wait", "store-image-task-complete", "--image-ids", ami)
    assert run.returncode == 0, run.stderr
    assert time.monotonic() - started < 15  # the first poll sees InProgress, the second Completed
    task = ec2.describe_store_image_tasks(ImageIds=[ami])["StoreImageTaskResults"][0]
    assert (task["StoreTaskState"], task["ProgressPercentage"], task["S3objectKey"]) == ("Completed", 100, f"{ami}.bin")


def test_cli_waiter_reports_a_failed_task(start_emulator):
    emu = start_emulator("--progress-rate", 100)
    ami = "ami-0aaaaaaaaaaaaaaaa"
    emu.control("POST", "/_emulator/tasks", {"StoreImageTaskResults": [{
        "AmiId": ami, "TaskStartTime": NOW, "Bucket": "b", "ProgressPercentage": 0,
        "StoreTaskState": "InProgress", "EmulatorFailAt": 1, "StoreTaskFailureReason": "quota <exceeded> & more"}]})
    time.sleep(0.05)
    run = aws_cli(emu, "ec2", "wait", "store-image-task-complete", "--image-ids", ami)
    assert run.returncode != 0
    assert "Waiter StoreImageTaskComplete failed" in run.stderr
    task = client(emu).describe_store_image_tasks(ImageIds=[ami])["StoreImageTaskResults"][0]
    assert task["StoreTaskFailureReason"] == "quota <exceeded> & more"

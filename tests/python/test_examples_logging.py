"""The wait example's output, and STORETASKS_LOG writing the library's events to stderr without
ever printing a secret."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import ACCESS_KEY, CLEAN_ENV, REGION, REPO, SECRET_KEY

BUILD = Path(os.environ.get("STORETASKS_BUILD", REPO / "build"))


def run(program, emu, *args, extra_env=None, timeout=60):
    path = BUILD / program
    if not path.exists():
        pytest.fail(f"{path} not found: run `make examples`")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STORETASKS_LOG"))}
    env.update(CLEAN_ENV)
    env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_DEFAULT_REGION=REGION)
    env.update(extra_env or {})
    return subprocess.run([str(path), "--region", REGION, "--endpoint-url", emu.url, *map(str, args)],
                          env=env, capture_output=True, text=True, timeout=timeout)


def moving_tasks(tmp_path):
    doc = {"StoreImageTaskResults": [
        {"AmiId": "ami-0a1b2c3d4e5f60718", "TaskStartTime": "2026-11-20T11:59:00.000Z", "Bucket": "backups",
         "ProgressPercentage": 40, "StoreTaskState": "InProgress"},
        {"AmiId": "ami-0f9e8d7c6b5a49382", "TaskStartTime": "2026-11-20T11:58:00.000Z", "Bucket": "backups",
         "ProgressPercentage": 10, "StoreTaskState": "InProgress", "EmulatorFailAt": 60,
         "StoreTaskFailureReason": "the bucket policy denies s3:PutObject"},
    ]}
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps(doc))
    return path


def test_wait_example_reports_completion(start_emulator, tmp_path):
    emu = start_emulator("--tasks-file", moving_tasks(tmp_path), "--progress-rate", 40)
    out = run("wait_tasks", emu, "--min-delay", 200, "--max-delay", 400, "ami-0a1b2c3d4e5f60718")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[-1] == "All 1 store task completed."
    progress = [int(l.split()[1].rstrip("%")) for l in lines[:-1]]
    assert progress == sorted(progress) and progress[-1] == 100 and len(progress) >= 2


def test_wait_example_reports_failure(start_emulator, tmp_path):
    emu = start_emulator("--tasks-file", moving_tasks(tmp_path), "--progress-rate", 40)
    out = run("wait_tasks", emu, "--min-delay", 200, "--max-delay", 400,
              "ami-0a1b2c3d4e5f60718", "ami-0f9e8d7c6b5a49382")
    assert out.returncode == 1
    assert "ami-0f9e8d7c6b5a49382 failed: the bucket policy denies s3:PutObject" in out.stdout


def test_wait_example_reports_an_unknown_ami(start_emulator, tmp_path):
    emu = start_emulator("--tasks-file", moving_tasks(tmp_path))
    out = run("wait_tasks", emu, "--min-delay", 100, "--max-delay", 200, "--grace", 300, "ami-0123456789abcdeff")
    assert out.returncode == 1
    assert "STORETASKS_STATUS_NOT_FOUND" in out.stderr


@pytest.mark.parametrize("level", ["trace", "debug", "info,storetasks=debug"])
def test_storetasks_log_writes_to_stderr_without_secrets(start_emulator, level):
    emu = start_emulator("--generate", 30)
    emu.add_faults("throttle,count=1")
    out = run("describe_tasks", emu, "--all", "--max-results", 10, extra_env={"STORETASKS_LOG": level})
    assert out.returncode == 0, out.stderr
    assert "DescribeStoreImageTasks page received" in out.stderr
    if level == "trace":
        assert " TRACE aws" in out.stderr
    assert SECRET_KEY not in out.stderr and SECRET_KEY not in out.stdout


def test_no_log_lines_without_storetasks_log(start_emulator):
    emu = start_emulator("--generate", 5)
    out = run("describe_tasks", emu, "--all")
    assert out.returncode == 0 and out.stderr == ""

"""The examples as command-line tools (--help, refusing what is not an AMI id before sending
anything, a setter's reason when it refuses a value), the wait example's output and Ctrl-C (one
cancels the wait, a second ends the program at once), and STORETASKS_LOG writing the library's
events to stderr without ever printing a secret."""

import json
import os
import select
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ACCESS_KEY, CLEAN_ENV, REGION, REPO, SECRET_KEY, checkout_only

pytestmark = checkout_only("the C examples link the checkout's build, not the wheel's library")

BUILD = Path(os.environ.get("STORETASKS_BUILD", REPO / "build"))


def run(program, emu, *args, extra_env=None, timeout=60):
    path = BUILD / program
    if not path.exists():
        pytest.fail(f"{path} not found: run `make examples`")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STORETASKS_LOG"))}
    env.update(CLEAN_ENV)
    env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_DEFAULT_REGION=REGION)
    env.update(extra_env or {})
    args = [a if isinstance(a, bytes) else str(a) for a in args]
    return subprocess.run([str(path), "--region", REGION, "--endpoint-url", emu.url, *args],
                          env=env, capture_output=True, text=True, errors="replace", timeout=timeout)


PROGRAMS = ["describe_tasks", "describe_tasks_cpp", "wait_tasks"]
NOT_AMI_IDS = ["", "ami-0123", "ami-0123456789abcdef", "ami-0123456789abcdef01", "AMI-0123456789abcdef0",
               "ami-0123456789ABCDEF0", "ami-0123456789abcdeg0", "i-0123456789abcdef0", "ami-01234567 "]


def id_args(program, ami):
    """The arguments that hand one image id to a program."""
    return [ami] if program == "wait_tasks" else ["--image-id", ami]


@pytest.mark.parametrize("program", PROGRAMS)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_prints_usage_and_exits_0(start_emulator, program, flag):
    emu = start_emulator("--generate", 3)
    out = run(program, emu, flag)
    name = program.removesuffix("_cpp")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"usage: {name} "), out.stdout
    assert out.stderr == ""
    # Help wins wherever it stands, and nothing is sent.
    out = run(program, emu, *id_args(program, "ami-0123456789abcdef0"), flag)
    assert out.returncode == 0 and out.stdout.startswith(f"usage: {name} "), out.stdout + out.stderr
    assert emu.stats()["requests"] == 0


@pytest.mark.parametrize("program", PROGRAMS)
@pytest.mark.parametrize("ami", NOT_AMI_IDS)
def test_what_is_not_an_ami_id_is_refused_before_sending(start_emulator, program, ami):
    emu = start_emulator("--generate", 3)
    out = run(program, emu, *id_args(program, ami))
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stdout == ""
    line = out.stderr.splitlines()[0]
    assert line.startswith("error: ") and f'"{ami}"' in line and "8 or 17 lowercase hex digits" in line, out.stderr
    assert emu.stats()["requests"] == 0


@pytest.mark.parametrize("program", PROGRAMS)
def test_ami_ids_of_8_and_17_digits_are_sent(start_emulator, program):
    emu = start_emulator("--generate", 3)
    ids = ["ami-01234567", "ami-0123456789abcdef0"]
    args = ["--grace", 0, *ids] if program == "wait_tasks" else sum((["--image-id", i] for i in ids), [])
    out = run(program, emu, *args)
    if program == "wait_tasks":
        # Neither image has a task: the wait says so after one poll.
        assert out.returncode == 1 and "STORETASKS_STATUS_NOT_FOUND" in out.stderr, out.stderr
    else:
        assert out.returncode == 0 and out.stdout.endswith("0 tasks\n"), out.stdout + out.stderr
    assert emu.stats()["requests"] >= 1


@pytest.mark.parametrize("program, args, flag", [
    ("describe_tasks", ["--region", b"us-\xff"], "--region"),
    ("describe_tasks_cpp", ["--region", b"us-\xff"], "--region"),
    ("describe_tasks", ["--filter", b"Name=bucket,Values=\xff"], "--filter"),
    ("describe_tasks_cpp", ["--filter", b"Name=bucket,Values=\xff"], "--filter"),
    ("wait_tasks", ["--region", b"us-\xff", "ami-0123456789abcdef0"], "--region"),
    ("wait_tasks", ["--min-delay", 5000, "--max-delay", 1000, "ami-0123456789abcdef0"], "--min-delay/--max-delay"),
])
def test_a_refused_value_prints_the_reason(start_emulator, program, args, flag):
    emu = start_emulator("--generate", 3)
    out = run(program, emu, *args)
    assert out.returncode == 2, out.stdout + out.stderr
    line = out.stderr.splitlines()[0]
    assert line.startswith(f"error: {flag}: "), out.stderr
    reason = line[len(f"error: {flag}: "):]
    # A sentence from the library, not only a status name.
    assert "STORETASKS_STATUS_" not in reason and len(reason.split()) >= 3, out.stderr
    assert emu.stats()["requests"] == 0


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


def start_in_background(program, *args, extra_env=None):
    """A program started as `run` starts it, without --region, its output piped; the caller sends
    it signals and reaps it."""
    path = BUILD / program
    if not path.exists():
        pytest.fail(f"{path} not found: run `make examples`")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STORETASKS_LOG"))}
    env.update(CLEAN_ENV)
    env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY)
    env.update(extra_env or {})
    return subprocess.Popen([str(path), *(str(a) for a in args)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, errors="replace")


def test_wait_example_ctrl_c_cancels_the_wait(start_emulator, tmp_path):
    emu = start_emulator("--tasks-file", moving_tasks(tmp_path))  # the tasks stay InProgress
    proc = start_in_background("wait_tasks", "--region", REGION, "--endpoint-url", emu.url,
                               "--min-delay", 200, "--max-delay", 200, "ami-0a1b2c3d4e5f60718")
    try:
        # The first poll's line: the wait is under way.
        ready, _, _ = select.select([proc.stdout], [], [], 20)
        first = proc.stdout.readline() if ready else "(nothing within 20 s)"
        assert first.startswith("ami-0a1b2c3d4e5f60718 40% InProgress"), first
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130, err
    assert out.splitlines()[-1] == "Cancelled."


def test_wait_example_second_ctrl_c_ends_it_at_once(tmp_path):
    # The client looks for its region at an instance metadata service that accepts connections
    # and never answers: about 3 s that the cancellation token cannot cut short, in which a first
    # Ctrl-C only triggers the token. A second one must end the program at once, with status 130.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        proc = start_in_background("wait_tasks", "--endpoint-url", "http://127.0.0.1:9", "ami-0a1b2c3d4e5f60718",
                                   extra_env={"AWS_EC2_METADATA_DISABLED": "false",
                                              "AWS_EC2_METADATA_SERVICE_ENDPOINT": endpoint})
        try:
            time.sleep(0.5)
            proc.send_signal(signal.SIGINT)
            time.sleep(0.3)
            proc.send_signal(signal.SIGINT)
            sent = time.monotonic()
            try:
                out, err = proc.communicate(timeout=1.5)
            except subprocess.TimeoutExpired:
                pytest.fail("wait_tasks was still running 1.5 s after the second SIGINT")
            took = time.monotonic() - sent
        finally:
            proc.kill()
            proc.wait()
    finally:
        silent.close()
    assert proc.returncode == 130, f"exit {proc.returncode} after {took:.1f} s: {err}"


def test_describe_example_prints_start_times_around_1970_and_after_3000(start_emulator, tmp_path):
    # The emulator's clock in January 1970, so that a task of 1969 is within its 31 days; a task
    # that starts in the future is always listed. (The Windows build prints both as "(invalid
    # time)": tests/windows/run.sh.)
    doc = {"StoreImageTaskResults": [
        {"AmiId": "ami-0123456789abcdef0", "TaskStartTime": "1969-12-31T23:59:59.500Z", "Bucket": "b",
         "ProgressPercentage": 100, "StoreTaskState": "Completed"},
        {"AmiId": "ami-0123456789abcdef1", "TaskStartTime": "3001-01-01T00:00:00.000Z", "Bucket": "b",
         "ProgressPercentage": 100, "StoreTaskState": "Completed"},
    ]}
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps(doc))
    emu = start_emulator("--now", "1970-01-10T00:00:00Z", "--tasks-file", path)
    out = run("describe_tasks", emu, "--all")
    assert out.returncode == 0, out.stderr
    started = {line.split()[0]: " ".join(line.split()[3:5]) for line in out.stdout.splitlines()[1:-1]}
    assert started == {"ami-0123456789abcdef0": "1969-12-31 23:59:59",
                       "ami-0123456789abcdef1": "3001-01-01 00:00:00"}, out.stdout


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

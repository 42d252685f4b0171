"""The C example's `--json --all` output is byte for byte what the AWS CLI prints for the same
endpoint and arguments."""

import subprocess
import sys

import pytest

from conftest import REPO, checkout_only
from example_runs import clean_env, run_example

pytestmark = checkout_only("the C example links the checkout's build, not the wheel's library")


def example(emu, *args):
    return run_example("describe_tasks", emu, *args)


def cli(emu, *args):
    return subprocess.run([sys.executable, "-m", "awscli", "ec2", "describe-store-image-tasks", *args,
                           "--endpoint-url", emu.url, "--output", "json"],
                          env=clean_env(), capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args", [
    [],
    ["--filter", "Name=task-state,Values=Failed"],
    ["--filter", "Name=bucket,Values=storetasks-bucket-a,storetasks-bucket-c"],
])
def test_json_all_equals_the_cli(start_emulator, args):
    emu = start_emulator("--generate", 230, "--seed", 5)
    ours = example(emu, "--json", "--all", *args)
    assert ours.returncode == 0, ours.stderr
    cli_args = []
    if args:
        name, values = args[1].split(",", 1)
        cli_args = ["--filters", f"{name},{values}"]
    theirs = cli(emu, *cli_args)
    assert theirs.returncode == 0, theirs.stderr
    assert ours.stdout == theirs.stdout
    assert ours.stdout.count('"AmiId"') > 0


def test_json_for_image_ids_and_the_sample_file(start_emulator):
    emu = start_emulator("--tasks-file", REPO / "tests" / "data" / "sample-tasks.json")
    ours = example(emu, "--json", "--all")
    theirs = cli(emu)
    assert ours.returncode == 0 and theirs.returncode == 0, ours.stderr + theirs.stderr
    assert ours.stdout == theirs.stdout
    ids = ["ami-0123456789abcdef0", "ami-0fedcba9876543210"]
    ours = example(emu, "--json", "--all", *sum((["--image-id", i] for i in ids), []))
    theirs = cli(emu, "--image-ids", *ids)
    assert ours.returncode == 0, ours.stderr
    assert theirs.returncode == 0, theirs.stderr
    assert ours.stdout == theirs.stdout
    # Equal and empty would prove nothing: each id has its latest task in the output.
    assert ours.stdout.count('"AmiId"') == len(ids), ours.stdout
    for i in ids:
        assert f'"AmiId": "{i}"' in ours.stdout


def test_failures_print_status_code_and_message(start_emulator):
    emu = start_emulator("--generate", 3)
    dry = example(emu, "--dry-run")
    assert dry.returncode == 0 and "would have succeeded" in dry.stdout
    bad = example(emu, "--filter", "Name=colour,Values=blue")
    assert bad.returncode != 0
    assert "STORETASKS_STATUS_SERVICE (InvalidParameterValue)" in bad.stderr
    assert example(emu, "--max-results", "500").returncode != 0
    assert "STORETASKS_STATUS_INVALID_ARGUMENT" in example(emu, "--max-results", "500").stderr

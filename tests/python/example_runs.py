"""Runs of the C examples of the checkout's build against an emulator, for the tests of their
output (test_example_*.py)."""

import os
import subprocess
from pathlib import Path

import pytest

from conftest import ACCESS_KEY, CLEAN_ENV, REGION, REPO, SECRET_KEY

BUILD = Path(os.environ.get("STORETASKS_BUILD", REPO / "build"))


def clean_env():
    """The environment of a program the tests run: none of the caller's AWS_ variables, the
    suite's clean settings, and the emulator's keys and region."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    e.update(CLEAN_ENV)
    e.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_DEFAULT_REGION=REGION)
    return e


def run_example(program, emu, *args, extra_env=None, timeout=60):
    """Runs the example ``program`` of the build with ``emu`` as its endpoint, then ``args``, in
    :func:`clean_env` with ``extra_env`` on top; fails the test when the example was not built."""
    path = BUILD / program
    if not path.exists():
        pytest.fail(f"{path} not found: run `make examples`")
    return subprocess.run([str(path), "--endpoint-url", emu.url, *args],
                          env={**clean_env(), **(extra_env or {})}, capture_output=True, text=True, timeout=timeout)

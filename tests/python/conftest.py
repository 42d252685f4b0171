"""Fixtures that run storetasks-emulator for the client tests, through the package's own
storetasks.testing (whose pytest fixture, storetasks_emulator, is loaded here too).

The binary comes from $STORETASKS_EMULATOR, else <repo>/target/release/storetasks-emulator
(built by `cargo build --release -p storetasks-emulator`).
"""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

# Ctrl-C is what several tests are about. A process started in the background by a shell without
# job control inherits SIGINT ignored, and Python then neither raises KeyboardInterrupt nor lets
# _thread.interrupt_main() simulate it (nor does any child it starts): the suite gives SIGINT back
# Python's own handler, which its children then start with.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

REPO = Path(__file__).resolve().parents[2]

#: tests/wheel/run.sh runs this suite from a copy outside the checkout, in a venv where the wheel
#: installed the package, and sets STORETASKS_TEST_INSTALLED=1: the package under test is then the
#: installed one (the checkout's bindings/python is not put on sys.path), and the tests that need
#: the checkout itself skip (see `checkout_only`).
INSTALLED = os.environ.get("STORETASKS_TEST_INSTALLED") == "1"
#: The package's sources in the checkout.
PACKAGE_SOURCE = REPO / "bindings" / "python"


def checkout_only(reason):
    """Skips a test (or, as `pytestmark`, a module) in the installed-package run, saying why."""
    return pytest.mark.skipif(INSTALLED, reason=f"needs the checkout: {reason} (make test-python runs it)")


def import_storetasks():
    """The storetasks package under test: the checkout's bindings/python, or in the
    installed-package run the one the wheel installed."""
    if not INSTALLED and str(PACKAGE_SOURCE) not in sys.path:
        sys.path.insert(0, str(PACKAGE_SOURCE))
    import storetasks

    if INSTALLED:
        import sysconfig

        site = {Path(sysconfig.get_path(name)).resolve() for name in ("platlib", "purelib")}
        assert Path(storetasks.__file__).resolve().parent.parent in site, \
            f"{storetasks.__file__} is not the installed package (site-packages: {site})"
    return storetasks


import_storetasks()
from storetasks import testing  # noqa: E402 (the package is on sys.path only now)

#: The fixture storetasks_emulator. Where the wheel is installed, its pytest11 entry point has
#: loaded the plugin already, under this same name, and it is not loaded twice.
pytest_plugins = ["storetasks.pytest_plugin"]

ACCESS_KEY = testing.ACCESS_KEY
SECRET_KEY = testing.SECRET_KEY
DENIED_KEY = "AKIASTORETASKSDENIED"
REGION = testing.REGION
NOW = "2026-11-20T12:00:00Z"
#: The emulator the tests run: $STORETASKS_EMULATOR (None lets the package read it), else the
#: checkout's build.
EMULATOR = None if os.environ.get(testing.ENV_VARIABLE) else REPO / "target" / "release" / testing.PROGRAM

# No shared config, credentials or instance metadata may leak into the tests.
CLEAN_ENV = {
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
}
for _name in [n for n in os.environ if n.startswith("AWS_")]:
    del os.environ[_name]
os.environ.update(CLEAN_ENV)


class Emulator(testing.Emulator):
    """A running emulator with the suite's clock (--now NOW) and deny key, which args may
    override."""

    def __init__(self, args):
        try:
            super().__init__("--now", NOW, "--deny-key", DENIED_KEY, *args, binary=EMULATOR)
        except testing.EmulatorNotFoundError as e:
            pytest.fail(str(e), pytrace=False)

    def fixture(self):
        """All tasks the emulator loaded, in the tasks-file shape (same arguments, --dump-tasks)."""
        out = subprocess.run([str(self.binary), *self.args, "--dump-tasks", "-"],
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out)["StoreImageTaskResults"]

    def stop(self):
        assert self.close() == 0, "the emulator exits 0 on SIGTERM"


@pytest.fixture
def start_emulator():
    """Starts emulators with the given arguments; all are stopped at the end of the test."""
    running = []

    def start(*args):
        emu = Emulator([str(a) for a in args])
        running.append(emu)
        return emu

    yield start
    for emu in running:
        emu.stop()


@pytest.fixture
def emulator(start_emulator):
    """An emulator with 57 generated tasks."""
    return start_emulator("--generate", 57, "--seed", 21)


@pytest.fixture
def native_frees(monkeypatch):
    """Counts what the Python package frees: {C free function: [address, ...]}, for
    storetasks_client_free and storetasks_error_free (NULL errors are not recorded). The real
    functions still run; the package looks them up on the library at each call."""
    import ctypes

    import_storetasks()
    from storetasks import _native

    lib = _native.lib()
    import gc

    gc.collect()  # clients earlier tests left to the collector are freed before counting starts
    freed = {}
    for name in ("storetasks_client_free", "storetasks_error_free"):
        real = getattr(lib, name)
        freed[name] = []

        def counting(pointer, real=real, seen=freed[name]):
            address = ctypes.cast(pointer, ctypes.c_void_p).value
            if address:
                seen.append(address)
            return real(pointer)

        monkeypatch.setattr(lib, name, counting)
    return freed

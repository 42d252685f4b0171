"""Fixtures that run storetasks-emulator for the client tests.

The binary comes from $STORETASKS_EMULATOR, else <repo>/target/release/storetasks-emulator
(built by `cargo build --release -p storetasks-emulator`).
"""

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EMULATOR = Path(os.environ.get("STORETASKS_EMULATOR", REPO / "target" / "release" / "storetasks-emulator"))

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

ACCESS_KEY = "AKIASTORETASKSLOCAL1"
SECRET_KEY = "storetasks-local-secret-key-0000000000000"
DENIED_KEY = "AKIASTORETASKSDENIED"
REGION = "us-east-1"
NOW = "2026-11-20T12:00:00Z"

# No shared config, credentials or instance metadata may leak into the tests.
CLEAN_ENV = {
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
}
for _name in [n for n in os.environ if n.startswith("AWS_")]:
    del os.environ[_name]
os.environ.update(CLEAN_ENV)


class Emulator:
    """A running emulator process."""

    def __init__(self, args):
        if not EMULATOR.exists():
            pytest.fail(f"{EMULATOR} not found: run `cargo build --release -p storetasks-emulator` "
                        "or set STORETASKS_EMULATOR")
        self.args = ["--now", NOW, "--deny-key", DENIED_KEY, *args]
        self.proc = subprocess.Popen([str(EMULATOR), *self.args], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening "):
            self.stop()
            pytest.fail(f"unexpected first line from the emulator: {line!r}")
        self.address = line.split(" ", 1)[1]
        #: With --tls, the emulator's test CA (what a client must trust), else None.
        self.ca = None
        scheme = "http"
        if "--tls" in self.args:
            self.ca = Path(self.args[self.args.index("--tls") + 1]) / "ca.pem"
            scheme = "https"
        self.url = f"{scheme}://{self.address}"
        #: With --sts-port, the URL of the STS-only port.
        self.sts_url = None
        if "--sts-port" in self.args:
            sts = self.proc.stdout.readline().strip()
            if not sts.startswith("sts "):
                self.stop()
                pytest.fail(f"unexpected second line from the emulator: {sts!r}")
            self.sts_url = f"{scheme}://{sts.split(' ', 1)[1]}"

    def fixture(self):
        """All tasks the emulator loaded, in the tasks-file shape (same arguments, --dump-tasks)."""
        out = subprocess.run([str(EMULATOR), *self.args, "--dump-tasks", "-"],
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out)["StoreImageTaskResults"]

    def control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        context = None
        if self.ca is not None:
            import ssl
            context = ssl.create_default_context(cafile=str(self.ca))
        # Straight to the emulator, whatever proxy the environment names.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPSHandler(context=context))
        with opener.open(req, timeout=10) as resp:
            return json.loads(resp.read())

    def stats(self):
        return self.control("GET", "/_emulator/stats")

    def add_faults(self, *specs):
        return self.control("POST", "/_emulator/faults", {"faults": list(specs)})

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                assert self.proc.wait(timeout=10) == 0, "the emulator exits 0 on SIGTERM"
            finally:
                if self.proc.poll() is None:
                    self.proc.kill()
                    self.proc.wait()
        self.proc.stdout.close()


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

"""storetasks-emulator, the local Amazon EC2 endpoint that comes with libstoretasks, for the tests
of a program that calls DescribeStoreImageTasks, whether through this package, boto3 or the AWS
CLI::

    from storetasks.testing import start_emulator

    with start_emulator("--generate", 50, "--seed", 7) as emu:
        with emu.client() as ec2:                       # a storetasks.Client for it
            ...
        emu.add_faults("throttle,count=3")
        subprocess.run(["aws", "ec2", "describe-store-image-tasks"], env=emu.env())

The emulator program is the one ``binary`` names, else the one ``$STORETASKS_EMULATOR`` names,
else ``storetasks-emulator`` on the PATH. Its options, control endpoint and faults are described
in emulator/README.md of the libstoretasks repository. This module needs no pytest; the pytest
fixture ``storetasks_emulator`` is in :mod:`storetasks.pytest_plugin`.
"""

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

#: The emulator's defaults: the key pair it accepts, its home region and the account of that key.
#: Options given to it (--access-key, --secret-key, --region, --account-id) change them, and the
#: attributes of an Emulator then hold the values given.
ACCESS_KEY = "AKIASTORETASKSLOCAL1"
SECRET_KEY = "storetasks-local-secret-key-0000000000000"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"

#: The emulator's name on the PATH, and the variable holding its path.
PROGRAM = "storetasks-emulator"
ENV_VARIABLE = "STORETASKS_EMULATOR"

#: Seconds close() waits for the emulator to exit after SIGTERM before killing it.
STOP_TIMEOUT = 10


class EmulatorError(RuntimeError):
    """The emulator could not be started, stopped with an error, or refused a control request."""


class EmulatorNotFoundError(EmulatorError, FileNotFoundError):
    """There is no emulator program to run."""


def find_emulator(binary=None):
    """The absolute path of the emulator: ``binary`` when given, else ``$STORETASKS_EMULATOR``
    when set, else ``storetasks-emulator`` on the PATH; raises EmulatorNotFoundError."""
    source = "the binary argument"
    if binary is None:
        binary, source = os.environ.get(ENV_VARIABLE) or None, "$" + ENV_VARIABLE
    if binary is None:
        found = shutil.which(PROGRAM)
        if found is None:
            raise EmulatorNotFoundError(f"{PROGRAM} was not found: give its path as binary= or in ${ENV_VARIABLE}, "
                                        "or put it on the PATH")
        binary = found
    elif not Path(binary).is_file():
        raise EmulatorNotFoundError(f"{PROGRAM} was not found at {binary}, the path {source} gives")
    return Path(binary).resolve()


def last_values(args):
    """{--flag: the last value given} of the emulator's options, all of which take a value, as
    ``--flag value`` or ``--flag=value``."""
    values = {}
    args = list(args)
    i = 0
    while i < len(args):
        flag, equals, value = args[i].partition("=")
        if equals and flag.startswith("--"):
            values[flag] = value
        elif args[i].startswith("--") and i + 1 < len(args):
            values[args[i]] = args[i + 1]
            i += 1
        i += 1
    return values


def _read_lines(pipe, lines, echo=None):
    """Puts each line of pipe on the queue lines, then None at its end; writes them to echo too,
    as long as echo takes them (a test's captured stderr is closed when the test ends)."""
    for line in pipe:
        lines.put(line)
        try:
            if echo is not None:
                echo.write(line)
                echo.flush()
        except (ValueError, OSError):
            echo = None
    lines.put(None)


class Emulator:
    """A running storetasks-emulator, started with ``args`` (its options; numbers and paths are
    turned into strings) by the constructor, which returns once it accepts connections.

    Attributes: ``url`` (``http://127.0.0.1:PORT``, ``https://...`` with ``--tls``: the EC2 and STS
    endpoint), ``address`` (``127.0.0.1:PORT``), ``sts_url`` (with ``--sts-port``, the URL of the
    port that serves STS alone, else None), ``ca`` (with ``--tls DIR``, the Path ``DIR/ca.pem`` a
    client must trust, else None), ``region``, ``account_id``, ``access_key``, ``secret_key``,
    ``binary``, ``args`` and ``proc`` (the subprocess.Popen).

    ``binary``: see find_emulator. ``timeout``: seconds to wait for the emulator to listen.
    ``stderr``: where what the emulator writes on its standard error goes (default sys.stderr).
    """

    def __init__(self, *args, binary=None, timeout=30, stderr=None):
        self.binary = find_emulator(binary)
        self.args = [str(a) for a in args]
        given = last_values(self.args)
        self.region = given.get("--region", REGION)
        self.account_id = given.get("--account-id", ACCOUNT_ID)
        self.access_key = given.get("--access-key", ACCESS_KEY)
        self.secret_key = given.get("--secret-key", SECRET_KEY)
        self.ca = Path(given["--tls"]) / "ca.pem" if "--tls" in given else None
        self.address = self.url = self.sts_url = None
        try:
            self.proc = subprocess.Popen([str(self.binary), *self.args], stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True, errors="replace")
        except OSError as e:
            raise EmulatorError(f"{self.binary} could not be started: {e}") from None
        self._stdout, self._stderr = queue.Queue(), queue.Queue()
        self._readers = [threading.Thread(target=_read_lines, args=(self.proc.stdout, self._stdout), daemon=True),
                         threading.Thread(target=_read_lines, args=(self.proc.stderr, self._stderr,
                                                                    stderr or sys.stderr), daemon=True)]
        for reader in self._readers:
            reader.start()
        try:
            self._listening("--sts-port" in given, timeout)
        except BaseException:
            self.close()
            raise

    def _listening(self, sts, timeout):
        """Reads the line "listening ADDR" (and "sts ADDR" with --sts-port) within timeout seconds."""
        scheme = "http" if self.ca is None else "https"
        for prefix in ("listening ", "sts ") if sts else ("listening ",):
            try:
                line = self._stdout.get(timeout=timeout)
            except queue.Empty:
                raise EmulatorError(f"{self.binary} did not start listening within {timeout} s") from None
            if line is None:
                self.proc.wait()
                raise EmulatorError(f"{self.binary} stopped before it was listening (exit status "
                                    f"{self.proc.returncode}){self._last_error()}")
            if not line.startswith(prefix):
                raise EmulatorError(f"{self.binary} printed {line.strip()!r} where a line "
                                    f"'{prefix}ADDR' was expected")
            address = line[len(prefix):].strip()
            if prefix == "sts ":
                self.sts_url = f"{scheme}://{address}"
            else:
                self.address, self.url = address, f"{scheme}://{address}"

    def _last_error(self):
        """": " and the last line the emulator wrote on its standard error, or ""."""
        for reader in self._readers:
            reader.join(timeout=5)
        last = ""
        while not self._stderr.empty():
            last = (self._stderr.get_nowait() or "").strip() or last
        return f": {last}" if last else ""

    def close(self):
        """Stops the emulator (SIGTERM, SIGKILL after STOP_TIMEOUT seconds) and returns its exit
        status: 0 after SIGTERM, whatever else it had exited with. Safe to repeat."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for reader in self._readers:
            reader.join(timeout=5)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"<storetasks-emulator {self.url or 'not listening'}>"

    # -- what a program under test needs -------------------------------------------------------

    def client(self, **kwargs):
        """A storetasks.Client for this emulator: its URL (for EC2 and STS), region, key pair and
        test CA; keyword arguments are passed on and win."""
        from .client import Client

        settings = {"region": self.region, "endpoint_url": self.url, "sts_endpoint_url": self.sts_url or self.url,
                    "aws_access_key_id": self.access_key, "aws_secret_access_key": self.secret_key,
                    "ca_bundle": None if self.ca is None else str(self.ca)}
        return Client(**{**settings, **kwargs})

    def env(self, base=None):
        """The environment for a program under test that finds EC2 through the usual AWS
        variables, such as the AWS CLI or a boto3 program: ``base`` (default os.environ) without
        its AWS_ variables, plus the emulator's endpoint (AWS_ENDPOINT_URL, and
        AWS_ENDPOINT_URL_STS with --sts-port), region, key pair, test CA (AWS_CA_BUNDLE, with
        --tls), no shared config or credentials files and no instance metadata."""
        env = {k: v for k, v in (os.environ if base is None else base).items() if not k.upper().startswith("AWS_")}
        env.update(AWS_ENDPOINT_URL=self.url, AWS_REGION=self.region, AWS_DEFAULT_REGION=self.region,
                   AWS_ACCESS_KEY_ID=self.access_key, AWS_SECRET_ACCESS_KEY=self.secret_key,
                   AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true")
        if self.sts_url is not None:
            env["AWS_ENDPOINT_URL_STS"] = self.sts_url
        if self.ca is not None:
            env["AWS_CA_BUNDLE"] = str(self.ca)
        return env

    # -- the control endpoint ------------------------------------------------------------------

    def control(self, method, path, body=None):
        """Sends a request to the emulator's control endpoint, such as
        ``control("GET", "/_emulator/stats")``, with ``body`` as JSON unless None, and returns its
        JSON answer. It goes directly, whatever proxy the environment names, and trusts the test
        CA with --tls. A refused request raises EmulatorError with the emulator's reason."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        handlers = [urllib.request.ProxyHandler({})]
        if self.ca is not None:
            import ssl

            handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=str(self.ca))))
        try:
            with urllib.request.build_opener(*handlers).open(request, timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as e:
            text = e.read().decode(errors="replace").strip()
            try:
                text = json.loads(text)["error"]
            except (ValueError, KeyError, TypeError):
                pass
            raise EmulatorError(f"{PROGRAM} at {self.address} refused {method} {path} (HTTP {e.code}): {text}") from None
        except OSError as e:
            raise EmulatorError(f"{PROGRAM} at {self.address} did not answer {method} {path}: {e}") from None

    def stats(self):
        """The emulator's counters: requests, describe, faults_fired, by_pair... (see the
        emulator's README)."""
        return self.control("GET", "/_emulator/stats")

    def add_faults(self, *specs):
        """Installs faults, all or none, each a spec as the emulator's --fault takes it:
        ``KIND[,at=K][,count=N][,ms=D][,region=R][,account=A][,service=ec2|sts]``, such as
        ``"throttle,count=2"``, ``"delay,ms=500"``, ``"drop,region=eu-west-3"``."""
        return self.control("POST", "/_emulator/faults", {"faults": list(specs)})

    def faults(self):
        """The faults still waiting for requests, each a dict (spec, kind, remaining...)."""
        return self.control("GET", "/_emulator/faults")["faults"]

    def clear_faults(self):
        """Removes every fault."""
        return self.control("DELETE", "/_emulator/faults")

    @staticmethod
    def _pair(region, account):
        """The tasks path of the (region, account) pair; None stands for the home one."""
        query = urllib.parse.urlencode({k: v for k, v in (("region", region), ("account", account)) if v})
        return "/_emulator/tasks" + ("?" + query if query else "")

    def tasks(self, region=None, account=None):
        """Every task of a pair (default: the home region and account), newest first, as it was
        loaded or added (its progress and state as given, its EmulatorFailAt kept), not as
        DescribeStoreImageTasks reports it now; tasks older than the 31 days that call reports
        are included. Each is a dict of the tasks-file members."""
        return self.control("GET", self._pair(region, account))["StoreImageTaskResults"]

    def add_tasks(self, tasks, region=None, account=None):
        """Adds tasks, dicts of the tasks-file members (the AWS CLI's output shape, plus
        ``EmulatorFailAt``), to a pair (default: the home one); the progress of InProgress ones
        counts from now."""
        return self.control("POST", self._pair(region, account), {"StoreImageTaskResults": list(tasks)})

    def clear_tasks(self, region=None, account=None):
        """Removes every task of a pair (default: the home one)."""
        return self.control("DELETE", self._pair(region, account))

    def now(self):
        """The emulator's clock, an RFC 3339 string."""
        return self.control("GET", "/_emulator/clock")["now"]

    def advance_clock(self, seconds):
        """Moves the emulator's clock forward: progress (--progress-rate) and the 31-day window of
        DescribeStoreImageTasks follow it."""
        return self.control("POST", "/_emulator/clock", {"advance_seconds": seconds})


def start_emulator(*args, binary=None, timeout=30, stderr=None):
    """Starts storetasks-emulator with ``args`` (its options, such as ``"--generate", 50``) and
    returns the running Emulator once it accepts connections; use it in a ``with`` block, or call
    its close(). Raises EmulatorNotFoundError when there is no emulator (see find_emulator) and
    EmulatorError when it does not start."""
    return Emulator(*args, binary=binary, timeout=timeout, stderr=stderr)

"""storetasks.testing and its pytest fixture storetasks_emulator: what a user's tests get to run
the emulator."""

import importlib.metadata
import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import EMULATOR, INSTALLED, PACKAGE_SOURCE, checkout_only, import_storetasks

storetasks = import_storetasks()
from storetasks import testing  # noqa: E402 (after import_storetasks, which puts it on sys.path)

#: The emulator's own path, wherever the suite found it.
BINARY = testing.find_emulator(EMULATOR)


def start(*args, **kwargs):
    return testing.start_emulator(*args, binary=BINARY, **kwargs)


def listed(emu, **client_kwargs):
    with emu.client(**client_kwargs) as ec2:
        return ec2.describe_store_image_tasks()["StoreImageTaskResults"]


def test_start_emulator_serves_a_client_and_stops_after_the_with_block():
    with start("--generate", 12, "--seed", 3) as emu:
        assert emu.url.startswith("http://127.0.0.1:") and emu.url == "http://" + emu.address
        assert (emu.region, emu.account_id, emu.access_key, emu.secret_key) == \
            ("us-east-1", "123456789012", "AKIASTORETASKSLOCAL1", "storetasks-local-secret-key-0000000000000")
        assert emu.sts_url is None and emu.ca is None and emu.binary == BINARY
        assert len(listed(emu)) == 12
        stats = emu.stats()
        assert stats["describe"] == 1 and stats["by_pair"]["123456789012/us-east-1"]["describe"] == 1
    assert emu.proc.returncode == 0
    assert emu.close() == 0  # again: nothing more happens
    with pytest.raises(testing.EmulatorError, match=r"did not answer GET /_emulator/stats"):
        emu.stats()


def test_the_options_given_set_the_attributes(tmp_path, monkeypatch):
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    with start("--region=eu-west-3", "--access-key", "AKIAOTHERKEY", "--secret-key", "other-secret",
               "--account-id", "210987654321", "--tls", tmp_path, "--sts-port", 0) as emu:
        assert (emu.region, emu.account_id, emu.access_key, emu.secret_key) == \
            ("eu-west-3", "210987654321", "AKIAOTHERKEY", "other-secret")
        assert emu.ca == tmp_path / "ca.pem" and emu.ca.is_file()
        assert emu.url.startswith("https://127.0.0.1:") and emu.sts_url.startswith("https://127.0.0.1:")
        assert emu.sts_url != emu.url
        # The control endpoint trusts the test CA; so does the client emu.client() makes.
        emu.add_tasks([{"AmiId": "ami-0123456789abcdef0"}])
        assert [t["AmiId"] for t in listed(emu)] == ["ami-0123456789abcdef0"]


def test_tasks_faults_and_the_clock():
    with start("--now", "2026-11-20T12:00:00Z", "--progress-rate", 1, "--regions", "eu-west-3") as emu:
        task = {"AmiId": "ami-0123456789abcdef0", "TaskStartTime": "2026-11-20T11:00:00Z", "Bucket": "my-bucket",
                "ProgressPercentage": 10, "StoreTaskState": "InProgress", "StoreTaskFailureReason": "quota exceeded",
                "EmulatorFailAt": 40}
        assert emu.add_tasks([task]) == {"added": 1, "total": 1}
        emu.advance_clock(45)
        assert emu.now() >= "2026-11-20T12:00:45"
        # Reported as it is now, held as it was given.
        (reported,) = listed(emu)
        assert (reported["StoreTaskState"], reported["ProgressPercentage"]) == ("Failed", 40)
        (held,) = emu.tasks()
        assert (held["StoreTaskState"], held["EmulatorFailAt"]) == ("InProgress", 40)
        # Each pair has tasks of its own.
        emu.add_tasks([task, {"AmiId": "ami-0fedcba9876543210"}], region="eu-west-3")
        assert len(emu.tasks(region="eu-west-3")) == 2 and len(emu.tasks()) == 1
        assert emu.clear_tasks(region="eu-west-3", account="123456789012") == {"removed": 2}
        emu.clear_tasks()
        assert emu.tasks() == [] and listed(emu) == []

        emu.add_faults("throttle,count=2", "deny,region=eu-west-3")
        faults = emu.faults()
        assert [f["spec"] for f in faults] == ["throttle,at=1,count=2", "deny,at=1,count=1,region=eu-west-3"]
        with pytest.raises(storetasks.ClientError, match="RequestLimitExceeded"):
            listed(emu, max_attempts=1)
        emu.clear_faults()
        assert emu.faults() == [] and listed(emu) == []
        assert emu.stats()["faults_fired"] == 1
        with pytest.raises(testing.EmulatorError) as refused:
            emu.add_faults("throttle", "bogus")
        assert str(refused.value).startswith(
            f"storetasks-emulator at {emu.address} refused POST /_emulator/faults (HTTP 400): unknown fault kind `bogus`")


def test_env_points_the_aws_cli_and_boto3_at_the_emulator(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "somewhere-else")
    with start("--generate", 4) as emu:
        env = emu.env()
        assert "AWS_PROFILE" not in env and env["PATH"] == os.environ["PATH"]
        assert env["AWS_ENDPOINT_URL"] == emu.url and env["AWS_DEFAULT_REGION"] == "us-east-1"
        cli = subprocess.run([sys.executable, "-m", "awscli", "ec2", "describe-store-image-tasks",
                              "--query", "length(StoreImageTaskResults)"], env=env, capture_output=True, text=True,
                             timeout=60)
        assert cli.returncode == 0 and cli.stdout.strip() == "4", cli.stderr
        code = "import boto3; print(len(boto3.client('ec2').describe_store_image_tasks()['StoreImageTaskResults']))"
        sdk = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
        assert sdk.returncode == 0 and sdk.stdout.strip() == "4", sdk.stderr
        assert emu.stats()["describe"] == 2


def test_the_binary_argument_then_the_variable_then_the_path(monkeypatch, tmp_path):
    on_path = tmp_path / "bin"
    on_path.mkdir()
    (on_path / "storetasks-emulator").symlink_to(BINARY)
    monkeypatch.setenv("PATH", str(on_path))
    monkeypatch.delenv("STORETASKS_EMULATOR", raising=False)
    assert testing.find_emulator() == BINARY  # the link, resolved
    monkeypatch.setenv("STORETASKS_EMULATOR", str(tmp_path / "nowhere"))
    with pytest.raises(testing.EmulatorNotFoundError) as missing:
        testing.find_emulator()
    assert str(missing.value) == f"storetasks-emulator was not found at {tmp_path / 'nowhere'}, " \
                                 "the path $STORETASKS_EMULATOR gives"
    assert testing.find_emulator(str(BINARY)) == BINARY
    with pytest.raises(testing.EmulatorNotFoundError, match="the path the binary argument gives"):
        testing.start_emulator(binary=tmp_path)
    monkeypatch.delenv("STORETASKS_EMULATOR")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(testing.EmulatorNotFoundError) as none:
        testing.start_emulator()
    assert str(none.value) == "storetasks-emulator was not found: give its path as binary= or in " \
                              "$STORETASKS_EMULATOR, or put it on the PATH"
    assert isinstance(none.value, FileNotFoundError)


def test_an_emulator_that_cannot_start_says_why(capfd):
    with pytest.raises(testing.EmulatorError) as failed:
        start("--bogus")
    assert str(failed.value) == f"{BINARY} stopped before it was listening (exit status 2): " \
                                "storetasks-emulator: unknown argument `--bogus` (see --help)"
    assert "unknown argument" in capfd.readouterr().err  # what it wrote still reaches stderr
    sleep = shutil.which("sleep")
    if sleep is None:
        pytest.skip("no sleep program")
    began = time.monotonic()
    with pytest.raises(testing.EmulatorError, match=r"did not start listening within 0\.2 s"):
        testing.start_emulator(30, binary=sleep, timeout=0.2)
    assert time.monotonic() - began < 10  # and it was stopped rather than waited for


def test_the_fixture_without_a_marker_serves_no_tasks(storetasks_emulator):
    assert storetasks_emulator.tasks() == [] and storetasks_emulator.url.startswith("http://")


@pytest.mark.storetasks_emulator("--generate", 5, "--seed", 9, binary=BINARY)
def test_the_fixture_takes_its_options_from_the_marker(storetasks_emulator):
    assert len(listed(storetasks_emulator)) == 5
    assert storetasks_emulator.args == ["--generate", "5", "--seed", "9"]


def test_the_plugin_is_loaded_once_under_its_module_s_name(pytestconfig):
    from storetasks import pytest_plugin

    assert pytestconfig.pluginmanager.get_plugin("storetasks.pytest_plugin") is pytest_plugin
    assert [p for p in pytestconfig.pluginmanager.get_plugins() if p is pytest_plugin] == [pytest_plugin]
    if INSTALLED:
        points = importlib.metadata.entry_points(group="pytest11")
        assert [(p.name, p.value) for p in points if p.value.startswith("storetasks")] == \
            [("storetasks.pytest_plugin", "storetasks.pytest_plugin")]


def test_importing_the_package_needs_no_pytest():
    code = (f"import sys; sys.path.insert(0, {str(PACKAGE_SOURCE)!r}); sys.modules['pytest'] = None; "
            "import storetasks, storetasks.testing; print(storetasks.testing.PROGRAM)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == "storetasks-emulator", run.stderr


USER_TEST = """
import pytest

@pytest.mark.storetasks_emulator("--generate", 3)
def test_listing(storetasks_emulator):
    assert len(storetasks_emulator.tasks()) > 3  # with those older than 31 days
"""


@checkout_only("pip installs the source folder bindings/python")
def test_an_installed_package_gives_pytest_the_fixture(tmp_path):
    """A user's suite in a folder of its own, with the package installed from the source folder:
    pytest finds the fixture through the entry point, and a conftest.py that names the plugin too
    does not load it twice."""
    from test_python_package import pip_install_folder

    src = tmp_path / "src"
    shutil.copytree(PACKAGE_SOURCE, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__",
                                                                         "*.so", "*.so.*", "*.dylib", "*.dll"))
    site = tmp_path / "site"
    pip_install_folder(src, site)
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_user.py").write_text(USER_TEST)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "STORETASKS_EMULATOR")}
    env.update(PYTHONPATH=str(site), STORETASKS_EMULATOR=str(BINARY))

    def pytest_run(env):
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(suite)], env=env,
                              cwd=suite, capture_output=True, text=True, timeout=120)

    run = pytest_run(env)
    assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout + run.stderr
    (suite / "conftest.py").write_text('pytest_plugins = ["storetasks.pytest_plugin"]\n')
    run = pytest_run(env)
    assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout + run.stderr
    # Without an emulator anywhere, the test fails saying so.
    run = pytest_run({**env, "STORETASKS_EMULATOR": "", "PATH": str(tmp_path)})
    assert run.returncode == 1 and "storetasks-emulator was not found: give its path as binary= or in " \
        "$STORETASKS_EMULATOR, or put it on the PATH" in run.stdout, run.stdout + run.stderr

"""Settings and environments as the AWS CLI handles them: for each case the AWS CLI (from the
venv) and the C example run with the same environment against the same emulator (HTTPS with its
own test CA where the case needs TLS, STS on a port of its own where it needs roles) and the same
forward proxy, and must end the same way: the same tasks, or both failing, the library with one
readable sentence. Each case also checks where the requests went: through the proxy or not
(the proxy's counts), to the STS port or the EC2 one (the emulator's counts).

The environment of every run is built here from nothing: no proxy, CA or AWS variable of the
machine running the tests reaches either client.
"""

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import ACCESS_KEY, REGION, REPO, SECRET_KEY, checkout_only

pytestmark = checkout_only("the C example links the checkout's build, not the wheel's library")

BUILD = Path(os.environ.get("STORETASKS_BUILD", REPO / "build"))
EXAMPLE = BUILD / "describe_tasks"
PROXY = REPO / "tests" / "fixtures" / "forward_proxy.py"
ROLE = "arn:aws:iam::210987654321:role/StoreTasksReader"
PROXY_USER, PROXY_PASSWORD = "tester", "pr0xy-Pa55word"

#: Variables that change where requests go or whom TLS trusts: every run starts without them.
CLEARED = re.compile(r"^(AWS_.*|(HTTPS?|ALL|NO)_PROXY|(https?|all|no)_proxy|REQUESTS_CA_BUNDLE|SSL_CERT_(FILE|DIR)|"
                     r"CURL_CA_BUNDLE)$")
#: What a message must never hold: a Rust Debug dump of the SDK's types.
DEBUG_DUMP = ("ServiceError(", "SdkBody", "Extensions", 'Some(b"', "Response {", "raw: ")


class ForwardProxy:
    def __init__(self, *args):
        self.proc = subprocess.Popen([sys.executable, str(PROXY), *args], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening "), f"unexpected first line from the proxy: {line!r}"
        self.address = line.split(" ", 1)[1]

    def url(self, auth=None):
        return f"http://{auth + '@' if auth else ''}{self.address}"

    def stats(self):
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"http://{self.address}/_proxy/stats", timeout=10) as r:
            return json.loads(r.read())

    def passed(self):
        """How many connections went through: tunnels plus forwarded requests."""
        s = self.stats()
        return sum(s["connect"].values()) + sum(s["forward"].values())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


@dataclass
class Case:
    name: str
    #: "tasks": both list the same tasks; "fails": both fail.
    outcome: str
    emulator: list = field(default_factory=list)
    #: Arguments of the forward proxy, or None for no proxy.
    proxy: list = None
    #: Environment of both runs: a function of (emulator, proxy, folder) giving a dict.
    env: callable = None
    #: Arguments of both runs (the C example and the AWS CLI share these spellings).
    args: callable = None
    #: Whether the requests went through the proxy (None: not checked).
    proxied: bool = None
    #: Whether AssumeRole went to the STS port.
    sts_port: bool = False
    #: Words the library's message must hold when it fails.
    says: tuple = ()


def profile_file(folder, text):
    path = folder / "config"
    path.write_text(text)
    return str(path)


CASES = [
    Case("AWS_CA_BUNDLE trusts the endpoint's CA", "tasks", ["--tls", "{tls}"],
         env=lambda e, p, d: {"AWS_ENDPOINT_URL": e.url, "AWS_CA_BUNDLE": str(e.ca)}),
    Case("ca_bundle in the profile trusts the endpoint's CA", "tasks", ["--tls", "{tls}"],
         env=lambda e, p, d: {"AWS_ENDPOINT_URL": e.url,
                              "AWS_CONFIG_FILE": profile_file(d, f"[default]\nca_bundle = {e.ca}\n")}),
    Case("an untrusted endpoint fails", "fails", ["--tls", "{tls}"],
         env=lambda e, p, d: {"AWS_ENDPOINT_URL": e.url}, says=("certificate",)),
    Case("HTTPS_PROXY with a CA bundle tunnels to the endpoint", "tasks", ["--tls", "{tls}"], proxy=[],
         env=lambda e, p, d: {"AWS_ENDPOINT_URL": e.url, "HTTPS_PROXY": p.url()},
         args=lambda e: ["--ca-bundle", str(e.ca)], proxied=True),
    Case("https_proxy (lower case) with AWS_CA_BUNDLE", "tasks", ["--tls", "{tls}"], proxy=[],
         env=lambda e, p, d: {"AWS_ENDPOINT_URL": e.url, "https_proxy": p.url(), "AWS_CA_BUNDLE": str(e.ca)},
         proxied=True),
    Case("HTTP_PROXY forwards requests to an http endpoint", "tasks", proxy=[],
         env=lambda e, p, d: {"AWS_ENDPOINT_URL": e.url, "HTTP_PROXY": p.url()}, proxied=True),
    Case("http_proxy (lower case)", "tasks", proxy=[],
         env=lambda e, p, d: {"AWS_ENDPOINT_URL": e.url, "http_proxy": p.url()}, proxied=True),
    Case("no_proxy (lower case) lets requests to the endpoint go directly", "tasks", proxy=[],
         env=lambda e, p, d: {"AWS_ENDPOINT_URL": e.url, "http_proxy": p.url(), "no_proxy": "127.0.0.1"},
         proxied=False),
    Case("NO_PROXY lets requests to the endpoint go directly", "tasks", ["--tls", "{tls}"], proxy=[],
         env=lambda e, p, d: {"AWS_ENDPOINT_URL": e.url, "HTTPS_PROXY": p.url(), "NO_PROXY": "localhost,127.0.0.1",
                              "AWS_CA_BUNDLE": str(e.ca)}, proxied=False),
    Case("a proxy with basic auth", "tasks", ["--tls", "{tls}"], proxy=["--auth", f"{PROXY_USER}:{PROXY_PASSWORD}"],
         env=lambda e, p, d: {"AWS_ENDPOINT_URL": e.url, "HTTPS_PROXY": p.url(f"{PROXY_USER}:{PROXY_PASSWORD}"),
                              "AWS_CA_BUNDLE": str(e.ca)}, proxied=True),
    Case("a wrong proxy password fails", "fails", ["--tls", "{tls}"], proxy=["--auth", f"{PROXY_USER}:{PROXY_PASSWORD}"],
         env=lambda e, p, d: {"AWS_ENDPOINT_URL": e.url, "HTTPS_PROXY": p.url(f"{PROXY_USER}:wrong-Pa55word"),
                              "AWS_CA_BUNDLE": str(e.ca)}, says=("proxy", "407")),
    Case("a proxy that refuses the tunnel fails", "fails", ["--tls", "{tls}"], proxy=["--refuse-connect"],
         env=lambda e, p, d: {"AWS_ENDPOINT_URL": e.url, "HTTPS_PROXY": p.url(), "AWS_CA_BUNDLE": str(e.ca)},
         says=("proxy",)),
    Case("AWS_ENDPOINT_URL_EC2 with a role: AssumeRole goes to AWS_ENDPOINT_URL_STS", "tasks",
         ["--role", ROLE, "--sts-port", "0"],
         env=lambda e, p, d: {"AWS_ENDPOINT_URL_EC2": e.url, "AWS_ENDPOINT_URL_STS": e.sts_url,
                              "AWS_CONFIG_FILE": profile_file(d, role_profiles()), "AWS_PROFILE": "reader"},
         sts_port=True),
    Case("an HTML 500 from a load balancer fails", "fails", ["--fault", "html,count=1000"],
         env=lambda e, p, d: {"AWS_ENDPOINT_URL": e.url}, says=("HTTP 500", "text/html", "Internal Server Error")),
    Case("an empty 503 fails", "fails", ["--fault", "empty503,count=1000"],
         env=lambda e, p, d: {"AWS_ENDPOINT_URL": e.url}, says=("HTTP 503", "empty")),
]


def role_profiles():
    # The role's profile takes its credentials from a source profile, as the AWS CLI documents.
    return (f"[profile base]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
            f"region = {REGION}\n\n[profile reader]\nrole_arn = {ROLE}\nsource_profile = base\nregion = {REGION}\n")


def base_env(folder):
    env = {k: v for k, v in os.environ.items() if not CLEARED.match(k)}
    # A home of its own: the AWS CLI caches assumed-role credentials under ~/.aws/cli/cache, and
    # credentials another emulator issued would be refused.
    env.update(HOME=str(folder), USERPROFILE=str(folder))
    env.update(AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_EC2_METADATA_DISABLED="true",
               AWS_DEFAULT_REGION=REGION, AWS_MAX_ATTEMPTS="2", AWS_RETRY_MODE="standard")
    return env


def run_both(case, emu, proxy, folder):
    env = base_env(folder)
    extra = case.env(emu, proxy, folder)
    if "AWS_PROFILE" not in extra:
        env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY)
    env.update(extra)
    args = case.args(emu) if case.args else []
    if not EXAMPLE.exists():
        pytest.fail(f"{EXAMPLE} not found: run `make examples`")
    runs = {}
    for who, command in (
        ("library", [str(EXAMPLE), "--json", "--all", *args]),
        ("cli", [sys.executable, "-m", "awscli", "ec2", "describe-store-image-tasks", "--output", "json", *args]),
    ):
        before = (proxy.passed() if proxy else 0, emu.stats().get("arrivals", {}))
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        after = (proxy.passed() if proxy else 0, emu.stats().get("arrivals", {}))
        runs[who] = (done, after[0] - before[0],
                     {k: after[1].get(k, 0) - before[1].get(k, 0) for k in after[1]})
    return runs


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_library_ends_as_the_aws_cli_does(case, start_emulator, tmp_path):
    emulator_args = [a.replace("{tls}", str(tmp_path / "tls")) for a in case.emulator]
    emu = start_emulator("--generate", 37, "--seed", 8, *emulator_args)
    proxy = ForwardProxy(*case.proxy) if case.proxy is not None else None
    try:
        runs = run_both(case, emu, proxy, tmp_path)
    finally:
        if proxy:
            proxy.stop()
    (ours, our_proxied, our_arrivals), (cli, cli_proxied, cli_arrivals) = runs["library"], runs["cli"]
    report = f"library rc {ours.returncode}: {ours.stderr.strip()}\nAWS CLI rc {cli.returncode}: {cli.stderr.strip()[-600:]}"
    if case.outcome == "tasks":
        assert cli.returncode == 0, report
        assert ours.returncode == 0, report
        assert json.loads(ours.stdout) == json.loads(cli.stdout)
        assert len(json.loads(ours.stdout)["StoreImageTaskResults"]) > 0
    else:
        assert cli.returncode != 0, report
        assert ours.returncode != 0, report
        message = ours.stderr.strip()
        assert message and "\n" not in message, f"one line: {message!r}"
        for marker in DEBUG_DUMP:
            assert marker not in message, f"a Debug dump in {message!r}"
        for word in case.says:
            assert word.lower() in message.lower(), f"{word!r} not in {message!r}"
    for text in (ours.stdout, ours.stderr):
        assert PROXY_PASSWORD not in text and "wrong-Pa55word" not in text and SECRET_KEY not in text
    if case.proxied is not None:
        assert (cli_proxied > 0) == case.proxied, f"AWS CLI: {cli_proxied} connections through the proxy"
        assert (our_proxied > 0) == case.proxied, f"library: {our_proxied} connections through the proxy"
    if case.sts_port:
        for who, arrivals in (("AWS CLI", cli_arrivals), ("library", our_arrivals)):
            assert arrivals.get("sts/sts", 0) >= 1, f"{who}: AssumeRole did not reach the STS port: {arrivals}"
            assert arrivals.get("main/sts", 0) == 0, f"{who}: AssumeRole went to the EC2 endpoint: {arrivals}"
            assert arrivals.get("main/ec2", 0) >= 1, f"{who}: {arrivals}"


def test_readme_settings_table_names_only_tested_variables():
    """Every environment variable in README's "Where settings come from" table is one a case
    above sets (the table is what these cases check)."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Where settings come from", 1)[1].split("\n## ", 1)[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("|"))
    named = set(re.findall(r"`((?:AWS|HTTPS?|NO)_[A-Z_]+|(?:https?|no)_proxy)`", table))
    source = Path(__file__).read_text()
    untested = {v for v in named if f'"{v}"' not in source}
    assert named, "the table names no variable"
    assert not untested, f"README names variables no case sets: {sorted(untested)}"


@pytest.mark.parametrize("through", ["config", "environment"])
def test_the_python_package_trusts_a_ca_bundle_and_goes_through_a_proxy(start_emulator, tmp_path, monkeypatch, through):
    """The package's own settings (ca_bundle=, proxy=) and the environment's lead to the same
    place: the HTTPS emulator, through the proxy, with its test CA trusted."""
    from conftest import import_storetasks

    storetasks = import_storetasks()
    emu = start_emulator("--generate", 12, "--seed", 3, "--tls", tmp_path / "tls")
    proxy = ForwardProxy("--auth", f"{PROXY_USER}:{PROXY_PASSWORD}")
    for name in [n for n in os.environ if CLEARED.match(n)]:
        monkeypatch.delenv(name)
    settings = {}
    if through == "config":
        settings = {"ca_bundle": str(emu.ca), "proxy": proxy.url(f"{PROXY_USER}:{PROXY_PASSWORD}")}
    else:
        monkeypatch.setenv("AWS_CA_BUNDLE", str(emu.ca))
        monkeypatch.setenv("HTTPS_PROXY", proxy.url(f"{PROXY_USER}:{PROXY_PASSWORD}"))
    try:
        with storetasks.Client(region=REGION, endpoint_url=emu.url, aws_access_key_id=ACCESS_KEY,
                               aws_secret_access_key=SECRET_KEY, **settings) as client:
            tasks = client.describe_store_image_tasks()["StoreImageTaskResults"]
        assert len(tasks) == 12
        assert proxy.passed() == 1, proxy.stats()
        # A wrong password: refused by the proxy, said in one sentence without the password.
        wrong = proxy.url(f"{PROXY_USER}:wrong-Pa55word")
        if through == "config":
            settings["proxy"] = wrong
        else:
            monkeypatch.setenv("HTTPS_PROXY", wrong)
        with storetasks.Client(region=REGION, endpoint_url=emu.url, aws_access_key_id=ACCESS_KEY,
                               aws_secret_access_key=SECRET_KEY, max_attempts=1, **settings) as client:
            with pytest.raises(storetasks.StoreTasksError) as caught:
                client.describe_store_image_tasks()
        message = str(caught.value)
        assert "407" in message and proxy.address in message, message
        assert "wrong-Pa55word" not in message and PROXY_PASSWORD not in message
    finally:
        proxy.stop()


def test_proxy_credentials_stay_out_of_every_log_line(start_emulator, tmp_path):
    """At the most detailed log level, neither the proxy's password nor the header that carries it
    (base64 of user:password) shows in anything the library prints."""
    import base64

    emu = start_emulator("--generate", 5, "--seed", 2, "--tls", tmp_path / "tls")
    proxy = ForwardProxy("--auth", f"{PROXY_USER}:{PROXY_PASSWORD}")
    try:
        env = base_env(tmp_path)
        env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_ENDPOINT_URL=emu.url,
                   AWS_CA_BUNDLE=str(emu.ca), HTTPS_PROXY=proxy.url(f"{PROXY_USER}:{PROXY_PASSWORD}"),
                   STORETASKS_LOG="trace")
        done = subprocess.run([str(EXAMPLE), "--json", "--all"], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert proxy.passed() == 1
    finally:
        proxy.stop()
    header = base64.b64encode(f"{PROXY_USER}:{PROXY_PASSWORD}".encode()).decode()
    assert len(done.stderr.splitlines()) > 20, "trace lines were written"
    for secret in (PROXY_PASSWORD, header, SECRET_KEY):
        assert secret not in done.stdout and secret not in done.stderr, f"{secret!r} was printed"


@pytest.mark.parametrize("fips,dualstack", [(True, False), (False, True), (True, True), (False, False)])
def test_fips_and_dual_stack_choose_the_endpoint_botocore_chooses(tmp_path, monkeypatch, fips, dualstack):
    """Without an endpoint URL, the host a request is for is the one the settings choose. The
    proxy (which refuses every tunnel) records the host each client asked it for; botocore's own
    resolution of the same settings is the reference."""
    import botocore.config
    import botocore.session

    from conftest import import_storetasks

    storetasks = import_storetasks()
    for name in [n for n in os.environ if CLEARED.match(n)]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    reference = botocore.session.Session().create_client(
        "ec2", region_name="eu-west-3", aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
        config=botocore.config.Config(use_fips_endpoint=fips, use_dualstack_endpoint=dualstack))
    expected = reference.meta.endpoint_url.removeprefix("https://") + ":443"
    proxy = ForwardProxy("--refuse-connect")
    try:
        with storetasks.Client(region="eu-west-3", aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                               use_fips_endpoint=fips, use_dualstack_endpoint=dualstack, proxy=proxy.url(),
                               max_attempts=1) as client:
            with pytest.raises(storetasks.exceptions.StoreTasksError) as refused:
                client.describe_store_image_tasks()
        assert "proxy" in str(refused.value), refused.value
        assert list(proxy.stats()["refused_connect"]) == [expected]
    finally:
        proxy.stop()


def test_app_name_and_profile_reach_the_wire(start_emulator, tmp_path, monkeypatch):
    """The application name is in the User-Agent the emulator received; a named profile's region
    and keys are the ones the requests were signed with."""
    from conftest import import_storetasks

    storetasks = import_storetasks()
    emu = start_emulator("--generate", 5, "--seed", 4, "--regions", "eu-west-3")
    for name in [n for n in os.environ if CLEARED.match(n)]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", profile_file(tmp_path, "[profile other]\nregion = eu-west-3\n"))
    credentials = tmp_path / "credentials"
    credentials.write_text(f"[other]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with storetasks.Client(profile="other", endpoint_url=emu.url, app_name="fleet-audit_7") as client:
        tasks = client.describe_store_image_tasks()["StoreImageTaskResults"]
    assert len(tasks) == 5
    stats = emu.stats()
    assert stats["by_pair"]["123456789012/eu-west-3"]["requests"] == 1, stats["by_pair"]
    assert stats["by_pair"]["123456789012/us-east-1"]["requests"] == 0, stats["by_pair"]
    agents = stats["user_agents"]
    assert len(agents) == 1 and "app/fleet-audit_7" in agents[0].split(), agents

"""The benchmark harness behind bench/run.sh: starts the emulator, runs every benchmark (warm-up,
then repetitions; the median counts), prints a markdown report and writes it to a file.

Environment: BENCH_SMALL=1 (tiny sizes, for CI: figures only, nothing asserted), BENCH_OUT (the
report's path), BENCH_PROFILE=0 (skip the callgrind profile), BENCH_COMMAND (the command shown
in the report), BENCH_ONLY=fleet or BENCH_ONLY=aio (only the fleet benchmark, or only the asyncio
one; the report goes to build/bench/ unless BENCH_OUT says otherwise), BENCH_AIO=0 (skip the
asyncio benchmark, which needs a venv of its own with aiobotocore: BENCH_AIO_VENV, by default
build/bench/aio-venv, made from bench/python/aio-requirements.txt when missing or out of date).
Paths: STORETASKS_EMULATOR, LIBDIR (where libstoretasks.so and the Rust benchmark programs are),
BENCH_C (the compiled bench/c/storetasks_bench.c).
"""

import datetime
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL = os.environ.get("BENCH_SMALL", "") not in ("", "0")
LIBDIR = os.environ.get("LIBDIR", os.path.join(ROOT, "target", "release"))
EMULATOR = os.environ.get("STORETASKS_EMULATOR", os.path.join(LIBDIR, "storetasks-emulator"))
BENCH_C = os.environ.get("BENCH_C", os.path.join(ROOT, "build", "bench", "storetasks_bench"))
BENCH_DESCRIBE = os.environ.get("BENCH_DESCRIBE", os.path.join(ROOT, "build", "bench", "describe_tasks"))
SDK_BIN = os.path.join(LIBDIR, "storetasks-bench-sdk")
FLOOR_BIN = os.path.join(LIBDIR, "storetasks-bench-floor")
READER_BIN = os.path.join(LIBDIR, "storetasks-bench-reader")
PYTHON = sys.executable
GO_BENCH = os.path.join(ROOT, "bindings", "go", "bench")
# A small run's figures are not worth committing: they go to build/ unless told otherwise.
OUT = os.environ.get("BENCH_OUT") or os.path.join(ROOT, *(("build", "bench") if SMALL else ("docs",)), "benchmarks.md")
COMMAND = os.environ.get("BENCH_COMMAND", "bench/run.sh")
PROFILE = os.environ.get("BENCH_PROFILE", "1") != "0" and not SMALL
ONLY = os.environ.get("BENCH_ONLY", "")
if ONLY not in ("", "fleet", "aio"):
    raise SystemExit(f"BENCH_ONLY={ONLY!r}: the parts that run alone are `fleet` and `aio`")
if ONLY and not os.environ.get("BENCH_OUT"):
    # A partial report never replaces the whole one.
    OUT = os.path.join(ROOT, "build", "bench", f"benchmarks-{ONLY}.md")

ACCESS_KEY = "AKIASTORETASKSLOCAL1"
SECRET_KEY = "storetasks-local-secret-key-0000000000000"
REGION = "us-east-1"
PAGE = 200

if SMALL:
    TASKS, IDS, MEM_SIZES = 1000, 100, (1000, 5000)
    WARMUP, REPS, ROUNDS, SLOW_REPS, GO_TIMES, CREATE_PROCS = 1, 3, 1, 1, (2, 2), 2
else:
    TASKS, IDS, MEM_SIZES = 10000, 1000, (10000, 100000)
    # Fast in-process listings: ROUNDS rounds of REPS repetitions, the clients taking turns so
    # that drift of the machine hits them alike.
    WARMUP, REPS, ROUNDS, SLOW_REPS, GO_TIMES, CREATE_PROCS = 2, 7, 3, 5, (5, 5), 5
DELAY_MS = 20
PAGES = -(-TASKS // PAGE)
# The fleet benchmark: every region served by one emulator, each with FLEET_TASKS tasks of its own.
FLEET_ALL_REGIONS = ("us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1", "eu-west-1",
                     "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1",
                     "ap-northeast-2", "ap-southeast-1", "ap-southeast-2")
if SMALL:
    FLEET_REGIONS, FLEET_TASKS, FLEET_DELAY_MS = FLEET_ALL_REGIONS[:4], 100, 5
else:
    FLEET_REGIONS, FLEET_TASKS, FLEET_DELAY_MS = FLEET_ALL_REGIONS, 1000, 30
FLEET_PAGES = -(-FLEET_TASKS // PAGE)
# The asyncio benchmark: AIO_LISTINGS different listings at once from one event loop, spread over
# the regions of one emulator (AIO_TASKS tasks each), every reply delayed by AIO_DELAY_MS; each
# client in a process of its own, 1 warm-up and AIO_REPS timed processes each, taking turns.
AIO = os.environ.get("BENCH_AIO", "1") != "0"
AIO_VENV = os.environ.get("BENCH_AIO_VENV") or os.path.join(ROOT, "build", "bench", "aio-venv")
AIO_REQUIREMENTS = os.path.join(ROOT, "bench", "python", "aio-requirements.txt")
AIO_SCRIPT = "bench/python/async_listings.py"
AIO_CLIENTS = ("storetasks", "aiobotocore")
if SMALL:
    AIO_LISTINGS, AIO_REGIONS, AIO_TASKS, AIO_PAGE, AIO_DELAY_MS, AIO_REPS = 8, FLEET_ALL_REGIONS[:2], 200, 20, 5, 1
else:
    AIO_LISTINGS, AIO_REGIONS, AIO_TASKS, AIO_PAGE, AIO_DELAY_MS, AIO_REPS = 200, FLEET_ALL_REGIONS[:10], 2000, 50, 30, 3
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Credentials for the child processes that take them from the environment; no profile file or
# instance metadata is read.
CHILD_ENV = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                 AWS_REGION=REGION, AWS_DEFAULT_REGION=REGION, AWS_EC2_METADATA_DISABLED="true",
                 AWS_CONFIG_FILE="/nonexistent/config", AWS_SHARED_CREDENTIALS_FILE="/nonexistent/credentials",
                 AWS_PAGER="", STORETASKS_LIBRARY=os.path.join(LIBDIR, "libstoretasks.so"))
for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2"):
    CHILD_ENV.pop(var, None)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Emulator:
    def __init__(self, tasks, *extra):
        self.proc = subprocess.Popen([EMULATOR, "--port", "0", "--generate", str(tasks), "--seed", "7", *extra],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening "):
            self.proc.kill()
            raise SystemExit(f"the emulator printed {line!r}")
        self.url = "http://" + line.split(" ", 1)[1]

    def cpu_seconds(self):
        """utime + stime of the emulator process, in seconds (all its threads)."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + "/_emulator/" + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read() or b"null")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def run_json(cmd, env=CHILD_ENV, cwd=ROOT):
    r = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({r.returncode}): {r.stderr.strip()[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


class Listing:
    """Median wall time of one way of listing, and the emulator's CPU time per page meanwhile."""

    def __init__(self, name):
        self.name = name
        self.times = []
        self.cpu = []  # whole-process CPU seconds (user + system), for listings run as a process
        self.emu_cpu = 0.0
        self.emu_pages = 0
        self.note = ""

    @property
    def median(self):
        return statistics.median(self.times) if self.times else None

    @property
    def cpu_per_page(self):
        return self.emu_cpu / self.emu_pages if self.emu_pages else None

    def run(self, emu, cmd, runs):
        before = emu.cpu_seconds()
        out = run_json(cmd)
        self.emu_cpu += emu.cpu_seconds() - before
        self.emu_pages += runs * PAGES
        self.times += out["times"]


def run_process(emu, listing, cmd):
    """Runs one listing as a whole process: its stdout, wall seconds and CPU seconds (user + system
    of the process and its children), counting the emulator's CPU and pages to `listing`."""
    before_cpu, start = emu.cpu_seconds(), time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run(cmd, env=CHILD_ENV, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({r.returncode}): {r.stderr.strip()[-2000:]}")
    listing.emu_cpu += emu.cpu_seconds() - before_cpu
    listing.emu_pages += PAGES
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return r.stdout, elapsed, cpu


# -- the benchmarks ------------------------------------------------------------------------------


def bench_listing(emu):
    url, n = emu.url, str(TASKS)
    w, r = str(WARMUP), str(REPS)
    fast = {
        "c": (Listing("C API, `describe_all`"), [BENCH_C, "list", url, n, w, r]),
        "c_pages": (Listing("C API, `describe_pages`"), [BENCH_C, "pages", url, n, w, r]),
        "sdk": (Listing("Rust aws-sdk-ec2 paginator (native)"),
                [SDK_BIN, "--endpoint", url, "--tasks", n, "--warmup", w, "--reps", r]),
        "floor": (Listing("Floor: signed requests, bodies unparsed (Rust)"),
                  [FLOOR_BIN, "--endpoint", url, "--tasks", n, "--warmup", w, "--reps", r]),
        "py": (Listing("Python package (`storetasks`)"),
               [PYTHON, "bench/python/bench_clients.py", "storetasks", url, n, w, r]),
    }
    for round_ in range(ROUNDS):
        for key, (listing, cmd) in fast.items():
            log(f"listing {TASKS} tasks: {key}, round {round_ + 1}/{ROUNDS}")
            listing.run(emu, cmd, WARMUP + REPS)
    boto = Listing("boto3 paginator")
    log(f"listing {TASKS} tasks: boto3")
    boto.run(emu, [PYTHON, "bench/python/bench_clients.py", "boto3", url, n, "1", str(SLOW_REPS)], 1 + SLOW_REPS)
    cli = Listing("AWS CLI, whole process")
    cmd = [PYTHON, "-m", "awscli", "ec2", "describe-store-image-tasks", "--page-size", str(PAGE),
           "--endpoint-url", url, "--region", REGION, "--output", "json"]
    cli_out = None
    for i in range(1 + SLOW_REPS):
        log(f"listing {TASKS} tasks: AWS CLI {i + 1}/{1 + SLOW_REPS}")
        out, elapsed, cpu = run_process(emu, cli, cmd)
        if i == 0:
            cli_out = out
            got = len(json.loads(out)["StoreImageTaskResults"])
            if got != TASKS:
                raise RuntimeError(f"the AWS CLI listed {got} tasks, expected {TASKS}")
        else:
            cli.times.append(elapsed)
            cli.cpu.append(cpu)
    example = Listing("C example `describe_tasks --all --json`, whole process")
    cmd = [BENCH_DESCRIBE, "--endpoint-url", url, "--region", REGION, "--all", "--json", "--max-results", str(PAGE)]
    for i in range(WARMUP + REPS):
        log(f"listing {TASKS} tasks: describe_tasks {i + 1}/{WARMUP + REPS}")
        out, elapsed, cpu = run_process(emu, example, cmd)
        if i == 0 and json.loads(out) != json.loads(cli_out):
            raise RuntimeError("describe_tasks --all --json printed other tasks than the AWS CLI")
        if i >= WARMUP:
            example.times.append(elapsed)
            example.cpu.append(cpu)
    rows = {k: v[0] for k, v in fast.items()}
    rows["boto3"] = boto
    rows["cli"] = cli
    rows["example"] = example
    return rows


def bench_go():
    """bindings/go/bench's `go test -bench`: ns/op of each benchmark, the median over -count runs."""
    go = shutil.which("go")
    rows = {"go_all": Listing("Go package, `Client.All` (streamed)"),
            "go_collect": Listing("Go package, `Client.Collect` (one list)"),
            "go_sdk": Listing("aws-sdk-go-v2 paginator")}
    names = {"StoretasksAll": "go_all", "StoretasksCollect": "go_collect", "SDKPaginator": "go_sdk"}
    if not os.path.exists(os.path.join(GO_BENCH, "go.mod")) or go is None:
        why = "no Go toolchain" if go is None else "bindings/go/bench is absent"
        for row in rows.values():
            row.note = f"skipped: {why}"
        return rows
    times, count = GO_TIMES
    # -tags storetasks_intree: the package links this checkout's build (by default it links an
    # installed copy through pkg-config).
    cmd = [go, "test", "-tags", "storetasks_intree", "-run", "^$", "-bench", ".", "-benchtime", f"{times}x",
           "-count", str(count), "."]
    env = dict(CHILD_ENV, STORETASKS_EMULATOR=EMULATOR, STORETASKS_BENCH_TASKS=str(TASKS))
    log("Go: " + " ".join(cmd[1:]))
    r = subprocess.run(cmd, cwd=GO_BENCH, env=env, capture_output=True, text=True, timeout=900)
    out = r.stdout + r.stderr
    for m in re.finditer(r"^Benchmark(\w+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op", out, re.M):
        key = names.get(m.group(1))
        if key:
            rows[key].times.append(float(m.group(2)) / 1e9)
    for m in re.finditer(r"^--- FAIL: Benchmark(\w+?)(?:-\d+)?\s*\n\s+(.*)", out, re.M):
        key = names.get(m.group(1))
        if key and not rows[key].times:
            rows[key].note = "failed: " + m.group(2).strip()[:300]
    for row in rows.values():
        if not row.times and not row.note:
            row.note = f"no result (`go test` exit {r.returncode}): " + out.strip()[-300:].replace("\n", " ")
    return rows


def bench_batching():
    emu = Emulator(IDS + IDS // 2)
    try:
        sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
        os.environ["STORETASKS_LIBRARY"] = CHILD_ENV["STORETASKS_LIBRARY"]
        import storetasks

        with storetasks.Client(region=REGION, endpoint_url=emu.url, aws_access_key_id=ACCESS_KEY,
                               aws_secret_access_key=SECRET_KEY) as c:
            pages = c.get_paginator("describe_store_image_tasks").paginate(PaginationConfig={"PageSize": PAGE})
            ids = []
            for task in pages.build_full_result()["StoreImageTaskResults"]:
                if task["AmiId"] not in ids:
                    ids.append(task["AmiId"])
        ids = ids[:IDS]
        if len(ids) < IDS:
            raise RuntimeError(f"the emulator has only {len(ids)} AMIs")
        fd, path = tempfile.mkstemp(prefix="storetasks-bench-ids-")
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(ids) + "\n")
        emu.control("POST", "faults", {"faults": [f"delay,ms={DELAY_MS},count=100000000"]})
        rows = {}
        for conc, label in ((1, "one after another (concurrency 1)"), (4, "concurrently, 4 at a time"),
                            (8, "concurrently, 8 at a time (default)")):
            log(f"{IDS} image ids, concurrency {conc}")
            row = Listing(label)
            row.times = run_json([BENCH_C, "batch", emu.url, path, str(conc), "1", str(SLOW_REPS + 2)])["times"]
            rows[conc] = row
        os.unlink(path)
        return rows
    finally:
        emu.stop()


def bench_fleet():
    """The same regions listed region by region and in one fleet call (C API, in one process,
    taking turns), and by the AWS CLI in a shell loop over the regions."""
    others = ",".join(r for r in FLEET_REGIONS if r != REGION)
    emu = Emulator(FLEET_TASKS, *(("--regions", others) if others else ()),
                   "--fault", f"delay,ms={FLEET_DELAY_MS},count=100000000")
    try:
        rows = {"by_region": Listing("C API, region by region: one client per region, `describe_all` in turn"),
                "fleet": Listing(f"C API, one `storetasks_client_describe_fleet` call, max concurrency "
                                 f"{len(FLEET_REGIONS)}"),
                "cli": Listing("AWS CLI, a shell loop over the regions (a process per region)")}
        runs = SLOW_REPS + 2
        log(f"fleet: {len(FLEET_REGIONS)} regions of {FLEET_TASKS} tasks, region by region and one fleet call")
        before = emu.control("GET", "stats")["describe"]
        out = run_json([BENCH_C, "fleet", emu.url, ",".join(FLEET_REGIONS), str(FLEET_TASKS), "1", str(runs)])
        listings = 2 * (1 + runs) * len(FLEET_REGIONS)
        rows["by_region"].times = out["region_by_region"]
        rows["fleet"].times = out["fleet"]
        c_requests = (emu.control("GET", "stats")["describe"] - before) / listings
        # The listing benchmark's AWS CLI command, once per region; `set -e` stops at a failure.
        loop = ('py=$1; url=$2; shift 2; set -e; for r in "$@"; do '
                f'"$py" -m awscli ec2 describe-store-image-tasks --page-size {PAGE} --endpoint-url "$url" '
                '--region "$r" --output json; done')
        cmd = ["sh", "-c", loop, "sh", PYTHON, emu.url, *FLEET_REGIONS]
        before = emu.control("GET", "stats")["describe"]
        for i in range(1 + SLOW_REPS):
            log(f"fleet: AWS CLI loop {i + 1}/{1 + SLOW_REPS}")
            start = time.perf_counter()
            r = subprocess.run(cmd, env=CHILD_ENV, capture_output=True, text=True)
            elapsed = time.perf_counter() - start
            if r.returncode != 0:
                raise RuntimeError(f"the AWS CLI loop failed ({r.returncode}): {r.stderr.strip()[-2000:]}")
            counts = _cli_counts(r.stdout)
            if counts != [FLEET_TASKS] * len(FLEET_REGIONS):
                raise RuntimeError(f"the AWS CLI loop listed {counts} tasks per region, "
                                   f"expected {FLEET_TASKS} in each of {len(FLEET_REGIONS)}")
            if i > 0:
                rows["cli"].times.append(elapsed)
        cli_requests = (emu.control("GET", "stats")["describe"] - before) / ((1 + SLOW_REPS) * len(FLEET_REGIONS))
        return {"rows": rows, "c_requests": c_requests, "cli_requests": cli_requests, "runs": runs}
    finally:
        emu.stop()


def _cli_counts(text):
    """The number of tasks in each JSON document of the AWS CLI's output (one per region)."""
    decoder, pos, counts = json.JSONDecoder(), 0, []
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos == len(text):
            return counts
        doc, pos = decoder.raw_decode(text, pos)
        counts.append(len(doc["StoreImageTaskResults"]))


def aio_python():
    """The Python of the asyncio benchmark's venv, made (or made again) when it is missing or was
    made from other requirements: (path, None), or (None, why) when it cannot be made."""
    python = os.path.join(AIO_VENV, "bin", "python")
    stamp = os.path.join(AIO_VENV, "requirements.txt")
    with open(AIO_REQUIREMENTS) as f:
        want = f.read()
    try:
        with open(stamp) as f:
            if f.read() == want and os.access(python, os.X_OK):
                return python, None
    except OSError:
        pass
    where = shown(AIO_VENV)
    log(f"making {where} from {shown(AIO_REQUIREMENTS)}")
    shutil.rmtree(AIO_VENV, ignore_errors=True)
    # From the interpreter under this one's venv, as `python3 -m venv` would be.
    base = getattr(sys, "_base_executable", None) or PYTHON
    for what, cmd in (("python -m venv", [base, "-m", "venv", AIO_VENV]),
                      ("pip install", [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                                       "--retries", "2", "--timeout", "30", "-r", AIO_REQUIREMENTS])):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
            why = None if r.returncode == 0 else (r.stderr.strip().splitlines() or [f"exit {r.returncode}"])[-1]
        except (OSError, subprocess.TimeoutExpired) as e:
            why = str(e)
        if why is not None:
            shutil.rmtree(AIO_VENV, ignore_errors=True)
            return None, f"{where} could not be made (`{what}`: {why[:200]})"
    with open(stamp, "w") as f:
        f.write(want)
    return python, None


def shown(path):
    """A path as the report shows it: from the checkout's root when it is inside."""
    rel = os.path.relpath(path, ROOT)
    return path if rel.startswith("..") else rel


def aio_command(python, client, url):
    return [python, AIO_SCRIPT, "--client", client, "--endpoint", url, "--listings", str(AIO_LISTINGS),
            "--regions", ",".join(AIO_REGIONS), "--page-size", str(AIO_PAGE)]


def bench_aio():
    """AIO_LISTINGS listings at once on one event loop: storetasks.aio and aiobotocore, each in
    fresh processes of bench/python/async_listings.py, taking turns; every run's listings are
    checked against the first's (pages, tasks and a CRC-32 of the AmiIds of each listing) and
    against the emulator's count of requests. {"skipped": why} when the venv cannot be made."""
    if not AIO:
        return {"skipped": "BENCH_AIO=0"}
    python, why = aio_python()
    if python is None:
        log(f"asyncio benchmark skipped: {why}")
        return {"skipped": why}
    others = ",".join(r for r in AIO_REGIONS if r != REGION)
    extra = [*(("--regions", others) if others else ()), "--fault", f"delay,ms={AIO_DELAY_MS},count=100000000"]
    emu = Emulator(AIO_TASKS, *extra)
    try:
        runs = {client: [] for client in AIO_CLIENTS}
        reference = None
        for i in range(1 + AIO_REPS):
            for client in AIO_CLIENTS:
                what = "warm-up" if i == 0 else f"{i}/{AIO_REPS}"
                log(f"asyncio: {AIO_LISTINGS} listings at once, {client}, {what}")
                before = emu.control("GET", "stats")["describe"]
                emu.control("DELETE", "max-in-flight")
                start = time.perf_counter()
                out = run_json(aio_command(python, client, emu.url))
                out["process_wall"] = time.perf_counter() - start
                stats = emu.control("GET", "stats")
                out["requests"] = stats["describe"] - before
                out["max_in_flight"] = stats["max_in_flight"]
                if reference is None:
                    reference = out
                    if any(pages < 2 for pages, _, _ in out["per_listing"]) and not SMALL:
                        raise RuntimeError("an asyncio listing has fewer than 2 pages: " + str(out["per_listing"]))
                elif out["per_listing"] != reference["per_listing"]:
                    diff = [(n, a, b) for n, (a, b) in enumerate(zip(out["per_listing"], reference["per_listing"]))
                            if a != b]
                    raise RuntimeError(f"{client} listed other pages or tasks than {reference['client']}: "
                                       f"(listing, [pages, tasks, crc], first run's) {diff[:5]}")
                # Each client makes one call of one task before the listings, then one request a page.
                if out["requests"] != out["pages"] + len(AIO_REGIONS):
                    raise RuntimeError(f"{client}: the emulator answered {out['requests']} requests for "
                                       f"{out['pages']} pages and {len(AIO_REGIONS)} first calls")
                if i > 0:
                    runs[client].append(out)
        return {"runs": runs, "pages": reference["pages"], "tasks": reference["tasks"],
                "min_pages": min(p for p, _, _ in reference["per_listing"]),
                "max_pages": max(p for p, _, _ in reference["per_listing"]),
                "versions": dict(runs["storetasks"][0]["versions"], **runs["aiobotocore"][0]["versions"]),
                "python": subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                                         capture_output=True, text=True).stdout.strip(),
                "emulator": ["--generate", str(AIO_TASKS), "--seed", "7", *extra], "python_path": python}
    finally:
        emu.stop()


def bench_create(url):
    rows = {}
    for how in ("explicit", "default"):
        cold, warm, first, second = [], [], [], []
        for _ in range(CREATE_PROCS):
            out = run_json([BENCH_C, "create", url, "10", how])
            cold.append(out["create"][0])
            warm += out["create"][1:]
            first.append(out["first_call"][0])
            second += out["second_call"]
        rows[how] = {"cold": statistics.median(cold), "warm": statistics.median(warm),
                     "first": statistics.median(first), "second": statistics.median(second)}
    return rows


def bench_memory():
    rows = {}
    for n in MEM_SIZES:
        emu = Emulator(n)
        try:
            for how in ("baseline", "all", "pages"):
                log(f"memory: {how}, {n} tasks")
                # Three processes; the smallest peak (the least disturbed) counts.
                rows[(how, n)] = min(run_json([BENCH_C, "memory", emu.url, str(n), how])["vm_hwm_kb"]
                                     for _ in range(3))
        finally:
            emu.stop()
    return rows


# Pieces of a listing worth naming in the profile: (label, a substring of the function's name).
PROFILE_PIECES = (
    ("Reading the replies (the library's reader)", "storetasks::describe_store_image_tasks::reader::read_reply"),
    ("The SDK's deserialization of replies (error replies only)", "DescribeStoreImageTasksResponseDeserializer as aws_smithy_runtime_api"),
    ("Conversion of each page to C tasks", "storetasks_task_list::from_page"),
    ("Signing the requests (SigV4)", "SigV4Signer as aws_smithy_runtime_api"),
    ("Client creation (`storetasks_client_new`)", "storetasks_client_new"),
    ("  of which loading the system's root certificates", "rustls_native_certs::load_native_certs"),
)


def _annotate(out, *flags):
    r = subprocess.run(["callgrind_annotate", "--threshold=100", *flags, out], capture_output=True, text=True,
                       check=True)
    total, rows = None, []
    for line in r.stdout.splitlines():
        m = re.match(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(PROGRAM TOTALS|\S.*)$", line)
        if not m:
            continue
        ir = int(m.group(1).replace(",", ""))
        if m.group(2) == "PROGRAM TOTALS":
            total = ir
            continue
        fn = re.sub(r"^[^:]*:", "", m.group(2).split(" [")[0], count=1)
        obj = os.path.basename(m.group(2).rsplit(" [", 1)[1].rstrip("]")) if " [" in m.group(2) else ""
        rows.append((ir, fn, obj))
    return total, rows


def bench_reader(url):
    """The reader alone over one listing's reply bytes, beside a bare memchr scan and quick-xml:
    the median seconds of each, the bytes, and the reader's instructions under callgrind (None
    without valgrind)."""
    log("the reader alone, beside a memchr scan and quick-xml")
    out = run_json([READER_BIN, "--endpoint", url, "--tasks", str(TASKS), "--warmup", str(WARMUP),
                    "--reps", str(REPS * ROUNDS)])
    result = {k: statistics.median(out[k]) for k in ("memchr", "quick_xml", "reader")}
    result["bytes"], result["pages"], result["instructions"] = out["bytes"], out["pages"], None
    if PROFILE and shutil.which("valgrind"):
        log("counting the reader's instructions under callgrind")
        tmp = tempfile.mkdtemp(prefix="storetasks-callgrind-")
        try:
            r = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out",
                                "--toggle-collect=storetasks::describe_store_image_tasks::reader::read_reply*", READER_BIN, "--endpoint", url,
                                "--tasks", str(TASKS), "--once"], env=CHILD_ENV, capture_output=True, text=True,
                               check=True)
            found = re.search(r"Collected : (\d+)", r.stderr)
            result["instructions"] = int(found.group(1)) if found else None
        finally:
            shutil.rmtree(tmp)
    return result


def reader_section(reader):
    """The report's section on the reader alone."""
    mb = reader["bytes"] / 1e6
    lines = ["## The reader alone", "",
             f"The {reader['pages']} replies of one listing of {TASKS:,} tasks ({reader['bytes']:,} bytes), fetched once "
             "and then read in memory by `storetasks-bench-reader` (`bench/rust/src/reader.rs`), the three "
             f"taking turns; median of {REPS * ROUNDS} passes each.", "",
             "| Reading | Median | Speed | Ratio to the reader |", "|---|---:|---:|---:|"]
    names = {"memchr": "A bare `memchr` scan for `<` (one pass over the bytes)",
             "quick_xml": "quick-xml's `Reader`, every event pulled (checks less)",
             "reader": "The library's reader (`storetasks::describe_store_image_tasks::reader::read_reply`)"}
    for key in ("memchr", "quick_xml", "reader"):
        t = reader[key]
        lines.append(f"| {names[key]} | {ms(t)} | {mb / t:,.0f} MB/s | {t / reader['reader']:.2f}× |")
    lines.append("")
    if reader["instructions"] is not None:
        lines += [f"Under callgrind, `read_reply` and everything it calls executed {reader['instructions']:,} "
                  f"instructions for these bytes: {reader['instructions'] / reader['bytes']:.1f} per byte.", ""]
    return lines


def reader_targets(reader):
    """The reader's rows of the targets table."""
    rows = []
    if reader["instructions"] is not None:
        per = reader["instructions"] / reader["bytes"]
        rows.append(f"| The reader at ≤ 8 instructions per reply byte | {per:.1f} | {verdict(per <= 8)} |")
    q, r, m = reader["quick_xml"], reader["reader"], reader["memchr"]
    rows.append(f"| The reader at least as fast as quick-xml | reader / quick-xml = {r / q:.2f} | {verdict(r <= q)} |")
    rows.append(f"| The reader within 4× of a bare scan | reader / scan = {r / m:.1f} | {verdict(r <= 4 * m)} |")
    return rows


def profile_callgrind(url):
    """Callgrind on one C API listing: (total instructions, top functions by self cost, named pieces
    by inclusive cost), or None without valgrind."""
    if not shutil.which("valgrind") or not shutil.which("callgrind_annotate"):
        return None
    tmp = tempfile.mkdtemp(prefix="storetasks-callgrind-")
    out = os.path.join(tmp, "callgrind.out")
    log("profiling one C API listing under callgrind")
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", BENCH_C, "list", url,
                    str(TASKS), "0", "1"], env=CHILD_ENV, capture_output=True, check=True)
    total, self_rows = _annotate(out)
    _, incl_rows = _annotate(out, "--inclusive=yes")
    shutil.rmtree(tmp)
    pieces = []
    for label, needle in PROFILE_PIECES:
        found = [ir for ir, fn, _ in incl_rows if needle in fn]
        pieces.append((label, max(found) if found else None))
    return total, self_rows[:10], pieces


# -- the report --------------------------------------------------------------------------------


def ms(s):
    return "—" if s is None else (f"{s * 1000:.1f} ms" if s >= 0.01 else f"{s * 1000:.2f} ms")


def verdict(ok):
    return "**met**" if ok else "**missed**"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def versions():
    parts = []
    for cmd, label in (([PYTHON, "-c", "import boto3, botocore; print(boto3.__version__, botocore.__version__)"],
                        "boto3 {0}, botocore {1}"),
                       ([PYTHON, "-m", "awscli", "--version"], "{0}"),
                       (["go", "version"], "{2}"),
                       (["rustc", "--version"], "rustc {1}")):
        try:
            words = subprocess.run(cmd, capture_output=True, text=True, env=CHILD_ENV, timeout=60).stdout.split()
            parts.append(label.format(*words))
        except (OSError, IndexError, subprocess.TimeoutExpired):
            pass
    return "; ".join(parts)


def report_header(duration):
    lines = []
    add = lines.append
    add("# Benchmarks")
    add("")
    add("Measured by `bench/run.sh` (`make bench`) against the bundled emulator on this machine; "
        "see [How it is measured](#how-it-is-measured). The emulator runs on the same cores as the "
        "clients, so every figure includes its share of the CPU.")
    add("")
    add(f"- Command: `{COMMAND}`{' (small sizes: figures only, for CI)' if SMALL else ''}")
    add(f"- Date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; "
        f"the whole run took {duration:.0f} s")
    add(f"- Machine: {os.cpu_count()} cores ({cpu_model()}), Linux {platform.release()}")
    add(f"- Versions: libstoretasks {lib_version()}; {versions()}")
    add("")
    return lines


def fleet_section(fleet):
    rows, n = fleet["rows"], len(FLEET_REGIONS)
    one = rows["fleet"].median
    lines = []
    add = lines.append
    requests = f"{FLEET_PAGES} request{'s' if FLEET_PAGES != 1 else ''} of {PAGE}"
    add(f"## {n} regions of {FLEET_TASKS:,} tasks ({requests} each), {FLEET_DELAY_MS} ms added to each reply")
    add("")
    add(f"One emulator serves {n} regions ({', '.join(FLEET_REGIONS)}), each with {FLEET_TASKS:,} tasks of its "
        f"own, and delays every reply by {FLEET_DELAY_MS} ms (`--fault delay`) to stand for network latency. "
        "Every way lists every task of every region and checks the total (and each region's count for the "
        "AWS CLI); the C program stops if a region failed. Median wall time of one listing of all regions; "
        "the ratio is to the fleet call (above 1: slower).")
    add("")
    add("| Way | Median | Ratio to the fleet call |")
    add("|---|---:|---:|")
    for key in ("by_region", "fleet", "cli"):
        row = rows[key]
        add(f"| {row.name} | {ms(row.median)} | {row.median / one:.2f}× |")
    add("")
    add(f"Requests per region and listing, counted by the emulator: {fleet['c_requests']:.2f} for the C API "
        f"(both ways), {fleet['cli_requests']:.2f} for the AWS CLI.")
    add("")
    return lines


def fleet_target(fleet):
    rows = fleet["rows"]
    up = rows["by_region"].median / rows["fleet"].median
    return (f"| Fleet call ≥ 8× faster than region by region ({len(FLEET_REGIONS)} regions) | {up:.2f}× | "
            f"{verdict(up >= 8)} |")


def fleet_measured(fleet):
    n = len(FLEET_REGIONS)
    return (f"- Fleet: the emulator runs with `--generate {FLEET_TASKS} --seed 7 --regions ... --fault "
            f"delay,ms={FLEET_DELAY_MS},count=100000000`. `storetasks_bench fleet` creates its {n} + 1 "
            f"clients outside the timing (region by region: one per region; the fleet call: one in {REGION} "
            f"with `storetasks_config_set_max_concurrency({n})`), then runs 1 warm-up and "
            f"{fleet['runs']} timed listings of each way, taking turns; `MaxResults` is {PAGE}. The AWS CLI loop "
            f"is `for r in REGIONS; do python -m awscli ec2 describe-store-image-tasks --page-size {PAGE} "
            f"--endpoint-url URL --region $r --output json; done` under `sh`, timed whole, {SLOW_REPS} timed "
            "run(s) after one warm-up.")


def report(listing, go, batch, create, memory, profile, fleet, aio, reader, duration):
    c = listing["c"].median
    lines = report_header(duration)
    add = lines.append

    add(f"## Listing {TASKS:,} tasks ({PAGES} requests of {PAGE})")
    add("")
    add("Median wall time of one whole listing; the ratio is to the C API's `describe_all` (above 1: "
        "slower). The last column is the emulator's CPU time per page while that client ran.")
    add("")
    add("| Client | Median | Ratio to C API | Emulator CPU / page |")
    add("|---|---:|---:|---:|")
    order = ["c", "c_pages", "sdk", "floor", "go_all", "go_collect", "go_sdk", "py", "boto3", "cli"]
    allrows = dict(listing, **go)
    for key in order:
        row = allrows[key]
        m = row.median
        if m is None:
            add(f"| {row.name} | — ({row.note}) | — | — |")
            continue
        ratio = f"{m / c:.2f}×"
        cpu = row.cpu_per_page
        add(f"| {row.name} | {ms(m)} | {ratio} | {ms(cpu) if cpu is not None else '— (own emulator)'} |")
    add("")
    add("Whole processes, from start to exit, each printing every task as JSON (the C example's "
        "output is checked to equal the AWS CLI's): median wall time and median CPU time (user + system "
        "of the process and its children).")
    add("")
    add("| Process | Wall | CPU | CLI / this, wall | CLI / this, CPU |")
    add("|---|---:|---:|---:|---:|")
    cli_row, ex_row = listing["cli"], listing["example"]
    cli_cpu, ex_cpu = statistics.median(cli_row.cpu), statistics.median(ex_row.cpu)
    for row, cpu in ((ex_row, ex_cpu), (cli_row, cli_cpu)):
        add(f"| {row.name} | {ms(row.median)} | {ms(cpu)} | {cli_row.median / row.median:.1f}× | "
            f"{cli_cpu / cpu:.1f}× |" if cpu > 0 else f"| {row.name} | {ms(row.median)} | {ms(cpu)} | — | — |")
    add("")
    add(f"Per page, the C API takes {ms(c / PAGES)} of wall time, and the emulator "
        f"{ms(listing['c'].cpu_per_page)} of CPU time to answer it "
        f"(CPU ticks are {1000 / CLK_TCK:.0f} ms, summed over {listing['c'].emu_pages} pages).")
    add("")

    add(f"## {IDS:,} image ids ({-(-IDS // 20)} requests of 20), {DELAY_MS} ms added to each reply")
    add("")
    add("The emulator delays every reply (`--fault delay`, installed through its control endpoint) to "
        "stand for network latency.")
    add("")
    add("| Requests made | Median | Speed-up over one after another |")
    add("|---|---:|---:|")
    seq = batch[1].median
    for conc, row in batch.items():
        add(f"| {row.name} | {ms(row.median)} | {seq / row.median:.2f}× |")
    add("")
    lines += fleet_section(fleet)
    lines += aio_section(aio)

    add("## Client creation and the first call")
    add("")
    add("`storetasks_client_new` with an endpoint URL, timed in a fresh process (the first client of the "
        "process, which starts the library's one-off state) and again for nine more clients in the same "
        "process; then a one-page call (200 tasks) on a fresh client and a second one on the same client. "
        f"Medians over {CREATE_PROCS} processes.")
    add("")
    add("| Configuration | First client in a process | Later clients | First call | Second call |")
    add("|---|---:|---:|---:|---:|")
    for how, label in (("explicit", "Explicit region and credentials"),
                       ("default", "Default chain (environment credentials, `AWS_EC2_METADATA_DISABLED=true`)")):
        r = create[how]
        add(f"| {label} | {ms(r['cold'])} | {ms(r['warm'])} | {ms(r['first'])} | {ms(r['second'])} |")
    add("")

    add("## Memory")
    add("")
    add("Peak resident set (VmHWM) of a process that lists every task, the smallest of three processes. "
        "The baseline process creates the client and makes one call for one task. Per task: (peak − "
        "baseline) / tasks.")
    add("")
    add("| Tasks | Baseline | `describe_all` (one list) | per task | `describe_pages` | per task |")
    add("|---:|---:|---:|---:|---:|---:|")
    for n in MEM_SIZES:
        base, al, pg = memory[("baseline", n)], memory[("all", n)], memory[("pages", n)]
        add(f"| {n:,} | {base / 1024:.1f} MiB | {al / 1024:.1f} MiB | {(al - base) * 1024 / n:.0f} B | "
            f"{pg / 1024:.1f} MiB | {(pg - base) * 1024 / n:.0f} B |")
    add("")

    add("## Targets")
    add("")
    add("Reported, not asserted.")
    add("")
    add("| Target | Measured | |")
    add("|---|---|---|")
    sdk = listing["sdk"].median
    add(f"| C API within 3% of the Rust SDK paginator | C API / SDK = {c / sdk:.3f} | {verdict(c <= sdk * 1.03)} |")
    add(f"| C API ≤ 0.75× the Rust SDK paginator's time | C API / SDK = {c / sdk:.3f} | {verdict(c <= sdk * 0.75)} |")
    floor = listing["floor"].median
    add(f"| C API ≤ 1.15× the floor | C API / floor = {c / floor:.3f} | {verdict(c <= floor * 1.15)} |")
    if ex_cpu > 0:
        add(f"| `describe_tasks --all --json` ≥ 30× less CPU than the AWS CLI | {cli_cpu / ex_cpu:.1f}× | "
            f"{verdict(cli_cpu / ex_cpu >= 30)} |")
    add(f"| `describe_tasks --all --json` ≥ 18× less wall time than the AWS CLI | "
        f"{cli_row.median / ex_row.median:.1f}× | {verdict(cli_row.median / ex_row.median >= 18)} |")
    for row in reader_targets(reader):
        add(row)
    cli = listing["cli"].median
    add(f"| C API ≥ 20× faster than the AWS CLI | {cli / c:.1f}× | {verdict(cli / c >= 20)} |")
    boto = listing["boto3"].median
    add(f"| C API ≥ 3× faster than boto3 | {boto / c:.1f}× | {verdict(boto / c >= 3)} |")
    py = listing["py"].median
    add(f"| Python package ≥ 3× faster than boto3 | {boto / py:.1f}× | {verdict(boto / py >= 3)} |")
    gosdk = go["go_sdk"].median
    for key in ("go_all", "go_collect"):
        ours = go[key].median
        if ours is None or gosdk is None:
            why = go[key].note if ours is None else go["go_sdk"].note
            add(f"| {go[key].name} no slower than aws-sdk-go-v2 | not measured: {why[:120]} | — |")
        else:
            add(f"| {go[key].name} no slower than aws-sdk-go-v2 | Go package / SDK = {ours / gosdk:.2f} | "
                f"{verdict(ours <= gosdk)} |")
    up = seq / batch[8].median
    add(f"| ≥ 5× faster than one after another for {IDS:,} ids (default concurrency 8) | {up:.2f}× "
        f"(4 at a time give {seq / batch[4].median:.2f}×) | {verdict(up >= 5)} |")
    add(fleet_target(fleet))
    for row in aio_targets(aio):
        add(row)
    for how in ("explicit", "default"):
        r = create[how]
        add(f"| Client creation < 5 ms ({how}, first in a process) | {ms(r['cold'])} | {verdict(r['cold'] < 0.005)} |")
    small_n, big_n = MEM_SIZES
    p_small, p_big = memory[("pages", small_n)], memory[("pages", big_n)]
    per_task = max((memory[("all", n)] - memory[("baseline", n)]) * 1024 / n for n in MEM_SIZES)
    add(f"| Memory per task in one list ≤ 250 B | {per_task:.0f} B | {verdict(per_task <= 250)} |")
    add(f"| Flat page-by-page memory (peak at {big_n:,} within 10% of the peak at {small_n:,}) | "
        f"{p_small / 1024:.1f} → {p_big / 1024:.1f} MiB | {verdict(p_big <= p_small * 1.10)} |")
    add("")

    lines.extend(reader_section(reader))
    if profile:
        total, top, pieces = profile
        add("## Where the C API's time goes")
        add("")
        add(f"Instructions executed by `storetasks_bench list` (one listing of {TASKS:,} tasks, client creation and "
            "process start included) under `valgrind --tool=callgrind`; `perf` has no hardware counters on "
            "this machine. First the named pieces, each with everything it calls:")
        add("")
        add("| Piece | Instructions | Share |")
        add("|---|---:|---:|")
        for label, ir in pieces:
            if ir is None:
                add(f"| {label.strip()} | not found | — |")
            else:
                add(f"| {label.replace('  ', '&nbsp;&nbsp;')} | {ir:,} | {100 * ir / total:.1f}% |")
        add(f"| Whole process | {total:,} | 100% |")
        add("")
        add("Then the functions that execute the most instructions themselves:")
        add("")
        add("| Instructions | Share | Function | In |")
        add("|---:|---:|---|---|")
        for ir, fn, obj in top:
            add(f"| {ir:,} | {100 * ir / total:.1f}% | `{fn[:110]}` | {obj} |")
        add("")

    add("## How it is measured")
    add("")
    add(f"- One emulator (`--generate {TASKS} --seed 7`) serves every listing but Go's: "
        "`bindings/go/bench` starts its own with the same number of tasks.")
    add(f"- In-process clients (C, Rust, Python, boto3) create their client once, outside the timing, "
        f"then run {WARMUP} warm-up and {REPS} timed listings; the C API, the Rust programs and "
        f"the Python package take turns over {ROUNDS} round(s); the median of all timed listings counts. "
        f"boto3: 1 warm-up, {SLOW_REPS} timed. The AWS CLI is timed as a whole process "
        f"(`python -m awscli ec2 describe-store-image-tasks --page-size {PAGE} --output json`), "
        f"{SLOW_REPS} timed run(s) after one warm-up. Go: `go test -tags storetasks_intree -bench . -benchtime {GO_TIMES[0]}x -count "
        f"{GO_TIMES[1]}` in `bindings/go/bench`, the median of the per-run means.")
    add("- The C program is `bench/c/storetasks_bench.c` (wall time from `clock_gettime(CLOCK_MONOTONIC)`); "
        "the Rust SDK baseline and the floor are `bench/rust/src/sdk.rs` and `bench/rust/src/floor.rs`; "
        "the Python and boto3 loop is `bench/python/bench_clients.py`. Each checks that it listed every task.")
    add("- The Rust SDK baseline configures its client as the library does (static credentials, endpoint "
        "URL, region, the SDK's default HTTP client, a two-thread runtime) and collects the paginator's "
        "items into one `Vec`. The floor signs each request with aws-sigv4, sends it over one kept-alive "
        "blocking socket and reads each reply whole, looking only for `<nextToken>`.")
    add("- Emulator CPU: utime + stime from `/proc/PID/stat` before and after each client's listings, "
        "divided by the pages served.")
    add(fleet_measured(fleet))
    add(aio_measured(aio))
    add("")
    return "\n".join(lines) + "\n"


def mib(kb):
    return f"{kb / 1024:.1f} MiB"


def aio_medians(aio):
    """Each client's median of each figure over its timed runs; memory in KiB."""
    med = {}
    for client, runs in aio["runs"].items():
        m = {k: statistics.median(r[k] for r in runs)
             for k in ("wall", "cpu", "cpu_process", "process_wall", "vm_hwm_kb_start", "vm_hwm_kb_imports",
                       "vm_hwm_kb_ready",
                       "vm_hwm_kb_peak", "threads_imports", "threads_ready", "threads_min", "threads_max",
                       "threads_after", "max_in_flight")}
        m["above_imports"] = statistics.median(r["vm_hwm_kb_peak"] - r["vm_hwm_kb_imports"] for r in runs)
        m["above_ready"] = statistics.median(r["vm_hwm_kb_peak"] - r["vm_hwm_kb_ready"] for r in runs)
        # Constant: the same count from the clients being ready to the end of the listings, in every run.
        m["constant"] = all(r["threads_min"] == r["threads_max"] == r["threads_ready"] == r["threads_after"]
                            for r in runs)
        med[client] = m
    return med


def aio_title():
    return (f"{AIO_LISTINGS} listings at once from one asyncio event loop: `storetasks.aio` and aiobotocore, "
            f"{AIO_DELAY_MS} ms added to each reply")


def aio_section(aio):
    lines = [f"## {aio_title()}", ""]
    add = lines.append
    if "skipped" in aio:
        return lines + [f"Not measured: {aio['skipped']}.", ""]
    med = aio_medians(aio)
    st, ab = med["storetasks"], med["aiobotocore"]
    n_regions = len(AIO_REGIONS)
    per_region = -(-AIO_LISTINGS // n_regions)
    v = aio["versions"]
    spread = (f"{aio['min_pages']} to {aio['max_pages']}" if aio["min_pages"] != aio["max_pages"]
              else str(aio["min_pages"]))
    add(f"One emulator serves {n_regions} regions ({', '.join(AIO_REGIONS)}), {AIO_TASKS:,} tasks each, and "
        f"delays every reply by {AIO_DELAY_MS} ms. A process with one asyncio event loop opens a client per "
        f"region, makes one call of one task on each, then starts all {AIO_LISTINGS} listings at once "
        "(`asyncio.gather`) and runs each to its last page with the same code for both clients: `async for "
        "page in client.get_paginator(\"describe_store_image_tasks\").paginate(Filters=..., "
        f"PaginationConfig={{\"PageSize\": {AIO_PAGE}}})`, reading every task's `AmiId`. The listings all "
        "differ: each has one of the emulator's four buckets, alone or with a `task-state` filter "
        "(InProgress, Completed, Failed, or InProgress and Failed), in one of the regions. Together they "
        f"read {aio['pages']:,} pages ({spread} per listing) and "
        f"{aio['tasks']:,} tasks. Every run of both clients saw the same pages, tasks and AmiIds (a CRC-32 "
        "of them in order) in each listing, and the emulator answered one request per page besides the "
        "first calls.")
    add("")
    add(f"Each client runs in processes of its own: 1 warm-up, then {AIO_REPS} timed, taking turns; the "
        "medians. `storetasks.aio` is this checkout's package (`bindings/python`) over "
        f"libstoretasks {v.get('libstoretasks', '?')}; aiobotocore {v.get('aiobotocore', '?')} with botocore "
        f"{v.get('botocore', '?')} and aiohttp {v.get('aiohttp', '?')}; both on Python {aio['python']}. The "
        "ratio is aiobotocore's figure over `storetasks.aio`'s (above 1: `storetasks.aio` spends less).")
    add("")
    add("| | `storetasks.aio` | aiobotocore | aiobotocore / `storetasks.aio` |")
    add("|---|---:|---:|---:|")

    def row(label, a, b, fmt, ratio=True):
        add(f"| {label} | {fmt(a)} | {fmt(b)} | {f'{b / a:.2f}×' if ratio and a > 0 else '—'} |")

    row(f"Wall time of the {AIO_LISTINGS} listings", st["wall"], ab["wall"], ms)
    row("CPU time of the listings (user + system, every thread)", st["cpu"], ab["cpu"], ms)
    row("CPU time of the whole process (imports and clients included)", st["cpu_process"], ab["cpu_process"], ms)
    row("Wall time of the whole process", st["process_wall"], ab["process_wall"], ms)
    row("Peak memory of the process (VmHWM)", st["vm_hwm_kb_peak"], ab["vm_hwm_kb_peak"], mib)
    row("VmHWM before the client's import (the interpreter with asyncio)", st["vm_hwm_kb_start"],
        ab["vm_hwm_kb_start"], mib)
    row("VmHWM right after the client's import", st["vm_hwm_kb_imports"], ab["vm_hwm_kb_imports"], mib)
    row("VmHWM with the clients ready", st["vm_hwm_kb_ready"], ab["vm_hwm_kb_ready"], mib)
    row("Peak above the imports (clients and listings)", st["above_imports"], ab["above_imports"], mib)
    row("Peak above the ready clients (the listings)", st["above_ready"], ab["above_ready"], mib)
    count = lambda n: f"{n:.0f}"  # noqa: E731
    row("OS threads right after the imports", st["threads_imports"], ab["threads_imports"], count, False)
    row("OS threads with the clients ready", st["threads_ready"], ab["threads_ready"], count, False)
    add(f"| OS threads while the listings ran (fewest–most sampled) | {st['threads_min']:.0f}–{st['threads_max']:.0f} "
        f"| {ab['threads_min']:.0f}–{ab['threads_max']:.0f} | — |")
    row("OS threads after the listings", st["threads_after"], ab["threads_after"], count, False)
    row("Most requests in flight at the emulator at once", st["max_in_flight"], ab["max_in_flight"], count, False)
    add("")
    add(f"Each `storetasks.aio.AsyncClient` holds a `storetasks.Client`, whose libstoretasks client sends "
        f"its requests from a runtime of two threads of its own: {n_regions} clients, "
        f"{2 * n_regions} threads besides the loop's, however many listings run. A listing waits on the "
        "loop for its call's descriptor. aiobotocore runs on the loop's thread, plus the thread of "
        "asyncio's default executor that its first call starts. Both clients have a connection for each "
        f"listing in flight (aiobotocore's clients get `AioConfig(max_pool_connections={per_region})`; its "
        "default pool holds 10).")
    add("")
    rel = shown
    py = rel(aio["python_path"])
    add("The commands (URL is the address the emulator prints):")
    add("")
    add("```sh")
    add(f"python3 -m venv {rel(AIO_VENV)}")
    add(f"{rel(AIO_VENV)}/bin/pip install -r {rel(AIO_REQUIREMENTS)}")
    add(f"{rel(EMULATOR)} --port 0 {' '.join(aio['emulator'])}")
    add(f"export STORETASKS_LIBRARY={rel(CHILD_ENV['STORETASKS_LIBRARY'])} AWS_CONFIG_FILE=/nonexistent/config "
        "AWS_SHARED_CREDENTIALS_FILE=/nonexistent/credentials AWS_EC2_METADATA_DISABLED=true")
    for client in AIO_CLIENTS:
        add(" ".join([py, *aio_command(py, client, "URL")[1:]]))
    add("```")
    add("")
    return lines


def aio_targets(aio):
    """The asyncio benchmark's rows of the targets table."""
    cpu = f"`storetasks.aio` ≥ 5× less CPU than aiobotocore ({AIO_LISTINGS} listings at once)"
    mem = f"`storetasks.aio` at ≤ 1/3 of aiobotocore's memory (peak VmHWM, {AIO_LISTINGS} listings at once)"
    thr = f"`storetasks.aio` at a constant thread count ({AIO_LISTINGS} listings at once)"
    if "skipped" in aio:
        why = aio["skipped"] if len(aio["skipped"]) <= 60 else "the asyncio section says why"
        return [f"| {label} | not measured ({why}) | — |" for label in (cpu, mem, thr)]
    med = aio_medians(aio)
    st, ab = med["storetasks"], med["aiobotocore"]
    less = ab["cpu"] / st["cpu"] if st["cpu"] > 0 else float("inf")
    share = st["vm_hwm_kb_peak"] / ab["vm_hwm_kb_peak"]
    rows = [f"| {cpu} | {less:.1f}× (whole process: {ab['cpu_process'] / st['cpu_process']:.1f}×) | "
            f"{verdict(less >= 5)} |",
            f"| {mem} | {mib(st['vm_hwm_kb_peak'])} / {mib(ab['vm_hwm_kb_peak'])} = {share:.2f} (above the "
            f"imports: {st['above_imports'] / ab['above_imports']:.2f}) | {verdict(share <= 1 / 3)} |"]
    runs = aio["runs"]["storetasks"]
    lo = min(r["threads_min"] for r in runs)
    hi = max(r["threads_max"] for r in runs)
    rows.append(f"| {thr} | {st['threads_ready']:.0f} with the clients ready, {lo}–{hi} while the listings ran, "
                f"{st['threads_after']:.0f} after ({'in every run' if st['constant'] else 'not in every run'}) | "
                f"{verdict(st['constant'])} |")
    return rows


def aio_measured(aio):
    if "skipped" in aio:
        return f"- asyncio: not measured ({aio['skipped']})."
    return ("- asyncio: `bench/python/async_listings.py` times the listings with `time.perf_counter()` and "
            "takes CPU time from `resource.getrusage(RUSAGE_SELF)` (the whole process, every thread) around "
            "them and at exit, VmHWM from `/proc/self/status` before and after the client's import, with the "
            "clients ready and at exit, and the threads from `/proc/self/task`: at those points and every 5 ms on the loop "
            "while the listings run. The harness times the whole process and reads the emulator's "
            "`/_emulator/stats` (requests, most in flight) around it. aiobotocore lives in a venv of its "
            f"own, `{shown(AIO_VENV)}`, made from `{shown(AIO_REQUIREMENTS)}` "
            "(exact versions) when missing or out of date: `.venv` keeps the botocore that boto3 and the "
            "AWS CLI are pinned to, outside the narrow range of botocore releases that an aiobotocore release "
            "accepts. Both clients run on that venv's Python.")


def aio_report(aio, duration):
    """The report of BENCH_ONLY=aio: the asyncio section and its targets."""
    lines = report_header(duration) + aio_section(aio)
    lines += ["## Targets", "", "Reported, not asserted.", "", "| Target | Measured | |", "|---|---|---|",
              *aio_targets(aio), "", "## How it is measured", "", aio_measured(aio), ""]
    return "\n".join(lines) + "\n"


def fleet_report(fleet, duration):
    """The report of BENCH_ONLY=fleet: the fleet section and its target."""
    lines = report_header(duration) + fleet_section(fleet)
    lines += ["## Targets", "", "Reported, not asserted.", "", "| Target | Measured | |", "|---|---|---|",
              fleet_target(fleet), "", "## How it is measured", "", fleet_measured(fleet), ""]
    return "\n".join(lines) + "\n"


def lib_version():
    try:
        import ctypes

        lib = ctypes.CDLL(CHILD_ENV["STORETASKS_LIBRARY"])
        lib.storetasks_version.restype = ctypes.c_char_p
        return lib.storetasks_version().decode()
    except OSError:
        return "?"


def main():
    start = time.perf_counter()
    for path in (EMULATOR, BENCH_C, SDK_BIN, FLOOR_BIN, READER_BIN):
        if not os.path.exists(path):
            raise SystemExit(f"{path} is missing: build first (cargo build --release --workspace --all-targets)")
    if ONLY == "fleet":
        fleet = bench_fleet()
        text = fleet_report(fleet, time.perf_counter() - start)
    elif ONLY == "aio":
        aio = bench_aio()
        text = aio_report(aio, time.perf_counter() - start)
    else:
        emu = Emulator(TASKS)
        try:
            listing = bench_listing(emu)
            create = bench_create(emu.url)
            reader = bench_reader(emu.url)
            profile = profile_callgrind(emu.url) if PROFILE else None
        finally:
            emu.stop()
        go = bench_go()
        batch = bench_batching()
        fleet = bench_fleet()
        aio = bench_aio()
        memory = bench_memory()
        text = report(listing, go, batch, create, memory, profile, fleet, aio, reader, time.perf_counter() - start)
    print(text)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write(text)
    log(f"written to {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()

"""Ctrl-C against the calls that run on a worker thread (the waiter, the fleet call and its
stream), with real SIGINTs: each one must end its call promptly with KeyboardInterrupt, whatever
it lands on (the worker's start, a wait for the next poll or page, the hand-over of one), and
leave the client usable.

The moments that matter last microseconds (an item taken from the worker, not yet kept), so each
scenario sends many signals at spread-out times, in a process of its own (a hang or a crash fails
the test instead of the suite) that switches threads every few microseconds, so that the thread
sending the signal often runs while the calling thread is in the middle of something.
"""

import json
import os
import subprocess
import sys

import pytest

from conftest import ACCESS_KEY, INSTALLED, PACKAGE_SOURCE, REGION, SECRET_KEY

REGIONS = ["us-east-1", "eu-west-3", "ap-south-1", "us-west-2"]
IN_PROGRESS = "ami-0000000000000c0de"  # never completes: only the signal ends its wait
COMPLETED = "ami-00000000000000d0e"
TRIES = 200
BOUND = 5  # seconds a try may take before the scenario reports it as hung

SCENARIO = r'''
"""TRIES calls of one form, each met by a SIGINT; prints a JSON report on its last line."""

import faulthandler
import json
import os
import queue
import random
import signal
import sys
import threading
import time
import traceback

url, form, access_key, secret_key, region, in_progress, completed = sys.argv[1:8]
tries, bound = int(sys.argv[8]), float(sys.argv[9])
regions = sys.argv[10].split(",")
if os.environ.get("STORETASKS_TEST_PACKAGE"):
    sys.path.insert(0, os.environ["STORETASKS_TEST_PACKAGE"])
import storetasks

faulthandler.enable()  # a crash shows where each thread was
client = storetasks.Client(region=region, endpoint_url=url, aws_access_key_id=access_key,
                           aws_secret_access_key=secret_key)


def wait(image_id):
    return client.get_waiter("store_image_task_complete").wait(
        ImageIds=[image_id], WaiterConfig={"Delay": 0.001}, MaxDelay=0.001, Timeout=0)


def fleet():
    return sum(len(place["StoreImageTaskResults"])
               for place in client.describe_store_image_tasks_fleet(Regions=regions)["Places"])


def pages():
    count = 0
    # `with`: a signal that lands in the loop body stops the stream before it propagates.
    with client.describe_store_image_tasks_fleet_pages(Regions=regions, MaxResults=2) as stream:
        for _, _, page in stream:
            count += len(page["StoreImageTaskResults"])
    return count


# What each try runs, and what runs once the tries are over (which must work as usual).
call, after = {
    "wait": (lambda: wait(in_progress), lambda: len(wait(completed)["StoreImageTaskResults"])),
    "fleet": (fleet, fleet),
    "pages": (pages, pages),
}[form]
state = {"try": None, "since": 0.0, "delay": 0.0, "python": 0, "again": False}
arm = queue.SimpleQueue()
shots = []
package = os.path.dirname(storetasks.__file__)
unraisable = []  # what the package's own code let escape where nothing could catch it
python_own = []  # what Python's own code let escape (see on_unraisable)
again = []  # the tries that needed a second Ctrl-C (see watchdog)


def on_unraisable(u):
    # Python swallows an exception raised in a finalizer (a KeyboardInterrupt that lands in the
    # weak reference callback run when a Thread object goes away), and an interrupted
    # Thread.start() can leave the new thread to die in threading's own code before it runs its
    # target: neither is the package's doing, as long as none of its code is involved.
    frames = []
    tb = u.exc_traceback
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    module = getattr(u.object, "__module__", None) or ""
    where = getattr(u.object, "__qualname__", type(u.object).__name__)
    what = f"{u.exc_type.__name__} in {where}: {u.exc_value}"
    if module.startswith("storetasks") or any(f.startswith(package) for f in frames):
        unraisable.append(what)
    else:
        python_own.append(what)


sys.unraisablehook = on_unraisable


def watchdog():
    while True:
        time.sleep(0.05)
        running = None if state["try"] is None else time.monotonic() - state["since"]
        if running is None:
            continue
        if running > 1 and len(python_own) > state["python"] and not state["again"]:
            # Python swallowed this try's KeyboardInterrupt: Ctrl-C again, as a user would.
            state["again"] = True
            again.append(state["try"])
            os.kill(os.getpid(), signal.SIGINT)
        elif running > bound:
            print(f"try {state['try']} ({form}, SIGINT after {state['delay'] * 1000:.2f} ms) did not end "
                  f"within {bound:g} s; unraisable: {unraisable}; Python's own: {python_own}",
                  file=sys.stderr, flush=True)
            faulthandler.dump_traceback(all_threads=True)
            os._exit(3)


def shooter():
    while True:
        delay = arm.get()
        time.sleep(delay)
        os.kill(os.getpid(), signal.SIGINT)
        shots.append(delay)


def attempt():
    try:
        call()
    except KeyboardInterrupt:
        return "interrupted"
    return "completed"


threading.Thread(target=watchdog, daemon=True).start()
threading.Thread(target=shooter, daemon=True).start()
sys.setswitchinterval(1e-5)
rng = random.Random(7)
outcomes = {"interrupted": 0, "completed": 0, "late": 0}
for i in range(tries):
    # Half the signals within the first millisecond (the worker's start), half later (waits and
    # hand-overs).
    delay = rng.uniform(0, 0.001) if i % 2 else rng.uniform(0.001, 0.010)
    fired = len(shots)
    state.update(since=time.monotonic(), delay=delay, python=len(python_own), again=False)
    state["try"] = i
    arm.put(delay)
    try:
        outcome = attempt()
    except KeyboardInterrupt:
        outcome = "late"  # raised just after the call returned
    while True:  # the signal was sent and handled before the next try
        try:
            while len(shots) == fired:
                time.sleep(0.001)
            time.sleep(0.002)
            break
        except KeyboardInterrupt:
            if outcome == "completed":
                outcome = "late"
    state["try"] = None
    outcomes[outcome] += 1
sys.setswitchinterval(0.005)
time.sleep(0.1)
frames = sys._current_frames()


def runs_the_package(frame):
    while frame is not None:
        if frame.f_code.co_filename.startswith(package):
            return True
        frame = frame.f_back
    return False


# Workers still in the package's code (a Thread whose start() was interrupted may be listed with
# no thread behind it, or stay stuck in threading's own code before its target).
left = [t for t in threading.enumerate() if t.name.startswith("storetasks-") and runs_the_package(frames.get(t.ident))]
for t in left:
    print(f"{t.name} is still running:", file=sys.stderr)
    traceback.print_stack(frames[t.ident], file=sys.stderr)
print(json.dumps({"outcomes": outcomes, "workers_left": sorted(t.name for t in left), "unraisable": unraisable,
                  "python_own": python_own, "again": again, "after": after()}), flush=True)
client.close()
'''


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    path = tmp_path_factory.mktemp("interrupts") / "scenario.py"
    path.write_text(SCENARIO)
    return path


@pytest.mark.parametrize("form", ["wait", "pages", "fleet"])
def test_ctrl_c_anywhere_ends_the_call_and_keeps_the_client(start_emulator, scenario, form):
    # Every request for us-east-1 waits 2 ms: a wait is mostly waiting for its next poll when the
    # signal comes, a fleet call for its last region while the others hand over their pages.
    emu = start_emulator("--generate", 60, "--seed", 5, "--regions", ",".join(REGIONS),
                         "--fault", f"delay,ms=2,region={REGION},count=1000000000")
    emu.control("POST", "/_emulator/tasks", {"StoreImageTaskResults": [
        {"AmiId": IN_PROGRESS, "TaskStartTime": "2026-11-20T11:00:00Z", "ProgressPercentage": 10,
         "StoreTaskState": "InProgress"},
        {"AmiId": COMPLETED, "TaskStartTime": "2026-11-20T11:00:00Z", "ProgressPercentage": 100,
         "StoreTaskState": "Completed"}]})
    env = dict(os.environ)
    if not INSTALLED:
        env["STORETASKS_TEST_PACKAGE"] = str(PACKAGE_SOURCE)
    args = [sys.executable, str(scenario), emu.url, form, ACCESS_KEY, SECRET_KEY, REGION, IN_PROGRESS, COMPLETED,
            str(TRIES), str(BOUND), ",".join(REGIONS)]
    try:
        run = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the {form} scenario did not end within 120 s")
    assert run.returncode == 0, f"the {form} scenario failed (exit status {run.returncode}):\n{run.stderr[-6000:]}"
    report = json.loads(run.stdout.strip().splitlines()[-1])
    # Most signals land while the call runs (the others just after a short call ended).
    assert report["outcomes"]["interrupted"] >= TRIES // 2, report
    # No worker outlives its call, nothing escaped unseen, and the client answers as usual afterwards.
    assert report["workers_left"] == [] and report["unraisable"] == [], (report, run.stderr[-6000:])
    assert report["after"] == {"wait": 1, "fleet": 4 * 60 + 2, "pages": 4 * 60 + 2}[form], report

"""The Python package (bindings/python) side by side with boto3, both against the same emulator.

Results are compared with ResponseMetadata left out, and NextToken by presence only: the
emulator's tokens carry a fresh tag on every reply, so two clients never see the same string.
"""

import base64
import gc
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError as BotoClientError
from botocore.exceptions import ParamValidationError as BotoParamValidationError

from conftest import (ACCESS_KEY, DENIED_KEY, INSTALLED, NOW, PACKAGE_SOURCE, REGION, REPO, SECRET_KEY,
                      checkout_only, import_storetasks)

# The checkout's package (bindings/python), not an installed copy; in the wheel's run
# (tests/wheel/run.sh), the installed one.
storetasks = import_storetasks()
#: The folder that holds the package under test (bindings/python, or site-packages).
PACKAGE_DIR = Path(storetasks.__file__).resolve().parents[1]

N_TASKS = 57  # the `emulator` fixture's --generate count
OPERATION = "DescribeStoreImageTasks"


def ours(emu, access_key=ACCESS_KEY, **kwargs):
    return storetasks.Client(region=REGION, endpoint_url=emu.url, aws_access_key_id=access_key,
                             aws_secret_access_key=SECRET_KEY, **kwargs)


def boto(emu, access_key=ACCESS_KEY, **config):
    return boto3.client("ec2", region_name=REGION, endpoint_url=emu.url, aws_access_key_id=access_key,
                        aws_secret_access_key=SECRET_KEY, config=BotoConfig(**config) if config else None)


def comparable(response):
    """A response without ResponseMetadata, its NextToken replaced by whether there is one."""
    out = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    if "NextToken" in out:
        out["NextToken"] = True
    return out


def expected_tasks(emu):
    """What EC2 reports for the emulator's data at NOW (31-day window, held-back failure reasons)."""
    cutoff = datetime.fromisoformat(NOW.replace("Z", "+00:00")) - timedelta(days=31)
    out = []
    for task in emu.fixture():
        start = task.get("TaskStartTime")
        if start is not None:
            start = datetime.fromisoformat(start.replace("Z", "+00:00"))
            if start < cutoff:
                continue
            task["TaskStartTime"] = start
        if task.pop("EmulatorFailAt", None) is not None and task.get("StoreTaskState") == "InProgress":
            task.pop("StoreTaskFailureReason", None)
        out.append(task)
    return out


@pytest.fixture
def pair(emulator):
    """Our client and boto3's, on the same emulator."""
    with ours(emulator) as client:
        yield client, boto(emulator)


# -- loading -----------------------------------------------------------------------------------


def test_loads_the_checkout_library_with_every_function_declared():
    """The checkout's target/release build; in the wheel's run, the copy inside the package."""
    assert storetasks.library_version() == storetasks.__version__
    expected = (PACKAGE_DIR / "storetasks" if INSTALLED else REPO / "target" / "release") / "libstoretasks.so"
    assert os.path.samefile(storetasks.library_path(), expected)
    assert storetasks.status_name(4) == "STORETASKS_STATUS_THROTTLED"
    from storetasks import _native

    lib = _native.lib()
    for name in _native._SIGNATURES:
        assert getattr(lib, name).argtypes is not None, name
    # The task view has the C layout: 5 pointers, int64, int32, enum, 2 bools, padded to 64.
    import ctypes

    assert ctypes.sizeof(_native.Task) == 64


def header_statuses():
    """{name: number} of the storetasks_status enum in include/storetasks.h."""
    import re

    text = (REPO / "include" / "storetasks.h").read_text()
    return {m[1]: int(m[2]) for m in re.finditer(r"^\s*(STORETASKS_STATUS_[A-Z_]+) = (\d+),", text, re.M)}


def test_status_numbers_come_from_the_library_not_from_the_package():
    from storetasks import _native

    lib = _native.lib()
    header = header_statuses()
    assert len(header) >= 16
    assert lib.status_names == {number: name for name, number in header.items()}
    assert all(_native.status(name[len("STORETASKS_STATUS_"):]) == number for name, number in header.items())
    # Nothing in the package's sources spells a status number.
    for name in ("_native.py", "_marshal.py", "client.py", "waiter.py", "aio.py"):
        source = (PACKAGE_DIR / "storetasks" / name).read_text()
        assert "OK = 0" not in source and "TASK_FAILED = " not in source, name

    class Gappy:
        """A library whose statuses 3 and 4 were retired."""

        names = {0: "OK", 1: "DRY_RUN_OK", 2: "INVALID_ARGUMENT", 5: "TIMEOUT", 6: "NETWORK", 8: "RESPONSE",
                 9: "CANCELLED", 11: "CONFIG", 12: "CREDENTIALS", 13: "TASK_FAILED", 14: "WAIT_TIMEOUT",
                 15: "NOT_FOUND", 20: "LATER"}

        def storetasks_status_name(self, number):
            return ("STORETASKS_STATUS_" + self.names.get(number, "UNKNOWN")).encode()

    names, numbers = _native._read_statuses(Gappy(), "gappy")
    assert numbers["LATER"] == 20 and numbers["TIMEOUT"] == 5 and 3 not in names
    del Gappy.names[13]
    with pytest.raises(storetasks.LibraryNotFoundError, match="STORETASKS_STATUS_TASK_FAILED"):
        _native._read_statuses(Gappy(), "gappy")


def test_the_package_modules_import_each_other_without_a_cycle():
    """client and waiter share the private _marshal module; no module imports one that imports it
    back, at module level or inside a function."""
    import ast

    graph = {}
    for path in (PACKAGE_DIR / "storetasks").glob("*.py"):
        tree = ast.parse(path.read_text())
        graph[path.stem] = {alias.name if node.module is None else node.module
                            for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 1
                            for alias in node.names}
    assert "client" not in graph["waiter"] and "_marshal" in graph["waiter"] and "_marshal" in graph["client"]

    def reaches(start, goal, seen=()):
        return any(m == goal or (m not in seen and reaches(m, goal, seen + (m,))) for m in graph.get(start, ()))

    assert [m for m in graph if m != "__init__" and reaches(m, m)] == []
    run = run_python(f"import sys; sys.path.insert(0, {str(PACKAGE_DIR)!r}); import storetasks.waiter; "
                     "import storetasks.client; print(storetasks.client.Waiter is storetasks.waiter.Waiter)")
    assert run.returncode == 0 and run.stdout.strip() == "True", run.stderr


def run_python(code, **env):
    full = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=60)


def test_storetasks_library_overrides_the_search(tmp_path):
    code = f"import sys; sys.path.insert(0, {str(PACKAGE_DIR)!r}); import storetasks; storetasks.library_version()"
    run = run_python(code, STORETASKS_LIBRARY="/nonexistent/libstoretasks.so")
    assert run.returncode != 0
    assert "LibraryNotFoundError" in run.stderr and "/nonexistent/libstoretasks.so" in run.stderr
    # A copy elsewhere of the library the search finds is the one loaded.
    lib = str(shutil.copy(storetasks.library_path(), tmp_path / "libstoretasks.so"))
    run = run_python(code + "; print(storetasks.library_path())", STORETASKS_LIBRARY=lib)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == lib


@checkout_only("pip installs the source folder bindings/python")
def test_pip_installs_the_folder_and_finds_a_library_placed_in_the_package(tmp_path, emulator):
    src = tmp_path / "src"
    shutil.copytree(PACKAGE_SOURCE, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    shutil.copy(REPO / "target" / "release" / "libstoretasks.so", src / "storetasks")
    site = tmp_path / "site"
    wheel = pip_install_folder(src, site)
    # A wheel that carries the library is tied to the platform, not to a Python version.
    assert wheel.name.startswith("storetasks-" + storetasks.__version__ + "-py3-none-")
    assert not wheel.name.endswith("-any.whl"), wheel.name
    if sys.platform == "linux":
        assert wheel.name.endswith(f"-linux_{platform.machine()}.whl"), wheel.name
    code = (f"import storetasks; c = storetasks.Client(region={REGION!r}, endpoint_url={emulator.url!r}, "
            f"aws_access_key_id={ACCESS_KEY!r}, aws_secret_access_key={SECRET_KEY!r}); "
            "print(storetasks.__file__); print(storetasks.library_path()); "
            "print(len(c.describe_store_image_tasks(MaxResults=5)['StoreImageTaskResults']))")
    run = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(site)},
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    module, library, count = run.stdout.split()
    assert module.startswith(str(site)) and library == str(site / "storetasks" / "libstoretasks.so")
    assert count == "5"


def pip_install_folder(src, site):
    """Builds the package folder src into a wheel with pip (which fetches setuptools) and installs
    it into the folder site; returns the wheel's path."""
    wheels = site.parent / "wheels"
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels),
                          str(src)], capture_output=True, text=True, timeout=300)
    if run.returncode != 0 and "satisfies the requirement setuptools" in run.stderr:
        pytest.skip("pip could not fetch setuptools to build the package (offline?)")
    assert run.returncode == 0, run.stderr
    (wheel,) = wheels.glob("*.whl")
    run = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
                          str(wheel)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return wheel


@checkout_only("pip installs the source folder bindings/python")
def test_pip_installs_the_plain_folder_as_a_pure_package_that_looks_for_the_library(tmp_path):
    """`pip install bindings/python` without a library in the folder: a py3-none-any wheel of the
    modules, whose copy in site-packages looks in its own folder, then the system, never in the
    checkout it was built from (bindings/python/README.md says so)."""
    src = tmp_path / "src"
    shutil.copytree(PACKAGE_SOURCE, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__",
                                                                         "*.so", "*.so.*", "*.dylib", "*.dll"))
    site = tmp_path / "site"
    wheel = pip_install_folder(src, site)
    assert wheel.name == f"storetasks-{storetasks.__version__}-py3-none-any.whl"
    assert [p.name for p in (site / "storetasks").iterdir() if p.suffix in (".so", ".dylib", ".dll") or ".so." in p.name] \
        == []
    code = "import json, storetasks._native as n; print(json.dumps(n.candidates()))"
    env = {k: v for k, v in os.environ.items() if k != "STORETASKS_LIBRARY"}
    run = subprocess.run([sys.executable, "-c", code], env={**env, "PYTHONPATH": str(site)}, cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    places = [where for where, _ in json.loads(run.stdout)]
    assert places[0] == "the package folder" and places[-1] == "the system search path"
    assert "the source checkout" not in places
    # With STORETASKS_LIBRARY it runs the checkout's build.
    lib = str(REPO / "target" / "release" / "libstoretasks.so")
    run = subprocess.run([sys.executable, "-c", "import storetasks; print(storetasks.library_path())"],
                         env={**env, "PYTHONPATH": str(site), "STORETASKS_LIBRARY": lib}, cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == lib, run.stderr


# -- results equal to boto3's ------------------------------------------------------------------


@pytest.mark.parametrize("params", [
    {},
    {"MaxResults": 7},
    {"MaxResults": 200},
    {"Filters": [{"Name": "task-state", "Values": ["Failed"]}]},
    {"Filters": [{"Name": "task-state", "Values": ["InProgress", "Completed"]}], "MaxResults": 9},
    {"Filters": [{"Name": "bucket", "Values": ["storetasks-bucket-a", "storetasks-bucket-c"]},
                 {"Name": "task-state", "Values": ["Completed"]}]},
    {"Filters": [{"Name": "bucket", "Values": ["no-such-bucket"]}]},
    {"Filters": [{"Name": "task-state", "Values": ["NoSuchState"]}], "MaxResults": 5},
    {"ImageIds": ["ami-00000000000000000"]},
    {"DryRun": False, "MaxResults": 3},
])
def test_one_call_equals_boto3(pair, params):
    client, ec2 = pair
    got = client.describe_store_image_tasks(**params)
    want = ec2.describe_store_image_tasks(**params)
    assert comparable(got) == comparable(want)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200



def test_successful_responses_carry_the_request_id_like_boto3(pair, emulator):
    client, ec2 = pair
    got = client.describe_store_image_tasks(MaxResults=5)
    want = ec2.describe_store_image_tasks(MaxResults=5)
    mine, theirs = got["ResponseMetadata"], want["ResponseMetadata"]
    assert isinstance(mine["RequestId"], str) and len(mine["RequestId"]) == len(theirs["RequestId"]) > 0
    assert mine["RequestId"] != theirs["RequestId"]  # one per reply
    assert list(mine)[:2] == list(theirs)[:2] == ["RequestId", "HTTPStatusCode"]
    # Pages each carry their own; a call split into several requests carries one.
    pages = list(client.get_paginator("describe_store_image_tasks").paginate(PaginationConfig={"PageSize": 20}))
    ids = [p["ResponseMetadata"]["RequestId"] for p in pages]
    assert len(pages) == 3 and len(set(ids)) == 3
    many = [t["AmiId"] for t in expected_tasks(emulator)[:25]]
    assert client.describe_store_image_tasks(ImageIds=many)["ResponseMetadata"]["RequestId"]

def test_tasks_by_image_id_equal_boto3_and_the_fixture(pair, emulator):
    client, ec2 = pair
    expected = expected_tasks(emulator)
    ids = [t["AmiId"] for t in expected[3:15]]
    params = {"ImageIds": list(reversed(ids)) + ids[:2]}  # any order, with repeats
    got = client.describe_store_image_tasks(**params)
    assert comparable(got) == comparable(ec2.describe_store_image_tasks(**params))
    assert got["StoreImageTaskResults"] == expected[3:15]


def test_task_members_and_times_match_botocore(pair, emulator):
    client, ec2 = pair
    got = client.describe_store_image_tasks(MaxResults=200)["StoreImageTaskResults"]
    want = ec2.describe_store_image_tasks(MaxResults=200)["StoreImageTaskResults"]
    assert got == want == expected_tasks(emulator)
    assert len(got) == N_TASKS
    assert any("ProgressPercentage" not in t for t in got) and any("S3objectKey" not in t for t in got)
    for mine, theirs in zip(got, want):
        assert list(mine) == [k for k in ("AmiId", "TaskStartTime", "Bucket", "S3objectKey", "ProgressPercentage",
                                         "StoreTaskState", "StoreTaskFailureReason") if k in mine]
        t, b = mine["TaskStartTime"], theirs["TaskStartTime"]
        # botocore's tzinfo is dateutil's tzutc() or tzlocal(); ours is timezone.utc: same instant,
        # same UTC fields, equal and interchangeable.
        assert t.tzinfo is timezone.utc and b.utcoffset() is not None
        assert t == b and t.timestamp() == b.timestamp()
        assert t.astimezone(timezone.utc).timetuple() == b.astimezone(timezone.utc).timetuple()
        assert t.microsecond == b.microsecond and t.microsecond % 1000 == 0


@pytest.mark.parametrize("page_size", [1, 7, 20, 56, 57, 100])
def test_pages_equal_boto3_page_by_page(pair, emulator, page_size):
    client, ec2 = pair

    def pages(call):
        out, token = [], None
        while True:
            kwargs = {"MaxResults": page_size, **({"NextToken": token} if token else {})}
            page = call(**kwargs)
            out.append(comparable(page))
            token = page.get("NextToken")
            if token is None:
                return out

    before = emulator.stats()["describe"]
    mine = pages(client.describe_store_image_tasks)
    middle = emulator.stats()["describe"]
    theirs = pages(ec2.describe_store_image_tasks)
    assert mine == theirs
    assert middle - before == emulator.stats()["describe"] - middle == len(mine)
    assert sum(len(p["StoreImageTaskResults"]) for p in mine) == N_TASKS


def test_more_than_20_ids_in_one_call_equal_boto3_batched_by_hand(pair, emulator):
    client, ec2 = pair
    expected = expected_tasks(emulator)
    ids = [t["AmiId"] for t in expected[::-1]][:45] + ["ami-0000000000000dead"]
    before = emulator.stats()["describe"]
    got = client.describe_store_image_tasks(ImageIds=ids)
    assert emulator.stats()["describe"] - before == 3  # 20 + 20 + 6
    # boto3 sends what it is given: more than 20 ids is EC2's InvalidParameterValue.
    with pytest.raises(BotoClientError) as info:
        ec2.describe_store_image_tasks(ImageIds=ids)
    assert info.value.response["Error"]["Code"] == "InvalidParameterValue"
    merged = []
    for i in range(0, len(ids), 20):
        merged += ec2.describe_store_image_tasks(ImageIds=ids[i:i + 20])["StoreImageTaskResults"]
    merged.sort(key=lambda t: t["TaskStartTime"], reverse=True)
    assert comparable(got) == {"StoreImageTaskResults": merged}
    assert got["StoreImageTaskResults"] == [t for t in expected if t["AmiId"] in ids]


# -- paginator ---------------------------------------------------------------------------------


#: PaginationConfig values the paginators are compared under.
PAGINATION_CONFIGS = [
    {},
    {"PageSize": 10},
    {"PageSize": 7, "MaxItems": 20},
    {"PageSize": 7, "MaxItems": 21},
    {"MaxItems": 5},
    {"PageSize": 200, "MaxItems": 1000},
]


@pytest.mark.parametrize("config", PAGINATION_CONFIGS)
def test_paginator_equals_boto3(pair, config):
    client, ec2 = pair
    params = {"Filters": [{"Name": "task-state", "Values": ["Completed", "InProgress"]}]}

    def paginate(c):
        return c.get_paginator("describe_store_image_tasks").paginate(**params, PaginationConfig=dict(config))

    assert [comparable(p) for p in paginate(client)] == [comparable(p) for p in paginate(ec2)]
    # botocore's page iterators keep the last request's token: each is iterated once only.
    mine, theirs = paginate(client), paginate(ec2)
    full, want = mine.build_full_result(), theirs.build_full_result()
    assert comparable(full) == comparable(want)
    assert (mine.resume_token is None) == (theirs.resume_token is None)
    if "NextToken" in want:
        # Both resume tokens are botocore's encoding, the same apart from the service token.
        decode = lambda t: json.loads(base64.b64decode(t))  # noqa: E731
        a, b = decode(full["NextToken"]), decode(want["NextToken"])
        assert a.get("boto_truncate_amount") == b.get("boto_truncate_amount")
        assert sorted(a) == sorted(b)


def test_paginator_resume_tokens_are_interchangeable_with_boto3(pair):
    client, ec2 = pair
    config = {"PageSize": 6, "MaxItems": 16}
    first = client.get_paginator("describe_store_image_tasks").paginate(PaginationConfig=config).build_full_result()
    token = first["NextToken"]
    ours_next = client.get_paginator("describe_store_image_tasks").paginate(
        PaginationConfig={**config, "StartingToken": token}).build_full_result()
    boto_next = ec2.get_paginator("describe_store_image_tasks").paginate(
        PaginationConfig={**config, "StartingToken": token}).build_full_result()
    assert comparable(ours_next) == comparable(boto_next)
    everything = ec2.describe_store_image_tasks(MaxResults=200)["StoreImageTaskResults"]
    assert first["StoreImageTaskResults"] + ours_next["StoreImageTaskResults"] == everything[:32]
    # A plain service token works as a starting token too.
    service = client.describe_store_image_tasks(MaxResults=50)["NextToken"]
    rest = client.get_paginator("describe_store_image_tasks").paginate(
        PaginationConfig={"StartingToken": service}).build_full_result()
    assert rest["StoreImageTaskResults"] == everything[50:]


def test_paginator_refuses_other_operations_and_repeated_tokens(pair, emulator):
    client, _ = pair
    assert client.can_paginate("describe_store_image_tasks") and not client.can_paginate("describe_images")
    with pytest.raises(storetasks.OperationNotPageableError):
        client.get_paginator("describe_images")
    emulator.add_faults("repeat-token,count=3")
    with pytest.raises(storetasks.PaginationError, match="same next token"):
        list(client.get_paginator("describe_store_image_tasks").paginate(PaginationConfig={"PageSize": 5}))


# -- errors ------------------------------------------------------------------------------------


def both_fail(ours_call, boto_call):
    with pytest.raises(storetasks.ClientError) as mine:
        ours_call()
    with pytest.raises(BotoClientError) as theirs:
        boto_call()
    return mine.value, theirs.value


def assert_same_client_error(mine, theirs, code, http_status):
    assert mine.response["Error"] == theirs.response["Error"]
    assert mine.response["Error"]["Code"] == code
    assert mine.response["ResponseMetadata"]["HTTPStatusCode"] == theirs.response["ResponseMetadata"][
        "HTTPStatusCode"] == http_status
    assert mine.operation_name == theirs.operation_name == OPERATION
    assert str(mine) == str(theirs)
    assert mine.response["ResponseMetadata"]["RequestId"]  # the emulator sends one with every error
    assert mine.code == code and mine.http_status == http_status


@pytest.mark.parametrize("params, code, http_status, status", [
    ({"DryRun": True}, "DryRunOperation", 412, "STORETASKS_STATUS_DRY_RUN_OK"),
    ({"Filters": [{"Name": "no-such-filter", "Values": ["x"]}]}, "InvalidParameterValue", 400,
     "STORETASKS_STATUS_SERVICE"),
    ({"Filters": [{"Name": "bucket", "Values": []}]}, "InvalidParameterValue", 400, "STORETASKS_STATUS_SERVICE"),
    ({"Filters": [{"Name": "bucket"}]}, "InvalidParameterValue", 400, "STORETASKS_STATUS_SERVICE"),
    ({"NextToken": "bm90IGEgdG9rZW4="}, "InvalidParameterValue", 400, "STORETASKS_STATUS_SERVICE"),
    ({"MaxResults": 201}, None, None, None),
    ({"ImageIds": ["ami-1"], "NextToken": "abc"}, "InvalidParameterCombination", 400, "STORETASKS_STATUS_SERVICE"),
])
def test_service_errors_equal_boto3(pair, params, code, http_status, status):
    client, ec2 = pair
    if code is None:
        # MaxResults out of EC2's 1..200: libstoretasks refuses it before sending, boto3 lets
        # EC2 answer InvalidParameterValue.
        with pytest.raises(storetasks.ParamValidationError, match="between 1 and 200"):
            client.describe_store_image_tasks(**params)
        with pytest.raises(BotoClientError, match="InvalidParameterValue"):
            ec2.describe_store_image_tasks(**params)
        return
    mine, theirs = both_fail(lambda: client.describe_store_image_tasks(**params),
                             lambda: ec2.describe_store_image_tasks(**params))
    assert_same_client_error(mine, theirs, code, http_status)
    assert mine.status_name == status


def test_denied_key_equals_boto3(emulator):
    with ours(emulator, access_key=DENIED_KEY) as client:
        ec2 = boto(emulator, access_key=DENIED_KEY)
        for params in ({}, {"DryRun": True}, {"MaxResults": 5}):
            mine, theirs = both_fail(lambda: client.describe_store_image_tasks(**params),
                                     lambda: ec2.describe_store_image_tasks(**params))
            assert_same_client_error(mine, theirs, "UnauthorizedOperation", 403)
            assert mine.status_name == "STORETASKS_STATUS_UNAUTHORIZED"


def test_image_ids_with_max_results_is_refused_before_sending(pair, emulator):
    """EC2 answers InvalidParameterCombination; libstoretasks knows the rule and refuses the
    call itself (INVALID_ARGUMENT), so the package raises ParamValidationError and sends nothing."""
    client, ec2 = pair
    with pytest.raises(BotoClientError) as theirs:
        ec2.describe_store_image_tasks(ImageIds=["ami-1"], MaxResults=5)
    assert theirs.value.response["Error"]["Code"] == "InvalidParameterCombination"
    before = emulator.stats()["requests"]
    with pytest.raises(storetasks.ParamValidationError) as mine:
        client.describe_store_image_tasks(ImageIds=["ami-1"], MaxResults=5)
    assert isinstance(mine.value, ValueError)
    assert mine.value.status_name == "STORETASKS_STATUS_INVALID_ARGUMENT"
    assert "cannot be combined" in str(mine.value)
    assert emulator.stats()["requests"] == before


@pytest.mark.parametrize("params", [
    {"MaxResults": 0},
    {"MaxResults": "5"},
    {"ImageIds": "ami-1"},
    {"ImageIds": ["ami-1", 2]},
    {"DryRun": "yes"},
    {"Foo": 1},
    {"Filters": {"Name": "bucket"}},
    {"Filters": ["bucket"]},
    {"Filters": [{"Name": "bucket", "Values": ["a"], "Extra": 1}]},
    {"Filters": [{"Name": "bucket", "Values": "a"}]},
    {"NextToken": 5},
    {"MaxResults": None},
])
def test_parameter_validation_reads_like_botocore(pair, emulator, params):
    client, ec2 = pair
    before = emulator.stats()["requests"]
    with pytest.raises(storetasks.ParamValidationError) as mine:
        client.describe_store_image_tasks(**params)
    with pytest.raises(BotoParamValidationError) as theirs:
        ec2.describe_store_image_tasks(**params)
    assert str(mine.value) == str(theirs.value)
    assert mine.value.kwargs == theirs.value.kwargs
    assert emulator.stats()["requests"] == before


@pytest.mark.parametrize("params, fragment", [
    ({"ImageIds": [""]}, "ImageIds[0]"),
    ({"NextToken": ""}, "next token is empty"),
    ({"Filters": [{"Values": ["a"]}]}, 'Missing required parameter in Filters[0]: "Name"'),
    ({"ImageIds": ["ami-\x00"]}, "NUL"),
    ({"ImageIds": ["ami-\udc80"]}, "surrogate"),
])
def test_what_libstoretasks_cannot_send_is_a_parameter_error(pair, emulator, params, fragment):
    client, _ = pair
    before = emulator.stats()["requests"]
    with pytest.raises(storetasks.ParamValidationError) as info:
        client.describe_store_image_tasks(**params)
    assert fragment in str(info.value)
    assert emulator.stats()["requests"] == before


def test_positional_arguments_are_refused_like_boto3(pair):
    client, ec2 = pair
    with pytest.raises(TypeError) as mine:
        client.describe_store_image_tasks({"MaxResults": 5})
    with pytest.raises(TypeError) as theirs:
        ec2.describe_store_image_tasks({"MaxResults": 5})
    assert str(mine.value) == str(theirs.value)


# -- retries, network, timeouts ------------------------------------------------------------------


def test_throttling_is_retried(emulator):
    with ours(emulator, retry_mode="standard", max_attempts=3) as client:
        before = emulator.stats()
        emulator.add_faults("throttle,count=2")
        result = client.describe_store_image_tasks(MaxResults=10)
        assert len(result["StoreImageTaskResults"]) == 10
        after = emulator.stats()
        assert after["requests"] - before["requests"] == 3
        assert after["faults_fired"] - before["faults_fired"] == 2
        # One throttle more than there are attempts: the same ClientError as botocore.
        emulator.add_faults("throttle,count=3")
        with pytest.raises(storetasks.ClientError) as info:
            client.describe_store_image_tasks(MaxResults=10)
        err = info.value
        assert err.response["Error"] == {"Code": "RequestLimitExceeded", "Message": "Request limit exceeded."}
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert err.status_name == "STORETASKS_STATUS_THROTTLED"
    emulator.add_faults("throttle,count=3")
    with pytest.raises(BotoClientError) as theirs:
        boto(emulator, retries={"mode": "standard", "total_max_attempts": 3}).describe_store_image_tasks(MaxResults=10)
    assert theirs.value.response["Error"] == err.response["Error"]


def test_network_timeout_and_reply_errors(emulator):
    with ours(emulator, max_attempts=1, read_timeout=0.4) as client:
        emulator.add_faults("drop")
        with pytest.raises(storetasks.EndpointConnectionError) as info:
            client.describe_store_image_tasks()
        assert isinstance(info.value, ConnectionError) and emulator.url in str(info.value)
        assert info.value.status_name == "STORETASKS_STATUS_NETWORK" and info.value.http_status == 0
        emulator.add_faults("delay,ms=1500")
        started = time.monotonic()
        with pytest.raises(storetasks.ReadTimeoutError) as info:
            client.describe_store_image_tasks()
        assert isinstance(info.value, TimeoutError) and time.monotonic() - started < 1.4
        for fault in ("malformed", "garbage", "wrongroot"):
            emulator.add_faults(fault)
            with pytest.raises(storetasks.ResponseParserError) as info:
                client.describe_store_image_tasks()
            assert info.value.status_name == "STORETASKS_STATUS_RESPONSE"
        emulator.add_faults("internal")
        with pytest.raises(storetasks.ClientError) as info:
            client.describe_store_image_tasks()
        assert info.value.response["Error"]["Code"] == "InternalError"
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        assert len(client.describe_store_image_tasks(MaxResults=5)["StoreImageTaskResults"]) == 5


def test_nothing_listening_is_an_endpoint_connection_error():
    import socket

    # A port held by a socket that is bound but never listens refuses connections, and no other
    # process can take it while the test runs.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        with storetasks.Client(region=REGION, endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id=ACCESS_KEY,
                               aws_secret_access_key=SECRET_KEY, max_attempts=1, connect_timeout=2) as client:
            with pytest.raises(storetasks.EndpointConnectionError):
                client.describe_store_image_tasks()


# -- configuration and lifetime ----------------------------------------------------------------


@pytest.mark.parametrize("kwargs, fragment", [
    ({"retry_mode": "legacy"}, "retry_mode"),
    ({"max_attempts": 0}, "max_attempts"),
    ({"connect_timeout": -1}, "connect_timeout"),
    ({"read_timeout": "1"}, "read_timeout"),
    ({"max_concurrency": 0}, "max_concurrency"),
    ({"aws_access_key_id": ACCESS_KEY}, "go together"),
    ({"region": "us-east-1\x00x"}, "NUL"),
])
def test_bad_configuration_is_a_parameter_error(kwargs, fragment):
    with pytest.raises(storetasks.ParamValidationError, match=fragment):
        storetasks.Client(**{"region": REGION, **kwargs})


#: Seconds whose milliseconds are one second past 2**64 - 1: ctypes made them 384 ms.
BEYOND_UINT64_MS = 2**64 // 1000 + 1
UINT64_RANGE_S = "from 0.001 to 18446744073709551.615"
SIZE_T_RANGE = "an integer from 1 to 18446744073709551615"  # a 64-bit size_t


@pytest.mark.parametrize("kwargs, report", [
    ({"max_concurrency": 2**64 + 1}, f"max_concurrency: 18446744073709551617 ({SIZE_T_RANGE})"),
    ({"max_concurrency": 2**64}, f"max_concurrency: 18446744073709551616 ({SIZE_T_RANGE})"),
    ({"max_concurrency": True}, f"max_concurrency: True ({SIZE_T_RANGE})"),
    ({"max_concurrency": 4.0}, f"max_concurrency: 4.0 ({SIZE_T_RANGE})"),
    ({"max_attempts": 2**32}, "max_attempts: 4294967296 (an integer from 1 to 4294967295)"),
    ({"max_attempts": True}, "max_attempts: True (an integer from 1 to 4294967295)"),
    ({"connect_timeout": BEYOND_UINT64_MS},
     f"connect_timeout: 18446744073709552 (a number of seconds {UINT64_RANGE_S})"),
    ({"read_timeout": 1e300}, f"read_timeout: 1e+300 (a number of seconds {UINT64_RANGE_S})"),
    ({"operation_timeout": 1e306}, f"operation_timeout: 1e+306 (a number of seconds {UINT64_RANGE_S})"),
    ({"connect_timeout": float("nan")}, f"connect_timeout: nan (a number of seconds {UINT64_RANGE_S})"),
    ({"read_timeout": float("inf")}, f"read_timeout: inf (a number of seconds {UINT64_RANGE_S})"),
    ({"operation_timeout": True}, f"operation_timeout: True (a number of seconds {UINT64_RANGE_S})"),
    ({"connect_timeout": 0.0004}, f"connect_timeout: 0.0004 (a number of seconds {UINT64_RANGE_S})"),
])
def test_numbers_beyond_their_c_type_are_refused_not_wrapped(kwargs, report):
    # ctypes passes an int modulo 2**64 (2**64 + 1 as 1) and True as 1: each is refused before.
    with pytest.raises(storetasks.ParamValidationError) as info:
        storetasks.Client(**{"region": REGION, **kwargs})
    assert info.value.report == f"Invalid value for {report}"
    assert info.value.status is None  # the package's own check, not the library's setter


def test_the_largest_numbers_their_c_types_hold_are_accepted(emulator):
    largest = 2**64 // 1000  # whole seconds: 18446744073709551000 ms
    with ours(emulator, connect_timeout=largest, read_timeout=largest, operation_timeout=float(2**53)) as client:
        assert len(client.describe_store_image_tasks(MaxResults=5)["StoreImageTaskResults"]) == 5

def test_the_librarys_limits_refuse_what_fits_the_c_type_but_not_the_library(emulator):
    # The C types hold these, the library refuses them with its reason: a concurrency this large
    # once made every fleet call return PANIC, and billions of attempts panicked in the SDK.
    for kwargs, reason in (
        ({"max_concurrency": 2**62}, "max concurrency must be from 1 to 1024, not 4611686018427387904"),
        ({"max_concurrency": 1025}, "max concurrency must be from 1 to 1024, not 1025"),
        ({"max_attempts": 2**32 - 1}, "max attempts must be from 1 to 100, not 4294967295"),
        ({"max_attempts": 101}, "max attempts must be from 1 to 100, not 101"),
    ):
        with pytest.raises(storetasks.ParamValidationError) as info:
            ours(emulator, **kwargs)
        assert reason in str(info.value), kwargs
        assert info.value.status_name == "STORETASKS_STATUS_INVALID_ARGUMENT"
    with ours(emulator, max_concurrency=1024, max_attempts=100) as client:
        assert len(client.describe_store_image_tasks(MaxResults=5)["StoreImageTaskResults"]) == 5


def test_bad_app_name_is_refused_when_the_client_is_created():
    with pytest.raises(storetasks.ParamValidationError, match="app name") as info:
        storetasks.Client(region=REGION, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                          app_name="no spaces allowed")
    assert info.value.status_name == "STORETASKS_STATUS_INVALID_ARGUMENT"


@pytest.mark.parametrize("proxy", ["socks5://u:secret@h:1", "http://u:secret@:8080"])
def test_a_proxy_the_library_cannot_use_is_refused_without_its_password(proxy):
    with pytest.raises(storetasks.ParamValidationError) as info:
        storetasks.Client(region=REGION, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, proxy=proxy,
                          no_proxy="localhost")
    assert info.value.report.startswith("Invalid value for parameter proxy: "), info.value.report
    assert "\n" not in info.value.report and "secret" not in str(info.value), info.value.report
    assert info.value.status_name == "STORETASKS_STATUS_INVALID_ARGUMENT"


@pytest.mark.parametrize("kwargs, report", [
    ({"no_proxy": "localhost"}, "no_proxy needs proxy (without it, the environment's NO_PROXY applies)"),
    ({"no_proxy": ""}, "no_proxy needs proxy (without it, the environment's NO_PROXY applies)"),
    ({"proxy": b"http://u:secret@h:1"},
     "Invalid type for parameter proxy, type: <class 'bytes'>, valid types: <class 'str'>, <class 'NoneType'>"),
    ({"proxy": "http://u:secret@h:1", "no_proxy": ["localhost"]},
     "Invalid type for parameter no_proxy, type: <class 'list'>, valid types: <class 'str'>, <class 'NoneType'>"),
    ({"proxy": "http://u:secret@h:1\x00"}, "Invalid value for parameter proxy: it contains a NUL character"),
])
def test_proxy_settings_the_package_refuses_before_the_library(kwargs, report):
    with pytest.raises(storetasks.ParamValidationError) as info:
        storetasks.Client(region=REGION, **kwargs)
    assert info.value.report == report
    assert info.value.status is None  # the package's own check
    assert "secret" not in str(info.value)


def test_a_proxy_is_used_unless_the_endpoint_is_bypassed_or_proxy_is_empty(emulator, monkeypatch):
    dead = "http://u:secret@127.0.0.1:1"  # a proxy nothing listens on
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", dead)
    monkeypatch.setenv("http_proxy", dead)
    for kwargs, through in (
        ({}, True),  # the environment's
        ({"proxy": ""}, False),
        ({"proxy": dead}, True),
        ({"proxy": "127.0.0.1:1"}, True),
        ({"proxy": dead, "no_proxy": ""}, True),
        ({"proxy": dead, "no_proxy": "example.com,10.0.0.0/8"}, True),
        ({"proxy": dead, "no_proxy": "example.com,127.0.0.1"}, False),
        ({"proxy": dead, "no_proxy": "127.0.0.0/8"}, False),
    ):
        with ours(emulator, max_attempts=1, **kwargs) as client:
            if through:
                with pytest.raises(storetasks.EndpointConnectionError) as info:
                    client.describe_store_image_tasks(MaxResults=5)
                assert "secret" not in str(info.value), kwargs
            else:
                assert len(client.describe_store_image_tasks(MaxResults=5)["StoreImageTaskResults"]) == 5, kwargs


def test_no_region_anywhere_is_a_config_error():
    # conftest cleared every AWS_* variable and pointed the shared files at /dev/null.
    with pytest.raises(storetasks.ConfigError) as info:
        storetasks.Client(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
    assert info.value.status_name == "STORETASKS_STATUS_CONFIG"


def test_context_manager_close_and_garbage_collection(emulator, native_frees):
    with ours(emulator, app_name="storetasks-tests", max_concurrency=2, use_fips_endpoint=False,
              use_dualstack_endpoint=False, connect_timeout=5, read_timeout=5, operation_timeout=30) as client:
        assert not client.closed
        assert len(client.describe_store_image_tasks(MaxResults=3)["StoreImageTaskResults"]) == 3
    assert client.closed
    client.close()  # idempotent
    with pytest.raises(storetasks.ClientClosedError):
        client.describe_store_image_tasks()
    with pytest.raises(storetasks.ClientClosedError):
        list(client.get_paginator("describe_store_image_tasks").paginate())
    assert len(native_frees["storetasks_client_free"]) == 1
    # A forgotten client is freed by the garbage collector, once each.
    for _ in range(20):
        ours(emulator).describe_store_image_tasks(MaxResults=1)
    forgotten = [ours(emulator) for _ in range(5)]
    forgotten.append(forgotten)  # a cycle: only the collector finds these
    del forgotten
    gc.collect()
    freed = native_frees["storetasks_client_free"]
    assert len(freed) == 1 + 20 + 5


def test_one_client_on_several_threads_and_close_cancels_running_calls(emulator, native_frees):
    client = ours(emulator)
    results, errors = [], []

    def work(page_size):
        try:
            pages = client.get_paginator("describe_store_image_tasks").paginate(PaginationConfig={"PageSize": page_size})
            results.append(sum(len(p["StoreImageTaskResults"]) for p in pages))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in (3, 8, 13, 21)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and results == [N_TASKS] * 4

    emulator.add_faults("delay,ms=3000")

    def slow():
        try:
            client.describe_store_image_tasks(MaxResults=4)
        except Exception as e:
            errors.append(e)

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    client.close()  # cancels the call in flight, waits for it to return, refuses new ones
    assert time.monotonic() - started < 2
    assert native_frees["storetasks_client_free"] != []  # freed before close() returned
    thread.join()
    assert len(errors) == 1 and isinstance(errors[0], storetasks.ClientClosedError)
    assert errors[0].status_name == "STORETASKS_STATUS_CANCELLED" and "closed" in str(errors[0])
    with pytest.raises(storetasks.ClientClosedError):
        client.describe_store_image_tasks()
    client.close()
    assert len(native_frees["storetasks_client_free"]) == 1


def test_an_interrupted_close_still_frees_the_client_exactly_once(emulator, native_frees):
    """A KeyboardInterrupt arriving while close() waits for a call leaves the freeing to that call."""
    import _thread

    client = ours(emulator)
    entered, release, cancelled = threading.Event(), threading.Event(), threading.Event()

    def in_flight():  # a call that ends only when the test says so, as a wait stuck in progress would
        with client._call(cancelled.set):
            entered.set()
            release.wait(10)

    holder = threading.Thread(target=in_flight)
    holder.start()
    assert entered.wait(10)
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            client.close()
    finally:
        timer.join()
    assert cancelled.is_set() and client.closed
    assert native_frees["storetasks_client_free"] == []  # the call still holds it
    release.set()
    holder.join()
    assert len(native_frees["storetasks_client_free"]) == 1  # freed by the last call to end
    client.close()
    del client
    gc.collect()
    assert len(native_frees["storetasks_client_free"]) == 1


def test_close_from_a_signal_handler_on_the_thread_of_a_running_call(emulator, native_frees):
    """The handler runs on the thread that holds the call: close() must not wait for itself."""
    import signal

    client = ours(emulator)
    closed_in_handler = []

    def handler(signum, frame):
        client.close()
        closed_in_handler.append(client.closed)

    previous = signal.signal(signal.SIGUSR1, handler)
    try:
        with client._call(lambda: None):
            signal.raise_signal(signal.SIGUSR1)  # the handler runs here, inside the call
            assert closed_in_handler == [True]
            assert native_frees["storetasks_client_free"] == []
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert len(native_frees["storetasks_client_free"]) == 1


def test_exceptions_are_picklable_and_shaped_like_botocore(pair):
    import pickle

    client, _ = pair
    with pytest.raises(storetasks.ClientError) as info:
        client.describe_store_image_tasks(DryRun=True)
    copy = pickle.loads(pickle.dumps(info.value))
    assert copy.response == info.value.response and copy.operation_name == OPERATION
    assert isinstance(info.value, storetasks.StoreTasksError)


# -- setter reasons, unreadable times, capped listings -------------------------------------------


def test_a_refused_setter_raises_with_the_library_s_reason(pair, emulator, monkeypatch):
    client, _ = pair
    before = emulator.stats()["requests"]
    # The library's reasons, after the parameter's name (their exact wording is the library's).
    with pytest.raises(storetasks.ParamValidationError) as info:
        client.describe_store_image_tasks(ImageIds=["ami-1", "   "])
    assert re.search(r"Invalid value for parameter ImageIds\[1\]: [^\n]*image id is empty", str(info.value))
    assert info.value.status_name == "STORETASKS_STATUS_INVALID_ARGUMENT"
    with pytest.raises(storetasks.ParamValidationError, match=r"Filters\[0\]: [^\n]*filter name is empty"):
        client.describe_store_image_tasks(Filters=[{"Name": " ", "Values": ["x"]}])
    assert emulator.stats()["requests"] == before
    # A configuration setter: a retry mode number the library does not know.
    from storetasks import _native

    monkeypatch.setitem(_native.RETRY_MODES, "bogus", 99)
    with pytest.raises(storetasks.ParamValidationError, match=r"parameter retry: [^\n]*99[^\n]*storetasks_retry_mode"):
        ours(emulator, retry_mode="bogus")


def test_a_time_datetime_cannot_hold_is_an_unreadable_reply():
    """A hostile endpoint may send any TaskStartTime; the library hands over its milliseconds."""
    from storetasks import _marshal, _native

    def view(ms):
        return _native.Task(ami_id=b"ami-0123456789abcdef0", has_task_start_time=True, task_start_time_ms=ms)

    last = datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc)
    last_ms = (last - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(milliseconds=1)
    assert _marshal.task(view(last_ms))["TaskStartTime"] == last
    for ms in (last_ms + 1, 2**63 - 1, -(2**63), -62135596800001):  # year 10000, the extremes, year 0
        with pytest.raises(storetasks.ResponseParserError) as info:
            _marshal.task(view(ms))
        assert info.value.status_name == "STORETASKS_STATUS_RESPONSE"
        assert "ami-0123456789abcdef0" in str(info.value) and str(ms) in str(info.value)


def test_a_start_time_before_year_1_from_the_endpoint(start_emulator, tmp_path):
    """Year 0 is the one RFC 3339 time the emulator can send that datetime cannot hold."""
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps({"StoreImageTaskResults": [
        {"AmiId": "ami-00000000000000001", "TaskStartTime": "0000-06-01T00:00:00Z", "StoreTaskState": "Completed"},
    ]}))
    emu = start_emulator("--tasks-file", path, "--now", "0000-06-02T00:00:00Z")
    with storetasks.Client(region=REGION, endpoint_url=emu.url, aws_access_key_id=ACCESS_KEY,
                           aws_secret_access_key=SECRET_KEY) as client:
        with pytest.raises(storetasks.ResponseParserError, match="TaskStartTime of ami-00000000000000001"):
            client.describe_store_image_tasks()
        with pytest.raises(storetasks.ResponseParserError):
            client.get_waiter("store_image_task_complete").wait(ImageIds=["ami-00000000000000001"])
        assert client.describe_store_image_tasks(Filters=[{"Name": "task-state", "Values": ["Failed"]}]) \
            ["StoreImageTaskResults"] == []  # the client is still usable


def test_a_start_time_datetime_cannot_hold_is_a_response_error_naming_the_task(start_emulator):
    """Every single listing (a call, image ids, the paginator) raises the package's
    ResponseParserError naming the task, never datetime's OverflowError or ValueError; the
    emulator's clock in year 1 reports a task of year 0 next to one Python reads."""
    unreadable, readable = "ami-0000000000000bad0", "ami-00000000000000e01"
    emu = start_emulator("--now", "0001-01-15T00:00:00Z")
    emu.control("POST", "/_emulator/tasks", {"StoreImageTaskResults": [
        {"AmiId": readable, "TaskStartTime": "0001-01-10T00:00:00Z", "StoreTaskState": "Completed"},
        {"AmiId": unreadable, "TaskStartTime": "0000-12-31T23:59:59Z", "StoreTaskState": "Completed"},
    ]})
    with storetasks.Client(region=REGION, endpoint_url=emu.url, aws_access_key_id=ACCESS_KEY,
                           aws_secret_access_key=SECRET_KEY) as client:
        paginator = client.get_paginator("describe_store_image_tasks")
        for call in (client.describe_store_image_tasks,
                     lambda: client.describe_store_image_tasks(ImageIds=[unreadable, readable]),
                     lambda: list(paginator.paginate(PaginationConfig={"PageSize": 1}))):
            with pytest.raises(storetasks.StoreTasksError) as info:
                call()
            e = info.value
            assert isinstance(e, storetasks.ResponseParserError) and not isinstance(e, (ValueError, OverflowError))
            assert e.status_name == "STORETASKS_STATUS_RESPONSE" and str(e) == e.message
            assert e.message.startswith(f"the TaskStartTime of {unreadable} cannot be represented: "), e.message
            assert "\n" not in e.message
        # The readable task alone comes back as usual.
        [task] = client.describe_store_image_tasks(ImageIds=[readable])["StoreImageTaskResults"]
        assert task["TaskStartTime"] == datetime(1, 1, 10, tzinfo=timezone.utc)


def test_max_items_over_30_image_ids_leaves_a_resume_token_like_boto3(pair, emulator):
    """EC2 answers image ids in one reply without a NextToken. MaxItems still cuts the listing as
    botocore's paginator does: the result carries a resume token (no service token, a count to
    skip), so a capped listing never looks complete, and resuming it brings the rest."""
    client, ec2 = pair
    ids = [t["AmiId"] for t in expected_tasks(emulator)[:30]]
    everything = client.describe_store_image_tasks(ImageIds=ids)["StoreImageTaskResults"]
    assert len(everything) == 30 and "NextToken" not in client.describe_store_image_tasks(ImageIds=ids)
    decode = lambda t: json.loads(base64.b64decode(t))  # noqa: E731
    got, token = [], None
    for round_ in range(3):
        config = {"MaxItems": 10, **({"StartingToken": token} if token else {})}
        result = client.get_paginator("describe_store_image_tasks").paginate(
            ImageIds=ids, PaginationConfig=config).build_full_result()
        assert len(result["StoreImageTaskResults"]) == 10
        got += result["StoreImageTaskResults"]
        token = result.get("NextToken")
        if round_ < 2:
            assert decode(token) == {"NextToken": None, "boto_truncate_amount": 10 * (round_ + 1)}
    assert token is None and got == everything
    # boto3 sends at most 20 ids (EC2 refuses more) and cuts the same way.
    theirs = ec2.get_paginator("describe_store_image_tasks").paginate(
        ImageIds=ids[:15], PaginationConfig={"MaxItems": 10}).build_full_result()
    mine = client.get_paginator("describe_store_image_tasks").paginate(
        ImageIds=ids[:15], PaginationConfig={"MaxItems": 10}).build_full_result()
    assert mine["StoreImageTaskResults"] == theirs["StoreImageTaskResults"]
    assert decode(mine["NextToken"]) == decode(theirs["NextToken"]) == {"NextToken": None, "boto_truncate_amount": 10}


def test_a_list_the_library_cut_is_never_returned_as_complete(pair, emulator):
    """storetasks_client_describe_all with a cap over 30 image ids: the list holds 10 tasks, no
    token, and says it was truncated; the package's marshalling refuses such a list."""
    import ctypes

    from storetasks import _marshal, _native

    client, _ = pair
    lib = ctypes.CDLL(storetasks.library_path())  # own function objects: the package's stay as declared
    P = ctypes.POINTER
    lib.storetasks_client_describe_all.restype = ctypes.c_int
    lib.storetasks_client_describe_all.argtypes = [P(_native.ClientHandle), P(_native.Query), ctypes.c_size_t,
                                                   P(_native.Cancel), P(P(_native.TaskList)), P(P(_native.Error))]
    native = _native.lib()
    ids = [t["AmiId"] for t in expected_tasks(emulator)[:30]]
    query = _marshal.build_query({"ImageIds": ids})
    task_list = P(_native.TaskList)()
    try:
        with client._call(lambda: None) as handle:
            status = lib.storetasks_client_describe_all(handle, query, 10, None, ctypes.byref(task_list), None)
        assert status == _native.status("OK")
        assert native.storetasks_task_list_len(task_list) == 10
        assert native.storetasks_task_list_next_token(task_list) is None
        assert native.storetasks_task_list_truncated(task_list) is True
        with pytest.raises(storetasks.ResponseParserError, match="cut short"):
            _marshal.response(task_list)
    finally:
        native.storetasks_task_list_free(task_list)
        native.storetasks_query_free(query)

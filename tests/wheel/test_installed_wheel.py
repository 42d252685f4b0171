"""Run by tests/wheel/run.sh only, next to the copied tests/python suite: the package under test
is the one the wheel installed into a fresh venv, the library it loads is the wheel's copy inside
site-packages, and nothing comes from the checkout."""

import importlib.metadata
import os
import platform
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import boto3
import pytest

from conftest import ACCESS_KEY, INSTALLED, REGION, SECRET_KEY, import_storetasks

pytestmark = pytest.mark.skipif(not INSTALLED, reason="tests/wheel/run.sh runs this against an installed wheel")

storetasks = import_storetasks()
SITE = Path(sysconfig.get_path("platlib")).resolve()
PACKAGE = SITE / "storetasks"
LIBRARY = PACKAGE / "libstoretasks.so"
CHECKOUT = Path(os.environ.get("STORETASKS_CHECKOUT", "/nonexistent")).resolve()
WHEEL = Path(os.environ.get("STORETASKS_WHEEL", "/nonexistent"))


def under(path, folder):
    path = Path(path).resolve()
    return path == folder or folder in path.parents


def mapped_files():
    """The files mapped into this process (/proc/self/maps)."""
    with open("/proc/self/maps") as maps:
        return {line.split(None, 5)[5].strip() for line in maps if len(line.split(None, 5)) == 6}


def test_the_wheel_is_tagged_for_this_platform_and_carries_the_library():
    name = WHEEL.name
    assert name.startswith(f"storetasks-{os.environ['STORETASKS_VERSION']}-py3-none-"), name
    tag = name[:-len(".whl")].split("-")[-1]
    assert tag.endswith("_" + platform.machine()) and ("linux" in tag), tag
    with zipfile.ZipFile(WHEEL) as wheel:
        names = wheel.namelist()
        meta = wheel.read(next(n for n in names if n.endswith(".dist-info/WHEEL"))).decode()
    assert "storetasks/libstoretasks.so" in names
    assert "Root-Is-Purelib: false" in meta and f"Tag: py3-none-{tag}" in meta, meta
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names


def test_the_package_is_the_installed_one_with_the_library_s_version():
    assert Path(storetasks.__file__).resolve() == PACKAGE / "__init__.py"
    dist = importlib.metadata.distribution("storetasks")
    assert "storetasks/libstoretasks.so" in {str(f) for f in dist.files}
    version = os.environ["STORETASKS_VERSION"]
    assert dist.version == storetasks.__version__ == storetasks.library_version() == version


def test_the_library_loaded_is_the_wheel_s_copy_in_site_packages():
    storetasks.library_version()  # loads it
    assert Path(storetasks.library_path()) == LIBRARY
    loaded = {f for f in mapped_files() if "libstoretasks" in f}
    assert loaded == {str(LIBRARY)}, loaded
    # The copy keeps the build's SONAME, libstoretasks.so.<major>; the package loads it by path, so
    # no file of that name needs to exist anywhere.
    major = storetasks.__version__.split(".")[0]
    assert f"libstoretasks.so.{major}\0".encode() in LIBRARY.read_bytes()
    assert not list(PACKAGE.glob("libstoretasks.so.*"))


def test_nothing_comes_from_the_checkout():
    assert "STORETASKS_LIBRARY" not in os.environ and "PYTHONPATH" not in os.environ
    assert not under(os.getcwd(), CHECKOUT)
    assert [p for p in sys.path if p and under(p, CHECKOUT)] == []
    assert [f for f in mapped_files() if f.startswith("/") and under(f, CHECKOUT)] == []
    modules = [m.__file__ for m in list(sys.modules.values()) if getattr(m, "__file__", None)]
    assert [f for f in modules if under(f, CHECKOUT)] == []


def test_a_python_in_isolated_mode_elsewhere_uses_the_wheel(tmp_path, emulator):
    """`python -I` (no current folder, no PYTHONPATH, no user site) from another folder: the
    package and its library come from the venv alone."""
    code = ("import storetasks; c = storetasks.Client(region=%r, endpoint_url=%r, aws_access_key_id=%r, "
            "aws_secret_access_key=%r); print(storetasks.library_path()); "
            "print(len(c.get_paginator('describe_store_image_tasks').paginate().build_full_result()"
            "['StoreImageTaskResults']))") % (REGION, emulator.url, ACCESS_KEY, SECRET_KEY)
    run = subprocess.run([sys.executable, "-I", "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    library, count = run.stdout.split()
    assert library == str(LIBRARY)
    theirs = boto3.client("ec2", region_name=REGION, endpoint_url=emulator.url, aws_access_key_id=ACCESS_KEY,
                          aws_secret_access_key=SECRET_KEY)
    expected = theirs.get_paginator("describe_store_image_tasks").paginate().build_full_result()
    assert int(count) == len(expected["StoreImageTaskResults"]) > 0

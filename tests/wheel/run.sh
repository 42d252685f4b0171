#!/bin/sh
# The wheel as a user gets it: a fresh venv in a temporary folder outside the checkout, holding
# only the wheel `make wheel` built and the test requirements (boto3, botocore, awscli, pytest),
# and the Python test-suite copied next to it and run from there against the emulator, with no
# STORETASKS_LIBRARY, no PYTHONPATH and nothing of the checkout on sys.path.
#   WHEEL_DIR=build/wheel STORETASKS_EMULATOR=... VERSION=0.1.0 sh tests/wheel/run.sh
# `make test-wheel` builds the wheel and runs it.
#
# What is copied: tests/python (the suite), tests/wheel/test_installed_wheel.py (checks that the
# package and the library loaded are the wheel's) and include/storetasks.h (the suite compares
# the library's status table with it). With STORETASKS_TEST_INSTALLED=1 the suite imports the
# installed package instead of the checkout's bindings/python, and skips, saying why, the tests
# that need the checkout itself: the C examples (they link the checkout's build) and
# `pip install bindings/python` from the source folder. `make test-python` runs those.
set -eu
: "${WHEEL_DIR:?folder holding the wheel (make wheel writes build/wheel)}"
: "${STORETASKS_EMULATOR:?path to storetasks-emulator}"
: "${VERSION:?the version the wheel must carry (the Makefile passes Cargo.toml version)}"
PYTHON=${PYTHON:-python3}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
emulator=$(cd "$(dirname "$STORETASKS_EMULATOR")" && pwd)/$(basename "$STORETASKS_EMULATOR")

set -- "$WHEEL_DIR"/storetasks-*.whl
if [ $# -ne 1 ] || [ ! -f "$1" ]; then
    echo "expected one storetasks-*.whl in $WHEEL_DIR, found: $*" >&2
    exit 1
fi
wheel=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")

work=$(mktemp -d "${TMPDIR:-/tmp}/storetasks-wheel-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'rm -rf "$work"; exit 130' INT TERM
case "$work/" in
"$root"/*) echo "the test folder $work is inside the checkout; set TMPDIR elsewhere" >&2; exit 1 ;;
esac

echo "== a fresh venv with $(basename "$wheel") and tests/python/requirements.txt"
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "$wheel" -r "$root/tests/python/requirements.txt"

suite=$work/suite
mkdir -p "$suite/tests" "$suite/include"
cp -R "$root/tests/python" "$suite/tests/python"
rm -rf "$suite/tests/python/__pycache__"
cp "$here/test_installed_wheel.py" "$suite/tests/python/"
cp "$root/include/storetasks.h" "$suite/include/"

echo "== tests/python from $suite against the installed wheel"
cd "$suite"
# env -i: nothing of the caller's environment (PYTHONPATH, STORETASKS_LIBRARY, LD_LIBRARY_PATH...)
# reaches the run but what is listed here.
env -i PATH="$work/venv/bin:/usr/local/bin:/usr/bin:/bin" HOME="$work" TMPDIR="${TMPDIR:-/tmp}" LANG=C.UTF-8 \
    STORETASKS_TEST_INSTALLED=1 STORETASKS_EMULATOR="$emulator" STORETASKS_CHECKOUT="$root" \
    STORETASKS_WHEEL="$wheel" STORETASKS_VERSION="$VERSION" \
    "$work/venv/bin/python" -m pytest tests/python -q -rs

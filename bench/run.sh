#!/bin/sh
# Runs every benchmark against the bundled emulator and writes the report (make bench).
#
#   bench/run.sh                  full sizes; the report goes to docs/benchmarks.md
#   BENCH_SMALL=1 bench/run.sh    tiny sizes (CI): figures printed, nothing asserted, the report
#                                 goes to build/bench/benchmarks.md
#   BENCH_ONLY=fleet bench/run.sh only the fleet benchmark (many regions at once); its report goes
#                                 to build/bench/benchmarks-fleet.md
#   BENCH_ONLY=aio bench/run.sh   only the asyncio benchmark (storetasks.aio and aiobotocore, many
#                                 listings at once); its report goes to build/bench/benchmarks-aio.md
#
# Needs the release build (cargo build --release --workspace --all-targets: the library, the
# emulator and the Rust benchmark programs), a C compiler, the .venv of make venv (boto3, the AWS
# CLI), valgrind for the profile (BENCH_PROFILE=0 skips it) and Go for the Go rows (skipped
# without it). The asyncio benchmark makes a venv of its own, build/bench/aio-venv, from
# bench/python/aio-requirements.txt when it is missing or out of date (pip fetches the packages);
# it is skipped, and the report says why, when that fails, and with BENCH_AIO=0.
# BENCH_OUT=path writes the report elsewhere.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
LIBDIR=${LIBDIR:-$ROOT/target/release}
BUILD=${BUILD:-$ROOT/build}
CC=${CC:-cc}
PYTHON=${BENCH_PYTHON:-$ROOT/.venv/bin/python}

for f in "$LIBDIR/libstoretasks.so" "$LIBDIR/storetasks-emulator" "$LIBDIR/storetasks-bench-sdk" \
         "$LIBDIR/storetasks-bench-floor" "$LIBDIR/storetasks-bench-reader"; do
    if [ ! -e "$f" ]; then
        echo "bench/run.sh: $f is missing; run: cargo build --release --workspace --all-targets" >&2
        exit 1
    fi
done
if [ ! -x "$PYTHON" ]; then
    echo "bench/run.sh: $PYTHON is missing; run: make venv" >&2
    exit 1
fi

# A library with a SONAME (libstoretasks.so.<major>) is looked up by that name at run time: give
# it one next to the programs, for the C program (rpath) and for cgo's (LD_LIBRARY_PATH).
mkdir -p "$BUILD/bench/lib"
soname=$(objdump -p "$LIBDIR/libstoretasks.so" 2>/dev/null | awk '$1 == "SONAME" { print $2 }')
if [ -n "$soname" ] && [ "$soname" != libstoretasks.so ]; then
    ln -sf "$LIBDIR/libstoretasks.so" "$BUILD/bench/lib/$soname"
fi
LD_LIBRARY_PATH=$BUILD/bench/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH
$CC -std=c99 -O2 -Wall -Wextra -pedantic -Werror -Iinclude bench/c/storetasks_bench.c \
    -o "$BUILD/bench/storetasks_bench" -L"$LIBDIR" -lstoretasks -Wl,-rpath,"$BUILD/bench/lib:$LIBDIR"
$CC -std=c99 -D_POSIX_C_SOURCE=200809L -O2 -Wall -Wextra -pedantic -Werror -Iinclude examples/c/describe_tasks.c \
    -o "$BUILD/bench/describe_tasks" -L"$LIBDIR" -lstoretasks -Wl,-rpath,"$BUILD/bench/lib:$LIBDIR"

if [ -n "${BENCH_SMALL:-}" ] && [ "${BENCH_SMALL}" != 0 ]; then
    default_command="BENCH_SMALL=1 bench/run.sh"
else
    default_command="bench/run.sh"
fi
BENCH_COMMAND=${BENCH_COMMAND:-$default_command} LIBDIR=$LIBDIR BENCH_C=$BUILD/bench/storetasks_bench \
    BENCH_DESCRIBE=$BUILD/bench/describe_tasks \
    STORETASKS_EMULATOR=${STORETASKS_EMULATOR:-$LIBDIR/storetasks-emulator} \
    exec "$PYTHON" bench/harness.py

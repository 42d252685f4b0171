#!/bin/sh
# The time to list 10,000 generated tasks (pages of 200) with the R package (paginate() over
# describe_store_image_tasks) next to the Python package (its paginator), both in process, on the
# same emulator; the median of REPS runs after WARMUP (make bench-r).
#
#   bench/r/run.sh                 10,000 tasks, 2 warm-up runs, 7 timed runs
#   BENCH_SMALL=1 bench/r/run.sh   1,000 tasks, 1 and 3
#
# Needs the release build (the library and the emulator), R, and the .venv of make venv. The R
# package is built from bindings/r and installed into $BUILD/bench/r-lib.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
LIBDIR=$(cd "${LIBDIR:-$ROOT/target/release}" && pwd)
BUILD=${BUILD:-$ROOT/build}
EMULATOR=${STORETASKS_EMULATOR:-$LIBDIR/storetasks-emulator}
PYTHON=${BENCH_PYTHON:-$ROOT/.venv/bin/python}
if [ -n "${BENCH_SMALL:-}" ] && [ "$BENCH_SMALL" != 0 ]; then
    tasks=1000 warmup=1 reps=3
else
    tasks=10000 warmup=2 reps=7
fi
for f in "$LIBDIR/libstoretasks.so" "$EMULATOR" "$PYTHON"; do
    [ -e "$f" ] || { echo "bench/r/run.sh: $f is missing (make build venv)" >&2; exit 1; }
done

mkdir -p "$BUILD/bench/r-lib"
rlib=$(cd "$BUILD/bench/r-lib" && pwd)
work=$(mktemp -d)
emu=
cleanup() { [ -z "$emu" ] || kill "$emu" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

(cd "$work" && R CMD build --no-manual "$ROOT/bindings/r" >build.log 2>&1) || { cat "$work/build.log"; exit 1; }
STORETASKS_LIBDIR=$LIBDIR STORETASKS_INCLUDE=$ROOT/include R CMD INSTALL --library="$rlib" "$work"/storetasks_*.tar.gz \
    > "$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }

"$EMULATOR" --port 0 --generate "$tasks" --seed 7 > "$work/emu.out" &
emu=$!
i=0
until grep -q "^listening " "$work/emu.out" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "the emulator did not start" >&2; exit 1; }
    sleep 0.1
done
endpoint="http://$(sed -n 's/^listening //p' "$work/emu.out")"

r_json=$(R_LIBS="$rlib" Rscript bench/r/bench_list.R "$endpoint" "$tasks" "$warmup" "$reps")
py_json=$(env -u LD_LIBRARY_PATH STORETASKS_LIBRARY="$LIBDIR/libstoretasks.so" \
    "$PYTHON" bench/python/bench_clients.py storetasks "$endpoint" "$tasks" "$warmup" "$reps" | tail -n 1)

"$PYTHON" - "$tasks" "$r_json" "$py_json" <<'PY'
import json, statistics, sys
tasks, r, py = int(sys.argv[1]), json.loads(sys.argv[2])["times"], json.loads(sys.argv[3])["times"]
print(f"Listing {tasks:,} tasks (pages of 200), median of {len(r)} runs after warm-up, same emulator:")
for name, times in (("R package (storetasks, paginate)", r), ("Python package (storetasks, paginator)", py)):
    print(f"  {name:40s} {statistics.median(times) * 1000:8.1f} ms   (min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f})")
PY

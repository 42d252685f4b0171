#!/bin/sh
# Builds the fuzz targets (libFuzzer, with coverage instrumentation) and runs each for a bounded
# time, keeping the corpus in fuzz/corpus/<target>. Needs a nightly toolchain and cargo-fuzz.
#   FUZZ_SECONDS=60 sh fuzz/run.sh [target...]
# Fails when a target crashes, when the fuzzer exits with an error (including a failed build or
# an unknown target), and when a target ran fewer new inputs than FUZZ_MIN_EXECS (the replay of
# the corpus it starts from does not count): a run that did not really fuzz must not pass.
#   FUZZ_SECONDS     seconds per target (a whole number above 0; default 60)
#   FUZZ_MIN_EXECS   the fewest inputs a target must run (default 1000; a healthy 60 s run on
#                    two cores runs tens of thousands)
#   FUZZ_SANITIZER   none (default) or address: what cargo-fuzz applies to every crate. Whatever it
#                    says, the library's own crate (its unsafe C surface, which the c_api target
#                    drives) and the targets are always built with AddressSanitizer (fuzz/Cargo.toml),
#                    so every run checks the library's memory accesses; `address` instruments the
#                    dependencies too, at the price of a much longer build of the SDK (33 minutes
#                    cold on two cores).
#   FUZZ_TARGET_DIR  where the instrumented build goes (default target/fuzz)
#   FUZZ_BUILD_ONLY  1: build the targets and stop (a build ahead of the runs)
set -eu
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
min_execs=${FUZZ_MIN_EXECS:-1000}
sanitizer=${FUZZ_SANITIZER:-none}
case $seconds in
    '' | *[!0-9]* | 0*) echo "fuzz/run.sh: FUZZ_SECONDS must be a whole number above 0, not '$seconds'" >&2; exit 2 ;;
esac
case $min_execs in
    '' | *[!0-9]*) echo "fuzz/run.sh: FUZZ_MIN_EXECS must be a whole number, not '$min_execs'" >&2; exit 2 ;;
esac
all_targets="c_api replies reader differential"
targets=${*:-$all_targets}
CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-$(cd target/.. && pwd)/target/fuzz}
export CARGO_TARGET_DIR
# Both targets in one build; 16 codegen units keep the instrumented build of the AWS SDK to
# minutes (cargo-fuzz's default of 1 takes far longer on two cores).
flags="--sanitizer $sanitizer --codegen-units 16"
# shellcheck disable=SC2086
cargo +nightly fuzz build $flags
# Each build of a target leaves its binary (about 300 MB, instrumented) in deps/ under a name of
# its own (a checkout in another folder gets another) and hard-links the one in use to its plain
# name; the others are never used again. Removing them keeps a reused target directory from
# growing by a gigabyte a change. Only where the plain name is a hard link: where cargo had to
# copy instead, the binary in use has one link too.
out="$CARGO_TARGET_DIR/$(rustc +nightly -vV | sed -n "s/^host: //p")/release"
for t in $all_targets; do
    if [ -n "$(find "$out" -maxdepth 1 -type f -name "$t" -links +1 2>/dev/null)" ]; then
        find "$out/deps" -maxdepth 1 -type f -name "$t-*" ! -name '*.*' -links 1 -exec rm -f {} +
    fi
done
[ "${FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0
status=0
for t in $targets; do
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
    log="fuzz/artifacts/$t.log"
    echo "== fuzzing $t for ${seconds}s (AddressSanitizer on the library; on the dependencies: $sanitizer; at least $min_execs inputs)"
    # The fuzzer's own exit status is kept in a file: a pipeline's status is that of its last
    # command, and plain sh has no pipefail.
    rm -f "$log.status"
    # shellcheck disable=SC2086
    { cargo +nightly fuzz run $flags "$t" "fuzz/corpus/$t" -- \
        -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix="fuzz/artifacts/$t/" 2>&1
      echo $? >"$log.status"; } | tee "$log" |
        grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|==[0-9]+== ?ERROR|.*panicked|SUMMARY)" || true
    rc=$(cat "$log.status" 2>/dev/null || echo unknown)
    rm -f "$log.status"
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
    # libFuzzer first replays the whole corpus, whatever the time limit ("#N INITED" ends it):
    # only the inputs after that are new, and only they count towards the floor.
    replayed=$(sed -n 's/^#\([0-9][0-9]*\)[[:space:]]*INITED.*/\1/p' "$log" | head -n 1)
    if [ -n "$execs" ]; then
        execs=$((execs - ${replayed:-0}))
    fi
    if [ "$rc" != 0 ]; then
        echo "FAIL: fuzz target $t: the fuzzer exited with status $rc; the end of $log:"
        tail -n 40 "$log"
        status=1
    elif grep -q "panicked\|ERROR: libFuzzer\|ERROR: AddressSanitizer\|ERROR: LeakSanitizer" "$log"; then
        echo "FAIL: fuzz target $t found a crash; the end of $log:"
        tail -n 40 "$log"
        status=1
    elif [ -z "$execs" ]; then
        echo "FAIL: fuzz target $t: the fuzzer printed no count of inputs run (stat::number_of_executed_units)"
        tail -n 20 "$log"
        status=1
    elif [ "$execs" -lt "$min_execs" ]; then
        echo "FAIL: fuzz target $t ran $execs new inputs in ${seconds}s (after replaying its corpus of ${replayed:-0}), fewer than the floor of $min_execs"
        status=1
    else
        echo "ok: fuzz target $t ran $execs new inputs in ${seconds}s after replaying its corpus of ${replayed:-0}"
    fi
done
exit $status

#!/bin/sh
# Builds the fuzz targets (libFuzzer, with coverage instrumentation) and runs each for a bounded
# time, keeping the corpus in fuzz/corpus/<target>. Needs a nightly toolchain and cargo-fuzz.
#   FUZZ_SECONDS=60 sh fuzz/run.sh
set -eu
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-$(cd target/.. && pwd)/target/fuzz}
# Both targets in one build; 16 codegen units keep the instrumented build of the AWS SDK to
# minutes (cargo-fuzz's default of 1 takes far longer on two cores).
flags="--sanitizer none --codegen-units 16"
cargo +nightly fuzz build $flags
status=0
for t in c_api replies; do
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
    echo "== fuzzing $t for ${seconds}s"
    cargo +nightly fuzz run $flags "$t" "fuzz/corpus/$t" -- \
        -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix="fuzz/artifacts/$t/" 2>&1 | tee "fuzz/artifacts/$t.log" | grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|==[0-9]+== ERROR|.*panicked|SUMMARY)" || true
    if ls "fuzz/artifacts/$t"/crash-* >/dev/null 2>&1 || grep -q "panicked\|ERROR: libFuzzer" "fuzz/artifacts/$t.log"; then
        echo "fuzz target $t found a crash:"; tail -40 "fuzz/artifacts/$t.log"; status=1
    fi
done
exit $status

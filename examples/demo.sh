#!/bin/sh
# The demo: start the bundled EC2 emulator with the sample tasks on a free loopback port, run the
# C example against it three ways, and stop the emulator.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
EMULATOR=${STORETASKS_EMULATOR:-$root/target/release/storetasks-emulator}
BUILD=${BUILD:-$root/build}
# The sample's tasks are dated for this clock (tasks older than 31 days are hidden, as in EC2).
NOW=2026-11-20T12:00:00Z

out=$(mktemp)
"$EMULATOR" --port 0 --now "$NOW" --tasks-file "$root/tests/data/sample-tasks.json" > "$out" &
emu=$!
trap 'kill $emu 2>/dev/null; rm -f "$out"' EXIT INT TERM
tries=0
until grep -q '^listening ' "$out"; do
    tries=$((tries + 1))
    if [ $tries -gt 100 ] || ! kill -0 $emu 2>/dev/null; then echo "the emulator did not start" >&2; exit 1; fi
    sleep 0.1
done
first=$(head -n 1 "$out")
endpoint="http://${first#listening }"
echo "emulator: $endpoint (pid $emu)"

# The emulator's default key pair; real programs take credentials from the usual AWS sources.
export AWS_ACCESS_KEY_ID=AKIASTORETASKSLOCAL1
export AWS_SECRET_ACCESS_KEY=storetasks-local-secret-key-0000000000000
export AWS_EC2_METADATA_DISABLED=true

run() {
    echo
    echo "\$ describe_tasks $*"
    "$BUILD/describe_tasks" --region us-east-1 --endpoint-url "$endpoint" "$@"
}
run --all
run --filter Name=task-state,Values=Failed,InProgress --all
run --max-results 2 --json
run --dry-run

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
. "$root/tests/lib.sh"
STORETASKS_EMULATOR=$EMULATOR
start_emulator "$out" --now "$NOW" --tasks-file "$root/tests/data/sample-tasks.json"
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
rm -f "$out"

#!/bin/sh
# packaging/prerequisites.sh on a simulated bare machine: a PATH that holds only the basic tools
# (no compiler, valgrind, R or rustup; Go and Wine are found where the machine image puts them), with stand-ins for id, sudo and apt-get that record
# what they were asked. Checks that it installs everything in one apt-get call as root, that as a
# user without sudo it installs nothing and prints the command, that check mode never installs,
# that skip mode checks nothing, and that an unknown group is refused.
#   sh tests/prerequisites/run.sh
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/storetasks-prereq.XXXXXX")
trap 'rm -rf "$work"' EXIT
bin=$work/bin
mkdir -p "$bin"
for t in sh grep sed tr mktemp rm cat dirname printf echo env; do
    p=$(command -v "$t") && ln -s "$p" "$bin/$t"
done
# Stand-ins: `id -u` answers $FAKE_UID; sudo works when $FAKE_SUDO=yes; apt-get records its words.
cat > "$bin/id" <<'S'
#!/bin/sh
echo "${FAKE_UID:-1000}"
S
cat > "$bin/sudo" <<'S'
#!/bin/sh
[ "${FAKE_SUDO:-no}" = yes ] || exit 1
[ "$1" = -n ] && shift && [ "$1" = true ] && exit 0
echo "sudo $*" >> "$LOG"
exec "$@"
S
cat > "$bin/apt-get" <<'S'
#!/bin/sh
echo "apt-get $*" >> "$LOG"
S
chmod +x "$bin/id" "$bin/sudo" "$bin/apt-get"

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
run() { # mode uid sudo groups...
    mode=$1 uid=$2 sudo=$3
    shift 3
    : > "$work/log"
    rc=0
    env -i PATH="$bin" HOME="$work" LOG="$work/log" FAKE_UID="$uid" FAKE_SUDO="$sudo" PYTHON=/nonexistent \
        STORETASKS_PREREQUISITES="$mode" CC=/nonexistent sh "$root/packaging/prerequisites.sh" "$@" > "$work/out" 2>&1 || rc=$?
}

run install 0 no build test
if [ $rc -eq 0 ] && grep -q '^apt-get update' "$work/log" &&
    grep -Eq '^apt-get install -y -qq gcc g\+\+ pkg-config cmake valgrind( golang-go)? gcc-multilib python3-venv r-base-core r-cran-testthat r-cran-jsonlite r-cran-roxygen2$' "$work/log" &&
    [ "$(grep -c '^apt-get install' "$work/log")" -eq 1 ]; then
    ok "as root: every missing package of build and test in one apt-get install, each named once"
else bad "as root (rc $rc): $(cat "$work/log" "$work/out")"; fi

run install 1000 yes build
if [ $rc -eq 0 ] && grep -q '^sudo apt-get update' "$work/log" && grep -q '^sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc g++$' "$work/log"; then
    ok "a user with password-less sudo: installed through sudo"
else bad "with sudo (rc $rc): $(cat "$work/log" "$work/out")"; fi

run install 1000 no build test
if [ $rc -eq 1 ] && [ ! -s "$work/log" ] &&
    grep -q '^  sudo apt-get update && sudo apt-get install -y gcc g++ pkg-config' "$work/out" &&
    grep -q 'gcc-multilib: go vet' "$work/out" && grep -q '^Nothing was built' "$work/out"; then
    ok "a user without sudo: nothing installed, the one command printed with each package's reason"
else bad "without sudo (rc $rc): $(cat "$work/log" "$work/out")"; fi

run check 0 no windows
if [ $rc -eq 1 ] && [ ! -s "$work/log" ] && grep -Eq 'apt-get install -y mingw-w64 cmake( wine64)? && rustup target add x86_64-pc-windows-gnu$' "$work/out"; then
    ok "check mode: nothing installed, the command covers apt and rustup"
else bad "check mode (rc $rc): $(cat "$work/log" "$work/out")"; fi

run skip 1000 no build test windows fuzz miri
if [ $rc -eq 0 ] && [ ! -s "$work/log" ] && [ ! -s "$work/out" ]; then ok "skip mode: checks nothing"
else bad "skip mode (rc $rc): $(cat "$work/out")"; fi

run install 0 no build nonsense
if [ $rc -eq 2 ] && [ ! -s "$work/log" ] && grep -q "no group 'nonsense'" "$work/out"; then ok "an unknown group is refused"
else bad "unknown group (rc $rc): $(cat "$work/out")"; fi

# On this machine, after the Makefile's own check: nothing left to install for the test group.
if STORETASKS_PREREQUISITES=check sh "$root/packaging/prerequisites.sh" build test > "$work/out" 2>&1; then
    ok "this machine has everything make test needs"
else bad "this machine lacks: $(cat "$work/out")"; fi

echo "prerequisites: $passed passed, $failed failed"
[ $failed -eq 0 ]

#!/bin/sh
# The Windows build under Wine, against the Linux emulator on 127.0.0.1: the C tests and the C and
# C++ examples cross-compiled with MinGW-w64 against the DLL (and the C tests once against the
# static library), the CMake package, the examples' output compared byte for byte with the Linux
# build's, and what is Windows' own: shared files under the user profile, paths with backslashes
# and non-ASCII characters, Ctrl-C through the console handler.
#   WIN_DIST=build/windows/libstoretasks-<version>-x86_64-windows-gnu STORETASKS_EMULATOR=... sh tests/windows/run.sh
set -eu
: "${WIN_DIST:?the folder make windows lays out}"
: "${STORETASKS_EMULATOR:?path to the Linux storetasks-emulator}"
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/tests/lib.sh"
BUILD=${BUILD:-build}
dist=$(cd "$WIN_DIST" && pwd)
out=$(mkdir -p "$BUILD/windows" && cd "$BUILD/windows" && pwd)/tests
rm -rf "$out"
mkdir -p "$out/bin" "$out/static"
WIN_CC=${WIN_CC:-x86_64-w64-mingw32-gcc}
WIN_CXX=${WIN_CXX:-x86_64-w64-mingw32-g++}
WINE=${WINE:-/usr/lib/wine/wine64}
export WINEPREFIX=${WINEPREFIX:-$(cd "$BUILD/windows" && pwd)/wineprefix} WINEDEBUG=-all
strict="-Wall -Wextra -pedantic -Werror"
status=0
passed=0
ok() { passed=$((passed + 1)); printf 'ok   %s\n' "$1"; }
fail() { status=1; printf 'FAIL %s\n' "$1"; }

echo "== building the test programs with $WIN_CC"
# The DLL and, for Wine 8 only, the stand-in for the bcryptprimitives.dll it lacks, next to the
# programs (Windows looks first in the program's folder).
cp "$dist/bin/storetasks.dll" "$out/bin/"
$WIN_CC -shared -O2 -o "$out/bin/bcryptprimitives.dll" "$here/bcryptprimitives.c" -ladvapi32
cp "$out/bin/bcryptprimitives.dll" "$out/static/"
# -static: MinGW's own runtime pieces (winpthreads, libgcc, libstdc++) go into each program, so
# that only storetasks.dll needs to sit next to it.
static_libs=$(PKG_CONFIG_PATH="$dist/lib/pkgconfig" pkg-config --libs storetasks-static)
for t in test_api test_wait test_stress test_logswap; do
    $WIN_CC -std=c99 -D_POSIX_C_SOURCE=200809L $strict -O1 -I"$dist/include" "$root/tests/c/$t.c" \
        -o "$out/bin/$t.exe" "$dist/lib/libstoretasks.dll.a" -lws2_32 -lpthread -static
    # shellcheck disable=SC2086
    $WIN_CC -std=c99 -D_POSIX_C_SOURCE=200809L $strict -O1 -DSTORETASKS_STATIC -I"$dist/include" \
        "$root/tests/c/$t.c" -o "$out/static/$t.exe" $static_libs -lws2_32 -lpthread -static
done
for e in describe_tasks wait_tasks; do
    $WIN_CC -std=c99 $strict -O2 -I"$dist/include" "$root/examples/c/$e.c" -o "$out/bin/$e.exe" \
        "$dist/lib/libstoretasks.dll.a" -static
done
$WIN_CXX -std=c++17 $strict -O2 -I"$dist/include" "$root/examples/cpp/describe_tasks.cpp" \
    -o "$out/bin/describe_tasks_cpp.exe" "$dist/lib/libstoretasks.dll.a" -static

# The Go package's tests as a Windows program (cgo with the MinGW compiler), built as a user of the
# distribution folder builds: through its pkg-config file (the package's default), which finds
# the header and the DLL's import library from its own place.
(cd "$root/bindings/go" && GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC="$WIN_CC" \
    PKG_CONFIG_PATH="$dist/lib/pkgconfig" go test -c -o "$out/bin/storetasks_go_test.exe" .)

# The CMake package, as a Windows project would use it (cross-compiling here).
cmake -S "$root/tests/install" -B "$out/cmake" -DCMAKE_SYSTEM_NAME=Windows -DCMAKE_C_COMPILER="$WIN_CC" \
    -DCMAKE_BUILD_TYPE=Release -Dstoretasks_DIR="$dist/lib/cmake/storetasks" -DCMAKE_C_STANDARD_LIBRARIES="-static" >/dev/null
cmake --build "$out/cmake" >/dev/null
cp "$out/cmake/consumer_cmake_shared.exe" "$out/bin/"
cp "$out/cmake/consumer_cmake_static.exe" "$out/static/"
ok "test programs, examples and the CMake consumer built"

echo "== Wine: $($WINE --version 2>/dev/null || echo "$WINE")"
"$WINE" wineboot --init >/dev/null 2>&1 || true
# Go's runtime loads bcryptprimitives.dll from System32 only: the stand-in goes there too (in this
# test-owned prefix), unless Wine has its own.
sys32="$WINEPREFIX/drive_c/windows/system32"
[ -e "$sys32/bcryptprimitives.dll" ] || cp "$out/bin/bcryptprimitives.dll" "$sys32/"
run_wine() { # limit name program args...: runs a Windows program, stdout to the caller
    _l=$1; _n=$2; shift 2
    run_limited "$_l" "$_n" "$WINE" "$@"
}

# The C tests: each starts its own emulator (the Linux program, which Wine runs as it is).
for dir in bin static; do
    for t in test_api test_wait test_stress test_logswap; do
        name="$t.exe ($([ $dir = bin ] && echo DLL || echo static))"
        if run_wine 300 "$name" "$out/$dir/$t.exe" > "$out/$dir/$t.log" 2>&1; then
            ok "$name: $(tail -n 1 "$out/$dir/$t.log")"
        else
            fail "$name"
            tail -n 20 "$out/$dir/$t.log"
        fi
    done
done

# The Go tests start their own emulators: the Linux program, which Wine runs as it is, under a
# name ending in .exe, without which Go on Windows does not start a program. They run in the
# package's folder, as `go test` runs them (they read ../../tests/data).
ln -sf "$STORETASKS_EMULATOR" "$out/bin/storetasks-emulator.exe"
if (cd "$root/bindings/go" && STORETASKS_EMULATOR="$out/bin/storetasks-emulator.exe" \
    run_wine 600 "Go tests" "$out/bin/storetasks_go_test.exe" -test.v -test.count=1) > "$out/go.log" 2>&1; then
    ok "Go package tests: $(grep -c -- '--- PASS' "$out/go.log") passed (tests and subtests), $(tail -n 1 "$out/go.log")"
else
    fail "Go package tests"
    tail -n 30 "$out/go.log"
fi

start_emulator "$out/emulator.out" --generate 1200 --seed 5 --now 2026-11-20T12:00:00Z
export AWS_ACCESS_KEY_ID=AKIASTORETASKSLOCAL1 AWS_SECRET_ACCESS_KEY=storetasks-local-secret-key-0000000000000
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE 2>/dev/null || true

for dir in bin static; do
    if run_wine 120 consumer "$out/$dir/consumer_cmake_$([ $dir = bin ] && echo shared || echo static).exe" \
        "$endpoint" 1200 > "$out/consumer_$dir.log" 2>&1; then
        ok "CMake consumer ($dir): $(head -n 1 "$out/consumer_$dir.log")"
    else
        fail "CMake consumer ($dir)"
        cat "$out/consumer_$dir.log"
    fi
done

# The examples print the same bytes as the Linux build (stdout in binary mode: "\n" line ends).
linux_describe=${LINUX_DESCRIBE:-$root/$BUILD/describe_tasks}
same_output() { # description args...
    _d=$1; shift
    "$linux_describe" --region us-east-1 --endpoint-url "$endpoint" "$@" > "$out/linux.out" 2>&1 || echo "exit $?" >> "$out/linux.out"
    for exe in describe_tasks describe_tasks_cpp; do
        run_wine 120 "$exe" "$out/bin/$exe.exe" --region us-east-1 --endpoint-url "$endpoint" "$@" \
            > "$out/windows.out" 2>&1 || echo "exit $?" >> "$out/windows.out"
        if cmp -s "$out/linux.out" "$out/windows.out" && [ -s "$out/linux.out" ]; then
            ok "$exe.exe $_d: the same $(wc -c < "$out/linux.out") bytes as Linux"
        else
            fail "$exe.exe $_d differs from Linux"
            diff "$out/linux.out" "$out/windows.out" | head -n 10 || true
        fi
    done
}
same_output "--all --json" --all --json
same_output "table, failed tasks" --all --filter Name=task-state,Values=Failed
same_output "bad image id" --image-id ami-nothex
grep -q '\\r' "$out/windows.out" && fail "CR in the Windows output" || true

# Shared config and credentials files under the user profile (%USERPROFILE%\.aws), found with no
# variable pointing at them.
profile_dir=$("$WINE" cmd /c echo %USERPROFILE% 2>/dev/null | tr -d '\r')
unix_profile=$("$WINE" winepath -u "$profile_dir" 2>/dev/null | tr -d '\r')
mkdir -p "$unix_profile/.aws"
printf '[profile winprofile]\nregion = us-east-1\n' > "$unix_profile/.aws/config"
printf '[winprofile]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" \
    > "$unix_profile/.aws/credentials"
if (unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY HOME
    run_wine 120 describe_tasks "$out/bin/describe_tasks.exe" --profile winprofile --endpoint-url "$endpoint" \
        --max-results 5) > "$out/profile.out" 2>&1 && grep -q '^ami-' "$out/profile.out"; then
    ok "profile winprofile read from $profile_dir\\.aws"
else
    fail "profile from the user profile's .aws folder"
    cat "$out/profile.out"
fi

# The same files at Windows paths with backslashes and non-ASCII characters.
odd_unix="$unix_profile/Données partagées"
mkdir -p "$odd_unix"
mv "$unix_profile/.aws/config" "$odd_unix/config"
mv "$unix_profile/.aws/credentials" "$odd_unix/identifiants"
odd_win="$profile_dir\\Données partagées"
if (unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY HOME
    export AWS_CONFIG_FILE="$odd_win\\config" AWS_SHARED_CREDENTIALS_FILE="$odd_win\\identifiants"
    run_wine 120 describe_tasks "$out/bin/describe_tasks.exe" --profile winprofile --endpoint-url "$endpoint" \
        --max-results 5) > "$out/odd.out" 2>&1 && grep -q '^ami-' "$out/odd.out"; then
    ok "config and credentials files at $odd_win"
else
    fail "config and credentials files at a path with backslashes and non-ASCII characters"
    cat "$out/odd.out"
fi
# A CA bundle at such a path, named on the command line (which the examples read as UTF-8): read
# and used to build the client; a missing one is refused with its path spelled as it was given.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$out/ca.key" -out "$odd_unix/autorité de test.pem" \
    -subj /CN=storetasks-test-ca -days 2 >/dev/null 2>&1
if run_wine 120 describe_tasks "$out/bin/describe_tasks.exe" --region us-east-1 --endpoint-url "$endpoint" \
    --ca-bundle "$odd_win\\autorité de test.pem" --max-results 5 > "$out/ca.out" 2>&1 && grep -q '^ami-' "$out/ca.out"; then
    ok "CA bundle read from $odd_win\\autorité de test.pem"
else
    fail "CA bundle at a path with backslashes and non-ASCII characters"
    cat "$out/ca.out"
fi
rc=0
run_wine 120 describe_tasks "$out/bin/describe_tasks.exe" --region us-east-1 --endpoint-url "$endpoint" \
    --ca-bundle "$odd_win\\absente.pem" > "$out/ca-missing.out" 2>&1 || rc=$?
if [ $rc -eq 1 ] && grep -qF "$odd_win\\absente.pem" "$out/ca-missing.out"; then
    ok "a missing CA bundle is refused: $(head -n 1 "$out/ca-missing.out")"
else
    fail "a missing CA bundle at a non-ASCII path: exit $rc"
    cat "$out/ca-missing.out"
fi
rm -rf "$unix_profile/.aws" "$odd_unix"

# Ctrl-C: Wine turns SIGINT into the console's CTRL_C_EVENT, which wait_tasks' handler gets.
kill $emu 2>/dev/null || true
ami=ami-0123456789abcdef0
printf '{"StoreImageTaskResults": [{"AmiId": "%s", "TaskStartTime": "2026-11-20T11:59:00.000Z", "Bucket": "b", "ProgressPercentage": 1, "StoreTaskState": "InProgress"}]}\n' \
    "$ami" > "$out/wait-tasks.json"
start_emulator "$out/emulator-wait.out" --tasks-file "$out/wait-tasks.json" --now 2026-11-20T12:00:00Z
"$WINE" "$out/bin/wait_tasks.exe" --region us-east-1 --endpoint-url "$endpoint" --min-delay 200 --max-delay 200 "$ami" \
    > "$out/ctrlc.out" 2>&1 &
waiter=$!
sleep 5
kill -INT $waiter 2>/dev/null || true
# Gone within 20 s, or killed (and the check fails).
tries=0
while kill -0 $waiter 2>/dev/null && [ $tries -lt 40 ]; do sleep 0.5; tries=$((tries + 1)); done
kill -KILL $waiter 2>/dev/null || true
rc=0
wait $waiter || rc=$?
if [ $rc -eq 130 ] && grep -q '^Cancelled\.' "$out/ctrlc.out"; then
    ok "wait_tasks.exe: Ctrl-C cancels the wait (exit 130)"
else
    fail "wait_tasks.exe and Ctrl-C: exit $rc"
    cat "$out/ctrlc.out"
fi

echo "windows: $passed passed, $([ $status = 0 ] && echo 0 || echo some) failed"
exit $status

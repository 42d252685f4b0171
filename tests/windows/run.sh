#!/bin/sh
# The Windows build under Wine, against the Linux emulator on 127.0.0.1: the C tests (the calls that
# do not block through their callbacks, as Windows has no descriptor), the C++ fleet
# and wait-target tests and the C and C++ examples cross-compiled with MinGW-w64 against the DLL
# (and the C tests once against the static library), the CMake package, the examples' output
# (fleet_tasks' too, through a role) compared byte for byte with the Linux build's, and what is
# Windows' own: shared files under the user profile, paths and arguments with backslashes and
# non-ASCII characters, start times its C library cannot convert, Ctrl-C through the console
# handler.
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
# The C++ tests start std::threads, which MinGW's g++ has only with its POSIX thread model
# (Debian's x86_64-w64-mingw32-g++ defaults to the win32 one).
WIN_CXX_THREADS=${WIN_CXX_THREADS:-x86_64-w64-mingw32-g++-posix}
WINE=${WINE:-/usr/lib/wine/wine64}
export WINEPREFIX=${WINEPREFIX:-$(cd "$BUILD/windows" && pwd)/wineprefix} WINEDEBUG=-all
strict="-Wall -Wextra -pedantic -Werror"
status=0
passed=0
ok() { passed=$((passed + 1)); printf 'ok   %s\n' "$1"; }
fail() { status=1; printf 'FAIL %s\n' "$1"; }
# Judges a run that has finished: it passes when its exit status, $rc, is $1 and its output, the
# file $2, has a line that grep finds with the last arguments (has none, after a "!"); otherwise
# it fails, with the exit status, and shows the output.
expect_run() { # status output-file ok-description fail-description [!] grep-arguments...
    _want=$1; _file=$2; _good=$3; _bad=$4
    shift 4
    _negate=false
    if [ "$1" = '!' ]; then _negate=true; shift; fi
    _found=true
    grep -q "$@" "$_file" || _found=false
    if [ "$rc" -eq "$_want" ] && [ "$_found" != "$_negate" ]; then
        ok "$_good"
    else
        fail "$_bad: exit $rc"
        cat "$_file"
    fi
}

echo "== building the test programs with $WIN_CC"
# The DLL and, for Wine 8 only, the stand-in for the bcryptprimitives.dll it lacks, next to the
# programs (Windows looks first in the program's folder).
cp "$dist/bin/storetasks.dll" "$out/bin/"
$WIN_CC -shared -O2 -o "$out/bin/bcryptprimitives.dll" "$here/bcryptprimitives.c" -ladvapi32
cp "$out/bin/bcryptprimitives.dll" "$out/static/"
# -static: MinGW's own runtime pieces (winpthreads, libgcc, libstdc++) go into each program, so
# that only storetasks.dll needs to sit next to it.
static_libs=$(PKG_CONFIG_PATH="$dist/lib/pkgconfig" pkg-config --libs storetasks-static)
c_tests="test_api test_wait test_stress test_logswap test_fleet test_callbacks"
cpp_tests="test_fleet test_wait_targets"
for t in $c_tests; do
    $WIN_CC -std=c99 -D_POSIX_C_SOURCE=200809L $strict -O1 -I"$dist/include" "$root/tests/c/$t.c" \
        -o "$out/bin/$t.exe" "$dist/lib/libstoretasks.dll.a" -lws2_32 -lpthread -static
    # shellcheck disable=SC2086
    $WIN_CC -std=c99 -D_POSIX_C_SOURCE=200809L $strict -O1 -DSTORETASKS_STATIC -I"$dist/include" \
        "$root/tests/c/$t.c" -o "$out/static/$t.exe" $static_libs -lws2_32 -lpthread -static
done
# The C++ tests as test_<name>_cpp.exe (test_fleet.exe is the C one).
for t in $cpp_tests; do
    $WIN_CXX_THREADS -std=c++17 $strict -O1 -I"$dist/include" "$root/tests/cpp/$t.cpp" -o "$out/bin/${t}_cpp.exe" \
        "$dist/lib/libstoretasks.dll.a" -lws2_32 -static
done
for e in describe_tasks wait_tasks fleet_tasks; do
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
run_test() { # name program log
    if run_wine 300 "$1" "$2" > "$3" 2>&1; then
        ok "$1: $(tail -n 1 "$3")"
    else
        fail "$1"
        tail -n 20 "$3"
    fi
}
for dir in bin static; do
    for t in $c_tests; do
        run_test "$t.exe ($([ $dir = bin ] && echo DLL || echo static))" "$out/$dir/$t.exe" "$out/$dir/$t.log"
    done
done
# The C++ tests, each with its own emulator too.
for t in $cpp_tests; do
    run_test "${t}_cpp.exe (C++, DLL)" "$out/bin/${t}_cpp.exe" "$out/bin/${t}_cpp.log"
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

# The examples print the same bytes as the Linux build (stdout in binary mode: "\n" line ends,
# never a carriage return, which a stream in text mode would put before each).
linux_describe=${LINUX_DESCRIBE:-$root/$BUILD/describe_tasks}
linux_fleet=${LINUX_FLEET:-$root/$BUILD/fleet_tasks}
cr=$(printf '\r')
same_as_linux() { # description linux-program "windows-programs" args...
    _d=$1; _linux=$2; _exes=$3; shift 3
    "$_linux" --region us-east-1 --endpoint-url "$endpoint" "$@" > "$out/linux.out" 2>&1 || echo "exit $?" >> "$out/linux.out"
    for exe in $_exes; do
        run_wine 120 "$exe" "$out/bin/$exe.exe" --region us-east-1 --endpoint-url "$endpoint" "$@" \
            > "$out/windows.out" 2>&1 || echo "exit $?" >> "$out/windows.out"
        if grep -q "$cr" "$out/windows.out"; then
            fail "$exe.exe $_d: a carriage return in the Windows output"
        elif cmp -s "$out/linux.out" "$out/windows.out" && [ -s "$out/linux.out" ]; then
            ok "$exe.exe $_d: the same $(wc -c < "$out/linux.out") bytes as Linux"
        else
            fail "$exe.exe $_d differs from Linux"
            diff "$out/linux.out" "$out/windows.out" | head -n 10 || true
        fi
    done
}
same_output() { # description args...
    _desc=$1; shift
    same_as_linux "$_desc" "$linux_describe" "describe_tasks describe_tasks_cpp" "$@"
}
same_output "--all --json" --all --json
same_output "table, failed tasks" --all --filter Name=task-state,Values=Failed
same_output "bad image id" --image-id ami-nothex

# Shared config and credentials files under the user profile (%USERPROFILE%\.aws), found with no
# variable pointing at them.
profile_dir=$("$WINE" cmd /c echo %USERPROFILE% 2>/dev/null | tr -d '\r')
unix_profile=$("$WINE" winepath -u "$profile_dir" 2>/dev/null | tr -d '\r')
mkdir -p "$unix_profile/.aws"
printf '[profile winprofile]\nregion = us-east-1\n' > "$unix_profile/.aws/config"
printf '[winprofile]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" \
    > "$unix_profile/.aws/credentials"
rc=0
(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY HOME
    run_wine 120 describe_tasks "$out/bin/describe_tasks.exe" --profile winprofile --endpoint-url "$endpoint" \
        --max-results 5) > "$out/profile.out" 2>&1 || rc=$?
expect_run 0 "$out/profile.out" "profile winprofile read from $profile_dir\\.aws" \
    "profile from the user profile's .aws folder" '^ami-'

# The same files at Windows paths with backslashes and non-ASCII characters.
odd_unix="$unix_profile/Données partagées"
mkdir -p "$odd_unix"
mv "$unix_profile/.aws/config" "$odd_unix/config"
mv "$unix_profile/.aws/credentials" "$odd_unix/identifiants"
odd_win="$profile_dir\\Données partagées"
rc=0
(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY HOME
    export AWS_CONFIG_FILE="$odd_win\\config" AWS_SHARED_CREDENTIALS_FILE="$odd_win\\identifiants"
    run_wine 120 describe_tasks "$out/bin/describe_tasks.exe" --profile winprofile --endpoint-url "$endpoint" \
        --max-results 5) > "$out/odd.out" 2>&1 || rc=$?
expect_run 0 "$out/odd.out" "config and credentials files at $odd_win" \
    "config and credentials files at a path with backslashes and non-ASCII characters" '^ami-'
# A CA bundle at such a path, named on the command line (which the examples read as UTF-8): read
# and used to build the client; a missing one is refused with its path spelled as it was given.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$out/ca.key" -out "$odd_unix/autorité de test.pem" \
    -subj /CN=storetasks-test-ca -days 2 >/dev/null 2>&1
rc=0
run_wine 120 describe_tasks "$out/bin/describe_tasks.exe" --region us-east-1 --endpoint-url "$endpoint" \
    --ca-bundle "$odd_win\\autorité de test.pem" --max-results 5 > "$out/ca.out" 2>&1 || rc=$?
expect_run 0 "$out/ca.out" "CA bundle read from $odd_win\\autorité de test.pem" \
    "CA bundle at a path with backslashes and non-ASCII characters" '^ami-'
rc=0
run_wine 120 describe_tasks "$out/bin/describe_tasks.exe" --region us-east-1 --endpoint-url "$endpoint" \
    --ca-bundle "$odd_win\\absente.pem" > "$out/ca-missing.out" 2>&1 || rc=$?
expect_run 1 "$out/ca-missing.out" "a missing CA bundle is refused: $(head -n 1 "$out/ca-missing.out")" \
    "a missing CA bundle at a non-ASCII path" -F "$odd_win\\absente.pem"
rm -rf "$unix_profile/.aws" "$odd_unix"
# wait_tasks reads its command line as UTF-8 too: a region name that is not ASCII reaches the
# library as the UTF-8 it is (no such region: the wait fails, exit 1), where the ANSI code page
# would have made it invalid UTF-8, refused as a bad command line (exit 2).
rc=0
run_wine 120 wait_tasks "$out/bin/wait_tasks.exe" --region "région-1" --endpoint-url "$endpoint" --timeout 2000 \
    ami-0123456789abcdef0 > "$out/utf8-args.out" 2>&1 || rc=$?
expect_run 1 "$out/utf8-args.out" "wait_tasks.exe --region région-1: the name read as UTF-8 ($(head -n 1 "$out/utf8-args.out"))" \
    "wait_tasks.exe with a non-ASCII region name on its command line" ! 'not valid UTF-8'

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
expect_run 130 "$out/ctrlc.out" "wait_tasks.exe: Ctrl-C cancels the wait (exit 130)" "wait_tasks.exe and Ctrl-C" '^Cancelled\.'

# A start time Windows' C library cannot convert (before 1970; after 3000 too, which Wine 8's does
# convert) is printed as "(invalid time)", where the Linux build prints the date (and the last
# second of 1969 for this one); the emulator's clock in January 1970 keeps it within its 31 days.
kill $emu 2>/dev/null || true
printf '{"StoreImageTaskResults": [%s]}\n' \
    '{"AmiId": "ami-0123456789abcdef0", "TaskStartTime": "1969-12-31T23:59:59.500Z", "Bucket": "b", "ProgressPercentage": 100, "StoreTaskState": "Completed"}' \
    > "$out/odd-times.json"
start_emulator "$out/emulator-times.out" --tasks-file "$out/odd-times.json" --now 1970-01-10T00:00:00Z
rc=0
run_wine 120 describe_tasks "$out/bin/describe_tasks.exe" --region us-east-1 --endpoint-url "$endpoint" --all \
    > "$out/odd-times.out" 2>&1 || rc=$?
expect_run 0 "$out/odd-times.out" "describe_tasks.exe: a start time in 1969 printed as (invalid time)" \
    "describe_tasks.exe and a start time in 1969" '^ami-0123456789abcdef0 .* (invalid time) '

# fleet_tasks prints what the Linux build prints, for several regions and through a role (whose
# STS endpoint, on the emulator's port, is named by the variable the AWS CLI reads too).
kill $emu 2>/dev/null || true
role=arn:aws:iam::111111111111:role/StoreTasksReader
start_emulator "$out/emulator-fleet.out" --generate 40 --seed 9 --now 2026-11-20T12:00:00Z \
    --regions eu-west-3,ap-south-1 --role "$role"
export AWS_ENDPOINT_URL_STS="$endpoint"
same_as_linux "--json, three regions" "$linux_fleet" fleet_tasks --json --regions us-east-1,eu-west-3,ap-south-1
same_as_linux "table and summary through a role" "$linux_fleet" fleet_tasks --regions us-east-1,eu-west-3 --role-arn "$role"
same_as_linux "--json through a role, Failed tasks" "$linux_fleet" fleet_tasks --json --all-regions --role-arn "$role" \
    --filter Name=task-state,Values=Failed
unset AWS_ENDPOINT_URL_STS

echo "windows: $passed passed, $([ $status = 0 ] && echo 0 || echo some) failed"
exit $status

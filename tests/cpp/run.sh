#!/bin/sh
# Builds the C++ tests against include/storetasks.hpp and the shared library, and runs them three
# ways: plain, under valgrind (any error or leak fails), and with AddressSanitizer and UBSan. Then
# builds the C++ example and checks that it prints exactly what the C example prints.
set -eu
. "$(dirname "$0")/../lib.sh"
prepare_test_build cpptests

echo "== storetasks.hpp compiles alone as C++17"
header_alone storetasks.hpp 'storetasks::version().empty()' header_only $CXX -std=c++17

status=0
for src in "$here"/test_*.cpp; do
    name=$(basename "$src" .cpp)
    $CXX -std=c++17 $strict -g -O1 -I"$root/include" "$src" -o "$out/$name" $link
    $CXX -std=c++17 $strict -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
        -I"$root/include" "$src" -o "$out/$name.asan" $link

    run_three_ways "$name"
done

echo "== examples/cpp/describe_tasks prints what examples/c/describe_tasks prints"
$CXX -std=c++17 $strict -O2 -I"$root/include" "$root/examples/cpp/describe_tasks.cpp" -o "$out/describe_tasks_cpp" $link
$CC -std=c99 -D_POSIX_C_SOURCE=200809L $strict -O2 -I"$root/include" "$root/examples/c/describe_tasks.c" \
    -o "$out/describe_tasks_c" $link
start_emulator "$out/emulator.out" --now 2026-11-20T12:00:00Z --tasks-file "$root/tests/data/sample-tasks.json" \
    --deny-key AKIASTORETASKSDENIED
same=0
differ=0
compare() {
    key=$1
    shift
    for lang in c cpp; do
        rc=0
        AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=storetasks-local-secret-key-0000000000000 \
        AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
            "$out/describe_tasks_$lang" --region us-east-1 --endpoint-url "$endpoint" "$@" \
            > "$out/example.$lang.stdout" 2> "$out/example.$lang.stderr" || rc=$?
        echo "exit $rc" >> "$out/example.$lang.stdout"
        # The emulator tags every NextToken afresh: compare tokens by presence only.
        sed -E 's|(NextToken"?: "?)[A-Za-z0-9+/=]+|\1TOKEN|' "$out/example.$lang.stdout" > "$out/example.$lang.tmp"
        mv "$out/example.$lang.tmp" "$out/example.$lang.stdout"
    done
    if cmp -s "$out/example.c.stdout" "$out/example.cpp.stdout" && cmp -s "$out/example.c.stderr" "$out/example.cpp.stderr"; then
        same=$((same + 1))
    else
        differ=$((differ + 1))
        echo "FAIL: describe_tasks $*" >&2
        diff "$out/example.c.stdout" "$out/example.cpp.stdout" >&2 || true
        diff "$out/example.c.stderr" "$out/example.cpp.stderr" >&2 || true
    fi
}
ok=AKIASTORETASKSLOCAL1
compare $ok
compare $ok --all
compare $ok --all --json
compare $ok --max-results 2 --json
compare $ok --max-results 3
compare $ok --filter Name=task-state,Values=Failed,InProgress --all
compare $ok --filter Name=bucket,Values=no-such-bucket
compare $ok --image-id ami-0123456789abcdef0 --image-id ami-00000000000000000
compare $ok --dry-run
compare AKIASTORETASKSDENIED --all
compare $ok --filter Name=no-such-filter,Values=x
compare $ok --image-id ami-0123456789abcdef0 --max-results 5
compare $ok --max-results 500
compare $ok --max-results abc
compare $ok --filter bad
compare $ok --bogus x
compare $ok --image-id
compare $ok --help
compare $ok -h
compare $ok --all -h
compare $ok --image-id ''
compare $ok --image-id ami-0123
compare $ok --image-id ami-0123456789ABCDEF0
compare $ok --image-id ami-01234567
compare $ok --region "$(printf 'us-\377')"
compare $ok --filter "$(printf 'Name=bucket,Values=\377')"
compare $ok --filter Name=,Values=x
# --proxy and --no-proxy: refused (never showing the password), and a proxy the endpoint bypasses.
for args in "--proxy socks5://u:secret@h:1" "--proxy http://u:secret@:8080" "--no-proxy localhost"; do
    compare $ok $args
    if grep -q 'u:secret' "$out/example.c.stderr" "$out/example.cpp.stderr"; then
        differ=$((differ + 1))
        echo "FAIL: describe_tasks $args: stderr shows the proxy's password" >&2
    fi
done
compare $ok --proxy http://u:secret@127.0.0.1:1 --no-proxy 127.0.0.1 --max-results 3
if ! grep -q '^exit 0$' "$out/example.c.stdout"; then
    differ=$((differ + 1))
    echo "FAIL: describe_tasks --proxy ... --no-proxy 127.0.0.1 did not reach the endpoint directly" >&2
fi
echo "$same passed, $differ failed"
[ "$differ" -eq 0 ] || status=1
exit $status

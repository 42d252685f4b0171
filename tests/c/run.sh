#!/bin/sh
# Builds the C tests against include/storetasks.h and the shared library, and runs them three
# ways: plain, under valgrind (any error or leak fails), and with AddressSanitizer and UBSan.
set -eu
here=$(dirname "$0")
root=$here/../..
. "$root/tests/lib.sh"
prepare_test_build ctests

echo "== the header compiles alone as C99 and as C++17"
printf '#include "storetasks.h"\nint main(void) { return storetasks_version() == 0; }\n' > "$out/header_only.c"
$CC -std=c99 $strict -I"$root/include" "$out/header_only.c" -o "$out/header_c" $link
$CXX -std=c++17 $strict -I"$root/include" -x c++ "$out/header_only.c" -o "$out/header_cpp" $link
# One command per line: under `set -e` a failure on the left of `&&` would not stop the script.
"$out/header_c" || { echo "FAIL: the program built from the header alone as C99 exited with status $?" >&2; exit 1; }
"$out/header_cpp" || { echo "FAIL: the program built from the header alone as C++17 exited with status $?" >&2; exit 1; }

status=0
for src in "$here"/test_*.c; do
    name=$(basename "$src" .c)
    $CC -std=c99 -D_POSIX_C_SOURCE=200809L $strict -g -O1 -I"$root/include" "$src" -o "$out/$name" $link
    $CC -std=c99 -D_POSIX_C_SOURCE=200809L $strict -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
        -I"$root/include" "$src" -o "$out/$name.asan" $link

    run_three_ways "$name"
done
exit $status

#!/bin/sh
# Builds the C tests against include/storetasks.h and the shared library, and runs them three
# ways: plain, under valgrind (any error or leak fails), and with AddressSanitizer and UBSan.
set -eu
. "$(dirname "$0")/../lib.sh"
prepare_test_build ctests

echo "== the header compiles alone as C99 and as C++17"
header_alone storetasks.h 'storetasks_version() == 0' header_c $CC -std=c99
header_alone storetasks.h 'storetasks_version() == 0' header_cpp $CXX -std=c++17 -x c++

status=0
for src in "$here"/test_*.c; do
    name=$(basename "$src" .c)
    $CC -std=c99 -D_POSIX_C_SOURCE=200809L $strict -g -O1 -I"$root/include" "$src" -o "$out/$name" $link
    $CC -std=c99 -D_POSIX_C_SOURCE=200809L $strict -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
        -I"$root/include" "$src" -o "$out/$name.asan" $link

    run_three_ways "$name"
done
exit $status

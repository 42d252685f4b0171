#!/bin/sh
# Installs into a temporary prefix and proves the installed library is usable: exported symbols,
# SONAME, the static link list, the header alone as C99 and C++17, and a consumer built three
# ways (pkg-config + shared, pkg-config + static, CMake find_package) run against the installed
# emulator (bin/storetasks-emulator, stripped), which must start on a free port, print its ready
# line and count the consumers' requests in its control API.
# With STORETASKS_PREFIX, the tree already there (the unpacked release tarball: tests/dist/run.sh)
# is tested as it is, and nothing is installed or built; LIBDIR then only gives the static link
# list the build wrote. Otherwise `make install` installs what LIBDIR holds, without building.
set -eu
: "${LIBDIR:?directory holding the built library}"
BUILD=${BUILD:-build}
CC=${CC:-cc}
CXX=${CXX:-c++}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/tests/lib.sh"
out=$(mkdir -p "$BUILD" && cd "$BUILD" && pwd)/install-test
rm -rf "$out"
mkdir -p "$out"
if [ -n "${STORETASKS_PREFIX:-}" ]; then
    prefix=$(cd "$STORETASKS_PREFIX" && pwd)
    echo "testing the tree at $prefix"
else
    prefix=$out/prefix
    make -s -C "$root" -o build install PREFIX="$prefix" LIBDIR="$LIBDIR" >/dev/null
fi
fail=0
passed=0
check() { # description, command...
    d=$1; shift
    if "$@"; then passed=$((passed + 1)); echo "ok   $d"; else fail=$((fail + 1)); echo "FAIL $d"; fi
}

lib=$prefix/lib
version=$(sed -n 's/^Version: //p' "$lib/pkgconfig/storetasks.pc")
major=${version%%.*}

only_storetasks_symbols() {
    others=$(nm -D --defined-only "$lib/libstoretasks.so.$version" | awk '{print $3}' | grep -v '^storetasks_' || true)
    [ -z "$others" ] || { echo "exported beyond storetasks_*: $others" | head -5; return 1; }
}
check "only storetasks_* symbols are exported" only_storetasks_symbols
soname_is_major() { readelf -d "$lib/libstoretasks.so.$version" | grep -q "SONAME.*\[libstoretasks.so.$major\]"; }
check "SONAME is libstoretasks.so.$major" soname_is_major
check "libstoretasks.so -> .so.$major -> .so.$version" test "$(readlink "$lib/libstoretasks.so")" = "libstoretasks.so.$major"

# What rustc says a static link needs, against what the package files declare.
native_libs_match() {
    # The build wrote the list rustc gave for the static library (packaging/rustc-wrapper.py).
    want=$(cat "$root/packaging/native-static-libs.txt")
    got=$(cat "$LIBDIR/native-static-libs.txt" 2>/dev/null || echo "(no list: was the library built through packaging/rustc-wrapper.py?)")
    [ "$want" = "$got" ] || { echo "rustc says: $got; packaging/native-static-libs.txt says: $want"; return 1; }
    grep -q "Libs.private: $want" "$lib/pkgconfig/storetasks.pc"
}
check "native static libs match rustc's list" native_libs_match

printf '#include <storetasks.h>\nint main(void) { return storetasks_version() == 0; }\n' > "$out/alone.c"
strict="-Wall -Wextra -pedantic -Werror"
check "installed header compiles alone as C99" $CC -std=c99 $strict -I"$prefix/include" -c "$out/alone.c" -o "$out/alone_c.o"
check "installed header compiles alone as C++17" $CXX -std=c++17 $strict -I"$prefix/include" -x c++ -c "$out/alone.c" -o "$out/alone_cpp.o"

export PKG_CONFIG_PATH="$lib/pkgconfig"
# shellcheck disable=SC2046
$CC -std=c99 -o "$out/consumer_pc_shared" "$here/consumer.c" $(pkg-config --cflags --libs storetasks)
# shellcheck disable=SC2046
$CC -std=c99 -o "$out/consumer_pc_static" "$here/consumer.c" $(pkg-config --cflags --libs storetasks-static)
check "the static consumer does not need libstoretasks.so" sh -c "! ldd '$out/consumer_pc_static' | grep -q libstoretasks"
cmake -S "$here" -B "$out/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$out/cmake" >/dev/null

# The installed emulator serves the consumers.
STORETASKS_EMULATOR=$prefix/bin/storetasks-emulator
emulator_stripped() { [ -x "$STORETASKS_EMULATOR" ] && ! readelf -S "$STORETASKS_EMULATOR" | grep -q '\.symtab'; }
check "bin/storetasks-emulator is installed, stripped" emulator_stripped
start_emulator "$out/emulator.out" --generate 60 --seed 4
on_a_port() { case $endpoint in http://127.0.0.1:[1-9]*) true ;; *) false ;; esac; }
check "the installed emulator started on a free port and said so: $endpoint" on_a_port
runs=0
for exe in "$out/consumer_pc_shared" "$out/consumer_pc_static" "$out/cmake/consumer_cmake_shared" "$out/cmake/consumer_cmake_static"; do
    check "$(basename "$exe") runs against the emulator" env LD_LIBRARY_PATH="$lib" "$exe" "$endpoint" 60
    runs=$((runs + 1))
done
check "the CMake shared consumer finds the library by its rpath" "$out/cmake/consumer_cmake_shared" "$endpoint" 60
runs=$((runs + 1))
# Each run lists the 60 tasks in three pages (MaxResults 25).
counted() {
    got=$(python3 -c 'import json, sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
print(json.load(opener.open(sys.argv[1] + "/_emulator/stats", timeout=10))["describe"])' "$endpoint") || return 1
    [ "$got" -eq $((runs * 3)) ] || { echo "GET /_emulator/stats: describe $got, expected $((runs * 3))"; return 1; }
}
check "the installed emulator's control API counts the consumers' $((runs * 3)) requests" counted

ls -l "$lib"/libstoretasks.so.* "$lib/libstoretasks.a" "$STORETASKS_EMULATOR" | awk '{print "size: " $5 " " $9}'
echo "$passed passed, $fail failed"
[ $fail -eq 0 ]

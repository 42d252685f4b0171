#!/bin/sh
# The Go module as a user outside the repository gets it: a module of its own in a temporary
# folder (example.com/consumer, requiring github.com/libstoretasks/libstoretasks/bindings/go with a
# replace to this checkout's bindings/go, as nothing is published), built against an installed
# prefix with nothing but PKG_CONFIG_PATH (no CGO_* flags, no network: GOPROXY=off), shared and
# static, and run against the emulator.
#   STORETASKS_PREFIX=<what make install PREFIX=... wrote> STORETASKS_EMULATOR=... sh tests/go-consumer/run.sh
# `make test-go-consumer` installs into build/go-consumer/prefix and runs it.
set -eu
: "${STORETASKS_PREFIX:?the prefix make install wrote (make test-go-consumer lays one out)}"
: "${STORETASKS_EMULATOR:?path to storetasks-emulator}"
GO=${GO:-go}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/tests/lib.sh"
prefix=$(cd "$STORETASKS_PREFIX" && pwd)
lib=$prefix/lib
module=github.com/libstoretasks/libstoretasks/bindings/go
tasks=300
fail=0
passed=0
check() { # description, command...
    d=$1; shift
    if "$@"; then passed=$((passed + 1)); echo "ok   $d"; else fail=$((fail + 1)); echo "FAIL $d"; fi
}

work=$(mktemp -d "${TMPDIR:-/tmp}/storetasks-go-consumer.XXXXXX")
emu=
cleanup() {
    [ -z "$emu" ] || kill "$emu" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM
case "$work/" in
"$root"/*) echo "the consumer's folder $work is inside the repository; set TMPDIR elsewhere" >&2; exit 1 ;;
esac

check "bindings/go/go.mod declares $module" \
    test "$(sed -n 's/^module //p' "$root/bindings/go/go.mod")" = "$module"

# What a user outside the checkout has: the prefix's pkg-config files and nothing else. The
# flags and paths the repository's own builds use are cleared, and a build cache of its own makes
# every package, cgo's included, compile here against this prefix (the go command's cache does
# not see changes to C headers and libraries).
go_outside() {
    env -u CGO_CFLAGS -u CGO_CPPFLAGS -u CGO_CXXFLAGS -u CGO_LDFLAGS -u PKG_CONFIG_LIBDIR \
        -u LD_LIBRARY_PATH -u STORETASKS_EMULATOR \
        PKG_CONFIG_PATH="$lib/pkgconfig" CGO_ENABLED=1 GOFLAGS=-mod=mod GOPROXY=off GOWORK=off \
        GOTOOLCHAIN=local GOCACHE="$work/gocache" GOENV=off "$GO" "$@"
}
version=$(PKG_CONFIG_PATH="$lib/pkgconfig" pkg-config --modversion storetasks)

mkdir "$work/consumer"
cp "$here/main.go" "$work/consumer/"
cd "$work/consumer"
go_outside mod init example.com/consumer 2>/dev/null || go_outside mod init example.com/consumer
go_outside mod edit -require="$module@v$version" -replace="$module=$root/bindings/go"
echo "== $work/consumer/go.mod"
cat go.mod

# Shared: the flags come from storetasks.pc alone (-x shows the commands), and the program loads
# the prefix's libstoretasks.so.
built_shared() { go_outside build -x -o consumer . > build.log 2>&1 || { tail -n 30 build.log; return 1; }; }
check "the consumer builds with PKG_CONFIG_PATH=$lib/pkgconfig alone" built_shared
uses_prefix_only() {
    grep -q -- "pkg-config --cflags -- storetasks" build.log &&
        grep -q -- "-I $prefix/include\|-I$prefix/include" build.log &&
        ! grep -q -- "$root/include\|$root/target" build.log
}
check "its cgo flags are the prefix's (pkg-config), none from the checkout" uses_prefix_only
no_rpath_into_checkout() { ! readelf -d consumer | grep -E 'RPATH|RUNPATH' | grep -q "$root"; }
check "it has no rpath into the checkout" no_rpath_into_checkout
loads_installed() { LD_LIBRARY_PATH=$lib ldd consumer | grep -q "libstoretasks.so.* => $lib/libstoretasks.so"; }
check "it loads libstoretasks.so from $lib" loads_installed

start_emulator "$work/emulator.out" --generate $tasks --seed 11
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM
lists_all() { # program, environment...
    _p=$1; shift
    env "$@" "./$_p" "$endpoint" $tasks > "$_p.out" 2>&1 || { cat "$_p.out"; return 1; }
    sed 's/^/    /' "$_p.out" | sed -n '1p;$p'
    grep -q "^library $version header $version\$" "$_p.out" &&
        grep -q "^tasks $tasks pages 3\$" "$_p.out" &&
        [ "$(grep -cE '^page [0-9]+: [0-9]+ tasks, request id [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' "$_p.out")" -eq 3 ]
}
check "it lists the emulator's $tasks tasks in 3 pages, each with its request id" \
    lists_all consumer LD_LIBRARY_PATH="$lib"

# Static: -tags storetasks_static links the prefix's libstoretasks.a through pkg-config --static
# storetasks-static, and the program needs no libstoretasks.so.
built_static() {
    go_outside build -x -tags storetasks_static -o consumer_static . > build_static.log 2>&1 ||
        { tail -n 30 build_static.log; return 1; }
}
check "the consumer builds statically (-tags storetasks_static)" built_static
static_from_prefix() {
    grep -q -- "pkg-config --cflags --static -- storetasks-static" build_static.log &&
        ! grep -q -- "$root/include\|$root/target" build_static.log
}
check "its flags come from storetasks-static.pc (pkg-config --static)" static_from_prefix
check "the static consumer does not need libstoretasks.so" sh -c "! ldd consumer_static | grep -q libstoretasks"
check "the static consumer lists the same tasks" lists_all consumer_static

ls -l consumer consumer_static | awk '{print "size: " $5 " " $9}'
echo "$passed passed, $fail failed"
[ $fail -eq 0 ]

#!/bin/sh
# Checks what `make dist` wrote: the sums, the tarball's contents (bin/storetasks-emulator
# included) and metadata, a program built from the unpacked tarball alone (pkg-config, shared and
# static, from wherever it is unpacked), the R source package installed against the unpacked
# tarball, and the unpacked tarball's tree through the install tests, whose consumers run against
# the tarball's emulator (DIST_LIBDIR, the build it was made from, gives them only the static link
# list rustc wrote).
#   STORETASKS_EMULATOR=... DIST_OUT=dist DIST_NAME=libstoretasks-0.1.0-x86_64-linux-gnu \
#   DIST_LIBDIR=target/release sh tests/dist/run.sh
set -eu
: "${STORETASKS_EMULATOR:?path to storetasks-emulator}"
: "${DIST_OUT:?folder make dist wrote}" "${DIST_NAME:?}" "${DIST_LIBDIR:?}"
BUILD=${BUILD:-build}
CC=${CC:-cc}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dist=$(cd "$DIST_OUT" && pwd)
# Unpacked outside the checkout, so that nothing can resolve into it by accident.
out=$(mktemp -d "${TMPDIR:-/tmp}/storetasks-dist-test.XXXXXX")
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/a" "$out/b"
fail=0
passed=0
check() { # description, command...
    d=$1; shift
    if "$@"; then passed=$((passed + 1)); echo "ok   $d"; else fail=$((fail + 1)); echo "FAIL $d"; fi
}

version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
check "SHA256SUMS lists the tarball, the wheel and the R source package, and they match" \
    sh -c "cd '$dist' && [ \$(wc -l < SHA256SUMS) -eq 3 ] && grep -q ' $DIST_NAME.tar.xz\$' SHA256SUMS && grep -q ' storetasks-.*\\.whl\$' SHA256SUMS && grep -q ' storetasks_$version.tar.gz\$' SHA256SUMS && sha256sum --quiet -c SHA256SUMS"

tarball=$dist/$DIST_NAME.tar.xz
major=${version%%.*}
tar -tJf "$tarball" | sort > "$out/list"
has_all() {
    for f in LICENSE CHANGELOG.md include/storetasks.h include/storetasks.hpp bin/storetasks-emulator \
        lib/libstoretasks.so lib/libstoretasks.so.$major lib/libstoretasks.so.$version lib/libstoretasks.a \
        lib/pkgconfig/storetasks.pc lib/pkgconfig/storetasks-static.pc \
        lib/cmake/storetasks/storetasksConfig.cmake lib/cmake/storetasks/storetasksConfigVersion.cmake; do
        grep -qx "$DIST_NAME/$f" "$out/list" || { echo "missing from the tarball: $DIST_NAME/$f"; return 1; }
    done
}
check "the tarball holds the install tree under $DIST_NAME/" has_all
only_under_name() { ! grep -v "^$DIST_NAME/" "$out/list"; }
check "nothing outside $DIST_NAME/" only_under_name
no_owner_or_time() {
    TZ=UTC tar -tvJf "$tarball" --numeric-owner > "$out/long"
    owners=$(awk '{print $2}' "$out/long" | sort -u)
    times=$(awk '{print $4 " " $5}' "$out/long" | sort -u | wc -l)
    [ "$owners" = 0/0 ] && [ "$times" -eq 1 ] || { echo "owners: $owners; distinct times: $times"; return 1; }
}
check "entries owned by 0/0, all with one time (the commit's)" no_owner_or_time

tar -xJf "$tarball" -C "$out/a"
tar -xJf "$tarball" -C "$out/b"
lib=$out/a/$DIST_NAME/lib
stripped() { ! readelf -S "$lib/libstoretasks.so.$version" | grep -q '\.symtab'; }
check "the shared library carries no symbol table" stripped
exports() { nm -D --defined-only "$lib/libstoretasks.so.$version" | grep -q ' T storetasks_client_describe_fleet$'; }
check "the shared library exports the C API" exports
echo "sizes: $(wc -c < "$lib/libstoretasks.so.$version") B shared, $(wc -c < "$lib/libstoretasks.a") B static," \
    "$(wc -c < "$out/a/$DIST_NAME/bin/storetasks-emulator") B emulator, $(wc -c < "$tarball") B tarball"

cat > "$out/consumer.c" <<'C'
#include <stdio.h>
#include <string.h>
#include "storetasks.h"
int main(void) {
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", STORETASKS_VERSION_MAJOR, STORETASKS_VERSION_MINOR, STORETASKS_VERSION_PATCH);
    printf("%s\n", storetasks_version());
    return strcmp(storetasks_version(), want) == 0 ? 0 : 1;
}
C
# Unpacked in b/, moved after unpacking: the .pc files must still point at their own tree.
mv "$out/b/$DIST_NAME" "$out/b/moved"
consumer() { # static|shared
    pc=$out/b/moved/lib/pkgconfig
    if [ "$1" = static ]; then flags=$(PKG_CONFIG_PATH=$pc pkg-config --cflags --libs --static storetasks-static); else
        flags=$(PKG_CONFIG_PATH=$pc pkg-config --cflags --libs storetasks); fi
    case $flags in *"$root"*) echo "flags point into the checkout: $flags"; return 1 ;; esac
    # shellcheck disable=SC2086
    $CC -o "$out/consumer-$1" "$out/consumer.c" $flags || return 1
    LD_LIBRARY_PATH=$out/b/moved/lib "$out/consumer-$1" >/dev/null
}
check "a consumer builds from the moved tarball tree with pkg-config alone (shared)" consumer shared
check "a consumer builds from the moved tarball tree with pkg-config alone (static)" consumer static
no_bitcode() {
    ! objdump -h "$lib/libstoretasks.a" 2>/dev/null | grep -q '\.llvmbc'
}
check "the static archive carries no LLVM bitcode" no_bitcode
no_storetasks_dependency() { [ -f "$out/consumer-static" ] && ! readelf -d "$out/consumer-static" | grep -q 'libstoretasks'; }
check "the static consumer needs no libstoretasks at run time" no_storetasks_dependency
echo "static consumer: $(wc -c < "$out/consumer-static") B"

# The R source package as an R user installs it: from dist/, finding the library of the unpacked
# (and moved) tarball through pkg-config alone, then one listing against the emulator.
r_package() {
    rlib=$out/rlib
    mkdir -p "$rlib"
    env -u STORETASKS_LIBDIR -u STORETASKS_INCLUDE PKG_CONFIG_PATH="$out/b/moved/lib/pkgconfig" \
        R CMD INSTALL -l "$rlib" "$dist/storetasks_$version.tar.gz" > "$out/r-install.log" 2>&1 ||
        { cat "$out/r-install.log"; return 1; }
    grep -q "using pkg-config storetasks $version in $out/b/moved/lib/" "$out/r-install.log" ||
        { echo "the R package did not link the tarball's library:"; grep configure: "$out/r-install.log"; return 1; }
    "$STORETASKS_EMULATOR" --port 0 --now 2026-11-20T12:00:00Z --tasks-file "$root/tests/data/sample-tasks.json" > "$out/emu.out" &
    emu=$!
    tries=0
    until grep -q '^listening ' "$out/emu.out"; do
        tries=$((tries + 1)); [ $tries -le 100 ] || { kill $emu; echo "the emulator did not start"; return 1; }; sleep 0.1
    done
    url="http://$(sed -n 's/^listening //p' "$out/emu.out" | head -n 1)"
    got=$(STORETASKS_URL=$url R_LIBS="$rlib" AWS_EC2_METADATA_DISABLED=true Rscript -e '
        library(storetasks)
        svc <- ec2(config = list(region = "us-east-1", endpoint = Sys.getenv("STORETASKS_URL"),
          credentials = list(creds = list(access_key_id = "AKIASTORETASKSLOCAL1",
            secret_access_key = "storetasks-local-secret-key-0000000000000"))))
        pages <- paginate(svc$describe_store_image_tasks(), PageSize = 5)
        cat(length(unlist(lapply(pages, `[[`, "StoreImageTaskResults"), recursive = FALSE)), "\n", sep = "")
        close(svc)') || { kill $emu; echo "$got"; return 1; }
    # What the C example lists from the same emulator (tasks older than 31 days are hidden).
    want=$(AWS_ACCESS_KEY_ID=AKIASTORETASKSLOCAL1 AWS_SECRET_ACCESS_KEY=storetasks-local-secret-key-0000000000000 \
        AWS_EC2_METADATA_DISABLED=true "$(cd "$BUILD" && pwd)/describe_tasks" --region us-east-1 --endpoint-url "$url" --all --json |
        python3 -c 'import json,sys; print(len(json.load(sys.stdin)["StoreImageTaskResults"]))') || want=failed
    kill $emu
    linked=$(ldd "$rlib/storetasks/libs/storetasks.so" | sed -n 's/^[[:space:]]*libstoretasks[^ ]* => \([^ ]*\).*/\1/p')
    echo "R listing: $got tasks (the C example: $want), the package links $linked"
    [ "$got" = "$want" ] && case $linked in "$out/b/moved/lib/"*) true ;; *) false ;; esac
}
check "the R source package installs against the unpacked tarball's library and lists tasks" r_package

echo "== the unpacked tarball through the install tests"
mkdir -p "$out/c"
tar -xJf "$tarball" -C "$out/c"
if STORETASKS_PREFIX=$out/c/$DIST_NAME LIBDIR=$DIST_LIBDIR BUILD=$BUILD/dist-test \
    sh "$root/tests/install/run.sh"; then
    passed=$((passed + 1)); echo "ok   install tests with the unpacked tarball"
else
    fail=$((fail + 1)); echo "FAIL install tests with the unpacked tarball"
fi

echo "dist: $passed passed, $fail failed"
[ "$fail" -eq 0 ]

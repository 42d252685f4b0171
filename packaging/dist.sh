#!/bin/sh
# Writes the release artefacts into $DIST_OUT (what `make dist` runs), from the build in
# $DIST_LIBDIR:
#   1. $DIST_NAME.tar.xz: the install tree (packaging/install.sh, the emulator included) staged
#      under $DIST_STAGE/$DIST_NAME/ with LICENSE and CHANGELOG.md, its .pc files made relocatable
#      (their prefix is ${pcfiledir}/../..; the CMake files find theirs by themselves), the LLVM
#      bitcode that the standard library's objects carry removed from the static archive (of no
#      use to a C linker); tar leaves out owners and times (every entry is dated at the last
#      commit) and xz runs single-threaded, so that the same commit gives the same bytes;
#   2. the Python wheel with that library inside (bindings/python/build-wheel.sh);
#   3. the R source package storetasks_$VERSION.tar.gz (R CMD build of bindings/r; its log in
#      $DIST_STAGE/r-build.log, printed when it fails);
#   4. SHA256SUMS of the three.
#
# Environment: DIST_LIBDIR (the build to ship), DIST_OUT, DIST_NAME, DIST_STAGE (both emptied
# first), VERSION and MAJOR (the library's), NATIVE_LIBS (the system libraries of a static
# link), STRIP (default strip), WHEEL_VENV and WHEEL_WORK (build-wheel.sh's VENV and WORK).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
: "${DIST_LIBDIR:?}" "${DIST_OUT:?}" "${DIST_NAME:?}" "${DIST_STAGE:?}" "${VERSION:?}" "${MAJOR:?}"
: "${NATIVE_LIBS:?}" "${WHEEL_VENV:?}" "${WHEEL_WORK:?}"
STRIP=${STRIP:-strip}

rm -rf "$DIST_OUT" "$DIST_STAGE"
mkdir -p "$DIST_OUT" "$DIST_STAGE"
out=$(cd "$DIST_OUT" && pwd)
stage=$(cd "$DIST_STAGE" && pwd)
tree=$stage/$DIST_NAME

LIBDIR=$DIST_LIBDIR EMULATOR=$DIST_LIBDIR/storetasks-emulator PREFIX=/$DIST_NAME DESTDIR=$stage STRIP=$STRIP \
    sh "$root/packaging/install.sh"
# shellcheck disable=SC2016
sed -i 's|^prefix=.*|prefix=${pcfiledir}/../..|' "$tree"/lib/pkgconfig/*.pc
objcopy --remove-section=.llvmbc --remove-section=.llvmcmd "$tree/lib/libstoretasks.a"
install -m 0644 "$root/LICENSE" "$root/CHANGELOG.md" "$tree/"
epoch=$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)
tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner -C "$stage" -cf - "$DIST_NAME" \
    | xz -9 -T1 > "$out/$DIST_NAME.tar.xz"

VENV=$WHEEL_VENV LIBRARY=$DIST_LIBDIR/libstoretasks.so VERSION=$VERSION OUT=$DIST_OUT WORK=$WHEEL_WORK STRIP=$STRIP \
    sh "$root/bindings/python/build-wheel.sh"

(cd "$out" && R CMD build --no-manual --no-build-vignettes "$root/bindings/r") > "$stage/r-build.log" 2>&1 \
    || { cat "$stage/r-build.log"; exit 1; }
(cd "$out" && sha256sum "$DIST_NAME.tar.xz" storetasks-*.whl "storetasks_$VERSION.tar.gz" > SHA256SUMS)
ls -l "$out"

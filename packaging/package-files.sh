#!/bin/sh
# Writes the pkg-config and CMake files of a tree (what `make install`, `make dist`,
# `make windows` and `make test-versions` put beside the library):
#   $TREE/lib/pkgconfig/storetasks.pc and storetasks-static.pc, from packaging/*.pc.in, with
#     PC_PREFIX as their prefix and NATIVE_LIBS as the system libraries of a static link;
#   $TREE/lib/cmake/storetasks/storetasksConfig.cmake and storetasksConfigVersion.cmake, from
#     packaging/*.cmake.in (they find their prefix from their own place), with NATIVE_LIBS as a
#     CMake list (gcc_s;util;...).
#
# Environment: TREE (the folder the files go into, created as needed), PC_PREFIX (the prefix
# written into the .pc files: an absolute path, or ${pcfiledir}/../.. for a tree that may be
# moved), NATIVE_LIBS (-l flags, separated by white space), VERSION and MAJOR (the library's).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
: "${TREE:?}" "${PC_PREFIX:?}" "${NATIVE_LIBS:?}" "${VERSION:?}" "${MAJOR:?}"

# The flags one space apart, and the same names without -l, ';' apart.
set -f
# shellcheck disable=SC2086
set -- $NATIVE_LIBS
set +f
libs=$*
cmake_libs=
for flag; do
    cmake_libs=${cmake_libs:+$cmake_libs;}${flag#-l}
done

mkdir -p "$TREE/lib/pkgconfig" "$TREE/lib/cmake/storetasks"
for f in storetasks storetasks-static; do
    sed -e "s|@PREFIX@|$PC_PREFIX|" -e "s|@VERSION@|$VERSION|" -e "s|@NATIVE_LIBS@|$libs|" \
        "$here/$f.pc.in" > "$TREE/lib/pkgconfig/$f.pc"
done
for f in storetasksConfig storetasksConfigVersion; do
    sed -e "s|@VERSION@|$VERSION|" -e "s|@MAJOR@|$MAJOR|" -e "s|@NATIVE_LIBS_CMAKE@|$cmake_libs|" \
        "$here/$f.cmake.in" > "$TREE/lib/cmake/storetasks/$f.cmake"
done

#!/bin/sh
# Lays out the Windows distribution folder $WIN_DIST and its zip, $WIN_DIST.zip, from the
# cross-built library in $WIN_OUT (what `make windows` runs, once `make windows-lib` has built it):
#   bin/storetasks.dll, stripped (--strip-unneeded);
#   lib/libstoretasks.dll.a (the import library) and lib/libstoretasks.a, with the import
#     libraries a static link needs that MinGW-w64 does not have (packaging/windows/bundle-libs.py);
#   include/storetasks.h and include/storetasks.hpp;
#   the pkg-config and CMake files (packaging/package-files.sh); the .pc files find the folder
#     from their own place (${pcfiledir}/../..), so that it can be unpacked anywhere, and a static
#     link needs rustc's list of system libraries (the native-static-libs.txt the build wrote)
#     plus winpthreads (-lpthread), which MinGW's runtime pieces use and rustc adds only when it
#     links a program.
# The zip is made of the folder, then the DLL is checked (packaging/windows/check-dll.sh).
#
# The emulator, which `make install` and the Linux tarball ship in bin/, is not in the folder:
# it would have to be cross-built too, a second long build in CI's background for a program the
# Windows tests do not need (they run the Linux emulator).
#
# Environment: WIN_OUT (cargo's output folder for x86_64-pc-windows-gnu), WIN_DIST (emptied
# first), VERSION and MAJOR (the library's), WIN_STRIP (default x86_64-w64-mingw32-strip), PYTHON
# (default python3).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${WIN_OUT:?}" "${WIN_DIST:?}" "${VERSION:?}" "${MAJOR:?}"
WIN_STRIP=${WIN_STRIP:-x86_64-w64-mingw32-strip}
PYTHON=${PYTHON:-python3}

[ -f "$WIN_OUT/storetasks.dll" ] || { echo "build.sh: $WIN_OUT/storetasks.dll not found (make windows-lib)" >&2; exit 1; }
rm -rf "$WIN_DIST" "$WIN_DIST.zip"
mkdir -p "$WIN_DIST/bin" "$WIN_DIST/lib" "$WIN_DIST/include"
lib=$(cd "$WIN_OUT" && pwd)
dist=$(cd "$WIN_DIST" && pwd)
"$WIN_STRIP" --strip-unneeded -o "$dist/bin/storetasks.dll" "$lib/storetasks.dll"
cp "$lib/libstoretasks.dll.a" "$lib/libstoretasks.a" "$dist/lib/"
# It asks cargo for the crates of the workspace: from the checkout.
(cd "$root" && "$PYTHON" "$here/bundle-libs.py" "$dist/lib" "$lib/native-static-libs.txt")
cp "$root/include/storetasks.h" "$root/include/storetasks.hpp" "$dist/include/"
# shellcheck disable=SC2016
TREE=$dist PC_PREFIX='${pcfiledir}/../..' NATIVE_LIBS="$(cat "$lib/native-static-libs.txt") -lpthread" \
    sh "$root/packaging/package-files.sh"
(cd "$dist/.." && "$PYTHON" -m zipfile -c "$(basename "$dist").zip" "$(basename "$dist")")
sh "$here/check-dll.sh" "$dist/bin/storetasks.dll"
echo "windows: $dist and $dist.zip"

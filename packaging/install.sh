#!/bin/sh
# Installs the built library and the emulator under $DESTDIR$PREFIX (what `make install` runs,
# and `make dist` for its tarball):
#   lib/libstoretasks.so.$VERSION, stripped (--strip-unneeded), with the links
#     libstoretasks.so.$MAJOR (its SONAME) and libstoretasks.so;
#   lib/libstoretasks.a as built: it keeps its symbols (its users' linker drops what they do not
#     use);
#   include/storetasks.h, and include/storetasks.hpp;
#   bin/storetasks-emulator, stripped: the local EC2 endpoint the library's own tests use, for
#     programs built on the library to be tested against (emulator/README.md);
#   the pkg-config and CMake files (packaging/package-files.sh), with $PREFIX as their prefix.
#
# Environment: LIBDIR (the build: libstoretasks.so and libstoretasks.a), EMULATOR (the built
# storetasks-emulator; default $LIBDIR/storetasks-emulator), PREFIX, DESTDIR (default none),
# VERSION and MAJOR (the library's), NATIVE_LIBS (the system libraries of a static link), STRIP
# (default strip).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
: "${LIBDIR:?}" "${PREFIX:?}" "${VERSION:?}" "${MAJOR:?}" "${NATIVE_LIBS:?}"
EMULATOR=${EMULATOR:-$LIBDIR/storetasks-emulator}
DESTDIR=${DESTDIR:-}
STRIP=${STRIP:-strip}
dest=$DESTDIR$PREFIX

for f in "$LIBDIR/libstoretasks.so" "$LIBDIR/libstoretasks.a" "$EMULATOR"; do
    [ -f "$f" ] || { echo "install.sh: $f not found (make build)" >&2; exit 1; }
done

install -d "$dest/lib" "$dest/include" "$dest/bin"
install -m 0755 "$LIBDIR/libstoretasks.so" "$dest/lib/libstoretasks.so.$VERSION"
"$STRIP" --strip-unneeded "$dest/lib/libstoretasks.so.$VERSION"
ln -sf "libstoretasks.so.$VERSION" "$dest/lib/libstoretasks.so.$MAJOR"
ln -sf "libstoretasks.so.$MAJOR" "$dest/lib/libstoretasks.so"
install -m 0644 "$LIBDIR/libstoretasks.a" "$dest/lib/libstoretasks.a"
install -m 0644 "$root/include/storetasks.h" "$dest/include/"
if [ -f "$root/include/storetasks.hpp" ]; then install -m 0644 "$root/include/storetasks.hpp" "$dest/include/"; fi
install -m 0755 "$EMULATOR" "$dest/bin/storetasks-emulator"
"$STRIP" "$dest/bin/storetasks-emulator"
TREE=$dest PC_PREFIX=$PREFIX sh "$here/package-files.sh"
echo "installed libstoretasks $VERSION and storetasks-emulator into $dest"

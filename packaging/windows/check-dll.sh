#!/bin/sh
# Checks a built storetasks.dll and prints what it found:
# - its export table holds exactly the functions include/storetasks.h declares (all storetasks_*),
#   nothing else;
# - it imports system DLLs only (no MinGW runtime DLL a user would have to ship);
# - it carries a version resource with the library's version.
#   sh packaging/windows/check-dll.sh path/to/storetasks.dll
set -eu
dll=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
OBJDUMP=${OBJDUMP:-x86_64-w64-mingw32-objdump}
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0

$OBJDUMP -p "$dll" > "$work/headers"
# Export names: the lines of the name pointer table, "[ordinal] name".
sed -n '/\[Ordinal\/Name Pointer\] Table/,/^$/p' "$work/headers" | sed -n 's/^[[:space:]]*\[ *[0-9]*\] //p' | sort > "$work/exports"
# Declared functions: the first "storetasks_...(" from each STORETASKS_API on (the return type may
# sit on the line before the name).
awk '/^STORETASKS_API/ { want = 1 } want && match($0, /storetasks_[a-z0-9_]*\(/) { print substr($0, RSTART, RLENGTH - 1); want = 0 }' \
    "$root/include/storetasks.h" | sort -u > "$work/declared"
if cmp -s "$work/exports" "$work/declared"; then
    echo "exports: $(wc -l < "$work/exports") functions, exactly those storetasks.h declares"
else
    echo "FAIL: the DLL's exports differ from the header's functions (< exported only, > declared only):"
    diff "$work/exports" "$work/declared" | grep '^[<>]' | head -20
    status=1
fi

sed -n 's/^[[:space:]]*DLL Name: //p' "$work/headers" | sort -fu > "$work/imports"
# Windows' own DLLs (the API sets included); anything else would have to ship with the DLL.
if grep -viE '^(kernel32|ntdll|ws2_32|bcrypt|bcryptprimitives|crypt32|secur32|advapi32|userenv|msvcrt|ucrtbase|ole32|oleaut32|shell32|user32|iphlpapi|ncrypt|api-ms-win-.*)\.dll$' "$work/imports" > "$work/foreign"; then
    echo "FAIL: the DLL needs DLLs that Windows does not have: $(tr '\n' ' ' < "$work/foreign")"
    status=1
fi
echo "imports: $(tr '\n' ' ' < "$work/imports")"

# The version resource's strings are UTF-16.
if python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); sys.exit(not all(w.encode("utf-16-le") in d for w in ("FileVersion", sys.argv[2])))' "$dll" "$version"; then
    echo "version resource: FileVersion $version"
else
    echo "FAIL: no version resource with $version in the DLL"
    status=1
fi
echo "size: $(wc -c < "$dll") bytes ($dll)"
exit $status

#!/usr/bin/env python3
"""Copies into the Windows distribution's lib/ folder the import libraries that a static link of
libstoretasks.a needs and the MinGW-w64 toolchain does not have: those that crates bring in their
own sources (windows-targets' libwindows.<version>.a). Reads the -l list the build wrote.
    bundle-libs.py DIST_LIBDIR NATIVE_STATIC_LIBS_FILE"""
import json
import os
import shutil
import subprocess
import sys

dest, listing = sys.argv[1], sys.argv[2]
cc = os.environ.get("WIN_CC", "x86_64-w64-mingw32-gcc")
names = [w[2:] for w in open(listing).read().split() if w.startswith("-l")]
meta = json.loads(subprocess.check_output(
    [os.environ.get("CARGO", "cargo"), "metadata", "--format-version", "1", "--filter-platform", "x86_64-pc-windows-gnu"]))
folders = [os.path.join(os.path.dirname(p["manifest_path"]), "lib") for p in meta["packages"]]
missing = []
for name in names:
    file = f"lib{name}.a"
    # gcc prints the bare name back when the library is not in its search path.
    if os.path.isabs(subprocess.check_output([cc, f"-print-file-name={file}"], text=True).strip()):
        continue
    found = [os.path.join(d, file) for d in folders if os.path.isfile(os.path.join(d, file))]
    if not found:
        missing.append(file)
        continue
    shutil.copy(found[0], dest)
    print(f"bundled {file} (from {os.path.dirname(os.path.dirname(found[0]))})")
if missing:
    sys.exit(f"bundle-libs.py: neither the toolchain nor any crate has {', '.join(missing)}")

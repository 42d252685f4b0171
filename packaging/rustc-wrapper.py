#!/usr/bin/env python3
"""Cargo runs every compilation of this workspace's own crates through this script
(.cargo/config.toml: build.rustc-workspace-wrapper). It changes nothing, except that when the
library is compiled as a static archive it asks rustc for the system libraries such an archive
needs and writes them to native-static-libs.txt next to the build's outputs (target/<profile>/),
so that the install checks compare that list with packaging/native-static-libs.txt without a
second build of the library. (Python rather than sh: sh drops environment variables whose names
hold a '-', such as CARGO_BIN_EXE_storetasks-emulator.)"""
import os
import re
import subprocess
import sys

rustc, args = sys.argv[1], sys.argv[2:]
crate = args[args.index("--crate-name") + 1] if "--crate-name" in args else None
if crate != "storetasks" or "staticlib" not in args or "--out-dir" not in args:
    os.execvp(rustc, [rustc] + args)

out_dir = args[args.index("--out-dir") + 1]
# close_fds=False keeps the jobserver pipes that cargo hands to rustc.
done = subprocess.run([rustc] + args + ["--print", "native-static-libs"], stderr=subprocess.PIPE, close_fds=False)
# rustc reports on stderr (JSON diagnostics under cargo): hand it on unchanged.
sys.stderr.buffer.write(done.stderr)
found = re.search(rb"native-static-libs: ([^\"\\\n]*)", done.stderr)
if found:
    with open(os.path.join(out_dir, "..", "native-static-libs.txt"), "w") as f:
        f.write(found.group(1).decode().strip() + "\n")
sys.exit(done.returncode)

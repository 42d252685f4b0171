#!/usr/bin/env python3
"""Every place that states libstoretasks's version agrees with Cargo.toml's, the one place to
change it (`make test-versions` runs this; it prints one line per place, then `N passed, N failed`).

Cargo.toml's [package] version is the version. What follows it:
- derived at build time: storetasks_version() (env!("CARGO_PKG_VERSION")), the Makefile's
  VERSION (read from Cargo.toml), the .pc and CMake files (written by the Makefile from it), the
  DLL's version resource (build.rs), the wheel's name and metadata (from the package's
  __version__);
- stated once more, because their readers cannot read Cargo.toml, and checked here:
  STORETASKS_VERSION_MAJOR/MINOR/PATCH (constants in src/ffi/mod.rs, which cbindgen copies into
  include/storetasks.h), the Python package's __version__ (bindings/python/storetasks/__init__.py,
  which pyproject.toml reads as its dynamic version, so that a copy of the folder installs alone),
  the R package's Version field (bindings/r/DESCRIPTION, which R CMD build names its source
  package after) and CHANGELOG.md's latest entry.
The Go module states none: Go takes a module's version from its tag, Version() asks the library
and HeaderVersion reads the header.

    check.py --make-version V --library libstoretasks.so --package-files DIR --wheel-dir DIR
    check.py --self-test ...   (the same arguments) also checks that the check fails when any one
                               of the files it reads states another version
"""

import argparse
import ast
import ctypes
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def toml(path):
    text = path.read_text()
    try:
        import tomllib
    except ImportError:  # Python < 3.11: the few keys read here, by pattern
        return None, text
    return tomllib.loads(text), text


def cargo_version(root):
    data, text = toml(root / "Cargo.toml")
    if data is not None:
        return data["package"]["version"]
    package = text.split("[package]", 1)[1].split("\n[", 1)[0]
    return re.search(r'^version\s*=\s*"([^"]+)"', package, re.M)[1]


def macros(text, pattern):
    parts = [re.search(pattern.format(part), text, re.M) for part in ("MAJOR", "MINOR", "PATCH")]
    return ".".join(m[1] for m in parts) if all(parts) else "(missing)"


def python_version(root):
    """storetasks.__version__ as written in the package's __init__.py (read, not imported)."""
    return init_version((root / "bindings/python/storetasks/__init__.py").read_text())


def init_version(source):
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["__version__"]:
            return ast.literal_eval(node.value)
    return "(missing)"


def pyproject_version(root):
    """pyproject.toml must take its version from storetasks.__version__ rather than state one."""
    data, text = toml(root / "bindings/python/pyproject.toml")
    if data is None:
        dynamic = re.search(r'^dynamic\s*=\s*\[[^\]]*"version"', text, re.M) is not None
        literal = re.search(r'^version\s*=\s*"([^"]+)"', text, re.M)
        attr = re.search(r'^version\s*=\s*\{\s*attr\s*=\s*"([^"]+)"', text, re.M)
        literal, attr = (literal and literal[1]), (attr and attr[1])
    else:
        dynamic = "version" in data["project"].get("dynamic", [])
        literal = data["project"].get("version")
        attr = data.get("tool", {}).get("setuptools", {}).get("dynamic", {}).get("version", {}).get("attr")
    if literal is not None:
        return f"{literal} (stated in pyproject.toml: it must read storetasks.__version__)"
    if not dynamic or attr != "storetasks.__version__":
        return f"(not read from storetasks.__version__: dynamic={dynamic}, attr={attr})"
    return python_version(root)


def r_version(root):
    """The Version field of the R package's DESCRIPTION (a Debian control file: `Version:` at the
    start of a line, the value up to the end of it and its continuation lines)."""
    match = re.search(r"^Version:[ \t]*(.*(?:\n[ \t]+.*)*)", (root / "bindings/r/DESCRIPTION").read_text(), re.M)
    return " ".join(match[1].split()) if match and match[1].strip() else "(no Version field)"


def library_version(path):
    lib = ctypes.CDLL(str(path))
    lib.storetasks_version.restype = ctypes.c_char_p
    lib.storetasks_version.argtypes = []
    return lib.storetasks_version().decode()


def pc_version(path):
    """What pkg-config reports (the file's Version: line when pkg-config is not installed)."""
    if shutil.which("pkg-config"):
        run = subprocess.run(["pkg-config", "--modversion", path.stem], capture_output=True, text=True,
                             env={"PKG_CONFIG_PATH": str(path.parent), "PATH": "/usr/bin:/bin"})
        return run.stdout.strip() if run.returncode == 0 else f"(pkg-config: {run.stderr.strip()})"
    match = re.search(r"^Version:\s*(\S+)", path.read_text(), re.M)
    return match[1] if match else "(missing)"


def cmake_version(path):
    """PACKAGE_VERSION as CMake computes it (find_package includes this file)."""
    if not shutil.which("cmake"):
        match = re.search(r'set\(PACKAGE_VERSION "([^"]+)"\)', path.read_text())
        return match[1] if match else "(missing)"
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "version.cmake"
        script.write_text(f'set(CMAKE_SIZEOF_VOID_P 8)\nset(PACKAGE_FIND_VERSION "0")\n'
                          f'include("{path}")\nmessage(STATUS "${{PACKAGE_VERSION}}")\n')
        run = subprocess.run(["cmake", "-P", str(script)], capture_output=True, text=True)
    match = re.search(r"-- (.*)", run.stdout)
    return match[1].strip() if run.returncode == 0 and match else f"(cmake: {run.stderr.strip()})"


def cmake_config_version(path):
    """The versioned file name storetasksConfig.cmake points at (libstoretasks.so.<version>)."""
    match = re.search(r"libstoretasks\.so\.(\d+\.\d+\.\d+)", path.read_text())
    return match[1] if match else "(missing)"


def changelog_version(root):
    """The first (latest) `## [X.Y.Z]` entry of CHANGELOG.md."""
    match = re.search(r"^## \[(\d+\.\d+\.\d+)\]", (root / "CHANGELOG.md").read_text(), re.M)
    return match[1] if match else "(no ## [X.Y.Z] entry)"


def wheel_versions(wheel_dir):
    wheels = sorted(Path(wheel_dir).glob("storetasks-*.whl"))
    if len(wheels) != 1:
        return [("the wheel in " + str(wheel_dir), f"(expected one storetasks-*.whl, found {len(wheels)})")]
    wheel = wheels[0]
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        metadata = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        init = z.read("storetasks/__init__.py").decode()
    return [
        (f"wheel file name {wheel.name}", wheel.name.split("-")[1]),
        ("wheel METADATA Version", re.search(r"^Version: (\S+)", metadata, re.M)[1]),
        ("wheel storetasks/__init__.py __version__", init_version(init)),
    ]


def collect(root, args):
    """(where, version) for every place, Cargo.toml's first."""
    header = (root / "include/storetasks.h").read_text()
    ffi = (root / "src/ffi/mod.rs").read_text()
    pc = Path(args.package_files) / "lib/pkgconfig"
    cmake = Path(args.package_files) / "lib/cmake/storetasks"
    return [
        ("Cargo.toml [package] version", cargo_version(root)),
        ("Makefile VERSION", args.make_version),
        ("storetasks_version() of " + str(args.library), library_version(args.library)),
        ("src/ffi/mod.rs STORETASKS_VERSION_MAJOR/MINOR/PATCH",
         macros(ffi, r"^pub const STORETASKS_VERSION_{}: u32 = (\d+);")),
        ("include/storetasks.h STORETASKS_VERSION_MAJOR/MINOR/PATCH",
         macros(header, r"^#define STORETASKS_VERSION_{} (\d+)")),
        ("bindings/python/storetasks/__init__.py __version__", python_version(root)),
        ("bindings/python/pyproject.toml (dynamic, storetasks.__version__)", pyproject_version(root)),
        ("bindings/r/DESCRIPTION Version", r_version(root)),
        *wheel_versions(args.wheel_dir),
        ("storetasks.pc (pkg-config --modversion)", pc_version(pc / "storetasks.pc")),
        ("storetasks-static.pc (pkg-config --modversion)", pc_version(pc / "storetasks-static.pc")),
        ("storetasksConfigVersion.cmake PACKAGE_VERSION", cmake_version(cmake / "storetasksConfigVersion.cmake")),
        ("storetasksConfig.cmake libstoretasks.so.<version>", cmake_config_version(cmake / "storetasksConfig.cmake")),
        ("CHANGELOG.md latest entry", changelog_version(root)),
    ]


def check(root, args, quiet=False):
    """Prints each place and whether it agrees; returns the places that do not."""
    places = collect(root, args)
    expected = places[0][1]
    wrong = []
    for where, version in places:
        ok = version == expected
        if not ok:
            wrong.append(where)
        if not quiet:
            print(f"{'ok  ' if ok else 'FAIL'} {version:<12} {where}")
    if not quiet:
        print(f"versions: {len(places) - len(wrong)} passed, {len(wrong)} failed")
    return wrong


# -- the check must be able to fail --------------------------------------------------------------

#: Files of the checkout the check reads: (path, what to change in a copy to state another version).
MUTATIONS = [
    ("Cargo.toml", lambda s, v: re.sub(r'(\[package\][^\[]*?\nversion\s*=\s*")[^"]+', rf"\g<1>{v}", s, count=1)),
    ("src/ffi/mod.rs", lambda s, v: re.sub(r"(STORETASKS_VERSION_PATCH: u32 = )\d+", r"\g<1>99", s)),
    ("include/storetasks.h", lambda s, v: re.sub(r"(#define STORETASKS_VERSION_PATCH )\d+", r"\g<1>99", s)),
    ("bindings/python/storetasks/__init__.py", lambda s, v: re.sub(r'__version__ = "[^"]+"', f'__version__ = "{v}"', s)),
    ("bindings/python/pyproject.toml", lambda s, v: s.replace('dynamic = ["version"]', f'version = "{v}"')),
    ("bindings/r/DESCRIPTION", lambda s, v: re.sub(r"^Version:.*$", f"Version: {v}", s, count=1, flags=re.M)),
    ("CHANGELOG.md", lambda s, v: s.replace("\n## [", f"\n## [{v}] - later\n\n## [", 1)),
]
COPIED = [path for path, _ in MUTATIONS]


def self_test(args):
    """Runs the check on copies in which one place at a time states another version; each must
    fail, naming that place (for Cargo.toml: naming the others, which all follow it)."""
    other = "9.8.7"
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)

        def fresh():
            root = tmp / "root"
            shutil.rmtree(root, ignore_errors=True)
            for path in COPIED:
                (root / path).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(ROOT / path, root / path)
            files = tmp / "package-files"
            shutil.rmtree(files, ignore_errors=True)
            shutil.copytree(args.package_files, files)
            wheels = tmp / "wheel"
            shutil.rmtree(wheels, ignore_errors=True)
            shutil.copytree(args.wheel_dir, wheels)
            return root, argparse.Namespace(**{**vars(args), "package_files": str(files), "wheel_dir": str(wheels)})

        root, copy = fresh()
        if check(root, copy, quiet=True):
            failures.append("the unchanged copies do not pass")
        # (what is changed, how, the place the check must then name)
        cases = [(path, mutate, Path(path).name) for path, mutate in MUTATIONS]
        cases.append(("Makefile VERSION", None, "Makefile VERSION"))
        cases.append(("lib/pkgconfig/storetasks.pc", None, "storetasks.pc"))
        cases.append(("lib/cmake/storetasks/storetasksConfigVersion.cmake", None, "storetasksConfigVersion.cmake"))
        cases.append(("the wheel's file name", None, "wheel file name"))
        for name, mutate, place in cases:
            root, copy = fresh()
            if mutate is not None:
                target = root / name
                before = target.read_text()
                target.write_text(mutate(before, other))
                assert target.read_text() != before, f"the self-test could not change {name}"
            elif name == "Makefile VERSION":
                copy.make_version = other
            elif name.startswith("lib/"):
                target = Path(copy.package_files) / name
                target.write_text(target.read_text().replace(args.make_version, other))
            else:
                (wheel,) = Path(copy.wheel_dir).glob("*.whl")
                wheel.rename(wheel.with_name(wheel.name.replace(args.make_version, other)))
            wrong = check(root, copy, quiet=True)
            # Another version in Cargo.toml makes every other place differ from it.
            ok = len(wrong) >= 10 if name == "Cargo.toml" else any(place in where for where in wrong)
            named = f"{len(wrong)} places differ" if name == "Cargo.toml" else "; ".join(wrong) or "it passed"
            print(f"{'ok  ' if ok else 'FAIL'} another version in {name} fails the check: {named}")
            if not ok:
                failures.append(name)
    print(f"versions self-test: {len(cases) + 1 - len(failures)} passed, {len(failures)} failed")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--make-version", required=True, help="the Makefile's VERSION")
    parser.add_argument("--library", required=True, help="the built libstoretasks.so")
    parser.add_argument("--package-files", required=True, help="where the Makefile wrote the .pc and CMake files")
    parser.add_argument("--wheel-dir", required=True, help="the folder holding the wheel (make wheel)")
    parser.add_argument("--self-test", action="store_true", help="also check that other versions fail the check")
    args = parser.parse_args()
    wrong = check(ROOT, args)
    if args.self_test and self_test(args):
        return 1
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())

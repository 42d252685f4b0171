# libstoretasks: build, demo and tests. Everything is built once, in the release profile, and
# reused by the tests, the examples and the bindings.
#
#   make          build the library, the emulator and the examples
#   make demo     run the example against the bundled emulator
#   make test     run every test (Rust, C under valgrind and sanitizers, Go, Python, R)
#   make header   regenerate include/storetasks.h
#   make install PREFIX=/usr/local [DESTDIR=...]   install the library, headers, pkg-config
#                 and CMake files, and the emulator
#   make windows  cross-build the Windows DLL and its distribution folder and zip
#   make test-windows  run the Windows build's tests under Wine
#   make wheel    build the Python wheel, with the library inside, into build/wheel/
#   make dist     the release artefacts in dist/: the install tree as a tarball and the wheel, both
#                 with the library built in the dist profile, the R source package, and their
#                 SHA-256 sums
#   make test-dist  make dist, then the tarball's library through the install tests, the wheel
#                 in a fresh venv and the R package installed against the unpacked tarball

# What the goals need beyond the toolchains is checked, and installed where this user may, before
# anything is built: packaging/prerequisites.txt lists it, packaging/prerequisites.sh acts on it
# (STORETASKS_PREREQUISITES=check installs nothing, =skip checks nothing).
PREREQ_GROUPS := build \
	$(if $(filter-out test-windows test-dist,$(filter test test-% bench bench-r,$(MAKECMDGOALS))),test) \
	$(if $(filter dist test-dist,$(MAKECMDGOALS)),dist test) \
	$(if $(filter wheel,$(MAKECMDGOALS)),wheel) \
	$(if $(filter windows windows-lib test-windows,$(MAKECMDGOALS)),windows) \
	$(if $(filter fuzz fuzz-build,$(MAKECMDGOALS)),fuzz) \
	$(if $(filter miri miri-build,$(MAKECMDGOALS)),miri)
PREREQUISITES = sh packaging/prerequisites.sh $(sort $(PREREQ_GROUPS))

# Go as the machine image ships it, when it is not on the PATH.
ifneq ($(wildcard /usr/local/go/bin/go),)
ifeq ($(shell command -v go),)
export PATH := $(PATH):/usr/local/go/bin
endif
endif

CARGO      ?= cargo
CC         ?= cc
CXX        ?= c++
GO         ?= go
PYTHON     ?= python3
TARGET_DIR ?= $(shell $(CARGO) metadata --format-version 1 --no-deps 2>/dev/null | $(PYTHON) -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null || echo target)
LIBDIR     := $(TARGET_DIR)/release
EMULATOR   := $(LIBDIR)/storetasks-emulator
BUILD      := build
VENV       := .venv
CFLAGS     ?= -O2 -g
WARN       := -Wall -Wextra -pedantic -Werror
LDLIBS_SO  := -L$(LIBDIR) -lstoretasks -Wl,-rpath,$(abspath $(LIBDIR))

VERSION    := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
MAJOR      := $(firstword $(subst ., ,$(VERSION)))
PREFIX     ?= /usr/local
DESTDIR    ?=
STRIP      ?= strip
NATIVE_LIBS := $(shell cat packaging/native-static-libs.txt)
# What the packaging scripts are told about the library.
PACKAGE_ENV = VERSION=$(VERSION) MAJOR=$(MAJOR) NATIVE_LIBS="$(NATIVE_LIBS)" STRIP=$(STRIP)

.PHONY: all build lib examples demo test test-prerequisites test-rust test-c test-cpp test-go test-go-consumer test-python test-r test-install header venv \
	bench-r \
	wheel test-wheel test-versions dist test-dist \
	install bench miri miri-build fuzz fuzz-build clean-build windows windows-lib test-windows

all: build examples

# The library's SONAME is libstoretasks.so.$(MAJOR): programs linked against the build tree look
# for that name next to libstoretasks.so.
build:
	@$(PREREQUISITES)
	$(CARGO) build --release --workspace --all-targets
	ln -sf libstoretasks.so $(LIBDIR)/libstoretasks.so.$(MAJOR)

# The examples and the demo link the same build the tests use: one cargo invocation for the whole
# workspace, so that no later step recompiles the crate with other features.
lib: build

examples: $(BUILD)/describe_tasks $(BUILD)/wait_tasks $(BUILD)/fleet_tasks $(BUILD)/describe_tasks_cpp

$(BUILD)/%: examples/c/%.c examples/c/args.h examples/c/console.h include/storetasks.h lib
	@mkdir -p $(BUILD)
	$(CC) -std=c99 -D_POSIX_C_SOURCE=200809L $(WARN) $(CFLAGS) -Iinclude $< -o $@ $(LDLIBS_SO) -lpthread

$(BUILD)/describe_tasks_cpp: examples/cpp/describe_tasks.cpp include/storetasks.hpp include/storetasks.h lib
	@mkdir -p $(BUILD)
	$(CXX) -std=c++17 $(WARN) $(CFLAGS) -Iinclude $< -o $@ $(LDLIBS_SO)

demo: examples
	STORETASKS_EMULATOR=$(EMULATOR) BUILD=$(BUILD) sh examples/demo.sh

header:
	STORETASKS_BLESS=1 $(CARGO) test --release --workspace --lib header_is_up_to_date

venv: $(VENV)/.done

$(VENV)/.done: tests/python/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt
	touch $@

test: build examples test-prerequisites test-rust test-c test-cpp test-go test-go-consumer test-python test-r test-wheel test-versions test-install

# The prerequisites check on a simulated bare machine (tests/prerequisites/run.sh).
test-prerequisites:
	sh tests/prerequisites/run.sh

test-rust: build
	$(CARGO) test --release --workspace
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings
	$(CARGO) fmt --all --check

test-c: build
	STORETASKS_EMULATOR=$(EMULATOR) LIBDIR=$(LIBDIR) BUILD=$(BUILD) sh tests/c/run.sh

test-cpp: build
	STORETASKS_EMULATOR=$(EMULATOR) LIBDIR=$(LIBDIR) BUILD=$(BUILD) sh tests/cpp/run.sh

# The Go package links an installed library through pkg-config by default; the repository's own
# tests link this build with the tag storetasks_intree (and CGO_LDFLAGS for a TARGET_DIR elsewhere).
GOENV = STORETASKS_EMULATOR=$(abspath $(EMULATOR)) CGO_LDFLAGS="-L$(abspath $(LIBDIR)) -Wl,-rpath,$(abspath $(LIBDIR))"
GOTAGS := -tags storetasks_intree

test-go: build examples
	cd bindings/go && test -z "$$(gofmt -l . ../../examples/go ../../tests/go-consumer)" || { gofmt -l . ../../examples/go ../../tests/go-consumer; exit 1; }
	cd bindings/go && $(GO) vet $(GOTAGS) ./... && $(GOENV) $(GO) test $(GOTAGS) ./...
	cd bindings/go && GOARCH=386 CGO_ENABLED=1 $(GO) vet $(GOTAGS) ./... || { echo "bindings/go does not build for 32-bit x86 (the check needs a C compiler that takes -m32: Debian gcc-multilib)" >&2; exit 1; }
	cd bindings/go && $(GOENV) GOGC=1 GODEBUG=cgocheck=1 $(GO) test $(GOTAGS) -race ./...
	cd bindings/go && $(GOENV) CGO_LDFLAGS="$(abspath $(LIBDIR))/libstoretasks.a" $(GO) test $(GOTAGS),storetasks_static ./...
	cd examples/go/describe_tasks && $(GO) vet $(GOTAGS) ./... && $(GOENV) STORETASKS_BUILD=$(abspath $(BUILD)) $(GO) test $(GOTAGS) ./...

# A Go program outside the repository, built against `make install` into a temporary prefix
# through pkg-config alone (shared and static), run against the emulator.
GO_CONSUMER_PREFIX := $(abspath $(BUILD))/go-consumer/prefix

test-go-consumer: build
	rm -rf $(GO_CONSUMER_PREFIX)
	$(MAKE) -s install PREFIX=$(GO_CONSUMER_PREFIX) DESTDIR= LIBDIR=$(LIBDIR) >/dev/null
	STORETASKS_EMULATOR=$(abspath $(EMULATOR)) STORETASKS_PREFIX=$(GO_CONSUMER_PREFIX) GO=$(GO) sh tests/go-consumer/run.sh

test-python: build examples venv
	STORETASKS_EMULATOR=$(EMULATOR) STORETASKS_BUILD=$(BUILD) $(VENV)/bin/python -m pytest tests/python -q

# The R package (bindings/r): R CMD build, R CMD check --no-manual (no ERROR or WARNING), then its
# testthat suite against the emulator and the AWS CLI of the venv (tests/r/run.sh). The package
# links this build through STORETASKS_LIBDIR.
test-r: build venv
	STORETASKS_EMULATOR=$(EMULATOR) LIBDIR=$(LIBDIR) BUILD=$(BUILD) AWS_CLI=$(VENV)/bin/aws sh tests/r/run.sh

# The Python wheel: bindings/python with the stripped library inside the package, tagged for this
# platform (manylinux when auditwheel accepts it), written alone into $(WHEEL_DIR) as
# storetasks-$(VERSION)-py3-none-<platform>.whl. WHEEL_LIB names the build of the library to ship;
# the tools (pinned in bindings/python/build-requirements.txt) live in a venv of their own.
WHEEL_DIR  := $(BUILD)/wheel
WHEEL_WORK := $(BUILD)/wheel-work
WHEEL_VENV := $(WHEEL_WORK)/venv
WHEEL_LIB  ?= $(LIBDIR)/libstoretasks.so

wheel: build $(WHEEL_VENV)/.done
	VENV=$(WHEEL_VENV) LIBRARY=$(WHEEL_LIB) VERSION=$(VERSION) OUT=$(WHEEL_DIR) WORK=$(WHEEL_WORK) STRIP=$(STRIP) \
	  sh bindings/python/build-wheel.sh

$(WHEEL_VENV)/.done: bindings/python/build-requirements.txt
	rm -rf $(WHEEL_VENV)
	$(PYTHON) -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/pip install --quiet --disable-pip-version-check -r bindings/python/build-requirements.txt
	touch $@

# The wheel alone in a fresh venv, and the Python suite run from a copy outside the checkout.
test-wheel: wheel
	STORETASKS_EMULATOR=$(EMULATOR) WHEEL_DIR=$(WHEEL_DIR) VERSION=$(VERSION) PYTHON=$(PYTHON) sh tests/wheel/run.sh

# Every place that states the version agrees with Cargo.toml's, and the check fails when one does
# not (tests/versions/check.py).
VERSIONS_OUT := $(BUILD)/versions

test-versions: build wheel
	rm -rf $(VERSIONS_OUT)
	$(PACKAGE_ENV) TREE=$(VERSIONS_OUT) PC_PREFIX=$(abspath $(VERSIONS_OUT)) sh packaging/package-files.sh
	$(PYTHON) tests/versions/check.py --make-version $(VERSION) --library $(LIBDIR)/libstoretasks.so \
	  --package-files $(VERSIONS_OUT) --wheel-dir $(WHEEL_DIR) --self-test

# An install into a temporary prefix, checked: symbols, SONAME, the static link list, the header
# alone, consumers built with pkg-config and CMake run against the installed emulator.
test-install: build
	LIBDIR=$(LIBDIR) BUILD=$(BUILD) sh tests/install/run.sh

# The library (the shared one stripped, the archive with its symbols), the headers, the pkg-config
# and CMake files, and the emulator (stripped) into $(DESTDIR)$(PREFIX) (packaging/install.sh).
install: build
	$(PACKAGE_ENV) LIBDIR=$(LIBDIR) EMULATOR=$(EMULATOR) PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) sh packaging/install.sh

# Release artefacts (packaging/dist.sh): the install tree as a tarball (the emulator included),
# the Python wheel and the R source package (R CMD build's storetasks_<version>.tar.gz, which
# finds the library through pkg-config or STORETASKS_LIBDIR when installed), and their SHA-256
# sums, with the release build the tests ran on: whole-program optimisation (fat LTO) was
# measured to shrink the stripped library by 0.16 % at sixteen codegen units, and to cost about
# twenty minutes of a cold build at one (README, Installing). The tarball holds the install tree
# under $(DIST_NAME)/ with relocatable pkg-config files, xz-compressed single-threaded (the same
# commit gives the same bytes; mostly the static archive, 42 MB with gzip -9 against 25 MB).
DIST_LIBDIR := $(LIBDIR)
DIST_OUT    := dist
DIST_NAME   := libstoretasks-$(VERSION)-x86_64-linux-gnu
DIST_STAGE  := $(BUILD)/dist-stage

dist: build $(WHEEL_VENV)/.done
	$(PACKAGE_ENV) DIST_LIBDIR=$(DIST_LIBDIR) DIST_OUT=$(DIST_OUT) DIST_NAME=$(DIST_NAME) DIST_STAGE=$(DIST_STAGE) \
	  WHEEL_VENV=$(WHEEL_VENV) WHEEL_WORK=$(WHEEL_WORK) sh packaging/dist.sh

# The artefacts as their users get them: the sums check, the unpacked tarball's library passes
# the install tests (symbols, SONAME, pkg-config and CMake consumers against the emulator), and
# the wheel passes the Python suite in a venv that never saw the checkout.
test-dist: dist examples
	STORETASKS_EMULATOR=$(EMULATOR) DIST_OUT=$(DIST_OUT) DIST_NAME=$(DIST_NAME) DIST_LIBDIR=$(DIST_LIBDIR) \
	  BUILD=$(BUILD) sh tests/dist/run.sh
	STORETASKS_EMULATOR=$(EMULATOR) WHEEL_DIR=$(DIST_OUT) VERSION=$(VERSION) PYTHON=$(PYTHON) sh tests/wheel/run.sh

# Windows (x86_64, MinGW-w64 GNU ABI), cross-built from Linux into its own target directory:
# $(WIN_DIST) (bin/storetasks.dll, lib/libstoretasks.dll.a and libstoretasks.a, the headers,
# pkg-config and CMake files, without the emulator) and a zip of it (packaging/windows/build.sh).
# Its .pc files find the folder from their own place (pkg-config's pcfiledir), so that it can be
# unpacked anywhere.
WIN_TRIPLE     := x86_64-pc-windows-gnu
WIN_TARGET_DIR ?= $(TARGET_DIR)/windows
WIN_OUT        := $(WIN_TARGET_DIR)/$(WIN_TRIPLE)/release
WIN_DIST       := $(BUILD)/windows/libstoretasks-$(VERSION)-x86_64-windows-gnu
WIN_STRIP      ?= x86_64-w64-mingw32-strip

# The library alone, a rule of its own so that CI can build it in the background ahead of the
# packaging.
windows-lib:
	@$(PREREQUISITES)
	CARGO_TARGET_DIR=$(WIN_TARGET_DIR) $(CARGO) build --release --target $(WIN_TRIPLE) -p storetasks --lib

windows: windows-lib
	VERSION=$(VERSION) MAJOR=$(MAJOR) WIN_OUT=$(WIN_OUT) WIN_DIST=$(WIN_DIST) WIN_STRIP=$(WIN_STRIP) PYTHON=$(PYTHON) \
	  sh packaging/windows/build.sh

# The Windows build's tests under Wine, against the Linux emulator.
test-windows: windows build
	STORETASKS_EMULATOR=$(abspath $(EMULATOR)) WIN_DIST=$(WIN_DIST) BUILD=$(BUILD) sh tests/windows/run.sh

bench: build examples venv
	LIBDIR=$(LIBDIR) BUILD=$(BUILD) STORETASKS_EMULATOR=$(EMULATOR) sh bench/run.sh

# 10,000 tasks listed by the R package next to the Python package, on the same emulator.
bench-r: build venv
	LIBDIR=$(LIBDIR) BUILD=$(BUILD) STORETASKS_EMULATOR=$(EMULATOR) sh bench/r/run.sh

# Miri (nightly) on the unit tests of the C functions that need no client: handles created,
# used through raw pointers and freed (src/ffi/handle_tests.rs and the other ffi unit tests).
# Its build of the dependencies goes to target/miri; the workspace wrapper that records the static
# link list stays out of it.
MIRI = CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER= MIRIFLAGS="$(MIRIFLAGS)" $(CARGO) +nightly miri test -p storetasks --lib

miri:
	@$(PREREQUISITES)
	$(MIRI) -- ffi::

# Builds alone, so that a script can run them ahead of the steps that use them.
miri-build:
	@$(PREREQUISITES)
	$(MIRI) --no-run

fuzz-build:
	@$(PREREQUISITES)
	FUZZ_BUILD_ONLY=1 sh fuzz/run.sh

# The fuzz targets for a bounded time (fuzz/run.sh: FUZZ_SECONDS per target, 60 by default).
fuzz:
	@$(PREREQUISITES)
	sh fuzz/run.sh

clean-build:
	rm -rf $(BUILD)

# libstoretasks: build, demo and tests. Everything is built once, in the release profile, and
# reused by the tests, the examples and the bindings.
#
#   make          build the library, the emulator and the examples
#   make demo     run the example against the bundled emulator
#   make test     run every test (Rust, C under valgrind and sanitizers, Python)
#   make header   regenerate include/storetasks.h

CARGO      ?= cargo
CC         ?= cc
PYTHON     ?= python3
TARGET_DIR ?= $(shell $(CARGO) metadata --format-version 1 --no-deps 2>/dev/null | $(PYTHON) -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null || echo target)
LIBDIR     := $(TARGET_DIR)/release
EMULATOR   := $(LIBDIR)/storetasks-emulator
BUILD      := build
VENV       := .venv
CFLAGS     ?= -O2 -g
WARN       := -Wall -Wextra -pedantic -Werror
LDLIBS_SO  := -L$(LIBDIR) -lstoretasks -Wl,-rpath,$(abspath $(LIBDIR))

.PHONY: all build lib examples demo test test-rust test-c test-python header venv clean-build

all: build examples

build:
	$(CARGO) build --release --workspace --all-targets

lib: build

examples: $(BUILD)/describe_tasks $(BUILD)/wait_tasks

$(BUILD)/%: examples/c/%.c include/storetasks.h build
	@mkdir -p $(BUILD)
	$(CC) -std=c99 -D_POSIX_C_SOURCE=200809L $(WARN) $(CFLAGS) -Iinclude $< -o $@ $(LDLIBS_SO) -lpthread

demo: all
	STORETASKS_EMULATOR=$(EMULATOR) BUILD=$(BUILD) sh examples/demo.sh

header:
	STORETASKS_BLESS=1 $(CARGO) test --release --lib header_is_up_to_date

venv: $(VENV)/.done

$(VENV)/.done: tests/python/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt
	touch $@

test: build examples test-rust test-c test-python

test-rust: build
	$(CARGO) test --release --workspace

test-c: build
	STORETASKS_EMULATOR=$(EMULATOR) LIBDIR=$(LIBDIR) BUILD=$(BUILD) sh tests/c/run.sh

test-python: build examples venv
	STORETASKS_EMULATOR=$(EMULATOR) STORETASKS_BUILD=$(BUILD) $(VENV)/bin/python -m pytest tests/python -q

clean-build:
	rm -rf $(BUILD)

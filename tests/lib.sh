# Shell helpers shared by the test scripts and the demo. Source it; it defines functions only.

# For scripts that build test programs against the built library (tests/<folder>/run.sh): checks
# the environment and sets $here (the script's folder), $root (the checkout), $out (BUILD/<name>,
# created), $libdir, $link and $strict, and the CC/CXX defaults.
prepare_test_build() { # name
    : "${STORETASKS_EMULATOR:?path to storetasks-emulator}"
    here=$(dirname "$0")
    root=$here/../..
    : "${LIBDIR:?directory holding libstoretasks.so}"
    BUILD=${BUILD:-build}
    CC=${CC:-cc}
    CXX=${CXX:-c++}
    out=$BUILD/$1
    mkdir -p "$out"
    libdir=$(cd "$LIBDIR" && pwd)
    link="-L$libdir -lstoretasks -Wl,-rpath,$libdir -lpthread"
    strict="-Wall -Wextra -pedantic -Werror"
}

# Proves a header stands alone: writes $out/<program>.c (.cpp for a .hpp header), which includes
# that header and nothing else and whose main function returns <expression>, builds it with the
# compiler command given, strict warnings and the built library, and runs it. A header that does
# not compile alone, or a program that fails, ends the calling script. Needs what
# prepare_test_build sets.
header_alone() { # header expression program compiler-command...
    _prog=$3
    case $1 in *.hpp) _src=$out/$_prog.cpp ;; *) _src=$out/$_prog.c ;; esac
    printf '#include "%s"\nint main(void) { return %s; }\n' "$1" "$2" > "$_src"
    shift 3
    # shellcheck disable=SC2086
    "$@" $strict -I"$root/include" "$_src" -o "$out/$_prog" $link
    "$out/$_prog" || { echo "FAIL: $_prog, built from $_src (a header alone), exited with status $?" >&2; exit 1; }
}

# Starts the emulator with the given arguments on a free loopback port. Sets $emu (its pid) and
# $endpoint, and stops it when the calling script exits. Needs $STORETASKS_EMULATOR.
start_emulator() { # output-file emulator-args...
    _emu_out=$1
    shift
    # Created first: the background shell may open it after the first look below.
    : > "$_emu_out"
    "$STORETASKS_EMULATOR" --port 0 "$@" > "$_emu_out" &
    emu=$!
    trap 'kill $emu 2>/dev/null || true' EXIT INT TERM
    _tries=0
    until grep -q '^listening ' "$_emu_out"; do
        _tries=$((_tries + 1))
        if [ $_tries -gt 100 ] || ! kill -0 $emu 2>/dev/null; then echo "the emulator did not start" >&2; exit 1; fi
        sleep 0.1
    done
    endpoint="http://$(sed -n 's/^listening //p' "$_emu_out" | head -n 1)"
}

# Runs a command under a time limit of $1 seconds (coreutils `timeout`, which signals the whole
# process group, so an emulator the program started goes too). Returns the command's status, or
# 124 when the limit ended it, and then says so on stderr, naming the run $2: a deadlock fails
# the run instead of hanging it.
run_limited() { # seconds name command...
    _limit=$1
    _name=$2
    shift 2
    _rc=0
    timeout --kill-after=10 "$_limit" "$@" || _rc=$?
    if [ $_rc -eq 124 ] || [ $_rc -eq 137 ]; then
        echo "FAIL: $_name did not finish within $_limit s and was killed" >&2
        _rc=124
    fi
    return $_rc
}

# Runs a built test program three ways: plain, under valgrind (any error or leak fails; only the
# suppressions in tests/c/valgrind.supp are allowed), and its .asan build (ASan + UBSan), each
# under a time limit in seconds: $STORETASKS_TEST_TIMEOUT (default 180) for the plain and ASan
# runs, $STORETASKS_VALGRIND_TIMEOUT (default 900: valgrind runs a program tens of times
# slower). Clears $status on the first failure it sees. Needs $out (where the programs are) and
# $root.
run_three_ways() { # program-name
    echo "== $1"
    run_limited "${STORETASKS_TEST_TIMEOUT:-180}" "$1" "$out/$1" || status=1
    echo "== $1 under valgrind"
    STORETASKS_UNDER_VALGRIND=1 run_limited "${STORETASKS_VALGRIND_TIMEOUT:-900}" "$1 under valgrind" \
        valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect,possible --suppressions="$root/tests/c/valgrind.supp" \
        "$out/$1" 2> "$out/$1.valgrind.log" || { status=1; cat "$out/$1.valgrind.log"; }
    grep -E "ERROR SUMMARY|definitely lost|indirectly lost|possibly lost" "$out/$1.valgrind.log" \
        | sed "s/^==[0-9]*== /valgrind: /" || true
    echo "== $1 with AddressSanitizer and UBSan"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        run_limited "${STORETASKS_TEST_TIMEOUT:-180}" "$1 with ASan" "$out/$1.asan" || status=1
}

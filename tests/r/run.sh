#!/bin/sh
# The R package bindings/r: its man pages and NAMESPACE checked against what roxygen2 generates
# from its comments (tests/r/check-man.sh), then built into a tarball, checked with
# `R CMD check --no-manual` (no ERROR or WARNING allowed; its tests run there too, against the
# emulator), installed into a temporary library and its testthat suite run against the emulator
# again, counted.
#   STORETASKS_EMULATOR=... LIBDIR=target/release BUILD=build AWS_CLI=.venv/bin/aws sh tests/r/run.sh
# `make test-r` runs it. Needs R with testthat, jsonlite, withr and roxygen2 (Debian: r-base-core,
# r-cran-testthat, r-cran-jsonlite, r-cran-roxygen2).
set -eu
: "${STORETASKS_EMULATOR:?path to storetasks-emulator}"
: "${LIBDIR:?directory holding libstoretasks.so}"
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
abs() { (cd "$(dirname "$1")" && echo "$(pwd)/$(basename "$1")"); }

command -v R >/dev/null || { echo "tests/r/run.sh: R is missing (apt-get install r-base-core r-cran-testthat r-cran-jsonlite r-cran-roxygen2)" >&2; exit 1; }
sh "$root/tests/r/check-man.sh"
mkdir -p "$BUILD"
work=$(abs "$BUILD")/r
rm -rf "$work"
mkdir -p "$work/lib"

# The package's copy of the sample tasks must be the checkout's.
cmp "$root/tests/data/sample-tasks.json" "$root/bindings/r/tests/testthat/sample-tasks.json" || {
    echo "bindings/r/tests/testthat/sample-tasks.json differs from tests/data/sample-tasks.json: copy it" >&2
    exit 1
}

# The package links this build (configure: STORETASKS_LIBDIR, headers from include/); the tests
# find the emulator, the forward proxy and the AWS CLI, and fail (rather than skip) without the
# emulator or the proxy.
STORETASKS_LIBDIR=$(cd "$LIBDIR" && pwd)
STORETASKS_INCLUDE=$root/include
STORETASKS_EMULATOR=$(abs "$STORETASKS_EMULATOR")
STORETASKS_AWS_CLI=${AWS_CLI:+$(abs "$AWS_CLI")}
STORETASKS_FORWARD_PROXY=$root/tests/fixtures/forward_proxy.py
STORETASKS_R_REQUIRE_EMULATOR=1
export STORETASKS_LIBDIR STORETASKS_INCLUDE STORETASKS_EMULATOR STORETASKS_AWS_CLI STORETASKS_FORWARD_PROXY \
    STORETASKS_R_REQUIRE_EMULATOR
# No network here: the check of the system clock asks a time server.
export _R_CHECK_SYSTEM_CLOCK_=0 _R_CHECK_FUTURE_FILE_TIMESTAMPS_=false

cd "$work"
R CMD build --no-manual "$root/bindings/r" > build.log 2>&1 || { cat build.log; exit 1; }
tarball=$(ls storetasks_*.tar.gz)
status=0
R CMD check --no-manual "$tarball" > check.log 2>&1 || status=$?
cat check.log
line=$(grep '^Status:' check.log | tail -n 1)
echo "R CMD check: ${line:-no status line}"
if [ $status -ne 0 ] || [ -z "$line" ] || echo "$line" | grep -Eq 'ERROR|WARNING'; then
    for f in storetasks.Rcheck/00install.out storetasks.Rcheck/tests/testthat.Rout.fail; do
        [ -f "$f" ] && { echo "== $f"; tail -n 60 "$f"; }
    done
    echo "FAIL: R CMD check (exit $status): $line" >&2
    exit 1
fi

R CMD INSTALL --library="$work/lib" "$tarball" > install.log 2>&1 || { cat install.log; exit 1; }
cd "$root/bindings/r/tests/testthat"
R_LIBS="$work/lib${R_LIBS:+:$R_LIBS}" Rscript -e '
  library(testthat)
  library(storetasks)
  options(testthat.progress.max_fails = 1000)
  results <- as.data.frame(test_dir(".", reporter = "progress", stop_on_failure = FALSE))
  expectations <- sum(results$nb)
  failed_exp <- sum(results$failed)
  bad <- results$failed > 0 | results$error
  cat(sprintf("R package: %d tests (%d expectations) in %d files\n", nrow(results), expectations,
              length(unique(results$file))))
  cat(sprintf("r: %d passed, %d failed, %d skipped\n", sum(!bad & !results$skipped), sum(bad), sum(results$skipped)))
  if (any(bad) || any(results$skipped)) quit(status = 1)
'

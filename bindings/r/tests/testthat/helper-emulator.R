# Runs storetasks-emulator for the tests: $STORETASKS_EMULATOR names the binary. Without it the
# tests that need it skip, unless STORETASKS_R_REQUIRE_EMULATOR=1 (make test-r) makes that a
# failure.

ACCESS_KEY <- "AKIASTORETASKSLOCAL1"
SECRET_KEY <- "storetasks-local-secret-key-0000000000000"
DENIED_KEY <- "AKIASTORETASKSDENIED"
NOW <- "2026-11-20T12:00:00Z"

# No shared config, credentials or instance metadata may leak into the tests.
local({
  aws <- grep("^AWS_", names(Sys.getenv()), value = TRUE)
  if (length(aws)) Sys.unsetenv(aws)
  Sys.setenv(AWS_CONFIG_FILE = "/dev/null", AWS_SHARED_CREDENTIALS_FILE = "/dev/null",
             AWS_EC2_METADATA_DISABLED = "true")
})

emulator_path <- function() {
  path <- Sys.getenv("STORETASKS_EMULATOR")
  if (!nzchar(path) || !file.exists(path)) {
    if (identical(Sys.getenv("STORETASKS_R_REQUIRE_EMULATOR"), "1")) {
      stop("STORETASKS_EMULATOR does not name the emulator: ", path)
    }
    testthat::skip("no emulator (set STORETASKS_EMULATOR)")
  }
  path
}

# Runs `command` (a character vector) in the background until it prints `listening HOST:PORT` (or
# `ready` followed by HOST:PORT): its pid and HOST:PORT.
start_listening <- function(command, what, ready = "listening ") {
  out <- tempfile("out-")
  pidfile <- tempfile("pid-")
  system(sprintf("%s > %s 2>&1 & echo $! > %s", paste(shQuote(command), collapse = " "), shQuote(out),
                 shQuote(pidfile)))
  pid <- as.integer(readLines(pidfile))
  for (i in 1:200) {
    line <- if (file.exists(out)) suppressWarnings(readLines(out, n = 1L)) else character(0)
    if (length(line) == 1L && startsWith(line, ready)) return(list(addr = substring(line, nchar(ready) + 1L), pid = pid))
    Sys.sleep(0.05)
  }
  tools::pskill(pid)
  stop("the ", what, " did not start: ", paste(readLines(out), collapse = "\n"))
}

# Starts an emulator with the given arguments; it is stopped when the calling test ends. With
# `--tls DIR` it serves HTTPS, and `ca` is DIR/ca.pem, the test CA its certificate comes from.
local_emulator <- function(..., now = NOW, env = parent.frame()) {
  bin <- emulator_path()
  args <- c("--port", "0", "--now", now, "--deny-key", DENIED_KEY, as.character(c(...)))
  started <- start_listening(c(bin, args), "emulator")
  tls <- match("--tls", args)
  emu <- list(url = paste0(if (is.na(tls)) "http://" else "https://", started$addr), pid = started$pid, args = args,
              bin = bin, ca = if (!is.na(tls)) file.path(args[[tls + 1L]], "ca.pem"))
  withr::defer(stop_emulator(started$pid), envir = env)
  emu
}

# Starts tests/fixtures/forward_proxy.py ($STORETASKS_FORWARD_PROXY) with the given arguments; it is
# stopped when the calling test ends. Its `url` is http://127.0.0.1:PORT; proxy_tunnels() counts
# the CONNECT tunnels it has opened.
local_forward_proxy <- function(..., env = parent.frame()) {
  script <- Sys.getenv("STORETASKS_FORWARD_PROXY")
  if (!nzchar(script) || !file.exists(script)) {
    if (identical(Sys.getenv("STORETASKS_R_REQUIRE_EMULATOR"), "1")) {
      stop("STORETASKS_FORWARD_PROXY does not name the forward proxy: ", script)
    }
    testthat::skip("no forward proxy (set STORETASKS_FORWARD_PROXY)")
  }
  # R's own LD_LIBRARY_PATH is not for Python.
  started <- start_listening(c("env", "-u", "LD_LIBRARY_PATH", "python3", script, as.character(c(...))), "forward proxy")
  withr::defer(stop_emulator(started$pid), envir = env)
  list(url = paste0("http://", started$addr), addr = started$addr, pid = started$pid)
}

# A loopback address on which nothing listens, for the calling test: a process of its own holds a
# socket bound to the port and never listens on it (Linux refuses connections to such a port), so
# that no other program can take the port while the test counts on it being refused. Its `url` is
# http://127.0.0.1:PORT.
local_refused_port <- function(env = parent.frame()) {
  code <- paste("import signal, socket", "s = socket.socket()", "s.bind(('127.0.0.1', 0))",
                "print('bound 127.0.0.1:%d' % s.getsockname()[1], flush=True)", "signal.pause()", sep = "; ")
  started <- start_listening(c("env", "-u", "LD_LIBRARY_PATH", "python3", "-c", code), "port holder", ready = "bound ")
  withr::defer(stop_emulator(started$pid), envir = env)
  list(url = paste0("http://", started$addr), pid = started$pid)
}

proxy_tunnels <- function(proxy) sum(unlist(emu_control(proxy, "GET", "/_proxy/stats")$connect))

# SIGTERM, then SIGKILL if it still runs after 2 s (the emulator waits for open connections, such
# as those of a client the garbage collector has not freed yet).
stop_emulator <- function(pid) {
  state <- function() {
    stat <- suppressWarnings(tryCatch(readLines(sprintf("/proc/%d/stat", pid), warn = FALSE), error = function(e) ""))
    if (!length(stat) || !nzchar(stat)) "gone" else strsplit(sub("^.*\\) ", "", stat), " ")[[1]][1]
  }
  tools::pskill(pid, tools::SIGTERM)
  for (i in 1:40) {
    if (state() %in% c("gone", "Z", "X")) return(invisible())
    Sys.sleep(0.05)
  }
  tools::pskill(pid, tools::SIGKILL)
  invisible()
}

# A client of the emulator; closed when the calling test ends.
local_client <- function(emu, ..., access_key = ACCESS_KEY, secret_key = SECRET_KEY, env = parent.frame()) {
  svc <- ec2(config = list(
    credentials = list(creds = list(access_key_id = access_key, secret_access_key = secret_key)),
    endpoint = emu$url, sts_endpoint = emu$url, region = "us-east-1", ...))
  withr::defer(close(svc), envir = env)
  svc
}

# A request to the emulator's control endpoint (or to the forward proxy's): the decoded JSON answer.
# Plain HTTP only.
emu_control <- function(emu, method, path, body = NULL) {
  if (!startsWith(emu$url, "http://")) stop("emu_control() speaks plain HTTP, not to ", emu$url)
  hostport <- sub("^http://", "", emu$url)
  host <- sub(":.*$", "", hostport)
  port <- as.integer(sub("^.*:", "", hostport))
  payload <- if (is.null(body)) raw(0) else charToRaw(enc2utf8(as.character(jsonlite::toJSON(body, auto_unbox = TRUE))))
  con <- socketConnection(host, port, blocking = TRUE, open = "r+b", timeout = 10)
  on.exit(close(con))
  head <- paste0(method, " ", path, " HTTP/1.1\r\nHost: ", hostport, "\r\nContent-Type: application/json\r\n",
                 "Content-Length: ", length(payload), "\r\nConnection: close\r\n\r\n")
  writeBin(c(charToRaw(head), payload), con)
  flush(con)
  chunks <- list()
  repeat {
    chunk <- readBin(con, "raw", 65536L)
    if (length(chunk) == 0L) break
    chunks[[length(chunks) + 1L]] <- chunk
  }
  text <- rawToChar(do.call(c, chunks))
  Encoding(text) <- "UTF-8"
  status <- as.integer(sub("^HTTP/1\\.1 ([0-9]+).*$", "\\1", strsplit(text, "\r\n", fixed = TRUE)[[1]][1]))
  body_text <- sub("^.*?\r\n\r\n", "", text)
  if (status >= 300) stop("control request ", method, " ", path, " failed: ", status, " ", body_text)
  if (!nzchar(body_text)) NULL else jsonlite::fromJSON(body_text, simplifyVector = FALSE)
}

# The tasks DescribeStoreImageTasks reports in one (account, region) pair, newest first, read from
# the emulator's own store (/_emulator/tasks): those started in the 31 days before the emulator's
# clock at start-up (its --now), and those without a start time.
emulator_listing <- function(emu, region, account) {
  path <- sprintf("/_emulator/tasks?region=%s&account=%s", region, account)
  tasks <- emu_control(emu, "GET", path)$StoreImageTaskResults
  utc <- function(x) as.POSIXct(x, tz = "UTC", format = "%Y-%m-%dT%H:%M:%OS")
  cutoff <- utc(emu$args[[match("--now", emu$args) + 1L]]) - 31 * 86400
  keep <- vapply(tasks, function(t) is.null(t$TaskStartTime) || utc(t$TaskStartTime) >= cutoff, TRUE)
  tasks[keep]
}

add_faults <- function(emu, ...) emu_control(emu, "POST", "/_emulator/faults", list(faults = list(...)))
emu_stats <- function(emu) emu_control(emu, "GET", "/_emulator/stats")

# Path of the sample tasks (tests/data/sample-tasks.json of the checkout, copied here).
sample_tasks <- function() testthat::test_path("sample-tasks.json")

# The number of threads and open file descriptors of this process (Linux).
process_resources <- function() {
  c(threads = length(list.files("/proc/self/task")), fds = length(list.files("/proc/self/fd")))
}

# The seconds since `start` (a Sys.time()).
elapsed <- function(start) as.numeric(Sys.time() - start, units = "secs")

# Sends this process SIGINT (as Ctrl-C does) after `seconds`, from a process of its own.
interrupt_after <- function(seconds) {
  system(sprintf("(sleep %s; kill -INT %d) >/dev/null 2>&1 &", format(seconds), Sys.getpid()))
}

# Evaluates `expr` while this process gets SIGINT after `seconds`: the interrupt must reach R as an
# interrupt condition within 4 s, and the threads the call used must be gone (idle again) by then.
expect_interrupted_at_once <- function(expr, seconds = 1) {
  before <- process_resources()
  start <- Sys.time()
  interrupt_after(seconds)
  got <- tryCatch(expr, interrupt = function(e) "interrupted")
  testthat::expect_identical(got, "interrupted")
  testthat::expect_lt(elapsed(start), 4)
  testthat::expect_identical(process_resources()[["threads"]], before[["threads"]])
}

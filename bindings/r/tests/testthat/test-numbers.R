# Numbers that the C glue turns into C integers (milliseconds in a uint64_t, a size_t, a uint32_t):
# NaN, Inf, negative numbers and numbers too large for the type are refused, in R, as values the
# library refuses (storetasks_invalid_argument), before any C conversion. Unchecked, Inf became
# a 1 ms connect timeout on x86-64 (a cast of Inf or 1e300 to an integer is undefined behaviour).

BAD_NUMBERS <- list(`Inf` = Inf, `NaN` = NaN, `-1` = -1, `1e300` = 1e300)

# `expr(value)` fails with storetasks_invalid_argument, its one-sentence message naming `what`,
# the range and the value, for each bad number (a client it made instead is closed: NULL).
expect_refused_numbers <- function(expr, what, range) {
  for (label in names(BAD_NUMBERS)) {
    e <- tryCatch({
      made <- expr(BAD_NUMBERS[[label]])
      if (inherits(made, "storetasks_ec2")) close(made)
      NULL
    }, error = identity)
    expect_identical(class(e), c("storetasks_invalid_argument", "storetasks_error", "error", "condition"),
                     info = paste(what, "=", label))
    expect_identical(if (!is.null(e)) conditionMessage(e),
                     sprintf("%s must be %s, not %s", what, range, format(BAD_NUMBERS[[label]])),
                     info = paste(what, "=", label))
  }
}

SECONDS <- "a number of seconds from 0 to 18446744073709548"

test_that("ec2(): timeouts, max_retries and max_concurrency out of range are refused", {
  client_with <- function(...) {
    ec2(config = list(credentials = list(creds = list(access_key_id = ACCESS_KEY, secret_access_key = SECRET_KEY)),
                      endpoint = "http://127.0.0.1:9", region = "us-east-1", ...))
  }
  expect_refused_numbers(function(x) client_with(connect_timeout = x), "connect_timeout", SECONDS)
  expect_refused_numbers(function(x) client_with(timeout = x), "timeout", SECONDS)
  expect_refused_numbers(function(x) client_with(max_retries = x), "max_retries",
                         "a whole number from 0 to 4294967294")
  size_max <- if (.Machine$sizeof.pointer >= 8L) "18446744073709549568" else "4294967295"
  expect_refused_numbers(function(x) client_with(max_concurrency = x), "max_concurrency",
                         paste("a whole number from 1 to", size_max))
  # Not whole, or past the C type by a little (2^64 is the first double a size_t cannot hold).
  expect_error(client_with(max_concurrency = 2.5), "^max_concurrency must be a whole number",
               class = "storetasks_invalid_argument")
  expect_error(client_with(max_concurrency = 2^64), "not 18446744073709551616$", class = "storetasks_invalid_argument")
  expect_error(client_with(max_retries = 2^32 - 1), "^max_retries must be a whole number from 0 to 4294967294",
               class = "storetasks_invalid_argument")
  expect_error(client_with(connect_timeout = 18446744073709552), "^connect_timeout must be a number of seconds",
               class = "storetasks_invalid_argument")
  # Not a number at all: the same condition.
  expect_error(client_with(timeout = "5"), "^timeout must be a number of seconds from 0 to 18446744073709548, not \"5\"$",
               class = "storetasks_invalid_argument")
})

test_that("the largest numbers that fit are accepted and the client works", {
  emu <- local_emulator("--generate", 5)
  svc <- local_client(emu, connect_timeout = 18446744073709548, timeout = 18446744073709548, max_concurrency = 4)
  expect_length(svc$describe_store_image_tasks()$StoreImageTaskResults, 5L)
})

test_that("values the C types hold but the library does not are refused with the library's reason", {
  emu <- local_emulator("--generate", 5)
  # A concurrency this large once made every fleet call return PANIC; billions of attempts
  # panicked inside the SDK's retry strategy.
  expect_error(local_client(emu, max_concurrency = 3e18),
               "max concurrency must be from 1 to 1024, not 3000000000000000000", class = "storetasks_invalid_argument")
  expect_error(local_client(emu, max_concurrency = 1025), "max concurrency must be from 1 to 1024, not 1025",
               class = "storetasks_invalid_argument")
  expect_error(local_client(emu, max_retries = 4294967294), "max attempts must be from 1 to 100, not 4294967295",
               class = "storetasks_invalid_argument")
  svc <- local_client(emu, max_concurrency = 1024, max_retries = 99)
  expect_length(svc$describe_store_image_tasks()$StoreImageTaskResults, 5L)
})

test_that("waits: Delay, MaxDelay, Timeout and NotFoundGrace out of range are refused before anything is sent", {
  emu <- local_emulator("--tasks-file", sample_tasks())
  svc <- local_client(emu)
  done <- "ami-dfc84850a2b0d1f6d" # Completed: a wait that got through returns at its first poll
  before <- emu_stats(emu)$requests
  for (name in c("Delay", "MaxDelay", "Timeout", "NotFoundGrace")) {
    expect_refused_numbers(function(x) {
      args <- list(svc, done, progress = FALSE)
      args[[name]] <- x
      do.call(wait_store_image_tasks, args)
    }, name, SECONDS)
    expect_refused_numbers(function(x) {
      args <- list(svc, list(list(ImageId = done)), progress = FALSE)
      args[[name]] <- x
      do.call(wait_store_image_tasks_targets, args)
    }, name, SECONDS)
  }
  expect_identical(emu_stats(emu)$requests, before)
  # The largest that fit are accepted: the wait returns the completed task.
  big <- 18446744073709548
  resp <- wait_store_image_tasks(svc, done, Delay = 0.1, MaxDelay = big, Timeout = big, NotFoundGrace = big,
                                 progress = FALSE)
  expect_identical(resp$StoreImageTaskResults[[1]]$StoreTaskState, "Completed")
})

test_that("MaxResults out of range is refused before anything is sent", {
  # The C glue passes a number outside int32_t as -1, which the library refuses with its range;
  # NaN is not a whole number (a plain R error).
  emu <- local_emulator("--generate", 5)
  svc <- local_client(emu)
  before <- emu_stats(emu)$requests
  for (x in BAD_NUMBERS) {
    class <- if (is.nan(x)) "simpleError" else "storetasks_invalid_argument"
    expect_error(svc$describe_store_image_tasks(MaxResults = x), "MaxResults|max results", class = class,
                 info = format(x))
    expect_error(svc$describe_store_image_tasks_fleet(Regions = "us-east-1", MaxResults = x), "MaxResults|max results",
                 class = class, info = format(x))
  }
  expect_identical(emu_stats(emu)$requests, before)
})

# The same tasks as `aws ec2 describe-store-image-tasks --output json`, page by page, on generated
# data. The AWS CLI comes from $STORETASKS_AWS_CLI (make test-r: the .venv of make venv).

aws_cli <- function() {
  path <- Sys.getenv("STORETASKS_AWS_CLI")
  if (!nzchar(path) || !file.exists(path)) {
    if (identical(Sys.getenv("STORETASKS_R_REQUIRE_EMULATOR"), "1")) stop("STORETASKS_AWS_CLI does not name the AWS CLI")
    skip("no AWS CLI (set STORETASKS_AWS_CLI)")
  }
  path
}

cli_page <- function(cli, emu, page_size, token = NULL) {
  args <- c("ec2", "describe-store-image-tasks", "--endpoint-url", emu$url, "--output", "json", "--no-paginate",
            "--max-results", page_size, if (!is.null(token)) c("--next-token", token))
  env <- c(paste0("AWS_ACCESS_KEY_ID=", ACCESS_KEY), paste0("AWS_SECRET_ACCESS_KEY=", SECRET_KEY),
           "AWS_DEFAULT_REGION=us-east-1", "AWS_PAGER=")
  # R's own LD_LIBRARY_PATH is not for the CLI's Python (its ssl module may not load with it).
  out <- system2("env", shQuote(c("-u", "LD_LIBRARY_PATH", env, cli, args)), stdout = TRUE)
  jsonlite::fromJSON(paste(enc2utf8(out), collapse = "\n"), simplifyVector = FALSE)
}

# The CLI's JSON as paws would have parsed the same reply: paws.common's rules (a string member
# as.character, an integer as.numeric, a timestamp as.POSIXct("%Y-%m-%dT%H:%M:%S", GMT), an absent
# member a zero-length value).
as_paws <- function(page) {
  chr <- function(x) as.character(unlist(x))
  tasks <- lapply(page$StoreImageTaskResults, function(t) {
    time <- if (is.null(t$TaskStartTime)) .POSIXct(numeric()) else
      as.POSIXct(t$TaskStartTime, tz = "GMT", format = "%Y-%m-%dT%H:%M:%S")
    list(AmiId = chr(t$AmiId), TaskStartTime = time, Bucket = chr(t$Bucket), S3objectKey = chr(t$S3objectKey),
         ProgressPercentage = as.numeric(unlist(t$ProgressPercentage)), StoreTaskState = chr(t$StoreTaskState),
         StoreTaskFailureReason = chr(t$StoreTaskFailureReason))
  })
  list(StoreImageTaskResults = tasks, NextToken = chr(page$NextToken))
}

test_that("every page is the AWS CLI's page", {
  cli <- aws_cli()
  emu <- local_emulator("--generate", 230, "--seed", 11)
  svc <- local_client(emu)
  token <- NULL
  pages <- 0
  total <- 0
  repeat {
    expected <- as_paws(cli_page(cli, emu, 70, token))
    got <- svc$describe_store_image_tasks(MaxResults = 70, NextToken = token)
    # Tokens carry a fresh tag each time: the tasks must be the same, and the token there or not.
    expect_identical(got$StoreImageTaskResults, expected$StoreImageTaskResults)
    expect_identical(length(got$NextToken), length(expected$NextToken))
    expect_identical(names(got), names(expected))
    pages <- pages + 1
    total <- total + length(got$StoreImageTaskResults)
    if (length(got$NextToken) == 0L) break
    token <- got$NextToken
  }
  expect_identical(c(pages, total), c(4, 230))
  # The generated failure reasons hold XML-special and non-ASCII text.
  all <- unlist(paginate_lapply(svc$describe_store_image_tasks(), function(p)
    vapply(p$StoreImageTaskResults, function(t) paste(t$StoreTaskFailureReason, collapse = ""), "")))
  expect_true(any(grepl("[<>&\"']", all)))
  expect_true(any(grepl("\u65e5\u672c", all)))
})

test_that("milliseconds kept match the CLI's times", {
  cli <- aws_cli()
  emu <- local_emulator("--generate", 40, "--seed", 3)
  svc <- local_client(emu, keep_milliseconds = TRUE)
  page <- cli_page(cli, emu, 40)
  got <- svc$describe_store_image_tasks(MaxResults = 40)$StoreImageTaskResults
  cli_ms <- vapply(page$StoreImageTaskResults, function(t) {
    whole <- as.numeric(as.POSIXct(t$TaskStartTime, tz = "GMT", format = "%Y-%m-%dT%H:%M:%S"))
    whole * 1000 + as.numeric(sub("^.*\\.([0-9]{3})Z$", "\\1", t$TaskStartTime))
  }, numeric(1))
  expect_identical(round(vapply(got, function(t) as.numeric(t$TaskStartTime), numeric(1)) * 1000), cli_ms)
})

# The structures paws returns, checked with identical() against values built by hand from
# tests/data/sample-tasks.json (the emulator's clock at 2026-11-20T12:00:00Z: the three tasks
# older than 31 days are hidden).

gmt <- function(x) as.POSIXct(x, tz = "GMT")
no_time <- .POSIXct(numeric())

item <- function(AmiId = character(0), TaskStartTime = no_time, Bucket = character(0), S3objectKey = character(0),
                 ProgressPercentage = numeric(0), StoreTaskState = character(0),
                 StoreTaskFailureReason = character(0)) {
  list(AmiId = AmiId, TaskStartTime = TaskStartTime, Bucket = Bucket, S3objectKey = S3objectKey,
       ProgressPercentage = ProgressPercentage, StoreTaskState = StoreTaskState,
       StoreTaskFailureReason = StoreTaskFailureReason)
}

ioerror <- "Snapshot snap-0123456789abcdef0 failed: I/O error at offset 1<<40 & \"ret\"='EIO'"
denied <- "Access denied: <s3:PutObject> on \"storetasks-bucket-a\" & 'retry' > 3 \u2014 \u00e9chec \u65e5\u672c"
unicode <- "\u00dcn\u00efc\u00f6d\u00e9 reason with a tab\tand emoji \U0001F680 < > & \" '"

expected_tasks <- list(
  item("ami-0123456789abcdef0", gmt("2026-11-20 11:58:00"), "storetasks-bucket-a", "ami-0123456789abcdef0.bin",
       10, "InProgress"),
  item("ami-0fedcba9876543210", gmt("2026-11-20 11:30:00"), "storetasks-bucket-b", "ami-0fedcba9876543210.bin",
       50, "InProgress"),
  item("ami-b9d049d9e8d4ee001", gmt("2026-11-19 23:19:34"), "storetasks-bucket-c", "ami-b9d049d9e8d4ee001.bin",
       49, "Failed", ioerror),
  item("ami-0aaaaaaaaaaaaaaaa", gmt("2026-11-19 00:00:00"), "storetasks-bucket-c", StoreTaskState = "InProgress"),
  item("ami-0123456789abcdef0", gmt("2026-11-18 09:00:00"), "storetasks-bucket-a", "ami-0123456789abcdef0.bin",
       37, "Failed", denied),
  item("ami-e0b1e25c0c81c9e84", gmt("2026-11-18 08:03:19"), "storetasks-bucket-c", ProgressPercentage = 42,
       StoreTaskState = "InProgress"),
  item("ami-dfc84850a2b0d1f6d", gmt("2026-11-16 12:46:04"), "storetasks-bucket-b", "ami-dfc84850a2b0d1f6d.bin",
       100, "Completed"),
  item("ami-07da3e3f63732b831", gmt("2026-11-16 08:26:43"), "storetasks-bucket-b", "ami-07da3e3f63732b831.bin",
       87, "InProgress"),
  item("ami-ba10a4f562484a515", gmt("2026-11-16 05:53:27"), "storetasks-bucket-d", "ami-ba10a4f562484a515.bin",
       100, "Completed"),
  item("ami-e1013fea6c23b78b2", gmt("2026-11-06 21:31:38"), "storetasks-bucket-b", ProgressPercentage = 100,
       StoreTaskState = "Completed"),
  item("ami-8834a33403882c71d", gmt("2026-11-04 18:04:33"), "storetasks-bucket-a", "ami-8834a33403882c71d.bin",
       28, "Failed", "The AMI's snapshot isn't available \u2014 try again later"),
  item("ami-019973af215cf5d9f", gmt("2026-10-28 17:33:40"), "storetasks-bucket-a", ProgressPercentage = 55,
       StoreTaskState = "InProgress"),
  item("ami-33147d05651bab900", gmt("2026-10-26 23:22:13"), "storetasks-bucket-c", "ami-33147d05651bab900.bin",
       75, "Failed", unicode),
  item("ami-80b28388607a6c946", gmt("2026-10-26 05:23:26"), "storetasks-bucket-c", "ami-80b28388607a6c946.bin",
       100, "Completed"),
  item("ami-a32e2c007881d6f7e", gmt("2026-10-24 23:08:55"), "storetasks-bucket-c", "ami-a32e2c007881d6f7e.bin",
       17, "Failed", ioerror),
  item("ami-e413750b831cdb3e2", gmt("2026-10-21 22:07:23"), "storetasks-bucket-c", "ami-e413750b831cdb3e2.bin",
       42, "InProgress")
)

test_that("the whole sample listing is paws's structure, member for member", {
  emu <- local_emulator("--tasks-file", sample_tasks())
  svc <- local_client(emu)
  resp <- svc$describe_store_image_tasks(MaxResults = 200)
  expect_identical(resp, list(StoreImageTaskResults = expected_tasks, NextToken = character(0)))
  expect_identical(attributes(resp), list(names = c("StoreImageTaskResults", "NextToken")))
  expect_null(attributes(resp$StoreImageTaskResults))
  for (task in resp$StoreImageTaskResults) {
    expect_identical(names(attributes(task)), "names")
    expect_identical(attr(task$TaskStartTime, "tzone"), "GMT")
  }
  # Without MaxResults the emulator's default page (100) holds them all too.
  expect_identical(svc$describe_store_image_tasks(), resp)
})

test_that("XML-special and non-ASCII text arrives as UTF-8", {
  emu <- local_emulator("--tasks-file", sample_tasks())
  svc <- local_client(emu)
  tasks <- svc$describe_store_image_tasks()$StoreImageTaskResults
  reasons <- vapply(tasks[c(3, 5, 13)], function(t) t$StoreTaskFailureReason, "")
  expect_identical(reasons, c(ioerror, denied, unicode))
  expect_identical(Encoding(reasons[2:3]), c("UTF-8", "UTF-8"))
  expect_identical(nchar(unicode), 47L)
  expect_identical(nchar(reasons[3]), 47L)
})

test_that("a page and its NextToken", {
  emu <- local_emulator("--tasks-file", sample_tasks())
  svc <- local_client(emu)
  first <- svc$describe_store_image_tasks(MaxResults = 5)
  expect_identical(first$StoreImageTaskResults, expected_tasks[1:5])
  expect_type(first$NextToken, "character")
  expect_length(first$NextToken, 1L)
  second <- svc$describe_store_image_tasks(MaxResults = 5, NextToken = first$NextToken)
  expect_identical(second$StoreImageTaskResults, expected_tasks[6:10])
  last <- svc$describe_store_image_tasks(MaxResults = 10, NextToken = second$NextToken)
  expect_identical(last, list(StoreImageTaskResults = expected_tasks[11:16], NextToken = character(0)))
})

test_that("absent members and empty results", {
  emu <- local_emulator("--tasks-file", sample_tasks())
  svc <- local_client(emu)
  few <- svc$describe_store_image_tasks(ImageIds = "ami-0aaaaaaaaaaaaaaaa")
  expect_identical(few, list(StoreImageTaskResults = list(expected_tasks[[4]]), NextToken = character(0)))
  empty <- list(StoreImageTaskResults = list(), NextToken = character(0))
  expect_identical(svc$describe_store_image_tasks(ImageIds = list("ami-00000000000000000")), empty)
  expect_identical(svc$describe_store_image_tasks(Filters = list(list(Name = "bucket", Values = list("nope")))),
                   empty)
  # A task file with no task at all, and one task with no member at all.
  emu2 <- local_emulator("--tasks-file", sample_tasks())
  emu_control(emu2, "DELETE", "/_emulator/tasks")
  svc2 <- local_client(emu2)
  expect_identical(svc2$describe_store_image_tasks(), empty)
  emu_control(emu2, "POST", "/_emulator/tasks", list(StoreImageTaskResults = list(setNames(list(), character(0)))))
  expect_identical(svc2$describe_store_image_tasks(), list(StoreImageTaskResults = list(item()), NextToken = character(0)))
})

test_that("the latest task of an AMI with two, for an id", {
  emu <- local_emulator("--tasks-file", sample_tasks())
  svc <- local_client(emu)
  resp <- svc$describe_store_image_tasks(ImageIds = c("ami-0123456789abcdef0", "ami-e413750b831cdb3e2"))
  expect_identical(resp$StoreImageTaskResults, expected_tasks[c(1, 16)])
})

test_that("keep_milliseconds keeps what paws drops", {
  emu <- local_emulator("--tasks-file", sample_tasks())
  svc <- local_client(emu, keep_milliseconds = TRUE)
  tasks <- svc$describe_store_image_tasks(MaxResults = 3)$StoreImageTaskResults
  expect_identical(tasks[[1]]$TaskStartTime, .POSIXct(as.numeric(gmt("2026-11-20 11:58:00")) + 0.001, tz = "GMT"))
  expect_identical(tasks[[2]]$TaskStartTime, .POSIXct(as.numeric(gmt("2026-11-20 11:30:00")) + 0.5, tz = "GMT"))
  old <- options(storetasks.keep_milliseconds = TRUE)
  on.exit(options(old), add = TRUE)
  svc2 <- local_client(emu)
  expect_identical(svc2$describe_store_image_tasks(MaxResults = 3)$StoreImageTaskResults, tasks)
})

test_that("the request id is available beside the result", {
  emu <- local_emulator("--tasks-file", sample_tasks())
  svc <- local_client(emu)
  expect_identical(request_id(svc), character(0))
  svc$describe_store_image_tasks(MaxResults = 1)
  first <- request_id(svc)
  expect_match(first, "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
  svc$describe_store_image_tasks(MaxResults = 1)
  expect_false(identical(request_id(svc), first))
  e <- tryCatch(svc$describe_store_image_tasks(DryRun = TRUE), error = identity)
  expect_identical(request_id(e), request_id(svc))
  expect_match(request_id(e), "^[0-9a-f-]{36}$")
})

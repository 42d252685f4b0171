# Filters, image ids (1, 20, 45: more than 20 are batched), DryRun, and the arguments paws takes.

all_tasks <- function(svc) {
  unlist(paginate_lapply(svc$describe_store_image_tasks(MaxResults = 200), function(p) p$StoreImageTaskResults),
         recursive = FALSE)
}

test_that("filters on state and bucket", {
  emu <- local_emulator("--generate", 150, "--seed", 4)
  svc <- local_client(emu)
  everything <- all_tasks(svc)
  state <- vapply(everything, function(t) t$StoreTaskState, "")
  bucket <- vapply(everything, function(t) t$Bucket, "")
  f <- list(list(Name = "task-state", Values = list("InProgress", "Failed")))
  got <- svc$describe_store_image_tasks(Filters = f, MaxResults = 200)
  expect_identical(got$StoreImageTaskResults, everything[state %in% c("InProgress", "Failed")])
  f2 <- list(list(Name = "task-state", Values = "Completed"), list(Name = "bucket", Values = c("storetasks-bucket-a")))
  got2 <- svc$describe_store_image_tasks(Filters = f2, MaxResults = 200)
  expect_identical(got2$StoreImageTaskResults, everything[state == "Completed" & bucket == "storetasks-bucket-a"])
  expect_gt(length(got2$StoreImageTaskResults), 0)
})

test_that("an unknown name in a filter is an error, as in paws", {
  emu <- local_emulator("--generate", 5)
  svc <- local_client(emu)
  expect_error(svc$describe_store_image_tasks(Filters = list(list(Nmae = "task-state", Values = list("Failed")))),
               "^invalid name: Nmae$")
  expect_error(svc$describe_store_image_tasks(Bogus = 1), "unused argument")
})

test_that("NULL, character(0) and list() mean not given", {
  emu <- local_emulator("--generate", 30, "--seed", 2)
  svc <- local_client(emu)
  base <- svc$describe_store_image_tasks()
  expect_identical(svc$describe_store_image_tasks(ImageIds = character(0), Filters = list(), NextToken = character(0),
                                                  MaxResults = NULL, DryRun = NULL), base)
  expect_identical(svc$describe_store_image_tasks(ImageIds = list(), DryRun = logical(0)), base)
  expect_identical(svc$describe_store_image_tasks(DryRun = FALSE), base)
})

test_that("1, 20 and 45 image ids; more than 20 are sent as batches", {
  emu <- local_emulator("--generate", 120, "--seed", 9)
  svc <- local_client(emu)
  everything <- all_tasks(svc)
  ids <- vapply(everything, function(t) t$AmiId, "")
  expect_identical(anyDuplicated(ids), 0L)
  for (n in c(1, 20, 45)) {
    want <- ids[seq(1, by = 2, length.out = n)]
    before <- emu_stats(emu)$describe
    got <- svc$describe_store_image_tasks(ImageIds = rev(want))
    sent <- emu_stats(emu)$describe - before
    expect_identical(sent, as.integer(ceiling(n / 20)))
    # Newest first, whatever the order of the ids; the same as a character vector or a list.
    expect_identical(got, list(StoreImageTaskResults = everything[match(want, ids)], NextToken = character(0)))
    expect_identical(svc$describe_store_image_tasks(ImageIds = as.list(want)), got)
  }
})

test_that("max_concurrency bounds the batches in flight", {
  emu <- local_emulator("--generate", 100, "--seed", 9)
  ids <- vapply(all_tasks(local_client(emu)), function(t) t$AmiId, "")
  expect_length(ids, 100L)  # five batches of 20
  # Every request waits 200 ms: batches sent together overlap in the emulator.
  add_faults(emu, "delay,ms=200,count=1000")
  home <- "123456789012/us-east-1"
  for (limit in c(1L, 4L)) {
    svc <- local_client(emu, max_concurrency = limit)
    emu_control(emu, "DELETE", "/_emulator/max-in-flight")
    expect_length(svc$describe_store_image_tasks(ImageIds = ids)$StoreImageTaskResults, 100L)
    stats <- emu_stats(emu)
    most <- stats$max_in_flight
    expect_identical(stats$by_pair[[home]]$max_in_flight, most)
    if (limit == 1L) {
      expect_identical(most, 1L, label = "requests in flight at once with max_concurrency = 1")
    } else {
      expect_gt(most, 1L, label = sprintf("requests in flight at once with max_concurrency = %d", limit))
      expect_lte(most, limit, label = sprintf("requests in flight at once with max_concurrency = %d", limit))
    }
  }
})

test_that("DryRun answers DryRunOperation (HTTP 412), as paws raises it", {
  emu <- local_emulator("--generate", 5)
  svc <- local_client(emu)
  e <- tryCatch(svc$describe_store_image_tasks(DryRun = TRUE), error = identity)
  expect_identical(class(e), c("paws_error", "http_412", "http_400", "http_error", "error", "condition"))
  expect_identical(conditionMessage(e),
                   "DryRunOperation (HTTP 412). Request would have succeeded, but DryRun flag is set.")
  expect_identical(e$status_code, 412L)
  expect_identical(e$error_response[c("Code", "Message")],
                   list(Code = "DryRunOperation", Message = "Request would have succeeded, but DryRun flag is set."))
  expect_identical(attr(e, "status_code"), 412L)
  expect_identical(attr(e, "error_response"), e$error_response)
  expect_null(e$call)
})

# The waiter: completion, failure, timeout, not found, progress, service errors, interrupt.

test_that("completion: the final tasks, in the order of the ids, with progress lines", {
  emu <- local_emulator("--tasks-file", sample_tasks(), "--progress-rate", 60)
  svc <- local_client(emu)
  ids <- c("ami-07da3e3f63732b831", "ami-0123456789abcdef0", "ami-dfc84850a2b0d1f6d")
  expect_message(resp <- wait_store_image_tasks(svc, ids, Delay = 0.2, MaxDelay = 0.4, Timeout = 30),
                 "^store tasks: [0-3] of 3 completed, [0-9]+%")
  expect_identical(names(resp), c("StoreImageTaskResults", "NextToken"))
  expect_identical(vapply(resp$StoreImageTaskResults, `[[`, "", "AmiId"), ids)
  expect_identical(unique(vapply(resp$StoreImageTaskResults, `[[`, "", "StoreTaskState")), "Completed")
  expect_identical(resp$NextToken, character(0))
})

test_that("a progress function sees each poll and may stop the wait", {
  emu <- local_emulator("--tasks-file", sample_tasks(), "--progress-rate", 10)
  svc <- local_client(emu)
  seen <- list()
  resp <- wait_store_image_tasks(svc, list("ami-07da3e3f63732b831"), Delay = 0.1, MaxDelay = 0.2, Timeout = 30,
                                 progress = function(tasks) { seen[[length(seen) + 1L]] <<- tasks; TRUE })
  expect_gt(length(seen), 0)
  expect_identical(names(seen[[1]][[1]]), c("AmiId", "TaskStartTime", "Bucket", "S3objectKey", "ProgressPercentage",
                                            "StoreTaskState", "StoreTaskFailureReason"))
  expect_identical(resp$StoreImageTaskResults[[1]]$StoreTaskState, "Completed")
  e <- tryCatch(wait_store_image_tasks(svc, "ami-0aaaaaaaaaaaaaaaa", Delay = 0.1, progress = function(tasks) FALSE),
                error = identity)
  expect_s3_class(e, "storetasks_cancelled")
})

test_that("failure: the AMI and EC2's reason", {
  emu <- local_emulator("--tasks-file", sample_tasks(), "--progress-rate", 50)
  svc <- local_client(emu)
  e <- tryCatch(wait_store_image_tasks(svc, c("ami-dfc84850a2b0d1f6d", "ami-0fedcba9876543210"), Delay = 0.1,
                                       MaxDelay = 0.2, progress = FALSE), error = identity)
  expect_identical(class(e), c("storetasks_wait_error", "storetasks_task_failed", "storetasks_error", "error",
                               "condition"))
  expect_identical(e$ami_id, "ami-0fedcba9876543210")
  expect_identical(e$failure_reason, "The snapshot was deleted while the task ran")
  # A task that has already failed ends the wait at the first poll.
  e <- tryCatch(wait_store_image_tasks(svc, "ami-b9d049d9e8d4ee001", progress = FALSE), error = identity)
  expect_s3_class(e, "storetasks_task_failed")
})

test_that("timeout and not found", {
  emu <- local_emulator("--tasks-file", sample_tasks())
  svc <- local_client(emu)
  start <- Sys.time()
  e <- tryCatch(wait_store_image_tasks(svc, "ami-0aaaaaaaaaaaaaaaa", Delay = 0.1, MaxDelay = 0.2, Timeout = 1,
                                       progress = FALSE), error = identity)
  expect_s3_class(e, "storetasks_wait_timeout")
  expect_s3_class(e, "storetasks_wait_error")
  expect_match(conditionMessage(e), "ami-0aaaaaaaaaaaaaaaa")
  expect_lt(elapsed(start), 5)
  e <- tryCatch(wait_store_image_tasks(svc, "ami-00000000000000000", NotFoundGrace = 0, progress = FALSE),
                error = identity)
  expect_s3_class(e, "storetasks_not_found")
  expect_identical(e$ami_id, "ami-00000000000000000")
})

test_that("an error reply that is not retried ends the wait as paws's condition", {
  emu <- local_emulator("--tasks-file", sample_tasks())
  svc <- local_client(emu, access_key = DENIED_KEY)
  e <- tryCatch(wait_store_image_tasks(svc, "ami-0aaaaaaaaaaaaaaaa", progress = FALSE), error = identity)
  expect_s3_class(e, "paws_error")
  expect_s3_class(e, "http_403")
  expect_error(wait_store_image_tasks(svc, character(0)), "at least one")
})

test_that("more than 20 ids are waited for in batches", {
  emu <- local_emulator("--generate", 60, "--seed", 5)
  svc <- local_client(emu)
  tasks <- svc$describe_store_image_tasks(MaxResults = 200)$StoreImageTaskResults
  done <- vapply(tasks, function(t) identical(t$StoreTaskState, "Completed"), NA)
  ids <- vapply(tasks[done], `[[`, "", "AmiId")
  expect_gt(length(ids), 20)
  resp <- wait_store_image_tasks(svc, ids, progress = FALSE)
  expect_identical(vapply(resp$StoreImageTaskResults, `[[`, "", "AmiId"), ids)
})

test_that("Ctrl-C during a wait cancels it at once, between polls too", {
  emu <- local_emulator("--tasks-file", sample_tasks())
  svc <- local_client(emu)
  svc$describe_store_image_tasks(MaxResults = 1) # the client's worker thread exists
  expect_interrupted_at_once(
    wait_store_image_tasks(svc, "ami-0aaaaaaaaaaaaaaaa", Delay = 30, MaxDelay = 30, progress = FALSE))
  # The client still works.
  expect_length(svc$describe_store_image_tasks(MaxResults = 3)$StoreImageTaskResults, 3L)
})

test_that("Ctrl-C inside the progress function ends the wait too", {
  emu <- local_emulator("--tasks-file", sample_tasks())
  svc <- local_client(emu)
  svc$describe_store_image_tasks(MaxResults = 1) # the client's worker thread exists
  expect_interrupted_at_once(wait_store_image_tasks(svc, "ami-0aaaaaaaaaaaaaaaa", Delay = 0.1,
                                                    progress = function(tasks) { Sys.sleep(30); TRUE }))
})

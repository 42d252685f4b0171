# The client: an external pointer with a finalizer and an explicit close; interrupts of a call.

settle <- function(target) {
  for (i in 1:40) {
    if (process_resources()[["threads"]] <= target) break
    Sys.sleep(0.05)
  }
  process_resources()
}

test_that("close() frees the native client; calls afterwards fail; closing twice is fine", {
  emu <- local_emulator("--generate", 5)
  base <- process_resources()
  svc <- ec2(endpoint = emu$url, region = "us-east-1",
             credentials = list(creds = list(access_key_id = ACCESS_KEY, secret_access_key = SECRET_KEY)))
  expect_length(svc$describe_store_image_tasks()$StoreImageTaskResults, 5L)
  expect_gt(process_resources()[["threads"]], base[["threads"]])
  close(svc)
  expect_identical(settle(base[["threads"]]), base)
  svc$close()
  expect_error(svc$describe_store_image_tasks(), class = "storetasks_closed")
  expect_error(wait_store_image_tasks(svc, "ami-1"), class = "storetasks_closed")
  expect_output(print(svc), "closed")
})

test_that("clients left to the garbage collector are freed by gc(), without leaks", {
  emu <- local_emulator("--generate", 5)
  make <- function() {
    svc <- ec2(endpoint = emu$url, region = "us-east-1",
               credentials = list(creds = list(access_key_id = ACCESS_KEY, secret_access_key = SECRET_KEY)))
    length(svc$describe_store_image_tasks()$StoreImageTaskResults)
  }
  make()
  gc()
  base <- settle(0)
  for (i in 1:20) expect_identical(make(), 5L)
  expect_gt(process_resources()[["threads"]], base[["threads"]])
  gc()
  expect_identical(settle(base[["threads"]]), base)
})

test_that("Ctrl-C during a call cancels the request at once", {
  emu <- local_emulator("--generate", 5)
  svc <- local_client(emu, max_retries = 0)
  svc$describe_store_image_tasks()
  add_faults(emu, "delay,ms=20000")
  expect_interrupted_at_once(svc$describe_store_image_tasks(), 0.8)
  emu_control(emu, "DELETE", "/_emulator/faults")
  expect_length(svc$describe_store_image_tasks()$StoreImageTaskResults, 5L)
  # withCallingHandlers sees the interrupt as R's own.
  add_faults(emu, "delay,ms=20000")
  seen <- FALSE
  interrupt_after(0.5)
  tryCatch(withCallingHandlers(svc$describe_store_image_tasks(), interrupt = function(e) seen <<- TRUE),
           interrupt = function(e) NULL)
  expect_true(seen)
})

test_that("Ctrl-C during paginate stops the listing", {
  emu <- local_emulator("--generate", 100)
  svc <- local_client(emu)
  add_faults(emu, "delay,at=3,ms=20000")
  start <- Sys.time()
  interrupt_after(1)
  got <- tryCatch(paginate(svc$describe_store_image_tasks(), PageSize = 10), interrupt = function(e) "interrupted")
  expect_identical(got, "interrupted")
  expect_lt(elapsed(start), 4)
})

test_that("the library's version", {
  expect_match(storetasks_version(), "^[0-9]+\\.[0-9]+\\.[0-9]+$")
})

# The emulator's tokens carry a fresh tag each time: pages compare with their token replaced by
# whether there was one.
strip_tokens <- function(pages) lapply(pages, function(p) { p$NextToken <- length(p$NextToken) == 1L; p })

# paginate(), paginate_lapply() and paginate_sapply() with paws's arguments.

test_that("paginate returns the whole page responses, following NextToken", {
  emu <- local_emulator("--generate", 95, "--seed", 6)
  svc <- local_client(emu)
  pages <- paginate(svc$describe_store_image_tasks(), PageSize = 20)
  expect_length(pages, 5L)
  manual <- list()
  token <- NULL
  repeat {
    p <- svc$describe_store_image_tasks(MaxResults = 20, NextToken = token)
    manual[[length(manual) + 1L]] <- p
    if (length(p$NextToken) == 0L) break
    token <- p$NextToken
  }
  expect_identical(strip_tokens(pages), strip_tokens(manual))
  # The call's own MaxResults wins over PageSize, as in paws.
  expect_length(paginate(svc$describe_store_image_tasks(MaxResults = 50), PageSize = 20), 2L)
  # Without PageSize: the emulator's default page (100).
  expect_length(paginate(svc$describe_store_image_tasks()), 1L)
})

test_that("MaxItems stops after the page that reaches it; StartingToken resumes", {
  emu <- local_emulator("--generate", 95, "--seed", 6)
  svc <- local_client(emu)
  pages <- paginate(svc$describe_store_image_tasks(), PageSize = 10, MaxItems = 25)
  expect_length(pages, 3L)
  expect_length(paginate(svc$describe_store_image_tasks(), PageSize = 10, MaxItems = 30), 3L)
  rest <- paginate(svc$describe_store_image_tasks(), PageSize = 10, StartingToken = pages[[3]]$NextToken)
  all <- paginate(svc$describe_store_image_tasks(), PageSize = 10)
  expect_identical(strip_tokens(rest), strip_tokens(all[4:10]))
  # A NextToken given in the call wins over StartingToken.
  expect_identical(paginate(svc$describe_store_image_tasks(NextToken = pages[[1]]$NextToken), PageSize = 10,
                            StartingToken = pages[[3]]$NextToken) |> strip_tokens(), strip_tokens(all[2:10]))
})

test_that("arguments are evaluated in the caller's frame; do.call works", {
  emu <- local_emulator("--generate", 60, "--seed", 6)
  svc <- local_client(emu)
  f <- function(state) paginate(svc$describe_store_image_tasks(Filters = list(list(Name = "task-state", Values = state))),
                                PageSize = 7)
  pages <- f("Completed")
  states <- unique(unlist(lapply(pages, function(p) vapply(p$StoreImageTaskResults, `[[`, "", "StoreTaskState"))))
  expect_identical(states, "Completed")
  args <- list(Filters = list(list(Name = "task-state", Values = "Completed")))
  expect_identical(strip_tokens(paginate(do.call(svc$describe_store_image_tasks, args), PageSize = 7)),
                   strip_tokens(pages))
})

test_that("paginate_lapply and paginate_sapply apply FUN to each page", {
  emu <- local_emulator("--generate", 45, "--seed", 8)
  svc <- local_client(emu)
  counts <- paginate_sapply(svc$describe_store_image_tasks(), function(p) length(p$StoreImageTaskResults), PageSize = 20)
  expect_identical(counts, c(20L, 20L, 5L))
  ids <- paginate_lapply(svc$describe_store_image_tasks(), function(p, member) vapply(p$StoreImageTaskResults,
                         `[[`, "", member), member = "AmiId", PageSize = 20, MaxItems = 21)
  expect_length(ids, 2L)
  expect_length(unlist(ids), 40L)
  expect_type(paginate_sapply(svc$describe_store_image_tasks(), function(p) p$NextToken, PageSize = 20,
                              simplify = FALSE), "list")
})

test_that("what paginate refuses", {
  expect_error(paginate(list()), "Unknown method")
  expect_error(paginate(1), "Operation")
  f <- function(NextToken = NULL) list()
  expect_error(paginate(f()), "Unknown method")
})

# wait_store_image_tasks_targets(): one wait over images in several regions and accounts of one
# emulator. The AMI ids come from each place's own listing (the fleet call), chosen among the
# images whose latest task is in a given state.

TARGETS_ROLE <- "arn:aws:iam::111111111111:role/StoreTasksReader"

targets_emulator <- function(env = parent.frame()) {
  local_emulator("--generate", 40, "--seed", 11, "--regions", "us-east-1,eu-west-3,us-west-2",
                 "--role", TARGETS_ROLE, env = env)
}

# Every task of one place, newest first.
place_listing <- function(svc, region, role = NULL) {
  out <- svc$describe_store_image_tasks_fleet(Regions = region, RoleArns = role)$Places
  expect_length(out, 1L)
  expect_null(out[[1]]$Error)
  out[[1]]$StoreImageTaskResults
}

# The first task of a listing (newest first) in `state` that is the latest of its image, so that
# a wait on its image sees that very task.
latest_in_state <- function(tasks, state) {
  seen <- character(0)
  for (t in tasks) {
    if (!(t$AmiId %in% seen) && identical(t$StoreTaskState, state)) return(t)
    seen <- c(seen, t$AmiId)
  }
  stop("no image whose latest task is ", state)
}

task_ids <- function(tasks) vapply(tasks, function(t) t$AmiId, "")

test_that("completed tasks of two regions and a role come back in the order of the targets", {
  emu <- targets_emulator()
  svc <- local_client(emu)
  home <- latest_in_state(place_listing(svc, "us-east-1"), "Completed")
  eu <- latest_in_state(place_listing(svc, "eu-west-3"), "Completed")
  west <- latest_in_state(place_listing(svc, "us-west-2"), "Completed")
  role <- latest_in_state(place_listing(svc, "eu-west-3", TARGETS_ROLE), "Completed")
  expect_length(unique(c(home$AmiId, eu$AmiId, west$AmiId, role$AmiId)), 4L)
  targets <- list(
    list(Region = "us-west-2", ImageId = west$AmiId),
    list(Region = "eu-west-3", RoleArn = TARGETS_ROLE, ImageId = role$AmiId),
    list(ImageId = home$AmiId), # the client's region and account
    list(Region = "eu-west-3", RoleArn = "", ImageId = eu$AmiId),
    list(Region = "us-west-2", ImageId = west$AmiId) # given twice, comes once
  )
  want <- list(west, role, home, eu)
  polls <- list()
  before <- emu_stats(emu)
  resp <- wait_store_image_tasks_targets(svc, targets, Delay = 0.1, MaxDelay = 0.3, Timeout = 30,
                                         progress = function(tasks) {
                                           polls[[length(polls) + 1L]] <<- tasks
                                           TRUE
                                         })
  after <- emu_stats(emu)
  expect_identical(names(resp), c("StoreImageTaskResults", "NextToken"))
  expect_identical(resp$StoreImageTaskResults, want)
  # Every task was already Completed: one poll saw them all, in the same order.
  expect_identical(polls, list(want))
  expect_identical(after$assume_role_requests - before$assume_role_requests, 1L)
  # One request per place: us-west-2, the role's eu-west-3, us-east-1 and eu-west-3.
  expect_identical(after$describe - before$describe, 4L)

  # The same targets as a data frame (NA: the client's region or account).
  frame <- data.frame(Region = c("us-west-2", "eu-west-3", NA, "eu-west-3"),
                      RoleArn = c(NA, TARGETS_ROLE, NA, NA),
                      ImageId = c(west$AmiId, role$AmiId, home$AmiId, eu$AmiId))
  expect_identical(wait_store_image_tasks_targets(svc, frame, progress = FALSE)$StoreImageTaskResults, want)
})

test_that("an image looked for in the wrong place is not found there", {
  emu <- targets_emulator()
  svc <- local_client(emu)
  eu <- latest_in_state(place_listing(svc, "eu-west-3"), "Completed")$AmiId
  cases <- list(
    # An image of eu-west-3 looked for in us-west-2 as well.
    list(targets = list(list(Region = "eu-west-3", ImageId = eu), list(Region = "us-west-2", ImageId = eu)),
         name = paste0("us-west-2/", eu)),
    # An image of the client's account looked for in the role's account.
    list(targets = list(list(Region = "eu-west-3", RoleArn = TARGETS_ROLE, ImageId = eu)),
         name = paste0("111111111111/eu-west-3/", eu))
  )
  for (case in cases) {
    start <- Sys.time()
    e <- tryCatch(wait_store_image_tasks_targets(svc, case$targets, Delay = 0.1, MaxDelay = 0.2,
                                                 NotFoundGrace = 0.3, progress = FALSE),
                  error = identity)
    took <- as.numeric(Sys.time() - start, units = "secs")
    expect_s3_class(e, "storetasks_not_found")
    expect_s3_class(e, "storetasks_wait_error")
    expect_identical(e$ami_id, eu)
    expect_true(grepl(paste0(case$name, " has had no store task"), conditionMessage(e), fixed = TRUE),
                info = conditionMessage(e))
    expect_gte(took, 0.3)
    expect_lt(took, 3)
  }
})

test_that("a failed task in one region ends the wait; a denied region ends it with its error", {
  emu <- targets_emulator()
  svc <- local_client(emu)
  eu <- latest_in_state(place_listing(svc, "eu-west-3"), "Completed")
  west <- place_listing(svc, "us-west-2")
  failed <- latest_in_state(west, "Failed")
  expect_gt(nchar(failed$StoreTaskFailureReason), 0)
  e <- tryCatch(wait_store_image_tasks_targets(svc, list(list(Region = "eu-west-3", ImageId = eu$AmiId),
                                                         list(Region = "us-west-2", ImageId = failed$AmiId)),
                                               Delay = 0.1, MaxDelay = 0.2, progress = FALSE),
                error = identity)
  expect_identical(class(e), c("storetasks_wait_error", "storetasks_task_failed", "storetasks_error", "error",
                               "condition"))
  expect_identical(e$ami_id, failed$AmiId)
  expect_identical(e$failure_reason, failed$StoreTaskFailureReason)
  expect_true(startsWith(conditionMessage(e), paste0("us-west-2/", failed$AmiId, " failed: ")),
              info = conditionMessage(e))

  add_faults(emu, "deny,region=eu-west-3,count=1000")
  ok <- latest_in_state(west, "Completed")
  e <- tryCatch(wait_store_image_tasks_targets(svc, list(list(Region = "us-west-2", ImageId = ok$AmiId),
                                                         list(Region = "eu-west-3", ImageId = eu$AmiId)),
                                               Delay = 0.1, MaxDelay = 0.2, progress = FALSE),
                error = identity)
  expect_s3_class(e, "paws_error")
  expect_s3_class(e, "http_403")
  expect_identical(e$error_response$Code, "UnauthorizedOperation")
  expect_true(startsWith(e$error_response$Message, "eu-west-3: "), info = e$error_response$Message)
})

test_that("bad input is refused before anything is sent", {
  emu <- targets_emulator()
  svc <- local_client(emu)
  ami <- "ami-00000000000000014"
  before <- emu_stats(emu)$requests
  refused <- function(targets, pattern) {
    expect_error(wait_store_image_tasks_targets(svc, targets, progress = FALSE), pattern,
                 class = "storetasks_invalid_argument")
  }
  # What the library refuses, with its reason.
  refused(list(), "no image ids")
  refused(list(list(Region = "EU WEST", ImageId = ami)), "\"EU WEST\" is not a region name")
  refused(list(list(Region = "eu-west-3", ImageId = ami), list(Region = "eu_west_3", ImageId = ami)),
          "\"eu_west_3\" is not a region name")
  refused(list(list(RoleArn = "arn:nope", ImageId = ami)), "\"arn:nope\" is not an IAM role ARN")
  refused(list(list(ImageId = "  ")), "an image id is empty")
  refused(list(list(Region = "eu-west-3", ImageId = "")), "an image id is empty")
  # Malformed arguments: plain R errors.
  expect_error(wait_store_image_tasks_targets(svc, ami), "Targets must be a list of targets")
  expect_error(wait_store_image_tasks_targets(svc, list(Region = "eu-west-3", ImageId = ami)),
               "Targets must be a list of targets")
  expect_error(wait_store_image_tasks_targets(svc, list(list(Region = "eu-west-3"))),
               "Targets\\[\\[1\\]\\]\\$ImageId must be one string")
  expect_error(wait_store_image_tasks_targets(svc, list(list(ImageId = NA_character_))), "ImageId must be one string")
  expect_error(wait_store_image_tasks_targets(svc, list(list(ImageId = ami, Account = "1"))), "invalid name: Account")
  expect_error(wait_store_image_tasks_targets(svc, list(list(Region = c("a", "b"), ImageId = ami))),
               "Region must be one string")
  expect_error(wait_store_image_tasks_targets(svc, data.frame(Place = "eu-west-3", ImageId = ami)),
               "invalid name: Place")
  expect_error(wait_store_image_tasks_targets(svc, list(list(ImageId = ami)), Delay = -1),
               "^Delay must be a number of seconds from 0 to", class = "storetasks_invalid_argument")
  expect_identical(emu_stats(emu)$requests, before)
  close(svc)
  expect_error(wait_store_image_tasks_targets(svc, list(list(ImageId = ami))), class = "storetasks_closed")
})

test_that("a progress function may stop a wait across regions; Ctrl-C cancels it at once", {
  emu <- targets_emulator()
  svc <- local_client(emu)
  # Without --progress-rate these stay InProgress.
  eu <- latest_in_state(place_listing(svc, "eu-west-3"), "InProgress")$AmiId
  west <- latest_in_state(place_listing(svc, "us-west-2"), "InProgress")$AmiId
  targets <- list(list(Region = "us-west-2", ImageId = west), list(Region = "eu-west-3", ImageId = eu))
  seen <- list()
  e <- tryCatch(wait_store_image_tasks_targets(svc, targets, Delay = 0.1, MaxDelay = 0.2,
                                               progress = function(tasks) {
                                                 seen[[length(seen) + 1L]] <<- task_ids(tasks)
                                                 length(seen) < 2L
                                               }),
                error = identity)
  expect_s3_class(e, "storetasks_cancelled")
  expect_identical(seen, list(c(west, eu), c(west, eu)))

  expect_interrupted_at_once(wait_store_image_tasks_targets(svc, targets, Delay = 30, MaxDelay = 30, progress = FALSE))
})

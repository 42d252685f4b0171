# describe_store_image_tasks_fleet(): one query in several regions and accounts of one emulator,
# each healthy place compared with what a client of that region lists on its own.

ROLE_A <- "arn:aws:iam::111111111111:role/StoreTasksReader"

`%||%` <- function(x, y) if (is.null(x)) y else x

# Every task a client of `region` lists through paginate().
regional_listing <- function(emu, region) {
  svc <- ec2(endpoint = emu$url, region = region,
             credentials = list(creds = list(access_key_id = ACCESS_KEY, secret_access_key = SECRET_KEY)))
  on.exit(close(svc))
  pages <- paginate(svc$describe_store_image_tasks(), PageSize = 200)
  unlist(lapply(pages, `[[`, "StoreImageTaskResults"), recursive = FALSE) %||% list()
}

ami_ids <- function(tasks) vapply(tasks, function(t) t$AmiId, "")

test_that("each region equals its own listing, and a failing region carries its error", {
  emu <- local_emulator("--generate", 40, "--seed", 3, "--regions", "us-east-1,eu-west-3,ap-south-1,us-west-2",
                        "--fault", "throttle,region=eu-west-3,count=1000000")
  svc <- local_client(emu, max_retries = 1)
  regions <- c("us-west-2", "eu-west-3", "ap-south-1", "us-west-2")
  out <- svc$describe_store_image_tasks_fleet(Regions = regions, MaxResults = 15)
  expect_identical(names(out), c("Places", "Regions"))
  expect_identical(vapply(out$Places, function(p) p$Region, ""), c("us-west-2", "eu-west-3", "ap-south-1"))
  seen <- character(0)
  for (place in out$Places[c(1, 3)]) {
    expect_identical(names(place), c("Region", "Account", "StoreImageTaskResults"))
    expect_identical(place$Account, character(0))
    expected <- regional_listing(emu, place$Region)
    expect_gte(length(expected), 40L)
    expect_identical(place$StoreImageTaskResults, expected)
    expect_length(intersect(seen, ami_ids(expected)), 0L)
    seen <- c(seen, ami_ids(expected))
  }
  failed <- out$Places[[2]]
  expect_identical(names(failed), c("Region", "Account", "StoreImageTaskResults", "Error"))
  expect_identical(failed$StoreImageTaskResults, list())
  expect_identical(names(failed$Error), c("Status", "Code", "Message", "HttpStatus", "RequestId"))
  expect_identical(failed$Error$Status, "STORETASKS_STATUS_THROTTLED")
  expect_identical(failed$Error$Code, "RequestLimitExceeded")
  expect_identical(failed$Error$HttpStatus, 503L)
  expect_match(failed$Error$RequestId, "^[0-9a-f-]{36}$")
  # A client of that region alone gets the same answer as paws's condition.
  lone <- ec2(endpoint = emu$url, region = "eu-west-3",
              credentials = list(creds = list(access_key_id = ACCESS_KEY, secret_access_key = SECRET_KEY)),
              config = list(max_retries = 0))
  on.exit(close(lone), add = TRUE)
  cond <- tryCatch(lone$describe_store_image_tasks(), error = function(e) e)
  expect_s3_class(cond, "http_503")
  expect_identical(cond$error_response$Code, failed$Error$Code)
  expect_identical(cond$error_response$Message, failed$Error$Message)
})

test_that("roles tag their places with their own data; DryRun answers in every region", {
  emu <- local_emulator("--generate", 25, "--regions", "us-east-1,eu-west-3", "--role", ROLE_A)
  svc <- local_client(emu)
  # Pages of 4: every place takes several requests, and each must hold all of them.
  out <- svc$describe_store_image_tasks_fleet(Regions = list("eu-west-3", "us-east-1"), RoleArns = ROLE_A,
                                              MaxResults = 4)
  expect_identical(vapply(out$Places, function(p) p$Region, ""), c("eu-west-3", "us-east-1"))
  own <- svc$describe_store_image_tasks_fleet(Regions = "eu-west-3")$Places[[1]]
  for (place in out$Places) {
    expect_identical(names(place), c("Region", "Account", "RoleArn", "StoreImageTaskResults"))
    expect_identical(place$Account, "111111111111")
    expect_identical(place$RoleArn, ROLE_A)
    expect_length(place$StoreImageTaskResults, 25L)
    expect_s3_class(place$StoreImageTaskResults[[1]]$TaskStartTime, "POSIXct")
    expect_length(intersect(ami_ids(place$StoreImageTaskResults), ami_ids(own$StoreImageTaskResults)), 0L)
    held <- emulator_listing(emu, place$Region, place$Account)
    expect_gt(length(held), 2L * 4L)
    expect_identical(ami_ids(place$StoreImageTaskResults), ami_ids(held),
                     label = sprintf("the AMIs of %s/%s through the role", place$Account, place$Region))
    expect_identical(vapply(place$StoreImageTaskResults, function(t) t$StoreTaskState, ""),
                     vapply(held, function(t) t$StoreTaskState, ""))
  }
  dry <- svc$describe_store_image_tasks_fleet(Regions = c("us-east-1", "eu-west-3"), DryRun = TRUE)
  expect_identical(vapply(dry$Places, function(p) p$Region, ""), c("us-east-1", "eu-west-3"))
  for (place in dry$Places) {
    expect_identical(place$Error$Code, "DryRunOperation")
    expect_identical(place$Error$Status, "STORETASKS_STATUS_DRY_RUN_OK")
    expect_identical(place$Error$HttpStatus, 412L)
  }
})

test_that("Regions is a deprecated alias holding the Places list itself, until 1.0", {
  emu <- local_emulator("--generate", 5, "--regions", "us-east-1,eu-west-3")
  svc <- local_client(emu)
  out <- svc$describe_store_image_tasks_fleet(Regions = c("eu-west-3", "us-east-1"))
  expect_identical(names(out), c("Places", "Regions"))
  expect_identical(out$Regions, out$Places)
  expect_identical(vapply(out$Places, function(p) p$Region, ""), c("eu-west-3", "us-east-1"))
  # One object under two names, not a copy.
  skip_if_not(capabilities("profmem"), "R without memory profiling cannot tell an object's address")
  on.exit(untracemem(out$Places), add = TRUE)
  expect_identical(tracemem(out$Regions), tracemem(out$Places))
})

test_that("all regions leave out the opt-in one; a closed client and bad input raise", {
  emu <- local_emulator("--generate", 5, "--regions", "us-east-1,eu-west-3", "--opt-in-region", "me-south-1")
  svc <- local_client(emu)
  out <- svc$describe_store_image_tasks_fleet(AllRegions = TRUE)
  expect_identical(vapply(out$Places, function(p) p$Region, ""), c("eu-west-3", "us-east-1"))
  before <- emu_stats(emu)$requests
  expect_error(svc$describe_store_image_tasks_fleet(), "no region", class = "storetasks_invalid_argument")
  expect_error(svc$describe_store_image_tasks_fleet(Regions = "EU WEST"), "not a region name",
               class = "storetasks_invalid_argument")
  expect_error(svc$describe_store_image_tasks_fleet(Regions = "eu-west-3", AllRegions = TRUE), "choose one",
               class = "storetasks_invalid_argument")
  expect_error(svc$describe_store_image_tasks_fleet(Regions = "eu-west-3", RoleArns = "arn:aws:iam::1:role/x"),
               "IAM role ARN", class = "storetasks_invalid_argument")
  expect_error(svc$describe_store_image_tasks_fleet(Regions = "eu-west-3", MaxResults = 500),
               class = "storetasks_invalid_argument")
  expect_error(svc$describe_store_image_tasks_fleet(Regions = NA_character_), "NA")
  expect_error(svc$describe_store_image_tasks_fleet(Regions = "eu-west-3", NextToken = "x"), "unused argument")
  expect_identical(emu_stats(emu)$requests, before)
  close(svc)
  expect_error(svc$describe_store_image_tasks_fleet(Regions = "eu-west-3"), class = "storetasks_closed")
})

test_that("Ctrl-C during a fleet call cancels it at once", {
  emu <- local_emulator("--generate", 5, "--regions", "us-east-1,eu-west-3", "--fault", "delay,ms=20000,count=100")
  svc <- local_client(emu, max_retries = 0)
  start <- Sys.time()
  interrupt_after(0.8)
  got <- tryCatch(svc$describe_store_image_tasks_fleet(Regions = c("us-east-1", "eu-west-3")),
                  interrupt = function(e) "interrupted")
  expect_identical(got, "interrupted")
  expect_lt(as.numeric(Sys.time() - start, units = "secs"), 4)
  emu_control(emu, "DELETE", "/_emulator/faults")
  expect_length(svc$describe_store_image_tasks_fleet(Regions = "eu-west-3")$Places[[1]]$StoreImageTaskResults, 5L)
})

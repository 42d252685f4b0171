#' Wait until store tasks complete, with a progress bar
#'
#' @description
#' Polls until the latest store task of every image in \code{ImageIds} is \code{Completed}
#' (libstoretasks's waiter: any number of ids, more than 20 polled in batches; the pause between
#' polls starts at \code{Delay} and doubles up to \code{MaxDelay}; throttling, network errors,
#' timeouts and 5xx replies are retried at the next poll).
#'
#' @details
#' The wait ends with a condition: \code{storetasks_task_failed} as soon as one task fails (fields
#' \code{ami_id} and \code{failure_reason}), \code{storetasks_wait_timeout} when \code{Timeout}
#' passes, \code{storetasks_not_found} when an image has no store task for \code{NotFoundGrace}
#' seconds (these three also have class \code{storetasks_wait_error}), \code{storetasks_cancelled}
#' when \code{progress} returns \code{FALSE} or the client is closed, and paws's \code{paws_error}
#' for an error reply that is not retried. A user interrupt (Ctrl-C), during a poll, between polls
#' or in \code{progress}, cancels the wait at once and is signalled as an interrupt.
#'
#' \code{Delay}, \code{MaxDelay}, \code{Timeout} and \code{NotFoundGrace} must each be a number of
#' seconds from 0 to 18446744073709548 (their milliseconds fit in 64 bits): \code{NA}, \code{NaN},
#' \code{Inf} or any other value raises \code{storetasks_invalid_argument} before anything is sent.
#'
#' @param svc A client made by \code{\link{ec2}}.
#' @param ImageIds The AMI ids (a character vector or a list of strings).
#' @param Delay The first pause between polls, in seconds.
#' @param MaxDelay The longest pause between polls, in seconds.
#' @param Timeout The deadline of the whole wait, in seconds (0: none).
#' @param NotFoundGrace How long an image may have no store task, in seconds.
#' @param progress \code{TRUE} shows the progress (a \code{txtProgressBar} on stderr when it is a
#'   terminal, else one message per poll), \code{FALSE} shows nothing, a function is called after
#'   each poll with the latest tasks (a list of task items, in the order of \code{ImageIds}) and
#'   stops the wait by returning \code{FALSE}.
#' @return The final response, \code{list(StoreImageTaskResults, NextToken = character(0))},
#'   invisibly.
#' @examples
#' \dontrun{
#' svc <- ec2(region = "us-east-1")
#' wait_store_image_tasks(svc, c("ami-0123456789abcdef0", "ami-0fedcba9876543210"))
#' }
#' @export
wait_store_image_tasks <- function(svc, ImageIds, Delay = 5, MaxDelay = 120, Timeout = 7200, NotFoundGrace = 60,
                                   progress = TRUE) {
  state <- client_state(svc)
  ids <- as_strings(ImageIds, "ImageIds")
  if (length(ids) == 0L) stop("ImageIds needs at least one image id", call. = FALSE)
  check_wait_settings(Delay, MaxDelay, Timeout, NotFoundGrace)
  run_wait(state, progress, length(ids), function() {
    .Call(st_wait_start, state$ptr, ids, Delay, max(MaxDelay, Delay), Timeout, NotFoundGrace)
  })
}

#' Wait until store tasks in several regions and accounts complete
#'
#' @description
#' \code{\link{wait_store_image_tasks}} for images in several regions and accounts (libstoretasks's
#' \code{storetasks_client_wait_targets}): each poll asks every (account, region) place for its
#' images at once, and each role is assumed once per wait, with the client's own credentials.
#'
#' @details
#' The wait ends as \code{\link{wait_store_image_tasks}}'s does. When the targets span more than
#' one place, messages name an image \code{"REGION/ami-..."} (\code{"ACCOUNT/REGION/ami-..."} in a
#' role's account) while the condition's \code{ami_id} holds the bare id. A place's throttling or
#' network error means another poll; any other error of a place (denied, for instance) ends the
#' wait with its condition, whose message starts with the place (\code{"REGION: "}). No targets, a
#' blank \code{ImageId}, or a region name or role ARN the library refuses raise
#' \code{storetasks_invalid_argument} before anything is sent.
#'
#' @inheritParams wait_store_image_tasks
#' @param Targets The images and where their store tasks run: a list of targets, each
#'   \code{list(Region = , RoleArn = , ImageId = )} as paws takes structures (only \code{ImageId} is
#'   required), or a data frame with those columns. A missing, \code{NULL}, \code{NA} or empty
#'   \code{Region} is the client's region; such a \code{RoleArn} is the client's own account, else
#'   an IAM role \code{"arn:aws:iam::ACCOUNT:role/NAME"} of the image's account.
#' @param progress As for \code{\link{wait_store_image_tasks}}; a function receives the latest
#'   tasks in the order of \code{Targets}.
#' @return The final response, \code{list(StoreImageTaskResults, NextToken = character(0))},
#'   invisibly: the tasks in the order of \code{Targets}, a target given twice once.
#' @examples
#' \dontrun{
#' svc <- ec2(region = "us-east-1")
#' wait_store_image_tasks_targets(svc, list(
#'   list(Region = "eu-west-3", ImageId = "ami-0123456789abcdef0"),
#'   list(Region = "us-west-2", RoleArn = "arn:aws:iam::111111111111:role/Reader",
#'        ImageId = "ami-0fedcba9876543210")))
#' }
#' @export
wait_store_image_tasks_targets <- function(svc, Targets, Delay = 5, MaxDelay = 120, Timeout = 7200,
                                           NotFoundGrace = 60, progress = TRUE) {
  state <- client_state(svc)
  targets <- as_targets(Targets)
  check_wait_settings(Delay, MaxDelay, Timeout, NotFoundGrace)
  # The library waits once for a target given twice: so does the progress display.
  n <- nrow(unique(as.data.frame(targets, stringsAsFactors = FALSE)))
  run_wait(state, progress, n, function() {
    .Call(st_wait_targets_start, state$ptr, targets$regions, targets$roles, targets$ids, Delay,
          max(MaxDelay, Delay), Timeout, NotFoundGrace)
  })
}

target_names <- c("Region", "RoleArn", "ImageId")

# Targets as three character vectors of one length (NA: the client's region or credentials).
as_targets <- function(Targets) {
  if (is.data.frame(Targets)) {
    check_names(Targets, target_names)
    columns <- lapply(Targets, function(column) if (is.factor(column)) as.character(column) else column)
    Targets <- lapply(seq_len(nrow(Targets)), function(i) lapply(columns, function(column) column[[i]]))
  }
  if (!is.list(Targets) || !is.null(names(Targets))) {
    stop("Targets must be a list of targets, list(list(Region = ..., RoleArn = ..., ImageId = ...)), or a data frame",
         call. = FALSE)
  }
  optional <- function(x, what) {
    if (length(x) == 1L && is.na(x)) return(NA_character_)
    opt_string(x, what) %||% NA_character_
  }
  out <- list(regions = character(length(Targets)), roles = character(length(Targets)),
              ids = character(length(Targets)))
  for (i in seq_along(Targets)) {
    t <- Targets[[i]]
    if (!is.list(t)) stop(sprintf("Targets[[%d]] must be a list(Region = ..., RoleArn = ..., ImageId = ...)", i),
                          call. = FALSE)
    check_names(t, target_names)
    id <- t$ImageId
    if (is.list(id) && length(id) == 1L) id <- id[[1L]]
    if (!is.character(id) || length(id) != 1L || is.na(id)) {
      stop(sprintf("Targets[[%d]]$ImageId must be one string", i), call. = FALSE)
    }
    out$regions[i] <- optional(t$Region, sprintf("Targets[[%d]]$Region", i))
    out$roles[i] <- optional(t$RoleArn, sprintf("Targets[[%d]]$RoleArn", i))
    out$ids[i] <- enc2utf8(id)
  }
  out
}

# Each one a number of seconds whose milliseconds fit in the library's uint64_t (see check_number()).
check_wait_settings <- function(Delay, MaxDelay, Timeout, NotFoundGrace) {
  settings <- list(Delay = Delay, MaxDelay = MaxDelay, Timeout = Timeout, NotFoundGrace = NotFoundGrace)
  for (name in names(settings)) check_number(settings[[name]], name, 0, max_seconds)
}

# Runs a wait for both waiters: `start()` starts the native wait (a job) or returns an error list;
# `n` images are shown by `progress`. The polls' tasks go to the display; the final response or
# the condition ends it.
run_wait <- function(state, progress, n, start) {
  show <- progress_display(progress, n)
  if (!.Call(st_client_is_open, state$ptr)) stop(closed_condition())
  job <- start()
  if (is.list(job)) stop(condition_from(job, state$endpoint))
  # Whatever leaves this function (an error of `progress`, an interrupt during it), the wait is
  # cancelled and its thread joined.
  on.exit({
    .Call(st_job_finish, job)
    show$close()
  })
  stopped <- FALSE
  repeat {
    event <- .Call(st_job_next, job, state$keep_ms)
    if (event$kind != "progress") break
    if (isFALSE(show$update(event$tasks))) {
      stopped <- TRUE
      .Call(st_job_finish, job)
      break
    }
  }
  if (stopped) {
    stop(storetasks_condition("STORETASKS_STATUS_CANCELLED", "the progress function stopped the wait"))
  }
  switch(event$kind,
    ok = {
      show$update(event$response$StoreImageTaskResults, final = TRUE)
      invisible(event$response)
    },
    error = stop(condition_from(event, state$endpoint)),
    interrupted = signal_interrupt()
  )
}

# The progress of a poll, 0 to 100: the mean over the images (a completed task counts 100, an
# image without a task 0).
overall_progress <- function(tasks, n) {
  pct <- vapply(tasks, function(t) {
    if (identical(t$StoreTaskState, "Completed")) 100 else if (length(t$ProgressPercentage)) t$ProgressPercentage else 0
  }, numeric(1))
  sum(pct) / n
}

progress_display <- function(progress, n) {
  nothing <- list(update = function(tasks, final = FALSE) TRUE, close = function() NULL)
  if (is.function(progress)) {
    return(list(update = function(tasks, final = FALSE) if (final) TRUE else progress(tasks),
                close = function() NULL))
  }
  if (!isTRUE(progress)) return(nothing)
  if (isatty(stderr())) {
    bar <- NULL
    return(list(
      update = function(tasks, final = FALSE) {
        if (is.null(bar)) bar <<- txtProgressBar(min = 0, max = 100, style = 3, file = stderr())
        setTxtProgressBar(bar, overall_progress(tasks, n))
        TRUE
      },
      close = function() if (!is.null(bar)) close(bar)
    ))
  }
  list(
    update = function(tasks, final = FALSE) {
      done <- sum(vapply(tasks, function(t) identical(t$StoreTaskState, "Completed"), logical(1)))
      message(sprintf("store tasks: %d of %d completed, %.0f%%", done, n, overall_progress(tasks, n)))
      TRUE
    },
    close = function() NULL
  )
}

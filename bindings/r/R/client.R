# The client: paws.compute's ec2() and its describe_store_image_tasks(), over libstoretasks.

# The names ec2()'s config takes: paws's, plus those of this package (see ?ec2).
config_names <- c("credentials", "endpoint", "region", "connect_timeout", "max_retries", "close_connection",
                  "timeout", "max_concurrency", "app_name", "keep_milliseconds", "proxy", "no_proxy",
                  "ca_bundle", "sts_endpoint")
credentials_names <- c("creds", "profile", "anonymous")
creds_names <- c("access_key_id", "secret_access_key", "session_token")
filter_names <- c("Name", "Values")

`%||%` <- function(x, y) if (is.null(x)) y else x

invalid_name <- function(name) stop(sprintf("invalid name: %s", name), call. = FALSE)

check_names <- function(x, allowed) {
  for (name in names(x)) {
    if (!(name %in% allowed)) invalid_name(name)
  }
  if (length(x) > 0L && is.null(names(x))) invalid_name(paste(format(x[[1L]]), collapse = " "))
}

# paws.common's merge_config(): the short-hand arguments (credentials, endpoint, region) are
# flattened into a config list (NULL entries dropped) that overrides `config` (modifyList).
merge_config <- function(config, short) {
  built <- list()
  creds <- short$credentials
  if (length(creds) > 0L) built$credentials <- creds
  if (!is.null(short$endpoint)) built$endpoint <- short$endpoint
  if (!is.null(short$region)) built$region <- short$region
  if (!is.list(config)) stop("config must be a list", call. = FALSE)
  modifyList(config, built)
}

# One string or NULL: "" (paws's default) and zero-length values mean "not given".
opt_string <- function(x, what) {
  x <- opt_text(x, what)
  if (is.null(x) || !nzchar(x)) NULL else x
}

# One string, "" included, or NULL for zero-length values. The message never shows the value (a
# proxy URL may hold a password).
opt_text <- function(x, what) {
  if (length(x) == 0L) return(NULL)
  if (is.list(x) && length(x) == 1L) x <- x[[1L]]
  if (!is.character(x) || length(x) != 1L || is.na(x)) {
    stop(sprintf("%s must be one string", what), call. = FALSE)
  }
  enc2utf8(x)
}

# The largest numbers the C glue turns into C integers (as doubles): seconds whose milliseconds,
# rounded, stay below 2^64 (a uint64_t), whole numbers that fit in a size_t, and max_retries + 1
# in a uint32_t. A cast of Inf, NaN or a larger number is undefined behaviour in C.
max_seconds <- 18446744073709548
max_size <- if (.Machine$sizeof.pointer >= 8L) 2^64 - 2048 else 2^32 - 1
max_retries_limit <- 2^32 - 2

# `x` as one number from `min` to `max` (a whole one when `whole`, else seconds). Anything else
# (NA, NaN, Inf, -1, 1e300, a string, several numbers) raises storetasks_invalid_argument, as a
# value the library refuses, naming `what` and the range.
check_number <- function(x, what, min, max, whole = FALSE) {
  ok <- is.numeric(x) && length(x) == 1L && !is.na(x) && x >= min && x <= max && (!whole || x == trunc(x))
  if (!ok) {
    shown <- if (is.numeric(x) && length(x) == 1L) format(x, digits = 15L) else paste(deparse(x, nlines = 1L), collapse = "")
    stop(storetasks_condition("STORETASKS_STATUS_INVALID_ARGUMENT",
                              sprintf("%s must be %s from %.0f to %.0f, not %s", what,
                                      if (whole) "a whole number" else "a number of seconds", min, max, shown)))
  }
  as.numeric(x)
}

# check_number(), or NULL when `x` is not given (NULL or zero-length: the library's default).
opt_number <- function(x, what, min, max, whole = FALSE) {
  if (length(x) == 0L) return(NULL)
  check_number(x, what, min, max, whole)
}

opt_flag <- function(x, what) {
  if (length(x) == 0L) return(FALSE)
  if (!is.logical(x) || length(x) != 1L || is.na(x)) stop(sprintf("%s must be TRUE or FALSE", what), call. = FALSE)
  x
}

#' An EC2 client for DescribeStoreImageTasks, as paws.compute's ec2()
#'
#' @description
#' Takes the arguments of \code{paws.compute::ec2()} and returns a client whose
#' \code{describe_store_image_tasks()} answers as paws's does, through libstoretasks.
#'
#' @details
#' The short-hand arguments override the same entries of \code{config} (\code{modifyList}).
#' \code{config} takes paws's names: \code{credentials = list(creds = list(access_key_id,
#' secret_access_key, session_token), profile, anonymous)}, \code{endpoint}, \code{region},
#' \code{connect_timeout} (seconds), \code{max_retries} (retries after the first attempt) and
#' \code{close_connection} (accepted and ignored: the library keeps a connection pool); and seven of
#' this package: \code{timeout} (seconds each attempt may take), \code{max_concurrency} (what runs
#' at once, default 8: the requests of 20 image ids that a longer id list is split into (in each
#' place), the places a fleet call lists, and the pages a fleet call queues for its caller),
#' \code{app_name} (added to the user agent),
#' \code{keep_milliseconds} (\code{TRUE} keeps the milliseconds of \code{TaskStartTime}, which paws
#' drops; default \code{getOption("storetasks.keep_milliseconds", FALSE)}), \code{proxy},
#' \code{no_proxy} and \code{ca_bundle}. \code{ca_bundle} is a PEM file whose certificates TLS trusts
#' in addition to the system's roots (a TLS-inspecting proxy's, a private endpoint's); not given,
#' \code{AWS_CA_BUNDLE} applies, else the profile's \code{ca_bundle}. A file that cannot be read or
#' holds no certificate raises \code{storetasks_config}. \code{proxy} is the proxy every request
#' (EC2, STS for roles, SSO) goes through (\code{"http://[user:password@]host:port"},
#' \code{"https://..."} for a proxy reached over TLS, or \code{"host:port"}); \code{""} sends every
#' request directly, whatever the environment says; not given, the environment's
#' \code{HTTPS_PROXY}, \code{HTTP_PROXY} and \code{NO_PROXY} apply. \code{no_proxy} names the hosts
#' reached directly instead (comma-separated: \code{*}, a host, a domain suffix, an IP address or a
#' CIDR block; \code{""} for none) and needs \code{proxy}. A URL the library cannot use (a scheme
#' other than http or https, no host), or \code{no_proxy} without \code{proxy}, raises
#' \code{storetasks_invalid_argument}, whose message never shows the password; the instance metadata
#' service is never reached through a proxy. \code{endpoint} is EC2's alone: the roles of fleet
#' calls and waits are assumed through STS at \code{sts_endpoint}, else \code{AWS_ENDPOINT_URL_STS},
#' the profile's, or STS's regional endpoint. Any other name is an error
#' (\code{"invalid name: ..."}), as in paws. \code{anonymous = TRUE} is refused (EC2 needs signed
#' requests). The timeouts must be numbers of seconds from 0 to 18446744073709548 (their
#' milliseconds fit in 64 bits), \code{max_retries} a whole number from 0 to 99 and
#' \code{max_concurrency} one from 1 to 1024 (the library's limits; beyond what the C types hold
#' they are refused in R): \code{NA}, \code{NaN}, \code{Inf} or any other value raises
#' \code{storetasks_invalid_argument}. What is not given comes from the usual AWS sources
#' (environment, shared config and credentials files, SSO, instance role).
#'
#' \code{svc$describe_store_image_tasks(ImageIds = NULL, DryRun = NULL, Filters = NULL,
#' NextToken = NULL, MaxResults = NULL)} returns what paws returns:
#' \code{list(StoreImageTaskResults, NextToken)}, each task a named list of \code{AmiId},
#' \code{TaskStartTime} (POSIXct, time zone GMT, whole seconds), \code{Bucket}, \code{S3objectKey},
#' \code{ProgressPercentage} (double), \code{StoreTaskState} and \code{StoreTaskFailureReason}, a
#' member EC2 left out being \code{character(0)}, \code{numeric(0)} or \code{.POSIXct(numeric())};
#' no attributes beyond names. \code{ImageIds} may be a character vector or a list of strings; more
#' than 20 are sent as several requests, concurrently, and merged newest first. \code{Filters} is
#' \code{list(list(Name = "task-state", Values = list("InProgress", "Failed")))}; an unknown name in
#' a filter is an error. \code{NULL}, \code{character(0)} and \code{list()} mean "not given".
#' \code{request_id(svc)} gives the request id of the client's last reply.
#'
#' An error reply raises paws's condition: class \code{c("paws_error", "http_<status>",
#' "http_<status \%/\% 100 * 100>", "http_error", "error", "condition")}, message
#' \code{"<Code> (HTTP <status>). <Message>"}, fields (and attributes) \code{status_code} (integer)
#' and \code{error_response} (\code{list(Code, Message, RequestID)}). A successful \code{DryRun} is
#' the \code{DryRunOperation} condition (HTTP 412). A failure without an AWS error code raises a
#' condition of class \code{storetasks_<status>} and \code{storetasks_error}:
#' \code{storetasks_network}, \code{storetasks_timeout}, \code{storetasks_response} (an unreadable
#' reply), \code{storetasks_invalid_argument} (a value refused before sending, such as
#' \code{MaxResults} outside 1 to 200), \code{storetasks_config}, \code{storetasks_credentials},
#' \code{storetasks_cancelled}; a call on a closed client raises \code{storetasks_closed}. A user
#' interrupt (Ctrl-C) cancels the request at once and is signalled as an interrupt.
#'
#' \code{svc$describe_store_image_tasks_fleet(Regions = NULL, AllRegions = NULL, RoleArns = NULL,
#' ImageIds = NULL, DryRun = NULL, Filters = NULL, MaxResults = NULL)} runs the query in many
#' (account, region) places at once: the \code{Regions} named, or with \code{AllRegions = TRUE}
#' every region enabled for the account; the client's own account, or with \code{RoleArns} the
#' account of each role (assumed once). It returns
#' \code{list(Places = list(<place>, ...), Regions = <the same list>)}, the places in order:
#' accounts in the order of \code{RoleArns}, then regions in the order given (or by name), each
#' place \code{list(Region, Account, RoleArn, StoreImageTaskResults, Error)}: \code{Account} is
#' \code{character(0)} for the client's own credentials, \code{RoleArn} is there only with a
#' role, \code{StoreImageTaskResults} holds paws's tasks (every page) and \code{Error} is there
#' only for a failed place, \code{list(Status, Code, Message, HttpStatus, RequestId)}. A failing
#' place (throttled, denied, unreachable, a \code{DryRun}'s \code{DryRunOperation}) does not fail
#' the call; a value the library refuses raises \code{storetasks_invalid_argument}. \code{Places}
#' is the name \code{storetasks_fleet_result_to_json} gives the list; \code{Regions}, its earlier
#' name, is a deprecated alias that holds the same list object, kept until 1.0: read
#' \code{Places}. (The \code{Regions} argument, the regions to list, keeps its name.)
#'
#' The client owns a native client (an external pointer with a finalizer): \code{svc$close()} or
#' \code{close(svc)} frees it at once, and garbage collection frees a forgotten one.
#'
#' @param config A list of settings, as paws's (see Details).
#' @param credentials Short-hand for \code{config$credentials}.
#' @param endpoint Short-hand for \code{config$endpoint}.
#' @param region Short-hand for \code{config$region}.
#' @return A client: a list of \code{describe_store_image_tasks},
#'   \code{describe_store_image_tasks_fleet} and \code{close}, of class \code{storetasks_ec2}.
#' @seealso \code{\link{paginate}}, \code{\link{wait_store_image_tasks}}, \code{\link{request_id}}
#' @examples
#' \dontrun{
#' svc <- ec2(region = "us-east-1")
#' page <- svc$describe_store_image_tasks(
#'   Filters = list(list(Name = "task-state", Values = list("InProgress"))))
#' for (task in page$StoreImageTaskResults) cat(task$AmiId, task$ProgressPercentage, "\n")
#' close(svc)
#' }
#' @export
ec2 <- function(config = list(), credentials = list(), endpoint = NULL, region = NULL) {
  config <- merge_config(config, list(credentials = credentials, endpoint = endpoint, region = region))
  check_names(config, config_names)
  creds_cfg <- config$credentials %||% list()
  if (!is.list(creds_cfg)) stop("credentials must be a list", call. = FALSE)
  check_names(creds_cfg, credentials_names)
  creds <- creds_cfg$creds %||% list()
  if (!is.list(creds)) stop("credentials$creds must be a list", call. = FALSE)
  check_names(creds, creds_names)
  if (isTRUE(creds_cfg$anonymous)) {
    stop(storetasks_condition("STORETASKS_STATUS_CONFIG",
                              "anonymous (unsigned) requests are not supported: EC2 requires signed requests"))
  }
  opt_flag(creds_cfg$anonymous, "credentials$anonymous")
  opt_flag(config$close_connection, "close_connection")
  akid <- opt_string(creds$access_key_id, "access_key_id")
  secret <- opt_string(creds$secret_access_key, "secret_access_key")
  token <- opt_string(creds$session_token, "session_token")
  if (is.null(akid) != is.null(secret)) {
    stop("credentials$creds needs both access_key_id and secret_access_key", call. = FALSE)
  }
  if (is.null(akid) && !is.null(token)) {
    stop("credentials$creds$session_token needs access_key_id and secret_access_key", call. = FALSE)
  }
  max_retries <- opt_number(config$max_retries, "max_retries", 0, max_retries_limit, whole = TRUE)
  endpoint <- opt_string(config$endpoint, "endpoint")
  proxy <- opt_text(config$proxy, "proxy")
  no_proxy <- opt_text(config$no_proxy, "no_proxy")
  if (is.null(proxy) && !is.null(no_proxy)) {
    stop(storetasks_condition("STORETASKS_STATUS_INVALID_ARGUMENT",
                              "no_proxy needs proxy (without it, the environment's NO_PROXY applies)"))
  }
  keep_ms <- if (is.null(config$keep_milliseconds)) {
    isTRUE(getOption("storetasks.keep_milliseconds", FALSE))
  } else {
    opt_flag(config$keep_milliseconds, "keep_milliseconds")
  }
  ptr <- .Call(st_client_new,
               opt_string(config$region, "region"),
               endpoint,
               opt_string(creds_cfg$profile, "credentials$profile"),
               akid, secret, token,
               opt_number(config$connect_timeout, "connect_timeout", 0, max_seconds),
               opt_number(config$timeout, "timeout", 0, max_seconds),
               if (is.null(max_retries)) NULL else max_retries + 1,
               opt_number(config$max_concurrency, "max_concurrency", 1, max_size, whole = TRUE),
               opt_string(config$app_name, "app_name"),
               proxy, no_proxy, opt_string(config$sts_endpoint, "sts_endpoint"),
               opt_string(config$ca_bundle, "ca_bundle"))
  if (is.list(ptr)) stop(condition_from(ptr, endpoint %||% character(0)))

  state <- new.env(parent = emptyenv())
  state$ptr <- ptr
  state$request_id <- character(0)
  state$endpoint <- endpoint %||% character(0)
  state$keep_ms <- keep_ms
  new_client(state)
}

new_client <- function(state) {
  .storetasks_state <- state
  describe_store_image_tasks <- function(ImageIds = NULL, DryRun = NULL, Filters = NULL, NextToken = NULL,
                                         MaxResults = NULL) {
    describe(.storetasks_state, ImageIds, DryRun, Filters, NextToken, MaxResults)
  }
  describe_store_image_tasks_fleet <- function(Regions = NULL, AllRegions = NULL, RoleArns = NULL, ImageIds = NULL,
                                               DryRun = NULL, Filters = NULL, MaxResults = NULL) {
    describe_fleet(.storetasks_state, Regions, AllRegions, RoleArns, ImageIds, DryRun, Filters, MaxResults)
  }
  close <- function() {
    .Call(st_client_close, .storetasks_state$ptr)
    invisible(NULL)
  }
  structure(list(describe_store_image_tasks = describe_store_image_tasks,
                 describe_store_image_tasks_fleet = describe_store_image_tasks_fleet, close = close),
            class = "storetasks_ec2")
}

client_state <- function(svc) {
  f <- if (is.list(svc)) svc$describe_store_image_tasks
  state <- if (is.function(f)) environment(f)$.storetasks_state
  if (!is.environment(state)) stop("not a storetasks client (made by storetasks::ec2())", call. = FALSE)
  state
}

#' @rdname ec2
#' @param con,x A client.
#' @param ... Ignored.
#' @export
close.storetasks_ec2 <- function(con, ...) {
  con$close()
}

#' @rdname ec2
#' @export
print.storetasks_ec2 <- function(x, ...) {
  state <- client_state(x)
  open <- .Call(st_client_is_open, state$ptr)
  cat(sprintf("<storetasks ec2 client%s%s>\n",
              if (length(state$endpoint)) paste0(" endpoint=", state$endpoint) else "",
              if (open) "" else " (closed)"))
  invisible(x)
}

# A character vector of ids from NULL, character(0), list() (none), a character vector or a
# list of strings.
as_strings <- function(x, what) {
  if (length(x) == 0L) return(character(0))
  if (is.list(x)) {
    ok <- vapply(x, function(v) is.character(v) && length(v) == 1L, logical(1))
    if (!all(ok)) stop(sprintf("%s must be a character vector or a list of strings", what), call. = FALSE)
    x <- unlist(x, use.names = FALSE)
  }
  if (!is.character(x)) stop(sprintf("%s must be a character vector or a list of strings", what), call. = FALSE)
  if (anyNA(x)) stop(sprintf("%s may not hold NA", what), call. = FALSE)
  enc2utf8(unname(x))
}

as_filters <- function(filters) {
  if (length(filters) == 0L) return(list(names = character(0), values = list()))
  if (!is.list(filters)) stop("Filters must be a list of filters, list(list(Name = ..., Values = ...))", call. = FALSE)
  names_out <- character(length(filters))
  values_out <- vector("list", length(filters))
  for (i in seq_along(filters)) {
    f <- filters[[i]]
    if (!is.list(f)) stop("Filters must be a list of filters, list(list(Name = ..., Values = ...))", call. = FALSE)
    check_names(f, filter_names)
    name <- opt_string(f$Name, sprintf("Filters[[%d]]$Name", i))
    if (is.null(name)) stop(sprintf("Filters[[%d]] needs a Name", i), call. = FALSE)
    names_out[i] <- name
    values_out[[i]] <- as_strings(f$Values, sprintf("Filters[[%d]]$Values", i))
  }
  list(names = names_out, values = values_out)
}

as_max_results <- function(MaxResults) {
  if (length(MaxResults) == 0L) return(NULL)
  if (is.list(MaxResults)) MaxResults <- MaxResults[[1L]]
  if (!is.numeric(MaxResults) || length(MaxResults) != 1L || is.na(MaxResults) ||
      MaxResults != trunc(MaxResults)) {
    stop("MaxResults must be one whole number", call. = FALSE)
  }
  MaxResults
}

as_flag <- function(x, what) opt_flag(if (is.list(x) && length(x) == 1L) x[[1L]] else x, what)

describe <- function(state, ImageIds, DryRun, Filters, NextToken, MaxResults) {
  ids <- as_strings(ImageIds, "ImageIds")
  filters <- as_filters(Filters)
  token <- opt_string(NextToken, "NextToken")
  max_results <- as_max_results(MaxResults)
  dry_run <- as_flag(DryRun, "DryRun")
  if (!.Call(st_client_is_open, state$ptr)) stop(closed_condition())
  out <- .Call(st_describe, state$ptr, ids, filters$names, filters$values, token, max_results, dry_run,
               state$keep_ms)
  switch(out$kind,
    ok = {
      state$request_id <- out$request_id
      out$response
    },
    error = {
      state$request_id <- out$request_id
      stop(condition_from(out, state$endpoint))
    },
    interrupted = signal_interrupt()
  )
}

# The query in many (account, region) places at once: list(Places = list(<place>, ...), Regions =
# the same list, a deprecated alias until 1.0), each place list(Region, Account, RoleArn (with a
# role), StoreImageTaskResults, Error (for a failed place)).
# A failing place does not fail the call; bad input, close() and Ctrl-C do.
describe_fleet <- function(state, Regions, AllRegions, RoleArns, ImageIds, DryRun, Filters, MaxResults) {
  regions <- as_strings(Regions, "Regions")
  all_regions <- as_flag(AllRegions, "AllRegions")
  roles <- as_strings(RoleArns, "RoleArns")
  ids <- as_strings(ImageIds, "ImageIds")
  filters <- as_filters(Filters)
  max_results <- as_max_results(MaxResults)
  dry_run <- as_flag(DryRun, "DryRun")
  if (!.Call(st_client_is_open, state$ptr)) stop(closed_condition())
  out <- .Call(st_describe_fleet, state$ptr, regions, all_regions, roles, ids, filters$names, filters$values,
               max_results, dry_run, state$keep_ms)
  switch(out$kind,
    ok = out$response,
    error = stop(condition_from(out, state$endpoint)),
    interrupted = signal_interrupt()
  )
}

#' The request id of a client's last reply, or of an error condition
#'
#' Results stay exactly paws's, with no attribute: the request id of the reply that produced a
#' client's last result (or error) is kept by the client instead.
#'
#' @param x A client made by \code{\link{ec2}}, or a condition one raised.
#' @return The request id (one string), or \code{character(0)} when there is none (no call yet, or a
#'   failure without a reply).
#' @export
request_id <- function(x) {
  if (inherits(x, "paws_error")) return(x$error_response$RequestID %||% character(0))
  if (inherits(x, "storetasks_error")) return(x$request_id %||% character(0))
  client_state(x)$request_id
}

#' The version of the loaded libstoretasks
#'
#' The version libstoretasks reports (\code{storetasks_version()} of its C API).
#'
#' @return A string such as \code{"0.1.0"}.
#' @export
storetasks_version <- function() .Call(st_version)

# paws.common's paginate(), paginate_lapply() and paginate_sapply() for this package's operation.
# The algorithm is paws's: the unevaluated call is evaluated in the caller's frame once per page,
# NextToken set from the previous page; PageSize sets MaxResults and StartingToken NextToken when
# the call has none; MaxItems stops after the page that reaches it; StopOnSameToken stops (without
# keeping the page) when a page returns the token it was asked with.

.do_call <- as.name("do.call")

paginator <- list(input_token = "NextToken", output_token = "NextToken", limit_key = "MaxResults",
                  result_key = "StoreImageTaskResults")

# The call `Operation` (already substitute()d) with do.call() unfolded, PageSize and StartingToken
# applied; checks that it calls a storetasks operation.
paginate_call <- function(fn, env, PageSize, StartingToken) {
  if (!is.call(fn)) stop("Operation must be a call such as svc$describe_store_image_tasks()", call. = FALSE)
  if (identical(fn[[1L]], .do_call)) {
    kwargs <- eval(fn[[3L]], envir = env)
    fn <- fn[2L]
    for (key in names(kwargs)) fn[key] <- kwargs[key]
  }
  f <- eval(fn[[1L]], envir = env)
  if (!is.function(f) || !is.environment(environment(f)$.storetasks_state)) {
    stop(sprintf("Unknown method: `%s`. Please check service methods and try again.",
                 paste(deparse(fn[[1L]]), collapse = "")), call. = FALSE)
  }
  if (is.null(fn[[paginator$input_token]]) && !is.null(StartingToken)) {
    fn[[paginator$input_token]] <- StartingToken
  }
  if (is.null(fn[[paginator$limit_key]]) && !is.null(PageSize)) {
    fn[[paginator$limit_key]] <- PageSize
  }
  fn
}

paginate_run <- function(fn, env, FUN, ..., MaxItems, StopOnSameToken) {
  no_items <- 0
  result <- list()
  while (!identical(fn[[paginator$input_token]], character(0))) {
    resp <- eval(fn, envir = env)
    new_token <- resp[[paginator$output_token]]
    if (isTRUE(StopOnSameToken)) {
      previous <- unlist(fn[[paginator$input_token]], use.names = FALSE)
      if (identical(previous, unlist(new_token, use.names = FALSE))) break
    }
    fn[[paginator$input_token]] <- new_token
    result[[length(result) + 1L]] <- if (is.null(FUN)) resp else FUN(resp, ...)
    if (!is.null(MaxItems)) {
      no_items <- no_items + length(resp[[paginator$result_key]])
      if (no_items >= MaxItems) break
    }
  }
  result
}

#' Paginate over describe_store_image_tasks, as paws.common's paginate()
#'
#' Evaluates the unevaluated call \code{Operation} in the caller's frame once per page, following
#' \code{NextToken}, and returns the list of whole page responses (or of \code{FUN}'s results).
#'
#' @param Operation The call, such as \code{svc$describe_store_image_tasks(MaxResults = 50)}, or
#'   \code{do.call(svc$describe_store_image_tasks, args)}.
#' @param PageSize Sets \code{MaxResults} when the call has none.
#' @param MaxItems Stops after the page that brings the number of tasks to at least this.
#' @param StartingToken Sets \code{NextToken} when the call has none.
#' @param StopOnSameToken Stops, without that page, when a page returns the token it was asked with.
#' @param FUN A function applied to each page response.
#' @param ... More arguments to \code{FUN}.
#' @param simplify See \code{\link{sapply}}.
#' @return The list of page responses (\code{paginate}), of \code{FUN}'s results
#'   (\code{paginate_lapply}), or their simplification (\code{paginate_sapply}).
#' @examples
#' \dontrun{
#' svc <- ec2(region = "us-east-1")
#' pages <- paginate(svc$describe_store_image_tasks(), PageSize = 200)
#' ids <- paginate_sapply(svc$describe_store_image_tasks(), function(p) length(p$StoreImageTaskResults))
#' }
#' @export
paginate <- function(Operation, PageSize = NULL, MaxItems = NULL, StartingToken = NULL, StopOnSameToken = FALSE) {
  env <- parent.frame()
  fn <- paginate_call(substitute(Operation), env, PageSize, StartingToken)
  paginate_run(fn, env, NULL, MaxItems = MaxItems, StopOnSameToken = StopOnSameToken)
}

#' @rdname paginate
#' @export
paginate_lapply <- function(Operation, FUN, ..., PageSize = NULL, MaxItems = NULL, StartingToken = NULL,
                            StopOnSameToken = FALSE) {
  FUN <- match.fun(FUN)
  env <- parent.frame()
  fn <- paginate_call(substitute(Operation), env, PageSize, StartingToken)
  paginate_run(fn, env, FUN, ..., MaxItems = MaxItems, StopOnSameToken = StopOnSameToken)
}

#' @rdname paginate
#' @export
paginate_sapply <- function(Operation, FUN, ..., simplify = TRUE, PageSize = NULL, MaxItems = NULL,
                            StartingToken = NULL, StopOnSameToken = FALSE) {
  FUN <- match.fun(FUN)
  env <- parent.frame()
  fn <- paginate_call(substitute(Operation), env, PageSize, StartingToken)
  result <- paginate_run(fn, env, FUN, ..., MaxItems = MaxItems, StopOnSameToken = StopOnSameToken)
  if (!isFALSE(simplify)) simplify2array(result, higher = (simplify == "array")) else result
}

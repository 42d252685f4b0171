# Conditions: what paws raises for a service error, and storetasks_* conditions for the failures
# that carry no AWS error code (network, timeout, unreadable reply, configuration...).

# The class suffix of a library status without an AWS error code.
status_class <- function(status_name) {
  short <- tolower(sub("^STORETASKS_STATUS_", "", status_name))
  paste0("storetasks_", short)
}

# paws's condition for an AWS error reply (paws.common's aws_error()): message
# "<Code> (HTTP <status>). <Message>", classes paws_error, http_<status>, http_<status %/% 100 * 100>,
# http_error, error, condition; fields and attributes status_code and error_response. The request
# id of the reply is added to error_response as RequestID.
paws_condition <- function(code, message, status_code, request_id = character(0)) {
  status_code <- as.integer(status_code)
  if (length(status_code) != 1L || identical(status_code, 0L)) status_code <- NA_integer_
  if (length(message) == 0L) message <- ""
  full <- sprintf("%s (HTTP %d). %s", code, status_code, message)
  http_class <- if (is.na(status_code)) {
    "http_error"
  } else {
    paste0("http_", unique(c(status_code, (status_code %/% 100L) * 100L, "error")))
  }
  error_response <- list(Code = code, Message = message)
  if (length(request_id) == 1L) error_response$RequestID <- request_id
  structure(
    list(message = full, call = NULL, status_code = status_code, error_response = error_response),
    class = c("paws_error", http_class, "error", "condition"),
    status_code = status_code,
    error_response = error_response
  )
}

# A condition for a library status without an AWS code: class storetasks_<status> (such as
# storetasks_network), storetasks_error, error, condition. Fields: message, call, status (the
# library's status name), request_id, and for a wait ami_id and failure_reason.
storetasks_condition <- function(status_name, message, request_id = character(0), ami_id = character(0),
                                 failure_reason = character(0), extra_class = NULL) {
  structure(
    list(message = message, call = NULL, status = status_name, request_id = request_id, ami_id = ami_id,
         failure_reason = failure_reason),
    class = c(extra_class, status_class(status_name), "storetasks_error", "error", "condition")
  )
}

# The condition for an error list returned by the C glue (kind = "error").
condition_from <- function(info, endpoint = character(0)) {
  if (length(info$code) == 1L) {
    return(paws_condition(info$code, info$message, info$http_status, info$request_id))
  }
  message <- info$message
  if (info$status_name %in% c("STORETASKS_STATUS_NETWORK", "STORETASKS_STATUS_TIMEOUT") && length(endpoint) == 1L) {
    message <- sprintf("%s (endpoint: %s)", message, endpoint)
  }
  extra <- if (info$status_name %in% c("STORETASKS_STATUS_TASK_FAILED", "STORETASKS_STATUS_WAIT_TIMEOUT",
                                       "STORETASKS_STATUS_NOT_FOUND")) "storetasks_wait_error"
  storetasks_condition(info$status_name, message, info$request_id, info$ami_id, info$failure_reason,
                       extra_class = extra)
}

closed_condition <- function() {
  structure(
    list(message = "the client is closed", call = NULL, status = character(0), request_id = character(0),
         ami_id = character(0), failure_reason = character(0)),
    class = c("storetasks_closed", "storetasks_error", "error", "condition")
  )
}

# Signals a user interrupt as R does for Ctrl-C: handlers for "interrupt" (tryCatch,
# withCallingHandlers) see it; unhandled, it returns to the top level.
signal_interrupt <- function() {
  cond <- structure(list(message = "", call = NULL), class = c("interrupt", "condition"))
  signalCondition(cond)
  invokeRestart("abort")
}

# Every error kind the emulator gives (--fault and control endpoints), as paws's conditions for
# error replies and storetasks_* conditions for the failures that carry no AWS error code.

expect_paws_error <- function(expr, code, status, classes) {
  e <- tryCatch(expr, error = identity)
  expect_s3_class(e, "paws_error")
  expect_identical(class(e), c("paws_error", classes, "error", "condition"))
  expect_identical(e$status_code, as.integer(status))
  expect_identical(e$error_response$Code, code)
  expect_identical(conditionMessage(e), sprintf("%s (HTTP %d). %s", code, status, e$error_response$Message))
  invisible(e)
}

expect_storetasks_error <- function(expr, class, pattern = NULL) {
  e <- tryCatch(expr, error = identity)
  expect_identical(class(e), c(class, "storetasks_error", "error", "condition"))
  if (!is.null(pattern)) expect_match(conditionMessage(e), pattern)
  invisible(e)
}

test_that("service errors: throttling, 5xx, authentication, authorization, bad values", {
  emu <- local_emulator("--generate", 20)
  svc <- local_client(emu, max_retries = 1)
  add_faults(emu, "throttle,count=2")
  e <- expect_paws_error(svc$describe_store_image_tasks(), "RequestLimitExceeded", 503,
                         c("http_503", "http_500", "http_error"))
  expect_identical(e$error_response$Message, "Request limit exceeded.")
  add_faults(emu, "internal,count=2")
  expect_paws_error(svc$describe_store_image_tasks(), "InternalError", 500, c("http_500", "http_error"))
  add_faults(emu, "unavailable,count=2")
  expect_paws_error(svc$describe_store_image_tasks(), "Unavailable", 503, c("http_503", "http_500", "http_error"))
  # One failure is retried (max_retries = 1) and the call succeeds.
  add_faults(emu, "throttle")
  expect_length(svc$describe_store_image_tasks()$StoreImageTaskResults, 20L)

  expect_paws_error(svc$describe_store_image_tasks(NextToken = "garbage"), "InvalidParameterValue", 400,
                    c("http_400", "http_error"))
  expect_paws_error(svc$describe_store_image_tasks(Filters = list(list(Name = "nope", Values = "x"))),
                    "InvalidParameterValue", 400, c("http_400", "http_error"))

  bad_secret <- local_client(emu, secret_key = "wrong-secret")
  expect_paws_error(bad_secret$describe_store_image_tasks(), "AuthFailure", 401, c("http_401", "http_400", "http_error"))
  denied <- local_client(emu, access_key = DENIED_KEY)
  expect_paws_error(denied$describe_store_image_tasks(), "UnauthorizedOperation", 403,
                    c("http_403", "http_400", "http_error"))
  expect_paws_error(denied$describe_store_image_tasks(DryRun = TRUE), "UnauthorizedOperation", 403,
                    c("http_403", "http_400", "http_error"))
})

test_that("unreadable replies", {
  emu <- local_emulator("--generate", 20)
  svc <- local_client(emu, max_retries = 0)
  for (fault in c("truncate", "malformed", "garbage", "wrongroot")) {
    add_faults(emu, fault)
    e <- expect_storetasks_error(svc$describe_store_image_tasks(), "storetasks_response")
    expect_identical(e$status, "STORETASKS_STATUS_RESPONSE")
  }
  expect_length(svc$describe_store_image_tasks()$StoreImageTaskResults, 20L)
})

test_that("a dropped connection, a slow reply, a closed port", {
  emu <- local_emulator("--generate", 20)
  svc <- local_client(emu, max_retries = 0, timeout = 0.3)
  add_faults(emu, "drop,count=3")
  expect_storetasks_error(svc$describe_store_image_tasks(), "storetasks_network", emu$url)
  emu_control(emu, "DELETE", "/_emulator/faults")
  add_faults(emu, "delay,ms=2000")
  start <- Sys.time()
  expect_storetasks_error(svc$describe_store_image_tasks(), "storetasks_timeout", emu$url)
  expect_lt(as.numeric(Sys.time() - start, units = "secs"), 1.5)
  # A port held by a socket that is bound but never listens refuses the connection.
  refused <- local_refused_port()
  gone <- local_client(refused, max_retries = 0)
  expect_storetasks_error(gone$describe_store_image_tasks(), "storetasks_network", refused$url)
})

test_that("pages the service gets wrong", {
  emu <- local_emulator("--generate", 50, "--seed", 3)
  svc <- local_client(emu)
  everything <- svc$describe_store_image_tasks(MaxResults = 200)$StoreImageTaskResults
  # ignore-max-results: a page larger than asked for is returned as it came.
  add_faults(emu, "ignore-max-results")
  expect_length(svc$describe_store_image_tasks(MaxResults = 5)$StoreImageTaskResults, 50L)
  # empty-pages: an empty page with a token that goes on.
  add_faults(emu, "empty-pages,at=2")
  pages <- paginate(svc$describe_store_image_tasks(), PageSize = 20)
  expect_identical(vapply(pages, function(p) length(p$StoreImageTaskResults), 1L), c(20L, 0L, 20L, 10L))
  expect_identical(unlist(lapply(pages, `[[`, "StoreImageTaskResults"), recursive = FALSE), everything)
  # repeat-token: the token of the request again; StopOnSameToken stops there, as in paws.
  add_faults(emu, "repeat-token,at=2")
  pages <- paginate(svc$describe_store_image_tasks(), PageSize = 20, StopOnSameToken = TRUE)
  expect_length(pages, 1L)
})

test_that("values the library refuses before sending anything", {
  emu <- local_emulator("--generate", 5)
  svc <- local_client(emu)
  before <- emu_stats(emu)$requests
  expect_storetasks_error(svc$describe_store_image_tasks(MaxResults = 500), "storetasks_invalid_argument", "MaxResults|1")
  expect_storetasks_error(svc$describe_store_image_tasks(ImageIds = ""), "storetasks_invalid_argument")
  expect_identical(emu_stats(emu)$requests, before)
  expect_error(svc$describe_store_image_tasks(ImageIds = 1), "ImageIds")
  expect_error(svc$describe_store_image_tasks(DryRun = "yes"), "DryRun")
  expect_error(svc$describe_store_image_tasks(MaxResults = 1.5), "MaxResults")
})

test_that("proxy and no_proxy: refused without showing the password; a proxy is used unless bypassed or \"\"", {
  client_with <- function(...) {
    ec2(config = list(credentials = list(creds = list(access_key_id = ACCESS_KEY, secret_access_key = SECRET_KEY)),
                      endpoint = "http://127.0.0.1:9", region = "us-east-1", ...))
  }
  for (url in c("socks5://u:secret@h:1", "http://u:secret@:8080")) {
    e <- expect_storetasks_error(client_with(proxy = url, no_proxy = "localhost"), "storetasks_invalid_argument",
                                 "^the proxy .* is not usable")
    expect_false(grepl("secret", conditionMessage(e), fixed = TRUE), info = url)
  }
  expect_storetasks_error(client_with(no_proxy = "localhost"), "storetasks_invalid_argument",
                          "^no_proxy needs proxy \\(without it, the environment's NO_PROXY applies\\)$")
  expect_error(client_with(proxy = c("http://u:secret@h:1", "x")), "^proxy must be one string$")
  expect_error(client_with(proxy = "http://h:1", no_proxy = NA_character_), "^no_proxy must be one string$")

  # A proxy nothing listens on (a port held by a socket that never listens), in the environment and
  # in config.
  emu <- local_emulator("--generate", 5)
  refused <- local_refused_port()
  dead <- sub("^http://", "http://u:secret@", refused$url)
  withr::local_envvar(HTTP_PROXY = dead, http_proxy = dead, HTTPS_PROXY = NA, https_proxy = NA, ALL_PROXY = NA,
                      all_proxy = NA, NO_PROXY = NA, no_proxy = NA)
  cases <- list(
    list(settings = list(), through = TRUE),
    list(settings = list(proxy = ""), through = FALSE),
    list(settings = list(proxy = dead), through = TRUE),
    list(settings = list(proxy = dead, no_proxy = ""), through = TRUE),
    list(settings = list(proxy = dead, no_proxy = "example.com,127.0.0.1"), through = FALSE),
    list(settings = list(proxy = sub("^http://", "", refused$url), no_proxy = "127.0.0.0/8"), through = FALSE))
  for (case in cases) {
    svc <- do.call(local_client, c(list(emu, max_retries = 0), case$settings))
    label <- paste(deparse(case$settings), collapse = "")
    if (case$through) {
      e <- expect_storetasks_error(svc$describe_store_image_tasks(MaxResults = 5), "storetasks_network")
      expect_false(grepl("secret", conditionMessage(e), fixed = TRUE), info = label)
    } else {
      expect_length(svc$describe_store_image_tasks(MaxResults = 5)$StoreImageTaskResults, 5L)
    }
  }
})

test_that("ca_bundle and proxy, or AWS_CA_BUNDLE and HTTPS_PROXY, reach the HTTPS emulator through a proxy with a password", {
  emu <- local_emulator("--generate", 12, "--seed", 3, "--tls", withr::local_tempdir())
  password <- "pr0xy-Pa55word"
  wrong <- "wrong-Pa55word"
  proxy <- local_forward_proxy("--auth", paste0("tester:", password))
  url <- function(pw) sprintf("http://tester:%s@%s", pw, proxy$addr)
  # No CA or proxy setting of the machine may reach the client.
  withr::local_envvar(AWS_CA_BUNDLE = NA, SSL_CERT_FILE = NA, SSL_CERT_DIR = NA, HTTPS_PROXY = NA, https_proxy = NA,
                      HTTP_PROXY = NA, http_proxy = NA, ALL_PROXY = NA, all_proxy = NA, NO_PROXY = NA, no_proxy = NA)
  describe <- function(way, pw, ...) {
    if (way == "environment") withr::local_envvar(AWS_CA_BUNDLE = emu$ca, HTTPS_PROXY = url(pw))
    settings <- if (way == "config") list(ca_bundle = emu$ca, proxy = url(pw)) else list()
    svc <- do.call(local_client, c(list(emu, ...), settings))
    svc$describe_store_image_tasks()
  }
  for (way in c("config", "environment")) {
    before <- proxy_tunnels(proxy)
    expect_length(describe(way, password)$StoreImageTaskResults, 12L)
    expect_gte(proxy_tunnels(proxy) - before, 1)
    # A wrong password: the proxy's 407, named with the proxy, and no password shown.
    e <- expect_storetasks_error(describe(way, wrong, max_retries = 0), "storetasks_network", "407")
    expect_match(conditionMessage(e), proxy$addr, fixed = TRUE)
    expect_false(grepl(password, conditionMessage(e), fixed = TRUE) || grepl(wrong, conditionMessage(e), fixed = TRUE),
                 info = way)
  }
  # No CA bundle: the emulator's certificate is not trusted.
  svc <- local_client(emu, proxy = url(password), max_retries = 0)
  expect_storetasks_error(svc$describe_store_image_tasks(), "storetasks_network", "certificate")
})

test_that("configuration errors", {
  emu <- local_emulator("--generate", 5)
  expect_error(ec2(config = list(regoin = "us-east-1")), "^invalid name: regoin$")
  expect_error(ec2(credentials = list(creds = list(access_key = "x"))), "^invalid name: access_key$")
  expect_error(ec2(credentials = list(profil = "x")), "^invalid name: profil$")
  e <- tryCatch(ec2(credentials = list(anonymous = TRUE), region = "us-east-1"), error = identity)
  expect_s3_class(e, "storetasks_config")
  # No region anywhere (the environment is clean).
  e <- tryCatch({
    svc <- ec2(endpoint = emu$url, credentials = list(creds = list(access_key_id = ACCESS_KEY,
                                                                   secret_access_key = SECRET_KEY)))
    svc$describe_store_image_tasks()
  }, error = identity)
  expect_s3_class(e, "storetasks_error")
  expect_match(e$status, "CONFIG")
  # No credentials anywhere.
  e <- tryCatch(ec2(endpoint = emu$url, region = "us-east-1")$describe_store_image_tasks(), error = identity)
  expect_s3_class(e, "storetasks_error")
  expect_match(e$status, "CREDENTIALS")
  # The short-hand arguments override config, as paws's merge_config().
  svc <- ec2(config = list(region = "eu-west-1", endpoint = "http://127.0.0.1:9",
                           credentials = list(creds = list(access_key_id = ACCESS_KEY, secret_access_key = SECRET_KEY))),
             endpoint = emu$url, region = "us-east-1")
  on.exit(close(svc), add = TRUE)
  expect_length(svc$describe_store_image_tasks()$StoreImageTaskResults, 5L)
})

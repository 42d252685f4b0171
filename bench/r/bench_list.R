# Times a listing of every task through the R package, in this process: the client is built once,
# outside the timed part; pages of 200 tasks through paginate(), as a paws user lists them.
#
#   Rscript bench/r/bench_list.R ENDPOINT TASKS WARMUP REPS
#
# Prints {"times": [seconds, ...]} for the timed repetitions.
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 4L) stop("usage: bench_list.R ENDPOINT TASKS WARMUP REPS")
endpoint <- args[[1]]
tasks <- as.integer(args[[2]])
warmup <- as.integer(args[[3]])
reps <- as.integer(args[[4]])
library(storetasks)
svc <- ec2(endpoint = endpoint, region = "us-east-1",
           credentials = list(creds = list(access_key_id = "AKIASTORETASKSLOCAL1",
                                           secret_access_key = "storetasks-local-secret-key-0000000000000")))
listing <- function() {
  pages <- paginate(svc$describe_store_image_tasks(), PageSize = 200)
  n <- 0L
  for (page in pages) {
    for (task in page$StoreImageTaskResults) {
      if (length(task$AmiId) != 1L) stop("a task without AmiId")
      n <- n + 1L
    }
  }
  n
}
times <- numeric(0)
for (i in seq_len(warmup + reps)) {
  start <- proc.time()[["elapsed"]]
  n <- listing()
  elapsed <- proc.time()[["elapsed"]] - start
  if (n != tasks) stop(sprintf("listed %d tasks, expected %d", n, tasks))
  if (i > warmup) times <- c(times, elapsed)
}
close(svc)
cat(sprintf("{\"times\": [%s]}\n", paste(sprintf("%.6f", times), collapse = ", ")))

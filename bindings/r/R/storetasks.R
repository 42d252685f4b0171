# The package's namespace directives, which roxygen2 writes into NAMESPACE: the C glue, with its
# routines registered (R code names them as symbols), and what the package takes from utils.

#' @useDynLib storetasks, .registration = TRUE
#' @importFrom utils modifyList txtProgressBar setTxtProgressBar
NULL

library(testthat)
library(storetasks)

test_check("storetasks")

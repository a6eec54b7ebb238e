#!/usr/bin/env Rscript
# Cross-check of bench/forecast/carparts_accuracy.sql with R's forecast package: the same
# series, split and scaling, the single methods computed by forecast 8.20 (TSB by its
# recursion, as in test/forecast/r_reference.R).  Usage: Rscript carparts_accuracy.R [DATA_DIR]
suppressMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
data_dir <- if (length(args) >= 1) args[1] else "../shared/data"
cp <- read.csv(file.path(data_dir, "carparts/carparts_long.csv"), colClasses = c("character", "character", "numeric"))
cp <- cp[order(cp$part_id, cp$month), ]
tsb_ref <- function(x, alpha = 0.1, beta = 0.1) {
  nz <- x[x != 0]; if (length(nz) == 0) return(0)
  p <- as.numeric(x != 0); z <- nz[1]; prob <- p[1]
  for (i in 2:length(x)) { prob <- prob + beta * (p[i] - prob); if (p[i] != 0) z <- z + alpha * (x[i] - z) }
  prob * z
}
res <- list()
for (part in split(cp, cp$part_id)) {
  y <- part$qty
  if (length(y) != 51 || any(is.na(y))) next
  fit <- y[1:45]; test <- y[46:51]; d <- diff(fit)
  if (mean(abs(d)) == 0) next
  # croston()'s forecast without its in-sample fits (croston() computes those by refitting
  # every prefix, 40 times slower); the same function croston() calls.
  cr <- as.numeric(forecast:::croston2(fit, h = 1, alpha = 0.1, nofits = TRUE)[1])
  f <- c(SES = as.numeric(ses(fit, h = 1, alpha = 0.1, initial = "simple")$mean[1]), Croston = cr,
         SBA = cr * 0.95, TSB = tsb_ref(fit), mean = mean(fit))
  res[[length(res) + 1]] <- data.frame(method = names(f),
    mase = sapply(f, function(v) mean(abs(test - v)) / mean(abs(d))),
    rmsse = sapply(f, function(v) sqrt(mean((test - v)^2) / mean(d^2))))
}
res <- do.call(rbind, res)
cat(sprintf("%s, forecast %s: %d series\n", R.version.string, packageVersion("forecast"), nrow(res) / 5))
for (m in c("SES", "Croston", "SBA", "TSB", "mean")) {
  r <- res[res$method == m, ]
  cat(sprintf("%-8s median MASE %.4f  median RMSSE %.4f  mean MASE %.4f\n", m, median(r$mase), median(r$rmsse), mean(r$mase)))
}

# R's best at h = 1 on every test origin of the Bitbrains sets: the one-step
# forecasts R's chosen model makes at every origin, where that costs one
# filter pass (ets, arima, fourier), so that forecast_mase_h1_r_best can be set
# beside ahead's every-origin h = 1 on the same (series, origin) pairs instead
# of R's 10 origins only.
#
# usage: Rscript bench/forecast/r_bitbrains_h1.R DUMP_DIR R_BITBRAINS.csv OUT.csv
#   DUMP_DIR: `bench/run forecast --dump DIR` (the series exactly as scored);
#   R_BITBRAINS.csv: r_bitbrains.R's results, whose validation rows pick R's
#   best per series (the lowest mean validation MAE, as bench_forecast does).
#
# Method: the best model is fitted on y[1..train] exactly as r_bitbrains.R
# fits it (na.interp of the known part), then re-applied without
# re-estimation to the whole series, whose test part has its gaps carried
# forward (no value from after an origin enters its forecast); the one-step
# fitted values at t = train+1..n are the forecasts from origins t-1 (ets: the
# state filter; arima and fourier: the Kalman filter's one-step predictions,
# the Fourier terms being known in advance). Gap targets are not scored.
# stlm is left out: re-applied to the whole series its STL would see the test
# part (look-ahead), and re-running it at each of ~1,700 origins costs hours;
# series whose best is stlm get a row with n = 0.
# Output: series,model,n,ae (the sum of |y - forecast| in the series' units).
suppressPackageStartupMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 3) stop("usage: r_bitbrains_h1.R DUMP_DIR R_BITBRAINS.csv OUT.csv")
res <- read.csv(args[2], stringsAsFactors = FALSE)
val <- res[res$part == "val" & res$n > 0, ]
val$mae <- val$ae / val$n
out <- file(args[3], "w")
cat("series,model,n,ae\n", file = out)

as_seasonal <- function(y) {
  if (length(y) >= 2 * 2016) msts(y, seasonal.periods = c(288, 2016)) else ts(y, frequency = 288)
}
fourier_k <- function(y) if (length(y) >= 2 * 2016) c(6, 3) else 6
locf <- function(y, from) {
  for (i in seq_len(length(y))) if (i > from && is.na(y[i])) y[i] <- y[i - 1]
  y
}

files <- sort(Sys.glob(file.path(args[1], "*.txt")))
for (f in files) {
  name <- sub("_", "/", sub("_", "/", sub("\\.txt$", "", basename(f))))
  y <- suppressWarnings(as.numeric(readLines(f)))
  n <- length(y); train <- floor(0.8 * n)
  v <- val[val$series == name, ]
  if (!nrow(v)) next
  m <- v$model[which.min(v$mae)]
  yt <- as.numeric(na.interp(as_seasonal(y[1:train])))
  yall <- locf(c(yt, y[(train + 1):n]), train)
  fc <- tryCatch(switch(m,
    ets = fitted(ets(ts(yall, frequency = 1), model = ets(ts(yt, frequency = 1)), use.initial.values = TRUE)),
    arima = fitted(Arima(ts(yall, frequency = 1), model = auto.arima(ts(yt, frequency = 1)))),
    fourier = {
      ys <- as_seasonal(yt); k <- fourier_k(ys)
      fit <- auto.arima(ys, xreg = fourier(ys, K = k), seasonal = FALSE)
      ya <- as_seasonal(yall)
      fitted(Arima(ya, model = fit, xreg = fourier(ya, K = k)))
    },
    NULL), error = function(e) NULL)
  cnt <- 0; ae <- 0
  if (!is.null(fc)) for (t in (train + 1):n) {
    if (is.na(y[t]) || is.na(fc[t])) next
    cnt <- cnt + 1; ae <- ae + abs(y[t] - fc[t])
  }
  cat(sprintf("%s,%s,%d,%.10g\n", name, m, cnt, ae), file = out)
  flush(out)
  message(sprintf("%s %s: %d targets", name, m, cnt))
}
close(out)

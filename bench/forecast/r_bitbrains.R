# R reference for bench/bench_forecast.c on the Bitbrains sets: R's best of
# ets, auto.arima, and two seasonal models at the series' true periods (the
# day, 288 five-minute steps, and the week, 2016), on the splits the ahead
# bench uses, chosen per series by validation error only.
#
# usage: Rscript bench/forecast/r_bitbrains.R DUMP_DIR RESULTS.csv TIMING.csv [K_TEST [K_VAL]]
#   DUMP_DIR: the series as `bench/run forecast --dump DIR` writes them (one
#   value per line, NA for a gap: exactly what ahead is scored on).
#
# Split (must match bench/bench_forecast.c, r_origins()):
#   n = length(y); train = floor(0.8 n); H = 48
#   test origins: K_TEST (default 10) evenly spaced o = train + floor(k (n - H - train) / (K - 1)),
#     k = 0..K-1; at origin o, y[1..o] is known and y[o+1..o+48] is forecast
#   validation: the training part's own last 20%: sub = floor(0.8 train), K_VAL (default 5)
#     origins spaced the same way over [sub, train - H]; models fitted on y[1..sub]
# Models (parameters estimated once, on y[1..train] for the test and on
# y[1..sub] for validation, then re-applied without re-estimation to
# y[1..o] at each origin, as the NAB reference does):
#   ets         ets() on the series as non-seasonal (ets cannot take a 288 season)
#   arima       auto.arima(), non-seasonal (seasonal ARIMA at 288 is infeasible)
#   stlm        stlm(): STL (mstl with the day and the week when the part spans
#               two weeks, else the day) + ets on the seasonally adjusted series
#   fourier     auto.arima() on Fourier terms of the day and the week (K = 6, 3),
#               seasonal = FALSE: the standard R answer for long seasons
# Gaps: models are fitted on na.interp() of the known part (R's models need no
# NA); gap targets are never scored (as for ahead).
# Output: one row per (series, model, part, h) with sums over origins of the
# absolute error, the count, hits of the 80% and 95% intervals and the 80%
# interval score (Gneiting-Raftery, alpha = 0.2), in the series' own units;
# part = val rows are the validation sums. The bench scales them by its MASE
# scale and picks R's best per series by the validation MAE (mean over h).
# Timing: per series, ets() fit + a 48-step forecast with 80/95% intervals on
# the training part, and the same for stlm(), timed by proc.time() around the
# calls only (start-up and reading excluded).
suppressPackageStartupMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 3) stop("usage: r_bitbrains.R DUMP_DIR RESULTS.csv TIMING.csv [K_TEST [K_VAL]]")
K_TEST <- if (length(args) >= 4) as.integer(args[4]) else 10L
K_VAL <- if (length(args) >= 5) as.integer(args[5]) else 5L
H <- 48
files <- sort(Sys.glob(file.path(args[1], "*.txt")))
if (!length(files)) stop("no series in ", args[1])
res <- file(args[2], "w"); tim <- file(args[3], "w")
cat("series,model,part,h,n,ae,in80,in95,is80\n", file = res)
cat("series,n,train,ets_s,stlm_s,ets_spec,arima_spec\n", file = tim)

origins <- function(lo, hi, k) {
  if (hi < lo) return(integer(0))
  if (k <= 1 || hi == lo) return(lo)
  unique(lo + floor((0:(k - 1)) * (hi - lo) / (k - 1)))
}

as_seasonal <- function(y) {
  if (length(y) >= 2 * 2016) msts(y, seasonal.periods = c(288, 2016)) else ts(y, frequency = 288)
}
fourier_k <- function(y) if (length(y) >= 2 * 2016) c(6, 3) else 6

fit_model <- function(m, y) {
  yi <- as.numeric(na.interp(as_seasonal(y)))
  switch(m,
    ets = ets(ts(yi, frequency = 1)),
    arima = auto.arima(ts(yi, frequency = 1)),
    stlm = stlm(as_seasonal(yi), s.window = "periodic"),
    fourier = {
      ys <- as_seasonal(yi)
      list(fit = auto.arima(ys, xreg = fourier(ys, K = fourier_k(ys)), seasonal = FALSE), k = fourier_k(ys))
    })
}

forecast_at <- function(m, fit, y) {
  yi <- as.numeric(na.interp(as_seasonal(y)))
  switch(m,
    ets = forecast(ets(ts(yi, frequency = 1), model = fit, use.initial.values = TRUE), h = H, level = c(80, 95)),
    arima = forecast(Arima(ts(yi, frequency = 1), model = fit), h = H, level = c(80, 95)),
    stlm = forecast(stlm(as_seasonal(yi), model = fit), h = H, level = c(80, 95)),
    fourier = {
      ys <- as_seasonal(yi)
      # the training part's seasonal phase must carry on: Fourier terms of the
      # whole known part, the fitted coefficients re-applied
      refit <- Arima(ys, model = fit$fit, xreg = fourier(ys, K = fit$k))
      forecast(refit, xreg = fourier(ys, K = fit$k, h = H), h = H, level = c(80, 95))
    })
}

score <- function(name, m, part, fit, y, os) {
  acc <- matrix(0, nrow = H, ncol = 5) # n, ae, in80, in95, is80
  if (!is.null(fit)) for (o in os) {
    fc <- tryCatch(forecast_at(m, fit, y[1:o]), error = function(e) NULL)
    if (is.null(fc)) next
    for (h in 1:H) {
      v <- y[o + h]
      if (is.na(v)) next
      p <- fc$mean[h]; l8 <- fc$lower[h, 1]; u8 <- fc$upper[h, 1]; l9 <- fc$lower[h, 2]; u9 <- fc$upper[h, 2]
      is <- (u8 - l8) + (if (v < l8) 10 * (l8 - v) else 0) + (if (v > u8) 10 * (v - u8) else 0)
      acc[h, ] <- acc[h, ] + c(1, abs(v - p), v >= l8 && v <= u8, v >= l9 && v <= u9, is)
    }
  }
  if (part == "val") { # one row: sums over all horizons
    s <- colSums(acc)
    cat(sprintf("%s,%s,val,0,%d,%.10g,%d,%d,%.10g\n", name, m, s[1], s[2], s[3], s[4], s[5]), file = res)
  } else {
    for (h in 1:H)
      cat(sprintf("%s,%s,test,%d,%d,%.10g,%d,%d,%.10g\n", name, m, h, acc[h, 1], acc[h, 2], acc[h, 3],
                  acc[h, 4], acc[h, 5]), file = res)
  }
  flush(res)
}

timed <- function(expr) {
  t0 <- proc.time()[["elapsed"]]
  force(expr)
  proc.time()[["elapsed"]] - t0
}

models <- c("ets", "arima", "stlm", "fourier")
for (f in files) {
  name <- sub("_", "/", sub("_", "/", sub("\\.txt$", "", basename(f)))) # bitbrains_26_cpu -> bitbrains/26/cpu
  y <- suppressWarnings(as.numeric(readLines(f)))
  n <- length(y); train <- floor(0.8 * n); sub <- floor(0.8 * train)
  test_o <- origins(train, n - H, K_TEST)
  val_o <- origins(sub, train - H, K_VAL)
  specs <- list()
  for (m in models) {
    t0 <- proc.time()[["elapsed"]]
    fv <- tryCatch(fit_model(m, y[1:sub]), error = function(e) NULL)
    score(name, m, "val", fv, y[1:train], val_o)
    ft <- tryCatch(fit_model(m, y[1:train]), error = function(e) NULL)
    score(name, m, "test", ft, y, test_o)
    if (m %in% c("ets", "arima") && !is.null(ft))
      specs[[m]] <- gsub(",", ";", if (m == "ets") ft$method else paste(arimaorder(ft), collapse = " "))
    message(sprintf("%s %s: %.1fs", name, m, proc.time()[["elapsed"]] - t0))
  }
  # speed: fit + one 48-step forecast with both intervals, the training part
  yt <- as.numeric(na.interp(as_seasonal(y[1:train])))
  t_ets <- timed(forecast(ets(ts(yt, frequency = 1)), h = H, level = c(80, 95)))
  t_stlm <- timed(forecast(stlm(as_seasonal(yt), s.window = "periodic"), h = H, level = c(80, 95)))
  cat(sprintf("%s,%d,%d,%.4f,%.4f,%s,%s\n", name, n, train, t_ets, t_stlm,
              if (is.null(specs$ets)) "failed" else specs$ets,
              if (is.null(specs$arima)) "failed" else specs$arima), file = tim)
  flush(tim)
}
close(res); close(tim)

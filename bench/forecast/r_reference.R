# R reference for bench/forecast.sh: ets() and auto.arima() from the forecast
# package on exactly the rolling-origin splits the ahead bench uses.
#
# usage: Rscript bench/forecast/r_reference.R DATA_DIR RESULTS.csv TIMING.csv
#
# Split (must match bench/bench_forecast.c):
#   y = the value column in file order (read.csv), n = length(y)
#   train = floor(0.8 n); H = 48; k = max(1, floor((n - H - train) / 100))
#   origins o = train, train + k, ... while o <= n - H  (y[1..o] is known)
#   forecasts for horizons 1, 12 and 48 ahead of each origin.
# Models are fitted once on y[1..train] (auto.arima / ets defaults), then
# re-applied without re-estimation (model = fit) to y[1..o] at each origin.
# ts frequency: points per day when that is <= 48 (nyc_taxi 48, ambient 24),
# else 1 (ets ignores frequencies above 24 itself).
suppressPackageStartupMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 3) stop("usage: r_reference.R DATA_DIR RESULTS.csv TIMING.csv")
files <- sort(Sys.glob(file.path(args[1], "*", "*.csv")))
H <- 48; hs <- c(1, 12, 48)
res <- file(args[2], "w"); tim <- file(args[3], "w")
cat("series,model,origin,h,y,point,lo80,hi80,lo95,hi95\n", file = res)
cat("series,model,n,origins,frequency,fit_s,forecast_s,total_s,spec\n", file = tim)
for (f in files) {
  name <- paste(basename(dirname(f)), basename(f), sep = "/")
  d <- read.csv(f)
  y <- as.numeric(d$value)
  y[is.na(y)] <- mean(y, na.rm = TRUE)
  n <- length(y)
  tt <- as.POSIXct(d$timestamp, tz = "UTC")
  step <- median(abs(diff(as.numeric(tt))))
  ppd <- round(86400 / step)
  fr <- if (ppd <= 48) ppd else 1
  train <- floor(0.8 * n)
  k <- max(1, floor((n - H - train) / 100))
  origins <- seq(train, n - H, by = k)
  for (m in c("ets", "auto.arima")) {
    t0 <- proc.time()[["elapsed"]]
    ytr <- ts(y[1:train], frequency = fr)
    fit <- tryCatch(if (m == "ets") ets(ytr) else auto.arima(ytr), error = function(e) NULL)
    t1 <- proc.time()[["elapsed"]]
    spec <- if (is.null(fit)) "failed" else gsub(",", ";", if (m == "ets") fit$method else arimaorder_str <- paste(deparse(arimaorder(fit)), collapse = ""))
    out <- character(0)
    if (!is.null(fit)) for (o in origins) {
      yo <- ts(y[1:o], frequency = fr)
      fc <- tryCatch({
        refit <- if (m == "ets") ets(yo, model = fit, use.initial.values = TRUE) else Arima(yo, model = fit)
        forecast(refit, h = H, level = c(80, 95))
      }, error = function(e) NULL)
      if (is.null(fc)) next
      for (h in hs)
        out <- c(out, sprintf("%s,%s,%d,%d,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g", name, m, o, h, y[o + h],
                              fc$mean[h], fc$lower[h, 1], fc$upper[h, 1], fc$lower[h, 2], fc$upper[h, 2]))
    }
    t2 <- proc.time()[["elapsed"]]
    writeLines(out, res); flush(res)
    cat(sprintf("%s,%s,%d,%d,%d,%.4f,%.4f,%.4f,%s\n", name, m, n, length(origins), fr, t1 - t0, t2 - t1, t2 - t0, spec), file = tim)
    flush(tim)
    message(sprintf("%s %s %s: fit %.2fs, %d origins %.2fs", name, m, spec, t1 - t0, length(origins), t2 - t1))
  }
}
close(res); close(tim)

#!/usr/bin/env bash
# Remakes the committed R reference on a Bitbrains set (about an hour on one
# core for the 50 report-set series; needs r-base-core and r-cran-forecast):
#   bash bench/forecast/remake_r.sh [report|tune] [K_TEST] [K_VAL]
# It dumps the series exactly as bench_forecast scores them, runs
# r_bitbrains.R and r_bitbrains_h1.R on them and writes bench/forecast/r_bitbrains.csv,
# r_bitbrains_timing.csv and r_bitbrains_h1.csv (report set; the tuning set goes to build-bench/).
set -euo pipefail
cd "$(dirname "$0")/../.."
set_name=${1:-report}; k_test=${2:-10}; k_val=${3:-5}
command -v Rscript >/dev/null || { echo "remake_r: Rscript not found (apt-get install r-base-core r-cran-forecast)" >&2; exit 2; }
[ "$k_test" = 10 ] || echo "remake_r: note: bench_forecast.c's R_K_TEST must equal K_TEST ($k_test)" >&2
build=${AHEAD_BENCH_BUILD:-$PWD/build-bench}
[ -f "$build/CMakeCache.txt" ] || cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target bench_forecast >/dev/null
dump=$(mktemp -d); trap 'rm -rf "$dump"' EXIT
AHEAD_SRC=$PWD AHEAD_SHARED=${AHEAD_SHARED:-$PWD/../shared} "$build/bench_forecast" --set "$set_name" --no-fleet \
  --out /dev/null --dump "$dump" >/dev/null
out=bench/forecast; [ "$set_name" = report ] || out=$build
Rscript bench/forecast/r_bitbrains.R "$dump" "$out/r_bitbrains.csv" "$out/r_bitbrains_timing.csv" "$k_test" "$k_val"
# R best's h = 1 on every test origin (about 7 minutes more)
Rscript bench/forecast/r_bitbrains_h1.R "$dump" "$out/r_bitbrains.csv" "$out/r_bitbrains_h1.csv"
echo "remake_r: wrote $out/r_bitbrains.csv, $out/r_bitbrains_timing.csv and $out/r_bitbrains_h1.csv"

#!/usr/bin/env bash
# bench/run sim [SEEDS]: the deterministic simulations run long — the engine
# (tests/test_engine_sim.c) and the service (tests/test_service_sim.c) over
# many more seeds than CI's bounded run. A failure prints its seed and step
# (replay it with AHEAD_SIM_SEED=S). Ends with sim_engine_seeds=N,
# sim_service_seeds=N and sim_failures=N.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${AHEAD_BUILD:?run through bench/run}
SEEDS=${1:-200}
cmake --build "$BUILD" -j2 --target test_engine_sim test_service_sim >/dev/null
fail=0
printf '%-10s %8s %10s %s\n' SIM SEEDS SECONDS RESULT
for t in engine service; do
  start=$(date +%s%N)
  if AHEAD_SIM_SEEDS=$SEEDS "$BUILD/test_${t}_sim" >"$BUILD/sim_$t.log" 2>&1; then r=ok; else r=FAILED; fail=$((fail + 1)); fi
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  printf '%-10s %8d %7d.%01d %s\n' "$t" "$SEEDS" $((ms / 1000)) $((ms % 1000 / 100)) "$r"
  [ "$r" = ok ] || grep -m3 -E "seed|ERROR" "$BUILD/sim_$t.log" | sed 's/^/    /'
done
echo "sim_engine_seeds=$SEEDS"
echo "sim_service_seeds=$SEEDS"
echo "sim_failures=$fail"
[ "$fail" -eq 0 ]

#!/usr/bin/env bash
# The one-shot walkthrough of the CLI (also `bash scripts/demo.sh --cli`):
# installs dependencies, builds ahead, applies a policy to a local ledger,
# then shows requests being granted, queued, refused and released, and a
# workload's history sizing its next request. No daemon: every command
# opens the ledger itself. (scripts/demo.sh is the live demo with the daemon.)
# AHEAD_DEMO_NO_INSTALL=1 skips the install step, AHEAD_DEMO_BIN=PATH the build.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${AHEAD_DEMO_NO_INSTALL:-}" = 1 ] || bash scripts/install-deps.sh
if [ -n "${AHEAD_DEMO_BIN:-}" ]; then
  ahead=$AHEAD_DEMO_BIN
else
  bash scripts/build.sh build >/dev/null
  ahead=$PWD/build/ahead
fi
unset AHEAD_SERVER
export AHEAD_DB=${AHEAD_DB:-$(mktemp -d)/demo.db}
run() { echo; echo "\$ ahead $*"; "$ahead" "$@" || echo "(exit $?)"; }
echo "ledger: $AHEAD_DB"
run policy check examples/demo-policy.ini
run policy apply examples/demo-policy.ini
run alloc --tenant alice --pool edge --res cpu=3,memory=4Gi --param job=render --param frames=240
run alloc --tenant bob --pool edge --res cpu=2,memory=2Gi --queue-timeout 1m
run alloc --tenant bob --pool edge --res cpu=1500m,memory=1Gi --class batch
run alloc --tenant carol --pool edge --res cpu=1
run alloc --tenant alice --pool edge --res cpu=64
run pool ls
run ls
run release 1
run ls
run events

echo
echo "== predict, then reserve: a workload's history sizes its next request =="
# Ten finished render jobs whose memory grew with the frame count...
for f in 100 150 200 250 300 350 400 450 500 550; do
  id=$("$ahead" alloc --tenant alice --pool edge --res cpu=500m,memory=512Mi --workload render \
        --params frames=$f -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  "$ahead" report "$id" --usage "memory=$((f * 6))Mi" >/dev/null
  "$ahead" release "$id" >/dev/null
done
# ... so a request for 800 frames is sized from them (the class's quantile plus margin):
run alloc --tenant alice --pool edge --workload render --params frames=800

shared=${AHEAD_SHARED:-$PWD/../shared}/data/bitbrains_rnd/rnd/2013-7
if [ -d "$shared" ]; then
  echo
  echo "== replay: 50 real VMs for a month, each policy driving the engine in virtual time =="
  run replay --trace "$shared" --format bitbrains
  echo
  echo "(docs/RESULTS.md has the trade-off charts and the shaped-pool costs: bench/run replay)"
fi

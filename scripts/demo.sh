#!/usr/bin/env bash
# Installs dependencies, builds ahead, and runs a short demo: apply a policy,
# then watch requests being granted, queued, refused and released.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build >/dev/null
ahead=$PWD/build/ahead
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

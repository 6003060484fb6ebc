#!/usr/bin/env bash
# Rebuilds tests/data/ledger-v1.db with a given `ahead` binary (schema v1).
set -euo pipefail
A=${1:?usage: make-ledger-v1.sh AHEAD_BIN SRC_DIR OUT}; SRC=$2; OUT=$3
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export AHEAD_DB=$T/ledger.db
# A shaped variant first, so one 'ahead scale' writes a scale event and a
# demand row; then the example policy itself is applied over it.
sed -e 's/^max_queue = 10000$/max_queue = 10000\nshaping = on\ncapacity_cost = cpu=0.04, memory=0.01\nscale_step = cpu=4, memory=16Gi\nscale_hook = \/bin\/true/' \
    -e 's/^quantile = 0.5$/quantile = 0.5\nshortfall_cost = cpu=0.02/' "$SRC/examples/policy.ini" > "$T/shaped.ini"
"$A" policy apply "$T/shaped.ini" >/dev/null
"$A" alloc -t acme -p general -r cpu=4,memory=8Gi -l 24h -P model=llama >/dev/null
"$A" alloc -t acme -p gpu -r cpu=24,memory=32Gi,qubits=8 -l 24h >/dev/null
"$A" alloc -t initech -p gpu -r cpu=8,memory=16Gi -c batch -l 24h >/dev/null
"$A" alloc -t someone -p general -r cpu=1,memory=1Gi -l 24h >/dev/null
"$A" alloc -t acme -p gpu -r cpu=4,memory=4Gi -c batch -q 1h -l 24h >/dev/null || [ $? = 4 ]
"$A" alloc -t other -p general -r cpu=1,memory=1Gi -l 24h >/dev/null
"$A" release 4 >/dev/null
"$A" alloc -t initech -p general -r cpu=400,memory=1Gi >/dev/null 2>&1 || [ $? = 3 ]
"$A" scale >/dev/null
"$A" policy apply "$SRC/examples/policy.ini" >/dev/null
sqlite3 "$AHEAD_DB" 'PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE; VACUUM;' >/dev/null
cp "$AHEAD_DB" "$OUT"

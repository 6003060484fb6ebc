#!/usr/bin/env bash
# forecast, anomalies and shadow import read Bitbrains files (--format
# bitbrains --column cpu|memory) with the reader replay uses: a made-up
# fixture (tests/data/bitbrains/vm7.csv: 2 cores of 2000 MHz, CRLF lines,
# one cpu spike at row 31), and the real data when ../shared has it.
set -u
. "$(dirname "$0")/lib.sh"
F=$SRC/tests/data/bitbrains/vm7.csv
DB=(--db "$T/b.db")

check "forecast cpu" 0 "vm7.csv: 48 points, step 300s" -- "$A" forecast --input "$F" --format bitbrains --horizon 3
check "forecast memory" 0 "48 points" -- "$A" forecast --input "$F" --format bitbrains --column memory --horizon 3
check "anomalies finds the spike" 0 "2013-08-12T16:10:46(.000)?Z .* spike" -- "$A" anomalies --input "$F" --format bitbrains
check "forecast --column needs bitbrains" 2 "give --format bitbrains" -- "$A" forecast --input "$F" --column cpu
check "anomalies --value-col with bitbrains" 2 "named by --column" -- \
  "$A" anomalies --input "$F" --format bitbrains --value-col 3
check "forecast bad column" 2 "--column: expected cpu" -- "$A" forecast --input "$F" --format bitbrains --column disk
check "forecast csv reader on a Bitbrains file fails" 2 "" -- "$A" forecast --input "$F"

# shadow import: workload = the VM, dim = the column, base units stated
check "import cpu" 0 "imported 48 samples into vm7/cpu" -- "$A" shadow import "${DB[@]}" --format bitbrains --input "$F"
check "import memory" 0 "imported 48 samples into vm7/memory" -- \
  "$A" shadow import "${DB[@]}" --format bitbrains --column memory --input "$F"
first() { "$A" shadow query "${DB[@]}" --workload vm7 --dim "$1" -o csv | awk -F, 'NR == 2 { print $2 }'; }
# 1000 MHz of 2 x 2000 MHz = 0.5 cores = 500 millicores; 1048576 KB = 1 GiB
ok "cpu in millicores" '[ "$(first cpu)" = 500 ]'
ok "memory in bytes" '[ "$(first memory)" = 1073741824 ]'
check "import --workload, --dim" 0 "into web/cpu2" -- \
  "$A" shadow import "${DB[@]}" --format bitbrains --input "$F" --workload web --dim cpu2
check "import --unit refused" 2 "--unit does not apply to --format bitbrains" -- \
  "$A" shadow import "${DB[@]}" --format bitbrains --input "$F" --unit cores --workload x
printf 'timestamp,value\n0,1\n' >"$T/plain.csv"
check "import a CSV as bitbrains" 2 "plain.csv:1: expected the Bitbrains header" -- \
  "$A" shadow import "${DB[@]}" --format bitbrains --input "$T/plain.csv" --workload x
ok "refusals stored nothing" '! "$A" shadow ls "${DB[@]}" | grep -q "^x "'

# the same numbers as replay reads: a replay of the fixture sees 48 cpu samples
check "replay reads the same file" 0 "" -- "$A" replay --trace "$F" --format bitbrains --policy static --dim cpu

BB=${SHARED:-}/data/bitbrains_rnd/rnd/2013-7/1.csv
if [ -n "${SHARED:-}" ] && [ -r "$BB" ]; then
  check "real Bitbrains forecast" 0 "points, step" -- "$A" forecast --input "$BB" --format bitbrains --horizon 12
  check "real Bitbrains anomalies" 0 "points" -- "$A" anomalies --input "$BB" --format bitbrains --column memory
else
  echo "SKIP: Bitbrains data not found under \$AHEAD_SHARED"
fi
finish

#!/usr/bin/env bash
# Explicit input units (input_unit.h): shadow import --unit/--of read values
# in the unit given, refuse a unit that does not fit the dimension, and warn
# loudly when values end below one base unit (the NAB-percent-as-millicores
# mistake). Replay's --unit is tested in cli_replay.sh.
set -u
. "$(dirname "$0")/lib.sh"
DB=(--db "$T/u.db")
printf 'timestamp,value\n2024-01-01T00:00:00Z,0.25\n2024-01-01T00:01:00Z,0.5\n2024-01-01T00:02:00Z,2\n' >"$T/pct.csv"
mean_of() { "$A" shadow query "${DB[@]}" --workload "$1" --dim "$2" -o csv | awk -F, 'NR == 2 { print $2 }'; }

# the default (millicores) is kept, with a loud warning
check "default unit warns" 0 "WARNING: .*pct.csv: 2 of 3 values are below 1 millicore once read as millicores \(the default\)" -- \
  "$A" shadow import "${DB[@]}" --workload d --dim cpu --input "$T/pct.csv"
ok "default unit keeps the values" '[ "$(mean_of d cpu)" = 0.25 ]'
# percent of 4 cores: 0.25 % of 4000 millicores = 10
out=$("$A" shadow import "${DB[@]}" --workload p --dim cpu --input "$T/pct.csv" --unit percent --of 4 2>&1)
ok "percent: no warning" '! grep -q WARNING <<<"$out"'
ok "percent --of 4" '[ "$(mean_of p cpu)" = 10 ]'
check "cores" 0 "" -- "$A" shadow import "${DB[@]}" --workload c --dim cpu --input "$T/pct.csv" --unit cores
ok "cores read as 1000 millicores" '[ "$(mean_of c cpu)" = 250 ]'
check "KiB" 0 "" -- "$A" shadow import "${DB[@]}" --workload k --dim memory --input "$T/pct.csv" --unit KiB
ok "KiB read as 1024 bytes" '[ "$(mean_of k memory)" = 256 ]'
check "KB" 0 "" -- "$A" shadow import "${DB[@]}" --workload kb --dim memory --input "$T/pct.csv" --unit KB
ok "KB read as 1000 bytes" '[ "$(mean_of kb memory)" = 250 ]'
# long format: each unit applies to the dimensions it fits
printf 'time,workload,dim,value\n0,l,cpu,0.5\n0,l,memory,0.5\n0,l,gpu,0.5\n' >"$T/long.csv"
check "long with units" 0 "imported 3 samples" -- \
  "$A" shadow import "${DB[@]}" --long --input "$T/long.csv" --unit cores,MiB
ok "long cpu in cores" '[ "$(mean_of l cpu)" = 500 ]'
ok "long memory in MiB" '[ "$(mean_of l memory)" = 524288 ]'
ok "long custom untouched" '[ "$(mean_of l gpu)" = 0.5 ]'

# refusals, and nothing stored by them
n0=$("$A" shadow ls "${DB[@]}" -o csv | wc -l)
check "unit does not fit dim" 2 "--unit cores does not fit --dim memory" -- \
  "$A" shadow import "${DB[@]}" --workload x --dim memory --input "$T/pct.csv" --unit cores
check "percent without --of" 2 "--unit percent needs --of N" -- \
  "$A" shadow import "${DB[@]}" --workload x --dim cpu --input "$T/pct.csv" --unit percent
check "--of without percent" 2 "--of applies to --unit percent only" -- \
  "$A" shadow import "${DB[@]}" --workload x --dim cpu --input "$T/pct.csv" --unit cores --of 4
check "two cpu units" 2 "already has a unit" -- \
  "$A" shadow import "${DB[@]}" --workload x --dim cpu --input "$T/pct.csv" --unit cores,percent
check "unknown unit" 2 "expected one of cores, millicores, percent" -- \
  "$A" shadow import "${DB[@]}" --workload x --dim cpu --input "$T/pct.csv" --unit furlong
check "--of 0" 2 "--of" -- "$A" shadow import "${DB[@]}" --workload x --dim cpu --input "$T/pct.csv" --unit percent --of 0
"$A" shadow export "${DB[@]}" --workload c --dim cpu >"$T/exp.csv"
check "export file takes no unit" 2 "an export file is in base units" -- \
  "$A" shadow import "${DB[@]}" --workload x --dim cpu --input "$T/exp.csv" --unit cores
ok "nothing stored by refusals" '[ "$("$A" shadow ls "${DB[@]}" -o csv | wc -l)" = "$n0" ]'
finish

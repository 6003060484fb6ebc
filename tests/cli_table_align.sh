#!/usr/bin/env bash
# Tables stay aligned whatever the lengths of what they hold (issue 9, item
# 3): forecast's candidate and forecast tables, shadow query, anomalies'
# events and scores, and describe's resources, fed long names (a 60-byte
# workload, a long custom dimension) and values of many digits. Each column
# of a table starts (left-aligned) or ends (right-aligned) at the same
# place on every row.
set -u
. "$(dirname "$0")/lib.sh"

# aligned NAME FILE HEADER_PATTERN [STOP_PATTERN]: the table in FILE from
# the line matching HEADER (case aside) to the next blank line (or the line
# before one matching STOP) has its cells (runs of text split by 2+ spaces) in
# line: per column, every row's cell starts, or every row's cell ends, at
# the same offset.
aligned() {
  python3 - "$2" "$3" "${4:-^$}" <<'EOPY' && ok || bad "$1 is aligned: $(cat "$2")"
import re, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
start = next(i for i, l in enumerate(lines) if re.search(sys.argv[2], l, re.I))
table = [lines[start]]
for l in lines[start + 1:]:
    if not l.strip() or re.search(sys.argv[3], l):
        break
    table.append(l)
assert len(table) >= 3, table
rows = [[(m.start(), m.end()) for m in re.finditer(r"\S+(?: \S+)*", l)] for l in table]
ncol = len(rows[0])
for c in range(ncol):
    cells = [r[c] for r in rows if len(r) > c and (len(r) == ncol or c < len(r) - 1)]
    starts = {s for s, _ in cells}
    ends = {e for _, e in cells}
    assert len(starts) == 1 or len(ends) == 1, (c, cells, table)
EOPY
}

W=a-rather-long-workload-name.example.com/team@cluster+prod:svc-01
[ ${#W} -ge 60 ] || die "workload name too short"

# --- a series of values with many digits, and a spike ---
{
  echo "time,value"
  for i in $(seq 0 199); do
    v=$((123456789012 + (i % 24) * 987654321 + (i % 7) * 13))
    [ "$i" = 150 ] && v=987654321098765
    echo "$((1700000000 + i * 3600)),$v"
  done
} > "$T/long.csv"

# forecast: candidates (long figures) and the forecast itself
expect_rc 0 "" -- forecast --input "$T/long.csv" --horizon 4 --quantiles 0.05,0.5,0.9,0.99
aligned "forecast candidates" "$T/out" '^CANDIDATE '
aligned "forecast rows" "$T/out" '^TIME +POINT'

# anomalies: events and scores
expect_rc 0 "PEAK_SCORE" -- anomalies --input "$T/long.csv" --scores
aligned "anomaly scores" "$T/out" '^TIME +VALUE'
grep -qE '[0-9]e[+-][0-9]' "$T/out" && bad "anomaly scores print an exponent: $(grep -E '[0-9]e[+-]' "$T/out" | head -2)" || ok

# shadow query: a long workload name, and a custom dimension with a long name
D=accelerator_memory_bandwidth_of_the_card
expect_rc 0 "imported 200 samples" -- shadow import --db "$T/x.db" --workload "$W" --dim "$D" --input "$T/long.csv"
expect_rc 0 "TIME" -- shadow query --db "$T/x.db" --workload "$W" --dim "$D"
aligned "shadow query" "$T/out" '^TIME +MEAN'
grep -qE '[0-9]e[+-][0-9]' "$T/out" && bad "shadow query prints an exponent" || ok
expect_rc 0 "imported 200 samples" -- shadow import --db "$T/x.db" --workload "$W" --dim memory --input "$T/long.csv"
expect_rc 0 "TIME" -- shadow query --db "$T/x.db" --workload "$W" --dim memory
aligned "shadow query memory" "$T/out" '^TIME +MEAN'
grep -qE ' [0-9]{7,} ' "$T/out" && bad "shadow query memory prints raw bytes: $(sed -n 2p "$T/out")" || ok

# describe: a long custom dimension beside the built-in ones
cat > "$T/policy.ini" <<EOP
[ahead]
default_class = standard
unknown_tenants = refuse
[dimension $D]
unit = count
[pool p]
capacity = cpu=16, memory=64Gi, $D=100000
[class standard]
priority = 50
quantile = 0.9
[tenant t]
quota = cpu=16, memory=64Gi, $D=100000
EOP
export AHEAD_DB=$T/d.db
if "$A" policy apply "$T/policy.ini" >"$T/out" 2>&1; then
  expect_rc 0 "granted" -- alloc -t t -p p -r "cpu=1,memory=1Gi,$D=99999" --workload "$W"
  id=$(sed -n 's/^granted  id=\([0-9]*\).*/\1/p' "$T/out")
  expect_rc 0 "" -- report "$id" --usage "memory=700Mi,$D=12345"
  expect_rc 0 "" -- describe "$id"
  aligned "describe resources" "$T/out" '^  DIMENSION ' '^[A-Z]'
else
  bad "policy with a custom dimension: $(cat "$T/out")"
fi
finish cli_table_align

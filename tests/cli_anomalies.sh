#!/usr/bin/env bash
# ahead anomalies end to end: help, validation of every option and exit codes,
# a generated series with one spike and one level shift (table, JSON, CSV,
# --scores), a constant series, named columns, a bad file's FILE:LINE error,
# and a NAB file when ../shared has it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"


# 2000 points, 5 minutes apart, bounded pseudo-random noise; a spike at 700
# and a level shift (+20) from 1400 on.
awk 'BEGIN { print "timestamp,value"; x = 1;
  for (i = 0; i < 2000; i++) { x = (x * 16807) % 2147483647; n = x / 2147483647 - 0.5;
    v = 50 + n; if (i == 700) v += 15; if (i >= 1400) v += 20;
    printf "%d,%.4f\n", 1400000000 + i * 300, v } }' >"$T/series.csv"
awk 'BEGIN { print "when,cpu,other"; for (i = 0; i < 500; i++) printf "%d,7.5,%d\n", 1400000000 + i * 60, i }' >"$T/const.csv"

# help and validation
expect_rc 0 "usage: ahead anomalies" -- anomalies --help
expect_rc 0 "--threshold" -- anomalies -h
expect_rc 2 "--input FILE is required" -- anomalies
expect_rc 2 "unknown option '--bogus'" -- anomalies --input "$T/series.csv" --bogus
expect_rc 2 "--input needs" -- anomalies --input
expect_rc 2 "--threshold" -- anomalies --input "$T/series.csv" --threshold
expect_rc 2 "--threshold: '2'" -- anomalies --input "$T/series.csv" --threshold 2
expect_rc 2 "--threshold: '0'" -- anomalies --input "$T/series.csv" --threshold 0
expect_rc 2 "--threshold: 'abc'" -- anomalies --input "$T/series.csv" --threshold abc
expect_rc 2 "--threshold: 'nan'" -- anomalies --input "$T/series.csv" --threshold nan
expect_rc 2 "--season: '1.5'" -- anomalies --input "$T/series.csv" --season 1.5
expect_rc 2 "--season: '-3'" -- anomalies --input "$T/series.csv" --season -3
expect_rc 2 "--season: '99999'" -- anomalies --input "$T/series.csv" --season 99999
expect_rc 2 "unknown output format 'xml'" -- anomalies --input "$T/series.csv" -o xml
expect_rc 2 "-o needs a value" -- anomalies --input "$T/series.csv" -o
expect_rc 2 "--time-col needs" -- anomalies --input "$T/series.csv" --time-col
expect_rc 2 "" -- anomalies --input "$T/series.csv" --value-col nosuchcolumn
expect_rc 2 "$T/missing.csv" -- anomalies --input "$T/missing.csv"

# bad input files: the error names the line
printf 'timestamp,value\n1400000000,1\n1400000300,abc\n' >"$T/bad.csv"
expect_rc 2 "bad.csv:3" -- anomalies --input "$T/bad.csv"
printf 'timestamp,value\n1400000300,1\n1400000000,2\n' >"$T/order.csv"
expect_rc 2 "order.csv:3" -- anomalies --input "$T/order.csv"
expect_rc 0 "0 events in 2 points" -- anomalies --input "$T/order.csv" --sort
printf 'timestamp,value\n1400000000,1\n1400000000,3\n1400000300,2\n' >"$T/dup.csv"
expect_rc 2 "dup.csv:3" -- anomalies --input "$T/dup.csv"
expect_rc 0 "in 2 points" -- anomalies --input "$T/dup.csv" --duplicates mean
expect_rc 0 "" -- anomalies --input "$T/dup.csv" --duplicates mean -o csv --scores
grep -q "^2014-05-13T16:53:20.000Z,2," "$T/out" || die "--duplicates mean should average to 2: $(cat "$T/out")"
expect_rc 0 "" -- anomalies --input "$T/dup.csv" --duplicates last -o csv --scores
grep -q "^2014-05-13T16:53:20.000Z,3," "$T/out" || die "--duplicates last should keep 3: $(cat "$T/out")"
expect_rc 2 "--duplicates: unknown policy 'first'" -- anomalies --input "$T/dup.csv" --duplicates first
expect_rc 2 "--duplicates needs" -- anomalies --input "$T/dup.csv" --duplicates
printf 'timestamp,value\n' >"$T/empty.csv"
expect_rc 2 "" -- anomalies --input "$T/empty.csv"

# good input: exactly the spike and the level shift
expect_rc 0 "2 events in 2000 points" -- anomalies --input "$T/series.csv"
grep -q "spike" "$T/out" || die "no spike event: $(cat "$T/out")"
grep -q "level_shift" "$T/out" || die "no level_shift event: $(cat "$T/out")"
# spike at i=700: 1400000000 + 700*300 = 1400210000 = 2014-05-16T03:13:20Z
grep -q "^2014-05-16T03:13:20.000Z" "$T/out" || die "spike not at its time: $(cat "$T/out")"

expect_rc 0 "" -- anomalies --input "$T/series.csv" -o json
python3 - "$T/out" <<'EOF' || die "bad JSON output"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["points"] == 2000, d["points"]
ev = d["events"]
assert len(ev) == 2, ev
assert ev[0]["kind"] == "spike" and ev[0]["start_index"] == 700, ev[0]
assert ev[1]["kind"] == "level_shift" and ev[1]["start_index"] == 1400, ev[1]
assert all(0 < e["peak_score"] <= 1 for e in ev)
assert "scores" not in d
EOF

expect_rc 0 "start,end,peak_at,peak_score,kind" -- anomalies --input "$T/series.csv" -o csv
[ "$(wc -l <"$T/out")" = 3 ] || die "csv events: $(cat "$T/out")"

expect_rc 0 "time,value,predicted,score,anomalous,event" -- anomalies --input "$T/series.csv" -o csv --scores
[ "$(wc -l <"$T/out")" = 2001 ] || die "csv --scores should have 2001 lines"
awk -F, 'NR > 1 && ($4 < 0 || $4 > 1) { bad = 1 } END { exit bad }' "$T/out" || die "score outside [0,1]"
grep -q "^2014-05-16T03:13:20.000Z,.*,1,1$" "$T/out" || die "spike row not marked as event 1"

expect_rc 0 "" -- anomalies --input "$T/series.csv" -o json --scores
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert len(d['scores']) == 2000" "$T/out" \
  || die "json --scores"

# a stricter threshold can only drop events
expect_rc 0 "" -- anomalies --input "$T/series.csv" --threshold 0.99
grep -q "^0 events" "$T/out" || die "threshold 0.99 should leave no events: $(cat "$T/out")"

# --nab-results: NAB's results format, every row as in the file (a repeated
# and a backward timestamp kept, in file order), onset scores only where an
# event opens, raw scores in [0,1]; options that reorder rows are refused
{ head -1 "$T/series.csv"; sed -n '2,1000p' "$T/series.csv"; sed -n '1000p' "$T/series.csv";
  sed -n '990p' "$T/series.csv"; sed -n '1001,2001p' "$T/series.csv"; } >"$T/rows.csv"
expect_rc 0 "timestamp,value,anomaly_score" -- anomalies --input "$T/rows.csv" --nab-results onset
[ "$(wc -l <"$T/out")" = "$(wc -l <"$T/rows.csv")" ] || die "--nab-results: one row per data row"
awk -F, 'NR > 1 { print $1 }' "$T/out" >"$T/ts_out"
awk -F, 'NR > 1 { print strftime("%Y-%m-%d %H:%M:%S", $1, 1) }' "$T/rows.csv" >"$T/ts_in" 2>/dev/null \
  || python3 -c "import sys,datetime
for l in open(sys.argv[1]).read().split()[1:]:
    print(datetime.datetime.utcfromtimestamp(int(l.split(',')[0])).strftime('%Y-%m-%d %H:%M:%S'))" "$T/rows.csv" >"$T/ts_in"
cmp -s "$T/ts_out" "$T/ts_in" || die "--nab-results: timestamps not as in the file"
onsets=$(awk -F, 'NR > 1 && $3 > 0' "$T/out" | wc -l)
[ "$onsets" -ge 2 ] || die "--nab-results onset: $onsets onsets, want the spike and the shift"
cp "$T/out" "$T/onset.csv"
expect_rc 0 "timestamp,value,anomaly_score" -- anomalies --input "$T/rows.csv" --nab-results raw
awk -F, 'NR > 1 && ($3 < 0 || $3 > 1) { exit 1 }' "$T/out" || die "--nab-results raw: a score outside [0,1]"
[ "$(awk -F, 'NR > 1 && $3 > 0' "$T/out" | wc -l)" -gt "$onsets" ] || die "--nab-results raw: fewer scores than onsets"
paste -d, "$T/onset.csv" "$T/out" | awk -F, 'NR > 1 && $3 > 0 && $3 != $6 { exit 1 }' \
  || die "--nab-results: an onset score differs from that row's raw score"
expect_rc 0 "" -- anomalies --input "$T/rows.csv" --nab-results onset --refractory 2000
[ "$(awk -F, 'NR > 1 && $3 > 0' "$T/out" | wc -l)" -lt "$onsets" ] || die "--refractory 2000 should drop an onset"
expect_rc 2 "--sort does not apply" -- anomalies --input "$T/rows.csv" --nab-results onset --sort
expect_rc 2 "--output does not apply" -- anomalies --input "$T/rows.csv" --nab-results raw -o json
expect_rc 2 "--nab-results: unknown" -- anomalies --input "$T/rows.csv" --nab-results peak
expect_rc 2 "--refractory: '-1'" -- anomalies --input "$T/rows.csv" --refractory -1

# constant series, chosen columns by name and by index: nothing to report
expect_rc 0 "0 events in 500 points" -- anomalies --input "$T/const.csv" --time-col when --value-col cpu
expect_rc 0 "0 events in 500 points" -- anomalies --input "$T/const.csv" --time-col 0 --value-col 1 --season 1

# a real NAB file, when present
NYC="$SHARED/data/nab/data/realKnownCause/nyc_taxi.csv"
if [ -n "$SHARED" ] && [ -f "$NYC" ]; then
  expect_rc 0 "in 10320 points" -- anomalies --input "$NYC"
  grep -q "season 336 points" "$T/out" || die "nyc_taxi: weekly season not found: $(tail -1 "$T/out")"
  grep -q "^2015-01-01T" "$T/out" || die "nyc_taxi: New Year not flagged"
else
  echo "skipped NAB part: no $NYC"
fi
finish cli_anomalies

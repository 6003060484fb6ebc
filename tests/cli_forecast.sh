#!/usr/bin/env bash
# End-to-end: ahead forecast on good and bad input; exit codes and messages.
set -u
. "$(dirname "$0")/lib.sh"

# a daily-seasonal series, hourly, with a gap and a missing value
python3 - "$T/good.csv" <<'PY'
import sys, math
with open(sys.argv[1], "w") as f:
    f.write("timestamp,host,value\n")
    for i in range(24 * 30):
        if 100 <= i < 103: continue          # gap
        v = "" if i == 200 else "%.4f" % (50 + 20 * math.sin(2 * math.pi * i / 24))
        f.write("%d,web1,%s\n" % (1400000000 + 3600 * i, v))
PY

"$BIN" forecast --help >"$T/out" 2>&1; check_rc help 0 $?
has help-text "$T/out" "usage: ahead forecast"

"$BIN" forecast --input "$T/good.csv" --horizon 24 >"$T/out" 2>&1; check_rc table 0 $?
has table-model "$T/out" "model:"
has table-season "$T/out" "season 24"
has table-gap "$T/out" "1 gaps (3 points filled)"
has table-chosen "$T/out" "<- chosen"
[ "$(grep -c '^20[0-9-]*T' "$T/out")" = 24 ] && ok || bad table-rows

"$BIN" forecast --input "$T/good.csv" --horizon 3 --quantiles 0.9,0.1 -o json >"$T/out" 2>&1; check_rc json 0 $?
python3 - "$T/out" <<'PY' && pass=$((pass+1)) || fail=$((fail+1))
import json, sys
d = json.load(open(sys.argv[1]))
assert d["season"] == 24 and len(d["forecast"]) == 3, d
r = d["forecast"][0]
assert r["quantiles"]["0.1"] <= r["point"] <= r["quantiles"]["0.9"], r
assert "mase" in d["error"] and len(d["candidates"]) >= 5
print("ok   json-content")
PY

"$BIN" forecast --input "$T/good.csv" --horizon 2 -o csv >"$T/out" 2>&1; check_rc csv 0 $?
has csv-header "$T/out" "^time,point,q0.5,q0.9,q0.99$"
"$BIN" forecast --input "$T/good.csv" --value-col 2 --time-col timestamp --model naive --horizon 1 >"$T/out" 2>&1
check_rc columns-and-model 0 $?
has forced-model "$T/out" "model:    naive"

# bad command lines -> 2, naming the option
"$BIN" forecast >"$T/out" 2>&1; check_rc no-input 2 $?
has no-input-msg "$T/out" "\-\-input FILE.csv is required"
"$BIN" forecast --input "$T/good.csv" --horizon 0 >"$T/out" 2>&1; check_rc horizon-0 2 $?
has horizon-msg "$T/out" "\-\-horizon: '0'"
"$BIN" forecast --input "$T/good.csv" --horizon 12x >"$T/out" 2>&1; check_rc horizon-junk 2 $?
"$BIN" forecast --input "$T/good.csv" --quantiles 0.5,1.5 >"$T/out" 2>&1; check_rc quantile-range 2 $?
has quantile-msg "$T/out" "\-\-quantiles"
"$BIN" forecast --input "$T/good.csv" --quantiles >"$T/out" 2>&1; check_rc quantile-missing 2 $?
"$BIN" forecast --input "$T/good.csv" -o xml >"$T/out" 2>&1; check_rc output-format 2 $?
has output-msg "$T/out" "\-o: unknown output format"
"$BIN" forecast --input "$T/good.csv" --bogus >"$T/out" 2>&1; check_rc unknown-opt 2 $?
has unknown-msg "$T/out" "unknown option '--bogus'"
"$BIN" forecast --input "$T/good.csv" --model prophet >"$T/out" 2>&1; check_rc unknown-model 2 $?
has model-msg "$T/out" "\-\-model: no candidate named 'prophet'"
"$BIN" forecast --input "$T/good.csv" --duplicates maybe >"$T/out" 2>&1; check_rc dups-bad 2 $?

# bad files -> 2 with FILE:LINE
"$BIN" forecast --input "$T/missing.csv" >"$T/out" 2>&1; check_rc no-file 2 $?
has no-file-msg "$T/out" "cannot open"
: >"$T/empty.csv"
"$BIN" forecast --input "$T/empty.csv" >"$T/out" 2>&1; check_rc empty 2 $?
has empty-msg "$T/out" "empty file"
printf 'timestamp,value\n0,1\n60,2\n60,3\n' >"$T/dup.csv"
"$BIN" forecast --input "$T/dup.csv" >"$T/out" 2>&1; check_rc dup 2 $?
has dup-msg "$T/out" "dup.csv:4: duplicate timestamp"
printf 'timestamp,value\n0,1\n120,2\n60,3\n' >"$T/back.csv"
"$BIN" forecast --input "$T/back.csv" >"$T/out" 2>&1; check_rc backwards 2 $?
has back-msg "$T/out" "back.csv:4: timestamp goes backwards"
printf 'timestamp,value\n0,1\n60,abc\n' >"$T/txt.csv"
"$BIN" forecast --input "$T/txt.csv" >"$T/out" 2>&1; check_rc not-number 2 $?
has txt-msg "$T/out" "txt.csv:3: column 1: not a number"
printf 'timestamp,cpu\n0,1\n60,2\n' >"$T/col.csv"
"$BIN" forecast --input "$T/col.csv" --value-col mem >"$T/out" 2>&1; check_rc wrong-col 2 $?
has col-msg "$T/out" "no value column 'mem'"
head -c 3000 /dev/urandom | tr -d '\n' >"$T/bin.csv"
printf '\0\n' >>"$T/bin.csv"
"$BIN" forecast --input "$T/bin.csv" >"$T/out" 2>&1; check_rc binary 2 $?
has bin-msg "$T/out" "bin.csv:1"
printf 'timestamp,value\n0,1\n60,2\n120,3\n' >"$T/short.csv"
"$BIN" forecast --input "$T/short.csv" >"$T/out" 2>&1; check_rc too-short 2 $?
has short-msg "$T/out" "at least 8 non-missing values"

# real data when present
NAB=${AHEAD_SHARED:-../shared}/data/nab/data/realKnownCause/nyc_taxi.csv
if [ -r "$NAB" ]; then
  "$BIN" forecast --input "$NAB" --horizon 48 -o csv >"$T/out" 2>&1; check_rc nab 0 $?
else
  echo "skip nab: $NAB not present"
fi
finish cli_forecast

#!/usr/bin/env bash
# ahead shadow end to end: help, strict validation and exit codes, import
# (wide, long, export format), query (table/json/csv, steps), export round
# trip, ls, compact with hand-checked tier counts, and the sibling path.
set -euo pipefail
. "$(dirname "$0")/lib.sh"


DB=(--db "$T/ahead.db")

# 600 samples 5 s apart from 1700000000 (aligned to 10 s), value i % 60.
awk 'BEGIN { print "timestamp,value"; for (i = 0; i < 600; i++) printf "%d,%d\n", 1700000000 + i * 5, i % 60 }' >"$T/w.csv"

# help
expect_rc 0 "usage: ahead shadow COMMAND" -- shadow --help
expect_rc 2 "usage: ahead shadow COMMAND" -- shadow
for sub in import query export ls compact; do
  expect_rc 0 "usage: ahead shadow $sub" -- shadow "$sub" --help
done
expect_rc 2 "unknown command 'frob'" -- shadow frob

# validation
expect_rc 2 "--input FILE is required" -- shadow import "${DB[@]}" --workload w --dim cpu
expect_rc 2 "--workload W is required" -- shadow import "${DB[@]}" --dim cpu --input "$T/w.csv"
expect_rc 2 "--dim D is required" -- shadow query "${DB[@]}" --workload w
expect_rc 2 "unknown option '--bogus'" -- shadow query "${DB[@]}" --workload w --dim cpu --bogus
expect_rc 2 "unknown option '--long'" -- shadow query "${DB[@]}" --workload w --dim cpu --long
expect_rc 2 "--from needs a value" -- shadow query "${DB[@]}" --workload w --dim cpu --from
expect_rc 2 "--dim given twice" -- shadow query "${DB[@]}" --workload w --dim cpu --dim io
expect_rc 2 "--workload: longer than 127 bytes" -- shadow query "${DB[@]}" --workload "$(printf 'a%.0s' $(seq 128))" --dim cpu
expect_rc 2 "--workload: must be" -- shadow query "${DB[@]}" --workload "a b" --dim cpu
expect_rc 2 "--dim: 'CPU' must match" -- shadow query "${DB[@]}" --workload w --dim CPU
expect_rc 2 "--from: 'yesterday'" -- shadow query "${DB[@]}" --workload w --dim cpu --from yesterday
expect_rc 2 "--from must not be after --to" -- shadow query "${DB[@]}" --workload w --dim cpu --from 20 --to 10
expect_rc 2 "--step: '0s'" -- shadow query "${DB[@]}" --workload w --dim cpu --step 0s
expect_rc 2 "--step: '5parsecs'" -- shadow query "${DB[@]}" --workload w --dim cpu --step 5parsecs
expect_rc 2 "-o: unknown output format 'xml'" -- shadow query "${DB[@]}" --workload w --dim cpu -o xml
expect_rc 2 "--granularity: '2d'" -- shadow import "${DB[@]}" --workload w --dim cpu --input "$T/w.csv" --granularity 2d
expect_rc 2 "--granularity: '500us'" -- shadow import "${DB[@]}" --workload w --dim cpu --input "$T/w.csv" --granularity 500us
expect_rc 2 "cannot open" -- shadow import "${DB[@]}" --workload w --dim cpu --input "$T/nope.csv"
expect_rc 5 "no shadow store at '$T/ahead-shadow.db'" -- shadow query "${DB[@]}" --workload web --dim cpu
expect_rc 5 "no shadow store" -- shadow ls "${DB[@]}"
[ ! -e "$T/ahead-shadow.db" ] || die "a reading command created the store"

# import and query
expect_rc 0 "imported 600 samples into web/cpu" -- shadow import "${DB[@]}" --workload web --dim cpu --input "$T/w.csv" --granularity 10s
[ -f "$T/ahead-shadow.db" ] || die "shadow store is not the ledger's sibling"
[ ! -e "$T/ahead.db" ] || die "shadow touched the ledger database"
expect_rc 2 "exists with another granularity" -- shadow import "${DB[@]}" --workload web --dim cpu --input "$T/w.csv" --granularity 1m
expect_rc 5 "no series web/io" -- shadow query "${DB[@]}" --workload web --dim io
expect_rc 0 "" -- shadow query "${DB[@]}" --workload web --dim cpu -o csv
[ "$(wc -l <"$T/out")" = 301 ] || die "raw query: want 300 points + header, got $(wc -l <"$T/out")"
# each 10 s bucket holds two samples: (0,1) -> mean 0.5 max 1 count 2
sed -n 2p "$T/out" | grep -qx "2023-11-14T22:13:20Z,0.5,1,2" || die "first point: $(sed -n 2p "$T/out")"
# a 5-minute step from an aligned start: 60 samples = values 0..59, mean 29.5
expect_rc 0 "" -- shadow query "${DB[@]}" --workload web --dim cpu --from 2023-11-14T22:15:00Z --to 2023-11-14T22:20:00Z --step 5m -o csv
[ "$(sed -n 2p "$T/out")" = "2023-11-14T22:15:00Z,29.5,59,60" ] || die "5m step: $(cat "$T/out")"
[ "$(wc -l <"$T/out")" = 2 ] || die "5m step: one bucket expected"
expect_rc 0 '"count":2' -- shadow query "${DB[@]}" --workload web --dim cpu --to 1700000020 -o json
grep -qF '"granularity_s": 10,' "$T/out" || die "json header"
[ "$(grep -c '"time"' "$T/out")" = 2 ] || die "json: two points expected in [start, +20s)"
if command -v python3 >/dev/null; then python3 -m json.tool "$T/out" >/dev/null || die "query json is not valid JSON"; fi
expect_rc 0 "TIME" -- shadow query "${DB[@]}" --workload web --dim cpu --step 1h
grep -q "2023-11-14T22:00:00.000Z" "$T/out" || die "table output"

# export -> import into another series: identical
expect_rc 0 "" -- shadow export "${DB[@]}" --workload web --dim cpu --file "$T/e.csv"
head -1 "$T/e.csv" | grep -qx "time,value,max,count" || die "export header"
expect_rc 0 "imported 300 points into copy/cpu" -- shadow import "${DB[@]}" --workload copy --dim cpu --input "$T/e.csv" --granularity 10s
expect_rc 0 "" -- shadow export "${DB[@]}" --workload copy --dim cpu
cmp -s "$T/out" "$T/e.csv" || die "export/import round trip differs"

# bad input files name the line; nothing is written
printf 'time,value,max,count\n2024-01-01T00:00:00Z,1,1,1\n2024-01-01T00:00:01Z,2,1,1\n' >"$T/bad1.csv"
expect_rc 2 "bad1.csv:3: max: smaller than value" -- shadow import "${DB[@]}" --workload bad --dim cpu --input "$T/bad1.csv"
printf 'timestamp,value\n2024-01-01T00:00:00Z,1\n2024-01-01T00:00:01Z,abc\n' >"$T/bad2.csv"
expect_rc 2 "bad2.csv:3" -- shadow import "${DB[@]}" --workload bad --dim cpu --input "$T/bad2.csv"
printf 'time,workload,dim,value\n2024-01-01T00:00:00Z,a,cpu,1\n2024-01-01T00:00:01Z,a,Cpu,1\n' >"$T/bad3.csv"
expect_rc 2 "bad3.csv:3: dim: 'Cpu'" -- shadow import "${DB[@]}" --long --input "$T/bad3.csv"
printf 'time,workload,dim,value\n2024-01-01T00:00:00Z,a,cpu,inf\n' >"$T/bad4.csv"
expect_rc 2 "bad4.csv:2: value: 'inf' is not a finite number" -- shadow import "${DB[@]}" --long --input "$T/bad4.csv"
printf 'time,workload,dim,value\nnoon,a,cpu,1\n' >"$T/bad5.csv"
expect_rc 2 "bad5.csv:2: time: 'noon'" -- shadow import "${DB[@]}" --long --input "$T/bad5.csv"
printf 'time,workload,value\n' >"$T/bad6.csv"
expect_rc 2 "--long expects the header" -- shadow import "${DB[@]}" --long --input "$T/bad6.csv"
expect_rc 2 "--workload cannot be used with --long" -- shadow import "${DB[@]}" --long --workload a --input "$T/bad6.csv"
expect_rc 0 "" -- shadow ls "${DB[@]}" -o csv
grep -q "^bad," "$T/out" && die "a failed import left a series behind"
grep -q "^a,cpu" "$T/out" && die "a failed long import left a series behind"

# long format, several series; missing values skipped and counted
{
  echo "time,workload,dim,value"
  for i in $(seq 0 119); do
    echo "$((1700000000 + i * 60)),db,cpu,$i"
    echo "$((1700000000 + i * 60)),db,memory,$((i * 1024))"
  done
  echo "1700007200,db,cpu,NaN"
} >"$T/long.csv"
expect_rc 0 "imported 240 samples into 2 series (1 missing values skipped)" -- shadow import "${DB[@]}" --long --input "$T/long.csv" --granularity 1m

# ls
expect_rc 0 "" -- shadow ls "${DB[@]}" -o csv
grep -qx "web,cpu,10,300,600,2023-11-14T22:13:20.000Z,2023-11-14T23:03:10.000Z" "$T/out" || die "ls web: $(cat "$T/out")"
grep -qx "db,memory,60,120,120,2023-11-14T22:13:00.000Z,2023-11-15T00:12:00.000Z" "$T/out" || die "ls db: $(cat "$T/out")"
expect_rc 0 '"granularity_s": 10' -- shadow ls "${DB[@]}" -o json
expect_rc 0 "WORKLOAD" -- shadow ls "${DB[@]}"

# compact at 2 days after the data: web's 300 raw points roll into 1-minute
# points (6 samples each, 50 minutes); db's 1-minute series already is tier 1.
expect_rc 2 "--now: 'later'" -- shadow compact "${DB[@]}" --now later
expect_rc 2 "--keep-raw" -- shadow compact "${DB[@]}" --keep-raw 1x
expect_rc 0 '"points_rolled": 600' -- shadow compact "${DB[@]}" --now 2023-11-16T23:59:00Z -o json
# web 300 + copy 300 raw points rolled; per tier: raw 0, 1m 51+51+120+120
# (22:13:20 .. 23:03:15 touches 51 minutes)
grep -qF '"1m": 342' "$T/out" || die "compact tiers: $(cat "$T/out")"
expect_rc 0 "" -- shadow query "${DB[@]}" --workload web --dim cpu --from 2023-11-14T22:15:00Z --to 2023-11-14T22:16:00Z -o csv
[ "$(sed -n 2p "$T/out")" = "2023-11-14T22:15:00Z,25.5,31,12" ] || die "rolled minute: $(cat "$T/out")"
# a year and a half later everything has expired: the 342 minutes roll into
# hours (2 + 2 + 3 + 3), which are then deleted
expect_rc 0 "rolled 342 points into coarser tiers, deleted 10 expired points" -- shadow compact "${DB[@]}" --now 2025-06-01T00:00:00Z
expect_rc 0 "" -- shadow ls "${DB[@]}" -o csv
grep -q "^web,cpu,10,0,0,," "$T/out" || die "after expiry: $(cat "$T/out")"

# --shadow-db overrides; AHEAD_DB derives the sibling
expect_rc 0 "imported 600" -- shadow import --shadow-db "$T/other.db" --workload web --dim cpu --input "$T/w.csv"
[ -f "$T/other.db" ] || die "--shadow-db not used"
AHEAD_DB="$T/env.db" expect_rc 0 "imported 600" -- shadow import --workload web --dim cpu --input "$T/w.csv"
[ -f "$T/env-shadow.db" ] || die "AHEAD_DB sibling not used"

# request records: add, end, list, filter
R=(--db "$T/req.db")
expect_rc 0 "usage: ahead shadow record" -- shadow record --help
expect_rc 0 "usage: ahead shadow requests" -- shadow requests --help
expect_rc 0 "1" -- shadow record "${R[@]}" --workload train --start 2024-01-01T00:00:00Z --params "size=large,epochs=3" --predicted cpu=1500,memory=2e9
expect_rc 0 "2" -- shadow record "${R[@]}" --workload train --start 2024-01-02T00:00:00Z --params size=small --predicted cpu=500
expect_rc 0 "1" -- shadow record "${R[@]}" --id 1 --end 2024-01-01T01:00:00Z --peak cpu=1800,memory=1.5e9 --mean cpu=900
expect_rc 2 "request 1 has already ended" -- shadow record "${R[@]}" --id 1 --end 2024-01-01T02:00:00Z
expect_rc 5 "no request 9" -- shadow record "${R[@]}" --id 9 --end 2024-01-01T02:00:00Z
expect_rc 2 "--end is before the request's start" -- shadow record "${R[@]}" --id 2 --end 2023-01-01T00:00:00Z
expect_rc 2 "--end T is required with --id" -- shadow record "${R[@]}" --id 2
expect_rc 2 "--workload cannot be used with --id" -- shadow record "${R[@]}" --id 2 --workload x --end 2024-02-01
expect_rc 2 "--start T is required" -- shadow record "${R[@]}" --workload train
expect_rc 2 "--params: a: given twice" -- shadow record "${R[@]}" --workload train --start 2024-01-01 --params a=1,a=2
expect_rc 2 "--predicted: cpu: 'x' is not a finite number" -- shadow record "${R[@]}" --workload train --start 2024-01-01 --predicted cpu=x
expect_rc 2 "--peak: 'CPU' is not a dimension name" -- shadow record "${R[@]}" --workload train --start 2024-01-01 --peak CPU=1
expect_rc 2 "--param: 'size'" -- shadow requests "${R[@]}" --workload train --param size
expect_rc 2 "--limit" -- shadow requests "${R[@]}" --workload train --limit 0
expect_rc 0 "" -- shadow requests "${R[@]}" --workload train -o csv
grep -qx "1,train,2024-01-01T00:00:00.000Z,2024-01-01T01:00:00.000Z,epochs=3;size=large,,cpu,1800,900,1500,0.2000,,,," "$T/out" || die "requests csv: $(cat "$T/out")"
grep -qx "1,train,2024-01-01T00:00:00.000Z,2024-01-01T01:00:00.000Z,epochs=3;size=large,,memory,1500000000,,2000000000,-0.2500,,,," "$T/out" || die "requests csv memory"
grep -qx "2,train,2024-01-02T00:00:00.000Z,,size=small,,cpu,,,500,,,,," "$T/out" || die "requests csv 2"
expect_rc 0 '"size": "large"' -- shadow requests "${R[@]}" --workload train --param size=large -o json
[ "$(grep -c '"id"' "$T/out")" = 1 ] || die "--param filter"
expect_rc 0 "size=small" -- shadow requests "${R[@]}" --workload train --limit 5
finish cli_shadow

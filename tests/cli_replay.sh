#!/usr/bin/env bash
# ahead replay end to end: help, strict validation and exit codes, a tiny
# plain trace with known numbers (table, JSON, CSV), a bad trace's
# FILE:LINE error, and the Bitbrains data when ../shared has it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"


cat >"$T/tiny.csv" <<'EOF'
time,workload,dim,used,requested
0,a,cpu,100,250
300,a,cpu,200,250
600,a,cpu,300,250
EOF

expect_rc 0 "usage: ahead replay" -- replay --help
expect_rc 2 "--trace is required" -- replay
expect_rc 2 "unknown policy 'hpa'" -- replay --trace "$T/tiny.csv" --policy hpa
expect_rc 2 "given twice" -- replay --trace "$T/tiny.csv" --policy vpa,vpa
expect_rc 2 "--format: expected bitbrains or plain" -- replay --trace "$T/tiny.csv" --format json
expect_rc 2 "--dim: unknown dimension 'gpu' (expected cpu, memory or all)" -- replay --trace "$T/tiny.csv" --dim gpu
expect_rc 2 "out of range" -- replay --trace "$T/tiny.csv" --quantile 1.5
expect_rc 2 "not a number" -- replay --trace "$T/tiny.csv" --quantile abc
expect_rc 2 "unknown dimension 'disk'" -- replay --trace "$T/tiny.csv" --quantile disk=0.9
expect_rc 2 "No such file" -- replay --trace "$T/missing.csv"
expect_rc 2 "unknown option '--frobnicate'" -- replay --trace "$T/tiny.csv" --frobnicate
expect_rc 2 "not a directory" -- replay --trace "$T/tiny.csv" --chart-dir "$T/nope"
expect_rc 2 "-o: use table or json" -- replay --trace "$T/tiny.csv" -o csv

# Known numbers: static reserves 250 m; slack 200/600, 1 violation in 3.
expect_rc 0 "static" -- replay --trace "$T/tiny.csv" --policy static --dim cpu --csv "$T/m.csv"
grep -Eq '^static +cpu +3 +0\.333 +33\.333' "$T/out" || die "table row: $(cat "$T/out")"
grep -q '^static,cpu,1,3,0.333333,33.3333,1,0.083333,0,' "$T/m.csv" || die "csv: $(cat "$T/m.csv")"
expect_rc 0 "" -- replay --trace "$T/tiny.csv" -o json --policy static,vpa
python3 - "$T/out" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
r = {(x["policy"], x["dim"]): x for x in d["results"]}
s = r[("static", "cpu")]
assert s["violations"] == 1 and abs(s["slack"] - 1/3) < 1e-6, s
assert s["worst"][0]["used"] == 300 and s["worst"][0]["reserved"] == 250, s
assert ("vpa", "cpu") in r and d["samples"] == 3
EOF

# A bad trace: the error names the file and line; usage exit code.
printf 'time,workload,dim,used\n0,a,cpu,5\n0,a,cpu,6\n' >"$T/dup.csv"
expect_rc 2 "dup.csv:3: workload a cpu: time 0 is not after" -- replay --trace "$T/dup.csv"
printf 'time,workload,dim,used\n0,a,cpu,-5\n' >"$T/neg.csv"
expect_rc 2 "neg.csv:2: used: negative value" -- replay --trace "$T/neg.csv"
expect_rc 2 "expected the Bitbrains header" -- replay --trace "$T/tiny.csv" --format bitbrains

# Replay in a policy file's pool: the engine queues what does not fit.
cat >"$T/small.ini" <<'EOF'
[ahead]
lease_ttl = 1h
queue_timeout = 1h
[pool small]
capacity = cpu=1, memory=1Gi
[class std]
priority = 10
quantile = 0.9
[tenant t]
EOF
cat >"$T/two.csv" <<'EOF'
time,workload,dim,used,requested
0,a,cpu,500,800
0,b,cpu,300,500
300,a,cpu,500,800
300,b,cpu,300,500
EOF
expect_rc 2 "--pool and --tenant need --config" -- replay --trace "$T/two.csv" --pool small
expect_rc 2 "pool 'big' is not defined" -- replay --trace "$T/two.csv" --config "$T/small.ini" --pool big
printf '[pool x]\ncapacity = cpu=lots\n' >"$T/bad.ini"
expect_rc 2 "bad.ini:2" -- replay --trace "$T/two.csv" --config "$T/bad.ini"
expect_rc 0 "" -- replay --trace "$T/two.csv" --config "$T/small.ini" --policy static --dim cpu -o json
python3 - "$T/out" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
assert r["engine"]["queued"] == 1 and r["violations"] == 2, r
PYEOF
# Several files are merged in time order: the same numbers as one file.
printf 'time,workload,dim,used,requested\n0,a,cpu,500,800\n300,a,cpu,500,800\n' >"$T/a.csv"
printf 'time,workload,dim,used,requested\n0,b,cpu,300,500\n300,b,cpu,300,500\n' >"$T/b.csv"
expect_rc 0 "" -- replay --trace "$T/a.csv" "$T/b.csv" --config "$T/small.ini" --policy static --dim cpu -o json
python3 - "$T/out" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
assert r["engine"]["queued"] == 1 and r["violations"] == 2, r
PYEOF

# Charts (gnuplot), when available.
if command -v gnuplot >/dev/null; then
  mkdir "$T/charts"
  expect_rc 0 "" -- replay --trace "$T/tiny.csv" --policy static,ahead --chart-dir "$T/charts"
  [ -s "$T/charts/replay_static.png" ] && [ -s "$T/charts/replay_ahead.png" ] || die "charts missing"
fi

# --- input units (--unit): values that a wrong unit turns into zeros are
# reported loudly; the right unit makes the same trace mean what it says
cat >"$T/pct.csv" <<'EOF'
time,workload,dim,used
0,w,cpu,0.3
2024-01-01T00:00:00Z,w,cpu,0.4
2024-01-01T00:05:00Z,w,cpu,0.2
2024-01-01T00:10:00Z,w,memory,0.25
EOF
out=$("$A" replay --trace "$T/pct.csv" --policy static -o json 2>"$T/err") || bad "pct replay"
grep -q "WARNING: .*pct.csv: 3 of 3 cpu values are below 1 millicore and were read as 0" "$T/err" && ok || bad "zero warning cpu: $(cat "$T/err")"
grep -q "WARNING: .*pct.csv: 1 of 1 memory values are below 1 byte" "$T/err" && ok || bad "zero warning memory"
"$A" replay --trace "$T/pct.csv" --policy static --unit percent --of 4 --unit GiB -o json >"$T/pct.json" 2>"$T/err" || bad "pct --unit"
[ ! -s "$T/err" ] && ok || bad "no warning with the right unit: $(cat "$T/err")"
cmp -s <(echo "$out") "$T/pct.json" && bad "the unit changed nothing" || ok
expect_rc 2 "--unit percent needs --of N" -- replay --trace "$T/pct.csv" --unit percent
expect_rc 2 "--of applies to --unit percent only" -- replay --trace "$T/pct.csv" --unit cores --of 2
expect_rc 2 "that kind of dimension already has a unit" -- replay --trace "$T/pct.csv" --unit cores --unit millicores
expect_rc 2 "expected one of cores" -- replay --trace "$T/pct.csv" --unit furlong
expect_rc 2 "bitbrains traces state their units" -- replay --trace "$T/pct.csv" --format bitbrains --unit cores

# Resizes paid for and ahead's resize economy from the command line: a
# budget and a dwell cut ahead's resizes; a resize cost adds resizes x cost
# to every policy's cost; the kill level moves with the hard margin.
"$A" replay --generate 6 --days 3 --policy vpa,ahead -o json >"$T/e0.json" || bad "economy base"
"$A" replay --generate 6 --days 3 --policy vpa,ahead --resizes-per-day 2 --min-dwell 6h \
  --resize-cost cpu=0.5,memory=0.25 --hard-margin memory=0 -o json >"$T/e1.json" || bad "economy flags"
python3 - "$T/e0.json" "$T/e1.json" <<'EOF2' && ok || bad "resize economy flags"
import json, sys
a, b = ({(x["policy"], x["dim"]): x for x in json.load(open(f))["results"]} for f in sys.argv[1:])
for k, x in a.items():
    for f in ("resizes_per_workload_hour", "kill_violation_pct", "hard_commit", "resize_cost_usd"):
        assert f in x, f
    assert x["resize_cost_usd"] == 0, x
cost = {"cpu": 0.5, "memory": 0.25}
for k, y in b.items():
    assert abs(y["resize_cost_usd"] - y["resizes"] * cost[k[1]]) < 1e-9, (k, y)
# the budget (2 shrinks a day) and dwell cut ahead's resizes; vpa's do not change
for d in ("cpu", "memory"):
    assert b[("ahead", d)]["resizes"] < a[("ahead", d)]["resizes"], d
    assert b[("vpa", d)]["resizes"] == a[("vpa", d)]["resizes"], d
    # shrinks wait for the budget and the dwell; grows still go at once
    assert b[("ahead", d)]["resizes_per_workload_hour"] * 5 < a[("ahead", d)]["resizes_per_workload_hour"], d
# hard margin 0: the hard level is max(reservation, 48 h peak), at most as high as at 0.25
assert b[("ahead", "memory")]["hard_commit"] < a[("ahead", "memory")]["hard_commit"]
EOF2
# the peak cap lowers ahead's memory reservations (at most the 48 h peak) and
# leaves its cpu and the other policies alone
"$A" replay --generate 6 --days 3 --policy vpa,ahead --peak-cap memory=0 -o json >"$T/e2.json" || bad "peak cap"
python3 - "$T/e0.json" "$T/e2.json" <<'EOF2' && ok || bad "peak cap flag"
import json, sys
a, b = ({(x["policy"], x["dim"]): x for x in json.load(open(f))["results"]} for f in sys.argv[1:])
assert b[("ahead", "memory")]["slack"] < a[("ahead", "memory")]["slack"], (a, b)
assert b[("ahead", "cpu")] == a[("ahead", "cpu")]
assert b[("vpa", "memory")] == a[("vpa", "memory")]
EOF2
expect_rc 2 "out of range" -- replay --generate 2 --resizes-per-day 5000
expect_rc 2 "out of range" -- replay --generate 2 --peak-cap memory=11
expect_rc 2 "not a number" -- replay --generate 2 --hard-margin memory=x
expect_rc 2 "unknown dimension" -- replay --generate 2 --resize-cost disk=1

# Real data: the 50 Bitbrains VMs, all policies.
BB="$SHARED/data/bitbrains_rnd/rnd/2013-7"
if [ -n "$SHARED" ] && [ -d "$BB" ]; then
  expect_rc 0 "" -- replay --trace "$BB" --format bitbrains -o json
  python3 - "$T/out" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["traces"] == 50, d["traces"]
r = {(x["policy"], x["dim"]): x for x in d["results"]}
assert len(r) == 10
for dim in ("cpu", "memory"):
    assert r[("static", dim)]["workloads"] == 50
    # static reserves the provisioned size: the most slack of all
    assert r[("static", dim)]["slack"] == max(x["slack"] for (p, dd), x in r.items() if dd == dim)
EOF
else
  echo "SKIP: Bitbrains data not found under \$AHEAD_SHARED"
fi
finish cli_replay

#!/usr/bin/env bash
# The CLI's one option layer (src/cli/opts.c), through several commands:
# --help (exit 0, usage on stdout), an unknown option, a missing value, a
# value given twice, bad durations/times/formats/ids/numbers, and too many or
# too few positional arguments — each exit 2 with a message naming the
# option and pointing at `ahead CMD --help`. None of these touches a ledger.
set -u
. "$(dirname "$0")/lib.sh"
export AHEAD_DB=$T/none.db
printf 'timestamp,value\n0,1\n' >"$T/s.csv"

# --help and -h: usage on stdout, nothing on stderr, exit 0, for every command
for c in policy pool alloc release renew tick report ls events forecast anomalies replay scale backup restore \
         "shadow import" "shadow query" "shadow export" "shadow ls" "shadow compact" "shadow record" \
         "shadow requests"; do
  for h in --help -h; do
    # shellcheck disable=SC2086
    out=$("$A" $c $h 2>"$T/err"); rc=$?
    ok "$c $h exit 0" '[ $rc -eq 0 ]'
    ok "$c $h usage on stdout" 'grep -q "^usage: ahead ${c%% *}" <<<"$out"'
    ok "$c $h quiet stderr" '[ ! -s "$T/err" ]'
  done
done
# help wins over the options after it being incomplete, not over errors before it
check "help after options" 0 "usage: ahead alloc" -- "$A" alloc -t x --help
check "error before help" 2 "unknown option '--bogus'" -- "$A" alloc --bogus --help

# unknown options: named, exit 2, pointing at the command's help
check "unknown long" 2 "ahead ls: unknown option '--frob' \(usage: ahead ls --help\)" -- "$A" ls --frob
check "unknown long with value" 2 "unknown option '--frob'" -- "$A" ls --frob=3
check "unknown short" 2 "ahead release: unknown option '-x'" -- "$A" release -x 1
check "unknown in forecast" 2 "ahead forecast: unknown option '--bogus' \(usage: ahead forecast --help\)" -- "$A" forecast --bogus
check "unknown in shadow" 2 "ahead shadow query: unknown option '--long' \(usage: ahead shadow query --help\)" -- "$A" shadow query --long
check "unknown in replay" 2 "unknown option '--frobnicate'" -- "$A" replay --frobnicate
check "flag takes no value" 2 "--dry-run takes no value" -- "$A" scale --dry-run=yes

# missing values
check "missing value, long" 2 "ahead alloc: --tenant needs a value" -- "$A" alloc --tenant
check "missing value, short names long" 2 "ahead alloc: --lease needs a value \(DURATION\)" -- "$A" alloc -l
check "missing -o lists formats" 2 "-o needs a value \(table, json or csv\)" -- "$A" events -o
check "missing -o, table/json only" 2 "-o needs a value \(table or json\)" -- "$A" scale -o
check "missing choice lists choices" 2 "--duplicates needs a value \(error, last or mean\)" -- "$A" forecast --input "$T/s.csv" --duplicates
check "empty value counts as missing" 2 "--input needs a value" -- "$A" anomalies --input ""
check "empty shadow value" 2 "--workload needs a value" -- "$A" shadow query --workload "" --dim cpu

# given twice: an error where the command says so (shadow), last wins elsewhere
check "twice in shadow" 2 '"error":\{"code":"usage","message":"-o given twice'  -- "$A" shadow ls -o json --output csv
check "twice flag in shadow" 2 "--long given twice" -- "$A" shadow import --long --long --input "$T/s.csv"
check "twice elsewhere: last wins" 0 "usage: ahead policy" -- "$A" policy -o json -o table --help

# bad values, by kind
check "bad duration" 2 "--lease: 'forever' is not a duration" -- "$A" alloc -t a -p p -r cpu=1 -l forever
check "duration below range" 2 "--lease: '0s' is less than 1ns" -- "$A" renew 1 --lease 0s
check "duration out of range" 2 "--granularity: '2d' is out of range \(1ms..1d\)" -- "$A" shadow import --workload w --dim cpu --input "$T/s.csv" --granularity 2d
check "duration, shadow grammar" 2 "--step: '5parsecs' is not a duration" -- "$A" shadow query --workload w --dim cpu --step 5parsecs
check "bad time" 2 "--from: 'yesterday' is not an ISO 8601 time" -- "$A" shadow query --workload w --dim cpu --from yesterday
check "time out of range" 2 "--now: '9999999999999' is out of range" -- "$A" shadow compact --now 9999999999999
check "bad format" 2 "-o: unknown output format 'yaml' \(expected table, json, csv or wide\)" -- "$A" ls -o yaml
check "format not offered" 2 "-o: use table or json \(csv is not supported here\)" -- "$A" report 1 --usage cpu=1 -o csv
check "format by its long name" 2 "-o: unknown output format 'xml'" -- "$A" shadow ls --output xml
check "bad id option" 2 "--id: 'x' is not a positive integer id" -- "$A" events --id x
check "bad id argument" 2 "ID: '0' is not a positive integer id" -- "$A" release 0
check "bad integer" 2 "--limit: '0' is not an integer in 1..10000000" -- "$A" events --limit 0
check "since: neither a sequence number nor a duration" 2 "--since: .-1. is neither a sequence number nor a duration" -- "$A" events --since -1
check "bad number" 2 "--threshold: 'abc' is not a number" -- "$A" anomalies --input "$T/s.csv" --threshold abc
check "number out of range" 2 "--hpa-target: '2' is out of range \[0.01, 1\]" -- "$A" replay --hpa-target 2
check "whole number" 2 "--step: '1.5' is not a whole number" -- "$A" replay --step 1.5
check "bad choice" 2 "--duplicates: unknown policy 'first' \(expected error, last or mean\)" -- "$A" anomalies --input "$T/s.csv" --duplicates first
check "repeatable value checked" 2 "--param: 'novalue' is not KEY=VALUE" -- "$A" alloc -t a -p p -r cpu=1 -P a=1 -P novalue

# positional arguments
check "too few" 2 "ahead renew: missing ID \(usage: ahead renew --help\)" -- "$A" renew
check "too many" 2 "ahead report: unexpected argument '2'" -- "$A" report 1 2 --usage cpu=1
check "none allowed" 2 "ahead tick: unexpected argument 'now'" -- "$A" tick now
check "none allowed (forecast)" 2 "ahead forecast: unexpected argument 'x.csv'" -- "$A" forecast x.csv
check "after --" 2 "unexpected argument '--db'" -- "$A" ls -- --db
check "missing FILE" 2 "ahead backup: missing FILE" -- "$A" backup
check "pool action" 2 "ahead pool: missing action" -- "$A" pool
# options and arguments in any order; --name=value; unambiguous abbreviations
check "option after argument" 2 "--lease: 'x' is not a duration" -- "$A" renew 1 --lease x
check "--name=value" 2 "--lease: 'x' is not a duration" -- "$A" renew 1 --lease=x
check "abbreviation" 2 "--lease: 'x' is not a duration" -- "$A" renew 1 --lea x
# --trace takes the paths after it, up to the next option
check "greedy values" 2 "--trace: $T/b.csv: No such file" -- "$A" replay --trace "$T/s.csv" "$T/b.csv" --policy static
ok "no ledger created" '[ ! -e "$T/none.db" ]'
finish cli_options

#!/usr/bin/env bash
# Outside text is validated at the door (names.h: UTF-8 without control
# characters, within the caps of limits.h): invalid UTF-8, control
# characters and over-long values through every entry point that writes to
# the ledger or the history are refused with a message naming the field,
# and nothing is stored.
set -u
. "$(dirname "$0")/lib.sh"
export AHEAD_DB=$T/ledger.db
printf '[pool p]\ncapacity = cpu=8,memory=8Gi\n[class c]\npriority = 1\nquantile = 0.9\n[tenant t]\nquota = cpu=8\n' >"$T/ok.ini"
check "policy" 0 "" -- "$A" policy apply "$T/ok.ini"
check "a good alloc" 0 "" -- "$A" alloc -t t -p p -c c -r cpu=1 -P k=ok
allocs() { "$A" ls -o csv 2>/dev/null | wc -l; }
base=$(allocs)
long=$(head -c 200 /dev/zero | tr '\0' v)

# alloc --param
for v in $'\xff' $'a\xc3' $'\xc0\xaf' $'\xed\xa0\x80' $'a\x01b' $'a\x7fb' $'\xc2\x85' "$long"; do
  check "alloc --param $(printf %q "$v")" 2 "--param|param" -- "$A" alloc -t t -p p -c c -r cpu=1 -P "k=$v"
done
check "alloc nothing stored" 0 "" -- true
ok "alloc rows unchanged" '[ "$(allocs)" = "$base" ]'
check "alloc UTF-8 text is fine" 0 "" -- "$A" alloc -t t -p p -c c -r cpu=1 -P "k=café ☕"
ok "the UTF-8 row is listed" '"$A" ls -o json | grep -q "caf"'

# shadow record --params
R=(--db "$T/ledger.db")
nreq() { "$A" shadow requests "${R[@]}" --workload w -o csv 2>/dev/null | wc -l; }
check "record ok" 0 "" -- "$A" shadow record "${R[@]}" --workload w --start 2024-01-01T00:00:00Z --params k=ok
rbase=$(nreq)
for v in $'\xff' $'a\x01b' $'\xed\xa0\x80' "$long"; do
  check "record --params $(printf %q "$v")" 2 "params|'k'" -- \
    "$A" shadow record "${R[@]}" --workload w --start 2024-01-02T00:00:00Z --params "k=$v"
done
check "record --params names the UTF-8 fault" 2 "not valid UTF-8" -- \
  "$A" shadow record "${R[@]}" --workload w --start 2024-01-02T00:00:00Z --params $'k=\xff'
check "record --params names the control fault" 2 "control character" -- \
  "$A" shadow record "${R[@]}" --workload w --start 2024-01-02T00:00:00Z --params $'k=a\tb'
check "record --workload" 2 "workload" -- \
  "$A" shadow record "${R[@]}" --workload $'w\xff' --start 2024-01-02T00:00:00Z --params k=1
ok "no request stored" '[ "$(nreq)" = "$rbase" ]'

# shadow import --long: the workload column
series() { "$A" shadow ls "${R[@]}" -o csv 2>/dev/null | wc -l; }
sbase=$(series)
for w in $'w\xff' $'w\x01' $'w\xc3\xa9' "$(head -c 200 /dev/zero | tr '\0' w)"; do
  printf 'time,workload,dim,value\n0,ok,cpu,1\n60,%s,cpu,2\n' "$w" >"$T/long.csv"
  check "import --long workload $(printf %q "$w")" 2 "long.csv:3: .*workload|long.csv:3: binary" -- \
    "$A" shadow import "${R[@]}" --long --input "$T/long.csv"
done
ok "no series stored" '[ "$(series)" = "$sbase" ]'

# policy file names
for n in $'p\xff' $'p\x01x' $'caf\xc3\xa9' "$(head -c 100 /dev/zero | tr '\0' p)"; do
  printf '[pool %s]\ncapacity = cpu=8\n[class c]\npriority = 1\nquantile = 0.9\n' "$n" >"$T/bad.ini"
  check "policy pool name $(printf %q "$n")" 2 "bad.ini:1" -- "$A" policy apply "$T/bad.ini"
done
ok "policy unchanged" '"$A" policy show | grep -q "\[pool p\]"'
finish

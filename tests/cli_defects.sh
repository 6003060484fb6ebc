#!/usr/bin/env bash
# Small defects of issue 9 (item 7, besides input grammar), each checked
# here: policy files that are not regular files, read-only commands that
# created a ledger, a quota-bound grow reported as "no room", and empty
# --db / --class values taken as "not given".
set -u
. "$(dirname "$0")/lib.sh"
export AHEAD_DB=$T/ledger.db
cd "$T" || exit 1

# --- policy apply/check: a directory, a FIFO, nothing read as an empty policy ---
mkdir "$T/dir"
check "apply a directory" 2 "dir: is a directory, not a policy file" -- "$A" policy apply "$T/dir"
check "check a directory" 2 "dir: is a directory" -- "$A" policy check "$T/dir"
mkfifo "$T/fifo"
check "check a FIFO: refused, does not block" 2 "fifo: is a FIFO, not a policy file" -- timeout 10 "$A" policy check "$T/fifo"
check "apply a FIFO: refused, does not block" 2 "is a FIFO" -- timeout 10 "$A" policy apply "$T/fifo"
ok "apply of a directory made no ledger" '[ ! -e "$AHEAD_DB" ]'

# --- read-only commands never create a ledger ---
for c in "ls" "events" "pool ls" "policy show"; do
  # shellcheck disable=SC2086
  check "$c on a missing ledger" 5 "none.db: no such ledger" -- "$A" $c --db "$T/none.db"
  ok "$c created no ledger" '[ ! -e "$T/none.db" ] && [ ! -e "$T/none.db-wal" ] && [ ! -e "$T/none.db-journal" ]'
done
# a special file is no ledger (as root, --db /dev/null once made /dev/null-journal)
had_journal=no; [ -e /dev/null-journal ] && had_journal=yes
for c in "ls" "events" "pool ls" "policy show"; do
  # shellcheck disable=SC2086
  check "$c on a character device" 1 "not a ledger \(a character device" -- "$A" $c --db /dev/null
done
ok "no journal beside /dev/null" '[ $had_journal = yes ] || [ ! -e /dev/null-journal ]'

# --- empty option values are refused, never "not given" ---
expect_rc 0 "applied" -- policy apply "$SRC/examples/demo-policy.ini"
check "--db ''" 2 "--db needs a value" -- "$A" ls --db ''
check "--db= (empty)" 2 "--db needs a value" -- "$A" alloc -t alice -p edge -r cpu=1 --db=
check "-c ''" 2 "--class needs a value" -- "$A" alloc -t alice -p edge -r cpu=1 -c ''
check "--class= (empty)" 2 "--class needs a value" -- "$A" alloc -t alice -p edge -r cpu=1 --class=
"$A" ls | grep -q granted && bad "an empty option value allocated" || ok

# --- a grow the tenant's quota holds back says quota, not "no room" ---
printf '[ahead]\ndefault_class = std\nunknown_tenants = refuse\n[pool p]\ncapacity = cpu=8, memory=8Gi\nunit = cpu=500m\n[class std]\npriority = 1\nquantile = 0.9\n[tenant t]\nquota = cpu=2, memory=8Gi\n[tenant u]\nquota = cpu=8, memory=8Gi\n' > "$T/quota.ini"
export AHEAD_DB=$T/quota.db
expect_rc 0 "applied" -- policy apply "$T/quota.ini"
expect_rc 0 "granted  id=1" -- alloc -t t -p p -r cpu=2
check "quota-bound grow (table)" 0 "grow blocked \(tenant quota\)" -- "$A" report 1 --usage cpu=2
check "quota-bound grow (json)" 0 '"blocked_by": "quota"' -- "$A" report 1 --usage cpu=2 -o json
# the pool full: that is no room
expect_rc 0 "granted  id=2" -- alloc -t u -p p -r cpu=6
check "room-bound grow" 0 "grow blocked \(no room\)" -- "$A" report 2 --usage cpu=6
check "room-bound grow (json)" 0 '"blocked_by": "room"' -- "$A" report 2 --usage cpu=6 -o json

# --- events --since: a sequence number or a duration, and it says which ---
check "since digits: a sequence number" 0 "read as a sequence number \(events after 2" -- "$A" events --since 2
"$A" events --since 2 -o csv 2>/dev/null | cut -d, -f1 | tail -n +2 | awk '$1 <= 2 { bad = 1 } END { exit bad }' \
  && ok || bad "events --since 2 shows events up to sequence 2"
check "since a duration" 0 "read as a duration \(events since 20" -- "$A" events --since 10m
n=$("$A" events --since 10m -o csv 2>/dev/null | tail -n +2 | wc -l)
ok "the last 10 minutes hold this test's events ($n)" '[ "$n" -ge 3 ]'
check "since neither" 2 "neither a sequence number nor a duration" -- "$A" events --since 1.5x
finish cli_defects

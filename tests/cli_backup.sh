#!/usr/bin/env bash
# ahead backup / restore: a backup taken with live allocations restores
# exactly those rows; a garbage file or a missing ledger is refused and the
# ledger stays as it was.
set -u
. "$(dirname "$0")/lib.sh"
export AHEAD_DB=$T/ledger.db
printf '[ahead]\nlease_ttl = 1h\n[pool p]\ncapacity = cpu=8, memory=8Gi\n[class std]\npriority = 1\n[tenant t]\n' > "$T/p.ini"
check "apply" 0 "applied" -- "$A" policy apply "$T/p.ini"
for i in 1 2 3; do check "alloc $i" 0 "granted" -- "$A" alloc -t t -p p -r cpu=1,memory=1Gi; done
check "backup of a missing ledger" 5 "no such ledger" -- "$A" backup "$T/none.bak" --db "$T/none.db"
ok "no ledger created by it" '[ ! -e "$T/none.db" ]'
check "backup" 0 "backed up" -- "$A" backup "$T/b1.db"
before=$("$A" ls -o csv)
check "release after backup" 0 "released" -- "$A" release 2
check "alloc after backup" 0 "granted" -- "$A" alloc -t t -p p -r cpu=2
ok "ledger moved on" '[ "$("$A" ls -o csv)" != "$before" ]'
check "restore" 0 "restored" -- "$A" restore "$T/b1.db"
ok "restored rows equal the backup's" '[ "$("$A" ls -o csv)" = "$before" ]'
check "allocation after restore" 0 "granted  id=4" -- "$A" alloc -t t -p p -r cpu=1
snap=$("$A" ls -o csv)
head -c 5000 /dev/urandom > "$T/garbage.db"
check "garbage refused" 2 "" -- "$A" restore "$T/garbage.db"
check "missing backup refused" 5 "no such backup file" -- "$A" restore "$T/nope.db"
ok "ledger untouched by refused restores" '[ "$("$A" ls -o csv)" = "$snap" ]'
check "restore usage" 2 "missing FILE" -- "$A" restore
check "backup help" 0 "usage: ahead backup" -- "$A" backup --help
finish cli_backup

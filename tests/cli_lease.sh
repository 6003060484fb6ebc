#!/usr/bin/env bash
# Leases as users expect (issue 9, item 6): a usage report renews a lease
# but never shortens one a renew made longer; a renew the policy caps at
# max_lease_ttl says so, and by what, in the table and in JSON.
set -u
. "$(dirname "$0")/lib.sh"
export AHEAD_DB=$T/ledger.db
# lease 10m by default, at most 1h
sed 's/^lease_ttl = 10m/lease_ttl = 10m\nmax_lease_ttl = 1h/' "$SRC/examples/demo-policy.ini" > "$T/p.ini"
expect_rc 0 "applied" -- policy apply "$T/p.ini"
expect_rc 0 "granted  id=1" -- alloc -t alice -p edge -r cpu=1
expires() { "$A" ls -o json | sed -n 's/.*"lease_expires": "\(.*\)".*/\1/p' | head -1; }

# --- a renew within the cap: not capped ---
check "renew 50m" 0 "renewed  id=1" -- "$A" renew 1 --lease 50m
check "renew 50m not capped" 0 '"capped": false' -- "$A" renew 1 --lease 50m -o json
"$A" renew 1 --lease 50m | grep -q capped && bad "an uncapped renew says capped" || ok
long=$(expires)

# --- a report renews but never shortens the longer lease ---
check "report" 0 "reported id=1" -- "$A" report 1 --usage cpu=800m
after=$(expires)
ok "report kept the 50m lease ($long -> $after)" '[[ ! "$after" < "$long" ]]'
# and the lease the report printed is that one, not now + 10m
rep=$("$A" report 1 --usage cpu=800m -o json | sed -n 's/.*"lease_expires": "\([^"]*\)".*/\1/p')
ok "report answers the kept lease ($long vs $rep)" '[[ ! "$rep" < "$long" ]]'

# --- a shorter explicit renew is what was asked: reports then renew to 10m ---
check "renew 1m" 0 "renewed" -- "$A" renew 1 --lease 1m
short=$(expires)
check "report after a short renew" 0 "reported" -- "$A" report 1 --usage cpu=800m
ok "report extends a lease shorter than the allocation's" '[[ "$(expires)" > "$short" ]]'

# --- capped renews say so and by what ---
check "renew 2d capped (table)" 0 "capped: asked 2d, the policy's max_lease_ttl is 1h" -- "$A" renew 1 --lease 2d
check "renew 2d capped (json)" 0 '"capped":true,"capped_by":"max_lease_ttl"' -- bash -c "'$A' renew 1 --lease 2d -o json | tr -d ' \n'"
check "renew 2d gives 1h (json)" 0 '"lease_ttl_s": 3600' -- "$A" renew 1 --lease 2d -o json
check "renew 2d asked (json)" 0 '"asked_s": 172800' -- "$A" renew 1 --lease 2d -o json
finish cli_lease

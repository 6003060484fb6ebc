#!/usr/bin/env bash
# ahead anomalies --store keeps the detected events in the shadow store.
set -u
. "$(dirname "$0")/lib.sh"
{ echo "timestamp,value"; for i in $(seq 0 1999); do
    v=$(( 50 + (i % 12) )); [ "$i" -eq 1500 ] && v=900
    echo "$((1600000000 + i * 300)),$v"; done; } > "$T/s.csv"
out=$("$A" anomalies --input "$T/s.csv" --store web:cpu --db "$T/l.db" -o csv 2>"$T/err"); rc=$?
ok "exit 0" '[ $rc -eq 0 ]'
n_out=$(($(echo "$out" | wc -l) - 1))
ok "some events" '[ $n_out -ge 1 ]'
n_db=$(sqlite3 "$T/l-shadow.db" "select count(*) from anomaly where workload='web' and dim='cpu'")
ok "stored = printed ($n_db vs $n_out)" '[ "$n_db" = "$n_out" ]'
ok "says stored" 'grep -q "stored" "$T/err"'
"$A" anomalies --input "$T/s.csv" --store nocolon --db "$T/l.db" >/dev/null 2>"$T/err2"; rc=$?
ok "bad --store is a usage error" '[ $rc -eq 2 ] && grep -q "WORKLOAD:DIMENSION" "$T/err2"'
n_db2=$(sqlite3 "$T/l-shadow.db" "select count(*) from anomaly")
ok "bad --store stores nothing" '[ "$n_db2" = "$n_db" ]'
finish

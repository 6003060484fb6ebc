#!/usr/bin/env bash
# Outside bytes never vanish (issue 9, item 4): rows whose text is not valid
# UTF-8, holds control characters or is very long (old ledger rows, written
# here with sqlite3 behind ahead's back, and what the CLI itself accepts)
# still appear in every listing: ls (table, wide, json, csv), events (table,
# json, csv) and describe (table, json). JSON escapes them (U+FFFD for bytes
# that are not UTF-8), tables show \xNN instead of raw control bytes.
set -u
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || die "sqlite3 missing (scripts/install-deps.sh)"
export AHEAD_DB=$T/x.db
cat >"$T/p.ini" <<'EOP'
[ahead]
default_class = std
unknown_tenants = default
[tenant *]
[pool p]
capacity = cpu=4, memory=8Gi
[class std]
priority = 10
EOP
expect_rc 0 "applied" -- policy apply "$T/p.ini"
# New input is checked at the door (tests/cli_text.sh); rows an older
# version wrote may still hold such bytes, so they are written directly.
expect_rc 2 "UTF-8" -- alloc -t t -p p -r cpu=1 -P $'k=\xff'
expect_rc 0 "granted  id=1" -- alloc -t t -p p -r cpu=1 -P k=fine
expect_rc 0 "granted  id=2" -- alloc -t t -p p -r cpu=1 -P job=plain
expect_rc 4 "queued   id=3" -- alloc -t t -p p -r cpu=4 -q 1h -P job=waits
long=$(head -c 5000 /dev/zero | tr '\0' 'x')
sqlite3 "$AHEAD_DB" <<EOS || die "sqlite3 update"
UPDATE allocations SET params = CAST(X'6B3DFF' AS TEXT) WHERE id = 1;
UPDATE allocations SET params = 'bell=' || char(7) || 'esc' || char(27) || '[31m,nl=a' || char(10) || 'b' WHERE id = 2;
UPDATE queue SET params = CAST(X'6A6F623DFEFF' AS TEXT) || ',long=$long' WHERE id = 3;
INSERT INTO events(t_ns, kind, id, tenant, pool, class, resources, reason, detail, data) VALUES
  (1700000000000000000, 'grant', 1, CAST(X'74FF' AS TEXT), 'p', 'std', 'cpu=1', '', CAST(X'62616401FF' AS TEXT), ''),
  (1700000000000000001, 'refuse', NULL, 't', 'p', 'std', 'gpu=2,cpu=500m', 'quota_exceeded', 'ctl' || char(27) || '[2J' || '$long', ''),
  (1700000000000000002, 'scale', NULL, '', 'p', '', 'garbage', '', '', '{not json' || char(255)),
  (1700000000000000003, 'resize', 1, 't', 'p', 'std', 'cpu=2', '', CAST(X'C0AF' AS TEXT), '');
EOS
nev=$(sqlite3 "$AHEAD_DB" 'SELECT count(*) FROM events')

# --- ls: every row, every format ---
expect_rc 0 "" -- ls
for id in 1 2 3; do grep -qE "^ *$id  " "$T/out" && ok || bad "ls table lacks row $id: $(cat "$T/out")"; done
grep -qF 'k=\xff' "$T/out" && ok || bad "ls table shows the bad byte as \\xff"
grep -q $'\x1b' "$T/out" && bad "ls table prints a raw ESC" || ok
grep -qF 'esc\x1b[31m' "$T/out" && ok || bad "ls table shows ESC as \\x1b: $(cat "$T/out")"
expect_rc 0 "" -- ls -o wide
for id in 1 2 3; do grep -qE "^ *$id  " "$T/out" && ok || bad "ls wide lacks row $id"; done
expect_rc 0 "" -- ls -o json
python3 - "$T/out" "$long" <<'PY' && ok || bad "ls json rows"
import json, sys
rows = {r["id"]: r for r in json.load(open(sys.argv[1], encoding="utf-8"))}
assert sorted(rows) == [1, 2, 3], rows.keys()
assert rows[1]["params"] == {"k": "\ufffd"}, rows[1]["params"]
assert rows[2]["params"]["bell"] == "\x07esc\x1b[31m", rows[2]["params"]
assert rows[2]["params"]["nl"] == "a\nb"
assert rows[3]["params"]["job"] == "\ufffd\ufffd", rows[3]["params"]
assert rows[3]["params"]["long"].startswith("xxxx"), len(rows[3]["params"]["long"])
PY
expect_rc 0 "" -- ls -o csv
python3 - "$T/out" <<'PY' && ok || bad "ls csv rows: $(cat "$T/out")"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8", errors="surrogateescape", newline="")))
assert [r["id"] for r in rows] == ["1", "2", "3"], rows
assert rows[1]["params"].startswith("bell=\x07esc"), rows[1]
PY

# --- events: every row, every format ---
expect_rc 0 "" -- events
[ "$(($(wc -l <"$T/out") - 1))" -ge "$nev" ] && ok || bad "events table: $nev events, got $(cat "$T/out")"
grep -qF 'bad\x01\xff' "$T/out" && ok || bad "events table shows the odd detail"
grep -q $'\x1b' "$T/out" && bad "events table prints a raw ESC" || ok
expect_rc 0 "" -- events -o json
python3 - "$T/out" "$nev" <<'PY' && ok || bad "events json rows"
import json, sys
ev = json.load(open(sys.argv[1], encoding="utf-8"))
assert len(ev) == int(sys.argv[2]), (len(ev), sys.argv[2])
odd = [e for e in ev if e["time"].startswith("2023-11-14T22:13:20")]
assert len(odd) == 4, odd
g, r, s, z = odd
assert g["tenant"] == "t\ufffd" and g["detail"] == "bad\x01\ufffd", g
assert r["resources"] == {"gpu": 2, "cpu": 500}, r
assert r["detail"].startswith("ctl\x1b[2Jxxx") and len(r["detail"]) > 1000, len(r["detail"])
assert s["resources"] == {"text": "garbage"} and s["data"]["text"].startswith("{not json"), s
assert z["detail"] == "\ufffd\ufffd", z
PY
expect_rc 0 "" -- events -o csv
python3 - "$T/out" "$nev" <<'PY' && ok || bad "events csv rows"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8", errors="surrogateescape", newline="")))
assert len(rows) == int(sys.argv[2]), len(rows)
PY

# --- describe: each row ---
for id in 1 2 3; do
  expect_rc 0 "ID:           $id" -- describe "$id"
  grep -q $'\x1b' "$T/out" && bad "describe $id prints a raw ESC" || ok
  expect_rc 0 "\"id\": $id" -- describe "$id" -o json
  python3 -c 'import json,sys; json.load(open(sys.argv[1], encoding="utf-8"))' "$T/out" && ok || bad "describe $id json"
done
grep -q '"job": "\\ufffd\\ufffd"\|"job": "��"' "$T/out" && ok || bad "describe 3 keeps the odd parameter: $(grep job "$T/out")"
finish cli_outside_bytes

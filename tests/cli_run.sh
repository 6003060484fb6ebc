#!/usr/bin/env bash
# ahead run end to end: a command sized from its past runs (the second run
# of the same command and parameters is predicted from the first; other
# parameters get another prediction when the history says they matter),
# the predicted-vs-actual line, exit status / signals / stdio passed
# through, a command that does not exist, a child that forks and exits,
# the refusal to run unconfined without --allow-unconfined (cgroups made
# unwritable by a policy's cgroup_prefix pointing at an empty tree), and
# ahead run itself SIGKILLed mid-run then reconciled.
# Then, as root with writable cgroups (skipped with a message otherwise),
# against the real kernel: a child allocating 64 MiB every 500 ms sampled
# every 100 ms has its memory limit raised while the pool has room, and is
# killed (the kill in the ledger's events) when it outgrows the pool; its
# cgroup removed by hand mid-run; a limit changed by hand (drift).
set -u
. "$(dirname "$0")/lib.sh"
export AHEAD_DB=$T/x.db AHEAD_TENANT=t
unset AHEAD_SERVER

cat > "$T/policy.ini" <<'EOF'
[ahead]
default_class = standard
unknown_tenants = refuse
[pool p]
capacity = cpu=4, memory=4Gi
unit = cpu=10m, memory=1Mi
[class standard]
priority = 50
quantile = 0.9
run_default = cpu=500m, memory=300Mi
[tenant t]
quota = cpu=8, memory=8Gi
EOF
check "apply" 0 "applied" -- "$A" policy apply "$T/policy.ini"

# python3 holding N MiB (touched, so resident) for a moment
HOLD='import sys,time; b=b"\x01"*(int(sys.argv[1])<<20); time.sleep(0.3)'
# the value after "DIM predicted" (or "DIM not predicted") in a summary line, in bytes/millicores
pred_of() { # DIM FILE
  python3 - "$1" "$2" <<'PY'
import re,sys
dim,f=sys.argv[1],sys.argv[2]
t=open(f).read()
m=re.search(r'; %s predicted ([0-9.]+)([A-Za-z]*)' % dim, t)
if not m: print(""); sys.exit(0)
v=float(m.group(1)); u=m.group(2)
mult={'':1,'Ki':1<<10,'Mi':1<<20,'Gi':1<<30,'Ti':1<<40,'k':1e3,'K':1e3,'M':1e6,'G':1e9,'m':1}
print(int(v*mult.get(u,1)))
PY
}

# --- the first run has no history: the class default; the second is predicted ---
"$A" run --allow-unconfined -n hold -P size=small -- python3 -c "$HOLD" 20 >"$T/o1" 2>"$T/e1"; rc=$?
check_rc "first run exits 0" 0 $rc
has "first run: class default" "$T/e1" "memory not predicted (no history: class default)"
has "first run: summary names workload and params" "$T/e1" "ahead run: hold \[size=small\]: "
"$A" run --allow-unconfined -n hold -P size=small -- python3 -c "$HOLD" 20 >"$T/o2" 2>"$T/e2"; rc=$?
check_rc "second run exits 0" 0 $rc
has "second run predicted from the first" "$T/e2" "; memory predicted "
has "second run: predicted vs actual error" "$T/e2" "memory predicted [^,]*, peak [^,]* ([+-][0-9]*%)"
small=$(pred_of memory "$T/e2")
ok "small prediction is near 20 MiB plus an interpreter (10..120 MiB)" "[ -n '$small' ] && [ $small -gt $((10<<20)) ] && [ $small -lt $((120<<20)) ]"

# --- other parameters that matter: 200 MiB runs predict more ---
for i in 1 2; do
  "$A" run -q --allow-unconfined -n hold -P size=big -- python3 -c "$HOLD" 200 || bad "big run $i"
done
"$A" run --allow-unconfined -n hold -P size=big -- python3 -c "$HOLD" 200 >"$T/o3" 2>"$T/e3"
big=$(pred_of memory "$T/e3")
ok "size=big predicted above size=small (history says size matters)" "[ -n '$big' ] && [ $big -gt $((small + (150<<20))) ]"
"$A" run --allow-unconfined -n hold -P size=small -- python3 -c "$HOLD" 20 >"$T/o4" 2>"$T/e4"
small2=$(pred_of memory "$T/e4")
ok "size=small still predicted small after the big runs" "[ -n '$small2' ] && [ $small2 -lt $((120<<20)) ]"

# --- pass-through ---
check "exit status passes through" 7 "" -- "$A" run -q --allow-unconfined -- sh -c 'exit 7'
check "death by signal is 128+N" 143 "" -- "$A" run -q --allow-unconfined -- sh -c 'kill -TERM $$'
out=$(printf 'hello\nworld\n' | "$A" run -q --allow-unconfined -- cat 2>"$T/e5")
ok "stdin to stdout through the command" "[ \"\$out\" = \"\$(printf 'hello\nworld')\" ]"
ok "-q: nothing of ahead's on stderr" "[ ! -s '$T/e5' ]"
"$A" run --allow-unconfined -- sh -c 'echo to-err >&2' >"$T/o6" 2>"$T/e6"
has "the command's stderr passes through" "$T/e6" "^to-err$"
has "then ahead's line" "$T/e6" "^ahead run: sh: "

# --- bad situations ---
check "a command that does not exist" 127 "nonexistent-cmd-xyz: command not found" -- "$A" run --allow-unconfined -- nonexistent-cmd-xyz
check "a file that is not executable" 126 "cannot run it" -- "$A" run --allow-unconfined -- "$T/policy.ini"
check "no command" 2 "missing the command" -- "$A" run --allow-unconfined
check "bad --param" 2 "--param" -- "$A" run --allow-unconfined -P nokey -- true
check "unknown class" 2 "no class 'nope'" -- "$A" run --allow-unconfined -c nope -- true
# a child that forks and exits: ahead run ends with it, not with the grandchild
start=$(date +%s)
check "a child that forks and exits" 3 "" -- "$A" run -q --allow-unconfined -- sh -c 'sleep 3 >/dev/null 2>&1 & exit 3'
ok "... without waiting for the grandchild" "[ \$((\$(date +%s) - start)) -lt 3 ]"
# SIGTERM to ahead run goes on to the command
"$A" run -q --allow-unconfined -- sh -c 'trap "exit 42" TERM; sleep 5 & wait' & ap=$!
sleep 1; kill -TERM $ap; wait $ap; rc=$?
check_rc "SIGTERM forwarded to the command (its trap's status)" 42 $rc
ok "nothing left in the ledger after the runs" "[ -z \"\$('$A' ls -o json | python3 -c 'import json,sys; print(\"x\" if json.load(sys.stdin) else \"\")')\" ]"

# --- the queue: --no-wait refuses when the pool is full ---
"$A" alloc -t t -p p -r cpu=4,memory=1Gi >/dev/null || bad "fill the pool"
check "--no-wait refuses when full" 3 "refused" -- "$A" run --no-wait --allow-unconfined -- true
"$A" run --allow-unconfined -- true >"$T/oq" 2>"$T/eq" & qp=$!
sleep 1.5
has "queued with a visible position" "$T/eq" "queued as [0-9]* .*position 1"
"$A" release 9999 >/dev/null 2>&1
fid=$("$A" ls -o json | python3 -c 'import json,sys; print([a["id"] for a in json.load(sys.stdin) if a.get("state")!="queued"][0])')
"$A" release "$fid" >/dev/null || bad "release the filler"
wait $qp; rc=$?
check_rc "the queued run runs once room frees" 0 $rc
has "... after waiting" "$T/eq" "granted [0-9]* after waiting in the queue"

# --- no writable cgroups: refused unless --allow-unconfined ---
mkdir -p "$T/nocg"
sed 's/^\[tenant t\]/[linux]\ncgroup_prefix = '"${T//\//\\/}"'\/nocg\n[tenant t]/' "$T/policy.ini" > "$T/nocg.ini"
AHEAD_DB=$T/y.db "$A" policy apply "$T/nocg.ini" >/dev/null || bad "apply nocg"
check "no writable cgroups: refused without --allow-unconfined" 3 "cannot confine the command: .*--allow-unconfined" -- env AHEAD_DB=$T/y.db "$A" run -- true
ok "... nothing reserved" "[ -z \"\$(AHEAD_DB=$T/y.db '$A' ls -o json | python3 -c 'import json,sys; print(\"x\" if json.load(sys.stdin) else \"\")')\" ]"
check "with --allow-unconfined it runs, saying so" 0 "running unconfined" -- env AHEAD_DB=$T/y.db "$A" run --allow-unconfined -- true

# --- ahead run SIGKILLed mid-run: the next start reconciles ---
"$A" run -q --allow-unconfined -n sleeper -- sh -c 'echo $$ > "$0"; exec sleep 30' "$T/child.pid" & ap=$!
for i in $(seq 50); do [ -s "$T/child.pid" ] && break; sleep 0.1; done
sleep 0.3
kill -KILL $ap; wait $ap 2>/dev/null
ok "the run record is left behind" "ls '$T'/x.db.runs/*.run >/dev/null 2>&1"
ok "its reservation is still in the ledger" "'$A' ls | grep -q ' t '"
check "reconcile finds and releases it" 0 "reconciled 1 orphaned run" -- "$A" run --reconcile
ok "the reservation is released" "[ -z \"\$('$A' ls -o json | python3 -c 'import json,sys; print(\"x\" if json.load(sys.stdin) else \"\")')\" ]"
ok "the record is gone" "! ls '$T'/x.db.runs/*.run >/dev/null 2>&1"
check "the ledger says so (a run event)" 0 "orphaned" -- "$A" events
check "a second reconcile finds nothing" 0 "reconciled 0 orphaned runs" -- "$A" run --reconcile
cpid=$(cat "$T/child.pid"); kill "$cpid" 2>/dev/null

# --- --server: the same path over the daemon's API ---
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
"$A" serve --policy "$T/policy.ini" --db "$T/srv.db" --listen "127.0.0.1:$PORT" --admin-token-file "$T/admin" \
  >"$T/serve.out" 2>"$T/serve.err" & DPID=$!
for _ in $(seq 100); do
  [ -s "$T/admin" ] && "$A" pool ls --server "$URL" --token-file "$T/admin" >/dev/null 2>&1 && break
  sleep 0.1
done
export AHEAD_RUN_DIR=$T/srv.runs
env -u AHEAD_DB "$A" run --allow-unconfined --server "$URL" --token-file "$T/admin" -n remote -- python3 -c "$HOLD" 20 \
  >"$T/or1" 2>"$T/er1" || bad "first --server run: $(cat "$T/er1")"
has "--server: first run at the class default" "$T/er1" "memory not predicted (no history: class default)"
env -u AHEAD_DB "$A" run --allow-unconfined --server "$URL" --token-file "$T/admin" -n remote -- python3 -c "$HOLD" 20 \
  >"$T/or2" 2>"$T/er2" || bad "second --server run: $(cat "$T/er2")"
has "--server: second run predicted from the first" "$T/er2" "; memory predicted "
ok "--server: no warning (reports reached the daemon)" "! grep -q warning '$T/er2'"
kill $DPID; wait $DPID 2>/dev/null
check "--server, daemon unreachable: refused by default" 3 "unreachable and run_unreachable is refuse" -- env -u AHEAD_DB AHEAD_DB=$T/none.db "$A" run --allow-unconfined --server "$URL" -- true
# run_unreachable from the local ledger's policy: unconfined runs it (no
# reservation anywhere, exit status passed through); class-default with no
# writable cgroups (cgroup_prefix: an empty tree) runs it too
for ur in unconfined class-default; do
  sed 's/^\[tenant t\]/[linux]\nrun_unreachable = '"$ur"'\ncgroup_prefix = '"${T//\//\\/}"'\/nocg\n[tenant t]/' "$T/policy.ini" > "$T/ur-$ur.ini"
  AHEAD_DB=$T/ur-$ur.db "$A" policy apply "$T/ur-$ur.ini" >/dev/null || bad "apply ur-$ur"
  check "--server, daemon unreachable, run_unreachable = $ur: runs, saying so" 7 \
    "daemon is unreachable; running sh without a reservation \(run_unreachable = $ur\)" -- \
    env AHEAD_DB=$T/ur-$ur.db "$A" run --server "$URL" -- sh -c 'echo out; exit 7'
  out=$(AHEAD_DB=$T/ur-$ur.db "$A" run -q --server "$URL" -- sh -c 'echo out' 2>/dev/null)
  [ "$out" = out ] && ok || bad "run_unreachable = $ur: stdout not passed through: $out"
  ok "run_unreachable = $ur: nothing reserved in the local ledger" "[ -z \"\$(AHEAD_DB=$T/ur-$ur.db '$A' ls -o json | python3 -c 'import json,sys; print(\"x\" if json.load(sys.stdin) else \"\")')\" ]"
done
unset AHEAD_RUN_DIR

# ---------------- the real kernel ----------------
confined=1
why=""
if [ "$(id -u)" != 0 ]; then confined=0; why="not root"; fi
if [ $confined = 1 ] && ! "$A" run -q -- true 2>"$T/ek"; then confined=0; why="cgroups not writable: $(cat "$T/ek")"; fi
if [ $confined = 0 ]; then
  echo "skip: real-kernel ahead run checks: $why"
  finish cli_run; exit $?
fi

# the directories of ahead-run-ID in each hierarchy of our own cgroups
cg_dirs() { # ID
  while IFS=: read -r _ ctrl path; do
    case $ctrl in "") m=/sys/fs/cgroup/unified ;; name=*) continue ;; *) m=/sys/fs/cgroup/${ctrl%%,*} ;; esac
    [ -d "$m$path/ahead-run-$1" ] && echo "$m$path/ahead-run-$1"
  done < /proc/self/cgroup
}
run_id() { sed -n 's/.*"id": \([0-9]*\).*/\1/p' | head -1; }

# the SIGKILL case again, confined: the orphan's cgroup (and command) go too
"$A" run -q -n sleeper2 -- sh -c 'echo $$ > "$0"; exec sleep 30' "$T/child2.pid" & ap=$!
for i in $(seq 50); do [ -s "$T/child2.pid" ] && break; sleep 0.1; done
oid=$("$A" ls -o json | run_id)
ok "confined: the run's cgroup exists" "[ -n \"\$(cg_dirs $oid)\" ]"
kill -KILL $ap; wait $ap 2>/dev/null
check "confined reconcile" 0 "reconciled 1 orphaned run" -- "$A" run --reconcile
ok "the orphan's cgroup is removed" "[ -z \"\$(cg_dirs $oid)\" ]"
# (killed: gone, or a zombie its new parent has not reaped yet)
cpid2=$(cat "$T/child2.pid")
ok "the orphaned command is killed" "[ ! -e /proc/$cpid2 ] || grep -q '^[0-9]* ([^)]*) Z' /proc/$cpid2/stat"

GROW='import time
l=[]
for i in range(8):
    l.append(b"\x01" * (64 << 20)); time.sleep(0.5)'
cat > "$T/k.ini" <<'EOF'
[ahead]
default_class = standard
unknown_tenants = refuse
[pool p]
capacity = cpu=4, memory=2Gi
unit = cpu=10m, memory=1Mi
[class standard]
priority = 50
quantile = 0.9
run_default = cpu=1, memory=128Mi
[tenant t]
quota = cpu=4, memory=4Gi
EOF
export AHEAD_DB=$T/k.db
"$A" policy apply "$T/k.ini" >/dev/null || bad "apply k"
"$A" run -i 100ms -n grow -- python3 -c "$GROW" >"$T/og" 2>"$T/eg"; rc=$?
check_rc "grows rather than being killed when the pool has room" 0 $rc
check "its reservation was resized" 0 "resize" -- "$A" events
ok "reserved at the end above 512 MiB" "grep -Eq 'memory .*reserved ([5-9][0-9][0-9]Mi|[0-9.]+Gi)' '$T/eg'"

sed 's/capacity = cpu=4, memory=2Gi/capacity = cpu=4, memory=256Mi/' "$T/k.ini" > "$T/k2.ini"
export AHEAD_DB=$T/k2.db
"$A" policy apply "$T/k2.ini" >/dev/null || bad "apply k2"
"$A" run -i 100ms -n grow -- python3 -c "$GROW" >"$T/ok2" 2>"$T/ek2"; rc=$?
check_rc "killed when it outgrows the pool (SIGKILL: 137)" 137 $rc
has "... saying why" "$T/ek2" "killed the command: memory .* reached the hard limit .* the pool p has no more"
check "... and the kill is in the ledger" 0 "killed" -- "$A" events

# the cgroup removed by hand mid-run
export AHEAD_DB=$T/k.db
rm -f "$T/c3.pid"
"$A" run -i 100ms -n vanish -- sh -c 'echo $$ > "$0"; sleep 2.5' "$T/c3.pid" >"$T/ov" 2>"$T/ev" & ap=$!
for i in $(seq 50); do [ -s "$T/c3.pid" ] && break; sleep 0.1; done
vid=$("$A" ls -o json | run_id)
for d in $(cg_dirs "$vid"); do
  for p in $(cat "$d/cgroup.procs"); do echo "$p" > "$(dirname "$d")/cgroup.procs"; done
  rmdir "$d"
done
wait $ap; rc=$?
check_rc "a vanished cgroup: the command still runs to its end" 0 $rc
has "... and ahead run says the cgroup vanished" "$T/ev" "cgroup vanished"

# a limit changed by hand: drift found, logged, restored
rm -f "$T/c4.pid"
"$A" run -i 100ms -n drift -- sh -c 'echo $$ > "$0"; sleep 3' "$T/c4.pid" >"$T/od" 2>"$T/ed" & ap=$!
for i in $(seq 50); do [ -s "$T/c4.pid" ] && break; sleep 0.1; done
did=$("$A" ls -o json | run_id)
mdir=$(cg_dirs "$did" | grep /memory/)
before=$(cat "$mdir/memory.limit_in_bytes")
echo $((3 << 30)) > "$mdir/memory.limit_in_bytes"
sleep 1.6
after=$(cat "$mdir/memory.limit_in_bytes" 2>/dev/null)
wait $ap; rc=$?
check_rc "drift: the command runs to its end" 0 $rc
has "drift found and logged" "$T/ed" "drift: limit changed behind ahead's back (.*memory-hard"
ok "the hard limit restored ($before, hand-set $((3 << 30)), now $after)" "[ '$after' = '$before' ]"
check "... in the ledger" 0 "drift" -- "$A" events

# the safety controls: dry-run writes no limit; the stop switch (applied
# mid-run) stops enforcement within an interval and restores the limits
MEMLIM='while IFS=: read -r _ c p; do [ "$c" = memory ] && cat /sys/fs/cgroup/memory$p/memory.limit_in_bytes; done < /proc/self/cgroup; true'
sed 's/^\[tenant t\]/[linux]\nenforce = dry-run\n[tenant t]/' "$T/k.ini" > "$T/dry.ini"
export AHEAD_DB=$T/dry.db
"$A" policy apply "$T/dry.ini" >/dev/null || bad "apply dry"
"$A" run -n dry -- sh -c "$MEMLIM" >"$T/odr" 2>"$T/edr"; rc=$?
check_rc "dry-run: the command runs" 0 $rc
has "dry-run: the writes are logged" "$T/edr" "dry-run: would write .*/memory.limit_in_bytes = "
ok "dry-run: no limit written (the command saw $(cat "$T/odr"))" "[ \"\$(cat '$T/odr')\" -gt $((1 << 40)) ]"
sed 's/^\[tenant t\]/[linux]\nenforce = on\non_stop = restore\n[tenant t]/' "$T/k.ini" > "$T/on.ini"
sed 's/^enforce = on/enforce = off/' "$T/on.ini" > "$T/off.ini"
export AHEAD_DB=$T/stop.db
"$A" policy apply "$T/on.ini" >/dev/null || bad "apply on"
rm -f "$T/c5.pid"
"$A" run -i 100ms -n stop -- sh -c 'echo $$ > "$0"; sleep 2.5' "$T/c5.pid" >"$T/ost" 2>"$T/est" & ap=$!
for i in $(seq 50); do [ -s "$T/c5.pid" ] && break; sleep 0.1; done
sid=$("$A" ls -o json | run_id)
sdir=$(cg_dirs "$sid" | grep /memory/)
lim_on=$(cat "$sdir/memory.limit_in_bytes")
"$A" policy apply "$T/off.ini" >/dev/null || bad "apply off"
sleep 0.6
lim_off=$(cat "$sdir/memory.limit_in_bytes" 2>/dev/null)
wait $ap; rc=$?
check_rc "stop switch: the command runs to its end" 0 $rc
ok "enforced before the switch ($lim_on)" "[ '$lim_on' -lt $((1 << 40)) ]"
ok "restored within an interval of the switch ($lim_off)" "[ '$lim_off' -gt $((1 << 40)) ]"
has "... and said" "$T/est" "enforcement on -> off (policy); limits restored"

# run_unreachable = class-default, confined: the class's run_default as
# limits (cpu 500m: quota 50000; memory 300Mi soft, hard 25% above)
sed 's/^\[tenant t\]/[linux]\nrun_unreachable = class-default\n[tenant t]/' "$T/policy.ini" > "$T/urk.ini"
AHEAD_DB=$T/urk.db "$A" policy apply "$T/urk.ini" >/dev/null || bad "apply urk"
LIMS='m=$(awk -F: '"'"'$2 == "memory" {print $3}'"'"' /proc/self/cgroup); c=$(awk -F: '"'"'$2 ~ /(^|,)cpu(,|$)/ {print $3}'"'"' /proc/self/cgroup)
echo "$(cat /sys/fs/cgroup/memory$m/memory.limit_in_bytes) $(cat /sys/fs/cgroup/memory$m/memory.soft_limit_in_bytes) $(cat /sys/fs/cgroup/cpu$c/cpu.cfs_quota_us)"'
got=$(AHEAD_DB=$T/urk.db "$A" run -q --server "$URL" -- sh -c "$LIMS" 2>"$T/eurk")
[ "$got" = "393216000 314572800 50000" ] && ok || bad "class-default confined: limits '$got', want '393216000 314572800 50000' ($(cat "$T/eurk"))"
has "... saying so" "$T/eurk" "run_unreachable = class-default"

finish cli_run

# Starting and stopping a local etcd cluster for the tests (sourced after
# lib.sh). Members listen on loopback only: member i (0-based) serves
# clients on BASE+2i and peers on BASE+2i+1. Flags for a small, shared
# host (docs/CLUSTER.md): heartbeat 200 ms, election timeout 2 s, and room
# for ahead's group commits in one transaction (--max-txn-ops).
#   etcd_need                  skips the test (exit 0, saying so) without etcd
#   etcd_start N BASE DIR      starts N members, waits until they answer
#   etcd_member_start I        (re)starts member I of the running cluster
#   etcd_member_kill I [SIG]   kill -SIG (default KILL) member I
#   etcd_stop                  stops every member
# ETCD_EP: "127.0.0.1:P0,127.0.0.1:P1,..." (for etcd://$ETCD_EP/PREFIX);
# ETCD_URLS: the same as http:// URLs (for etcdctl --endpoints).
ETCD_BIN=${ETCD_BIN:-$(command -v etcd || echo /usr/bin/etcd)}
ETCDCTL_BIN=${ETCDCTL_BIN:-$(command -v etcdctl || echo /usr/bin/etcdctl)}
ETCD_PIDS=()
ETCD_N=0 ETCD_BASE=0 ETCD_DIR=

etcd_need() {
  if [ ! -x "$ETCD_BIN" ] || [ ! -x "$ETCDCTL_BIN" ]; then
    echo "SKIP: etcd or etcdctl not installed (Debian: apt-get install etcd-server etcd-client)"
    exit 0
  fi
}

etcd_member_start() {
  local i=$1 cp=$((ETCD_BASE + 2 * $1)) pp=$((ETCD_BASE + 2 * $1 + 1)) cluster="" j state=new
  for ((j = 0; j < ETCD_N; j++)); do
    cluster+="${cluster:+,}m$j=http://127.0.0.1:$((ETCD_BASE + 2 * j + 1))"
  done
  [ -d "$ETCD_DIR/m$i/member" ] && state=existing
  "$ETCD_BIN" --name "m$i" --data-dir "$ETCD_DIR/m$i" \
    --listen-client-urls "http://127.0.0.1:$cp" --advertise-client-urls "http://127.0.0.1:$cp" \
    --listen-peer-urls "http://127.0.0.1:$pp" --initial-advertise-peer-urls "http://127.0.0.1:$pp" \
    --initial-cluster "$cluster" --initial-cluster-state "$state" --initial-cluster-token "ahead-test-$ETCD_BASE" \
    --heartbeat-interval 200 --election-timeout 2000 --max-txn-ops 10000 \
    --logger zap --log-level error ${ETCD_EXTRA_ARGS:-} >>"$ETCD_DIR/m$i.log" 2>&1 &
  ETCD_PIDS[$i]=$!
}

etcd_member_kill() {
  kill "-${2:-KILL}" "${ETCD_PIDS[$1]}" 2>/dev/null
  [ "${2:-KILL}" = KILL ] && wait "${ETCD_PIDS[$1]}" 2>/dev/null
  return 0
}

etcdctl_() { ETCDCTL_API=3 "$ETCDCTL_BIN" --endpoints "$ETCD_URLS" --command-timeout 5s "$@"; }

etcd_start() {
  ETCD_N=$1 ETCD_BASE=$2 ETCD_DIR=$3
  mkdir -p "$ETCD_DIR"
  ETCD_EP="" ETCD_URLS=""
  local i
  for ((i = 0; i < ETCD_N; i++)); do
    ETCD_EP+="${ETCD_EP:+,}127.0.0.1:$((ETCD_BASE + 2 * i))"
    ETCD_URLS+="${ETCD_URLS:+,}http://127.0.0.1:$((ETCD_BASE + 2 * i))"
    etcd_member_start "$i"
  done
  for ((i = 0; i < 150; i++)); do
    if etcdctl_ endpoint health >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "etcd did not come up; logs:" >&2
  tail -n 20 "$ETCD_DIR"/m*.log >&2
  return 1
}

# etcd_report RC: when RC is not 0, what the members said and whether they
# still run (for a CI run whose temporary directory is gone afterwards);
# returns RC.
etcd_report() {
  local rc=$1 f
  if [ "$rc" -ne 0 ]; then
    for f in "$ETCD_DIR"/m*.log; do
      [ -f "$f" ] || continue
      echo "== $f (last lines)"
      tail -n 15 "$f"
    done
    for f in "${ETCD_PIDS[@]}"; do
      kill -0 "$f" 2>/dev/null && echo "etcd pid $f: running" || echo "etcd pid $f: gone"
    done
  fi
  return "$rc"
}

etcd_stop() {
  local p
  for p in "${ETCD_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${ETCD_PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  ETCD_PIDS=()
}

#!/usr/bin/env bash
# The layering, checked: every #include of src/DIR and of the public headers
# names only headers of the layers DIR may use (the same edges as the link
# lines in CMakeLists.txt), private headers ("DIR/x.h") only from DIR itself,
# and each layer's archive in $AHEAD_BUILD leaves undefined only symbols of
# its allowed layers (or of libc and the libraries it links).
# Tighten a rule by editing the lists below; CLI_MODE=fail makes the CLI's
# forbidden list an error instead of a warning.
set -euo pipefail
SRC=${AHEAD_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${AHEAD_BUILD:-}
CLI_MODE=${CLI_MODE:-fail} # src/cli reaches storage only through the service

# Which layer owns each public header (include/ahead/NAME.h).
declare -A OWNER=(
  [error]=core [resource]=core [policy]=core [engine]=core [ledger]=core
  [shaper]=core [placement]=core [scaler]=core [sizer]=core [usage]=core [limits]=core [csvline]=core [input_unit]=core [names]=core [id]=core [duration]=core [timestamp]=core [policy_edit]=core
  [sizing]=sizing [sizing_sizer]=sizing [pressure]=sizing
  [series]=forecast [model]=forecast [forecast]=forecast [anomaly]=forecast
  [ledger_sqlite]=store [ledger_etcd]=store [cluster_status]=store [node]=store [etcd_election]=store [etcd_watch]=store [api_records]=store [shadow]=store [shadow_alloc]=store
  [hook]=linux [sysfile]=linux [psi]=linux [cgroup]=linux [host]=linux [collector]=linux [enforce]=linux [alloc_cgroup]=linux
  [predictor_shadow]=service [service]=service [scale_loop]=service [history]=service [encode]=service [owner]=service [prom]=service [service_run]=service
  [api]=server [server]=server [daemon]=server
  [trace]=sim [replay]=sim [oracle]=sim
)
# The layers each layer may use (itself included).
declare -A ALLOWED=(
  [core]="core"
  [sizing]="core sizing"
  [forecast]="core forecast"
  [store]="core store"
  [linux]="core linux"
  [service]="core sizing forecast store linux service"
  [sim]="core sizing store service sim"
  [server]="core sizing forecast store linux service server"
  [cli]="core sizing forecast store linux service sim server cli"
)
# System headers only these layers may include.
declare -A SYSTEM=([sqlite3.h]="store" [ini.h]="core" [jansson.h]="store service server cli"
  [microhttpd.h]="server" [gnutls/gnutls.h]="server" [gnutls/crypto.h]="server" [systemd/sd-daemon.h]="server"
  [curl/curl.h]="store service cli" [curses.h]="cli" [ncurses.h]="cli")
# What src/cli must not include even though its layers allow it: storage
# belongs behind the service.
CLI_FORBIDDEN="sqlite3.h ahead/ledger_sqlite.h ahead/shadow.h ahead/shadow_alloc.h core/ store/"

cd "$SRC"
fail=0
warn=0
problem() { # layer file message
  if [ "$1" = cli-warn ]; then
    echo "cli_layering: warning: $2: $3" >&2
    warn=$((warn + 1))
  else
    echo "cli_layering: $2: $3" >&2
    fail=$((fail + 1))
  fi
}
allowed() { [[ " ${ALLOWED[$1]} " == *" $2 "* ]]; }

check_file() { # layer file
  local layer=$1 f=$2 inc h owner
  while IFS= read -r inc; do
    case "$inc" in
    ahead/*.h)
      h=${inc#ahead/}; h=${h%.h}
      owner=${OWNER[$h]:-}
      if [ -z "$owner" ]; then
        problem "$layer" "$f" "includes $inc, which no layer owns (add it to OWNER)"
      elif ! allowed "$layer" "$owner"; then
        problem "$layer" "$f" "includes $inc ($owner); $layer may use: ${ALLOWED[$layer]}"
      fi
      ;;
    */*.h)
      owner=${inc%%/*}
      if [ -n "${ALLOWED[$owner]:-}" ] && [ "$owner" != "$layer" ]; then
        problem "$layer" "$f" "includes $inc, a private header of src/$owner"
      fi
      ;;
    *)
      if [ -n "${SYSTEM[$inc]:-}" ] && ! [[ " ${SYSTEM[$inc]} " == *" $layer "* ]]; then
        problem "$layer" "$f" "includes <$inc>; only ${SYSTEM[$inc]} may"
      fi
      ;;
    esac
    if [ "$layer" = cli ]; then
      for bad in $CLI_FORBIDDEN; do
        if [[ "$inc" == "$bad" || ( "$bad" == */ && "$inc" == "$bad"* ) ]]; then
          problem "cli-$CLI_MODE" "$f" "includes $inc (forbidden in src/cli)"
        fi
      done
    fi
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]\([^>"]*\)[>"].*/\1/p' "$f")
}

for layer in "${!ALLOWED[@]}"; do
  for f in src/"$layer"/*.[ch]; do
    [ -e "$f" ] && check_file "$layer" "$f"
  done
done
for f in include/ahead/*.h; do
  h=$(basename "$f" .h)
  owner=${OWNER[$h]:-}
  if [ -z "$owner" ]; then
    problem none "$f" "public header that no layer owns (add it to OWNER)"
    continue
  fi
  check_file "$owner" "$f"
done
# Every src/ directory is a layer.
for d in src/*/; do
  d=$(basename "$d")
  [ -n "${ALLOWED[$d]:-}" ] || problem none "src/$d" "a directory that is no layer (add it to ALLOWED and CMakeLists.txt)"
done

# Symbols: what a layer's archive leaves undefined must come from its own
# allowed layers, not from another layer's archive.
if [ -n "$BUILD" ] && [ -f "$BUILD/libahead_core.a" ] && command -v nm >/dev/null; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  for layer in "${!ALLOWED[@]}"; do
    a="$BUILD/libahead_$layer.a"
    [ -f "$a" ] || continue
    nm -g --defined-only "$a" 2>/dev/null | awk 'NF == 3 {print $3}' | sort -u >"$tmp/def.$layer"
    nm -g --undefined-only "$a" 2>/dev/null | awk '{print $NF}' | sort -u >"$tmp/undef.$layer"
  done
  for layer in "${!ALLOWED[@]}"; do
    [ -f "$tmp/undef.$layer" ] || continue
    comm -23 "$tmp/undef.$layer" "$tmp/def.$layer" >"$tmp/need"
    for other in "${!ALLOWED[@]}"; do
      [ -f "$tmp/def.$other" ] && ! allowed "$layer" "$other" || continue
      while IFS= read -r sym; do
        problem "$layer" "libahead_$layer.a" "uses $sym of $other"
      done < <(comm -12 "$tmp/need" "$tmp/def.$other")
    done
  done
fi

if [ "$fail" -gt 0 ]; then
  echo "cli_layering: $fail violation(s)" >&2
  exit 1
fi
echo "cli_layering: ok ($warn warning(s))"

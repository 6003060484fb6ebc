# The shared harness of the shell tests (tests/cli_*.sh), sourced by each:
#   . "$(dirname "$0")/lib.sh"
# It sets A (= BIN, the ahead binary), SRC, SHARED and a scratch directory T
# removed at exit, and counts checks; `finish` prints "N passed, N failed"
# and fails the script when any check failed.
A=${AHEAD_BIN:?AHEAD_BIN must point at the ahead binary}
BIN=$A
SRC=${AHEAD_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
SHARED=${AHEAD_SHARED:-}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0

# check NAME EXPECTED_RC GREP_PATTERN -- CMD...: runs CMD (stdout and stderr
# together), counts a failure when its exit code or output is not as named.
check() {
  local name=$1 want=$2 pat=$3; shift 4
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" != "$want" ]; then
    echo "FAIL $name: exit $rc, want $want"; echo "$out" | head -8 | sed 's/^/    /'; fail=$((fail+1)); return
  fi
  if [ -n "$pat" ] && ! grep -qE -- "$pat" <<<"$out"; then
    echo "FAIL $name: output lacks /$pat/"; echo "$out" | head -8 | sed 's/^/    /'; fail=$((fail+1)); return
  fi
  pass=$((pass+1))
}

# ok NAME EXPR: counts EXPR (a shell condition) as a check; `ok` alone
# counts a pass (as in `cond && ok || bad NAME`).
ok() {
  if [ $# -eq 0 ]; then pass=$((pass+1)); return; fi
  if eval "$2"; then pass=$((pass+1)); else echo "FAIL $1: $2"; fail=$((fail+1)); fi
}
bad() { echo "FAIL $1"; fail=$((fail+1)); }

# check_rc NAME EXPECTED ACTUAL: an exit code already taken.
check_rc() {
  if [ "$2" != "$3" ]; then echo "FAIL $1: exit $3, expected $2"; fail=$((fail+1)); else pass=$((pass+1)); fi
}
# has NAME FILE PATTERN: FILE contains PATTERN.
has() {
  if grep -q -- "$3" "$2"; then pass=$((pass+1)); else echo "FAIL $1: no '$3' in:"; cat "$2"; fail=$((fail+1)); fi
}

# die MESSAGE: stops the script at once (for checks later ones depend on).
die() { echo "FAIL: $*" >&2; echo "$pass passed, $((fail+1)) failed"; exit 1; }

# expect_rc CODE NEEDLE -- ARGS...: runs ahead ARGS (stdout in $T/out,
# stderr in $T/err); stops the script unless it exits CODE and NEEDLE (if
# any) is in its output.
expect_rc() {
  local want=$1 needle=$2; shift 3
  local rc
  "$BIN" "$@" >"$T/out" 2>"$T/err" && rc=0 || rc=$?
  [ "$rc" = "$want" ] || die "ahead $* exited $rc, want $want; stderr: $(cat "$T/err")"
  if [ -n "$needle" ]; then
    grep -qF -- "$needle" "$T/out" "$T/err" || die "ahead $*: output lacks '$needle': $(cat "$T/out" "$T/err")"
  fi
  pass=$((pass+1))
}

finish() {
  echo "${1:+$1: }$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}

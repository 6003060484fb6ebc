#!/usr/bin/env bash
# The .deb end to end (issue 10 item 5): scripts/build-deb.sh builds it,
# `dpkg -i` installs it, the files are in place, the installed unit passes
# `systemd-analyze verify`, `ahead serve` started with exactly the unit's
# ExecStart line as the unit's user answers /healthz, says READY=1 on
# $NOTIFY_SOCKET, survives a SIGHUP reload and exits 0 on SIGTERM; then
# `dpkg -r` and `dpkg -P` leave nothing of the package behind.
#
# It changes the system, so it runs only as root on a host without a real
# install of ahead (exit 77, which CTest reports as skipped, otherwise): no
# package `ahead`, no /usr/bin/ahead, /etc/ahead, /var/lib/ahead or user
# `ahead`. The policy and ledger it serves are the ones its own package
# installs, and its purge deletes them. Runs of it on one host take turns
# (a lock); it needs 127.0.0.1:7070 free, as the unit does.
set -u
. "$(dirname "$0")/lib.sh"

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "not root (installs a .deb system-wide; CI runs it as root)"
for tool in dpkg-deb dpkg systemd-analyze curl python3 setpriv help2man cmake; do
  command -v "$tool" >/dev/null || skip "$tool not installed"
done
exec 9>/run/lock/ahead-deb-install-test.lock 2>/dev/null || exec 9>/tmp/ahead-deb-install-test.lock
flock -w 900 9 || skip "another run of this test held the lock for 15 minutes"
if dpkg-query -W -f='${Status}' ahead 2>/dev/null | grep -q 'installed\|config-files'; then
  skip "package ahead is installed here; not touching a real install"
fi
for p in /usr/bin/ahead /etc/ahead /var/lib/ahead; do
  [ -e "$p" ] && skip "$p exists; not touching a real install"
done
getent passwd ahead >/dev/null && skip "a user 'ahead' exists; not touching a real install"

UNIT=/lib/systemd/system/ahead.service
server_pid=""
installed=0
cleanup() {
  [ -n "$server_pid" ] && kill -KILL "$server_pid" 2>/dev/null
  [ -n "${notify_pid:-}" ] && kill "$notify_pid" 2>/dev/null
  [ "$installed" -eq 1 ] && dpkg -P ahead >/dev/null 2>&1
  rm -rf "$T"
}
trap cleanup EXIT

# Build: an incremental build directory beside the test build (configured
# for /usr, which the test build is not).
deb=$(bash "$SRC/scripts/build-deb.sh" "${AHEAD_BUILD:-$T}/deb-build" "$T" 2>"$T/build.err" | tail -1)
[ -f "$deb" ] || die "build-deb.sh made no .deb: $(tail -20 "$T/build.err")"
ok "package is named ahead" '[ "$(dpkg-deb -f "$deb" Package)" = ahead ]'
ok "conffile is the policy" '[ "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)" = /etc/ahead/policy.ini ]'
ok "Depends names the libraries" 'dpkg-deb -f "$deb" Depends | grep -q "libsqlite3-0.*adduser\|adduser.*libsqlite3-0"'

# Install.
check "dpkg -i" 0 "" -- dpkg -i "$deb"
dpkg-query -W -f='${Status}' ahead 2>/dev/null | grep -q "install ok installed" || die "ahead not installed"
installed=1
dpkg -L ahead > "$T/files"

ok "binary" '[ -x /usr/bin/ahead ]'
check "installed binary runs" 0 "^ahead " -- /usr/bin/ahead --version
ok "ahead(1)" '[ -f /usr/share/man/man1/ahead.1.gz ]'
# one page per command `ahead --help` lists
cmds=$(/usr/bin/ahead --help | awk '/^commands:$/ {on=1; next} on && /^$/ {exit} on {print $1}')
ok "commands listed" '[ -n "$cmds" ]'
for c in $cmds; do ok "ahead-$c(1)" '[ -f /usr/share/man/man1/ahead-$c.1.gz ]'; done
if command -v man >/dev/null; then
  check "man ahead-alloc renders" 0 "ahead-alloc - request an allocation" -- man -P cat -l /usr/share/man/man1/ahead-alloc.1.gz
fi
ok "unit" '[ -f "$UNIT" ]'
ok "policy" '[ -f /etc/ahead/policy.ini ]'
check "installed policy validates" 0 "ok:" -- /usr/bin/ahead policy check /etc/ahead/policy.ini
ok "state dir" '[ -d /var/lib/ahead ]'
ok "user ahead" 'getent passwd ahead >/dev/null'
ok "state dir owned by ahead" '[ "$(stat -c %U:%G:%a /var/lib/ahead)" = ahead:ahead:750 ]'
ok "copyright" '[ -f /usr/share/doc/ahead/copyright ]'

# The installed unit passes systemd-analyze verify (no warning at all).
(cd / && systemd-analyze verify "$UNIT") > "$T/verify" 2>&1; rc=$?
check_rc "systemd-analyze verify" 0 "$rc"
ok "verify says nothing" '[ ! -s "$T/verify" ]'
[ ! -s "$T/verify" ] || sed 's/^/    /' "$T/verify"

# ahead serve, started exactly as the unit starts it: its ExecStart line
# (no quoting in it; a leading - @ : + ! prefix is systemd's, not the
# command's), as its User=, with NOTIFY_SOCKET pointing at a listener that
# records what the daemon tells systemd.
exec_line=$(sed -n 's/^ExecStart=//p' "$UNIT")
exec_line=${exec_line#[-@:+!]}
read -ra argv <<<"$exec_line"
user=$(sed -n 's/^User=//p' "$UNIT")
ok "ExecStart is ahead serve" '[ "${argv[0]}" = /usr/bin/ahead ] && [ "${argv[1]}" = serve ]'
ok "unit has a User" '[ -n "$user" ]'
url=http://127.0.0.1:7070/healthz
# Until `ahead serve` is merged (issue 10 item 1) the binary has no such
# command: everything else still runs, and the test ends as skipped (77)
# rather than passed. Once serve is listed by `ahead --help` this is inert.
has_serve=1
grep -qE '^  serve ' <<<"$(/usr/bin/ahead --help)" || has_serve=0
if [ $has_serve -eq 1 ]; then  # --- the serve steps ---
if curl -fsS --max-time 1 "$url" >/dev/null 2>&1; then die "something already answers $url"; fi
ndir=$(mktemp -d /tmp/ahead-notify.XXXXXX); chmod 0755 "$ndir"
python3 - "$ndir/notify.sock" "$T/notify.log" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o666)
with open(sys.argv[2], "a") as log:
    while True:
        log.write(s.recv(4096).decode(errors="replace") + "\n"); log.flush()
PY
notify_pid=$!
for _ in $(seq 50); do [ -S "$ndir/notify.sock" ] && break; sleep 0.1; done
(cd / && exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin NOTIFY_SOCKET="$ndir/notify.sock" \
   setpriv --reuid="$user" --regid="$user" --init-groups -- "${argv[@]}") > "$T/serve.out" 2>&1 &
server_pid=$!
up=0
for _ in $(seq 100); do  # 10 s
  if curl -fsS --max-time 1 "$url" > "$T/health" 2>/dev/null; then up=1; break; fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
ok "serve answers /healthz within 10 s" '[ $up -eq 1 ]'
[ $up -eq 1 ] || { echo "  ${argv[*]}:"; sed 's/^/    /' "$T/serve.out" | head -20; }
if [ $up -eq 1 ]; then
  for _ in $(seq 20); do grep -q READY=1 "$T/notify.log" 2>/dev/null && break; sleep 0.1; done
  ok "serve said READY=1 on NOTIFY_SOCKET" 'grep -q READY=1 "$T/notify.log"'
  kill -HUP "$server_pid"   # what ExecReload does
  sleep 0.5
  ok "serve still answers after SIGHUP (reload)" 'curl -fsS --max-time 2 "$url" >/dev/null'
  ok "ledger created in the state dir" '[ -f /var/lib/ahead/ledger.db ]'
fi
if kill -TERM "$server_pid" 2>/dev/null; then
  for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$server_pid" 2>/dev/null && { bad "serve still running 10 s after SIGTERM"; kill -KILL "$server_pid"; }
fi
wait "$server_pid"; rc=$?; server_pid=""
check_rc "serve exits 0 on SIGTERM" 0 "$rc"
kill "$notify_pid" 2>/dev/null; wait "$notify_pid" 2>/dev/null; notify_pid=""
rm -rf "$ndir"
else  # --- no serve command ---
  echo "note: /usr/bin/ahead has no 'serve' command yet; the serve steps did not run"
fi

# Remove: the program goes, the configuration and the state stay.
check "dpkg -r" 0 "" -- dpkg -r ahead
ok "binary gone after remove" '[ ! -e /usr/bin/ahead ]'
ok "unit gone after remove" '[ ! -e "$UNIT" ]'
ok "policy kept after remove" '[ -f /etc/ahead/policy.ini ]'
ok "user kept after remove" 'getent passwd ahead >/dev/null'

# Purge: nothing of the package is left. A directory of its list may stay
# only while another package owns it too (/usr/bin, /lib/systemd/system...).
check "dpkg -P" 0 "" -- dpkg -P ahead
installed=0
ok "package unknown to dpkg" '! dpkg-query -W ahead >/dev/null 2>&1'
left=""
while read -r f; do
  [ "$f" = /. ] && continue
  [ -e "$f" ] || [ -L "$f" ] || continue
  [ -d "$f" ] && dpkg -S "$f" >/dev/null 2>&1 && continue
  left="$left $f"
done < "$T/files"
ok "no file of the package left" '[ -z "$left" ]'
[ -z "$left" ] || echo "  left:$left"
for p in /etc/ahead /var/lib/ahead /var/lib/private/ahead /etc/systemd/system/multi-user.target.wants/ahead.service \
         /etc/systemd/system/ahead.service; do
  ok "$p gone after purge" '[ ! -e "$p" ] && [ ! -L "$p" ]'
done
ok "no deb-systemd-helper state left" '! ls /var/lib/systemd/deb-systemd-helper-enabled 2>/dev/null | grep -q ahead'
ok "user gone after purge" '! getent passwd ahead >/dev/null'
ok "group gone after purge" '! getent group ahead >/dev/null'
if [ $has_serve -eq 0 ] && [ "$fail" -eq 0 ]; then
  echo "cli_deb_install: $pass passed, 0 failed"; skip "serve steps not run: ahead has no serve command yet"
fi
finish cli_deb_install

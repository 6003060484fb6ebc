#!/usr/bin/env bash
# Generates the man pages from the --help texts: ahead(1) and one
# ahead-COMMAND(1) per command `ahead --help` lists, with help2man.
# Usage: docs/man/gen-man.sh AHEAD_BINARY OUT_DIR VERSION
# Run by the build (CMake target `man`); the pages are build outputs, never
# committed. A command with subcommands of its own (its --help has a
# "commands:" block, e.g. shadow) gets each subcommand's --help as a section.
# Dates come from SOURCE_DATE_EPOCH, else the last commit, so pages are
# reproducible.
set -euo pipefail
bin=$(realpath "$1"); out=$2; version=$3
here=$(cd "$(dirname "$0")" && pwd)
command -v help2man >/dev/null || { echo "gen-man.sh: help2man not found" >&2; exit 1; }
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git -C "$here" log -1 --format=%ct 2>/dev/null || date +%s)
  export SOURCE_DATE_EPOCH
fi
mkdir -p "$out"; rm -f "$out"/*.1   # a dropped command leaves no stale page
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

# The commands of a --help text: the first word of each line of its
# "commands:" block (indented "  name   description" lines up to a blank).
commands_of() { awk '/^commands:$/ {on=1; next} on && /^$/ {exit} on && /^  [a-z]/ {print $1}'; }
# The one-line description of command $1 in a --help text.
describe_of() { awk -v c="$1" '/^commands:$/ {on=1; next} on && /^$/ {exit}
                               on && $1 == c {$1=""; sub(/^ +/, ""); print; exit}'; }

# help2man reads a synopsis from "Usage: PROG ..." and further forms from
# "  or: PROG ...". Our texts say "usage:" and indent further forms under the
# first, wrapping long ones: capitalise, turn each further "ahead ..." line
# into an "or:" line and join wrapped lines onto the form they continue. A
# "word  text" line at column 0 (policy's check/apply/show) is a term: indent
# it as help2man expects of a term and its description.
cat > "$work/synopsis.awk" <<'AWK'
NR == 1 && /^usage:/ { sub(/^usage:/, "Usage:"); cur = $0; on = 1; next }
on && /^[ \t]*$/ { print cur; on = 0; print; next }
on && /^ +ahead / { print cur; sub(/^ +/, ""); cur = "  or: " $0; next }
on { sub(/^ +/, " "); cur = cur $0; next }
/^[a-z][a-z_-]*  +[a-z]/ { print "  " $0; term = 1; next }  # "word  text" at column 0
term && /^ +[^ ]/ { print "  " $0; next }                    # ... and its indented lines
{ term = 0; print }
END { if (on) print cur }
AWK
# A subcommand's text inside its parent's page: the same joined forms, each
# its own paragraph, without the "usage:" word.
sed -e 's/sub(\/\^usage:\/, "Usage:")/sub(\/^usage: *\/, "")/' \
    -e 's/cur = "  or: " \$0/cur = "\\n" $0/' "$work/synopsis.awk" > "$work/subsynopsis.awk"

# A wrapper program per page, named as the page (help2man takes the page
# name from the program name) printing the filtered --help.
wrapper() { # NAME ARGS... (the ahead arguments before --help)
  local name=$1; shift
  { printf '#!/bin/sh\n'
    printf '"%s"' "$bin"; for a in "$@"; do printf ' "%s"' "$a"; done
    printf ' --help | awk -f "%s"\n' "$work/synopsis.awk"
    # each subcommand of its own, as a section "*ahead CMD SUB*"
    local sub
    for sub in $("$bin" "$@" --help | commands_of); do
      [ $# -eq 0 ] && break  # the top page lists commands; their pages hold the details
      printf 'printf "\\n*%s*\\n\\n"\n' "ahead $* $sub"
      printf '"%s"' "$bin"; printf ' "%s"' "$@" "$sub"; printf ' --help | awk -f "%s"\n' "$work/subsynopsis.awk"
    done
  } > "$work/$name"
  chmod +x "$work/$name"
}

top_help=$("$bin" --help)
cmds=$(commands_of <<<"$top_help")
[ -n "$cmds" ] || { echo "gen-man.sh: no commands in '$bin --help'" >&2; exit 1; }

see_also=".BR ahead (1)"
for c in $cmds; do see_also="$see_also,
.BR ahead-$c (1)"; done

# ahead(1)
wrapper ahead
cat > "$work/ahead.h2m" <<H2M
[FILES]
.TP
.I /etc/ahead/policy.ini
the policy
.B ahead serve
runs with (the format: docs/POLICY.md in the source).
.TP
.I /var/lib/ahead/ledger.db
the daemon's ledger; its shadow store is
.I ledger-shadow.db
beside it.
[ENVIRONMENT]
.TP
.B AHEAD_DB
ledger database when no
.B \-\-db
is given (else
.IR ./ahead.db ).
[SEE ALSO]
$(sed 1d <<<"$see_also")
H2M
help2man -N --no-discard-stderr --version-string="$version" -s 1 -m "ahead manual" \
  -n "$(sed -n 3p <<<"$top_help" | sed 's/^ahead is //; s/\.$//')" \
  -i "$work/ahead.h2m" -o "$out/ahead.1" "$work/ahead"

for c in $cmds; do
  wrapper "ahead-$c" "$c"
  printf '[SEE ALSO]\n.BR ahead (1)\n' > "$work/$c.h2m"
  help2man -N --no-discard-stderr --version-string="$version" -s 1 -m "ahead manual" \
    -n "$(describe_of "$c" <<<"$top_help")" -i "$work/$c.h2m" \
    -o "$out/ahead-$c.1" "$work/ahead-$c"
done
echo "gen-man.sh: $(ls "$out" | wc -l) pages in $out"

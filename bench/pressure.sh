#!/usr/bin/env bash
# bench/run pressure [--size-mib N] [--reps N] [--target-pct P] [--interval-ms N] [--sort-buffer SIZE]
#                    [--headroom-mib N]
#
# Memory sized by pressure (include/ahead/pressure.h) on a page-cache-heavy
# real workload: GNU sort of a generated file of random base64 lines
# (SIZE_MIB, default 2048) with a fixed sort buffer (-S, default 256M), in a
# v1 memory cgroup of its own, run alternately without a limit and with the
# loop driving memory.limit_in_bytes from the PSI of the v2 cgroup the sort
# is also in (bench/pressure_loop.c says how v1's missing memory.high is
# emulated). Before each run the input's page cache is dropped
# (POSIX_FADV_DONTNEED on that file only), so both start cold.
# Root only (skips with exit 0 and a message otherwise).
set -euo pipefail
size_mib=2048 reps=3 target=0.1 interval=1000 buffer=256M headroom_mib=256
while [ $# -gt 0 ]; do
  case "$1" in
  --size-mib) size_mib=$2; shift 2 ;;
  --reps) reps=$2; shift 2 ;;
  --target-pct) target=$2; shift 2 ;;
  --interval-ms) interval=$2; shift 2 ;;
  --sort-buffer) buffer=$2; shift 2 ;;
  --headroom-mib) headroom_mib=$2; shift 2 ;;
  *) echo "bench/pressure: unknown option $1" >&2; exit 2 ;;
  esac
done
B=${AHEAD_BUILD:-build-bench}
if [ "$(id -u)" != 0 ]; then
  echo "pressure: skipped (needs root: makes cgroups)"; exit 0
fi
cc -O2 -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude bench/pressure_loop.c \
  "$B/libahead_linux.a" "$B/libahead_sizing.a" "$B/libahead_core.a" -lm -o "$B/pressure_loop"
work=$(mktemp -d /tmp/ahead-pressure-XXXXXX)
trap 'rm -rf "$work"' EXIT
in=$work/input.txt
# 3 random bytes make 4 base64 characters: size_mib * 3/4 of random bytes.
head -c $((size_mib * 1024 * 1024 * 3 / 4)) /dev/urandom | base64 -w 76 >"$in"
sync
echo "pressure: sort -S $buffer of $(du -h "$in" | cut -f1) random lines; target ${target}% some, interval ${interval} ms, headroom ${headroom_mib} MiB, $reps reps each"
echo "$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB RAM, no swap ($(awk '/SwapTotal/ {print $2}' /proc/meminfo) kB), kernel $(uname -r); others share the machine"
printf '%-6s %3s %8s %10s %10s %10s %10s %10s %10s %7s %7s %8s\n' mode rep wall_s peak_MiB anon_MiB file_MiB mean_MiB limit_MiB psi_ms probes backoff ahead_cpu
declare -A sum_wall sum_peak sum_mean sum_psi
for m in none loop; do sum_wall[$m]=0; sum_peak[$m]=0; sum_mean[$m]=0; sum_psi[$m]=0; done
anon_peak=0 file_peak=0 loop_anon=0 loop_file=0
for r in $(seq 1 "$reps"); do
  # the order alternates between reps: neither mode always runs first
  order="none loop"; [ $((r % 2)) = 0 ] && order="loop none"
  for m in $order; do
    rm -rf "$work/tmp" "$work/out"; mkdir -p "$work/tmp"
    args=(--interval-ms "$interval" --target-pct "$target" --headroom $((headroom_mib << 20)) --drop "$in")
    [ $m = loop ] && args+=(--loop)
    line=$("$B/pressure_loop" "${args[@]}" -- env LC_ALL=C sort -S "$buffer" -T "$work/tmp" -o "$work/out" "$in")
    eval "$(echo "$line" | tr ' ' '\n' | sed 's/^/r_/')"
    if [ "$r_exit" != 0 ]; then echo "pressure: the sort failed ($m, exit $r_exit): $line" >&2; exit 1; fi
    printf '%-6s %3s %8.1f %10d %10d %10d %10.0f %10.0f %10d %7d %7d %8.2f\n' $m "$r" "$r_wall_s" $((r_peak_kernel_bytes >> 20)) \
      $((r_peak_anon_bytes >> 20)) $((r_peak_file_bytes >> 20)) "$(echo "$r_mean_usage_bytes / 1048576" | bc -l)" \
      "$(echo "$r_mean_limit_bytes / 1048576" | bc -l)" $((r_psi_some_us / 1000)) "$r_probes" "$r_backoffs" "$r_own_cpu_s"
    sum_wall[$m]=$(echo "${sum_wall[$m]} + $r_wall_s" | bc -l)
    sum_peak[$m]=$(echo "${sum_peak[$m]} + $r_peak_kernel_bytes" | bc -l)
    sum_mean[$m]=$(echo "${sum_mean[$m]} + $r_mean_usage_bytes" | bc -l)
    sum_psi[$m]=$(echo "${sum_psi[$m]} + $r_psi_some_us" | bc -l)
    if [ $m = none ]; then anon_peak=$r_peak_anon_bytes file_peak=$r_peak_file_bytes; fi
    if [ $m = loop ]; then loop_anon=$r_peak_anon_bytes loop_file=$r_peak_file_bytes; fi
  done
done
rm -rf "$work/tmp" "$work/out"
saved_peak=$(echo "100 * (1 - ${sum_peak[loop]} / ${sum_peak[none]})" | bc -l)
saved_mean=$(echo "100 * (1 - ${sum_mean[loop]} / ${sum_mean[none]})" | bc -l)
cost=$(echo "100 * (${sum_wall[loop]} / ${sum_wall[none]} - 1)" | bc -l)
echo
printf 'unconstrained (last rep): anon peak %d MiB, file peak %d MiB; under the loop: anon %d MiB, file %d MiB\n' \
  $((anon_peak >> 20)) $((file_peak >> 20)) $((loop_anon >> 20)) $((loop_file >> 20))
printf 'peak memory, loop vs unconstrained: %.0f vs %.0f MiB (%.1f%% saved)\n' \
  "$(echo "${sum_peak[loop]} / $reps / 1048576" | bc -l)" "$(echo "${sum_peak[none]} / $reps / 1048576" | bc -l)" "$saved_peak"
printf 'mean memory held: %.0f vs %.0f MiB (%.1f%% saved)\n' \
  "$(echo "${sum_mean[loop]} / $reps / 1048576" | bc -l)" "$(echo "${sum_mean[none]} / $reps / 1048576" | bc -l)" "$saved_mean"
printf 'wall time: %.1f vs %.1f s (%+.1f%%)\n' "$(echo "${sum_wall[loop]} / $reps" | bc -l)" "$(echo "${sum_wall[none]} / $reps" | bc -l)" "$cost"
# Memory stall time (PSI some: at least one task waiting on memory) as a
# share of the wall time: what the loop can have cost, measured without the
# noise of the machine's other users.
stall=$(echo "100 * ${sum_psi[loop]} / 1000000 / ${sum_wall[loop]}" | bc -l)
stall0=$(echo "100 * ${sum_psi[none]} / 1000000 / ${sum_wall[none]}" | bc -l)
printf 'memory stall (PSI some) under the loop: %.2f%% of wall time (unconstrained: %.2f%%)\n' "$stall" "$stall0"
# the headline: the smaller of the two savings
headline=$(echo "if ($saved_peak < $saved_mean) $saved_peak else $saved_mean" | bc -l)
printf '\npressure_memory_saved_pct=%.1f\npressure_wall_cost_pct=%.1f\npressure_stall_pct=%.2f\n' "$headline" "$cost" "$stall"

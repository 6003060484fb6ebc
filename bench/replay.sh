#!/usr/bin/env bash
# bench/run replay: the five allocation policies on the 50 Bitbrains VMs
# (cpu and memory), ahead's quantile sweep, replay speed. Writes
# docs/RESULTS.md and docs/img/replay_*.png; ends with the headline lines
# replay_slack_P_D, replay_violation_P_D, replay_intervals_per_s and the
# offline oracle's oracle_ratio_P_D (policy P's slack over the oracle's at
# P's own change counts per workload-day; every policy at its defaults).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${AHEAD_BIN:?run through bench/run}
BUILD=${AHEAD_BUILD:?run through bench/run}
DATA=${AHEAD_SHARED:-../shared}/data/bitbrains_rnd/rnd/2013-7
if [ ! -d "$DATA" ]; then
  echo "bench replay: Bitbrains traces not found at $DATA" >&2
  exit 2
fi
cmake --build "$BUILD" -j2 --target bench_replay >/dev/null
IMG=docs/img
mkdir -p "$IMG"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# 1. The CLI, end to end (parsing included): table, CSV, JSON, per-policy charts.
"$BIN" replay --trace "$DATA" --format bitbrains --chart-dir "$IMG" --csv "$TMP/metrics.csv" >"$TMP/table.txt"
"$BIN" replay --trace "$DATA" --format bitbrains -o json >"$TMP/cli.json"
# ... and in one shaped pool under examples/replay-shaped.ini's cost model
# (capacity scaled by the scaling loop; queueing and blocked grows count).
"$BIN" replay --trace "$DATA" --format bitbrains --config examples/replay-shaped.ini -o json >"$TMP/shaped.json"
# ... and with the scaler's own forecast alone (before the forecasting layer competed with it)
"$BIN" replay --trace "$DATA" --format bitbrains --config examples/replay-shaped.ini --pool-forecast own -o json \
  >"$TMP/shaped_own.json"
"$BIN" replay --trace "$DATA" --format bitbrains --config examples/replay-shaped.ini --chart-dir "$TMP" >/dev/null
cp "$TMP/replay_ahead.png" "$IMG/replay_shaped_ahead.png"
cp "$TMP/replay_vpa.png" "$IMG/replay_shaped_vpa.png"
rm -f "$IMG"/replay_*.dat
cat "$TMP/table.txt"
echo

# 2. Replay loop speed per policy (trace in memory), defaults, the offline
# oracle, ahead's sweep.
"$BUILD/bench_replay" "$DATA" >"$TMP/bench.txt"
# AHEAD_REPLAY_SAVE=DIR keeps the raw bench output (bench.txt, cli.json) there
if [ -n "${AHEAD_REPLAY_SAVE:-}" ]; then
  mkdir -p "$AHEAD_REPLAY_SAVE" && cp "$TMP/bench.txt" "$TMP/cli.json" "$AHEAD_REPLAY_SAVE/"
fi

# 3. Trade-off charts: ahead's curve as its quantile sweeps, baselines as points.
for D in cpu mem; do
  awk -v d=$D '$1=="sweep" && $3==d {print $5, $4, $2}' "$TMP/bench.txt" >"$TMP/sweep_$D.dat"
  awk -v d=$D '$1=="csweep" && $3==d {print $5, $4, "x" $2}' "$TMP/bench.txt" >"$TMP/csweep_$D.dat"
  awk -v d=$D '$1=="point" && $3==d && $2!="ahead" {print $5, $4, $2}' "$TMP/bench.txt" >"$TMP/points_$D.dat"
  awk -v d=$D '$1=="point" && $3==d && $2=="ahead" {print $5, $4, $2}' "$TMP/bench.txt" >"$TMP/ahead_$D.dat"
  # each baseline's own frontier over its tuning grid (all 50 VMs): the
  # least slack found at or below each violation rate
  for P in threshold vpa autopilot ahead; do
    awk -v d=$D -v p=$P '$1=="frontier" && $2==p && $3==d {print $5, $4}' "$TMP/bench.txt" | sort -g |
      awk 'BEGIN {best = 1e300} $2 < best {best = $2; print $1, $2}' >"$TMP/front_${P}_$D.dat"
  done
  title=$([ $D = cpu ] && echo "cpu" || echo "memory")
  gnuplot <<EOF
set terminal pngcairo size 900,560 font ',10'
set output "$IMG/replay_sweep_$D.png"
set title "$title: slack vs violations, 50 Bitbrains VMs (ahead's quantile p40..p99.99; baselines at defaults and their grids' frontiers)"
set xlabel "violations (% of workload-intervals, log scale)"
set ylabel "slack = idle reserved / used (log scale)"
set logscale xy
set grid
set key bottom left
plot "$TMP/sweep_$D.dat" using 1:2 with linespoints lw 2 pt 7 lc rgb '#d62728' title 'ahead (quantile sweep)', \
     "$TMP/sweep_$D.dat" using 1:2:((\$3==0.4 || \$3==0.6 || \$3==0.8 || \$3==0.9 || \$3==0.95 || \$3==0.98 || \$3==0.995 || \$3==0.9999) ? sprintf("%.5g", \$3) : "") with labels offset 2.2,0.6 font ',8' notitle, \
     "$TMP/csweep_$D.dat" using 1:2 with linespoints lw 1.5 dt 2 pt 6 lc rgb '#ff7f0e' title 'ahead (violation cost sweep, quantile 0.9999)', \
     "$TMP/ahead_$D.dat" using 1:2 with points pt 9 ps 2 lc rgb '#d62728' title 'ahead (defaults)', \
     "$TMP/points_$D.dat" using 1:2 with points pt 5 ps 1.6 lc rgb '#1f77b4' title 'baselines (defaults)', \
     "$TMP/front_threshold_$D.dat" using 1:2 with steps lw 1.5 lc rgb '#2ca02c' title 'threshold (frontier of its grid)', \
     "$TMP/front_vpa_$D.dat" using 1:2 with steps lw 1.5 lc rgb '#1f77b4' title 'vpa (frontier of its grid)', \
     "$TMP/front_autopilot_$D.dat" using 1:2 with steps lw 1.5 lc rgb '#9467bd' title 'autopilot (frontier of its grid)', \
     "$TMP/front_ahead_$D.dat" using 1:2 with steps lw 1 dt 3 lc rgb '#d62728' title 'ahead (frontier of its grid)', \
     "$TMP/points_$D.dat" using 1:2:3 with labels offset 0,-1.1 font ',9' notitle
EOF
done

# 4. docs/RESULTS.md and the headline lines.
python3 - "$TMP/cli.json" "$TMP/bench.txt" "$TMP/table.txt" "$TMP/shaped.json" "$TMP/shaped_own.json" <<'PYEOF'
import json, sys, math, datetime, subprocess
cli = json.load(open(sys.argv[1]))
shaped = json.load(open(sys.argv[4]))
shaped_own = json.load(open(sys.argv[5]))
bench = [l.split() for l in open(sys.argv[2])]
table = open(sys.argv[3]).read()
# the CLI names dimensions as the policy does (cpu, memory); this script
# and its headline lines say cpu, mem
def dkey(d):
    return "mem" if d == "memory" else d
res = {(r["policy"], dkey(r["dim"])): r for r in cli["results"]}
speed = {l[1]: (int(l[2]), float(l[3]), float(l[4])) for l in bench if l[0] == "speed"}
sweep = {}
csweep = {}
sweep_x = {}
csweep_x = {}
half = {(l[1], l[2], l[3]): (float(l[4]), float(l[5])) for l in bench if l[0] == "half"}
orc = {(l[1], l[2]): tuple(float(x) for x in l[3:8]) for l in bench if l[0] == "oracle"}
orc_k = {}
for l in bench:
    if l[0] == "oracle_k":
        orc_k.setdefault(l[2], []).append((int(l[1]), float(l[3])))
orc_time = [float(l[1]) for l in bench if l[0] == "oracle_time"][0]
# issue 13: settings chosen elsewhere
grids = [(l[1], l[2], l[3:]) for l in bench if l[0] == "grid"]
fairl = {}
for l in bench:
    if l[0] == "fair":
        v = [float(x) for x in l[4:22]]
        fairl[(l[1], l[2], dkey(l[3]))] = dict(
            ratio=v[0], ratio_same=v[1],
            a=v[2:6], a_same=v[6:10], p=v[10:14], pdef=v[14:18],
            counts=int(l[22]), counts_same=int(l[23]))
xstar = [l for l in bench if l[0].startswith("xstar_")]
kill = {l[1]: [float(x) for x in l[2:7]] for l in bench if l[0] == "kill"}
orcf = {}
for l in bench:
    if l[0] == "oracle_fair" and len(l) > 3:
        orcf[dkey(l[1])] = [float(x) for x in l[2:8]]
fair_time = [float(l[1]) for l in bench if l[0] == "fair_time"][0]
hind2 = {}
for l in bench:
    if l[0] == "hindsight2":
        hind2.setdefault(dkey(l[1]), []).append(tuple(float(x) for x in l[2:7]))
hind_rules = [int(l[2]) for l in bench if l[0] == "hindsight_rules"][0]
point = {(l[1], l[2]): [float(x) for x in l[3:7]] for l in bench if l[0] == "point"}

def hind_bound(d, viol, short):
    """the hindsight family's least pooled slack at violation share <= viol
    and shortfall <= short: (a lower bound by weak duality, the least slack
    of the Lagrangian points that meet both, or nan)"""
    pts = hind2.get(d, [])
    lb = max((sl + lam * (sh - short) + nx * (v - viol) for lam, nx, sl, sh, v in pts), default=float("nan"))
    feas = [sl for lam, nx, sl, sh, v in pts if sh <= short and v <= viol]
    return lb, (min(feas) if feas else float("nan"))
cold = [(l[1], float(l[2]), dkey(l[3])) + tuple(float(x) for x in l[4:9]) for l in bench if l[0] == "cold"]
halfshort = {(l[1], l[2], l[3]): (float(l[6]), float(l[7])) for l in bench if l[0] == "half" and len(l) > 7}
for l in bench:
    if l[0] == "csweep":
        csweep.setdefault(l[2], []).append((float(l[1]), float(l[3]), float(l[4]), int(l[5])))
        csweep_x.setdefault(l[2], []).append((float(l[6]), float(l[7])))
        sweep_x.setdefault(l[2], []).append((float(l[6]), float(l[7])))
    if l[0] == "sweep":
        sweep.setdefault(l[2], []).append((float(l[1]), float(l[3]), float(l[4]), int(l[5])))
        sweep_x.setdefault(l[2], []).append((float(l[6]), float(l[7])))
pols = ["static", "threshold", "vpa", "autopilot", "ahead"]
dims = ["cpu", "mem"]
base_speed = min(speed[p][2] for p in pols if p != "ahead")

def rph(r):
    """resizes per workload-hour of a CLI result (5-minute intervals)"""
    return r["resizes"] / (r["intervals"] * 300.0 / 3600.0) if r["intervals"] else 0.0

def interp(pts, viol):
    pts = sorted(pts, key=lambda x: x[2])
    for (q1, s1, v1, _), (q2, s2, v2, _) in zip(pts, pts[1:]):
        if v1 <= viol <= v2 and v1 > 0:
            f = (math.log(viol) - math.log(v1)) / (math.log(v2) - math.log(v1))
            return math.exp(math.log(s1) + f * (math.log(s2) - math.log(s1)))
    return None

def slack_at(dim, viol):
    """ahead's slack at a given violation rate: log-log interpolation on its
    quantile sweep and on its violation-cost sweep, the lower of the two."""
    c = [x for x in (interp(sweep[dim], viol), interp(csweep[dim], viol)) if x is not None]
    return min(c) if c else None

def ends(dim):
    """ahead's least and most conservative points over both sweeps."""
    pts = sweep[dim] + csweep[dim]
    return (max(pts, key=lambda x: (x[2], -x[1])), min(pts, key=lambda x: (x[2], x[1])))

try:
    commit = subprocess.check_output(["git", "describe", "--always", "--dirty"], text=True).strip()
except Exception:
    commit = "?"
out = []
w = out.append
w("# Replay results: allocation policies on the Bitbrains traces")
w("")
w("Generated by `bench/run replay` (bench/replay.sh) at commit %s on %s UTC; do not edit by hand." %
  (commit, datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M")))
w("Policies, metrics and trace handling: [REPLAY.md](REPLAY.md).")
w("")
w("Data: GWA-T-12 Bitbrains Rnd, VMs 1-50, July 2013 (one sample per 5 min, about 30 days;")
w("%d cpu and %d memory workload-intervals). Each policy decides the reservation of every" %
  (res[("static", "cpu")]["intervals"], res[("static", "mem")]["intervals"]))
w("workload for the next interval from the past only, then sees the usage.")
w("")
w("- slack = sum(max(0, reserved - used)) / sum(used): idle reserved capacity per unit used;")
w("- violations = share of workload-intervals whose usage exceeded the reservation;")
w("- shortfall = sum(max(0, used - reserved)) / sum(used): demand that was not covered;")
w("- cost = reserved core-hours x $%.4f + GiB-hours x $%.4f (illustrative list prices)." % (0.0316, 0.0042))
w("")
# ---- issue 13: settings chosen elsewhere, scored here (the headline) ----
def fmt(x, f="%.3f"):
    return "n/a" if x != x else f % x
bases = ["threshold", "vpa", "autopilot"]
w("## Headline: settings chosen on one part of the data, scored on another")
w("")
w("Every side's setting is chosen on one part of the workloads and scored on the other (bench_replay's")
w("`chosen_elsewhere`, grids below). Halves: A = odd VM ids, B = even. For scoring half S with tuning")
w("half T, each side's x\\* is its grid point with the least slack on T subject to: violations on T at")
w("most those of baseline P's default on T, shortfall on T at most P's default's, and for ahead")
w("resizes per workload-hour on T at most R. Slack = Σ max(0, r − u) / Σ u pooled over both scoring")
w("halves. `fair_slack_ratio_P_D` = ahead's pooled held-out slack / P's (P at its own tuned x\\*), with")
w("R = max(P's default resize rate, 1 per workload-hour); `_same_resizes` with R = P's default rate.")
w("A ratio counts only where ahead's held-out violations and shortfall are at most 1.1 × P's")
w("default's. For memory, violations are crossings of the soft level (the reservation). Target: ≤ 0.7.")
w("Time split: chosen on the month's first half, scored on its second (one replay runs through the")
w("month, so the second half is scored with what each policy learned in the first; no look-ahead).")
w("\"in-sample\" columns: x\\* chosen on the scoring part itself.")
w("")
w("| P | dim | split | fair ratio (out) | in-sample | same resizes (out) | in-sample | ahead slack / viol % / shortfall / resizes per wl-h (out) | P x\\* slack / viol % / shortfall / rph (out) | P default viol % / shortfall | counts |")
w("|---|---|---|---:|---:|---:|---:|---|---|---|---|")
for P in bases:
    for d in dims:
        for sp, tin in (("halves", "halves_in"), ("time", "time_in")):
            o, i_ = fairl[(sp, P, d)], fairl[(tin, P, d)]
            a, b, pd = o["a"], o["p"], o["pdef"]
            w("| %s | %s | %s | %s | %s | %s | %s | %.3f / %.3f / %.4f / %.3f | %.3f / %.3f / %.4f / %.3f | %.3f / %.4f | %s |" % (
                P, d, sp, fmt(o["ratio"]), fmt(i_["ratio"]), fmt(o["ratio_same"]), fmt(i_["ratio_same"]),
                a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3], pd[1], pd[2],
                ("yes" if o["counts"] else "**no**") + " / " + ("yes" if o["counts_same"] else "**no**")))
w("")
w("(\"n/a\": no ahead grid point meets the constraints on the tuning part; for `same resizes` that")
w("means ahead's grid cannot get down to P's default resize rate. counts: ratio / same-resizes ratio.)")
w("")
met = [(P, d) for P in bases for d in dims if fairl[("halves", P, d)]["ratio"] <= 0.7 and fairl[("halves", P, d)]["counts"]]
miss = [(P, d) for P in bases for d in dims if (P, d) not in met]
w("Target `fair_slack_ratio_P_D` ≤ 0.7 (halves, out-of-sample): met for %s; **not met** for %s." % (
    ", ".join("%s %s (%.2f)" % (P, d, fairl[("halves", P, d)]["ratio"]) for P, d in met) or "none",
    ", ".join("%s %s (%s, %s)" % (P, d, fmt(fairl[("halves", P, d)]["ratio"], "%.2f"),
                                  "by %.0f%%" % (100 * (fairl[("halves", P, d)]["ratio"] / 0.7 - 1))
                                  if fairl[("halves", P, d)]["ratio"] == fairl[("halves", P, d)]["ratio"] else "no feasible setting")
              for P, d in miss) or "none"))
w("")
w("How far the targets are from simple rules, read in hindsight (`hindsight2` lines; a reading, not")
w("a bound on every policy): give each VM, knowing its whole month and with no resize limit, the best")
w("of %d rules \"reserve the largest of the last w samples × (1 + m)\" (w = 1 … 576 samples, m = 0 … 0.5)," % hind_rules)
w("with one price of shortfall and one of a violation for all VMs. Each pair of prices gives a point of")
w("the family's pooled frontier; by weak duality they give a **lower bound** on the family's least")
w("pooled slack within a budget of violations and shortfall (here P's default's on the whole month),")
w("and the least slack of the points inside the budget is what the family was seen to reach.")
w("")
w("| P | dim | budget: violations % / shortfall | family's least slack, lower bound | family, reached | 0.7 × P's tuned held-out slack (the target) | ahead's held-out slack |")
w("|---|---|---|---:|---:|---:|---:|")
hind = {}  # (P, d): (lower bound, reached, target, ahead's held-out slack)
for P in bases:
    for d in dims:
        if (P, d) in point and ("halves", P, d) in fairl:
            o = fairl[("halves", P, d)]
            v, sh = point[(P, d)][1], point[(P, d)][2]
            lb, reach = hind_bound(d, v / 100, sh)
            hind[(P, d)] = (lb, reach, 0.7 * o["p"][0], o["a"][0])
            w("| %s | %s | %.3f / %.4f | %s | %s | %.3f | %s |" % (P, d, v, sh, fmt(lb), fmt(reach), 0.7 * o["p"][0],
                                                              fmt(o["a"][0])))
w("")
for (P, d), (lb, reach, tgt, ah) in hind.items():
    if (P, d) in met:
        continue
    if ah < lb:
        w("- %s %s: ahead's held-out slack (%.3f) is already %.0f%% below the family's lower bound (%.3f): ahead"
          " does better than any choice of these rules per VM made knowing the month; the target (%.3f) is %.1f%%"
          " below ahead's." % (P, d, ah, 100 * (1 - ah / lb), lb, tgt, 100 * (1 - tgt / ah)))
    elif tgt < lb:
        w("- %s %s: the target (%.3f) is %.0f%% below the family's lower bound (%.3f): no choice of these rules per"
          " VM, made knowing the month and resizing freely, meets it; ahead's held-out slack is %.3f, %.0f%% above"
          " the bound." % (P, d, tgt, 100 * (1 - tgt / lb), lb, ah, 100 * (ah / lb - 1)))
    else:
        w("- %s %s: the target (%.3f) is above the family's lower bound (%.3f); ahead's held-out slack is %.3f." % (
            P, d, tgt, lb, ah))
hind_orc = {}  # d: (the family's lower bound at vpa's budget, its ratio to the oracle's slack)
for d in dims:
    if d in orcf and ("vpa", d) in point:
        lb = hind_bound(d, point[("vpa", d)][1] / 100, point[("vpa", d)][2])[0]
        hind_orc[d] = (lb, lb / orcf[d][2] if orcf[d][2] > 0 else float("nan"))
if hind_orc:
    w("- the oracle target (ahead's slack at most 1.5 × the oracle's at ahead's changes, ahead within vpa's"
      " default's violations and shortfall): at vpa's budget the family's lower bound is %s." % "; ".join(
          "%s %.4f, %.1f × the oracle's %.4f" % (d, hind_orc[d][0], hind_orc[d][1], orcf[d][2]) for d in dims
          if d in hind_orc))
w("")
w("Grids (every point replayed on the whole month, each dimension on its own; the defaults are grid")
w("points; knobs that do not act on a dimension are held at their first value there):")
w("")
for g in grids:
    w("- %s `%s`: %s" % (g[0], g[1], ", ".join(g[2])))
w("")
w("ahead's `dwell_h` = 1 joined the grid in session 13, after a look at the whole month in-sample")
w("(a one-hour dwell put ahead's cpu beside tuned threshold's frontier, two hours above it), and")
w("`peak_cap` (the reservation at most the last 48 h's peak usage × (1 + peak_cap); −1: no cap, the")
w("default) in session 23, after a look at the whole month's memory in-sample (at autopilot's")
w("shortfall it took about 5% off ahead's least slack); it is swept on memory only, to keep the")
w("bench's time. So the grid itself was not chosen blind; the settings within it are chosen on the")
w("other part as above.")
w("")
w("<details><summary>Chosen settings (x*) per scoring part</summary>")
w("")
w("```")
for l in xstar:
    w(" ".join(l))
w("```")
w("")
w("</details>")
w("")
w("### The limit: ahead against the offline oracle at ahead's x\\* for vpa")
w("")
w("Per workload-day (UTC, 288 samples) the oracle knows the day's usage, may change its level at most")
w("as many times as ahead did that day (the day's first level is free) and leaves no interval")
w("uncovered, computed exactly by dynamic programming over segments (`src/sim/oracle.c`). ahead runs")
w("at its x\\* for vpa (each half at the setting chosen on the other), so its violations stay within")
w("vpa's default's; ratio = ahead's pooled slack / the oracle's. Target ≤ 1.5.")
w("")
w("| dim | ratio | ahead slack | oracle slack | ahead violations % | ahead shortfall | ahead resizes per wl-h |")
w("|---|---:|---:|---:|---:|---:|---:|")
for d in dims:
    if d in orcf:
        o = orcf[d]
        w("| %s | %.2f | %.3f | %.4f | %.3f | %.4f | %.3f |" % (d, o[0], o[1], o[2], o[3], o[4], o[5]))
w("")
for d in dims:
    if d in orcf and orcf[d][0] > 1.5:
        w("- %s: **target not met**: %.2f is %.1f× the target. The oracle is given ahead's own change count" %
          (d, orcf[d][0], orcf[d][0] / 1.5))
        w("  per day, and at ahead's resize rate that count lets it follow each day's usage closely.")
w("")
w("### Two-level memory: kills")
w("")
w("ahead sets two memory levels (what the Linux enforcer sets): the reservation as `memory.high` (the")
w("soft level: reclaim and throttling above it) and a safety net as `memory.max` (the hard level: the")
w("kernel kills the work above it) = max(reservation, the last 48 h's peak usage) × (1 + hard_margin).")
w("Every baseline as ported sets one level: its kill level is its reservation. Slack is counted")
w("against the soft level. ahead's setting (violation cost × hard margin, grid above) is the one with")
w("the fewest kills on the tuning part whose sum of hard levels there is at most the sum of vpa's")
w("default reservations; scored on the other part.")
w("")
w("| split | ahead kills % | vpa kills % | hard commit ratio (Σ ahead hard / Σ vpa reservations) | ahead soft crossings % | ahead slack |")
w("|---|---:|---:|---:|---:|---:|")
for sp in ("halves", "time"):
    if sp in kill:
        k = kill[sp]
        w("| %s | %.4f | %.4f | %.3f | %.3f | %.3f |" % (sp, k[0], k[1], k[2], k[3], k[4]))
w("")
if "halves" in kill:
    k = kill["halves"]
    w("Target ahead ≤ vpa: %s (%.4f%% against %.4f%% of workload-intervals)." %
      ("met" if k[0] <= k[1] else "**not met**", k[0], k[1]))
w("")
w("### Closing note")
w("")
w("Out-of-sample (halves), the issue's headline lines:")
w("")
for P in bases:
    for d in dims:
        o = fairl[("halves", P, d)]
        r_ = o["ratio"]
        hint = ""
        if (P, d) in hind and not r_ <= 0.7:
            lb, _, tgt, ah = hind[(P, d)]
            if ah < lb:
                hint = "; in hindsight (above) ahead's slack %.3f is already below the window-max family's lower bound %.3f" % (
                    ah, lb)
            else:
                hint = "; in hindsight (above) the target slack %.3f is %s the window-max family's lower bound %.3f" % (
                    tgt, "below" if tgt < lb else "above", lb)
        w("- `fair_slack_ratio_%s_%s` = %s (target ≤ 0.7: %s); `_same_resizes` = %s%s%s." % (
            P, d, fmt(r_), ("met" if r_ <= 0.7 else "not met, %.0f%% over" % (100 * (r_ / 0.7 - 1))) if r_ == r_ else "no feasible setting",
            fmt(o["ratio_same"]), "" if o["ratio_same"] == o["ratio_same"] else
            " (ahead's grid has no setting at %s's default resize rate, %.3f per workload-hour)" % (P, o["pdef"][3]), hint))
for d in dims:
    if d in orcf:
        o = orcf[d]
        w("- `oracle_ratio_ahead_%s` = %.2f (target ≤ 1.5: %s), ahead at %.3f resizes per workload-hour%s." % (
            d, o[0], "met" if o[0] <= 1.5 else "not met, %.1f× the target" % (o[0] / 1.5), o[5],
            "; the window-max family's hindsight lower bound at vpa's budget is %.1f× the oracle's slack" % hind_orc[d][1]
            if d in hind_orc and o[0] > 1.5 else ""))
if "halves" in kill:
    k = kill["halves"]
    w("- `kill_violation_ahead_mem` = %.4f%% against `kill_violation_vpa_mem` = %.4f%% (target ahead ≤ vpa: %s) at `hard_commit_ratio_ahead_mem` = %.3f." % (
        k[0], k[1], "met" if k[0] <= k[1] else "not met", k[2]))
w("")
w("The settings behind each number are listed under \"Chosen settings\" above. Every ahead setting")
w("reported in this section was chosen on the other half of the VMs (or on the month's first half);")
w("the defaults tables below are in-sample for ahead.")
w("")
w("### Cold start: holding the requested size")
w("")
w("ahead's cold-start prior (`cold_hold_s`): the reservation is at least the workload's requested")
w("(provisioned) size for that long after its first sample, until the forecast has earned trust;")
w("then the hysteresis lets it down in one step. Whole month, both halves; \"first day\" = each")
w("workload's first 24 h. At the defaults and at ahead's conservative end (quantile 0.9999, no")
w("violation cost), where most violations fall in the first day:")
w("")
w("| setting | hold (h) | dim | slack | violations % | shortfall | first-day violations % | share of violations in the first day |")
w("|---|---:|---|---:|---:|---:|---:|---:|")
for c in cold:
    w("| %s | %g | %s | %.3f | %.4f | %.5f | %.3f | %.0f%% |" % (c[0], c[1], c[2], c[3], c[4], c[5], c[6], 100 * c[7]))
w("")
w("The hold is off by default (`cold_hold_s = 0`): it is measured here, not yet chosen elsewhere.")
w("")
w("## All policies at their defaults")
w("")
w("ahead runs at its defaults: quantile cpu=%.4g, mem=%.4g; violation cost cpu=%g cores, mem=%g GiB." %
  (cli["quantile_cpu"], cli["quantile_memory"], cli["violation_cost_cpu_cores"], cli["violation_cost_memory_gib"]))
w("")
w("| policy | dim | slack | net slack | violations % | shortfall | resizes | resizes per workload-hour | mean reserved | cost $ |")
w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for d in dims:
    for p in pols:
        r = res[(p, d)]
        unit = "cores" if d == "cpu" else "GiB"
        hours = 300.0 * r["intervals"] / 3600.0
        meanres = r["unit_hours"] / hours if hours else 0
        w("| %s | %s | %.3f | %.3f | %.3f | %.4f | %d | %.3f | %.3f %s | %.0f |" %
          (p, d, r["slack"], r["net_slack"], r["violation_pct"], r["shortfall"], r["resizes"],
           rph(r), meanres * 50, unit, r["cost_usd"]))
w("")
w("(net slack = sum(reserved - used) / sum(used), where shortfalls offset idle capacity; mean reserved:")
w("summed over the 50 VMs.)")
w("")
for d in dims:
    a, v = res[("ahead", d)], res[("vpa", d)]
    red = 100.0 * (1 - a["slack"] / v["slack"])
    at = slack_at(d, v["violation_pct"])
    line = ("**%s**: ahead reserves %.3f idle per unit used vs vpa's %.3f (%.0f%% less slack) "
            "at %.3f%% violations vs vpa's %.3f%%." % (d, a["slack"], v["slack"], red,
                                                       a["violation_pct"], v["violation_pct"]))
    if at:
        line += (" Read off ahead's sweeps at exactly vpa's violation rate, its slack is %.3f "
                 "(%.0f%% less)." % (at, 100.0 * (1 - at / v["slack"])))
    w(line)
    w("")
w("### ahead against each baseline at the same violation rate")
w("")
w("ahead's slack at each baseline's violation rate, read off its two sweeps below (log-log")
w("interpolation; the lower of the quantile sweep and the violation-cost sweep). \"below\" means")
w("ahead's trade-off curve passes under the baseline's point on the charts:")
w("")
w("| baseline | dim | baseline violations % | baseline slack | ahead slack at that rate | ahead vs baseline | curve below the point? |")
w("|---|---|---:|---:|---:|---:|---|")
verdict = {}
for d in dims:
    verdict[d] = []
    for p in pols:
        if p == "ahead":
            continue
        r = res[(p, d)]
        at = slack_at(d, r["violation_pct"])
        if at is None:
            hi, lo = ends(d)
            if r["violation_pct"] < lo[2]:
                note = "outside: ahead's fewest violations are %.3f%% (slack %.3f)" % (lo[2], lo[1])
            else:
                note = "outside: ahead's most violations are %.3f%% (slack %.3f)" % (hi[2], hi[1])
            w("| %s | %s | %.3f | %.3f | %s | - | not reached |" % (p, d, r["violation_pct"], r["slack"], note))
            verdict[d].append((p, None))
        else:
            w("| %s | %s | %.3f | %.3f | %.3f | %+.0f%% slack | %s |" % (p, d, r["violation_pct"], r["slack"], at,
                                                                       100.0 * (at / r["slack"] - 1),
                                                                       "yes" if at < r["slack"] else "**no**"))
            verdict[d].append((p, at < r["slack"]))
w("")
for d in dims:
    yes = [p for p, v in verdict[d] if v]
    no = [p for p, v in verdict[d] if v is False]
    out_ = [p for p, v in verdict[d] if v is None]
    if not no and not out_:
        w("- **%s**: ahead's curve lies below every baseline point (%s)." % (d, ", ".join(yes)))
    else:
        parts = []
        if yes:
            parts.append("below %s" % ", ".join(yes))
        if no:
            parts.append("**above** %s" % ", ".join(no))
        if out_:
            parts.append("does not reach %s's violation rate" % ", ".join(out_))
        w("- **%s**: ahead's curve lies %s." % (d, "; ".join(parts)))
w("")
tc, tm = res[("threshold", "cpu")], res[("threshold", "mem")]
atc, atm = slack_at("cpu", tc["violation_pct"]), slack_at("mem", tm["violation_pct"])
sm = res[("static", "mem")]
lo_m = ends("mem")[1]
w("Honest notes. The reactive `threshold` policy (HPA rule, 70% target, 100 m / 128 MiB replicas) is")
w("the strongest baseline on this data: on cpu slack %.3f at %.3f%% violations (ahead at that rate: %s);" %
  (tc["slack"], tc["violation_pct"], ("%.3f" % atc) if atc else "n/a"))
w("on memory %.3f at %.2f%% violations (ahead at that rate: %s), a violation rate no other policy comes" %
  (tm["slack"], tm["violation_pct"], ("%.3f" % atm) if atm else "n/a"))
w("near. On memory two things get ahead there: its per-workload choice of point forecast settles on")
w("the last sample for most VMs, whose memory is smooth and sticky (what the HPA rule reacts to as")
w("well), and a low violation cost rather than a low quantile: the cost sweep thins the margin where")
w("covering a workload's rare jumps would cost more capacity than the violations are worth, while a")
w("lower quantile thins every workload's margin alike.")
if slack_at("mem", sm["violation_pct"]) is None:
    w("static's memory point (%.3f%% violations at slack %.1f) is out of ahead's reach: static misses only" %
      (sm["violation_pct"], sm["slack"]))
    w("where a VM uses more than its provisioned memory. ahead's fewest violations are %.3f%% (slack %.2f," %
      (lo_m[2], lo_m[1]))
    w("its most conservative setting): usage beyond what the workload's last days support (new highs,")
    w("slowly rising levels, a workload's first hours). Covering those takes holding about the")
    w("provisioned size all the time, which is static itself; so static is not dominated there, it is")
    w("the far end of the trade-off.")
w("ahead resizes far more often than vpa (in-place resizing is assumed cheap; vpa applies a")
w("change only past 10%, and evicts to do so).")
w("static's %.1f%% cpu violations are real: busy VMs report up to 106%% of their provisioned MHz." %
  res[("static", "cpu")]["violation_pct"])
w("The ahead defaults (quantile, violation costs, score scales) and its design choices (forecast")
w("candidates, no daily-profile floor) were chosen looking at this same month of data, so this")
w("section is in-sample for ahead while the baselines run their stock defaults; the headline section")
w("above compares settings chosen on one half of the data and scored on the other instead.")
w("The Bitbrains months 2013-8 and 2013-9 are the natural holdout (not in ../shared yet).")
w("")
w("### Stability: each half of the month on its own")
w("")
w("The same defaults, each half of the time span replayed alone (every policy starts cold). The")
w("defaults were chosen on the whole month, so this checks stability, not generalisation:")
w("")
w("| policy | dim | slack, 1st half | violations %, 1st half | shortfall, 1st half | slack, 2nd half | violations %, 2nd half | shortfall, 2nd half |")
w("|---|---|---:|---:|---:|---:|---:|---:|")
for d in dims:
    for p in pols:
        a1, a2 = half[("1", p, d)], half[("2", p, d)]
        s1, s2 = halfshort[("1", p, d)][0], halfshort[("2", p, d)][0]
        w("| %s | %s | %.3f | %.3f | %.4f | %.3f | %.3f | %.4f |" % (p, d, a1[0], a1[1], s1, a2[0], a2[1], s2))
w("")
for d in dims:
    parts = []
    for h in ("1", "2"):
        a, v = half[(h, "ahead", d)], half[(h, "vpa", d)]
        parts.append("half %s: %.0f%% less slack than vpa at %.3f%% vs %.3f%% violations" %
                     (h, 100 * (1 - a[0] / v[0]), a[1], v[1]))
    w("- %s: %s." % (d, "; ".join(parts)))
w("")
w("### Against the offline oracle: the limit")
w("")
w("The offline oracle knows each workload's future. Per workload-day (UTC days of 288 samples) it")
w("holds a constant reservation between changes, covers every interval (r >= u: no violations) and")
w("leaves the least slack, computed exactly by dynamic programming over segments (`src/sim/oracle.c`,")
w("REPLAY.md). Each policy is held to its own budget: on each workload-day the oracle may change its")
w("level as many times as the policy did that day (the level at the day's start is free). ratio =")
w("the policy's slack / the oracle's slack, both pooled over all workload-intervals.")
w("")
w("**Every policy runs at its default setting** (the table above), ahead included; the headline")
w("section above holds ahead at its x\\* for vpa instead. The policies' violations are not charged;")
w("the oracle has none.")
w("")
w("| policy | dim | slack | violations % | oracle slack at the policy's changes | ratio | changes per workload-hour (within days) | resizes per workload-hour (all) |")
w("|---|---|---:|---:|---:|---:|---:|---:|")
for d in dims:
    for p in pols:
        os_, sl, ratio, ch, rs = orc[(p, d)]
        w("| %s | %s | %.3f | %.3f | %.4f | %.2f | %.3f | %.3f |" % (p, d, sl, res[(p, d)]["violation_pct"], os_,
                                                                  ratio, ch, rs))
w("")
w("The oracle with the same budget on every workload-day:")
w("")
w("| changes per workload-day | " + " | ".join("%s oracle slack" % d for d in dims) + " |")
w("|---:|" + "---:|" * len(dims))
for (k, sc), (_, sm) in zip(orc_k["cpu"], orc_k["mem"]):
    w("| %d | %.4f | %.4f |" % (k, sc, sm))
w("")
for d in dims:
    a = orc[("ahead", d)]
    hit = [k for k, sk in orc_k[d] if sk <= a[1]]
    w("- **%s**: ahead's slack %.3f is %.1f times the oracle's at ahead's own %.1f changes per workload-day%s" %
      (d, a[1], a[2], a[3] * 24, ("; the oracle matches it with %d change%s per workload-day." %
                                     (hit[0], "" if hit[0] == 1 else "s")) if hit else "."))
w("")
far = [d for d in dims if orc[("ahead", d)][2] > 1.5]
if far:
    w("Far from the target of 1.5%s: ahead resizes often, and with that many changes the oracle follows" %
      ("" if len(far) == len(dims) else " on " + ", ".join(far)))
    w("usage almost exactly; ahead's margin is for what it cannot know.")
else:
    w("Within the target of 1.5 on every dimension.")
w("")
w("## Trade-off: ahead's quantile sweep against the baselines")
w("")
w("Each baseline is drawn at its defaults (squares) and as the frontier of its own tuning grid")
w("(the grids printed above, every setting replayed on all 50 VMs: the least slack each reaches at or")
w("below a violation rate; in-sample for every side alike, so the chart shows what each policy can")
w("reach at all, and the held-out tables above what tuning elsewhere buys).")
w("")
for d in dims:
    w("![%s sweep](img/replay_sweep_%s.png)" % (d, d))
    w("")
w("With the default violation cost; at high quantiles on cpu the cost, not the quantile, binds, so")
w("the curve flattens there and the violation-cost sweep below carries it on.")
w("")
w("| quantile | cpu slack | cpu violations % | cpu shortfall | cpu resizes / wl-h | mem slack | mem violations % | mem shortfall | mem resizes / wl-h |")
w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for (q, sc, vc, rc), (_, sm, vm, rm), xc, xm in zip(sweep["cpu"], sweep["mem"], sweep_x["cpu"], sweep_x["mem"]):
    w("| %.4g | %.3f | %.3f | %.4f | %.3f | %.3f | %.3f | %.4f | %.3f |" % (q, sc, vc, xc[0], xc[1], sm, vm, xm[0], xm[1]))
w("")
w("The violation cost is ahead's other knob (REPLAY.md): with the quantile at 0.9999 as a ceiling,")
w("scaling the default cost by F traces this curve (dashed on the charts); \"off\" is no cost at all,")
w("the pure 0.9999 quantile, ahead's most conservative setting:")
w("")
w("| F | cpu slack | cpu violations % | cpu shortfall | cpu resizes / wl-h | mem slack | mem violations % | mem shortfall | mem resizes / wl-h |")
w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for (f, sc, vc, rc), (_, sm, vm, rm), xc, xm in zip(csweep["cpu"], csweep["mem"], csweep_x["cpu"], csweep_x["mem"]):
    w("| %s | %.3f | %.3f | %.4f | %.3f | %.3f | %.3f | %.4f | %.3f |" % ("%g" % f if f > 0 else "off", sc, vc, xc[0], xc[1], sm, vm, xm[0], xm[1]))
w("")
w("## In one shaped pool, under a cost model")
w("")
w("The same replay, but the 50 VMs share one pool of `examples/replay-shaped.ini`: it starts at 100 cores")
w("and 400 GiB, may scale between 8 and 400 cores and 32 GiB and 2000 GiB in steps of 4 cores / 16 GiB,")
w("new capacity arrives 10 minutes after it is ordered, scale-downs wait 30 minutes after a scale-up,")
w("capacity costs $0.0316 per core-hour and $0.0042 per GiB-hour (plus a small creation cost), and")
w("demand left unserved costs $1 per core-hour and $0.10 per GiB-hour. Each policy drives its own engine and")
w("its own scaling loop (`src/core/scaler.c`, SCALING.md): what a policy reserves is the demand the pool")
w("is shaped for, and what the pool cannot hold queues or waits as a pending grow.")
w("")
w("| policy | cpu slack | cpu violations % | mem slack | mem violations % | queued | wait p50 / p99 | grows blocked | scale actions | mean capacity | capacity $ | shortfall $ | total $ |")
w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
sres = {(r["policy"], dkey(r["dim"])): r for r in shaped["results"]}
for p in pols:
    c, m = sres[(p, "cpu")], sres[(p, "mem")]
    e, sh = c["engine"], c["shaping"]
    w("| %s | %.3f | %.3f | %.3f | %.3f | %d | %.0f s / %.0f s | %d | %d | %.0f cores, %.0f GiB | %.0f | %.0f | %.0f |" % (
        p, c["slack"], c["violation_pct"], m["slack"], m["violation_pct"], e["queued"], e["wait_p50_s"],
        e["wait_p99_s"], e["grows_blocked"], sh["scale_actions"], sh["mean_capacity"] / 1000.0,
        m["shaping"]["mean_capacity"] / 2**30, sh["cost_capacity"], sh["cost_shortfall"], sh["cost_total"]))
w("")
ranked = sorted(pols, key=lambda p: sres[(p, "cpu")]["shaping"]["cost_total"])
c0, c1 = (sres[(ranked[i], "cpu")]["shaping"]["cost_total"] for i in (0, 1))
w("Lowest total cost under this model: **%s** ($%.0f), then %s ($%.0f, %.1f%% more); %s's cpu violations" %
  (ranked[0], c0, ranked[1], c1, 100 * (c1 / c0 - 1), ranked[0]))
w("in the shaped pool are %.3f%% against %s's %.3f%%. The shortfall column prices unmet demand (reservations and" %
  (sres[(ranked[0], "cpu")]["violation_pct"], ranked[1], sres[(ranked[1], "cpu")]["violation_pct"]))
w("requests the pool could not hold yet), not usage above a reservation, which the violation columns count.")
w("")
w("### The pool's forecast: the scaler's own against the forecasting layer")
w("")
w("The table above is the default, `--pool-forecast best`: per pool, dimension and class, each day the scaler")
w("uses whichever forecast had the lower mean pinball loss at the lead time the day before, its own")
w("(seasonal naive plus level, SCALING.md) or the forecasting layer's (`ah_forecaster`, the models")
w("`ahead forecast` chooses from). The mode was chosen on VMs 1-25 (own, layer, max, best; best and layer")
w("tied for ahead's sizing there); this is all 50. Below, the same run with `--pool-forecast own`:")
w("")
w("| policy | forecast | cpu violations % | mem violations % | mean capacity | capacity $ | shortfall $ | total $ |")
w("|---|---|---:|---:|---:|---:|---:|---:|")
sown = {(r["policy"], dkey(r["dim"])): r for r in shaped_own["results"]}
for p in pols:
    for name, src in (("own", sown), ("best", sres)):
        c, m = src[(p, "cpu")], src[(p, "mem")]
        sh = c["shaping"]
        w("| %s | %s | %.3f | %.3f | %.0f cores, %.0f GiB | %.0f | %.0f | %.0f |" % (
            p, name, c["violation_pct"], m["violation_pct"], sh["mean_capacity"] / 1000.0,
            m["shaping"]["mean_capacity"] / 2**30, sh["cost_capacity"], sh["cost_shortfall"], sh["cost_total"]))
a_own, a_best = sown[("ahead", "cpu")]["shaping"], sres[("ahead", "cpu")]["shaping"]
w("")
w("Under ahead's sizing the layer lowers the total from $%.0f to $%.0f (%.0f%%): capacity $%.0f -> $%.0f, "
  "shortfall $%.0f -> $%.0f." % (a_own["cost_total"], a_best["cost_total"],
  100 * (a_best["cost_total"] / a_own["cost_total"] - 1), a_own["cost_capacity"], a_best["cost_capacity"],
  a_own["cost_shortfall"], a_best["cost_shortfall"]))
w("")
w("![ahead in a shaped pool](img/replay_shaped_ahead.png)")
w("")
w("![vpa in a shaped pool](img/replay_shaped_vpa.png)")
w("")
w("## Usage vs reservation over time (all 50 VMs summed, hourly means)")
w("")
for p in pols:
    w("![%s](img/replay_%s.png)" % (p, p))
    w("")
w("## Replay speed")
w("")
w("Each policy replayed alone over the traces held in memory (best of 3; CSV parsing excluded):")
w("")
w("| policy | workload-intervals | seconds | workload-intervals/s |")
w("|---|---:|---:|---:|")
for p in pols:
    n, s, ips = speed[p]
    w("| %s | %d | %.4f | %.0f |" % (p, n, s, ips))
w("")
w("End to end through `ahead replay` (parsing 50 CSV files included, five policies at once): %d samples "
  "in %.2f s." % (cli["samples"], cli["elapsed_s"]))
w("")
w("## Terminal output of `ahead replay`")
w("")
w("```")
w(table.rstrip())
w("```")
open("docs/RESULTS.md", "w").write("\n".join(out) + "\n")

print("%-10s %-4s %10s %12s" % ("policy", "dim", "slack", "violation%"))
for d in dims:
    for p in pols:
        r = res[(p, d)]
        print("%-10s %-4s %10.3f %12.3f" % (p, d, r["slack"], r["violation_pct"]))
print()
for p in pols:
    print("speed %-10s %12.0f workload-intervals/s" % (p, speed[p][2]))
print("docs/RESULTS.md and docs/img/replay_*.png written")
print()
print("replay_ahead_intervals_per_s=%.0f" % speed["ahead"][2])
for d in dims:
    for p in pols:
        r = res[(p, d)]
        print("replay_slack_%s_%s=%.4f" % (p, d, r["slack"]))
        print("replay_violation_%s_%s=%.4f" % (p, d, r["violation_pct"]))
print("replay_intervals_per_s=%.0f" % base_speed)
for d in dims:
    for p in pols:
        r = res[(p, d)]
        print("replay_shortfall_%s_%s=%.5f" % (p, d, r["shortfall"]))
        print("replay_resizes_per_wl_h_%s_%s=%.4f" % (p, d, rph(r)))
print("note: oracle_ratio_P_D (baselines) and oracle_ratio_ahead_default_D = P's slack / the offline oracle's")
print("note: at P's own changes per workload-day, every policy at its DEFAULT setting;")
print("note: oracle_ratio_ahead_D = the same at ahead's x* for vpa, chosen on the other half (issue 13)")
for d in dims:
    os_, sl, ratio, ch, rs = orc[("ahead", d)]
    if d in orcf:
        print("oracle_ratio_ahead_%s=%.2f" % (d, orcf[d][0]))
    print("oracle_ratio_ahead_default_%s=%.2f" % (d, ratio))
    print("oracle_slack_ahead_%s=%.4f" % (d, os_))
    print("oracle_policy_slack_ahead_%s=%.4f" % (d, sl))
    print("oracle_resizes_per_wl_h_ahead_%s=%.3f" % (d, rs))
for d in dims:
    for p in pols:
        if p != "ahead":
            print("oracle_ratio_%s_%s=%.2f" % (p, d, orc[(p, d)][2]))
print("oracle_seconds=%.2f" % orc_time)
print("note: fair_* = out-of-sample on halves A (odd VM ids) / B (even), each scored at the setting chosen on the other;")
print("note: beside each: held-out violation %, shortfall and resizes per workload-hour of ahead and of P at x*, and P's default")
for P in bases:
    for d in dims:
        o = fairl[("halves", P, d)]
        print("fair_slack_ratio_%s_%s=%s" % (P, d, fmt(o["ratio"], "%.3f")))
        print("fair_slack_ratio_%s_%s_same_resizes=%s" % (P, d, fmt(o["ratio_same"], "%.3f")))
        print("fair_counts_%s_%s=%d" % (P, d, o["counts"]))
        print("fair_counts_%s_%s_same_resizes=%d" % (P, d, o["counts_same"]))
        print("fair_violation_ahead_vs_%s_%s=%.4f" % (P, d, o["a"][1]))
        print("fair_shortfall_ahead_vs_%s_%s=%.5f" % (P, d, o["a"][2]))
        print("fair_resizes_per_wl_h_ahead_vs_%s_%s=%.3f" % (P, d, o["a"][3]))
        print("fair_violation_%s_%s=%.4f" % (P, d, o["p"][1]))
        print("fair_shortfall_%s_%s=%.5f" % (P, d, o["p"][2]))
        print("fair_violation_%s_default_%s=%.4f" % (P, d, o["pdef"][1]))
        print("fair_shortfall_%s_default_%s=%.5f" % (P, d, o["pdef"][2]))
        print("fair_slack_ratio_time_%s_%s=%s" % (P, d, fmt(fairl[("time", P, d)]["ratio"], "%.3f")))
if "halves" in kill:
    k = kill["halves"]
    print("kill_violation_ahead_mem=%.4f" % k[0])
    print("kill_violation_vpa_mem=%.4f" % k[1])
    print("hard_commit_ratio_ahead_mem=%.3f" % k[2])
for d in dims:
    if d in orcf:
        print("resizes_per_workload_hour_ahead_%s=%.3f" % (d, orcf[d][5]))
print("note: hindsight_bound_P_D = lower bound on the slack of the best window-max rule per VM, chosen knowing the month,")
print("note: within P's default's violations and shortfall; hindsight_oracle_ratio_D = that bound at vpa's over the oracle's slack")
for (P, d), (lb, reach, tgt, ah) in hind.items():
    print("hindsight_bound_%s_%s=%.3f" % (P, d, lb))
    print("hindsight_target_%s_%s=%.3f" % (P, d, tgt))
for d in dims:
    if d in hind_orc:
        print("hindsight_oracle_ratio_%s=%.2f" % (d, hind_orc[d][1]))
print("fair_seconds=%.1f" % fair_time)
PYEOF

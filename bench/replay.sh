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
"$BIN" replay --trace "$DATA" --format bitbrains --config examples/replay-shaped.ini --chart-dir "$TMP" >/dev/null
cp "$TMP/replay_ahead.png" "$IMG/replay_shaped_ahead.png"
cp "$TMP/replay_vpa.png" "$IMG/replay_shaped_vpa.png"
rm -f "$IMG"/replay_*.dat
cat "$TMP/table.txt"
echo

# 2. Replay loop speed per policy (trace in memory), defaults, the offline
# oracle, ahead's sweep.
"$BUILD/bench_replay" "$DATA" >"$TMP/bench.txt"

# 3. Trade-off charts: ahead's curve as its quantile sweeps, baselines as points.
for D in cpu mem; do
  awk -v d=$D '$1=="sweep" && $3==d {print $5, $4, $2}' "$TMP/bench.txt" >"$TMP/sweep_$D.dat"
  awk -v d=$D '$1=="csweep" && $3==d {print $5, $4, "x" $2}' "$TMP/bench.txt" >"$TMP/csweep_$D.dat"
  awk -v d=$D '$1=="point" && $3==d && $2!="ahead" {print $5, $4, $2}' "$TMP/bench.txt" >"$TMP/points_$D.dat"
  awk -v d=$D '$1=="point" && $3==d && $2=="ahead" {print $5, $4, $2}' "$TMP/bench.txt" >"$TMP/ahead_$D.dat"
  title=$([ $D = cpu ] && echo "cpu" || echo "memory")
  gnuplot <<EOF
set terminal pngcairo size 900,560 font ',10'
set output "$IMG/replay_sweep_$D.png"
set title "$title: slack vs violations, 50 Bitbrains VMs (ahead's quantile p40..p99.99; baselines at their defaults)"
set xlabel "violations (% of workload-intervals, log scale)"
set ylabel "slack = idle reserved / used (log scale)"
set logscale xy
set grid
set key bottom left
plot "$TMP/sweep_$D.dat" using 1:2 with linespoints lw 2 pt 7 lc rgb '#d62728' title 'ahead (quantile sweep)', \
     "$TMP/sweep_$D.dat" using 1:2:((\$3==0.4 || \$3==0.6 || \$3==0.8 || \$3==0.9 || \$3==0.95 || \$3==0.98 || \$3==0.995 || \$3==0.9999) ? sprintf("%.5g", \$3) : "") with labels offset 2.2,0.6 font ',8' notitle, \
     "$TMP/csweep_$D.dat" using 1:2 with linespoints lw 1.5 dt 2 pt 6 lc rgb '#ff7f0e' title 'ahead (violation cost sweep, quantile 0.9999)', \
     "$TMP/ahead_$D.dat" using 1:2 with points pt 9 ps 2 lc rgb '#d62728' title 'ahead (defaults)', \
     "$TMP/points_$D.dat" using 1:2 with points pt 5 ps 1.6 lc rgb '#1f77b4' title 'baselines', \
     "$TMP/points_$D.dat" using 1:2:3 with labels offset 0,-1.1 font ',9' notitle
EOF
done

# 4. docs/RESULTS.md and the headline lines.
python3 - "$TMP/cli.json" "$TMP/bench.txt" "$TMP/table.txt" "$TMP/shaped.json" <<'PYEOF'
import json, sys, math, datetime, subprocess
cli = json.load(open(sys.argv[1]))
shaped = json.load(open(sys.argv[4]))
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
half = {(l[1], l[2], l[3]): (float(l[4]), float(l[5])) for l in bench if l[0] == "half"}
orc = {(l[1], l[2]): tuple(float(x) for x in l[3:8]) for l in bench if l[0] == "oracle"}
orc_k = {}
for l in bench:
    if l[0] == "oracle_k":
        orc_k.setdefault(l[2], []).append((int(l[1]), float(l[3])))
orc_time = [float(l[1]) for l in bench if l[0] == "oracle_time"][0]
for l in bench:
    if l[0] == "csweep":
        csweep.setdefault(l[2], []).append((float(l[1]), float(l[3]), float(l[4]), int(l[5])))
    if l[0] == "sweep":
        sweep.setdefault(l[2], []).append((float(l[1]), float(l[3]), float(l[4]), int(l[5])))
pols = ["static", "threshold", "vpa", "autopilot", "ahead"]
dims = ["cpu", "mem"]
base_speed = min(speed[p][2] for p in pols if p != "ahead")

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
    commit = subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], text=True).strip()
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
w("## All policies at their defaults")
w("")
w("ahead runs at its defaults: quantile cpu=%.4g, mem=%.4g; violation cost cpu=%g cores, mem=%g GiB." %
  (cli["quantile_cpu"], cli["quantile_memory"], cli["violation_cost_cpu_cores"], cli["violation_cost_memory_gib"]))
w("")
w("| policy | dim | slack | net slack | violations % | shortfall | resizes | mean reserved | cost $ |")
w("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for d in dims:
    for p in pols:
        r = res[(p, d)]
        unit = "cores" if d == "cpu" else "GiB"
        hours = 300.0 * r["intervals"] / 3600.0
        meanres = r["unit_hours"] / hours if hours else 0
        w("| %s | %s | %.3f | %.3f | %.3f | %.4f | %d | %.3f %s | %.0f |" %
          (p, d, r["slack"], r["net_slack"], r["violation_pct"], r["shortfall"], r["resizes"],
           meanres * 50, unit, r["cost_usd"]))
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
w("candidates, no daily-profile floor) were chosen looking at this same month of data;")
w("the sweep below shows the whole trade-off so that no single operating point is cherry-picked.")
w("The Bitbrains months 2013-8 and 2013-9 are the natural holdout (not in ../shared yet).")
w("")
w("### Stability: each half of the month on its own")
w("")
w("The same defaults, each half of the time span replayed alone (every policy starts cold). The")
w("defaults were chosen on the whole month, so this checks stability, not generalisation:")
w("")
w("| policy | dim | slack, 1st half | violations %, 1st half | slack, 2nd half | violations %, 2nd half |")
w("|---|---|---:|---:|---:|---:|")
for d in dims:
    for p in pols:
        a1, a2 = half[("1", p, d)], half[("2", p, d)]
        w("| %s | %s | %.3f | %.3f | %.3f | %.3f |" % (p, d, a1[0], a1[1], a2[0], a2[1]))
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
w("**Every policy runs at its default setting** (the table above), ahead included: not at the setting")
w("whose violations match vpa's (x\\* for vpa), which issue 13 asks for, because that tuning does not")
w("exist yet. The policies' violations are not charged; the oracle has none.")
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
for d in dims:
    w("![%s sweep](img/replay_sweep_%s.png)" % (d, d))
    w("")
w("With the default violation cost; at high quantiles on cpu the cost, not the quantile, binds, so")
w("the curve flattens there and the violation-cost sweep below carries it on.")
w("")
w("| quantile | cpu slack | cpu violations % | cpu resizes | mem slack | mem violations % | mem resizes |")
w("|---:|---:|---:|---:|---:|---:|---:|")
for (q, sc, vc, rc), (_, sm, vm, rm) in zip(sweep["cpu"], sweep["mem"]):
    w("| %.4g | %.3f | %.3f | %d | %.3f | %.3f | %d |" % (q, sc, vc, rc, sm, vm, rm))
w("")
w("The violation cost is ahead's other knob (REPLAY.md): with the quantile at 0.9999 as a ceiling,")
w("scaling the default cost by F traces this curve (dashed on the charts); \"off\" is no cost at all,")
w("the pure 0.9999 quantile, ahead's most conservative setting:")
w("")
w("| F | cpu slack | cpu violations % | cpu resizes | mem slack | mem violations % | mem resizes |")
w("|---:|---:|---:|---:|---:|---:|---:|")
for (f, sc, vc, rc), (_, sm, vm, rm) in zip(csweep["cpu"], csweep["mem"]):
    w("| %s | %.3f | %.3f | %d | %.3f | %.3f | %d |" % ("%g" % f if f > 0 else "off", sc, vc, rc, sm, vm, rm))
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
print("note: oracle_ratio_P_D = P's slack / the offline oracle's at P's own changes per workload-day;")
print("note: every policy at its DEFAULT setting (ahead not at x* for vpa: that tuning does not exist yet)")
for d in dims:
    os_, sl, ratio, ch, rs = orc[("ahead", d)]
    print("oracle_ratio_ahead_%s=%.2f" % (d, ratio))
    print("oracle_slack_ahead_%s=%.4f" % (d, os_))
    print("oracle_policy_slack_ahead_%s=%.4f" % (d, sl))
    print("oracle_resizes_per_wl_h_ahead_%s=%.3f" % (d, rs))
for d in dims:
    for p in pols:
        if p != "ahead":
            print("oracle_ratio_%s_%s=%.2f" % (p, d, orc[(p, d)][2]))
print("oracle_seconds=%.2f" % orc_time)
PYEOF

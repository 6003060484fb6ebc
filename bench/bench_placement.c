/* bench placement: ahead's placement (best fit on the dominant resource)
 * against first fit and random placement on the 50 Bitbrains VMs, and the
 * rate of placement decisions.
 *
 * The stream (the same for every strategy): each VM's month is cut into
 * 6-hour jobs, the VM's blocks shifted by (VM index x 37 min) mod 6 h so
 * arrivals are staggered; a job asks for the block's peak cpu and peak
 * memory (what a perfect per-block sizing would reserve; a job with no
 * usage asks for 1 millicore and 1 MiB) and runs 6 hours from the time it
 * is placed. Nodes: K identical nodes (K = 3, 4, 5) whose capacities sum
 * to F times the peak of the stream's total concurrent demand, per
 * dimension (F = 0.8, 0.9, 1.0); a job larger than a node is refused. At
 * each event (arrivals, ends) the ended jobs free their nodes, then every
 * queued job is tried in arrival order (later ones may pass one that does
 * not fit: backfill). Stranded capacity is measured after each event with
 * ah_place_fragmentation against the queued jobs and weighted by the time
 * to the next event: the time-mean share of capacity free on nodes where
 * no queued job fits (0 while nothing waits). Random: seeds 1-5, mean.
 * stranded_pct_* = that share, the mean of cpu and memory, averaged over
 * K = 3, 4, 5 at F = 0.9 (the setting printed first; all are printed).
 * placement_per_s: ah_place decisions (1 replica, 3 nodes, best fit) in
 * process, no ledger or etcd: the median of 5 runs of 200,000, with the
 * spread.
 * engine_placement_per_s: the same through the engine (ah_engine_request +
 * ah_engine_release pairs on a pool on 3 nodes, 10,000 allocations held,
 * in memory: no ledger, no etcd, no HTTP), the median of 5 runs of 100,000
 * pairs; also with a workload named (spreading counts its allocations per
 * node: one pass over the live ones per placement).
 *
 * usage: bench/run placement [DIR]  (default ../shared/data/bitbrains_rnd/rnd/2013-7) */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ahead/engine.h"
#include "ahead/error.h"
#include "ahead/placement.h"
#include "ahead/policy.h"
#include "ahead/trace.h"

#define BLOCK_S (6 * 3600)
#define MAXVM 64
#define MiB (INT64_C(1) << 20)

typedef struct {
	int64_t arrive, start, end;
	ah_vec d;
	int node;  /* -1 queued, -2 refused */
} job;

static ah_dimset ds;
static int CPU, MEM;

static int cmp_arrive(const void *a, const void *b)
{
	const job *x = a, *y = b;
	return x->arrive < y->arrive ? -1 : x->arrive > y->arrive;
}

/* One VM's jobs from its trace. */
static int read_vm(const char *path, int idx, job **jobs, size_t *n, size_t *cap)
{
	ah_trace *tr;
	if (ah_trace_open(path, AH_TRACE_BITBRAINS, &tr))
		return -1;
	int64_t shift = (int64_t)idx * 37 * 60 % BLOCK_S, cur = INT64_MIN;
	ah_vec peak;
	memset(&peak, 0, sizeof peak);
	ah_trace_row r;
	int rc;
	while ((rc = ah_trace_next(tr, &r)) == 1 || rc == 0) {
		int64_t b = rc == 1 ? (r.t_s - shift) / BLOCK_S : INT64_MAX;
		if (b != cur && cur != INT64_MIN) {
			if (*n == *cap) {
				*cap = *cap ? *cap * 2 : 4096;
				*jobs = realloc(*jobs, *cap * sizeof **jobs);
				if (!*jobs)
					return -1;
			}
			job *j = &(*jobs)[(*n)++];
			memset(j, 0, sizeof *j);
			j->arrive = cur * BLOCK_S + shift;
			j->d = peak;
			if (j->d.v[CPU] < 1)
				j->d.v[CPU] = 1;
			if (j->d.v[MEM] < MiB)
				j->d.v[MEM] = MiB;
			memset(&peak, 0, sizeof peak);
		}
		if (rc == 0)
			break;
		cur = b;
		int d = r.dim == AH_DIM_CPU ? CPU : MEM;
		if (r.used > peak.v[d])
			peak.v[d] = r.used;
	}
	ah_trace_free(tr);
	return rc < 0 ? -1 : 0;
}

/* The peak of the total demand of jobs running at once, if each ran from
 * its arrival (the capacity the fleet would need with no queueing). */
static void peak_demand(const job *jobs, size_t n, ah_vec *out)
{
	typedef struct {
		int64_t t;
		int sign;
		size_t j;
	} ev;
	ev *e = malloc(2 * n * sizeof *e);
	for (size_t i = 0; i < n; i++) {
		e[2 * i] = (ev){jobs[i].arrive, 1, i};
		e[2 * i + 1] = (ev){jobs[i].arrive + BLOCK_S, -1, i};
	}
	/* sort by time, ends before starts at the same time */
	for (size_t i = 1; i < 2 * n; i++)
		for (size_t k = i; k > 0 && (e[k].t < e[k - 1].t || (e[k].t == e[k - 1].t && e[k].sign < e[k - 1].sign)); k--) {
			ev t = e[k];
			e[k] = e[k - 1];
			e[k - 1] = t;
		}
	ah_vec cur, best;
	memset(&cur, 0, sizeof cur);
	memset(&best, 0, sizeof best);
	for (size_t i = 0; i < 2 * n; i++) {
		for (int d = 0; d < ds.n; d++) {
			cur.v[d] += e[i].sign * jobs[e[i].j].d.v[d];
			if (cur.v[d] > best.v[d])
				best.v[d] = cur.v[d];
		}
	}
	free(e);
	*out = best;
}

typedef struct {
	double stranded_cpu, stranded_mem, small_cpu, small_mem;
	double mean_wait_h;
	size_t refused, unplaced, placed;
} sim_out;

static int64_t median_of(const job *jobs, size_t n, int d)
{
	int64_t *v = malloc(n * sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = jobs[i].d.v[d];
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && v[k] < v[k - 1]; k--) {
			int64_t t = v[k];
			v[k] = v[k - 1];
			v[k - 1] = t;
		}
	int64_t m = n ? v[n / 2] : 0;
	free(v);
	return m;
}

static void simulate(const job *in, size_t n, int K, const ah_vec *node_cap, ah_place_strategy st, uint64_t seed,
		     const ah_vec *median, sim_out *o)
{
	job *jobs = malloc(n * sizeof *jobs);
	memcpy(jobs, in, n * sizeof *jobs);
	ah_place_node nodes[8];
	char names[8][8];
	for (int k = 0; k < K; k++) {
		memset(&nodes[k], 0, sizeof nodes[k]);
		snprintf(names[k], sizeof names[k], "n%d", k);
		nodes[k].name = names[k];
		nodes[k].capacity = *node_cap;
	}
	ah_place_opts po;
	ah_place_opts_init(&po);
	po.strategy = st;
	po.seed = seed;
	size_t *queue = malloc(n * sizeof *queue), nq = 0, next = 0;
	size_t *running = malloc(n * sizeof *running), nr = 0;
	ah_vec *qd = malloc(n * sizeof *qd);
	memset(o, 0, sizeof *o);
	double wsum = 0, wait_sum = 0;
	int64_t t = in[0].arrive, t_end = in[n - 1].arrive + BLOCK_S;
	while (t < t_end) {
		/* ends */
		for (size_t i = 0; i < nr;) {
			job *j = &jobs[running[i]];
			if (j->end <= t) {
				ah_vec_sub(&nodes[j->node].used, &j->d, ds.n);
				running[i] = running[--nr];
			} else {
				i++;
			}
		}
		/* arrivals */
		for (; next < n && jobs[next].arrive <= t; next++) {
			bool fits_a_node = ah_vec_le(&jobs[next].d, node_cap, ds.n);
			if (!fits_a_node) {
				jobs[next].node = -2;
				o->refused++;
			} else {
				jobs[next].node = -1;
				queue[nq++] = next;
			}
		}
		/* the queue, in arrival order, with backfill */
		for (size_t i = 0; i < nq;) {
			job *j = &jobs[queue[i]];
			ah_place_request rq = {.demand = j->d, .replicas = 1};
			ah_place_result r;
			if (ah_place(nodes, (size_t)K, &ds, &rq, &po, &r) == 0 && r.outcome == AH_PLACE_PLACED) {
				j->node = r.node[0];
				j->start = t;
				j->end = t + BLOCK_S;
				ah_vec_add(&nodes[j->node].used, &j->d, ds.n);
				running[nr++] = queue[i];
				wait_sum += (double)(t - j->arrive);
				o->placed++;
				memmove(&queue[i], &queue[i + 1], (nq - i - 1) * sizeof *queue);
				nq--;
			} else {
				i++;
			}
		}
		/* the next event */
		int64_t tn = t_end;
		if (next < n && jobs[next].arrive < tn)
			tn = jobs[next].arrive;
		for (size_t i = 0; i < nr; i++)
			if (jobs[running[i]].end < tn)
				tn = jobs[running[i]].end;
		if (tn <= t)
			tn = t + 1;
		for (size_t i = 0; i < nq; i++)
			qd[i] = jobs[queue[i]].d;
		ah_place_frag f;
		ah_place_fragmentation(nodes, (size_t)K, &ds, qd, nq, median, &f);
		double w = (double)(tn - t);
		o->stranded_cpu += w * f.stranded_pct[CPU];
		o->stranded_mem += w * f.stranded_pct[MEM];
		o->small_cpu += w * f.small_pct[CPU];
		o->small_mem += w * f.small_pct[MEM];
		wsum += w;
		t = tn;
	}
	o->unplaced = nq;
	if (wsum > 0) {
		o->stranded_cpu /= wsum;
		o->stranded_mem /= wsum;
		o->small_cpu /= wsum;
		o->small_mem /= wsum;
	}
	o->mean_wait_h = o->placed ? wait_sum / (double)o->placed / 3600 : 0;
	free(queue);
	free(running);
	free(qd);
	free(jobs);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Decisions per second on 3 nodes, part full, demands varying. */
static void decision_rate(double *median, double *lo, double *hi)
{
	ah_place_node nodes[3];
	for (int k = 0; k < 3; k++) {
		memset(&nodes[k], 0, sizeof nodes[k]);
		nodes[k].capacity.v[CPU] = 64000;
		nodes[k].capacity.v[MEM] = 256 * 1024 * MiB;
		nodes[k].used.v[CPU] = 16000 * (k + 1);
		nodes[k].used.v[MEM] = (int64_t)64 * 1024 * MiB * (k + 1);
	}
	ah_place_opts po;
	ah_place_opts_init(&po);
	double r[5];
	volatile int sink = 0;
	for (int run = 0; run < 5; run++) {
		double t0 = now_s();
		for (int i = 0; i < 200000; i++) {
			ah_place_request rq = {.replicas = 1};
			rq.demand.v[CPU] = 500 + (i % 16) * 500;
			rq.demand.v[MEM] = (int64_t)(1 + i % 8) * 1024 * MiB;
			ah_place_result res;
			if (ah_place(nodes, 3, &ds, &rq, &po, &res) == 0)
				sink += res.node[0];
		}
		r[run] = 200000 / (now_s() - t0);
	}
	(void)sink;
	qsort(r, 5, sizeof r[0], cmp_dbl);
	*median = r[2];
	*lo = r[0];
	*hi = r[4];
}

/* Grant + release pairs per second through the engine on a pool on 3
 * nodes holding `held` allocations; workload: name every request's. */
static int engine_rate(int held, const char *workload, double *median, double *lo, double *hi)
{
	ah_policy *pol = calloc(1, sizeof *pol);
	if (!pol)
		return AH_ENOMEM;
	pol->dims = ds;
	pol->n_pools = 1;
	ah_pool_policy *pp = &pol->pools[0];
	snprintf(pp->name, sizeof pp->name, "edge");
	snprintf(pp->nodes, sizeof pp->nodes, "*");
	pp->max_queue = 10000;
	for (int d = 0; d < AH_MAX_DIMS; d++) {
		pp->unit.v[d] = 1;
		pp->max_size.v[d] = AH_VALUE_MAX;
	}
	pol->n_classes = 1;
	snprintf(pol->classes[0].name, sizeof pol->classes[0].name, "c");
	pol->classes[0].priority = 1;
	pol->classes[0].quantile = 0.9;
	for (int d = 0; d < AH_MAX_DIMS; d++) {
		pol->classes[0].max_request.v[d] = AH_UNLIMITED;
		pol->default_tenant.quota.v[d] = AH_UNLIMITED;
	}
	pol->unknown_tenants = true;
	pol->default_tenant.rate_per_s = 0;
	pol->lease_ttl_ns = INT64_C(3600) * 1000000000;
	pol->max_lease_ttl_ns = pol->lease_ttl_ns;
	ah_engine *e = NULL;
	int rc = ah_engine_new(pol, NULL, 0, &e);
	ah_engine_node nodes[3];
	char names[3][16];
	for (int k = 0; rc == 0 && k < 3; k++) {
		memset(&nodes[k], 0, sizeof nodes[k]);
		snprintf(names[k], sizeof names[k], "n%d", k + 1);
		nodes[k].name = names[k];
		nodes[k].up = true;
		nodes[k].capacity.v[CPU] = INT64_C(64000) * 1000;
		nodes[k].capacity.v[MEM] = INT64_C(256) * 1024 * 1024 * MiB;
	}
	if (rc == 0)
		rc = ah_engine_set_nodes(e, nodes, 3, 1, NULL);
	ah_request rq = {.tenant = "t", .pool = "edge", .queue_timeout_ns = 0, .workload = workload};
	int64_t now = 2;
	for (int i = 0; rc == 0 && i < held; i++) {
		ah_decision d;
		rq.res.v[CPU] = 500 + (i % 16) * 500;
		rq.res.v[MEM] = (int64_t)(1 + i % 8) * 1024 * MiB;
		rc = ah_engine_request(e, &rq, now++, &d);
		if (rc == 0 && d.outcome != AH_GRANTED)
			rc = AH_ECAPACITY;
	}
	double r[5];
	for (int run = 0; rc == 0 && run < 5; run++) {
		double t0 = now_s();
		for (int i = 0; rc == 0 && i < 100000; i++) {
			ah_decision d;
			rq.res.v[CPU] = 500 + (i % 16) * 500;
			rq.res.v[MEM] = (int64_t)(1 + i % 8) * 1024 * MiB;
			rc = ah_engine_request(e, &rq, now++, &d);
			if (rc == 0 && d.outcome == AH_GRANTED)
				rc = ah_engine_release(e, d.id, now++);
			else if (rc == 0)
				rc = AH_ECAPACITY;
		}
		r[run] = 100000 / (now_s() - t0);
	}
	if (rc == 0) {
		qsort(r, 5, sizeof r[0], cmp_dbl);
		*median = r[2];
		*lo = r[0];
		*hi = r[4];
	}
	ah_engine_free(e);
	free(pol);
	return rc;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "../shared/data/bitbrains_rnd/rnd/2013-7";
	ah_dimset_init(&ds);
	CPU = ah_dimset_find(&ds, "cpu");
	MEM = ah_dimset_find(&ds, "memory");
	job *jobs = NULL;
	size_t n = 0, cap = 0;
	int vms = 0;
	for (int id = 1; id <= 50; id++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%d.csv", dir, id);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		fclose(f);
		if (read_vm(path, id, &jobs, &n, &cap) == 0)
			vms++;
	}
	if (!vms) {
		fprintf(stderr, "bench placement: no Bitbrains traces in %s (skipped)\n", dir);
		return 2;
	}
	qsort(jobs, n, sizeof *jobs, cmp_arrive);
	ah_vec peak, med;
	memset(&med, 0, sizeof med);
	peak_demand(jobs, n, &peak);
	med.v[CPU] = median_of(jobs, n, CPU);
	med.v[MEM] = median_of(jobs, n, MEM);
	printf("bench placement: %d Bitbrains VMs, %zu jobs of 6 h (peak usage of the block), peak concurrent demand "
	       "cpu %.1f cores, memory %.1f GiB; median job cpu %.2f cores, memory %.2f GiB\n\n",
	       vms, n, peak.v[CPU] / 1000.0, peak.v[MEM] / (1024.0 * MiB), med.v[CPU] / 1000.0,
	       med.v[MEM] / (1024.0 * MiB));
	printf("%-3s %-4s %-10s %10s %10s %10s %10s %8s %8s %9s\n", "K", "F", "strategy", "strand.cpu", "strand.mem",
	       "small.cpu", "small.mem", "refused", "left", "wait h");
	const double Fs[3] = {0.9, 0.8, 1.0};
	double head[3] = {0, 0, 0}; /* best fit, first fit, random: at F = 0.9, mean over K */
	for (int fi = 0; fi < 3; fi++)
		for (int K = 3; K <= 5; K++) {
			ah_vec node_cap;
			memset(&node_cap, 0, sizeof node_cap);
			for (int d = 0; d < ds.n; d++)
				node_cap.v[d] = (int64_t)(Fs[fi] * (double)peak.v[d] / K);
			const char *nm[3] = {"best-fit", "first-fit", "random"};
			for (int s = 0; s < 3; s++) {
				sim_out o, acc;
				memset(&acc, 0, sizeof acc);
				int reps = s == 2 ? 5 : 1;
				for (int rep = 0; rep < reps; rep++) {
					simulate(jobs, n, K, &node_cap, (ah_place_strategy)s, (uint64_t)rep + 1, &med, &o);
					acc.stranded_cpu += o.stranded_cpu / reps;
					acc.stranded_mem += o.stranded_mem / reps;
					acc.small_cpu += o.small_cpu / reps;
					acc.small_mem += o.small_mem / reps;
					acc.mean_wait_h += o.mean_wait_h / reps;
					acc.refused += o.refused;
					acc.unplaced += o.unplaced;
				}
				printf("%-3d %-4.1f %-10s %9.2f%% %9.2f%% %9.2f%% %9.2f%% %8zu %8zu %9.2f\n", K, Fs[fi], nm[s],
				       acc.stranded_cpu, acc.stranded_mem, acc.small_cpu, acc.small_mem, acc.refused / reps,
				       acc.unplaced / reps, acc.mean_wait_h);
				if (fi == 0)
					head[s] += (acc.stranded_cpu + acc.stranded_mem) / 2 / 3;
			}
		}
	double rate, lo, hi;
	decision_rate(&rate, &lo, &hi);
	printf("\nplacement decisions (1 replica, 3 nodes, best fit, in process): median %.0f/s over 5 runs of 200,000 "
	       "(min %.0f, max %.0f)\n",
	       rate, lo, hi);
	double erate = 0, elo = 0, ehi = 0, wrate = 0, wlo = 0, whi = 0;
	int erc = engine_rate(10000, NULL, &erate, &elo, &ehi);
	if (erc == 0)
		erc = engine_rate(10000, "web", &wrate, &wlo, &whi);
	if (erc < 0) {
		fprintf(stderr, "bench placement: the engine run failed: %s\n", ah_strerror(erc));
		free(jobs);
		return 1;
	}
	printf("through the engine (grant + release pairs on a pool on 3 nodes, 10,000 held, in memory, no ledger): "
	       "median %.0f pairs/s (min %.0f, max %.0f); naming a workload (spread counts its allocations per node): "
	       "%.0f pairs/s (min %.0f, max %.0f)\n",
	       erate, elo, ehi, wrate, wlo, whi);
	printf("target: ahead's stranded share below first fit's (F = 0.9, mean over K = 3, 4, 5): %s\n\n",
	       head[0] < head[1] ? "met" : "NOT met");
	printf("placement_per_s=%.0f\nengine_placement_per_s=%.0f\nengine_placement_per_s_workload=%.0f\n"
	       "stranded_pct_ahead=%.3f\nstranded_pct_first_fit=%.3f\nstranded_pct_random=%.3f\n",
	       rate, erate, wrate, head[0], head[1], head[2]);
	free(jobs);
	return 0;
}

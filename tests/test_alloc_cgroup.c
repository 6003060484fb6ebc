/* One cgroup per allocation (include/ahead/alloc_cgroup.h) over a fake
 * cgroup v1 tree (cpu, cpuacct, memory, blkio mounted apart): a set makes
 * PARENT/alloc-ID and writes the limits; a second set writes only the
 * difference; a drop removes the cgroup or keeps it pending while it is
 * not empty; a sweep removes orphans and keeps live and held ones; a check
 * restores or adopts a limit changed by hand, and makes a vanished cgroup
 * again; dry run writes nothing; the stop switch's restore; the limits an
 * allocation's size gives. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ahead/alloc_cgroup.h"
#include "ahead/enforce.h"
#include "ahead/error.h"

#define MiB ((uint64_t)1 << 20)

#include "tree_fixture.h"

static bool is_dir(const char *rel)
{
	char p[PATH_MAX];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", root, rel);
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(p);
	return 0;
}

/* Empties a fixture cgroup's directories (the kernel's files go with its
 * rmdir; a fixture's must go first). */
static void empty(const char *cg)
{
	const char *ctl[] = {"cpu", "cpuacct", "memory", "blkio"};
	for (int i = 0; i < 4; i++) {
		char p[PATH_MAX];
		snprintf(p, sizeof p, "%s/v1/%s/%s", root, ctl[i], cg);
		nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		mkdir(p, 0755);
	}
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof root, "/tmp/ahead-acg-XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void roots_of(ah_cgroup_roots *r)
{
	ah_cgroup_roots_init(r);
	snprintf(r->proc, sizeof r->proc, "%s/proc", root);
	const char *ctl[] = {"cpu", "cpuacct", "memory", "blkio"};
	for (int i = 0; i < AH_CG_V1_N; i++) {
		snprintf(r->v1[i], sizeof r->v1[i], "%s/v1/%s", root, ctl[i]);
		mkdirs(r->v1[i]);
	}
}

/* What the kernel shows in a new v1 cgroup (the fixture makes it first). */
static void v1_new(const char *cg, uint64_t usage)
{
	char p[PATH_MAX];
#define F(ctl, name) (snprintf(p, sizeof p, "v1/%s/%s/%s", ctl, cg, name), p)
	wr(F("cpu", "cpu.cfs_quota_us"), "-1\n");
	wr(F("cpu", "cpu.cfs_period_us"), "100000\n");
	wr(F("cpuacct", "cpuacct.usage"), "0\n");
	wr(F("memory", "memory.limit_in_bytes"), "9223372036854771712\n");
	wr(F("memory", "memory.soft_limit_in_bytes"), "9223372036854771712\n");
	wr(F("memory", "memory.usage_in_bytes"), "%llu\n", (unsigned long long)usage);
	wr(F("memory", "memory.stat"), "cache 0\nrss %llu\ntotal_cache 0\ntotal_rss %llu\n", (unsigned long long)usage,
	   (unsigned long long)usage);
	wr(F("memory", "memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
#undef F
}

/* After a write of oom_control (the value "1"), what the kernel shows. */
static void oom_shown(const char *cg)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "v1/memory/%s/memory.oom_control", cg);
	wr(p, "oom_kill_disable 1\nunder_oom 0\noom_kill 0\n");
}

static ah_acg_limits lim(uint64_t cpu_m, uint64_t high, uint64_t max)
{
	ah_acg_limits l = {.cpu_millicores = cpu_m, .mem_high_bytes = high, .mem_max_bytes = max};
	return l;
}

static void test_limits_of(void **state)
{
	(void)state;
	ah_dimset ds;
	ah_dimset_init(&ds);
	ah_vec v;
	memset(&v, 0, sizeof v);
	v.v[ah_dimset_find(&ds, "cpu")] = 1500;
	v.v[ah_dimset_find(&ds, "memory")] = (int64_t)(1000 * MiB + 1);
	ah_acg_limits l;
	ah_acg_limits_of(&ds, &v, 0.25, &l);
	assert_int_equal(l.cpu_millicores, 1500);
	assert_int_equal(l.mem_high_bytes, 1000 * MiB + 1);
	assert_int_equal(l.mem_max_bytes % 4096, 0);
	assert_true(l.mem_max_bytes >= 1250 * MiB && l.mem_max_bytes < 1250 * MiB + 8192);
	v.v[ah_dimset_find(&ds, "cpu")] = 0; /* not managed */
	ah_acg_limits_of(&ds, &v, 0, &l);
	assert_int_equal(l.cpu_millicores, 0);
	assert_int_equal(l.mem_max_bytes, 1000 * MiB + 4096); /* page-aligned up */
	char w[96];
	ah_acg_drift_words(AH_DRIFT_CPU | AH_DRIFT_MEM_MAX, w, sizeof w);
	assert_string_equal(w, "cpu memory-hard");
	ah_acg_drift_words(0, w, sizeof w);
	assert_string_equal(w, "");
}

/* io: the allocation's "io" on each device named, both directions. */
static void test_io(void **state)
{
	(void)state;
	ah_dimset ds;
	ah_dimset_init(&ds);
	ah_vec v;
	memset(&v, 0, sizeof v);
	v.v[ah_dimset_find(&ds, "io")] = (int64_t)(50 * MiB);
	ah_acg_limits l;
	ah_acg_limits_of(&ds, &v, 0.25, &l);
	ah_acg_device dev[2] = {{8, 0}, {259, 1}};
	ah_acg_limits_io(&ds, &v, dev, 0, &l);
	assert_int_equal(l.io_bps, 0); /* no device: not managed */
	ah_acg_limits_io(&ds, &v, dev, 2, &l);
	assert_int_equal(l.io_bps, 50 * MiB);
	assert_int_equal(l.n_dev, 2);
	assert_int_equal(l.dev[1].major, 259);
	v.v[ah_dimset_find(&ds, "io")] = 0;
	ah_acg_limits_io(&ds, &v, dev, 2, &l);
	assert_int_equal(l.io_bps, 0);
	assert_int_equal(l.n_dev, 0);

	/* written to blkio on a v1 tree, read back as applied; a second set
	 * writes nothing */
	ah_cgroup_roots r;
	roots_of(&r);
	ah_alloc_cgroups *s = NULL;
	char err[512] = "";
	assert_int_equal(ah_acg_new(&r, "ahead", &s, err, sizeof err), 0);
	v1_new("ahead/alloc-9", 10 * MiB);
	wr("v1/blkio/ahead/alloc-9/blkio.throttle.read_bps_device", "");
	wr("v1/blkio/ahead/alloc-9/blkio.throttle.write_bps_device", "");
	ah_acg_limits want = lim(0, 0, 0);
	want.io_bps = 50 * MiB;
	want.n_dev = 1;
	want.dev[0] = dev[0];
	ah_acg_opts o;
	ah_acg_opts_init(&o);
	assert_int_equal(ah_acg_set(s, 9, &want, &o, err, sizeof err), 0);
	assert_string_equal(rd("v1/blkio/ahead/alloc-9/blkio.throttle.read_bps_device"), "8:0 52428800");
	assert_string_equal(rd("v1/blkio/ahead/alloc-9/blkio.throttle.write_bps_device"), "8:0 52428800");
	ah_acg_limits d, a;
	assert_true(ah_acg_get(s, 9, &d, &a));
	assert_int_equal(a.io_bps, 50 * MiB);
	assert_int_equal(a.n_dev, 1);
	assert_int_equal(a.dev[0].major, 8);
	ah_acg_stats st;
	ah_acg_stats_get(s, &st);
	uint64_t w1 = st.writes;
	assert_int_equal(ah_acg_set(s, 9, &want, &o, err, sizeof err), 0);
	ah_acg_stats_get(s, &st);
	assert_int_equal(st.writes, w1);
	/* changed by hand: restored by the check */
	wr("v1/blkio/ahead/alloc-9/blkio.throttle.read_bps_device", "8:0 1000\n");
	assert_int_equal(ah_acg_check(s, &o, NULL, err, sizeof err), 0);
	assert_string_equal(rd("v1/blkio/ahead/alloc-9/blkio.throttle.read_bps_device"), "8:0 52428800");
	ah_acg_free(s);
}

static void test_parent_checked(void **state)
{
	(void)state;
	ah_cgroup_roots r;
	roots_of(&r);
	ah_alloc_cgroups *s = NULL;
	char err[256] = "";
	assert_int_equal(ah_acg_new(&r, "../x", &s, err, sizeof err), AH_EINVAL);
	assert_non_null(strstr(err, "'../x'"));
	assert_int_equal(ah_acg_new(&r, "/abs", &s, err, sizeof err), AH_EINVAL);
	assert_int_equal(ah_acg_new(&r, "a//b", &s, err, sizeof err), AH_EINVAL);
	assert_null(s);
	assert_int_equal(ah_acg_new(&r, "a/b", &s, err, sizeof err), 0);
	ah_acg_free(s);
}

static void test_set_resize_drop(void **state)
{
	(void)state;
	ah_cgroup_roots r;
	roots_of(&r);
	ah_alloc_cgroups *s = NULL;
	char err[512] = "";
	assert_int_equal(ah_acg_new(&r, "ahead", &s, err, sizeof err), 0);
	v1_new("ahead/alloc-7", 100 * MiB);
	ah_acg_opts o;
	ah_acg_opts_init(&o);
	ah_acg_limits want = lim(500, 256 * MiB, 384 * MiB);
	assert_int_equal(ah_acg_set(s, 7, &want, &o, err, sizeof err), 0);
	assert_true(is_dir("v1/cpu/ahead/alloc-7"));
	assert_string_equal(rd("v1/cpu/ahead/alloc-7/cpu.cfs_quota_us"), "50000");
	assert_string_equal(rd("v1/memory/ahead/alloc-7/memory.soft_limit_in_bytes"), "268435456");
	assert_string_equal(rd("v1/memory/ahead/alloc-7/memory.limit_in_bytes"), "402653184");
	assert_string_equal(rd("v1/memory/ahead/alloc-7/memory.oom_control"), "1");
	oom_shown("ahead/alloc-7");
	assert_true(ah_acg_holds(s, 7));
	ah_acg_limits d, a;
	assert_true(ah_acg_get(s, 7, &d, &a));
	assert_int_equal(a.mem_max_bytes, 384 * MiB);
	ah_acg_stats st;
	ah_acg_stats_get(s, &st);
	assert_int_equal(st.held, 1);
	assert_int_equal(st.created, 1);
	uint64_t w1 = st.writes;
	assert_true(w1 >= 4);

	/* the paths: every v1 controller's directory, distinct */
	char paths[8][AH_SYSPATH_MAX];
	size_t n = 0;
	assert_int_equal(ah_acg_paths(s, 7, paths, 8, &n), 0);
	assert_int_equal(n, 4);
	assert_non_null(strstr(paths[2], "/v1/memory/ahead/alloc-7"));

	/* the same again writes nothing; a resize only the difference */
	assert_int_equal(ah_acg_set(s, 7, &want, &o, err, sizeof err), 0);
	ah_acg_stats_get(s, &st);
	assert_int_equal(st.writes, w1);
	want = lim(500, 512 * MiB, 768 * MiB);
	assert_int_equal(ah_acg_set(s, 7, &want, &o, err, sizeof err), 0);
	assert_string_equal(rd("v1/memory/ahead/alloc-7/memory.limit_in_bytes"), "805306368");
	assert_string_equal(rd("v1/memory/ahead/alloc-7/memory.soft_limit_in_bytes"), "536870912");
	ah_acg_stats_get(s, &st);
	assert_int_equal(st.writes, w1 + 2);

	/* a hard limit below usage is clamped at it, and planned again by the
	 * check once usage fell */
	wr("v1/memory/ahead/alloc-7/memory.usage_in_bytes", "%llu\n", (unsigned long long)(600 * MiB));
	wr("v1/memory/ahead/alloc-7/memory.stat", "total_cache 0\ntotal_rss %llu\n", (unsigned long long)(600 * MiB));
	want = lim(500, 256 * MiB, 384 * MiB);
	assert_int_equal(ah_acg_set(s, 7, &want, &o, err, sizeof err), 0);
	assert_true(strtoull(rd("v1/memory/ahead/alloc-7/memory.limit_in_bytes"), NULL, 10) >= 600 * MiB);
	wr("v1/memory/ahead/alloc-7/memory.usage_in_bytes", "%llu\n", (unsigned long long)(100 * MiB));
	wr("v1/memory/ahead/alloc-7/memory.stat", "total_cache 0\ntotal_rss %llu\n", (unsigned long long)(100 * MiB));
	assert_int_equal(ah_acg_check(s, &o, NULL, err, sizeof err), 0);
	assert_string_equal(rd("v1/memory/ahead/alloc-7/memory.limit_in_bytes"), "402653184");

	/* a drop with files left (tasks, on a kernel): pending, then removed */
	assert_int_equal(ah_acg_drop(s, 7, err, sizeof err), 0);
	assert_false(ah_acg_holds(s, 7));
	ah_acg_stats_get(s, &st);
	assert_int_equal(st.held, 0);
	assert_int_equal(st.pending_removal, 1);
	assert_true(is_dir("v1/memory/ahead/alloc-7"));
	empty("ahead/alloc-7");
	assert_int_equal(ah_acg_check(s, &o, NULL, err, sizeof err), 0);
	assert_false(is_dir("v1/memory/ahead/alloc-7"));
	assert_false(is_dir("v1/cpu/ahead/alloc-7"));
	ah_acg_stats_get(s, &st);
	assert_int_equal(st.pending_removal, 0);
	assert_int_equal(st.removed, 1);
	ah_acg_free(s);
}

typedef struct {
	int n;
	uint64_t id;
	uint32_t mask;
	bool adopted;
} drift_seen;

static void on_drift(void *ctx, uint64_t id, uint32_t mask, bool adopted)
{
	drift_seen *d = ctx;
	d->n++;
	d->id = id;
	d->mask = mask;
	d->adopted = adopted;
}

static void test_drift(void **state)
{
	(void)state;
	ah_cgroup_roots r;
	roots_of(&r);
	ah_alloc_cgroups *s = NULL;
	char err[512] = "";
	assert_int_equal(ah_acg_new(&r, "ahead", &s, err, sizeof err), 0);
	v1_new("ahead/alloc-3", 10 * MiB);
	ah_acg_opts o;
	ah_acg_opts_init(&o);
	ah_acg_limits want = lim(1000, 128 * MiB, 256 * MiB);
	assert_int_equal(ah_acg_set(s, 3, &want, &o, err, sizeof err), 0);
	oom_shown("ahead/alloc-3");
	drift_seen d = {0};
	ah_acg_events evs = {.drift = on_drift, .ctx = &d};
	assert_int_equal(ah_acg_check(s, &o, &evs, err, sizeof err), 0);
	assert_int_equal(d.n, 0); /* nothing changed: nothing found */

	/* restored */
	wr("v1/cpu/ahead/alloc-3/cpu.cfs_quota_us", "-1\n");
	assert_int_equal(ah_acg_check(s, &o, &evs, err, sizeof err), 0);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.id, 3);
	assert_int_equal(d.mask, AH_DRIFT_CPU);
	assert_false(d.adopted);
	assert_string_equal(rd("v1/cpu/ahead/alloc-3/cpu.cfs_quota_us"), "100000");

	/* adopted: kept, and no drift any more */
	o.adopt_drift = true;
	wr("v1/memory/ahead/alloc-3/memory.limit_in_bytes", "%llu\n", (unsigned long long)(512 * MiB));
	assert_int_equal(ah_acg_check(s, &o, &evs, err, sizeof err), 0);
	assert_int_equal(d.n, 2);
	assert_int_equal(d.mask, AH_DRIFT_MEM_MAX);
	assert_true(d.adopted);
	assert_string_equal(rd("v1/memory/ahead/alloc-3/memory.limit_in_bytes"), "536870912");
	assert_int_equal(ah_acg_check(s, &o, &evs, err, sizeof err), 0);
	assert_int_equal(d.n, 2);
	ah_acg_stats st;
	ah_acg_stats_get(s, &st);
	assert_int_equal(st.drift, 2);
	assert_int_equal(st.drift_restored, 1);
	assert_int_equal(st.drift_adopted, 1);

	/* a cgroup that vanished is made again (on a kernel its files come
	 * with it; the fixture's are made after) */
	empty("ahead/alloc-3");
	const char *ctl[] = {"cpu", "cpuacct", "memory", "blkio"};
	for (int i = 0; i < 4; i++) {
		char p[PATH_MAX];
		snprintf(p, sizeof p, "%s/v1/%s/ahead/alloc-3", root, ctl[i]);
		rmdir(p);
	}
	assert_false(is_dir("v1/cpu/ahead/alloc-3"));
	(void)ah_acg_check(s, &o, &evs, err, sizeof err);
	assert_true(is_dir("v1/cpu/ahead/alloc-3"));
	ah_acg_free(s);
}

/* A restart keeping an adoption: nothing written, no drift while the
 * kernel keeps the adopted value, drift found when it moves again. */
static void test_adopt_at_start(void **state)
{
	(void)state;
	ah_cgroup_roots r;
	roots_of(&r);
	ah_alloc_cgroups *s = NULL;
	char err[512] = "";
	assert_int_equal(ah_acg_new(&r, "ahead", &s, err, sizeof err), 0);
	v1_new("ahead/alloc-5", 10 * MiB);
	wr("v1/cpu/ahead/alloc-5/cpu.cfs_quota_us", "200000\n"); /* adopted before the restart: 2 cores */
	ah_acg_limits desired = lim(500, 0, 0), adopted = lim(2000, 0, 0);
	assert_int_equal(ah_acg_adopt(s, 5, &desired, &adopted, err, sizeof err), 0);
	assert_true(ah_acg_holds(s, 5));
	ah_acg_stats st;
	ah_acg_stats_get(s, &st);
	assert_int_equal(st.writes, 0);
	ah_acg_opts o;
	ah_acg_opts_init(&o);
	drift_seen d = {0};
	ah_acg_events ev = {.drift = on_drift, .ctx = &d};
	assert_int_equal(ah_acg_check(s, &o, &ev, err, sizeof err), 0);
	assert_int_equal(d.n, 0);
	assert_string_equal(rd("v1/cpu/ahead/alloc-5/cpu.cfs_quota_us"), "200000");
	ah_acg_limits dd, aa;
	assert_true(ah_acg_get(s, 5, &dd, &aa));
	assert_int_equal(dd.cpu_millicores, 500);
	assert_int_equal(aa.cpu_millicores, 2000);
	/* moved again by hand, restore: back to desired */
	wr("v1/cpu/ahead/alloc-5/cpu.cfs_quota_us", "300000\n");
	assert_int_equal(ah_acg_check(s, &o, &ev, err, sizeof err), 0);
	assert_int_equal(d.n, 1);
	assert_string_equal(rd("v1/cpu/ahead/alloc-5/cpu.cfs_quota_us"), "50000");
	ah_acg_free(s);
}

static void test_dry_run(void **state)
{
	(void)state;
	ah_cgroup_roots r;
	roots_of(&r);
	ah_alloc_cgroups *s = NULL;
	char err[512] = "";
	assert_int_equal(ah_acg_new(&r, "dry", &s, err, sizeof err), 0);
	v1_new("dry/alloc-1", 10 * MiB);
	ah_acg_opts o;
	ah_acg_opts_init(&o);
	o.dry_run = true;
	ah_acg_limits want = lim(250, 64 * MiB, 96 * MiB);
	assert_int_equal(ah_acg_set(s, 1, &want, &o, err, sizeof err), 0);
	assert_true(is_dir("v1/memory/dry/alloc-1"));
	assert_string_equal(rd("v1/cpu/dry/alloc-1/cpu.cfs_quota_us"), "-1");
	assert_string_equal(rd("v1/memory/dry/alloc-1/memory.limit_in_bytes"), "9223372036854771712");
	ah_acg_stats st;
	ah_acg_stats_get(s, &st);
	assert_int_equal(st.writes, 0);
	assert_true(st.dry_run_writes >= 3);
	ah_acg_free(s);
}

static void test_unlimit_all(void **state)
{
	(void)state;
	ah_cgroup_roots r;
	roots_of(&r);
	ah_alloc_cgroups *s = NULL;
	char err[512] = "";
	assert_int_equal(ah_acg_new(&r, "stop", &s, err, sizeof err), 0);
	v1_new("stop/alloc-4", 10 * MiB);
	ah_acg_opts o;
	ah_acg_opts_init(&o);
	ah_acg_limits want = lim(300, 0, 0); /* cpu only: memory not managed */
	wr("v1/memory/stop/alloc-4/memory.limit_in_bytes", "%llu\n", (unsigned long long)(777 * MiB));
	assert_int_equal(ah_acg_set(s, 4, &want, &o, err, sizeof err), 0);
	assert_string_equal(rd("v1/cpu/stop/alloc-4/cpu.cfs_quota_us"), "30000");
	assert_int_equal(ah_acg_unlimit_all(s, err, sizeof err), 0);
	assert_string_equal(rd("v1/cpu/stop/alloc-4/cpu.cfs_quota_us"), "-1");
	/* a limit ahead does not manage is left alone */
	assert_string_equal(rd("v1/memory/stop/alloc-4/memory.limit_in_bytes"), "814743552");
	ah_acg_limits d, a;
	assert_true(ah_acg_get(s, 4, &d, &a));
	assert_int_equal(d.cpu_millicores, 300); /* desired kept */
	assert_int_equal(a.cpu_millicores, 0);   /* applied forgotten */
	assert_int_equal(ah_acg_set(s, 4, &want, &o, err, sizeof err), 0);
	assert_string_equal(rd("v1/cpu/stop/alloc-4/cpu.cfs_quota_us"), "30000");
	ah_acg_free(s);
}

static void test_sweep(void **state)
{
	(void)state;
	ah_cgroup_roots r;
	roots_of(&r);
	ah_alloc_cgroups *s = NULL;
	char err[512] = "";
	assert_int_equal(ah_acg_new(&r, "sw", &s, err, sizeof err), 0);
	/* live 1 (set again), live 2 (not set yet), orphan 9 (empty: gone),
	 * orphan 10 with files (pending), a stranger (kept) */
	v1_new("sw/alloc-1", MiB);
	v1_new("sw/alloc-2", MiB);
	mkdirs(strcat(strcpy((char[PATH_MAX]){0}, root), "/v1/memory/sw/alloc-9"));
	mkdirs(strcat(strcpy((char[PATH_MAX]){0}, root), "/v1/cpu/sw/alloc-9"));
	v1_new("sw/alloc-10", MiB);
	mkdirs(strcat(strcpy((char[PATH_MAX]){0}, root), "/v1/cpu/sw/other"));
	mkdirs(strcat(strcpy((char[PATH_MAX]){0}, root), "/v1/cpu/sw/alloc-x1"));
	ah_acg_opts o;
	ah_acg_opts_init(&o);
	ah_acg_limits want = lim(100, 0, 0);
	assert_int_equal(ah_acg_set(s, 1, &want, &o, err, sizeof err), 0);
	uint64_t live[] = {2, 1};
	size_t removed = 0;
	assert_int_equal(ah_acg_sweep(s, live, 2, &removed, err, sizeof err), 0);
	assert_int_equal(removed, 1);
	assert_false(is_dir("v1/memory/sw/alloc-9"));
	assert_false(is_dir("v1/cpu/sw/alloc-9"));
	assert_true(is_dir("v1/cpu/sw/alloc-1"));
	assert_true(is_dir("v1/cpu/sw/alloc-2"));
	assert_true(is_dir("v1/cpu/sw/alloc-10"));
	assert_true(is_dir("v1/cpu/sw/other"));
	assert_true(is_dir("v1/cpu/sw/alloc-x1"));
	ah_acg_stats st;
	ah_acg_stats_get(s, &st);
	assert_int_equal(st.orphans_removed, 1);
	assert_int_equal(st.pending_removal, 1);
	assert_int_equal(st.held, 1);
	empty("sw/alloc-10");
	assert_int_equal(ah_acg_check(s, &o, NULL, err, sizeof err), 0);
	assert_false(is_dir("v1/cpu/sw/alloc-10"));
	ah_acg_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits_of),
		cmocka_unit_test(test_io),
		cmocka_unit_test(test_adopt_at_start),
		cmocka_unit_test(test_parent_checked),
		cmocka_unit_test(test_set_resize_drop),
		cmocka_unit_test(test_drift),
		cmocka_unit_test(test_dry_run),
		cmocka_unit_test(test_unlimit_all),
		cmocka_unit_test(test_sweep),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

/* The enforcer over fake cgroup trees made at test time (v2 and v1):
 * what is read back (odd and missing files included), the writes a plan
 * makes and their order, the clamp below usage, the shrink cap, dry run,
 * the stop switch, drift, a cgroup that vanishes, and a cgroup's life
 * (create, attach, kill, remove). tests/test_enforce_kernel.c does the same
 * against the real kernel. */
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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ahead/enforce.h"
#include "ahead/error.h"

#define MiB ((uint64_t)1 << 20)
#define GiB ((uint64_t)1 << 30)

#include "tree_fixture.h"

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(p);
	return 0;
}

static void rmtree(const char *rel)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/%s", root, rel);
	nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof root, "/tmp/ahead-enforce-XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void roots_of(ah_cgroup_roots *r, bool v2, bool v1)
{
	ah_cgroup_roots_init(r);
	snprintf(r->proc, sizeof r->proc, "%s/proc", root);
	if (v2)
		snprintf(r->v2, sizeof r->v2, "%s/v2", root);
	if (v1)
		for (int i = 0; i < AH_CG_V1_N; i++)
			snprintf(r->v1[i], sizeof r->v1[i], "%s/v1/%s", root, ah_cg_v1_name((ah_cg_v1)i));
}

/* A v2 cgroup with every controller on: cpu.max, memory.{high,max}, io.max. */
static void v2_cgroup(const char *cg, const char *cpu_max, const char *high, const char *max, uint64_t usage,
		      uint64_t file)
{
	char p[PATH_MAX];
#define F(name) (snprintf(p, sizeof p, "v2/%s/%s", cg, name), p)
	wr(F("cpu.max"), "%s\n", cpu_max);
	wr(F("cpu.stat"), "usage_usec 1000\nuser_usec 600\nsystem_usec 400\n");
	wr(F("memory.high"), "%s\n", high);
	wr(F("memory.max"), "%s\n", max);
	wr(F("memory.current"), "%llu\n", (unsigned long long)usage);
	wr(F("memory.stat"), "anon %llu\nfile %llu\n", (unsigned long long)(usage - file), (unsigned long long)file);
	wr(F("io.max"), "");
	wr(F("cgroup.procs"), "");
	wr(F("cgroup.kill"), "");
	wr(F("memory.pressure"), "some avg10=0.00 avg60=0.00 avg300=0.00 total=5000\n"
				 "full avg10=0.00 avg60=0.00 avg300=0.00 total=100\n");
#undef F
}

/* A v1 cgroup in cpu, cpuacct, memory and blkio. */
static void v1_cgroup(const char *cg, const char *quota, const char *period, const char *limit, uint64_t usage,
		      uint64_t cache)
{
	char p[PATH_MAX];
#define F(ctl, name) (snprintf(p, sizeof p, "v1/%s/%s/%s", ctl, cg, name), p)
	wr(F("cpu", "cpu.cfs_quota_us"), "%s\n", quota);
	wr(F("cpu", "cpu.cfs_period_us"), "%s\n", period);
	wr(F("cpu", "cgroup.procs"), "");
	wr(F("cpuacct", "cpuacct.usage"), "123456\n");
	wr(F("cpuacct", "cgroup.procs"), "");
	wr(F("memory", "memory.limit_in_bytes"), "%s\n", limit);
	wr(F("memory", "memory.soft_limit_in_bytes"), "9223372036854771712\n");
	wr(F("memory", "memory.usage_in_bytes"), "%llu\n", (unsigned long long)usage);
	wr(F("memory", "memory.stat"), "cache %llu\nrss %llu\ntotal_cache %llu\ntotal_rss %llu\n",
	   (unsigned long long)cache, (unsigned long long)(usage - cache), (unsigned long long)cache,
	   (unsigned long long)(usage - cache));
	wr(F("memory", "memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
	wr(F("memory", "cgroup.procs"), "");
	wr(F("blkio", "blkio.throttle.read_bps_device"), "");
	wr(F("blkio", "blkio.throttle.write_bps_device"), "");
	wr(F("blkio", "cgroup.procs"), "");
#undef F
}

static void read_ok(const ah_cgroup_roots *r, const ah_cgroup_ref *ref, ah_enforce_state *st)
{
	char err[2048] = "";
	int rc = ah_enforce_read(r, ref, st, err, sizeof err);
	if (rc)
		fail_msg("ah_enforce_read: %d %s", rc, err);
}

/* Plans one cgroup; fails the test on an error. */
static void plan1(const ah_cgroup_roots *r, const ah_cgroup_ref *ref, const ah_limits *want,
		  const ah_enforce_opts *o, ah_enforce_plan *p)
{
	ah_enforce_state st;
	read_ok(r, ref, &st);
	ah_enforce_item it = {ref, &st, want};
	char err[512] = "";
	int rc = ah_enforce_plan_make(r, &it, 1, o, p, err, sizeof err);
	if (rc)
		fail_msg("plan: %d %s", rc, err);
}

/* "file=value" of each step, ';'-joined, paths relative to the root. */
static const char *steps(const ah_enforce_plan *p)
{
	static char b[8192];
	size_t o = 0, rl = strlen(root);
	b[0] = 0;
	for (size_t i = 0; i < p->n; i++) {
		const char *path = p->step[i].path;
		if (!strncmp(path, root, rl))
			path += rl + 1;
		o += (size_t)snprintf(b + o, sizeof b - o, "%s%s=%s", i ? ";" : "", path, p->step[i].value);
	}
	return b;
}

static void apply_ok(const ah_enforce_plan *p, const ah_enforce_opts *o, ah_enforce_result *res)
{
	char err[1024] = "";
	int rc = ah_enforce_apply(p, o, res, err, sizeof err);
	if (rc)
		fail_msg("apply: %d %s", rc, err);
}

/* ---- reading ---- */

static void test_read_v2(void **state)
{
	(void)state;
	v2_cgroup("a", "50000 100000", "1073741824", "max", 300 * MiB, 100 * MiB);
	wr("v2/a/io.max", "8:0 rbps=1048576 wbps=max riops=max wiops=max\n253:1 rbps=max wbps=2097152 riops=10 wiops=max\n");
	ah_cgroup_roots r;
	roots_of(&r, true, false);
	ah_cgroup_ref ref;
	ah_cgroup_ref_init(&ref, "a", NULL);
	ah_enforce_state st;
	read_ok(&r, &ref, &st);
	assert_int_equal(st.cpu_ver, AH_ENF_V2);
	assert_int_equal(st.mem_ver, AH_ENF_V2);
	assert_int_equal(st.io_ver, AH_ENF_V2);
	assert_int_equal(st.cpu_quota_us.v, 50000);
	assert_int_equal(st.cpu_period_us.v, 100000);
	assert_int_equal(st.mem_high_bytes.v, GiB);
	assert_int_equal(st.mem_max_bytes.st, AH_FIELD_MAX);
	assert_true(st.has_kill);
	assert_int_equal(st.use.mem_current_bytes.v, 300 * MiB);
	assert_int_equal(st.use.mem_file_bytes.v, 100 * MiB);
	assert_int_equal(st.n_io, 2);
	assert_int_equal(st.io[0].major, 8);
	assert_int_equal(st.io[0].rbps, MiB);
	assert_true(st.io[0].wbps == AH_LIMIT_NONE);
	assert_int_equal(st.io[1].minor, 1);
	assert_int_equal(st.io[1].wbps, 2 * MiB);
	ah_limits l;
	ah_enforce_state_limits(&st, &l);
	assert_int_equal(l.cpu_millicores, 500);
	assert_int_equal(l.mem_high_bytes, GiB);
	assert_true(l.mem_max_bytes == AH_LIMIT_NONE);
	rmtree("v2");
}

static void test_read_v1(void **state)
{
	(void)state;
	v1_cgroup("j", "-1", "100000", "9223372036854771712", 200 * MiB, 150 * MiB);
	wr("v1/blkio/j/blkio.throttle.read_bps_device", "8:0 1048576\n");
	wr("v1/blkio/j/blkio.throttle.write_bps_device", "8:0 4096\n8:16 8192\n");
	ah_cgroup_roots r;
	roots_of(&r, false, true);
	ah_cgroup_ref ref;
	ah_cgroup_ref_init(&ref, NULL, "j");
	ah_enforce_state st;
	read_ok(&r, &ref, &st);
	assert_int_equal(st.cpu_ver, AH_ENF_V1);
	assert_int_equal(st.mem_ver, AH_ENF_V1);
	assert_int_equal(st.io_ver, AH_ENF_V1);
	assert_int_equal(st.cpu_quota_us.st, AH_FIELD_MAX); /* -1 */
	assert_int_equal(st.mem_max_bytes.st, AH_FIELD_MAX); /* 2^63 - page */
	assert_int_equal(st.mem_high_bytes.st, AH_FIELD_MAX);
	assert_int_equal(st.mem_oom_kill_disable.v, 0);
	assert_int_equal(st.mem_oom_kill_disable.st, AH_FIELD_OK);
	assert_false(st.has_kill);
	assert_int_equal(st.use.mem_file_bytes.v, 150 * MiB);
	assert_int_equal(st.n_io, 2);
	assert_int_equal(st.io[0].rbps, MiB);
	assert_int_equal(st.io[0].wbps, 4096);
	assert_true(st.io[1].rbps == AH_LIMIT_NONE);
	assert_int_equal(st.io[1].wbps, 8192);
	rmtree("v1");
}

/* Odd and missing files: a refused file leaves its field BAD with the
 * file named, a missing one leaves NONE, the rest is still read. */
static void test_read_odd(void **state)
{
	(void)state;
	v2_cgroup("o", "lots 100000", "max", "max", 10 * MiB, 0);
	unlink(strcat(strcpy((char[PATH_MAX]){0}, root), "/v2/o/memory.high"));
	wr("v2/o/io.max", "8:0 rbps=fast\n");
	ah_cgroup_roots r;
	roots_of(&r, true, false);
	ah_cgroup_ref ref;
	ah_cgroup_ref_init(&ref, "o", NULL);
	ah_enforce_state st;
	char err[2048] = "";
	assert_int_equal(ah_enforce_read(&r, &ref, &st, err, sizeof err), 0);
	assert_int_equal(st.cpu_quota_us.st, AH_FIELD_BAD);
	assert_non_null(strstr(err, "cpu.max:1:"));
	assert_int_equal(st.mem_high_bytes.st, AH_FIELD_NONE); /* absent */
	assert_int_equal(st.mem_max_bytes.st, AH_FIELD_MAX);
	assert_true(st.io_bad);
	assert_int_equal(st.n_io, 0);
	/* a v1 oom_control without its key, a period of 0 */
	v1_cgroup("p", "20000", "0", "1048576", MiB, 0);
	wr("v1/memory/p/memory.oom_control", "under_oom 0\n");
	ah_cgroup_roots r1;
	roots_of(&r1, false, true);
	ah_cgroup_ref ref1;
	ah_cgroup_ref_init(&ref1, NULL, "p");
	err[0] = 0;
	assert_int_equal(ah_enforce_read(&r1, &ref1, &st, err, sizeof err), 0);
	assert_int_equal(st.mem_oom_kill_disable.st, AH_FIELD_BAD);
	assert_non_null(strstr(err, "memory.oom_control"));
	assert_int_equal(st.cpu_quota_us.v, 20000);
	assert_int_equal(st.mem_max_bytes.v, MiB);
	/* a controller not there: no files, NONE; planning it is refused */
	wr("v2/bare/cpu.stat", "usage_usec 5\n");
	ah_cgroup_ref_init(&ref, "bare", NULL);
	read_ok(&r, &ref, &st);
	assert_int_equal(st.cpu_ver, AH_ENF_NONE);
	assert_int_equal(st.mem_ver, AH_ENF_NONE);
	ah_limits want;
	ah_limits_init(&want);
	want.mem_max_bytes = GiB;
	ah_enforce_item it = {&ref, &st, &want};
	ah_enforce_plan p;
	ah_enforce_plan_init(&p);
	assert_int_equal(ah_enforce_plan_make(&r, &it, 1, NULL, &p, err, sizeof err), AH_EUNSUPPORTED);
	assert_non_null(strstr(err, "memory"));
	ah_enforce_plan_fini(&p);
	rmtree("v2");
	rmtree("v1");
}

/* ---- planning: order ---- */

static void test_plan_v2_grow_and_shrink(void **state)
{
	(void)state;
	v2_cgroup("g", "50000 100000", "1073741824", "2147483648", 500 * MiB, 0);
	ah_cgroup_roots r;
	roots_of(&r, true, false);
	ah_cgroup_ref ref;
	ah_cgroup_ref_init(&ref, "g", NULL);
	ah_limits want;
	ah_limits_init(&want);
	want.cpu_millicores = 1500;
	want.mem_high_bytes = 2 * GiB;
	want.mem_max_bytes = 4 * GiB;
	ah_enforce_plan p;
	ah_enforce_plan_init(&p);
	plan1(&r, &ref, &want, NULL, &p);
	/* growing: max raised before high */
	assert_string_equal(steps(&p), "v2/g/cpu.max=150000 100000;v2/g/memory.max=4294967296;v2/g/memory.high=2147483648");
	for (size_t i = 0; i < p.n; i++)
		assert_int_equal(p.step[i].phase, 1);
	ah_enforce_result res;
	apply_ok(&p, NULL, &res);
	assert_int_equal(res.done, 3);
	assert_string_equal(rd("v2/g/memory.max"), "4294967296");
	assert_string_equal(rd("v2/g/cpu.max"), "150000 100000");
	/* shrinking: high lowered before max, cpu too, all decreases */
	want.cpu_millicores = 250;
	want.mem_high_bytes = GiB;
	want.mem_max_bytes = 3 * GiB / 2;
	plan1(&r, &ref, &want, NULL, &p);
	assert_string_equal(steps(&p), "v2/g/cpu.max=25000 100000;v2/g/memory.high=1073741824;v2/g/memory.max=1610612736");
	for (size_t i = 0; i < p.n; i++)
		assert_int_equal(p.step[i].phase, 0);
	/* high up, max down: the decrease first */
	want.cpu_millicores = AH_LIMIT_KEEP;
	want.mem_high_bytes = 3 * GiB;
	want.mem_max_bytes = 3 * GiB;
	plan1(&r, &ref, &want, NULL, &p);
	assert_string_equal(steps(&p), "v2/g/memory.max=3221225472;v2/g/memory.high=3221225472");
	/* nothing to change: no step; unlimited is "max" */
	want.mem_high_bytes = 2 * GiB;
	want.mem_max_bytes = AH_LIMIT_NONE;
	plan1(&r, &ref, &want, NULL, &p);
	apply_ok(&p, NULL, &res);
	assert_string_equal(rd("v2/g/memory.max"), "max");
	plan1(&r, &ref, &want, NULL, &p);
	assert_int_equal(p.n, 0);
	ah_enforce_plan_fini(&p);
	rmtree("v2");
}

/* Several cgroups: every decrease before every increase, decreases
 * children first, increases parents first. */
static void test_plan_tree_order(void **state)
{
	(void)state;
	v2_cgroup("pool", "200000 100000", "max", "4294967296", GiB, 0);
	v2_cgroup("pool/a", "100000 100000", "max", "2147483648", 500 * MiB, 0);
	v2_cgroup("pool/b", "100000 100000", "max", "2147483648", 500 * MiB, 0);
	ah_cgroup_roots r;
	roots_of(&r, true, false);
	ah_cgroup_ref rp, ra, rb;
	ah_cgroup_ref_init(&rp, "pool", NULL);
	ah_cgroup_ref_init(&ra, "pool/a", NULL);
	ah_cgroup_ref_init(&rb, "pool/b", NULL);
	ah_enforce_state sp, sa, sb;
	read_ok(&r, &rp, &sp);
	read_ok(&r, &ra, &sa);
	read_ok(&r, &rb, &sb);
	/* a grows (needs the pool to grow first), b shrinks */
	ah_limits wp, wa, wb;
	ah_limits_init(&wp);
	ah_limits_init(&wa);
	ah_limits_init(&wb);
	wp.cpu_millicores = 3000;
	wp.mem_max_bytes = 6 * GiB;
	wa.cpu_millicores = 2500;
	wa.mem_max_bytes = 5 * GiB;
	wb.cpu_millicores = 500;
	wb.mem_max_bytes = GiB;
	/* listed child first: the order must not depend on the listing */
	ah_enforce_item items[3] = {{&ra, &sa, &wa}, {&rb, &sb, &wb}, {&rp, &sp, &wp}};
	ah_enforce_plan p;
	ah_enforce_plan_init(&p);
	char err[256];
	assert_int_equal(ah_enforce_plan_make(&r, items, 3, NULL, &p, err, sizeof err), 0);
	assert_string_equal(steps(&p), "v2/pool/b/cpu.max=50000 100000;v2/pool/b/memory.max=1073741824;"
				       "v2/pool/cpu.max=300000 100000;v2/pool/memory.max=6442450944;"
				       "v2/pool/a/cpu.max=250000 100000;v2/pool/a/memory.max=5368709120");
	/* the reverse: everything shrinks, children before the pool */
	ah_limits_init(&wp);
	wp.mem_max_bytes = 2 * GiB;
	ah_limits_init(&wa);
	wa.mem_max_bytes = GiB;
	ah_enforce_item two[2] = {{&rp, &sp, &wp}, {&ra, &sa, &wa}};
	assert_int_equal(ah_enforce_plan_make(&r, two, 2, NULL, &p, err, sizeof err), 0);
	assert_string_equal(steps(&p), "v2/pool/a/memory.max=1073741824;v2/pool/memory.max=2147483648");
	ah_enforce_plan_fini(&p);
	rmtree("v2");
}

static void test_plan_v1(void **state)
{
	(void)state;
	v1_cgroup("j", "-1", "100000", "9223372036854771712", 200 * MiB, 150 * MiB);
	ah_cgroup_roots r;
	roots_of(&r, false, true);
	ah_cgroup_ref ref;
	ah_cgroup_ref_init(&ref, NULL, "j");
	ah_limits want;
	ah_limits_init(&want);
	want.cpu_millicores = 500;
	want.mem_high_bytes = 256 * MiB;
	want.mem_max_bytes = 512 * MiB;
	want.n_io = 1;
	want.io[0] = (ah_io_limit){8, 0, 10 * MiB, AH_LIMIT_KEEP};
	ah_enforce_plan p;
	ah_enforce_plan_init(&p);
	plan1(&r, &ref, &want, NULL, &p);
	/* all decreases from unlimited; oom_kill_disable before the hard limit */
	assert_string_equal(steps(&p), "v1/cpu/j/cpu.cfs_quota_us=50000;v1/memory/j/memory.oom_control=1;"
				       "v1/memory/j/memory.soft_limit_in_bytes=268435456;"
				       "v1/memory/j/memory.limit_in_bytes=536870912;"
				       "v1/blkio/j/blkio.throttle.read_bps_device=8:0 10485760");
	ah_enforce_result res;
	apply_ok(&p, NULL, &res);
	assert_string_equal(rd("v1/memory/j/memory.oom_control"), "1");
	/* the fake file now reads "1", not the kernel's text: rewrite it */
	wr("v1/memory/j/memory.oom_control", "oom_kill_disable 1\nunder_oom 0\n");
	/* a period change: quota and period in the order whose intermediate
	 * ratio is smaller (50000/100000 -> 10000/20000: period first would be
	 * 50000/20000 = 2.5 cores; quota first is 10000/100000 = 0.1) */
	want.cpu_period_us = 20000;
	want.mem_max_bytes = AH_LIMIT_NONE;
	want.io[0].rbps = AH_LIMIT_NONE;
	plan1(&r, &ref, &want, NULL, &p);
	assert_string_equal(steps(&p), "v1/cpu/j/cpu.cfs_quota_us=10000;v1/cpu/j/cpu.cfs_period_us=20000;"
				       "v1/memory/j/memory.limit_in_bytes=-1;"
				       "v1/blkio/j/blkio.throttle.read_bps_device=8:0 0");
	ah_enforce_plan_fini(&p);
	rmtree("v1");
}

static void test_plan_io_v2(void **state)
{
	(void)state;
	v2_cgroup("i", "max 100000", "max", "max", MiB, 0);
	wr("v2/i/io.max", "8:0 rbps=1000000 wbps=max riops=max wiops=max\n");
	ah_cgroup_roots r;
	roots_of(&r, true, false);
	ah_cgroup_ref ref;
	ah_cgroup_ref_init(&ref, "i", NULL);
	ah_limits want;
	ah_limits_init(&want);
	want.n_io = 2;
	want.io[0] = (ah_io_limit){8, 0, 2000000, 500000}; /* r up, w down: a decrease */
	want.io[1] = (ah_io_limit){8, 16, AH_LIMIT_KEEP, 3000000};
	ah_enforce_plan p;
	ah_enforce_plan_init(&p);
	plan1(&r, &ref, &want, NULL, &p);
	assert_string_equal(steps(&p), "v2/i/io.max=8:0 rbps=2000000 wbps=500000;v2/i/io.max=8:16 wbps=3000000");
	assert_int_equal(p.step[0].phase, 0);
	assert_int_equal(p.step[1].phase, 0); /* unlimited -> a limit */
	ah_enforce_plan_fini(&p);
	rmtree("v2");
}

/* ---- safety ---- */

static void test_clamp_below_usage(void **state)
{
	(void)state;
	v2_cgroup("c", "max 100000", "max", "max", 300 * MiB + 100, 200 * MiB);
	ah_cgroup_roots r;
	roots_of(&r, true, false);
	ah_cgroup_ref ref;
	ah_cgroup_ref_init(&ref, "c", NULL);
	ah_limits want;
	ah_limits_init(&want);
	want.mem_high_bytes = 64 * MiB; /* the soft level may go below usage: it reclaims */
	want.mem_max_bytes = 100 * MiB;
	ah_enforce_plan p;
	ah_enforce_plan_init(&p);
	plan1(&r, &ref, &want, NULL, &p);
	assert_true(p.item[0].clamped);
	assert_int_equal(p.item[0].clamp_wanted_bytes, 100 * MiB);
	uint64_t floor = 300 * MiB + 4096; /* usage, rounded up to a page */
	assert_int_equal(p.item[0].clamp_floor_bytes, floor);
	assert_int_equal(p.item[0].target.mem_max_bytes, floor);
	assert_int_equal(p.item[0].target.mem_high_bytes, 64 * MiB);
	char want_s[128];
	snprintf(want_s, sizeof want_s, "v2/c/memory.high=%llu;v2/c/memory.max=%llu", (unsigned long long)(64 * MiB),
		 (unsigned long long)floor);
	assert_string_equal(steps(&p), want_s);
	/* the anon floor: usage less page cache */
	ah_enforce_opts o;
	ah_enforce_opts_init(&o);
	o.hard_floor_anon = true;
	want.mem_max_bytes = 120 * MiB;
	plan1(&r, &ref, &want, &o, &p);
	assert_false(p.item[0].clamped);
	assert_int_equal(p.item[0].target.mem_max_bytes, 120 * MiB);
	want.mem_high_bytes = 32 * MiB;
	want.mem_max_bytes = 50 * MiB;
	plan1(&r, &ref, &want, &o, &p);
	assert_true(p.item[0].clamped);
	assert_int_equal(p.item[0].target.mem_max_bytes, 100 * MiB + 4096);
	ah_enforce_plan_fini(&p);
	rmtree("v2");
}

static void test_shrink_cap_splits(void **state)
{
	(void)state;
	v2_cgroup("s", "400000 100000", "max", "4294967296", 100 * MiB, 0);
	ah_cgroup_roots r;
	roots_of(&r, true, false);
	ah_cgroup_ref ref;
	ah_cgroup_ref_init(&ref, "s", NULL);
	ah_limits want;
	ah_limits_init(&want);
	want.mem_max_bytes = GiB;
	want.cpu_millicores = 1000;
	ah_enforce_opts o;
	ah_enforce_opts_init(&o);
	o.shrink_cap_frac = 0.25;
	o.shrink_cap_bytes = 768 * MiB;
	ah_enforce_plan p;
	ah_enforce_plan_init(&p);
	uint64_t seen[8];
	int n = 0;
	for (; n < 8; n++) {
		plan1(&r, &ref, &want, &o, &p);
		if (!p.n)
			break;
		ah_enforce_result res;
		apply_ok(&p, &o, &res);
		seen[n] = p.item[0].target.mem_max_bytes;
		if (!p.item[0].capped)
			break;
	}
	/* each step takes the smaller of 768 MiB and 25%: 4 GiB -> 3.25 -> 2.5
	 * (768 MiB each) -> 1.875 -> 1.40625 -> 1.0546875 (25%) -> 1 */
	assert_int_equal(seen[0], 4 * GiB - 768 * MiB);
	assert_int_equal(seen[1], seen[0] - 768 * MiB);
	assert_int_equal(seen[2], seen[1] - seen[1] / 4);
	assert_int_equal(seen[3], seen[2] - seen[2] / 4);
	assert_int_equal(n, 5);
	assert_int_equal(seen[n], GiB);
	assert_false(p.item[0].capped);
	assert_string_equal(rd("v2/s/memory.max"), "1073741824");
	/* cpu: 4 cores -> 1 core at 25% a step: 3, 2.25, 1.6875, 1.265625, 1 */
	assert_string_equal(rd("v2/s/cpu.max"), "100000 100000");
	/* growing is never capped */
	want.mem_max_bytes = 8 * GiB;
	plan1(&r, &ref, &want, &o, &p);
	assert_false(p.item[0].capped);
	assert_int_equal(p.item[0].target.mem_max_bytes, 8 * GiB);
	ah_enforce_plan_fini(&p);
	rmtree("v2");
}

static void test_dry_run_and_stop(void **state)
{
	(void)state;
	v2_cgroup("d", "max 100000", "max", "max", MiB, 0);
	ah_cgroup_roots r;
	roots_of(&r, true, false);
	ah_cgroup_ref ref;
	ah_cgroup_ref_init(&ref, "d", NULL);
	ah_limits want;
	ah_limits_init(&want);
	want.cpu_millicores = 100;
	want.mem_max_bytes = GiB;
	ah_enforce_opts o;
	ah_enforce_opts_init(&o);
	o.dry_run = true;
	ah_enforce_plan p;
	ah_enforce_plan_init(&p);
	plan1(&r, &ref, &want, &o, &p);
	assert_int_equal(p.n, 2); /* the plan is made and returned */
	ah_enforce_result res;
	apply_ok(&p, &o, &res);
	assert_int_equal(res.done, 0);
	assert_string_equal(rd("v2/d/cpu.max"), "max 100000");
	assert_string_equal(rd("v2/d/memory.max"), "max");
	/* the global switch: set before apply, nothing is written */
	atomic_bool stop = true;
	o.dry_run = false;
	o.stop = &stop;
	apply_ok(&p, &o, &res);
	assert_true(res.stopped);
	assert_int_equal(res.done, 0);
	assert_string_equal(rd("v2/d/memory.max"), "max");
	atomic_store(&stop, false);
	apply_ok(&p, &o, &res);
	assert_false(res.stopped);
	assert_int_equal(res.done, 2);
	assert_string_equal(rd("v2/d/memory.max"), "1073741824");
	/* the three steps in one call */
	want.mem_max_bytes = 2 * GiB;
	char err[512] = "";
	assert_int_equal(ah_enforce_one(&r, &ref, &want, &o, &p, &res, err, sizeof err), 0);
	assert_int_equal(res.done, 1);
	assert_string_equal(steps(&p), "v2/d/memory.max=2147483648");
	assert_string_equal(rd("v2/d/memory.max"), "2147483648");
	ah_enforce_plan_fini(&p);
	rmtree("v2");
}

static void test_drift(void **state)
{
	(void)state;
	v2_cgroup("x", "max 100000", "max", "max", MiB, 0);
	ah_cgroup_roots r;
	roots_of(&r, true, false);
	ah_cgroup_ref ref;
	ah_cgroup_ref_init(&ref, "x", NULL);
	ah_limits want;
	ah_limits_init(&want);
	want.cpu_millicores = 333; /* 33300 us: no drift from rounding */
	want.mem_high_bytes = 512 * MiB;
	want.mem_max_bytes = GiB;
	ah_enforce_plan p;
	ah_enforce_plan_init(&p);
	plan1(&r, &ref, &want, NULL, &p);
	ah_enforce_result res;
	apply_ok(&p, NULL, &res);
	ah_limits applied = p.item[0].target;
	ah_enforce_state st;
	read_ok(&r, &ref, &st);
	ah_enforce_drift d;
	ah_enforce_drift_check(&applied, &st, NULL, &d);
	assert_int_equal(d.mask, 0);
	/* the kernel keeps whole pages: within 64 KiB is no drift */
	wr("v2/x/memory.max", "%llu\n", (unsigned long long)(GiB - 4096));
	read_ok(&r, &ref, &st);
	ah_enforce_drift_check(&applied, &st, NULL, &d);
	assert_int_equal(d.mask, 0);
	/* changed by hand */
	wr("v2/x/memory.max", "max\n");
	wr("v2/x/cpu.max", "200000 100000\n");
	read_ok(&r, &ref, &st);
	ah_enforce_drift_check(&applied, &st, NULL, &d);
	assert_int_equal(d.mask, AH_DRIFT_MEM_MAX | AH_DRIFT_CPU);
	assert_true(d.found.mem_max_bytes == AH_LIMIT_NONE);
	assert_int_equal(d.found.cpu_millicores, 2000);
	/* restored: the applied limits planned again */
	plan1(&r, &ref, &applied, NULL, &p);
	assert_string_equal(steps(&p), "v2/x/cpu.max=33300 100000;v2/x/memory.max=1073741824");
	apply_ok(&p, NULL, &res);
	read_ok(&r, &ref, &st);
	ah_enforce_drift_check(&applied, &st, NULL, &d);
	assert_int_equal(d.mask, 0);
	/* v1: oom_kill_disable switched back is drift too */
	v1_cgroup("y", "-1", "100000", "1073741824", MiB, 0);
	ah_cgroup_roots r1;
	roots_of(&r1, false, true);
	ah_cgroup_ref ref1;
	ah_cgroup_ref_init(&ref1, NULL, "y");
	ah_limits_init(&applied);
	applied.mem_max_bytes = GiB;
	read_ok(&r1, &ref1, &st);
	ah_enforce_drift_check(&applied, &st, NULL, &d);
	assert_int_equal(d.mask, AH_DRIFT_OOM_CONTROL);
	ah_enforce_plan_fini(&p);
	rmtree("v2");
	rmtree("v1");
}

static void test_vanished(void **state)
{
	(void)state;
	v2_cgroup("v", "max 100000", "max", "max", MiB, 0);
	ah_cgroup_roots r;
	roots_of(&r, true, false);
	ah_cgroup_ref ref;
	ah_cgroup_ref_init(&ref, "v", NULL);
	ah_limits want;
	ah_limits_init(&want);
	want.mem_max_bytes = GiB;
	want.cpu_millicores = 500;
	ah_enforce_plan p;
	ah_enforce_plan_init(&p);
	plan1(&r, &ref, &want, NULL, &p);
	rmtree("v2/v");
	ah_enforce_result res;
	char err[1024] = "";
	assert_int_equal(ah_enforce_apply(&p, NULL, &res, err, sizeof err), AH_ENOENT);
	assert_int_equal(res.failed_step, 0);
	assert_int_equal(res.done, 0);
	assert_non_null(strstr(err, "/v2/v/cpu.max"));
	/* no file was made where the cgroup was */
	assert_string_equal(rd("v2/v/cpu.max"), "(absent)");
	ah_enforce_state st;
	assert_int_equal(ah_enforce_read(&r, &ref, &st, err, sizeof err), AH_ENOENT);
	ah_enforce_plan_fini(&p);
	rmtree("v2");
}

static void test_limits_check(void **state)
{
	(void)state;
	ah_limits l;
	ah_limits_init(&l);
	char err[256];
	assert_int_equal(ah_limits_check(&l, err, sizeof err), 0);
	l.cpu_period_us = 10;
	assert_int_equal(ah_limits_check(&l, err, sizeof err), AH_EINVAL);
	assert_non_null(strstr(err, "cpu_period_us"));
	l.cpu_period_us = 0;
	l.mem_high_bytes = 2 * GiB;
	l.mem_max_bytes = GiB;
	assert_int_equal(ah_limits_check(&l, err, sizeof err), AH_EINVAL);
	assert_non_null(strstr(err, "mem_high_bytes"));
	l.mem_max_bytes = AH_LIMIT_NONE;
	assert_int_equal(ah_limits_check(&l, err, sizeof err), 0);
	l.n_io = 2;
	l.io[0] = (ah_io_limit){8, 0, 1, 1};
	l.io[1] = (ah_io_limit){8, 0, 2, 2};
	assert_int_equal(ah_limits_check(&l, err, sizeof err), AH_EINVAL);
	assert_non_null(strstr(err, "8:0 given twice"));
	l.n_io = AH_ENFORCE_IO_DEVICES_MAX + 1;
	assert_int_equal(ah_limits_check(&l, err, sizeof err), AH_EINVAL);
}

static void test_soft_check(void **state)
{
	(void)state;
	v1_cgroup("soft", "-1", "100000", "1073741824", 300 * MiB, 200 * MiB);
	wr("v1/memory/soft/memory.oom_control", "oom_kill_disable 1\nunder_oom 1\noom_kill 0\n");
	ah_cgroup_roots r;
	roots_of(&r, false, true);
	ah_cgroup_ref ref;
	ah_cgroup_ref_init(&ref, NULL, "soft");
	ah_enforce_state st;
	read_ok(&r, &ref, &st);
	ah_soft_check c;
	ah_enforce_soft_check(&st, 256 * MiB, &c);
	assert_int_equal(c.verdict, AH_SOFT_OVER);
	assert_int_equal(c.over_bytes, 44 * MiB);
	assert_int_equal(c.file_bytes, 200 * MiB);
	assert_true(c.under_oom);
	ah_enforce_soft_check(&st, 512 * MiB, &c);
	assert_int_equal(c.verdict, AH_SOFT_UNDER);
	rmtree("v1");
}

static void test_reclaim(void **state)
{
	(void)state;
	v2_cgroup("r", "max 100000", "max", "max", 300 * MiB, 200 * MiB);
	ah_cgroup_roots r;
	roots_of(&r, true, false);
	ah_cgroup_ref ref;
	ah_cgroup_ref_init(&ref, "r", NULL);
	char err[1024] = "";
	uint64_t got = 1;
	/* no memory.reclaim (before 5.19) */
	assert_int_equal(ah_enforce_reclaim(&r, &ref, 100 * MiB, NULL, &got, err, sizeof err), AH_EUNSUPPORTED);
	assert_non_null(strstr(err, "memory.reclaim"));
	wr("v2/r/memory.reclaim", "");
	ah_enforce_opts o;
	ah_enforce_opts_init(&o);
	o.dry_run = true;
	assert_int_equal(ah_enforce_reclaim(&r, &ref, 100 * MiB, &o, &got, err, sizeof err), 0);
	assert_int_equal(got, 0);
	assert_string_equal(rd("v2/r/memory.reclaim"), "");
	/* the excess over the target (a fake usage does not go down: 0 reclaimed) */
	assert_int_equal(ah_enforce_reclaim(&r, &ref, 100 * MiB, NULL, &got, err, sizeof err), 0);
	assert_string_equal(rd("v2/r/memory.reclaim"), "209715200");
	assert_int_equal(got, 0);
	/* at or below the target: nothing written */
	wr("v2/r/memory.reclaim", "");
	assert_int_equal(ah_enforce_reclaim(&r, &ref, 300 * MiB, NULL, &got, err, sizeof err), 0);
	assert_string_equal(rd("v2/r/memory.reclaim"), "");
	/* v1: the limit is lowered, then set back to what it was */
	v1_cgroup("r1", "-1", "100000", "1073741824", 300 * MiB, 200 * MiB);
	ah_cgroup_roots r1;
	roots_of(&r1, false, true);
	ah_cgroup_ref_init(&ref, NULL, "r1");
	assert_int_equal(ah_enforce_reclaim(&r1, &ref, 50 * MiB, NULL, &got, err, sizeof err), 0);
	assert_string_equal(rd("v1/memory/r1/memory.limit_in_bytes"), "1073741824");
	assert_string_equal(rd("v1/memory/r1/memory.oom_control"), "1");
	rmtree("v2");
	rmtree("v1");
}

/* ---- a cgroup's life ---- */

static void test_create_attach_remove(void **state)
{
	(void)state;
	mkdirs(strcat(strcpy((char[PATH_MAX]){0}, root), "/v2/ahead"));
	for (int i = 0; i < AH_CG_V1_N; i++) {
		char p[PATH_MAX];
		snprintf(p, sizeof p, "%s/v1/%s/ahead", root, ah_cg_v1_name((ah_cg_v1)i));
		mkdirs(p);
	}
	ah_cgroup_roots r;
	roots_of(&r, true, true);
	/* cpu and cpuacct co-mounted: one directory, made once */
	snprintf(r.v1[AH_CG_V1_CPUACCT], sizeof r.v1[0], "%s", r.v1[AH_CG_V1_CPU]);
	ah_cgroup_ref ref;
	ah_cgroup_ref_init(&ref, "ahead/alloc-7", "ahead/alloc-7");
	ref.v1[AH_CG_V1_BLKIO] = NULL;
	char err[1024] = "";
	assert_int_equal(ah_enforce_cgroup_create(&r, &ref, err, sizeof err), 0);
	struct stat sb;
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/v1/memory/ahead/alloc-7", root);
	assert_int_equal(stat(p, &sb), 0);
	snprintf(p, sizeof p, "%s/v1/blkio/ahead/alloc-7", root);
	assert_int_not_equal(stat(p, &sb), 0); /* not named */
	assert_int_equal(ah_enforce_cgroup_create(&r, &ref, err, sizeof err), 0); /* again: fine */
	/* attach writes the pid to each directory's cgroup.procs */
	wr("v2/ahead/alloc-7/cgroup.procs", "");
	wr("v1/cpu/ahead/alloc-7/cgroup.procs", "");
	wr("v1/memory/ahead/alloc-7/cgroup.procs", "");
	assert_int_equal(ah_enforce_attach(&r, &ref, 4242, err, sizeof err), 0);
	assert_string_equal(rd("v2/ahead/alloc-7/cgroup.procs"), "4242");
	assert_string_equal(rd("v1/memory/ahead/alloc-7/cgroup.procs"), "4242");
	pid_t pids[4];
	size_t n;
	assert_int_equal(ah_enforce_pids(&r, &ref, pids, 4, &n, err, sizeof err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pids[0], 4242);
	/* a real directory with files is not empty: remove is refused */
	assert_int_equal(ah_enforce_cgroup_remove(&r, &ref, err, sizeof err), AH_EBUSY);
	rmtree("v2/ahead/alloc-7/cgroup.procs");
	unlink(strcat(strcpy((char[PATH_MAX]){0}, root), "/v1/cpu/ahead/alloc-7/cgroup.procs"));
	unlink(strcat(strcpy((char[PATH_MAX]){0}, root), "/v1/memory/ahead/alloc-7/cgroup.procs"));
	assert_int_equal(ah_enforce_cgroup_remove(&r, &ref, err, sizeof err), 0);
	assert_int_equal(ah_enforce_cgroup_remove(&r, &ref, err, sizeof err), 0); /* gone already: fine */
	snprintf(p, sizeof p, "%s/v1/memory/ahead/alloc-7", root);
	assert_int_not_equal(stat(p, &sb), 0);
	/* no parent: refused, and nothing is left half made */
	ah_cgroup_ref_init(&ref, "ahead/alloc-8", "nowhere/alloc-8");
	ref.v1[AH_CG_V1_BLKIO] = NULL;
	assert_int_equal(ah_enforce_cgroup_create(&r, &ref, err, sizeof err), AH_ENOENT);
	snprintf(p, sizeof p, "%s/v2/ahead/alloc-8", root);
	assert_int_not_equal(stat(p, &sb), 0);
	rmtree("v2");
	rmtree("v1");
}

static void test_kill_fake(void **state)
{
	(void)state;
	pid_t child = fork();
	if (child == 0) {
		for (;;)
			pause();
	}
	assert_true(child > 0);
	wr("v1/memory/k/cgroup.procs", "%d\n", (int)child);
	ah_cgroup_roots r;
	roots_of(&r, false, true);
	ah_cgroup_ref ref;
	ah_cgroup_ref_init(&ref, NULL, NULL);
	ref.v1[AH_CG_V1_MEMORY] = "k";
	size_t sig = 0;
	char err[512];
	/* a fake cgroup.procs never empties: killed, then "tasks remain" */
	assert_int_equal(ah_enforce_kill(&r, &ref, &sig, err, sizeof err), AH_EBUSY);
	int st;
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	/* v2 with cgroup.kill: written, then the (empty) procs is read */
	wr("v2/k2/cgroup.kill", "");
	wr("v2/k2/cgroup.procs", "");
	roots_of(&r, true, false);
	ah_cgroup_ref_init(&ref, "k2", NULL);
	assert_int_equal(ah_enforce_kill(&r, &ref, &sig, err, sizeof err), 0);
	assert_int_equal(sig, 0);
	assert_string_equal(rd("v2/k2/cgroup.kill"), "1");
	/* garbage in cgroup.procs is refused, naming the file */
	wr("v2/k2/cgroup.procs", "12\nabc\n");
	assert_int_equal(ah_enforce_kill(&r, &ref, &sig, err, sizeof err), AH_EPARSE);
	assert_non_null(strstr(err, "cgroup.procs:2"));
	rmtree("v2");
	rmtree("v1");
}

static void test_proc_cgroups(void **state)
{
	(void)state;
	wr("proc/self/cgroup", "12:cpu,cpuacct:/user.slice\n4:memory:/process_api/abc\n7:blkio:/\n"
			       "9:name=systemd:/x\n0::/ahead/me\n");
	char proc[PATH_MAX];
	snprintf(proc, sizeof proc, "%s/proc", root);
	ah_proc_cgroups pc;
	char err[512];
	assert_int_equal(ah_enforce_proc_cgroups(proc, 0, &pc, err, sizeof err), 0);
	assert_true(pc.has_v2);
	assert_string_equal(pc.v2, "/ahead/me");
	assert_string_equal(pc.v1[AH_CG_V1_CPU], "/user.slice");
	assert_string_equal(pc.v1[AH_CG_V1_CPUACCT], "/user.slice");
	assert_string_equal(pc.v1[AH_CG_V1_MEMORY], "/process_api/abc");
	assert_string_equal(pc.v1[AH_CG_V1_BLKIO], "/");
	wr("proc/self/cgroup", "4:memory\n");
	assert_int_equal(ah_enforce_proc_cgroups(proc, 0, &pc, err, sizeof err), AH_EPARSE);
	assert_non_null(strstr(err, "cgroup:1"));
	assert_int_equal(ah_enforce_proc_cgroups(proc, 999999, &pc, err, sizeof err), AH_ENOENT);
	rmtree("proc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_v2),
		cmocka_unit_test(test_read_v1),
		cmocka_unit_test(test_read_odd),
		cmocka_unit_test(test_plan_v2_grow_and_shrink),
		cmocka_unit_test(test_plan_tree_order),
		cmocka_unit_test(test_plan_v1),
		cmocka_unit_test(test_plan_io_v2),
		cmocka_unit_test(test_clamp_below_usage),
		cmocka_unit_test(test_shrink_cap_splits),
		cmocka_unit_test(test_dry_run_and_stop),
		cmocka_unit_test(test_drift),
		cmocka_unit_test(test_vanished),
		cmocka_unit_test(test_limits_check),
		cmocka_unit_test(test_soft_check),
		cmocka_unit_test(test_reclaim),
		cmocka_unit_test(test_create_attach_remove),
		cmocka_unit_test(test_kill_fake),
		cmocka_unit_test(test_proc_cgroups),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

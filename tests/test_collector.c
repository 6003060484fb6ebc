/* The collector over fixture trees made at test time (cgroup v2, v1 and the
 * hybrid; odd, missing and garbage fields; cgroups that vanish; counters
 * that reset; the host's /proc files), and once over this host's real
 * kernel when it runs as root with writable v1 cpuacct and memory
 * hierarchies (skipped with a message otherwise). */
/* Fixture paths are built with snprintf into PATH_MAX buffers from a short
 * temp dir; gcc cannot see they fit. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ahead/cgroup.h"
#include "ahead/collector.h"
#include "ahead/error.h"
#include "ahead/host.h"
#include "ahead/psi.h"
#include "ahead/sysfile.h"

#define S 1000000000LL

#include "tree_fixture.h"

static void rm(const char *rel)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/%s", root, rel);
	unlink(p);
}

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
	snprintf(root, sizeof root, "/tmp/ahead-collector-XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* Roots of a fixture: v2 at ROOT/v2, v1 controllers at ROOT/v1/CTRL, proc at ROOT/proc. */
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

/* The last value of WORKLOAD/DIM in the batch; false when absent. */
static bool rec(const ah_sample_batch *b, const char *w, const char *d, double *v)
{
	bool found = false;
	for (size_t i = 0; i < b->n; i++)
		if (!strcmp(b->workload[i], w) && !strcmp(b->dim[i], d)) {
			*v = b->value[i];
			found = true;
		}
	return found;
}

static double val(const ah_sample_batch *b, const char *w, const char *d)
{
	double v = -1;
	if (!rec(b, w, d, &v))
		fail_msg("no record %s/%s", w, d);
	return v;
}

/* Fixture tests remove and replace files, which a kept descriptor would
 * not see (the kernel's cgroup files read ENODEV once removed; a deleted
 * fixture file reads on): they keep no descriptors, but test_v2_rates,
 * which rewrites files in place, and the real-kernel test. */
static int keep_fds = 0;

static ah_collector *collector(const ah_cgroup_roots *r, bool host)
{
	ah_collector_opts o;
	ah_collector_opts_init(&o);
	o.max_open_files = keep_fds;
	if (!host)
		o.host_workload = NULL;
	ah_collector *c;
	assert_int_equal(ah_collector_new(r, &o, &c), 0);
	return c;
}

static void add(ah_collector *c, const char *w, const char *v2, const char *v1)
{
	ah_cgroup_ref ref;
	ah_cgroup_ref_init(&ref, v2, v1);
	assert_int_equal(ah_collector_add(c, w, &ref), 0);
}

static ah_collector_view view(ah_collector *c, size_t i)
{
	ah_collector_view v;
	assert_int_equal(ah_collector_view_get(c, i, &v), 0);
	return v;
}

/* ---- mounts ---- */

static const char *HOST_MOUNTINFO =
	"22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	"33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
	"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	"38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
	"39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
	"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw\n";

static void test_mountinfo_host(void **state)
{
	(void)state;
	ah_cgroup_roots r;
	ah_cgroup_roots_init(&r);
	char err[256] = "";
	assert_int_equal(ah_cgroup_roots_parse_mountinfo(HOST_MOUNTINFO, strlen(HOST_MOUNTINFO), "mi", "/fx", &r, err,
							 sizeof err),
			 0);
	assert_string_equal(r.v2, "/fx/sys/fs/cgroup/unified");
	assert_string_equal(r.v1[AH_CG_V1_CPU], "/fx/sys/fs/cgroup/cpu");
	assert_string_equal(r.v1[AH_CG_V1_CPUACCT], "/fx/sys/fs/cgroup/cpuacct");
	assert_string_equal(r.v1[AH_CG_V1_MEMORY], "/fx/sys/fs/cgroup/memory");
	assert_string_equal(r.v1[AH_CG_V1_BLKIO], "/fx/sys/fs/cgroup/blkio");
	assert_string_equal(r.proc, "/proc");
}

static void test_mountinfo_comounted_escaped_and_pure_v2(void **state)
{
	(void)state;
	const char *mi = "30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
			 "31 25 0:27 / /sys/fs/cgroup/my\\040mem rw - cgroup cgroup rw,memory\n";
	ah_cgroup_roots r;
	ah_cgroup_roots_init(&r);
	assert_int_equal(ah_cgroup_roots_parse_mountinfo(mi, strlen(mi), "mi", NULL, &r, NULL, 0), 0);
	assert_string_equal(r.v1[AH_CG_V1_CPU], "/sys/fs/cgroup/cpu,cpuacct");
	assert_string_equal(r.v1[AH_CG_V1_CPUACCT], "/sys/fs/cgroup/cpu,cpuacct");
	assert_string_equal(r.v1[AH_CG_V1_MEMORY], "/sys/fs/cgroup/my mem");
	assert_string_equal(r.v1[AH_CG_V1_BLKIO], "");
	assert_string_equal(r.v2, "");
	const char *v2 = "29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev - cgroup2 cgroup2 rw,nsdelegate\n";
	assert_int_equal(ah_cgroup_roots_parse_mountinfo(v2, strlen(v2), "mi", "", &r, NULL, 0), 0);
	assert_string_equal(r.v2, "/sys/fs/cgroup");
	assert_string_equal(r.v1[AH_CG_V1_MEMORY], "");
}

static void test_mountinfo_garbage(void **state)
{
	(void)state;
	const char *mi = "22 1 0:21 / /proc rw - proc proc rw\n"
			 "41 31 0:38 / /sys/fs/cgroup/unified cgroup2\n";
	ah_cgroup_roots r;
	ah_cgroup_roots_init(&r);
	strcpy(r.v2, "/keep");
	char err[256] = "";
	assert_int_equal(ah_cgroup_roots_parse_mountinfo(mi, strlen(mi), "fx/mountinfo", NULL, &r, err, sizeof err),
			 AH_EPARSE);
	assert_non_null(strstr(err, "fx/mountinfo:2: "));
	assert_string_equal(r.v2, "/keep"); /* out written only on success */
}

static void test_detect_fixture(void **state)
{
	(void)state;
	wr("proc/self/mountinfo", "%s", HOST_MOUNTINFO);
	char proc[PATH_MAX];
	snprintf(proc, sizeof proc, "%s/proc", root);
	ah_cgroup_roots r;
	char err[512] = "";
	assert_int_equal(ah_cgroup_roots_detect(proc, root, &r, err, sizeof err), 0);
	assert_string_equal(r.proc, proc);
	char want[PATH_MAX];
	snprintf(want, sizeof want, "%s/sys/fs/cgroup/memory", root);
	assert_string_equal(r.v1[AH_CG_V1_MEMORY], want);
	rm("proc/self/mountinfo");
	assert_int_equal(ah_cgroup_roots_detect(proc, root, &r, err, sizeof err), AH_ENOENT);
}

/* ---- files ---- */

static void test_sysfile_bounds(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(ah_sysfile_parse_u64("18446744073709551615", 20, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(ah_sysfile_parse_u64("18446744073709551616", 20, &v), AH_ERANGE);
	assert_int_equal(ah_sysfile_parse_u64("123456789012345678901", 21, &v), AH_ERANGE);
	assert_int_equal(ah_sysfile_parse_u64("99999999999999999999x", 21, &v), AH_EINVAL);
	assert_int_equal(ah_sysfile_parse_u64("12", 1, &v), 0); /* n bytes only */
	assert_true(v == 1);
	assert_int_equal(ah_sysfile_parse_u64("-1", 2, &v), AH_EINVAL);
	assert_int_equal(ah_sysfile_parse_u64("", 0, &v), AH_EINVAL);
	assert_int_equal(ah_sysfile_parse_u64("1e3", 3, &v), AH_EINVAL);
	/* a file beyond the cap is refused, not cut */
	char buf[16], err[512];
	size_t len;
	wr("big", "0123456789abcdefXYZ");
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/big", root);
	assert_int_equal(ah_sysfile_read(p, buf, sizeof buf, &len, err, sizeof err), AH_ETOOBIG);
	assert_non_null(strstr(err, "big: longer than 15 bytes"));
	wr("fits", "0123456789abcde");
	snprintf(p, sizeof p, "%s/fits", root);
	assert_int_equal(ah_sysfile_read(p, buf, sizeof buf, &len, err, sizeof err), 0);
	assert_int_equal(len, 15);
	snprintf(p, sizeof p, "%s/nothere", root);
	assert_int_equal(ah_sysfile_read(p, buf, sizeof buf, &len, err, sizeof err), AH_ENOENT);
}

static void test_psi_parse(void **state)
{
	(void)state;
	const char *t = "some avg10=1.50 avg60=0.25 avg300=0.00 total=123456\n"
			"full avg10=0.00 avg60=0.00 avg300=0.00 total=7\n";
	ah_psi p;
	assert_int_equal(ah_psi_parse(t, strlen(t), "x", &p, NULL, 0), 0);
	assert_int_equal(p.some.st, AH_FIELD_OK);
	assert_true(p.some.avg10 > 1.49 && p.some.avg10 < 1.51);
	assert_true(p.some.total_us == 123456);
	assert_true(p.full.total_us == 7);
	/* only "some" (cpu before 5.13): full is NONE */
	const char *some = "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
	assert_int_equal(ah_psi_parse(some, strlen(some), "x", &p, NULL, 0), 0);
	assert_int_equal(p.full.st, AH_FIELD_NONE);
	char err[256];
	const char *bad[] = {"some avg10=1.5 avg60=x avg300=0 total=0\n", "half avg10=0 avg60=0 avg300=0 total=0\n",
			     "some avg10=101 avg60=0 avg300=0 total=0\n", "some avg10=0 avg60=0 total=0\n",
			     "some avg10=0 avg60=0 avg300=0 total=0 extra=1\n",
			     "some avg10=0 avg60=0 avg300=0 total=0\nsome avg10=0 avg60=0 avg300=0 total=0\n"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err[0] = 0;
		assert_int_equal(ah_psi_parse(bad[i], strlen(bad[i]), "cpu.pressure", &p, err, sizeof err), AH_EPARSE);
		assert_non_null(strstr(err, "cpu.pressure:"));
	}
}

static void test_disk_names(void **state)
{
	(void)state;
	const char *whole[] = {"sda", "vda", "xvdb", "nvme0n1", "mmcblk0", "hdc"};
	const char *part[] = {"sda1", "vda2", "nvme0n1p1", "mmcblk0p3", "loop0", "ram1", "zram0", "dm-0", "md127", "sr0"};
	for (size_t i = 0; i < sizeof whole / sizeof *whole; i++)
		assert_true(ah_host_disk_is_whole(whole[i], strlen(whole[i])));
	for (size_t i = 0; i < sizeof part / sizeof *part; i++)
		assert_false(ah_host_disk_is_whole(part[i], strlen(part[i])));
}

/* ---- cgroups ---- */

static void v2_files(const char *cg, uint64_t usage_usec, uint64_t rbytes, uint64_t psi_total)
{
	char p[256];
	snprintf(p, sizeof p, "v2/%s/cpu.stat", cg);
	wr(p, "usage_usec %llu\nuser_usec 10\nsystem_usec 5\nnr_periods 0\n", (unsigned long long)usage_usec);
	snprintf(p, sizeof p, "v2/%s/memory.current", cg);
	wr(p, "104857600\n");
	snprintf(p, sizeof p, "v2/%s/memory.peak", cg);
	wr(p, "209715200\n");
	snprintf(p, sizeof p, "v2/%s/memory.stat", cg);
	wr(p, "anon 73400320\nfile 31457280\nkernel 0\nshmem 0\n");
	snprintf(p, sizeof p, "v2/%s/memory.events", cg);
	wr(p, "low 0\nhigh %llu\nmax 1\noom 0\noom_kill 0\noom_group_kill 0\n", (unsigned long long)(psi_total / 1000));
	snprintf(p, sizeof p, "v2/%s/io.stat", cg);
	wr(p, "8:0 rbytes=%llu wbytes=2000 rios=3 wios=4 dbytes=0 dios=0\n"
	      "8:16 rbytes=%llu wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n",
	   (unsigned long long)rbytes, (unsigned long long)rbytes);
	const char *res[] = {"cpu", "memory", "io"};
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "v2/%s/%s.pressure", cg, res[i]);
		wr(p, "some avg10=2.00 avg60=1.00 avg300=0.50 total=%llu\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
		   (unsigned long long)psi_total);
	}
}

static void test_v2_rates(void **state)
{
	(void)state;
	ah_cgroup_roots r;
	roots_of(&r, true, false);
	v2_files("app/web", 1000000, 1000, 0);
	keep_fds = 64; /* files rewritten in place: kept descriptors read the new text */
	ah_collector *c = collector(&r, false);
	keep_fds = 0;
	add(c, "web", "app/web", NULL);
	ah_sample_batch b;
	ah_sample_batch_init(&b);
	ah_collector_summary s;
	assert_int_equal(ah_collector_sample(c, 10 * S, 1000 * S, &b, &s), 0);
	/* first sample: gauges only */
	double v;
	assert_false(rec(&b, "web", "cpu", &v));
	assert_true(val(&b, "web", "memory") == 104857600);
	assert_true(val(&b, "web", "memory_peak") == 209715200);
	assert_true(val(&b, "web", "memory_anon") == 73400320);
	assert_true(val(&b, "web", "memory_file") == 31457280);
	assert_int_equal(view(c, 0).state, AH_CG_NEW);
	assert_int_equal(view(c, 0).stat.cpu_usage_ns.src, AH_SRC_V2);
	assert_true(view(c, 0).stat.io_read_bytes.v == 2000); /* summed over devices */
	/* 2 s later: 1 s of cpu (500m), 4000 B read (2000 B/s), 0.5 s of psi stalls (25%), 500 high events */
	v2_files("app/web", 2000000, 3000, 500000);
	ah_sample_batch_clear(&b);
	assert_int_equal(ah_collector_sample(c, 12 * S, 1002 * S, &b, &s), 0);
	assert_int_equal(s.ok, 1);
	assert_true(val(&b, "web", "cpu") == 500);
	assert_true(val(&b, "web", "io_read") == 2000);
	assert_true(val(&b, "web", "io_write") == 0);
	assert_true(val(&b, "web", "io") == 2000);
	assert_true(val(&b, "web", "psi_memory_some") == 25);
	assert_true(val(&b, "web", "psi_io_full") == 0);
	assert_true(val(&b, "web", "memory_high_events") == 500);
	assert_true(val(&b, "web", "memory_max_events") == 0);
	assert_int_equal(view(c, 0).state, AH_CG_OK);
	assert_true(view(c, 0).stat.psi[AH_PSI_CPU].some.avg10 == 2.0);
	for (size_t i = 0; i < b.n; i++)
		assert_true(b.t_ns[i] == 1002 * S);
	/* the clock must move forward */
	assert_int_equal(ah_collector_sample(c, 12 * S, 1003 * S, &b, NULL), AH_EINVAL);
	ah_sample_batch_fini(&b);
	ah_collector_free(c);
}

static void v1_files(const char *cg, uint64_t usage_ns, uint64_t rd)
{
	char p[256];
	snprintf(p, sizeof p, "v1/cpuacct/%s/cpuacct.usage", cg);
	wr(p, "%llu\n", (unsigned long long)usage_ns);
	snprintf(p, sizeof p, "v1/cpu/%s/cpu.shares", cg);
	wr(p, "1024\n");
	snprintf(p, sizeof p, "v1/memory/%s/memory.usage_in_bytes", cg);
	wr(p, "52428800\n");
	snprintf(p, sizeof p, "v1/memory/%s/memory.max_usage_in_bytes", cg);
	wr(p, "62914560\n");
	snprintf(p, sizeof p, "v1/memory/%s/memory.stat", cg);
	wr(p, "cache 100\nrss 200\nrss_huge 0\ntotal_cache 1048576\ntotal_rss 41943040\n");
	snprintf(p, sizeof p, "v1/memory/%s/memory.failcnt", cg);
	wr(p, "3\n");
	snprintf(p, sizeof p, "v1/memory/%s/memory.oom_control", cg);
	wr(p, "oom_kill_disable 1\nunder_oom 1\noom_kill 2\n");
	snprintf(p, sizeof p, "v1/blkio/%s/blkio.throttle.io_service_bytes_recursive", cg);
	wr(p, "8:0 Read %llu\n8:0 Write 4096\n8:0 Sync 0\n8:0 Async 0\n8:0 Discard 0\n8:0 Total %llu\n"
	      "8:16 Read 0\n8:16 Write 4096\nTotal 99\n",
	   (unsigned long long)rd, (unsigned long long)rd + 4096);
}

static void test_v1(void **state)
{
	(void)state;
	ah_cgroup_roots r;
	roots_of(&r, false, true);
	v1_files("batch/job1", 5 * S, 0);
	ah_collector *c = collector(&r, false);
	add(c, "job1", NULL, "batch/job1");
	ah_sample_batch b;
	ah_sample_batch_init(&b);
	assert_int_equal(ah_collector_sample(c, 1 * S, 1 * S, &b, NULL), 0);
	ah_collector_view v = view(c, 0);
	assert_int_equal(v.stat.cpu_usage_ns.src, AH_SRC_V1);
	assert_true(v.stat.mem_current_bytes.v == 52428800);
	assert_true(v.stat.mem_peak_bytes.v == 62914560);
	assert_true(v.stat.mem_anon_bytes.v == 41943040); /* the hierarchical total */
	assert_true(v.stat.mem_file_bytes.v == 1048576);
	assert_true(v.stat.mem_max_events.v == 3);
	assert_true(v.stat.mem_under_oom.v == 1);
	assert_true(v.stat.mem_oom_kill_events.v == 2);
	assert_int_equal(v.stat.mem_high_events.st, AH_FIELD_NONE); /* v1 has none */
	assert_true(v.stat.io_write_bytes.v == 8192);
	assert_int_equal(v.stat.psi[AH_PSI_MEMORY].some.st, AH_FIELD_NONE);
	assert_true(val(&b, "job1", "memory_under_oom") == 1);
	/* 0.25 s of cpu in 0.5 s = 500m; 1 MiB read in 0.5 s */
	v1_files("batch/job1", 5 * S + S / 4, 1048576);
	ah_sample_batch_clear(&b);
	assert_int_equal(ah_collector_sample(c, 1 * S + S / 2, 2 * S, &b, NULL), 0);
	assert_true(val(&b, "job1", "cpu") == 500);
	assert_true(val(&b, "job1", "io_read") == 2097152);
	/* the non-recursive file of older kernels */
	rm("v1/blkio/batch/job1/blkio.throttle.io_service_bytes_recursive");
	wr("v1/blkio/batch/job1/blkio.throttle.io_service_bytes", "8:0 Read 7\n8:0 Write 9\nTotal 16\n");
	ah_sample_batch_clear(&b);
	assert_int_equal(ah_collector_sample(c, 2 * S, 3 * S, &b, NULL), 0);
	assert_true(view(c, 0).stat.io_read_bytes.v == 7);
	assert_false(rec(&b, "job1", "io", &(double){0})); /* the counter went down: its rate restarts */
	ah_sample_batch_fini(&b);
	ah_collector_free(c);
}

static void test_hybrid(void **state)
{
	(void)state;
	ah_cgroup_roots r;
	roots_of(&r, true, true);
	/* v2 cgroup without controllers: cpu.stat and pressure only */
	wr("v2/task/cpu.stat", "usage_usec 2000\nuser_usec 1000\nsystem_usec 1000\n");
	wr("v2/task/memory.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=100\n"
				      "full avg10=0.00 avg60=0.00 avg300=0.00 total=50\n");
	wr("v2/task/cgroup.kill", "");
	v1_files("ahead/task", 999, 0);
	ah_collector *c = collector(&r, false);
	ah_cgroup_ref ref;
	ah_cgroup_ref_init(&ref, "task", "ahead/task");
	assert_int_equal(ah_collector_add(c, "task", &ref), 0);
	ah_sample_batch b;
	ah_sample_batch_init(&b);
	assert_int_equal(ah_collector_sample(c, 1 * S, 1 * S, &b, NULL), 0);
	ah_collector_view v = view(c, 0);
	assert_int_equal(v.stat.cpu_usage_ns.src, AH_SRC_V2); /* the v2 core's cpu.stat */
	assert_true(v.stat.cpu_usage_ns.v == 2000000);
	assert_int_equal(v.stat.mem_current_bytes.src, AH_SRC_V1);
	assert_true(v.stat.mem_current_bytes.v == 52428800);
	assert_int_equal(v.stat.mem_peak_bytes.src, AH_SRC_V1);
	assert_int_equal(v.stat.psi[AH_PSI_MEMORY].src, AH_SRC_V2);
	assert_true(v.stat.psi[AH_PSI_MEMORY].full.total_us == 50);
	assert_int_equal(v.stat.psi[AH_PSI_CPU].some.st, AH_FIELD_NONE);
	assert_int_equal(v.stat.io_read_bytes.src, AH_SRC_V1);
	assert_int_equal(v.state, AH_CG_NEW);
	ah_sample_batch_fini(&b);
	ah_collector_free(c);
}

static void test_odd_fields(void **state)
{
	(void)state;
	ah_cgroup_roots r;
	roots_of(&r, true, false);
	/* no memory.peak (before 5.19), keys missing, an empty io.stat, cpu
	 * pressure without "full", a number at the top of u64 */
	wr("v2/odd/cpu.stat", "user_usec 1\n");
	wr("v2/odd/memory.current", "18446744073709551615\n");
	wr("v2/odd/memory.stat", "kernel 5\n");
	wr("v2/odd/memory.events", "high 0\n");
	wr("v2/odd/io.stat", "");
	wr("v2/odd/cpu.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
	ah_collector *c = collector(&r, false);
	add(c, "odd", "odd", NULL);
	ah_sample_batch b;
	ah_sample_batch_init(&b);
	assert_int_equal(ah_collector_sample(c, 1 * S, 1 * S, &b, NULL), 0);
	ah_collector_view v = view(c, 0);
	assert_int_equal(v.state, AH_CG_NEW);
	assert_int_equal(v.stat.err, 0);
	assert_int_equal(v.stat.cpu_usage_ns.st, AH_FIELD_NONE); /* key absent */
	assert_true(v.stat.mem_current_bytes.v == UINT64_MAX);
	assert_int_equal(v.stat.mem_peak_bytes.src, AH_SRC_COLLECTOR);
	assert_int_equal(v.stat.mem_anon_bytes.st, AH_FIELD_NONE);
	assert_int_equal(v.stat.mem_high_events.st, AH_FIELD_OK);
	assert_int_equal(v.stat.mem_oom_kill_events.st, AH_FIELD_NONE);
	assert_int_equal(v.stat.io_read_bytes.st, AH_FIELD_OK); /* no device yet: 0 */
	assert_true(v.stat.io_read_bytes.v == 0);
	assert_int_equal(v.stat.psi[AH_PSI_CPU].full.st, AH_FIELD_NONE);
	assert_int_equal(v.stat.psi[AH_PSI_IO].some.st, AH_FIELD_NONE);
	/* peak as the max the collector saw when the kernel has none */
	wr("v2/odd/memory.current", "1000\n");
	assert_int_equal(ah_collector_sample(c, 2 * S, 2 * S, &b, NULL), 0);
	assert_true(view(c, 0).stat.mem_peak_bytes.v == UINT64_MAX);
	/* an empty single-value file (a cgroup being removed): NONE, no error */
	wr("v2/odd/memory.current", "");
	assert_int_equal(ah_collector_sample(c, 3 * S, 3 * S, &b, NULL), 0);
	assert_int_equal(view(c, 0).stat.mem_current_bytes.st, AH_FIELD_NONE);
	assert_int_equal(view(c, 0).stat.err, 0);
	ah_sample_batch_fini(&b);
	ah_collector_free(c);
}

static void test_garbage_refused(void **state)
{
	(void)state;
	ah_cgroup_roots r;
	roots_of(&r, true, false);
	v2_files("g", 1000, 0, 0);
	wr("v2/g/memory.stat", "anon 5\nfile 12abc\n");
	ah_collector *c = collector(&r, false);
	add(c, "g", "g", NULL);
	ah_sample_batch b;
	ah_sample_batch_init(&b);
	ah_collector_summary s;
	assert_int_equal(ah_collector_sample(c, 1 * S, 1 * S, &b, &s), 0);
	assert_int_equal(s.partial, 1);
	ah_collector_view v = view(c, 0);
	assert_int_equal(v.state, AH_CG_PARTIAL);
	assert_int_equal(v.stat.err, AH_EPARSE);
	assert_non_null(strstr(v.stat.err_msg, "/v2/g/memory.stat:2: file: not a number '12abc'"));
	assert_int_equal(v.stat.mem_anon_bytes.st, AH_FIELD_BAD); /* the whole file refused */
	assert_int_equal(v.stat.mem_file_bytes.st, AH_FIELD_BAD);
	assert_int_equal(v.stat.mem_current_bytes.st, AH_FIELD_OK); /* other files still read */
	double x;
	assert_false(rec(&b, "g", "memory_anon", &x));
	assert_true(val(&b, "g", "memory") == 104857600);
	/* a number beyond 2^64, a two-number single file, a broken io.stat, a broken pressure file */
	const char *cases[][3] = {
		{"v2/g/memory.current", "18446744073709551616\n", "memory.current:1: number out of range"},
		{"v2/g/memory.current", "5 6\n", "memory.current:1: expected one number"},
		{"v2/g/memory.current", "max\n", "memory.current:1: not a number 'max'"},
		{"v2/g/io.stat", "8:0 rbytes=1 wbytes=2\nrbytes=3\n", "io.stat:2: expected 'MAJ:MIN"},
		{"v2/g/cpu.pressure", "some avg10=abc avg60=0 avg300=0 total=1\n", "cpu.pressure:1: avg10: not a number"},
		{"v2/g/cpu.stat", "usage_usec\n", "cpu.stat:1: expected 'KEY VALUE'"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		v2_files("g", 1000, 0, 0);
		wr(cases[i][0], "%s", cases[i][1]);
		ah_sample_batch_clear(&b);
		assert_int_equal(ah_collector_sample(c, (int64_t)(2 + i) * S, 2 * S, &b, NULL), 0);
		v = view(c, 0);
		assert_int_equal(v.state, AH_CG_PARTIAL);
		if (!strstr(v.stat.err_msg, cases[i][2]))
			fail_msg("case %zu: '%s' lacks '%s'", i, v.stat.err_msg, cases[i][2]);
	}
	ah_sample_batch_fini(&b);
	ah_collector_free(c);
}

static void test_vanished_and_back(void **state)
{
	(void)state;
	ah_cgroup_roots r;
	roots_of(&r, true, false);
	v2_files("a", 1000000, 0, 0);
	v2_files("b", 1000000, 0, 0);
	ah_collector *c = collector(&r, false);
	add(c, "a", "a", NULL);
	add(c, "b", "b", NULL);
	ah_sample_batch b;
	ah_sample_batch_init(&b);
	ah_collector_summary s;
	assert_int_equal(ah_collector_sample(c, 1 * S, 1 * S, &b, &s), 0);
	rmtree("v2/b");
	v2_files("a", 2000000, 0, 0);
	ah_sample_batch_clear(&b);
	assert_int_equal(ah_collector_sample(c, 2 * S, 2 * S, &b, &s), 0);
	assert_int_equal(s.gone, 1);
	assert_int_equal(s.ok, 1);
	assert_int_equal(view(c, 1).state, AH_CG_GONE);
	assert_true(val(&b, "a", "cpu") == 1000);
	double x;
	assert_false(rec(&b, "b", "memory", &x));
	/* back, with a fresh (lower) counter: gauges at once, rates from the next sample */
	v2_files("b", 10, 0, 0);
	ah_sample_batch_clear(&b);
	assert_int_equal(ah_collector_sample(c, 3 * S, 3 * S, &b, &s), 0);
	assert_int_equal(view(c, 1).state, AH_CG_NEW);
	assert_false(rec(&b, "b", "cpu", &x));
	assert_true(val(&b, "b", "memory") == 104857600);
	v2_files("b", 500010, 0, 0);
	ah_sample_batch_clear(&b);
	assert_int_equal(ah_collector_sample(c, 4 * S, 4 * S, &b, &s), 0);
	assert_true(val(&b, "b", "cpu") == 500);
	assert_int_equal(ah_collector_remove(c, "b"), 0);
	assert_int_equal(ah_collector_remove(c, "b"), AH_ENOENT);
	assert_int_equal(ah_collector_count(c), 1);
	ah_sample_batch_fini(&b);
	ah_collector_free(c);
}

static void test_counter_reset(void **state)
{
	(void)state;
	ah_cgroup_roots r;
	roots_of(&r, true, false);
	v2_files("r", 5000000, 100000, 1000);
	ah_collector *c = collector(&r, false);
	add(c, "r", "r", NULL);
	ah_sample_batch b;
	ah_sample_batch_init(&b);
	assert_int_equal(ah_collector_sample(c, 1 * S, 1 * S, &b, NULL), 0);
	v2_files("r", 100, 10, 0); /* everything went down */
	ah_sample_batch_clear(&b);
	assert_int_equal(ah_collector_sample(c, 2 * S, 2 * S, &b, NULL), 0);
	double x;
	assert_false(rec(&b, "r", "cpu", &x));
	assert_false(rec(&b, "r", "io", &x));
	assert_false(rec(&b, "r", "psi_cpu_some", &x));
	assert_false(rec(&b, "r", "memory_high_events", &x));
	for (size_t i = 0; i < b.n; i++)
		assert_true(b.value[i] >= 0);
	v2_files("r", 250100, 10, 0);
	ah_sample_batch_clear(&b);
	assert_int_equal(ah_collector_sample(c, 3 * S, 3 * S, &b, NULL), 0);
	assert_true(val(&b, "r", "cpu") == 250);
	assert_true(val(&b, "r", "io") == 0);
	ah_sample_batch_fini(&b);
	ah_collector_free(c);
}

static void test_add_refused(void **state)
{
	(void)state;
	ah_cgroup_roots r;
	roots_of(&r, true, false);
	ah_collector *c = collector(&r, true);
	ah_cgroup_ref ref;
	ah_cgroup_ref_init(&ref, "x", NULL);
	assert_int_equal(ah_collector_add(c, "bad name", &ref), AH_EINVAL);
	assert_int_equal(ah_collector_add(c, "host", &ref), AH_EEXIST);
	assert_int_equal(ah_collector_add(c, "x", &ref), 0);
	assert_int_equal(ah_collector_add(c, "x", &ref), AH_EEXIST);
	ah_cgroup_ref_init(&ref, NULL, "x"); /* no v1 mounts in these roots */
	assert_int_equal(ah_collector_add(c, "y", &ref), AH_EINVAL);
	ah_collector_free(c);
}

/* ---- host ---- */

static void host_files(uint64_t busy_user, uint64_t idle, uint64_t rx, uint64_t sectors)
{
	wr("proc/stat", "cpu  %llu 0 100 %llu 10 0 5 0 0 0\ncpu0 1 0 0 0 0 0 0 0 0 0\ncpu1 1 0 0 0 0 0 0 0 0 0\n"
			"intr 1 2 3\nctxt 42\nbtime 1700000000\n",
	   (unsigned long long)busy_user, (unsigned long long)idle);
	wr("proc/meminfo", "MemTotal:       16384000 kB\nMemFree:         1000000 kB\nMemAvailable:    8192000 kB\n"
			   "Buffers:          1000 kB\nCached:          2000 kB\nSwapTotal:             0 kB\n"
			   "SwapFree:              0 kB\nHugePages_Total:       0\n");
	wr("proc/net/dev",
	   "Inter-|   Receive                                                |  Transmit\n"
	   " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
	   "    lo: 999999 1 0 0 0 0 0 0 999999 1 0 0 0 0 0 0\n"
	   "  eth0: %llu 10 0 0 0 0 0 0 500 5 0 0 0 0 0 0\n"
	   "  eth1:%llu 10 0 0 0 0 0 0 500 5 0 0 0 0 0 0\n",
	   (unsigned long long)rx, (unsigned long long)rx);
	wr("proc/diskstats",
	   "   7       0 loop0 9 0 9999 0 0 0 9999 0 0 0 0 0 0 0 0 0 0\n"
	   " 254       0 vda 10 0 %llu 0 10 0 %llu 0 0 0 0 0 0 0 0 0 0\n"
	   " 254       1 vda1 10 0 %llu 0 10 0 %llu 0 0 0 0 0 0 0 0 0 0\n"
	   " 259       0 nvme0n1 1 0 %llu 0 1 0 0 0 0 0 0\n",
	   (unsigned long long)sectors, (unsigned long long)sectors, (unsigned long long)sectors,
	   (unsigned long long)sectors, (unsigned long long)sectors);
	const char *res[] = {"cpu", "memory", "io"};
	for (int i = 0; i < 3; i++) {
		char p[64];
		snprintf(p, sizeof p, "proc/pressure/%s", res[i]);
		wr(p, "some avg10=0.00 avg60=0.00 avg300=0.00 total=%llu\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
		   (unsigned long long)idle);
	}
}

static void test_host(void **state)
{
	(void)state;
	ah_cgroup_roots r;
	roots_of(&r, false, false);
	host_files(1000, 5000, 1000, 8);
	ah_collector *c = collector(&r, true);
	ah_sample_batch b;
	ah_sample_batch_init(&b);
	assert_int_equal(ah_collector_sample(c, 1 * S, 1 * S, &b, NULL), 0);
	ah_collector_view v = view(c, 0);
	assert_string_equal(v.workload, "host");
	assert_int_equal(v.host.ncpu, 2);
	assert_true(v.host.cpu_busy_ticks.v == 1105);
	assert_true(v.host.cpu_total_ticks.v == 6115);
	assert_true(v.host.net_rx_bytes.v == 2000);          /* eth0 + eth1, not lo */
	assert_true(v.host.disk_read_bytes.v == 2 * 8 * 512); /* vda + nvme0n1, not vda1 or loop0 */
	assert_true(val(&b, "host", "memory") == (16384000.0 - 8192000.0) * 1024);
	assert_true(val(&b, "host", "memory_total") == 16384000.0 * 1024);
	/* 2 s: 300 ticks busy at 100 Hz = 1.5 cores; 8000 B rx = 32000 bit/s; 16 sectors per disk */
	host_files(1300, 5100, 5000, 24);
	ah_sample_batch_clear(&b);
	assert_int_equal(ah_collector_sample(c, 3 * S, 3 * S, &b, NULL), 0);
	assert_true(val(&b, "host", "cpu") == 1500);
	assert_true(val(&b, "host", "net_rx") == 32000);
	assert_true(val(&b, "host", "net_tx") == 0);
	assert_true(val(&b, "host", "io_read") == 2 * 16 * 512 / 2);
	assert_true(fabs(val(&b, "host", "psi_memory_some") - 0.005) < 1e-9); /* 100 us stalled in 2 s */
	double x;
	assert_false(rec(&b, "host", "psi_cpu_full", &x)); /* meaningless for the host */
	/* garbage in one file: that file refused by name and line, the others read */
	wr("proc/meminfo", "MemTotal: 100 kB\nMemFree: lots kB\n");
	ah_sample_batch_clear(&b);
	assert_int_equal(ah_collector_sample(c, 4 * S, 4 * S, &b, NULL), 0);
	v = view(c, 0);
	assert_int_equal(v.state, AH_CG_PARTIAL);
	assert_non_null(strstr(v.host.err_msg, "proc/meminfo:2: MemFree: not a number"));
	assert_int_equal(v.host.mem_total_bytes.st, AH_FIELD_BAD);
	assert_true(val(&b, "host", "cpu") == 0);
	/* files missing: NONE, no error */
	rm("proc/diskstats");
	rm("proc/pressure/io");
	host_files(1300, 5100, 5000, 24);
	rm("proc/diskstats");
	rm("proc/pressure/io");
	assert_int_equal(ah_collector_sample(c, 5 * S, 5 * S, &b, NULL), 0);
	v = view(c, 0);
	assert_int_equal(v.host.err, 0);
	assert_int_equal(v.host.disk_read_bytes.st, AH_FIELD_NONE);
	assert_int_equal(v.host.psi[AH_PSI_IO].some.st, AH_FIELD_NONE);
	ah_sample_batch_fini(&b);
	ah_collector_free(c);
}

/* ---- batches ---- */

static void test_batch_series(void **state)
{
	(void)state;
	ah_sample_batch b;
	ah_sample_batch_init(&b);
	char w[16];
	for (int t = 3; t >= 1; t--)
		for (int k = 0; k < 50; k++) {
			snprintf(w, sizeof w, "w%02d", k);
			assert_int_equal(ah_sample_batch_add(&b, w, "cpu", t * S, t * 10 + k), 0);
			assert_int_equal(ah_sample_batch_add(&b, w, "memory", t * S, t), 0);
		}
	assert_int_equal(b.n, 300);
	assert_int_equal(ah_sample_batch_sort(&b), 0);
	size_t pos = 0, series = 0;
	ah_sample_series s;
	while (ah_sample_batch_next(&b, &pos, &s)) {
		assert_int_equal(s.n, 3);
		for (size_t i = 1; i < s.n; i++)
			assert_true(s.t_ns[i] > s.t_ns[i - 1]);
		if (series == 0) {
			assert_string_equal(s.workload, "w00");
			assert_string_equal(s.dim, "cpu");
			assert_true(s.value[0] == 10 && s.value[2] == 30);
		}
		series++;
	}
	assert_int_equal(series, 100);
	ah_sample_batch_clear(&b);
	assert_int_equal(b.n, 0);
	assert_int_equal(ah_sample_batch_add(&b, "x", "io", 1, 2), 0);
	ah_sample_batch_fini(&b);
	ah_sample_batch_fini(&b); /* twice is fine */
}

/* ---- the real kernel ---- */

static int64_t mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * S + ts.tv_nsec;
}

static bool put(const char *dir, const char *file, const char *text)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/%s", dir, file);
	FILE *f = fopen(p, "w");
	if (!f)
		return false;
	bool ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok;
}

static void test_real_kernel_v1(void **state)
{
	(void)state;
	ah_cgroup_roots r;
	char err[512] = "";
	if (geteuid() != 0) {
		print_message("skip: real-kernel collector test needs root (creates v1 cgroups)\n");
		skip();
	}
	if (ah_cgroup_roots_detect("/proc", NULL, &r, err, sizeof err) || !r.v1[AH_CG_V1_CPUACCT][0] ||
	    !r.v1[AH_CG_V1_MEMORY][0]) {
		print_message("skip: no v1 cpuacct and memory mounts here (%s)\n", err);
		skip();
	}
	char name[64], dirs[3][PATH_MAX];
	snprintf(name, sizeof name, "ahead-test-collector-%d", (int)getpid());
	const char *mounts[3] = {r.v1[AH_CG_V1_CPUACCT], r.v1[AH_CG_V1_MEMORY], r.v2};
	int made = 0;
	for (int i = 0; i < 3; i++) {
		dirs[i][0] = 0;
		if (!mounts[i][0])
			continue;
		snprintf(dirs[i], sizeof dirs[i], "%s/%s", mounts[i], name);
		if (mkdir(dirs[i], 0755) == 0)
			made |= 1 << i;
		else if (i < 2) {
			print_message("skip: cannot create %s: %s\n", dirs[i], strerror(errno));
			for (int k = 0; k < i; k++)
				if (made & (1 << k))
					rmdir(dirs[k]);
			skip();
		}
	}
	int go[2];
	assert_int_equal(pipe(go), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char x;
		close(go[1]);
		if (read(go[0], &x, 1) != 1)
			_exit(1);
		/* 64 MiB touched, then CPU burnt until killed */
		size_t n = (size_t)64 << 20;
		volatile char *m = malloc(n);
		if (!m)
			_exit(2);
		for (size_t i = 0; i < n; i += 4096)
			m[i] = (char)i;
		volatile uint64_t z = 0;
		for (;;)
			z++;
	}
	close(go[0]);
	char spid[32];
	snprintf(spid, sizeof spid, "%d\n", (int)pid);
	bool in = true;
	for (int i = 0; i < 3; i++)
		if (made & (1 << i))
			in = put(dirs[i], "cgroup.procs", spid) && in;
	assert_int_equal(write(go[1], "g", 1), 1);
	close(go[1]);

	ah_collector_opts o;
	ah_collector_opts_init(&o);
	o.user_hz = sysconf(_SC_CLK_TCK);
	ah_collector *c;
	assert_int_equal(ah_collector_new(&r, &o, &c), 0);
	ah_cgroup_ref ref;
	ah_cgroup_ref_init(&ref, (made & 4) ? name : NULL, NULL);
	ref.v1[AH_CG_V1_CPUACCT] = name;
	ref.v1[AH_CG_V1_MEMORY] = name;
	assert_int_equal(ah_collector_add(c, "burner", &ref), 0);
	ah_sample_batch b;
	ah_sample_batch_init(&b);
	usleep(300 * 1000);
	assert_int_equal(ah_collector_sample(c, mono(), 1 * S, &b, NULL), 0);
	usleep(700 * 1000);
	ah_sample_batch_clear(&b);
	ah_collector_summary s;
	assert_int_equal(ah_collector_sample(c, mono(), 2 * S, &b, &s), 0);
	ah_collector_view v = view(c, 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	double cpu = -1, mem = -1, hcpu = -1;
	rec(&b, "burner", "cpu", &cpu);
	rec(&b, "burner", "memory", &mem);
	rec(&b, "host", "cpu", &hcpu);
	print_message("real kernel: burner cpu=%.0fm memory=%.0f bytes (src %s), host cpu=%.0fm, state %d %s\n", cpu, mem,
		      ah_field_src_name(v.stat.mem_current_bytes.src), hcpu, (int)v.state, v.stat.err_msg);
	/* removed under the collector's kept descriptors: gone, not an error */
	for (int i = 2; i >= 0; i--)
		if (made & (1 << i)) {
			for (int k = 0; k < 50 && rmdir(dirs[i]) && errno == EBUSY; k++)
				usleep(20 * 1000);
		}
	ah_collector_summary s2;
	ah_sample_batch_clear(&b);
	assert_int_equal(ah_collector_sample(c, mono(), 3 * S, &b, &s2), 0);
	int gone_state = view(c, 0).state;
	assert_true(in);
	assert_int_equal(gone_state, AH_CG_GONE);
	assert_int_equal(s2.gone, 1);
	assert_int_equal(v.state, AH_CG_OK);
	assert_true(cpu > 100);              /* a busy loop: most of a core */
	assert_true(mem > (64 << 20));       /* the 64 MiB it touched */
	assert_true(hcpu > 0);
	if (made & 4) /* the hybrid: pressure from the task's v2 cgroup */
		assert_int_equal(v.stat.psi[AH_PSI_MEMORY].some.st, AH_FIELD_OK);
	ah_sample_batch_fini(&b);
	ah_collector_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mountinfo_host),
		cmocka_unit_test(test_mountinfo_comounted_escaped_and_pure_v2),
		cmocka_unit_test(test_mountinfo_garbage),
		cmocka_unit_test_setup_teardown(test_detect_fixture, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sysfile_bounds, setup, teardown),
		cmocka_unit_test(test_psi_parse),
		cmocka_unit_test(test_disk_names),
		cmocka_unit_test_setup_teardown(test_v2_rates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hybrid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_odd_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vanished_and_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counter_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host, setup, teardown),
		cmocka_unit_test(test_batch_series),
		cmocka_unit_test(test_real_kernel_v1),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* ahead: what the host uses, from a proc root (/proc on a host, a fixture
 * directory in tests):
 *   stat       the aggregate "cpu" line: busy = user + nice + system + irq +
 *              softirq + steal ticks (guest time is already in user),
 *              total = busy + idle + iowait; the cpuN lines counted
 *   meminfo    MemTotal, MemFree, MemAvailable, Buffers, Cached, SwapTotal,
 *              SwapFree (kB in the file, bytes here)
 *   pressure/  cpu, memory, io (PSI, psi.h)
 *   net/dev    receive and transmit bytes summed over interfaces but lo
 *   diskstats  sectors (512 bytes, whatever the device's block size) read
 *              and written, summed over whole disks: partitions (sda1,
 *              nvme0n1p1, mmcblk0p1) and virtual devices (loop, ram, zram,
 *              dm-, md) are left out so no byte counts twice
 * Counters are raw (since boot); rates are the collector's (collector.h). */
#ifndef AHEAD_HOST_H
#define AHEAD_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ahead/psi.h"
#include "ahead/sysfile.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
	ah_field cpu_busy_ticks, cpu_total_ticks; /* USER_HZ ticks */
	int ncpu;                                 /* cpuN lines; 0 when stat was not read */
	ah_field mem_total_bytes, mem_free_bytes, mem_available_bytes, mem_buffers_bytes, mem_cached_bytes;
	ah_field swap_total_bytes, swap_free_bytes;
	ah_field net_rx_bytes, net_tx_bytes;
	ah_field disk_read_bytes, disk_write_bytes;
	ah_psi psi[AH_PSI_N];
	int err;           /* 0, or the code of the first refused file */
	char err_msg[AH_SYSPATH_MAX + 256]; /* "PATH:LINE: why" */
} ah_host_stat;

/* Reads the host's files under proc_root with a scratch buffer of cap
 * bytes (AH_SYSFILE_MAX_BYTES + 1 reads any file the cap allows). Returns
 * 0 with per-field statuses (a refused file's fields BAD, err set; the
 * other files still read), AH_EINVAL for bad arguments. */
int ah_host_read(const char *proc_root, char *scratch, size_t cap, ah_host_stat *out);

/* True for a whole disk's name in diskstats, false for a partition or a
 * virtual device (see above). */
bool ah_host_disk_is_whole(const char *name, size_t n);

#ifdef __cplusplus
}
#endif
#endif

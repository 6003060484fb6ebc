/* ahead: pressure stall information (PSI), as the kernel writes it in
 * /proc/pressure/{cpu,memory,io} and in a cgroup v2 directory's
 * {cpu,memory,io}.pressure:
 *   some avg10=0.12 avg60=0.05 avg300=0.01 total=123456
 *   full avg10=0.00 avg60=0.00 avg300=0.00 total=0
 * avgN are percents of wall time stalled over the last N seconds; total
 * is the stalled time in microseconds since boot (or since the cgroup was
 * made). "full" is absent for cpu on kernels before 5.13 and meaningless
 * for the host's cpu: a missing line is status NONE, not an error. */
#ifndef AHEAD_PSI_H
#define AHEAD_PSI_H

#include <stddef.h>
#include <stdint.h>

#include "ahead/sysfile.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { AH_PSI_CPU = 0, AH_PSI_MEMORY, AH_PSI_IO, AH_PSI_N } ah_psi_res;

typedef struct {
	ah_field_status st; /* NONE: the line is absent; OK: the values below */
	double avg10, avg60, avg300; /* percent, 0..100 */
	uint64_t total_us;
} ah_psi_line;

typedef struct {
	ah_psi_line some, full;
	ah_field_src src; /* NONE when no file was read */
} ah_psi;

/* "cpu", "memory", "io". */
const char *ah_psi_res_name(ah_psi_res r);

/* Parses a pressure file's text (len bytes); name is the file for messages.
 * AH_EPARSE ("NAME:LINE: why" in err) for a line that is neither some nor
 * full, a key other than avg10/avg60/avg300/total, a value that is not a
 * number, an average outside 0..100, or a line given twice. */
int ah_psi_parse(const char *text, size_t len, const char *name, ah_psi *out, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif

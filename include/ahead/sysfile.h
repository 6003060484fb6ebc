/* ahead: reading kernel files (/proc, cgroup mounts) as outside input.
 *
 * Each value the collector takes from a kernel file is an ah_field: the
 * number and a status saying whether it was read, what the file said
 * ("max") or why it was refused. A missing file or key is not an error
 * (kernels, layouts and configurations differ); a file that is there but
 * does not parse is refused with an error naming the file and the line.
 * Reads are bounded (AH_SYSFILE_MAX_BYTES, limits.h). Platform code: the
 * paths are built from roots the caller passes (cgroup.h), never fixed. */
#ifndef AHEAD_SYSFILE_H
#define AHEAD_SYSFILE_H

#include <stddef.h>
#include <stdint.h>

#include "ahead/limits.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
	AH_FIELD_NONE = 0, /* not read: the file or its key is absent here (kernel, layout) */
	AH_FIELD_OK,       /* read; v holds it */
	AH_FIELD_MAX,      /* the file says "max" (no limit); v is UINT64_MAX */
	AH_FIELD_BAD       /* the file is there but refused (the reader's err names file and line) */
} ah_field_status;

/* Where a value came from. */
typedef enum {
	AH_SRC_NONE = 0,
	AH_SRC_V2,        /* the cgroup's v2 directory */
	AH_SRC_V1,        /* a v1 controller's directory */
	AH_SRC_COLLECTOR, /* derived by the collector (a peak as the max it saw) */
	AH_SRC_PROC       /* the proc root (host values) */
} ah_field_src;

typedef struct {
	uint64_t v;
	ah_field_status st;
	ah_field_src src;
} ah_field;

/* "none", "ok", "max", "bad"; "v2", "v1", "collector", "proc". */
const char *ah_field_status_name(ah_field_status st);
const char *ah_field_src_name(ah_field_src src);

/* Reads the file at path into buf (cap bytes, at least
 * AH_SYSFILE_MAX_BYTES + 1 to read any file the cap allows), NUL-terminated,
 * *len its length. AH_ENOENT when the file is not there (ENOENT, ENOTDIR,
 * ENODEV of a cgroup removed mid-read, EOPNOTSUPP of PSI switched off),
 * AH_ETOOBIG beyond the cap or cap - 1, AH_EIO otherwise; err names the
 * path. */
int ah_sysfile_read(const char *path, char *buf, size_t cap, size_t *len, char *err, size_t errlen);

/* The same for NAME relative to the open directory DIRFD (one path walk
 * per directory, not per file); err names PATH (the file's full path, for
 * messages only). */
int ah_sysfile_read_at(int dirfd, const char *path, const char *name, char *buf, size_t cap, size_t *len, char *err,
		       size_t errlen);

/* The same from an open descriptor, read from offset 0 (pread: a kernel
 * file's text is made anew on each read from 0); path for messages. A
 * descriptor of a removed cgroup reads ENODEV: AH_ENOENT. */
int ah_sysfile_read_fd(int fd, const char *path, char *buf, size_t cap, size_t *len, char *err, size_t errlen);

/* Parses a kernel unsigned decimal of n bytes: digits only (no sign, no
 * blanks), at most UINT64_MAX. AH_EINVAL for anything else, AH_ERANGE above
 * UINT64_MAX. "max" is the caller's to recognise. */
int ah_sysfile_parse_u64(const char *s, size_t n, uint64_t *out);

#ifdef __cplusplus
}
#endif
#endif

/* ahead: error codes shared by every public function.
 *
 * Convention: functions return 0 on success or a negative AH_E* code.
 * Out-parameters are written only on success. */
#ifndef AHEAD_ERROR_H
#define AHEAD_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum {
	AH_OK = 0,
	AH_EINVAL = -1,     /* invalid argument or malformed input */
	AH_ENOMEM = -2,     /* out of memory */
	AH_ERANGE = -3,     /* value out of range (overflow, negative) */
	AH_ENOENT = -4,     /* named thing does not exist */
	AH_EEXIST = -5,     /* already exists */
	AH_EIO = -6,        /* file or system I/O error */
	AH_ESTORE = -7,     /* storage (SQLite) error; state must be reloaded */
	AH_EPOLICY = -8,    /* request or file breaks the policy */
	AH_EQUOTA = -9,     /* tenant quota exceeded */
	AH_ERATE = -10,     /* tenant rate limit exceeded */
	AH_ECAPACITY = -11, /* not enough capacity */
	AH_ETIMEDOUT = -12, /* timed out */
	AH_EBUSY = -13,     /* resource busy / locked */
	AH_EPARSE = -14,    /* syntax error in a file */
	AH_ESTATE = -15,    /* operation not valid in the current state */
	AH_ETOOBIG = -16,   /* input exceeds a hard cap */
	AH_EUNSUPPORTED = -17, /* not supported on this platform/build */
	AH_E_LAST = -18
};

/* Human-readable, static string for an AH_E* code (never NULL). */
const char *ah_strerror(int err);

/* Stable short identifier, e.g. "EQUOTA" (for JSON output and logs). */
const char *ah_strerror_name(int err);

#ifdef __cplusplus
}
#endif
#endif

/* ahead: who owns a ledger. `ahead serve` holds an exclusive lock on
 * "LEDGER.owner" (flock, released by the kernel however the daemon ends,
 * kill -9 included) with its pid inside; local commands that would change
 * the ledger behind its back refuse while it is held, and point at the
 * daemon instead. */
#ifndef AHEAD_OWNER_H
#define AHEAD_OWNER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Takes ownership (keep *out_fd open for as long as it lasts). AH_EBUSY
 * when another process holds it (*out_pid says which, 0 if unknown). */
int ah_owner_acquire(const char *db_path, int *out_fd, long *out_pid, char *err, size_t errlen);
void ah_owner_release(int fd, const char *db_path);
/* 1 when a live process owns the ledger (its pid in *out_pid), 0 when none. */
int ah_owner_get(const char *db_path, long *out_pid);

#ifdef __cplusplus
}
#endif
#endif

/* ahead: helpers shared by the ledger implementations (not public). */
#ifndef AHEAD_STORE_LEDGER_INTERNAL_H
#define AHEAD_STORE_LEDGER_INTERNAL_H

#include <stddef.h>

#include "ahead/ledger.h"

/* Room for one formatted vector ("cpu=2,memory=1Gi,..."). */
#define AH_LEDGER_VEC_TEXT (AH_MAX_DIMS * (AH_NAME_MAX + 32))
/* Room for a demand row's per-class text. */
#define AH_LEDGER_CLASSES_TEXT (AH_MAX_CLASSES * (AH_NAME_MAX + AH_LEDGER_VEC_TEXT))

/* A demand row as text: "gold:cpu=2,memory=1Gi;batch:cpu=1" for the
 * classes (class names and vectors never contain ':' or ';'). */
int ah_demand_format(const ah_dimset *dims, const ah_demand_row *r, char *used, char *queued, char *classes,
		     size_t classes_len);
/* Parses the text back; AH_EPARSE when used or queued no longer parse
 * under dims (classes that do not are dropped). */
int ah_demand_parse(const ah_dimset *dims, const char *pool, int64_t t_ns, const char *used, const char *queued,
		    const char *classes, ah_demand_row *out);

/* Does a scale event's data (JSON) say the dimension grew? */
bool ah_scale_data_grew(const char *data, const char *dim);

/* Process-wide SQLite settings (sqlite_config.c): call before opening a connection. */
void ah_store_sqlite_config(void);

/* Each connection's page cache, in KiB (PRAGMA cache_size=-N). A
 * daemon holds three connections (the ledger, the service's history, the
 * metrics' history) for weeks: each cache only ever grows to its cap, so
 * the cap is what the daemon's heap settles at. Small on purpose: the
 * files stay in the kernel's page cache, so a miss here costs a read()
 * of a cached page, not a disk seek. */
#define AH_STORE_LEDGER_CACHE_KIB 2048
#define AH_STORE_SHADOW_CACHE_KIB 2048

#endif

/* The ledger a path names: a SQLite file, or an etcd cluster
 * ("etcd://HOST:PORT[,HOST:PORT...]/PREFIX", include/ahead/ledger_etcd.h).
 * AHEAD_ETCD_TIMEOUT_MS bounds each request to an etcd member (default
 * 2000). */
#include <stdio.h>
#include <stdlib.h>

#include "ahead/error.h"
#include "ahead/ledger_etcd.h"
#include "ahead/ledger_sqlite.h"
#include "service/service_int.h"

int ah_service_ledger_open(const char *path, ah_durability durability, ah_ledger **out, char *err, size_t errlen)
{
	if (!ah_ledger_etcd_url(path))
		return ah_ledger_sqlite_open(path, durability, out, err, errlen);
	char endpoints[1024], prefix[256];
	if (ah_ledger_etcd_url_parse(path, endpoints, sizeof endpoints, prefix, sizeof prefix) < 0) {
		snprintf(err, errlen, "%s: not an etcd ledger URL (etcd://HOST:PORT[,HOST:PORT...]/PREFIX)", path);
		return AH_EINVAL;
	}
	ah_ledger_etcd_opts o = {0};
	const char *t = getenv("AHEAD_ETCD_TIMEOUT_MS");
	if (t && *t) {
		char *end;
		long v = strtol(t, &end, 10);
		if (*end || v <= 0 || v > 600000) {
			snprintf(err, errlen, "AHEAD_ETCD_TIMEOUT_MS=%s: want milliseconds, 1..600000", t);
			return AH_EINVAL;
		}
		o.timeout_ms = v;
	}
	/* durability is etcd's own: a commit is in a majority's fsynced WAL */
	return ah_ledger_etcd_open(endpoints, prefix, &o, out, err, errlen);
}

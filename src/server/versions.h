/* resourceVersion bookkeeping: the newest ledger event seq that touched
 * each allocation (or queued request) and each pool, and the newest seq of
 * all (a list's version, where a watch resumes from). Fed by reading the
 * ledger's events after each commit, so the versions are the ledger's own
 * revisions (an etcd ledger will put its revisions behind the same
 * strings). */
#ifndef AHEAD_SERVER_VERSIONS_H
#define AHEAD_SERVER_VERSIONS_H

#include <stddef.h>
#include <stdint.h>

#include "ahead/limits.h"
#include "ahead/policy.h"

typedef struct {
	uint64_t *keys;   /* allocation ids; 0 = empty slot */
	int64_t *vals;
	size_t cap, n;
	int64_t pool_seq[AH_MAX_POOLS];
	char pool_name[AH_MAX_POOLS][AH_NAME_MAX];
	int n_pools;
	int64_t last_seq; /* newest event seen */
	int64_t first_seq; /* oldest kept (after compaction) */
} api_versions;

void api_versions_init(api_versions *v);
void api_versions_fini(api_versions *v);
int api_versions_set(api_versions *v, uint64_t id, int64_t seq);
int64_t api_versions_get(const api_versions *v, uint64_t id); /* 0 when unknown */
void api_versions_pool_set(api_versions *v, const char *pool, int64_t seq);
int64_t api_versions_pool_get(const api_versions *v, const char *pool);

#endif

/* Group commit for long-lived front ends (include/ahead/service.h): one
 * engine batch, i.e. one ledger transaction, and the shadow store's writes
 * of the same calls in one transaction of its own, committed after the
 * ledger's (history is best effort: a crash between the two loses the
 * batch's history, never an answer). */
#include "ahead/error.h"
#include "service/service_int.h"

int ah_service_batch_begin(ah_service *s, int64_t now_ns)
{
	if (!s || s->in_batch)
		return AH_ESTATE;
	int rc = ah_service_prepare(s, now_ns);
	if (rc < 0)
		return rc;
	if ((rc = ah_service_after(s, ah_engine_batch_begin(s->eng))) < 0)
		return rc;
	s->in_batch = true;
	s->shadow_batch = false;
	ah_shadow *sh = ah_service_shadow(s, false);
	if (sh && ah_shadow_begin(sh) == 0)
		s->shadow_batch = true;
	return 0;
}

int ah_service_batch_end(ah_service *s, int64_t now_ns)
{
	(void)now_ns;
	if (!s || !s->in_batch)
		return AH_ESTATE;
	s->in_batch = false;
	int rc = ah_service_after(s, ah_engine_batch_end(s->eng));
	if (s->shadow_batch && s->sh) {
		int src = rc < 0 ? ah_shadow_rollback(s->sh) : ah_shadow_commit(s->sh);
		if (src < 0)
			ah_service_warn(s, "shadow store: a batch's history not written (%s)", ah_strerror(src));
	}
	s->shadow_batch = false;
	return rc;
}

bool ah_service_in_batch(const ah_service *s)
{
	return s && s->in_batch;
}

int ah_service_set_capacity(ah_service *s, const char *pool, const ah_vec *capacity, int64_t now_ns)
{
	if (!pool || !capacity)
		return AH_EINVAL;
	int rc = ah_service_prepare(s, now_ns);
	if (rc < 0)
		return rc;
	return ah_service_after(s, ah_engine_set_capacity(s->eng, pool, capacity, now_ns));
}

const char *ah_service_db_path(const ah_service *s)
{
	return s ? s->db_path : NULL;
}

const char *ah_service_shadow_path(ah_service *s)
{
	return s && ah_service_shadow(s, false) ? s->shadow_path : NULL;
}

int ah_service_sync(ah_service *s, int64_t now_ns)
{
	return ah_service_prepare(s, now_ns);
}

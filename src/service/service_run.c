/* The run events of `ahead run` (include/ahead/service_run.h). */
#include <string.h>

#include "ahead/error.h"
#include "ahead/service_run.h"
#include "service/service_int.h"

int ah_service_run_event(ah_service *s, uint64_t id, const char *reason, const char *detail, const char *data,
			 const ah_vec *res, int64_t now_ns)
{
	if (!s || !reason)
		return AH_EINVAL;
	int rc = ah_service_prepare(s, now_ns);
	if (rc < 0)
		return rc;
	ah_ledger_event ev = {.t_ns = now_ns, .kind = AH_EV_RUN, .id = id, .res = res, .reason = reason,
			      .detail = detail, .data = data};
	/* The batch reloads the engine first if another process wrote, so the
	 * allocation's names are read as the ledger has them now. */
	if ((rc = ah_engine_batch_begin(s->eng)) < 0)
		return ah_service_after(s, rc);
	ah_engine_item it;
	if (id && ah_engine_get(s->eng, id, &it) == 0) {
		ev.tenant = it.tenant;
		ev.pool = it.pool;
		ev.klass = it.klass;
	}
	rc = s->led->ops->event(s->led, &ev);
	int e2 = ah_engine_batch_end(s->eng);
	return ah_service_after(s, rc < 0 ? rc : e2);
}

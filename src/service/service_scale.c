/* The scale step against the service's ledger: the same loop replay runs
 * (include/ahead/scale_loop.h), with the demand history kept in the ledger
 * so a process made for one step decides as a long-lived one. */
#include "ahead/error.h"
#include "service/service_int.h"

int ah_service_scale_step(ah_service *s, int64_t now_ns, const ah_scale_exec *exec, bool dry_run,
			  ah_scale_observer_fn fn, void *ctx, ah_scale_step_out *out)
{
	int rc = ah_service_prepare(s, now_ns);
	if (rc < 0)
		return rc;
	if (!s->loop) {
		ah_scale_loop_cfg c;
		ah_scale_loop_cfg_init(&c);
		c.record_history = true;
		c.record_events = true;
		if ((rc = ah_scale_loop_new(s->pol, &c, s->led, now_ns, &s->loop)) < 0)
			return ah_service_after(s, rc);
	}
	return ah_service_after(s, ah_scale_loop_step(s->loop, s->eng, s->led, now_ns, exec, dry_run, fn, ctx, out));
}

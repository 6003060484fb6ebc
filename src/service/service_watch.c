/* A shared ledger's view kept in step by a watch (include/ahead/service.h
 * "a shared ledger's view", include/ahead/etcd_watch.h): the daemon polls
 * the watch's descriptor and calls ah_service_follow, which reloads the
 * engine when another instance committed. The reload is a full load at
 * one revision, so a view is never a mix of two: from the watch's mirror
 * of PREFIX/s/ when it has one, else the range a refused commit does. */
#include <stdio.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/etcd_watch.h"
#include "ahead/ledger_etcd.h"
#include "service/service_int.h"

#define PUBLISH_EVERY_NS INT64_C(1000000000)
/* Reloads the watch asks for, at most one per this: each is a full load,
 * and under load another instance commits every few milliseconds (this
 * instance's own next commit would reload from its refusal anyway). */
#define RELOAD_GAP_NS INT64_C(20000000)

bool ah_service_watch_wanted(const ah_service *s)
{
	return s && ah_ledger_is_etcd(s->led);
}

int ah_service_watch_fd(ah_service *s)
{
	if (!s || !ah_ledger_is_etcd(s->led))
		return -1;
	if (!s->watch && !s->watch_tried) {
		s->watch_tried = true;
		char endpoints[1024], prefix[256], err[512];
		if (ah_ledger_etcd_url_parse(s->db_path, endpoints, sizeof endpoints, prefix, sizeof prefix) < 0)
			return -1;
		s->watch_base = ah_ledger_etcd_revision(s->led);
		if (ah_etcd_watch_new(endpoints, prefix, s->watch_base, &s->watch, err, sizeof err) < 0) {
			snprintf(s->errbuf, sizeof s->errbuf, "etcd watch: %.200s", err);
			s->watch = NULL;
			return -1;
		}
		/* the view's reloads read the watch's mirror (ledger_etcd.h) */
		(void)ah_ledger_etcd_watch_attach(s->led, s->watch);
	}
	return s->watch ? ah_etcd_watch_fd(s->watch) : -1;
}

/* The view, the watch and the lag on the instance key: when the view or
 * the stream's state changed, at most once a second. */
static void publish(ah_service *s, const ah_service_follow_out *o, int64_t mono_ns)
{
	if (o->view_rev == s->published_rev && o->up == s->published_up && s->enforce_errors == s->published_ee &&
	    s->kills == s->published_kills)
		return;
	if (mono_ns - s->published_ns < PUBLISH_EVERY_NS)
		return;
	ah_ledger_etcd_view v = {.view_rev = o->view_rev, .watch_rev = o->watch_rev, .relists = o->relists,
				 .lag_ms = o->lag_ns / 1000000, .watching = true, .watch_up = o->up,
				 .enforce_errors = (long long)s->enforce_errors, .kills = (long long)s->kills};
	if (ah_ledger_etcd_publish(s->led, &v) == 0) {
		s->published_ee = s->enforce_errors;
		s->published_kills = s->kills;
		s->published_ns = mono_ns;
		s->published_rev = o->view_rev;
		s->published_up = o->up;
	}
}

void ah_service_follow_force(ah_service *s)
{
	if (s)
		s->follow_force = true;
}

int ah_service_follow(ah_service *s, int64_t now_ns, int64_t mono_ns, ah_service_follow_out *out)
{
	if (!s)
		return AH_EINVAL;
	ah_service_follow_out o = {0};
	int rc = 0;
	if (!s->watch || s->in_batch) {
		if (out)
			*out = o;
		return 0;
	}
	o.watching = true;
	ah_etcd_watch_state st;
	ah_etcd_watch_take(s->watch, &st);
	long long view = ah_ledger_etcd_revision(s->led);
	bool behind = st.relist || st.rev > view || s->follow_force;
	if (behind && !s->follow_force && mono_ns - s->watch_reload_ns < RELOAD_GAP_NS) {
		o.pending = true;
		ah_etcd_watch_keep(s->watch, &st); /* not taken yet: the next call sees it */
	} else if (behind) {
		s->watch_reload_ns = mono_ns;
		s->need_reload = true;
		/* a forced follow (a read after a write this instance relayed)
		 * loads from etcd: the watch's mirror may not have that write yet */
		if (s->follow_force)
			ah_ledger_etcd_load_fresh(s->led);
		s->follow_force = false;
		rc = ah_service_prepare(s, now_ns);
		o.reloaded = rc == 0;
		o.relisted = st.relist && rc == 0;
		if (rc == 0 && st.event_mono_ns)
			o.lag_ns = mono_ns - st.event_mono_ns;
		view = ah_ledger_etcd_revision(s->led);
	}
	/* The view moved past what the watch reported (this instance's own
	 * commits, or a tick's reload) and the watch does not catch up: its
	 * stream is stuck on a member that stopped sending. */
	long long seen = st.rev > s->watch_base ? st.rev : s->watch_base;
	if (view > seen) {
		if (!s->watch_behind_ns) {
			s->watch_behind_ns = mono_ns;
		} else if (mono_ns - s->watch_behind_ns > AH_SERVICE_WATCH_STALL_NS) {
			ah_etcd_watch_restart(s->watch, view);
			s->watch_base = view;
			s->watch_behind_ns = 0;
			o.restarted = true;
		}
	} else {
		s->watch_behind_ns = 0;
	}
	o.up = st.up;
	o.view_rev = view;
	o.watch_rev = st.rev;
	o.relists = st.relists;
	o.reconnects = st.reconnects;
	snprintf(o.err, sizeof o.err, "%.250s", st.err);
	snprintf(o.endpoint, sizeof o.endpoint, "%s", st.endpoint);
	/* the lease from here, not from a request's commit (a lapsed one is
	 * granted again, and the instance is listed again, within a second) */
	(void)ah_ledger_etcd_keepalive(s->led);
	long long crev = 0;
	int hrc = ah_ledger_etcd_history_step(s->led, AH_ETCD_HISTORY_KEEP_NS, AH_ETCD_HISTORY_EVERY_NS, &crev);
	if (hrc < 0)
		ah_service_warn(s, "etcd history not compacted (%s)", ah_ledger_errmsg(s->led));
	o.compacted_rev = hrc == 1 ? crev : 0;
	publish(s, &o, mono_ns);
	if (out)
		*out = o;
	return rc;
}

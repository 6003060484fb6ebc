/* ahead top: the snapshot, fetched over the API (see top.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "cli/cli.h"
#include "cli/top.h"

void ah_top_init(ah_top_state *s, ah_client *cl, const char *url)
{
	memset(s, 0, sizeof *s);
	s->cl = cl;
	s->url = url;
	s->events = json_array();
}

void ah_top_fini(ah_top_state *s)
{
	json_decref(s->pools);
	json_decref(s->queue);
	json_decref(s->events);
	ah_policy_free(s->pol);
	ah_client_free(s->cl);
	memset(s, 0, sizeof *s);
}

/* GET path: 0 with the JSON answer, or an exit code (printed); gone says
 * whether the answer was a 410 (then not printed). */
static int get(ah_top_state *s, const char *path, json_t **out, bool *gone)
{
	long st = 0;
	json_t *o = NULL;
	int ex = ah_client_call(s->cl, "GET", path, NULL, &st, &o);
	if (ex)
		return ex;
	if (gone && st == 410) {
		*gone = true;
		json_decref(o);
		return AH_EXIT_NOTFOUND;
	}
	if (st != 200 || !json_is_array(json_object_get(o, "items"))) {
		ex = ah_client_fail(s->cl, st, o);
		json_decref(o);
		return ex ? ex : AH_EXIT_INTERNAL;
	}
	*out = o;
	return 0;
}

/* The kinds top shows: what changes a pool or takes resources back. */
static bool notable(const char *kind)
{
	static const char *const kinds[] = {"scale", "resize", "preempt", "expire", "timeout", "policy"};
	for (size_t i = 0; kind && i < sizeof kinds / sizeof kinds[0]; i++)
		if (!strcmp(kind, kinds[i]))
			return true;
	return false;
}

/* The first event after seq `after` (NULL when none), as *t_ns; 410 (the
 * events up to it were compacted away) as *gone. */
static int first_after(ah_top_state *s, int64_t after, int64_t *t_ns, bool *none, bool *gone)
{
	char path[96];
	json_t *o = NULL;
	snprintf(path, sizeof path, "/v1/events?since=%lld&limit=1", (long long)after);
	*gone = false;
	int ex = get(s, path, &o, gone);
	if (*gone)
		return 0;
	if (ex)
		return ex;
	json_t *e = json_array_get(json_object_get(o, "items"), 0);
	*none = !e;
	*t_ns = e ? ah_client_time(e, "time") : 0;
	json_decref(o);
	return 0;
}

/* Where the window starts: the smallest seq whose next event is in the
 * last 24 h (or there is none), by bisection over [0, head] -- about
 * log2(head) one-event requests, once, instead of reading the whole log. */
static int find_window(ah_top_state *s, int64_t head, int64_t now_ns)
{
	int64_t lo = 0, hi = head < 0 ? 0 : head, cutoff = now_ns - AH_TOP_WINDOW_NS;
	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2, t = 0;
		bool none = false, gone = false;
		int ex = first_after(s, mid, &t, &none, &gone);
		if (ex)
			return ex;
		if (!gone && (none || t >= cutoff))
			hi = mid;
		else
			lo = mid + 1;
	}
	s->ev_after = lo;
	s->ev_found = true;
	return 0;
}

/* Reads the events after ev_after (a bounded number of pages), keeping the
 * notable ones in the ring. */
static int read_events(ah_top_state *s, int64_t head, int64_t now_ns)
{
	int ex;
	if (!s->ev_found && (ex = find_window(s, head, now_ns)))
		return ex;
	for (int page = 0; page < AH_TOP_EVENT_PAGES; page++) {
		char path[96];
		json_t *o = NULL;
		bool gone = false;
		snprintf(path, sizeof path, "/v1/events?since=%lld&limit=1000", (long long)s->ev_after);
		ex = get(s, path, &o, &gone);
		if (gone) { /* compacted past us: find the window again next time */
			s->ev_found = false;
			return 0;
		}
		if (ex)
			return ex;
		json_t *items = json_object_get(o, "items");
		size_t i, n = json_array_size(items);
		json_t *e;
		json_array_foreach(items, i, e)
		{
			json_int_t seq = json_integer_value(json_object_get(e, "seq"));
			if (seq > s->ev_after)
				s->ev_after = seq;
			if (!notable(json_string_value(json_object_get(e, "kind"))))
				continue;
			json_array_append(s->events, e);
			if (json_array_size(s->events) > AH_TOP_EVENTS_MAX) {
				json_array_remove(s->events, 0);
				s->ev_dropped++;
			}
		}
		json_decref(o);
		if (n < 1000)
			break;
	}
	return 0;
}

int ah_top_refresh(ah_top_state *s, int64_t now_ns)
{
	int ex = 0;
	json_t *pools = NULL, *queue = NULL;
	if (!s->pol && (ex = ah_client_policy(s->cl, &s->pol)))
		goto out;
	if ((ex = get(s, "/v1/pools", &pools, NULL)) || (ex = get(s, "/v1/queue", &queue, NULL)))
		goto out;
	const char *rv = json_string_value(json_object_get(pools, "resourceVersion"));
	snprintf(s->revision, sizeof s->revision, "%s", rv ? rv : "?");
	int64_t before = s->ev_after;
	if ((ex = read_events(s, rv ? strtoll(rv, NULL, 10) : 0, now_ns)))
		goto out;
	/* a policy applied since: its dimensions and units may have changed */
	size_t n = json_array_size(s->events);
	for (size_t i = n; s->ev_found && before && i-- > 0;) {
		json_t *e = json_array_get(s->events, i);
		if (json_integer_value(json_object_get(e, "seq")) <= before)
			break;
		const char *k = json_string_value(json_object_get(e, "kind"));
		if (k && !strcmp(k, "policy")) {
			ah_policy *p = NULL;
			if (ah_client_policy(s->cl, &p) == 0) {
				ah_policy_free(s->pol);
				s->pol = p;
			}
			break;
		}
	}
	json_decref(s->pools);
	json_decref(s->queue);
	s->pools = pools;
	s->queue = queue;
	pools = queue = NULL;
	s->fetched_ns = now_ns;
	s->error[0] = '\0';
out:
	json_decref(pools);
	json_decref(queue);
	return ex;
}

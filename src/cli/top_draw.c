/* ahead top: a snapshot laid out as a frame of lines (see top.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/duration.h"
#include "ahead/error.h"
#include "ahead/resource.h"
#include "cli/cli.h"
#include "cli/table.h"
#include "cli/top.h"

/* ---- frame building ---- */

void ah_top_frame_fini(ah_top_frame *f)
{
	for (int i = 0; i < f->n; i++)
		for (int j = 0; j < f->lines[i].n; j++)
			free(f->lines[i].text[j]);
	free(f->lines);
	memset(f, 0, sizeof *f);
}

static ah_top_line *new_line(ah_top_frame *f)
{
	if (f->n == f->cap) {
		int cap = f->cap ? 2 * f->cap : 64;
		ah_top_line *l = realloc(f->lines, (size_t)cap * sizeof *l);
		if (!l)
			return NULL;
		f->lines = l;
		f->cap = cap;
	}
	ah_top_line *l = &f->lines[f->n++];
	memset(l, 0, sizeof *l);
	return l;
}

/* Appends a segment (the last one grows when the line is full). */
static int seg(ah_top_line *l, ah_top_attr a, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int seg(ah_top_line *l, ah_top_attr a, const char *fmt, ...)
{
	if (!l)
		return AH_ENOMEM;
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return AH_ENOMEM;
	if (l->n == AH_TOP_SEGS) {
		char *j = NULL;
		r = asprintf(&j, "%s%s", l->text[l->n - 1], s);
		free(s);
		if (r < 0)
			return AH_ENOMEM;
		free(l->text[l->n - 1]);
		l->text[l->n - 1] = j;
		return 0;
	}
	l->attr[l->n] = a;
	l->text[l->n++] = s;
	return 0;
}

/* Moves src's lines [from, from + n) to the end of dst. */
static int take_lines(ah_top_frame *dst, ah_top_frame *src, int from, int n)
{
	for (int i = from; i < from + n && i < src->n; i++) {
		ah_top_line *l = new_line(dst);
		if (!l)
			return AH_ENOMEM;
		*l = src->lines[i];
		memset(&src->lines[i], 0, sizeof src->lines[i]);
	}
	return 0;
}

/* Each line of text as a line of the frame (a table printed to memory). */
static int text_lines(ah_top_frame *f, const char *text, const char *indent)
{
	const char *p = text;
	while (p && *p) {
		const char *e = strchr(p, '\n');
		int len = e ? (int)(e - p) : (int)strlen(p);
		if (seg(new_line(f), AH_TOP_NORMAL, "%s%.*s", indent, len, p))
			return AH_ENOMEM;
		p = e ? e + 1 : NULL;
	}
	return 0;
}

static int table_lines(ah_top_frame *f, const ah_cli_table *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m)
		return AH_ENOMEM;
	ah_cli_table_print(t, m);
	fclose(m);
	int rc = text_lines(f, buf, "  ");
	free(buf);
	return rc;
}

/* ---- values ---- */

static ah_unit_kind dim_kind(const ah_policy *pol, const char *name)
{
	int d = pol ? ah_dimset_find(&pol->dims, name) : -1;
	return d < 0 ? AH_UNIT_COUNT : pol->dims.kind[d];
}

static const char *val(ah_unit_kind k, int64_t v, char *buf, size_t len)
{
	if (ah_unit_format_human(k, v < 0 ? 0 : v, buf, len) < 0)
		snprintf(buf, len, "%lld", (long long)v);
	return buf;
}

static int64_t num(const json_t *o, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(o, key));
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* "12s", "4m05s", "3h12m", "2d04h": how long ago, at a glance. */
static const char *age(int64_t ns, char *buf, size_t len)
{
	if (ns < 0)
		ns = 0;
	long long s = ns / 1000000000LL;
	if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
	return buf;
}

/* The resources object of an allocation or event, for people. */
static const char *res_text(const ah_policy *pol, const json_t *r, char *buf, size_t len)
{
	buf[0] = '\0';
	if (!json_is_object(r) || !json_object_size(r))
		return buf;
	size_t w = 0;
	const char *k;
	json_t *x;
	json_object_foreach((json_t *)r, k, x)
	{
		if (!json_is_integer(x))
			continue;
		char v[32];
		int n = snprintf(buf + w, len - w, "%s%s=%s", w ? "," : "", k,
				 val(dim_kind(pol, k), json_integer_value(x), v, sizeof v));
		if (n < 0 || (size_t)n >= len - w) {
			buf[w] = '\0';
			break;
		}
		w += (size_t)n;
	}
	return buf;
}

/* ---- sections ---- */

static double util(const json_t *dim)
{
	int64_t cap = num(dim, "capacity"), used = num(dim, "used");
	return cap > 0 ? (double)used / (double)cap : 0.0;
}

static double peak(const json_t *pool)
{
	double p = 0;
	const char *k;
	json_t *d;
	json_object_foreach(json_object_get(pool, "dimensions"), k, d)
	{
		double u = util(d);
		p = u > p ? u : p;
	}
	return p;
}

static int by_peak(const void *a, const void *b)
{
	double x = peak(*(json_t *const *)a), y = peak(*(json_t *const *)b);
	return x < y ? 1 : x > y ? -1 : 0;
}

/* [#####.....]: allocated over capacity in w cells, rounded to the
 * nearest cell (in eighths with block characters). */
static int bar(ah_top_line *l, const ah_top_view *v, int64_t used, int64_t cap, int w)
{
	double u = cap > 0 ? (double)used / (double)cap : 0.0;
	if (u > 1)
		u = 1;
	ah_top_attr a = u >= 0.9 ? AH_TOP_CRIT : u >= 0.7 ? AH_TOP_WARN : AH_TOP_OK;
	int eighths = (int)(u * w * 8 + 0.5), full = v->utf8 ? eighths / 8 : (int)(u * w + 0.5);
	int part = v->utf8 ? eighths % 8 : 0;
	static const char *const parts[] = {"", "\u258f", "\u258e", "\u258d", "\u258c", "\u258b", "\u258a", "\u2589"};
	char on[512] = "", off[512] = "";
	size_t p = 0;
	for (int i = 0; i < full && p + 4 < sizeof on; i++)
		p += (size_t)snprintf(on + p, sizeof on - p, "%s", v->utf8 ? "\u2588" : "#");
	if (part && p + 4 < sizeof on)
		p += (size_t)snprintf(on + p, sizeof on - p, "%s", parts[part]);
	int rest = w - full - (part ? 1 : 0);
	p = 0;
	for (int i = 0; i < rest && p + 4 < sizeof off; i++)
		p += (size_t)snprintf(off + p, sizeof off - p, "%s", v->utf8 ? "\u00b7" : ".");
	int rc = seg(l, AH_TOP_NORMAL, "[");
	if (!rc && *on)
		rc = seg(l, a, "%s", on);
	if (!rc && *off)
		rc = seg(l, AH_TOP_DIM, "%s", off);
	if (!rc)
		rc = seg(l, AH_TOP_NORMAL, "]");
	if (!rc && cap > 0)
		rc = seg(l, a, " %3d%%", (int)((double)used * 100.0 / (double)cap + 0.5));
	else if (!rc)
		rc = seg(l, AH_TOP_DIM, "    -");
	return rc;
}

static int pools_body(const ah_top_state *s, const ah_top_view *v, ah_top_frame *f)
{
	json_t *items = json_object_get(s->pools, "items");
	size_t n = json_array_size(items);
	if (!n)
		return seg(new_line(f), AH_TOP_DIM, "  (no pools)");
	json_t **order = malloc(n * sizeof *order);
	if (!order)
		return AH_ENOMEM;
	for (size_t i = 0; i < n; i++)
		order[i] = json_array_get(items, i);
	if (v->sort_used)
		qsort(order, n, sizeof *order, by_peak); /* else the daemon's order: by name */
	int w = v->width - 72;
	w = w < 10 ? 10 : w > 60 ? 60 : w;
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		json_t *p = order[i];
		char safe[3 * AH_NAME_MAX + 8];
		ah_top_line *l = new_line(f);
		rc = seg(l, AH_TOP_TITLE, "  %-20s", ah_cli_safe_text(str(p, "pool"), safe, sizeof safe));
		if (!rc)
			rc = seg(l, AH_TOP_NORMAL, " allocations %lld  queued %lld", (long long)num(p, "allocations"),
				 (long long)num(p, "queued"));
		const char *k;
		json_t *d;
		json_object_foreach(json_object_get(p, "dimensions"), k, d)
		{
			if (rc)
				break;
			ah_unit_kind kind = dim_kind(s->pol, k);
			int64_t cap = num(d, "capacity"), used = num(d, "used");
			char a[32], b[32], c[32], e[32];
			l = new_line(f);
			rc = seg(l, AH_TOP_NORMAL, "    %-8s ", ah_cli_safe_text(k, safe, sizeof safe));
			if (!rc)
				rc = bar(l, v, used, cap, w);
			if (!rc)
				rc = seg(l, AH_TOP_NORMAL, "  %7s / %-7s  free %-7s", val(kind, used, a, sizeof a),
					 val(kind, cap, b, sizeof b), val(kind, num(d, "free"), c, sizeof c));
			if (!rc)
				rc = seg(l, num(d, "waiting") > 0 ? AH_TOP_WARN : AH_TOP_NORMAL, "  waiting %s",
					 val(kind, num(d, "waiting"), e, sizeof e));
		}
	}
	free(order);
	return rc;
}

static int queue_body(const ah_top_state *s, const ah_top_view *v, ah_top_frame *f)
{
	json_t *items = json_object_get(s->queue, "items");
	if (!json_array_size(items))
		return seg(new_line(f), AH_TOP_DIM, "  (nothing queued)");
	ah_cli_table t;
	ah_cli_table_init(&t, 7, 1u);
	int rc = ah_cli_table_addv(&t, "ID", "TENANT", "POOL", "CLASS", "RESOURCES", "WAITED", "GIVES UP IN");
	size_t i;
	json_t *q;
	json_array_foreach(items, i, q)
	{
		if (rc)
			break;
		char id[24], res[512], waited[32], left[32] = "-";
		snprintf(id, sizeof id, "%lld", (long long)num(q, "id"));
		int64_t arrived = ah_client_time(q, "arrived"), deadline = ah_client_time(q, "deadline");
		if (deadline >= 0)
			age(deadline - v->now_ns, left, sizeof left);
		rc = ah_cli_table_addv(&t, id, str(q, "tenant"), str(q, "pool"), str(q, "class"),
				       res_text(s->pol, json_object_get(q, "resources"), res, sizeof res),
				       arrived >= 0 ? age(v->now_ns - arrived, waited, sizeof waited) : "-", left);
	}
	if (!rc)
		rc = table_lines(f, &t);
	ah_cli_table_fini(&t);
	return rc;
}

static bool in_window(const json_t *e, int64_t now_ns)
{
	return ah_client_time(e, "time") >= now_ns - AH_TOP_WINDOW_NS;
}

static int events_body(const ah_top_state *s, const ah_top_view *v, ah_top_frame *f)
{
	size_t n = json_array_size(s->events), shown = 0;
	ah_cli_table t;
	ah_cli_table_init(&t, 6, 0u);
	int rc = ah_cli_table_addv(&t, "TIME", "AGO", "KIND", "POOL", "ID", "WHAT");
	for (size_t i = n; i-- > 0 && !rc;) { /* newest first */
		json_t *e = json_array_get(s->events, i);
		if (!in_window(e, v->now_ns))
			continue;
		char when[40], ago[32], id[24] = "-", what[768], res[512];
		ah_cli_fmt_time(ah_client_time(e, "time"), when, sizeof when);
		if (strlen(when) > 19) /* 2026-12-02T04:49:15: the date and second are enough */
			when[19] = '\0';
		if (num(e, "id"))
			snprintf(id, sizeof id, "%lld", (long long)num(e, "id"));
		res_text(s->pol, json_object_get(e, "resources"), res, sizeof res);
		const char *reason = str(e, "reason"), *detail = str(e, "detail");
		snprintf(what, sizeof what, "%s%s%s%s%s", res, *res && (*reason || *detail) ? "  " : "", reason,
			 *reason && *detail ? ": " : "", detail);
		rc = ah_cli_table_addv(&t, when, age(v->now_ns - ah_client_time(e, "time"), ago, sizeof ago),
				       str(e, "kind"), *str(e, "pool") ? str(e, "pool") : "-", id, what);
		shown++;
	}
	if (!rc && shown)
		rc = table_lines(f, &t);
	else if (!rc)
		rc = seg(new_line(f), AH_TOP_DIM, "  (none in the last 24 h)");
	ah_cli_table_fini(&t);
	return rc;
}

/* "2 scale, 1 resize": the window's notable events by kind. */
static void event_counts(const ah_top_state *s, int64_t now_ns, char *buf, size_t len)
{
	static const char *const kinds[] = {"scale", "resize", "preempt", "expire", "timeout", "policy"};
	size_t w = 0;
	buf[0] = '\0';
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		int c = 0;
		size_t i;
		json_t *e;
		json_array_foreach(s->events, i, e) c += in_window(e, now_ns) && !strcmp(str(e, "kind"), kinds[k]);
		int n = snprintf(buf + w, len - w, "%s%d %s", w ? ", " : "", c, kinds[k]);
		if (n < 0 || (size_t)n >= len - w)
			break;
		w += (size_t)n;
	}
}

/* ---- layout ---- */

enum { SEC_POOLS = 0, SEC_QUEUE, SEC_EVENTS, SEC_ANOM, NSEC };

int ah_top_render(const ah_top_state *s, const ah_top_view *v, ah_top_frame *f)
{
	ah_top_frame body[NSEC] = {{0}};
	ah_top_frame head = {0};
	int rc = 0;
	char t[64], counts[256];
	ah_top_line *l;

	/* the header */
	l = new_line(&head);
	if (s->fetched_ns)
		ah_cli_fmt_time(s->fetched_ns, t, sizeof t);
	else
		snprintf(t, sizeof t, "never");
	char iv[32];
	if (ah_duration_format(v->interval_ns, iv, sizeof iv) < 0)
		snprintf(iv, sizeof iv, "?");
	rc = seg(l, AH_TOP_HEADER, "ahead top - %s  revision %s  refreshed %s (every %s)", s->url, s->revision, t, iv);
	json_t *pools = json_object_get(s->pools, "items");
	long long allocs = 0, queued = (long long)json_array_size(json_object_get(s->queue, "items"));
	size_t i;
	json_t *p;
	json_array_foreach(pools, i, p) allocs += num(p, "allocations");
	l = new_line(&head);
	if (!rc)
		rc = seg(l, AH_TOP_HEADER, "pools %zu  allocations %lld  queued %lld", json_array_size(pools), allocs,
			 queued);
	if (!rc && s->error[0])
		rc = seg(l, AH_TOP_ERROR, "  refresh failed: %s", s->error);

	/* the sections: title and body */
	const char *title[NSEC];
	char qt[64], et[320];
	snprintf(qt, sizeof qt, "QUEUE  %lld queued", queued);
	event_counts(s, v->now_ns, counts, sizeof counts);
	snprintf(et, sizeof et, "EVENTS  last 24 h: %s%s", counts, s->ev_dropped ? " (the oldest not kept)" : "");
	title[SEC_POOLS] = "POOLS  allocated / capacity per dimension";
	title[SEC_QUEUE] = qt;
	title[SEC_EVENTS] = et;
	title[SEC_ANOM] = "ANOMALIES  last 24 h";
	if (!rc)
		rc = pools_body(s, v, &body[SEC_POOLS]);
	if (!rc)
		rc = queue_body(s, v, &body[SEC_QUEUE]);
	if (!rc)
		rc = events_body(s, v, &body[SEC_EVENTS]);
	if (!rc)
		rc = seg(new_line(&body[SEC_ANOM]), AH_TOP_DIM, "  none reported (the API serves no anomalies yet)");
	if (rc)
		goto out;

	/* rows for each body: everything in a plain frame; on a screen the
	 * focused section gets what the others leave (each keeps up to 4
	 * rows first), and rows still spare go back to the others */
	int focus = (int)v->focus, rows[NSEC];
	for (int k = 0; k < NSEC; k++)
		rows[k] = body[k].n;
	if (v->height > 0) {
		int avail = v->height - head.n - 1 /* blank */ - (v->keys ? 1 : 0) - 2 * NSEC /* titles, blanks */;
		int used = 0;
		for (int k = 0; k < NSEC; k++)
			if (k != focus) {
				rows[k] = body[k].n < 4 ? body[k].n : 4;
				used += rows[k];
			}
		int left = avail - used;
		rows[focus] = body[focus].n < left ? body[focus].n : left > 1 ? left : 1;
		left -= rows[focus];
		for (int k = 0; k < NSEC && left > 0; k++)
			if (k != focus) {
				int more = body[k].n - rows[k];
				more = more < left ? more : left;
				rows[k] += more;
				left -= more;
			}
	}

	if ((rc = take_lines(f, &head, 0, head.n)))
		goto out;
	for (int k = 0; k < NSEC; k++) {
		if ((rc = seg(new_line(f), AH_TOP_NORMAL, "%s", "")))
			goto out;
		l = new_line(f);
		rc = seg(l, AH_TOP_TITLE, "%s", title[k]);
		if (!rc && k == focus && v->height > 0)
			rc = seg(l, AH_TOP_DIM, "  *");
		if (rc)
			goto out;
		int first = 0, n = rows[k];
		if (n < body[k].n) { /* cut: the last row says how much more */
			if (k == focus) {
				int max = body[k].n - (n - 1);
				first = v->scroll < 0 ? 0 : v->scroll > max ? max : v->scroll;
			}
			if ((rc = take_lines(f, &body[k], first, n - 1)))
				goto out;
			if ((rc = seg(new_line(f), AH_TOP_DIM, "  ... %d more rows%s", body[k].n - (n - 1),
				      k == focus ? " (up/down to scroll)" : "")))
				goto out;
		} else if ((rc = take_lines(f, &body[k], 0, n))) {
			goto out;
		}
	}
	while (v->keys && v->height > 0 && f->n < v->height - 1) /* the keys at the bottom */
		if ((rc = seg(new_line(f), AH_TOP_NORMAL, "%s", "")))
			goto out;
	if (v->keys) {
		static const char *const names[] = {"pools", "queue", "events"};
		rc = seg(new_line(f), AH_TOP_HEADER, "q quit  p/a/e focus pools/queue/events (%s)  s sort pools by %s  up/down scroll",
			 focus < 3 ? names[focus] : "?", v->sort_used ? "name" : "use");
	}
out:
	for (int k = 0; k < NSEC; k++)
		ah_top_frame_fini(&body[k]);
	ah_top_frame_fini(&head);
	return rc;
}

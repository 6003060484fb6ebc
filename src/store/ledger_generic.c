/* ahead: the store-neutral ledger functions (see include/ahead/ledger.h):
 * each dispatches to its store's op, and the text forms both stores share. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/ledger.h"
#include "store/ledger_internal.h"

static const char *const kind_names[] = {
	"grant", "queue", "refuse", "dequeue", "release", "cancel",
	"renew", "expire", "timeout", "preempt", "resize", "policy", "scale", "run",
};
/* A new kind without a name would print as NULL: keep the table complete. */
_Static_assert(sizeof(kind_names) / sizeof(kind_names[0]) == AH_EV__COUNT, "event kind without a name");

const char *ah_event_kind_name(ah_event_kind k)
{
	if ((int)k < 0 || k >= AH_EV__COUNT)
		return "unknown";
	return kind_names[k];
}

void ah_ledger_free(ah_ledger *l)
{
	if (l)
		l->ops->free(l);
}

int ah_ledger_policy_get(ah_ledger *l, char **out_text, int64_t *out_applied_ns)
{
	if (!l || !out_text)
		return AH_EINVAL;
	return l->ops->policy_get ? l->ops->policy_get(l, out_text, out_applied_ns) : AH_EUNSUPPORTED;
}

int ah_ledger_policy_put(ah_ledger *l, const char *text, const ah_policy *p, int64_t now_ns)
{
	if (!l || !text || !p)
		return AH_EINVAL;
	return l->ops->policy_put ? l->ops->policy_put(l, text, p, now_ns) : AH_EUNSUPPORTED;
}

int ah_ledger_policy_generation(ah_ledger *l, uint64_t *out_gen)
{
	if (!l || !out_gen)
		return AH_EINVAL;
	return l->ops->policy_generation ? l->ops->policy_generation(l, out_gen) : AH_EUNSUPPORTED;
}

int ah_ledger_events(ah_ledger *l, const ah_event_query *q, int (*fn)(void *ctx, const ah_event_row *ev), void *ctx)
{
	static const ah_event_query all;
	if (!l || !fn)
		return AH_EINVAL;
	return l->ops->events ? l->ops->events(l, q ? q : &all, fn, ctx) : AH_EUNSUPPORTED;
}

int ah_ledger_demand_put(ah_ledger *l, const ah_dimset *dims, const ah_demand_row *row, int64_t keep_after_ns,
			 int max_rows)
{
	if (!l || !dims || !row || !row->pool || row->n_classes < 0 || row->n_classes > AH_MAX_CLASSES ||
	    max_rows < 1)
		return AH_EINVAL;
	return l->ops->demand_put ? l->ops->demand_put(l, dims, row, keep_after_ns, max_rows) : AH_EUNSUPPORTED;
}

int ah_ledger_demand_load(ah_ledger *l, const ah_dimset *dims, int64_t since_ns,
			  int (*fn)(void *ctx, const ah_demand_row *row), void *ctx)
{
	if (!l || !dims || !fn)
		return AH_EINVAL;
	return l->ops->demand_load ? l->ops->demand_load(l, dims, since_ns, fn, ctx) : AH_EUNSUPPORTED;
}

typedef struct {
	const char *dim;
	int64_t t_ns;
	bool found;
} scale_up_ctx;

static int scale_up_visit(void *ctx, const ah_event_row *ev)
{
	scale_up_ctx *c = ctx;
	if (!strcmp(ev->reason, "scaled") && ah_scale_data_grew(ev->data, c->dim) && (!c->found || ev->t_ns > c->t_ns)) {
		c->t_ns = ev->t_ns;
		c->found = true;
	}
	return 0;
}

/* Through the events query, so every store answers it the same way. */
int ah_ledger_last_scale_up(ah_ledger *l, const char *pool, const char *dim, int64_t *out_t_ns)
{
	if (!l || !pool || !dim || !out_t_ns)
		return AH_EINVAL;
	ah_event_query q = {.kinds = 1u << AH_EV_SCALE, .pool = pool};
	scale_up_ctx c = {.dim = dim};
	int rc = ah_ledger_events(l, &q, scale_up_visit, &c);
	if (rc < 0)
		return rc;
	if (!c.found)
		return AH_ENOENT;
	*out_t_ns = c.t_ns;
	return 0;
}

int ah_ledger_set_durability(ah_ledger *l, ah_durability durability)
{
	if (!l)
		return AH_EINVAL;
	return l->ops->set_durability ? l->ops->set_durability(l, durability) : 0;
}

int ah_ledger_precond_add(ah_ledger *l, ah_precond_kind kind, const char *key, uint64_t version)
{
	if (!l || (int)kind < 0 || kind >= AH_PRECOND__COUNT || (key && strlen(key) >= AH_NAME_MAX))
		return AH_EINVAL;
	if (!l->ops->precond_add)
		return 0;
	ah_ledger_precond pc = {.kind = kind, .version = version};
	if (key)
		snprintf(pc.key, sizeof pc.key, "%s", key);
	return l->ops->precond_add(l, &pc);
}

const char *ah_ledger_errmsg(ah_ledger *l)
{
	if (!l || !l->ops->errmsg)
		return "";
	const char *m = l->ops->errmsg(l);
	return m ? m : "";
}

/* ---- text forms of a demand row --------------------------------------- */

int ah_demand_format(const ah_dimset *dims, const ah_demand_row *r, char *used, char *queued, char *classes,
		     size_t classes_len)
{
	size_t n = 0;
	if (ah_vec_format(dims, &r->used, used, AH_LEDGER_VEC_TEXT) < 0 ||
	    ah_vec_format(dims, &r->queued, queued, AH_LEDGER_VEC_TEXT) < 0)
		return AH_ERANGE;
	classes[0] = '\0';
	for (int c = 0; c < r->n_classes; c++) {
		char v[AH_LEDGER_VEC_TEXT];
		if (ah_vec_is_zero(&r->class_demand[c], dims->n))
			continue;
		if (ah_vec_format(dims, &r->class_demand[c], v, sizeof(v)) < 0)
			return AH_ERANGE;
		int w = snprintf(classes + n, classes_len - n, "%s%s:%s", n ? ";" : "", r->class_name[c], v);
		if (w < 0 || (size_t)w >= classes_len - n)
			return AH_ETOOBIG;
		n += (size_t)w;
	}
	return 0;
}

int ah_demand_parse(const ah_dimset *dims, const char *pool, int64_t t_ns, const char *used, const char *queued,
		    const char *classes, ah_demand_row *r)
{
	memset(r, 0, sizeof(*r));
	r->pool = pool;
	r->t_ns = t_ns;
	/* Rows naming a dimension the policy has dropped are skipped, as pool
	 * capacities are: history is advice, not state. */
	if (ah_vec_parse(dims, used, &r->used, NULL, 0) < 0 || ah_vec_parse(dims, queued, &r->queued, NULL, 0) < 0)
		return AH_EPARSE;
	const char *p = classes;
	while (*p && r->n_classes < AH_MAX_CLASSES) {
		const char *semi = strchr(p, ';'), *end = semi ? semi : p + strlen(p);
		const char *colon = memchr(p, ':', (size_t)(end - p));
		char v[AH_LEDGER_VEC_TEXT];
		size_t nl = colon ? (size_t)(colon - p) : 0, vl = colon ? (size_t)(end - colon - 1) : 0;
		if (colon && nl > 0 && nl < AH_NAME_MAX && vl < sizeof(v)) {
			int c = r->n_classes;
			memcpy(r->class_name[c], p, nl);
			r->class_name[c][nl] = '\0';
			memcpy(v, colon + 1, vl);
			v[vl] = '\0';
			if (ah_vec_parse(dims, v, &r->class_demand[c], NULL, 0) == 0)
				r->n_classes++;
		}
		p = semi ? semi + 1 : end;
	}
	return 0;
}

bool ah_scale_data_grew(const char *data, const char *dim)
{
	if (!data || !*data)
		return false;
	json_t *j = json_loads(data, 0, NULL);
	if (!j)
		return false;
	json_t *d = json_object_get(j, "dim"), *from = json_object_get(j, "from"), *to = json_object_get(j, "to");
	bool grew = false;
	if (json_is_string(d) && !strcmp(json_string_value(d), dim)) {
		if (json_is_integer(from) && json_is_integer(to)) /* exact: sizes in bytes exceed 2^53 */
			grew = json_integer_value(to) > json_integer_value(from);
		else if (json_is_number(from) && json_is_number(to))
			grew = json_number_value(to) > json_number_value(from);
	}
	json_decref(j);
	return grew;
}

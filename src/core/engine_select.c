/* ahead: the node labels a request asks for (`node_labels = zone=a`), kept
 * once per distinct selector in a table the allocations index (alloc_t.sel,
 * qitem_t.sel: index + 1, 0 = none). Selectors are few (one per kind of
 * work), so the table stays small and an allocation carries 2 bytes, not a
 * string; an entry lives as long as the engine. Canonical text (labels
 * sorted by key) makes "b=2,a=1" and "a=1,b=2" one entry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"

static int label_cmp(const void *x, const void *y)
{
	return strcmp(((const ah_label *)x)->key, ((const ah_label *)y)->key);
}

static int canonical(const ah_label *lab, int n, char *out, size_t outlen)
{
	size_t off = 0;
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		int w = snprintf(out + off, outlen - off, "%s%s=%s", i ? "," : "", lab[i].key, lab[i].value);
		if (w < 0 || (size_t)w >= outlen - off)
			return AH_ETOOBIG;
		off += (size_t)w;
	}
	return 0;
}

int eng_select_intern(ah_engine *e, const char *text, char *err, size_t errlen)
{
	if (!text || !*text)
		return 0;
	if (strlen(text) >= AH_NODE_SELECT_MAX) {
		snprintf(err, errlen, "longer than %d bytes", AH_NODE_SELECT_MAX - 1);
		return AH_ETOOBIG;
	}
	eng_select_t x;
	int rc = ah_labels_parse(text, x.lab, AH_PLACE_LABELS_MAX, &x.n, err, errlen);
	if (rc < 0)
		return rc;
	if (!x.n)
		return 0;
	qsort(x.lab, (size_t)x.n, sizeof x.lab[0], label_cmp);
	if (canonical(x.lab, x.n, x.text, sizeof x.text) < 0) {
		snprintf(err, errlen, "longer than %d bytes", AH_NODE_SELECT_MAX - 1);
		return AH_ETOOBIG;
	}
	for (int i = 0; i < e->nselects; i++)
		if (!strcmp(e->selects[i].text, x.text))
			return i + 1;
	if (e->nselects >= AH_NODE_SELECTORS_MAX) {
		snprintf(err, errlen, "more than %d distinct node selectors are in use", AH_NODE_SELECTORS_MAX);
		return AH_ETOOBIG;
	}
	if (e->nselects == e->capselects) {
		int nc = e->capselects ? e->capselects * 2 : 8;
		eng_select_t *ns = realloc(e->selects, sizeof(*ns) * (size_t)nc);
		if (!ns)
			return AH_ENOMEM;
		e->selects = ns;
		e->capselects = nc;
	}
	e->selects[e->nselects++] = x;
	return e->nselects;
}

const eng_select_t *eng_select_get(const ah_engine *e, int sel)
{
	return sel > 0 && sel <= e->nselects ? &e->selects[sel - 1] : NULL;
}

const char *eng_select_text(const ah_engine *e, int sel)
{
	const eng_select_t *s = eng_select_get(e, sel);
	return s ? s->text : "";
}

void eng_select_fini(ah_engine *e)
{
	free(e->selects);
	e->selects = NULL;
	e->nselects = e->capselects = 0;
}

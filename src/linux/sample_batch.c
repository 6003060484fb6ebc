/* ahead: batches of collector samples (see include/ahead/collector.h). */
#include <stdlib.h>
#include <string.h>

#include "ahead/collector.h"
#include "ahead/error.h"

void ah_sample_batch_init(ah_sample_batch *b)
{
	memset(b, 0, sizeof *b);
}

void ah_sample_batch_clear(ah_sample_batch *b)
{
	for (size_t i = 0; i < b->nstrs; i++)
		free(b->strs[i]);
	b->nstrs = 0;
	b->n = 0;
	if (b->table)
		memset(b->table, 0, b->table_cap * sizeof *b->table);
}

void ah_sample_batch_fini(ah_sample_batch *b)
{
	if (!b)
		return;
	ah_sample_batch_clear(b);
	free(b->workload);
	free(b->dim);
	free(b->t_ns);
	free(b->value);
	free(b->strs);
	free(b->table);
	memset(b, 0, sizeof *b);
}

static size_t hash(const char *s)
{
	size_t h = 1469598103934665603u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static int grow_table(ah_sample_batch *b)
{
	size_t nc = b->table_cap ? b->table_cap * 2 : 64;
	char **t = calloc(nc, sizeof *t);
	if (!t)
		return AH_ENOMEM;
	for (size_t i = 0; i < b->nstrs; i++) {
		size_t h = hash(b->strs[i]) & (nc - 1);
		while (t[h])
			h = (h + 1) & (nc - 1);
		t[h] = b->strs[i];
	}
	free(b->table);
	b->table = t;
	b->table_cap = nc;
	return 0;
}

/* The batch's one copy of s, so a series is a run of equal pointers. */
static const char *intern(ah_sample_batch *b, const char *s)
{
	if ((b->nstrs + 1) * 2 > b->table_cap && grow_table(b))
		return NULL;
	size_t h = hash(s) & (b->table_cap - 1);
	while (b->table[h]) {
		if (!strcmp(b->table[h], s))
			return b->table[h];
		h = (h + 1) & (b->table_cap - 1);
	}
	if (b->nstrs == b->capstrs) {
		size_t nc = b->capstrs ? b->capstrs * 2 : 32;
		char **ns = realloc(b->strs, nc * sizeof *ns);
		if (!ns)
			return NULL;
		b->strs = ns;
		b->capstrs = nc;
	}
	char *d = strdup(s);
	if (!d)
		return NULL;
	b->strs[b->nstrs++] = d;
	b->table[h] = d;
	return d;
}

int ah_sample_batch_add(ah_sample_batch *b, const char *workload, const char *dim, int64_t t_ns, double value)
{
	if (!b || !workload || !dim)
		return AH_EINVAL;
	if (b->n == b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 256;
		const char **w = realloc(b->workload, nc * sizeof *w);
		if (!w)
			return AH_ENOMEM;
		b->workload = w;
		const char **d = realloc(b->dim, nc * sizeof *d);
		if (!d)
			return AH_ENOMEM;
		b->dim = d;
		int64_t *t = realloc(b->t_ns, nc * sizeof *t);
		if (!t)
			return AH_ENOMEM;
		b->t_ns = t;
		double *v = realloc(b->value, nc * sizeof *v);
		if (!v)
			return AH_ENOMEM;
		b->value = v;
		b->cap = nc;
	}
	const char *w = intern(b, workload), *d = intern(b, dim);
	if (!w || !d)
		return AH_ENOMEM;
	b->workload[b->n] = w;
	b->dim[b->n] = d;
	b->t_ns[b->n] = t_ns;
	b->value[b->n] = value;
	b->n++;
	return 0;
}

typedef struct {
	const char *w, *d;
	int64_t t;
	double v;
	size_t i;
} rec;

static int cmp(const void *a, const void *b)
{
	const rec *x = a, *y = b;
	int c = x->w == y->w ? 0 : strcmp(x->w, y->w);
	if (!c)
		c = x->d == y->d ? 0 : strcmp(x->d, y->d);
	if (!c)
		c = x->t < y->t ? -1 : x->t > y->t;
	if (!c)
		c = x->i < y->i ? -1 : x->i > y->i;
	return c;
}

int ah_sample_batch_sort(ah_sample_batch *b)
{
	if (!b)
		return AH_EINVAL;
	if (b->n < 2)
		return 0;
	rec *r = malloc(b->n * sizeof *r);
	if (!r)
		return AH_ENOMEM;
	for (size_t i = 0; i < b->n; i++)
		r[i] = (rec){b->workload[i], b->dim[i], b->t_ns[i], b->value[i], i};
	qsort(r, b->n, sizeof *r, cmp);
	for (size_t i = 0; i < b->n; i++) {
		b->workload[i] = r[i].w;
		b->dim[i] = r[i].d;
		b->t_ns[i] = r[i].t;
		b->value[i] = r[i].v;
	}
	free(r);
	return 0;
}

bool ah_sample_batch_next(const ah_sample_batch *b, size_t *pos, ah_sample_series *out)
{
	if (!b || !pos || !out || *pos >= b->n)
		return false;
	size_t i = *pos, j = i + 1;
	/* Interned: one pointer per distinct string. */
	while (j < b->n && b->workload[j] == b->workload[i] && b->dim[j] == b->dim[i])
		j++;
	out->workload = b->workload[i];
	out->dim = b->dim[i];
	out->t_ns = b->t_ns + i;
	out->value = b->value + i;
	out->n = j - i;
	*pos = j;
	return true;
}

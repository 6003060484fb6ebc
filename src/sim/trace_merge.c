/* Merging several traces into one stream in time order (a k-way merge on a
 * binary heap), so that the engine replaying them sees one clock: requests
 * of different workloads meet in the pool as they did in the cluster.
 * Each reader still streams line by line; the merge holds one pending row
 * per reader. */
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/trace.h"

struct src {
	ah_trace *tr;
	ah_trace_row row; /* pending row (workload borrowed from tr) */
	size_t idx;       /* position among the inputs: ties keep input order */
};

struct ah_trace_merge {
	struct src *s;
	size_t n;      /* readers still holding a row, heap-ordered in s[0..n) */
	size_t total;
	ah_trace **all;
	int advance;   /* the top's reader must move on before the next pick */
	const ah_trace *err_from;
};

static int less(const struct src *a, const struct src *b)
{
	if (a->row.t_s != b->row.t_s)
		return a->row.t_s < b->row.t_s;
	return a->idx < b->idx;
}

static void sift_down(ah_trace_merge *m, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, k = i;
		if (l < m->n && less(&m->s[l], &m->s[k]))
			k = l;
		if (r < m->n && less(&m->s[r], &m->s[k]))
			k = r;
		if (k == i)
			return;
		struct src t = m->s[i];
		m->s[i] = m->s[k];
		m->s[k] = t;
		i = k;
	}
}

int ah_trace_merge_new(ah_trace **traces, size_t n, ah_trace_merge **out)
{
	if (!traces || !n || !out)
		return AH_EINVAL;
	ah_trace_merge *m = calloc(1, sizeof(*m));
	if (!m)
		return AH_ENOMEM;
	m->s = calloc(n, sizeof(*m->s));
	m->all = calloc(n, sizeof(*m->all));
	if (!m->s || !m->all) {
		free(m->s);
		free(m->all);
		free(m);
		return AH_ENOMEM;
	}
	memcpy(m->all, traces, n * sizeof(*traces));
	m->total = n;
	for (size_t i = 0; i < n; i++) {
		m->s[i].tr = traces[i];
		m->s[i].idx = i;
	}
	/* the first rows are read on the first call, so errors surface there */
	m->n = 0;
	m->advance = -1;
	*out = m;
	return 0;
}

void ah_trace_merge_free(ah_trace_merge *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->total; i++)
		ah_trace_free(m->all[i]);
	free(m->all);
	free(m->s);
	free(m);
}

int ah_trace_merge_next(ah_trace_merge *m, ah_trace_row *row, const ah_trace **from)
{
	if (!m || !row)
		return AH_EINVAL;
	if (m->advance < 0) {
		/* prime: one row from every reader */
		size_t k = 0;
		for (size_t i = 0; i < m->total; i++) {
			struct src s = m->s[i];
			int rc = ah_trace_next(s.tr, &s.row);
			if (rc < 0) {
				m->err_from = s.tr;
				return rc;
			}
			if (rc == 1)
				m->s[k++] = s;
		}
		m->n = k;
		for (size_t i = m->n / 2; i-- > 0;)
			sift_down(m, i);
		m->advance = 0;
	} else if (m->advance && m->n) {
		struct src *top = &m->s[0];
		int rc = ah_trace_next(top->tr, &top->row);
		if (rc < 0) {
			m->err_from = top->tr;
			return rc;
		}
		if (rc == 0)
			m->s[0] = m->s[--m->n];
		sift_down(m, 0);
	}
	if (!m->n)
		return 0;
	*row = m->s[0].row;
	if (from)
		*from = m->s[0].tr;
	m->advance = 1;
	return 1;
}

const ah_trace *ah_trace_merge_error_source(const ah_trace_merge *m)
{
	return m ? m->err_from : NULL;
}

/* ahead: request-conditioned usage model (see include/ahead/forecast.h).
 * Categorical parameters pick a group; numeric ones (> 0) enter a Huber
 * regression of log(usage) on log(value) inside the group; unseen groups
 * fall back to the workload's whole history. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/forecast.h"

#define MAX_PAIRS 32

typedef struct {
	char *key; /* "cat=v;...|num1,num2" */
	size_t nfeat;
	double *x;  /* ring: cap * nfeat log features */
	double *ly; /* ring: cap log usages */
	size_t n, pos;
} group;

struct ah_cond_model {
	ah_cond_opts o;
	group *g;
	size_t ng, gcap;
	double *all; /* workload ring of log usages */
	size_t all_n, all_pos, all_cap;
	double *scratch;
};

typedef struct {
	char k[64], v[128];
	bool num;
	double x;
} pair;

static int cmp_pair(const void *a, const void *b)
{
	return strcmp(((const pair *)a)->k, ((const pair *)b)->k);
}

static int parse_params(const char *s, pair *p, size_t *np)
{
	size_t n = 0;
	if (!s)
		s = "";
	if (strlen(s) >= AH_COND_MAX_PARAMS)
		return AH_ETOOBIG;
	while (*s) {
		while (*s == ' ' || *s == ',')
			s++;
		if (!*s)
			break;
		if (n == MAX_PAIRS)
			return AH_ETOOBIG;
		const char *eq = strchr(s, '=');
		const char *end = strchr(s, ',');
		if (!end)
			end = s + strlen(s);
		if (!eq || eq > end || eq == s)
			return AH_EINVAL;
		size_t kl = (size_t)(eq - s), vl = (size_t)(end - eq - 1);
		if (kl >= sizeof(p->k) || vl >= sizeof(p->v) || vl == 0)
			return AH_EINVAL;
		memcpy(p[n].k, s, kl);
		p[n].k[kl] = 0;
		memcpy(p[n].v, eq + 1, vl);
		p[n].v[vl] = 0;
		for (char *c = p[n].k; *c; c++)
			if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-' && *c != '.')
				return AH_EINVAL;
		for (char *c = p[n].v; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == '=' || *c == ';' || *c == '|')
				return AH_EINVAL;
		char *e;
		double x = strtod(p[n].v, &e);
		p[n].num = e != p[n].v && !*e && isfinite(x) && x > 0;
		p[n].x = x;
		n++;
		s = end;
	}
	qsort(p, n, sizeof(*p), cmp_pair);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(p[i].k, p[i - 1].k))
			return AH_EINVAL; /* duplicate key */
	*np = n;
	return 0;
}

static void make_key(const pair *p, size_t n, char *key, size_t len, size_t *nfeat)
{
	size_t w = 0, nf = 0;
	key[0] = 0;
	for (size_t i = 0; i < n; i++)
		if (!p[i].num)
			w += (size_t)snprintf(key + w, w < len ? len - w : 0, "%s=%s;", p[i].k, p[i].v);
	w += (size_t)snprintf(key + (w < len ? w : len - 1), w < len ? len - w : 0, "|");
	for (size_t i = 0; i < n; i++)
		if (p[i].num && nf < AH_COND_MAX_NUMERIC) {
			w += (size_t)snprintf(key + (w < len ? w : len - 1), w < len ? len - w : 0, "%s,", p[i].k);
			nf++;
		}
	*nfeat = nf;
}

static void feats(const pair *p, size_t n, double *x)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k < AH_COND_MAX_NUMERIC; i++)
		if (p[i].num)
			x[k++] = log(p[i].x);
}

int ah_cond_new(const ah_cond_opts *opts, ah_cond_model **out)
{
	if (!out)
		return AH_EINVAL;
	ah_cond_model *m = calloc(1, sizeof(*m));
	if (!m)
		return AH_ENOMEM;
	if (opts)
		m->o = *opts;
	if (!m->o.min_obs)
		m->o.min_obs = 8;
	if (!m->o.max_per_group)
		m->o.max_per_group = 2048;
	if (!m->o.max_groups)
		m->o.max_groups = 10000;
	m->all_cap = 4 * m->o.max_per_group;
	m->all = malloc(m->all_cap * sizeof(double));
	m->scratch = malloc((m->all_cap > m->o.max_per_group ? m->all_cap : m->o.max_per_group) * sizeof(double));
	if (!m->all || !m->scratch) {
		ah_cond_free(m);
		return AH_ENOMEM;
	}
	*out = m;
	return 0;
}

static group *find_group(ah_cond_model *m, const char *key)
{
	for (size_t i = 0; i < m->ng; i++)
		if (!strcmp(m->g[i].key, key))
			return &m->g[i];
	return NULL;
}

int ah_cond_observe(ah_cond_model *m, const char *params, double usage)
{
	if (!m || !isfinite(usage) || !(usage > 0))
		return AH_EINVAL;
	pair p[MAX_PAIRS];
	size_t np;
	int rc = parse_params(params, p, &np);
	if (rc)
		return rc;
	char key[AH_COND_MAX_PARAMS + 256];
	size_t nf;
	make_key(p, np, key, sizeof(key), &nf);
	group *g = find_group(m, key);
	if (!g) {
		if (m->ng == m->o.max_groups)
			return AH_ETOOBIG;
		if (m->ng == m->gcap) {
			size_t nc = m->gcap ? 2 * m->gcap : 16;
			group *ng = realloc(m->g, nc * sizeof(*ng));
			if (!ng)
				return AH_ENOMEM;
			m->g = ng;
			m->gcap = nc;
		}
		g = &m->g[m->ng];
		memset(g, 0, sizeof(*g));
		g->key = strdup(key);
		g->nfeat = nf;
		g->ly = malloc(m->o.max_per_group * sizeof(double));
		g->x = nf ? malloc(m->o.max_per_group * nf * sizeof(double)) : NULL;
		if (!g->key || !g->ly || (nf && !g->x)) {
			free(g->key);
			free(g->ly);
			free(g->x);
			return AH_ENOMEM;
		}
		m->ng++;
	}
	double ly = log(usage);
	if (nf)
		feats(p, np, g->x + g->pos * nf);
	g->ly[g->pos] = ly;
	g->pos = (g->pos + 1) % m->o.max_per_group;
	if (g->n < m->o.max_per_group)
		g->n++;
	m->all[m->all_pos] = ly;
	m->all_pos = (m->all_pos + 1) % m->all_cap;
	if (m->all_n < m->all_cap)
		m->all_n++;
	return 0;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Empirical quantile (linear interpolation) of sorted a[n]. */
static double quant(const double *a, size_t n, double q)
{
	double pos = q * (double)(n - 1);
	size_t i = (size_t)floor(pos);
	if (i + 1 >= n)
		return a[n - 1];
	double f = pos - (double)i;
	return a[i] * (1 - f) + a[i + 1] * f;
}

/* Solves A b = r (p x p, row-major) in place; 0 or -1 if singular. */
static int solve(double *A, double *r, size_t p)
{
	for (size_t c = 0; c < p; c++) {
		size_t piv = c;
		for (size_t i = c + 1; i < p; i++)
			if (fabs(A[i * p + c]) > fabs(A[piv * p + c]))
				piv = i;
		if (fabs(A[piv * p + c]) < 1e-300)
			return -1;
		if (piv != c) {
			for (size_t j = 0; j < p; j++) {
				double t = A[c * p + j];
				A[c * p + j] = A[piv * p + j];
				A[piv * p + j] = t;
			}
			double t = r[c];
			r[c] = r[piv];
			r[piv] = t;
		}
		for (size_t i = c + 1; i < p; i++) {
			double f = A[i * p + c] / A[c * p + c];
			for (size_t j = c; j < p; j++)
				A[i * p + j] -= f * A[c * p + j];
			r[i] -= f * r[c];
		}
	}
	for (size_t c = p; c-- > 0;) {
		for (size_t j = c + 1; j < p; j++)
			r[c] -= A[c * p + j] * r[j];
		r[c] /= A[c * p + c];
	}
	return 0;
}

/* Huber regression by iteratively reweighted least squares. */
static void huber_fit(const group *g, double *b, double *res)
{
	size_t p = g->nfeat + 1, n = g->n;
	double w_all = 1;
	for (size_t i = 0; i < p; i++)
		b[i] = 0;
	double A[(AH_COND_MAX_NUMERIC + 1) * (AH_COND_MAX_NUMERIC + 1)], r[AH_COND_MAX_NUMERIC + 1];
	double s = 0;
	for (int it = 0; it < 30; it++) {
		memset(A, 0, sizeof(A));
		memset(r, 0, sizeof(r));
		for (size_t i = 0; i < n; i++) {
			double xi[AH_COND_MAX_NUMERIC + 1];
			xi[0] = 1;
			for (size_t k = 1; k < p; k++)
				xi[k] = g->x[i * g->nfeat + k - 1];
			double w = 1;
			if (it > 0 && s > 0) {
				double u = fabs(res[i]) / s;
				w = u <= 1.345 ? 1 : 1.345 / u;
			}
			for (size_t a = 0; a < p; a++) {
				r[a] += w * xi[a] * g->ly[i];
				for (size_t c = 0; c < p; c++)
					A[a * p + c] += w * xi[a] * xi[c];
			}
		}
		for (size_t a = 0; a < p; a++)
			A[a * p + a] += 1e-9 * w_all; /* ridge: constant features stay solvable */
		double nb[AH_COND_MAX_NUMERIC + 1];
		memcpy(nb, r, sizeof(r));
		if (solve(A, nb, p))
			break;
		double change = 0;
		for (size_t a = 0; a < p; a++) {
			change += fabs(nb[a] - b[a]);
			b[a] = nb[a];
		}
		for (size_t i = 0; i < n; i++) {
			double pr = b[0];
			for (size_t k = 1; k < p; k++)
				pr += b[k] * g->x[i * g->nfeat + k - 1];
			res[i] = g->ly[i] - pr;
		}
		/* robust scale: 1.4826 * median |residual| */
		double *tmp = malloc(n * sizeof(double));
		if (!tmp)
			break;
		for (size_t i = 0; i < n; i++)
			tmp[i] = fabs(res[i]);
		qsort(tmp, n, sizeof(double), cmpd);
		s = 1.4826 * quant(tmp, n, 0.5);
		free(tmp);
		if (it > 0 && change < 1e-10)
			break;
	}
}

int ah_cond_predict(ah_cond_model *m, const char *params, const double *q, size_t nq, double *point,
		    double *qout, ah_cond_info *info)
{
	if (!m || !point || (nq && (!q || !qout)))
		return AH_EINVAL;
	for (size_t j = 0; j < nq; j++)
		if (!(q[j] > 0 && q[j] < 1))
			return AH_EINVAL;
	pair p[MAX_PAIRS];
	size_t np;
	int rc = parse_params(params, p, &np);
	if (rc)
		return rc;
	char key[AH_COND_MAX_PARAMS + 256];
	size_t nf;
	make_key(p, np, key, sizeof(key), &nf);
	group *g = find_group(m, key);
	ah_cond_info inf = {0};
	double *s = m->scratch;
	if (g && g->nfeat && g->n >= m->o.min_obs) {
		double b[AH_COND_MAX_NUMERIC + 1];
		huber_fit(g, b, s);
		qsort(s, g->n, sizeof(double), cmpd);
		double x[AH_COND_MAX_NUMERIC];
		feats(p, np, x);
		double pr = b[0];
		for (size_t k = 0; k < g->nfeat; k++)
			pr += b[k + 1] * x[k];
		*point = exp(pr + quant(s, g->n, 0.5));
		for (size_t j = 0; j < nq; j++)
			qout[j] = exp(pr + quant(s, g->n, q[j]));
		inf.source = AH_COND_REGRESSION;
		inf.n = g->n;
		inf.nfeat = g->nfeat;
		memcpy(inf.coef, b, (g->nfeat + 1) * sizeof(double));
	} else {
		const double *src;
		size_t n;
		if (g && g->n) {
			src = g->ly;
			n = g->n;
			inf.source = AH_COND_GROUP;
		} else if (m->all_n) {
			src = m->all;
			n = m->all_n;
			inf.source = AH_COND_WORKLOAD;
		} else {
			return AH_ENOENT;
		}
		memcpy(s, src, n * sizeof(double));
		qsort(s, n, sizeof(double), cmpd);
		*point = exp(quant(s, n, 0.5));
		for (size_t j = 0; j < nq; j++)
			qout[j] = exp(quant(s, n, q[j]));
		inf.n = n;
	}
	if (info)
		*info = inf;
	return 0;
}

void ah_cond_free(ah_cond_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->ng; i++) {
		free(m->g[i].key);
		free(m->g[i].x);
		free(m->g[i].ly);
	}
	free(m->g);
	free(m->all);
	free(m->scratch);
	free(m);
}

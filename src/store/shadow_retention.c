/* ahead: shadow store retention — rolling old points into coarser tiers.
 *
 * A lane (one bucket width of a series) belongs to the coarsest tier no wider
 * than it: a 1-second series' raw lane is tier 0, a 1-minute series' raw lane
 * is already tier 1. Its points older than the tier's keep are merged into the
 * next tier's lane (bucket start floor(t_ns / W) * W, count-weighted mean, max,
 * summed count) and deleted; the last tier's expired points are deleted.
 * Tiers are processed narrowest first, so one call cascades: a point forty
 * days old goes raw -> 1 minute -> 1 hour in a single compaction. The cut is
 * aligned down to the next tier's width, so a target bucket is never split
 * between what was rolled and what stays. */
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "store/shadow_int.h"

#define MAX_LANES 64

static int tier_of(const ah_shadow_tier *tiers, int n, int64_t width)
{
	int t = 0;
	for (int i = 1; i < n; i++)
		if (tiers[i].width_ns <= width)
			t = i;
	return t;
}

static int64_t ceil_div(int64_t x, int64_t w)
{
	return x / w + (x % w != 0);
}

typedef struct {
	int64_t id, width;
} lane_ref;

static int lanes_of(ah_shadow *s, sqlite3_stmt *st, int64_t series, lane_ref *l, int *out_n)
{
	int n = 0, rc;
	sqlite3_bind_int64(st, 1, series);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < MAX_LANES) {
		l[n].id = sqlite3_column_int64(st, 0);
		l[n].width = sqlite3_column_int64(st, 1);
		n++;
	}
	(void)s;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sh_err(rc);
	*out_n = n;
	return 0;
}

static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : sh_err(rc);
}

int ah_shadow_compact(ah_shadow *s, int64_t now_ns, ah_shadow_compact_stats *out)
{
	ah_shadow_tier tiers[AH_SHADOW_MAX_TIERS];
	int n;
	ah_shadow_default_tiers(tiers, &n);
	return ah_shadow_compact_tiers(s, now_ns, tiers, n, out);
}

int ah_shadow_compact_tiers(ah_shadow *s, int64_t now_ns, const ah_shadow_tier *tiers, int n,
			    ah_shadow_compact_stats *out)
{
	int rc;
	sh_tx tx;
	ah_shadow_compact_stats st = {0, 0};
	sqlite3_stmt *q_series = NULL, *q_lanes = NULL, *q_any = NULL, *q_roll = NULL,
		     *q_del = NULL, *q_req[3] = {NULL, NULL, NULL};
	int64_t *ids = NULL;
	size_t nids = 0;
	if (!s)
		return AH_EINVAL;
	if (now_ns < 0 || now_ns > AH_SHADOW_T_MAX)
		return AH_ERANGE;
	if ((rc = ah_shadow_check_tiers(tiers, n)))
		return rc;
	if ((rc = sh_tx_begin(s, &tx)))
		return rc;
#define PREP(sql, stp)                                                                         \
	if ((rc = sh_err(sqlite3_prepare_v2(s->db, sql, -1, stp, NULL))))                      \
		goto out;
	PREP("SELECT id FROM series ORDER BY id", &q_series);
	PREP("SELECT id, width_ns FROM lane WHERE series = ?1 ORDER BY width_ns", &q_lanes);
	PREP("SELECT 1 FROM point WHERE lane = ?1 AND t < ?2 LIMIT 1", &q_any);
	PREP("INSERT INTO point(lane, t, v, mx, n)"
	     " SELECT ?1, (t * ?2) / ?3,"
	     "  sum(v * coalesce(n, 1)) / sum(coalesce(n, 1)),"
	     "  max(coalesce(mx, v)),"
	     "  nullif(sum(coalesce(n, 1)), 1)"
	     " FROM point WHERE lane = ?4 AND t < ?5 GROUP BY 2"
	     " ON CONFLICT(lane, t) DO UPDATE SET"
	     " v = (v * coalesce(n, 1) + excluded.v * coalesce(excluded.n, 1))"
	     "     / (coalesce(n, 1) + coalesce(excluded.n, 1)),"
	     " mx = max(coalesce(mx, v), coalesce(excluded.mx, excluded.v)),"
	     " n = coalesce(n, 1) + coalesce(excluded.n, 1)",
	     &q_roll);
	PREP("DELETE FROM point WHERE lane = ?1 AND t < ?2", &q_del);
	PREP("DELETE FROM request_param WHERE req IN (SELECT id FROM request WHERE end_ns < ?1)",
	     &q_req[0]);
	PREP("DELETE FROM request_dim WHERE req IN (SELECT id FROM request WHERE end_ns < ?1)",
	     &q_req[1]);
	PREP("DELETE FROM request WHERE end_ns < ?1", &q_req[2]);
#undef PREP
	if ((rc = sh_step_ids(q_series, &ids, &nids)))
		goto out;
	for (size_t k = 0; k < nids; k++) {
		for (int i = 0; i < n; i++) {
			if (tiers[i].keep_ns >= now_ns)
				continue; /* nothing can be that old */
			int64_t cutoff = now_ns - tiers[i].keep_ns;
			lane_ref lanes[MAX_LANES];
			int nl = 0;
			if ((rc = lanes_of(s, q_lanes, ids[k], lanes, &nl)))
				goto out;
			for (int j = 0; j < nl; j++) {
				if (tier_of(tiers, n, lanes[j].width) != i)
					continue;
				int64_t w = lanes[j].width;
				int64_t cut;
				if (i + 1 < n)
					cut = cutoff / tiers[i + 1].width_ns * tiers[i + 1].width_ns;
				else
					cut = cutoff;
				int64_t cut_units = ceil_div(cut, w);
				sqlite3_bind_int64(q_any, 1, lanes[j].id);
				sqlite3_bind_int64(q_any, 2, cut_units);
				int any = sqlite3_step(q_any);
				sqlite3_reset(q_any);
				if (any == SQLITE_DONE)
					continue;
				if (any != SQLITE_ROW) {
					rc = sh_err(any);
					goto out;
				}
				if (i + 1 < n) {
					int64_t W = tiers[i + 1].width_ns, dst;
					if ((rc = sh_lane_get(s, ids[k], W, 1, &dst)))
						goto out;
					sqlite3_bind_int64(q_roll, 1, dst);
					sqlite3_bind_int64(q_roll, 2, w);
					sqlite3_bind_int64(q_roll, 3, W);
					sqlite3_bind_int64(q_roll, 4, lanes[j].id);
					sqlite3_bind_int64(q_roll, 5, cut_units);
					if ((rc = step_done(q_roll)))
						goto out;
				}
				sqlite3_bind_int64(q_del, 1, lanes[j].id);
				sqlite3_bind_int64(q_del, 2, cut_units);
				if ((rc = step_done(q_del)))
					goto out;
				if (i + 1 < n)
					st.points_rolled += sqlite3_changes(s->db);
				else
					st.points_deleted += sqlite3_changes(s->db);
			}
		}
	}
	/* Request records expire with the last tier. */
	if (tiers[n - 1].keep_ns < now_ns) {
		for (int i = 0; i < 3; i++) {
			sqlite3_bind_int64(q_req[i], 1, now_ns - tiers[n - 1].keep_ns);
			if ((rc = step_done(q_req[i])))
				goto out;
		}
	}
out:
	sqlite3_finalize(q_series);
	sqlite3_finalize(q_lanes);
	sqlite3_finalize(q_any);
	sqlite3_finalize(q_roll);
	sqlite3_finalize(q_del);
	for (int i = 0; i < 3; i++)
		sqlite3_finalize(q_req[i]);
	free(ids);
	rc = sh_tx_end(s, &tx, rc);
	if (rc == 0 && out)
		*out = st;
	return rc;
}

int ah_shadow_tier_counts(ah_shadow *s, const ah_shadow_tier *tiers, int n, int64_t *counts)
{
	sqlite3_stmt *st = NULL;
	int rc;
	int64_t c[AH_SHADOW_MAX_TIERS] = {0};
	if (!s || !counts)
		return AH_EINVAL;
	if ((rc = ah_shadow_check_tiers(tiers, n)))
		return rc;
	rc = sh_err(sqlite3_prepare_v2(s->db,
				       "SELECT l.width_ns, count(*) FROM lane l JOIN point p"
				       " ON p.lane = l.id GROUP BY l.id",
				       -1, &st, NULL));
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		c[tier_of(tiers, n, sqlite3_column_int64(st, 0))] += sqlite3_column_int64(st, 1);
	rc = rc == SQLITE_DONE ? 0 : sh_err(rc);
	sqlite3_finalize(st);
	if (rc == 0)
		memcpy(counts, c, sizeof(int64_t) * (size_t)n);
	return rc;
}

/* ahead: the pressure file grammar (see include/ahead/psi.h). */
#include <string.h>

#include "ahead/error.h"
#include "ahead/psi.h"
#include "linux/sysfile_int.h"

const char *ah_psi_res_name(ah_psi_res r)
{
	static const char *const n[AH_PSI_N] = {"cpu", "memory", "io"};
	return r >= 0 && r < AH_PSI_N ? n[r] : "?";
}

/* "12.34": digits, optionally a dot and digits; at most 100. */
static int parse_pct(const char *s, size_t n, double *out)
{
	double v = 0, scale = 0;
	size_t digits = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '.' && !scale) {
			scale = 1;
			continue;
		}
		if (c < '0' || c > '9' || digits >= 12)
			return AH_EINVAL;
		digits++;
		if (scale) {
			scale /= 10;
			v += (c - '0') * scale;
		} else {
			v = v * 10 + (c - '0');
		}
	}
	if (!digits)
		return AH_EINVAL;
	if (v > 100.0)
		return AH_ERANGE;
	*out = v;
	return 0;
}

int ah_psi_parse(const char *text, size_t len, const char *name, ah_psi *out, char *err, size_t errlen)
{
	if (!text || !out)
		return AH_EINVAL;
	ah_psi r;
	memset(&r, 0, sizeof r);
	ah_lines l;
	ah_lines_init(&l, text, len);
	const char *s;
	size_t n;
	while (ah_lines_next(&l, &s, &n)) {
		ah_tok t[AH_TOKS_MAX];
		int k = ah_tokens(s, n, t, AH_TOKS_MAX);
		if (k == 0)
			continue;
		if (k > AH_TOKS_MAX)
			return ah_sys_err(err, errlen, AH_EPARSE, name, l.lineno, "too many fields");
		ah_psi_line *pl;
		if (ah_tok_eq(&t[0], "some"))
			pl = &r.some;
		else if (ah_tok_eq(&t[0], "full"))
			pl = &r.full;
		else
			return ah_sys_err(err, errlen, AH_EPARSE, name, l.lineno, "expected 'some' or 'full', got '%.*s'",
					  (int)(t[0].n > 32 ? 32 : t[0].n), t[0].s);
		if (pl->st != AH_FIELD_NONE)
			return ah_sys_err(err, errlen, AH_EPARSE, name, l.lineno, "'%.*s' given twice", (int)t[0].n,
					  t[0].s);
		unsigned seen = 0;
		for (int i = 1; i < k; i++) {
			const char *eq = memchr(t[i].s, '=', t[i].n);
			if (!eq)
				return ah_sys_err(err, errlen, AH_EPARSE, name, l.lineno, "expected key=value, got '%.*s'",
						  (int)(t[i].n > 32 ? 32 : t[i].n), t[i].s);
			size_t kl = (size_t)(eq - t[i].s), vl = t[i].n - kl - 1;
			const char *v = eq + 1;
			int bit, rc;
			if (kl == 5 && !memcmp(t[i].s, "avg10", 5)) {
				bit = 1;
				rc = parse_pct(v, vl, &pl->avg10);
			} else if (kl == 5 && !memcmp(t[i].s, "avg60", 5)) {
				bit = 2;
				rc = parse_pct(v, vl, &pl->avg60);
			} else if (kl == 6 && !memcmp(t[i].s, "avg300", 6)) {
				bit = 4;
				rc = parse_pct(v, vl, &pl->avg300);
			} else if (kl == 5 && !memcmp(t[i].s, "total", 5)) {
				bit = 8;
				rc = ah_sysfile_parse_u64(v, vl, &pl->total_us);
			} else {
				return ah_sys_err(err, errlen, AH_EPARSE, name, l.lineno, "unknown key '%.*s'",
						  (int)(kl > 32 ? 32 : kl), t[i].s);
			}
			if (rc)
				return ah_sys_err(err, errlen, AH_EPARSE, name, l.lineno, "%.*s: %s '%.*s'", (int)kl,
						  t[i].s, rc == AH_ERANGE ? "out of range" : "not a number",
						  (int)(vl > 32 ? 32 : vl), v);
			if (seen & bit)
				return ah_sys_err(err, errlen, AH_EPARSE, name, l.lineno, "%.*s given twice", (int)kl,
						  t[i].s);
			seen |= (unsigned)bit;
		}
		if (seen != 15)
			return ah_sys_err(err, errlen, AH_EPARSE, name, l.lineno,
					  "expected avg10, avg60, avg300 and total");
		pl->st = AH_FIELD_OK;
	}
	*out = r;
	return 0;
}

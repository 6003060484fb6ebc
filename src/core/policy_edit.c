/* Section edits of a policy's text (include/ahead/policy_edit.h). Lines
 * are matched the way the policy reader sees them: a header is a line
 * whose first non-blank character is '[', with words separated by blanks
 * and an optional comment after the ']'. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/policy_edit.h"

/* Is the line at p (up to its '\n') a section header? If so, is it
 * "[kind name]"? */
static bool is_header(const char *p, const char *end, const char *kind, const char *name, bool *same)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end || *p != '[')
		return false;
	const char *close = memchr(p, ']', (size_t)(end - p));
	*same = false;
	if (!close)
		return true;
	p++;
	/* normalise blanks: "pool   edge" reads as "pool edge" */
	char buf[256];
	size_t w = 0;
	bool blank = false;
	for (; p < close && w + 2 < sizeof buf; p++) {
		if (*p == ' ' || *p == '\t') {
			blank = w > 0;
			continue;
		}
		if (blank)
			buf[w++] = ' ';
		blank = false;
		buf[w++] = *p;
	}
	buf[w] = '\0';
	char want[256];
	snprintf(want, sizeof want, "%s %s", kind, name);
	*same = !strcmp(buf, want);
	return true;
}

static bool bad_word(const char *s)
{
	return !s || !*s || strpbrk(s, "[]\n\r;#") || strlen(s) > 128;
}

int ah_policy_text_set_section(const char *text, const char *kind, const char *name, const char *body,
			       char **out, bool *out_found)
{
	if (!text || !out || bad_word(kind) || bad_word(name))
		return AH_EINVAL;
	size_t len = strlen(text), blen = body ? strlen(body) : 0;
	size_t cap = len + blen + strlen(kind) + strlen(name) + 16;
	char *res = malloc(cap);
	if (!res)
		return AH_ENOMEM;
	size_t w = 0;
	bool found = false, skipping = false;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl + 1 : end;
		bool same;
		if (is_header(p, le, kind, name, &same)) {
			skipping = same && !found;
			if (skipping) {
				found = true;
				if (body) {
					w += (size_t)sprintf(res + w, "[%s %s]\n", kind, name);
					memcpy(res + w, body, blen);
					w += blen;
					if (blen && body[blen - 1] != '\n')
						res[w++] = '\n';
					res[w++] = '\n';
				}
			}
		}
		if (!skipping) {
			memcpy(res + w, p, (size_t)(le - p));
			w += (size_t)(le - p);
		}
		p = le;
	}
	if (!found && body) {
		if (w && res[w - 1] != '\n')
			res[w++] = '\n';
		w += (size_t)sprintf(res + w, "\n[%s %s]\n", kind, name);
		memcpy(res + w, body, blen);
		w += blen;
		if (blen && body[blen - 1] != '\n')
			res[w++] = '\n';
	}
	res[w] = '\0';
	*out = res;
	if (out_found)
		*out_found = found;
	return 0;
}

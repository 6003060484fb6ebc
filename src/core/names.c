/* The grammar of names (include/ahead/names.h): byte classes in the C
 * locale whatever the process's locale, so a name means the same to the
 * policy file, the CLI and the store. */
#include <stdbool.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/names.h"

/* Byte classes a name kind allows; the punctuation it allows is a string. */
enum { LOWER = 1, UPPER = 2, DIGIT = 4 };

/* One kind of name: its cap (a name is shorter than cap bytes), whether it
 * may be empty, the classes of its first byte (0: as the rest) and of the
 * rest, and the rest's punctuation. */
typedef struct {
	size_t cap;
	bool empty_ok;
	unsigned first;
	unsigned rest;
	const char *punct;
} name_kind;

static bool in_class(unsigned char c, unsigned cls, const char *punct)
{
	if ((cls & LOWER) && c >= 'a' && c <= 'z')
		return true;
	if ((cls & UPPER) && c >= 'A' && c <= 'Z')
		return true;
	if ((cls & DIGIT) && c >= '0' && c <= '9')
		return true;
	return punct && c && strchr(punct, c);
}

/* AH_EINVAL for NULL, empty (unless allowed) or a byte outside the kind's
 * classes; AH_ETOOBIG when the name does not fit in a cap-byte buffer. */
static int check(const char *s, const name_kind *k)
{
	if (!s || (!*s && !k->empty_ok))
		return AH_EINVAL;
	size_t n = strnlen(s, k->cap);
	if (n >= k->cap)
		return AH_ETOOBIG;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool ok = i == 0 && k->first ? in_class(c, k->first, NULL) : in_class(c, k->rest, k->punct);
		if (!ok)
			return AH_EINVAL;
	}
	return 0;
}

int ah_name_check_object(const char *s)
{
	static const name_kind k = {AH_NAME_MAX, false, LOWER | DIGIT, LOWER | DIGIT, "_.-"};
	return check(s, &k);
}

int ah_name_check_dim(const char *s)
{
	static const name_kind k = {AH_NAME_MAX, false, LOWER, LOWER | DIGIT, "_"};
	return check(s, &k);
}

int ah_name_check_workload(const char *s)
{
	static const name_kind k = {AH_WORKLOAD_MAX, false, 0, LOWER | UPPER | DIGIT, "_.:/@+-"};
	return check(s, &k);
}

int ah_name_check_param_key(const char *s)
{
	static const name_kind k = {AH_PARAM_KEY_MAX, false, 0, LOWER | UPPER | DIGIT, "_.-"};
	return check(s, &k);
}

int ah_name_check_label_key(const char *s)
{
	static const name_kind k = {AH_PLACE_LABEL_KEY_MAX, false, LOWER | DIGIT, LOWER | DIGIT, "_./-"};
	return check(s, &k);
}

int ah_name_check_label_value(const char *s)
{
	/* a label value may be empty, as in Kubernetes */
	static const name_kind k = {AH_PLACE_LABEL_VALUE_MAX, true, 0, LOWER | UPPER | DIGIT, "_.-"};
	return check(s, &k);
}

/* Length of the UTF-8 sequence at S (N bytes left) and its code point,
 * or 0 when it is not a valid shortest-form sequence. */
static size_t utf8_seq(const unsigned char *s, size_t n, unsigned long *cp)
{
	static const unsigned long min[] = {0, 0, 0x80, 0x800, 0x10000};
	size_t len = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3
					: (s[0] & 0xf8) == 0xf0 ? 4 : 0;
	if (!len || len > n)
		return 0;
	unsigned long c = len == 1 ? s[0] : s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

int ah_name_check_text(const char *s, size_t n, const char **why)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned long c;
		size_t len = utf8_seq(p + i, n - i, &c);
		if (!len || c == 0) {
			if (why)
				*why = c == 0 && len ? "has a NUL byte" : "not valid UTF-8";
			return AH_EINVAL;
		}
		if (c < 0x20 || (c >= 0x7f && c < 0xa0)) {
			if (why)
				*why = "has a control character";
			return AH_EINVAL;
		}
		i += len;
	}
	return 0;
}

int ah_name_check_param_value(const char *s)
{
	if (!s)
		return AH_EINVAL;
	size_t n = strnlen(s, AH_PARAM_VALUE_MAX);
	if (n >= AH_PARAM_VALUE_MAX)
		return AH_ETOOBIG;
	return ah_name_check_text(s, n, NULL);
}

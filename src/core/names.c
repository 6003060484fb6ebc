/* The grammar of names (include/ahead/names.h): byte classes in the C
 * locale whatever the process's locale, so a name means the same to the
 * policy file, the CLI and the store. */
#include <stdbool.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/names.h"

static bool lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
static bool upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static bool digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* Length check shared by every kind: 0 (empty), or the length, or -1 when
 * the name does not fit in a cap-byte buffer. */
static int length(const char *s, size_t cap, size_t *out)
{
	if (!s || !*s)
		return AH_EINVAL;
	size_t n = strnlen(s, cap);
	if (n >= cap)
		return AH_ETOOBIG;
	*out = n;
	return 0;
}

int ah_name_check_object(const char *s)
{
	size_t n;
	int rc = length(s, AH_NAME_MAX, &n);
	if (rc)
		return rc;
	if (!lower((unsigned char)s[0]) && !digit((unsigned char)s[0]))
		return AH_EINVAL;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!lower(c) && !digit(c) && c != '_' && c != '.' && c != '-')
			return AH_EINVAL;
	}
	return 0;
}

int ah_name_check_dim(const char *s)
{
	size_t n;
	int rc = length(s, AH_NAME_MAX, &n);
	if (rc)
		return rc;
	if (!lower((unsigned char)s[0]))
		return AH_EINVAL;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!lower(c) && !digit(c) && c != '_')
			return AH_EINVAL;
	}
	return 0;
}

int ah_name_check_workload(const char *s)
{
	size_t n;
	int rc = length(s, AH_WORKLOAD_MAX, &n);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!lower(c) && !upper(c) && !digit(c) && !strchr("_.:/@+-", c))
			return AH_EINVAL;
	}
	return 0;
}

int ah_name_check_param_key(const char *s)
{
	size_t n;
	int rc = length(s, AH_PARAM_KEY_MAX, &n);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!lower(c) && !upper(c) && !digit(c) && c != '_' && c != '.' && c != '-')
			return AH_EINVAL;
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
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return AH_EINVAL;
	return 0;
}

#include "ahead/error.h"

static const struct {
	const char *name;
	const char *msg;
} errors[] = {
	{"OK", "success"},
	{"EINVAL", "invalid argument"},
	{"ENOMEM", "out of memory"},
	{"ERANGE", "value out of range"},
	{"ENOENT", "not found"},
	{"EEXIST", "already exists"},
	{"EIO", "input/output error"},
	{"ESTORE", "storage error"},
	{"EPOLICY", "policy violation"},
	{"EQUOTA", "quota exceeded"},
	{"ERATE", "rate limit exceeded"},
	{"ECAPACITY", "insufficient capacity"},
	{"ETIMEDOUT", "timed out"},
	{"EBUSY", "resource busy"},
	{"EPARSE", "parse error"},
	{"ESTATE", "invalid state"},
	{"ETOOBIG", "input too large"},
	{"EUNSUPPORTED", "not supported"},
};

const char *ah_strerror(int err)
{
	if (err > 0 || err <= AH_E_LAST)
		return "unknown error";
	return errors[-err].msg;
}

const char *ah_strerror_name(int err)
{
	if (err > 0 || err <= AH_E_LAST)
		return "EUNKNOWN";
	return errors[-err].name;
}

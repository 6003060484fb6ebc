/* The units of outside numbers (include/ahead/input_unit.h). */
#include <string.h>

#include "ahead/error.h"
#include "ahead/input_unit.h"

typedef struct {
	const char *name;
	bool cpu;      /* fits cpu, else bytes */
	double factor; /* to the base unit; percent: per core, times --of */
} unit_def;

static const unit_def units[] = {
	{"cores", true, 1000.0},      {"millicores", true, 1.0}, {"percent", true, 10.0},
	{"bytes", false, 1.0},        {"KiB", false, 1024.0},    {"MiB", false, 1048576.0},
	{"GiB", false, 1073741824.0}, {"TiB", false, 1099511627776.0},
	{"KB", false, 1e3},           {"MB", false, 1e6},        {"GB", false, 1e9},
	{"TB", false, 1e12},
};

void ah_input_units_init(ah_input_units *u)
{
	memset(u, 0, sizeof(*u));
	u->cpu_factor = 1.0;
	u->bytes_factor = 1.0;
	u->cpu_name = "millicores";
	u->bytes_name = "bytes";
}

int ah_input_units_add(ah_input_units *u, const char *name)
{
	if (!u || !name)
		return AH_EINVAL;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		const unit_def *d = &units[i];
		if (strcmp(d->name, name))
			continue;
		if (d->cpu ? u->cpu_set : u->bytes_set)
			return AH_EEXIST;
		if (d->cpu) {
			u->cpu_set = true;
			u->cpu_factor = d->factor;
			u->cpu_name = d->name;
			u->percent = !strcmp(name, "percent");
		} else {
			u->bytes_set = true;
			u->bytes_factor = d->factor;
			u->bytes_name = d->name;
		}
		return 0;
	}
	return AH_EINVAL;
}

int ah_input_units_set_of(ah_input_units *u, double cores)
{
	if (!u || !(cores > 0) || cores > 1e6)
		return AH_ERANGE;
	u->of_cores = cores;
	return 0;
}

int ah_input_units_check(const ah_input_units *u, const char **why)
{
	const char *w = NULL;
	if (u->percent && !(u->of_cores > 0))
		w = "--unit percent needs --of N (the cores 100 percent stands for)";
	else if (!u->percent && u->of_cores > 0)
		w = "--of applies to --unit percent only";
	if (w && why)
		*why = w;
	return w ? AH_EINVAL : 0;
}

static bool bytes_kind(ah_unit_kind kind)
{
	return kind == AH_UNIT_BYTES || kind == AH_UNIT_BYTES_PER_S;
}

double ah_input_units_factor(const ah_input_units *u, ah_unit_kind kind)
{
	if (kind == AH_UNIT_CPU)
		return u->percent ? u->cpu_factor * u->of_cores : u->cpu_factor;
	return bytes_kind(kind) ? u->bytes_factor : 1.0;
}

const char *ah_input_units_name(const ah_input_units *u, ah_unit_kind kind)
{
	if (kind == AH_UNIT_CPU)
		return u->cpu_name;
	return bytes_kind(kind) ? u->bytes_name : ah_input_units_base_name(kind);
}

bool ah_input_units_fits(ah_unit_kind kind)
{
	return kind == AH_UNIT_CPU || bytes_kind(kind);
}

bool ah_input_units_given(const ah_input_units *u, ah_unit_kind kind)
{
	return kind == AH_UNIT_CPU ? u->cpu_set : bytes_kind(kind) ? u->bytes_set : false;
}

const char *ah_input_units_base_name(ah_unit_kind kind)
{
	switch (kind) {
	case AH_UNIT_CPU:
		return "millicore";
	case AH_UNIT_BYTES:
		return "byte";
	case AH_UNIT_BYTES_PER_S:
		return "byte/s";
	case AH_UNIT_BITS_PER_S:
		return "bit/s";
	default:
		return "unit";
	}
}

ah_unit_kind ah_input_units_kind_of_dim(const char *dim)
{
	if (!strcmp(dim, "cpu"))
		return AH_UNIT_CPU;
	if (!strcmp(dim, "memory"))
		return AH_UNIT_BYTES;
	if (!strcmp(dim, "io"))
		return AH_UNIT_BYTES_PER_S;
	return !strcmp(dim, "net") ? AH_UNIT_BITS_PER_S : AH_UNIT_COUNT;
}

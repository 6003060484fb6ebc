/* The one shadow-store test fixture: a store in a fresh temporary
 * directory, removed with it. A test needing more state embeds
 * shadow_fixture first in its own struct and calls these from its own
 * setup and teardown. */
#ifndef AHEAD_TEST_SHADOW_FIXTURE_H
#define AHEAD_TEST_SHADOW_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "ahead/shadow.h"

typedef struct {
	char dir[64];
	char path[128];
	ah_shadow *s;
} shadow_fixture;

static inline int shadow_fixture_open(shadow_fixture *f)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/ahead-shadow-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/t-shadow.db", f->dir);
	return ah_shadow_open(f->path, &f->s) ? -1 : 0;
}

static inline int shadow_fixture_close(shadow_fixture *f)
{
	char cmd[256];
	ah_shadow_free(f->s);
	f->s = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	return system(cmd) != 0 ? -1 : 0;
}

/* cmocka setup/teardown for tests whose state is a bare shadow_fixture. */
static inline int shadow_fixture_setup(void **state)
{
	shadow_fixture *f = calloc(1, sizeof(*f));
	if (!f || shadow_fixture_open(f)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static inline int shadow_fixture_teardown(void **state)
{
	shadow_fixture *f = *state;
	int rc = shadow_fixture_close(f);
	free(f);
	return rc;
}

#endif

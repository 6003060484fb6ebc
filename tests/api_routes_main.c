/* Prints every route of the API (ah_api_routes), one "METHOD PATH" a line,
 * for tests/cli_api_routes.sh to compare with docs/openapi.json. */
#include <stdio.h>

#include "ahead/api.h"

static void print_route(void *ctx, const char *method, const char *path)
{
	(void)ctx;
	printf("%s %s\n", method, path);
}

int main(void)
{
	ah_api_routes(print_route, NULL);
	return fflush(stdout) == 0 ? 0 : 1;
}

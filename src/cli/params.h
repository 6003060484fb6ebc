/* The request parameters of `ahead alloc` and `ahead run` (params.c). */
#ifndef AHEAD_CLI_PARAMS_H
#define AHEAD_CLI_PARAMS_H

#include <jansson.h>
#include <stddef.h>

#include "ahead/limits.h"

/* The request's parameters, joined from every --param and --params. */
typedef struct {
	char text[AH_PARAMS_MAX + 1];
	size_t len;
} ah_cli_params;

/* Appends kv (one item or a list) with a ',' between; past
 * AH_PARAMS_MAX says so naming opt and returns -1. */
int ah_cli_params_append(const char *cmd, const char *opt, const char *kv, ah_cli_params *p);
/* The option callbacks (opts.h .each; dst: an ah_cli_params): --param
 * checks one KEY=VALUE; --params only the length cap (the list is checked
 * whole later, by ah_shadow_params_check, naming the item). */
int ah_cli_add_param(const char *cmd, const char *opt, const char *kv, void *dst);
int ah_cli_add_params(const char *cmd, const char *opt, const char *list, void *dst);
/* "k=v,k2=v2" as the API's {"k": "v", "k2": "v2"} (new reference). */
json_t *ah_cli_params_json(const char *text);

#endif

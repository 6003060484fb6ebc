/* ahead: the grammar of names, one function per kind. The policy file, the
 * CLI, the engine, the shadow store and every reader check names here.
 * Each returns 0, AH_EINVAL (empty or a character outside the grammar) or
 * AH_ETOOBIG (too long). Caps in limits.h. */
#ifndef AHEAD_NAMES_H
#define AHEAD_NAMES_H

#include <stddef.h>

#include "ahead/limits.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Tenant, pool and class names (the policy grammar). The policy's default
 * tenant "*" is the policy file's own syntax, not a name. */
#define AH_NAME_OBJECT_GRAMMAR "[a-z0-9][a-z0-9_.-]{0,62}"
int ah_name_check_object(const char *s);

/* Dimension names. */
#define AH_NAME_DIM_GRAMMAR "[a-z][a-z0-9_]{0,62}"
int ah_name_check_dim(const char *s);

/* Workload names. */
#define AH_NAME_WORKLOAD_GRAMMAR "1-127 of [A-Za-z0-9_.:/@+-]"
int ah_name_check_workload(const char *s);

/* Outside text that ends in the ledger or the history (parameter values,
 * and every name, whose grammars are ASCII anyway): valid UTF-8 (shortest
 * forms, no surrogates, at most U+10FFFF) without control characters (C0,
 * DEL, C1). N bytes of S are checked. 0, or AH_EINVAL with *WHY (if WHY is
 * not NULL) a reason for a message: "not valid UTF-8" or "has a control
 * character". */
int ah_name_check_text(const char *s, size_t n, const char **why);

/* A request parameter's key and value. A value may be empty and is text
 * (ah_name_check_text); what a value may further not hold (',' '=' ';' '|')
 * is the parameter string's grammar (usage.h). */
#define AH_NAME_PARAM_KEY_GRAMMAR "[A-Za-z0-9_.-]{1,63}"
#define AH_NAME_PARAM_VALUE_GRAMMAR "0-127 bytes of UTF-8 text, no control characters"
int ah_name_check_param_key(const char *s);
int ah_name_check_param_value(const char *s);

/* A node label's key and value ("zone=eu-1"): what a node offers and a
 * request or pool selects on (placement.h). A value may be empty. */
#define AH_NAME_LABEL_KEY_GRAMMAR "[a-z0-9][a-z0-9_./-]{0,62}"
#define AH_NAME_LABEL_VALUE_GRAMMAR "[A-Za-z0-9_.-]{0,63}"
int ah_name_check_label_key(const char *s);
int ah_name_check_label_value(const char *s);

#ifdef __cplusplus
}
#endif
#endif

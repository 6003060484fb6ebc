/* ahead: editing a policy's text one section at a time, for the API's
 * pool and tenant routes (POST /v1/pools, PUT /v1/tenants/NAME, ...). The
 * result is applied through the one policy path (validated, then applied
 * atomically), so an edit can never leave a policy that would not load;
 * comments and the rest of the file stay as the operator wrote them. */
#ifndef AHEAD_POLICY_EDIT_H
#define AHEAD_POLICY_EDIT_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Replaces section "[KIND NAME]" (its header line to the next header) by
 * "[KIND NAME]\n" + body, or appends it when absent; body NULL removes the
 * section. *out (malloc'd) is the new text; *out_found says whether the
 * section was there. AH_EINVAL for a kind or name with ']' or a newline. */
int ah_policy_text_set_section(const char *text, const char *kind, const char *name, const char *body,
			       char **out, bool *out_found);

#ifdef __cplusplus
}
#endif
#endif

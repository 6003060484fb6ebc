/* The request parameters of `ahead alloc` and `ahead run` (--param
 * KEY=VALUE, --params K=V,...), joined into the "k=v,..." text the service
 * takes, and that text as the API's JSON object (cli/params.h). */
#include <stdbool.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/names.h"
#include "cli/cli.h"
#include "cli/params.h"

/* One KEY=VALUE: the names grammar for each half (names.h; a value too
 * long is left to ah_shadow_params_check, which names the item), and no ','
 * since the parameters are joined on it. */
static bool valid_param(const char *kv)
{
	const char *eq = strchr(kv, '=');
	char key[AH_PARAM_KEY_MAX];
	if (!eq || (size_t)(eq - kv) >= sizeof key)
		return false;
	memcpy(key, kv, (size_t)(eq - kv));
	key[eq - kv] = '\0';
	return !ah_name_check_param_key(key) && !strchr(eq + 1, ',') && ah_name_check_param_value(eq + 1) != AH_EINVAL;
}

int ah_cli_params_append(const char *cmd, const char *opt, const char *kv, ah_cli_params *p)
{
	size_t n = strlen(kv);
	if (p->len + n + 1 > AH_PARAMS_MAX) {
		ah_cli_err(cmd, "%s: parameters longer than %d bytes in all", opt, AH_PARAMS_MAX);
		return -1;
	}
	if (!n)
		return 0;
	if (p->len)
		p->text[p->len++] = ',';
	memcpy(p->text + p->len, kv, n + 1);
	p->len += n;
	return 0;
}

int ah_cli_add_param(const char *cmd, const char *opt, const char *kv, void *dst)
{
	if (!valid_param(kv)) {
		ah_cli_err(cmd, "%s: '%.64s' is not KEY=VALUE (key [A-Za-z0-9_.-], no commas, value UTF-8 text without control characters)", opt, kv);
		return -1;
	}
	return ah_cli_params_append(cmd, opt, kv, dst);
}

int ah_cli_add_params(const char *cmd, const char *opt, const char *list, void *dst)
{
	return ah_cli_params_append(cmd, opt, list, dst);
}

json_t *ah_cli_params_json(const char *text)
{
	json_t *o = json_object();
	char buf[AH_PARAMS_MAX + 1];
	snprintf(buf, sizeof buf, "%s", text ? text : "");
	for (char *sv, *tok = strtok_r(buf, ",", &sv); o && tok; tok = strtok_r(NULL, ",", &sv)) {
		char *eq = strchr(tok, '=');
		if (eq)
			*eq++ = '\0';
		json_object_set_new(o, tok, json_string(eq ? eq : ""));
	}
	return o;
}

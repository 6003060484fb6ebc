/* The dashboard: GET / answers web/index.html, GET /static/{file} the
 * page's scripts and styles, all embedded at build time (web.h). Public,
 * like /healthz: the page holds no data; it asks the API with the token
 * the user gives it. The files change only with the binary, so a browser
 * revalidates each (no-cache) and gets 304 while its ETag still matches;
 * http.c adds the Content-Security-Policy (no inline script, nothing from
 * elsewhere) and nosniff. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "server/api_int.h"
#include "server/web.h"

static const ah_web_file *web_find(const char *name)
{
	for (size_t i = 0; i < ah_web_files_n; i++)
		if (!strcmp(ah_web_files[i].name, name))
			return &ah_web_files[i];
	return NULL;
}

/* If-None-Match: a list of ETags or "*" (RFC 9110 13.1.2); a weak
 * comparison is enough for a GET. */
static bool etag_matches(const char *header, const char *etag)
{
	if (!header)
		return false;
	size_t n = strlen(etag);
	for (const char *p = header; *p;) {
		p += strspn(p, " \t,");
		if (*p == '*')
			return true;
		if (!strncmp(p, "W/", 2))
			p += 2;
		if (!strncmp(p, etag, n) && (p[n] == '\0' || p[n] == ',' || p[n] == ' ' || p[n] == '\t'))
			return true;
		p += strcspn(p, ",");
	}
	return false;
}

static void web_send(api_call *c, const ah_web_file *f)
{
	c->out->cache_control = "no-cache";
	c->out->etag = f->etag;
	c->out->content_type = f->content_type;
	if (etag_matches(c->rq->if_none_match, f->etag)) {
		c->out->status = 304;
		return;
	}
	c->out->body = malloc(f->len + 1);
	if (!c->out->body) {
		api_error_rc(c, AH_ENOMEM, "dashboard file");
		return;
	}
	memcpy(c->out->body, f->data, f->len);
	c->out->body[f->len] = '\0';
	c->out->body_len = f->len;
	c->out->status = 200;
}

void api_web_index(api_call *c)
{
	const ah_web_file *f = web_find("index.html");
	if (!f) {
		api_error(c, 404, "not_found", NULL, "this build has no dashboard (web/index.html)");
		return;
	}
	web_send(c, f);
}

void api_web_file(api_call *c)
{
	const ah_web_file *f = c->param ? web_find(c->param) : NULL;
	if (!f) {
		json_t *safe = ah_json_text(c->param ? c->param : "");
		api_error(c, 404, "not_found", "file", "no dashboard file '%.64s'", json_string_value(safe));
		json_decref(safe);
		return;
	}
	web_send(c, f);
}

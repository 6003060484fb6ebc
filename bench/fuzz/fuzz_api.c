/* libFuzzer harness for the API's request parsing and routing: each input
 * is one request (method, path with query, a few headers, body) handed to
 * ah_api_handle exactly as the HTTP transport hands it, against a real
 * service over a SQLite ledger in a temporary directory. Run by
 * `bench/run api` (bench/api.sh) for a bounded time.
 *
 * Input: "METHOD PATH[?QUERY]\n" then header lines "Name: value\n" up to
 * an empty line, then the body. A header "Authorization: $ADMIN" (or
 * $TENANT) is replaced by a valid admin (tenant) token so the fuzzer gets
 * past authentication. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ahead/api.h"
#include "ahead/error.h"
#include "ahead/service.h"

static ah_service *svc;
static ah_api *api;
static char admin[160], tenant_tok[160];
static int64_t now = INT64_C(1800000000) * 1000000000;

static const char POLICY[] =
	"[ahead]\nlease_ttl = 10m\nqueue_timeout = 30s\nunknown_tenants = default\n"
	"[pool edge]\ncapacity = cpu=64, memory=256Gi\nmax_queue = 100\n"
	"[class standard]\npriority = 50\nquantile = 0.95\n"
	"[tenant alice]\nquota = cpu=32, memory=128Gi\nrate = 1000\nburst = 1000\n"
	"[tenant *]\nquota = cpu=8, memory=32Gi\n";

static void setup(void)
{
	char dir[] = "/tmp/ahead-fuzz-XXXXXX";
	if (!mkdtemp(dir))
		abort();
	static char db[64];
	snprintf(db, sizeof db, "%s/f.db", dir);
	char err[512];
	ah_policy *p = NULL;
	if (ah_service_policy_apply(db, POLICY, strlen(POLICY), "fuzz", now, &p, err, sizeof err) < 0)
		abort();
	ah_policy_free(p);
	ah_service_opts o;
	ah_service_opts_init(&o);
	o.db_path = db;
	o.create_shadow = true;
	if (ah_service_open(&o, now, &svc, err, sizeof err) < 0 || ah_api_new(svc, NULL, now, &api) < 0)
		abort();
	if (ah_api_bootstrap_admin(api, now, admin, sizeof admin) != 1)
		abort();
	/* a tenant token, made through the API itself */
	ah_api_request rq = {.method = "POST", .path = "/v1/tokens", .source = "fuzz"};
	char auth[200];
	snprintf(auth, sizeof auth, "Bearer %s", admin);
	rq.authorization = auth;
	rq.body = "{\"name\": \"t\", \"role\": \"tenant\", \"tenant\": \"alice\"}";
	rq.body_len = strlen(rq.body);
	ah_api_response r;
	ah_api_batch_begin(api, now);
	ah_api_handle(api, &rq, now, &r);
	ah_api_batch_end(api, &r, 1, now);
	const char *t = r.body ? strstr(r.body, "\"token\": \"") : NULL;
	if (!t || sscanf(t + 10, "%150[^\"]", tenant_tok) != 1)
		abort();
	ah_api_response_fini(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!api)
		setup();
	if (size > 1 << 16)
		return 0;
	char *buf = malloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = '\0';
	ah_api_request rq;
	memset(&rq, 0, sizeof rq);
	rq.source = "127.0.0.1:1";
	char *line_end = memchr(buf, '\n', size);
	if (!line_end)
		goto out;
	*line_end = '\0';
	char *sp = strchr(buf, ' ');
	if (!sp)
		goto out;
	*sp = '\0';
	rq.method = buf;
	char *path = sp + 1, *q = strchr(path, '?');
	if (q) {
		*q++ = '\0';
		/* split "k=v&k2" the way the transport reports arguments */
		for (char *tok = strtok(q, "&"); tok && rq.n_args < AH_API_MAX_ARGS; tok = strtok(NULL, "&")) {
			char *eq = strchr(tok, '=');
			if (eq)
				*eq++ = '\0';
			rq.args[rq.n_args].key = tok;
			rq.args[rq.n_args].value = eq;
			rq.n_args++;
		}
	}
	rq.path = path;
	char *p = line_end + 1, *end = buf + size;
	char auth[200];
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		*nl = '\0';
		if (p == nl) {
			p = nl + 1;
			break;
		}
		if (!strncmp(p, "Authorization: ", 15)) {
			const char *v = p + 15;
			if (!strcmp(v, "$ADMIN"))
				snprintf(auth, sizeof auth, "Bearer %s", admin);
			else if (!strcmp(v, "$TENANT"))
				snprintf(auth, sizeof auth, "Bearer %s", tenant_tok);
			else
				snprintf(auth, sizeof auth, "%s", v);
			rq.authorization = auth;
		} else if (!strncmp(p, "Idempotency-Key: ", 17)) {
			rq.idempotency_key = p + 17;
		} else if (!strncmp(p, "Content-Type: ", 14)) {
			rq.content_type = p + 14;
		}
		p = nl + 1;
	}
	if (p < end) {
		rq.body = p;
		rq.body_len = (size_t)(end - p);
	}
	now += 1000000; /* 1 ms a request */
	ah_api_response r;
	ah_api_kind kind = ah_api_classify(&rq);
	if (kind == AH_API_WRITE) {
		if (ah_api_batch_begin(api, now) == 0) {
			ah_api_handle(api, &rq, now, &r);
			ah_api_batch_end(api, &r, 1, now);
		} else {
			memset(&r, 0, sizeof r);
		}
	} else {
		ah_api_handle(api, &rq, now, &r);
	}
	/* every answer is JSON with a status, whatever came in */
	if (!r.watch && (r.status < 200 || r.status > 599 || !r.body))
		abort();
	if (r.watch) {
		int64_t after = r.watch_after_seq;
		free(ah_api_watch_next(api, r.watch_tenant, &after));
	}
	ah_api_response_fini(&r);
	if (!(now / 1000000 % 1000))
		ah_api_tick(api, now);
out:
	free(buf);
	return 0;
}

/* resourceVersions through the transport-free API: they follow every
 * change, a stale one is a 409, and the sweep keeps the versions of live
 * allocations only (the map does not grow with every id ever granted). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "ahead/api.h"
#include "ahead/service.h"

static const char POLICY[] = "[ahead]\nunknown_tenants = default\n[pool edge]\ncapacity = cpu=64, memory=256Gi\n"
			     "[class standard]\npriority = 50\nquantile = 0.95\n[tenant *]\n";

typedef struct {
	char dir[64], db[96];
	ah_service *svc;
	ah_api *api;
	char auth[220];
	int64_t now;
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/ahead-apiv-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof f->db, "%s/l.db", f->dir);
	f->now = INT64_C(1800000000) * 1000000000;
	char err[512], tok[160];
	ah_policy *p = NULL;
	assert_int_equal(ah_service_policy_apply(f->db, POLICY, strlen(POLICY), "t", f->now, &p, err, sizeof err), 0);
	ah_policy_free(p);
	ah_service_opts o;
	ah_service_opts_init(&o);
	o.db_path = f->db;
	o.shadow_path = "";
	assert_int_equal(ah_service_open(&o, f->now, &f->svc, err, sizeof err), 0);
	assert_int_equal(ah_api_new(f->svc, NULL, f->now, &f->api), 0);
	assert_int_equal(ah_api_bootstrap_admin(f->api, f->now, tok, sizeof tok), 1);
	snprintf(f->auth, sizeof f->auth, "Bearer %s", tok);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	ah_api_free(f->api);
	ah_service_free(f->svc);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	free(f);
	return 0;
}

/* One request; writes in a batch of their own. Returns the status, the body in *out (to free). */
static int call(fx *f, const char *method, const char *path, const char *body, json_t **out)
{
	ah_api_request rq = {.method = method, .path = path, .authorization = f->auth, .source = "test"};
	if (body) {
		rq.body = body;
		rq.body_len = strlen(body);
	}
	ah_api_response r;
	f->now += 1000000;
	if (ah_api_classify(&rq) == AH_API_WRITE) {
		assert_int_equal(ah_api_batch_begin(f->api, f->now), 0);
		ah_api_handle(f->api, &rq, f->now, &r);
		assert_int_equal(ah_api_batch_end(f->api, &r, 1, f->now), 0);
	} else {
		ah_api_handle(f->api, &rq, f->now, &r);
	}
	int st = r.status;
	if (out)
		*out = r.body ? json_loads(r.body, 0, NULL) : NULL;
	ah_api_response_fini(&r);
	return st;
}

static char *version_of(fx *f, int id)
{
	char path[64];
	json_t *o = NULL;
	snprintf(path, sizeof path, "/v1/allocations/%d", id);
	assert_int_equal(call(f, "GET", path, NULL, &o), 200);
	char *v = strdup(json_string_value(json_object_get(o, "resourceVersion")));
	json_decref(o);
	return v;
}

static void test_versions(void **state)
{
	fx *f = *state;
	const char *req = "{\"tenant\": \"t\", \"pool\": \"edge\", \"resources\": {\"cpu\": 100}}";
	for (int i = 0; i < 50; i++)
		assert_int_equal(call(f, "POST", "/v1/allocations", req, NULL), 201);
	char *v1 = version_of(f, 3);
	/* a renew changes the allocation: its version moves, the old one is stale */
	assert_int_equal(call(f, "POST", "/v1/allocations/3/renew", "{\"lease\": \"10m\"}", NULL), 200);
	char *v2 = version_of(f, 3);
	assert_string_not_equal(v1, v2);
	char body[128];
	snprintf(body, sizeof body, "{\"lease\": \"10m\", \"resourceVersion\": \"%s\"}", v1);
	assert_int_equal(call(f, "POST", "/v1/allocations/3/renew", body, NULL), 409);
	/* another allocation's change leaves this one's version alone */
	char *v5 = version_of(f, 5);
	assert_int_equal(call(f, "POST", "/v1/allocations/4/renew", "{}", NULL), 200);
	char *v5b = version_of(f, 5);
	assert_string_equal(v5, v5b);
	/* release 40; the sweep keeps 10 versions, unchanged */
	for (int i = 11; i <= 50; i++) {
		char path[64];
		snprintf(path, sizeof path, "/v1/allocations/%d", i);
		assert_int_equal(call(f, "DELETE", path, NULL, NULL), 200);
	}
	assert_true(ah_api_versions_count(f->api) >= 50);
	assert_int_equal(ah_api_sweep(f->api, f->now), 0);
	assert_int_equal(ah_api_versions_count(f->api), 10);
	char *v5c = version_of(f, 5);
	assert_string_equal(v5, v5c);
	snprintf(body, sizeof body, "{\"lease\": \"10m\", \"resourceVersion\": \"%s\"}", v5c);
	assert_int_equal(call(f, "POST", "/v1/allocations/5/renew", body, NULL), 200);
	free(v1), free(v2), free(v5), free(v5b), free(v5c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test_setup_teardown(test_versions, setup, teardown)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

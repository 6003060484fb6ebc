/* A forwarder's relay frames (src/server/relay.h): requests and answers
 * go through as they came, and any frame cut short, overlong or with
 * bytes after its end is refused whole, naming the item. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ahead/error.h"
#include "ahead/limits.h"
#include "server/relay.h"

static const char BODY0[] = "{\"tenant\": \"t\", \"pool\": \"p\", \"resources\": {\"cpu\": \"1\"}}";

static void three(relay_buf *b)
{
	relay_req q0 = {.method = "POST", .path = "/v1/allocations", .auth = "Bearer abc def", .idem = "k-1",
			.ctype = "application/json", .body = BODY0, .body_len = sizeof BODY0 - 1};
	/* a body with a newline and a NUL: lengths, not lines */
	static const char odd[] = "a\nb\0c";
	relay_req q1 = {.method = "DELETE", .path = "/v1/allocations/12", .n_args = 2, .key = {"wait", "x y"},
			.val = {NULL, ""}, .body = odd, .body_len = sizeof odd - 1};
	relay_req q2 = {.method = "PATCH", .path = "/v1/allocations/7"};
	assert_int_equal(relay_put_head(b, 3), 0);
	assert_int_equal(relay_put_req(b, &q0), 0);
	assert_int_equal(relay_put_req(b, &q1), 0);
	assert_int_equal(relay_put_req(b, &q2), 0);
}

static void requests_round_trip(void **state)
{
	(void)state;
	relay_buf b = {0};
	three(&b);
	relay_req *qs = NULL;
	int n = -1;
	char *arena = NULL, err[200] = "";
	assert_int_equal(relay_parse_reqs(b.p, b.len, &qs, &n, &arena, err, sizeof err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(qs[0].method, "POST");
	assert_string_equal(qs[0].path, "/v1/allocations");
	assert_string_equal(qs[0].auth, "Bearer abc def");
	assert_string_equal(qs[0].idem, "k-1");
	assert_string_equal(qs[0].ctype, "application/json");
	assert_int_equal(qs[0].body_len, sizeof BODY0 - 1);
	assert_memory_equal(qs[0].body, BODY0, sizeof BODY0 - 1);
	assert_int_equal(qs[0].n_args, 0);
	assert_string_equal(qs[1].method, "DELETE");
	assert_null(qs[1].auth);
	assert_null(qs[1].idem);
	assert_null(qs[1].ctype);
	assert_int_equal(qs[1].n_args, 2);
	assert_string_equal(qs[1].key[0], "wait");
	assert_null(qs[1].val[0]);          /* the key alone */
	assert_string_equal(qs[1].key[1], "x y");
	assert_string_equal(qs[1].val[1], ""); /* an empty value is not an absent one */
	assert_int_equal(qs[1].body_len, 5);
	assert_memory_equal(qs[1].body, "a\nb\0c", 5);
	assert_null(qs[2].body);
	assert_int_equal(qs[2].body_len, 0);
	assert_string_equal(qs[2].path, "/v1/allocations/7");
	free(qs);
	free(arena);
	relay_buf_fini(&b);
}

/* Every prefix of a good frame is refused (no crash, no read past it),
 * and so is the frame with a byte more. */
static void cut_frames_refused(void **state)
{
	(void)state;
	relay_buf b = {0};
	three(&b);
	for (size_t cut = 0; cut < b.len; cut++) {
		char *copy = malloc(cut + 1); /* exactly cut bytes (ASan sees any read past them) */
		memcpy(copy, b.p, cut);
		relay_req *qs = NULL;
		int n = 0;
		char *arena = NULL, err[200] = "";
		int rc = relay_parse_reqs(copy, cut, &qs, &n, &arena, err, sizeof err);
		assert_int_equal(rc, AH_EINVAL);
		assert_true(strncmp(err, "relay", 5) == 0);
		assert_null(qs);
		free(copy);
	}
	relay_buf_fini(&b);
	three(&b);
	relay_put_bytes(&b, "x", 1);
	relay_req *qs = NULL;
	int n = 0;
	char *arena = NULL, err[200] = "";
	assert_int_equal(relay_parse_reqs(b.p, b.len, &qs, &n, &arena, err, sizeof err), AH_EINVAL);
	assert_non_null(strstr(err, "after the last item"));
	relay_buf_fini(&b);
}

static void bad_frames_refused(void **state)
{
	(void)state;
	static const struct {
		const char *text, *why;
	} cases[] = {
		{"HTTP/1.1 200\n", "not a relay frame"},
		{"AHEAD-RELAY 2 1\n", "not a relay frame"},
		{"AHEAD-RELAY 1 99999\n", "out of range"},
		{"AHEAD-RELAY 1 1\nPOST 0 6 -1 -1 -1 0\n/v1/a", "cut short"},
		{"AHEAD-RELAY 1 1\nPOST 0 -1 -1 -1 -1 0\n", "out of range"},     /* no path */
		{"AHEAD-RELAY 1 1\nPOST 0 2 -1 -1 -1 -1\n/x", "out of range"},    /* no body length */
		{"AHEAD-RELAY 1 1\nPOST 17 2 -1 -1 -1 0\n/x", "out of range"},    /* too many args */
		{"AHEAD-RELAY 1 1\nPOST 0 2 -1 -1 -1 0 9\n/x", "junk after"},
		{"AHEAD-RELAY 1 1\nPOST 0 2 -1 -1 x -1 0\n/x", "not a number"},
		{"AHEAD-RELAY 1 1\n 0 2 -1 -1 -1 0\n/x", "no method"},
		{"AHEAD-RELAY 1 1\nPOST 1 2 -1 -1 -1 0 -1 0\n/x", "out of range"}, /* an absent key */
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		relay_req *qs = NULL;
		int n = 0;
		char *arena = NULL, err[200] = "";
		int rc = relay_parse_reqs(cases[i].text, strlen(cases[i].text), &qs, &n, &arena, err, sizeof err);
		if (rc != AH_EINVAL || !strstr(err, cases[i].why))
			fail_msg("case %zu (%s): rc %d, err \"%s\", wanted \"%s\"", i, cases[i].text, rc, err, cases[i].why);
	}
	/* a good one-item frame, for contrast */
	const char *good = "AHEAD-RELAY 1 1\nPOST 0 2 -1 -1 -1 0\n/x";
	relay_req *qs = NULL;
	int n = 0;
	char *arena = NULL, err[200] = "";
	assert_int_equal(relay_parse_reqs(good, strlen(good), &qs, &n, &arena, err, sizeof err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(qs[0].path, "/x");
	free(qs);
	free(arena);
	/* what cannot be framed is refused at the sender */
	relay_buf b = {0};
	relay_req sp = {.method = "PO ST", .path = "/x"};
	assert_int_equal(relay_put_req(&b, &sp), AH_EINVAL);
	relay_req np = {.method = "POST"};
	assert_int_equal(relay_put_req(&b, &np), AH_EINVAL);
	assert_int_equal(relay_put_head(&b, AH_RELAY_ITEMS_MAX + 1), AH_EINVAL);
	relay_buf_fini(&b);
}

static void answers_round_trip(void **state)
{
	(void)state;
	relay_buf b = {0};
	const char *a0 = "{\"id\": 1}", *a2 = "{\"error\": {\"code\": \"capacity\"}}";
	assert_int_equal(relay_put_head(&b, 3), 0);
	assert_int_equal(relay_put_answer(&b, 201, 0, a0, strlen(a0)), 0);
	assert_int_equal(relay_put_answer(&b, 204, 0, NULL, 0), 0);
	assert_int_equal(relay_put_answer(&b, 503, 2, a2, strlen(a2)), 0);
	assert_int_equal(relay_put_answer(&b, 99, 0, NULL, 0), AH_EINVAL);
	relay_answer an[3];
	char err[200] = "";
	assert_int_equal(relay_parse_answers(b.p, b.len, 3, an, err, sizeof err), 0);
	assert_int_equal(an[0].status, 201);
	assert_int_equal(an[0].body_len, strlen(a0));
	assert_memory_equal(an[0].body, a0, strlen(a0));
	assert_int_equal(an[1].status, 204);
	assert_int_equal(an[1].body_len, 0);
	assert_int_equal(an[2].status, 503);
	assert_int_equal(an[2].retry_after_s, 2);
	assert_memory_equal(an[2].body, a2, strlen(a2));
	/* as many answers as requests, or none is taken */
	relay_answer four[4] = {{0}};
	assert_int_equal(relay_parse_answers(b.p, b.len, 4, four, err, sizeof err), AH_EINVAL);
	assert_non_null(strstr(err, "different number"));
	assert_int_equal(four[0].status, 0);
	for (size_t cut = 0; cut < b.len; cut++)
		assert_int_equal(relay_parse_answers(b.p, cut, 3, an, err, sizeof err), AH_EINVAL);
	relay_buf_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(requests_round_trip),
		cmocka_unit_test(cut_frames_refused),
		cmocka_unit_test(bad_frames_refused),
		cmocka_unit_test(answers_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

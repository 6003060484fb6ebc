/* A node's record (include/ahead/node.h), the JSON PREFIX/node/NAME holds:
 * encoded and decoded back whole (capacity with its units, labels in
 * order, cordon, who registered it), and every malformed field refused
 * naming it, so a record some other writer broke is never taken as a node. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/node.h"

static void test_round_trip(void **state)
{
	(void)state;
	ah_node n, back;
	memset(&n, 0, sizeof n);
	strcpy(n.spec.name, "edge-1");
	n.spec.n_dims = 2;
	strcpy(n.spec.dim[0], "cpu");
	n.spec.capacity[0] = 2500;
	n.spec.kind[0] = AH_UNIT_CPU;
	strcpy(n.spec.dim[1], "memory");
	n.spec.capacity[1] = INT64_C(8) << 30;
	n.spec.kind[1] = AH_UNIT_BYTES;
	n.spec.n_labels = 2;
	strcpy(n.spec.labels[0].key, "zone");
	strcpy(n.spec.labels[0].value, "b");
	strcpy(n.spec.labels[1].key, "rack");
	strcpy(n.spec.labels[1].value, "r7");
	n.cordoned = true;
	strcpy(n.registered_by, "host-42");
	n.registered_ns = INT64_C(1764000000123000000);
	char *text = ah_node_record_encode(&n);
	assert_non_null(text);
	char err[256] = "";
	memset(&back, 0x55, sizeof back);
	assert_int_equal(ah_node_record_decode(text, &back, err, sizeof err), 0);
	free(text);
	assert_string_equal(back.spec.name, "edge-1");
	assert_int_equal(back.spec.n_dims, 2);
	assert_string_equal(back.spec.dim[1], "memory");
	assert_int_equal(back.spec.capacity[0], 2500);
	assert_int_equal(back.spec.capacity[1], INT64_C(8) << 30);
	assert_int_equal(back.spec.kind[0], AH_UNIT_CPU);
	assert_int_equal(back.spec.kind[1], AH_UNIT_BYTES);
	assert_int_equal(back.spec.n_labels, 2);
	assert_string_equal(back.spec.labels[0].key, "zone"); /* order as given */
	assert_string_equal(back.spec.labels[1].value, "r7");
	assert_true(back.cordoned);
	assert_string_equal(back.registered_by, "host-42");
	assert_int_equal(back.registered_ns, n.registered_ns);
	assert_false(back.up); /* liveness is the instance key's, never the record's */
	assert_int_equal(back.lease_ttl_s, -1);
}

static void refused(const char *text, const char *field)
{
	ah_node out;
	char err[256] = "";
	memset(&out, 0, sizeof out);
	strcpy(out.spec.name, "untouched");
	assert_int_equal(ah_node_record_decode(text, &out, err, sizeof err), AH_EPARSE);
	if (!strstr(err, field))
		fail_msg("'%s': the error '%s' does not name %s", text, err, field);
	assert_string_equal(out.spec.name, "untouched"); /* written only on success */
}

static void test_refusals(void **state)
{
	(void)state;
	refused("not json", "(record)");
	refused("[1]", "(record)");
	refused("{\"capacity\":{},\"labels\":{}}", "name");
	refused("{\"name\":\"Edge\",\"capacity\":{},\"labels\":{}}", "name");
	refused("{\"name\":\"e\",\"capacity\":{\"cpu\":-1},\"labels\":{}}", "capacity");
	refused("{\"name\":\"e\",\"capacity\":{\"cpu\":\"2\"},\"labels\":{}}", "capacity");
	refused("{\"name\":\"e\",\"capacity\":{\"CPU\":2},\"labels\":{}}", "capacity");
	refused("{\"name\":\"e\",\"capacity\":{\"cpu\":2},\"units\":{\"cpu\":\"parsecs\"},\"labels\":{}}", "units");
	refused("{\"name\":\"e\",\"capacity\":{},\"labels\":{\"zone\":\"a b\"}}", "labels");
	refused("{\"name\":\"e\",\"capacity\":{},\"labels\":{\"zone\":1}}", "labels");
	refused("{\"name\":\"e\",\"capacity\":{},\"labels\":[]}", "labels");
	refused("{\"name\":\"e\",\"labels\":{}}", "capacity");
	char *big = malloc(AH_NODE_RECORD_MAX + 64);
	assert_non_null(big);
	memset(big, ' ', AH_NODE_RECORD_MAX + 32);
	big[0] = '{';
	strcpy(big + AH_NODE_RECORD_MAX + 32, "}");
	refused(big, "AH_NODE_RECORD_MAX");
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The grammar of ids (id.h), shared by every caller: accepted and refused
 * ids, and the CLI's ID arguments, which must refuse ' 1' as they refuse
 * '0x1' (before id.h, strtoull skipped the blank). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ahead/error.h"
#include "ahead/id.h"

static void test_accepted(void **state)
{
	(void)state;
	uint64_t v = 0;
	assert_int_equal(ah_id_parse("1", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(ah_id_parse("007", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(ah_id_parse("9223372036854775807", &v), 0);
	assert_int_equal(v, (uint64_t)INT64_MAX);
}

static void test_refused(void **state)
{
	(void)state;
	const char *bad[] = {"", "0", "00", " 1", "1 ", "\t1", "+1", "-1", "0x1", "1e3", "1.0", "1,2", "one"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint64_t v = 42;
		assert_int_equal(ah_id_parse(bad[i], &v), AH_EINVAL);
		assert_int_equal(v, 42); /* written only on success */
	}
	uint64_t v = 42;
	assert_int_equal(ah_id_parse("9223372036854775808", &v), AH_ERANGE);
	assert_int_equal(ah_id_parse("99999999999999999999999", &v), AH_ERANGE);
	assert_int_equal(ah_id_parse(NULL, &v), AH_EINVAL);
	assert_int_equal(v, 42);
}

/* Runs "ahead release ID" on an empty ledger; 1 when it was refused as a
 * usage error naming the id. */
static int cli_refuses(const char *id)
{
	const char *bin = getenv("AHEAD_BIN");
	char dir[] = "/tmp/ahead-ids-XXXXXX", db[64], cmd[512], out[512] = "";
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof db, "%s/l.db", dir);
	snprintf(cmd, sizeof cmd, "AHEAD_DB=%s '%s' release '%s' 2>&1", db, bin, id);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, sizeof out - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 2 && strstr(out, "is not a positive integer id") != NULL;
}

static void test_cli_ids(void **state)
{
	(void)state;
	if (!getenv("AHEAD_BIN"))
		skip();
	assert_true(cli_refuses("0x1"));
	assert_true(cli_refuses(" 1"));
	assert_true(cli_refuses("1 "));
	assert_true(cli_refuses("+1"));
	assert_false(cli_refuses("1")); /* well-formed: fails later, on the empty ledger */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_cli_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

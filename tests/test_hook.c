/* Scale hook runner: success, failure with retries and backoff, timeout,
 * retry-then-success, missing command. Time is passed in, so backoff is
 * checked exactly; children are real processes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ahead/hook.h"

#define MS 1000000LL

/* Polls at virtual time `now` until the state leaves RUNNING (the child
 * finishes in real time; we wait for it in small real sleeps). */
static ah_hook_state wait_done(ah_hook_job *j, int64_t now)
{
	ah_hook_state s;
	for (int i = 0; i < 5000; i++) {
		s = ah_hook_job_poll(j, now);
		if (s != AH_HOOK_RUNNING)
			return s;
		usleep(1000);
	}
	return s;
}

static ah_hook_opts opts(int attempts, int64_t timeout, int64_t backoff)
{
	ah_hook_opts o;
	ah_hook_opts_init(&o);
	o.max_attempts = attempts;
	o.timeout_ns = timeout;
	o.backoff_ns = backoff;
	o.backoff_factor = 2;
	o.backoff_max_ns = 1000 * MS;
	return o;
}

static void test_success(void **state)
{
	(void)state;
	char *argv[] = {"sh", "-c", "echo scaled \"$1\" \"$2\" \"$3\" \"$4\"", "hook", "general", "cpu", "32", "48", NULL};
	ah_hook_opts o = opts(3, 5000 * MS, 10 * MS);
	ah_hook_job *j;
	assert_int_equal(ah_hook_job_new(argv, &o, 0, &j), 0);
	assert_int_equal(wait_done(j, 0), AH_HOOK_SUCCEEDED);
	assert_int_equal(ah_hook_job_attempts(j), 1);
	assert_int_equal(ah_hook_job_exit_status(j), 0);
	assert_string_equal(ah_hook_job_output(j), "scaled general cpu 32 48\n");
	ah_hook_job_free(j);
}

static void test_failure_retries_with_backoff(void **state)
{
	(void)state;
	char *argv[] = {"sh", "-c", "echo no capacity in region >&2; exit 3", NULL};
	ah_hook_opts o = opts(3, 5000 * MS, 10 * MS);
	ah_hook_job *j;
	assert_int_equal(ah_hook_job_new(argv, &o, 0, &j), 0);
	assert_int_equal(wait_done(j, 0), AH_HOOK_WAITING);
	assert_int_equal(ah_hook_job_exit_status(j), 3);
	/* First backoff is 10 ms: not before. */
	assert_int_equal(ah_hook_job_poll(j, 9 * MS), AH_HOOK_WAITING);
	assert_int_equal(ah_hook_job_attempts(j), 1);
	assert_int_equal(wait_done(j, 10 * MS), AH_HOOK_WAITING);
	assert_int_equal(ah_hook_job_attempts(j), 2);
	/* Second backoff doubles to 20 ms. */
	assert_int_equal(ah_hook_job_poll(j, 29 * MS), AH_HOOK_WAITING);
	assert_int_equal(wait_done(j, 30 * MS), AH_HOOK_FAILED);
	assert_int_equal(ah_hook_job_attempts(j), 3);
	assert_int_equal(ah_hook_job_exit_status(j), 3);
	assert_string_equal(ah_hook_job_output(j), "no capacity in region\n");
	/* A failed job stays failed. */
	assert_int_equal(ah_hook_job_poll(j, 10000 * MS), AH_HOOK_FAILED);
	ah_hook_job_free(j);
}

static void test_timeout_kills(void **state)
{
	(void)state;
	char *argv[] = {"sleep", "30", NULL};
	ah_hook_opts o = opts(1, 50 * MS, 10 * MS);
	ah_hook_job *j;
	assert_int_equal(ah_hook_job_new(argv, &o, 0, &j), 0);
	assert_int_equal(ah_hook_job_poll(j, 49 * MS), AH_HOOK_RUNNING);
	assert_int_equal(ah_hook_job_poll(j, 50 * MS), AH_HOOK_FAILED);
	assert_true(ah_hook_job_timed_out(j));
	assert_int_equal(ah_hook_job_exit_status(j), -1);
	ah_hook_job_free(j);
}

static void test_retry_then_success(void **state)
{
	(void)state;
	char f[128], script[512];
	snprintf(f, sizeof f, "/tmp/ahead-hook-count-%d", (int)getpid());
	unlink(f);
	snprintf(script, sizeof script, "n=$(cat %s 2>/dev/null || echo 0); n=$((n+1)); echo $n > %s; echo try $n; [ $n -ge 3 ]",
		 f, f);
	char *argv[] = {"sh", "-c", script, NULL};
	ah_hook_opts o = opts(5, 5000 * MS, 1 * MS);
	ah_hook_job *j;
	assert_int_equal(ah_hook_job_new(argv, &o, 0, &j), 0);
	int64_t now = 0;
	ah_hook_state s;
	while ((s = wait_done(j, now)) == AH_HOOK_WAITING)
		now += 100 * MS;
	assert_int_equal(s, AH_HOOK_SUCCEEDED);
	assert_int_equal(ah_hook_job_attempts(j), 3);
	assert_string_equal(ah_hook_job_output(j), "try 3\n");
	ah_hook_job_free(j);
	unlink(f);
}

static void test_missing_command(void **state)
{
	(void)state;
	char *argv[] = {"/nonexistent/ahead-hook", "p", "cpu", "1", "2", NULL};
	ah_hook_opts o = opts(2, 5000 * MS, 1 * MS);
	ah_hook_job *j;
	assert_int_equal(ah_hook_job_new(argv, &o, 0, &j), 0);
	assert_int_equal(wait_done(j, 0), AH_HOOK_WAITING);
	assert_int_equal(wait_done(j, 10 * MS), AH_HOOK_FAILED);
	assert_int_equal(ah_hook_job_exit_status(j), 127);
	assert_non_null(strstr(ah_hook_job_output(j), "cannot execute"));
	ah_hook_job_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success),
		cmocka_unit_test(test_failure_retries_with_backoff),
		cmocka_unit_test(test_timeout_kills),
		cmocka_unit_test(test_retry_then_success),
		cmocka_unit_test(test_missing_command),
	};
	return cmocka_run_group_tests_name("hook", tests, NULL, NULL);
}

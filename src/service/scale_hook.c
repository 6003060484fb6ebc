/* The production scale executor: runs a pool's scale_hook for one action
 * (COMMAND POOL DIMENSION FROM TO, no shell) until it succeeds or its
 * retries are spent. It blocks the caller while the hook runs; the engine
 * never does (allocation in other processes goes on with the old capacity). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ahead/error.h"
#include "ahead/hook.h"
#include "ahead/scale_loop.h"
#include "ahead/service.h"

/* Output goes into JSON and a terminal: keep printable ASCII, newlines and
 * tabs, and cap it. */
static void clean_output(const char *in, char *out, size_t len)
{
	size_t n = 0;
	for (; *in && n + 1 < len; in++) {
		unsigned char c = (unsigned char)*in;
		out[n++] = (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t' ? (char)c : '?';
	}
	out[n] = '\0';
}

static void sleep_ns(long ns)
{
	struct timespec ts = {.tv_sec = ns / 1000000000L, .tv_nsec = ns % 1000000000L};
	nanosleep(&ts, NULL);
}

int ah_scale_hook_run(void *ctx, const ah_policy *pol, const ah_scale_action *a, ah_scale_result *r)
{
	const ah_scale_hook_ctx *hc = ctx;
	const ah_pool_policy *pp = &pol->pools[a->pool];
	if (!hc || !hc->now_ns)
		return AH_EINVAL;
	if (!pp->scale_hook[0]) {
		r->ok = true; /* nothing to run: the capacity is ahead's own */
		return 0;
	}
	char cmd[AH_SCALE_HOOK_MAX], a_from[24], a_to[24], node[sizeof a->node];
	char *argv[AH_SCALE_HOOK_MAX_ARGS + 1];
	int n = 0;
	snprintf(cmd, sizeof cmd, "%s", pp->scale_hook);
	for (char *save = NULL, *w = strtok_r(cmd, " \t", &save); w && n < AH_SCALE_HOOK_MAX_ARGS - 5;
	     w = strtok_r(NULL, " \t", &save))
		argv[n++] = w;
	snprintf(a_from, sizeof a_from, "%lld", a->on_nodes ? (long long)a->nodes_from : (long long)a->from);
	snprintf(a_to, sizeof a_to, "%lld", a->on_nodes ? (long long)a->nodes_to : (long long)a->to);
	argv[n++] = (char *)pp->name;
	argv[n++] = a->on_nodes ? "nodes" : (char *)pol->dims.name[a->dim];
	argv[n++] = a_from;
	argv[n++] = a_to;
	if (a->on_nodes && a->node[0]) { /* a scale-down: the node to remove */
		snprintf(node, sizeof node, "%s", a->node);
		argv[n++] = node;
	}
	argv[n] = NULL;
	ah_hook_opts o;
	ah_hook_opts_init(&o);
	o.timeout_ns = pp->hook_timeout_ns;
	o.max_attempts = pp->hook_retries + 1;
	ah_hook_job *j = NULL;
	int rc = ah_hook_job_new(argv, &o, hc->now_ns(), &j);
	if (rc < 0)
		return rc;
	ah_hook_state st;
	long poll = hc->poll_ns > 0 ? hc->poll_ns : 20000000L;
	while ((st = ah_hook_job_poll(j, hc->now_ns())) == AH_HOOK_RUNNING || st == AH_HOOK_WAITING)
		sleep_ns(poll);
	r->ran = true;
	r->ok = st == AH_HOOK_SUCCEEDED;
	r->timed_out = ah_hook_job_timed_out(j);
	r->exit_status = ah_hook_job_exit_status(j);
	r->attempts = ah_hook_job_attempts(j);
	clean_output(ah_hook_job_output(j), r->output, sizeof r->output);
	ah_hook_job_free(j);
	return 0;
}

int ah_scale_hook_cordon(void *ctx, const char *node, bool on)
{
	const ah_scale_hook_ctx *hc = ctx;
	char err[256];
	if (!hc || !hc->db_path || !node)
		return AH_EINVAL;
	return ah_service_node_cordon(hc->db_path, node, on, false, err, sizeof err);
}

/* `ahead serve` as a whole (include/ahead/daemon.h): apply the policy
 * file, own the ledger, open the one service, make the first admin token,
 * listen, tell systemd, run until SIGTERM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "ahead/daemon.h"
#include "ahead/error.h"
#include "ahead/ledger_sqlite.h"
#include "ahead/owner.h"

static int64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void warn_log(void *ctx, const char *msg)
{
	(void)ctx;
	ah_log(AH_LOG_WARN, "msg=warning detail=\"%s\"", msg);
}

/* One log line per change the engine committed (grant, resize, expiry,
 * ...), told after the commit like every observer. */
static void log_change(void *ctx, const ah_engine_change *c)
{
	ah_service *svc = ctx;
	char res[512] = "";
	const ah_policy *pol = ah_service_policy_get(svc);
	if (pol && ah_vec_format_human(&pol->dims, &c->res, res, sizeof res) < 0)
		res[0] = '\0';
	ah_log(AH_LOG_INFO, "msg=%s id=%llu tenant=%s pool=%s class=%s resources=\"%s\"", ah_change_kind_name(c->kind),
	       (unsigned long long)c->id, c->tenant ? c->tenant : "-", c->pool ? c->pool : "-", c->klass ? c->klass : "-",
	       res);
}

static void ready(void *ctx, int port)
{
	ah_daemon_opts *o = ctx;
	char st[128];
	snprintf(st, sizeof st, "READY=1\nSTATUS=listening on port %d\nMAINPID=%ld", port, (long)getpid());
	sd_notify(0, st);
	if (o->on_ready)
		o->on_ready(o->ctx, port);
}

void ah_daemon_opts_init(ah_daemon_opts *o)
{
	memset(o, 0, sizeof *o);
	ah_server_opts_init(&o->server);
	ah_api_opts_init(&o->api);
}

/* The policy file is the daemon's configuration: applied at start (unless
 * it is what the ledger already runs) so `ahead serve --policy F` always
 * serves F; a bad file stops the start with its error. */
static int apply_policy(const ah_daemon_opts *o, char *err, size_t errlen)
{
	FILE *f = fopen(o->policy_path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open the policy file", o->policy_path);
		return AH_EIO;
	}
	char *buf = malloc((size_t)AH_POLICY_MAX_BYTES + 1);
	size_t n = buf ? fread(buf, 1, (size_t)AH_POLICY_MAX_BYTES + 1, f) : 0;
	bool bad = ferror(f);
	fclose(f);
	if (!buf || bad || n > AH_POLICY_MAX_BYTES) {
		snprintf(err, errlen, "%s: %s", o->policy_path, !buf ? "out of memory" : bad ? "read error" : "too large");
		free(buf);
		return AH_EIO;
	}
	buf[n] = '\0';
	char *cur = NULL;
	int64_t at;
	char e2[256];
	int rc = 0;
	if (ah_service_policy_text(o->db_path, &cur, &at, e2, sizeof e2) < 0 || strcmp(cur, buf)) {
		ah_policy *p = NULL;
		rc = ah_service_policy_apply(o->db_path, buf, n, o->policy_path, wall_ns(), &p, err, errlen);
		ah_policy_free(p);
	}
	free(cur);
	free(buf);
	return rc;
}

/* Registers the node, and says what it offers in one log line. */
static int join(const ah_daemon_opts *o, ah_service *svc, int64_t now, char *err, size_t errlen)
{
	ah_node_spec sp;
	char why[768] = "";
	int rc = ah_service_node_join(svc, o->node_name, o->node_labels, o->node_capacity, NULL, now, &sp, why,
				      sizeof why);
	if (rc < 0) {
		snprintf(err, errlen, "cannot join as node %s: %s", o->node_name, why);
		return rc;
	}
	char cap[512] = "", lab[512] = "";
	size_t n = 0;
	for (int i = 0; i < sp.n_dims && n < sizeof cap; i++) {
		char v[48];
		int d = ah_dimset_find(&ah_service_policy_get(svc)->dims, sp.dim[i]);
		ah_unit_format_human(d >= 0 ? ah_service_policy_get(svc)->dims.kind[d] : AH_UNIT_COUNT, sp.capacity[i], v,
				     sizeof v);
		n += (size_t)snprintf(cap + n, sizeof cap - n, "%s%s=%s", i ? "," : "", sp.dim[i], v);
	}
	n = 0;
	for (int i = 0; i < sp.n_labels && n < sizeof lab; i++)
		n += (size_t)snprintf(lab + n, sizeof lab - n, "%s%s=%s", i ? "," : "", sp.labels[i].key,
				      sp.labels[i].value);
	ah_log(AH_LOG_INFO, "msg=node_joined node=%s capacity=%s labels=%s", sp.name, cap[0] ? cap : "-",
	       lab[0] ? lab : "-");
	return 0;
}

int ah_daemon_run(ah_daemon_opts *o, char *err, size_t errlen)
{
	int lock = -1, rc;
	long pid = 0;
	ah_service *svc = NULL;
	ah_api *api = NULL;
	ah_server *srv = NULL;
	ah_log_set_level(o->server.log_level);
	if ((rc = ah_owner_acquire(o->db_path, &lock, &pid, err, errlen)) < 0)
		goto out;
	if (o->policy_path && (rc = apply_policy(o, err, errlen)) < 0)
		goto out;
	ah_service_opts so;
	ah_service_opts_init(&so);
	so.db_path = o->db_path;
	so.shadow_path = o->shadow_path;
	so.create_shadow = true;
	so.warn = warn_log;
	int64_t now = wall_ns();
	if ((rc = ah_service_open(&so, now, &svc, err, errlen)) < 0)
		goto out;
	/* a SQLite ledger's checkpoints off the path of the answers */
	ah_ledger *led = ah_service_ledger_get(svc);
	if (led && ah_ledger_is_sqlite(led) && (rc = ah_ledger_sqlite_checkpoint_in_background(led, err, errlen)) < 0)
		goto out;
	if (o->node_name && (rc = join(o, svc, now, err, errlen)) < 0)
		goto out;
	ah_engine_observer obs = {.ctx = svc, .on_event = log_change};
	if ((rc = ah_service_add_observer(svc, &obs)) < 0) {
		snprintf(err, errlen, "cannot watch the engine: %s", ah_strerror(rc));
		goto out;
	}
	o->api.policy_path = o->policy_path;
	ah_api_opts ao = o->api;
	ao.node_name = o->node_name;
	if ((rc = ah_api_new(svc, &ao, now, &api)) < 0) {
		snprintf(err, errlen, "cannot start the API: %s (%s)", ah_strerror(rc), ah_service_errmsg(svc));
		goto out;
	}
	char secret[160];
	rc = ah_api_bootstrap_admin(api, now, secret, sizeof secret);
	if (rc < 0) {
		snprintf(err, errlen, "cannot create the first admin token: %s", ah_strerror(rc));
		goto out;
	}
	if (rc == 1) {
		/* shown once: only its hash is kept */
		if (o->admin_token_path) {
			FILE *f = fopen(o->admin_token_path, "wx");
			if (f) {
				fprintf(f, "%s\n", secret);
				fclose(f);
			}
		}
		fprintf(stdout, "admin token (shown once; store it now): %s\n", secret);
		fflush(stdout);
		memset(secret, 0, sizeof secret);
	}
	o->server.policy_path = o->policy_path;
	o->server.on_ready = ready;
	o->server.ctx = o;
	if ((rc = ah_server_new(api, svc, &o->server, &srv, err, errlen)) < 0)
		goto out;
	rc = ah_server_run(srv);
	sd_notify(0, "STOPPING=1");
out:
	ah_server_free(srv);
	ah_api_free(api);
	ah_service_free(svc);
	if (lock >= 0)
		ah_owner_release(lock, o->db_path);
	return rc;
}

/* ahead policy check|apply|show: validate a policy file, make it the
 * database's policy, or print the applied one. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ahead/encode.h"
#include "ahead/engine.h"
#include "ahead/error.h"
#include "ahead/service.h"
#include "ahead/policy.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/opts.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: ahead policy check FILE [-o table|json]\n"
		   "       ahead policy apply FILE [--db PATH] [-o table|json]\n"
		   "       ahead policy show [--db PATH] [-o table|json]\n\n"
		   "check  validates FILE and prints a summary; nothing is changed.\n"
		   "apply  validates FILE and makes it the policy of the database, in one\n"
		   "       transaction. Refused (nothing changes) if live allocations or queued\n"
		   "       requests name a pool, class or dimension the new policy drops.\n"
		   "show   prints the applied policy's text.\n\n"
		   "  --db PATH   ledger database (default $AHEAD_DB, else ./ahead.db), or\n"
		   "              etcd://HOST:PORT[,...]/PREFIX (docs/CLUSTER.md)\n"
		   "  -o FORMAT   table (default) or json\n" AH_CLIENT_USAGE
		   "With --server, apply sends FILE to the daemon (PUT /v1/policy: validated,\n"
		   "then applied atomically) and show prints the daemon's policy; check stays local.\n"
		   "The file format is described in docs/POLICY.md.\n");
}

static void summary(const char *file, const ah_policy *p, ah_out_fmt fmt, const char *verb)
{
	if (fmt == AH_OUT_JSON) {
		json_t *o = ah_json_policy(p, !strcmp(verb, "ok") ? "valid" : verb, file);
		char *s = ah_json_dumps(o);
		printf("%s\n", s ? s : "{}");
		free(s);
		json_decref(o);
		return;
	}
	printf("%s: %s: %d dimensions, %d pools, %d classes, %d tenants\n", file, verb, p->dims.n, p->n_pools,
	       p->n_classes, p->n_tenants);
}

/* Only a regular file is a policy: a directory or a FIFO is refused before
 * anything is read (a FIFO would block), and a read error is an error, not
 * a shorter file. */
static int read_file(const char *cmd, const char *path, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ah_cli_err(cmd, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		ah_cli_err(cmd, "%s: cannot stat: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		ah_cli_err(cmd, "%s: is %s, not a policy file", path, ah_cli_file_kind(st.st_mode));
		close(fd);
		return -1;
	}
	FILE *f = fdopen(fd, "rb");
	if (!f) {
		ah_cli_err(cmd, "%s: cannot open: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	int rc = -1;
	char *buf = malloc(AH_POLICY_MAX_BYTES + 1);
	size_t n = buf ? fread(buf, 1, AH_POLICY_MAX_BYTES + 1, f) : 0;
	if (!buf)
		ah_cli_err(cmd, "%s: out of memory", path);
	else if (ferror(f))
		ah_cli_err(cmd, "%s: read error: %s", path, strerror(errno));
	else if (n > AH_POLICY_MAX_BYTES)
		ah_cli_err(cmd, "%s: larger than %d bytes", path, AH_POLICY_MAX_BYTES);
	else
		rc = 0;
	fclose(f);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	buf[n] = 0;
	*out = buf;
	*len = n;
	return 0;
}

static int apply(const char *file, const char *db, ah_out_fmt fmt)
{
	char err[768];
	char *text = NULL;
	size_t len;
	ah_policy *p = NULL;
	if (read_file("policy apply", file, &text, &len) < 0)
		return AH_EXIT_USAGE;
	int ex = ah_cli_refuse_if_owned("policy apply", db);
	if (ex) {
		free(text);
		return ex;
	}
	int rc = ah_service_policy_apply(db, text, len, file, ah_cli_now_ns(), &p, err, sizeof err);
	free(text);
	if (rc < 0) {
		ah_cli_err("policy apply", "%s", err);
		return rc == AH_EPARSE ? AH_EXIT_USAGE : rc == AH_EPOLICY ? AH_EXIT_REFUSED : AH_EXIT_INTERNAL;
	}
	summary(file, p, fmt, "applied");
	ah_policy_free(p);
	return AH_EXIT_OK;
}

static int show(const char *db, ah_out_fmt fmt)
{
	char err[768], *text = NULL;
	int64_t at;
	int rc = ah_service_policy_text(db, &text, &at, err, sizeof err);
	if (rc < 0) {
		ah_cli_err("policy show", "%s", err);
		return rc == AH_ENOENT ? AH_EXIT_NOTFOUND : AH_EXIT_INTERNAL;
	}
	char ts[40];
	ah_cli_fmt_time(at, ts, sizeof ts);
	if (fmt == AH_OUT_JSON) {
		ah_policy *p = NULL;
		rc = ah_policy_load_string(text, strlen(text), db, &p, err, sizeof err);
		json_t *o = rc < 0 ? NULL : ah_json_policy(p, "current", NULL);
		if (o) {
			json_object_set_new(o, "applied_at", ah_json_time(at));
			json_object_set_new(o, "text", ah_json_text(text));
		}
		char *s = ah_json_dumps(o);
		if (s)
			printf("%s\n", s);
		else
			ah_cli_err("policy show", "%s", rc < 0 ? err : "out of memory");
		free(s);
		json_decref(o);
		ah_policy_free(p);
		free(text);
		return o ? AH_EXIT_OK : AH_EXIT_INTERNAL;
	}
	printf("; applied %s\n%s", ts, text);
	if (*text && text[strlen(text) - 1] != '\n')
		putchar('\n');
	free(text);
	return AH_EXIT_OK;
}

/* policy show with --server: GET /v1/policy. */
static int show_remote(const ah_client_opts *co, ah_out_fmt fmt)
{
	ah_client *cl = NULL;
	json_t *o = NULL;
	long st;
	int ex = ah_client_open("policy show", co, &cl);
	if (ex || (ex = ah_client_call(cl, "GET", "/v1/policy", NULL, &st, &o)))
		goto out;
	const char *text = json_string_value(json_object_get(o, "text"));
	if (st != 200 || !text) {
		ex = ah_client_fail(cl, st, o);
	} else if (fmt == AH_OUT_JSON) {
		ah_client_print_json(o);
	} else {
		char ts[40];
		ah_cli_fmt_time(ah_client_time(o, "applied_at"), ts, sizeof ts);
		printf("; applied %s\n%s", ts, text);
		if (*text && text[strlen(text) - 1] != '\n')
			putchar('\n');
	}
out:
	json_decref(o);
	ah_client_free(cl);
	return ex;
}

/* policy apply with --server: PUT /v1/policy {"text": FILE's content}. */
static int apply_remote(const ah_client_opts *co, const char *file, ah_out_fmt fmt)
{
	ah_client *cl = NULL;
	json_t *body = NULL, *o = NULL;
	char *text = NULL, err[768];
	size_t len;
	ah_policy *p = NULL;
	if (read_file("policy apply", file, &text, &len) < 0)
		return AH_EXIT_USAGE;
	long st;
	int ex = ah_client_open("policy apply", co, &cl);
	if (ex)
		goto out;
	if (!(body = json_pack("{s:s%}", "text", text, len))) {
		ah_cli_err("policy apply", "%s: not UTF-8 text", file);
		ex = AH_EXIT_USAGE;
		goto out;
	}
	if ((ex = ah_client_call(cl, "PUT", "/v1/policy", body, &st, &o)))
		goto out;
	/* the daemon validated it; the summary is the file's, as locally */
	int rc = ah_policy_load_string(text, len, file, &p, err, sizeof err);
	if (st == 422) {
		ex = ah_client_fail(cl, st, o);
		ex = rc == AH_EPARSE ? AH_EXIT_USAGE : AH_EXIT_REFUSED;
	} else if (st != 200 || rc < 0) {
		ex = ah_client_fail(cl, st, o);
	} else {
		summary(file, p, fmt, "applied");
	}
out:
	ah_policy_free(p);
	free(text);
	json_decref(body);
	json_decref(o);
	ah_client_free(cl);
	return ex;
}

int ah_cmd_policy(int argc, char **argv)
{
	ah_client_opts co = {0};
	const char *db = NULL, *args[2] = {NULL, NULL};
	ah_out_fmt fmt = AH_OUT_TABLE;
	const ah_cli_opt opts[] = {
		AH_OPT("db", 'd', AH_OPT_STRING, &db, .hint = "PATH", .flags = AH_OPT_NONEMPTY),
		AH_OPT("output", 'o', AH_OPT_FORMAT, &fmt, .formats = AH_FMTS_TABLE_JSON),
		AH_CLIENT_OPTS(&co),
	};
	ah_cli_spec spec = {.cmd = "policy", .usage = usage, .opts = opts, .n_opts = AH_CLI_NOPTS(opts),
			    .max_args = 2, .args = args};
	int ex = ah_cli_parse(&spec, argc, argv);
	if (ex != AH_CLI_GO)
		return ex;
	const char *action = args[0], *file = args[1];
	if (!action) {
		usage(stderr);
		return AH_EXIT_USAGE;
	}
	int cx = 0;
	bool remote = strcmp(action, "check") && ah_client_wanted("policy", &co, db, &cx);
	if (cx)
		return cx;
	if (!strcmp(action, "check") && (co.server || co.token || co.token_file)) {
		ah_cli_err("policy", "check is local (it reads FILE only); --server is for apply and show");
		return AH_EXIT_USAGE;
	}
	if (remote && !strcmp(action, "show"))
		return show_remote(&co, fmt);
	if (!strcmp(action, "show")) {
		int nl = ah_cli_need_ledger("policy show", ah_cli_db_path(db));
		return nl ? nl : show(ah_cli_db_path(db), fmt);
	}
	if (strcmp(action, "check") && strcmp(action, "apply")) {
		ah_cli_err("policy", "unknown action '%.64s' (expected check, apply or show)", action);
		return AH_EXIT_USAGE;
	}
	if (!file) {
		ah_cli_err("policy", "%s: missing FILE", action);
		return AH_EXIT_USAGE;
	}
	if (!strcmp(action, "apply"))
		return remote ? apply_remote(&co, file, fmt) : apply(file, ah_cli_db_path(db), fmt);
	char err[512], *text = NULL;
	size_t len;
	ah_policy *p = NULL;
	if (read_file("policy check", file, &text, &len) < 0)
		return AH_EXIT_USAGE;
	int rc = ah_policy_load_string(text, len, file, &p, err, sizeof err);
	free(text);
	if (rc < 0) {
		ah_cli_err("policy check", "%s", err);
		return AH_EXIT_USAGE;
	}
	summary(file, p, fmt, "ok");
	ah_policy_free(p);
	return AH_EXIT_OK;
}

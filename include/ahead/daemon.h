/* ahead: `ahead serve` as one call -- own the ledger (owner.h), apply the
 * policy file, open the service, create the first admin token (printed
 * once), serve the API (server.h), tell systemd when ready (sd_notify),
 * run until SIGTERM. */
#ifndef AHEAD_DAEMON_H
#define AHEAD_DAEMON_H

#include "ahead/api.h"
#include "ahead/server.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
	const char *db_path;
	const char *shadow_path;      /* NULL: beside the ledger */
	const char *policy_path;      /* applied at start unless already current; NULL: the ledger's */
	const char *admin_token_path; /* also write the first admin token here (created 0600-ish, never overwritten) */
	/* --join: register this host as a node of the fleet (node.h) */
	const char *node_name;        /* NULL: not a node */
	const char *node_labels;      /* "k=v,..." or NULL */
	const char *node_capacity;    /* in the policy's dimensions; NULL: the host's cpu and memory */
	ah_server_opts server;
	ah_api_opts api;
	void (*on_ready)(void *ctx, int port);
	void *ctx;
} ah_daemon_opts;

void ah_daemon_opts_init(ah_daemon_opts *o);
/* Returns when the daemon stopped (0) or could not start (err says why). */
int ah_daemon_run(ah_daemon_opts *o, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif

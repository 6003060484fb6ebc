/* ahead: the HTTP transport of `ahead serve` -- libmicrohttpd in one
 * thread driven by our own event loop, so the engine has one owner and no
 * locks: each loop turn reads what every connection sent, answers reads at
 * once, and runs the writes that arrived as one batch (one ledger commit),
 * answering them only after the commit. Watches stream Server-Sent Events.
 * Timers run on CLOCK_MONOTONIC; records carry wall time. Signals arrive
 * through a signalfd: SIGTERM/SIGINT drain and stop, SIGHUP reloads the
 * policy (validated first; a bad file leaves the old one). */
#ifndef AHEAD_SERVER_H
#define AHEAD_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ahead/api.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ah_server ah_server;

typedef enum { AH_LOG_ERROR = 0, AH_LOG_WARN, AH_LOG_INFO, AH_LOG_DEBUG } ah_log_level;

typedef struct {
	const char *listen;          /* "127.0.0.1:7070", "[::1]:7070", ":7070" (all) */
	const char *tls_cert_path;   /* both or neither */
	const char *tls_key_path;
	bool insecure;               /* allow plain HTTP on a non-loopback address */
	size_t body_max_bytes;       /* default AH_API_BODY_MAX */
	unsigned conn_max;           /* default AH_API_CONN_MAX */
	unsigned conn_per_ip_max;    /* default AH_API_CONN_PER_IP_MAX */
	unsigned idle_timeout_s;     /* default AH_API_IDLE_TIMEOUT_S */
	int64_t batch_window_ns;     /* wait this long for more writes before a commit (default 0) */
	int batch_max;               /* or until this many (default 512) */
	int64_t tick_ns;             /* lease expiry, queue timeouts (default 1 s) */
	int64_t sweep_ns;            /* idempotency keys, old events (default 60 s) */
	int64_t scale_ns;            /* pool shaping step, when a pool shapes (default 30 s; 0 off) */
	int64_t compact_ns;          /* usage history retention (default 1 h; 0 off) */
	ah_log_level log_level;
	const char *policy_path;     /* re-read on SIGHUP; NULL: SIGHUP only logs */
	/* One writer (docs/CLUSTER.md): on an etcd ledger, the URL other
	 * instances reach this one at; instances that advertise elect one
	 * writer and forward their allocation writes to it. NULL: none. */
	const char *advertise_url;
	/* once listening (sd_notify READY=1 in the daemon) */
	void (*on_ready)(void *ctx, int port);
	void *ctx;
} ah_server_opts;

void ah_server_opts_init(ah_server_opts *o);

/* Listens; err says why not (address in use, TLS files, a non-loopback
 * address without TLS or insecure). The API is borrowed. */
int ah_server_new(ah_api *api, ah_service *svc, const ah_server_opts *o, ah_server **out, char *err, size_t errlen);
/* The port it listens on (for :0 in tests). */
int ah_server_port(const ah_server *s);
/* Runs until SIGTERM/SIGINT (blocked by the caller and taken through a
 * signalfd) or ah_server_stop; drains what is in flight. */
int ah_server_run(ah_server *s);
void ah_server_stop(ah_server *s);
void ah_server_free(ah_server *s);

/* One structured log line ("t=... level=... msg=... k=v ...") on stderr,
 * if level passes the filter. */
void ah_log(ah_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ah_log_set_level(ah_log_level level);
int ah_log_level_parse(const char *s, ah_log_level *out);

#ifdef __cplusplus
}
#endif
#endif

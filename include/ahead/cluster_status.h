/* ahead: what an etcd ledger's cluster looks like now (`ahead cluster
 * status`): the members and their raft state, the ahead instances alive on
 * the ledger (their lease keys, with the view and watch each published),
 * the ledger's head revision and commit count. Read-only: a member list, one status call per member, one range. */
#ifndef AHEAD_CLUSTER_STATUS_H
#define AHEAD_CLUSTER_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AH_CLUSTER_MEMBERS_MAX 16
#define AH_CLUSTER_INSTANCES_MAX 128

typedef struct {
	char name[64];
	char id[24];                /* hex, as etcdctl shows it */
	char client_url[128];
	bool reachable;
	bool leader;
	char version[24];
	int64_t raft_index, raft_term, db_size_bytes;
	char error[192];            /* why it did not answer ("" when it did) */
} ah_cluster_member;

typedef struct {
	char name[128];             /* HOST-PID, the key under PREFIX/inst/ */
	long pid;
	int64_t lease_ttl_s;        /* seconds left on its lease (-1: unknown) */
	int64_t since_revision;     /* the revision its key was created at */
	/* what a daemon publishes on its key (at most a second old): its view's
	 * revision and its watch (include/ahead/etcd_watch.h) */
	bool watching;              /* it runs a watch (false: a CLI, or no watch) */
	bool watch_up;
	int64_t view_revision, watch_revision, relists, lag_ms;
	int64_t behind;             /* head_revision - view_revision (>= 0) */
} ah_cluster_instance;

typedef struct {
	int n_members;
	ah_cluster_member member[AH_CLUSTER_MEMBERS_MAX];
	int n_instances;
	ah_cluster_instance instance[AH_CLUSTER_INSTANCES_MAX];
	int64_t revision;           /* the cluster's revision when read */
	int64_t head_revision;      /* the ledger head's mod revision (0: a ledger never written) */
	int64_t commits;            /* commits the head counts */
	bool have_shaper;           /* an instance holds the shaper election (PREFIX/shaper) */
	char shaper[128];           /* its name */
	int64_t shaper_token;       /* the key's create revision: its fencing token */
	bool have_writer;           /* an instance holds the writer election (PREFIX/writer, serve --advertise) */
	char writer[128];           /* its advertised URL: the others forward their allocation writes to it */
	char prefix[128];
	/* over the instances that watch: the most revisions a view is behind
	 * the head, and the longest last catch-up (-1: no instance watches) */
	int64_t max_behind, max_lag_ms;
} ah_cluster_status;

/* endpoints "http://HOST:PORT,..."; prefix "/ahead/NAME". AH_ESTORE with
 * err naming the endpoint when no member answers. */
int ah_cluster_status_get(const char *endpoints, const char *prefix, long timeout_ms, ah_cluster_status *out,
			  char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif

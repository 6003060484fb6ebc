/* ahead: the nodes of an edge fleet on an etcd ledger (docs/CLUSTER.md,
 * "Nodes").
 *
 * A node is a host whose `ahead serve --join` offers its capacity. It has
 * two keys beside the ledger:
 *   PREFIX/node/NAME  its record, kept when the host is gone: capacity per
 *                     dimension (by name, in the dimension's base unit),
 *                     labels, cordoned, the instance that last registered
 *                     it and when (wall time, for people only);
 *   PREFIX/inst/ID    the instance key of the daemon serving it, on that
 *                     daemon's etcd lease, whose value names the node.
 * A node is up while an instance key naming it lives: its lease lapses one
 * TTL after the host stopped renewing it, by etcd's clock, not the hosts'
 * (so wall-clock skew between nodes decides nothing). Registration keeps a
 * cordon an operator set; records are written with a compare on their
 * mod revision, so a cordon and a re-registration never lose each other.
 *
 * Pools on nodes (policy `nodes`) take their capacity from the up nodes
 * and place every allocation on one of them: each instance reads the list
 * once a second and gives it to its engine (ah_service_nodes_sync). */
#ifndef AHEAD_NODE_H
#define AHEAD_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ahead/ledger.h"
#include "ahead/limits.h"
#include "ahead/placement.h"
#include "ahead/resource.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
	char name[AH_NAME_MAX];             /* the object grammar (names.h) */
	int n_dims;
	char dim[AH_MAX_DIMS][AH_NAME_MAX]; /* dimension names */
	int64_t capacity[AH_MAX_DIMS];      /* in each dimension's base unit */
	ah_unit_kind kind[AH_MAX_DIMS];     /* that unit (for people: 2 cores, 8Gi) */
	int n_labels;
	ah_label labels[AH_PLACE_LABELS_MAX];
} ah_node_spec;

typedef struct {
	ah_node_spec spec;
	bool cordoned;
	bool draining;           /* cordoned, and its allocations move where they fit */
	bool up;                 /* an instance key naming it lives */
	char instance[128];      /* the instance key serving it ("" when down) */
	long pid;                /* that instance's pid (0 when down) */
	int64_t lease_ttl_s;     /* seconds left on its lease (-1: unknown or down) */
	char registered_by[128]; /* the instance that last wrote the record */
	int64_t registered_ns;   /* when, by that host's wall clock */
	int64_t record_revision; /* the record's mod revision */
	int placed;              /* live allocations placed on it (ah_node_list_get only) */
	uint32_t enforce_errors; /* its daemon's failed cgroup limit writes (its instance key) */
	uint32_t kills;          /* OOM kills in its allocations' cgroups its daemon saw (its instance key) */
} ah_node;

typedef struct {
	int n;
	ah_node node[AH_NODES_MAX];
	int64_t revision;        /* the cluster's revision when read */
	char prefix[128];
} ah_node_list;

/* Registers (or updates) this host's node on an etcd ledger: writes its
 * record, keeping a cordon already set, and names the node on the ledger's
 * instance key (so it is up while this process renews its lease).
 * wall_ns: now by the wall clock (shown, never compared). AH_EINVAL for a
 * ledger that is not etcd or a bad spec; AH_EEXIST when another live
 * instance serves the node; store errors otherwise (err says why). */
int ah_node_register(ah_ledger *l, const ah_node_spec *spec, int64_t wall_ns, char *err, size_t errlen);

/* Every node of the ledger at endpoints/prefix, by name. */
int ah_node_list_get(const char *endpoints, const char *prefix, long timeout_ms, ah_node_list *out, char *err,
		     size_t errlen);

/* The same, through an open etcd ledger's own client (AH_EINVAL for
 * another store). */
int ah_node_list_of(ah_ledger *l, ah_node_list *out, char *err, size_t errlen);

/* Sets or clears a node's cordon (a cordoned node takes nothing new) and
 * drain (cordoned, and the instances move its allocations to other nodes
 * where they fit whole; draining implies cordoned). AH_ENOENT for an
 * unknown node; a record changed meanwhile is read again (a few times,
 * then AH_EBUSY). */
int ah_node_set_cordon(const char *endpoints, const char *prefix, const char *name, bool cordoned, bool draining,
		       long timeout_ms, char *err, size_t errlen);

/* The record's JSON (what PREFIX/node/NAME holds), and back. Parse
 * checks every field (names, labels, capacities >= 0): AH_EPARSE with err
 * naming the field. */
char *ah_node_record_encode(const ah_node *n);
int ah_node_record_decode(const char *text, ah_node *out, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif

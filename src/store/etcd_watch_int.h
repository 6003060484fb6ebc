/* ahead: what the etcd ledger reads from a watch (private to the store). */
#ifndef AHEAD_STORE_ETCD_WATCH_INT_H
#define AHEAD_STORE_ETCD_WATCH_INT_H

#include <jansson.h>
#include <stdint.h>

#include "ahead/etcd_watch.h"

/* The watch's mirror of PREFIX/s/ in the shape of a gateway range answer
 * ({"header":{"revision"},"kvs":[{"key","value" (base64),"mod_revision"}]},
 * sorted by key): the state at one revision. AH_ENOENT while the watch
 * has no mirror (not read yet, or being read again after a compaction) or
 * when PREFIX/s/head in it was last changed before min_head_rev. */
int etcd_watch_view(ah_etcd_watch *w, int64_t min_head_rev, json_t **out);

#endif

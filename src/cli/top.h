/* ahead top: a terminal monitor of a daemon, split in two.
 *
 * top_data.c fetches a snapshot over the API (GET /v1/pools, /v1/queue,
 * and the event log followed incrementally for the last 24 h's scale,
 * resize, preempt, expire, timeout and policy events); top_draw.c lays a
 * snapshot out as a frame of lines, which cmd_top.c prints as plain text
 * (--once, --batch) or draws with ncurses. The frame is the same either
 * way, so the plain frame the tests read is what the screen shows. */
#ifndef AHEAD_CLI_TOP_H
#define AHEAD_CLI_TOP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ahead/policy.h"
#include "cli/client.h"

/* The notable events kept (newest last); older ones leave first. */
#define AH_TOP_EVENTS_MAX 512
/* Event pages (1000 events each) read per refresh while catching up, so
 * one refresh of a busy daemon's day never stalls the screen for long. */
#define AH_TOP_EVENT_PAGES 20
#define AH_TOP_WINDOW_NS (24LL * 3600 * 1000000000LL)

typedef struct {
	ah_client *cl;
	const char *url;  /* what the header shows */
	ah_policy *pol;   /* the daemon's dimensions and units */
	json_t *pools;    /* GET /v1/pools (the whole answer), NULL before the first */
	json_t *queue;    /* GET /v1/queue */
	json_t *events;   /* array of notable event objects, oldest first */
	int64_t ev_after; /* the last event seq read */
	bool ev_found;    /* ev_after points into the window (found once) */
	int64_t ev_dropped; /* notable events of the window pushed out of the ring */
	char revision[32];  /* the daemon's resourceVersion at the last refresh */
	int64_t fetched_ns; /* when the last refresh succeeded */
	char error[256];    /* why the last refresh failed ("" when it did not) */
} ah_top_state;

/* cl owned by the state from now on; url borrowed. */
void ah_top_init(ah_top_state *s, ah_client *cl, const char *url);
void ah_top_fini(ah_top_state *s);
/* Loads the policy (once) and refreshes the snapshot at now_ns. 0, or the
 * exit code of a failed call (printed on stderr, its last line also kept in
 * s->error by the caller when stderr is captured); the previous snapshot
 * stays when a refresh fails. */
int ah_top_refresh(ah_top_state *s, int64_t now_ns);

/* ---- the frame ---- */

/* What a segment of a line looks like (curses maps these to attributes;
 * plain text ignores them). */
typedef enum {
	AH_TOP_NORMAL = 0,
	AH_TOP_HEADER, /* the header lines */
	AH_TOP_TITLE,  /* a section's title row */
	AH_TOP_OK,     /* a bar below 70 % */
	AH_TOP_WARN,   /* 70 % to 90 % */
	AH_TOP_CRIT,   /* 90 % and above */
	AH_TOP_DIM,    /* the empty part of a bar, notes */
	AH_TOP_ERROR,  /* a failed refresh */
	AH_TOP__NATTR
} ah_top_attr;

#define AH_TOP_SEGS 8
typedef struct {
	int n;
	ah_top_attr attr[AH_TOP_SEGS];
	char *text[AH_TOP_SEGS];
} ah_top_line;

typedef struct {
	ah_top_line *lines;
	int n, cap;
} ah_top_frame;

typedef enum { AH_TOP_FOCUS_POOLS = 0, AH_TOP_FOCUS_QUEUE, AH_TOP_FOCUS_EVENTS } ah_top_focus;

typedef struct {
	int width, height;   /* height 0: every line (plain frames) */
	bool utf8;           /* block characters for bars, else ASCII */
	int64_t interval_ns; /* shown in the header */
	int64_t now_ns;      /* ages and the 24 h window */
	ah_top_focus focus;  /* the section that gets the spare rows */
	int scroll;          /* first row shown of the focused section */
	bool sort_used;      /* pools by peak utilisation, else by name */
	bool keys;           /* the key help line at the bottom */
} ah_top_view;

/* Lays the state out. 0 or AH_ENOMEM. */
int ah_top_render(const ah_top_state *s, const ah_top_view *v, ah_top_frame *f);
void ah_top_frame_fini(ah_top_frame *f);

#endif

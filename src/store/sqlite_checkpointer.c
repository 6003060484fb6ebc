/* WAL checkpoints on a thread of their own: see sqlite_checkpointer.h. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "store/sqlite_checkpointer.h"

/* A background pass once the WAL has grown by this many frames since the
 * last pass began (SQLite's own default interval)... */
#define CKPT_PASS_FRAMES 1000
/* ...and once a pass finds at least this many, the writer's catch-up, so
 * the WAL restarts: it stays under about 40 MiB at 4 KiB pages. Each
 * catch-up holds a commit 1-3 ms (its syncs), so fewer is better for the
 * tail: bench/run api's p99 was 3.7 ms at 3000, 3.4 ms at 8000. */
#define CKPT_RESET_FRAMES 8000
/* Past this, a commit waits for a pass under way to end and then catches
 * up itself: back-pressure. Without it the WAL grows by what the writer
 * commits during the passes, and a pass slowed by a busy machine let it
 * reach 14,000 frames (57 MB, test_ledger_checkpoint under ASan beside
 * other tests). The cap holds the WAL under about 45 MiB however slow the
 * passes are. */
#define CKPT_CAP_FRAMES 11000

struct ah_sqlite_ckpt {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	sqlite3 *db; /* the thread's own connection */
	bool want, busy, stop, catchup_due;
	bool full_sync;
	int frames;    /* the WAL's size at the last commit */
	int pass_from; /* ... when the last pass was asked for */
	long long passes, catchups;
};

static void set_sync(sqlite3 *db, bool full)
{
	sqlite3_exec(db, full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
}

static void *ckpt_main(void *arg)
{
	ah_sqlite_ckpt *c = arg;
	bool applied = c->full_sync;
	set_sync(c->db, applied);
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->want && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->stop)
			break;
		c->want = false;
		c->busy = true;
		bool full = c->full_sync;
		pthread_mutex_unlock(&c->mu);
		if (full != applied)
			set_sync(c->db, applied = full);
		int nlog = 0, nckpt = 0;
		/* PASSIVE: copies what no reader still needs, never waits for
		 * nor blocks the writer (SQLITE_BUSY: another checkpoint runs) */
		int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &nlog, &nckpt);
		pthread_mutex_lock(&c->mu);
		c->busy = false;
		c->passes++;
		if (rc == SQLITE_OK && nlog >= CKPT_RESET_FRAMES)
			c->catchup_due = true;
		/* a commit past the cap may wait for this; the thread, the only
		 * other waiter, is not waiting now */
		pthread_cond_broadcast(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* After every commit of the writer, outside its write lock (SQLite's own
 * automatic checkpoint runs from the same hook). */
static int on_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
	ah_sqlite_ckpt *c = arg;
	bool catchup = false;
	pthread_mutex_lock(&c->mu);
	c->frames = frames;
	if (frames < c->pass_from)
		c->pass_from = 0; /* the WAL restarted */
	if (frames >= CKPT_CAP_FRAMES) {
		while (c->busy)
			pthread_cond_wait(&c->cv, &c->mu);
		c->catchup_due = true;
	}
	if (c->catchup_due && !c->busy) {
		c->catchup_due = false;
		catchup = true;
	} else if (!c->busy && !c->want && frames - c->pass_from >= CKPT_PASS_FRAMES) {
		c->want = true;
		c->pass_from = frames;
		pthread_cond_signal(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	if (catchup) {
		/* what arrived during the pass: then every frame is in the file
		 * and the next write starts the WAL over */
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&c->mu);
		c->catchups++;
		pthread_mutex_unlock(&c->mu);
	}
	return SQLITE_OK;
}

int ah_sqlite_ckpt_start(sqlite3 *writer, const char *path, bool full_sync, ah_sqlite_ckpt **out, char *err,
			 size_t errlen)
{
	int rc = AH_ENOMEM;
	ah_sqlite_ckpt *c = calloc(1, sizeof *c);
	if (!c)
		goto fail;
	c->full_sync = full_sync;
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot open a checkpoint connection: %s", path,
			 c->db ? sqlite3_errmsg(c->db) : "out of memory");
		rc = AH_EIO;
		goto fail;
	}
	/* its close must not checkpoint either (the writer's is off too) */
	sqlite3_db_config(c->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	/* the thread takes no signals: a daemon reads them from a signalfd,
	 * which works only while every thread blocks them */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int prc = pthread_create(&c->th, NULL, ckpt_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (prc != 0) {
		snprintf(err, errlen, "%s: cannot start the checkpoint thread", path);
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
		rc = AH_EIO;
		goto fail;
	}
	sqlite3_wal_hook(writer, on_commit, c); /* replaces the automatic checkpoint */
	*out = c;
	return 0;
fail:
	if (c)
		sqlite3_close(c->db);
	free(c);
	return rc;
}

void ah_sqlite_ckpt_set_full_sync(ah_sqlite_ckpt *c, bool full_sync)
{
	pthread_mutex_lock(&c->mu);
	c->full_sync = full_sync;
	pthread_mutex_unlock(&c->mu);
}

void ah_sqlite_ckpt_get_stats(ah_sqlite_ckpt *c, ah_sqlite_ckpt_stats *out)
{
	pthread_mutex_lock(&c->mu);
	out->passes = c->passes;
	out->catchups = c->catchups;
	out->wal_frames = c->frames;
	pthread_mutex_unlock(&c->mu);
}

void ah_sqlite_ckpt_stop(ah_sqlite_ckpt *c, sqlite3 *writer)
{
	if (!c)
		return;
	sqlite3_wal_autocheckpoint(writer, 1000); /* SQLite's default again */
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->th, NULL);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	sqlite3_close(c->db);
	free(c);
}

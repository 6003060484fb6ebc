/* Process-wide SQLite settings, made once before the first connection
 * opens (sqlite3_config refuses them after sqlite3_initialize). */
#include <pthread.h>
#include <sqlite3.h>

#include "store/ledger_internal.h"

static void configure(void)
{
	/* Memory statistics take a global mutex on every allocation SQLite
	 * makes (dozens per ledger write); nothing reads them. */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

void ah_store_sqlite_config(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, configure);
}

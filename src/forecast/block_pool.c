/* ahead: the pool of large scratch blocks (see block_pool.h). A few dozen
 * blocks, taken and returned once each per fit, so a spin lock and a linear
 * search are enough. */
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "block_pool.h"

#define POOL_SLOTS 64
#define POOL_MAX_BYTES ((size_t)16 << 20) /* kept at most: about 3 fits' worth */
#define POOL_MIN_BYTES ((size_t)16 << 10) /* smaller blocks come cheaply from malloc */

/* under AddressSanitizer every block goes back to free(), so that a use
 * after the forecaster is freed is still caught */
#if defined(__SANITIZE_ADDRESS__)
#define POOL_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_OFF 1
#endif
#endif
#ifndef POOL_OFF
#define POOL_OFF 0
#endif

static struct {
	void *p[POOL_SLOTS];
	size_t n[POOL_SLOTS];
	size_t count, bytes;
} pool;
static atomic_flag pool_lock = ATOMIC_FLAG_INIT;

static void lock(void)
{
	while (atomic_flag_test_and_set_explicit(&pool_lock, memory_order_acquire))
		sched_yield(); /* the holder may have been preempted: let it finish */
}

static void unlock(void)
{
	atomic_flag_clear_explicit(&pool_lock, memory_order_release);
}

void *ah_fc_block_get(size_t bytes)
{
	if (!POOL_OFF && bytes >= POOL_MIN_BYTES) {
		void *p = NULL;
		lock();
		for (size_t i = pool.count; i-- > 0;)
			if (pool.n[i] == bytes) {
				p = pool.p[i];
				pool.bytes -= bytes;
				pool.count--;
				pool.p[i] = pool.p[pool.count];
				pool.n[i] = pool.n[pool.count];
				break;
			}
		unlock();
		if (p)
			return p;
	}
	return malloc(bytes ? bytes : 1);
}

void ah_fc_block_put(void *p, size_t bytes)
{
	if (!p)
		return;
	bool kept = false;
	if (!POOL_OFF && bytes >= POOL_MIN_BYTES) {
		lock();
		if (pool.count < POOL_SLOTS && pool.bytes + bytes <= POOL_MAX_BYTES) {
			pool.p[pool.count] = p;
			pool.n[pool.count++] = bytes;
			pool.bytes += bytes;
			kept = true;
		}
		unlock();
	}
	if (!kept)
		free(p);
}

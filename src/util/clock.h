/* The monotonic clock, and waiting on it: CLOCK_MONOTONIC does not jump
 * when the wall clock is set, so timeouts and rates measured on it hold. */
#ifndef SB_UTIL_CLOCK_H
#define SB_UTIL_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Microseconds on CLOCK_MONOTONIC. */
int64_t sb_mono_us(void);

/* The CLOCK_MONOTONIC time us microseconds from now: the deadline for
 * pthread_cond_timedwait on a condition made by sb_cond_init_mono. */
struct timespec sb_mono_deadline(int64_t us);

/* pthread_cond_init for a condition whose timed waits use CLOCK_MONOTONIC.
 * Returns pthread_cond_init's result. */
int sb_cond_init_mono(pthread_cond_t *cond);

#endif

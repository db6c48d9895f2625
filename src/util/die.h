/* Fatal errors: allocation failure and broken invariants abort the process
 * with a message (clients cannot reach these; their inputs are bounded). */
#ifndef SB_DIE_H
#define SB_DIE_H

_Noreturn void sb_die(const char *msg);
/* malloc/realloc/calloc that abort instead of returning NULL. */
void *sb_xmalloc(unsigned long size);
void *sb_xrealloc(void *ptr, unsigned long size);
void *sb_xcalloc(unsigned long n, unsigned long size);

#endif

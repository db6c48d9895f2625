/* Arena allocator: many small allocations that live and die together (one
 * spec compile, one request). Allocation failure aborts the process; the
 * bounds on client-controlled sizes live with the callers. */
#ifndef SB_ARENA_H
#define SB_ARENA_H

#include <stddef.h>

struct sb_arena_chunk;

struct sb_arena {
    struct sb_arena_chunk *head; /* owned: newest chunk first */
    size_t used_total;           /* bytes handed out, for limits and stats */
};

/* Initialise an empty arena (no allocation until first use). */
void sb_arena_init(struct sb_arena *arena);
/* Free every chunk; the arena may be reused after sb_arena_init. */
void sb_arena_free(struct sb_arena *arena);
/* Zeroed memory aligned for any type; owned by the arena. */
void *sb_arena_alloc(struct sb_arena *arena, size_t size);
/* Copy of len bytes plus a terminating NUL; owned by the arena. */
char *sb_arena_strndup(struct sb_arena *arena, const char *src, size_t len);
/* Copy of a NUL-terminated string; owned by the arena. */
char *sb_arena_strdup(struct sb_arena *arena, const char *src);
/* printf into arena memory; returns the owned, NUL-terminated result. */
char *sb_arena_printf(struct sb_arena *arena, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Growable array of pointers kept in an arena (old storage is abandoned to
 * the arena when it grows; cheap because arrays here are small). */
struct sb_ptrvec {
    void **items;
    size_t len, cap;
};
void sb_ptrvec_push(struct sb_arena *arena, struct sb_ptrvec *vec, void *item);

#endif

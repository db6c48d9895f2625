/* Arena allocator: chunks of memory handed out by bumping a pointer, freed
 * all at once. Used for the spec model (lives as long as the server) and for
 * per-request scratch. See arena.h. */
#include "util/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/die.h"

#define CHUNK_MIN (16 * 1024)
#define ALIGN     16

struct sb_arena_chunk {
    struct sb_arena_chunk *next;
    size_t size, used;
    _Alignas(ALIGN) unsigned char data[];
};

void sb_arena_init(struct sb_arena *arena)
{
    arena->head = NULL;
    arena->used_total = 0;
}

void sb_arena_free(struct sb_arena *arena)
{
    struct sb_arena_chunk *chunk = arena->head;
    while (chunk) {
        struct sb_arena_chunk *next = chunk->next;
        free(chunk);
        chunk = next;
    }
    arena->head = NULL;
    arena->used_total = 0;
}

void *sb_arena_alloc(struct sb_arena *arena, size_t size)
{
    size_t rounded = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (rounded < size)
        sb_die("arena: allocation size overflow");
    struct sb_arena_chunk *chunk = arena->head;
    if (!chunk || chunk->size - chunk->used < rounded) {
        size_t want = rounded > CHUNK_MIN ? rounded : CHUNK_MIN;
        if (arena->head && want < arena->head->size * 2 && arena->head->size < (1u << 20))
            want = arena->head->size * 2;
        chunk = malloc(sizeof(*chunk) + want);
        if (!chunk)
            sb_die("out of memory");
        chunk->size = want;
        chunk->used = 0;
        chunk->next = arena->head;
        arena->head = chunk;
    }
    void *ptr = chunk->data + chunk->used;
    chunk->used += rounded;
    arena->used_total += rounded;
    memset(ptr, 0, size);
    return ptr;
}

char *sb_arena_strndup(struct sb_arena *arena, const char *src, size_t len)
{
    char *dst = sb_arena_alloc(arena, len + 1);
    if (len)
        memcpy(dst, src, len);
    dst[len] = '\0';
    return dst;
}

char *sb_arena_strdup(struct sb_arena *arena, const char *src)
{
    return sb_arena_strndup(arena, src, strlen(src));
}

char *sb_arena_printf(struct sb_arena *arena, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        sb_die("arena_printf: bad format");
    char *dst = sb_arena_alloc(arena, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(dst, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return dst;
}

void sb_ptrvec_push(struct sb_arena *arena, struct sb_ptrvec *vec, void *item)
{
    if (vec->len == vec->cap) {
        size_t cap = vec->cap ? vec->cap * 2 : 4;
        void **items = sb_arena_alloc(arena, cap * sizeof(*items));
        if (vec->len)
            memcpy(items, vec->items, vec->len * sizeof(*items));
        vec->items = items;
        vec->cap = cap;
    }
    vec->items[vec->len++] = item;
}

/* Fatal error helpers, see die.h. */
#include "util/die.h"

#include <stdio.h>
#include <stdlib.h>

_Noreturn void sb_die(const char *msg)
{
    fprintf(stderr, "specbase: fatal: %s\n", msg);
    abort();
}

void *sb_xmalloc(unsigned long size)
{
    void *ptr = malloc(size ? size : 1);
    if (!ptr)
        sb_die("out of memory");
    return ptr;
}

void *sb_xrealloc(void *ptr, unsigned long size)
{
    void *out = realloc(ptr, size ? size : 1);
    if (!out)
        sb_die("out of memory");
    return out;
}

void *sb_xcalloc(unsigned long n, unsigned long size)
{
    void *ptr = calloc(n ? n : 1, size ? size : 1);
    if (!ptr)
        sb_die("out of memory");
    return ptr;
}

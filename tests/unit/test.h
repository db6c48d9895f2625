/* A small unit-test harness. Each tests/unit/test_*.c is its own program,
 * linked against build/libspecbase.a, that includes this header once:
 *
 *   TEST(buf_limit)
 *   {
 *       CHECK(buf.too_big);
 *       CHECK_EQ_STR(sb_buf_str(&buf), "abc");
 *       CHECK_EQ_INT(buf.len, 3);
 *   }
 *
 * Tests register themselves and run in the order they are defined. A failed
 * CHECK prints file:line and what was compared, and the test goes on; main
 * prints "ok NAME" or "FAIL NAME" per test and ends with the line
 * "N passed, N failed" (exit 1 when anything failed). An argument runs only
 * the tests whose name contains it. */
#ifndef SB_TEST_H
#define SB_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct sb_test {
    const char *name;
    void (*run)(void);
    struct sb_test *next;
};

static struct sb_test *sb_test_head;
static struct sb_test **sb_test_tail = &sb_test_head;
static int sb_test_failures; /* failed checks in the running test */

#define TEST(name)                                                                                 \
    static void test_##name(void);                                                                 \
    static struct sb_test sb_test_entry_##name = {#name, test_##name, NULL};                       \
    __attribute__((constructor)) static void sb_test_register_##name(void)                         \
    {                                                                                              \
        *sb_test_tail = &sb_test_entry_##name;                                                     \
        sb_test_tail = &sb_test_entry_##name.next;                                                 \
    }                                                                                              \
    static void test_##name(void)

__attribute__((unused, format(printf, 3, 4))) static void sb_test_fail(const char *file, int line,
                                                                       const char *fmt, ...)
{
    va_list ap;
    sb_test_failures++;
    printf("%s:%d: ", file, line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            sb_test_fail(__FILE__, __LINE__, "CHECK(%s) failed", #cond);                           \
    } while (0)

#define CHECK_EQ_INT(got, want)                                                                    \
    do {                                                                                           \
        long long got_ = (long long)(got), want_ = (long long)(want);                              \
        if (got_ != want_)                                                                         \
            sb_test_fail(__FILE__, __LINE__, "%s == %lld, want %lld", #got, got_, want_);          \
    } while (0)

/* Strings are shown between lines of dashes so that multi-line text (a
 * rendered diagnostic) can be compared by eye. NULL equals only NULL. */
#define CHECK_EQ_STR(got, want)                                                                    \
    do {                                                                                           \
        const char *got_ = (got), *want_ = (want);                                                 \
        if ((got_ == NULL || want_ == NULL) ? got_ != want_ : strcmp(got_, want_) != 0)            \
            sb_test_fail(__FILE__, __LINE__, "%s differs\n--- got:\n%s\n--- want:\n%s\n---", #got, \
                         got_ ? got_ : "(null)", want_ ? want_ : "(null)");                        \
    } while (0)

int main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    int n_passed = 0, n_failed = 0;
    for (struct sb_test *test = sb_test_head; test; test = test->next) {
        if (filter && !strstr(test->name, filter))
            continue;
        sb_test_failures = 0;
        test->run();
        if (sb_test_failures) {
            printf("FAIL %s\n", test->name);
            n_failed++;
        } else {
            printf("ok   %s\n", test->name);
            n_passed++;
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}

#endif

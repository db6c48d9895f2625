/* Unit tests of src/util: the arena (zeroed, aligned, large blocks, string
 * copies, pointer vectors), the byte buffer (growth, printf past its small
 * stack buffer, the size limit and its sticky too_big flag, take), and the
 * diagnostics (line and column in characters, the rendered line with its
 * caret, sorting, the error cap, "did you mean" suggestions). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/diag.h"

/* ---- arena ---------------------------------------------------------------- */

TEST(arena_alloc_is_zeroed_aligned_and_disjoint)
{
    struct sb_arena arena;
    sb_arena_init(&arena);
    unsigned char *blocks[100];
    for (size_t i = 0; i < 100; i++) {
        blocks[i] = sb_arena_alloc(&arena, i + 1);
        CHECK((uintptr_t)blocks[i] % 16 == 0);
        for (size_t j = 0; j <= i; j++)
            CHECK(blocks[i][j] == 0);
        memset(blocks[i], (int)i, i + 1);
    }
    for (size_t i = 0; i < 100; i++)
        for (size_t j = 0; j <= i; j++)
            CHECK(blocks[i][j] == (unsigned char)i);
    CHECK(arena.used_total >= 100 * 101 / 2);
    sb_arena_free(&arena);
    CHECK(arena.head == NULL);
    CHECK_EQ_INT(arena.used_total, 0);
}

TEST(arena_large_block)
{
    struct sb_arena arena;
    sb_arena_init(&arena);
    sb_arena_alloc(&arena, 10);
    size_t size = 3u << 20; /* larger than any chunk */
    unsigned char *big = sb_arena_alloc(&arena, size);
    CHECK(big[0] == 0 && big[size / 2] == 0 && big[size - 1] == 0);
    memset(big, 0xAB, size);
    unsigned char *after = sb_arena_alloc(&arena, 32);
    CHECK(after[0] == 0 && after[31] == 0);
    CHECK(arena.used_total >= size + 32);
    sb_arena_free(&arena);
}

TEST(arena_strings)
{
    struct sb_arena arena;
    sb_arena_init(&arena);
    CHECK_EQ_STR(sb_arena_strndup(&arena, "abcdef", 2), "ab");
    CHECK_EQ_STR(sb_arena_strndup(&arena, "", 0), "");
    CHECK_EQ_STR(sb_arena_strdup(&arena, "collection"), "collection");
    CHECK_EQ_STR(sb_arena_printf(&arena, "%s_%d_idx", "order", 42), "order_42_idx");
    char long_text[1001];
    memset(long_text, 'x', 1000);
    long_text[1000] = '\0';
    char *copy = sb_arena_printf(&arena, "<%s>", long_text);
    CHECK_EQ_INT(strlen(copy), 1002);
    CHECK(copy[0] == '<' && copy[1001] == '>');
    sb_arena_free(&arena);
}

TEST(arena_ptrvec_keeps_order_while_growing)
{
    struct sb_arena arena;
    sb_arena_init(&arena);
    struct sb_ptrvec vec = {0};
    int values[100];
    for (int i = 0; i < 100; i++) {
        values[i] = i;
        sb_ptrvec_push(&arena, &vec, &values[i]);
    }
    CHECK_EQ_INT(vec.len, 100);
    CHECK(vec.cap >= 100);
    for (int i = 0; i < 100; i++)
        CHECK(vec.items[i] == &values[i]);
    sb_arena_free(&arena);
}

/* ---- buf ------------------------------------------------------------------ */

TEST(buf_appends)
{
    struct sb_buf buf;
    sb_buf_init(&buf);
    CHECK_EQ_STR(sb_buf_str(&buf), "");
    CHECK(buf.data == NULL);
    sb_buf_puts(&buf, "app ");
    sb_buf_append(&buf, "shopping", 4);
    sb_buf_putc(&buf, '\n');
    sb_buf_printf(&buf, "%d|%s", 7, "x");
    sb_buf_fill(&buf, '-', 3);
    CHECK_EQ_STR(sb_buf_str(&buf), "app shop\n7|x---");
    CHECK_EQ_INT(buf.len, 15);
    sb_buf_reset(&buf);
    CHECK_EQ_STR(sb_buf_str(&buf), "");
    CHECK_EQ_INT(buf.len, 0);
    sb_buf_free(&buf);
}

TEST(buf_printf_longer_than_its_stack_buffer)
{
    struct sb_buf buf;
    sb_buf_init(&buf);
    char word[301];
    memset(word, 'w', 300);
    word[300] = '\0';
    sb_buf_puts(&buf, "[");
    sb_buf_printf(&buf, "%s:%s", word, word);
    CHECK_EQ_INT(buf.len, 1 + 601);
    CHECK(buf.data[0] == '[' && buf.data[301] == ':' && buf.data[602] == '\0');
    CHECK_EQ_INT(strlen(sb_buf_str(&buf)), buf.len);
    sb_buf_free(&buf);
}

TEST(buf_limit_sets_too_big_and_keeps_content)
{
    struct sb_buf buf;
    sb_buf_init(&buf);
    buf.limit = 10;
    sb_buf_puts(&buf, "12345678");
    CHECK(!buf.too_big);
    sb_buf_puts(&buf, "abc"); /* would make 11 */
    CHECK(buf.too_big);
    CHECK_EQ_STR(sb_buf_str(&buf), "12345678");
    sb_buf_putc(&buf, 'z'); /* fits, but too_big is sticky */
    CHECK_EQ_INT(buf.len, 8);
    sb_buf_printf(&buf, "%d", 1);
    sb_buf_fill(&buf, 'x', 1);
    CHECK_EQ_STR(sb_buf_str(&buf), "12345678");
    sb_buf_reset(&buf);
    CHECK(!buf.too_big);
    sb_buf_puts(&buf, "0123456789"); /* exactly the limit */
    CHECK(!buf.too_big);
    CHECK_EQ_INT(buf.len, 10);
    sb_buf_putc(&buf, '!');
    CHECK(buf.too_big);
    CHECK_EQ_INT(buf.len, 10);
    sb_buf_free(&buf);
}

TEST(buf_limit_on_fill_and_printf)
{
    struct sb_buf buf;
    sb_buf_init(&buf);
    buf.limit = 300;
    sb_buf_fill(&buf, 'a', 301);
    CHECK(buf.too_big);
    CHECK_EQ_INT(buf.len, 0);
    sb_buf_reset(&buf);
    sb_buf_printf(&buf, "%0400d", 5);
    CHECK(buf.too_big);
    CHECK_EQ_INT(buf.len, 0);
    sb_buf_free(&buf);
}

TEST(buf_take)
{
    struct sb_buf buf;
    sb_buf_init(&buf);
    char *empty = sb_buf_take(&buf);
    CHECK_EQ_STR(empty, "");
    free(empty);
    sb_buf_puts(&buf, "owned");
    char *owned = sb_buf_take(&buf);
    CHECK_EQ_STR(owned, "owned");
    CHECK(buf.data == NULL && buf.len == 0 && buf.cap == 0);
    free(owned);
    sb_buf_free(&buf);
}

/* ---- diagnostics ---------------------------------------------------------- */

/* Render the diagnostics of one source into a fresh string (caller frees). */
static char *render(const struct sb_source *source, void (*add)(struct sb_diags *))
{
    struct sb_diags diags;
    struct sb_buf out;
    sb_diags_init(&diags, source);
    sb_buf_init(&out);
    add(&diags);
    sb_diags_sort(&diags);
    sb_diags_render(&diags, &out);
    sb_diags_free(&diags);
    return sb_buf_take(&out);
}

static const char shop_text[] = "app shop\ncollection user {\n  name strng\n}\n";
static const struct sb_source shop = {"shop.spec", shop_text, sizeof(shop_text) - 1};

TEST(diag_position_counts_characters)
{
    static const char text[] = "ab\nc\xc3\xa9x\n";
    struct sb_source src = {"t.spec", text, sizeof(text) - 1};
    size_t line, col;
    sb_source_position(&src, 0, &line, &col);
    CHECK(line == 1 && col == 1);
    sb_source_position(&src, 2, &line, &col); /* the newline itself */
    CHECK(line == 1 && col == 3);
    sb_source_position(&src, 6, &line, &col); /* 'x' after the two-byte 'é' */
    CHECK(line == 2 && col == 3);
    sb_source_position(&src, 1000, &line, &col); /* clamped to the end */
    CHECK(line == 3 && col == 1);
}

static void add_unknown_type(struct sb_diags *diags)
{
    const char *at = strstr(shop_text, "strng");
    sb_diag_error(diags, (size_t)(at - shop_text), 5, "unknown type '%s'; did you mean '%s'?",
                  "strng", "text");
}

TEST(diag_render_line_and_caret)
{
    char *got = render(&shop, add_unknown_type);
    CHECK_EQ_STR(got, "shop.spec:3:8: error: unknown type 'strng'; did you mean 'text'?\n"
                      "    3 |   name strng\n"
                      "      |        ^~~~~\n");
    free(got);
}

static const char utf8_text[] = "app caf\xc3\xa9\ncollection \xc3\xa9t\xc3\xa9 {\n"
                                "  \"\xc3\xa9\xe2\x82\xac\" strng\n}\n";
static const struct sb_source utf8 = {"u.spec", utf8_text, sizeof(utf8_text) - 1};

static void add_after_multibyte(struct sb_diags *diags)
{
    const char *name = strstr(utf8_text, "\xc3\xa9t\xc3\xa9");
    sb_diag_error(diags, (size_t)(name - utf8_text), 5, "bad name");
    const char *word = strstr(utf8_text, "strng");
    sb_diag_error(diags, (size_t)(word - utf8_text), 5, "unknown type");
}

TEST(diag_render_multibyte_columns_and_span)
{
    char *got = render(&utf8, add_after_multibyte);
    CHECK_EQ_STR(got, "u.spec:2:12: error: bad name\n"
                      "    2 | collection \xc3\xa9t\xc3\xa9 {\n"
                      "      |            ^~~\n"
                      "u.spec:3:8: error: unknown type\n"
                      "    3 |   \"\xc3\xa9\xe2\x82\xac\" strng\n"
                      "      |        ^~~~~\n"
                      "2 errors\n");
    free(got);
}

static const char ctrl_text[] = "a\tb\x01 c";
static const struct sb_source ctrl = {"c.spec", ctrl_text, sizeof(ctrl_text) - 1};

static void add_after_control(struct sb_diags *diags)
{
    sb_diag_add(diags, SB_SEV_WARNING, 5, 1, "odd");
}

TEST(diag_render_tabs_and_control_bytes)
{
    char *got = render(&ctrl, add_after_control);
    CHECK_EQ_STR(got, "c.spec:1:6: warning: odd\n"
                      "    1 | a b? c\n"
                      "      |      ^\n");
    free(got);
}

static void add_out_of_order(struct sb_diags *diags)
{
    sb_diag_error(diags, 29, 4, "second");
    sb_diag_add(diags, SB_SEV_NOTE, 0, 3, "first");
    sb_diag_error(diags, 29, 1, "third");
}

TEST(diag_sort_is_stable_by_offset)
{
    char *got = render(&shop, add_out_of_order);
    CHECK_EQ_STR(got, "shop.spec:1:1: note: first\n"
                      "    1 | app shop\n"
                      "      | ^~~\n"
                      "shop.spec:3:3: error: second\n"
                      "    3 |   name strng\n"
                      "      |   ^~~~\n"
                      "shop.spec:3:3: error: third\n"
                      "    3 |   name strng\n"
                      "      |   ^\n"
                      "2 errors\n");
    free(got);
}

static void add_at_end(struct sb_diags *diags)
{
    sb_diag_error(diags, sizeof(shop_text) - 1, 0, "expected '}'");
}

TEST(diag_at_end_of_input_has_no_source_line)
{
    char *got = render(&shop, add_at_end);
    CHECK_EQ_STR(got, "shop.spec:5:1: error: expected '}'\n");
    free(got);
    struct sb_source empty = {"e.spec", "", 0};
    got = render(&empty, add_at_end); /* offset clamped to 0 */
    CHECK_EQ_STR(got, "e.spec:1:1: error: expected '}'\n");
    free(got);
}

static void add_too_many(struct sb_diags *diags)
{
    for (int i = 0; i < SB_DIAG_MAX_ERRORS + 10; i++)
        sb_diag_error(diags, 0, 3, "error %d", i);
}

TEST(diag_cap_counts_dropped_errors)
{
    struct sb_diags diags;
    sb_diags_init(&diags, &shop);
    add_too_many(&diags);
    CHECK_EQ_INT(diags.len, SB_DIAG_MAX_ERRORS);
    CHECK_EQ_INT(diags.n_errors, SB_DIAG_MAX_ERRORS + 10);
    CHECK_EQ_INT(diags.n_dropped, 10);
    sb_diags_free(&diags);
    char *got = render(&shop, add_too_many);
    CHECK(strstr(got, "error 49\n") != NULL);
    CHECK(strstr(got, "error 50\n") == NULL);
    const char *tail = "shop.spec: too many errors; 10 more not shown\n60 errors\n";
    CHECK(strlen(got) > strlen(tail) && strcmp(got + strlen(got) - strlen(tail), tail) == 0);
    free(got);
}

static void add_long_message(struct sb_diags *diags)
{
    char word[2000];
    memset(word, 'w', sizeof(word) - 1);
    word[sizeof(word) - 1] = '\0';
    sb_diag_error(diags, 0, 0, "unknown name '%s'", word);
}

TEST(diag_long_message_is_cut)
{
    struct sb_diags diags;
    sb_diags_init(&diags, &shop);
    add_long_message(&diags);
    CHECK_EQ_INT(strlen(diags.entries[0].message), 511);
    CHECK(strcmp(diags.entries[0].message + 508, "...") == 0);
    sb_diags_free(&diags);
}

TEST(suggest_close_names_only)
{
    static const char *const types[] = {"text",      "int",  "float",  "decimal", "bool",
                                        "timestamp", "date", "uuid",   "email",   "url",
                                        "enum",      "json", "string", NULL};
    CHECK_EQ_STR(sb_suggest("strng", 5, types), "string");
    CHECK_EQ_STR(sb_suggest("txet", 4, types), "text"); /* transposition */
    CHECK_EQ_STR(sb_suggest("flaot", 5, types), "float");
    CHECK_EQ_STR(sb_suggest("timestmp", 8, types), "timestamp");
    CHECK_EQ_STR(sb_suggest("in", 2, types), "int");
    CHECK_EQ_STR(sb_suggest("emailxyz", 5, types), "email"); /* only word_len bytes */
    CHECK_EQ_STR(sb_suggest("zzzzzz", 6, types), NULL);
    CHECK_EQ_STR(sb_suggest("x", 1, types), NULL);
    CHECK_EQ_STR(sb_suggest("", 0, types), NULL);
    static const char *const none[] = {NULL};
    CHECK_EQ_STR(sb_suggest("text", 4, none), NULL);
}

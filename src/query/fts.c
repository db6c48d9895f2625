/* Conversion of PostgREST's full-text filter values to FTS5 MATCH
 * expressions (fts.h). The SQL compiler (query/sql.c) calls sb_fts_query
 * for fts, plfts, phfts and wfts and binds the result; the tables it runs
 * against are the FTS5 tables store/ddl.c creates.
 *
 * Each syntax is parsed into a small tree (phrases of words, AND, OR, NOT)
 * held in fixed arrays, then written out. Writing is where FTS5's limits
 * show: its NOT is binary ("a NOT b"), so the negations under an AND become
 * the subtracted side of one NOT, and a negation with nothing to subtract
 * from is refused. Every word is written as an FTS5 string, so nothing the
 * user typed can become FTS5 syntax. */
#include "query/fts.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/die.h"
#include "util/formats.h"

/* ---- characters --------------------------------------------------------- */

/* The non-ASCII code points FTS5's unicode61 tokenizer treats as separators
 * (the SQLite 3.40 tokenizer's tables): sorted, disjoint, inclusive. */
static const struct cp_range {
    uint32_t lo, hi;
} separators[] = {
    {0x80, 0xA9}, {0xAB, 0xB1}, {0xB4, 0xB4}, {0xB6, 0xB8}, {0xBB, 0xBB}, {0xBF, 0xBF},
    {0xD7, 0xD7}, {0xF7, 0xF7}, {0x2C2, 0x2C5}, {0x2D2, 0x2DF}, {0x2E5, 0x2EB}, {0x2ED, 0x2ED},
    {0x2EF, 0x2FF}, {0x305, 0x305}, {0x30D, 0x30E}, {0x310, 0x310}, {0x312, 0x31A}, {0x31C, 0x322},
    {0x329, 0x32C}, {0x32F, 0x32F}, {0x332, 0x36F}, {0x375, 0x375}, {0x37E, 0x37E}, {0x384, 0x385},
    {0x387, 0x387}, {0x3F6, 0x3F6}, {0x482, 0x489}, {0x55A, 0x55F}, {0x589, 0x58A}, {0x58F, 0x58F},
    {0x591, 0x5C7}, {0x5F3, 0x5F4}, {0x600, 0x604}, {0x606, 0x61B}, {0x61E, 0x61F}, {0x64B, 0x65F},
    {0x66A, 0x66D}, {0x670, 0x670}, {0x6D4, 0x6D4}, {0x6D6, 0x6E4}, {0x6E7, 0x6ED}, {0x6FD, 0x6FE},
    {0x700, 0x70D}, {0x70F, 0x70F}, {0x711, 0x711}, {0x730, 0x74A}, {0x7A6, 0x7B0}, {0x7EB, 0x7F3},
    {0x7F6, 0x7F9}, {0x816, 0x819}, {0x81B, 0x823}, {0x825, 0x827}, {0x829, 0x82D}, {0x830, 0x83E},
    {0x859, 0x85B}, {0x85E, 0x85E}, {0x8E4, 0x8FE}, {0x900, 0x903}, {0x93A, 0x93C}, {0x93E, 0x94F},
    {0x951, 0x957}, {0x962, 0x965}, {0x970, 0x970}, {0x981, 0x983}, {0x9BC, 0x9BC}, {0x9BE, 0x9C4},
    {0x9C7, 0x9C8}, {0x9CB, 0x9CD}, {0x9D7, 0x9D7}, {0x9E2, 0x9E3}, {0x9F2, 0x9F3}, {0x9FA, 0x9FB},
    {0xA01, 0xA03}, {0xA3C, 0xA3C}, {0xA3E, 0xA42}, {0xA47, 0xA48}, {0xA4B, 0xA4D}, {0xA51, 0xA51},
    {0xA70, 0xA71}, {0xA75, 0xA75}, {0xA81, 0xA83}, {0xABC, 0xABC}, {0xABE, 0xAC5}, {0xAC7, 0xAC9},
    {0xACB, 0xACD}, {0xAE2, 0xAE3}, {0xAF0, 0xAF1}, {0xB01, 0xB03}, {0xB3C, 0xB3C}, {0xB3E, 0xB44},
    {0xB47, 0xB48}, {0xB4B, 0xB4D}, {0xB56, 0xB57}, {0xB62, 0xB63}, {0xB70, 0xB70}, {0xB82, 0xB82},
    {0xBBE, 0xBC2}, {0xBC6, 0xBC8}, {0xBCA, 0xBCD}, {0xBD7, 0xBD7}, {0xBF3, 0xBFA}, {0xC01, 0xC03},
    {0xC3E, 0xC44}, {0xC46, 0xC48}, {0xC4A, 0xC4D}, {0xC55, 0xC56}, {0xC62, 0xC63}, {0xC7F, 0xC7F},
    {0xC82, 0xC83}, {0xCBC, 0xCBC}, {0xCBE, 0xCC4}, {0xCC6, 0xCC8}, {0xCCA, 0xCCD}, {0xCD5, 0xCD6},
    {0xCE2, 0xCE3}, {0xD02, 0xD03}, {0xD3E, 0xD44}, {0xD46, 0xD48}, {0xD4A, 0xD4D}, {0xD57, 0xD57},
    {0xD62, 0xD63}, {0xD79, 0xD79}, {0xD82, 0xD83}, {0xDCA, 0xDCA}, {0xDCF, 0xDD4}, {0xDD6, 0xDD6},
    {0xDD8, 0xDDF}, {0xDF2, 0xDF4}, {0xE31, 0xE31}, {0xE34, 0xE3A}, {0xE3F, 0xE3F}, {0xE47, 0xE4F},
    {0xE5A, 0xE5B}, {0xEB1, 0xEB1}, {0xEB4, 0xEB9}, {0xEBB, 0xEBC}, {0xEC8, 0xECD}, {0xF01, 0xF1F},
    {0xF34, 0xF3F}, {0xF71, 0xF87}, {0xF8D, 0xF97}, {0xF99, 0xFBC}, {0xFBE, 0xFCC}, {0xFCE, 0xFDA},
    {0x102B, 0x103E}, {0x104A, 0x104F}, {0x1056, 0x1059}, {0x105E, 0x1060}, {0x1062, 0x1064},
    {0x1067, 0x106D}, {0x1071, 0x1074}, {0x1082, 0x108D}, {0x108F, 0x108F}, {0x109A, 0x109F},
    {0x10FB, 0x10FB}, {0x135D, 0x1368}, {0x1390, 0x1399}, {0x1400, 0x1400}, {0x166D, 0x166E},
    {0x1680, 0x1680}, {0x169B, 0x169C}, {0x16EB, 0x16ED}, {0x1712, 0x1714}, {0x1732, 0x1736},
    {0x1752, 0x1753}, {0x1772, 0x1773}, {0x17B4, 0x17D6}, {0x17D8, 0x17DB}, {0x17DD, 0x17DD},
    {0x1800, 0x180E}, {0x18A9, 0x18A9}, {0x1920, 0x192B}, {0x1930, 0x193B}, {0x1940, 0x1940},
    {0x1944, 0x1945}, {0x19B0, 0x19C0}, {0x19C8, 0x19C9}, {0x19DE, 0x19FF}, {0x1A17, 0x1A1B},
    {0x1A1E, 0x1A1F}, {0x1A55, 0x1A5E}, {0x1A60, 0x1A7C}, {0x1A7F, 0x1A7F}, {0x1AA0, 0x1AA6},
    {0x1AA8, 0x1AAD}, {0x1B00, 0x1B04}, {0x1B34, 0x1B44}, {0x1B5A, 0x1B7C}, {0x1B80, 0x1B82},
    {0x1BA1, 0x1BAD}, {0x1BE6, 0x1BF3}, {0x1BFC, 0x1BFF}, {0x1C24, 0x1C37}, {0x1C3B, 0x1C3F},
    {0x1C7E, 0x1C7F}, {0x1CC0, 0x1CC7}, {0x1CD0, 0x1CE8}, {0x1CED, 0x1CED}, {0x1CF2, 0x1CF4},
    {0x1DC0, 0x1DE6}, {0x1DFC, 0x1DFF}, {0x1FBD, 0x1FBD}, {0x1FBF, 0x1FC1}, {0x1FCD, 0x1FCF},
    {0x1FDD, 0x1FDF}, {0x1FED, 0x1FEF}, {0x1FFD, 0x1FFE}, {0x2000, 0x2064}, {0x206A, 0x206F},
    {0x207A, 0x207E}, {0x208A, 0x208E}, {0x20A0, 0x20B9}, {0x20D0, 0x20F0}, {0x2100, 0x2101},
    {0x2103, 0x2106}, {0x2108, 0x2109}, {0x2114, 0x2114}, {0x2116, 0x2118}, {0x211E, 0x2123},
    {0x2125, 0x2125}, {0x2127, 0x2127}, {0x2129, 0x2129}, {0x212E, 0x212E}, {0x213A, 0x213B},
    {0x2140, 0x2144}, {0x214A, 0x214D}, {0x214F, 0x214F}, {0x2190, 0x23F3}, {0x2400, 0x2426},
    {0x2440, 0x244A}, {0x249C, 0x24E9}, {0x2500, 0x26FF}, {0x2701, 0x2775}, {0x2794, 0x2B4C},
    {0x2B50, 0x2B59}, {0x2CE5, 0x2CEA}, {0x2CEF, 0x2CF1}, {0x2CF9, 0x2CFC}, {0x2CFE, 0x2CFF},
    {0x2D70, 0x2D70}, {0x2D7F, 0x2D7F}, {0x2DE0, 0x2E2E}, {0x2E30, 0x2E3B}, {0x2E80, 0x2E99},
    {0x2E9B, 0x2EF3}, {0x2F00, 0x2FD5}, {0x2FF0, 0x2FFB}, {0x3000, 0x3004}, {0x3008, 0x3020},
    {0x302A, 0x3030}, {0x3036, 0x3037}, {0x303D, 0x303F}, {0x3099, 0x309C}, {0x30A0, 0x30A0},
    {0x30FB, 0x30FB}, {0x3190, 0x3191}, {0x3196, 0x319F}, {0x31C0, 0x31E3}, {0x3200, 0x321E},
    {0x322A, 0x3247}, {0x3250, 0x3250}, {0x3260, 0x327F}, {0x328A, 0x32B0}, {0x32C0, 0x32FE},
    {0x3300, 0x33FF}, {0x4DC0, 0x4DFF}, {0xA490, 0xA4C6}, {0xA4FE, 0xA4FF}, {0xA60D, 0xA60F},
    {0xA66F, 0xA67E}, {0xA69F, 0xA69F}, {0xA6F0, 0xA6F7}, {0xA700, 0xA716}, {0xA720, 0xA721},
    {0xA789, 0xA78A}, {0xA802, 0xA802}, {0xA806, 0xA806}, {0xA80B, 0xA80B}, {0xA823, 0xA82B},
    {0xA836, 0xA839}, {0xA874, 0xA877}, {0xA880, 0xA881}, {0xA8B4, 0xA8C4}, {0xA8CE, 0xA8CF},
    {0xA8E0, 0xA8F1}, {0xA8F8, 0xA8FA}, {0xA926, 0xA92F}, {0xA947, 0xA953}, {0xA95F, 0xA95F},
    {0xA980, 0xA983}, {0xA9B3, 0xA9CD}, {0xA9DE, 0xA9DF}, {0xAA29, 0xAA36}, {0xAA43, 0xAA43},
    {0xAA4C, 0xAA4D}, {0xAA5C, 0xAA5F}, {0xAA77, 0xAA79}, {0xAA7B, 0xAA7B}, {0xAAB0, 0xAAB0},
    {0xAAB2, 0xAAB4}, {0xAAB7, 0xAAB8}, {0xAABE, 0xAABF}, {0xAAC1, 0xAAC1}, {0xAADE, 0xAADF},
    {0xAAEB, 0xAAF1}, {0xAAF5, 0xAAF6}, {0xABE3, 0xABED}, {0xFB1E, 0xFB1E}, {0xFB29, 0xFB29},
    {0xFBB2, 0xFBC1}, {0xFD3E, 0xFD3F}, {0xFDFC, 0xFDFD}, {0xFE00, 0xFE19}, {0xFE20, 0xFE26},
    {0xFE30, 0xFE52}, {0xFE54, 0xFE66}, {0xFE68, 0xFE6B}, {0xFEFF, 0xFEFF}, {0xFF01, 0xFF0F},
    {0xFF1A, 0xFF20}, {0xFF3B, 0xFF40}, {0xFF5B, 0xFF65}, {0xFFE0, 0xFFE6}, {0xFFE8, 0xFFEE},
    {0xFFF9, 0xFFFF}, {0x10100, 0x10102}, {0x10137, 0x1013F}, {0x10179, 0x10189},
    {0x10190, 0x1019B}, {0x101D0, 0x101FD}, {0x1039F, 0x1039F}, {0x103D0, 0x103D0},
    {0x10857, 0x10857}, {0x1091F, 0x1091F}, {0x1093F, 0x1093F}, {0x10A01, 0x10A03},
    {0x10A05, 0x10A06}, {0x10A0C, 0x10A0F}, {0x10A38, 0x10A3A}, {0x10A3F, 0x10A3F},
    {0x10A50, 0x10A58}, {0x10A7F, 0x10A7F}, {0x10B39, 0x10B3F}, {0x11000, 0x11002},
    {0x11038, 0x1104D}, {0x11080, 0x11082}, {0x110B0, 0x110C1}, {0x11100, 0x11102},
    {0x11127, 0x11134}, {0x11140, 0x11143}, {0x11180, 0x11182}, {0x111B3, 0x111C0},
    {0x111C5, 0x111C8}, {0x116AB, 0x116B7}, {0x12470, 0x12473}, {0x16F51, 0x16F7E},
    {0x16F8F, 0x16F92}, {0x1D000, 0x1D0F5}, {0x1D100, 0x1D126}, {0x1D129, 0x1D1DD},
    {0x1D200, 0x1D245}, {0x1D300, 0x1D356}, {0x1D6C1, 0x1D6C1}, {0x1D6DB, 0x1D6DB},
    {0x1D6FB, 0x1D6FB}, {0x1D715, 0x1D715}, {0x1D735, 0x1D735}, {0x1D74F, 0x1D74F},
    {0x1D76F, 0x1D76F}, {0x1D789, 0x1D789}, {0x1D7A9, 0x1D7A9}, {0x1D7C3, 0x1D7C3},
    {0x1EEF0, 0x1EEF1}, {0x1F000, 0x1F02B}, {0x1F030, 0x1F093}, {0x1F0A0, 0x1F0AE},
    {0x1F0B1, 0x1F0BE}, {0x1F0C1, 0x1F0CF}, {0x1F0D1, 0x1F0DF}, {0x1F110, 0x1F12E},
    {0x1F130, 0x1F16B}, {0x1F170, 0x1F19A}, {0x1F1E6, 0x1F202}, {0x1F210, 0x1F23A},
    {0x1F240, 0x1F248}, {0x1F250, 0x1F251}, {0x1F300, 0x1F320}, {0x1F330, 0x1F335},
    {0x1F337, 0x1F37C}, {0x1F380, 0x1F393}, {0x1F3A0, 0x1F3C4}, {0x1F3C6, 0x1F3CA},
    {0x1F3E0, 0x1F3F0}, {0x1F400, 0x1F43E}, {0x1F440, 0x1F440}, {0x1F442, 0x1F4F7},
    {0x1F4F9, 0x1F4FC}, {0x1F500, 0x1F53D}, {0x1F540, 0x1F543}, {0x1F550, 0x1F567},
    {0x1F5FB, 0x1F640}, {0x1F645, 0x1F64F}, {0x1F680, 0x1F6C5}, {0x1F700, 0x1F773},
    {0xE0001, 0xE0001}, {0xE0020, 0xE007F}, {0xE0100, 0xE01EF},
};

/* Combining diacritics that remove_diacritics 2 deletes: a word made only
 * of them is no token at all. */
static const struct cp_range dropped_marks[] = {
    {0x300, 0x304}, {0x306, 0x30C}, {0x30F, 0x30F}, {0x311, 0x311},
    {0x31B, 0x31B}, {0x323, 0x328}, {0x32D, 0x32E}, {0x330, 0x331},
};

static bool in_ranges(const struct cp_range *ranges, size_t n, uint32_t cp)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < ranges[mid].lo)
            hi = mid;
        else if (cp > ranges[mid].hi)
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

#define N_OF(array) (sizeof(array) / sizeof((array)[0]))


static bool is_separator(uint32_t cp)
{
    if (cp < 0x80)
        return !((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'));
    return in_ranges(separators, N_OF(separators), cp);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* ---- the tree ------------------------------------------------------------ */

#define MAX_NODES 256
#define EMPTY     (-1) /* an operand without words: its operator drops it */
#define FAIL      (-2) /* refused: the reason is in why */

enum node_kind { N_PHRASE, N_AND, N_OR, N_NOT };

struct node {
    enum node_kind kind;
    int left, right;  /* N_AND, N_OR: operands; N_NOT: left */
    int first, count; /* N_PHRASE: words[first .. first + count) */
};

struct word {
    size_t off, len; /* in scratch */
    bool prefix;     /* word:* */
};

enum token { T_END, T_OPERAND, T_AND, T_OR, T_NOT, T_FOLLOWED_BY, T_OPEN, T_CLOSE };

struct fts {
    const char *src;
    size_t len, pos;
    char *scratch; /* operand texts, quotes and escapes resolved; never more than len bytes */
    size_t scratch_len;
    struct word words[SB_FTS_MAX_TERMS];
    int n_words;
    struct node nodes[MAX_NODES];
    int n_nodes;
    int slots[MAX_NODES]; /* operand lists while writing (gather) */
    int n_slots;
    int depth;            /* open parentheses while parsing */
    int nesting;          /* open parentheses while writing */
    enum token tok;       /* the fts lexer's current token */
    int tok_node;         /* T_OPERAND: its phrase, or EMPTY */
    const char *why;
};

static int fail(struct fts *f, const char *why)
{
    if (!f->why)
        f->why = why;
    return FAIL;
}

static int new_node(struct fts *f, enum node_kind kind, int left, int right)
{
    if (f->n_nodes == MAX_NODES)
        return fail(f, "full-text query too complex");
    struct node *node = &f->nodes[f->n_nodes];
    node->kind = kind;
    node->left = left;
    node->right = right;
    node->first = node->count = 0;
    return f->n_nodes++;
}

static int make_binary(struct fts *f, enum node_kind kind, int a, int b)
{
    if (a == FAIL || b == FAIL)
        return FAIL;
    if (a == EMPTY)
        return b;
    if (b == EMPTY)
        return a;
    return new_node(f, kind, a, b);
}

static int make_not(struct fts *f, int a)
{
    if (a < 0)
        return a;
    if (f->nodes[a].kind == N_NOT)
        return f->nodes[a].left;
    return new_node(f, N_NOT, a, EMPTY);
}

/* a <-> b: one phrase of a's words then b's (they are adjacent in words). */
static int make_followed_by(struct fts *f, int a, int b)
{
    if (a == FAIL || b == FAIL)
        return FAIL;
    if (a == EMPTY)
        return b;
    if (b == EMPTY)
        return a;
    struct node *x = &f->nodes[a];
    const struct node *y = &f->nodes[b];
    if (x->kind != N_PHRASE || y->kind != N_PHRASE || x->first + x->count != y->first)
        return fail(f, "the <-> operator can only join words and phrases, "
                       "not groups or negations");
    x->count += y->count;
    return a;
}

static void scratch_put(struct fts *f, char c)
{
    f->scratch[f->scratch_len++] = c;
}

/* The words of scratch[off .. off + len) as one phrase (prefix: every word
 * is a prefix, as PostgreSQL applies :* to each lexeme of an operand), or
 * EMPTY when there are none. */
static int phrase_of(struct fts *f, size_t off, size_t len, bool prefix)
{
    const unsigned char *s = (const unsigned char *)f->scratch;
    int first = f->n_words;
    size_t i = off, end = off + len, n;
    while (i < end) {
        if (is_separator(sb_utf8_next(s + i, end - i, &n))) {
            i += n;
            continue;
        }
        size_t start = i;
        bool marks_only = true;
        while (i < end) {
            uint32_t cp = sb_utf8_next(s + i, end - i, &n);
            if (is_separator(cp))
                break;
            if (!in_ranges(dropped_marks, N_OF(dropped_marks), cp))
                marks_only = false;
            i += n;
        }
        if (marks_only)
            continue;
        if (f->n_words == SB_FTS_MAX_TERMS)
            return fail(f, "too many words in a full-text query (at most 64)");
        f->words[f->n_words++] = (struct word){start, i - start, prefix};
    }
    if (f->n_words == first)
        return EMPTY;
    int node = new_node(f, N_PHRASE, EMPTY, EMPTY);
    if (node >= 0) {
        f->nodes[node].first = first;
        f->nodes[node].count = f->n_words - first;
    }
    return node;
}

/* ---- fts: to_tsquery ----------------------------------------------------- */

static bool ts_operator_char(char c)
{
    return c == '&' || c == '|' || c == '!' || c == '(' || c == ')' || c == '<';
}

/* The length of the flags ":*", ":AB" ... at pos (':' included) when they end
 * the operand there; 0 when pos does not start such flags. */
static size_t ts_flags_len(const struct fts *f, size_t pos)
{
    if (pos >= f->len || f->src[pos] != ':')
        return 0;
    size_t i = pos + 1;
    while (i < f->len && f->src[i] != '\0' && strchr("*aAbBcCdD", f->src[i]))
        i++;
    if (i < f->len && !is_space(f->src[i]) && !ts_operator_char(f->src[i]))
        return 0;
    return i - pos;
}

/* "<->" or "<N>" at f->pos. */
static int ts_distance(struct fts *f)
{
    const char *s = f->src;
    size_t i = f->pos + 1;
    if (i + 1 < f->len && s[i] == '-' && s[i + 1] == '>') {
        f->pos = i + 2;
        f->tok = T_FOLLOWED_BY;
        return 0;
    }
    size_t digits = i;
    unsigned long distance = 0;
    for (; i < f->len && s[i] >= '0' && s[i] <= '9'; i++)
        distance = distance < 100000 ? distance * 10 + (unsigned long)(s[i] - '0') : distance;
    if (i == digits || i >= f->len || s[i] != '>')
        return fail(f, "syntax error in full-text query: '<' must start <-> or <N>");
    if (distance != 1)
        return fail(f, "only the <-> (or <1>) distance is supported in full-text queries");
    f->pos = i + 1;
    f->tok = T_FOLLOWED_BY;
    return 0;
}

/* Read the next token into f->tok; an operand's words become f->tok_node.
 * Returns 0 or FAIL. */
static int ts_next(struct fts *f)
{
    const char *s = f->src;
    while (f->pos < f->len && is_space(s[f->pos]))
        f->pos++;
    if (f->pos == f->len) {
        f->tok = T_END;
        return 0;
    }
    static const struct {
        char c;
        enum token tok;
    } singles[] = {{'&', T_AND}, {'|', T_OR}, {'!', T_NOT}, {'(', T_OPEN}, {')', T_CLOSE}};
    for (size_t k = 0; k < N_OF(singles); k++) {
        if (s[f->pos] == singles[k].c) {
            f->pos++;
            f->tok = singles[k].tok;
            return 0;
        }
    }
    if (s[f->pos] == '<')
        return ts_distance(f);

    size_t start = f->scratch_len;
    if (s[f->pos] == '\'') {
        /* 'quoted text': '' or \' is a quote */
        f->pos++;
        for (;;) {
            if (f->pos == f->len)
                return fail(f, "unterminated quoted text in full-text query");
            char c = s[f->pos++];
            if (c == '\'') {
                if (f->pos == f->len || s[f->pos] != '\'')
                    break;
                f->pos++;
            } else if (c == '\\' && f->pos < f->len) {
                c = s[f->pos++];
            }
            scratch_put(f, c);
        }
    } else {
        /* a bare operand: up to a space, an operator or flags; ':' that
         * does not start flags (body:x) is part of it */
        while (f->pos < f->len) {
            char c = s[f->pos];
            if (is_space(c) || ts_operator_char(c) || (c == ':' && ts_flags_len(f, f->pos)))
                break;
            if (c == '\\' && f->pos + 1 < f->len)
                c = s[++f->pos];
            scratch_put(f, c);
            f->pos++;
        }
    }
    bool prefix = false;
    size_t n_flags = ts_flags_len(f, f->pos);
    for (size_t i = f->pos + 1; i < f->pos + n_flags; i++) {
        if (s[i] != '*')
            return fail(f, "weights (word:A to word:D) are not supported in full-text queries");
        prefix = true;
    }
    f->pos += n_flags;
    f->tok_node = phrase_of(f, start, f->scratch_len - start, prefix);
    f->tok = T_OPERAND;
    return f->tok_node == FAIL ? FAIL : 0;
}

static int ts_or(struct fts *f);

/* primary := '(' or ')' | operand */
static int ts_primary(struct fts *f)
{
    if (f->tok == T_OPERAND) {
        int node = f->tok_node;
        return ts_next(f) == FAIL ? FAIL : node;
    }
    if (f->tok == T_OPEN) {
        if (++f->depth > SB_FTS_MAX_DEPTH)
            return fail(f, "full-text query nested too deeply (over 16 parentheses)");
        if (ts_next(f) == FAIL)
            return FAIL;
        if (f->tok == T_CLOSE)
            return fail(f, "syntax error in full-text query: empty parentheses");
        int node = ts_or(f);
        if (node == FAIL)
            return FAIL;
        if (f->tok != T_CLOSE)
            return fail(f, "syntax error in full-text query: ')' expected");
        f->depth--;
        return ts_next(f) == FAIL ? FAIL : node;
    }
    if (f->tok == T_END)
        return fail(f, "syntax error in full-text query: it ends where a word is expected");
    return fail(f, "syntax error in full-text query: a word, '!' or '(' expected");
}

/* not := '!'* primary */
static int ts_not(struct fts *f)
{
    bool negate = false;
    while (f->tok == T_NOT) {
        negate = !negate;
        if (ts_next(f) == FAIL)
            return FAIL;
    }
    int node = ts_primary(f);
    return negate ? make_not(f, node) : node;
}

/* followed := not ('<->' not)* */
static int ts_followed(struct fts *f)
{
    int node = ts_not(f);
    while (node != FAIL && f->tok == T_FOLLOWED_BY)
        node = ts_next(f) == FAIL ? FAIL : make_followed_by(f, node, ts_not(f));
    return node;
}

/* and := followed ('&' followed)* */
static int ts_and(struct fts *f)
{
    int node = ts_followed(f);
    while (node != FAIL && f->tok == T_AND)
        node = ts_next(f) == FAIL ? FAIL : make_binary(f, N_AND, node, ts_followed(f));
    return node;
}

/* or := and ('|' and)* */
static int ts_or(struct fts *f)
{
    int node = ts_and(f);
    while (node != FAIL && f->tok == T_OR)
        node = ts_next(f) == FAIL ? FAIL : make_binary(f, N_OR, node, ts_and(f));
    return node;
}

/* query := [or] END */
static int parse_tsquery(struct fts *f)
{
    if (ts_next(f) == FAIL)
        return FAIL;
    if (f->tok == T_END)
        return EMPTY;
    int root = ts_or(f);
    if (root == FAIL || f->tok == T_END)
        return root;
    if (f->tok == T_CLOSE)
        return fail(f, "unbalanced parentheses in full-text query: ')' without '('");
    return fail(f, "syntax error in full-text query: an operator (&, |, <->) is expected "
                   "between words");
}

/* ---- plfts, phfts -------------------------------------------------------- */

static int parse_plain(struct fts *f)
{
    memcpy(f->scratch, f->src, f->len);
    f->scratch_len = f->len;
    int phrase = phrase_of(f, 0, f->len, false);
    if (phrase < 0)
        return phrase;
    /* split the phrase into one node per word, ANDed */
    int root = phrase, count = f->nodes[phrase].count;
    f->nodes[phrase].count = 1;
    for (int k = 1; k < count && root != FAIL; k++) {
        int word = new_node(f, N_PHRASE, EMPTY, EMPTY);
        if (word >= 0) {
            f->nodes[word].first = f->nodes[phrase].first + k;
            f->nodes[word].count = 1;
        }
        root = make_binary(f, N_AND, root, word);
    }
    return root;
}

static int parse_phrase(struct fts *f)
{
    memcpy(f->scratch, f->src, f->len);
    f->scratch_len = f->len;
    return phrase_of(f, 0, f->len, false);
}

/* ---- wfts: websearch_to_tsquery ----------------------------------------- */

/* PostgreSQL skips these where an operand may start, and they end one. */
static bool web_operator_char(char c)
{
    return c == '!' || c == '&' || c == '|' || c == '(' || c == ')' || c == '<';
}

/* Whether "or" at f->pos is the operator: not part of a longer word, and
 * something other than spaces follows (PostgreSQL's rule). */
static bool web_is_or(const struct fts *f)
{
    const char *s = f->src;
    size_t i = f->pos, n;
    if (f->len - i < 3 || (s[i] | 0x20) != 'o' || (s[i + 1] | 0x20) != 'r')
        return false;
    i += 2;
    uint32_t cp = sb_utf8_next((const unsigned char *)s + i, f->len - i, &n);
    if (cp == '-' || cp == '_' || !is_separator(cp))
        return false;
    for (i += n; i < f->len; i++)
        if (!is_space(s[i]))
            return true;
    return false;
}

/* Operands (words, "quoted phrases", each optionally after '-') are ANDed
 * into a group; "or" closes the group; the groups are ORed. */
static int parse_websearch(struct fts *f)
{
    const char *s = f->src;
    int groups = EMPTY, group = EMPTY;
    bool want_operand = true, negate = false;
    while (f->pos < f->len) {
        char c = s[f->pos];
        if (is_space(c)) {
            f->pos++;
            continue;
        }
        if (!want_operand) {
            if (web_is_or(f)) {
                f->pos += 2;
                groups = make_binary(f, N_OR, groups, group);
                group = EMPTY;
                if (groups == FAIL)
                    return FAIL;
            }
            want_operand = true;
            continue;
        }
        if (c == '-' || web_operator_char(c)) {
            negate = c == '-' ? !negate : negate;
            f->pos++;
            continue;
        }
        size_t start = f->scratch_len;
        if (c == '"') {
            for (f->pos++; f->pos < f->len && s[f->pos] != '"'; f->pos++)
                scratch_put(f, s[f->pos]);
            if (f->pos < f->len)
                f->pos++;
        } else {
            for (; f->pos < f->len; f->pos++) {
                c = s[f->pos];
                if (is_space(c) || c == '"' || web_operator_char(c))
                    break;
                scratch_put(f, c);
            }
        }
        int operand = phrase_of(f, start, f->scratch_len - start, false);
        if (negate)
            operand = make_not(f, operand);
        group = make_binary(f, N_AND, group, operand);
        if (group == FAIL)
            return FAIL;
        negate = false;
        want_operand = false;
    }
    return make_binary(f, N_OR, groups, group);
}

/* ---- writing FTS5 ---------------------------------------------------------- */

static const char negation_alone[] =
    "a negation needs a positive part to subtract from: 'cat & !dog' (fts) or 'cat -dog' "
    "(wfts) works, a negation alone or 'cat | !dog' cannot be expressed";

/* Push onto f->slots the operands of the AND at node, with negations
 * folded in (NOT NOT x = x, NOT (x OR y) = NOT x AND NOT y): the positive
 * ones, or (want_negated) the ones to subtract. */
static int gather_and(struct fts *f, int node, bool negated, bool want_negated)
{
    const struct node *n = &f->nodes[node];
    if (n->kind == N_NOT)
        return gather_and(f, n->left, !negated, want_negated);
    if (n->kind == (negated ? N_OR : N_AND)) {
        if (gather_and(f, n->left, negated, want_negated) == FAIL)
            return FAIL;
        return gather_and(f, n->right, negated, want_negated);
    }
    if (negated != want_negated)
        return 0;
    if (f->n_slots == MAX_NODES)
        return fail(f, "full-text query too complex");
    f->slots[f->n_slots++] = node;
    return 0;
}

static int gather_or(struct fts *f, int node)
{
    const struct node *n = &f->nodes[node];
    if (n->kind == N_OR) {
        if (gather_or(f, n->left) == FAIL)
            return FAIL;
        return gather_or(f, n->right);
    }
    if (f->n_slots == MAX_NODES)
        return fail(f, "full-text query too complex");
    f->slots[f->n_slots++] = node;
    return 0;
}

static int write_node(struct fts *f, int node, struct sb_buf *out);

/* FTS5's parser overflows its stack at about 32 nested parentheses. */
#define MAX_NESTING 24

static int open_paren(struct fts *f, struct sb_buf *out)
{
    if (++f->nesting > MAX_NESTING)
        return fail(f, "full-text query nested too deeply");
    sb_buf_putc(out, '(');
    return 0;
}

static void close_paren(struct fts *f, struct sb_buf *out)
{
    f->nesting--;
    sb_buf_putc(out, ')');
}

/* An operand of AND, OR or NOT: a phrase as is, anything else in
 * parentheses (FTS5's NOT binds tighter than AND, AND than OR). */
static int write_operand(struct fts *f, int node, struct sb_buf *out)
{
    if (f->nodes[node].kind == N_PHRASE)
        return write_node(f, node, out);
    if (open_paren(f, out) == FAIL || write_node(f, node, out) == FAIL)
        return FAIL;
    close_paren(f, out);
    return 0;
}

/* slots[first .. first + n) joined by op, in parentheses when group. */
static int write_list(struct fts *f, int first, int n, const char *op, bool group,
                      struct sb_buf *out)
{
    if (group && open_paren(f, out) == FAIL)
        return FAIL;
    for (int k = 0; k < n; k++) {
        if (k > 0)
            sb_buf_puts(out, op);
        if (write_operand(f, f->slots[first + k], out) == FAIL)
            return FAIL;
    }
    if (group)
        close_paren(f, out);
    return 0;
}

/* An AND or a NOT: "p1 AND p2", or "(p1 AND p2) NOT (n1 OR n2)". */
static int write_and(struct fts *f, int node, struct sb_buf *out)
{
    int base = f->n_slots;
    if (gather_and(f, node, false, false) == FAIL)
        return FAIL;
    int n_pos = f->n_slots - base;
    if (gather_and(f, node, false, true) == FAIL)
        return FAIL;
    int n_neg = f->n_slots - base - n_pos;
    int rc;
    if (n_pos == 0)
        rc = fail(f, negation_alone);
    else
        rc = write_list(f, base, n_pos, " AND ", n_neg > 0 && n_pos > 1, out);
    if (rc == 0 && n_neg > 0) {
        sb_buf_puts(out, " NOT ");
        rc = write_list(f, base + n_pos, n_neg, " OR ", n_neg > 1, out);
    }
    f->n_slots = base;
    return rc;
}

static int write_node(struct fts *f, int node, struct sb_buf *out)
{
    const struct node *n = &f->nodes[node];
    if (n->kind == N_AND || n->kind == N_NOT)
        return write_and(f, node, out);
    if (n->kind == N_OR) {
        int base = f->n_slots;
        int rc = gather_or(f, node);
        if (rc == 0)
            rc = write_list(f, base, f->n_slots - base, " OR ", false, out);
        f->n_slots = base;
        return rc;
    }
    /* a phrase: "w1" + "w2"*, each word an FTS5 string */
    for (int k = 0; k < n->count; k++) {
        const struct word *w = &f->words[n->first + k];
        if (k > 0)
            sb_buf_puts(out, " + ");
        sb_buf_putc(out, '"');
        for (size_t i = 0; i < w->len; i++) {
            char c = f->scratch[w->off + i];
            if (c == '"')
                sb_buf_putc(out, '"');
            sb_buf_putc(out, c);
        }
        sb_buf_putc(out, '"');
        if (w->prefix)
            sb_buf_putc(out, '*');
    }
    return 0;
}

/* ---- entry --------------------------------------------------------------- */

int sb_fts_query(enum sb_fts_kind kind, const char *text, size_t len, const char *column,
                 struct sb_buf *out, const char **why)
{
    if (column && column[0] == '\0') {
        if (why)
            *why = "full-text search on an empty column name";
        return -1;
    }
    struct fts *f = sb_xcalloc(1, sizeof(*f));
    f->src = text;
    f->len = len;
    f->scratch = sb_xmalloc(len + 1);
    int root;
    switch (kind) {
    case SB_FTS_TSQUERY:
        root = parse_tsquery(f);
        break;
    case SB_FTS_PLAIN:
        root = parse_plain(f);
        break;
    case SB_FTS_PHRASE:
        root = parse_phrase(f);
        break;
    case SB_FTS_WEBSEARCH:
        root = parse_websearch(f);
        break;
    default:
        root = fail(f, "unknown kind of full-text query");
        break;
    }

    int rc = 0;
    struct sb_buf expr;
    sb_buf_init(&expr);
    expr.limit = SB_FTS_MAX_QUERY;
    if (root == EMPTY) {
        rc = SB_FTS_MATCHES_NOTHING;
    } else if (root == FAIL) {
        rc = -1;
    } else {
        if (column) {
            /* {"column"} : ( ... ): the filter covers every phrase inside */
            sb_buf_puts(&expr, "{\"");
            for (const char *c = column; *c; c++) {
                if (*c == '"')
                    sb_buf_putc(&expr, '"');
                sb_buf_putc(&expr, *c);
            }
            sb_buf_puts(&expr, "\"} : (");
            f->nesting = 1;
        }
        rc = write_node(f, root, &expr) == FAIL ? -1 : 0;
        if (column)
            sb_buf_putc(&expr, ')');
        if (rc == 0 && expr.too_big) {
            fail(f, "full-text query too long once converted (over 4096 bytes)");
            rc = -1;
        }
        if (rc == 0)
            sb_buf_append(out, expr.data, expr.len);
    }
    if (rc < 0 && why)
        *why = f->why;
    sb_buf_free(&expr);
    free(f->scratch);
    free(f);
    return rc;
}

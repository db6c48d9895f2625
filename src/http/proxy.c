/* Trusted reverse proxies (see proxy.h). */
#include "http/proxy.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An address as text (no prefix) into *ip, IPv4 mapped; false if it is not
 * one. */
static bool parse_ip(const char *text, size_t len, struct in6_addr *ip, bool *v4)
{
    char buf[INET6_ADDRSTRLEN];
    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, text, len);
    buf[len] = '\0';
    struct in_addr in4;
    if (inet_pton(AF_INET, buf, &in4) == 1) {
        memset(ip, 0, sizeof(*ip));
        ip->s6_addr[10] = 0xff;
        ip->s6_addr[11] = 0xff;
        memcpy(ip->s6_addr + 12, &in4, 4);
        *v4 = true;
        return true;
    }
    *v4 = false;
    return inet_pton(AF_INET6, buf, ip) == 1;
}

int sb_http_proxies_parse(const char *text, struct sb_http_proxies *out, struct sb_buf *err)
{
    memset(out, 0, sizeof(*out));
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, ", ");
        const char *slash = memchr(p, '/', len);
        size_t ip_len = slash ? (size_t)(slash - p) : len;
        struct sb_proxy_net net;
        bool v4;
        long prefix = -1;
        if (slash) {
            char *end = NULL;
            prefix = strtol(slash + 1, &end, 10);
            if (end != p + len || end == slash + 1)
                prefix = -2;
        }
        if (!parse_ip(p, ip_len, &net.addr, &v4) || prefix == -2 || prefix > (v4 ? 32 : 128)) {
            sb_buf_printf(err, "trusted proxies: '%.*s' is not an address or a network (10.0.0.0/8, ::1)",
                          (int)(len > 60 ? 60 : len), p);
            return -1;
        }
        if (out->n == SB_PROXY_MAX_NETS) {
            sb_buf_printf(err, "trusted proxies: more than %d networks", SB_PROXY_MAX_NETS);
            return -1;
        }
        net.prefix = prefix < 0 ? 128 : (unsigned)prefix + (v4 ? 96 : 0);
        /* clear the host bits, so that 10.1.2.3/8 means 10.0.0.0/8 */
        for (unsigned bit = net.prefix; bit < 128; bit++)
            net.addr.s6_addr[bit / 8] &= (unsigned char)~(0x80u >> (bit % 8));
        out->nets[out->n++] = net;
        p += len;
    }
    return 0;
}

static bool in_net(const struct sb_proxy_net *net, const struct in6_addr *ip)
{
    unsigned full = net->prefix / 8, rest = net->prefix % 8;
    if (memcmp(net->addr.s6_addr, ip->s6_addr, full) != 0)
        return false;
    if (!rest)
        return true;
    unsigned char mask = (unsigned char)(0xffu << (8 - rest));
    return (net->addr.s6_addr[full] & mask) == (ip->s6_addr[full] & mask);
}

bool sb_http_proxies_match(const struct sb_http_proxies *p, const struct in6_addr *ip)
{
    for (size_t i = 0; i < p->n; i++)
        if (in_net(&p->nets[i], ip))
            return true;
    return false;
}

static void ip_text(const struct in6_addr *ip, char *out, size_t size)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(ip->s6_addr, mapped, sizeof(mapped)) == 0)
        inet_ntop(AF_INET, ip->s6_addr + 12, out, (socklen_t)size);
    else
        inet_ntop(AF_INET6, ip, out, (socklen_t)size);
}

bool sb_http_forwarded_client(const struct sb_http_proxies *p, const struct in6_addr *peer,
                              const char *peer_text, const char *xff, char *out, size_t size)
{
    snprintf(out, size, "%s", peer_text);
    if (!xff || !p->n || !sb_http_proxies_match(p, peer))
        return false;
    /* from the right: each trusted hop passes the question to the one before
       it; the first untrusted address is the client. An entry that is not
       an address ends the walk at the last hop that was believed. */
    struct in6_addr candidate = *peer;
    bool moved = false;
    size_t end = strlen(xff);
    for (int hops = 0; end > 0 && hops < SB_PROXY_MAX_HOPS; hops++) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        size_t a = start, b = end;
        while (a < b && (xff[a] == ' ' || xff[a] == '\t'))
            a++;
        while (b > a && (xff[b - 1] == ' ' || xff[b - 1] == '\t'))
            b--;
        struct in6_addr ip;
        bool v4;
        if (!parse_ip(xff + a, b - a, &ip, &v4))
            break;
        candidate = ip;
        moved = true;
        if (!sb_http_proxies_match(p, &ip))
            break;
        end = start ? start - 1 : 0;
    }
    if (moved)
        ip_text(&candidate, out, size);
    return moved;
}

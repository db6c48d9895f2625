/* Trusted reverse proxies: which peers may say who the client is.
 *
 * Behind a proxy every connection comes from the proxy's address, so the
 * guard's limits and bans, the access log and the audit trail would all
 * see one client. When the peer is a trusted proxy, the client is taken
 * from X-Forwarded-For: the rightmost address that is not itself a trusted
 * proxy (the leftmost entries are whatever the client chose to send, so
 * they are never believed). A peer that is not trusted is the client,
 * whatever it sends.
 *
 * The list is text like "10.0.0.0/8, 192.168.1.7, ::1, fd00::/8": IPv4 or
 * IPv6 addresses, each with an optional prefix length. */
#ifndef SB_HTTP_PROXY_H
#define SB_HTTP_PROXY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

#define SB_PROXY_MAX_NETS 64
#define SB_PROXY_MAX_HOPS 32 /* X-Forwarded-For entries looked at, from the right */

struct sb_proxy_net {
    struct in6_addr addr; /* IPv4 as ::ffff:a.b.c.d */
    unsigned prefix;      /* 0..128, over the IPv6 form */
};

struct sb_http_proxies {
    struct sb_proxy_net nets[SB_PROXY_MAX_NETS];
    size_t n;
};

/* Parse text into out. Returns 0, or -1 with a message in err. */
int sb_http_proxies_parse(const char *text, struct sb_http_proxies *out, struct sb_buf *err);

/* Whether ip is in one of the networks. */
bool sb_http_proxies_match(const struct sb_http_proxies *p, const struct in6_addr *ip);

/* The client's address for a request from peer (peer_text its text form)
 * that carried X-Forwarded-For values xff (NULL when none): written to out
 * (size >= INET6_ADDRSTRLEN) in its canonical text form. Returns whether
 * it differs from the peer. */
bool sb_http_forwarded_client(const struct sb_http_proxies *p, const struct in6_addr *peer,
                              const char *peer_text, const char *xff, char *out, size_t size);

#endif

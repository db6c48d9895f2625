/* Format validators, see formats.h. Hand-written because each format is a
 * small, exact grammar; regular expressions would be slower and looser. */
#include "util/formats.h"

#include <string.h>

static bool digits(const char *s, size_t n, int *value)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *value = v;
    return true;
}

static int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
        return 29;
    return days[month - 1];
}

bool sb_format_date(const char *s, size_t len)
{
    int y, m, d;
    if (len != 10 || s[4] != '-' || s[7] != '-')
        return false;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d))
        return false;
    return y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

bool sb_format_timestamp(const char *s, size_t len)
{
    int hh, mm, ss;
    if (len < 20 || !sb_format_date(s, 10))
        return false;
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
        return false;
    if (s[13] != ':' || s[16] != ':')
        return false;
    if (!digits(s + 11, 2, &hh) || !digits(s + 14, 2, &mm) || !digits(s + 17, 2, &ss))
        return false;
    if (hh > 23 || mm > 59 || ss > 60)
        return false;
    size_t i = 19;
    if (s[i] == '.') {
        size_t start = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start || i - start > 9)
            return false;
    }
    if (i == len)
        return false;
    if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len)
        return true;
    if ((s[i] == '+' || s[i] == '-') && len - i == 6 && s[i + 3] == ':') {
        int oh, om;
        return digits(s + i + 1, 2, &oh) && digits(s + i + 4, 2, &om) && oh <= 23 && om <= 59;
    }
    return false;
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool sb_format_uuid(const char *s, size_t len)
{
    if (len != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!is_hex(s[i])) {
            return false;
        }
    }
    return true;
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* dot-separated LDH labels, each 1..63, not starting or ending with '-' */
static bool valid_domain(const char *s, size_t len, size_t *n_labels)
{
    size_t labels = 0, i = 0;
    if (len == 0 || len > 253)
        return false;
    while (i <= len) {
        size_t start = i;
        while (i < len && s[i] != '.') {
            if (!is_alnum(s[i]) && s[i] != '-')
                return false;
            i++;
        }
        size_t n = i - start;
        if (n == 0 || n > 63 || s[start] == '-' || s[i - 1] == '-')
            return false;
        labels++;
        if (i == len)
            break;
        i++; /* the dot */
        if (i == len)
            return false; /* trailing dot */
    }
    *n_labels = labels;
    return true;
}

bool sb_format_email(const char *s, size_t len)
{
    static const char local_extra[] = ".!#$%&'*+/=?^_`{|}~-";
    if (len < 3 || len > 254)
        return false;
    const char *at = memchr(s, '@', len);
    if (!at)
        return false;
    size_t local_len = (size_t)(at - s);
    if (local_len == 0 || local_len > 64 || s[0] == '.' || s[local_len - 1] == '.')
        return false;
    for (size_t i = 0; i < local_len; i++) {
        char c = s[i];
        if (!is_alnum(c) && !memchr(local_extra, c, sizeof(local_extra) - 1))
            return false;
        if (c == '.' && i + 1 < local_len && s[i + 1] == '.')
            return false;
    }
    size_t labels;
    if (!valid_domain(at + 1, len - local_len - 1, &labels))
        return false;
    return labels >= 2;
}

bool sb_format_url(const char *s, size_t len)
{
    size_t scheme;
    if (len > 2048)
        return false;
    if (len >= 8 && strncmp(s, "https://", 8) == 0)
        scheme = 8;
    else if (len >= 7 && strncmp(s, "http://", 7) == 0)
        scheme = 7;
    else
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7f || c == '"' || c == '<' || c == '>' || c == '\\')
            return false;
    }
    /* host: up to the first '/', '?', '#'; may carry userinfo and port */
    size_t end = scheme;
    while (end < len && s[end] != '/' && s[end] != '?' && s[end] != '#')
        end++;
    const char *host = s + scheme;
    size_t host_len = end - scheme;
    const char *at = NULL;
    for (size_t i = 0; i < host_len; i++)
        if (host[i] == '@')
            at = host + i;
    if (at) {
        host_len -= (size_t)(at + 1 - host);
        host = at + 1;
    }
    if (host_len && host[0] == '[') { /* IPv6 literal */
        const char *close = memchr(host, ']', host_len);
        return close && close > host + 1;
    }
    const char *colon = memchr(host, ':', host_len);
    if (colon) {
        size_t port_len = host_len - (size_t)(colon + 1 - host);
        int port;
        if (port_len == 0 || port_len > 5 || !digits(colon + 1, port_len, &port) || port > 65535)
            return false;
        host_len = (size_t)(colon - host);
    }
    size_t labels;
    return valid_domain(host, host_len, &labels);
}

size_t sb_utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

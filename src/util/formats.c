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

bool sb_utf8_valid(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned char c = u[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) {
            need = 2;
            cp = c & 0x1Fu;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 3;
            cp = c & 0x0Fu;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 4;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (len - i < need)
            return false;
        for (size_t k = 1; k < need; k++) {
            if ((u[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (u[i + k] & 0x3Fu);
        }
        if ((need == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (need == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return false;
        i += need;
    }
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil), and back. Exact for every year handled here. */
static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(long long z, long long *y, int *m, int *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* YYYY-MM-DD[Tt ]HH:MM:SS[.fraction] and nothing after: a date-time without
 * a zone. */
static bool timestamp_zoneless(const char *s, size_t len)
{
    char probe[48];
    if (len < 19 || len > 29)
        return false;
    memcpy(probe, s, len);
    probe[len] = 'Z';
    return sb_format_timestamp(probe, len + 1);
}

/* n decimal digits of v (0 <= v < 10^n), zero-padded. */
static void put_digits(char *out, long long v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

static long long floor_div(long long a, long long b)
{
    long long q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

bool sb_format_timestamp_utc(const char *s, size_t len, bool zone_optional,
                             char out[SB_TIMESTAMP_UTC_LEN + 1])
{
    int y = 0, mo = 0, d = 0, hh = 0, mi = 0, ss = 0, off_h = 0, off_m = 0;
    long nanos = 0;
    int sign = 0;
    if (zone_optional && len == 10) {
        if (!sb_format_date(s, len))
            return false;
    } else if (sb_format_timestamp(s, len)) {
        size_t zone = len - 1;
        if (s[zone] != 'Z' && s[zone] != 'z') {
            zone = len - 6;
            sign = s[zone] == '-' ? -1 : 1;
            digits(s + zone + 1, 2, &off_h);
            digits(s + zone + 4, 2, &off_m);
        }
    } else if (!(zone_optional && timestamp_zoneless(s, len))) {
        return false;
    }
    digits(s, 4, &y);
    digits(s + 5, 2, &mo);
    digits(s + 8, 2, &d);
    if (len > 10) {
        digits(s + 11, 2, &hh);
        digits(s + 14, 2, &mi);
        digits(s + 17, 2, &ss);
        if (len > 19 && s[19] == '.') {
            size_t i = 20, n = 0;
            for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, n++)
                nanos = nanos * 10 + (s[i] - '0');
            for (; n < 9; n++)
                nanos *= 10;
        }
    }
    long long micros = nanos / 1000, rest = nanos % 1000;
    if (rest > 500 || (rest == 500 && (micros & 1)))
        micros++;
    long long secs = days_from_civil(y, mo, d) * 86400LL + hh * 3600LL + mi * 60LL + ss;
    secs -= sign * (off_h * 3600LL + off_m * 60LL);
    if (micros == 1000000) {
        secs++;
        micros = 0;
    }
    long long days = floor_div(secs, 86400), in_day = secs - days * 86400;
    long long year;
    int month, day;
    civil_from_days(days, &year, &month, &day);
    if (year < 1 || year > 9999)
        return false;
    put_digits(out, year, 4);
    out[4] = '-';
    put_digits(out + 5, month, 2);
    out[7] = '-';
    put_digits(out + 8, day, 2);
    out[10] = 'T';
    put_digits(out + 11, in_day / 3600, 2);
    out[13] = ':';
    put_digits(out + 14, in_day / 60 % 60, 2);
    out[16] = ':';
    put_digits(out + 17, in_day % 60, 2);
    out[19] = '.';
    put_digits(out + 20, micros, 6);
    out[26] = 'Z';
    out[27] = '\0';
    return true;
}

uint32_t sb_utf8_next(const unsigned char *s, size_t len, size_t *n)
{
    uint32_t c = s[0];
    *n = 1;
    if (c < 0x80)
        return c;
    size_t need = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    if (need == 0 || c > 0xF4 || need >= len)
        return 0x110000 + c;
    uint32_t cp = c & (0x3Fu >> need);
    for (size_t k = 1; k <= need; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0x110000 + c;
        cp = cp << 6 | (s[k] & 0x3Fu);
    }
    static const uint32_t min_cp[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[need] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0x110000 + c;
    *n = need + 1;
    return cp;
}

int sb_hex_value(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

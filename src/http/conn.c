/* Connections: what libmicrohttpd does not track for us.
 *
 * Every connection MHD accepts is recorded here (MHD_OPTION_NOTIFY_CONNECTION)
 * with its socket, client address and phase (http_int.h). That gives:
 *
 *  - connection limits with an answer: past max_connections in total or
 *    max_connections_per_ip from one address, the connection is marked and
 *    its first request gets a 503 with Connection: close (MHD's own limits
 *    sit a margin above ours and only drop connections silently beyond it);
 *  - deadlines MHD lacks (its timeout only counts inactivity, so a client
 *    sending a byte a second would stay forever): a watchdog thread looks at
 *    every connection five times a second; a request whose headers are not
 *    complete header_timeout_s after it started, or whose body is not
 *    complete body_timeout_s after its headers, is answered 408 (written
 *    straight to the socket: nothing else is writing in those phases) and the
 *    socket is shut down so that MHD closes it. The fd is only used under the
 *    list lock, and MHD reports a close (removing the record under that lock)
 *    before it closes the fd, so a reused fd number is never touched.
 *
 * A request "starts" at its first byte. Between keep-alive requests the
 * watchdog compares the bytes the kernel received (TCP_INFO) with what it saw
 * at the end of the previous request: an idle connection is MHD's business
 * (idle_timeout_s, closed silently), a dribbling one is ours. A first
 * connection that never sends a byte is closed silently at the header
 * deadline (browsers open spare connections; a 408 there would be read as
 * the answer to a later request). */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <linux/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "http/http_int.h"
#include "util/die.h"
#include "util/clock.h"

#define WATCHDOG_TICK_MS 200

uint64_t http_now_ms(void)
{
    return (uint64_t)sb_mono_us() / 1000u;
}

uint64_t http_now_us(void)
{
    return (uint64_t)sb_mono_us();
}

int64_t http_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- connections per address: open addressing, linear probing ---- */

static size_t ip_hash(const struct in6_addr *ip)
{
    uint64_t a, b;
    memcpy(&a, ip->s6_addr, 8);
    memcpy(&b, ip->s6_addr + 8, 8);
    uint64_t h = a * 0x9e3779b97f4a7c15ull ^ b * 0xc2b2ae3d27d4eb4full;
    return (size_t)(h ^ (h >> 29));
}

/* The slot of ip, or the empty slot where it would go. The table never
 * fills: it has more slots than MHD lets connections in. */
static size_t ip_find(const struct sb_http_server *srv, const struct in6_addr *ip)
{
    size_t i = ip_hash(ip) & srv->ips_mask;
    while (srv->ips[i].count && memcmp(&srv->ips[i].ip, ip, sizeof(*ip)) != 0)
        i = (i + 1) & srv->ips_mask;
    return i;
}

static unsigned ip_add(struct sb_http_server *srv, const struct in6_addr *ip)
{
    size_t i = ip_find(srv, ip);
    if (!srv->ips[i].count)
        srv->ips[i].ip = *ip;
    return ++srv->ips[i].count;
}

static void ip_remove(struct sb_http_server *srv, const struct in6_addr *ip)
{
    size_t i = ip_find(srv, ip);
    if (!srv->ips[i].count || --srv->ips[i].count)
        return;
    /* backward-shift deletion keeps every probe chain unbroken */
    size_t j = i;
    for (;;) {
        j = (j + 1) & srv->ips_mask;
        if (!srv->ips[j].count)
            break;
        size_t home = ip_hash(&srv->ips[j].ip) & srv->ips_mask;
        bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
        if (movable) {
            srv->ips[i] = srv->ips[j];
            i = j;
        }
    }
    srv->ips[i].count = 0;
}

int http_conns_init(struct sb_http_server *srv)
{
    size_t want = 2 * ((size_t)srv->cfg.max_connections * 9 / 8 + 64);
    size_t cap = 64;
    while (cap < want)
        cap *= 2;
    srv->ips = sb_xcalloc(cap, sizeof(*srv->ips));
    srv->ips_mask = cap - 1;
    pthread_mutex_init(&srv->conns_mu, NULL);
    srv->conns = NULL;
    srv->n_open = 0;
    return 0;
}

void http_conns_free(struct sb_http_server *srv)
{
    pthread_mutex_destroy(&srv->conns_mu);
    free(srv->ips);
    srv->ips = NULL;
}

static void address_of(struct http_conn *conn, const struct sockaddr *sa)
{
    memset(&conn->ip, 0, sizeof(conn->ip));
    snprintf(conn->addr, sizeof(conn->addr), "-");
    if (!sa)
        return;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)(const void *)sa;
        conn->ip.s6_addr[10] = 0xff;
        conn->ip.s6_addr[11] = 0xff;
        memcpy(conn->ip.s6_addr + 12, &in4->sin_addr, 4);
        inet_ntop(AF_INET, &in4->sin_addr, conn->addr, sizeof(conn->addr));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        conn->ip = in6->sin6_addr;
        inet_ntop(AF_INET6, &in6->sin6_addr, conn->addr, sizeof(conn->addr));
    }
}

void http_conn_notify(void *cls, struct MHD_Connection *mhd, void **socket_context,
                      enum MHD_ConnectionNotificationCode code)
{
    struct sb_http_server *srv = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        struct http_conn *conn = sb_xcalloc(1, sizeof(*conn));
        pthread_mutex_init(&conn->mu, NULL);
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(mhd, MHD_CONNECTION_INFO_CONNECTION_FD);
        conn->fd = info ? info->connect_fd : -1;
        info = MHD_get_connection_info(mhd, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        address_of(conn, info ? info->client_addr : NULL);
        conn->opened_ms = http_now_ms();
        conn->phase = PHASE_WAIT_FIRST;
        conn->phase_since_ms = conn->opened_ms;
        conn->reject = HTTP_ERR_COUNT;

        pthread_mutex_lock(&srv->conns_mu);
        srv->n_open++;
        if (srv->n_open > srv->cfg.max_connections)
            conn->reject = HTTP_ERR_TOO_MANY_CONNS;
        if (ip_add(srv, &conn->ip) > srv->cfg.max_connections_per_ip &&
            conn->reject == HTTP_ERR_COUNT)
            conn->reject = HTTP_ERR_TOO_MANY_CONNS_IP;
        conn->counted_ip = true;
        conn->next = srv->conns;
        if (srv->conns)
            srv->conns->prev = conn;
        srv->conns = conn;
        pthread_mutex_unlock(&srv->conns_mu);
        atomic_fetch_add(&srv->n_connections, 1);
        *socket_context = conn;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct http_conn *conn = *socket_context;
        if (!conn)
            return;
        pthread_mutex_lock(&srv->conns_mu);
        if (conn->prev)
            conn->prev->next = conn->next;
        else
            srv->conns = conn->next;
        if (conn->next)
            conn->next->prev = conn->prev;
        srv->n_open--;
        if (conn->counted_ip)
            ip_remove(srv, &conn->ip);
        pthread_mutex_unlock(&srv->conns_mu);
        pthread_mutex_destroy(&conn->mu);
        free(conn);
        *socket_context = NULL;
    }
}

enum conn_phase http_conn_move(struct http_conn *conn, unsigned from_mask, enum conn_phase to)
{
    pthread_mutex_lock(&conn->mu);
    enum conn_phase old = conn->phase;
    if (from_mask & (1u << old)) {
        conn->phase = to;
        conn->phase_since_ms =
            old == PHASE_WAIT_FIRST && to == PHASE_HEADERS ? conn->opened_ms : http_now_ms();
    }
    pthread_mutex_unlock(&conn->mu);
    return old;
}

static void send_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* a client that does not read gets a cut answer */
        data += n;
        len -= (size_t)n;
    }
}

bool http_conn_answer_and_linger(struct http_conn *conn, const char *data, size_t len)
{
    pthread_mutex_lock(&conn->mu);
    bool alive = conn->phase != PHASE_DEAD;
    if (alive) {
        conn->phase = PHASE_LINGER;
        conn->phase_since_ms = http_now_ms();
        send_all(conn->fd, data, len);
        shutdown(conn->fd, SHUT_WR);
    }
    pthread_mutex_unlock(&conn->mu);
    return alive;
}

/* Bytes the kernel has received on fd, or -1 when it cannot tell. */
static int bytes_received(int fd, uint64_t *out)
{
    struct tcp_info info;
    socklen_t len = sizeof(info);
    memset(&info, 0, sizeof(info));
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof(info.tcpi_bytes_received))
        return -1;
    *out = info.tcpi_bytes_received;
    return 0;
}

/* Answer 408 (id from the request when it has one) and shut the socket.
 * Holds conns_mu and conn->mu. */
static void time_out(struct sb_http_server *srv, struct http_conn *conn, enum http_error_id id,
                     uint64_t now)
{
    struct sb_http_exchange *ex = conn->current;
    char made[37];
    const char *request_id;
    if (ex && ex->req.request_id) {
        request_id = ex->req.request_id;
    } else {
        http_request_id_make(made);
        request_id = made;
        if (ex) {
            memcpy(ex->id_buf, made, sizeof(made));
            ex->req.request_id = ex->id_buf;
        }
    }
    struct sb_buf raw;
    sb_buf_init(&raw);
    http_format_raw_error(srv, id, request_id, &raw);
    conn->phase = PHASE_DEAD;
    send_all(conn->fd, raw.data, raw.len);
    shutdown(conn->fd, SHUT_RDWR);
    const char *body = strstr(raw.data, "\r\n\r\n");
    uint64_t body_len = body ? raw.len - (size_t)(body + 4 - raw.data) : 0;
    sb_buf_free(&raw);
    atomic_fetch_add(&srv->n_rejected, 1);
    if (ex) {
        /* logged by the request's completion, which the shutdown causes */
        ex->status_sent = http_error_status(id);
        ex->bytes_out = body_len;
    } else {
        http_log_line(srv, http_wall_ms() - (int64_t)(now - conn->phase_since_ms), request_id,
                      conn->addr, NULL, NULL, http_error_status(id), body_len,
                      (now - conn->phase_since_ms) * 1000u);
        atomic_fetch_add(&srv->n_requests, 1);
    }
}

static void silent_close(struct http_conn *conn)
{
    conn->phase = PHASE_DEAD;
    shutdown(conn->fd, SHUT_RDWR);
}

static void check_conn(struct sb_http_server *srv, struct http_conn *conn, uint64_t now)
{
    const uint64_t header_ms = (uint64_t)srv->cfg.header_timeout_s * 1000u;
    const uint64_t body_ms = (uint64_t)srv->cfg.body_timeout_s * 1000u;
    /* now was read before this connection's lock was taken: a request may
       have moved it to a new phase since, stamped later than now */
    uint64_t age = now > conn->phase_since_ms ? now - conn->phase_since_ms : 0;
    uint64_t bytes = 0;

    switch (conn->phase) {
    case PHASE_WAIT_FIRST:
        if (age >= header_ms) {
            if (bytes_received(conn->fd, &bytes) == 0 && bytes == 0)
                silent_close(conn);
            else
                time_out(srv, conn, HTTP_ERR_HEADER_TIMEOUT, now);
        }
        break;
    case PHASE_IDLE:
        if (bytes_received(conn->fd, &bytes) != 0)
            break;
        if (conn->idle_seen_completed != conn->completed) {
            conn->idle_seen_completed = conn->completed;
            conn->idle_bytes = bytes;
        } else if (bytes > conn->idle_bytes) {
            conn->phase = PHASE_HEADERS; /* the next request has begun */
            conn->phase_since_ms = now;
        }
        break;
    case PHASE_HEADERS:
        if (age >= header_ms)
            time_out(srv, conn, HTTP_ERR_HEADER_TIMEOUT, now);
        break;
    case PHASE_BODY:
        if (age >= body_ms)
            time_out(srv, conn, HTTP_ERR_BODY_TIMEOUT, now);
        break;
    case PHASE_LINGER:
        if (age >= HTTP_LINGER_MS)
            silent_close(conn);
        break;
    case PHASE_HANDLER:
    case PHASE_DEAD: break;
    }
}

static void *watchdog_main(void *arg)
{
    struct sb_http_server *srv = arg;
    pthread_mutex_lock(&srv->wd_mu);
    while (!srv->wd_stop) {
        struct timespec until = sb_mono_deadline(WATCHDOG_TICK_MS * 1000L);
        pthread_cond_timedwait(&srv->wd_cond, &srv->wd_mu, &until);
        if (srv->wd_stop)
            break;
        pthread_mutex_unlock(&srv->wd_mu);

        uint64_t now = http_now_ms();
        pthread_mutex_lock(&srv->conns_mu);
        for (struct http_conn *conn = srv->conns; conn; conn = conn->next) {
            pthread_mutex_lock(&conn->mu);
            check_conn(srv, conn, now);
            pthread_mutex_unlock(&conn->mu);
        }
        pthread_mutex_unlock(&srv->conns_mu);

        pthread_mutex_lock(&srv->wd_mu);
    }
    pthread_mutex_unlock(&srv->wd_mu);
    return NULL;
}

int http_watchdog_start(struct sb_http_server *srv)
{
    sb_cond_init_mono(&srv->wd_cond);
    pthread_mutex_init(&srv->wd_mu, NULL);
    srv->wd_stop = false;
    if (pthread_create(&srv->watchdog, NULL, watchdog_main, srv) != 0)
        return -1;
    srv->watchdog_running = true;
    return 0;
}

void http_watchdog_stop(struct sb_http_server *srv)
{
    if (srv->watchdog_running) {
        pthread_mutex_lock(&srv->wd_mu);
        srv->wd_stop = true;
        pthread_cond_signal(&srv->wd_cond);
        pthread_mutex_unlock(&srv->wd_mu);
        pthread_join(srv->watchdog, NULL);
        srv->watchdog_running = false;
    }
    pthread_cond_destroy(&srv->wd_cond);
    pthread_mutex_destroy(&srv->wd_mu);
}

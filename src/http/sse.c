/*
 * Server-Sent Events (/api/events).
 *
 * Each client is a response whose content callback drains the client's
 * bounded queue. An event is formatted once into a reference-counted
 * message that every client's queue points to. With its queue empty the
 * callback suspends the connection (no thread, no polling); a publish
 * resumes it. A client whose queue is full (HTTP__SSE_QUEUE events or
 * HTTP__SSE_QUEUE_BYTES bytes) is dropped: its queue is freed at once and
 * its connection ends the next time libmicrohttpd asks it for data (or at
 * the connection timeout if it never reads again). A ticker queues a ping
 * comment every HTTP__SSE_PING_MS and, every second, ends the waiting
 * clients whose peer has hung up.
 *
 * Who may call MHD_resume_connection: only the thread that flipped the
 * client's `suspended` from true to false under its mutex. Until that
 * call the connection stays suspended, so libmicrohttpd cannot end it and
 * the client (freed only by the response's free callback) stays valid even
 * after the locks are released.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_impl.h"

#include "hv_log.h"

_Atomic int64_t http__sse_ping_ms = HTTP__SSE_PING_MS;

typedef struct {
    atomic_uint refs;
    size_t len;
    char data[];
} msg_t;

struct http__sse_client {
    http__sse_client_t *next, *prev;
    hv_http_t *h;
    struct MHD_Connection *conn;
    int fd; /* the connection's socket (for hang-up checks), or -1 */
    pthread_mutex_t mu;
    msg_t *q[HTTP__SSE_QUEUE];
    size_t head, count;  /* ring of queued messages, oldest at head */
    size_t off;          /* bytes of q[head] already handed out */
    size_t bytes;        /* queued bytes not yet handed out */
    bool suspended;      /* suspended by the reader, not yet resumed */
    bool resume_pending; /* resumed; the reader has not run since */
    bool dropped;
};

/* ---- messages ------------------------------------------------------------------ */

size_t http__sse_format(char *out, size_t cap, const char *event, const char *data)
{
    size_t n = 0;
#define PUT(ch)                                                                                    \
    do {                                                                                           \
        if (n < cap)                                                                               \
            out[n] = (ch);                                                                         \
        n++;                                                                                       \
    } while (0)
#define PUTS(s)                                                                                    \
    for (const char *s_ = (s); *s_; s_++)                                                          \
    PUT(*s_)
    if (event != NULL && *event != '\0') {
        PUTS("event: ");
        for (const char *p = event; *p; p++)
            if (*p != '\r' && *p != '\n')
                PUT(*p);
        PUT('\n');
    }
    const char *p = data ? data : "";
    for (;;) {
        PUTS("data: ");
        while (*p && *p != '\r' && *p != '\n') {
            PUT(*p);
            p++;
        }
        PUT('\n');
        if (*p == '\0')
            break;
        if (p[0] == '\r' && p[1] == '\n')
            p++;
        p++;
    }
    PUT('\n');
#undef PUTS
#undef PUT
    return n;
}

static msg_t *msg_raw(const char *text)
{
    size_t len = strlen(text);
    msg_t *m = malloc(sizeof *m + len);
    if (m == NULL)
        return NULL;
    atomic_init(&m->refs, 1);
    m->len = len;
    memcpy(m->data, text, len);
    return m;
}

static msg_t *msg_event(const char *event, const char *data)
{
    size_t len = http__sse_format(NULL, 0, event, data);
    msg_t *m = malloc(sizeof *m + len);
    if (m == NULL)
        return NULL;
    atomic_init(&m->refs, 1);
    m->len = http__sse_format(m->data, len, event, data);
    return m;
}

static void msg_unref(msg_t *m)
{
    if (m != NULL && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
        free(m);
}

/* ---- client queues (client mu held) ---------------------------------------------- */

static void queue_clear(http__sse_client_t *c)
{
    for (; c->count > 0; c->count--) {
        msg_unref(c->q[c->head]);
        c->head = (c->head + 1) % HTTP__SSE_QUEUE;
    }
    c->head = c->off = c->bytes = 0;
}

/* Queues m (or drops the client when full); true when the caller must
 * resume the connection. */
static bool queue_push(http__sse_client_t *c, msg_t *m)
{
    if (!c->dropped) {
        if (c->count == HTTP__SSE_QUEUE ||
            (c->count > 0 && c->bytes + m->len > HTTP__SSE_QUEUE_BYTES)) {
            c->dropped = true;
            queue_clear(c);
            atomic_fetch_add_explicit(&c->h->sse_dropped, 1, memory_order_relaxed);
        } else {
            atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
            c->q[(c->head + c->count) % HTTP__SSE_QUEUE] = m;
            c->count++;
            c->bytes += m->len;
        }
    }
    if (!c->suspended)
        return false;
    c->suspended = false;
    c->resume_pending = true;
    return true;
}

/* Queues m to every client, then resumes the ones that were waiting. */
static void broadcast(hv_http_t *h, msg_t *m)
{
    struct MHD_Connection *wake[HTTP__SSE_MAX_CLIENTS];
    size_t nwake = 0;
    pthread_mutex_lock(&h->sse_mu);
    for (http__sse_client_t *c = h->clients; c != NULL; c = c->next) {
        pthread_mutex_lock(&c->mu);
        if (queue_push(c, m)) /* at most nclients <= HTTP__SSE_MAX_CLIENTS */
            wake[nwake++] = c->conn;
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_unlock(&h->sse_mu);
    for (size_t i = 0; i < nwake; i++)
        MHD_resume_connection(wake[i]);
}

void hv_http_publish(hv_http_t *h, const char *event, const char *json)
{
    if (h == NULL || atomic_load(&h->stopping))
        return;
    msg_t *m = msg_event(event, json);
    if (m == NULL)
        return;
    broadcast(h, m);
    msg_unref(m);
}

/* ---- the response ----------------------------------------------------------------- */

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    http__sse_client_t *c = cls;
    hv_http_t *h = c->h;
    pthread_mutex_lock(&c->mu);
    c->resume_pending = false;
    if (c->dropped || atomic_load(&h->stopping)) {
        pthread_mutex_unlock(&c->mu);
        pthread_mutex_lock(&h->sse_mu);
        pthread_cond_broadcast(&h->sse_cv);
        pthread_mutex_unlock(&h->sse_mu);
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    if (c->count == 0) {
        c->suspended = true;
        MHD_suspend_connection(c->conn);
        pthread_mutex_unlock(&c->mu);
        return 0;
    }
    size_t n = 0;
    while (c->count > 0 && n < max) {
        msg_t *m = c->q[c->head];
        size_t k = m->len - c->off;
        if (k > max - n)
            k = max - n;
        memcpy(buf + n, m->data + c->off, k);
        n += k;
        c->off += k;
        c->bytes -= k;
        if (c->off == m->len) {
            msg_unref(m);
            c->head = (c->head + 1) % HTTP__SSE_QUEUE;
            c->count--;
            c->off = 0;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return (ssize_t)n;
}

static void sse_free(void *cls)
{
    http__sse_client_t *c = cls;
    hv_http_t *h = c->h;
    pthread_mutex_lock(&h->sse_mu);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        h->clients = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    h->nclients--;
    pthread_cond_broadcast(&h->sse_cv);
    pthread_mutex_unlock(&h->sse_mu);
    queue_clear(c);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

enum MHD_Result http__sse_open(hv_http_t *h, struct MHD_Connection *conn)
{
    http__sse_client_t *c = calloc(1, sizeof *c);
    msg_t *hello = msg_raw(": connected\nretry: 3000\n\n");
    if (c == NULL || hello == NULL) {
        free(c);
        free(hello);
        return MHD_NO;
    }
    pthread_mutex_init(&c->mu, NULL);
    c->h = h;
    c->conn = conn;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    c->fd = ci != NULL ? ci->connect_fd : -1;
    c->q[0] = hello;
    c->count = 1;
    c->bytes = hello->len;

    pthread_mutex_lock(&h->sse_mu);
    bool full = h->nclients >= HTTP__SSE_MAX_CLIENTS, stopping = atomic_load(&h->stopping);
    if (!full && !stopping) {
        c->next = h->clients;
        if (h->clients != NULL)
            h->clients->prev = c;
        h->clients = c;
        h->nclients++;
    }
    pthread_mutex_unlock(&h->sse_mu);
    if (full || stopping) {
        queue_clear(c);
        pthread_mutex_destroy(&c->mu);
        free(c);
        return http__error(h, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                           stopping ? "shutting down" : "too many event clients");
    }
    /* From here the response owns c: sse_free unlinks and frees it. */
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, sse_read, c, sse_free);
    if (resp == NULL) {
        sse_free(c);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    enum MHD_Result r = http__queue(h, conn, MHD_HTTP_OK, resp, false);
    MHD_destroy_response(resp);
    return r;
}

size_t http__sse_count(hv_http_t *h)
{
    size_t n = 0;
    pthread_mutex_lock(&h->sse_mu);
    for (http__sse_client_t *c = h->clients; c != NULL; c = c->next) {
        pthread_mutex_lock(&c->mu);
        n += !c->dropped;
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_unlock(&h->sse_mu);
    return n;
}

/* ---- ping ticker, start and stop ----------------------------------------------------- */

static void add_ms(struct timespec *ts, int64_t ms)
{
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

/* Ends the suspended clients whose peer has hung up: a suspended
 * connection is not polled by libmicrohttpd, so a closed browser tab would
 * otherwise stay until a ping fails to be written. */
static void reap(hv_http_t *h)
{
    struct MHD_Connection *wake[HTTP__SSE_MAX_CLIENTS];
    size_t nwake = 0;
    pthread_mutex_lock(&h->sse_mu);
    for (http__sse_client_t *c = h->clients; c != NULL; c = c->next) {
        pthread_mutex_lock(&c->mu);
        if (c->suspended && c->fd >= 0 && nwake < HTTP__SSE_MAX_CLIENTS) {
            struct pollfd p = {.fd = c->fd, .events = POLLRDHUP};
            if (poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
                c->dropped = true;
                queue_clear(c);
                c->suspended = false;
                c->resume_pending = true;
                wake[nwake++] = c->conn;
            }
        }
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_unlock(&h->sse_mu);
    for (size_t i = 0; i < nwake; i++)
        MHD_resume_connection(wake[i]);
}

static void *ticker(void *arg)
{
    hv_http_t *h = arg;
    const int64_t tick_ms = h->ping_ms < 1000 ? h->ping_ms : 1000;
    int64_t next_ping = http__mono_ms() + h->ping_ms;
    struct timespec next;
    pthread_mutex_lock(&h->tick_mu);
    while (!h->tick_stop) {
        clock_gettime(CLOCK_MONOTONIC, &next);
        add_ms(&next, tick_ms);
        while (!h->tick_stop &&
               pthread_cond_timedwait(&h->tick_cv, &h->tick_mu, &next) != ETIMEDOUT)
            ;
        if (h->tick_stop)
            break;
        pthread_mutex_unlock(&h->tick_mu);
        reap(h);
        if (http__mono_ms() >= next_ping) {
            msg_t *m = msg_raw(": ping\n\n");
            if (m != NULL) {
                broadcast(h, m);
                msg_unref(m);
            }
            next_ping = http__mono_ms() + h->ping_ms;
        }
        pthread_mutex_lock(&h->tick_mu);
    }
    pthread_mutex_unlock(&h->tick_mu);
    return NULL;
}

int http__sse_start(hv_http_t *h)
{
    h->ping_ms = atomic_load(&http__sse_ping_ms);
    if (h->ping_ms < 1)
        h->ping_ms = 1;
    if (pthread_create(&h->ticker, NULL, ticker, h) != 0)
        return HV_ENOMEM;
    h->tick_started = true;
    return HV_OK;
}

void http__sse_stop(hv_http_t *h)
{
    if (h->tick_started) {
        pthread_mutex_lock(&h->tick_mu);
        h->tick_stop = true;
        pthread_cond_signal(&h->tick_cv);
        pthread_mutex_unlock(&h->tick_mu);
        pthread_join(h->ticker, NULL);
        h->tick_started = false;
    }

    /* No client suspends itself once stopping is set (its reader checks it
     * under its mutex), so after this pass none is left suspended. */
    atomic_store(&h->stopping, true);
    struct MHD_Connection *wake[HTTP__SSE_MAX_CLIENTS];
    size_t nwake = 0;
    pthread_mutex_lock(&h->sse_mu);
    for (http__sse_client_t *c = h->clients; c != NULL; c = c->next) {
        pthread_mutex_lock(&c->mu);
        if (c->suspended && nwake < HTTP__SSE_MAX_CLIENTS) {
            c->suspended = false;
            c->resume_pending = true;
            wake[nwake++] = c->conn;
        }
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_unlock(&h->sse_mu);
    for (size_t i = 0; i < nwake; i++)
        MHD_resume_connection(wake[i]);

    /* Let libmicrohttpd process the resumes before it is stopped (at most
     * 2 s: MHD_stop_daemon handles the rest itself). */
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    add_ms(&deadline, 2000);
    pthread_mutex_lock(&h->sse_mu);
    for (;;) {
        bool pending = false;
        for (http__sse_client_t *c = h->clients; c != NULL && !pending; c = c->next) {
            pthread_mutex_lock(&c->mu);
            pending = c->resume_pending || c->suspended;
            pthread_mutex_unlock(&c->mu);
        }
        if (!pending || pthread_cond_timedwait(&h->sse_cv, &h->sse_mu, &deadline) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&h->sse_mu);
}

void http__sse_join(hv_http_t *h)
{
    /* MHD_stop_daemon has ended every connection, so every client's free
     * callback has run. */
    pthread_mutex_lock(&h->sse_mu);
    if (h->clients != NULL)
        hv_log("http", HV_LOG_WARN, "%zu event clients left after stop", h->nclients);
    pthread_mutex_unlock(&h->sse_mu);
}

/*
 * The HTTP server: listening socket, the libmicrohttpd daemon, routing,
 * method and size limits, the bearer token, and the response helpers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "http_impl.h"

#include "hv_log.h"

#define POOL_MAX 32
#define CONNECTION_LIMIT 512
#define CONNECTION_TIMEOUT_S 60 /* > the SSE ping interval */
#define CONNECTION_MEMORY (64 * 1024)
/* A body without Content-Length that outgrows the limit is read and thrown
 * away (the 413 can only be queued once it has ended), up to this much;
 * past it the connection is closed. */
#define DISCARD_MAX (8u * HV_HTTP_MAX_BODY)
#define HTTP__MAX_BODY_TEXT "1048576" /* HV_HTTP_MAX_BODY */
_Static_assert(HV_HTTP_MAX_BODY == 1048576, "HTTP__MAX_BODY_TEXT");

typedef struct {
    const http__route_t *route; /* NULL with an error to answer */
    unsigned err_code;          /* an error answered on the last call */
    const char *err_msg, *err_hname, *err_hvalue;
    char *body;
    size_t len, cap;
    size_t discarded;
    bool too_big;
} request_t;

/* ---- small helpers -------------------------------------------------------- */

int64_t http__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t http__mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *http__arg(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

size_t http__unescape(char *s)
{
    char *out = s;
    for (const char *p = s; *p;) {
        int hi, lo;
        if (p[0] == '%' && (hi = hex_digit(p[1])) >= 0 && (lo = hex_digit(p[2])) >= 0 &&
            (hi | lo) != 0) {
            *out++ = (char)(hi * 16 + lo);
            p += 3;
        } else {
            *out++ = *p++;
        }
    }
    *out = '\0';
    return (size_t)(out - s);
}

static size_t unescape_cb(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls, (void)c;
    return http__unescape(s);
}

cJSON *http__parse_json(const char *body, size_t len)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (root == NULL)
        return NULL;
    for (; end < body + len; end++)
        if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r') {
            cJSON_Delete(root);
            return NULL;
        }
    return root;
}

bool http__auth_ok(const char *header, const char *token, size_t token_len)
{
    static const char prefix[] = "Bearer ";
    const size_t plen = sizeof prefix - 1;
    if (header == NULL)
        return false;
    size_t hlen = strlen(header);
    /* Every byte of the expected value is compared whatever the header
     * holds; only the (public) prefix length and the header's own length
     * decide nothing early. */
    unsigned diff = hlen != plen + token_len;
    for (size_t i = 0; i < plen + token_len; i++) {
        unsigned char want = i < plen ? (unsigned char)prefix[i] : (unsigned char)token[i - plen];
        unsigned char got = i < hlen ? (unsigned char)header[i] : 0;
        diff |= (unsigned)(want ^ got);
    }
    return diff == 0;
}

/* ---- responses ------------------------------------------------------------ */

enum MHD_Result http__queue(hv_http_t *h, struct MHD_Connection *c, unsigned code,
                            struct MHD_Response *resp, bool cacheable)
{
    if (!cacheable)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    http__count(h, code);
    return MHD_queue_response(c, code, resp);
}

static void free_cb(void *p)
{
    free(p);
}

enum MHD_Result http__send(hv_http_t *h, struct MHD_Connection *c, unsigned code, const char *ctype,
                           void *data, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer_with_free_callback(len, data, free_cb);
    if (resp == NULL) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    enum MHD_Result r = http__queue(h, c, code, resp, false);
    MHD_destroy_response(resp);
    return r;
}

enum MHD_Result http__send_json(hv_http_t *h, struct MHD_Connection *c, unsigned code, char *json)
{
    if (json == NULL)
        return http__error(h, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    return http__send(h, c, code, "application/json", json, strlen(json));
}

static enum MHD_Result send_error(hv_http_t *h, struct MHD_Connection *c, unsigned code,
                                  const char *msg, const char *hname, const char *hvalue)
{
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    if (o != NULL && cJSON_AddStringToObject(o, "error", msg) != NULL)
        text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text == NULL)
        return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer_with_free_callback(strlen(text), text, free_cb);
    if (resp == NULL) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (hname != NULL)
        MHD_add_response_header(resp, hname, hvalue);
    enum MHD_Result r = http__queue(h, c, code, resp, false);
    MHD_destroy_response(resp);
    return r;
}

enum MHD_Result http__error(hv_http_t *h, struct MHD_Connection *c, unsigned code, const char *fmt,
                            ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return send_error(h, c, code, msg, NULL, NULL);
}

/* ---- requests ------------------------------------------------------------- */

static bool is_get(const char *method)
{
    return strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
}

/* Whether the request has a body (HTTP/1.1: a length or chunks). */
static bool has_body(struct MHD_Connection *c)
{
    const char *cl =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) !=
               NULL ||
           (cl != NULL && strcmp(cl, "0") != 0);
}

/* The first call for a request: route, method, token, declared size. An
 * error for a request with a body is answered at once (libmicrohttpd then
 * closes the connection instead of reading the body); everything else is
 * answered on the last call, as an answer queued on the first call ends
 * keep-alive (a browser's 404 for /favicon.ico would close its connection). */
static enum MHD_Result begin(hv_http_t *h, struct MHD_Connection *c, const char *url,
                             const char *method, void **req_cls)
{
    unsigned code = 0;
    const char *msg = NULL, *hname = NULL, *hvalue = NULL;
    const http__route_t *r = http__route_find(url);
    int64_t declared;
    const char *cl =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (r == NULL) {
        code = MHD_HTTP_NOT_FOUND, msg = "not found";
    } else if (r->post ? strcmp(method, MHD_HTTP_METHOD_POST) != 0 : !is_get(method)) {
        code = MHD_HTTP_METHOD_NOT_ALLOWED, msg = "method not allowed";
        hname = MHD_HTTP_HEADER_ALLOW, hvalue = r->post ? "POST" : "GET, HEAD";
    } else if (r->acting && h->token_len > 0 &&
               !http__auth_ok(
                   MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
                   h->token, h->token_len)) {
        code = MHD_HTTP_UNAUTHORIZED, msg = "missing or wrong bearer token";
        hname = MHD_HTTP_HEADER_WWW_AUTHENTICATE, hvalue = "Bearer realm=\"harvester\"";
    } else if (cl != NULL && http__parse_i64(cl, 0, INT64_MAX, &declared) &&
               declared > (int64_t)HV_HTTP_MAX_BODY) {
        code = MHD_HTTP_CONTENT_TOO_LARGE, msg = "body over " HTTP__MAX_BODY_TEXT " bytes";
    }
    if (code != 0 && has_body(c))
        return send_error(h, c, code, msg, hname, hvalue);
    request_t *rq = calloc(1, sizeof *rq);
    if (rq == NULL)
        return MHD_NO;
    rq->route = code ? NULL : r;
    rq->err_code = code;
    rq->err_msg = msg;
    rq->err_hname = hname;
    rq->err_hvalue = hvalue;
    *req_cls = rq;
    return MHD_YES;
}

static bool append(request_t *rq, const char *data, size_t n)
{
    if (rq->route == NULL || !rq->route->post) { /* a body nobody reads */
        rq->discarded += n;
        return rq->discarded <= DISCARD_MAX;
    }
    if (rq->too_big || n > HV_HTTP_MAX_BODY - rq->len) {
        rq->too_big = true;
        rq->discarded += n;
        return rq->discarded <= DISCARD_MAX;
    }
    if (rq->len + n + 1 > rq->cap) {
        size_t cap = rq->cap ? rq->cap : 4096;
        while (cap < rq->len + n + 1)
            cap *= 2;
        if (cap > HV_HTTP_MAX_BODY + 1)
            cap = HV_HTTP_MAX_BODY + 1;
        char *b = realloc(rq->body, cap);
        if (b == NULL)
            return false;
        rq->body = b;
        rq->cap = cap;
    }
    memcpy(rq->body + rq->len, data, n);
    rq->len += n;
    rq->body[rq->len] = '\0';
    return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    (void)version;
    hv_http_t *h = cls;
    request_t *rq = *req_cls;
    if (rq == NULL)
        return begin(h, c, url, method, req_cls);
    if (*upload_data_size > 0) {
        if (!append(rq, upload_data, *upload_data_size))
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (rq->err_code != 0)
        return send_error(h, c, rq->err_code, rq->err_msg, rq->err_hname, rq->err_hvalue);
    if (rq->too_big)
        return send_error(h, c, MHD_HTTP_CONTENT_TOO_LARGE,
                          "body over " HTTP__MAX_BODY_TEXT " bytes", NULL, NULL);
    return rq->route->fn(h, c, url, rq->body ? rq->body : "", rq->len);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    request_t *rq = *req_cls;
    if (rq != NULL) {
        free(rq->body);
        free(rq);
        *req_cls = NULL;
    }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    /* A client's malformed or abandoned request is its problem, not ours. */
    bool client = strstr(line, "Closing connection") || strstr(line, "closed connection") ||
                  strstr(line, "Error processing request");
    hv_log_line("http", client ? HV_LOG_DEBUG : HV_LOG_WARN, line);
}

/* ---- start / stop --------------------------------------------------------- */

static char *dup_or_null(const char *s, bool *oom)
{
    if (s == NULL)
        return NULL;
    char *d = strdup(s);
    if (d == NULL)
        *oom = true;
    return d;
}

static void free_server(hv_http_t *h)
{
    free(h->bind);
    free(h->token);
    free(h->node_id);
    free(h->role);
    free(h->static_dir);
    pthread_mutex_destroy(&h->sse_mu);
    pthread_cond_destroy(&h->sse_cv);
    pthread_mutex_destroy(&h->tick_mu);
    pthread_cond_destroy(&h->tick_cv);
    free(h);
}

/* A bound, listening, non-blocking socket for bind:port, or -1 with err. */
static int listen_on(const char *bind_addr, int port, char *err, size_t errlen)
{
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(bind_addr, service, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "bind address %s: %s", bind_addr, gai_strerror(rc));
        return -1;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *a = ai; a != NULL; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1, zero = 0;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (a->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 256) == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd < 0)
        snprintf(err, errlen, "listen on %s:%d: %s", bind_addr, port, strerror(saved));
    return fd;
}

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

int hv_http_start(const hv_http_opts_t *opts, hv_http_t **ret, char *err, size_t errlen)
{
    if (opts == NULL || ret == NULL || opts->port < 0 || opts->port > 65535) {
        snprintf(err, errlen, "invalid HTTP options");
        return HV_EINVAL;
    }
    hv_http_t *h = calloc(1, sizeof *h);
    if (h == NULL) {
        snprintf(err, errlen, "out of memory");
        return HV_ENOMEM;
    }
    pthread_mutex_init(&h->sse_mu, NULL);
    pthread_mutex_init(&h->tick_mu, NULL);
    pthread_condattr_t ca; /* both wait with CLOCK_MONOTONIC deadlines */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->sse_cv, &ca);
    pthread_cond_init(&h->tick_cv, &ca);
    pthread_condattr_destroy(&ca);

    bool oom = false;
    h->o = *opts;
    h->bind = dup_or_null(opts->bind ? opts->bind : "0.0.0.0", &oom);
    h->token = dup_or_null(opts->token ? opts->token : "", &oom);
    h->node_id = dup_or_null(opts->node_id ? opts->node_id : "", &oom);
    h->role = dup_or_null(opts->role ? opts->role : "", &oom);
    h->static_dir = dup_or_null(opts->static_dir, &oom);
    if (oom) {
        free_server(h);
        snprintf(err, errlen, "out of memory");
        return HV_ENOMEM;
    }
    h->o.bind = h->bind;
    h->o.token = h->token;
    h->o.node_id = h->node_id;
    h->o.role = h->role;
    h->o.static_dir = h->static_dir;
    h->token_len = strlen(h->token);
    h->start_ms = http__mono_ms();

    int fd = listen_on(h->bind, opts->port, err, errlen);
    if (fd < 0) {
        free_server(h);
        return HV_EIO;
    }
    h->port = bound_port(fd);

    /* One pool thread per core this process may run on (taskset, cgroups). */
    cpu_set_t cpus;
    long ncpu = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus)
                                                              : sysconf(_SC_NPROCESSORS_ONLN);
    unsigned pool = ncpu < 1 ? 1 : ncpu * 16 > POOL_MAX ? POOL_MAX : (unsigned)ncpu * 16;
    /* A pool of one is no pool (and libmicrohttpd warns about it). */
    struct MHD_OptionItem pool_opt[] = {
        {pool > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (intptr_t)pool, NULL},
        {MHD_OPTION_END, 0, NULL}};
    /* poll(), not epoll: libmicrohttpd 0.9.75's epoll mode loses track of
     * connections once ~128 are active on one thread (they stall with
     * their requests unread and stay open after the client has gone);
     * its poll mode serves the same load at the same speed. */
    unsigned flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    h->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_ARRAY, pool_opt,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)CONNECTION_MEMORY, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape_cb, h, MHD_OPTION_END);
    if (h->daemon == NULL) {
        close(fd);
        free_server(h);
        snprintf(err, errlen, "cannot start the HTTP server on %s:%d", opts->bind, opts->port);
        return HV_EIO;
    }
    int rc = http__sse_start(h);
    if (rc != HV_OK) {
        MHD_stop_daemon(h->daemon);
        free_server(h);
        snprintf(err, errlen, "cannot start the SSE ticker");
        return rc;
    }
    *ret = h;
    return HV_OK;
}

void hv_http_stop(hv_http_t *h)
{
    if (h == NULL)
        return;
    http__sse_stop(h);
    MHD_stop_daemon(h->daemon); /* closes the listening socket too */
    http__sse_join(h);
    free_server(h);
}

int hv_http_port(const hv_http_t *h)
{
    return h ? h->port : -1;
}

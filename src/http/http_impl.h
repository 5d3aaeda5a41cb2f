/*
 * Private to the files of src/http: the server's state, the route table, the
 * response helpers every endpoint uses and the small parsers (numbers,
 * buzzer patterns, static paths, SSE framing) that fuzz/fuzz_http_query.c
 * and tests/http/test_http.c also call directly.
 *
 * Threading: one libmicrohttpd daemon waiting in poll() on a thread pool
 * (one thread per core this process may use, at most 4; no pool on one
 * core). Ordinary requests are answered on the pool thread that read them.
 * An SSE client (/api/events) is a response whose content comes from a
 * callback reading the client's bounded queue; with nothing queued, the
 * callback suspends the connection and hv_http_publish resumes it, so an
 * idle client costs no thread and no polling. A ticker thread queues the
 * 15 s ping comment and ends waiting clients whose peer has hung up.
 */
#ifndef HV_HTTP_IMPL_H
#define HV_HTTP_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "hv_http.h"

#define HTTP__SSE_QUEUE 256              /* events queued per client */
#define HTTP__SSE_QUEUE_BYTES (1u << 20) /* bytes queued per client */
#define HTTP__SSE_MAX_CLIENTS 128
#define HTTP__SSE_PING_MS 15000
/* The ping interval in ms (HTTP__SSE_PING_MS); tests shorten it before
 * hv_http_start. */
extern _Atomic int64_t http__sse_ping_ms;
#define HTTP__LOGS_DEFAULT 1000 /* /api/logs: lines per answer without limit= */
#define HTTP__LOGS_MAX 10000
#define HTTP__HISTORY_SPAN_MS 3600000 /* /api/history: default from = to - 1 h */
#define HTTP__MAX_CODE 600

typedef struct http__sse_client http__sse_client_t;

struct hv_http {
    hv_http_opts_t o; /* strings point to the copies below */
    char *bind, *token, *node_id, *role, *static_dir;
    size_t token_len;
    struct MHD_Daemon *daemon;
    int port;
    int64_t start_ms; /* monotonic */

    /* metrics: answers by status code */
    atomic_uint_least64_t codes[HTTP__MAX_CODE];
    atomic_uint_least64_t sse_dropped;

    /* SSE clients; lock order: sse_mu, then a client's mu. MHD functions
     * are never called with sse_mu held. */
    pthread_mutex_t sse_mu;
    pthread_cond_t sse_cv; /* a client went away or finished a resume */
    http__sse_client_t *clients;
    size_t nclients;
    atomic_bool stopping;

    /* the ping ticker */
    pthread_mutex_t tick_mu;
    pthread_cond_t tick_cv;
    bool tick_stop, tick_started;
    int64_t ping_ms;
    pthread_t ticker;
};

/* ---- routing (api.c) ---------------------------------------------------- */

/* body/len: the request body (NUL-terminated copy) for routes with a body. */
typedef enum MHD_Result (*http__handler_fn)(hv_http_t *h, struct MHD_Connection *c, const char *url,
                                            const char *body, size_t len);

typedef struct {
    const char *path; /* exact, or a prefix ending in '/' when prefix */
    bool prefix;
    bool post;   /* POST (with a body); else GET (and HEAD) */
    bool acting; /* needs the bearer token when one is set */
    http__handler_fn fn;
} http__route_t;

/* The route for url, or NULL. */
const http__route_t *http__route_find(const char *url);

/* ---- responses (server.c) ----------------------------------------------- */

/* Queues resp with code, counting it for /metrics; adds Cache-Control:
 * no-store unless cacheable. Does not destroy resp. */
enum MHD_Result http__queue(hv_http_t *h, struct MHD_Connection *c, unsigned code,
                            struct MHD_Response *resp, bool cacheable);
/* Sends data (taken: freed with free()) with a Content-Type. */
enum MHD_Result http__send(hv_http_t *h, struct MHD_Connection *c, unsigned code, const char *ctype,
                           void *data, size_t len);
/* Sends a malloc'd NUL-terminated JSON text (taken). */
enum MHD_Result http__send_json(hv_http_t *h, struct MHD_Connection *c, unsigned code, char *json);
/* {"error": "..."} */
enum MHD_Result http__error(hv_http_t *h, struct MHD_Connection *c, unsigned code, const char *fmt,
                            ...) __attribute__((format(printf, 4, 5)));

/* A query argument, or NULL. */
const char *http__arg(struct MHD_Connection *c, const char *name);

int64_t http__now_ms(void);  /* wall clock */
int64_t http__mono_ms(void); /* monotonic */

/* ---- endpoints in other files -------------------------------------------- */

enum MHD_Result http__sse_open(hv_http_t *h, struct MHD_Connection *c); /* sse.c */
int http__sse_start(hv_http_t *h);    /* ticker; HV_OK or an error */
void http__sse_stop(hv_http_t *h);    /* resumes and ends every client */
void http__sse_join(hv_http_t *h);    /* after MHD_stop_daemon */
size_t http__sse_count(hv_http_t *h); /* connected (not dropped) clients */

void http__count(hv_http_t *h, unsigned code); /* metrics.c */
enum MHD_Result http__metrics(hv_http_t *h, struct MHD_Connection *c);

/* ---- parsers (api.c, sse.c) ----------------------------------------------- */

/* A decimal integer in [min, max], nothing else (no spaces, no '+'). */
bool http__parse_i64(const char *s, int64_t min, int64_t max, int64_t *ret);

/*
 * A /api/buzzer body: {"pattern": "single"|"triple"|"long"|
 * {"count": 1..20, "duration_ms": 10..5000, "interval_ms": 0..5000}}.
 * 0 with the beeps, or -1 with a message in err.
 */
#define HTTP__BUZZ_MAX_COUNT 20
#define HTTP__BUZZ_MIN_MS 10
#define HTTP__BUZZ_MAX_MS 5000
int http__parse_buzz(const char *body, size_t len, unsigned *count, unsigned *on_ms,
                     unsigned *off_ms, char *err, size_t errlen);

/* A path under /static/ that may be opened below static_dir: segments of
 * [A-Za-z0-9._+-] separated by single '/', none starting with '.'. */
bool http__static_path_ok(const char *rel);
/* Content-Type by the name's extension. */
const char *http__content_type(const char *name);

/* Writes an SSE message ("event: E\n", one "data: " line per line of data,
 * "\n") into out (cap bytes, may be 0) and returns its length; the event
 * name loses any CR/LF; a CR LF or lone CR in data ends a line. */
size_t http__sse_format(char *out, size_t cap, const char *event, const char *data);

/* Decodes %HH escapes in place (libmicrohttpd's unescape callback for the
 * path and query arguments), except %00, which stays as written so no name
 * or value is cut short; malformed escapes stay too. Returns the length. */
size_t http__unescape(char *s);

/* Parses a JSON body: NULL unless all of body[0..len) is one JSON value
 * (with surrounding white space). */
struct cJSON *http__parse_json(const char *body, size_t len);

/* "Bearer <token>" compared in time independent of where it differs. */
bool http__auth_ok(const char *header, const char *token, size_t token_len);

#endif

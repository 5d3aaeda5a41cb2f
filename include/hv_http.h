/*
 * The HTTP API and dashboard server (libmicrohttpd, one internal thread
 * pool). It knows the rest of the daemon only through the callbacks below,
 * so it can be tested alone.
 *
 * Endpoints: GET / (dashboard HTML from the dashboard plugin),
 * GET /api/readings, GET /api/logs?source=&node=&after=, POST /api/buzzer
 * {"pattern": "single"|"triple"|"long"|{"count","duration_ms","interval_ms"},
 * "node": optional node id},
 * POST /api/buzzer/test (3 beeps), POST /push (a spoke's readings and logs),
 * GET /health, GET /api/plugins, GET /api/nodes (hub: its spokes), GET /api/history?sensor=&field=&from=&to=&step=,
 * GET /api/series, GET /api/events (Server-Sent Events: "reading" and "log"
 * events), GET /metrics (Prometheus text), GET /api/oled.png, GET /api/leds,
 * GET /static/<file> (from static_dir: uPlot and the like).
 * Errors are JSON {"error": "..."}: 400 malformed, 401 missing/wrong bearer
 * token on acting endpoints when a token is set, 404 unknown path, 405
 * wrong method, 413 body > 1 MB, 503 when a part (dashboard, history) is
 * not available.
 */
#ifndef HV_HTTP_H
#define HV_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "hv_error.h"
#include "hv_store.h"

#define HV_HTTP_MAX_BODY (1u << 20)

typedef struct hv_http hv_http_t;

typedef struct {
    const char *bind; /* "0.0.0.0", "127.0.0.1" */
    int port;         /* 0: any free port (see hv_http_port) */
    const char *token; /* NULL or "": acting endpoints are open */
    const char *node_id, *role;
    const char *static_dir; /* served under /static/; NULL: none */
    hv_store_t *store;      /* NULL: /api/history answers 503 */
    void *ud;               /* passed to every callback */
    /* Each returns a malloc'd string (NULL: 503). May be called from any
     * server thread at any time. */
    char *(*readings_json)(void *ud);
    char *(*plugins_json)(void *ud);
    char *(*render_dashboard)(void *ud, const char *readings_json); /* HTML */
    /* Buzzer, on node (NULL: not named in the request): HV_OK, HV_ENOENT
     * (no such node: 404), or an error with a message (forwarding failed:
     * 502). */
    int (*buzz)(void *ud, const char *node, unsigned count, unsigned on_ms, unsigned off_ms,
                char *err, size_t errlen);
    /* POST /push body (as sent: the callback checks it) from the client at
     * peer ("127.0.0.1"); HV_OK with an optional reply (malloc'd JSON; NULL:
     * {"ok":true}), or error+message (HV_EINVAL: 400). */
    int (*push)(void *ud, const char *json, size_t len, const char *peer, char **ret_reply,
                char *err, size_t errlen);
    /* GET /api/nodes (a hub's view of its spokes); NULL: 404. */
    char *(*nodes_json)(void *ud);
    /* PNG of the OLED (malloc'd) and LED colours (JSON); NULL: 404. */
    uint8_t *(*oled_png)(void *ud, size_t *ret_len);
    char *(*leds_json)(void *ud);
    /* Extra Prometheus lines (plugin poll durations, restarts...). */
    char *(*metrics_text)(void *ud);
} hv_http_opts_t;

/* Starts serving. On failure (port in use...) a message in err. */
int hv_http_start(const hv_http_opts_t *opts, hv_http_t **ret, char *err, size_t errlen);
void hv_http_stop(hv_http_t *h);
/* The port actually bound (for port 0). */
int hv_http_port(const hv_http_t *h);

/* Sends an SSE event ("reading" with the readings JSON, "log" with a log
 * line as JSON) to every connected /api/events client; never blocks on a
 * slow client (its queue is bounded; it is dropped when full). */
void hv_http_publish(hv_http_t *h, const char *event, const char *json);

#endif

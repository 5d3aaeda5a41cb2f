/*
 * The endpoints (see hv_http.h) and their parsers: the route table, JSON
 * passed through from the daemon's callbacks, logs, history, buzzer,
 * push, and files under /static/.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "http_impl.h"

#include "hv_log.h"

/* ---- parsers ---------------------------------------------------------------- */

bool http__parse_i64(const char *s, int64_t min, int64_t max, int64_t *ret)
{
    if (s == NULL)
        return false;
    const char *p = s;
    bool neg = *p == '-';
    if (neg)
        p++;
    if (*p < '0' || *p > '9')
        return false;
    uint64_t v = 0;
    const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        unsigned d = (unsigned)(*p - '0');
        if (v > (limit - d) / 10)
            return false;
        v = v * 10 + d;
    }
    int64_t r = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    if (r < min || r > max)
        return false;
    *ret = r;
    return true;
}

static bool int_member(const cJSON *o, const char *name, long min, long max, bool required,
                       long *ret, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (v == NULL) {
        if (required)
            snprintf(err, errlen, "pattern: \"%s\" is missing", name);
        return !required;
    }
    double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (!(d >= (double)min && d <= (double)max) || d != floor(d)) {
        snprintf(err, errlen, "pattern: \"%s\" must be an integer in %ld..%ld", name, min, max);
        return false;
    }
    *ret = (long)d;
    return true;
}

int http__parse_buzz(const char *body, size_t len, unsigned *count, unsigned *on_ms,
                     unsigned *off_ms, char *err, size_t errlen)
{
    cJSON *root = http__parse_json(body, len);
    int rc = -1;
    if (!cJSON_IsObject(root)) {
        snprintf(err, errlen, root ? "body must be a JSON object" : "malformed JSON");
        goto out;
    }
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "pattern");
    if (cJSON_IsString(p)) {
        static const struct {
            const char *name;
            unsigned count, on, off;
        } named[] = {{"single", 1, 100, 0}, {"triple", 3, 100, 100}, {"long", 1, 500, 0}};
        for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
            if (strcmp(p->valuestring, named[i].name) == 0) {
                *count = named[i].count;
                *on_ms = named[i].on;
                *off_ms = named[i].off;
                rc = 0;
                goto out;
            }
        snprintf(err, errlen, "pattern: unknown name (single, triple, long or an object)");
    } else if (cJSON_IsObject(p)) {
        long n, on, off = 100;
        if (int_member(p, "count", 1, HTTP__BUZZ_MAX_COUNT, true, &n, err, errlen) &&
            int_member(p, "duration_ms", HTTP__BUZZ_MIN_MS, HTTP__BUZZ_MAX_MS, true, &on, err,
                       errlen) &&
            int_member(p, "interval_ms", 0, HTTP__BUZZ_MAX_MS, false, &off, err, errlen)) {
            *count = (unsigned)n;
            *on_ms = (unsigned)on;
            *off_ms = (unsigned)off;
            rc = 0;
        }
    } else {
        snprintf(err, errlen, "\"pattern\" must be a name or an object");
    }
out:
    cJSON_Delete(root);
    return rc;
}

bool http__static_path_ok(const char *rel)
{
    size_t n = strlen(rel);
    if (n == 0 || n > 255)
        return false;
    bool seg_start = true;
    for (const char *p = rel; *p; p++) {
        char ch = *p;
        if (ch == '/') {
            if (seg_start) /* leading '/' or "//" */
                return false;
            seg_start = true;
            continue;
        }
        if (seg_start && ch == '.') /* ".", "..", hidden files */
            return false;
        seg_start = false;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-' || ch == '+'))
            return false;
    }
    return !seg_start; /* no trailing '/' */
}

const char *http__content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".html", "text/html; charset=utf-8"},
        {".htm", "text/html; charset=utf-8"},
        {".png", "image/png"},
        {".svg", "image/svg+xml"},
        {".json", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
        {".ico", "image/x-icon"},
        {".map", "application/json"},
        {".woff2", "font/woff2"},
    };
    const char *dot = strrchr(name, '.');
    if (dot != NULL)
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcmp(dot, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

/* ---- endpoints -------------------------------------------------------------- */

#define UNUSED_ARGS (void)url, (void)body, (void)len

static enum MHD_Result json_from(hv_http_t *h, struct MHD_Connection *c, char *(*fn)(void *ud),
                                 unsigned missing, const char *what)
{
    char *s = fn ? fn(h->o.ud) : NULL;
    if (s == NULL)
        return http__error(h, c, missing, "%s not available", what);
    return http__send_json(h, c, MHD_HTTP_OK, s);
}

static enum MHD_Result ep_dashboard(hv_http_t *h, struct MHD_Connection *c, const char *url,
                                    const char *body, size_t len)
{
    UNUSED_ARGS;
    if (h->o.render_dashboard == NULL)
        return http__error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "dashboard not available");
    char *readings = h->o.readings_json ? h->o.readings_json(h->o.ud) : NULL;
    char *html = h->o.render_dashboard(h->o.ud, readings ? readings : "[]");
    free(readings);
    if (html == NULL)
        return http__error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "dashboard not available");
    return http__send(h, c, MHD_HTTP_OK, "text/html; charset=utf-8", html, strlen(html));
}

static enum MHD_Result ep_readings(hv_http_t *h, struct MHD_Connection *c, const char *url,
                                   const char *body, size_t len)
{
    UNUSED_ARGS;
    return json_from(h, c, h->o.readings_json, MHD_HTTP_SERVICE_UNAVAILABLE, "readings");
}

static enum MHD_Result ep_plugins(hv_http_t *h, struct MHD_Connection *c, const char *url,
                                  const char *body, size_t len)
{
    UNUSED_ARGS;
    return json_from(h, c, h->o.plugins_json, MHD_HTTP_SERVICE_UNAVAILABLE, "plugins");
}

static enum MHD_Result ep_nodes(hv_http_t *h, struct MHD_Connection *c, const char *url,
                                const char *body, size_t len)
{
    UNUSED_ARGS;
    return json_from(h, c, h->o.nodes_json, MHD_HTTP_NOT_FOUND, "nodes (not a hub)");
}

static enum MHD_Result ep_leds(hv_http_t *h, struct MHD_Connection *c, const char *url,
                               const char *body, size_t len)
{
    UNUSED_ARGS;
    return json_from(h, c, h->o.leds_json, MHD_HTTP_NOT_FOUND, "LEDs");
}

static enum MHD_Result ep_oled(hv_http_t *h, struct MHD_Connection *c, const char *url,
                               const char *body, size_t len)
{
    UNUSED_ARGS;
    size_t n = 0;
    uint8_t *png = h->o.oled_png ? h->o.oled_png(h->o.ud, &n) : NULL;
    if (png == NULL)
        return http__error(h, c, MHD_HTTP_NOT_FOUND, "OLED not available");
    return http__send(h, c, MHD_HTTP_OK, "image/png", png, n);
}

static enum MHD_Result ep_health(hv_http_t *h, struct MHD_Connection *c, const char *url,
                                 const char *body, size_t len)
{
    UNUSED_ARGS;
    cJSON *o = cJSON_CreateObject();
    char *s = NULL;
    if (o != NULL && cJSON_AddStringToObject(o, "status", "ok") &&
        cJSON_AddStringToObject(o, "node", h->node_id) &&
        cJSON_AddStringToObject(o, "role", h->role) &&
        cJSON_AddNumberToObject(o, "uptime_s", (double)((http__mono_ms() - h->start_ms) / 1000)))
        s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return http__send_json(h, c, MHD_HTTP_OK, s);
}

static bool add_log_entry(cJSON *arr, const hv_log_entry_t *e)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL || !cJSON_AddItemToArray(arr, o))
        return cJSON_Delete(o), false;
    return cJSON_AddNumberToObject(o, "seq", (double)e->seq) &&
           cJSON_AddNumberToObject(o, "time", (double)e->time_ms) &&
           cJSON_AddStringToObject(o, "level", hv_log_level_name(e->level)) &&
           cJSON_AddStringToObject(o, "source", e->source) &&
           cJSON_AddStringToObject(o, "text", e->text);
}

static enum MHD_Result ep_logs(hv_http_t *h, struct MHD_Connection *c, const char *url,
                               const char *body, size_t len)
{
    UNUSED_ARGS;
    const char *source = http__arg(c, "source");
    const char *node = http__arg(c, "node");
    const char *after_s = http__arg(c, "after");
    const char *limit_s = http__arg(c, "limit");
    int64_t after = 0, limit = HTTP__LOGS_DEFAULT;
    if (after_s != NULL && !http__parse_i64(after_s, 0, INT64_MAX, &after))
        return http__error(h, c, MHD_HTTP_BAD_REQUEST, "after: not a sequence number");
    if (limit_s != NULL && !http__parse_i64(limit_s, 1, HTTP__LOGS_MAX, &limit))
        return http__error(h, c, MHD_HTTP_BAD_REQUEST, "limit: not an integer in 1..%d",
                           HTTP__LOGS_MAX);
    if (source != NULL && *source == '\0')
        source = NULL;
    cJSON *arr = cJSON_CreateArray();
    if (arr == NULL)
        return MHD_NO;
    /* Another node's lines are kept (by the hub) as "node/source". */
    char remote[256];
    if (node != NULL && *node != '\0' && strcmp(node, h->node_id) != 0) {
        if (strchr(node, '/') != NULL || strlen(node) > 100 ||
            (source != NULL && strlen(source) > 100)) {
            cJSON_Delete(arr);
            return http__error(h, c, MHD_HTTP_BAD_REQUEST, "node: not a node id");
        }
        snprintf(remote, sizeof remote, "%s/%s", node, source ? source : "");
        source = remote;
    }
    {
        enum { BATCH = 64 };
        hv_log_entry_t *batch = malloc(BATCH * sizeof *batch);
        if (batch == NULL) {
            cJSON_Delete(arr);
            return MHD_NO;
        }
        uint64_t seq = (uint64_t)after;
        size_t total = 0;
        for (;;) {
            size_t want = (size_t)limit - total < BATCH ? (size_t)limit - total : BATCH;
            size_t n = hv_log_read(source, seq, batch, want);
            for (size_t i = 0; i < n; i++)
                if (!add_log_entry(arr, &batch[i])) {
                    free(batch);
                    cJSON_Delete(arr);
                    return MHD_NO;
                }
            total += n;
            if (n < want || total >= (size_t)limit)
                break;
            seq = batch[n - 1].seq;
        }
        free(batch);
    }
    char *s = cJSON_PrintUnformatted(arr);
    cJSON_Delete(arr);
    return http__send_json(h, c, MHD_HTTP_OK, s);
}

static enum MHD_Result ep_history(hv_http_t *h, struct MHD_Connection *c, const char *url,
                                  const char *body, size_t len)
{
    UNUSED_ARGS;
    if (h->o.store == NULL)
        return http__error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "history not available");
    const char *sensor = http__arg(c, "sensor");
    const char *field = http__arg(c, "field");
    if (sensor == NULL || *sensor == '\0' || field == NULL || *field == '\0')
        return http__error(h, c, MHD_HTTP_BAD_REQUEST, "sensor and field are required");
    const char *from_s = http__arg(c, "from"), *to_s = http__arg(c, "to");
    const char *step_s = http__arg(c, "step");
    int64_t to = http__now_ms(), from, step = 0;
    if (to_s != NULL && !http__parse_i64(to_s, 0, INT64_MAX, &to))
        return http__error(h, c, MHD_HTTP_BAD_REQUEST, "to: not a time in ms");
    from = to > HTTP__HISTORY_SPAN_MS ? to - HTTP__HISTORY_SPAN_MS : 0;
    if (from_s != NULL && !http__parse_i64(from_s, 0, INT64_MAX, &from))
        return http__error(h, c, MHD_HTTP_BAD_REQUEST, "from: not a time in ms");
    if (step_s != NULL && !http__parse_i64(step_s, 0, INT64_MAX, &step))
        return http__error(h, c, MHD_HTTP_BAD_REQUEST, "step: not a duration in ms");
    if (from > to)
        return http__error(h, c, MHD_HTTP_BAD_REQUEST, "from is after to");
    char *json = NULL, err[256] = "";
    int rc =
        hv_store_history_json(h->o.store, sensor, field, from, to, step, &json, err, sizeof err);
    if (rc != HV_OK) {
        free(json);
        unsigned code = rc == HV_EINVAL || rc == HV_ETOOBIG || rc == HV_ERANGE
                            ? MHD_HTTP_BAD_REQUEST
                            : MHD_HTTP_INTERNAL_SERVER_ERROR;
        return http__error(h, c, code, "%s", *err ? err : hv_strerror(rc));
    }
    return http__send_json(h, c, MHD_HTTP_OK, json);
}

static enum MHD_Result ep_series(hv_http_t *h, struct MHD_Connection *c, const char *url,
                                 const char *body, size_t len)
{
    UNUSED_ARGS;
    if (h->o.store == NULL)
        return http__error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "history not available");
    char *s = hv_store_series_json(h->o.store);
    if (s == NULL)
        return http__error(h, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "history: cannot list series");
    return http__send_json(h, c, MHD_HTTP_OK, s);
}

static enum MHD_Result ep_events(hv_http_t *h, struct MHD_Connection *c, const char *url,
                                 const char *body, size_t len)
{
    UNUSED_ARGS;
    return http__sse_open(h, c);
}

static enum MHD_Result ep_metrics(hv_http_t *h, struct MHD_Connection *c, const char *url,
                                  const char *body, size_t len)
{
    UNUSED_ARGS;
    return http__metrics(h, c);
}

/* An acting callback's error: its message, with a status by its code. */
static enum MHD_Result callback_error(hv_http_t *h, struct MHD_Connection *c, int rc,
                                      const char *err, unsigned fallback)
{
    unsigned code = fallback;
    if (rc == HV_EINVAL || rc == HV_ERANGE)
        code = MHD_HTTP_BAD_REQUEST;
    else if (rc == HV_EPERM)
        code = MHD_HTTP_FORBIDDEN;
    else if (rc == HV_EBUSY || rc == HV_ENOENT)
        code = MHD_HTTP_SERVICE_UNAVAILABLE;
    return http__error(h, c, code, "%s", *err ? err : hv_strerror(rc));
}

static enum MHD_Result ok_json(hv_http_t *h, struct MHD_Connection *c)
{
    static const char ok[] = "{\"ok\":true}";
    char *s = strdup(ok);
    return s ? http__send(h, c, MHD_HTTP_OK, "application/json", s, sizeof ok - 1) : MHD_NO;
}

static enum MHD_Result buzz(hv_http_t *h, struct MHD_Connection *c, const char *node,
                            unsigned count, unsigned on_ms, unsigned off_ms)
{
    if (h->o.buzz == NULL)
        return http__error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "buzzer not available");
    char err[256] = "";
    int rc = h->o.buzz(h->o.ud, node, count, on_ms, off_ms, err, sizeof err);
    if (rc == HV_ENOENT) /* no such node */
        return http__error(h, c, MHD_HTTP_NOT_FOUND, "%s", err);
    if (rc != HV_OK)
        return callback_error(h, c, rc, err, MHD_HTTP_BAD_GATEWAY);
    return ok_json(h, c);
}

/* The optional "node" of a buzzer request (the hub forwards to it). */
static int buzz_node(const char *body, size_t len, char *node, size_t nodelen, char *err,
                     size_t errlen)
{
    cJSON *root = http__parse_json(body, len);
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(root, "node");
    int rc = 0;
    node[0] = '\0';
    if (n != NULL && !cJSON_IsNull(n)) {
        if (!cJSON_IsString(n) || n->valuestring[0] == '\0' ||
            strlen(n->valuestring) >= nodelen || strchr(n->valuestring, '/') != NULL) {
            snprintf(err, errlen, "node: expected a node id");
            rc = -1;
        } else {
            snprintf(node, nodelen, "%s", n->valuestring);
        }
    }
    cJSON_Delete(root);
    return rc;
}

static enum MHD_Result ep_buzzer(hv_http_t *h, struct MHD_Connection *c, const char *url,
                                 const char *body, size_t len)
{
    (void)url;
    unsigned count, on_ms, off_ms;
    char err[256], node[64];
    if (http__parse_buzz(body, len, &count, &on_ms, &off_ms, err, sizeof err) != 0 ||
        buzz_node(body, len, node, sizeof node, err, sizeof err) != 0)
        return http__error(h, c, MHD_HTTP_BAD_REQUEST, "%s", err);
    return buzz(h, c, node[0] ? node : NULL, count, on_ms, off_ms);
}

static enum MHD_Result ep_buzzer_test(hv_http_t *h, struct MHD_Connection *c, const char *url,
                                      const char *body, size_t len)
{
    UNUSED_ARGS;
    return buzz(h, c, NULL, 3, 100, 100);
}

/* The client's address as text ("127.0.0.1", "::1"), "" when unknown. */
static void peer_address(struct MHD_Connection *c, char *buf, size_t len)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    buf[0] = '\0';
    if (ci == NULL || ci->client_addr == NULL)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
                  (socklen_t)len);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf,
                  (socklen_t)len);
}

static enum MHD_Result ep_push(hv_http_t *h, struct MHD_Connection *c, const char *url,
                               const char *body, size_t len)
{
    (void)url;
    /* The callback parses the body itself (once: a hub takes thousands of
     * pushes a second) and says what is wrong with it (HV_EINVAL: 400). */
    if (h->o.push == NULL)
        return http__error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "push not accepted here");
    char err[256] = "", peer[64];
    char *reply = NULL;
    peer_address(c, peer, sizeof peer);
    int rc = h->o.push(h->o.ud, body, len, peer, &reply, err, sizeof err);
    if (rc != HV_OK) {
        free(reply);
        return callback_error(h, c, rc, err, MHD_HTTP_INTERNAL_SERVER_ERROR);
    }
    return reply ? http__send_json(h, c, MHD_HTTP_OK, reply) : ok_json(h, c);
}

static enum MHD_Result ep_static(hv_http_t *h, struct MHD_Connection *c, const char *url,
                                 const char *body, size_t len)
{
    (void)body, (void)len;
    const char *rel = url + strlen("/static/");
    if (h->static_dir == NULL)
        return http__error(h, c, MHD_HTTP_NOT_FOUND, "not found");
    if (!http__static_path_ok(rel))
        return http__error(h, c, MHD_HTTP_BAD_REQUEST, "invalid static path");
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", h->static_dir, rel) >= (int)sizeof path)
        return http__error(h, c, MHD_HTTP_NOT_FOUND, "not found");
    /* O_NONBLOCK: a FIFO must not hang the thread; regular files ignore it. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return http__error(h, c, MHD_HTTP_NOT_FOUND, "not found");
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((size_t)st.st_size, fd);
    if (resp == NULL) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, http__content_type(rel));
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "max-age=300");
    enum MHD_Result r = http__queue(h, c, MHD_HTTP_OK, resp, true);
    MHD_destroy_response(resp);
    return r;
}

/* ---- routes ------------------------------------------------------------------- */

static const http__route_t routes[] = {
    {"/api/readings", false, false, false, ep_readings},
    {"/api/events", false, false, false, ep_events},
    {"/health", false, false, false, ep_health},
    {"/api/logs", false, false, false, ep_logs},
    {"/api/history", false, false, false, ep_history},
    {"/api/series", false, false, false, ep_series},
    {"/api/plugins", false, false, false, ep_plugins},
    {"/api/nodes", false, false, false, ep_nodes},
    {"/api/leds", false, false, false, ep_leds},
    {"/api/oled.png", false, false, false, ep_oled},
    {"/metrics", false, false, false, ep_metrics},
    {"/", false, false, false, ep_dashboard},
    {"/api/buzzer", false, true, true, ep_buzzer},
    {"/api/buzzer/test", false, true, true, ep_buzzer_test},
    {"/push", false, true, true, ep_push},
    {"/static/", true, false, false, ep_static},
};

const http__route_t *http__route_find(const char *url)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const http__route_t *r = &routes[i];
        if (r->prefix ? strncmp(url, r->path, strlen(r->path)) == 0 : strcmp(url, r->path) == 0)
            return r;
    }
    return NULL;
}

/*
 * The HTTP API server against fake daemon callbacks and a real history
 * store in a temporary directory, spoken to over raw sockets by the small
 * HTTP/1.1 client below (no curl): every endpoint's status and JSON shape,
 * the 400/401/404/405/413 answers, buzzer patterns, Server-Sent Events
 * (delivery, pings, slow clients dropped, stop with clients connected),
 * static files and traversal refusal, malformed requests, and the parsers
 * the server uses directly.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "../../src/http/http_impl.h"
#include "hv_http.h"
#include "json_internal.h"
#include "hv_log.h"
#include "hv_store.h"

#define TIMEOUT_MS 10000

/* ---- fake daemon ------------------------------------------------------------ */

static struct {
    pthread_mutex_t mu;
    const char *readings, *plugins, *leds; /* NULL: the callback answers NULL */
    bool has_oled;
    int buzz_rc; /* HV_OK, or the error the buzzer answers */
    unsigned buzz_calls, count, on_ms, off_ms;
    int push_rc;
    int push_reply;
    char push_peer[64], buzz_node[64];
    unsigned push_calls;
    char *pushed;
    size_t pushed_len;
} fake = {.mu = PTHREAD_MUTEX_INITIALIZER};

static const uint8_t PNG[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13};

static char *maybe_dup(const char *s)
{
    return s ? strdup(s) : NULL;
}
static char *cb_readings(void *ud)
{
    return (void)ud, maybe_dup(fake.readings);
}
static char *cb_plugins(void *ud)
{
    return (void)ud, maybe_dup(fake.plugins);
}
static char *cb_leds(void *ud)
{
    return (void)ud, maybe_dup(fake.leds);
}

static char *cb_dashboard(void *ud, const char *readings)
{
    (void)ud;
    char *s = NULL;
    return asprintf(&s, "<html><body>%s</body></html>", readings) < 0 ? NULL : s;
}

static int cb_buzz(void *ud, const char *node, unsigned count, unsigned on_ms, unsigned off_ms,
                   char *err, size_t errlen)
{
    (void)ud;
    pthread_mutex_lock(&fake.mu);
    fake.buzz_calls++;
    snprintf(fake.buzz_node, sizeof fake.buzz_node, "%s", node ? node : "(none)");
    fake.count = count;
    fake.on_ms = on_ms;
    fake.off_ms = off_ms;
    int rc = fake.buzz_rc;
    pthread_mutex_unlock(&fake.mu);
    if (rc != HV_OK)
        snprintf(err, errlen, "forwarding to the hub failed: connection refused");
    return rc;
}

static int cb_push(void *ud, const char *json, size_t len, const char *peer, char **ret_reply,
                   char *err, size_t errlen)
{
    (void)ud;
    /* The daemon's callback checks the body; so does this one. */
    cJSON *j = NULL;
    int rc = hv_json_parse(json, len, &j, err, errlen);
    int json_ok = rc == HV_OK && (cJSON_IsObject(j) || cJSON_IsArray(j));
    cJSON_Delete(j);
    if (!json_ok) {
        if (rc == HV_OK)
            snprintf(err, errlen, "body must be a JSON object or array");
        return HV_EINVAL;
    }
    pthread_mutex_lock(&fake.mu);
    fake.push_calls++;
    snprintf(fake.push_peer, sizeof fake.push_peer, "%s", peer);
    if (fake.push_reply)
        *ret_reply = strdup("{\"ok\":true,\"nodes\":{}}");
    free(fake.pushed);
    fake.pushed = malloc(len + 1);
    memcpy(fake.pushed, json, len);
    fake.pushed[len] = '\0';
    fake.pushed_len = len;
    rc = fake.push_rc;
    pthread_mutex_unlock(&fake.mu);
    if (rc != HV_OK)
        snprintf(err, errlen, "readings rejected");
    return rc;
}

static uint8_t *cb_oled(void *ud, size_t *ret_len)
{
    (void)ud;
    if (!fake.has_oled)
        return NULL;
    uint8_t *p = malloc(sizeof PNG);
    memcpy(p, PNG, sizeof PNG);
    *ret_len = sizeof PNG;
    return p;
}

static char *cb_metrics(void *ud)
{
    (void)ud;
    return strdup("plugin_poll_seconds{plugin=\"dht22\"} 0.25"); /* no final newline */
}

static void fake_reset(void)
{
    pthread_mutex_lock(&fake.mu);
    fake.readings = "[{\"sensor_id\":\"dht22\",\"data\":{\"temperature\":21.5}}]";
    fake.plugins = "[{\"name\":\"dht22\",\"state\":\"running\"}]";
    fake.leds = "[[255,0,0],[0,0,0]]";
    fake.has_oled = true;
    fake.buzz_rc = HV_OK;
    fake.buzz_calls = fake.count = fake.on_ms = fake.off_ms = 0;
    fake.push_rc = HV_OK;
    fake.push_calls = 0;
    free(fake.pushed);
    fake.pushed = NULL;
    fake.pushed_len = 0;
    pthread_mutex_unlock(&fake.mu);
}

static hv_http_opts_t base_opts(void)
{
    return (hv_http_opts_t){
        .bind = "127.0.0.1",
        .port = 0,
        .node_id = "pi-kitchen",
        .role = "hub",
        .readings_json = cb_readings,
        .plugins_json = cb_plugins,
        .render_dashboard = cb_dashboard,
        .buzz = cb_buzz,
        .push = cb_push,
        .oled_png = cb_oled,
        .leds_json = cb_leds,
        .metrics_text = cb_metrics,
    };
}

static hv_http_t *srv;
static int port;

static void start(const hv_http_opts_t *o)
{
    char err[256] = "";
    fake_reset();
    int rc = hv_http_start(o, &srv, err, sizeof err);
    if (rc != HV_OK)
        fail_msg("hv_http_start: %s", err);
    port = hv_http_port(srv);
    assert_true(port > 0);
}

static void stop(void)
{
    hv_http_stop(srv);
    srv = NULL;
}

static int setup_default(void **state)
{
    (void)state;
    hv_http_opts_t o = base_opts();
    start(&o);
    return 0;
}

static int teardown_server(void **state)
{
    (void)state;
    stop();
    return 0;
}

/* ---- a tiny HTTP client ------------------------------------------------------- */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_rcvbuf(int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static int connect_server(void)
{
    return connect_rcvbuf(0);
}

static bool send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static bool send_str(int fd, const char *s)
{
    return send_all(fd, s, strlen(s));
}

/* Waits for fd to be readable until deadline; false on timeout. */
static bool wait_readable(int fd, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - mono_ms();
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int rc = poll(&p, 1, (int)left);
        if (rc > 0)
            return true;
        if (rc < 0 && errno != EINTR)
            return false;
    }
}

typedef struct {
    char *buf; /* growing */
    size_t len, cap;
} sbuf_t;

static void sbuf_add(sbuf_t *b, const char *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->buf = realloc(b->buf, b->cap);
        assert_non_null(b->buf);
    }
    memcpy(b->buf + b->len, data, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

/* Reads once (waiting until deadline); bytes read, 0 at EOF, -1 on timeout. */
static ssize_t read_some(int fd, sbuf_t *b, int64_t deadline)
{
    if (!wait_readable(fd, deadline))
        return -1;
    char chunk[65536];
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n < 0)
        return errno == ECONNRESET ? 0 : -1;
    sbuf_add(b, chunk, (size_t)n);
    return n;
}

typedef struct {
    int status;
    char *head; /* status line and headers */
    char *body;
    size_t body_len;
} resp_t;

static void resp_free(resp_t *r)
{
    free(r->head);
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* A header's value in r (case-insensitive name), copied into out. */
static const char *header(const resp_t *r, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    for (const char *p = strstr(r->head, "\r\n"); p != NULL; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            const char *v = line + nlen + 1;
            while (*v == ' ')
                v++;
            const char *end = strstr(v, "\r\n");
            size_t n = end ? (size_t)(end - v) : strlen(v);
            if (n >= cap)
                n = cap - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return out;
        }
    }
    return NULL;
}

/* Decodes a chunked body in place; false when malformed or incomplete. */
static bool dechunk(char *body, size_t len, size_t *ret_len)
{
    size_t in = 0, out = 0;
    for (;;) {
        char *end;
        unsigned long n = strtoul(body + in, &end, 16);
        char *crlf = strstr(body + in, "\r\n");
        if (crlf == NULL || end == body + in)
            return false;
        in = (size_t)(crlf - body) + 2;
        if (n == 0)
            break;
        if (in + n + 2 > len)
            return false;
        memmove(body + out, body + in, n);
        out += n;
        in += n + 2;
    }
    body[out] = '\0';
    *ret_len = out;
    return true;
}

static const char *context = ""; /* what a timeout message names */

/* Reads a whole response from a connection the server closes after it. */
static void read_response(int fd, resp_t *r)
{
    sbuf_t b = {0};
    int64_t deadline = mono_ms() + TIMEOUT_MS;
    ssize_t n;
    while ((n = read_some(fd, &b, deadline)) > 0)
        ;
    if (n < 0)
        fail_msg("%s: timeout reading a response (got %zu bytes)", context, b.len);
    memset(r, 0, sizeof *r);
    char *sep = b.buf ? strstr(b.buf, "\r\n\r\n") : NULL;
    if (sep == NULL) { /* the server closed without an answer */
        free(b.buf);
        r->head = strdup("");
        r->body = strdup("");
        return;
    }
    r->head = strndup(b.buf, (size_t)(sep - b.buf) + 2);
    assert_int_equal(sscanf(r->head, "HTTP/1.%*d %d", &r->status), 1);
    size_t blen = b.len - (size_t)(sep + 4 - b.buf);
    r->body = malloc(blen + 1);
    memcpy(r->body, sep + 4, blen);
    r->body[blen] = '\0';
    r->body_len = blen;
    char te[64];
    if (header(r, "Transfer-Encoding", te, sizeof te) && strcasecmp(te, "chunked") == 0)
        assert_true(dechunk(r->body, blen, &r->body_len));
    free(b.buf);
}

/* Reads one response with a Content-Length from a connection kept open;
 * returns its status. */
static int read_one(int fd, char *body, size_t cap)
{
    sbuf_t b = {0};
    int64_t deadline = mono_ms() + TIMEOUT_MS;
    for (;;) {
        char *sep = b.buf ? strstr(b.buf, "\r\n\r\n") : NULL;
        const char *cl = b.buf ? strcasestr(b.buf, "\r\nContent-Length: ") : NULL;
        if (sep != NULL && cl != NULL && cl < sep) {
            size_t want = strtoul(cl + 18, NULL, 10);
            size_t have = b.len - (size_t)(sep + 4 - b.buf);
            if (have >= want) {
                int status = 0;
                sscanf(b.buf, "HTTP/1.1 %d", &status);
                snprintf(body, cap, "%.*s", (int)want, sep + 4);
                assert_null(strcasestr(b.buf, "\r\nConnection: close"));
                free(b.buf);
                return status;
            }
        }
        if (read_some(fd, &b, deadline) <= 0)
            fail_msg("no complete response on a kept connection: %s", b.buf ? b.buf : "");
    }
}

/* One request on its own connection ("Connection: close"). */
static void request(const char *method, const char *path, const char *headers, const char *body,
                    size_t body_len, resp_t *r)
{
    int fd = connect_server();
    char *req = NULL;
    int n = asprintf(&req,
                     "%s %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n%s"
                     "%s",
                     method, path, headers ? headers : "", body ? "" : "\r\n");
    assert_true(n > 0);
    assert_true(send_str(fd, req));
    free(req);
    if (body != NULL) {
        char cl[64];
        snprintf(cl, sizeof cl, "Content-Length: %zu\r\n\r\n", body_len);
        assert_true(send_str(fd, cl));
        assert_true(send_all(fd, body, body_len));
    }
    read_response(fd, r);
    close(fd);
}

static int get(const char *path, resp_t *r)
{
    request("GET", path, NULL, NULL, 0, r);
    return r->status;
}

static int post(const char *path, const char *headers, const char *body, resp_t *r)
{
    request("POST", path, headers, body, body ? strlen(body) : 0, r);
    return r->status;
}

/* The body as JSON, after checking the JSON headers. */
static cJSON *json_body(const resp_t *r)
{
    char v[128];
    assert_non_null(header(r, "Content-Type", v, sizeof v));
    assert_string_equal(v, "application/json");
    assert_non_null(header(r, "Cache-Control", v, sizeof v));
    assert_string_equal(v, "no-store");
    cJSON *j = cJSON_ParseWithLength(r->body, r->body_len);
    if (j == NULL)
        fail_msg("not JSON: %s", r->body);
    return j;
}

/* Checks r is a JSON error {"error": "..."} with status code; returns the
 * message (valid until the next call). */
static const char *expect_error(const resp_t *r, int code)
{
    static char msg[512];
    if (r->status != code)
        fail_msg("expected %d, got %d: %s", code, r->status, r->body);
    cJSON *j = json_body(r);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    assert_true(cJSON_IsString(e));
    assert_true(strlen(e->valuestring) > 0);
    snprintf(msg, sizeof msg, "%s", e->valuestring);
    assert_int_equal(cJSON_GetArraySize(j), 1);
    cJSON_Delete(j);
    return msg;
}

static void expect_ok(const resp_t *r)
{
    if (r->status != 200)
        fail_msg("expected 200, got %d: %s", r->status, r->body);
    cJSON *j = json_body(r);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok")));
    cJSON_Delete(j);
}

/* ---- parsers -------------------------------------------------------------------- */

static void test_parse_i64(void **state)
{
    (void)state;
    int64_t v = 7;
    assert_true(http__parse_i64("0", 0, 10, &v) && v == 0);
    assert_true(http__parse_i64("10", 0, 10, &v) && v == 10);
    assert_true(http__parse_i64("-5", -10, 10, &v) && v == -5);
    assert_true(http__parse_i64("9223372036854775807", 0, INT64_MAX, &v) && v == INT64_MAX);
    assert_true(http__parse_i64("-9223372036854775808", INT64_MIN, 0, &v) && v == INT64_MIN);
    v = 7;
    const char *bad[] = {"",
                         "-",
                         "+1",
                         " 1",
                         "1 ",
                         "1.5",
                         "1e3",
                         "0x10",
                         "11",
                         "abc",
                         "-1",
                         "9223372036854775808",
                         "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(http__parse_i64(bad[i], 0, 10, &v));
    assert_false(http__parse_i64(NULL, 0, 10, &v));
    assert_int_equal(v, 7);
}

static void test_static_path_rules(void **state)
{
    (void)state;
    const char *good[] = {"app.js", "uPlot.min.css", "sub/x.js", "a/b/c-d_e+f.svg", "v1.2/x"};
    const char *bad[] = {"",    "/etc/passwd", "..",     "../x",  "a/../b",  "a/..",
                         "./x", ".hidden",     "a/.git", "a//b",  "a/",      "a\\b",
                         "a b", "a%2e",        "a?b",    "x\x01", "\xc3\xa9"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(http__static_path_ok(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (http__static_path_ok(bad[i]))
            fail_msg("accepted \"%s\"", bad[i]);
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_false(http__static_path_ok(longname));
    assert_string_equal(http__content_type("x.js"), "text/javascript; charset=utf-8");
    assert_string_equal(http__content_type("a/x.css"), "text/css; charset=utf-8");
    assert_string_equal(http__content_type("x.html"), "text/html; charset=utf-8");
    assert_string_equal(http__content_type("x.png"), "image/png");
    assert_string_equal(http__content_type("x.svg"), "image/svg+xml");
    assert_string_equal(http__content_type("x.json"), "application/json");
    assert_string_equal(http__content_type("x"), "application/octet-stream");
    assert_string_equal(http__content_type("x.tar.gz"), "application/octet-stream");
}

static void test_sse_format(void **state)
{
    (void)state;
    char out[256];
    size_t n = http__sse_format(out, sizeof out, "reading", "{\"a\":1}");
    assert_int_equal(n, strlen("event: reading\ndata: {\"a\":1}\n\n"));
    assert_memory_equal(out, "event: reading\ndata: {\"a\":1}\n\n", n);
    n = http__sse_format(out, sizeof out, "lo\r\ng", "a\nb\r\nc\rd");
    assert_memory_equal(out, "event: log\ndata: a\ndata: b\ndata: c\ndata: d\n\n", n);
    n = http__sse_format(out, sizeof out, NULL, "");
    assert_memory_equal(out, "data: \n\n", n);
    /* Sizing with cap 0 writes nothing and returns the length. */
    assert_int_equal(http__sse_format(NULL, 0, "x", "y\nz"),
                     strlen("event: x\ndata: y\ndata: z\n\n"));
    /* A short buffer is filled as far as it goes. */
    memset(out, '#', sizeof out);
    n = http__sse_format(out, 5, "reading", "{}");
    assert_int_equal(n, strlen("event: reading\ndata: {}\n\n"));
    assert_memory_equal(out, "event#", 6);
}

static void test_buzz_parser(void **state)
{
    (void)state;
    unsigned c, on, off;
    char err[256];
#define OK(body, ec, eon, eoff)                                                                    \
    do {                                                                                           \
        c = on = off = 999;                                                                        \
        if (http__parse_buzz(body, strlen(body), &c, &on, &off, err, sizeof err) != 0)             \
            fail_msg("%s: %s", body, err);                                                         \
        assert_int_equal(c, ec);                                                                   \
        assert_int_equal(on, eon);                                                                 \
        assert_int_equal(off, eoff);                                                               \
    } while (0)
#define BAD(body)                                                                                  \
    do {                                                                                           \
        err[0] = '\0';                                                                             \
        if (http__parse_buzz(body, strlen(body), &c, &on, &off, err, sizeof err) == 0)             \
            fail_msg("accepted %s", body);                                                         \
        assert_true(strlen(err) > 0);                                                              \
    } while (0)
    OK("{\"pattern\":\"single\"}", 1, 100, 0);
    OK("{\"pattern\":\"triple\"}", 3, 100, 100);
    OK("{\"pattern\":\"long\"}", 1, 500, 0);
    OK("{\"pattern\":{\"count\":20,\"duration_ms\":5000,\"interval_ms\":0}}", 20, 5000, 0);
    OK("{\"pattern\":{\"count\":1,\"duration_ms\":10,\"interval_ms\":5000}}", 1, 10, 5000);
    OK("{\"pattern\":{\"count\":2,\"duration_ms\":50}}", 2, 50, 100);
    OK("{\"pattern\":{\"count\":2.0,\"duration_ms\":50}, \"x\": 1}", 2, 50, 100);
    BAD("");
    BAD("{");
    BAD("[]");
    BAD("\"single\"");
    BAD("{}");
    BAD("{\"pattern\":\"SINGLE\"}");
    BAD("{\"pattern\":\"quadruple\"}");
    BAD("{\"pattern\":3}");
    BAD("{\"pattern\":null}");
    BAD("{\"pattern\":{\"count\":0,\"duration_ms\":100}}");
    BAD("{\"pattern\":{\"count\":21,\"duration_ms\":100}}");
    BAD("{\"pattern\":{\"count\":1.5,\"duration_ms\":100}}");
    BAD("{\"pattern\":{\"count\":\"2\",\"duration_ms\":100}}");
    BAD("{\"pattern\":{\"count\":2,\"duration_ms\":9}}");
    BAD("{\"pattern\":{\"count\":2,\"duration_ms\":5001}}");
    BAD("{\"pattern\":{\"count\":2,\"duration_ms\":100,\"interval_ms\":-1}}");
    BAD("{\"pattern\":{\"count\":2,\"duration_ms\":100,\"interval_ms\":5001}}");
    BAD("{\"pattern\":{\"count\":2}}");
    BAD("{\"pattern\":{\"duration_ms\":100}}");
    BAD("{\"pattern\":{\"count\":1e300,\"duration_ms\":100}}");
#undef OK
#undef BAD
}

static void test_unescape(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"/a%20b", "/a b"},     {"%2e%2E", ".."}, {"%41%7a", "Az"}, {"%", "%"},
        {"%4", "%4"},           {"%zz", "%zz"},   {"%00", "%00"},   {"a%00b%41", "a%00bA"},
        {"100%", "100%"},       {"%%41", "%A"},   {"a+b", "a+b"},   {"", ""},
        {"%c3%a9", "\xc3\xa9"}, {"%2f%2F", "//"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        strcpy(buf, cases[i][0]);
        size_t n = http__unescape(buf);
        assert_string_equal(buf, cases[i][1]);
        assert_int_equal(n, strlen(cases[i][1]));
    }
}

static void test_auth_compare(void **state)
{
    (void)state;
    assert_true(http__auth_ok("Bearer s3cret", "s3cret", 6));
    assert_false(http__auth_ok(NULL, "s3cret", 6));
    assert_false(http__auth_ok("", "s3cret", 6));
    assert_false(http__auth_ok("Bearer s3cre", "s3cret", 6));
    assert_false(http__auth_ok("Bearer s3cret ", "s3cret", 6));
    assert_false(http__auth_ok("bearer s3cret", "s3cret", 6));
    assert_false(http__auth_ok("Bearer  s3cret", "s3cret", 6));
    assert_false(http__auth_ok("Basic s3cret", "s3cret", 6));
    assert_false(http__auth_ok("Bearer S3cret", "s3cret", 6));
}

/* ---- endpoints ------------------------------------------------------------------- */

static void test_health(void **state)
{
    (void)state;
    resp_t r;
    assert_int_equal(get("/health", &r), 200);
    cJSON *j = json_body(&r);
    assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "ok");
    assert_string_equal(cJSON_GetObjectItem(j, "node")->valuestring, "pi-kitchen");
    assert_string_equal(cJSON_GetObjectItem(j, "role")->valuestring, "hub");
    const cJSON *up = cJSON_GetObjectItem(j, "uptime_s");
    assert_true(cJSON_IsNumber(up) && up->valuedouble >= 0 && up->valuedouble < 60);
    cJSON_Delete(j);
    resp_free(&r);

    /* HEAD: the headers of GET, no body. */
    int fd = connect_server();
    assert_true(send_str(fd, "HEAD /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
    read_response(fd, &r);
    close(fd);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
    resp_free(&r);
}

static void test_callback_endpoints(void **state)
{
    (void)state;
    resp_t r;
    char v[128];
    assert_int_equal(get("/api/readings", &r), 200);
    cJSON *j = json_body(&r);
    assert_true(cJSON_IsArray(j));
    assert_string_equal(r.body, fake.readings);
    cJSON_Delete(j);
    resp_free(&r);

    assert_int_equal(get("/api/plugins", &r), 200);
    j = json_body(&r);
    assert_string_equal(r.body, fake.plugins);
    cJSON_Delete(j);
    resp_free(&r);

    assert_int_equal(get("/api/leds", &r), 200);
    j = json_body(&r);
    assert_int_equal(cJSON_GetArraySize(j), 2);
    cJSON_Delete(j);
    resp_free(&r);

    assert_int_equal(get("/api/oled.png", &r), 200);
    assert_string_equal(header(&r, "Content-Type", v, sizeof v), "image/png");
    assert_int_equal(r.body_len, sizeof PNG);
    assert_memory_equal(r.body, PNG, sizeof PNG);
    resp_free(&r);

    assert_int_equal(get("/", &r), 200);
    assert_string_equal(header(&r, "Content-Type", v, sizeof v), "text/html; charset=utf-8");
    assert_non_null(strstr(r.body, "<body>[{\"sensor_id\":\"dht22\""));
    resp_free(&r);

    /* Parts that are not there. */
    pthread_mutex_lock(&fake.mu);
    fake.readings = fake.plugins = fake.leds = NULL;
    fake.has_oled = false;
    pthread_mutex_unlock(&fake.mu);
    get("/api/readings", &r);
    expect_error(&r, 503);
    resp_free(&r);
    get("/api/plugins", &r);
    expect_error(&r, 503);
    resp_free(&r);
    get("/api/leds", &r);
    expect_error(&r, 404);
    resp_free(&r);
    get("/api/oled.png", &r);
    expect_error(&r, 404);
    resp_free(&r);
    /* The dashboard gets "[]" when there are no readings. */
    assert_int_equal(get("/", &r), 200);
    assert_non_null(strstr(r.body, "<body>[]</body>"));
    resp_free(&r);
}

static void test_missing_callbacks(void **state)
{
    (void)state;
    hv_http_opts_t o = {.bind = "127.0.0.1", .node_id = "n", .role = "spoke"};
    start(&o);
    resp_t r;
    const char *s503[] = {"/", "/api/readings", "/api/plugins", "/api/history?sensor=a&field=b",
                          "/api/series"};
    for (size_t i = 0; i < sizeof s503 / sizeof s503[0]; i++) {
        get(s503[i], &r);
        expect_error(&r, 503);
        resp_free(&r);
    }
    const char *s404[] = {"/api/leds", "/api/oled.png", "/static/app.js"};
    for (size_t i = 0; i < sizeof s404 / sizeof s404[0]; i++) {
        get(s404[i], &r);
        expect_error(&r, 404);
        resp_free(&r);
    }
    post("/api/buzzer", NULL, "{\"pattern\":\"single\"}", &r);
    expect_error(&r, 503);
    resp_free(&r);
    post("/push", NULL, "[]", &r);
    expect_error(&r, 503);
    resp_free(&r);
    assert_int_equal(get("/metrics", &r), 200);
    resp_free(&r);
    stop();
}

static void test_not_found_and_methods(void **state)
{
    (void)state;
    resp_t r;
    char v[64];
    const char *missing[] = {"/nope",    "/api",    "/api/readings/",     "/api/readingsx",
                             "/healthz", "/static", "/api/buzzer/test/x", "/%00"};
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        get(missing[i], &r);
        expect_error(&r, 404);
        resp_free(&r);
    }
    post("/nope", NULL, "{}", &r);
    expect_error(&r, 404);
    resp_free(&r);

    const char *post_only[] = {"/api/buzzer", "/api/buzzer/test", "/push"};
    for (size_t i = 0; i < sizeof post_only / sizeof post_only[0]; i++) {
        get(post_only[i], &r);
        expect_error(&r, 405);
        assert_string_equal(header(&r, "Allow", v, sizeof v), "POST");
        resp_free(&r);
    }
    const char *get_only[] = {"/",           "/health",  "/api/readings",
                              "/api/events", "/metrics", "/static/x.js"};
    for (size_t i = 0; i < sizeof get_only / sizeof get_only[0]; i++) {
        post(get_only[i], NULL, "{}", &r);
        expect_error(&r, 405);
        assert_string_equal(header(&r, "Allow", v, sizeof v), "GET, HEAD");
        resp_free(&r);
    }
    /* Errors for requests without a body keep the connection. */
    int fd = connect_server();
    char body[512];
    assert_true(send_str(fd, "GET /favicon.ico HTTP/1.1\r\nHost: t\r\n\r\n"));
    assert_int_equal(read_one(fd, body, sizeof body), 404);
    assert_string_equal(body, "{\"error\":\"not found\"}");
    assert_true(send_str(fd, "DELETE /health HTTP/1.1\r\nHost: t\r\n\r\n"));
    assert_int_equal(read_one(fd, body, sizeof body), 405);
    assert_true(send_str(fd, "GET /health HTTP/1.1\r\nHost: t\r\n\r\n"));
    assert_int_equal(read_one(fd, body, sizeof body), 200);
    assert_true(send_str(fd, "POST /push HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n[]"));
    assert_int_equal(read_one(fd, body, sizeof body), 200);
    assert_string_equal(body, "{\"ok\":true}");
    close(fd);

    request("DELETE", "/api/readings", NULL, NULL, 0, &r);
    expect_error(&r, 405);
    resp_free(&r);
    request("PUT", "/push", NULL, "[]", 2, &r);
    expect_error(&r, 405);
    resp_free(&r);
}

static void test_logs(void **state)
{
    (void)state;
    hv_log_reset();
    hv_log("alpha", HV_LOG_INFO, "first line");
    hv_log("beta", HV_LOG_WARN, "beta says \"hi\"");
    hv_log("alpha", HV_LOG_ERROR, "third line");
    resp_t r;

    assert_int_equal(get("/api/logs?source=alpha", &r), 200);
    cJSON *j = json_body(&r);
    assert_int_equal(cJSON_GetArraySize(j), 2);
    const cJSON *e0 = cJSON_GetArrayItem(j, 0), *e1 = cJSON_GetArrayItem(j, 1);
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(e0, "seq")));
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(e0, "time")));
    assert_true(cJSON_GetObjectItem(e0, "time")->valuedouble > 1.6e12); /* wall clock, ms */
    assert_string_equal(cJSON_GetObjectItem(e0, "level")->valuestring, "info");
    assert_string_equal(cJSON_GetObjectItem(e0, "source")->valuestring, "alpha");
    assert_string_equal(cJSON_GetObjectItem(e0, "text")->valuestring, "first line");
    assert_int_equal(cJSON_GetArraySize(e0), 5);
    assert_string_equal(cJSON_GetObjectItem(e1, "level")->valuestring, "error");
    assert_string_equal(cJSON_GetObjectItem(e1, "text")->valuestring, "third line");
    double seq0 = cJSON_GetObjectItem(e0, "seq")->valuedouble;
    double seq1 = cJSON_GetObjectItem(e1, "seq")->valuedouble;
    assert_true(seq1 > seq0);
    cJSON_Delete(j);
    resp_free(&r);

    char path[128];
    snprintf(path, sizeof path, "/api/logs?source=alpha&after=%.0f", seq0);
    assert_int_equal(get(path, &r), 200);
    j = json_body(&r);
    assert_int_equal(cJSON_GetArraySize(j), 1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(j, 0), "text")->valuestring,
                        "third line");
    cJSON_Delete(j);
    resp_free(&r);

    /* All sources, merged by seq; node = this node or absent. */
    const char *all[] = {"/api/logs", "/api/logs?node=pi-kitchen", "/api/logs?source=&node="};
    for (size_t k = 0; k < 3; k++) {
        assert_int_equal(get(all[k], &r), 200);
        j = json_body(&r);
        assert_true(cJSON_GetArraySize(j) >= 3);
        double last = -1;
        bool saw_beta = false;
        for (int i = 0; i < cJSON_GetArraySize(j); i++) {
            const cJSON *e = cJSON_GetArrayItem(j, i);
            double s = cJSON_GetObjectItem(e, "seq")->valuedouble;
            assert_true(s > last);
            last = s;
            if (strcmp(cJSON_GetObjectItem(e, "source")->valuestring, "beta") == 0) {
                saw_beta = true;
                assert_string_equal(cJSON_GetObjectItem(e, "text")->valuestring,
                                    "beta says \"hi\"");
                assert_string_equal(cJSON_GetObjectItem(e, "level")->valuestring, "warn");
            }
        }
        assert_true(saw_beta);
        cJSON_Delete(j);
        resp_free(&r);
    }
    /* Another node's lines are those kept as "node/source" (a hub's). */
    assert_int_equal(get("/api/logs?node=pi-garage", &r), 200);
    assert_string_equal(r.body, "[]");
    resp_free(&r);
    hv_log("pi-garage/bme680", HV_LOG_INFO, "from the garage");
    hv_log("pi-garage-2/bme680", HV_LOG_INFO, "from the other garage");
    assert_int_equal(get("/api/logs?node=pi-garage", &r), 200);
    assert_non_null(strstr(r.body, "\"text\":\"from the garage\""));
    assert_null(strstr(r.body, "other garage"));
    resp_free(&r);
    assert_int_equal(get("/api/logs?node=pi-garage&source=bme680", &r), 200);
    assert_non_null(strstr(r.body, "from the garage"));
    resp_free(&r);
    assert_int_equal(get("/api/logs?node=pi-garage&source=oled", &r), 200);
    assert_string_equal(r.body, "[]");
    resp_free(&r);
    /* This node's own view leaves the other nodes' lines out. */
    assert_int_equal(get("/api/logs?limit=10000", &r), 200);
    assert_null(strstr(r.body, "from the garage"));
    resp_free(&r);
    assert_int_equal(get("/api/logs?node=a/b", &r), 400);
    resp_free(&r);
    assert_int_equal(get("/api/logs?source=nobody", &r), 200);
    assert_string_equal(r.body, "[]");
    resp_free(&r);

    /* limit=, and paging with after= over more lines than one batch. */
    for (int i = 0; i < 150; i++)
        hv_log("gamma", HV_LOG_INFO, "line %d", i);
    assert_int_equal(get("/api/logs?source=gamma&limit=100", &r), 200);
    j = json_body(&r);
    assert_int_equal(cJSON_GetArraySize(j), 100);
    const cJSON *last = cJSON_GetArrayItem(j, 99);
    assert_string_equal(cJSON_GetObjectItem(last, "text")->valuestring, "line 99");
    snprintf(path, sizeof path, "/api/logs?source=gamma&after=%.0f",
             cJSON_GetObjectItem(last, "seq")->valuedouble);
    cJSON_Delete(j);
    resp_free(&r);
    assert_int_equal(get(path, &r), 200);
    j = json_body(&r);
    assert_int_equal(cJSON_GetArraySize(j), 50);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(j, 0), "text")->valuestring,
                        "line 100");
    cJSON_Delete(j);
    resp_free(&r);

    const char *bad[] = {"/api/logs?after=x", "/api/logs?after=-1",    "/api/logs?after=1.5",
                         "/api/logs?limit=0", "/api/logs?limit=10001", "/api/logs?limit=abc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        get(bad[i], &r);
        expect_error(&r, 400);
        resp_free(&r);
    }
}

/* ---- acting endpoints --------------------------------------------------------------- */

static void expect_buzz(const char *body, unsigned count, unsigned on_ms, unsigned off_ms)
{
    resp_t r;
    pthread_mutex_lock(&fake.mu);
    unsigned calls = fake.buzz_calls;
    pthread_mutex_unlock(&fake.mu);
    post("/api/buzzer", NULL, body, &r);
    expect_ok(&r);
    resp_free(&r);
    pthread_mutex_lock(&fake.mu);
    assert_int_equal(fake.buzz_calls, calls + 1);
    assert_int_equal(fake.count, count);
    assert_int_equal(fake.on_ms, on_ms);
    assert_int_equal(fake.off_ms, off_ms);
    pthread_mutex_unlock(&fake.mu);
}

static void test_buzzer(void **state)
{
    (void)state;
    expect_buzz("{\"pattern\":\"single\"}", 1, 100, 0);
    expect_buzz("{\"pattern\":\"triple\"}", 3, 100, 100);
    expect_buzz("{\"pattern\":\"long\"}", 1, 500, 0);
    expect_buzz("{\"pattern\":{\"count\":5,\"duration_ms\":250,\"interval_ms\":750}}", 5, 250, 750);

    resp_t r;
    post("/api/buzzer/test", NULL, NULL, &r);
    expect_ok(&r);
    resp_free(&r);
    assert_int_equal(fake.count, 3);
    assert_int_equal(fake.on_ms, 100);
    assert_int_equal(fake.off_ms, 100);

    /* Bad bodies never reach the buzzer. */
    unsigned calls = fake.buzz_calls;
    const char *bad[] = {"",
                         "{\"pattern\":",
                         "not json",
                         "[\"single\"]",
                         "{\"pattern\":\"siren\"}",
                         "{\"pattern\":{\"count\":21,\"duration_ms\":100}}",
                         "{\"pattern\":{\"count\":3,\"duration_ms\":5001}}",
                         "{\"pattern\":{\"count\":3,\"duration_ms\":100,\"interval_ms\":9999}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        post("/api/buzzer", NULL, bad[i], &r);
        expect_error(&r, 400);
        resp_free(&r);
    }
    assert_int_equal(fake.buzz_calls, calls);
    const char *bad_nodes[] = {"{\"pattern\":\"single\",\"node\":3}",
                               "{\"pattern\":\"single\",\"node\":\"\"}",
                               "{\"pattern\":\"single\",\"node\":\"a/b\"}"};
    for (size_t i = 0; i < sizeof bad_nodes / sizeof bad_nodes[0]; i++) {
        post("/api/buzzer", NULL, bad_nodes[i], &r);
        assert_string_equal(expect_error(&r, 400), "node: expected a node id");
        resp_free(&r);
    }
    assert_int_equal(fake.buzz_calls, calls);
    /* A named node reaches the callback (the hub forwards to it). */
    post("/api/buzzer", NULL, "{\"pattern\":\"single\",\"node\":\"pi4\"}", &r);
    expect_ok(&r);
    resp_free(&r);
    assert_string_equal(fake.buzz_node, "pi4");
    post("/api/buzzer", NULL, "{\"pattern\":\"single\"}", &r);
    resp_free(&r);
    assert_string_equal(fake.buzz_node, "(none)");
    pthread_mutex_lock(&fake.mu);
    fake.buzz_rc = HV_ENOENT;
    pthread_mutex_unlock(&fake.mu);
    post("/api/buzzer", NULL, "{\"pattern\":\"single\",\"node\":\"nope\"}", &r);
    expect_error(&r, 404);
    resp_free(&r);

    /* The buzzer's failure is answered with its text. */
    pthread_mutex_lock(&fake.mu);
    fake.buzz_rc = HV_EIO;
    pthread_mutex_unlock(&fake.mu);
    post("/api/buzzer", NULL, "{\"pattern\":\"single\"}", &r);
    assert_string_equal(expect_error(&r, 502), "forwarding to the hub failed: connection refused");
    resp_free(&r);
    post("/api/buzzer/test", NULL, "", &r);
    expect_error(&r, 502);
    resp_free(&r);
    pthread_mutex_lock(&fake.mu);
    fake.buzz_rc = HV_EBUSY;
    pthread_mutex_unlock(&fake.mu);
    post("/api/buzzer", NULL, "{\"pattern\":\"single\"}", &r);
    expect_error(&r, 503);
    resp_free(&r);
}

static void test_push(void **state)
{
    (void)state;
    resp_t r;
    const char *body = "{\"node\":\"pi-garage\",\"readings\":[{\"sensor_id\":\"bh1750\"}]}";
    post("/push", NULL, body, &r);
    expect_ok(&r);
    resp_free(&r);
    assert_int_equal(fake.push_calls, 1);
    assert_string_equal(fake.pushed, body);
    assert_int_equal(fake.pushed_len, strlen(body));
    assert_string_equal(fake.push_peer, "127.0.0.1");
    /* The hub's reply (the nodes it knows) reaches the spoke. */
    fake.push_reply = 1;
    post("/push", NULL, body, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"ok\":true,\"nodes\":{}}");
    resp_free(&r);
    fake.push_reply = 0;
    fake.push_calls--;

    post("/push", NULL, "[1,2,3]", &r);
    expect_ok(&r);
    resp_free(&r);

    const char *bad[] = {"",     "{",    "{\"a\":}", "3",          "\"str\"",
                         "null", "true", "[1,2",     "{} trailing"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        post("/push", NULL, bad[i], &r);
        const char *msg = expect_error(&r, 400);
        assert_true(strstr(msg, "JSON") != NULL);
        resp_free(&r);
    }
    assert_int_equal(fake.push_calls, 2);

    pthread_mutex_lock(&fake.mu);
    fake.push_rc = HV_EINVAL;
    pthread_mutex_unlock(&fake.mu);
    post("/push", NULL, "[]", &r);
    assert_string_equal(expect_error(&r, 400), "readings rejected");
    resp_free(&r);
    pthread_mutex_lock(&fake.mu);
    fake.push_rc = HV_EIO;
    pthread_mutex_unlock(&fake.mu);
    post("/push", NULL, "[]", &r);
    expect_error(&r, 500);
    resp_free(&r);
}

static void test_body_limits(void **state)
{
    (void)state;
    resp_t r;
    /* Declared too large: answered before any body byte is sent. */
    int fd = connect_server();
    char req[256];
    snprintf(req, sizeof req, "POST /push HTTP/1.1\r\nHost: t\r\nContent-Length: %u\r\n\r\n",
             HV_HTTP_MAX_BODY + 1);
    assert_true(send_str(fd, req));
    read_response(fd, &r);
    close(fd);
    expect_error(&r, 413);
    resp_free(&r);

    /* Chunked, no length: found too large while receiving. */
    fd = connect_server();
    assert_true(send_str(fd, "POST /push HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n"));
    char *chunk = malloc(65536);
    memset(chunk, ' ', 65536);
    chunk[0] = '[';
    for (int i = 0; i < 17; i++) { /* 17 x 64 KiB > 1 MiB */
        assert_true(send_str(fd, "10000\r\n"));
        assert_true(send_all(fd, chunk, 65536));
        assert_true(send_str(fd, "\r\n"));
    }
    assert_true(send_str(fd, "1\r\n]\r\n0\r\n\r\n"));
    read_response(fd, &r);
    close(fd);
    expect_error(&r, 413);
    resp_free(&r);
    free(chunk);
    assert_int_equal(fake.push_calls, 0);

    /* Exactly the limit is fine. */
    char *big = malloc(HV_HTTP_MAX_BODY);
    memset(big, ' ', HV_HTTP_MAX_BODY);
    big[0] = '[';
    big[HV_HTTP_MAX_BODY - 1] = ']';
    request("POST", "/push", NULL, big, HV_HTTP_MAX_BODY, &r);
    expect_ok(&r);
    resp_free(&r);
    free(big);
    assert_int_equal(fake.push_calls, 1);
    assert_int_equal(fake.pushed_len, HV_HTTP_MAX_BODY);

    /* The server still answers. */
    assert_int_equal(get("/health", &r), 200);
    resp_free(&r);
}

static int setup_token(void **state)
{
    (void)state;
    hv_http_opts_t o = base_opts();
    o.token = "s3cret";
    start(&o);
    return 0;
}

static void test_token(void **state)
{
    (void)state;
    resp_t r;
    char v[128];
    const char *wrong[] = {NULL,
                           "Authorization: Bearer wrong\r\n",
                           "Authorization: Bearer s3cre\r\n",
                           "Authorization: Bearer s3cret2\r\n",
                           "Authorization: bearer s3cret\r\n",
                           "Authorization: s3cret\r\n",
                           "Authorization: Basic czNjcmV0\r\n"};
    const char *acting[][2] = {
        {"/push", "[]"}, {"/api/buzzer", "{\"pattern\":\"single\"}"}, {"/api/buzzer/test", ""}};
    for (size_t a = 0; a < 3; a++)
        for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
            post(acting[a][0], wrong[i], acting[a][1], &r);
            expect_error(&r, 401);
            assert_non_null(header(&r, "WWW-Authenticate", v, sizeof v));
            resp_free(&r);
        }
    assert_int_equal(fake.push_calls + fake.buzz_calls, 0);
    /* Refused before the body is read: a huge declared body gets a 401. */
    int fd = connect_server();
    assert_true(send_str(fd, "POST /push HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999\r\n\r\n"));
    read_response(fd, &r);
    close(fd);
    expect_error(&r, 401);
    resp_free(&r);

    const char *right = "Authorization: Bearer s3cret\r\n";
    for (size_t a = 0; a < 3; a++) {
        post(acting[a][0], right, acting[a][1], &r);
        expect_ok(&r);
        resp_free(&r);
    }
    assert_int_equal(fake.push_calls, 1);
    assert_int_equal(fake.buzz_calls, 2);

    /* Reading endpoints need no token. */
    const char *open[] = {
        "/health", "/api/readings", "/api/plugins", "/api/logs", "/metrics", "/api/leds", "/"};
    for (size_t i = 0; i < sizeof open / sizeof open[0]; i++) {
        if (get(open[i], &r) != 200)
            fail_msg("%s: %d", open[i], r.status);
        resp_free(&r);
    }
}

/* ---- history ---------------------------------------------------------------------------- */

static char tmpdir[64];

static void rm_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char sub[512];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            struct stat st;
            if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
                rm_tree(sub);
            else
                unlink(sub);
        }
        closedir(d);
    }
    rmdir(path);
}

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hv_http_test.XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
}

static hv_store_t *store;

static int setup_store(void **state)
{
    (void)state;
    make_tmpdir();
    char path[128], err[256] = "";
    snprintf(path, sizeof path, "%s/history.db", tmpdir);
    if (hv_store_open(path, 0, &store, err, sizeof err) != HV_OK)
        fail_msg("hv_store_open: %s", err);
    const char *readings = "[{\"sensor_id\":\"dht22\",\"plugin\":\"dht22\",\"timestamp\":1000,"
                           "\"data\":{\"temperature\":20.0,\"humidity\":40}},"
                           "{\"sensor_id\":\"dht22\",\"plugin\":\"dht22\",\"timestamp\":1500,"
                           "\"data\":{\"temperature\":22.0,\"humidity\":41}},"
                           "{\"sensor_id\":\"dht22\",\"plugin\":\"dht22\",\"timestamp\":2500,"
                           "\"data\":{\"temperature\":24.0,\"humidity\":42}}]";
    size_t added = 0;
    if (hv_store_add_json(store, readings, strlen(readings), &added, err, sizeof err) != HV_OK)
        fail_msg("hv_store_add_json: %s", err);
    assert_int_equal(added, 6);
    hv_http_opts_t o = base_opts();
    o.store = store;
    start(&o);
    return 0;
}

static int teardown_store(void **state)
{
    (void)state;
    stop();
    hv_store_close(store);
    store = NULL;
    rm_tree(tmpdir);
    return 0;
}

static void test_history(void **state)
{
    (void)state;
    resp_t r;
    assert_int_equal(get("/api/history?sensor=dht22&field=temperature&from=0&to=10000", &r), 200);
    cJSON *j = json_body(&r);
    const cJSON *t = cJSON_GetObjectItem(j, "t"), *v = cJSON_GetObjectItem(j, "v");
    assert_int_equal(cJSON_GetArraySize(t), 3);
    assert_int_equal(cJSON_GetArraySize(v), 3);
    assert_true(cJSON_GetArrayItem(t, 0)->valuedouble == 1000);
    assert_true(cJSON_GetArrayItem(v, 2)->valuedouble == 24.0);
    cJSON_Delete(j);
    resp_free(&r);

    /* Buckets with step. */
    assert_int_equal(
        get("/api/history?sensor=dht22&field=temperature&from=0&to=10000&step=1000", &r), 200);
    j = json_body(&r);
    assert_non_null(cJSON_GetObjectItem(j, "min"));
    assert_non_null(cJSON_GetObjectItem(j, "max"));
    assert_non_null(cJSON_GetObjectItem(j, "mean"));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "t")), 2);
    cJSON_Delete(j);
    resp_free(&r);

    /* from/to default to the last hour: these 1970 points are not in it. */
    assert_int_equal(get("/api/history?sensor=dht22&field=temperature", &r), 200);
    j = json_body(&r);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "t")), 0);
    cJSON_Delete(j);
    resp_free(&r);
    assert_int_equal(get("/api/history?sensor=dht22&field=temperature&to=2000", &r), 200);
    j = json_body(&r);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "t")), 2);
    cJSON_Delete(j);
    resp_free(&r);

    const char *bad[] = {
        "/api/history?sensor=dht22&field=temperature&from=abc",
        "/api/history?sensor=dht22&field=temperature&to=1e3",
        "/api/history?sensor=dht22&field=temperature&from=-1",
        "/api/history?sensor=dht22&field=temperature&step=1.5",
        "/api/history?sensor=dht22&field=temperature&step=-10",
        "/api/history?sensor=dht22&field=temperature&from=5000&to=1000",
        "/api/history?sensor=dht22&field=temperature&from=0&to=99999999999999999999",
        "/api/history?sensor=dht22",
        "/api/history?field=temperature",
        "/api/history?sensor=&field=temperature",
        "/api/history",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        get(bad[i], &r);
        expect_error(&r, 400);
        resp_free(&r);
    }

    assert_int_equal(get("/api/series", &r), 200);
    j = json_body(&r);
    assert_true(cJSON_IsArray(j));
    assert_int_equal(cJSON_GetArraySize(j), 2);
    bool temp = false, hum = false;
    for (int i = 0; i < 2; i++) {
        const cJSON *p = cJSON_GetArrayItem(j, i);
        assert_int_equal(cJSON_GetArraySize(p), 2);
        assert_string_equal(cJSON_GetArrayItem(p, 0)->valuestring, "dht22");
        temp |= strcmp(cJSON_GetArrayItem(p, 1)->valuestring, "temperature") == 0;
        hum |= strcmp(cJSON_GetArrayItem(p, 1)->valuestring, "humidity") == 0;
    }
    assert_true(temp && hum);
    cJSON_Delete(j);
    resp_free(&r);
}

/* ---- metrics ---------------------------------------------------------------------------- */

/* The value of a metric line "name value" in text, or -1. */
static double metric(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, name, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    return -1;
}

static char *get_metrics(void)
{
    resp_t r;
    char v[128];
    assert_int_equal(get("/metrics", &r), 200);
    assert_string_equal(header(&r, "Content-Type", v, sizeof v),
                        "text/plain; version=0.0.4; charset=utf-8");
    char *text = r.body;
    r.body = NULL;
    resp_free(&r);
    return text;
}

static void test_metrics(void **state)
{
    (void)state;
    resp_t r;
    for (int i = 0; i < 3; i++) {
        get("/api/readings", &r);
        resp_free(&r);
    }
    get("/nope", &r);
    resp_free(&r);
    post("/push", NULL, "{", &r);
    resp_free(&r);
    char *m = get_metrics();
    assert_true(metric(m, "http_requests_total{code=\"200\"}") >= 3);
    assert_true(metric(m, "http_requests_total{code=\"404\"}") == 1);
    assert_true(metric(m, "http_requests_total{code=\"400\"}") == 1);
    assert_true(metric(m, "sse_clients") == 0);
    assert_non_null(strstr(m, "# TYPE http_requests_total counter\n"));
    assert_non_null(strstr(m, "# TYPE sse_clients gauge\n"));
    /* The daemon's lines, newline-terminated. */
    assert_non_null(strstr(m, "\nplugin_poll_seconds{plugin=\"dht22\"} 0.25\n"));
    free(m);
}

/* ---- Server-Sent Events --------------------------------------------------------------------- */

typedef struct {
    int fd;
    sbuf_t raw;  /* bytes received, headers included */
    size_t used; /* raw bytes consumed (headers, decoded chunks) */
    sbuf_t text; /* the decoded event stream */
    bool chunked, eof;
} sse_t;

/* Moves every complete chunk of raw into text. */
static void sse_decode(sse_t *s)
{
    if (!s->chunked) {
        sbuf_add(&s->text, s->raw.buf + s->used, s->raw.len - s->used);
        s->used = s->raw.len;
        return;
    }
    for (;;) {
        char *p = s->raw.buf + s->used;
        char *crlf = strstr(p, "\r\n");
        if (crlf == NULL)
            return;
        unsigned long n = strtoul(p, NULL, 16);
        size_t start = (size_t)(crlf - s->raw.buf) + 2;
        if (s->raw.len < start + n + 2)
            return;
        sbuf_add(&s->text, s->raw.buf + start, n);
        s->used = start + n + 2;
        if (n == 0) {
            s->eof = true;
            return;
        }
    }
}

/* Reads until the decoded stream contains needle (true) or the timeout. */
static bool sse_wait_for(sse_t *s, const char *needle, int timeout_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;
    for (;;) {
        if (s->text.buf && strstr(s->text.buf, needle))
            return true;
        if (s->eof)
            return false;
        ssize_t n = read_some(s->fd, &s->raw, deadline);
        if (n < 0)
            return false;
        if (n == 0)
            s->eof = true;
        if (s->used == 0) { /* still in the headers */
            char *sep = s->raw.buf ? strstr(s->raw.buf, "\r\n\r\n") : NULL;
            if (sep == NULL)
                continue;
            assert_true(strncmp(s->raw.buf, "HTTP/1.1 200", 12) == 0);
            s->chunked = strcasestr(s->raw.buf, "Transfer-Encoding: chunked") != NULL;
            assert_non_null(strcasestr(s->raw.buf, "Content-Type: text/event-stream"));
            s->used = (size_t)(sep + 4 - s->raw.buf);
        }
        sse_decode(s);
    }
}

/* Reads until the server ends the stream; true when it did in time. */
static bool sse_wait_eof(sse_t *s, int timeout_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;
    while (!s->eof) {
        size_t before = s->raw.len;
        ssize_t n = read_some(s->fd, &s->raw, deadline);
        if (n < 0)
            return false;
        if (n == 0)
            s->eof = true;
        /* keep memory flat: drop what was read */
        if (s->raw.len > (1u << 20) && before > 0) {
            s->raw.len = 0;
            s->raw.buf[0] = '\0';
            s->used = 0;
        }
    }
    return true;
}

static void sse_open_rcvbuf(sse_t *s, int version_minor, int rcvbuf)
{
    memset(s, 0, sizeof *s);
    s->fd = connect_rcvbuf(rcvbuf);
    char req[128];
    snprintf(req, sizeof req, "GET /api/events HTTP/1.%d\r\nHost: t\r\n\r\n", version_minor);
    assert_true(send_str(s->fd, req));
    /* Subscribed once the greeting arrives. */
    assert_true(sse_wait_for(s, ": connected\n", TIMEOUT_MS));
}

static void sse_open(sse_t *s)
{
    sse_open_rcvbuf(s, 1, 0);
}

static void sse_close(sse_t *s)
{
    close(s->fd);
    free(s->raw.buf);
    free(s->text.buf);
    memset(s, 0, sizeof *s);
}

/* Waits until /metrics shows sse_clients == n. */
static void wait_sse_clients(double n)
{
    int64_t deadline = mono_ms() + TIMEOUT_MS;
    for (;;) {
        char *m = get_metrics();
        double v = metric(m, "sse_clients");
        free(m);
        if (v == n)
            return;
        if (mono_ms() > deadline)
            fail_msg("sse_clients stays %g, expected %g", v, n);
        usleep(10000); /* polling a condition, bounded by the deadline */
    }
}

static void test_sse_delivery(void **state)
{
    (void)state;
    sse_t a, b;
    sse_open(&a);
    sse_open_rcvbuf(&b, 0, 0); /* HTTP/1.0: no chunking */
    wait_sse_clients(2);

    hv_http_publish(srv, "reading", "[{\"sensor_id\":\"dht22\",\"v\":1}]");
    const char *want = "event: reading\ndata: [{\"sensor_id\":\"dht22\",\"v\":1}]\n\n";
    assert_true(sse_wait_for(&a, want, TIMEOUT_MS));
    assert_true(sse_wait_for(&b, want, TIMEOUT_MS));

    /* Several events in order, multi-line data split into data: lines. */
    hv_http_publish(srv, "log", "{\"text\":\"one\"}");
    hv_http_publish(srv, "log", "{\n\"text\":\"two\"\n}");
    const char *want2 = "event: log\ndata: {\"text\":\"one\"}\n\n"
                        "event: log\ndata: {\ndata: \"text\":\"two\"\ndata: }\n\n";
    assert_true(sse_wait_for(&a, want2, TIMEOUT_MS));
    assert_true(sse_wait_for(&b, want2, TIMEOUT_MS));

    /* A large event crosses several reads. */
    size_t big = 200000;
    char *data = malloc(big + 1);
    memset(data, 'x', big);
    data[0] = '"';
    data[big - 1] = '"';
    data[big] = '\0';
    hv_http_publish(srv, "reading", data);
    char *end = malloc(big + 64);
    snprintf(end, big + 64, "data: %s\n\n", data);
    assert_true(sse_wait_for(&a, end, TIMEOUT_MS));
    free(end);
    free(data);

    sse_close(&b);
    hv_http_publish(srv, "reading", "[]"); /* finds b gone */
    assert_true(sse_wait_for(&a, "event: reading\ndata: []\n\n", TIMEOUT_MS));
    wait_sse_clients(1);
    sse_close(&a);
    hv_http_publish(srv, "reading", "[]");
    wait_sse_clients(0);
}

static int setup_fast_ping(void **state)
{
    atomic_store(&http__sse_ping_ms, 100);
    int rc = setup_default(state);
    atomic_store(&http__sse_ping_ms, HTTP__SSE_PING_MS);
    return rc;
}

static void test_sse_ping(void **state)
{
    (void)state;
    sse_t a;
    sse_open(&a);
    assert_true(sse_wait_for(&a, ": ping\n\n", TIMEOUT_MS));
    /* A closed client is found by the pings and leaves. */
    sse_close(&a);
    wait_sse_clients(0);
}

static void test_sse_slow_client_dropped(void **state)
{
    (void)state;
    sse_t slow, fast;
    sse_open_rcvbuf(&slow, 1, 4096); /* a small window: the server's queue fills soon */
    sse_open(&fast);
    wait_sse_clients(2);

    size_t size = 64 * 1024;
    char *data = malloc(size + 1);
    memset(data, 'y', size);
    data[size] = '\0';
    /* The slow client never reads; publishing never waits for it. */
    int64_t t0 = mono_ms();
    double dropped = 0;
    for (int i = 0; i < 400 && dropped < 1; i++) {
        hv_http_publish(srv, "reading", data);
        /* keep the fast one drained */
        int64_t deadline = mono_ms() + 1;
        while (read_some(fast.fd, &fast.raw, deadline) > 0) {
            fast.raw.len = 0;
            fast.used = 0;
            fast.raw.buf[0] = '\0';
        }
        if (i % 16 == 15) {
            char *m = get_metrics();
            dropped = metric(m, "sse_dropped_total");
            free(m);
        }
    }
    free(data);
    assert_true(dropped == 1);
    assert_true(mono_ms() - t0 < 30000);
    wait_sse_clients(1); /* the fast client stays */

    /* Once it reads again, the dropped client's stream ends. */
    assert_true(sse_wait_eof(&slow, TIMEOUT_MS));
    sse_close(&slow);

    /* The fast one still gets events. */
    fast.raw.len = fast.used = 0;
    fast.chunked = false; /* the raw buffer was reset mid-stream: match raw bytes */
    free(fast.text.buf);
    fast.text = (sbuf_t){0};
    hv_http_publish(srv, "reading", "\"after\"");
    int64_t deadline = mono_ms() + TIMEOUT_MS;
    while (!(fast.raw.buf && strstr(fast.raw.buf, "data: \"after\"")))
        assert_true(read_some(fast.fd, &fast.raw, deadline) > 0);
    sse_close(&fast);
}

static void test_sse_stop_with_clients(void **state)
{
    (void)state;
    sse_t a, b;
    sse_open(&a);
    sse_open(&b);
    hv_http_publish(srv, "reading", "[1]");
    assert_true(sse_wait_for(&a, "data: [1]\n\n", TIMEOUT_MS));
    /* b's queue holds the event unread when the server stops. */
    int64_t t0 = mono_ms();
    stop();
    assert_true(mono_ms() - t0 < 5000);
    assert_true(sse_wait_eof(&a, TIMEOUT_MS));
    assert_true(sse_wait_eof(&b, TIMEOUT_MS));
    sse_close(&a);
    sse_close(&b);
    /* restart for the teardown */
    hv_http_opts_t o = base_opts();
    start(&o);
}

static void test_sse_too_many_clients(void **state)
{
    (void)state;
    sse_t *c = calloc(HTTP__SSE_MAX_CLIENTS, sizeof *c);
    for (int i = 0; i < HTTP__SSE_MAX_CLIENTS; i++)
        sse_open(&c[i]);
    resp_t r;
    get("/api/events", &r);
    expect_error(&r, 503);
    resp_free(&r);
    hv_http_publish(srv, "reading", "[42]");
    for (int i = 0; i < HTTP__SSE_MAX_CLIENTS; i++) {
        assert_true(sse_wait_for(&c[i], "data: [42]\n\n", TIMEOUT_MS));
        sse_close(&c[i]);
    }
    free(c);
}

/* ---- static files -------------------------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup_static(void **state)
{
    (void)state;
    make_tmpdir();
    char dir[128], sub[160];
    snprintf(dir, sizeof dir, "%s/static", tmpdir);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(sub, sizeof sub, "%s/sub", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    write_file(tmpdir, "secret.txt", "do not serve");
    write_file(dir, "app.js", "console.log('hi');\n");
    write_file(dir, "style.css", "body{}\n");
    write_file(dir, "index.html", "<p>x</p>\n");
    write_file(dir, "icon.svg", "<svg/>\n");
    write_file(dir, "data.json", "{\"a\":1}\n");
    write_file(dir, "logo.png", "\x89PNG\r\n");
    write_file(dir, ".hidden", "hidden");
    write_file(sub, "x.js", "var x = 1;\n");
    char fifo[192];
    snprintf(fifo, sizeof fifo, "%s/pipe.js", dir);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    hv_http_opts_t o = base_opts();
    o.static_dir = dir;
    start(&o);
    return 0;
}

static int teardown_static(void **state)
{
    (void)state;
    stop();
    rm_tree(tmpdir);
    return 0;
}

/* A raw request line (no client-side normalisation); returns the status. */
static int raw_get(const char *target, resp_t *r)
{
    int fd = connect_server();
    char req[512];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", target);
    assert_true(send_str(fd, req));
    read_response(fd, r);
    close(fd);
    return r->status;
}

static void test_static(void **state)
{
    (void)state;
    static const struct {
        const char *path, *type, *body;
    } files[] = {
        {"/static/app.js", "text/javascript; charset=utf-8", "console.log('hi');\n"},
        {"/static/style.css", "text/css; charset=utf-8", "body{}\n"},
        {"/static/index.html", "text/html; charset=utf-8", "<p>x</p>\n"},
        {"/static/icon.svg", "image/svg+xml", "<svg/>\n"},
        {"/static/data.json", "application/json", "{\"a\":1}\n"},
        {"/static/logo.png", "image/png", "\x89PNG\r\n"},
        {"/static/sub/x.js", "text/javascript; charset=utf-8", "var x = 1;\n"},
    };
    resp_t r;
    char v[128];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (get(files[i].path, &r) != 200)
            fail_msg("%s: %d %s", files[i].path, r.status, r.body);
        assert_string_equal(header(&r, "Content-Type", v, sizeof v), files[i].type);
        assert_string_equal(r.body, files[i].body);
        resp_free(&r);
    }
    /* A query string is not part of the name. */
    assert_int_equal(get("/static/app.js?v=3", &r), 200);
    resp_free(&r);

    const char *refused[] = {"/static/../secret.txt",
                             "/static/%2e%2e/secret.txt",
                             "/static/%2E%2E%2Fsecret.txt",
                             "/static/sub/../../secret.txt",
                             "/static//etc/passwd",
                             "/static/%2fetc%2fpasswd",
                             "/static/.hidden",
                             "/static/sub/",
                             "/static/",
                             "/static/a%5cb",
                             "/static/app.js%00.png"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        raw_get(refused[i], &r);
        expect_error(&r, 400);
        assert_null(strstr(r.body, "do not serve"));
        resp_free(&r);
    }
    const char *missing[] = {"/static/missing.js", "/static/sub", "/static/pipe.js"};
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        raw_get(missing[i], &r);
        expect_error(&r, 404);
        resp_free(&r);
    }
}

/* ---- robustness ------------------------------------------------------------------------------ */

static void test_malformed_requests(void **state)
{
    (void)state;
    static const char *const reqs[] = {
        "GARBAGE\r\n\r\n",
        "GET\r\n\r\n",
        "GET /health\r\n\r\n",
        "GET /health HTTP/9.9\r\nHost: t\r\n\r\n",
        "GET /health HTTP/1.1\r\n\r\n", /* no Host */
        "\x01\x02\x03\x04\xff\xfe\r\n\r\n",
        " / HTTP/1.1\r\n\r\n",
        "GET  HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET /api/logs?after=%zz&source=%00 HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET /%zz HTTP/1.1\r\nHost: t\r\n\r\n",
        "POST /push HTTP/1.1\r\nHost: t\r\nContent-Length: -5\r\n\r\n",
        "POST /push HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n",
        "POST /push HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "POST /push HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n",
        "GET /health HTTP/1.1\r\nHost: t\r\nBad Header Line\r\n\r\n",
        "GET /health HTTP/1.1\r\nHost: t\r\n: empty name\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        int fd = connect_server();
        assert_true(send_str(fd, reqs[i]));
        /* An answer's head or a close; not a hang. (After an answer the
         * connection may stay open for the next request.) */
        sbuf_t b = {0};
        int64_t deadline = mono_ms() + TIMEOUT_MS;
        ssize_t n;
        while ((n = read_some(fd, &b, deadline)) > 0 && !strstr(b.buf, "\r\n\r\n"))
            ;
        close(fd);
        if (n < 0)
            fail_msg("request %zu: no answer and no close", i);
        int status = 0;
        if (b.len > 0 && sscanf(b.buf, "HTTP/1.%*d %d", &status) != 1)
            fail_msg("request %zu: not HTTP: %s", i, b.buf);
        if (status != 0 && status != 400 && status != 404 && status != 405 && status != 413 &&
            status != 505 && status != 200)
            fail_msg("request %zu: status %d", i, status);
        free(b.buf);
    }
    /* Requests never finished, the client gone (libmicrohttpd may keep such
     * a half-closed connection until its timeout: not waited for here). */
    static const char *const unfinished[] = {
        "GET /health HTTP/1.1",
        "GET /health HTTP/1.1\r\nHost: t\r\n",
        "POST /push HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n[",
        "POST /push HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n[",
    };
    int fd;
    for (size_t i = 0; i < sizeof unfinished / sizeof unfinished[0]; i++) {
        fd = connect_server();
        assert_true(send_str(fd, unfinished[i]));
        close(fd);
    }

    /* A huge header line and a huge URL. */
    size_t n = 200000;
    char *big = malloc(n + 128);
    memcpy(big, "GET /health HTTP/1.1\r\nX-Big: ", 29);
    memset(big + 29, 'a', n);
    strcpy(big + 29 + n, "\r\n\r\n");
    fd = connect_server();
    send_str(fd, big); /* the server may close before reading it all */
    resp_t r;
    read_response(fd, &r);
    close(fd);
    assert_true(r.status == 0 || r.status == 431 || r.status == 400 || r.status == 414);
    resp_free(&r);
    memcpy(big, "GET /", 5);
    memset(big + 5, 'b', n);
    strcpy(big + 5 + n, " HTTP/1.1\r\nHost: t\r\n\r\n");
    fd = connect_server();
    send_str(fd, big);
    read_response(fd, &r);
    close(fd);
    assert_true(r.status == 0 || r.status == 414 || r.status == 400 || r.status == 431);
    resp_free(&r);
    free(big);

    /* Still serving; keep-alive, sequential and pipelined. */
    fd = connect_server();
    for (int i = 0; i < 3; i++) {
        assert_true(send_str(fd, "GET /api/readings HTTP/1.1\r\nHost: t\r\n\r\n"));
        sbuf_t b = {0};
        int64_t deadline = mono_ms() + TIMEOUT_MS;
        while (!(b.buf && strstr(b.buf, "[{\"sensor_id\"") && strstr(b.buf, "}]")))
            assert_true(read_some(fd, &b, deadline) > 0);
        assert_true(strncmp(b.buf, "HTTP/1.1 200", 12) == 0);
        assert_null(strcasestr(b.buf, "Connection: close"));
        free(b.buf);
    }
    close(fd);
    fd = connect_server();
    assert_true(send_str(fd, "GET /health HTTP/1.1\r\nHost: t\r\n\r\n"
                             "GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
    sbuf_t b = {0};
    int64_t deadline = mono_ms() + TIMEOUT_MS;
    while (read_some(fd, &b, deadline) > 0)
        ;
    close(fd);
    assert_non_null(b.buf);
    char *second = strstr(b.buf + 1, "HTTP/1.1 200");
    assert_true(strncmp(b.buf, "HTTP/1.1 200", 12) == 0 && second != NULL);
    free(b.buf);
}

typedef struct {
    int requests;
    int failures;
} load_t;

static void *load_thread(void *arg)
{
    load_t *l = arg;
    for (int i = 0; i < l->requests; i++) {
        resp_t r;
        if (get(i % 2 ? "/api/readings" : "/health", &r) != 200)
            l->failures++;
        resp_free(&r);
    }
    return NULL;
}

static void *publish_thread(void *arg)
{
    atomic_bool *stop_flag = arg;
    char data[64];
    for (int i = 0; !atomic_load(stop_flag); i++) {
        snprintf(data, sizeof data, "{\"n\":%d}", i);
        hv_http_publish(srv, "reading", data);
        usleep(200);
    }
    hv_http_publish(srv, "reading", "\"end\"");
    return NULL;
}

static void test_concurrent_load(void **state)
{
    (void)state;
    sse_t s;
    sse_open(&s);
    atomic_bool stop_flag = false;
    pthread_t pub, th[4];
    load_t loads[4];
    pthread_create(&pub, NULL, publish_thread, &stop_flag);
    for (int i = 0; i < 4; i++) {
        loads[i] = (load_t){.requests = 200};
        pthread_create(&th[i], NULL, load_thread, &loads[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(loads[i].failures, 0);
    }
    atomic_store(&stop_flag, true);
    pthread_join(pub, NULL);
    assert_true(sse_wait_for(&s, "data: \"end\"\n\n", TIMEOUT_MS));
    /* Every event arrived, in order. */
    int expect = 0;
    for (const char *p = strstr(s.text.buf, "data: {\"n\":"); p; p = strstr(p + 1, "data: {\"n\":"))
        assert_int_equal(atoi(p + strlen("data: {\"n\":")), expect++);
    assert_true(expect > 0);
    sse_close(&s);
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return -1;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

/* Many keep-alive connections at once, each with a request in flight: every
 * one is answered (libmicrohttpd's epoll mode loses some past ~128 per
 * thread), twice, and the server lets go of them when the clients close. */
static void test_many_connections(void **state)
{
    (void)state;
    enum { N = 300 };
    int before = count_fds();
    static int fds[N];
    static sbuf_t got[N];
    for (int i = 0; i < N; i++)
        fds[i] = connect_server();
    const char *req = "GET /api/readings HTTP/1.1\r\nHost: t\r\n\r\n";
    const size_t body_len = strlen(fake.readings);
    for (int round = 1; round <= 2; round++) {
        for (int i = 0; i < N; i++)
            assert_true(send_str(fds[i], req));
        int done = 0;
        static bool finished[N];
        memset(finished, 0, sizeof finished);
        int64_t deadline = mono_ms() + TIMEOUT_MS;
        while (done < N) {
            static struct pollfd p[N];
            for (int i = 0; i < N; i++)
                p[i] = (struct pollfd){.fd = finished[i] ? -1 : fds[i], .events = POLLIN};
            int64_t left = deadline - mono_ms();
            if (left <= 0)
                fail_msg("round %d: %d of %d connections answered", round, done, N);
            if (poll(p, N, (int)left) <= 0)
                continue;
            for (int i = 0; i < N; i++) {
                if (!(p[i].revents & (POLLIN | POLLHUP)))
                    continue;
                char chunk[4096];
                ssize_t n = recv(fds[i], chunk, sizeof chunk, 0);
                assert_true(n > 0);
                sbuf_add(&got[i], chunk, (size_t)n);
                char *sep = strstr(got[i].buf, "\r\n\r\n");
                if (sep != NULL && got[i].len - (size_t)(sep + 4 - got[i].buf) >= body_len) {
                    assert_true(strncmp(got[i].buf, "HTTP/1.1 200", 12) == 0);
                    finished[i] = true;
                    done++;
                    got[i].len = 0;
                    got[i].buf[0] = '\0';
                }
            }
        }
    }
    for (int i = 0; i < N; i++) {
        close(fds[i]);
        free(got[i].buf);
        got[i] = (sbuf_t){0};
    }
    int64_t deadline = mono_ms() + TIMEOUT_MS;
    while (count_fds() > before) {
        if (mono_ms() > deadline)
            fail_msg("the server still holds %d connections", count_fds() - before);
        usleep(10000); /* polling a condition, bounded by the deadline */
    }
}

/* ---- start and stop -------------------------------------------------------------------------- */

static void test_start_errors(void **state)
{
    (void)state;
    hv_http_opts_t o = base_opts();
    start(&o);
    hv_http_t *second = NULL;
    char err[256] = "";
    o.port = port; /* taken */
    assert_int_equal(hv_http_start(&o, &second, err, sizeof err), HV_EIO);
    assert_null(second);
    assert_non_null(strstr(err, "Address already in use"));
    o.port = 0;
    o.bind = "not an address";
    err[0] = '\0';
    assert_int_not_equal(hv_http_start(&o, &second, err, sizeof err), HV_OK);
    assert_true(strlen(err) > 0);
    o.bind = "127.0.0.1";
    o.port = 70000;
    assert_int_equal(hv_http_start(&o, &second, err, sizeof err), HV_EINVAL);
    stop();

    /* IPv6 loopback, when the host has it. */
    o = base_opts();
    o.bind = "::1";
    if (hv_http_start(&o, &second, err, sizeof err) == HV_OK) {
        assert_true(hv_http_port(second) > 0);
        hv_http_stop(second);
    }

    /* Start/stop cycles leak no descriptors (the listening socket included). */
    int before = count_fds();
    for (int i = 0; i < 20; i++) {
        o = base_opts();
        start(&o);
        resp_t r;
        assert_int_equal(get("/health", &r), 200);
        resp_free(&r);
        stop();
    }
    assert_int_equal(count_fds(), before);
    /* Publishing to no server is harmless. */
    hv_http_publish(NULL, "reading", "[]");
    hv_http_stop(NULL);
}

static void test_options_copied(void **state)
{
    (void)state;
    char node[16] = "node-a", role[16] = "spoke";
    hv_http_opts_t o = base_opts();
    o.node_id = node;
    o.role = role;
    start(&o);
    strcpy(node, "XXXXXX");
    strcpy(role, "XXXXX");
    resp_t r;
    assert_int_equal(get("/health", &r), 200);
    cJSON *j = json_body(&r);
    assert_string_equal(cJSON_GetObjectItem(j, "node")->valuestring, "node-a");
    assert_string_equal(cJSON_GetObjectItem(j, "role")->valuestring, "spoke");
    cJSON_Delete(j);
    resp_free(&r);
    stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_i64),
        cmocka_unit_test(test_static_path_rules),
        cmocka_unit_test(test_sse_format),
        cmocka_unit_test(test_buzz_parser),
        cmocka_unit_test(test_unescape),
        cmocka_unit_test(test_auth_compare),
        cmocka_unit_test_setup_teardown(test_health, setup_default, teardown_server),
        cmocka_unit_test_setup_teardown(test_callback_endpoints, setup_default, teardown_server),
        cmocka_unit_test(test_missing_callbacks),
        cmocka_unit_test_setup_teardown(test_not_found_and_methods, setup_default, teardown_server),
        cmocka_unit_test_setup_teardown(test_logs, setup_default, teardown_server),
        cmocka_unit_test_setup_teardown(test_buzzer, setup_default, teardown_server),
        cmocka_unit_test_setup_teardown(test_push, setup_default, teardown_server),
        cmocka_unit_test_setup_teardown(test_body_limits, setup_default, teardown_server),
        cmocka_unit_test_setup_teardown(test_token, setup_token, teardown_server),
        cmocka_unit_test_setup_teardown(test_history, setup_store, teardown_store),
        cmocka_unit_test_setup_teardown(test_metrics, setup_default, teardown_server),
        cmocka_unit_test_setup_teardown(test_sse_delivery, setup_default, teardown_server),
        cmocka_unit_test_setup_teardown(test_sse_ping, setup_fast_ping, teardown_server),
        cmocka_unit_test_setup_teardown(test_sse_slow_client_dropped, setup_default,
                                        teardown_server),
        cmocka_unit_test_setup_teardown(test_sse_stop_with_clients, setup_default, teardown_server),
        cmocka_unit_test_setup_teardown(test_sse_too_many_clients, setup_default, teardown_server),
        cmocka_unit_test_setup_teardown(test_static, setup_static, teardown_static),
        cmocka_unit_test_setup_teardown(test_malformed_requests, setup_default, teardown_server),
        cmocka_unit_test_setup_teardown(test_concurrent_load, setup_default, teardown_server),
        cmocka_unit_test_setup_teardown(test_many_connections, setup_default, teardown_server),
        cmocka_unit_test(test_start_errors),
        cmocka_unit_test(test_options_copied),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(fake.pushed);
    return rc;
}

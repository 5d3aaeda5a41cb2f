/*
 * The cluster at the C level: a hub's ingest (hv_cluster_push: what it
 * accepts, what it refuses whole, the latest readings, the node list, the
 * history through the journal, the pushed log lines), a hub with more
 * spokes than it keeps, the buzzer (local, forwarded to a spoke or to
 * spoke_buzzer_url, the failures), and a spoke's sender against a test
 * hub (hv_http on port 0) that accepts, answers 503, 400 or 401.
 *
 * Everything that happens on another thread is waited for as a condition
 * with a deadline, never with a bare sleep. Files live in a mkdtemp
 * directory.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "hv_cluster.h"
#include "hv_config.h"
#include "hv_http.h"
#include "hv_log.h"
#include "hv_outbox.h"
#include "hv_store.h"
/* Internals, only to wait for a spoke's queue to drain (hv_outbox_depth). */
#include "../../src/cluster/cluster_impl.h"

static char dir[] = "/tmp/hv_hub_XXXXXX";

/* ---- helpers ------------------------------------------------------------------ */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

#define WAIT_MS 10000
/* Polls cond every 5 ms; fails the test when it does not hold in time. */
#define WAIT_FOR(cond, ...)                                                                        \
    do {                                                                                           \
        int64_t until_ = mono_ms() + WAIT_MS;                                                      \
        while (!(cond)) {                                                                          \
            if (mono_ms() > until_)                                                                \
                fail_msg("timed out waiting: " __VA_ARGS__);                                       \
            nap_ms(5);                                                                             \
        }                                                                                          \
    } while (0)

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = NULL;
    int n = vasprintf(&s, f, ap);
    va_end(ap);
    if (n < 0)
        fail_msg("out of memory");
    return s;
}

/* A fresh directory under the test directory. */
static const char *subdir(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (mkdir(path, 0700) != 0)
        fail_msg("mkdir %s", path);
    return path;
}

static hv_config_t node_cfg(const char *role, const char *id, const char *data_dir)
{
    hv_config_t cfg;
    hv_config_defaults(&cfg);
    snprintf(cfg.role, sizeof cfg.role, "%s", role);
    snprintf(cfg.node_id, sizeof cfg.node_id, "%s", id);
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", data_dir ? data_dir : dir);
    cfg.ping_interval_s = 3600; /* the pinger runs once, at start */
    return cfg;
}

static hv_cluster_t *open_cluster(const hv_config_t *cfg, hv_store_t *store, int http_port)
{
    hv_cluster_opts_t o = {.cfg = cfg, .store = store, .http_port = http_port};
    hv_cluster_t *c = NULL;
    char err[256] = "";
    int rc = hv_cluster_open(&o, &c, err, sizeof err);
    if (rc != HV_OK)
        fail_msg("hv_cluster_open (%s): %s: %s", cfg->role, hv_err_name(rc), err);
    return c;
}

static cJSON *push_ok(hv_cluster_t *c, const char *json, const char *peer)
{
    char *reply = NULL, err[256] = "";
    int rc = hv_cluster_push(c, json, strlen(json), peer, &reply, err, sizeof err);
    if (rc != HV_OK)
        fail_msg("push %.300s: %s: %s", json, hv_err_name(rc), err);
    cJSON *r = cJSON_Parse(reply);
    free(reply);
    assert_true(cJSON_IsObject(r));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok")));
    assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(r, "nodes")));
    return r;
}

static void push_fails(hv_cluster_t *c, const char *json, int want, const char *msg_part)
{
    char *reply = NULL, err[256] = "";
    int rc = hv_cluster_push(c, json, strlen(json), "10.0.0.9", &reply, err, sizeof err);
    if (rc != want)
        fail_msg("push %.300s: got %s (%s), want %s", json, hv_err_name(rc), err,
                 hv_err_name(want));
    assert_null(reply);
    if (strstr(err, msg_part) == NULL)
        fail_msg("push %.300s: message '%s' lacks '%s'", json, err, msg_part);
}

static cJSON *parse_free(char *s)
{
    assert_non_null(s);
    cJSON *j = cJSON_Parse(s);
    free(s);
    assert_non_null(j);
    return j;
}

static cJSON *nodes_of(hv_cluster_t *c)
{
    cJSON *j = parse_free(hv_cluster_nodes_json(c));
    assert_true(cJSON_IsArray(j));
    return j;
}

static const cJSON *find_node(const cJSON *nodes, const char *id)
{
    const cJSON *n;
    cJSON_ArrayForEach(n, nodes)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(n, "node");
        if (cJSON_IsString(name) && strcmp(name->valuestring, id) == 0)
            return n;
    }
    return NULL;
}

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(v))
        fail_msg("\"%s\" is not a string", key);
    return v->valuestring;
}

static double num_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v))
        fail_msg("\"%s\" is not a number", key);
    return v->valuedouble;
}

/* The readings with this sensor_id in a readings array. */
static size_t count_readings(const cJSON *arr, const char *sid, const cJSON **ret)
{
    size_t n = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, arr)
    {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(r, "sensor_id");
        if (cJSON_IsString(s) && strcmp(s->valuestring, sid) == 0) {
            if (ret)
                *ret = r;
            n++;
        }
    }
    return n;
}

static size_t count_prefix(const cJSON *arr, const char *prefix)
{
    size_t n = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, arr)
    {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(r, "sensor_id");
        if (cJSON_IsString(s) && strncmp(s->valuestring, prefix, strlen(prefix)) == 0)
            n++;
    }
    return n;
}

/* The raw points of (sensor, field) as {"t":[...],"v":[...]}. */
static cJSON *history(hv_store_t *s, const char *sensor, const char *field)
{
    char *json = NULL, err[256] = "";
    int rc =
        hv_store_history_json(s, sensor, field, 0, wall_ms() + 86400000, 0, &json, err, sizeof err);
    if (rc != HV_OK)
        fail_msg("history %s %s: %s: %s", sensor, field, hv_err_name(rc), err);
    return parse_free(json);
}

static int history_points(hv_store_t *s, const char *sensor, const char *field)
{
    cJSON *h = history(s, sensor, field);
    int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(h, "t"));
    cJSON_Delete(h);
    return n;
}

/* Log lines (after a reset: all of them) of source, whose text has part. */
#define LOG_MAX 2000
static size_t log_lines(const char *source, const char *part, hv_log_entry_t **ret_first)
{
    static hv_log_entry_t *buf;
    if (buf == NULL) {
        buf = calloc(LOG_MAX, sizeof *buf);
        assert_non_null(buf);
    }
    size_t n = hv_log_read(source, 0, buf, LOG_MAX), hits = 0;
    for (size_t i = 0; i < n; i++)
        if (strstr(buf[i].text, part) != NULL) {
            if (hits++ == 0 && ret_first != NULL)
                *ret_first = &buf[i];
        }
    return hits;
}

/* Fails unless the message err has part. */
static void expect_msg(const char *err, const char *part)
{
    if (strstr(err, part) == NULL)
        fail_msg("message '%s' lacks '%s'", err, part);
}

static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd); /* nothing listens there now */
    return ntohs(a.sin_port);
}

/* ---- a test peer: hv_http with buzz and push callbacks we control ----------- */

#define MAX_BODIES 512

typedef struct {
    pthread_mutex_t mu;
    /* buzz */
    int buzz_calls;
    unsigned count, on_ms, off_ms;
    int buzz_named; /* the request named a node */
    int buzz_rc;
    const char *buzz_err;
    /* push: busy answers 503 to everything; a body holding "MARKER" gets a
     * 400 */
    int busy;
    int busy_answers;
    char *accepted[MAX_BODIES]; /* bodies answered 200, in order */
    size_t naccepted;
    char *refused[MAX_BODIES]; /* bodies answered 400 */
    size_t nrefused;
    char peer[64];
} peer_state_t;

static peer_state_t ps = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void peer_reset(void)
{
    pthread_mutex_lock(&ps.mu);
    for (size_t i = 0; i < ps.naccepted; i++)
        free(ps.accepted[i]);
    for (size_t i = 0; i < ps.nrefused; i++)
        free(ps.refused[i]);
    ps.naccepted = ps.nrefused = 0;
    ps.buzz_calls = 0;
    ps.count = ps.on_ms = ps.off_ms = 0;
    ps.buzz_named = 0;
    ps.buzz_rc = HV_OK;
    ps.buzz_err = NULL;
    ps.busy = 0;
    ps.busy_answers = 0;
    ps.peer[0] = '\0';
    pthread_mutex_unlock(&ps.mu);
}

static int peer_buzz(void *ud, const char *node, unsigned count, unsigned on_ms, unsigned off_ms,
                     char *err, size_t errlen)
{
    peer_state_t *p = ud;
    pthread_mutex_lock(&p->mu);
    p->buzz_calls++;
    p->count = count;
    p->on_ms = on_ms;
    p->off_ms = off_ms;
    p->buzz_named = node != NULL;
    int rc = p->buzz_rc;
    if (rc != HV_OK)
        snprintf(err, errlen, "%s", p->buzz_err);
    pthread_mutex_unlock(&p->mu);
    return rc;
}

static int peer_push(void *ud, const char *json, size_t len, const char *peer, char **ret_reply,
                     char *err, size_t errlen)
{
    peer_state_t *p = ud;
    int rc = HV_OK;
    (void)ret_reply; /* NULL: {"ok":true} */
    pthread_mutex_lock(&p->mu);
    snprintf(p->peer, sizeof p->peer, "%s", peer);
    if (p->busy) {
        p->busy_answers++;
        snprintf(err, errlen, "busy, try later");
        rc = HV_EBUSY;
    } else if (memmem(json, len, "MARKER", 6) != NULL) {
        if (p->nrefused < MAX_BODIES)
            p->refused[p->nrefused++] = strndup(json, len);
        snprintf(err, errlen, "bad reading in there");
        rc = HV_EINVAL;
    } else if (p->naccepted < MAX_BODIES) {
        p->accepted[p->naccepted++] = strndup(json, len);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

static hv_http_t *peer_start(const char *token)
{
    hv_http_opts_t o = {
        .bind = "127.0.0.1",
        .port = 0,
        .token = token,
        .node_id = "peer",
        .role = "spoke",
        .ud = &ps,
        .buzz = peer_buzz,
        .push = peer_push,
    };
    hv_http_t *h = NULL;
    char err[256] = "";
    int rc = hv_http_start(&o, &h, err, sizeof err);
    if (rc != HV_OK)
        fail_msg("hv_http_start: %s", err);
    return h;
}

static int peer_int(const int *field)
{
    pthread_mutex_lock(&ps.mu);
    int v = *field;
    pthread_mutex_unlock(&ps.mu);
    return v;
}

/* ---- 1. a hub's ingest ----------------------------------------------------------- */

static void test_hub_ingest(void **state)
{
    (void)state;
    hv_log_reset();
    const char *d = subdir("ingest");
    char path[300], err[256] = "";
    snprintf(path, sizeof path, "%s/history.db", d);
    hv_store_t *store = NULL;
    if (hv_store_open(path, 0, &store, err, sizeof err) != HV_OK)
        fail_msg("store: %s", err);
    hv_config_t cfg = node_cfg("hub", "hub", d);
    hv_cluster_t *c = open_cluster(&cfg, store, 3000);
    long long t = (long long)wall_ms() - 60000;

    /* A good push. */
    char *good =
        fmt("{\"node_id\":\"pi4\",\"http_port\":8080,\"queued\":3,\"dropped\":1,\"push_ms\":12.5,"
            "\"readings\":[{\"sensor_id\":\"pi4:bme680\",\"plugin\":\"bme680\",\"timestamp\":%lld,"
            "\"data\":{\"temperature\":21.5,\"humidity\":40}},"
            "{\"sensor_id\":\"pi4:dht22\",\"plugin\":\"dht22\",\"timestamp\":%lld,"
            "\"data\":{\"temperature\":20}}],"
            "\"logs\":[{\"source\":\"bme680\",\"level\":2,\"text\":\"pi4 line one\"},"
            "{\"source\":\"host\",\"level\":3,\"text\":\"pi4 line two\"},"
            "{\"source\":\"a/b\",\"level\":2,\"text\":\"pi4 line three\"},"
            "{\"source\":\"x\",\"level\":2},"
            "{\"source\":\"x\",\"level\":9,\"text\":\"pi4 line four\"}]}",
            t, t);
    cJSON *r = push_ok(c, good, "192.168.1.20");
    assert_int_equal((int)num_of(r, "accepted"), 2);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "nodes")), 0);
    cJSON_Delete(r);

    /* Refused whole: HV_EINVAL with what is wrong, nothing merged. */
    char *long_id = fmt("{\"node_id\":\"%064d\",\"readings\":[]}", 1);
    char *bad_newer =
        fmt("{\"node_id\":\"pi4\",\"readings\":[{\"sensor_id\":\"pi4:bme680\",\"timestamp\":%lld,"
            "\"data\":{\"temperature\":99}},{\"sensor_id\":\"pi4:dht22\",\"data\":{\"t\":1}}]}",
            t + 5000);
    char *bad_data =
        fmt("{\"node_id\":\"pi9\",\"readings\":[{\"sensor_id\":\"pi9:a\",\"timestamp\":%lld,"
            "\"data\":{\"v\":1}},{\"sensor_id\":\"pi9:b\",\"timestamp\":%lld,\"data\":\"x\"}]}",
            t, t);
    const struct {
        const char *json, *msg;
    } bad[] = {
        {"{\"node_id\":", "malformed JSON"},
        {"{\"node_id\":\"pi9\",\"readings\":[]} x", "malformed JSON"},
        {"[1,2]", "expected {\"node_id\": string"},
        {"{\"readings\":[]}", "expected {\"node_id\": string"},
        {"{\"node_id\":5,\"readings\":[]}", "expected {\"node_id\": string"},
        {"{\"node_id\":\"pi 9\",\"readings\":[]}", "node_id: 1..63 characters"},
        {"{\"node_id\":\"\",\"readings\":[]}", "node_id: 1..63 characters"},
        {"{\"node_id\":\"pi9/x\",\"readings\":[]}", "node_id: 1..63 characters"},
        {"{\"node_id\":\"pi9:x\",\"readings\":[]}", "node_id: 1..63 characters"},
        {long_id, "node_id: 1..63 characters"},
        {"{\"node_id\":\"pi9\",\"readings\":{}}", "expected {\"node_id\": string"},
        {"{\"node_id\":\"pi9\"}", "expected {\"node_id\": string"},
        {"{\"node_id\":\"pi9\",\"readings\":[],\"logs\":{}}", "expected {\"node_id\": string"},
        {"{\"node_id\":\"pi9\",\"readings\":[{\"sensor_id\":\"pi9:a\",\"timestamp\":1,"
         "\"data\":{}},{\"sensor_id\":\"pi8:a\",\"timestamp\":1,\"data\":{}}]}",
         "readings[1].sensor_id: expected \"pi9:<sensor>\""},
        {"{\"node_id\":\"pi9\",\"readings\":[{\"sensor_id\":\"pi9x:a\"}]}",
         "readings[0].sensor_id: expected \"pi9:<sensor>\""},
        {"{\"node_id\":\"pi9\",\"readings\":[{\"sensor_id\":\"pi9\"}]}",
         "readings[0].sensor_id: expected \"pi9:<sensor>\""},
        {"{\"node_id\":\"pi9\",\"readings\":[{\"sensor_id\":5}]}",
         "readings[0].sensor_id: expected \"pi9:<sensor>\""},
        {"{\"node_id\":\"pi9\",\"readings\":[7]}", "readings[0].sensor_id"},
        {"{\"node_id\":\"pi9\",\"readings\":[{\"sensor_id\":\"pi9:a\",\"data\":{\"v\":1}}]}",
         "timestamp"},
        {bad_data, "[1].data"},
        {bad_newer, "[1].timestamp"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        push_fails(c, bad[i].json, HV_EINVAL, bad[i].msg);
    free(long_id);
    free(bad_newer);
    free(bad_data);

    /* The latest readings: pi4's two, nothing of pi9, the refused newer one
     * did not replace anything. */
    cJSON *rd = parse_free(hv_cluster_readings(c, "[]"));
    const cJSON *bme = NULL;
    assert_int_equal(count_readings(rd, "pi4:bme680", &bme), 1);
    assert_int_equal(count_readings(rd, "pi4:dht22", NULL), 1);
    assert_int_equal((long long)num_of(bme, "timestamp"), t);
    assert_int_equal(count_prefix(rd, "pi9:"), 0);
    assert_int_equal(cJSON_GetArraySize(rd), 2);
    cJSON_Delete(rd);

    /* A newer reading replaces; the replayed older push does not. */
    char *newer = fmt(
        "{\"node_id\":\"pi4\",\"readings\":[{\"sensor_id\":\"pi4:bme680\",\"plugin\":\"bme680\","
        "\"timestamp\":%lld,\"data\":{\"temperature\":22.5,\"humidity\":41}}]}",
        t + 1000);
    cJSON_Delete(push_ok(c, newer, "192.168.1.20"));
    cJSON_Delete(push_ok(c, good, "192.168.1.20")); /* a replay */
    rd = parse_free(hv_cluster_readings(c, "[{\"sensor_id\":\"hub:x\",\"timestamp\":1,"
                                           "\"data\":{}}]"));
    assert_int_equal(cJSON_GetArraySize(rd), 3); /* the local one comes first */
    assert_string_equal(str_of(cJSON_GetArrayItem(rd, 0), "sensor_id"), "hub:x");
    assert_int_equal(count_readings(rd, "pi4:bme680", &bme), 1);
    assert_int_equal((long long)num_of(bme, "timestamp"), t + 1000);
    assert_true(num_of(cJSON_GetObjectItemCaseSensitive(bme, "data"), "temperature") == 22.5);
    assert_int_equal(count_readings(rd, "pi4:dht22", NULL), 1);
    cJSON_Delete(rd);

    /* Node list: this node first; urls from peer + http_port (IPv4, IPv6),
     * or "url" when given (http/https only). */
    cJSON_Delete(push_ok(c, "{\"node_id\":\"pi6\",\"http_port\":9000,\"readings\":[]}", "::1"));
    r = push_ok(c,
                "{\"node_id\":\"pi7\",\"url\":\"http://pi7.local:3000/\",\"http_port\":1,"
                "\"readings\":[],\"queued\":7}",
                "10.0.0.7");
    const cJSON *told = cJSON_GetObjectItemCaseSensitive(r, "nodes");
    assert_int_equal(cJSON_GetArraySize(told), 2); /* the others with an address */
    assert_string_equal(str_of(told, "pi4"), "http://192.168.1.20:8080");
    assert_string_equal(str_of(told, "pi6"), "http://[::1]:9000");
    assert_null(cJSON_GetObjectItemCaseSensitive(told, "pi7"));
    cJSON_Delete(r);
    cJSON_Delete(
        push_ok(c, "{\"node_id\":\"pi8\",\"url\":\"ftp://pi8\",\"http_port\":7000,\"readings\":[]}",
                "10.0.0.8"));
    cJSON_Delete(push_ok(c, "{\"node_id\":\"pi5\",\"readings\":[]}", "10.0.0.5"));

    cJSON *nodes = nodes_of(c);
    assert_int_equal(cJSON_GetArraySize(nodes), 6);
    const cJSON *self = cJSON_GetArrayItem(nodes, 0);
    assert_string_equal(str_of(self, "node"), "hub");
    assert_string_equal(str_of(self, "role"), "hub");
    assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(self, "latency_ms")));
    const cJSON *pi4 = find_node(nodes, "pi4");
    assert_non_null(pi4);
    assert_string_equal(str_of(pi4, "role"), "spoke");
    /* the later pushes said no port: the address stays */
    assert_string_equal(str_of(pi4, "url"), "http://192.168.1.20:8080");
    assert_true(num_of(pi4, "push_ms") == 12.5); /* the replay said so last */
    assert_int_equal((int)num_of(pi4, "queued"), 3);
    assert_int_equal((int)num_of(pi4, "dropped"), 1);
    assert_true(num_of(pi4, "last_seen_ms") >= (double)(t + 60000 - 5000));
    assert_true(num_of(pi4, "last_seen_ms") <= (double)wall_ms());
    const cJSON *pi6 = find_node(nodes, "pi6");
    assert_non_null(pi6);
    assert_string_equal(str_of(pi6, "url"), "http://[::1]:9000");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(pi6, "push_ms")));
    assert_int_equal((int)num_of(pi6, "queued"), 0);
    assert_string_equal(str_of(find_node(nodes, "pi7"), "url"), "http://pi7.local:3000");
    assert_int_equal((int)num_of(find_node(nodes, "pi7"), "queued"), 7);
    assert_string_equal(str_of(find_node(nodes, "pi8"), "url"), "http://10.0.0.8:7000");
    assert_string_equal(str_of(find_node(nodes, "pi5"), "url"), "");
    assert_null(find_node(nodes, "pi9"));
    cJSON_Delete(nodes);

    /* The history: the journal is applied in the background, in order, so
     * once a later sentinel is there, everything before it is too. */
    char *sentinel = fmt("{\"node_id\":\"pi4\",\"readings\":[{\"sensor_id\":\"pi4:sentinel\","
                         "\"timestamp\":%lld,\"data\":{\"v\":1}}]}",
                         t + 2000);
    cJSON_Delete(push_ok(c, sentinel, "192.168.1.20"));
    WAIT_FOR(history_points(store, "pi4:sentinel", "v") == 1, "the sentinel in the history");
    cJSON *h = history(store, "pi4:bme680", "temperature");
    const cJSON *ht = cJSON_GetObjectItemCaseSensitive(h, "t");
    const cJSON *hv = cJSON_GetObjectItemCaseSensitive(h, "v");
    assert_int_equal(cJSON_GetArraySize(ht), 2); /* the replay stored nothing twice */
    assert_int_equal((long long)cJSON_GetArrayItem(ht, 0)->valuedouble, t);
    assert_int_equal((long long)cJSON_GetArrayItem(ht, 1)->valuedouble, t + 1000);
    assert_true(cJSON_GetArrayItem(hv, 0)->valuedouble == 21.5);
    assert_true(cJSON_GetArrayItem(hv, 1)->valuedouble == 22.5);
    cJSON_Delete(h);
    assert_int_equal(history_points(store, "pi4:bme680", "humidity"), 2);
    assert_int_equal(history_points(store, "pi4:dht22", "temperature"), 1);
    assert_int_equal(history_points(store, "pi4:bme680", "temperature"), 2);
    char *series = hv_store_series_json(store);
    assert_non_null(series);
    assert_null(strstr(series, "pi9")); /* nothing of a refused push */
    free(series);

    /* Log lines: under "pi4/<source>", twice (the replay brought them
     * again), never among this node's own lines. */
    hv_log_entry_t *e = NULL;
    assert_int_equal(log_lines("pi4/", "pi4 line one", &e), 2);
    assert_string_equal(e->source, "pi4/bme680");
    assert_int_equal(e->level, HV_LOG_INFO);
    assert_int_equal(log_lines("pi4/", "pi4 line two", &e), 2);
    assert_string_equal(e->source, "pi4/host");
    assert_int_equal(e->level, HV_LOG_WARN);
    assert_int_equal(log_lines("pi4/", "pi4 line three", &e), 2);
    assert_string_equal(e->source, "pi4/host"); /* a '/' in a source is not taken */
    assert_int_equal(log_lines("pi4/", "pi4 line four", &e), 2);
    assert_string_equal(e->source, "pi4/x");
    assert_int_equal(e->level, HV_LOG_INFO);          /* a level out of range */
    assert_int_equal(log_lines("pi4/", "", NULL), 8); /* the line without text is skipped */
    assert_int_equal(log_lines("pi4/bme680", "pi4 line", NULL), 2);
    assert_int_equal(log_lines(NULL, "pi4 line", NULL), 0);
    static hv_log_entry_t local[200];
    size_t nlocal = hv_log_read(NULL, 0, local, 200);
    for (size_t i = 0; i < nlocal; i++)
        assert_null(strchr(local[i].source, '/'));

    hv_cluster_close(c);
    hv_store_close(store);
    free(good);
    free(newer);
    free(sentinel);

    /* A spoke takes no pushes. */
    hv_config_t scfg = node_cfg("spoke", "sp0", subdir("ingest-spoke"));
    snprintf(scfg.hub_url, sizeof scfg.hub_url, "http://127.0.0.1:%d", closed_port());
    hv_cluster_t *s = open_cluster(&scfg, NULL, 0);
    push_fails(s, "{\"node_id\":\"pi4\",\"readings\":[]}", HV_EPERM, "spoke");
    hv_cluster_close(s);
}

/* ---- 2. more spokes than a hub keeps --------------------------------------------- */

static cJSON *push_id(hv_cluster_t *c, const char *id)
{
    char body[160];
    snprintf(body, sizeof body, "{\"node_id\":\"%s\",\"http_port\":8000,\"readings\":[]}", id);
    cJSON *r = push_ok(c, body, "127.0.0.1");
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "nodes")) <=
                CLUSTER_MAX_PEERS);
    return r;
}

/* Checks the node list holds exactly the ids n<lo>..n<hi-1> plus extra
 * (NULL: none), each once. */
static void expect_nodes(hv_cluster_t *c, int lo, int hi, const char *extra)
{
    cJSON *nodes = nodes_of(c);
    size_t want = (size_t)(hi - lo) + (extra ? 1 : 0);
    assert_int_equal(cJSON_GetArraySize(nodes), 1 + want);
    assert_int_equal(want, HV_CLUSTER_MAX_NODES);
    unsigned char *seen = calloc((size_t)hi + 1, 1);
    assert_non_null(seen);
    int extra_seen = 0;
    const cJSON *n;
    size_t i = 0;
    cJSON_ArrayForEach(n, nodes)
    {
        if (i++ == 0)
            continue; /* this node */
        const char *id = str_of(n, "node");
        if (extra && strcmp(id, extra) == 0) {
            assert_int_equal(extra_seen++, 0);
            continue;
        }
        char *end = NULL;
        long k = id[0] == 'n' ? strtol(id + 1, &end, 10) : -1;
        if (k < lo || k >= hi || *end != '\0')
            fail_msg("node %s should have been forgotten", id);
        if (seen[k]++)
            fail_msg("node %s listed twice", id);
    }
    free(seen);
    cJSON_Delete(nodes);
}

static void test_many_nodes(void **state)
{
    (void)state;
    hv_log_reset();
    hv_config_t cfg = node_cfg("hub", "hub", NULL);
    hv_cluster_t *c = open_cluster(&cfg, NULL, 3000);
    const int total = HV_CLUSTER_MAX_NODES + 10;
    char id[32];
    for (int i = 0; i < total; i++) {
        snprintf(id, sizeof id, "n%d", i);
        cJSON *r = push_id(c, id);
        if (i >= CLUSTER_MAX_PEERS + 1) /* the reply names the 32 latest others */
            assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "nodes")), 32);
        cJSON_Delete(r);
        if (i == HV_CLUSTER_MAX_NODES - 1)
            nap_ms(3); /* a later wall clock ms for the ones that do not fit */
    }
    /* The ten seen first are forgotten. */
    expect_nodes(c, 10, total, NULL);
    assert_int_equal(log_lines("host", "forgetting n", NULL), 10);
    assert_int_equal(log_lines("host", "forgetting n0", NULL), 1);
    assert_int_equal(log_lines("host", "forgetting n9", NULL), 1);

    /* Every one left is still found: pushing again creates no entry (it
     * would push another one out). */
    nap_ms(3);
    for (int i = 10; i < total; i++) {
        snprintf(id, sizeof id, "n%d", i);
        cJSON_Delete(push_id(c, id));
    }
    expect_nodes(c, 10, total, NULL);
    assert_int_equal(log_lines("host", "forgetting n", NULL), 10);

    /* A new one now pushes out the longest unseen: n10. */
    nap_ms(3);
    cJSON_Delete(push_id(c, "fresh"));
    expect_nodes(c, 11, total, "fresh");
    assert_int_equal(log_lines("host", "forgetting n10", NULL), 1);
    cJSON_Delete(push_id(c, "n11"));
    cJSON_Delete(push_id(c, "fresh"));
    expect_nodes(c, 11, total, "fresh");

    /* Their latest readings are bounded in the same way. */
    cJSON_Delete(push_ok(c,
                         "{\"node_id\":\"fresh\",\"readings\":[{\"sensor_id\":\"fresh:a\","
                         "\"timestamp\":5,\"data\":{\"v\":1}}]}",
                         "127.0.0.1"));
    cJSON *rd = parse_free(hv_cluster_readings(c, "[]"));
    assert_int_equal(cJSON_GetArraySize(rd), 1);
    cJSON_Delete(rd);
    hv_cluster_close(c);
}

/* ---- 3. the buzzer ---------------------------------------------------------------- */

typedef struct {
    int calls;
    unsigned count, on_ms, off_ms;
    int rc;
} local_buzz_t;

static int local_buzz(void *ud, unsigned count, unsigned on_ms, unsigned off_ms, char *err,
                      size_t errlen)
{
    local_buzz_t *l = ud;
    l->calls++;
    l->count = count;
    l->on_ms = on_ms;
    l->off_ms = off_ms;
    if (l->rc != HV_OK)
        snprintf(err, errlen, "no buzzer wired");
    return l->rc;
}

static int buzz(hv_cluster_t *c, const char *node, unsigned count, local_buzz_t *l, char *err,
                size_t errlen)
{
    err[0] = '\0';
    return hv_cluster_buzz(c, node, count, 200, 100, local_buzz, l, err, errlen);
}

static void expect_forwarded(int calls, unsigned count)
{
    pthread_mutex_lock(&ps.mu);
    int got_calls = ps.buzz_calls, named = ps.buzz_named;
    unsigned got_count = ps.count, on_ms = ps.on_ms, off_ms = ps.off_ms;
    pthread_mutex_unlock(&ps.mu);
    assert_int_equal(got_calls, calls);
    assert_int_equal(got_count, count);
    assert_int_equal(on_ms, 200);
    assert_int_equal(off_ms, 100);
    assert_int_equal(named, 0); /* the spoke rings its own */
}

static void test_buzzer(void **state)
{
    (void)state;
    hv_log_reset();
    peer_reset();
    hv_http_t *spoke = peer_start("s3cret");
    int port = hv_http_port(spoke);
    hv_config_t cfg = node_cfg("hub", "hub", NULL);
    snprintf(cfg.http_token, sizeof cfg.http_token, "s3cret");
    hv_cluster_t *c = open_cluster(&cfg, NULL, 3000);
    local_buzz_t l = {0};
    char err[512];

    /* Here: no node named and no spoke_buzzer_url, or this node named. */
    assert_int_equal(buzz(c, NULL, 3, &l, err, sizeof err), HV_OK);
    assert_int_equal(l.calls, 1);
    assert_int_equal(l.count, 3);
    assert_int_equal(l.on_ms, 200);
    assert_int_equal(l.off_ms, 100);
    assert_int_equal(buzz(c, "hub", 4, &l, err, sizeof err), HV_OK);
    assert_int_equal(l.calls, 2);
    assert_int_equal(l.count, 4);
    l.rc = HV_EIO;
    assert_int_equal(buzz(c, NULL, 1, &l, err, sizeof err), HV_EIO);
    assert_string_equal(err, "no buzzer wired");
    l.rc = HV_OK;

    /* Unknown, or known without an address. */
    assert_int_equal(buzz(c, "ghost", 1, &l, err, sizeof err), HV_ENOENT);
    expect_msg(err, "'ghost'");
    cJSON_Delete(push_ok(c, "{\"node_id\":\"quiet\",\"readings\":[]}", "10.0.0.3"));
    assert_int_equal(buzz(c, "quiet", 1, &l, err, sizeof err), HV_ENOENT);
    expect_msg(err, "'quiet'");
    assert_int_equal(l.calls, 3);

    /* A known spoke: forwarded, with the token (the spoke checks it). */
    char *body = fmt("{\"node_id\":\"pi4\",\"url\":\"http://127.0.0.1:%d\",\"readings\":[]}", port);
    cJSON_Delete(push_ok(c, body, "127.0.0.1"));
    free(body);
    assert_int_equal(buzz(c, "pi4", 2, &l, err, sizeof err), HV_OK);
    expect_forwarded(1, 2);
    assert_int_equal(l.calls, 3);
    assert_int_equal(log_lines("host", "forwarded to pi4", NULL), 1);

    /* The spoke's error comes back. */
    pthread_mutex_lock(&ps.mu);
    ps.buzz_rc = HV_EIO;
    ps.buzz_err = "relay stuck";
    pthread_mutex_unlock(&ps.mu);
    assert_int_equal(buzz(c, "pi4", 5, &l, err, sizeof err), HV_EIO);
    expect_msg(err, "pi4");
    expect_msg(err, "HTTP 502");
    expect_msg(err, "relay stuck");
    expect_forwarded(2, 5);
    pthread_mutex_lock(&ps.mu);
    ps.buzz_rc = HV_OK;
    pthread_mutex_unlock(&ps.mu);

    /* A hub with another token is refused by the spoke (so the right one
     * was sent above). */
    hv_config_t wcfg = node_cfg("hub", "hub2", NULL);
    snprintf(wcfg.http_token, sizeof wcfg.http_token, "wrong");
    hv_cluster_t *w = open_cluster(&wcfg, NULL, 3000);
    body = fmt("{\"node_id\":\"pi4\",\"url\":\"http://127.0.0.1:%d/\",\"readings\":[]}", port);
    cJSON_Delete(push_ok(w, body, "127.0.0.1"));
    free(body);
    assert_int_equal(buzz(w, "pi4", 1, &l, err, sizeof err), HV_EIO);
    expect_msg(err, "HTTP 401");
    expect_forwarded(2, 5); /* never reached the callback */
    hv_cluster_close(w);

    /* The spoke unreachable. */
    int dead = closed_port();
    body = fmt("{\"node_id\":\"pi5\",\"url\":\"http://127.0.0.1:%d\",\"readings\":[]}", dead);
    cJSON_Delete(push_ok(c, body, "127.0.0.1"));
    free(body);
    int64_t t0 = mono_ms();
    assert_int_equal(buzz(c, "pi5", 1, &l, err, sizeof err), HV_EIO);
    assert_true(mono_ms() - t0 < 6000);
    assert_true(strncmp(err, "pi5: ", 5) == 0);
    char *where = fmt("127.0.0.1:%d", dead);
    expect_msg(err, where);
    free(where);
    assert_int_equal(l.calls, 3);
    hv_cluster_close(c);

    /* No node named, spoke_buzzer_url set: forwarded there, in each form;
     * this node named: still here. */
    const char *forms[] = {"", "/", "/api/buzzer", "/api/buzzer/"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        hv_config_t bcfg = node_cfg("standalone", "solo", NULL);
        snprintf(bcfg.http_token, sizeof bcfg.http_token, "s3cret");
        snprintf(bcfg.spoke_buzzer_url, sizeof bcfg.spoke_buzzer_url, "http://127.0.0.1:%d%s", port,
                 forms[i]);
        hv_cluster_t *b = open_cluster(&bcfg, NULL, 3000);
        assert_int_equal(buzz(b, NULL, 6, &l, err, sizeof err), HV_OK);
        expect_forwarded(3 + (int)i, 6);
        assert_int_equal(buzz(b, "solo", 7, &l, err, sizeof err), HV_OK);
        assert_int_equal(l.calls, 4 + (int)i);
        assert_int_equal(l.count, 7);
        hv_cluster_close(b);
    }
    /* ...and its failure is reported. */
    hv_config_t bcfg = node_cfg("standalone", "solo", NULL);
    snprintf(bcfg.spoke_buzzer_url, sizeof bcfg.spoke_buzzer_url, "http://127.0.0.1:%d", dead);
    hv_cluster_t *b = open_cluster(&bcfg, NULL, 3000);
    assert_int_equal(buzz(b, NULL, 1, &l, err, sizeof err), HV_EIO);
    expect_msg(err, "127.0.0.1");
    hv_cluster_close(b);
    assert_int_equal(l.calls, 7);
    hv_http_stop(spoke);
    peer_reset();
}

/* ---- 4. a spoke's sender ---------------------------------------------------------- */

/* The "sp1:t" readings' seq values the peer accepted, in order. */
static size_t accepted_seqs(int *out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&ps.mu);
    for (size_t b = 0; b < ps.naccepted; b++) {
        cJSON *body = cJSON_Parse(ps.accepted[b]);
        const cJSON *r;
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(body, "readings"))
        {
            const cJSON *sid = cJSON_GetObjectItemCaseSensitive(r, "sensor_id");
            const cJSON *seq = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(r, "data"), "seq");
            if (cJSON_IsString(sid) && strcmp(sid->valuestring, "sp1:t") == 0 &&
                cJSON_IsNumber(seq) && n < max)
                out[n++] = seq->valueint;
        }
        cJSON_Delete(body);
    }
    pthread_mutex_unlock(&ps.mu);
    return n;
}

/* Have exactly these seqs been accepted, in this order? */
static int accepted_are(const int *want, size_t nwant)
{
    int got[64];
    size_t n = accepted_seqs(got, 64);
    return n == nwant && memcmp(got, want, n * sizeof *got) == 0;
}

static size_t depth(hv_cluster_t *c)
{
    return hv_outbox_depth(c->outbox);
}

/* One cycle of a reading "sp1:t" with data.seq; returns the network
 * reading's data (parsed: free with cJSON_Delete of the returned root). */
static cJSON *cycle(hv_cluster_t *c, int seq, int marker, const cJSON **ret_net)
{
    char *in = fmt("[{\"sensor_id\":\"sp1:t\",\"plugin\":\"test\",\"timestamp\":%lld,"
                   "\"data\":{\"seq\":%d%s}}]",
                   (long long)wall_ms(), seq, marker ? ",\"note\":\"MARKER\"" : "");
    cJSON *out = parse_free(hv_cluster_cycle(c, in));
    free(in);
    assert_int_equal(cJSON_GetArraySize(out), 2);
    const cJSON *net = cJSON_GetArrayItem(out, 1);
    assert_string_equal(str_of(net, "sensor_id"), "sp1:network");
    assert_string_equal(str_of(net, "plugin"), "cluster");
    *ret_net = cJSON_GetObjectItemCaseSensitive(net, "data");
    assert_string_equal(str_of(*ret_net, "role"), "spoke");
    return out;
}

/* A cycle whose network reading says queued == want. */
static void cycle_queued(hv_cluster_t *c, int seq, int marker, int want)
{
    const cJSON *net;
    cJSON *out = cycle(c, seq, marker, &net);
    if ((int)num_of(net, "queued") != want)
        fail_msg("cycle %d: queued %d, want %d", seq, (int)num_of(net, "queued"), want);
    cJSON_Delete(out);
}

static hv_cluster_t *open_spoke(const char *data_dir, const char *token, int port)
{
    hv_config_t cfg = node_cfg("spoke", "sp1", data_dir);
    snprintf(cfg.http_token, sizeof cfg.http_token, "%s", token);
    /* the seeds' form of the hub's address */
    snprintf(cfg.hub_url, sizeof cfg.hub_url, "http://127.0.0.1:%d/push/", port);
    return open_cluster(&cfg, NULL, 8123);
}

static void set_busy(int busy)
{
    pthread_mutex_lock(&ps.mu);
    ps.busy = busy;
    pthread_mutex_unlock(&ps.mu);
}

/* Every body the peer accepted (parsed, as an array; asserts outside the
 * lock, so a failure cannot leave the server threads stuck). */
static cJSON *accepted_bodies(void)
{
    cJSON *all = cJSON_CreateArray();
    pthread_mutex_lock(&ps.mu);
    for (size_t b = 0; b < ps.naccepted; b++)
        cJSON_AddItemToArray(all, cJSON_Parse(ps.accepted[b]));
    pthread_mutex_unlock(&ps.mu);
    return all;
}

/* Checks the shape of every accepted push; returns how many times the
 * test's log line was sent. */
static int check_bodies(void)
{
    cJSON *all = accepted_bodies();
    int lines = 0;
    const cJSON *body;
    cJSON_ArrayForEach(body, all)
    {
        assert_true(cJSON_IsObject(body));
        assert_string_equal(str_of(body, "node_id"), "sp1");
        assert_int_equal((int)num_of(body, "http_port"), 8123);
        assert_null(cJSON_GetObjectItemCaseSensitive(body, "url"));
        assert_true(num_of(body, "queued") >= 0);
        assert_int_equal((int)num_of(body, "dropped"), 0);
        const cJSON *rs = cJSON_GetObjectItemCaseSensitive(body, "readings");
        /* pairs: the cycle's reading, then the spoke's network reading */
        assert_true(cJSON_GetArraySize(rs) > 0 && cJSON_GetArraySize(rs) % 2 == 0);
        for (int k = 0; k < cJSON_GetArraySize(rs); k++)
            assert_string_equal(str_of(cJSON_GetArrayItem(rs, k), "sensor_id"),
                                k % 2 ? "sp1:network" : "sp1:t");
        const cJSON *l;
        cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(body, "logs"))
        {
            assert_null(strchr(str_of(l, "source"), '/')); /* its own lines only */
            if (strcmp(str_of(l, "text"), "spoke test line") == 0) {
                assert_string_equal(str_of(l, "source"), "test");
                assert_int_equal((int)num_of(l, "level"), HV_LOG_INFO);
                lines++;
            }
        }
    }
    cJSON_Delete(all);
    return lines;
}

static void test_spoke(void **state)
{
    (void)state;
    peer_reset();
    hv_http_t *hub = peer_start("tok");
    int port = hv_http_port(hub);
    const char *d = subdir("spoke");
    char data_dir[300];
    snprintf(data_dir, sizeof data_dir, "%s", d);
    hv_log_reset();
    hv_log("test", HV_LOG_INFO, "spoke test line");
    hv_cluster_t *c = open_spoke(data_dir, "tok", port);

    /* Delivered in order, each with its network reading, the log lines. */
    for (int i = 0; i < 3; i++) {
        const cJSON *net;
        cJSON_Delete(cycle(c, i, 0, &net));
    }
    WAIT_FOR(accepted_are((int[]){0, 1, 2}, 3), "cycles 0..2 at the hub");
    WAIT_FOR(depth(c) == 0, "the queue to drain");
    pthread_mutex_lock(&ps.mu);
    char peer[64];
    snprintf(peer, sizeof peer, "%s", ps.peer);
    pthread_mutex_unlock(&ps.mu);
    assert_string_equal(peer, "127.0.0.1");
    assert_int_equal(check_bodies(), 1); /* the log line, sent once */
    cJSON *rd = parse_free(hv_cluster_readings(c, "[]"));
    assert_int_equal(count_readings(rd, "sp1:network", NULL), 1);
    cJSON_Delete(rd);

    /* The hub busy (503): the cycles stay queued, in order. */
    set_busy(1);
    cycle_queued(c, 3, 0, 0);
    cycle_queued(c, 4, 0, 1);
    WAIT_FOR(log_lines("host", "hub unreachable", NULL) == 1, "the outage logged");
    assert_true(peer_int(&ps.busy_answers) >= 1);
    {
        const cJSON *net;
        cJSON *out = cycle(c, 5, 0, &net);
        assert_int_equal((int)num_of(net, "queued"), 2);
        assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(net, "hub_reachable")));
        cJSON_Delete(out);
    }
    assert_true(accepted_are((int[]){0, 1, 2}, 3));
    set_busy(0);
    WAIT_FOR(accepted_are((int[]){0, 1, 2, 3, 4, 5}, 6), "cycles 3..5 after the outage");
    WAIT_FOR(depth(c) == 0, "the queue to drain");
    WAIT_FOR(log_lines("host", "hub back", NULL) == 1, "the recovery logged");
    assert_int_equal(log_lines("host", "hub unreachable", NULL), 1); /* once per outage */

    /* A body the hub refuses for good (400): the batch is split and the
     * single culprit cycle dropped, the others delivered in order. */
    set_busy(1);
    int busy0 = peer_int(&ps.busy_answers);
    cycle_queued(c, 6, 0, 0);
    cycle_queued(c, 7, 1, 1);
    cycle_queued(c, 8, 0, 2);
    WAIT_FOR(peer_int(&ps.busy_answers) > busy0, "a refused attempt");
    set_busy(0);
    WAIT_FOR(accepted_are((int[]){0, 1, 2, 3, 4, 5, 6, 8}, 8), "cycles 6 and 8, not 7");
    WAIT_FOR(depth(c) == 0, "the queue to drain");
    WAIT_FOR(log_lines("host", "refused a queued cycle for good", NULL) == 1, "the drop logged");
    /* the hub answered all along: a 400 is no outage */
    assert_int_equal(log_lines("host", "hub unreachable", NULL), 2); /* the two 503 spells */
    assert_int_equal(
        log_lines("host", "HTTP 400: {\"error\":\"bad reading in there\"}); queueing", NULL), 0);
    /* Refused: the batch 6..8, then (6 delivered alone) the batch 7..8,
     * then 7 alone, dropped. */
    cJSON *refused = cJSON_CreateArray();
    pthread_mutex_lock(&ps.mu);
    for (size_t i = 0; i < ps.nrefused; i++)
        cJSON_AddItemToArray(refused, cJSON_Parse(ps.refused[i]));
    pthread_mutex_unlock(&ps.mu);
    assert_int_equal(cJSON_GetArraySize(refused), 3);
    const int sizes[] = {6, 4, 2};
    for (int i = 0; i < 3; i++) {
        const cJSON *rs =
            cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(refused, i), "readings");
        assert_int_equal(cJSON_GetArraySize(rs), sizes[i]);
        const cJSON *head = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(rs, 0), "data");
        assert_int_equal((int)num_of(head, "seq"), i == 0 ? 6 : 7);
    }
    cJSON_Delete(refused);
    {
        const cJSON *net;
        cJSON *out = cycle(c, 9, 0, &net);
        assert_int_equal((int)num_of(net, "queued"), 0);
        assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(net, "hub_reachable")));
        assert_true(num_of(net, "push_ms") >= 0);
        cJSON_Delete(out);
    }
    WAIT_FOR(accepted_are((int[]){0, 1, 2, 3, 4, 5, 6, 8, 9}, 9), "cycle 9");
    WAIT_FOR(depth(c) == 0, "the queue to drain");
    assert_int_equal(check_bodies(), 1);
    hv_cluster_close(c);

    /* A wrong token (401): everything stays queued, across a restart too,
     * and goes once the token is right. */
    hv_log_reset();
    c = open_spoke(data_dir, "not-the-token", port);
    cycle_queued(c, 10, 0, 0);
    cycle_queued(c, 11, 0, 1);
    WAIT_FOR(log_lines("host", "HTTP 401 (the hub refused this node's [http] token)", NULL) == 1,
             "the 401 logged");
    assert_int_equal(depth(c), 2);
    hv_cluster_close(c);
    assert_true(accepted_are((int[]){0, 1, 2, 3, 4, 5, 6, 8, 9}, 9));
    hv_log_reset();
    c = open_spoke(data_dir, "tok", port);
    assert_int_equal(log_lines("host", "2 cycles queued from before", NULL), 1);
    WAIT_FOR(accepted_are((int[]){0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11}, 11), "cycles 10 and 11");
    WAIT_FOR(depth(c) == 0, "the queue to drain");
    hv_cluster_close(c);
    hv_http_stop(hub);
    peer_reset();
}

/* ---- 5. node ids at their limit, and their log lines ------------------------------ */

static void test_long_ids(void **state)
{
    (void)state;
    hv_log_reset();
    hv_config_t cfg = node_cfg("hub", "hub", NULL);
    hv_cluster_t *c = open_cluster(&cfg, NULL, 3000);
    char id63[64], id50[51], id40[41];
    memset(id63, 'a', 63), id63[63] = '\0';
    memset(id50, 'b', 50), id50[50] = '\0';
    memset(id40, 'c', 40), id40[40] = '\0';
    char *body = fmt("{\"node_id\":\"%s\",\"readings\":[{\"sensor_id\":\"%s:x\",\"timestamp\":1,"
                     "\"data\":{\"v\":1}}],\"logs\":[{\"source\":\"bme680\",\"text\":\"id63 "
                     "line\"}]}",
                     id63, id63);
    cJSON_Delete(push_ok(c, body, "10.0.0.1"));
    free(body);
    cJSON *nodes = nodes_of(c);
    assert_non_null(find_node(nodes, id63));
    cJSON_Delete(nodes);
    body = fmt("{\"node_id\":\"%s\",\"readings\":[],\"logs\":[{\"source\":\"bme680\","
               "\"text\":\"id50 line\"}]}",
               id50);
    cJSON_Delete(push_ok(c, body, "10.0.0.1"));
    free(body);
    /* A remote line stays remote (a '/' in its source), however long the
     * node id: not among this node's lines. */
    assert_int_equal(log_lines(NULL, "id63 line", NULL), 0);
    assert_int_equal(log_lines(NULL, "id50 line", NULL), 0);
    /* ...and found under its node, even at the longest id. */
    char under[80];
    snprintf(under, sizeof under, "%s/", id63);
    assert_int_equal(log_lines(under, "id63 line", NULL), 1);
    snprintf(under, sizeof under, "%s/bme680", id50);
    assert_int_equal(log_lines(under, "id50 line", NULL), 1);

    /* Many lines of a long "<node>/<source>" share one source: none spill
     * into this node's lines, all are found under the node. */
    char *logs = calloc(1, 100 * 80 + 1);
    assert_non_null(logs);
    for (int i = 0; i < 100; i++)
        snprintf(logs + strlen(logs), 80,
                 "%s{\"source\":\"a-rather-long-plugin-name\","
                 "\"text\":\"id40 line %d\"}",
                 i ? "," : "", i);
    body = fmt("{\"node_id\":\"%s\",\"readings\":[],\"logs\":[%s]}", id40, logs);
    free(logs);
    cJSON_Delete(push_ok(c, body, "10.0.0.1"));
    free(body);
    hv_log("host", HV_LOG_INFO, "a host line after them");
    assert_int_equal(log_lines(NULL, "id40 line", NULL), 0);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s/", id40);
    assert_int_equal(log_lines(prefix, "id40 line", NULL), 100);
    assert_int_equal(log_lines("host", "a host line after them", NULL), 1);
    hv_cluster_close(c);
    hv_log_reset();
}

/* ---- setup ---------------------------------------------------------------------- */

#include "../tmpdir.h"

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hub_ingest), cmocka_unit_test(test_many_nodes),
        cmocka_unit_test(test_buzzer),     cmocka_unit_test(test_spoke),
        cmocka_unit_test(test_long_ids),
    };
    return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}

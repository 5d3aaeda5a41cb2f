/*
 * The reading history store: raw points and their JSON, de-duplication,
 * generic readings and nested objects, buckets with exact min/max/mean,
 * maintenance (folding, retention, replays), durability across a restart
 * and a crash, strict input checking, the caps, and the insert rate.
 * Databases live in a mkdtemp directory; some checks look at the tables
 * directly through their own SQLite connection.
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "hv_store.h"

static char dir[] = "/tmp/hv_store_XXXXXX";
static int ndb;

/* A fresh database path in the test directory. */
static const char *db_path(void)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/h%d.db", dir, ++ndb);
    return path;
}

static hv_store_t *open_store(const char *path, uint32_t raw_days)
{
    hv_store_t *s = NULL;
    char err[256];
    int rc = hv_store_open(path, raw_days, &s, err, sizeof err);
    if (rc != HV_OK)
        fail_msg("open %s: %s", path, err);
    return s;
}

static size_t add(hv_store_t *s, const char *json)
{
    size_t added = 99;
    char err[256];
    int rc = hv_store_add_json(s, json, strlen(json), &added, err, sizeof err);
    if (rc != HV_OK)
        fail_msg("add: %s: %s", hv_err_name(rc), err);
    return added;
}

static char *history(hv_store_t *s, const char *sensor, const char *field, int64_t from, int64_t to,
                     int64_t step)
{
    char *json = NULL, err[256];
    int rc = hv_store_history_json(s, sensor, field, from, to, step, &json, err, sizeof err);
    if (rc != HV_OK)
        fail_msg("history: %s: %s", hv_err_name(rc), err);
    return json;
}

static void expect_history(hv_store_t *s, const char *sensor, const char *field, int64_t from,
                           int64_t to, int64_t step, const char *expected)
{
    char *json = history(s, sensor, field, from, to, step);
    assert_string_equal(json, expected);
    free(json);
}

/* ---- a growable text buffer for generated batches --------------------- */

typedef struct {
    char *p;
    size_t n, cap;
} text_t;

static void tprintf(text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tprintf(text_t *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(t->p ? t->p + t->n : NULL, t->p ? t->cap - t->n : 0, fmt, ap);
        va_end(ap);
        assert_true(k >= 0);
        if (t->p != NULL && (size_t)k < t->cap - t->n) {
            t->n += (size_t)k;
            return;
        }
        t->cap = t->cap ? 2 * t->cap + (size_t)k : 4096 + (size_t)k;
        t->p = realloc(t->p, t->cap);
        assert_non_null(t->p);
    }
}

/* n readings of one field: ts t0 + i*dt, value v0 + i*dv. */
static char *series_batch(const char *sensor, const char *field, int64_t t0, int64_t dt, int n,
                          double v0, double dv)
{
    text_t t = {0};
    tprintf(&t, "[");
    for (int i = 0; i < n; i++)
        tprintf(&t,
                "%s{\"sensor_id\":\"%s\",\"plugin\":\"p\",\"timestamp\":%" PRId64 ","
                "\"data\":{\"%s\":%.17g}}",
                i ? "," : "", sensor, t0 + i * dt, field, v0 + i * dv);
    tprintf(&t, "]");
    return t.p;
}

static int64_t count_rows(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A multiple of 5 minutes (and of 1 minute): 2023-11-14 22:15 UTC. */
#define T0 INT64_C(1700000100000)
#define MIN INT64_C(60000)
#define DAY (1440 * MIN)

/* ---- tests ------------------------------------------------------------- */

static void test_add_and_query_raw(void **state)
{
    (void)state;
    const char *path = db_path();
    hv_store_t *s = open_store(path, 0);
    assert_int_equal(
        add(s, "[{\"sensor_id\":\"n1:dht22\",\"plugin\":\"dht22\",\"timestamp\":1700000100000,"
               "\"data\":{\"sensor-id\":\"dht22\",\"temperature\":21.5,\"humidity\":40}},"
               "{\"sensor_id\":\"n1:dht22\",\"plugin\":\"dht22\",\"timestamp\":1700000110000,"
               "\"data\":{\"sensor-id\":\"dht22\",\"temperature\":21.75,\"humidity\":41.25}},"
               "{\"sensor_id\":\"n1:dht22\",\"timestamp\":1700000120000.9,"
               "\"data\":{\"temperature\":-0.1}}]"),
        5);
    expect_history(s, "n1:dht22", "temperature", 0, INT64_MAX, 0,
                   "{\"t\":[1700000100000,1700000110000,1700000120000],"
                   "\"v\":[21.5,21.75,-0.1]}");
    expect_history(s, "n1:dht22", "humidity", 1700000100001, 1700000110000, 0,
                   "{\"t\":[1700000110000],\"v\":[41.25]}");
    /* both ends are inclusive */
    expect_history(s, "n1:dht22", "humidity", 1700000100000, 1700000110000, 0,
                   "{\"t\":[1700000100000,1700000110000],\"v\":[40,41.25]}");
    expect_history(s, "n1:dht22", "nope", 0, INT64_MAX, 0, "{\"t\":[],\"v\":[]}");
    expect_history(s, "n1:dht22", "nope", 0, INT64_MAX, 60000,
                   "{\"t\":[],\"min\":[],\"max\":[],\"mean\":[]}");
    char *series = hv_store_series_json(s);
    assert_string_equal(series, "[[\"n1:dht22\",\"humidity\"],[\"n1:dht22\",\"temperature\"]]");
    free(series);

    /* an empty batch, and bad query arguments */
    assert_int_equal(add(s, " [ ] "), 0);
    char *json = (char *)"untouched", err[128];
    assert_int_equal(
        hv_store_history_json(s, "n1:dht22", "humidity", 0, 10, -1, &json, err, sizeof err),
        HV_EINVAL);
    assert_string_equal(err, "history: step must not be negative");
    assert_int_equal(
        hv_store_history_json(s, "n1:dht22", "humidity", 10, 0, 0, &json, err, sizeof err),
        HV_EINVAL);
    assert_string_equal(err, "history: from is after to");
    assert_int_equal(hv_store_history_json(s, NULL, "x", 0, 1, 0, &json, err, sizeof err),
                     HV_EINVAL);
    assert_string_equal(json, "untouched");
    hv_store_close(s);
    hv_store_close(NULL);

    /* open errors name the path; *ret untouched */
    hv_store_t *bad = (hv_store_t *)&json;
    assert_int_not_equal(hv_store_open("/nonexistent/dir/h.db", 0, &bad, err, sizeof err), HV_OK);
    assert_ptr_equal(bad, (hv_store_t *)&json);
    assert_non_null(strstr(err, "/nonexistent/dir/h.db: "));
    char notdb[160];
    snprintf(notdb, sizeof notdb, "%s/not.db", dir);
    FILE *f = fopen(notdb, "w");
    assert_non_null(f);
    fputs("this is not an SQLite database, just some text that is long enough......", f);
    fclose(f);
    assert_int_equal(hv_store_open(notdb, 0, &bad, err, sizeof err), HV_EIO);
    assert_non_null(strstr(err, "not.db: file is not a database"));
    assert_ptr_equal(bad, (hv_store_t *)&json);
}

static void test_dedup(void **state)
{
    (void)state;
    hv_store_t *s = open_store(db_path(), 0);
    char *b = series_batch("n1:aht20", "humidity", T0, 1000, 100, 30, 0.25);
    assert_int_equal(add(s, b), 100);
    assert_int_equal(add(s, b), 0); /* a spoke replaying its queue */
    free(b);
    /* overlapping: 50 old + 50 new; the stored value of a duplicate is the first one */
    b = series_batch("n1:aht20", "humidity", T0 + 50000, 1000, 100, 1000, 0);
    assert_int_equal(add(s, b), 50);
    free(b);
    expect_history(s, "n1:aht20", "humidity", T0 + 49000, T0 + 51000, 0,
                   "{\"t\":[1700000149000,1700000150000,1700000151000],"
                   "\"v\":[42.25,42.5,42.75]}");
    expect_history(s, "n1:aht20", "humidity", T0 + 149000, T0 + 200000, 0,
                   "{\"t\":[1700000249000],\"v\":[1000]}");
    /* duplicates inside one batch count once */
    assert_int_equal(add(s, "[{\"sensor_id\":\"x\",\"timestamp\":5,\"data\":{\"a\":1,\"a\":2}},"
                            "{\"sensor_id\":\"x\",\"timestamp\":5,\"data\":{\"a\":3}}]"),
                     1);
    expect_history(s, "x", "a", 0, 10, 0, "{\"t\":[5],\"v\":[1]}");
    hv_store_close(s);
}

static void test_generic_and_nested(void **state)
{
    (void)state;
    hv_store_t *s = open_store(db_path(), 0);
    const char *batch =
        "[{\"sensor_id\":\"n1:bh1750\",\"plugin\":\"bh1750\",\"timestamp\":1000,"
        "\"data\":{\"sensor\":\"bh1750\",\"fields\":[{\"name\":\"lux\",\"value\":333.3,"
        "\"unit\":\"lx\"},{\"name\":\"ir\",\"value\":12,\"unit\":\"\"},"
        "{\"name\":\"\",\"value\":1},{\"name\":\"str\",\"value\":\"7\"},{\"value\":2},3,null],"
        "\"extra\":null}},"
        "{\"sensor_id\":\"n1:pi-monitor\",\"timestamp\":2000,"
        "\"data\":{\"cpu\":{\"temp\":51.2,\"load\":[0.5,0.2]},"
        "\"latency\":{\"hub\":3.5,\"deep\":{\"x\":{\"y\":-7}}},"
        "\"alarm\":true,\"ok\":false,\"name\":\"pi4\",\"none\":null,\"big\":1e999,"
        "\"\":5,\"empty\":{},\"tiny\":1e-400}}]";
    /* lux, ir; cpu.temp, latency.hub, latency.deep.x.y, alarm, ok, tiny */
    assert_int_equal(add(s, batch), 8);
    char *series = hv_store_series_json(s);
    assert_string_equal(series, "[[\"n1:bh1750\",\"ir\"],[\"n1:bh1750\",\"lux\"],"
                                "[\"n1:pi-monitor\",\"alarm\"],[\"n1:pi-monitor\",\"cpu.temp\"],"
                                "[\"n1:pi-monitor\",\"latency.deep.x.y\"],"
                                "[\"n1:pi-monitor\",\"latency.hub\"],[\"n1:pi-monitor\",\"ok\"],"
                                "[\"n1:pi-monitor\",\"tiny\"]]");
    free(series);
    expect_history(s, "n1:bh1750", "lux", 0, 5000, 0, "{\"t\":[1000],\"v\":[333.3]}");
    expect_history(s, "n1:pi-monitor", "latency.deep.x.y", 0, 5000, 0, "{\"t\":[2000],\"v\":[-7]}");
    expect_history(s, "n1:pi-monitor", "alarm", 0, 5000, 0, "{\"t\":[2000],\"v\":[1]}");
    expect_history(s, "n1:pi-monitor", "ok", 0, 5000, 0, "{\"t\":[2000],\"v\":[0]}");
    expect_history(s, "n1:pi-monitor", "tiny", 0, 5000, 0, "{\"t\":[2000],\"v\":[0]}");
    /* "fields" is special only at the top of data */
    assert_int_equal(add(s, "[{\"sensor_id\":\"g\",\"timestamp\":1,\"data\":{\"sub\":{\"fields\":"
                            "[{\"name\":\"a\",\"value\":1}]},\"fields\":7}}]"),
                     1);
    expect_history(s, "g", "fields", 0, 5, 0, "{\"t\":[1],\"v\":[7]}");
    hv_store_close(s);
}

static void test_step_aggregates(void **state)
{
    (void)state;
    hv_store_t *s = open_store(db_path(), 0);
    /* minute 0: 1, 2, 3, 6; minute 1: -1.5, 2.5; minute 3: 0.5 */
    char b[1024];
    snprintf(b, sizeof b,
             "[{\"sensor_id\":\"s\",\"timestamp\":%lld,\"data\":{\"v\":1}},"
             "{\"sensor_id\":\"s\",\"timestamp\":%lld,\"data\":{\"v\":2}},"
             "{\"sensor_id\":\"s\",\"timestamp\":%lld,\"data\":{\"v\":3}},"
             "{\"sensor_id\":\"s\",\"timestamp\":%lld,\"data\":{\"v\":6}},"
             "{\"sensor_id\":\"s\",\"timestamp\":%lld,\"data\":{\"v\":-1.5}},"
             "{\"sensor_id\":\"s\",\"timestamp\":%lld,\"data\":{\"v\":2.5}},"
             "{\"sensor_id\":\"s\",\"timestamp\":%lld,\"data\":{\"v\":0.5}}]",
             (long long)T0, (long long)(T0 + 10000), (long long)(T0 + 20000),
             (long long)(T0 + 59999), (long long)(T0 + MIN), (long long)(T0 + MIN + 30000),
             (long long)(T0 + 3 * MIN + 1));
    assert_int_equal(add(s, b), 7);
    expect_history(s, "s", "v", T0, T0 + DAY, MIN,
                   "{\"t\":[1700000100000,1700000160000,1700000280000],"
                   "\"min\":[1,-1.5,0.5],\"max\":[6,2.5,0.5],\"mean\":[3,0.5,0.5]}");
    /* one 5-minute bucket: mean 13.5 / 7, written so that it reads back exactly */
    char *json = history(s, "s", "v", T0, T0 + DAY, 5 * MIN);
    const char *head = "{\"t\":[1700000100000],\"min\":[-1.5],\"max\":[6],\"mean\":[";
    assert_memory_equal(json, head, strlen(head));
    assert_true(strtod(json + strlen(head), NULL) == 13.5 / 7);
    free(json);
    /* buckets are aligned on multiples of step, not on from */
    expect_history(s, "s", "v", T0 + 20000, T0 + MIN + 30000, MIN,
                   "{\"t\":[1700000100000,1700000160000],"
                   "\"min\":[3,-1.5],\"max\":[6,2.5],\"mean\":[4.5,0.5]}");
    hv_store_close(s);
}

/* A day and a half of one point a minute (value = minute), raw_days 1:
 * maintenance folds and trims, and every bucketed history is the same
 * before and after, from aggregates where raw points are gone. */
static void test_maintain(void **state)
{
    (void)state;
    const char *path = db_path();
    hv_store_t *s = open_store(path, 1);
    int n = 2160;
    for (int i = 0; i < n; i += 1000) {
        char *b = series_batch("m", "v", T0 + i * MIN, MIN, i + 1000 <= n ? 1000 : n - i, i, 1);
        add(s, b);
        free(b);
    }
    int64_t end = T0 + n * MIN;
    char *before5 = history(s, "m", "v", T0, end, 5 * MIN);
    char *before60 = history(s, "m", "v", T0, end, 60 * MIN);
    assert_int_equal(count_rows(path, "SELECT count(*) FROM raw"), n);

    /* now = the end: fold everything older than an hour, keep a day of raw */
    int64_t now = end + 1234;
    assert_int_equal(hv_store_maintain(s, now), HV_OK);
    int64_t horizon = now - DAY - (now - DAY) % (5 * MIN);
    int64_t kept = (end - horizon) / MIN;
    assert_int_equal(count_rows(path, "SELECT count(*) FROM raw"), kept);
    char q[128];
    snprintf(q, sizeof q, "SELECT min(ts_ms) FROM raw");
    assert_int_equal(count_rows(path, q), horizon);
    /* buckets up to an hour before now, aligned */
    int64_t folded = (now - 60 * MIN) - (now - 60 * MIN) % (5 * MIN);
    assert_int_equal(count_rows(path, "SELECT count(*) FROM agg_5m"), (folded - T0) / (5 * MIN));
    snprintf(q, sizeof q,
             "SELECT count(*) FROM agg_5m WHERE bucket_ms = %lld AND n = 5 AND "
             "min = 0 AND max = 4 AND sum = 10",
             (long long)T0);
    assert_int_equal(count_rows(path, q), 1);

    char *after5 = history(s, "m", "v", T0, end, 5 * MIN);
    assert_string_equal(after5, before5);
    char *after60 = history(s, "m", "v", T0, end, 60 * MIN);
    assert_string_equal(after60, before60);
    free(after60);
    /* the raw points are gone below the horizon */
    expect_history(s, "m", "v", T0, horizon - 1, 0, "{\"t\":[],\"v\":[]}");
    /* only from aggregates: minutes 0..4 -> 0..4, mean 2; 5..9 -> mean 7 */
    expect_history(s, "m", "v", T0, T0 + 9 * MIN, 5 * MIN,
                   "{\"t\":[1700000100000,1700000400000],\"min\":[0,5],\"max\":[4,9],"
                   "\"mean\":[2,7]}");

    /* idempotent: the same maintenance again changes nothing */
    assert_int_equal(hv_store_maintain(s, now), HV_OK);
    char *again = history(s, "m", "v", T0, end, 5 * MIN);
    assert_string_equal(again, before5);
    free(again);

    /* replaying the whole first day: points below the horizon are not stored
     * again (their aggregates stay exact), the rest are duplicates */
    char *b = series_batch("m", "v", T0, MIN, 1000, 0, 1);
    assert_int_equal(add(s, b), 0);
    free(b);
    assert_int_equal(count_rows(path, "SELECT count(*) FROM raw"), kept);
    assert_int_equal(hv_store_maintain(s, now + 5 * MIN), HV_OK);
    again = history(s, "m", "v", T0, end, 5 * MIN);
    assert_string_equal(again, before5);
    free(again);

    /* a late point into an already folded bucket (above the horizon): once
     * the horizon passes it, its aggregate includes it */
    int64_t late = folded - 5 * MIN + 30000; /* half a minute into the last folded bucket */
    char lb[256];
    snprintf(lb, sizeof lb, "[{\"sensor_id\":\"m\",\"timestamp\":%lld,\"data\":{\"v\":1e6}}]",
             (long long)late);
    assert_int_equal(add(s, lb), 1);
    assert_int_equal(hv_store_maintain(s, now + 10 * MIN), HV_OK);
    int64_t bucket = folded - 5 * MIN;
    assert_int_equal(hv_store_maintain(s, bucket + 5 * MIN + DAY), HV_OK); /* trims past it */
    snprintf(q, sizeof q, "SELECT count(*) FROM raw WHERE ts_ms < %" PRId64, bucket + 5 * MIN);
    assert_int_equal(count_rows(path, q), 0);
    snprintf(q, sizeof q, "SELECT n FROM agg_5m WHERE bucket_ms = %lld", (long long)bucket);
    assert_int_equal(count_rows(path, q), 6);
    char *lj = history(s, "m", "v", bucket, bucket, 5 * MIN);
    assert_non_null(strstr(lj, "\"max\":[1000000]"));
    free(lj);

    assert_int_equal(hv_store_maintain(NULL, now), HV_EINVAL);
    assert_int_equal(hv_store_maintain(s, -1), HV_EINVAL);
    free(before5);
    free(before60);
    free(after5);
    hv_store_close(s);

    /* the marks survive a restart: the replay is still refused */
    s = open_store(path, 1);
    b = series_batch("m", "v", T0, MIN, 10, 0, 1);
    assert_int_equal(add(s, b), 0);
    free(b);
    hv_store_close(s);
}

static void test_durability(void **state)
{
    (void)state;
    const char *p = db_path();
    char path[128];
    snprintf(path, sizeof path, "%s", p);
    hv_store_t *s = open_store(path, 0);
    char *b = series_batch("d", "v", T0, 1000, 500, 0, 0.5);
    assert_int_equal(add(s, b), 500);
    char *before = history(s, "d", "v", T0, T0 + DAY, 0);
    hv_store_close(s);

    /* WAL is persistent: another connection sees it */
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);

    s = open_store(path, 0);
    char *after = history(s, "d", "v", T0, T0 + DAY, 0);
    assert_string_equal(after, before);
    free(after);
    assert_int_equal(add(s, b), 0);
    hv_store_close(s);
    free(b);

    /* a crash right after the acknowledgement (no close, no checkpoint):
     * the reading is there after the restart */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        hv_store_t *c = NULL;
        char err[256];
        size_t added = 0;
        const char *one = "[{\"sensor_id\":\"crash\",\"timestamp\":42,\"data\":{\"v\":4.2}}]";
        if (hv_store_open(path, 0, &c, err, sizeof err) != HV_OK ||
            hv_store_add_json(c, one, strlen(one), &added, err, sizeof err) != HV_OK || added != 1)
            _exit(1);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    s = open_store(path, 0);
    expect_history(s, "crash", "v", 0, 100, 0, "{\"t\":[42],\"v\":[4.2]}");
    after = history(s, "d", "v", T0, T0 + DAY, 0);
    assert_string_equal(after, before);
    free(after);
    free(before);
    hv_store_close(s);
}

static void expect_error(hv_store_t *s, const char *json, int code, const char *msg)
{
    char err[256] = "";
    size_t added = 77;
    int rc = hv_store_add_json(s, json, strlen(json), &added, err, sizeof err);
    if (rc != code || strstr(err, msg) == NULL)
        fail_msg("%s: got %s '%s', want %s '%s'", json, hv_err_name(rc), err, hv_err_name(code),
                 msg);
    assert_int_equal(added, 0);
}

static void test_malformed(void **state)
{
    (void)state;
    const char *path = db_path();
    hv_store_t *s = open_store(path, 0);
    expect_error(s, "", HV_EINVAL, "$: malformed JSON");
    expect_error(s, "[{\"sensor_id\":\"a\",", HV_EINVAL, "$: malformed JSON");
    expect_error(s, "[] x", HV_EINVAL, "$: malformed JSON");
    expect_error(s, "[01]", HV_EINVAL, "$: malformed JSON");
    expect_error(s, "[\"\xff\"]", HV_EINVAL, "$: malformed JSON");
    expect_error(s, "{}", HV_EINVAL, "$: expected an array of readings");
    expect_error(s, "[1]", HV_EINVAL, "$[0]: expected a reading object");
    expect_error(s, "[{\"timestamp\":1,\"data\":{}}]", HV_EINVAL,
                 "$[0].sensor_id: expected a string");
    expect_error(s, "[{\"sensor_id\":7,\"timestamp\":1,\"data\":{}}]", HV_EINVAL,
                 "$[0].sensor_id: expected a string");
    expect_error(s, "[{\"sensor_id\":\"\",\"timestamp\":1,\"data\":{}}]", HV_EINVAL,
                 "$[0].sensor_id: empty");
    expect_error(s, "[{\"sensor_id\":\"a\\u0000b\",\"timestamp\":1,\"data\":{}}]", HV_EINVAL,
                 "$[0].sensor_id: holds U+0000");
    expect_error(s, "[{\"sensor_id\":\"a\",\"timestamp\":\"1\",\"data\":{}}]", HV_EINVAL,
                 "$[0].timestamp: expected a number");
    expect_error(s, "[{\"sensor_id\":\"a\",\"timestamp\":-1,\"data\":{}}]", HV_EINVAL,
                 "$[0].timestamp: out of range");
    expect_error(s, "[{\"sensor_id\":\"a\",\"timestamp\":1e300,\"data\":{}}]", HV_EINVAL,
                 "$[0].timestamp: out of range");
    expect_error(s, "[{\"sensor_id\":\"a\",\"timestamp\":1}]", HV_EINVAL,
                 "$[0].data: expected an object");
    expect_error(s, "[{\"sensor_id\":\"a\",\"timestamp\":1,\"data\":[1]}]", HV_EINVAL,
                 "$[0].data: expected an object");
    expect_error(s, "[{\"sensor_id\":\"a\",\"timestamp\":1,\"data\":{\"a\\u0000\":1}}]", HV_EINVAL,
                 "$[0].data: a member name holds U+0000");
    /* one bad reading: nothing of the batch is stored */
    expect_error(s,
                 "[{\"sensor_id\":\"a\",\"timestamp\":1,\"data\":{\"v\":1}},"
                 "{\"sensor_id\":\"a\",\"timestamp\":2,\"data\":null}]",
                 HV_EINVAL, "$[1].data: expected an object");
    char err[64];
    assert_int_equal(hv_store_add_json(s, NULL, 3, NULL, err, sizeof err), HV_EINVAL);
    assert_int_equal(hv_store_add_json(NULL, "[]", 2, NULL, err, sizeof err), HV_EINVAL);
    /* not NUL-terminated: only len bytes are read */
    assert_int_equal(hv_store_add_json(s, "[]]]", 2, NULL, err, sizeof err), HV_OK);
    hv_store_close(s);
    assert_int_equal(count_rows(path, "SELECT count(*) FROM series"), 0);
    assert_int_equal(count_rows(path, "SELECT count(*) FROM raw"), 0);
}

static void test_caps(void **state)
{
    (void)state;
    const char *p = db_path();
    char path[128];
    snprintf(path, sizeof path, "%s", p);
    hv_store_t *s = open_store(path, 0);
    char name[200], b[1024];
    memset(name, 'n', sizeof name);

    /* sensor_id: 128 bytes fine, 129 too big */
    snprintf(b, sizeof b, "[{\"sensor_id\":\"%.128s\",\"timestamp\":1,\"data\":{\"v\":1}}]", name);
    assert_int_equal(add(s, b), 1);
    snprintf(b, sizeof b, "[{\"sensor_id\":\"%.129s\",\"timestamp\":1,\"data\":{\"v\":1}}]", name);
    expect_error(s, b, HV_ETOOBIG, "$[0].sensor_id: longer than 128 bytes");
    /* field names, nested paths included */
    snprintf(b, sizeof b, "[{\"sensor_id\":\"f\",\"timestamp\":1,\"data\":{\"%.128s\":1}}]", name);
    assert_int_equal(add(s, b), 1);
    snprintf(b, sizeof b, "[{\"sensor_id\":\"f\",\"timestamp\":1,\"data\":{\"%.129s\":1}}]", name);
    expect_error(s, b, HV_ETOOBIG,
                 "$[0].data: field name 'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...' is longer "
                 "than 128 bytes");
    snprintf(b, sizeof b,
             "[{\"sensor_id\":\"f\",\"timestamp\":1,\"data\":{\"%.64s\":{\"%.63s\":1}}}]", name,
             name);
    assert_int_equal(add(s, b), 1);
    snprintf(b, sizeof b,
             "[{\"sensor_id\":\"f\",\"timestamp\":1,\"data\":{\"%.64s\":{\"%.64s\":1}}}]", name,
             name);
    expect_error(s, b, HV_ETOOBIG, "is longer than 128 bytes");
    /* an over-long path with nothing to store is fine */
    snprintf(b, sizeof b,
             "[{\"sensor_id\":\"f\",\"timestamp\":1,\"data\":{\"%.100s\":{\"%.100s\":\"x\"}}}]",
             name, name);
    assert_int_equal(add(s, b), 0);
    snprintf(b, sizeof b,
             "[{\"sensor_id\":\"f\",\"timestamp\":1,\"data\":{\"fields\":[{\"name\":\"%.129s\","
             "\"value\":1}]}}]",
             name);
    expect_error(s, b, HV_ETOOBIG, "$[0].data.fields[0].name: field name");
    /* nesting past the JSON reader's depth limit */
    text_t deep = {0};
    tprintf(&deep, "[{\"sensor_id\":\"f\",\"timestamp\":1,\"data\":");
    for (int i = 0; i < 70; i++)
        tprintf(&deep, "{\"a\":");
    tprintf(&deep, "1");
    for (int i = 0; i < 71; i++)
        tprintf(&deep, "}");
    tprintf(&deep, "]");
    expect_error(s, deep.p, HV_EINVAL, "nesting deeper than");
    free(deep.p);

    /* 10 000 values per call */
    char *big = series_batch("c", "v", 1, 1, HV_STORE_MAX_VALUES, 0, 1);
    assert_int_equal(add(s, big), HV_STORE_MAX_VALUES);
    free(big);
    big = series_batch("c", "v", 100000, 1, HV_STORE_MAX_VALUES + 1, 0, 1);
    expect_error(s, big, HV_ETOOBIG, "more than 10000 values in one call");
    free(big);
    expect_history(s, "c", "v", 100000, 200000, 0, "{\"t\":[],\"v\":[]}");

    /* history: at most HV_STORE_MAX_POINTS points */
    for (int i = 1; i < 11; i++) {
        big = series_batch("c", "v", 1 + (int64_t)i * HV_STORE_MAX_VALUES, 1, HV_STORE_MAX_VALUES,
                           0, 1);
        assert_int_equal(add(s, big), HV_STORE_MAX_VALUES);
        free(big);
    }
    char *json = NULL, err[256];
    assert_int_equal(
        hv_store_history_json(s, "c", "v", 1, HV_STORE_MAX_POINTS, 0, &json, err, sizeof err),
        HV_OK);
    free(json);
    json = NULL;
    assert_int_equal(hv_store_history_json(s, "c", "v", 0, INT64_MAX, 0, &json, err, sizeof err),
                     HV_ETOOBIG);
    assert_null(json);
    assert_string_equal(err, "history: more than 100000 points: use a larger step");
    assert_int_equal(hv_store_history_json(s, "c", "v", 0, INT64_MAX, 1, &json, err, sizeof err),
                     HV_ETOOBIG);
    /* 1000-ms buckets: 110, each of 1000 points (0..999 + k*1000 -> mean k*1000 + 499.5) */
    json = history(s, "c", "v", 0, INT64_MAX, 1000);
    assert_non_null(strstr(json, "\"mean\":[499,")); /* 1..999: the first has 999 */
    free(json);
    hv_store_close(s);
}

static void test_series_cap(void **state)
{
    (void)state;
    const char *path = db_path();
    hv_store_t *s = open_store(path, 0);
    /* HV_STORE_MAX_SERIES - 1 series, in calls under the values cap. */
    for (int first = 0; first < HV_STORE_MAX_SERIES - 1; first += HV_STORE_MAX_VALUES) {
        int last = first + HV_STORE_MAX_VALUES;
        if (last > HV_STORE_MAX_SERIES - 1)
            last = HV_STORE_MAX_SERIES - 1;
        text_t t = {0};
        tprintf(&t, "[{\"sensor_id\":\"s\",\"timestamp\":1,\"data\":{");
        for (int i = first; i < last; i++)
            tprintf(&t, "%s\"f%d\":1", i > first ? "," : "", i);
        tprintf(&t, "}}]");
        assert_int_equal(add(s, t.p), last - first);
        free(t.p);
    }
    expect_error(s,
                 "[{\"sensor_id\":\"s\",\"timestamp\":2,\"data\":{\"f0\":2,\"new1\":1,"
                 "\"new2\":2}}]",
                 HV_ETOOBIG, "over the limit");
    /* rolled back: f0 at 2 is not there, and one more series still fits */
    expect_history(s, "s", "f0", 2, 2, 0, "{\"t\":[],\"v\":[]}");
    assert_int_equal(
        add(s, "[{\"sensor_id\":\"s\",\"timestamp\":2,\"data\":{\"f0\":2,\"new1\":1}}]"), 2);
    expect_error(s, "[{\"sensor_id\":\"s\",\"timestamp\":3,\"data\":{\"new2\":1}}]", HV_ETOOBIG,
                 "over the limit");
    hv_store_close(s);
    /* the count is read back on open */
    s = open_store(path, 0);
    expect_error(s, "[{\"sensor_id\":\"t\",\"timestamp\":3,\"data\":{\"x\":1}}]", HV_ETOOBIG,
                 "over the limit");
    assert_int_equal(add(s, "[{\"sensor_id\":\"s\",\"timestamp\":3,\"data\":{\"new1\":1}}]"), 1);
    hv_store_close(s);
}

static void test_insert_rate(void **state)
{
    (void)state;
    const char *p = db_path();
    char path[128];
    snprintf(path, sizeof path, "%s", p);
    hv_store_t *s = open_store(path, 0);
    /* 50 000 values: 5 calls of 2 000 readings x 5 fields */
    char *batches[5];
    for (int k = 0; k < 5; k++) {
        text_t t = {0};
        tprintf(&t, "[");
        for (int i = 0; i < 2000; i++)
            tprintf(&t,
                    "%s{\"sensor_id\":\"n%d:bme680\",\"plugin\":\"bme680\",\"timestamp\":%lld,"
                    "\"data\":{\"temperature\":%.2f,\"humidity\":%.2f,\"pressure\":%.2f,"
                    "\"gas\":%d,\"iaq\":%.1f}}",
                    i ? "," : "", i % 4, (long long)(T0 + (int64_t)(k * 2000 + i) * 1000),
                    20 + i * 0.01, 40 + i * 0.02, 1013 + i * 0.001, 150000 + i, 50 + i * 0.1);
        tprintf(&t, "]");
        batches[k] = t.p;
    }
    double t0 = now_s();
    size_t total = 0;
    for (int k = 0; k < 5; k++)
        total += add(s, batches[k]);
    double dt = now_s() - t0;
    assert_int_equal(total, 50000);
    printf("store: 50000 values in 5 calls: %.3f s, %.0f values/s (synchronous=FULL)\n", dt,
           50000 / dt);
    /* one value per call: the cost of a commit (an fsync) */
    t0 = now_s();
    for (int i = 0; i < 100; i++) {
        char one[160];
        snprintf(one, sizeof one, "[{\"sensor_id\":\"one\",\"timestamp\":%d,\"data\":{\"v\":%d}}]",
                 i, i);
        add(s, one);
    }
    dt = now_s() - t0;
    printf("store: 100 calls of 1 value: %.3f s, %.2f ms per commit\n", dt, dt * 10);
    t0 = now_s();
    char *json = history(s, "n0:bme680", "temperature", 0, INT64_MAX, 0);
    char *json2 = history(s, "n0:bme680", "temperature", 0, INT64_MAX, 60000);
    printf("store: history of 12500 raw points + bucketed: %.3f s\n", now_s() - t0);
    free(json);
    free(json2);
    t0 = now_s();
    assert_int_equal(hv_store_maintain(s, T0 + 8 * DAY), HV_OK);
    printf("store: maintenance folding and deleting 50000 points: %.3f s\n", now_s() - t0);
    assert_int_equal(count_rows(path, "SELECT count(*) FROM raw WHERE series_id IN "
                                      "(SELECT id FROM series WHERE sensor_id != 'one')"),
                     0);
    for (int k = 0; k < 5; k++)
        free(batches[k]);
    hv_store_close(s);
}

#include "../tmpdir.h"

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_and_query_raw),  cmocka_unit_test(test_dedup),
        cmocka_unit_test(test_generic_and_nested), cmocka_unit_test(test_step_aggregates),
        cmocka_unit_test(test_maintain),           cmocka_unit_test(test_durability),
        cmocka_unit_test(test_malformed),          cmocka_unit_test(test_caps),
        cmocka_unit_test(test_series_cap),         cmocka_unit_test(test_insert_rate),
    };
    return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}

/*
 * The reading history: opening (schema, pragmas, prepared statements),
 * maintenance (folding raw points into 5-minute aggregates, retention) and
 * the list of series. Adding readings is in store_add.c, queries in
 * store_history.c; the tables and marks are described in store_impl.h.
 *
 * Durability: WAL with synchronous=FULL. In WAL mode synchronous=NORMAL
 * already survives a crash of the process (a commit is in the WAL file,
 * i.e. in the kernel, before COMMIT returns), but not a power cut, which
 * can lose the last commits since the WAL is fsync'ed only at checkpoints.
 * A Pi's power is pulled often, and a reading is acknowledged (a spoke
 * drops its copy) once hv_store_add_json returns, so every commit is
 * fsync'ed: one fsync per hv_store_add_json call, not per reading, which
 * is why a batch is one transaction.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "hv_log.h"
#include "store_impl.h"

#define SCHEMA_VERSION 1

static const char *const schema = "CREATE TABLE IF NOT EXISTS series("
                                  " id INTEGER PRIMARY KEY,"
                                  " sensor_id TEXT NOT NULL,"
                                  " field TEXT NOT NULL,"
                                  " UNIQUE(sensor_id, field));"
                                  "CREATE TABLE IF NOT EXISTS raw("
                                  " series_id INTEGER NOT NULL,"
                                  " ts_ms INTEGER NOT NULL,"
                                  " value REAL NOT NULL,"
                                  " PRIMARY KEY(series_id, ts_ms)) WITHOUT ROWID;"
                                  "CREATE TABLE IF NOT EXISTS agg_5m("
                                  " series_id INTEGER NOT NULL,"
                                  " bucket_ms INTEGER NOT NULL,"
                                  " n INTEGER NOT NULL,"
                                  " min REAL NOT NULL,"
                                  " max REAL NOT NULL,"
                                  " sum REAL," /* NULL only if a sum overflowed to inf - inf */
                                  " PRIMARY KEY(series_id, bucket_ms)) WITHOUT ROWID;"
                                  "CREATE TABLE IF NOT EXISTS meta("
                                  " key TEXT PRIMARY KEY,"
                                  " value INTEGER NOT NULL) WITHOUT ROWID;";

/* The series table is walked in the outer loop (CROSS JOIN, IN) so raw is
 * only ever read through its primary key: no full scans, no extra index. */
static const char *const statements[ST__COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SERIES_GET] = "SELECT id FROM series WHERE sensor_id = ?1 AND field = ?2",
    [ST_SERIES_ADD] = "INSERT INTO series(sensor_id, field) VALUES(?1, ?2)",
    [ST_SERIES_LIST] = "SELECT sensor_id, field FROM series ORDER BY sensor_id, field",
    [ST_RAW_ADD] = "INSERT OR IGNORE INTO raw(series_id, ts_ms, value) VALUES(?1, ?2, ?3)",
    [ST_META_SET] = "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)",
    [ST_FOLD] = "INSERT OR REPLACE INTO agg_5m(series_id, bucket_ms, n, min, max, sum)"
                " SELECT r.series_id, (r.ts_ms / 300000) * 300000, count(*), min(r.value),"
                " max(r.value), sum(r.value)"
                " FROM series AS s CROSS JOIN raw AS r"
                " WHERE r.series_id = s.id AND r.ts_ms >= ?1 AND r.ts_ms < ?2"
                " GROUP BY r.series_id, r.ts_ms / 300000",
    [ST_DELETE_RAW] = "DELETE FROM raw WHERE series_id IN (SELECT id FROM series) AND ts_ms < ?1",
    [ST_SAVEPOINT] = "SAVEPOINT push",
    [ST_RELEASE] = "RELEASE push",
    [ST_ROLLBACK_TO] = "ROLLBACK TO push",
    [ST_HIST_RAW] = "SELECT ts_ms, value FROM raw"
                    " WHERE series_id = ?1 AND ts_ms >= ?2 AND ts_ms <= ?3"
                    " ORDER BY ts_ms LIMIT ?4",
    /* ?1 series, [?2, ?3] range, ?4 step, ?5 horizon, ?6 limit */
    [ST_HIST_STEP] = "SELECT b, min(mn), max(mx), sum(s), sum(n) FROM ("
                     " SELECT ts_ms / ?4 AS b, min(value) AS mn, max(value) AS mx,"
                     "  sum(value) AS s, count(*) AS n"
                     "  FROM raw WHERE series_id = ?1 AND ts_ms >= ?2 AND ts_ms <= ?3"
                     "  GROUP BY 1"
                     " UNION ALL"
                     " SELECT bucket_ms / ?4, min(min), max(max), sum(sum), sum(n)"
                     "  FROM agg_5m WHERE series_id = ?1 AND bucket_ms >= ?2"
                     "  AND bucket_ms <= ?3 AND bucket_ms < ?5"
                     "  GROUP BY 1)"
                     " GROUP BY b ORDER BY b LIMIT ?6",
};

int64_t hv_store_bucket(int64_t ts)
{
    int64_t r = ts % HV_STORE_BUCKET_MS;
    return r < 0 ? ts - r - HV_STORE_BUCKET_MS : ts - r;
}

int hv_store_db_error(hv_store_t *s, int rc, const char *what, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s: %s", what, s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
    return (rc & 0xFF) == SQLITE_NOMEM ? HV_ENOMEM : HV_EIO;
}

int hv_store_exec(hv_store_t *s, int which)
{
    sqlite3_stmt *st = s->st[which];
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

int hv_store_meta_set(hv_store_t *s, const char *key, int64_t value)
{
    sqlite3_stmt *st = s->st[ST_META_SET];
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, value);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int hv_store_series_id(hv_store_t *s, const char *sensor_id, const char *field, int64_t *ret_id)
{
    if ((*ret_id = hv_store_cache_get(s, sensor_id, field)) != 0)
        return SQLITE_OK;
    sqlite3_stmt *st = s->st[ST_SERIES_GET];
    sqlite3_bind_text(st, 1, sensor_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, field, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *ret_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    if (*ret_id != 0)
        hv_store_cache_put(s, sensor_id, field, *ret_id);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* One integer from a query without parameters; SQLite's rc. */
static int query_int(sqlite3 *db, const char *sql, int64_t *ret)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *ret = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK; /* no row: *ret keeps its default */
    }
    sqlite3_finalize(st);
    return rc;
}

/* The cached marks and series count, from the database. */
static int load_state(hv_store_t *s)
{
    s->horizon = 0;
    s->folded = 0;
    s->refold = INT64_MAX;
    s->nseries = 0;
    int rc = query_int(s->db, "SELECT value FROM meta WHERE key = 'horizon_ms'", &s->horizon);
    if (rc == SQLITE_OK)
        rc = query_int(s->db, "SELECT value FROM meta WHERE key = 'folded_ms'", &s->folded);
    if (rc == SQLITE_OK)
        rc = query_int(s->db, "SELECT value FROM meta WHERE key = 'refold_ms'", &s->refold);
    if (rc == SQLITE_OK)
        rc = query_int(s->db, "SELECT count(*) FROM series", &s->nseries);
    return rc;
}

void hv_store_abort(hv_store_t *s)
{
    if (sqlite3_get_autocommit(s->db) == 0)
        hv_store_exec(s, ST_ROLLBACK);
    hv_store_cache_clear(s); /* series added by the rolled-back work are gone */
    if (load_state(s) != SQLITE_OK) {
        /* Cannot read back: keep marks that only make maintain do more. */
        s->refold = INT64_MIN;
        hv_log("store", HV_LOG_ERROR, "cannot reload state: %s", sqlite3_errmsg(s->db));
    }
}

static void free_store(hv_store_t *s)
{
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    hv_store_cache_clear(s);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->gc_lock);
    free(s);
}

/* Pragmas, schema, statements, marks; "path: reason" on failure. */
static int setup(hv_store_t *s, const char *path, char *err, size_t errlen)
{
    char what[512];
    snprintf(what, sizeof what, "%s", path);
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, 5000); /* another process reading (sqlite3 CLI, backup) */
    int64_t version = 0;
    int rc = query_int(s->db, "PRAGMA user_version", &version);
    if (rc != SQLITE_OK)
        return hv_store_db_error(s, rc, what, err, errlen);
    if (version > SCHEMA_VERSION) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: schema version %" PRId64 " is newer than this daemon's (%d)",
                     path, version, SCHEMA_VERSION);
        return HV_EINVAL;
    }
    /* WAL: readers never block the writer; "memory" for ":memory:". */
    sqlite3_stmt *st;
    rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return hv_store_db_error(s, rc, what, err, errlen);
    rc = sqlite3_step(st);
    char mode[16] = "";
    if (rc == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
        snprintf(mode, sizeof mode, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return hv_store_db_error(s, rc, what, err, errlen);
    if (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: cannot use WAL mode (journal mode stays '%s')", path, mode);
        return HV_EIO;
    }
    rc = sqlite3_exec(s->db,
                      "PRAGMA synchronous = FULL;"
                      "PRAGMA foreign_keys = OFF;"
                      "PRAGMA journal_size_limit = 8388608;"
                      /* A hub writes one leaf page per series per commit:
                       * keep up to 16 MiB of them cached rather than read
                       * back from the OS each time (a small node never
                       * touches that many, so it costs it nothing). */
                      "PRAGMA cache_size = -16384;",
                      NULL, NULL, NULL);
    if (rc == SQLITE_OK) {
        char sql[1024];
        snprintf(sql, sizeof sql, "BEGIN IMMEDIATE;%sPRAGMA user_version = %d;COMMIT;", schema,
                 SCHEMA_VERSION);
        rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK && sqlite3_get_autocommit(s->db) == 0)
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
    for (int i = 0; i < ST__COUNT && rc == SQLITE_OK; i++)
        rc = sqlite3_prepare_v3(s->db, statements[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
                                NULL);
    if (rc == SQLITE_OK)
        rc = load_state(s);
    if (rc != SQLITE_OK)
        return hv_store_db_error(s, rc, what, err, errlen);
    return HV_OK;
}

int hv_store_open(const char *path, uint32_t raw_days, hv_store_t **ret, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (path == NULL || ret == NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: no path", path ? path : "(null)");
        return HV_EINVAL;
    }
    hv_store_t *s = calloc(1, sizeof *s);
    if (s == NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: out of memory", path);
        return HV_ENOMEM;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->gc_lock, NULL);
    s->raw_ms = (int64_t)(raw_days ? raw_days : 7) * 86400000;
    /* Our own mutex serialises every use of the connection. */
    int rc = sqlite3_open_v2(
        path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        int e = hv_store_db_error(s, rc, path, err, errlen);
        free_store(s);
        return e;
    }
    int e = setup(s, path, err, errlen);
    if (e != HV_OK) {
        free_store(s);
        return e;
    }
    *ret = s;
    return HV_OK;
}

void hv_store_close(hv_store_t *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->lock);
    sqlite3_exec(s->db, "PRAGMA optimize", NULL, NULL, NULL);
    pthread_mutex_unlock(&s->lock);
    free_store(s); /* the last connection checkpoints the WAL into the file */
}

char *hv_store_series_json(hv_store_t *s)
{
    if (s == NULL)
        return NULL;
    cJSON *arr = cJSON_CreateArray();
    if (arr == NULL)
        return NULL;
    bool ok = true;
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = s->st[ST_SERIES_LIST];
    int rc = SQLITE_DONE;
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *sensor = (const char *)sqlite3_column_text(st, 0);
        const char *field = (const char *)sqlite3_column_text(st, 1);
        cJSON *pair = cJSON_CreateArray();
        ok = sensor != NULL && field != NULL && pair != NULL &&
             cJSON_AddItemToArray(pair, cJSON_CreateString(sensor)) &&
             cJSON_AddItemToArray(pair, cJSON_CreateString(field)) &&
             cJSON_AddItemToArray(arr, pair);
        if (!ok)
            cJSON_Delete(pair);
    }
    if (ok && rc != SQLITE_DONE) {
        hv_log("store", HV_LOG_ERROR, "series: %s", sqlite3_errmsg(s->db));
        ok = false;
    }
    sqlite3_reset(st);
    pthread_mutex_unlock(&s->lock);
    char *json = ok ? cJSON_PrintUnformatted(arr) : NULL;
    cJSON_Delete(arr);
    return json;
}

/* Folds [lo, cut) and deletes raw points below the new horizon, in one
 * transaction; updates the cached marks once it has committed. */
static int maintain_locked(hv_store_t *s, int64_t now_ms)
{
    int64_t cut = hv_store_bucket(now_ms - HV_STORE_FOLD_AGE_MS);
    int64_t lo = s->refold < s->folded ? s->refold : s->folded;
    int64_t horizon = hv_store_bucket(now_ms - s->raw_ms);
    if (horizon > cut)
        horizon = cut; /* never delete what was not folded */
    bool fold = cut > lo, trim = horizon > s->horizon;
    if (!fold && !trim)
        return HV_OK;
    int64_t folded = cut > s->folded ? cut : s->folded;
    int64_t refold = s->refold;
    if (refold != INT64_MAX)
        refold = cut < s->folded ? (refold > cut ? refold : cut) : INT64_MAX;
    if (refold < horizon)
        refold = INT64_MAX; /* there is nothing left to refold below the horizon */

    int rc = hv_store_exec(s, ST_BEGIN);
    if (rc == SQLITE_OK && fold) {
        sqlite3_stmt *st = s->st[ST_FOLD];
        sqlite3_bind_int64(st, 1, lo < 0 ? 0 : lo);
        sqlite3_bind_int64(st, 2, cut);
        rc = hv_store_exec(s, ST_FOLD);
        sqlite3_clear_bindings(st);
    }
    if (rc == SQLITE_OK && trim) {
        sqlite3_stmt *st = s->st[ST_DELETE_RAW];
        sqlite3_bind_int64(st, 1, horizon);
        rc = hv_store_exec(s, ST_DELETE_RAW);
        sqlite3_clear_bindings(st);
    }
    if (rc == SQLITE_OK)
        rc = hv_store_meta_set(s, "folded_ms", folded);
    if (rc == SQLITE_OK)
        rc = hv_store_meta_set(s, "refold_ms", refold);
    if (rc == SQLITE_OK && trim)
        rc = hv_store_meta_set(s, "horizon_ms", horizon);
    if (rc == SQLITE_OK)
        rc = hv_store_exec(s, ST_COMMIT);
    if (rc != SQLITE_OK) {
        hv_log("store", HV_LOG_ERROR, "maintenance: %s", sqlite3_errmsg(s->db));
        int e = (rc & 0xFF) == SQLITE_NOMEM ? HV_ENOMEM : HV_EIO;
        hv_store_abort(s);
        return e;
    }
    s->folded = folded;
    s->refold = refold;
    if (trim)
        s->horizon = horizon;
    return HV_OK;
}

int hv_store_maintain(hv_store_t *s, int64_t now_ms)
{
    if (s == NULL)
        return HV_EINVAL;
    /* Keep the arithmetic below far from overflow. */
    if (now_ms < 0 || now_ms >= HV_STORE_MAX_TS_MS)
        return HV_EINVAL;
    pthread_mutex_lock(&s->lock);
    int rc = maintain_locked(s, now_ms);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/*
 * The reading history's internals, shared by store.c (open, schema,
 * maintenance, series), store_add.c (JSON -> raw points) and
 * store_history.c (queries -> JSON). Not part of the public API.
 *
 * Tables:
 *   series(id, sensor_id, field)             UNIQUE(sensor_id, field)
 *   raw(series_id, ts_ms, value)             PK(series_id, ts_ms), WITHOUT ROWID
 *   agg_5m(series_id, bucket_ms, n, min, max, sum)  PK(series_id, bucket_ms)
 *   meta(key, value)                         the three marks below
 *
 * Marks (bucket-aligned, kept in meta and cached here):
 *   horizon: raw points below it have been deleted; there agg_5m is the
 *            only truth, so a point below it is not stored again (a replay
 *            would otherwise turn its bucket's aggregate into one point).
 *   folded:  agg_5m holds the buckets of every raw point below it.
 *   refold:  INT64_MAX, or the first bucket below folded that got a point
 *            after it was folded (a late replay): maintain folds from there.
 */
#ifndef HV_STORE_IMPL_H
#define HV_STORE_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "hv_group.h"
#include "hv_store.h"

#define HV_STORE_BUCKET_MS 300000             /* aggregates: 5 minutes */
#define HV_STORE_FOLD_AGE_MS 3600000          /* raw older than this is folded */
#define HV_STORE_MAX_TS_MS (INT64_C(1) << 53) /* timestamps: [0, 2^53) ms */

enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SERIES_GET,
    ST_SERIES_ADD,
    ST_SERIES_LIST,
    ST_RAW_ADD,
    ST_META_SET,
    ST_FOLD,
    ST_DELETE_RAW,
    ST_HIST_RAW,
    ST_HIST_STEP,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST__COUNT
};

/* A series-cache slot (store_cache.c). */
typedef struct {
    char *key; /* sensor_id '\0' field '\0'; NULL: empty */
    size_t slen;
    uint64_t hash;
    int64_t id;
} hv_store_slot_t;


struct hv_store {
    pthread_mutex_t lock;
    sqlite3 *db;
    int64_t raw_ms; /* raw points kept this long */
    int64_t horizon, folded, refold;
    int64_t nseries;
    sqlite3_stmt *st[ST__COUNT];
    hv_store_slot_t *cache; /* series ids by name */
    size_t cache_cap, cache_n;
    /* Group commit: callers queue their values; one of them commits the
     * whole queue in one transaction (one fsync) while the next queue forms. */
    pthread_mutex_t gc_lock;
    hv_group_t gc;
};

/* The series cache: an id or 0; remember one; forget all. Under lock. */
int64_t hv_store_cache_get(hv_store_t *s, const char *sensor, const char *field);
void hv_store_cache_put(hv_store_t *s, const char *sensor, const char *field, int64_t id);
void hv_store_cache_clear(hv_store_t *s);

/* Rounds down to a multiple of HV_STORE_BUCKET_MS (negative too). */
int64_t hv_store_bucket(int64_t ts);

/* "what: sqlite message" into err; HV_ENOMEM or HV_EIO for rc. */
int hv_store_db_error(hv_store_t *s, int rc, const char *what, char *err, size_t errlen);

/* Runs a statement without results (BEGIN, COMMIT...) and resets it. */
int hv_store_exec(hv_store_t *s, int which);

/* Writes one mark into meta (inside the caller's transaction). */
int hv_store_meta_set(hv_store_t *s, const char *key, int64_t value);

/* Rolls back the open transaction and reloads the cached marks and series
 * count from the database. */
void hv_store_abort(hv_store_t *s);

/* Looks up a series id; 0 when unknown (SQLITE_DONE), or an SQLite error. */
int hv_store_series_id(hv_store_t *s, const char *sensor_id, const char *field, int64_t *ret_id);

#endif

/*
 * Reading history in SQLite (WAL): every numeric value of every reading is
 * stored as (sensor_id, field, ts_ms, value); 5-minute min/max/mean
 * aggregates are kept long-term and raw points for raw_days. A reading is
 * acknowledged only once its transaction has committed, so a restart
 * loses nothing acknowledged. (sensor_id, field, ts_ms) is unique: the
 * same reading stored twice (a spoke replaying) is kept once.
 *
 * Thread-safe: one connection guarded by a mutex.
 */
#ifndef HV_STORE_H
#define HV_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "hv_error.h"

typedef struct hv_store hv_store_t;

/* Opens (creating) the database at path. raw_days: how long raw points are
 * kept (0: 7). On failure "path: reason" in err, *ret untouched. */
int hv_store_open(const char *path, uint32_t raw_days, hv_store_t **ret, char *err,
                  size_t errlen);
void hv_store_close(hv_store_t *s);

/*
 * Stores readings given as the daemon's JSON array
 * [{"sensor_id", "plugin", "timestamp", "data": {...}}]: each numeric
 * member of data is a field ("temperature"); generic readings'
 * {"fields": [{"name","value"}]} become fields by name; nested objects are
 * flattened with '.' ("latency.hub"); booleans are stored as 1/0; strings,
 * nulls and other arrays are ignored. A point older than the raw points
 * already deleted by hv_store_maintain is not stored again (its 5-minute
 * aggregate is final). Returns HV_OK once committed (with
 * *ret_added = values newly stored, duplicates not counted), HV_EINVAL for
 * malformed JSON (message in err), HV_EIO for a database error.
 */
int hv_store_add_json(hv_store_t *s, const char *json, size_t len, size_t *ret_added, char *err,
                      size_t errlen);

/* The same from readings already parsed (by hv_json_parse, whose flags
 * mark strings holding U+0000), saving a parse: the hub's pushes. Calls
 * that arrive together are committed together (one fsync), each still
 * all-or-nothing. */
struct cJSON;
int hv_store_add_tree(hv_store_t *s, const struct cJSON *readings, size_t *ret_added, char *err,
                      size_t errlen);

/* Would hv_store_add_tree accept these readings (shape, names, caps)?
 * HV_OK, or the error it would give. Touches no database. */
int hv_store_check_tree(const struct cJSON *readings, char *err, size_t errlen);

/*
 * Many batches of readings in one transaction (the hub applying its
 * journal), each all-or-nothing in its own savepoint. HV_OK once
 * committed, with *ret_failed the batches refused (the first one's reason
 * in err; they are not retried); HV_EIO/HV_ENOMEM when the transaction
 * failed (nothing stored: try again).
 */
int hv_store_add_trees(hv_store_t *s, const struct cJSON *const *readings, size_t n,
                       size_t *ret_added, size_t *ret_failed, char *err, size_t errlen);

/* Caps on what a peer sends (HV_ETOOBIG past them, nothing stored): bytes
 * of a sensor_id or field name, numeric values in one hv_store_add_json
 * call, distinct (sensor_id, field) series in the database. */
#define HV_STORE_MAX_NAME 128
#define HV_STORE_MAX_VALUES 10000
#define HV_STORE_MAX_SERIES 65536 /* 4096 nodes (HV_CLUSTER_MAX_NODES) x 16 values */

/*
 * History of one (sensor, field) in [from_ms, to_ms] as JSON (malloc'd):
 * step_ms == 0: raw points {"t":[...],"v":[...]}; else buckets of step_ms
 * {"t":[...],"min":[...],"max":[...],"mean":[...]} built from raw points
 * and, where raw points are gone, from the 5-minute aggregates. At most
 * HV_STORE_MAX_POINTS points (HV_ETOOBIG past that: use a larger step).
 */
#define HV_STORE_MAX_POINTS 100000
int hv_store_history_json(hv_store_t *s, const char *sensor_id, const char *field, int64_t from_ms,
                          int64_t to_ms, int64_t step_ms, char **ret_json, char *err,
                          size_t errlen);

/* Every (sensor_id, field) pair known, as a JSON array of [sensor, field]. */
char *hv_store_series_json(hv_store_t *s);

/* Folds raw points older than an hour into 5-minute aggregates (idempotent)
 * and deletes raw points older than raw_days. Call now and then. */
int hv_store_maintain(hv_store_t *s, int64_t now_ms);

#endif

/*
 * History queries -> JSON. step 0: the raw points of [from, to]. step > 0:
 * buckets of step ms aligned on multiples of step (bucket = ts / step),
 * computed in SQL from the raw points and, below the horizon where raw
 * points are gone, from the 5-minute aggregates whose start is in
 * [from, to] (an aggregate counts whole in the bucket holding its start,
 * so a step that is not a multiple of 5 minutes is approximate there).
 * Empty buckets are left out.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_internal.h"
#include "store_impl.h"

typedef struct {
    int64_t t;
    double v[3]; /* raw: v[0]; buckets: min, max, mean (NAN: null) */
} row_t;

typedef struct {
    char *p;
    size_t n, cap;
    bool oom;
} buf_t;

static void put(buf_t *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->cap - b->n < n + 1) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->n < n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void put_str(buf_t *b, const char *s)
{
    put(b, s, strlen(s));
}

/* One array of the rows' times (col < 0) or of column col. */
static void put_array(buf_t *b, const char *name, const row_t *rows, size_t n, int col)
{
    char num[32];
    put_str(b, "\"");
    put_str(b, name);
    put_str(b, "\":[");
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            put(b, ",", 1);
        if (col < 0)
            put(b, num, (size_t)snprintf(num, sizeof num, "%" PRId64, rows[i].t));
        else if (isfinite(rows[i].v[col]))
            put(b, num, hv_json_fmt_f64(rows[i].v[col], num));
        else
            put_str(b, "null"); /* a sum past the range of a double */
    }
    put(b, "]", 1);
}

static double column_double(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? NAN : sqlite3_column_double(st, col);
}

/* Runs the query for series id into rows; SQLite's rc (SQLITE_DONE when all read). */
static int query(hv_store_t *s, int64_t id, int64_t from, int64_t to, int64_t step,
                 row_t **ret_rows, size_t *ret_n, bool *oom)
{
    sqlite3_stmt *st = s->st[step > 0 ? ST_HIST_STEP : ST_HIST_RAW];
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to);
    if (step > 0) {
        sqlite3_bind_int64(st, 4, step);
        sqlite3_bind_int64(st, 5, s->horizon);
        sqlite3_bind_int64(st, 6, HV_STORE_MAX_POINTS + 1);
    } else {
        sqlite3_bind_int64(st, 4, HV_STORE_MAX_POINTS + 1);
    }
    row_t *rows = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t c = cap ? 2 * cap : 256;
            row_t *r = realloc(rows, c * sizeof *r);
            if (r == NULL) {
                *oom = true;
                break;
            }
            rows = r;
            cap = c;
        }
        row_t *r = &rows[n++];
        if (step > 0) {
            r->t = sqlite3_column_int64(st, 0) * step; /* <= a timestamp: no overflow */
            r->v[0] = column_double(st, 1);
            r->v[1] = column_double(st, 2);
            int64_t count = sqlite3_column_int64(st, 4);
            r->v[2] = count > 0 ? column_double(st, 3) / (double)count : NAN;
        } else {
            r->t = sqlite3_column_int64(st, 0);
            r->v[0] = sqlite3_column_double(st, 1);
        }
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    *ret_rows = rows;
    *ret_n = n;
    return rc;
}

int hv_store_history_json(hv_store_t *s, const char *sensor_id, const char *field, int64_t from_ms,
                          int64_t to_ms, int64_t step_ms, char **ret_json, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    const char *why = NULL;
    if (s == NULL || sensor_id == NULL || field == NULL || ret_json == NULL)
        why = "missing argument";
    else if (step_ms < 0)
        why = "step must not be negative";
    else if (from_ms > to_ms)
        why = "from is after to";
    if (why != NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "history: %s", why);
        return HV_EINVAL;
    }
    row_t *rows = NULL;
    size_t n = 0;
    bool oom = false;
    pthread_mutex_lock(&s->lock);
    int64_t id = 0;
    int rc = hv_store_series_id(s, sensor_id, field, &id);
    if (rc == SQLITE_OK && id != 0)
        rc = query(s, id, from_ms, to_ms, step_ms, &rows, &n, &oom);
    else if (rc == SQLITE_OK)
        rc = SQLITE_DONE; /* unknown series: no points */
    int e = HV_OK;
    if (oom) {
        e = HV_ENOMEM;
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "history: out of memory");
    } else if (rc != SQLITE_DONE) {
        e = hv_store_db_error(s, rc, "history", err, errlen);
    }
    pthread_mutex_unlock(&s->lock);
    if (e == HV_OK && n > HV_STORE_MAX_POINTS) {
        e = HV_ETOOBIG;
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "history: more than %d points: use a larger step",
                     HV_STORE_MAX_POINTS);
    }
    if (e != HV_OK) {
        free(rows);
        return e;
    }
    buf_t b = {0};
    put_str(&b, "{");
    put_array(&b, "t", rows, n, -1);
    if (step_ms > 0) {
        put_str(&b, ",");
        put_array(&b, "min", rows, n, 0);
        put_str(&b, ",");
        put_array(&b, "max", rows, n, 1);
        put_str(&b, ",");
        put_array(&b, "mean", rows, n, 2);
    } else {
        put_str(&b, ",");
        put_array(&b, "v", rows, n, 0);
    }
    put_str(&b, "}");
    free(rows);
    if (b.oom) {
        free(b.p);
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "history: out of memory");
        return HV_ENOMEM;
    }
    *ret_json = b.p;
    return HV_OK;
}

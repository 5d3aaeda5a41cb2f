/*
 * Readings JSON -> raw points. The whole text is checked first (strict
 * JSON by hv_json_parse, then the readings shape and every cap) and the
 * values collected; only then are they written, in one transaction with
 * prepared statements, so a call stores all of its values or none.
 *
 * What is a value: in a reading's "data" every number is one, and so is
 * every boolean (true 1, false 0: an alarm or a relay state charts like any
 * other value); members of nested objects are named by their path
 * ("latency.hub"); a top-level "fields" array of {"name", "value"} (the
 * generic sensor-plugin reading) gives one value per element, named by
 * its name. Strings, nulls, other arrays, numbers too large for a double
 * (1e999) and members with an empty name are ignored.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_internal.h"
#include "store_impl.h"

typedef struct {
    const char *sensor; /* in the cJSON tree */
    size_t name;        /* offset in names */
    size_t reading;     /* index in the array, for messages */
    int64_t ts;
    double value;
} item_t;

typedef struct {
    item_t *items;
    size_t n, cap;
    char *names;
    size_t nlen, ncap;
    /* the reading being collected */
    size_t reading;
    const char *sensor;
    int64_t ts;
    /* the member path in data, cut at HV_STORE_MAX_NAME + 1 bytes */
    char path[HV_STORE_MAX_NAME + 2];
    size_t plen;
    char *err;
    size_t errlen;
} collect_t;

static int fail(collect_t *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(collect_t *c, int code, const char *fmt, ...)
{
    if (c->err != NULL && c->errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err, c->errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* The start of a long name for a message: 40 bytes, cut on a character. */
static int shown(const char *name, size_t len)
{
    if (len <= 40)
        return (int)len;
    size_t n = 40;
    while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80)
        n--;
    return (int)n;
}

static int too_long(collect_t *c, const char *where, const char *name, size_t len)
{
    int n = shown(name, len);
    return fail(c, HV_ETOOBIG, "$[%zu].%s: field name '%.*s%s' is longer than %d bytes", c->reading,
                where, n, name, (size_t)n < len ? "..." : "", HV_STORE_MAX_NAME);
}

static int add_value(collect_t *c, const char *name, size_t len, double value)
{
    if (c->n == HV_STORE_MAX_VALUES)
        return fail(c, HV_ETOOBIG, "$[%zu].data: more than %d values in one call", c->reading,
                    HV_STORE_MAX_VALUES);
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        item_t *items = realloc(c->items, cap * sizeof *items);
        if (items == NULL)
            return fail(c, HV_ENOMEM, "$: out of memory");
        c->items = items;
        c->cap = cap;
    }
    if (c->ncap - c->nlen < len + 1) {
        size_t cap = c->ncap ? 2 * c->ncap : 1024;
        while (cap - c->nlen < len + 1)
            cap *= 2;
        char *names = realloc(c->names, cap);
        if (names == NULL)
            return fail(c, HV_ENOMEM, "$: out of memory");
        c->names = names;
        c->ncap = cap;
    }
    memcpy(c->names + c->nlen, name, len);
    c->names[c->nlen + len] = '\0';
    c->items[c->n++] = (item_t){
        .sensor = c->sensor, .name = c->nlen, .reading = c->reading, .ts = c->ts, .value = value};
    c->nlen += len + 1;
    return HV_OK;
}

/* A storable scalar: a finite number or a boolean. */
static bool scalar(const cJSON *j, double *ret)
{
    switch (j->type & 0xFF) {
    case cJSON_Number:
        *ret = j->valuedouble;
        return isfinite(*ret);
    case cJSON_True:
        *ret = 1;
        return true;
    case cJSON_False:
        *ret = 0;
        return true;
    default:
        return false;
    }
}

/* {"fields": [{"name": "lux", "value": 333.3, "unit": "lx"}, ...]} */
static int walk_fields(collect_t *c, const cJSON *arr)
{
    const cJSON *e;
    size_t k = 0;
    cJSON_ArrayForEach(e, arr)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(e, "value");
        double v = 0;
        if (cJSON_IsObject(e) && cJSON_IsString(name) && value != NULL && scalar(value, &v)) {
            if (name->type & HV_JSON_HASLEN)
                return fail(c, HV_EINVAL, "$[%zu].data.fields[%zu].name: holds U+0000", c->reading,
                            k);
            size_t len = strlen(name->valuestring);
            if (len > HV_STORE_MAX_NAME) {
                char where[64];
                snprintf(where, sizeof where, "data.fields[%zu].name", k);
                return too_long(c, where, name->valuestring, len);
            }
            if (len > 0) {
                int rc = add_value(c, name->valuestring, len, v);
                if (rc != HV_OK)
                    return rc;
            }
        }
        k++;
    }
    return HV_OK;
}

/* Appends n bytes to the path; past the buffer only its length grows. */
static void path_put(collect_t *c, const char *str, size_t n)
{
    if (c->plen < sizeof c->path - 1) {
        size_t room = sizeof c->path - 1 - c->plen;
        size_t k = n < room ? n : room;
        memcpy(c->path + c->plen, str, k);
        c->path[c->plen + k] = '\0';
    }
    c->plen += n;
}

/* Members of an object of data, named by their path from data. */
static int walk_object(collect_t *c, const cJSON *obj, bool top)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, obj)
    {
        const char *key = m->string;
        double v = 0;
        bool is_scalar = scalar(m, &v);
        bool is_fields = top && cJSON_IsArray(m) && key != NULL && strcmp(key, "fields") == 0;
        if (key == NULL || key[0] == '\0' || (!is_scalar && !is_fields && !cJSON_IsObject(m)))
            continue;
        if (m->type & HV_JSON_KEYNUL)
            return fail(c, HV_EINVAL, "$[%zu].data: a member name holds U+0000", c->reading);
        if (is_fields) {
            int rc = walk_fields(c, m);
            if (rc != HV_OK)
                return rc;
            continue;
        }
        size_t saved = c->plen;
        if (c->plen > 0)
            path_put(c, ".", 1);
        path_put(c, key, strlen(key));
        int rc = HV_OK;
        if (is_scalar) {
            if (c->plen > HV_STORE_MAX_NAME)
                rc = too_long(c, "data", c->path, c->plen);
            else
                rc = add_value(c, c->path, c->plen, v);
        } else {
            rc = walk_object(c, m, false); /* depth <= HV_VALUE_MAX_DEPTH */
        }
        c->plen = saved;
        if (saved < sizeof c->path)
            c->path[saved] = '\0';
        if (rc != HV_OK)
            return rc;
    }
    return HV_OK;
}

static int collect(collect_t *c, const cJSON *root)
{
    if (!cJSON_IsArray(root))
        return fail(c, HV_EINVAL, "$: expected an array of readings");
    const cJSON *r;
    c->reading = 0;
    cJSON_ArrayForEach(r, root)
    {
        if (!cJSON_IsObject(r))
            return fail(c, HV_EINVAL, "$[%zu]: expected a reading object", c->reading);
        const cJSON *sid = cJSON_GetObjectItemCaseSensitive(r, "sensor_id");
        const cJSON *ts = cJSON_GetObjectItemCaseSensitive(r, "timestamp");
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(r, "data");
        if (!cJSON_IsString(sid))
            return fail(c, HV_EINVAL, "$[%zu].sensor_id: expected a string", c->reading);
        if (sid->type & HV_JSON_HASLEN)
            return fail(c, HV_EINVAL, "$[%zu].sensor_id: holds U+0000", c->reading);
        size_t len = strlen(sid->valuestring);
        if (len == 0)
            return fail(c, HV_EINVAL, "$[%zu].sensor_id: empty", c->reading);
        if (len > HV_STORE_MAX_NAME)
            return fail(c, HV_ETOOBIG, "$[%zu].sensor_id: longer than %d bytes", c->reading,
                        HV_STORE_MAX_NAME);
        if (!cJSON_IsNumber(ts))
            return fail(c, HV_EINVAL, "$[%zu].timestamp: expected a number (ms)", c->reading);
        double t = floor(ts->valuedouble);
        if (!(t >= 0 && t < (double)HV_STORE_MAX_TS_MS))
            return fail(c, HV_EINVAL, "$[%zu].timestamp: out of range (0 to 2^53 ms)", c->reading);
        if (!cJSON_IsObject(data))
            return fail(c, HV_EINVAL, "$[%zu].data: expected an object", c->reading);
        c->sensor = sid->valuestring;
        c->ts = (int64_t)t;
        c->plen = 0;
        c->path[0] = '\0';
        int rc = walk_object(c, data, true);
        if (rc != HV_OK)
            return rc;
        c->reading++;
    }
    return HV_OK;
}

/* Writes one caller's values inside the open transaction (caller holds
 * the lock). *ret_late: the first bucket below folded that got a point;
 * *ret_new: series created (to undo the count if this part is rolled back). */
static int insert_items(hv_store_t *s, collect_t *c, size_t *ret_added, int64_t *ret_late,
                        int64_t *ret_new)
{
    size_t added = 0;
    int rc = SQLITE_OK;
    sqlite3_stmt *add = s->st[ST_RAW_ADD], *mk = s->st[ST_SERIES_ADD];
    const char *last_sensor = NULL, *last_name = NULL;
    int64_t id = 0;
    for (size_t i = 0; i < c->n && rc == SQLITE_OK; i++) {
        const item_t *it = &c->items[i];
        if (it->ts < s->horizon)
            continue; /* its bucket is final in agg_5m */
        const char *name = c->names + it->name;
        if (last_sensor == NULL || strcmp(last_sensor, it->sensor) != 0 ||
            strcmp(last_name, name) != 0) {
            rc = hv_store_series_id(s, it->sensor, name, &id);
            if (rc == SQLITE_OK && id == 0) {
                if (s->nseries >= HV_STORE_MAX_SERIES) {
                    sqlite3_clear_bindings(add);
                    return fail(c, HV_ETOOBIG,
                                "$[%zu].data: '%s' would be series %d, over the limit", it->reading,
                                name, HV_STORE_MAX_SERIES + 1);
                }
                sqlite3_bind_text(mk, 1, it->sensor, -1, SQLITE_STATIC);
                sqlite3_bind_text(mk, 2, name, -1, SQLITE_STATIC);
                rc = sqlite3_step(mk);
                sqlite3_reset(mk);
                sqlite3_clear_bindings(mk);
                rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
                if (rc == SQLITE_OK) {
                    id = sqlite3_last_insert_rowid(s->db);
                    s->nseries++;
                    (*ret_new)++;
                    hv_store_cache_put(s, it->sensor, name, id);
                }
            }
            last_sensor = it->sensor;
            last_name = name;
        }
        if (rc != SQLITE_OK)
            break;
        sqlite3_bind_int64(add, 1, id);
        sqlite3_bind_int64(add, 2, it->ts);
        sqlite3_bind_double(add, 3, it->value);
        rc = sqlite3_step(add);
        sqlite3_reset(add);
        if (rc == SQLITE_DONE) {
            rc = SQLITE_OK;
            if (sqlite3_changes(s->db) > 0) {
                added++;
                if (it->ts < s->folded && hv_store_bucket(it->ts) < *ret_late)
                    *ret_late = hv_store_bucket(it->ts);
            }
        }
    }
    sqlite3_clear_bindings(add);
    if (rc != SQLITE_OK)
        return hv_store_db_error(s, rc, "database", c->err, c->errlen);
    *ret_added = added;
    return HV_OK;
}

/* One caller's values in a group commit. */
typedef struct {
    hv_group_member_t m; /* first: the batch is a list of these */
    collect_t *c;
    size_t added;
    int rc;
} pending_t;

#define PENDING(member) ((pending_t *)(void *)(member))

/* Commits a queue of callers' values in one transaction, each part in a
 * savepoint: a part that fails (over the series cap, say) is rolled back
 * alone and the others still commit. Takes the store's lock. */
static void commit_batch(void *ud, hv_group_member_t *batch)
{
    hv_store_t *s = ud;
    pthread_mutex_lock(&s->lock);
    int rc = hv_store_exec(s, ST_BEGIN);
    int64_t late = INT64_MAX;
    for (hv_group_member_t *m = batch; m; m = m->next) {
        pending_t *p = PENDING(m);
        if (rc != SQLITE_OK) {
            p->rc = hv_store_db_error(s, rc, "database", p->c->err, p->c->errlen);
            continue;
        }
        int64_t l = INT64_MAX, created = 0;
        int src = hv_store_exec(s, ST_SAVEPOINT);
        p->rc = src == SQLITE_OK ? insert_items(s, p->c, &p->added, &l, &created)
                                 : hv_store_db_error(s, src, "database", p->c->err, p->c->errlen);
        if (p->rc != HV_OK && src == SQLITE_OK) {
            /* Undo this part only; its new series are gone, so is the cache's
             * view of them. */
            if (hv_store_exec(s, ST_ROLLBACK_TO) != SQLITE_OK)
                rc = SQLITE_ERROR; /* the transaction is lost: fail the rest */
            hv_store_exec(s, ST_RELEASE);
            s->nseries -= created;
            if (created)
                hv_store_cache_clear(s);
            continue;
        }
        if (p->rc == HV_OK && (src = hv_store_exec(s, ST_RELEASE)) != SQLITE_OK)
            p->rc = hv_store_db_error(s, src, "database", p->c->err, p->c->errlen);
        if (p->rc == HV_OK && l < late)
            late = l;
    }
    if (rc == SQLITE_OK && late < s->refold)
        rc = hv_store_meta_set(s, "refold_ms", late);
    if (rc == SQLITE_OK)
        rc = hv_store_exec(s, ST_COMMIT);
    if (rc != SQLITE_OK) {
        for (hv_group_member_t *m = batch; m; m = m->next) {
            pending_t *p = PENDING(m);
            if (p->rc == HV_OK) {
                p->rc = hv_store_db_error(s, rc, "database", p->c->err, p->c->errlen);
                p->added = 0;
            }
        }
        hv_store_abort(s);
    } else if (late < s->refold) {
        s->refold = late;
    }
    pthread_mutex_unlock(&s->lock);
}

/* Queues c and waits until it is committed (hv_group.h): under load one
 * transaction and one fsync serve every caller that arrived meanwhile. */
static int group_commit(hv_store_t *s, collect_t *c, size_t *ret_added)
{
    static const hv_group_ops_t ops = {commit_batch, NULL};
    pending_t me = {.c = c, .rc = HV_OK};
    pthread_mutex_lock(&s->gc_lock);
    hv_group_join(&s->gc, &s->gc_lock, &me.m, &ops, s);
    pthread_mutex_unlock(&s->gc_lock);
    if (me.rc == HV_OK && ret_added != NULL)
        *ret_added = me.added;
    return me.rc;
}

int hv_store_add_tree(hv_store_t *s, const cJSON *readings, size_t *ret_added, char *err,
                      size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (ret_added != NULL)
        *ret_added = 0;
    if (s == NULL || readings == NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "$: no store or no readings");
        return HV_EINVAL;
    }
    collect_t c = {.err = err, .errlen = errlen};
    int rc = collect(&c, readings);
    if (rc == HV_OK && c.n > 0)
        rc = group_commit(s, &c, ret_added);
    free(c.items);
    free(c.names);
    return rc;
}

int hv_store_check_tree(const cJSON *readings, char *err, size_t errlen)
{
    collect_t c = {.err = err, .errlen = errlen};
    int rc = readings ? collect(&c, readings) : HV_EINVAL;
    free(c.items);
    free(c.names);
    return rc;
}

int hv_store_add_trees(hv_store_t *s, const cJSON *const *readings, size_t n, size_t *ret_added,
                       size_t *ret_failed, char *err, size_t errlen)
{
    pending_t *p = calloc(n ? n : 1, sizeof *p);
    collect_t *c = calloc(n ? n : 1, sizeof *c);
    char (*errs)[256] = calloc(n ? n : 1, sizeof *errs);
    if (p == NULL || c == NULL || errs == NULL) {
        free(p), free(c), free(errs);
        snprintf(err, errlen, "out of memory");
        return HV_ENOMEM;
    }
    /* Collect every part first (a malformed one is simply left out), then
     * commit them all in one transaction, each in its savepoint. */
    hv_group_member_t *head = NULL, **link = &head;
    size_t failed = 0, added = 0;
    for (size_t i = 0; i < n; i++) {
        c[i] = (collect_t){.err = errs[i], .errlen = sizeof errs[i]};
        p[i].c = &c[i];
        p[i].rc = readings[i] ? collect(&c[i], readings[i]) : HV_EINVAL;
        if (p[i].rc == HV_OK && c[i].n > 0) {
            *link = &p[i].m;
            link = &p[i].m.next;
        }
    }
    int rc = HV_OK;
    if (head != NULL) {
        commit_batch(s, head);
        for (hv_group_member_t *m = head; m; m = m->next)
            if (PENDING(m)->rc == HV_EIO || PENDING(m)->rc == HV_ENOMEM)
                rc = PENDING(m)->rc; /* the transaction failed: nothing of it is there */
    }
    err[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (p[i].rc != HV_OK && failed++ == 0)
            snprintf(err, errlen, "%s", errs[i]);
        added += p[i].added;
        free(c[i].items);
        free(c[i].names);
    }
    free(p), free(c), free(errs);
    if (rc != HV_OK)
        return rc;
    if (ret_added)
        *ret_added = added;
    if (ret_failed)
        *ret_failed = failed;
    return HV_OK;
}

int hv_store_add_json(hv_store_t *s, const char *json, size_t len, size_t *ret_added, char *err,
                      size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (ret_added != NULL)
        *ret_added = 0;
    if (s == NULL || (json == NULL && len > 0)) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "$: no store or no text");
        return HV_EINVAL;
    }
    cJSON *root = NULL;
    int rc = hv_json_parse(json ? json : "", len, &root, err, errlen);
    if (rc != HV_OK)
        return rc;
    rc = hv_store_add_tree(s, root, ret_added, err, errlen);
    cJSON_Delete(root);
    return rc;
}

/*
 * The spoke's store-and-forward queue (see hv_outbox.h), in SQLite:
 *
 *   outbox(id INTEGER PRIMARY KEY AUTOINCREMENT, body BLOB NOT NULL)
 *   meta(key, value)   'dropped': entries dropped for space, ever
 *
 * AUTOINCREMENT so an id is never reused, not even once the table has
 * emptied: the sender acks "everything up to id", and a reused id could
 * ack an entry the hub never saw. Depth and bytes are counted once at open
 * and then kept here, updated only after a commit succeeded.
 *
 * Durability as in the store (store.c): WAL with synchronous=FULL, so a put
 * is on disk, not just in the kernel, when it returns. A put and the drops
 * it causes are one transaction, so the dropped count can't disagree with
 * what is left after a crash.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "hv_log.h"
#include "hv_outbox.h"

#define SCHEMA_VERSION 1
#define DEFAULT_MAX_BYTES ((size_t)16 << 20)

static const char *const schema = "CREATE TABLE IF NOT EXISTS outbox("
                                  " id INTEGER PRIMARY KEY AUTOINCREMENT,"
                                  " body BLOB NOT NULL);"
                                  "CREATE TABLE IF NOT EXISTS meta("
                                  " key TEXT PRIMARY KEY,"
                                  " value INTEGER NOT NULL) WITHOUT ROWID;";

enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_INSERT,
    ST_OLDEST,
    ST_DELETE,
    ST_RANGE,
    ST_PEEK,
    ST_DROPPED_SET,
    ST__COUNT
};

/* length(body) reads the size from the record header, not the blob, so
 * walking sizes and peeking past a large entry stay cheap. */
static const char *const statements[ST__COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_INSERT] = "INSERT INTO outbox(body) VALUES(?1)",
    [ST_OLDEST] = "SELECT id, length(body) FROM outbox WHERE id < ?1 ORDER BY id",
    [ST_DELETE] = "DELETE FROM outbox WHERE id <= ?1",
    [ST_RANGE] = "SELECT count(*), coalesce(sum(length(body)), 0) FROM outbox WHERE id <= ?1",
    [ST_PEEK] = "SELECT id, length(body), body FROM outbox ORDER BY id",
    [ST_DROPPED_SET] = "INSERT OR REPLACE INTO meta(key, value) VALUES('dropped', ?1)",
};

struct hv_outbox {
    pthread_mutex_t lock;
    sqlite3 *db;
    char *path; /* for messages */
    size_t max_bytes;
    size_t depth, bytes;
    uint64_t dropped;
    sqlite3_stmt *st[ST__COUNT];
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
}

static int hv_code(int rc)
{
    return (rc & 0xFF) == SQLITE_NOMEM ? HV_ENOMEM : HV_EIO;
}

/* "path: sqlite message" into err; HV_ENOMEM or HV_EIO for rc. */
static int db_error(sqlite3 *db, int rc, const char *path, char *err, size_t errlen)
{
    set_err(err, errlen, "%s: %s", path, db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    return hv_code(rc);
}

/* The first column of sql's first row as text ("" if none); SQLite's rc. */
static int query(sqlite3 *db, const char *sql, char *buf, size_t size)
{
    sqlite3_stmt *st;
    buf[0] = '\0';
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
        snprintf(buf, size, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Runs a statement to its end (or first row) and resets it; SQLite's rc. */
static int run(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static int run_int(sqlite3_stmt *st, int64_t arg)
{
    sqlite3_bind_int64(st, 1, arg);
    return run(st);
}

/* Entries and body bytes with id <= upto; SQLite's rc. */
static int count_upto(hv_outbox_t *q, int64_t upto, size_t *ret_n, size_t *ret_bytes)
{
    sqlite3_stmt *st = q->st[ST_RANGE];
    sqlite3_bind_int64(st, 1, upto);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *ret_n = (size_t)sqlite3_column_int64(st, 0);
        *ret_bytes = (size_t)sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* Depth, bytes and dropped count from the database. */
static int load_state(hv_outbox_t *q)
{
    int rc = count_upto(q, INT64_MAX, &q->depth, &q->bytes);
    if (rc != SQLITE_OK)
        return rc;
    char buf[32];
    rc = query(q->db, "SELECT value FROM meta WHERE key = 'dropped'", buf, sizeof buf);
    if (rc == SQLITE_OK)
        q->dropped = strtoull(buf, NULL, 10); /* "": none dropped yet */
    return rc;
}

/* Commits the write begun, unless rc (SQLite's) says it failed already;
 * on failure "path: reason" in err, a rollback, and the cached counters
 * reloaded: after a failure the database is the truth, not the cache. */
static int end_write(hv_outbox_t *q, int rc, char *err, size_t errlen)
{
    if (rc == SQLITE_OK)
        rc = run(q->st[ST_COMMIT]);
    if (rc == SQLITE_OK)
        return HV_OK;
    int e = db_error(q->db, rc, q->path, err, errlen); /* before ROLLBACK clears the message */
    if (sqlite3_get_autocommit(q->db) == 0)
        run(q->st[ST_ROLLBACK]);
    if (load_state(q) != SQLITE_OK)
        hv_log("outbox", HV_LOG_ERROR, "%s: cannot reload state: %s", q->path,
               sqlite3_errmsg(q->db));
    return e;
}

static void free_outbox(hv_outbox_t *q)
{
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(q->st[i]);
    sqlite3_close(q->db);
    pthread_mutex_destroy(&q->lock);
    free(q->path);
    free(q);
}

/* Pragmas, schema, statements, state; "path: reason" on failure. */
static int setup(hv_outbox_t *q, char *err, size_t errlen)
{
    sqlite3_extended_result_codes(q->db, 1);
    sqlite3_busy_timeout(q->db, 5000); /* another process reading (sqlite3 CLI, backup) */
    char buf[32];
    int rc = query(q->db, "PRAGMA user_version", buf, sizeof buf);
    if (rc != SQLITE_OK)
        return db_error(q->db, rc, q->path, err, errlen);
    if (atoi(buf) > SCHEMA_VERSION) {
        set_err(err, errlen, "%s: schema version %s is newer than this daemon's (%d)", q->path, buf,
                SCHEMA_VERSION);
        return HV_EINVAL;
    }
    rc = query(q->db, "PRAGMA journal_mode = WAL", buf, sizeof buf);
    if (rc != SQLITE_OK)
        return db_error(q->db, rc, q->path, err, errlen);
    /* "memory" for ":memory:"; any other mode would not be durable as promised */
    if (strcmp(buf, "wal") != 0 && strcmp(buf, "memory") != 0) {
        set_err(err, errlen, "%s: cannot use WAL mode (journal mode stays '%s')", q->path, buf);
        return HV_EIO;
    }
    rc = sqlite3_exec(q->db,
                      "PRAGMA synchronous = FULL;"
                      "PRAGMA journal_size_limit = 8388608;",
                      NULL, NULL, NULL);
    if (rc == SQLITE_OK) {
        char sql[512];
        snprintf(sql, sizeof sql, "BEGIN IMMEDIATE;%sPRAGMA user_version = %d;COMMIT;", schema,
                 SCHEMA_VERSION);
        rc = sqlite3_exec(q->db, sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK && sqlite3_get_autocommit(q->db) == 0)
            sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
    }
    for (int i = 0; i < ST__COUNT && rc == SQLITE_OK; i++)
        rc = sqlite3_prepare_v3(q->db, statements[i], -1, SQLITE_PREPARE_PERSISTENT, &q->st[i],
                                NULL);
    if (rc == SQLITE_OK)
        rc = load_state(q);
    if (rc != SQLITE_OK)
        return db_error(q->db, rc, q->path, err, errlen);
    return HV_OK;
}

int hv_outbox_open(const char *path, size_t max_bytes, hv_outbox_t **ret, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (path == NULL || ret == NULL) {
        set_err(err, errlen, "%s: no path", path ? path : "(null)");
        return HV_EINVAL;
    }
    hv_outbox_t *q = calloc(1, sizeof *q);
    char *copy = strdup(path);
    if (q == NULL || copy == NULL) {
        free(q);
        free(copy);
        set_err(err, errlen, "%s: out of memory", path);
        return HV_ENOMEM;
    }
    pthread_mutex_init(&q->lock, NULL);
    q->path = copy;
    q->max_bytes = max_bytes ? max_bytes : DEFAULT_MAX_BYTES;
    /* Our own mutex serialises every use of the connection. */
    int rc = sqlite3_open_v2(
        path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    int e = rc == SQLITE_OK ? setup(q, err, errlen) : db_error(q->db, rc, path, err, errlen);
    if (e != HV_OK) {
        free_outbox(q);
        return e;
    }
    *ret = q;
    return HV_OK;
}

void hv_outbox_close(hv_outbox_t *q)
{
    if (q != NULL)
        free_outbox(q); /* the last connection checkpoints the WAL into the file */
}

/* Inside put's transaction, after the insert of id: deletes the oldest
 * entries before id until total fits in max_bytes; *ret_n, *ret_total. */
static int drop_oldest(hv_outbox_t *q, int64_t id, size_t total, size_t *ret_n, size_t *ret_total)
{
    sqlite3_stmt *st = q->st[ST_OLDEST];
    sqlite3_bind_int64(st, 1, id);
    size_t n = 0;
    int64_t cut = 0;
    int rc = SQLITE_OK;
    while (total > q->max_bytes && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cut = sqlite3_column_int64(st, 0);
        total -= (size_t)sqlite3_column_int64(st, 1);
        n++;
    }
    /* ROW: it fits now; DONE: only the new entry is left, and it stays */
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        rc = SQLITE_OK;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == SQLITE_OK && n > 0)
        rc = run_int(q->st[ST_DELETE], cut);
    if (rc == SQLITE_OK && n > 0)
        rc = run_int(q->st[ST_DROPPED_SET], (int64_t)(q->dropped + n));
    if (rc == SQLITE_OK) {
        *ret_n = n;
        *ret_total = total;
    }
    return rc;
}

int hv_outbox_put(hv_outbox_t *q, const char *body, size_t len, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (q == NULL || (body == NULL && len > 0))
        return HV_EINVAL;
    if (len > HV_OUTBOX_MAX_ENTRY) {
        set_err(err, errlen, "%s: entry of %zu bytes over the limit of %u", q->path, len,
                HV_OUTBOX_MAX_ENTRY);
        return HV_ETOOBIG;
    }
    pthread_mutex_lock(&q->lock);
    size_t dropped = 0, total = q->bytes + len;
    int rc = run(q->st[ST_BEGIN]);
    if (rc == SQLITE_OK) {
        sqlite3_stmt *st = q->st[ST_INSERT];
        /* "" for an empty body: a NULL blob would break NOT NULL */
        sqlite3_bind_blob(st, 1, body ? body : "", (int)len, SQLITE_STATIC);
        rc = run(st);
    }
    if (rc == SQLITE_OK && total > q->max_bytes)
        rc = drop_oldest(q, sqlite3_last_insert_rowid(q->db), total, &dropped, &total);
    int e = end_write(q, rc, err, errlen);
    if (e == HV_OK) {
        q->depth = q->depth + 1 - dropped;
        q->bytes = total;
        q->dropped += dropped;
    }
    pthread_mutex_unlock(&q->lock);
    return e;
}

void hv_outbox_entries_free(hv_outbox_entry_t *entries, size_t n)
{
    if (entries == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(entries[i].body);
    free(entries);
}

/* Appends the current row of st (len bytes of body) to *v. */
static int append_row(sqlite3_stmt *st, size_t len, hv_outbox_entry_t **v, size_t *n, size_t *cap)
{
    if (*n == *cap) {
        size_t ncap = *cap ? 2 * *cap : 16;
        hv_outbox_entry_t *nv = realloc(*v, ncap * sizeof *nv);
        if (nv == NULL)
            return HV_ENOMEM;
        *v = nv;
        *cap = ncap;
    }
    const void *blob = sqlite3_column_blob(st, 2);
    char *b = malloc(len + 1);
    if (b == NULL || (blob == NULL && len > 0)) { /* SQLite could not load it either */
        free(b);
        return HV_ENOMEM;
    }
    if (len > 0)
        memcpy(b, blob, len);
    b[len] = '\0';
    (*v)[(*n)++] = (hv_outbox_entry_t){.id = sqlite3_column_int64(st, 0), .body = b, .len = len};
    return HV_OK;
}

/* The peek itself, with the lock held; *ret_* set only on success. */
static int peek_locked(hv_outbox_t *q, size_t max_bytes, size_t max_entries,
                       hv_outbox_entry_t **ret_entries, size_t *ret_n)
{
    sqlite3_stmt *st = q->st[ST_PEEK];
    hv_outbox_entry_t *v = NULL;
    size_t n = 0, cap = 0, bytes = 0;
    int e = HV_OK, rc = SQLITE_DONE;
    /* rows are produced as stepped, so stopping early costs nothing */
    while (n < max_entries && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t len = (size_t)sqlite3_column_int64(st, 1);
        if (n > 0 && len > max_bytes - bytes)
            break; /* the first entry goes whatever its size, later ones must fit */
        e = append_row(st, len, &v, &n, &cap);
        if (e != HV_OK)
            break;
        bytes += len;
        if (bytes >= max_bytes)
            break; /* full: don't load the next row */
    }
    if (e == HV_OK && rc != SQLITE_ROW && rc != SQLITE_DONE) {
        hv_log("outbox", HV_LOG_ERROR, "%s: peek: %s", q->path, sqlite3_errmsg(q->db));
        e = hv_code(rc);
    }
    sqlite3_reset(st);
    if (e != HV_OK) {
        hv_outbox_entries_free(v, n);
        return e;
    }
    *ret_entries = v; /* NULL when n is 0: nothing was allocated */
    *ret_n = n;
    return HV_OK;
}

int hv_outbox_peek(hv_outbox_t *q, size_t max_bytes, size_t max_entries,
                   hv_outbox_entry_t **ret_entries, size_t *ret_n)
{
    /* max_entries 0 would return nothing from a full queue: a caller bug
     * that would look like "empty" */
    if (q == NULL || max_entries == 0 || ret_entries == NULL || ret_n == NULL)
        return HV_EINVAL;
    pthread_mutex_lock(&q->lock);
    int e = peek_locked(q, max_bytes, max_entries, ret_entries, ret_n);
    pthread_mutex_unlock(&q->lock);
    return e;
}

int hv_outbox_ack(hv_outbox_t *q, int64_t upto)
{
    if (q == NULL)
        return HV_EINVAL;
    pthread_mutex_lock(&q->lock);
    size_t n = 0, bytes = 0;
    int rc = run(q->st[ST_BEGIN]);
    if (rc == SQLITE_OK)
        rc = count_upto(q, upto, &n, &bytes);
    /* nothing to delete: the COMMIT of an empty transaction writes nothing */
    if (rc == SQLITE_OK && n > 0)
        rc = run_int(q->st[ST_DELETE], upto);
    char err[256];
    int e = end_write(q, rc, err, sizeof err);
    if (e != HV_OK) {
        hv_log("outbox", HV_LOG_ERROR, "ack: %s", err);
    } else {
        q->depth -= n;
        q->bytes -= bytes;
    }
    pthread_mutex_unlock(&q->lock);
    return e;
}

size_t hv_outbox_depth(hv_outbox_t *q)
{
    if (q == NULL)
        return 0;
    pthread_mutex_lock(&q->lock);
    size_t n = q->depth;
    pthread_mutex_unlock(&q->lock);
    return n;
}

size_t hv_outbox_bytes(hv_outbox_t *q)
{
    if (q == NULL)
        return 0;
    pthread_mutex_lock(&q->lock);
    size_t n = q->bytes;
    pthread_mutex_unlock(&q->lock);
    return n;
}

uint64_t hv_outbox_dropped(hv_outbox_t *q)
{
    if (q == NULL)
        return 0;
    pthread_mutex_lock(&q->lock);
    uint64_t n = q->dropped;
    pthread_mutex_unlock(&q->lock);
    return n;
}

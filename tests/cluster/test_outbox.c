/*
 * The spoke's outbox: order through put/peek/ack, peek limits, the bound
 * (oldest dropped first and counted, never the new entry), restarts and a
 * crash (the count and ids survive), a failed write (nothing changes),
 * size limit, binary bodies, a bad path and a putting thread racing a
 * peeking/acking one. Databases live in a mkdtemp directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
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

#include "hv_outbox.h"

static char dir[] = "/tmp/hv_outbox_XXXXXX";
static int ndb;

/* A fresh database path in the test directory. */
static const char *db_path(void)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/o%d.db", dir, ++ndb);
    return path;
}

static hv_outbox_t *open_q(const char *path, size_t max_bytes)
{
    hv_outbox_t *q = NULL;
    char err[256];
    int rc = hv_outbox_open(path, max_bytes, &q, err, sizeof err);
    if (rc != HV_OK)
        fail_msg("open %s: %s: %s", path, hv_err_name(rc), err);
    return q;
}

static void put(hv_outbox_t *q, const char *body, size_t len)
{
    char err[256];
    int rc = hv_outbox_put(q, body, len, err, sizeof err);
    if (rc != HV_OK)
        fail_msg("put: %s: %s", hv_err_name(rc), err);
}

static void put_str(hv_outbox_t *q, const char *body)
{
    put(q, body, strlen(body));
}

/* Puts a body of len bytes, all c. */
static void put_fill(hv_outbox_t *q, int c, size_t len)
{
    char *b = malloc(len ? len : 1);
    assert_non_null(b);
    memset(b, c, len);
    put(q, b, len);
    free(b);
}

static size_t peek(hv_outbox_t *q, size_t max_bytes, size_t max_entries, hv_outbox_entry_t **ret)
{
    size_t n = 77;
    *ret = (hv_outbox_entry_t *)&n; /* must be replaced */
    assert_int_equal(hv_outbox_peek(q, max_bytes, max_entries, ret, &n), HV_OK);
    if (n == 0)
        assert_null(*ret);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal((*ret)[i].body[(*ret)[i].len], '\0');
        if (i > 0)
            assert_true((*ret)[i].id > (*ret)[i - 1].id);
    }
    return n;
}

/* The bodies of everything queued, as "a,b,c"; ids into ids[] if not NULL. */
static char *all_bodies(hv_outbox_t *q, int64_t *ids)
{
    hv_outbox_entry_t *e;
    size_t n = peek(q, SIZE_MAX, SIZE_MAX, &e);
    static char text[4096];
    size_t off = 0;
    text[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        off += (size_t)snprintf(text + off, sizeof text - off, "%s%s", i ? "," : "", e[i].body);
        if (ids != NULL)
            ids[i] = e[i].id;
    }
    hv_outbox_entries_free(e, n);
    return text;
}

static void test_order(void **state)
{
    (void)state;
    hv_outbox_t *q = open_q(db_path(), 0);
    hv_outbox_entry_t *e;
    assert_int_equal(peek(q, 1000, 1000, &e), 0);
    const char *words[] = {"a", "bb", "ccc", "dddd", "e", "f", "g"};
    for (int i = 0; i < 7; i++)
        put_str(q, words[i]);
    assert_int_equal(hv_outbox_depth(q), 7);
    assert_int_equal(hv_outbox_bytes(q), 1 + 2 + 3 + 4 + 3);
    assert_int_equal(hv_outbox_dropped(q), 0);
    int64_t ids[7];
    assert_string_equal(all_bodies(q, ids), "a,bb,ccc,dddd,e,f,g");
    /* peek does not consume */
    assert_string_equal(all_bodies(q, NULL), "a,bb,ccc,dddd,e,f,g");

    /* ack of a partial batch: the rest stays, in order */
    assert_int_equal(peek(q, 1000, 3, &e), 3);
    assert_string_equal(e[2].body, "ccc");
    assert_int_equal(hv_outbox_ack(q, e[1].id), HV_OK);
    hv_outbox_entries_free(e, 3);
    assert_string_equal(all_bodies(q, NULL), "ccc,dddd,e,f,g");
    assert_int_equal(hv_outbox_depth(q), 5);
    assert_int_equal(hv_outbox_bytes(q), 3 + 4 + 3);
    put_str(q, "h");
    assert_string_equal(all_bodies(q, NULL), "ccc,dddd,e,f,g,h");
    /* acking again, or below the oldest, changes nothing */
    assert_int_equal(hv_outbox_ack(q, ids[1]), HV_OK);
    assert_int_equal(hv_outbox_ack(q, -5), HV_OK);
    assert_int_equal(hv_outbox_depth(q), 6);
    assert_int_equal(hv_outbox_ack(q, ids[4]), HV_OK);
    assert_string_equal(all_bodies(q, NULL), "f,g,h");
    assert_int_equal(hv_outbox_ack(q, INT64_MAX), HV_OK);
    assert_int_equal(hv_outbox_depth(q), 0);
    assert_int_equal(hv_outbox_bytes(q), 0);
    assert_int_equal(peek(q, 1000, 1000, &e), 0);
    assert_int_equal(hv_outbox_dropped(q), 0);
    hv_outbox_close(q);
}

static void test_peek_limits(void **state)
{
    (void)state;
    hv_outbox_t *q = open_q(db_path(), 0);
    for (int i = 0; i < 10; i++)
        put_fill(q, '0' + i, 100);
    hv_outbox_entry_t *e;
    /* bytes: 350 holds three of 100, exactly 300 too */
    assert_int_equal(peek(q, 350, 100, &e), 3);
    assert_int_equal(e[0].body[0], '0');
    assert_int_equal(e[2].body[0], '2');
    assert_int_equal(e[2].len, 100);
    hv_outbox_entries_free(e, 3);
    assert_int_equal(peek(q, 300, 100, &e), 3);
    hv_outbox_entries_free(e, 3);
    /* entries */
    assert_int_equal(peek(q, 100000, 4, &e), 4);
    assert_int_equal(e[3].body[0], '3');
    hv_outbox_entries_free(e, 4);
    /* at least one, whatever its size (0 bytes too) */
    assert_int_equal(peek(q, 10, 100, &e), 1);
    assert_int_equal(e[0].body[0], '0');
    assert_int_equal(e[0].len, 100);
    hv_outbox_entries_free(e, 1);
    assert_int_equal(peek(q, 0, 100, &e), 1);
    hv_outbox_entries_free(e, 1);
    /* a large entry in the middle comes out alone, at its turn */
    assert_int_equal(peek(q, SIZE_MAX, SIZE_MAX, &e), 10);
    assert_int_equal(hv_outbox_ack(q, e[8].id), HV_OK);
    hv_outbox_entries_free(e, 10);
    put_fill(q, 'L', 5000);
    put_fill(q, 'z', 10);
    assert_int_equal(peek(q, 1000, 100, &e), 1);
    assert_int_equal(e[0].body[0], '9');
    assert_int_equal(hv_outbox_ack(q, e[0].id), HV_OK);
    hv_outbox_entries_free(e, 1);
    assert_int_equal(peek(q, 1000, 100, &e), 1);
    assert_int_equal(e[0].len, 5000);
    assert_int_equal(e[0].body[4999], 'L');
    assert_int_equal(hv_outbox_ack(q, e[0].id), HV_OK);
    hv_outbox_entries_free(e, 1);
    assert_int_equal(peek(q, 1000, 100, &e), 1);
    assert_int_equal(e[0].len, 10);
    hv_outbox_entries_free(e, 1);
    /* max_entries 0 is a caller bug, not "empty"; *ret untouched */
    size_t n = 77;
    e = (hv_outbox_entry_t *)&n;
    assert_int_equal(hv_outbox_peek(q, 1000, 0, &e, &n), HV_EINVAL);
    assert_ptr_equal(e, (hv_outbox_entry_t *)&n);
    assert_int_equal(n, 77);
    hv_outbox_close(q);
}

static void test_bound(void **state)
{
    (void)state;
    hv_outbox_t *q = open_q(db_path(), 1000);
    for (int i = 0; i < 3; i++)
        put_fill(q, 'a' + i, 300);
    assert_int_equal(hv_outbox_depth(q), 3);
    assert_int_equal(hv_outbox_dropped(q), 0);
    put_fill(q, 'd', 100); /* exactly 1000: nothing dropped */
    assert_int_equal(hv_outbox_bytes(q), 1000);
    assert_int_equal(hv_outbox_dropped(q), 0);
    put_fill(q, 'e', 1); /* 1001: the oldest goes */
    assert_int_equal(hv_outbox_depth(q), 4);
    assert_int_equal(hv_outbox_bytes(q), 701);
    assert_int_equal(hv_outbox_dropped(q), 1);
    hv_outbox_entry_t *e;
    assert_int_equal(peek(q, SIZE_MAX, SIZE_MAX, &e), 4);
    assert_int_equal(e[0].body[0], 'b');
    assert_int_equal(e[3].body[0], 'e');
    hv_outbox_entries_free(e, 4);
    put_fill(q, 'f', 600); /* 1301: b and c go (two, oldest first) */
    assert_int_equal(hv_outbox_depth(q), 3);
    assert_int_equal(hv_outbox_bytes(q), 701);
    assert_int_equal(hv_outbox_dropped(q), 3);
    assert_int_equal(peek(q, SIZE_MAX, SIZE_MAX, &e), 3);
    assert_int_equal(e[0].body[0], 'd');
    assert_int_equal(e[2].body[0], 'f');
    hv_outbox_entries_free(e, 3);
    /* an entry over the bound alone: everything else goes, it stays */
    put_fill(q, 'g', 1500);
    assert_int_equal(hv_outbox_depth(q), 1);
    assert_int_equal(hv_outbox_bytes(q), 1500);
    assert_int_equal(hv_outbox_dropped(q), 6);
    assert_int_equal(peek(q, SIZE_MAX, SIZE_MAX, &e), 1);
    assert_int_equal(e[0].body[0], 'g');
    assert_int_equal(e[0].len, 1500);
    hv_outbox_entries_free(e, 1);
    put_fill(q, 'h', 1500); /* and then it is the oldest */
    assert_int_equal(hv_outbox_depth(q), 1);
    assert_int_equal(hv_outbox_dropped(q), 7);
    assert_int_equal(peek(q, SIZE_MAX, SIZE_MAX, &e), 1);
    assert_int_equal(e[0].body[0], 'h');
    hv_outbox_entries_free(e, 1);
    put_fill(q, 'i', 0);
    assert_int_equal(hv_outbox_depth(q), 1);
    assert_int_equal(hv_outbox_bytes(q), 0);
    assert_int_equal(hv_outbox_dropped(q), 8);
    hv_outbox_close(q);
}

static int64_t meta_dropped(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'dropped'", -1, &st, NULL),
        SQLITE_OK);
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void test_reopen(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s", db_path());
    hv_outbox_t *q = open_q(path, 22);
    const char *words[] = {"one", "two", "three", "four", "five", "six", "seven"};
    for (int i = 0; i < 7; i++)
        put_str(q, words[i]); /* bound 22: one, two dropped */
    int64_t ids[8];
    assert_string_equal(all_bodies(q, ids), "three,four,five,six,seven");
    assert_int_equal(hv_outbox_dropped(q), 2);
    assert_int_equal(hv_outbox_ack(q, ids[0]), HV_OK);
    int64_t last = ids[4];
    hv_outbox_close(q);
    assert_int_equal(meta_dropped(path), 2);

    q = open_q(path, 20); /* a smaller bound applies from the next put */
    assert_int_equal(hv_outbox_depth(q), 4);
    assert_int_equal(hv_outbox_bytes(q), 4 + 4 + 3 + 5);
    assert_int_equal(hv_outbox_dropped(q), 2);
    put_str(q, "eight"); /* 21: four goes */
    assert_int_equal(hv_outbox_dropped(q), 3);
    assert_string_equal(all_bodies(q, ids), "five,six,seven,eight");
    assert_true(ids[3] > last);
    last = ids[3];
    /* ids never go back, not even once the queue has emptied */
    assert_int_equal(hv_outbox_ack(q, last), HV_OK);
    assert_int_equal(hv_outbox_depth(q), 0);
    hv_outbox_close(q);
    q = open_q(path, 20);
    assert_int_equal(hv_outbox_depth(q), 0);
    assert_int_equal(hv_outbox_bytes(q), 0);
    assert_int_equal(hv_outbox_dropped(q), 3);
    put_str(q, "nine");
    assert_string_equal(all_bodies(q, ids), "nine");
    assert_true(ids[0] > last);
    hv_outbox_close(q);
    assert_int_equal(meta_dropped(path), 3);
}

static void sql(const char *path, const char *text)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, text, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* A failing write (a trigger injects the error) changes nothing: not the
 * queue, not the counters; a put and its drops commit together or not. */
static void test_failed_write(void **state)
{
    (void)state;
    char path[128], err[256] = "";
    snprintf(path, sizeof path, "%s", db_path());
    hv_outbox_t *q = open_q(path, 100);
    put_fill(q, 'a', 40);
    put_fill(q, 'b', 40);
    sql(path, "CREATE TABLE fail(x);"
              "CREATE TRIGGER no_delete BEFORE DELETE ON outbox"
              " WHEN EXISTS (SELECT 1 FROM fail) BEGIN SELECT RAISE(ABORT, 'injected'); END;"
              "INSERT INTO fail VALUES(1);");
    char c[40];
    memset(c, 'c', sizeof c);
    assert_int_equal(hv_outbox_put(q, c, sizeof c, err, sizeof err), HV_EIO);
    assert_true(strncmp(err, path, strlen(path)) == 0);
    assert_non_null(strstr(err, "injected"));
    assert_int_equal(hv_outbox_depth(q), 2);
    assert_int_equal(hv_outbox_bytes(q), 80);
    assert_int_equal(hv_outbox_dropped(q), 0);
    hv_outbox_entry_t *e;
    assert_int_equal(peek(q, SIZE_MAX, SIZE_MAX, &e), 2);
    assert_int_equal(e[1].body[0], 'b');
    assert_int_equal(hv_outbox_ack(q, e[0].id), HV_EIO);
    hv_outbox_entries_free(e, 2);
    assert_int_equal(hv_outbox_depth(q), 2);
    put_fill(q, 'd', 20); /* no drop needed: fine */
    assert_int_equal(hv_outbox_depth(q), 3);
    sql(path, "DELETE FROM fail;");
    put(q, c, sizeof c); /* now a goes */
    assert_int_equal(hv_outbox_depth(q), 3);
    assert_int_equal(hv_outbox_bytes(q), 100);
    assert_int_equal(hv_outbox_dropped(q), 1);
    assert_int_equal(peek(q, SIZE_MAX, SIZE_MAX, &e), 3);
    assert_int_equal(e[0].body[0], 'b');
    assert_int_equal(e[2].body[0], 'c');
    hv_outbox_entries_free(e, 3);
    hv_outbox_close(q);
    assert_int_equal(meta_dropped(path), 1);
}

static void test_crash(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s", db_path());
    enum { N = 40 };
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* each put returns = durable; then die without close (no checkpoint) */
        hv_outbox_t *c = NULL;
        char err[256], body[32];
        if (hv_outbox_open(path, 0, &c, err, sizeof err) != HV_OK)
            _exit(1);
        for (int i = 0; i < N; i++) {
            snprintf(body, sizeof body, "%d", i);
            if (hv_outbox_put(c, body, strlen(body), err, sizeof err) != HV_OK)
                _exit(2);
        }
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    hv_outbox_t *q = open_q(path, 0);
    assert_int_equal(hv_outbox_depth(q), N);
    hv_outbox_entry_t *e;
    assert_int_equal(peek(q, SIZE_MAX, SIZE_MAX, &e), N);
    for (int i = 0; i < N; i++) {
        char want[32];
        snprintf(want, sizeof want, "%d", i);
        assert_string_equal(e[i].body, want);
    }
    hv_outbox_entries_free(e, N);
    hv_outbox_close(q);
}

static void test_limits_and_binary(void **state)
{
    (void)state;
    hv_outbox_t *q = open_q(db_path(), 0);
    char err[256] = "";
    char *big = calloc(1, HV_OUTBOX_MAX_ENTRY + 1);
    assert_non_null(big);
    assert_int_equal(hv_outbox_put(q, big, HV_OUTBOX_MAX_ENTRY + 1, err, sizeof err), HV_ETOOBIG);
    assert_non_null(strstr(err, "over the limit"));
    assert_int_equal(hv_outbox_depth(q), 0);
    assert_int_equal(hv_outbox_put(q, NULL, 3, err, sizeof err), HV_EINVAL);
    /* exactly the limit is fine, NULs and all */
    big[HV_OUTBOX_MAX_ENTRY - 1] = 'x';
    put(q, big, HV_OUTBOX_MAX_ENTRY);
    char bin[256 + 4];
    for (int i = 0; i < 256; i++)
        bin[i] = (char)i;
    memcpy(bin + 256, "\0a\0\0", 4);
    put(q, bin, sizeof bin);
    put(q, NULL, 0);
    put(q, "\0", 1);
    assert_int_equal(hv_outbox_depth(q), 4);
    assert_int_equal(hv_outbox_bytes(q), HV_OUTBOX_MAX_ENTRY + sizeof bin + 0 + 1);
    hv_outbox_entry_t *e;
    assert_int_equal(peek(q, SIZE_MAX, SIZE_MAX, &e), 4);
    assert_int_equal(e[0].len, HV_OUTBOX_MAX_ENTRY);
    assert_memory_equal(e[0].body, big, HV_OUTBOX_MAX_ENTRY);
    assert_int_equal(e[1].len, sizeof bin);
    assert_memory_equal(e[1].body, bin, sizeof bin);
    assert_int_equal(e[2].len, 0);
    assert_non_null(e[2].body);
    assert_int_equal(e[3].len, 1);
    assert_int_equal(e[3].body[0], '\0');
    hv_outbox_entries_free(e, 4);
    free(big);
    hv_outbox_close(q);
}

static void test_bad_path(void **state)
{
    (void)state;
    char path[160], err[256] = "";
    snprintf(path, sizeof path, "%s/no-such-dir/q.db", dir);
    hv_outbox_t *q = (hv_outbox_t *)path; /* must stay */
    int rc = hv_outbox_open(path, 0, &q, err, sizeof err);
    assert_int_not_equal(rc, HV_OK);
    assert_ptr_equal(q, (hv_outbox_t *)path);
    assert_true(strncmp(err, path, strlen(path)) == 0);
    assert_true(strlen(err) > strlen(path) + 2);
    /* not a database */
    snprintf(path, sizeof path, "%s/junk.db", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("this is not an SQLite database, not even close to one......................", f);
    fclose(f);
    rc = hv_outbox_open(path, 0, &q, err, sizeof err);
    assert_int_equal(rc, HV_EIO);
    assert_true(strncmp(err, path, strlen(path)) == 0);
}

/* ---- a producer and a consumer ------------------------------------------ */

enum { TOTAL = 2000 };

static char producer_err[256];

static void *producer(void *arg)
{
    hv_outbox_t *q = arg;
    char body[32];
    for (int i = 0; i < TOTAL; i++) {
        int len = snprintf(body, sizeof body, "m%d", i);
        if (hv_outbox_put(q, body, (size_t)len, producer_err, sizeof producer_err) != HV_OK)
            return producer_err; /* non-NULL: failed */
    }
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_threads(void **state)
{
    (void)state;
    hv_outbox_t *q = open_q(db_path(), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, producer, q), 0);
    int next = 0, batches = 0;
    int64_t last_id = 0;
    double deadline = now_s() + 120;
    while (next < TOTAL && now_s() < deadline) {
        hv_outbox_entry_t *e;
        size_t n = peek(q, 64, 13, &e);
        for (size_t i = 0; i < n; i++) {
            char want[32];
            snprintf(want, sizeof want, "m%d", next++);
            assert_string_equal(e[i].body, want); /* in order, none twice, none lost */
            assert_true(e[i].id > last_id);
            last_id = e[i].id;
        }
        if (n > 0) {
            assert_int_equal(hv_outbox_ack(q, e[n - 1].id), HV_OK);
            batches++;
        } else {
            usleep(200);
        }
        hv_outbox_entries_free(e, n);
    }
    void *res;
    assert_int_equal(pthread_join(t, &res), 0);
    if (res != NULL)
        fail_msg("producer: %s", producer_err);
    assert_int_equal(next, TOTAL);
    assert_int_equal(hv_outbox_depth(q), 0);
    assert_int_equal(hv_outbox_bytes(q), 0);
    assert_int_equal(hv_outbox_dropped(q), 0);
    printf("outbox: %d entries in %d batches\n", TOTAL, batches);
    hv_outbox_close(q);
}

#include "../tmpdir.h"

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_peek_limits),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_reopen),
        cmocka_unit_test(test_failed_write),
        cmocka_unit_test(test_crash),
        cmocka_unit_test(test_limits_and_binary),
        cmocka_unit_test(test_bad_path),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}

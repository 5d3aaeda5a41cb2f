/*
 * The hub's ingest journal: order and exact bytes (binary, empty, the
 * NUL-terminated copy), the on-disk format, batches of about batch_bytes,
 * a failing callback (its code returned, the batch handed over again,
 * earlier batches not), emptying, reopening, a crash (every acknowledged
 * append survives a SIGKILL), torn tails cut on open, back-pressure, size
 * limits, a bad path, and threads appending while another applies.
 * Journals live in a mkdtemp directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hv_journal.h"

#define HEADER 8

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

static char dir[] = "/tmp/hv_journal_XXXXXX";
static int nfile;

/* A fresh journal path in the test directory (copied by the caller). */
static const char *j_path(void)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/j%d.journal", dir, ++nfile);
    return path;
}

static hv_journal_t *open_j(const char *path, size_t max_bytes)
{
    hv_journal_t *j = NULL;
    char err[256] = "";
    int rc = hv_journal_open(path, max_bytes, &j, err, sizeof err);
    if (rc != HV_OK)
        fail_msg("open %s: %s: %s", path, hv_err_name(rc), err);
    assert_non_null(j);
    return j;
}

static void app(hv_journal_t *j, const void *data, size_t len)
{
    char err[256] = "";
    int rc = hv_journal_append(j, data, len, err, sizeof err);
    if (rc != HV_OK)
        fail_msg("append of %zu bytes: %s: %s", len, hv_err_name(rc), err);
}

static void app_str(hv_journal_t *j, const char *s)
{
    app(j, s, strlen(s));
}

static off_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

/* CRC-32 (IEEE, as zlib's crc32), bit by bit: the test's own. */
static uint32_t crc(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16),
    p[3] = (uint8_t)(v >> 24);
}

/* A record's checksum: CRC-32 of its length field (4 bytes) and its data,
 * so a zero-filled tail is no valid empty record. */
static uint32_t rec_crc(size_t len, const void *data, size_t n)
{
    uint8_t *buf = malloc(4 + n);
    assert_non_null(buf);
    put32(buf, (uint32_t)len);
    memcpy(buf + 4, data, n);
    uint32_t c = crc(buf, 4 + n);
    free(buf);
    return c;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Appends bytes to the file behind the journal's back. */
static void append_raw(const char *path, const void *bytes, size_t len)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    assert_true(fd >= 0);
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, (const char *)bytes + done, len - done);
        assert_true(w > 0);
        done += (size_t)w;
    }
    assert_int_equal(close(fd), 0);
}

/* Appends one raw record: header (length, crc as given) and data. */
static void append_raw_rec(const char *path, uint32_t len, uint32_t sum, const void *data,
                           size_t data_len)
{
    uint8_t h[HEADER];
    put32(h, len);
    put32(h + 4, sum);
    append_raw(path, h, sizeof h);
    if (data_len > 0)
        append_raw(path, data, data_len);
}

static uint8_t *read_all(const char *path, size_t *ret_len)
{
    off_t size = file_size(path);
    uint8_t *buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    size_t got = 0;
    while (got < (size_t)size) {
        ssize_t n = read(fd, buf + got, (size_t)size - got);
        assert_true(n > 0);
        got += (size_t)n;
    }
    close(fd);
    *ret_len = got;
    return buf;
}

/* ---- a callback recording what apply hands over -------------------------- */

typedef struct {
    char *data;
    size_t len;
    int call; /* 1-based */
    int ok;   /* its batch was accepted */
} rec_t;

typedef struct {
    int fail_call; /* this call (1-based) fails... */
    int fail_rc;   /* ...with this code */
    int calls;
    int empty_batches;
    int unterminated; /* copies without their NUL */
    rec_t *recs;      /* every record handed over, failed batches too */
    size_t n, cap;
} sink_t;

static int sink_fn(void *ud, const hv_journal_rec_t *recs, size_t n)
{
    sink_t *s = ud;
    s->calls++;
    if (n == 0 || recs == NULL)
        s->empty_batches++;
    int fail = s->calls == s->fail_call;
    for (size_t i = 0; i < n; i++) {
        if (recs[i].data == NULL || recs[i].data[recs[i].len] != '\0')
            s->unterminated++;
        if (s->n == s->cap) {
            s->cap = s->cap ? 2 * s->cap : 64;
            s->recs = realloc(s->recs, s->cap * sizeof *s->recs);
            assert_non_null(s->recs);
        }
        rec_t *r = &s->recs[s->n++];
        r->data = malloc(recs[i].len + 1);
        assert_non_null(r->data);
        memcpy(r->data, recs[i].data, recs[i].len + 1);
        r->len = recs[i].len;
        r->call = s->calls;
        r->ok = !fail;
    }
    return fail ? s->fail_rc : HV_OK;
}

static void sink_free(sink_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->recs[i].data);
    free(s->recs);
    memset(s, 0, sizeof *s);
}

static int apply(hv_journal_t *j, size_t batch_bytes, sink_t *s)
{
    return hv_journal_apply(j, batch_bytes, sink_fn, s);
}

/* The (printable) records handed over as "a,b,c": all, or accepted only. */
static const char *joined(const sink_t *s, int accepted_only)
{
    static char text[8192];
    size_t off = 0;
    text[0] = '\0';
    for (size_t i = 0; i < s->n; i++) {
        if (accepted_only && !s->recs[i].ok)
            continue;
        off += (size_t)snprintf(text + off, sizeof text - off, "%s%.*s", off ? "," : "",
                                (int)s->recs[i].len, s->recs[i].data);
        assert_true(off < sizeof text);
    }
    return text;
}

/* Whether the journal file is back to empty and nothing is pending. */
static void assert_emptied(hv_journal_t *j, const char *path)
{
    assert_int_equal(hv_journal_pending(j), 0);
    assert_int_equal(file_size(path), 0);
}

/* ---- order, bytes, format ----------------------------------------------- */

static void test_order_binary(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s", j_path());
    hv_journal_t *j = open_j(path, 0);
    assert_emptied(j, path);
    sink_t s = {0};
    assert_int_equal(apply(j, SIZE_MAX, &s), HV_OK); /* nothing: fn not called */
    assert_int_equal(s.calls, 0);

    char bin[256 + 4];
    for (int i = 0; i < 256; i++)
        bin[i] = (char)i;
    memcpy(bin + 256, "\0a\0\0", 4);
    const struct {
        const void *data;
        size_t len;
    } want[] = {{"alpha", 5}, {NULL, 0}, {bin, sizeof bin}, {"\0", 1}, {"", 0}, {"omega", 5}};
    enum { N = sizeof want / sizeof want[0] };
    size_t bytes = 0;
    for (int i = 0; i < N; i++) {
        app(j, want[i].data, want[i].len);
        bytes += HEADER + want[i].len;
        assert_int_equal(hv_journal_pending(j), bytes);
        assert_int_equal(file_size(path), bytes);
    }

    /* the file: [u32 length][u32 crc32][bytes], little-endian, in order */
    size_t flen;
    uint8_t *f = read_all(path, &flen);
    assert_int_equal(flen, bytes);
    size_t at = 0;
    for (int i = 0; i < N; i++) {
        assert_true(at + HEADER <= flen);
        assert_int_equal(get32(f + at), want[i].len);
        assert_int_equal(get32(f + at + 4), rec_crc(want[i].len, f + at + HEADER, want[i].len));
        if (want[i].len)
            assert_memory_equal(f + at + HEADER, want[i].data, want[i].len);
        at += HEADER + want[i].len;
    }
    assert_int_equal(at, flen);
    free(f);

    assert_int_equal(apply(j, SIZE_MAX, &s), HV_OK);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.n, N);
    assert_int_equal(s.unterminated, 0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(s.recs[i].len, want[i].len);
        if (want[i].len)
            assert_memory_equal(s.recs[i].data, want[i].data, want[i].len);
        assert_int_equal(s.recs[i].data[want[i].len], '\0');
        assert_true(s.recs[i].ok);
    }
    assert_emptied(j, path);
    /* applied ones are gone: a second apply hands over nothing */
    assert_int_equal(apply(j, SIZE_MAX, &s), HV_OK);
    assert_int_equal(s.calls, 1);
    sink_free(&s);

    /* appending after emptying starts the file over */
    app_str(j, "again");
    assert_int_equal(hv_journal_pending(j), HEADER + 5);
    assert_int_equal(file_size(path), HEADER + 5);
    assert_int_equal(apply(j, SIZE_MAX, &s), HV_OK);
    assert_string_equal(joined(&s, 0), "again");
    assert_emptied(j, path);
    sink_free(&s);
    hv_journal_close(j);
    hv_journal_close(NULL);
}

/* ---- batches ------------------------------------------------------------ */

/*
 * The batches' shape for batch_bytes bb, as the header promises ("about
 * batch_bytes"): never empty, a record is added while the batch holds
 * fewer than bb bytes (so every record but the last of a batch fits
 * under bb; the last may go over: the bound is soft by one record), and a
 * batch ends early only at the end of the journal.
 */
static void check_batches(const sink_t *s, size_t bb)
{
    assert_int_equal(s->empty_batches, 0);
    size_t i = 0;
    for (int call = 1; call <= s->calls; call++) {
        size_t before_last = 0, total = 0, n = 0;
        for (; i < s->n && s->recs[i].call == call; i++, n++) {
            before_last = total;
            total += s->recs[i].len;
        }
        assert_true(n >= 1);
        if (n > 1 && before_last >= bb)
            fail_msg("batch %d (bb %zu): %zu records, %zu bytes before its last", call, bb, n,
                     before_last);
        if (call < s->calls && total < bb)
            fail_msg("batch %d (bb %zu) ended early at %zu bytes", call, bb, total);
    }
    assert_int_equal(i, s->n);
}

static size_t pattern_len(int i)
{
    return 1 + (size_t)(i * 37) % 120;
}

static void pattern(char *buf, int i)
{
    for (size_t k = 0; k < pattern_len(i); k++)
        buf[k] = (char)((i * 7 + (int)k) % 256); /* NULs among them */
}

static void test_batches(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s", j_path());
    hv_journal_t *j = open_j(path, 0);
    enum { N = 30 };
    const size_t sizes[] = {0, 1, 50, 100, 250, 1000, 100000, SIZE_MAX};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        char buf[128];
        for (int i = 0; i < N; i++) {
            pattern(buf, i);
            app(j, buf, pattern_len(i));
        }
        sink_t s = {0};
        assert_int_equal(apply(j, sizes[t], &s), HV_OK);
        assert_int_equal(s.n, N);
        assert_int_equal(s.unterminated, 0);
        for (int i = 0; i < N; i++) {
            pattern(buf, i);
            assert_int_equal(s.recs[i].len, pattern_len(i));
            assert_memory_equal(s.recs[i].data, buf, pattern_len(i));
        }
        check_batches(&s, sizes[t]);
        if (sizes[t] <= 1)
            assert_int_equal(s.calls, N); /* one record each */
        if (sizes[t] >= 100000)
            assert_int_equal(s.calls, 1);
        if (sizes[t] == 250)
            assert_true(s.calls > 2 && s.calls < N);
        assert_emptied(j, path);
        sink_free(&s);
    }

    /* a record larger than a batch comes in one batch, whole */
    char *big = malloc(5000);
    assert_non_null(big);
    memset(big, 'L', 5000);
    big[17] = '\0';
    app(j, big, 5000);
    app_str(j, "s1");
    app_str(j, "s2");
    sink_t s = {0};
    assert_int_equal(apply(j, 100, &s), HV_OK);
    check_batches(&s, 100);
    assert_int_equal(s.calls, 2);
    assert_int_equal(s.recs[0].call, 1);
    assert_int_equal(s.recs[0].len, 5000);
    assert_memory_equal(s.recs[0].data, big, 5000);
    assert_int_equal(s.recs[1].call, 2);
    assert_int_equal(s.recs[2].call, 2);
    sink_free(&s);
    /* in the middle: small ones before it, then it ends its batch */
    app_str(j, "s1");
    app(j, big, 5000);
    app_str(j, "s2");
    app_str(j, "s3");
    assert_int_equal(apply(j, 100, &s), HV_OK);
    check_batches(&s, 100);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.recs[1].len, 5000);
    assert_true(s.recs[2].call > s.recs[1].call);
    assert_int_equal(s.recs[3].call, s.recs[2].call);
    assert_emptied(j, path);
    sink_free(&s);
    free(big);
    hv_journal_close(j);
}

/* ---- a failing callback -------------------------------------------------- */

static void test_failing_callback(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s", j_path());
    hv_journal_t *j = open_j(path, 0);
    for (int i = 0; i < 10; i++) {
        char r[8];
        snprintf(r, sizeof r, "r%d", i);
        app_str(j, r);
    }
    /* batch_bytes 4 with records of 2: two per batch */
    sink_t s = {.fail_call = 3, .fail_rc = HV_ERANGE};
    assert_int_equal(apply(j, 4, &s), HV_ERANGE);
    assert_int_equal(s.calls, 3);
    assert_string_equal(joined(&s, 1), "r0,r1,r2,r3");
    assert_string_equal(joined(&s, 0), "r0,r1,r2,r3,r4,r5");
    check_batches(&s, 4);
    assert_int_equal(hv_journal_pending(j), 6 * (HEADER + 2));
    assert_int_equal(file_size(path), 10 * (HEADER + 2)); /* not emptied */
    sink_free(&s);

    /* the failed batch comes first next time; what was applied does not */
    app_str(j, "rA");
    assert_int_equal(hv_journal_pending(j), 7 * (HEADER + 2));
    assert_int_equal(apply(j, 4, &s), HV_OK);
    assert_string_equal(joined(&s, 0), "r4,r5,r6,r7,r8,r9,rA");
    assert_int_equal(s.recs[0].call, 1);
    assert_int_equal(s.recs[1].call, 1);
    assert_emptied(j, path);
    sink_free(&s);

    /* failing on the first batch, again and again: any code, verbatim */
    app_str(j, "x1");
    app_str(j, "x2");
    app_str(j, "x3");
    for (int k = 0; k < 3; k++) {
        s = (sink_t){.fail_call = 1, .fail_rc = 12345};
        assert_int_equal(apply(j, 4, &s), 12345);
        assert_int_equal(s.calls, 1);
        assert_string_equal(joined(&s, 0), "x1,x2");
        assert_int_equal(hv_journal_pending(j), 3 * (HEADER + 2));
        assert_int_equal(file_size(path), 3 * (HEADER + 2));
        sink_free(&s);
    }
    /* a failure in the last batch: nothing emptied, that batch again */
    s = (sink_t){.fail_call = 2, .fail_rc = HV_EIO};
    assert_int_equal(apply(j, 4, &s), HV_EIO);
    assert_string_equal(joined(&s, 1), "x1,x2");
    assert_int_equal(hv_journal_pending(j), HEADER + 2);
    assert_int_equal(file_size(path), 3 * (HEADER + 2));
    sink_free(&s);
    assert_int_equal(apply(j, SIZE_MAX, &s), HV_OK);
    assert_string_equal(joined(&s, 0), "x3");
    assert_emptied(j, path);
    sink_free(&s);
    hv_journal_close(j);
}

/* ---- reopening ------------------------------------------------------------ */

static void test_reopen(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s", j_path());
    hv_journal_t *j = open_j(path, 0);
    const char *w[] = {"a", "b", "c", "d", "e"};
    for (int i = 0; i < 5; i++)
        app_str(j, w[i]);
    hv_journal_close(j);

    /* nothing applied: everything is back, in order */
    j = open_j(path, 0);
    assert_int_equal(hv_journal_pending(j), 5 * (HEADER + 1));
    assert_int_equal(file_size(path), 5 * (HEADER + 1));
    sink_t s = {.fail_call = 3, .fail_rc = HV_EBUSY};
    assert_int_equal(apply(j, 0, &s), HV_EBUSY); /* a and b applied, c failed */
    assert_string_equal(joined(&s, 1), "a,b");
    sink_free(&s);
    hv_journal_close(j);

    /* partly applied: at least the rest comes back, in order (applying is
     * at-least-once: some of what was applied may come again) */
    j = open_j(path, 0);
    size_t left = hv_journal_pending(j);
    assert_true(left >= 3 * (HEADER + 1) && left <= 5 * (HEADER + 1));
    assert_int_equal(apply(j, 0, &s), HV_OK);
    const char *got = joined(&s, 0);
    const char *all = "a,b,c,d,e";
    size_t gl = strlen(got);
    assert_true(gl >= strlen("c,d,e") && gl <= strlen(all));
    assert_string_equal(got, all + strlen(all) - gl); /* a suffix */
    assert_int_equal(s.n * (HEADER + 1), left);
    assert_emptied(j, path);
    sink_free(&s);
    hv_journal_close(j);

    /* applied (emptied): they do not come back; later ones do */
    j = open_j(path, 0);
    assert_emptied(j, path);
    app_str(j, "f");
    hv_journal_close(j);
    j = open_j(path, 1000); /* another bound, same records */
    assert_int_equal(hv_journal_pending(j), HEADER + 1);
    assert_int_equal(apply(j, SIZE_MAX, &s), HV_OK);
    assert_string_equal(joined(&s, 0), "f");
    sink_free(&s);
    hv_journal_close(j);
    j = open_j(path, 0);
    assert_emptied(j, path);
    assert_int_equal(apply(j, SIZE_MAX, &s), HV_OK);
    assert_int_equal(s.calls, 0);
    hv_journal_close(j);
}

/* ---- crashes --------------------------------------------------------------- */

static size_t crash_rec(char *buf, size_t size, char tag, int i)
{
    int n = snprintf(buf, size, "%c%d", tag, i);
    size_t len = (size_t)n + 1 + (size_t)(i % 17); /* a NUL, then padding */
    assert_true(len <= size);
    memset(buf + n + 1, 'x', len - (size_t)n - 1);
    return len;
}

static void check_crash_recs(const sink_t *s, char tag, size_t n)
{
    assert_int_equal(s->n, n);
    assert_int_equal(s->unterminated, 0);
    for (size_t i = 0; i < n; i++) {
        char want[64];
        size_t len = crash_rec(want, sizeof want, tag, (int)i);
        if (s->recs[i].len != len || memcmp(s->recs[i].data, want, len) != 0)
            fail_msg("record %zu: got '%s' (%zu bytes), want '%s' (%zu)", i, s->recs[i].data,
                     s->recs[i].len, want, len);
    }
}

static void test_crash(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s", j_path());
    enum { N = 100 };
    /* a child appends N (each returned = durable) and dies without closing */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        hv_journal_t *c = NULL;
        char err[256], buf[64];
        if (hv_journal_open(path, 0, &c, err, sizeof err) != HV_OK)
            _exit(1);
        for (int i = 0; i < N; i++) {
            size_t len = crash_rec(buf, sizeof buf, 'c', i);
            if (hv_journal_append(c, buf, len, err, sizeof err) != HV_OK)
                _exit(2);
        }
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    hv_journal_t *j = open_j(path, 0);
    assert_int_equal(hv_journal_pending(j), (size_t)file_size(path));
    sink_t s = {0};
    assert_int_equal(apply(j, 256, &s), HV_OK);
    check_crash_recs(&s, 'c', N);
    assert_emptied(j, path);
    sink_free(&s);
    hv_journal_close(j);

    /* SIGKILL at some moment mid-stream: every acknowledged append is
     * there, in order, and at most the one in flight besides */
    snprintf(path, sizeof path, "%s", j_path());
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        alarm(60);
        hv_journal_t *c = NULL;
        char err[256], buf[64];
        if (hv_journal_open(path, 0, &c, err, sizeof err) != HV_OK)
            _exit(1);
        for (int i = 0; i < 1000000; i++) {
            size_t len = crash_rec(buf, sizeof buf, 'k', i);
            if (hv_journal_append(c, buf, len, err, sizeof err) != HV_OK ||
                write(fds[1], "+", 1) != 1)
                _exit(2);
        }
        _exit(0);
    }
    close(fds[1]);
    size_t acked = 0;
    char b[256];
    while (acked < 50) {
        ssize_t n = read(fds[0], b, sizeof b);
        assert_true(n > 0);
        acked += (size_t)n;
    }
    usleep(1000 * (unsigned)(getpid() % 5)); /* a little further, somewhere */
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    for (;;) {
        ssize_t n = read(fds[0], b, sizeof b);
        assert_true(n >= 0);
        if (n == 0)
            break;
        acked += (size_t)n;
    }
    close(fds[0]);
    j = open_j(path, 0);
    assert_int_equal(hv_journal_pending(j), (size_t)file_size(path));
    assert_int_equal(apply(j, 4096, &s), HV_OK);
    if (s.n < acked || s.n > acked + 1)
        fail_msg("%zu acknowledged, %zu found", acked, s.n);
    check_crash_recs(&s, 'k', s.n);
    assert_emptied(j, path);
    printf("journal: killed after %zu acknowledged appends, %zu found\n", acked, s.n);
    sink_free(&s);
    hv_journal_close(j);
}

/* ---- torn tails ------------------------------------------------------------ */

/*
 * Three good records, then tail (written behind the journal's back):
 * opening cuts the file back to the good ones, appends go right after
 * them, and only they (and the new ones) are handed over.
 */
static void torn_case(const char *label, void (*add_tail)(const char *path))
{
    char path[128];
    snprintf(path, sizeof path, "%s", j_path());
    hv_journal_t *j = open_j(path, 0);
    app_str(j, "one");
    app(j, "t\0o", 3);
    app_str(j, "three");
    hv_journal_close(j);
    off_t good = file_size(path);
    assert_int_equal(good, 3 * HEADER + 3 + 3 + 5);
    add_tail(path);
    assert_true(file_size(path) > good);

    j = open_j(path, 0);
    if (file_size(path) != good)
        fail_msg("%s: file of %lld bytes after open, want %lld", label, (long long)file_size(path),
                 (long long)good);
    assert_int_equal(hv_journal_pending(j), (size_t)good);
    app_str(j, "four");
    hv_journal_close(j);

    j = open_j(path, 0);
    assert_int_equal(file_size(path), good + HEADER + 4);
    assert_int_equal(hv_journal_pending(j), (size_t)good + HEADER + 4);
    sink_t s = {0};
    assert_int_equal(apply(j, SIZE_MAX, &s), HV_OK);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.recs[0].data, "one");
    assert_int_equal(s.recs[1].len, 3);
    assert_memory_equal(s.recs[1].data, "t\0o", 3);
    assert_string_equal(s.recs[2].data, "three");
    assert_string_equal(s.recs[3].data, "four");
    assert_emptied(j, path);
    sink_free(&s);
    hv_journal_close(j);
}

static void tail_garbage(const char *path)
{
    append_raw(path, "xyz", 3); /* shorter than a header */
}

static void tail_half_header(const char *path)
{
    uint8_t h[HEADER];
    put32(h, 4);
    put32(h + 4, rec_crc(4, "abcd", 4));
    append_raw(path, h, 5);
}

static void tail_header_only(const char *path)
{
    append_raw_rec(path, 4, rec_crc(4, "abcd", 4), NULL, 0);
}

static void tail_truncated(const char *path)
{
    char data[100];
    memset(data, 'q', sizeof data);
    append_raw_rec(path, 100, rec_crc(100, data, 100), data, 50); /* half of it */
}

static void tail_truncated_by_one(const char *path)
{
    append_raw_rec(path, 5, rec_crc(5, "abcde", 5), "abcd", 4);
}

static void tail_bad_crc(const char *path)
{
    append_raw_rec(path, 4, rec_crc(4, "abcd", 4) ^ 1, "abcd", 4);
}

static void tail_empty_bad_crc(const char *path)
{
    append_raw_rec(path, 0, 0x12345678u, NULL, 0);
}

/* a bad record and a good one after it: cut at the bad one */
static void tail_bad_then_good(const char *path)
{
    append_raw_rec(path, 4, rec_crc(4, "abce", 4), "abcd", 4);
    append_raw_rec(path, 4, rec_crc(4, "five", 4), "five", 4);
}

/* over the limit, though whole and with the right crc */
static void tail_over_max(const char *path)
{
    size_t len = HV_JOURNAL_MAX_RECORD + 1;
    char *data = malloc(len);
    assert_non_null(data);
    memset(data, 'm', len);
    append_raw_rec(path, (uint32_t)len, rec_crc(len, data, len), data, len);
    free(data);
}

static void tail_huge_length(const char *path)
{
    append_raw_rec(path, 0xffffffffu, 0, "abcdefgh", 8);
}

static void test_torn_tail(void **state)
{
    (void)state;
    torn_case("garbage", tail_garbage);
    torn_case("half a header", tail_half_header);
    torn_case("header only", tail_header_only);
    torn_case("truncated record", tail_truncated);
    torn_case("one byte short", tail_truncated_by_one);
    torn_case("bad crc", tail_bad_crc);
    torn_case("empty record, bad crc", tail_empty_bad_crc);
    torn_case("bad then good", tail_bad_then_good);
    torn_case("length over the limit", tail_over_max);
    torn_case("length 0xffffffff", tail_huge_length);

    /* nothing good at all: back to empty */
    char path[128];
    snprintf(path, sizeof path, "%s", j_path());
    hv_journal_t *j = NULL;
    char err[256];
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    close(fd);
    append_raw(path, "no journal at all, just some text", 33);
    assert_int_equal(hv_journal_open(path, 0, &j, err, sizeof err), HV_OK);
    assert_emptied(j, path);
    sink_t s = {0};
    assert_int_equal(apply(j, SIZE_MAX, &s), HV_OK);
    assert_int_equal(s.calls, 0);
    hv_journal_close(j);

    /* exactly the limit is a whole record, written by hand as well */
    snprintf(path, sizeof path, "%s", j_path());
    fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    close(fd);
    size_t len = HV_JOURNAL_MAX_RECORD;
    char *data = malloc(len);
    assert_non_null(data);
    for (size_t i = 0; i < len; i++)
        data[i] = (char)(i * 13);
    append_raw_rec(path, (uint32_t)len, rec_crc(len, data, len), data, len);
    j = open_j(path, 0);
    assert_int_equal(hv_journal_pending(j), HEADER + len);
    assert_int_equal(file_size(path), HEADER + len);
    assert_int_equal(apply(j, 1, &s), HV_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.recs[0].len, len);
    assert_memory_equal(s.recs[0].data, data, len);
    assert_int_equal(s.unterminated, 0);
    sink_free(&s);
    free(data);
    hv_journal_close(j);
}

/* ---- back-pressure and limits --------------------------------------------- */

static void test_backpressure(void **state)
{
    (void)state;
    char path[128], err[256];
    snprintf(path, sizeof path, "%s", j_path());
    hv_journal_t *j = open_j(path, 1080);
    char rec[100];
    memset(rec, 'b', sizeof rec);
    int ok = 0, rc = HV_OK;
    for (int i = 0; i < 100; i++) {
        rc = hv_journal_append(j, rec, sizeof rec, err, sizeof err);
        if (rc != HV_OK)
            break;
        ok++;
    }
    /* appends go on while fewer than max_bytes wait: 10 * 108 is full */
    assert_int_equal(rc, HV_EBUSY);
    assert_int_equal(ok, 10);
    assert_true(strlen(err) > 10);
    assert_non_null(strstr(err, "try again"));
    printf("journal: full: %s\n", err);
    assert_int_equal(hv_journal_pending(j), 10 * (HEADER + 100));
    assert_int_equal(file_size(path), 10 * (HEADER + 100)); /* nothing written */
    err[0] = '\0';
    assert_int_equal(hv_journal_append(j, "x", 1, err, sizeof err), HV_EBUSY); /* still */
    assert_true(err[0] != '\0');
    assert_int_equal(hv_journal_append(j, NULL, 0, err, sizeof err), HV_EBUSY);

    /* applying part of it makes room, without emptying the file */
    sink_t s = {.fail_call = 2, .fail_rc = HV_EIO};
    assert_int_equal(apply(j, 100, &s), HV_EIO);
    assert_int_equal(s.n, 2);
    assert_true(s.recs[0].ok && !s.recs[1].ok);
    sink_free(&s);
    assert_int_equal(hv_journal_pending(j), 9 * (HEADER + 100));
    app(j, "x", 1); /* 981: room for one, of any size */
    assert_int_equal(hv_journal_append(j, "x", 1, err, sizeof err), HV_OK);
    assert_int_equal(hv_journal_append(j, rec, sizeof rec, err, sizeof err), HV_OK);
    assert_int_equal(hv_journal_pending(j), 10 * (HEADER + 100) + 2 * (HEADER + 1));
    assert_int_equal(hv_journal_append(j, rec, sizeof rec, err, sizeof err), HV_EBUSY);

    /* applying all of it: appends work again */
    assert_int_equal(apply(j, SIZE_MAX, &s), HV_OK);
    assert_int_equal(s.n, 12);
    assert_emptied(j, path);
    sink_free(&s);
    app(j, rec, sizeof rec);
    assert_int_equal(hv_journal_pending(j), HEADER + 100);

    /* a record larger than the bound still goes into an empty journal */
    assert_int_equal(apply(j, SIZE_MAX, &s), HV_OK);
    sink_free(&s);
    char *big = calloc(1, 5000);
    assert_non_null(big);
    app(j, big, 5000);
    assert_int_equal(hv_journal_append(j, "x", 1, err, sizeof err), HV_EBUSY);
    assert_int_equal(apply(j, SIZE_MAX, &s), HV_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.recs[0].len, 5000);
    sink_free(&s);
    free(big);
    hv_journal_close(j);

    /* max_bytes 0: 64 MiB */
    snprintf(path, sizeof path, "%s", j_path());
    j = open_j(path, 0);
    char *max = malloc(HV_JOURNAL_MAX_RECORD);
    assert_non_null(max);
    memset(max, 'M', HV_JOURNAL_MAX_RECORD);
    for (ok = 0; ok < 100; ok++) {
        rc = hv_journal_append(j, max, HV_JOURNAL_MAX_RECORD, err, sizeof err);
        if (rc != HV_OK)
            break;
    }
    assert_int_equal(rc, HV_EBUSY);
    assert_int_equal(ok, 32); /* 31 records and their headers: under 64 MiB */
    assert_non_null(strstr(err, "64 MiB"));
    assert_int_equal(hv_journal_pending(j), 32 * ((size_t)HV_JOURNAL_MAX_RECORD + HEADER));
    free(max);
    hv_journal_close(j);
    assert_int_equal(unlink(path), 0);
}

static void test_too_big(void **state)
{
    (void)state;
    char path[128], err[256] = "";
    snprintf(path, sizeof path, "%s", j_path());
    hv_journal_t *j = open_j(path, 0);
    size_t max = HV_JOURNAL_MAX_RECORD;
    char *big = malloc(max + 1);
    assert_non_null(big);
    for (size_t i = 0; i < max + 1; i++)
        big[i] = (char)(i % 251); /* NULs too */
    assert_int_equal(hv_journal_append(j, big, max + 1, err, sizeof err), HV_ETOOBIG);
    assert_non_null(strstr(err, "2097153"));
    assert_int_equal(hv_journal_append(j, big, SIZE_MAX, err, sizeof err), HV_ETOOBIG);
    assert_int_equal(hv_journal_pending(j), 0);
    assert_int_equal(file_size(path), 0);

    /* exactly the limit is fine, and survives a reopen */
    app(j, big, max);
    app_str(j, "after");
    hv_journal_close(j);
    j = open_j(path, 0);
    assert_int_equal(hv_journal_pending(j), 2 * HEADER + max + 5);
    sink_t s = {0};
    assert_int_equal(apply(j, 1000, &s), HV_OK);
    assert_int_equal(s.calls, 2);
    assert_int_equal(s.recs[0].len, max);
    assert_memory_equal(s.recs[0].data, big, max);
    assert_string_equal(s.recs[1].data, "after");
    assert_int_equal(s.unterminated, 0);
    assert_emptied(j, path);
    sink_free(&s);
    free(big);
    hv_journal_close(j);
}

#define CHILD_CHECK(c)                                                                             \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "child: line %d: %s\n", __LINE__, #c);                                 \
            _exit(1);                                                                              \
        }                                                                                          \
    } while (0)

/* A write that fails (the file size limit, in a child): HV_EIO naming the
 * path, what reached the file is cut, and appends that fit go on. */
static void test_write_failure(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s", j_path());
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl;
        CHILD_CHECK(getrlimit(RLIMIT_FSIZE, &rl) == 0);
        rl.rlim_cur = 1000;
        CHILD_CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
        hv_journal_t *c = NULL;
        char err[256], rec[300];
        memset(rec, 'w', sizeof rec);
        CHILD_CHECK(hv_journal_open(path, 0, &c, err, sizeof err) == HV_OK);
        for (int i = 0; i < 3; i++)
            CHILD_CHECK(hv_journal_append(c, rec, sizeof rec, err, sizeof err) == HV_OK);
        err[0] = '\0';
        /* 924 + 308 > 1000: part of it is written, then EFBIG */
        CHILD_CHECK(hv_journal_append(c, rec, sizeof rec, err, sizeof err) == HV_EIO);
        fprintf(stderr, "journal: failed write: %s\n", err);
        CHILD_CHECK(strncmp(err, path, strlen(path)) == 0);
        CHILD_CHECK(strstr(err, strerror(EFBIG)) != NULL);
        CHILD_CHECK(hv_journal_pending(c) == 924);
        CHILD_CHECK(file_size(path) == 924);
        CHILD_CHECK(hv_journal_append(c, rec, 50, err, sizeof err) == HV_OK);
        CHILD_CHECK(hv_journal_pending(c) == 982);
        CHILD_CHECK(file_size(path) == 982);
        CHILD_CHECK(hv_journal_append(c, rec, 20, err, sizeof err) == HV_EIO);
        CHILD_CHECK(file_size(path) == 982);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    hv_journal_t *j = open_j(path, 0);
    assert_int_equal(hv_journal_pending(j), 982);
    assert_int_equal(file_size(path), 982);
    sink_t s = {0};
    assert_int_equal(apply(j, SIZE_MAX, &s), HV_OK);
    assert_int_equal(s.n, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(s.recs[i].len, i < 3 ? 300 : 50);
        assert_int_equal(s.recs[i].data[0], 'w');
    }
    assert_emptied(j, path);
    sink_free(&s);
    hv_journal_close(j);
}

/* Opening when the records cannot be read (here: no memory for a large
 * one, in a child) fails and cuts nothing: only a torn tail is cut. */
static void test_open_unreadable(void **state)
{
    (void)state;
#ifdef UNDER_ASAN
    skip(); /* the sanitizer's address space does not take an RLIMIT_AS */
#else
    char path[128];
    snprintf(path, sizeof path, "%s", j_path());
    hv_journal_t *j = open_j(path, 0);
    char *big = malloc(HV_JOURNAL_MAX_RECORD);
    assert_non_null(big);
    memset(big, 'B', HV_JOURNAL_MAX_RECORD);
    app_str(j, "small");
    app(j, big, HV_JOURNAL_MAX_RECORD);
    app_str(j, "last");
    hv_journal_close(j);
    free(big);
    off_t size = file_size(path);
    /* in a fresh process (a clean heap) */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl("/proc/self/exe", "test_journal", "--open-without-memory", path, (char *)NULL);
        _exit(127);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    j = open_j(path, 0);
    assert_int_equal(file_size(path), size);
    assert_int_equal(hv_journal_pending(j), (size_t)size);
    sink_t s = {0};
    assert_int_equal(apply(j, SIZE_MAX, &s), HV_OK);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.recs[0].data, "small");
    assert_int_equal(s.recs[1].len, HV_JOURNAL_MAX_RECORD);
    assert_string_equal(s.recs[2].data, "last");
    sink_free(&s);
    hv_journal_close(j);
#endif
}

/* test_open_unreadable's child: opens path with little memory to spare
 * (RLIMIT_AS), which must fail with HV_ENOMEM, cutting nothing. */
static int open_without_memory(const char *path)
{
    off_t size = file_size(path);
    char statm[128] = "";
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    CHILD_CHECK(fd >= 0 && read(fd, statm, sizeof statm - 1) > 0);
    close(fd);
    unsigned long pages = strtoul(statm, NULL, 10);
    struct rlimit rl, old;
    CHILD_CHECK(pages > 0 && getrlimit(RLIMIT_AS, &old) == 0);
    rl = old;
    rl.rlim_cur = pages * (unsigned long)sysconf(_SC_PAGESIZE) + (1u << 20);
    CHILD_CHECK(setrlimit(RLIMIT_AS, &rl) == 0);
    hv_journal_t *c = NULL;
    char err[256] = "";
    int rc = hv_journal_open(path, 0, &c, err, sizeof err);
    CHILD_CHECK(setrlimit(RLIMIT_AS, &old) == 0);
    fprintf(stderr, "journal: open without memory: %s: %s\n", hv_err_name(rc), err);
    CHILD_CHECK(rc == HV_ENOMEM);
    CHILD_CHECK(c == NULL);
    CHILD_CHECK(strncmp(err, path, strlen(path)) == 0);
    CHILD_CHECK(file_size(path) == size);
    return 0;
}

static void test_bad_path(void **state)
{
    (void)state;
    char path[160], err[256] = "";
    snprintf(path, sizeof path, "%s/no-such-dir/j.journal", dir);
    hv_journal_t *j = (hv_journal_t *)path; /* must stay */
    int rc = hv_journal_open(path, 0, &j, err, sizeof err);
    assert_int_not_equal(rc, HV_OK);
    assert_ptr_equal(j, (hv_journal_t *)path);
    assert_true(strncmp(err, path, strlen(path)) == 0);
    assert_true(strlen(err) > strlen(path) + 2);
    printf("journal: %s\n", err);
    char sub[160];
    snprintf(sub, sizeof sub, "%s/no-such-dir", dir);
    struct stat st;
    assert_int_not_equal(stat(sub, &st), 0); /* nothing created */

    /* a directory */
    err[0] = '\0';
    rc = hv_journal_open(dir, 0, &j, err, sizeof err);
    assert_int_not_equal(rc, HV_OK);
    assert_ptr_equal(j, (hv_journal_t *)path);
    assert_true(strncmp(err, dir, strlen(dir)) == 0);
    assert_true(strlen(err) > strlen(dir) + 2);
}

/* ---- threads ---------------------------------------------------------------- */

typedef struct {
    hv_journal_t *j;
    pthread_barrier_t *start;
    int id, per, busy;
    char err[256];
    int rc;
} writer_t;

static size_t writer_rec(char *buf, size_t size, int id, int seq)
{
    int n = snprintf(buf, size, "%d %d", id, seq);
    size_t len = (size_t)n + 1 + (size_t)((id * 31 + seq) % 40); /* a NUL, then padding */
    assert_true(len <= size);
    memset(buf + n + 1, 'a' + id % 26, len - (size_t)n - 1);
    return len;
}

static void *writer_main(void *arg)
{
    writer_t *w = arg;
    char buf[64];
    pthread_barrier_wait(w->start);
    for (int seq = 0; seq < w->per; seq++) {
        size_t len = writer_rec(buf, sizeof buf, w->id, seq);
        int rc;
        while ((rc = hv_journal_append(w->j, buf, len, w->err, sizeof w->err)) == HV_EBUSY) {
            w->busy++;
            usleep(500);
        }
        if (rc != HV_OK) {
            w->rc = rc;
            return w;
        }
    }
    return NULL;
}

/* Checks records as they are applied: per writer, each exactly once and
 * in order (records of failed batches count only when handed again). */
typedef struct {
    int nwriters, per;
    int *next; /* per writer */
    int total, calls, failed_calls, fail_every;
    char problem[256];
} tally_t;

static int tally_fn(void *ud, const hv_journal_rec_t *recs, size_t n)
{
    tally_t *t = ud;
    t->calls++;
    if (t->fail_every && t->calls % t->fail_every == 0) {
        t->failed_calls++;
        return HV_EBUSY;
    }
    for (size_t i = 0; i < n && !t->problem[0]; i++) {
        int id, seq;
        char want[64];
        if (sscanf(recs[i].data, "%d %d", &id, &seq) != 2 || id < 0 || id >= t->nwriters) {
            snprintf(t->problem, sizeof t->problem, "bad record '%s'", recs[i].data);
            break;
        }
        size_t len = writer_rec(want, sizeof want, id, seq);
        if (recs[i].len != len || memcmp(recs[i].data, want, len) != 0 || recs[i].data[len] != '\0')
            snprintf(t->problem, sizeof t->problem, "record %d/%d: wrong bytes", id, seq);
        else if (seq != t->next[id])
            snprintf(t->problem, sizeof t->problem, "writer %d: got %d, want %d", id, seq,
                     t->next[id]);
        t->next[id]++;
        t->total++;
    }
    return HV_OK;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* nwriters threads append per records each while this one applies,
 * pausing pause_us between applies; with pause_us < 0 all is applied
 * afterwards (after a reopen, which scans what they wrote). */
static void run_writers(int nwriters, int per, size_t max_bytes, int pause_us)
{
    char path[128];
    snprintf(path, sizeof path, "%s", j_path());
    hv_journal_t *j = open_j(path, max_bytes);
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, (unsigned)nwriters + 1), 0);
    writer_t *w = calloc((size_t)nwriters, sizeof *w);
    pthread_t *th = calloc((size_t)nwriters, sizeof *th);
    tally_t t = {.nwriters = nwriters, .per = per, .fail_every = pause_us >= 0 ? 7 : 0};
    t.next = calloc((size_t)nwriters, sizeof *t.next);
    assert_true(w && th && t.next);
    for (int i = 0; i < nwriters; i++) {
        w[i] = (writer_t){.j = j, .start = &start, .id = i, .per = per};
        assert_int_equal(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
    }
    pthread_barrier_wait(&start);
    int want = nwriters * per, applies = 0;
    int apply_meanwhile = pause_us >= 0;
    double t0 = now_s(), deadline = t0 + 300;
    if (apply_meanwhile) {
        while (t.total < want && !t.problem[0] && now_s() < deadline) {
            int rc = hv_journal_apply(j, 512, tally_fn, &t);
            assert_true(rc == HV_OK || rc == HV_EBUSY);
            applies++;
            usleep((useconds_t)pause_us);
        }
    }
    int busy = 0;
    for (int i = 0; i < nwriters; i++) {
        void *res;
        assert_int_equal(pthread_join(th[i], &res), 0);
        if (res != NULL)
            fail_msg("writer %d: %s: %s", i, hv_err_name(w[i].rc), w[i].err);
        busy += w[i].busy;
    }
    double secs = now_s() - t0;
    if (!apply_meanwhile) {
        size_t bytes = hv_journal_pending(j);
        assert_int_equal(file_size(path), bytes);
        hv_journal_close(j);
        j = open_j(path, max_bytes); /* every record whole */
        assert_int_equal(hv_journal_pending(j), bytes);
        assert_int_equal(file_size(path), bytes);
    }
    /* whatever is left (nothing, when applying meanwhile got everything) */
    for (int k = 0; k < 10 && hv_journal_pending(j) > 0; k++)
        assert_true(hv_journal_apply(j, 4096, tally_fn, &t) == HV_OK || t.fail_every);
    int rc = hv_journal_apply(j, 4096, tally_fn, &t);
    assert_true(rc == HV_OK || rc == HV_EBUSY);
    if (t.problem[0])
        fail_msg("%s", t.problem);
    assert_int_equal(t.total, want);
    for (int i = 0; i < nwriters; i++)
        assert_int_equal(t.next[i], per);
    assert_emptied(j, path);
    printf("journal: %d writers x %d records in %.2f s; %d batches (%d failed) in %d applies; "
           "%d busy\n",
           nwriters, per, secs, t.calls, t.failed_calls, applies, busy);
    hv_journal_close(j);
    pthread_barrier_destroy(&start);
    free(t.next);
    free(th);
    free(w);
}

static void test_threads(void **state)
{
    (void)state;
    run_writers(8, 500, 0, 100);
}

/* more writers at once than one pwritev takes records */
static void test_many_writers(void **state)
{
    (void)state;
    run_writers(200, 3, 0, -1);
}

/* writers meeting back-pressure while the applier keeps up */
static void test_threads_full(void **state)
{
    (void)state;
    run_writers(8, 200, 2000, 3000);
}

/* Steady load: writers never pause, so some write is nearly always in
 * progress. The file must still be emptied now and then (apply holds new
 * appends back once it is past 8 MiB) instead of growing for ever. */
typedef struct {
    hv_journal_t *j;
    int n;
    volatile int *done;
} big_writer_t;

static void *big_writer_main(void *arg)
{
    big_writer_t *b = arg;
    static char rec[16 << 10];
    memset(rec, 'x', sizeof rec);
    char err[256];
    for (int i = 0; i < b->n; i++)
        while (hv_journal_append(b->j, rec, sizeof rec, err, sizeof err) == HV_EBUSY)
            usleep(200);
    __atomic_add_fetch(b->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static int count_fn(void *ud, const hv_journal_rec_t *recs, size_t n)
{
    (void)recs;
    *(int *)ud += (int)n;
    return HV_OK;
}

static void test_steady_load_empties_file(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s", j_path());
    hv_journal_t *j = open_j(path, 0);
    enum { WRITERS = 4, PER = 400 }; /* 4 x 400 x 16 KiB = 25 MiB */
    volatile int done = 0;
    big_writer_t b[WRITERS];
    pthread_t th[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        b[i] = (big_writer_t){j, PER, &done};
        assert_int_equal(pthread_create(&th[i], NULL, big_writer_main, &b[i]), 0);
    }
    int applied = 0;
    off_t largest = 0;
    while (__atomic_load_n(&done, __ATOMIC_SEQ_CST) < WRITERS) {
        assert_int_equal(hv_journal_apply(j, 1 << 20, count_fn, &applied), HV_OK);
        off_t size = file_size(path);
        if (size > largest)
            largest = size;
    }
    for (int i = 0; i < WRITERS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_int_equal(hv_journal_apply(j, 1 << 20, count_fn, &applied), HV_OK);
    assert_int_equal(applied, WRITERS * PER);
    /* 8 MiB, plus what arrives while the file is being emptied */
    if (largest > (off_t)(16 << 20))
        fail_msg("the file grew to %lld bytes under load", (long long)largest);
    assert_emptied(j, path);
    hv_journal_close(j);
}

#include "../tmpdir.h"

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--open-without-memory") == 0)
        return open_without_memory(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_binary),
        cmocka_unit_test(test_batches),
        cmocka_unit_test(test_failing_callback),
        cmocka_unit_test(test_reopen),
        cmocka_unit_test(test_crash),
        cmocka_unit_test(test_torn_tail),
        cmocka_unit_test(test_backpressure),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_write_failure),
        cmocka_unit_test(test_open_unreadable),
        cmocka_unit_test(test_bad_path),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_many_writers),
        cmocka_unit_test(test_threads_full),
        cmocka_unit_test(test_steady_load_empties_file),
    };
    return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}

/*
 * The hub's ingest journal (see include/hv_journal.h). Appends use the
 * same group commit as the history (hv_group.h): callers queue, the first
 * one finding no write in progress writes the whole queue with one pwritev
 * and one fdatasync, the others wait for it. Applying reads durable records with
 * pread and never holds the lock while the callback runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <zlib.h>

#include "hv_group.h"
#include "hv_journal.h"

#define HEADER 8
#define MAX_IOV 256
#define COMPACT_BYTES (8u << 20) /* past this, apply pauses writers to empty the file */
#define DRAIN_TAIL (256u << 10)   /* ...for no more than this much left to apply */

/* One append in a group write. */
typedef struct {
    hv_group_member_t m; /* first: the batch is a list of these */
    const void *data;
    size_t len;
    uint8_t header[HEADER];
    int rc, errno_; /* the batch's outcome, set by the writer */
} pending_t;

#define PENDING(member) ((pending_t *)(void *)(member))

struct hv_journal {
    int fd;
    char *path;
    size_t max;
    pthread_mutex_t mu;
    off_t end;     /* bytes written and synced: what apply may read */
    off_t applied; /* bytes whose records are in the history */
    hv_group_t group;       /* appends waiting, and whether a write is running */
    int draining;           /* new appends wait: apply empties the file */
    pthread_cond_t drained; /* signalled when writes go idle and when draining ends */
};

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int read_full(int fd, void *buf, size_t len, off_t at)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, (char *)buf + got, len - got, at + (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO; /* shorter than it was */
            return -1;
        }
        got += (size_t)n;
    }
    return 0;
}

/* CRC-32 of the length field and the data: a zero-filled tail (a power
 * cut) is then no valid empty record. */
static uint32_t record_crc(const uint8_t *header, const void *data, size_t len)
{
    uLong c = crc32(0, header, 4);
    /* (zlib's crc32 with a NULL buffer restarts: an empty record's data
     * may be NULL.) */
    return (uint32_t)(len ? crc32(c, (const Bytef *)data, (uInt)len) : c);
}

/* The end of the last whole record: a torn or corrupt tail is cut there.
 * -1 (errno) when the file cannot be read: that is no reason to cut. */
static off_t scan(int fd, off_t size)
{
    off_t at = 0;
    uint8_t h[HEADER];
    char *buf = NULL;
    while (at + HEADER <= size) {
        if (read_full(fd, h, HEADER, at) != 0)
            goto fail;
        uint32_t len = get32(h);
        if (len > HV_JOURNAL_MAX_RECORD || at + HEADER + (off_t)len > size)
            break;
        char *nb = realloc(buf, len ? len : 1);
        if (nb == NULL)
            goto fail;
        buf = nb;
        if (read_full(fd, buf, len, at + HEADER) != 0)
            goto fail;
        if (record_crc(h, buf, len) != get32(h + 4))
            break;
        at += HEADER + len;
    }
    free(buf);
    return at;
fail:
    free(buf);
    return -1;
}

int hv_journal_open(const char *path, size_t max_bytes, hv_journal_t **ret, char *err,
                    size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return HV_EIO;
    }
    off_t good = scan(fd, st.st_size);
    if (good < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(e));
        close(fd);
        return e == ENOMEM ? HV_ENOMEM : HV_EIO;
    }
    if (good < st.st_size && (ftruncate(fd, good) != 0 || fdatasync(fd) != 0)) {
        snprintf(err, errlen, "%s: cannot cut a torn record: %s", path, strerror(errno));
        close(fd);
        return HV_EIO;
    }
    hv_journal_t *j = calloc(1, sizeof *j);
    if (j == NULL || (j->path = strdup(path)) == NULL) {
        free(j);
        close(fd);
        snprintf(err, errlen, "%s: out of memory", path);
        return HV_ENOMEM;
    }
    j->fd = fd;
    j->max = max_bytes ? max_bytes : (64u << 20);
    j->end = good;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->drained, NULL);
    j->group.idle = &j->drained;
    *ret = j;
    return HV_OK;
}

void hv_journal_close(hv_journal_t *j)
{
    if (j == NULL)
        return;
    close(j->fd);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->drained);
    free(j->path);
    free(j);
}

/* Writes and syncs a batch at the end of the file (no lock held: only
 * the one writer touches the end). */
static int write_batch(hv_journal_t *j, hv_group_member_t *batch, off_t at, size_t *ret_bytes)
{
    struct iovec iov[MAX_IOV];
    size_t total = 0;
    for (hv_group_member_t *m = batch; m;) {
        int n = 0;
        size_t bytes = 0;
        for (; m && n + 2 <= MAX_IOV; m = m->next) {
            pending_t *p = PENDING(m);
            iov[n++] = (struct iovec){p->header, HEADER};
            iov[n++] = (struct iovec){(void *)p->data, p->len};
            bytes += HEADER + p->len;
        }
        size_t done = 0;
        while (done < bytes) {
            /* Skip what was written (a short write), then write the rest. */
            int k = 0;
            size_t skip = done;
            while (skip >= iov[k].iov_len)
                skip -= iov[k++].iov_len;
            struct iovec first = iov[k];
            iov[k].iov_base = (char *)iov[k].iov_base + skip;
            iov[k].iov_len -= skip;
            ssize_t w = pwritev(j->fd, iov + k, n - k, at + (off_t)(total + done));
            iov[k] = first;
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return -1;
            done += (size_t)w;
        }
        total += bytes;
    }
    if (fdatasync(j->fd) != 0)
        return -1;
    *ret_bytes = total;
    return 0;
}

/* The group writer's outcome, from write_run to write_after. */
typedef struct {
    hv_journal_t *j;
    size_t bytes;
    int bad, errno_;
} write_ctx_t;

/* Writes a batch at the end (no lock: while a batch runs, only its writer
 * moves the end). */
static void write_run(void *ud, hv_group_member_t *batch)
{
    write_ctx_t *w = ud;
    w->bad = write_batch(w->j, batch, w->j->end, &w->bytes) != 0;
    w->errno_ = errno;
}

/* Under the lock: the end moves past the batch, or what reached the file
 * of a failed one is cut (it is not acknowledged). */
static void write_after(void *ud, hv_group_member_t *batch)
{
    write_ctx_t *w = ud;
    hv_journal_t *j = w->j;
    if (!w->bad)
        j->end += (off_t)w->bytes;
    else if (ftruncate(j->fd, j->end) != 0)
        w->errno_ = errno;
    for (hv_group_member_t *m = batch; m; m = m->next) {
        PENDING(m)->rc = w->bad ? HV_EIO : HV_OK;
        PENDING(m)->errno_ = w->errno_;
    }
}

int hv_journal_append(hv_journal_t *j, const void *data, size_t len, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    if (len > HV_JOURNAL_MAX_RECORD) {
        snprintf(err, errlen, "record of %zu bytes over %u", len, HV_JOURNAL_MAX_RECORD);
        return HV_ETOOBIG;
    }
    pending_t me = {.data = data, .len = len, .rc = HV_OK};
    put32(me.header, (uint32_t)len);
    put32(me.header + 4, record_crc(me.header, data, len));
    pthread_mutex_lock(&j->mu);
    while (j->draining) /* apply is emptying the file: a moment */
        pthread_cond_wait(&j->drained, &j->mu);
    if ((size_t)(j->end - j->applied) >= j->max) {
        pthread_mutex_unlock(&j->mu);
        snprintf(err, errlen, "the hub is %zu MiB behind storing pushes; try again shortly",
                 j->max >> 20);
        return HV_EBUSY;
    }
    static const hv_group_ops_t ops = {write_run, write_after};
    write_ctx_t ctx = {j, 0, 0, 0};
    hv_group_join(&j->group, &j->mu, &me.m, &ops, &ctx);
    pthread_mutex_unlock(&j->mu);
    if (me.rc != HV_OK)
        snprintf(err, errlen, "%s: %s", j->path, strerror(me.errno_));
    return me.rc;
}

size_t hv_journal_pending(hv_journal_t *j)
{
    pthread_mutex_lock(&j->mu);
    size_t n = (size_t)(j->end - j->applied);
    pthread_mutex_unlock(&j->mu);
    return n;
}

/* Reads records from at up to stop (about batch_bytes of them). */
static int read_batch(hv_journal_t *j, off_t at, off_t stop, size_t batch_bytes,
                      hv_journal_rec_t **ret_recs, size_t *ret_n, off_t *ret_next)
{
    size_t n = 0, cap = 0, bytes = 0;
    hv_journal_rec_t *recs = NULL;
    uint8_t h[HEADER];
    while (at < stop && (n == 0 || bytes < batch_bytes)) {
        if (read_full(j->fd, h, HEADER, at) != 0)
            goto fail;
        uint32_t len = get32(h);
        char *data = malloc((size_t)len + 1);
        if (data == NULL || read_full(j->fd, data, len, at + HEADER) != 0) {
            free(data);
            goto fail;
        }
        data[len] = '\0';
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            hv_journal_rec_t *nr = realloc(recs, cap * sizeof *recs);
            if (nr == NULL) {
                free(data);
                goto fail;
            }
            recs = nr;
        }
        recs[n++] = (hv_journal_rec_t){data, len};
        bytes += len;
        at += HEADER + (off_t)len;
    }
    *ret_recs = recs;
    *ret_n = n;
    *ret_next = at;
    return 0;
fail:
    for (size_t i = 0; i < n; i++)
        free((char *)recs[i].data);
    free(recs);
    return -1;
}

/* Applies [from, to) in batches; the offset reached (== to unless fn
 * failed, with its code in *ret_rc). */
static off_t apply_range(hv_journal_t *j, off_t at, off_t stop, size_t batch_bytes,
                         int (*fn)(void *ud, const hv_journal_rec_t *recs, size_t n), void *ud,
                         int *ret_rc)
{
    *ret_rc = HV_OK;
    while (at < stop) {
        hv_journal_rec_t *recs;
        size_t n;
        off_t next;
        if (read_batch(j, at, stop, batch_bytes, &recs, &n, &next) != 0) {
            *ret_rc = HV_EIO;
            break;
        }
        int rc = fn(ud, recs, n);
        for (size_t i = 0; i < n; i++)
            free((char *)recs[i].data);
        free(recs);
        if (rc != HV_OK) {
            *ret_rc = rc;
            break;
        }
        at = next;
        pthread_mutex_lock(&j->mu);
        j->applied = at;
        pthread_mutex_unlock(&j->mu);
    }
    return at;
}

int hv_journal_apply(hv_journal_t *j, size_t batch_bytes,
                     int (*fn)(void *ud, const hv_journal_rec_t *recs, size_t n), void *ud)
{
    pthread_mutex_lock(&j->mu);
    off_t at = j->applied, stop = j->end;
    pthread_mutex_unlock(&j->mu);
    int rc;
    apply_range(j, at, stop, batch_bytes, fn, ud, &rc);
    pthread_mutex_lock(&j->mu);
    /* Under steady load a write is nearly always in progress, so waiting
     * for a quiet moment to empty the file may wait for ever: past
     * COMPACT_BYTES, catch up until little is left (applying is faster
     * than writing, so this converges), then hold new appends back for
     * just that little: let the write in progress finish, apply the rest,
     * empty the file. */
    for (int k = 0; rc == HV_OK && k < 8 && j->end >= (off_t)COMPACT_BYTES &&
                    j->end - j->applied >= (off_t)DRAIN_TAIL;
         k++) {
        at = j->applied;
        stop = j->end;
        pthread_mutex_unlock(&j->mu);
        apply_range(j, at, stop, batch_bytes, fn, ud, &rc);
        pthread_mutex_lock(&j->mu);
    }
    if (rc == HV_OK && j->end >= (off_t)COMPACT_BYTES && j->end - j->applied < (off_t)DRAIN_TAIL &&
        !j->draining) {
        j->draining = 1;
        while (j->group.running || j->group.queue != NULL)
            pthread_cond_wait(&j->drained, &j->mu);
        at = j->applied;
        stop = j->end;
        pthread_mutex_unlock(&j->mu);
        apply_range(j, at, stop, batch_bytes, fn, ud, &rc);
        pthread_mutex_lock(&j->mu);
    }
    /* All applied and nobody writing: start the file over. */
    if (j->applied == j->end && !j->group.running && j->group.queue == NULL && j->end > 0) {
        if (ftruncate(j->fd, 0) == 0)
            j->applied = j->end = 0;
    }
    if (j->draining) {
        j->draining = 0;
        pthread_cond_broadcast(&j->drained);
    }
    pthread_mutex_unlock(&j->mu);
    return rc;
}

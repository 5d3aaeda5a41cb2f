/*
 * The hub's ingest journal: a push is acknowledged once it is appended
 * here and fdatasync'ed (one sync shared by every push arriving
 * meanwhile), and moved into the history later, many at a time, by
 * hv_journal_apply. The history's commits then carry thousands of values
 * instead of a dozen pushes' worth, off the path the spokes wait on.
 *
 * Records: [u32 length][u32 crc32][bytes], little-endian. Opening drops a
 * torn tail (a crash mid-append: that push was never acknowledged).
 * Applying is at-least-once (a crash after the history committed and
 * before the journal was emptied applies records again), which the
 * history's de-duplication makes exactly-once.
 *
 * Thread-safe.
 */
#ifndef HV_JOURNAL_H
#define HV_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "hv_error.h"

typedef struct hv_journal hv_journal_t;

#define HV_JOURNAL_MAX_RECORD (2u << 20)

/*
 * Opens (creating) the journal at path. Records left by an earlier run
 * stay to be applied. Appends fail with HV_EBUSY while max_bytes (0: 64
 * MiB) are waiting to be applied: back-pressure, the spoke retries. On
 * failure "path: reason" in err, *ret untouched.
 */
int hv_journal_open(const char *path, size_t max_bytes, hv_journal_t **ret, char *err,
                    size_t errlen);
void hv_journal_close(hv_journal_t *j);

/* Appends one record (copied); durable when it returns HV_OK. HV_EBUSY
 * (full), HV_ETOOBIG (over HV_JOURNAL_MAX_RECORD), HV_EIO (message). */
int hv_journal_append(hv_journal_t *j, const void *data, size_t len, char *err, size_t errlen);

typedef struct {
    const char *data; /* NUL-terminated copy, valid during the callback */
    size_t len;
} hv_journal_rec_t;

/*
 * Hands the durable records not yet applied to fn, oldest first, in
 * batches of about batch_bytes. When fn returns HV_OK the batch counts as
 * applied; otherwise applying stops there (to be tried again) and its
 * code is returned. Once everything is applied the file is emptied.
 * Returns HV_OK, fn's error, or HV_EIO. One caller at a time.
 */
int hv_journal_apply(hv_journal_t *j, size_t batch_bytes,
                     int (*fn)(void *ud, const hv_journal_rec_t *recs, size_t n), void *ud);

/* Bytes appended and not yet applied. */
size_t hv_journal_pending(hv_journal_t *j);

#endif

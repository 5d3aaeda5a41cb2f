/* libFuzzer harness for the hub's ingest journal on disk: any file opens
 * (a torn or corrupt tail is cut, never a record beyond it), and applying
 * hands over whole records whose bytes are in the file, then empties it. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hv_journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    const uint8_t *file;
    size_t size, at; /* where the next record's data must be */
} walk_t;

static int check_batch(void *ud, const hv_journal_rec_t *recs, size_t n)
{
    walk_t *w = ud;
    for (size_t i = 0; i < n; i++) {
        w->at += 8; /* the header */
        if (w->at + recs[i].len > w->size || memcmp(w->file + w->at, recs[i].data, recs[i].len) ||
            recs[i].data[recs[i].len] != '\0')
            abort();
        w->at += recs[i].len;
    }
    return HV_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (path[0] == '\0')
        snprintf(path, sizeof path, "/tmp/fuzz-journal-%d", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    hv_journal_t *j = NULL;
    char err[256];
    if (hv_journal_open(path, 0, &j, err, sizeof err) != HV_OK)
        abort();
    struct stat st;
    if (stat(path, &st) != 0 || (size_t)st.st_size > size || hv_journal_pending(j) != (size_t)st.st_size)
        abort();
    walk_t w = {data, (size_t)st.st_size, 0};
    if (hv_journal_apply(j, 64, check_batch, &w) != HV_OK || w.at != (size_t)st.st_size ||
        hv_journal_pending(j) != 0)
        abort();
    hv_journal_close(j);
    unlink(path);
    return 0;
}

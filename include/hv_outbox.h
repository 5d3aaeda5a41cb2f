/*
 * A spoke's store-and-forward queue: push bodies waiting for the hub, on
 * disk (SQLite, WAL, synchronous=FULL), so neither a hub outage nor a
 * restart of the spoke loses a reading. Bounded: past max_bytes the oldest
 * entries are dropped and counted (the count survives restarts too).
 * Entries come out in the order they went in; an entry leaves only when
 * the hub has acknowledged it (hv_outbox_ack).
 *
 * Thread-safe: one connection guarded by a mutex (the daemon's loop puts,
 * the sender thread peeks and acks).
 */
#ifndef HV_OUTBOX_H
#define HV_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "hv_error.h"

typedef struct hv_outbox hv_outbox_t;

#define HV_OUTBOX_MAX_ENTRY (1u << 20) /* bytes of one entry (the hub's body limit) */

/*
 * Opens (creating) the queue at path, keeping at most max_bytes of entry
 * bodies (0: 16 MiB; at least one entry is always kept). Entries left by
 * an earlier run are kept, in order. On failure "path: reason" in err,
 * *ret untouched.
 */
int hv_outbox_open(const char *path, size_t max_bytes, hv_outbox_t **ret, char *err,
                   size_t errlen);
void hv_outbox_close(hv_outbox_t *q);

/*
 * Appends one entry (copied). Durable when it returns HV_OK. Then drops
 * the oldest entries while the total is over max_bytes (never the new
 * one), adding them to the dropped count. HV_ETOOBIG past
 * HV_OUTBOX_MAX_ENTRY, HV_EIO on a database error (message in err).
 */
int hv_outbox_put(hv_outbox_t *q, const char *body, size_t len, char *err, size_t errlen);

/* One queued entry: its id (increasing in put order) and body. */
typedef struct {
    int64_t id;
    char *body; /* NUL-terminated, malloc'd */
    size_t len;
} hv_outbox_entry_t;

/*
 * The oldest entries, in order, as many as fit in max_bytes of bodies (at
 * least one, whatever its size) and at most max_entries. *ret_entries is
 * malloc'd (free with hv_outbox_entries_free); *ret_n is 0 when empty.
 * Entries stay queued until acknowledged.
 */
int hv_outbox_peek(hv_outbox_t *q, size_t max_bytes, size_t max_entries,
                   hv_outbox_entry_t **ret_entries, size_t *ret_n);
void hv_outbox_entries_free(hv_outbox_entry_t *entries, size_t n);

/* Removes every entry with id <= upto (the hub has them). Durable. */
int hv_outbox_ack(hv_outbox_t *q, int64_t upto);

/* Entries and body bytes queued now; entries dropped for space ever. */
size_t hv_outbox_depth(hv_outbox_t *q);
size_t hv_outbox_bytes(hv_outbox_t *q);
uint64_t hv_outbox_dropped(hv_outbox_t *q);

#endif

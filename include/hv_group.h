/*
 * Group commit: many threads each need their item made durable (a
 * transaction, an fsync); the first one to find no batch in progress runs
 * the whole queue at once while the next queue forms behind it, so under
 * load one expensive step serves many callers. Used by the history's
 * writes (src/store/) and the hub's ingest journal (src/cluster/).
 */
#ifndef HV_GROUP_H
#define HV_GROUP_H

#include <pthread.h>

/* Embed first in the caller's item struct (cast back in run/after). */
typedef struct hv_group_member {
    struct hv_group_member *next;
    pthread_cond_t cv; /* its owner waits here: to be done, or to lead */
    int done;
} hv_group_member_t;

typedef struct {
    hv_group_member_t *queue, *tail;
    int running;          /* a batch is being run */
    pthread_cond_t *idle; /* broadcast when a batch ends with nobody queued; may be NULL */
} hv_group_t;

typedef struct {
    /* Runs a batch (a list by next), called without the caller's mutex. */
    void (*run)(void *ud, hv_group_member_t *batch);
    /* Then, with the mutex held again, before the batch's owners wake;
     * may be NULL. */
    void (*after)(void *ud, hv_group_member_t *batch);
} hv_group_ops_t;

/*
 * Called with mu held (the mutex guarding g): queues m and returns, mu
 * held, once a batch holding m has run, by this thread or another. ud is
 * this caller's: only the leading caller's is used, for its batch.
 */
void hv_group_join(hv_group_t *g, pthread_mutex_t *mu, hv_group_member_t *m,
                   const hv_group_ops_t *ops, void *ud);

#endif

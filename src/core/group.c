/* Group commit (see include/hv_group.h). */
#include "hv_group.h"

void hv_group_join(hv_group_t *g, pthread_mutex_t *mu, hv_group_member_t *m,
                   const hv_group_ops_t *ops, void *ud)
{
    m->next = NULL;
    m->done = 0;
    pthread_cond_init(&m->cv, NULL);
    if (g->tail)
        g->tail->next = m;
    else
        g->queue = m;
    g->tail = m;
    while (!m->done) {
        if (g->running) {
            pthread_cond_wait(&m->cv, mu);
            continue;
        }
        hv_group_member_t *batch = g->queue;
        g->queue = g->tail = NULL;
        g->running = 1;
        pthread_mutex_unlock(mu);
        ops->run(ud, batch);
        pthread_mutex_lock(mu);
        if (ops->after)
            ops->after(ud, batch);
        /* Wake each owner of the batch (read next first: once done, an
         * owner may return and its member is gone), and the first of the
         * queue formed meanwhile, who runs it: no thundering herd. */
        for (hv_group_member_t *p = batch, *next; p; p = next) {
            next = p->next;
            p->done = 1;
            pthread_cond_signal(&p->cv);
        }
        g->running = 0;
        if (g->queue != NULL)
            pthread_cond_signal(&g->queue->cv);
        else if (g->idle != NULL)
            pthread_cond_broadcast(g->idle);
    }
    pthread_cond_destroy(&m->cv);
}

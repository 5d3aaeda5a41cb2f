/*
 * The spoke's side: every cycle's readings and new log lines go into the
 * on-disk queue first; a sender thread pushes the queue's head to the hub
 * in order, a batch of cycles per push when it has fallen behind, and
 * removes a batch only once the hub has answered 2xx. While the hub is
 * away the queue grows (bounded by the outbox) and the sender retries
 * every few seconds; the outage and the recovery are logged once each.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster_impl.h"
#include "hv_log.h"

#define RETRY_MIN_MS 500
#define RETRY_MAX_MS 5000
#define MAX_BATCH 64 /* queued cycles per push */

/* This cycle's log lines of this node (not other nodes' copies), oldest
 * first, as [{"source","level","text","time"}]; advances the cursor. */
static cJSON *new_log_lines(hv_cluster_t *c)
{
    cJSON *arr = cJSON_CreateArray();
    hv_log_entry_t *e = malloc(HV_CLUSTER_MAX_LOGS * sizeof *e);
    if (arr == NULL || e == NULL) {
        free(e);
        return arr;
    }
    size_t n = hv_log_read(NULL, c->log_seq, e, HV_CLUSTER_MAX_LOGS);
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "source", e[i].source);
        cJSON_AddNumberToObject(o, "level", e[i].level);
        cJSON_AddStringToObject(o, "text", e[i].text);
        cJSON_AddNumberToObject(o, "time", (double)e[i].time_ms);
        cJSON_AddItemToArray(arr, o);
        c->log_seq = e[i].seq;
    }
    free(e);
    return arr;
}

int cluster__spoke_queue(hv_cluster_t *c, const cJSON *readings)
{
    cJSON *entry = cJSON_CreateObject();
    if (entry == NULL)
        return HV_ENOMEM;
    /* A reference: the caller keeps the readings, this only prints them. */
    cJSON_AddItemReferenceToObject(entry, "readings", (cJSON *)readings);
    cJSON_AddItemToObject(entry, "logs", new_log_lines(c));
    char *text = cJSON_PrintUnformatted(entry);
    cJSON_Delete(entry);
    char err[256];
    int rc = text ? hv_outbox_put(c->outbox, text, strlen(text), err, sizeof err) : HV_ENOMEM;
    free(text);
    if (rc != HV_OK) {
        hv_log("host", HV_LOG_ERROR, "cluster: cannot queue this cycle: %s",
               rc == HV_ENOMEM ? "out of memory" : err);
        return rc;
    }
    pthread_mutex_lock(&c->mu);
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return HV_OK;
}

/* One push body from queued entries: their readings and logs in order. */
static char *batch_body(hv_cluster_t *c, const hv_outbox_entry_t *e, size_t n)
{
    cJSON *body = cJSON_CreateObject();
    cJSON *readings = cJSON_CreateArray(), *logs = cJSON_CreateArray();
    cJSON_AddStringToObject(body, "node_id", c->node_id);
    if (c->advertise[0])
        cJSON_AddStringToObject(body, "url", c->advertise);
    else if (c->http_port > 0)
        cJSON_AddNumberToObject(body, "http_port", c->http_port);
    cJSON_AddItemToObject(body, "readings", readings);
    cJSON_AddItemToObject(body, "logs", logs);
    /* What will still be queued once the hub has these. */
    cJSON_AddNumberToObject(body, "queued", (double)(hv_outbox_depth(c->outbox) - n));
    cJSON_AddNumberToObject(body, "dropped", (double)hv_outbox_dropped(c->outbox));
    pthread_mutex_lock(&c->mu);
    if (c->push_ms >= 0)
        cJSON_AddNumberToObject(body, "push_ms", c->push_ms);
    pthread_mutex_unlock(&c->mu);
    for (size_t i = 0; i < n; i++) {
        cJSON *entry = cJSON_ParseWithLength(e[i].body, e[i].len);
        cJSON *r = cJSON_DetachItemFromObjectCaseSensitive(entry, "readings");
        cJSON *l = cJSON_DetachItemFromObjectCaseSensitive(entry, "logs");
        while (r != NULL && r->child != NULL)
            cJSON_AddItemToArray(readings, cJSON_DetachItemViaPointer(r, r->child));
        while (l != NULL && l->child != NULL)
            cJSON_AddItemToArray(logs, cJSON_DetachItemViaPointer(l, l->child));
        cJSON_Delete(r);
        cJSON_Delete(l);
        cJSON_Delete(entry);
    }
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    return text;
}

/* Waits ms or until stop (and, with kick, until new entries arrive). */
static void nap(hv_cluster_t *c, long ms, int kick)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        if (pthread_cond_timedwait(&c->cv, &c->mu, &until) == ETIMEDOUT || kick)
            break;
    }
    pthread_mutex_unlock(&c->mu);
}

/* A 4xx other than 401 (fix the token), 408 and 429 (try again): the hub
 * will never take this body. */
static int refused_for_good(long status)
{
    return status >= 400 && status <= 499 && status != 401 && status != 408 && status != 429;
}

/* One push of the queue's head: 1 sent (or a batch to split: go on), 0
 * failed (retry later), -1 nothing to send. A batch the hub refuses for
 * good is retried one cycle at a time, and a single cycle it refuses is
 * dropped with an error line (not in the "dropped" count, which is for
 * space), so one bad entry cannot stall the queue. */
static int push_once(hv_cluster_t *c, hv_client_t *client, const char *url, int *single)
{
    hv_outbox_entry_t *e = NULL;
    size_t n = 0;
    if (hv_outbox_peek(c->outbox, CLUSTER_PUSH_BYTES, *single ? 1 : MAX_BATCH, &e, &n) != HV_OK ||
        n == 0) {
        hv_outbox_entries_free(e, n);
        return -1;
    }
    char *body = batch_body(c, e, n), err[1024];
    int64_t last = e[n - 1].id;
    hv_outbox_entries_free(e, n);
    if (body == NULL)
        return 0;
    hv_client_reply_t r = {0};
    int rc = hv_client_request(client, url, c->token, body, strlen(body), CLUSTER_PUSH_TIMEOUT_MS,
                               &r, err, sizeof err);
    free(body);
    if (rc == HV_OK && refused_for_good(r.status)) {
        if (n == 1) {
            hv_log("host", HV_LOG_ERROR, "cluster: the hub refused a queued cycle for good "
                   "(HTTP %ld: %.200s); dropping it", r.status, r.body);
            hv_outbox_ack(c->outbox, last);
            *single = 0;
            free(r.body);
            return 1;
        }
        /* Find the culprit: the head alone, now. The hub answered, so this
         * is no outage (no "hub unreachable", no back-off). */
        *single = 1;
        free(r.body);
        return 1;
    }
    if (rc == HV_OK && (r.status < 200 || r.status > 299)) {
        snprintf(err, sizeof err, "%s: HTTP %ld%s: %.200s", url, r.status,
                 r.status == 401 ? " (the hub refused this node's [http] token)" : "", r.body);
        rc = HV_EIO;
    }
    if (rc != HV_OK) {
        free(r.body);
        pthread_mutex_lock(&c->mu);
        int first = !c->hub_down;
        c->hub_down = 1;
        pthread_mutex_unlock(&c->mu);
        if (first)
            hv_log("host", HV_LOG_WARN, "cluster: hub unreachable (%s); queueing readings on "
                   "disk", err);
        return 0;
    }
    if (hv_outbox_ack(c->outbox, last) != HV_OK) /* they will go again: the hub de-duplicates */
        hv_log("host", HV_LOG_ERROR, "cluster: cannot remove sent cycles from the queue");
    *single = 0;
    cJSON *reply = cJSON_Parse(r.body);
    pthread_mutex_lock(&c->mu);
    int back = c->hub_down;
    c->hub_down = 0;
    c->push_ms = r.ms;
    cluster__set_peers(c, cJSON_GetObjectItemCaseSensitive(reply, "nodes"));
    pthread_mutex_unlock(&c->mu);
    cJSON_Delete(reply);
    free(r.body);
    if (back)
        hv_log("host", HV_LOG_INFO, "cluster: hub back; %zu queued cycles still to send",
               hv_outbox_depth(c->outbox));
    return 1;
}

void *cluster__sender_main(void *arg)
{
    hv_cluster_t *c = arg;
    hv_client_t *client = hv_client_new();
    char url[300];
    snprintf(url, sizeof url, "%s/push", c->hub_url);
    long retry = RETRY_MIN_MS;
    int single = 0;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        int stop = c->stop;
        pthread_mutex_unlock(&c->mu);
        if (stop || client == NULL)
            break;
        int sent = push_once(c, client, url, &single);
        if (sent < 0) { /* queue empty: wait for the next cycle */
            nap(c, 1000, 1);
        } else if (sent == 0) {
            nap(c, retry, 0);
            retry = retry * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : retry * 2;
        } else {
            retry = RETRY_MIN_MS;
        }
    }
    hv_client_free(client);
    return NULL;
}

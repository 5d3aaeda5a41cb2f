/*
 * Node health: every ping interval each node times GET /health on the
 * nodes it knows (a spoke: its hub and the peers the hub told it of; the
 * hub: its spokes that gave a dashboard address). An HTTP round trip, not
 * ICMP: no raw sockets, no privileges, and it measures what matters (the
 * peer's daemon answering), as the seeds' ping display meant.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster_impl.h"

/* Adds a peer unless known or full. Caller holds mu. */
static void add_peer(hv_cluster_t *c, const char *id, const char *url)
{
    for (size_t i = 0; i < c->npeers; i++)
        if (strcmp(c->peers[i].url, url) == 0)
            return;
    if (c->npeers == CLUSTER_MAX_PEERS || strlen(url) >= sizeof c->peers[0].url)
        return;
    cluster_peer_t *p = &c->peers[c->npeers++];
    snprintf(p->url, sizeof p->url, "%s", url);
    snprintf(p->id, sizeof p->id, "%s", id);
    p->ms = -1;
}

void cluster__set_peers(hv_cluster_t *c, const cJSON *nodes)
{
    const cJSON *n;
    cJSON_ArrayForEach(n, nodes)
    {
        if (cJSON_IsString(n) && n->string != NULL && strcmp(n->string, c->node_id) != 0 &&
            (strncmp(n->valuestring, "http://", 7) == 0 ||
             strncmp(n->valuestring, "https://", 8) == 0))
            add_peer(c, n->string, n->valuestring);
    }
}

cJSON *cluster__latency_json(hv_cluster_t *c)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o != NULL && i < c->npeers; i++) {
        if (cJSON_GetObjectItemCaseSensitive(o, c->peers[i].id) != NULL)
            continue;
        if (c->peers[i].ms >= 0)
            cJSON_AddNumberToObject(o, c->peers[i].id, (double)(long)(c->peers[i].ms * 100) / 100);
        else
            cJSON_AddNullToObject(o, c->peers[i].id);
    }
    return o;
}

/* The hub's spokes with a dashboard become its peers. Caller holds mu. */
static void hub_targets(hv_cluster_t *c)
{
    for (size_t i = 0; i < c->nnodes; i++)
        if (c->nodes[i].url[0])
            add_peer(c, c->nodes[i].id, c->nodes[i].url);
}

static void ping(hv_cluster_t *c, hv_client_t *client, size_t i)
{
    char url[300], err[256];
    pthread_mutex_lock(&c->mu);
    snprintf(url, sizeof url, "%s/health", c->peers[i].url);
    pthread_mutex_unlock(&c->mu);
    hv_client_reply_t r = {0};
    int rc = hv_client_request(client, url, NULL, NULL, 0, CLUSTER_PING_TIMEOUT_MS, &r, err,
                               sizeof err);
    cJSON *health = rc == HV_OK && r.status == 200 ? cJSON_Parse(r.body) : NULL;
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(health, "node");
    pthread_mutex_lock(&c->mu);
    c->peers[i].ms = health != NULL ? r.ms : -1;
    if (cJSON_IsString(node) && strlen(node->valuestring) < sizeof c->peers[i].id)
        snprintf(c->peers[i].id, sizeof c->peers[i].id, "%s", node->valuestring);
    pthread_mutex_unlock(&c->mu);
    cJSON_Delete(health);
    free(r.body);
}

void *cluster__pinger_main(void *arg)
{
    hv_cluster_t *c = arg;
    hv_client_t *client = hv_client_new();
    for (;;) {
        pthread_mutex_lock(&c->mu);
        if (c->role == ROLE_HUB)
            hub_targets(c);
        size_t n = c->npeers;
        int stop = c->stop;
        pthread_mutex_unlock(&c->mu);
        if (stop || client == NULL)
            break;
        for (size_t i = 0; i < n; i++)
            ping(c, client, i);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += c->ping_s;
        pthread_mutex_lock(&c->mu);
        while (!c->stop && pthread_cond_timedwait(&c->cv, &c->mu, &until) != ETIMEDOUT)
            ;
        pthread_mutex_unlock(&c->mu);
    }
    hv_client_free(client);
    return NULL;
}

/*
 * The hub's side: a spoke's push is checked whole (its node id, every
 * sensor id under it, the caps), stored in the history (which keeps a
 * replayed reading once), merged into that node's latest readings, and
 * its log lines join the log as "<node>/<source>". Only then is it
 * acknowledged, so a spoke drops nothing the hub has not committed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster_impl.h"
#include "hv_log.h"
#include "json_internal.h"

#define MAX_PUSH_LOGS 1000 /* log lines taken from one push (the rest are counted) */
#define APPLY_EVERY_MS 200    /* the journal goes into the history this often */
#define APPLY_BATCH (1u << 20) /* bytes of pushes per history transaction */

static int valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return 0;
    return 1;
}

static size_t id_hash(const char *id)
{
    uint32_t h = 2166136261u;
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 16777619u;
    return h & (CLUSTER_INDEX_SLOTS - 1);
}

/* The index slot of id: its node's, or the empty one it would take. */
static int32_t *index_slot(hv_cluster_t *c, const char *id)
{
    for (size_t i = id_hash(id);; i = (i + 1) & (CLUSTER_INDEX_SLOTS - 1))
        if (c->node_index[i] < 0 || strcmp(c->nodes[c->node_index[i]].id, id) == 0)
            return &c->node_index[i];
}

/* Rebuilds the index (after a node was recycled: linear probing cannot
 * delete in place). */
static void reindex(hv_cluster_t *c)
{
    for (size_t i = 0; i < CLUSTER_INDEX_SLOTS; i++)
        c->node_index[i] = -1;
    for (size_t i = 0; i < c->nnodes; i++)
        *index_slot(c, c->nodes[i].id) = (int32_t)i;
}

/* The node's entry, made (or the longest-unseen one recycled) if new.
 * A hash index: a hub with a thousand spokes looks one up per push.
 * Caller holds mu. */
static cluster_node_t *node_of(hv_cluster_t *c, const char *id)
{
    if (c->nodes == NULL) {
        c->nodes = calloc(HV_CLUSTER_MAX_NODES, sizeof *c->nodes);
        c->node_index = malloc(CLUSTER_INDEX_SLOTS * sizeof *c->node_index);
        if (c->nodes == NULL || c->node_index == NULL) {
            free(c->nodes);
            free(c->node_index);
            c->nodes = NULL;
            c->node_index = NULL;
            return NULL;
        }
        reindex(c);
    }
    int32_t *slot = index_slot(c, id);
    if (*slot >= 0)
        return &c->nodes[*slot];
    cluster_node_t *n;
    if (c->nnodes < HV_CLUSTER_MAX_NODES) {
        *slot = (int32_t)c->nnodes;
        n = &c->nodes[c->nnodes++];
    } else {
        size_t oldest = 0;
        for (size_t i = 1; i < c->nnodes; i++)
            if (c->nodes[i].last_seen < c->nodes[oldest].last_seen)
                oldest = i;
        n = &c->nodes[oldest];
        hv_log("host", HV_LOG_WARN, "cluster: over %d nodes; forgetting %s", HV_CLUSTER_MAX_NODES,
               n->id);
        cJSON_Delete(n->latest);
    }
    memset(n, 0, sizeof *n);
    snprintf(n->id, sizeof n->id, "%s", id);
    n->push_ms = -1;
    n->latest = cJSON_CreateArray();
    if (c->nnodes == HV_CLUSTER_MAX_NODES && *slot < 0)
        reindex(c);
    return n;
}

static double timestamp_of(const cJSON *r)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "timestamp");
    return cJSON_IsNumber(t) ? t->valuedouble : 0;
}

/* Keeps the newest reading per sensor_id (a replay carries older ones). */
static void merge_latest(cluster_node_t *n, const cJSON *readings)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, readings)
    {
        const char *sid = cJSON_GetObjectItemCaseSensitive(r, "sensor_id")->valuestring;
        cJSON *old = NULL, *it;
        cJSON_ArrayForEach(it, n->latest)
        {
            if (strcmp(cJSON_GetObjectItemCaseSensitive(it, "sensor_id")->valuestring, sid) == 0) {
                old = it;
                break;
            }
        }
        if (old != NULL && timestamp_of(old) > timestamp_of(r))
            continue;
        cJSON *copy = cJSON_Duplicate(r, 1);
        if (copy == NULL)
            continue;
        if (old != NULL)
            cJSON_ReplaceItemViaPointer(n->latest, old, copy);
        else if (cJSON_GetArraySize(n->latest) < CLUSTER_MAX_SENSORS)
            cJSON_AddItemToArray(n->latest, copy);
        else
            cJSON_Delete(copy);
    }
}

static double num_or(const cJSON *o, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* Where the spoke's dashboard is: its "url", or its "http_port" on the
 * address the push came from. */
static void spoke_url(const cJSON *body, const char *peer, char *buf, size_t len)
{
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(body, "url");
    double port = num_or(body, "http_port", 0);
    buf[0] = '\0';
    if (cJSON_IsString(url) && strlen(url->valuestring) < len &&
        (strncmp(url->valuestring, "http://", 7) == 0 ||
         strncmp(url->valuestring, "https://", 8) == 0)) {
        /* "http://pi4:3000/" is "http://pi4:3000": "/api/buzzer" and
         * "/health" are appended to it */
        size_t n = (size_t)snprintf(buf, len, "%s", url->valuestring);
        while (n > 8 && buf[n - 1] == '/')
            buf[--n] = '\0';
    } else if (port >= 1 && port <= 65535 && peer != NULL && *peer)
        snprintf(buf, len, strchr(peer, ':') ? "http://[%s]:%d" : "http://%s:%d", peer, (int)port);
}

static int check_body(const cJSON *body, const char **ret_id, const cJSON **ret_readings,
                      char *err, size_t errlen)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(body, "node_id");
    const cJSON *readings = cJSON_GetObjectItemCaseSensitive(body, "readings");
    const cJSON *logs = cJSON_GetObjectItemCaseSensitive(body, "logs");
    if (!cJSON_IsObject(body) || !cJSON_IsString(id) || !cJSON_IsArray(readings) ||
        (logs != NULL && !cJSON_IsArray(logs))) {
        snprintf(err, errlen, "expected {\"node_id\": string, \"readings\": array, \"logs\": "
                 "array}");
        return HV_EINVAL;
    }
    if (!valid_id(id->valuestring)) {
        snprintf(err, errlen, "node_id: 1..63 characters of A-Z a-z 0-9 . _ -");
        return HV_EINVAL;
    }
    size_t idlen = strlen(id->valuestring), i = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, readings)
    {
        const cJSON *sid = cJSON_GetObjectItemCaseSensitive(r, "sensor_id");
        /* A spoke speaks for itself only: its sensors are "<node_id>:...". */
        if (!cJSON_IsString(sid) || strncmp(sid->valuestring, id->valuestring, idlen) != 0 ||
            sid->valuestring[idlen] != ':') {
            snprintf(err, errlen, "readings[%zu].sensor_id: expected \"%s:<sensor>\"", i,
                     id->valuestring);
            return HV_EINVAL;
        }
        i++;
    }
    *ret_id = id->valuestring;
    *ret_readings = readings;
    return HV_OK;
}

static void take_logs(const char *id, const cJSON *logs)
{
    const cJSON *l;
    int n = 0;
    cJSON_ArrayForEach(l, logs)
    {
        if (n++ == MAX_PUSH_LOGS) {
            hv_log("host", HV_LOG_WARN, "cluster: %s sent over %d log lines in one push; the "
                   "rest are dropped", id, MAX_PUSH_LOGS);
            return;
        }
        const cJSON *src = cJSON_GetObjectItemCaseSensitive(l, "source");
        const cJSON *txt = cJSON_GetObjectItemCaseSensitive(l, "text");
        double lvl = num_or(l, "level", HV_LOG_INFO);
        if (!cJSON_IsString(txt))
            continue;
        /* The log keeps sizeof source - 1 bytes of a source's name (room for
         * any node id, a '/' and a source): cut the source, never the '/'
         * (a name cut before it would pass for one of this node's own). */
        char source[sizeof((hv_log_entry_t *)0)->source];
        snprintf(source, sizeof source, "%.*s/%s", (int)strnlen(id, sizeof source - 2), id,
                 cJSON_IsString(src) && strchr(src->valuestring, '/') == NULL ? src->valuestring
                                                                              : "host");
        hv_log_line(source, lvl >= HV_LOG_TRACE && lvl <= HV_LOG_ERROR ? (int)lvl : HV_LOG_INFO,
                    txt->valuestring);
    }
}

int hv_cluster_push(hv_cluster_t *c, const char *json, size_t len, const char *peer,
                    char **ret_reply, char *err, size_t errlen)
{
    if (c->role == ROLE_SPOKE) {
        snprintf(err, errlen, "this node is a spoke: push to its hub");
        return HV_EPERM;
    }
    /* Strict JSON (a peer's text): one parse serves the checks, the
     * history and the merge. */
    cJSON *body = NULL;
    int rc = hv_json_parse(json, len, &body, err, errlen);
    const char *id;
    const cJSON *readings;
    if (rc == HV_OK)
        rc = check_body(body, &id, &readings, err, errlen);
    if (rc != HV_OK) {
        cJSON_Delete(body);
        return rc;
    }
    /* Refuse now what the history would refuse later: once journaled, a
     * push is acknowledged and cannot be refused any more. */
    if (c->journal != NULL && cJSON_GetArraySize(readings) > 0) {
        rc = hv_store_check_tree(readings, err, errlen);
        if (rc == HV_OK)
            rc = hv_journal_append(c->journal, json, len, err, errlen);
        if (rc != HV_OK) {
            cJSON_Delete(body);
            return rc == HV_ETOOBIG ? HV_EINVAL : rc;
        }
    }
    char url[256];
    spoke_url(body, peer, url, sizeof url);
    cJSON *reply = cJSON_CreateObject(), *nodes = cJSON_CreateObject();
    cJSON_AddBoolToObject(reply, "ok", 1);
    cJSON_AddNumberToObject(reply, "accepted", cJSON_GetArraySize(readings));
    cJSON_AddItemToObject(reply, "nodes", nodes);
    pthread_mutex_lock(&c->mu);
    cluster_node_t *n = node_of(c, id);
    if (n != NULL) {
        if (url[0])
            snprintf(n->url, sizeof n->url, "%s", url);
        n->last_seen = cluster__wall_ms();
        n->push_ms = num_or(body, "push_ms", n->push_ms);
        n->queued = num_or(body, "queued", 0);
        n->dropped = num_or(body, "dropped", 0);
        merge_latest(n, readings);
    }
    /* The peers a spoke should ping: the others with a dashboard, the most
     * recently seen first (a bounded reply however many spokes there are). */
    for (size_t k = 0, told = 0; k < c->nnodes && told < CLUSTER_MAX_PEERS; k++) {
        const cluster_node_t *o = &c->nodes[c->nnodes - 1 - k];
        if (o->url[0] && strcmp(o->id, id) != 0) {
            cJSON_AddStringToObject(nodes, o->id, o->url);
            told++;
        }
    }
    pthread_mutex_unlock(&c->mu);
    take_logs(id, cJSON_GetObjectItemCaseSensitive(body, "logs"));
    cJSON_Delete(body);
    *ret_reply = cJSON_PrintUnformatted(reply);
    cJSON_Delete(reply);
    return *ret_reply ? HV_OK : HV_ENOMEM;
}

/* Journal -> history: every push's readings, one transaction per batch. */
static int apply_batch(void *ud, const hv_journal_rec_t *recs, size_t n)
{
    hv_cluster_t *c = ud;
    cJSON **bodies = calloc(n, sizeof *bodies);
    const cJSON **readings = calloc(n, sizeof *readings);
    int rc = bodies && readings ? HV_OK : HV_ENOMEM;
    char err[256];
    for (size_t i = 0; rc == HV_OK && i < n; i++)
        if (hv_json_parse(recs[i].data, recs[i].len, &bodies[i], err, sizeof err) == HV_OK)
            readings[i] = cJSON_GetObjectItemCaseSensitive(bodies[i], "readings");
    size_t failed = 0;
    if (rc == HV_OK)
        rc = hv_store_add_trees(c->store, (const cJSON *const *)readings, n, NULL, &failed, err,
                                sizeof err);
    if (rc == HV_OK && failed > 0)
        hv_log("host", HV_LOG_ERROR, "history: %zu pushes could not be stored: %s", failed, err);
    else if (rc != HV_OK)
        hv_log("host", HV_LOG_WARN, "history: storing pushes failed (%s); retrying",
               rc == HV_ENOMEM ? "out of memory" : err);
    for (size_t i = 0; bodies && i < n; i++)
        cJSON_Delete(bodies[i]);
    free(bodies);
    free(readings);
    return rc;
}

static void *applier_main(void *arg)
{
    hv_cluster_t *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += APPLY_EVERY_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!c->stop && pthread_cond_timedwait(&c->cv, &c->mu, &until) != ETIMEDOUT)
            ;
        int stop = c->stop;
        pthread_mutex_unlock(&c->mu);
        hv_journal_apply(c->journal, APPLY_BATCH, apply_batch, c);
        if (stop)
            return NULL;
    }
}

int cluster__hub_open(hv_cluster_t *c, const char *data_dir, char *err, size_t errlen)
{
    if (c->store == NULL)
        return HV_OK; /* no history: pushes only update the latest readings */
    char path[700];
    snprintf(path, sizeof path, "%s/ingest.journal", data_dir);
    int rc = hv_journal_open(path, 0, &c->journal, err, errlen);
    if (rc != HV_OK)
        return rc;
    size_t left = hv_journal_pending(c->journal);
    if (left > 0) {
        hv_log("host", HV_LOG_INFO, "cluster: storing %zu bytes of pushes journaled before the "
               "last stop", left);
        hv_journal_apply(c->journal, APPLY_BATCH, apply_batch, c);
    }
    if (pthread_create(&c->applier, NULL, applier_main, c) != 0) {
        snprintf(err, errlen, "cannot start the journal thread");
        return HV_ENOMEM;
    }
    c->has_applier = 1;
    return HV_OK;
}

void cluster__hub_close(hv_cluster_t *c)
{
    if (c->has_applier)
        pthread_join(c->applier, NULL); /* it stores what is left, then stops */
    c->has_applier = 0;
    hv_journal_close(c->journal);
    c->journal = NULL;
}

void cluster__hub_readings(hv_cluster_t *c, cJSON *all)
{
    for (size_t i = 0; i < c->nnodes; i++) {
        const cJSON *r;
        cJSON_ArrayForEach(r, c->nodes[i].latest) cJSON_AddItemToArray(all, cJSON_Duplicate(r, 1));
    }
}

void cluster__hub_free(hv_cluster_t *c)
{
    for (size_t i = 0; i < c->nnodes; i++)
        cJSON_Delete(c->nodes[i].latest);
    free(c->nodes);
    free(c->node_index);
    c->nodes = NULL;
    c->node_index = NULL;
    c->nnodes = 0;
}

char *hv_cluster_nodes_json(hv_cluster_t *c)
{
    cJSON *all = cJSON_CreateArray();
    pthread_mutex_lock(&c->mu);
    cJSON *self = cJSON_CreateObject();
    cJSON_AddStringToObject(self, "node", c->node_id);
    cJSON_AddStringToObject(self, "role", c->role == ROLE_HUB ? "hub"
                                          : c->role == ROLE_SPOKE ? "spoke" : "standalone");
    cJSON_AddItemToObject(self, "latency_ms", cluster__latency_json(c));
    cJSON_AddItemToArray(all, self);
    for (size_t i = 0; i < c->nnodes; i++) {
        const cluster_node_t *n = &c->nodes[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "node", n->id);
        cJSON_AddStringToObject(o, "role", "spoke");
        cJSON_AddStringToObject(o, "url", n->url);
        cJSON_AddNumberToObject(o, "last_seen_ms", (double)n->last_seen);
        if (n->push_ms >= 0)
            cJSON_AddNumberToObject(o, "push_ms", n->push_ms);
        else
            cJSON_AddNullToObject(o, "push_ms");
        cJSON_AddNumberToObject(o, "queued", n->queued);
        cJSON_AddNumberToObject(o, "dropped", n->dropped);
        cJSON_AddItemToArray(all, o);
    }
    pthread_mutex_unlock(&c->mu);
    char *s = cJSON_PrintUnformatted(all);
    cJSON_Delete(all);
    return s;
}

/*
 * The node's cluster side: which threads its role needs, the network
 * reading it adds every cycle, what /api/readings shows of other nodes,
 * and where a buzzer request goes.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster_impl.h"
#include "hv_log.h"

#define BUZZ_TIMEOUT_MS 5000

int64_t cluster__wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *role_name(int role)
{
    return role == ROLE_HUB ? "hub" : role == ROLE_SPOKE ? "spoke" : "standalone";
}

/* A node's base URL: "http://hub:3000/", "http://hub:3000" and the seeds'
 * "http://hub:3000/push" (endpoint given) are the same hub. */
static void base_url(char *dst, size_t len, const char *url, const char *endpoint)
{
    snprintf(dst, len, "%s", url);
    size_t n = strlen(dst), e = strlen(endpoint);
    while (n > 0 && dst[n - 1] == '/')
        dst[--n] = '\0';
    if (e > 0 && n >= e && strcmp(dst + n - e, endpoint) == 0)
        dst[n -= e] = '\0';
    while (n > 0 && dst[n - 1] == '/')
        dst[--n] = '\0';
}

int hv_cluster_open(const hv_cluster_opts_t *opts, hv_cluster_t **ret, char *err, size_t errlen)
{
    const hv_config_t *cfg = opts->cfg;
    hv_cluster_t *c = calloc(1, sizeof *c);
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return HV_ENOMEM;
    }
    c->role = strcmp(cfg->role, "hub") == 0     ? ROLE_HUB
              : strcmp(cfg->role, "spoke") == 0 ? ROLE_SPOKE
                                                : ROLE_STANDALONE;
    snprintf(c->node_id, sizeof c->node_id, "%s", cfg->node_id);
    snprintf(c->token, sizeof c->token, "%s", cfg->http_token);
    base_url(c->buzz_url, sizeof c->buzz_url, cfg->spoke_buzzer_url, "/api/buzzer");
    base_url(c->advertise, sizeof c->advertise, cfg->advertise_url, "");
    base_url(c->hub_url, sizeof c->hub_url, cfg->hub_url, "/push");
    c->http_port = opts->http_port;
    c->ping_s = cfg->ping_interval_s ? cfg->ping_interval_s : 5;
    c->store = opts->store;
    c->push_ms = -1;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (c->role == ROLE_SPOKE) {
        char path[700];
        snprintf(path, sizeof path, "%s/outbox.db", cfg->data_dir);
        int rc = hv_outbox_open(path, (size_t)cfg->queue_max_mb << 20, &c->outbox, err, errlen);
        if (rc != HV_OK) {
            hv_cluster_close(c);
            return rc;
        }
        size_t queued = hv_outbox_depth(c->outbox);
        if (queued > 0)
            hv_log("host", HV_LOG_INFO, "cluster: %zu cycles queued from before; sending them "
                   "first", queued);
        c->log_seq = 0; /* every line of this run goes to the hub, start-up too */
        snprintf(c->peers[0].url, sizeof c->peers[0].url, "%s", c->hub_url);
        snprintf(c->peers[0].id, sizeof c->peers[0].id, "hub");
        c->peers[0].ms = -1;
        c->npeers = 1;
        if (pthread_create(&c->sender, NULL, cluster__sender_main, c) != 0) {
            snprintf(err, errlen, "cannot start the sender thread");
            hv_cluster_close(c);
            return HV_ENOMEM;
        }
        c->has_sender = 1;
    }
    if (c->role != ROLE_SPOKE) {
        int rc = cluster__hub_open(c, cfg->data_dir, err, errlen);
        if (rc != HV_OK) {
            hv_cluster_close(c);
            return rc;
        }
    }
    if (c->role != ROLE_STANDALONE) {
        if (pthread_create(&c->pinger, NULL, cluster__pinger_main, c) != 0) {
            snprintf(err, errlen, "cannot start the pinger thread");
            hv_cluster_close(c);
            return HV_ENOMEM;
        }
        c->has_pinger = 1;
    }
    *ret = c;
    return HV_OK;
}

void hv_cluster_close(hv_cluster_t *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (c->has_sender)
        pthread_join(c->sender, NULL);
    if (c->has_pinger)
        pthread_join(c->pinger, NULL);
    cluster__hub_close(c);
    hv_outbox_close(c->outbox);
    cluster__hub_free(c);
    cJSON_Delete(c->own_network);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

/* This node's network reading now. Caller holds mu. */
static cJSON *network_reading(hv_cluster_t *c)
{
    cJSON *r = cJSON_CreateObject(), *data = cJSON_CreateObject();
    char sid[96];
    snprintf(sid, sizeof sid, "%s:network", c->node_id);
    cJSON_AddStringToObject(r, "sensor_id", sid);
    cJSON_AddStringToObject(r, "plugin", "cluster");
    cJSON_AddNumberToObject(r, "timestamp", (double)cluster__wall_ms());
    cJSON_AddItemToObject(r, "data", data);
    cJSON_AddStringToObject(data, "role", role_name(c->role));
    if (c->role != ROLE_STANDALONE)
        cJSON_AddItemToObject(data, "latency", cluster__latency_json(c));
    if (c->role == ROLE_SPOKE) {
        if (c->push_ms >= 0)
            cJSON_AddNumberToObject(data, "push_ms", (double)(long)(c->push_ms * 100) / 100);
        cJSON_AddNumberToObject(data, "queued", (double)hv_outbox_depth(c->outbox));
        cJSON_AddNumberToObject(data, "dropped", (double)hv_outbox_dropped(c->outbox));
        cJSON_AddBoolToObject(data, "hub_reachable", !c->hub_down);
    }
    if (c->role == ROLE_HUB)
        cJSON_AddNumberToObject(data, "spokes", (double)c->nnodes);
    return r;
}

/* A readings array (JSON text) with add() appending to it under mu; NULL
 * when the text is no array. */
static cJSON *readings_plus(hv_cluster_t *c, const char *json,
                            void (*add)(hv_cluster_t *c, cJSON *all))
{
    cJSON *all = cJSON_Parse(json);
    if (!cJSON_IsArray(all)) {
        cJSON_Delete(all);
        return NULL;
    }
    pthread_mutex_lock(&c->mu);
    add(c, all);
    pthread_mutex_unlock(&c->mu);
    return all;
}

/* This cycle's network reading: appended, and kept for /api/readings. */
static void add_new_network(hv_cluster_t *c, cJSON *all)
{
    cJSON *net = network_reading(c);
    cJSON_Delete(c->own_network);
    c->own_network = cJSON_Duplicate(net, 1);
    cJSON_AddItemToArray(all, net);
}

/* The last network reading and every other node's latest readings. */
static void add_known(hv_cluster_t *c, cJSON *all)
{
    if (c->own_network != NULL)
        cJSON_AddItemToArray(all, cJSON_Duplicate(c->own_network, 1));
    cluster__hub_readings(c, all);
}

char *hv_cluster_cycle(hv_cluster_t *c, const char *readings_json)
{
    cJSON *all = readings_plus(c, readings_json, add_new_network);
    if (all != NULL && c->role == ROLE_SPOKE)
        cluster__spoke_queue(c, all);
    char *text = all ? cJSON_PrintUnformatted(all) : NULL;
    cJSON_Delete(all);
    return text;
}

char *hv_cluster_readings(hv_cluster_t *c, const char *local_json)
{
    cJSON *all = readings_plus(c, local_json, add_known);
    char *text = all ? cJSON_PrintUnformatted(all) : NULL;
    cJSON_Delete(all);
    return text;
}

/* POST the request to url/api/buzzer; the spoke's failure comes back in err. */
static int forward_buzz(hv_cluster_t *c, const char *who, const char *base, unsigned count,
                        unsigned on_ms, unsigned off_ms, char *err, size_t errlen)
{
    char url[320], body[160], e[400];
    snprintf(url, sizeof url, "%s/api/buzzer", base);
    snprintf(body, sizeof body,
             "{\"pattern\":{\"count\":%u,\"duration_ms\":%u,\"interval_ms\":%u}}", count, on_ms,
             off_ms);
    hv_client_t *client = hv_client_new();
    hv_client_reply_t r = {0};
    int rc = client ? hv_client_request(client, url, c->token, body, strlen(body), BUZZ_TIMEOUT_MS,
                                        &r, e, sizeof e)
                    : HV_ENOMEM;
    hv_client_free(client);
    if (rc != HV_OK) {
        snprintf(err, errlen, "%s: %s", who, rc == HV_ENOMEM ? "out of memory" : e);
        return HV_EIO;
    }
    if (r.status < 200 || r.status > 299) {
        cJSON *j = cJSON_Parse(r.body);
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "error");
        snprintf(err, errlen, "%s answered HTTP %ld: %.160s", who, r.status,
                 cJSON_IsString(msg) ? msg->valuestring : r.body);
        cJSON_Delete(j);
        free(r.body);
        return HV_EIO;
    }
    free(r.body);
    hv_log("host", HV_LOG_INFO, "buzzer: %u x %u ms forwarded to %s", count, on_ms, who);
    return HV_OK;
}

int hv_cluster_buzz(hv_cluster_t *c, const char *node, unsigned count, unsigned on_ms,
                    unsigned off_ms,
                    int (*local)(void *ud, unsigned count, unsigned on_ms, unsigned off_ms,
                                 char *err, size_t errlen),
                    void *ud, char *err, size_t errlen)
{
    if (node == NULL || strcmp(node, c->node_id) == 0) {
        if (node == NULL && c->buzz_url[0])
            return forward_buzz(c, c->buzz_url, c->buzz_url, count, on_ms, off_ms, err, errlen);
        return local(ud, count, on_ms, off_ms, err, errlen);
    }
    char url[256] = "";
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->nnodes; i++)
        if (strcmp(c->nodes[i].id, node) == 0)
            snprintf(url, sizeof url, "%s", c->nodes[i].url);
    int known = url[0] != '\0';
    pthread_mutex_unlock(&c->mu);
    if (!known) {
        snprintf(err, errlen, "no node '%s' with a dashboard address is known here", node);
        return HV_ENOENT;
    }
    return forward_buzz(c, node, url, count, on_ms, off_ms, err, errlen);
}

/*
 * Hub and spokes: several nodes as one system. A spoke queues each
 * cycle's readings and new log lines on disk (hv_outbox.h) and a sender
 * thread pushes them, in order, to its hub's POST /push with the bearer
 * token; the hub stores them (the history de-duplicates replays), keeps
 * every node's latest readings and logs, and answers with the nodes it
 * knows so each node can time /health round trips to the others. The hub
 * forwards buzzer requests to the spoke they name.
 *
 * Every node adds a "<node>:network" reading per cycle: its role, the
 * round-trip latency to each peer it pings, and for a spoke its last push
 * latency, queue depth and dropped count. It flows like any reading (the
 * dashboard's node cards and latency panel, the history, the hub).
 */
#ifndef HV_CLUSTER_H
#define HV_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "hv_config.h"
#include "hv_error.h"
#include "hv_store.h"

/* ---- outgoing HTTP (libcurl) --------------------------------------------- */

#define HV_CLIENT_MAX_REPLY (1u << 20)

typedef struct hv_client hv_client_t;

typedef struct {
    long status; /* HTTP status */
    char *body;  /* malloc'd, NUL-terminated, at most HV_CLIENT_MAX_REPLY bytes */
    size_t len;
    double ms;   /* the whole request, connection included */
} hv_client_reply_t;

/* A reusable connection cache (keep-alive). One per thread. NULL on ENOMEM. */
hv_client_t *hv_client_new(void);
void hv_client_free(hv_client_t *c);

/*
 * GET (body NULL) or POST (body: JSON) url, with "Authorization: Bearer
 * token" when token is set, within timeout_ms. HV_OK when an HTTP answer
 * came, whatever its status (*ret filled; free ret->body); HV_EIO with
 * "url: reason" in err when none did (refused, timeout, DNS...).
 */
int hv_client_request(hv_client_t *c, const char *url, const char *token, const char *body,
                      size_t len, long timeout_ms, hv_client_reply_t *ret, char *err,
                      size_t errlen);

/* ---- the node's cluster side ------------------------------------------- */

typedef struct hv_cluster hv_cluster_t;

#define HV_CLUSTER_MAX_NODES 4096 /* spokes a hub keeps (the oldest-seen is forgotten past it) */
#define HV_CLUSTER_MAX_LOGS 200   /* log lines a spoke sends per cycle (the rest: next cycle) */

typedef struct {
    const hv_config_t *cfg; /* role, node_id, hub_url, token, queue, ping interval */
    hv_store_t *store;      /* the hub stores pushed readings here; may be NULL */
    int http_port;          /* this node's dashboard port (told to the hub) */
} hv_cluster_opts_t;

/*
 * Starts the role's threads: a spoke's sender (its queue in
 * data_dir/outbox.db) and every node's latency pinger. On failure a
 * message in err and *ret untouched.
 */
int hv_cluster_open(const hv_cluster_opts_t *opts, hv_cluster_t **ret, char *err, size_t errlen);
/* Stops the threads (a push in flight finishes or times out). */
void hv_cluster_close(hv_cluster_t *c);

/*
 * One cycle's readings (the manager's JSON array): returns them with this
 * node's network reading added (malloc'd; NULL on ENOMEM). A spoke also
 * queues them with the log lines logged since the last cycle.
 */
char *hv_cluster_cycle(hv_cluster_t *c, const char *readings_json);

/* Appends to the JSON array text every other node's latest readings and
 * this node's network reading (malloc'd; NULL on ENOMEM). */
char *hv_cluster_readings(hv_cluster_t *c, const char *local_json);

/*
 * A spoke's POST /push body from peer: {"node_id", "http_port" or "url",
 * "readings": [...], "logs": [{"source","level","text"}], "queued",
 * "dropped", "push_ms"}. Every sensor_id must be "<node_id>:...". Stored
 * (replays de-duplicated), merged, logged under "<node_id>/<source>".
 * *ret_reply: {"ok":true,"stored":N,"nodes":{"id":"url",...}}.
 * HV_EINVAL (400) for a malformed body, HV_EPERM when this node is a
 * spoke, HV_EIO when storing failed (the spoke retries).
 */
int hv_cluster_push(hv_cluster_t *c, const char *json, size_t len, const char *peer,
                    char **ret_reply, char *err, size_t errlen);

/*
 * A buzzer request for node (NULL: none named). Forwarded (POST
 * <url>/api/buzzer with the token) to the named spoke, or without a name
 * to [cluster] spoke_buzzer_url when set; else local(ud, ...) runs it
 * here. HV_ENOENT for an unknown node; HV_EIO with the spoke's answer or
 * the failure in err.
 */
int hv_cluster_buzz(hv_cluster_t *c, const char *node, unsigned count, unsigned on_ms,
                    unsigned off_ms,
                    int (*local)(void *ud, unsigned count, unsigned on_ms, unsigned off_ms,
                                 char *err, size_t errlen),
                    void *ud, char *err, size_t errlen);

/* GET /api/nodes: [{"node","role","url","last_seen_ms","push_ms","queued",
 * "dropped","latency_ms"}], this node first (malloc'd). */
char *hv_cluster_nodes_json(hv_cluster_t *c);

#endif

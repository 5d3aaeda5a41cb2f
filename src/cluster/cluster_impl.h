/* Cluster internals shared by cluster.c, hub.c, spoke.c and pinger.c. */
#ifndef HV_CLUSTER_IMPL_H
#define HV_CLUSTER_IMPL_H

#include <pthread.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "hv_cluster.h"
#include "hv_journal.h"
#include "hv_outbox.h"

enum { ROLE_STANDALONE, ROLE_HUB, ROLE_SPOKE };

#define CLUSTER_MAX_PEERS 32         /* nodes a node pings */
#define CLUSTER_MAX_SENSORS 64       /* latest readings kept per remote node */
#define CLUSTER_PUSH_BYTES (256u << 10) /* queued bytes sent in one push */
#define CLUSTER_PUSH_TIMEOUT_MS 5000
#define CLUSTER_PING_TIMEOUT_MS 2000
#define CLUSTER_INDEX_SLOTS (2 * HV_CLUSTER_MAX_NODES) /* a power of two */

/* A spoke as the hub knows it. */
typedef struct {
    char id[64];
    char url[256];      /* its dashboard, "" when it did not say */
    int64_t last_seen;  /* wall ms of its last push */
    double push_ms;     /* its last push's round trip, as it measured */
    double queued, dropped;
    cJSON *latest;      /* its latest reading per sensor_id (array) */
} cluster_node_t;

/* A node this one pings. */
typedef struct {
    char url[256];
    char id[64];  /* from its /health; the configured name until it answers */
    double ms;    /* round trip of GET /health; < 0: no answer */
} cluster_peer_t;

struct hv_cluster {
    int role;
    char node_id[64], hub_url[256], token[128], buzz_url[256], advertise[256];
    int http_port;
    unsigned ping_s;
    hv_store_t *store;
    pthread_mutex_t mu; /* everything below */
    pthread_cond_t cv;  /* kicks the sender; wakes threads to stop */
    int stop;
    /* hub: pushes are journaled (acknowledged) and stored by the applier */
    hv_journal_t *journal;
    pthread_t applier;
    int has_applier;
    cluster_node_t *nodes;
    size_t nnodes;
    int32_t *node_index; /* open addressing by id hash -> index in nodes, -1: empty */
    /* latency, every role */
    cluster_peer_t peers[CLUSTER_MAX_PEERS];
    size_t npeers;
    pthread_t pinger;
    int has_pinger;
    /* spoke */
    hv_outbox_t *outbox;
    pthread_t sender;
    int has_sender;
    uint64_t log_seq;  /* log lines up to here are queued */
    double push_ms;    /* last successful push's round trip; < 0: none yet */
    int hub_down;      /* the last push failed (logged once per outage) */
    cJSON *own_network; /* this node's latest network reading */
};

int64_t cluster__wall_ms(void);
/* The spoke's sender thread and what the daemon's cycle gives it. */
void *cluster__sender_main(void *arg);
int cluster__spoke_queue(hv_cluster_t *c, const cJSON *readings);
/* The pinger thread: every ping_s, GET /health of each peer. */
void *cluster__pinger_main(void *arg);
/* Sets the peers a spoke pings from the hub's "nodes" reply. Caller holds mu. */
void cluster__set_peers(hv_cluster_t *c, const cJSON *nodes);
/* {"peer id": ms or null} of the last pings (caller holds mu). */
cJSON *cluster__latency_json(hv_cluster_t *c);
/* Hub: every node's latest readings appended to all (caller holds mu). */
void cluster__hub_readings(hv_cluster_t *c, cJSON *all);
void cluster__hub_free(hv_cluster_t *c);
/* Opens the hub's journal, stores what an earlier run left in it, starts
 * the applier thread; stops it (storing everything first). */
int cluster__hub_open(hv_cluster_t *c, const char *data_dir, char *err, size_t errlen);
void cluster__hub_close(hv_cluster_t *c);

#endif

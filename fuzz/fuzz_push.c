/* libFuzzer harness for a hub's POST /push: any body is accepted with a
 * JSON reply or refused with a message (HV_EINVAL), never a crash; what is
 * accepted keeps the node registry consistent (/api/nodes and
 * /api/readings stay valid JSON). No history: the journal is not opened. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "hv_cluster.h"
#include "hv_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static hv_cluster_t *hub;
static hv_config_t cfg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (hub == NULL) {
        hv_config_defaults(&cfg);
        snprintf(cfg.role, sizeof cfg.role, "hub");
        snprintf(cfg.node_id, sizeof cfg.node_id, "hub");
        hv_log_configure(HV_LOG_ERROR + 1, 16); /* quiet: pushes carry log lines */
        char err[256];
        hv_cluster_opts_t o = {&cfg, NULL, 0};
        if (hv_cluster_open(&o, &hub, err, sizeof err) != HV_OK)
            abort();
    }
    char *reply = NULL, err[256] = "";
    int rc = hv_cluster_push(hub, (const char *)data, size, "127.0.0.1", &reply, err, sizeof err);
    if (rc == HV_OK) {
        cJSON *j = reply ? cJSON_Parse(reply) : NULL;
        if (!cJSON_IsObject(j))
            abort();
        cJSON_Delete(j);
    } else if (rc != HV_EINVAL || err[0] == '\0' || reply != NULL) {
        abort();
    }
    free(reply);
    char *nodes = hv_cluster_nodes_json(hub), *all = hv_cluster_readings(hub, "[]");
    cJSON *a = nodes ? cJSON_Parse(nodes) : NULL, *b = all ? cJSON_Parse(all) : NULL;
    if (!cJSON_IsArray(a) || !cJSON_IsArray(b))
        abort();
    cJSON_Delete(a);
    cJSON_Delete(b);
    free(nodes);
    free(all);
    return 0;
}

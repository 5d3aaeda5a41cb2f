/*
 * `harvester run`: the daemon. Configuration, the hardware backend, the
 * plugin manager, signals (TERM/INT stop, HUP reloads the configuration).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "hv_cluster.h"
#include "hv_http.h"
#include "hv_log.h"
#include "hv_manager.h"
#include "hv_store.h"

#include <cjson/cJSON.h>

typedef struct {
    hv_manager_t *m;
    hv_hal_t *hal;
    int sim;
    hv_store_t *store;
    hv_http_t *http;
    hv_cluster_t *cluster; /* other nodes: pushes, forwarding, latency */
    int64_t maintained_ms; /* last history fold/retention pass */
} web_t;

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- what the HTTP server asks of the daemon ----------------------------- */

/* This node's readings, its network reading and every other node's. */
static char *web_readings(void *ud)
{
    web_t *w = ud;
    char *local = hv_manager_readings_json(w->m);
    if (local == NULL || w->cluster == NULL)
        return local;
    char *all = hv_cluster_readings(w->cluster, local);
    free(local);
    return all;
}

static char *web_plugins(void *ud) { return hv_manager_status_json(((web_t *)ud)->m); }

static char *web_render(void *ud, const char *readings)
{
    return hv_manager_render_dashboard(((web_t *)ud)->m, readings);
}

static int local_buzz(void *ud, unsigned count, unsigned on_ms, unsigned off_ms, char *err,
                      size_t errlen)
{
    web_t *w = ud;
    int rc = w->hal->ops->buzz(w->hal, count, on_ms, off_ms);
    if (rc != HV_OK)
        snprintf(err, errlen, "buzzer: %s", hv_strerror(rc));
    else
        hv_log("host", HV_LOG_INFO, "buzzer: %u x %u ms", count, on_ms);
    return rc;
}

/* The buzzer here, or on the node the request names (the hub forwards). */
static int web_buzz(void *ud, const char *node, unsigned count, unsigned on_ms, unsigned off_ms,
                    char *err, size_t errlen)
{
    web_t *w = ud;
    if (w->cluster == NULL) {
        snprintf(err, errlen, "starting");
        return HV_EBUSY;
    }
    return hv_cluster_buzz(w->cluster, node, count, on_ms, off_ms, local_buzz, w, err, errlen);
}

static int web_push(void *ud, const char *json, size_t len, const char *peer, char **ret_reply,
                    char *err, size_t errlen)
{
    web_t *w = ud;
    if (w->cluster == NULL) {
        snprintf(err, errlen, "starting");
        return HV_EBUSY;
    }
    return hv_cluster_push(w->cluster, json, len, peer, ret_reply, err, errlen);
}

static char *web_nodes(void *ud)
{
    web_t *w = ud;
    return w->cluster ? hv_cluster_nodes_json(w->cluster) : NULL;
}

static uint8_t *web_oled(void *ud, size_t *ret_len)
{
    web_t *w = ud;
    uint8_t *png = NULL;
    return w->sim && hv_hal_sim_oled_png(w->hal, &png, ret_len) == HV_OK ? png : NULL;
}

static char *web_leds(void *ud)
{
    web_t *w = ud;
    if (!w->sim)
        return NULL;
    cJSON *a = cJSON_CreateArray();
    for (unsigned i = 0; i < w->hal->nleds; i++) {
        char hex[8];
        snprintf(hex, sizeof hex, "#%06x", hv_hal_sim_led(w->hal, i));
        cJSON_AddItemToArray(a, cJSON_CreateString(hex));
    }
    char *s = cJSON_PrintUnformatted(a);
    cJSON_Delete(a);
    return s;
}

/* Prometheus lines per plugin, from the manager's status. */
static char *web_metrics(void *ud)
{
    web_t *w = ud;
    char *status = hv_manager_status_json(w->m);
    cJSON *all = status ? cJSON_Parse(status) : NULL;
    free(status);
    size_t cap = 4096, len = 0;
    char *out = malloc(cap);
    if (out == NULL) {
        cJSON_Delete(all);
        return NULL;
    }
    out[0] = '\0';
    static const char *const keys[][2] = {{"polls", "harvester_plugin_polls_total"},
                                          {"last_poll_ms", "harvester_plugin_last_poll_ms"},
                                          {"restarts", "harvester_plugin_restarts_total"},
                                          {"reloads", "harvester_plugin_reloads_total"}};
    cJSON *p;
    cJSON_ArrayForEach(p, all)
    {
        cJSON *name = cJSON_GetObjectItem(p, "name");
        for (size_t k = 0; k < 4 && cJSON_IsString(name); k++) {
            cJSON *v = cJSON_GetObjectItem(p, keys[k][0]);
            if (len + 256 > cap) {
                char *nb = realloc(out, cap *= 2);
                if (nb == NULL)
                    break;
                out = nb;
            }
            len += (size_t)snprintf(out + len, cap - len, "%s{plugin=\"%s\"} %g\n", keys[k][1],
                                    name->valuestring, cJSON_IsNumber(v) ? v->valuedouble : 0);
        }
    }
    cJSON_Delete(all);
    return out;
}

/* Every cycle: the network reading added (and, on a spoke, everything
 * queued for the hub), readings into the history and to SSE clients. */
static void web_on_cycle(void *ud, const char *local)
{
    web_t *w = ud;
    char err[256];
    size_t added;
    char *all = w->cluster ? hv_cluster_cycle(w->cluster, local) : NULL;
    const char *readings = all ? all : local;
    if (w->store && hv_store_add_json(w->store, readings, strlen(readings), &added, err, sizeof err))
        hv_log("host", HV_LOG_WARN, "history: %s", err);
    /* Every 10 minutes: fold old raw points into 5-minute aggregates and
     * apply the retention. */
    int64_t now = wall_ms();
    if (w->store && now - w->maintained_ms > 10 * 60 * 1000) {
        if (hv_store_maintain(w->store, now) != HV_OK)
            hv_log("host", HV_LOG_WARN, "history: maintenance failed");
        w->maintained_ms = now;
    }
    if (w->http)
        hv_http_publish(w->http, "reading", readings);
    free(all);
}

static void web_on_log(void *ud, const hv_log_entry_t *e)
{
    web_t *w = ud;
    if (w->http == NULL)
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "seq", (double)e->seq);
    cJSON_AddNumberToObject(o, "time", (double)e->time_ms);
    cJSON_AddStringToObject(o, "level", hv_log_level_name(e->level));
    cJSON_AddStringToObject(o, "source", e->source);
    cJSON_AddStringToObject(o, "text", e->text);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (s)
        hv_http_publish(w->http, "log", s);
    free(s);
}

/* Opens the history and starts the HTTP server; logs and carries on
 * without them on failure (the sensors matter more than the page). */
static void web_start(web_t *w, const hv_config_t *cfg)
{
    char path[700], err[512], web_dir[600];
    snprintf(path, sizeof path, "%s/history.db", cfg->data_dir);
    if (hv_store_open(path, (uint32_t)cfg->history_days, &w->store, err, sizeof err) != HV_OK) {
        hv_log("host", HV_LOG_ERROR, "history disabled: %s", err);
        w->store = NULL;
    }
    hv_cluster_opts_t co = {cfg, w->store, cfg->http_port};
    if (hv_cluster_open(&co, &w->cluster, err, sizeof err) != HV_OK) {
        hv_log("host", HV_LOG_ERROR, "cluster disabled: %s", err);
        w->cluster = NULL;
    } else if (strcmp(cfg->role, "spoke") == 0) {
        hv_log("host", HV_LOG_INFO, "spoke of %s: readings queued in %s/outbox.db and pushed",
               cfg->hub_url, cfg->data_dir);
    }
    const char *data = getenv("HARVESTER_DATA_DIR");
    snprintf(web_dir, sizeof web_dir, "%s/web/static", data && *data ? data : HV_SOURCE_DIR);
    hv_http_opts_t o = {0};
    o.bind = cfg->http_bind;
    o.port = cfg->http_port;
    o.token = cfg->http_token;
    o.node_id = cfg->node_id;
    o.role = cfg->role;
    o.static_dir = web_dir;
    o.store = w->store;
    o.ud = w;
    o.readings_json = web_readings;
    o.plugins_json = web_plugins;
    o.render_dashboard = web_render;
    o.buzz = web_buzz;
    o.push = web_push;
    o.nodes_json = web_nodes;
    o.oled_png = web_oled;
    o.leds_json = web_leds;
    o.metrics_text = web_metrics;
    if (hv_http_start(&o, &w->http, err, sizeof err) != HV_OK) {
        hv_log("host", HV_LOG_ERROR, "HTTP server not started: %s", err);
        w->http = NULL;
    } else {
        hv_log("host", HV_LOG_INFO, "dashboard on http://%s:%d/",
               strcmp(cfg->http_bind, "0.0.0.0") == 0 ? "localhost" : cfg->http_bind,
               hv_http_port(w->http));
    }
    hv_manager_on_cycle(w->m, web_on_cycle, w);
    hv_log_set_hook(web_on_log, w);
}

static void web_stop(web_t *w)
{
    hv_log_set_hook(NULL, NULL);
    hv_http_stop(w->http);
    hv_cluster_close(w->cluster);
    hv_store_close(w->store);
}

typedef struct {
    int sfd;
    volatile int stop;
    const char *path; /* NULL: running on defaults */
    hv_config_t cfg[2];
    int cur;
    hv_manager_t *m;
    hv_perms_t *perms;
} run_t;

static void on_signal(void *ud)
{
    run_t *r = ud;
    struct signalfd_siginfo si;
    while (read(r->sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
            hv_log("host", HV_LOG_INFO, "stopping (signal %u)", si.ssi_signo);
            r->stop = 1;
        } else if (si.ssi_signo == SIGHUP) {
            if (r->path == NULL) {
                hv_log("host", HV_LOG_WARN, "SIGHUP: no configuration file to reload");
                continue;
            }
            char err[8192];
            int next = !r->cur;
            if (hv_config_load(r->path, &r->cfg[next], err, sizeof err) != HV_OK) {
                hv_log("host", HV_LOG_ERROR, "new configuration rejected, keeping the old one:\n%s",
                       err);
                hv_manager_reload_perms(r->m, NULL);
                continue;
            }
            hv_manager_reload_perms(r->m, r->cfg[next].permissions);
            hv_manager_set_config(r->m, &r->cfg[next]);
            hv_config_free(&r->cfg[r->cur]);
            r->cur = next;
            hv_log_configure(r->cfg[next].log_level, 0);
            hv_log("host", HV_LOG_INFO, "configuration %s reloaded", r->path);
        }
    }
}

/* The permission guard: deny-all until the file is good (a missing or
 * invalid file is logged, not fatal: fixing it applies without restart). */
static int open_perms(run_t *r, const hv_config_t *cfg)
{
    char err[8192];
    int rc = hv_perms_open(cfg->permissions, &r->perms, err, sizeof err);
    if (rc == HV_ENOMEM)
        return rc;
    if (rc == HV_OK)
        hv_log("host", HV_LOG_INFO, "permissions from %s", cfg->permissions);
    else if (rc == HV_ENOENT)
        hv_log("host", HV_LOG_WARN, "%s; every plugin is denied all hardware until it exists",
               err);
    else
        hv_log("host", HV_LOG_ERROR, "permissions rejected; every plugin is denied all hardware "
               "until the file is fixed:\n%s", err);
    hv_manager_set_perms(r->m, r->perms);
    return HV_OK;
}

int cli__cmd_run(int argc, char **argv)
{
    int bad;
    hv_hal_sim_opts_t so = {0, NULL, NULL, NULL};
    if (cli__sim_args(&argc, argv, &so) != 0)
        return cli__usage(stderr);
    const char *explicit_path = cli__config_arg(argc, argv, &bad);
    if (bad)
        return cli__usage(stderr);
    static run_t r;
    char path[4096];
    r.path = hv_config_find(explicit_path, path, sizeof path) ? path : NULL;
    int rc = cli__load_config(r.path, &r.cfg[0]);
    if (rc != 0)
        return rc;
    hv_config_t *cfg = &r.cfg[0];
    hv_log_configure(cfg->log_level, 0);
    /* Signals arrive through a signalfd on the loop thread; block them
     * before any worker thread exists so none of those takes them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    r.sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    hv_engine_t *eng;
    if (r.sfd < 0 || cli__open_engine(&eng, 0) != HV_OK) {
        hv_config_free(cfg);
        return 1;
    }
    char err[1024];
    int linux_hal = strcmp(cfg->backend, "linux") == 0;
    hv_hal_t *hal;
    if (linux_hal) {
        hv_hal_linux_opts_t lo = {cfg->i2c_device, cfg->spi_device, cfg->led_spi_device,
                                  (uint32_t)cfg->led_spi_hz, (unsigned)cfg->led_count,
                                  cfg->led_brightness, cfg->uart_device,
                                  (uint32_t)cfg->uart_baud, cfg->gpiochip, cfg->buzzer_pin,
                                  "/sys/bus/iio/devices", ""};
        hal = hv_hal_linux_new(&lo, err, sizeof err);
    } else {
        so.nleds = (unsigned)cfg->led_count;
        if (so.scenario == NULL && cfg->scenario[0])
            so.scenario = cfg->scenario;
        hal = cli__open_sim(&so);
        if (hal != NULL) /* plugins' spi and uart answer to the configured names */
            hv_hal_set_device_names(hal, cfg->spi_device, cfg->uart_device);
        snprintf(err, sizeof err, "cannot open the simulated board");
    }
    rc = hal ? hv_manager_new(eng, hal, cfg, &r.m, err, sizeof err) : HV_EINVAL;
    if (rc == HV_OK && (rc = open_perms(&r, cfg)) != HV_OK)
        hv_manager_free(r.m);
    if (rc != HV_OK) {
        fprintf(stderr, "harvester: run: %s\n", rc == HV_ENOMEM ? "out of memory" : err);
    } else {
        hv_log("host", HV_LOG_INFO, "harvester %s: node %s (%s), config %s, plugins in %s, "
               "every %u s, backend %s", HV_VERSION, cfg->node_id, cfg->role,
               r.path ? r.path : "(defaults)", cfg->plugins_dir, cfg->interval_s, cfg->backend);
        static web_t web;
        web.m = r.m;
        web.hal = hal;
        web.sim = !linux_hal;
        web_start(&web, cfg);
        hv_manager_run(r.m, &r.stop, r.sfd, on_signal, &r);
        hv_manager_on_cycle(r.m, NULL, NULL);
        web_stop(&web);
        hv_manager_free(r.m);
        hv_perms_free(r.perms);
        hv_log("host", HV_LOG_INFO, "stopped");
    }
    if (linux_hal)
        hv_hal_linux_free(hal);
    else
        hv_hal_sim_free(hal);
    hv_engine_close(eng);
    hv_config_free(&r.cfg[r.cur]);
    close(r.sfd);
    return rc == HV_OK ? 0 : 1;
}


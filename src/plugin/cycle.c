/*
 * The poll cycle (the seeds' main loop): heartbeat, parallel polls, the
 * readings, one LED write, the broadcast to UI plugins; and the JSON views
 * of readings and status.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "manager_impl.h"

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One reading from a lifted record: its sensor name is its sensor-id (seed
 * records) or sensor (generic readings), else the plugin's name. */
static cJSON *make_reading(hv_manager_t *m, worker_t *w, cJSON *obj, int64_t ts)
{
    const char *sensor = w->name;
    cJSON *sid = cJSON_GetObjectItemCaseSensitive(obj, "sensor-id");
    if (!cJSON_IsString(sid))
        sid = cJSON_GetObjectItemCaseSensitive(obj, "sensor");
    if (cJSON_IsString(sid) && sid->valuestring[0])
        sensor = sid->valuestring;
    char id[192];
    snprintf(id, sizeof id, "%s:%s", m->cfg->node_id, sensor);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "sensor_id", id);
    cJSON_AddStringToObject(r, "plugin", w->name);
    cJSON_AddNumberToObject(r, "timestamp", (double)ts);
    cJSON_AddItemToObject(r, "data", cJSON_Duplicate(obj, 1));
    return r;
}

/* Turns a poll result into readings; returns NULL (and says why) when the
 * plugin reported an error or the data has no readings shape. */
static cJSON *collect(hv_manager_t *m, worker_t *w, const char *json, char *why, size_t len)
{
    cJSON *v = cJSON_Parse(json);
    if (v == NULL) {
        snprintf(why, len, "result is not JSON");
        return NULL;
    }
    cJSON *body = v;
    if (cJSON_IsObject(v) && cJSON_GetArraySize(v) == 1) {
        cJSON *err = cJSON_GetObjectItemCaseSensitive(v, "err");
        cJSON *ok = cJSON_GetObjectItemCaseSensitive(v, "ok");
        if (err != NULL) {
            char *e = cJSON_PrintUnformatted(err);
            snprintf(why, len, "poll returned an error: %s", e ? e : "?");
            free(e);
            cJSON_Delete(v);
            return NULL;
        }
        if (ok != NULL)
            body = ok;
    }
    int64_t ts = wall_ms();
    cJSON *out = cJSON_CreateArray();
    if (cJSON_IsArray(body)) {
        cJSON *it;
        cJSON_ArrayForEach(it, body)
        {
            if (cJSON_IsObject(it))
                cJSON_AddItemToArray(out, make_reading(m, w, it, ts));
        }
    } else if (cJSON_IsObject(body)) {
        cJSON_AddItemToArray(out, make_reading(m, w, body, ts));
    }
    cJSON_Delete(v);
    return out;
}

static void after_poll(hv_manager_t *m, worker_t *w)
{
    w->last_poll_ms = w->ms;
    w->polls++;
    if (w->rc == HV_OK) {
        char why[512];
        cJSON *r = collect(m, w, w->out ? w->out : "null", why, sizeof why);
        if (r == NULL) {
            snprintf(w->last_error, sizeof w->last_error, "%s", why);
            hv_log(w->name, HV_LOG_WARN, "%s", why);
            return;
        }
        w->exceptions = 0;
        w->backoff_ms = 0;
        pthread_mutex_lock(&m->readings_lock);
        cJSON_Delete(w->readings);
        w->readings = r;
        pthread_mutex_unlock(&m->readings_lock);
        if (m->cfg->show_sensor_data) {
            cJSON *it;
            cJSON_ArrayForEach(it, r)
            {
                char *d = cJSON_PrintUnformatted(cJSON_GetObjectItem(it, "data"));
                hv_log(w->name, HV_LOG_INFO, "%s %s",
                       cJSON_GetObjectItem(it, "sensor_id")->valuestring, d ? d : "");
                free(d);
            }
        }
        return;
    }
    if (w->rc == HV_EEXCEPTION) {
        /* The instance is intact: log and keep it, unless it keeps failing. */
        const char *last = strrchr(w->err, '\n');
        while (last && last > w->err && last[1] == '\0') {
            const char *prev = last - 1;
            while (prev > w->err && *prev != '\n')
                prev--;
            last = prev;
        }
        snprintf(w->last_error, sizeof w->last_error, "%.400s", last ? last + (*last == 10) : w->err);
        hv_log(w->name, HV_LOG_ERROR, "poll raised: %s", w->err);
        if (++w->exceptions >= 3)
            manager__fail(w, "poll raised 3 times in a row");
        return;
    }
    char why[600];
    snprintf(why, sizeof why, "%.500s", w->err[0] ? w->err : hv_strerror(w->rc));
    manager__fail(w, why);
}

/* data_dir/status.json for `harvester status`, replaced atomically. */
static void write_status(hv_manager_t *m)
{
    char path[700], tmp[720];
    snprintf(path, sizeof path, "%s/status.json", m->cfg->data_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    char *s = hv_manager_status_json(m);
    FILE *f = s ? fopen(tmp, "w") : NULL;
    int ok = f != NULL && fputs(s, f) >= 0;
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0)
        hv_log("host", HV_LOG_WARN, "%s: cannot write status", path);
    free(s);
}

void hv_manager_cycle(hv_manager_t *m)
{
    m->cycles++;
    hv_hal_t *hal = m->hal;
    /* Heartbeat: LED 0 alternates blue and cyan. */
    if (hal != NULL)
        hal->ops->led_set(hal, 0, 0, (m->cycles & 1) ? 255 : 0, 255);
    worker_t *polled[MANAGER_MAX_PLUGINS];
    size_t n = 0;
    for (worker_t *w = m->workers; w; w = w->next) {
        if (w->p == NULL || w->poll_fn[0] == '\0' || n == MANAGER_MAX_PLUGINS)
            continue;
        manager__send(w, CMD_CALL, w->poll_fn, NULL);
        polled[n++] = w;
    }
    for (size_t i = 0; i < n; i++) {
        manager__wait(polled[i]);
        after_poll(m, polled[i]);
        manager__release(polled[i]);
    }
    if (hal != NULL)
        hal->ops->led_sync(hal); /* once, after every plugin set its LEDs */
    /* UI plugins get every node's readings. */
    char *json = hv_manager_readings_json(m);
    cJSON *arg = json ? cJSON_CreateArray() : NULL;
    char *argtext = NULL;
    if (arg != NULL) {
        cJSON_AddItemToArray(arg, cJSON_CreateString(json));
        argtext = cJSON_PrintUnformatted(arg);
        cJSON_Delete(arg);
    }
    n = 0;
    for (worker_t *w = m->workers; argtext && w; w = w->next) {
        if (w->p == NULL || w->ui_fn[0] == '\0')
            continue;
        manager__send(w, CMD_CALL, w->ui_fn, argtext);
        polled[n++] = w;
    }
    for (size_t i = 0; i < n; i++) {
        worker_t *w = polled[i];
        manager__wait(w);
        if (w->rc != HV_OK && w->rc != HV_EEXCEPTION)
            manager__fail(w, w->err);
        else if (w->rc == HV_EEXCEPTION)
            hv_log(w->name, HV_LOG_ERROR, "update raised: %s", w->err);
        manager__release(w);
    }
    if (m->on_cycle && json)
        m->on_cycle(m->on_cycle_ud, json);
    free(argtext);
    free(json);
    write_status(m);
}

void hv_manager_on_cycle(hv_manager_t *m, void (*fn)(void *ud, const char *readings_json),
                         void *ud)
{
    m->on_cycle = fn;
    m->on_cycle_ud = ud;
}

char *hv_manager_render_dashboard(hv_manager_t *m, const char *readings_json)
{
    /* The argument list: [readings_json] as JSON. */
    cJSON *arg = cJSON_CreateArray();
    cJSON_AddItemToArray(arg, cJSON_CreateString(readings_json ? readings_json : "[]"));
    char *argtext = cJSON_PrintUnformatted(arg);
    cJSON_Delete(arg);
    if (argtext == NULL)
        return NULL;
    pthread_mutex_lock(&m->list_lock);
    worker_t *w = m->workers;
    while (w && w->render_fn[0] == '\0')
        w = w->next;
    if (w == NULL) {
        pthread_mutex_unlock(&m->list_lock);
        free(argtext);
        return NULL;
    }
    /* Take the worker's call lock before letting go of the list: the
     * worker cannot be freed while we use it. */
    manager__send(w, CMD_CALL, w->render_fn, argtext);
    pthread_mutex_unlock(&m->list_lock);
    manager__wait(w);
    char *html = NULL;
    if (w->rc == HV_OK && w->out != NULL) {
        cJSON *v = cJSON_Parse(w->out);
        if (cJSON_IsString(v))
            html = strdup(v->valuestring);
        cJSON_Delete(v);
    } else {
        hv_log(w->name, HV_LOG_ERROR, "render failed: %.300s", w->err);
    }
    manager__release(w);
    free(argtext);
    return html;
}

char *hv_manager_readings_json(hv_manager_t *m)
{
    cJSON *all = cJSON_CreateArray();
    pthread_mutex_lock(&m->list_lock);
    pthread_mutex_lock(&m->readings_lock);
    for (worker_t *w = m->workers; w; w = w->next) {
        cJSON *it;
        cJSON_ArrayForEach(it, w->readings)
        {
            cJSON_AddItemToArray(all, cJSON_Duplicate(it, 1));
        }
    }
    pthread_mutex_unlock(&m->readings_lock);
    pthread_mutex_unlock(&m->list_lock);
    char *s = cJSON_PrintUnformatted(all);
    cJSON_Delete(all);
    return s;
}

char *hv_manager_status_json(hv_manager_t *m)
{
    cJSON *all = cJSON_CreateArray();
    pthread_mutex_lock(&m->list_lock);
    for (worker_t *w = m->workers; w; w = w->next) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", w->name);
        cJSON_AddStringToObject(o, "file", w->path);
        cJSON_AddStringToObject(o, "world", w->p ? hv_plugin_world(w->p)->name : "");
        cJSON_AddStringToObject(o, "status", manager__status_name(w->status));
        cJSON_AddStringToObject(o, "last_error", w->last_error);
        cJSON_AddNumberToObject(o, "polls", (double)w->polls);
        cJSON_AddNumberToObject(o, "last_poll_ms", w->last_poll_ms);
        cJSON_AddNumberToObject(o, "restarts", (double)w->restarts);
        cJSON_AddNumberToObject(o, "reloads", (double)w->reloads);
        cJSON_AddNumberToObject(o, "refusals", w->p ? (double)hv_plugin_refusals(w->p) : 0);
        char *perms = m->perms ? hv_perms_describe_json(m->perms, w->name) : NULL;
        cJSON *pj = perms ? cJSON_Parse(perms) : NULL;
        free(perms);
        while (pj != NULL && pj->child != NULL) { /* grants, denials, last_denied */
            cJSON *it = cJSON_DetachItemViaPointer(pj, pj->child);
            cJSON_AddItemToObject(o, it->string, it);
        }
        cJSON_Delete(pj);
        cJSON_AddItemToArray(all, o);
    }
    pthread_mutex_unlock(&m->list_lock);
    char *s = cJSON_PrintUnformatted(all);
    cJSON_Delete(all);
    return s;
}

/*
 * The plugin manager: workers (one thread and one instance per plugin),
 * the directory scan that loads, hot-reloads and unloads them, and the
 * restart policy. The poll cycle itself is in cycle.c.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "manager_impl.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS (5 * 60 * 1000)

int64_t manager__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *const status_names[] = {"loading", "running", "backing-off", "failed"};

const char *manager__status_name(int status) { return status_names[status]; }

/* ---- workers ------------------------------------------------------------------ */

static void on_plugin_log(void *ud, const char *plugin, int level, const char *msg)
{
    (void)ud;
    hv_log_line(plugin, level, msg);
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->cmd == CMD_NONE)
            pthread_cond_wait(&w->cv, &w->mu);
        int cmd = w->cmd;
        pthread_mutex_unlock(&w->mu);
        if (cmd == CMD_STOP)
            return NULL;
        int64_t t0 = manager__now_ms();
        if (cmd == CMD_LOAD) {
            w->loaded = NULL;
            w->rc = hv_plugin_load(w->path, &w->load_opts, &w->loaded, w->err, sizeof w->err);
        } else {
            free(w->out);
            w->out = NULL;
            w->rc = hv_plugin_call_json(w->p, w->call_fn, w->arg, &w->out, w->err, sizeof w->err);
        }
        w->ms = (double)(manager__now_ms() - t0);
        pthread_mutex_lock(&w->mu);
        w->cmd = CMD_NONE;
        w->done = 1;
        pthread_cond_broadcast(&w->cv);
    }
}

void manager__send(worker_t *w, int cmd, const char *fn, const char *arg)
{
    pthread_mutex_lock(&w->call_mu);
    w->call_fn = fn;
    w->arg = arg;
    pthread_mutex_lock(&w->mu);
    w->cmd = cmd;
    w->done = 0;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void manager__wait(worker_t *w)
{
    pthread_mutex_lock(&w->mu);
    while (!w->done)
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

void manager__release(worker_t *w) { pthread_mutex_unlock(&w->call_mu); }

static worker_t *worker_new(hv_manager_t *m, const char *name, const char *path)
{
    worker_t *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    w->m = m;
    snprintf(w->name, sizeof w->name, "%s", name);
    snprintf(w->path, sizeof w->path, "%s", path);
    pthread_mutex_init(&w->mu, NULL);
    pthread_mutex_init(&w->call_mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->done = 1;
    if (pthread_create(&w->th, NULL, worker_main, w) != 0) {
        pthread_mutex_destroy(&w->call_mu);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
        return NULL;
    }
    return w;
}

static void worker_free(worker_t *w)
{
    manager__send(w, CMD_STOP, NULL, NULL); /* waits for a call another thread has running */
    pthread_join(w->th, NULL);
    manager__release(w);
    hv_plugin_free(w->p);
    free(w->out);
    free(w->config_json);
    cJSON_Delete(w->readings);
    pthread_mutex_destroy(&w->call_mu);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}

/* The poll and UI exports a plugin's world has, by the seeds' names. */
static void classify(worker_t *w)
{
    static const char *const polls[] = {"dht22-logic", "bme680-logic", "pi-monitor-logic",
                                        "sensor-logic"};
    const hv_wit_world_t *world = hv_plugin_world(w->p);
    w->poll_fn[0] = w->ui_fn[0] = w->render_fn[0] = '\0';
    for (size_t i = 0; i < world->nexports; i++) {
        const char *in = world->exports[i]->name;
        for (size_t k = 0; k < sizeof polls / sizeof polls[0]; k++)
            if (strcmp(in, polls[k]) == 0 && hv_wit_func(world->exports[i], "poll"))
                snprintf(w->poll_fn, sizeof w->poll_fn, "%s.poll", in);
        if (strcmp(in, "oled-logic") == 0 && hv_wit_func(world->exports[i], "update"))
            snprintf(w->ui_fn, sizeof w->ui_fn, "%s.update", in);
        if (strcmp(in, "dashboard-logic") == 0 && hv_wit_func(world->exports[i], "render"))
            snprintf(w->render_fn, sizeof w->render_fn, "%s.render", in);
    }
}

/* The plugin's [plugins.NAME] table, plus the seeds' [sensors.*] settings
 * for the plugins they belong to (the table's own keys win). */
static char *plugin_config(const hv_config_t *cfg, const hv_plugin_conf_t *pc, const char *name)
{
    cJSON *o = cJSON_Parse(pc && pc->config_json ? pc->config_json : "{}");
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        o = cJSON_CreateObject();
    }
    if (strcmp(name, "bme680") == 0 && !cJSON_HasObjectItem(o, "i2c_address"))
        cJSON_AddNumberToObject(o, "i2c_address", cfg->bme680_address);
    if (strcmp(name, "dht22") == 0 && !cJSON_HasObjectItem(o, "gpio_pin"))
        cJSON_AddNumberToObject(o, "gpio_pin", cfg->dht22_pin);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* The config's limits for w, capped by its permissions entry. */
static void limits(hv_manager_t *m, worker_t *w, uint32_t *ret_memory_mb, uint32_t *ret_deadline_ms)
{
    const hv_config_t *cfg = m->cfg;
    const hv_plugin_conf_t *pc = hv_config_plugin(cfg, w->name);
    uint32_t mem = pc && pc->memory_mb ? pc->memory_mb : cfg->default_memory_mb;
    uint32_t deadline = pc && pc->deadline_ms ? pc->deadline_ms : cfg->default_deadline_ms;
    uint32_t pmem = 0, pdeadline = 0;
    if (m->perms != NULL)
        hv_perms_limits(m->perms, w->name, &pmem, &pdeadline);
    *ret_memory_mb = pmem && (pmem < mem || mem == 0) ? pmem : mem;
    *ret_deadline_ms = pdeadline && (pdeadline < deadline || deadline == 0) ? pdeadline : deadline;
}

static void fill_load_opts(hv_manager_t *m, worker_t *w)
{
    const hv_config_t *cfg = m->cfg;
    const hv_plugin_conf_t *pc = hv_config_plugin(cfg, w->name);
    free(w->config_json);
    w->config_json = plugin_config(cfg, pc, w->name);
    hv_plugin_opts_t *o = &w->load_opts;
    memset(o, 0, sizeof *o);
    o->eng = m->eng;
    o->hal = m->hal;
    o->log = on_plugin_log;
    o->state_dir = m->state_dir;
    o->config_json = w->config_json ? w->config_json : "{}";
    limits(m, w, &o->memory_limit_mb, &o->deadline_ms);
    o->host_syncs_leds = 1;
    o->perms = m->perms;
    o->perm_name = w->name; /* the file's stem, never the name the file claims */
}

static void load_done(worker_t *w);

/* After a configuration reload: did w's settings change (its config
 * table)? Only then is it restarted; limits change live. */
static int settings_changed(hv_manager_t *m, worker_t *w)
{
    char *now = plugin_config(m->cfg, hv_config_plugin(m->cfg, w->name), w->name);
    int differ = now == NULL || w->config_json == NULL || strcmp(now, w->config_json) != 0;
    free(now);
    return differ;
}

/* Sets every running plugin's limits from the config and permissions. */
static void apply_limits(hv_manager_t *m)
{
    for (worker_t *w = m->workers; w; w = w->next) {
        pthread_mutex_lock(&w->call_mu); /* no call runs on w meanwhile */
        if (w->p != NULL) {
            uint32_t mem, deadline;
            limits(m, w, &mem, &deadline);
            hv_plugin_set_limits(w->p, mem, deadline);
        }
        pthread_mutex_unlock(&w->call_mu);
    }
}

/* Starts loads on every worker in need and waits for them all. */
static void run_loads(hv_manager_t *m, worker_t **need, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fill_load_opts(m, need[i]);
        manager__send(need[i], CMD_LOAD, NULL, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        worker_t *w = need[i];
        manager__wait(w);
        load_done(w);
        manager__release(w);
    }
}

/* After a load: swap the new instance in, or keep the old one. */
static void load_done(worker_t *w)
{
    if (w->rc != HV_OK) {
        snprintf(w->last_error, sizeof w->last_error, "%.400s", w->err);
        if (w->p != NULL) {
            hv_log(w->name, HV_LOG_ERROR, "new version failed to start, keeping the old one: %s",
                   w->err);
        } else {
            hv_log(w->name, HV_LOG_ERROR, "cannot start: %s", w->err);
            w->status = ST_FAILED;
        }
        return;
    }
    /* Swap: the new instance started, so it replaces the old. */
    int reload = w->p != NULL;
    hv_plugin_free(w->p);
    w->p = w->loaded;
    w->loaded = NULL;
    w->status = ST_RUNNING;
    w->exceptions = 0;
    classify(w);
    if (reload) {
        w->reloads++;
        hv_log(w->name, HV_LOG_INFO, "reloaded %s in %.0f ms (state kept)", w->path, w->ms);
    } else {
        hv_log(w->name, HV_LOG_INFO, "started %s (world %s) in %.0f ms", w->path,
               hv_plugin_world(w->p)->name, w->ms);
    }
}

void manager__fail(worker_t *w, const char *why)
{
    snprintf(w->last_error, sizeof w->last_error, "%.400s", why);
    hv_plugin_free(w->p);
    w->p = NULL;
    w->backoff_ms = w->backoff_ms ? w->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (w->backoff_ms > BACKOFF_MAX_MS)
        w->backoff_ms = BACKOFF_MAX_MS;
    w->retry_at_ms = manager__now_ms() + w->backoff_ms;
    w->status = ST_BACKOFF;
    hv_log(w->name, HV_LOG_ERROR, "%s; restarting in %.1f s", why, w->backoff_ms / 1000.0);
}

static int is_wasm(const char *name, char *stem, size_t len)
{
    size_t n = strlen(name);
    if (n < 6 || strcmp(name + n - 5, ".wasm") != 0 || name[0] == '.')
        return 0;
    snprintf(stem, len, "%.*s", (int)(n - 5), name);
    return 1;
}

void hv_manager_scan(hv_manager_t *m)
{
    worker_t *need[MANAGER_MAX_PLUGINS];
    size_t nneed = 0;
    for (worker_t *w = m->workers; w; w = w->next)
        w->seen = 0;
    DIR *d = opendir(m->cfg->plugins_dir);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        char stem[64], path[PATH_MAX];
        struct stat st;
        if (!is_wasm(e->d_name, stem, sizeof stem))
            continue;
        snprintf(path, sizeof path, "%s/%s", m->cfg->plugins_dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
            !hv_config_plugin_enabled(m->cfg, stem))
            continue;
        worker_t *w = m->workers;
        while (w && strcmp(w->name, stem) != 0)
            w = w->next;
        if (w == NULL) {
            if (m->nworkers == MANAGER_MAX_PLUGINS || (w = worker_new(m, stem, path)) == NULL)
                continue;
            pthread_mutex_lock(&m->list_lock);
            w->next = m->workers;
            m->workers = w;
            m->nworkers++;
            pthread_mutex_unlock(&m->list_lock);
            hv_log("host", HV_LOG_INFO, "found plugin %s", path);
        }
        w->seen = 1;
        int changed = st.st_mtim.tv_sec != w->mtime.tv_sec ||
                      st.st_mtim.tv_nsec != w->mtime.tv_nsec || st.st_size != w->size;
        int retry = w->status == ST_BACKOFF && manager__now_ms() >= w->retry_at_ms;
        int settings = m->config_changed && (w->p == NULL || settings_changed(m, w));
        if ((changed || retry || settings) && nneed < MANAGER_MAX_PLUGINS) {
            w->mtime = st.st_mtim;
            w->size = st.st_size;
            if (retry && !changed)
                w->restarts++;
            need[nneed++] = w;
        }
    }
    if (d != NULL)
        closedir(d);
    if (m->config_changed)
        apply_limits(m); /* new limits reach running plugins without a restart */
    m->config_changed = 0;
    /* Removed or disabled: unload. */
    for (worker_t **pw = &m->workers; *pw;) {
        worker_t *w = *pw;
        if (w->seen) {
            pw = &w->next;
            continue;
        }
        pthread_mutex_lock(&m->list_lock);
        *pw = w->next;
        m->nworkers--;
        pthread_mutex_unlock(&m->list_lock);
        hv_log("host", HV_LOG_INFO, "unloading plugin %s (file removed or plugin disabled)",
               w->name);
        worker_free(w);
    }
    run_loads(m, need, nneed);
}

/* ---- lifecycle --------------------------------------------------------------- */

int hv_manager_new(hv_engine_t *eng, hv_hal_t *hal, const hv_config_t *cfg, hv_manager_t **ret,
                   char *err, size_t errlen)
{
    hv_manager_t *m = calloc(1, sizeof *m);
    if (m == NULL) {
        snprintf(err, errlen, "out of memory");
        return HV_ENOMEM;
    }
    m->eng = eng;
    m->hal = hal;
    m->cfg = cfg;
    pthread_mutex_init(&m->readings_lock, NULL);
    pthread_mutex_init(&m->list_lock, NULL);
    snprintf(m->state_dir, sizeof m->state_dir, "%s/state", cfg->data_dir);
    char tmp[sizeof m->state_dir];
    snprintf(tmp, sizeof tmp, "%s", cfg->data_dir);
    if ((mkdir(tmp, 0755) != 0 && errno != EEXIST) ||
        (mkdir(m->state_dir, 0755) != 0 && errno != EEXIST)) {
        snprintf(err, errlen, "%s: cannot create: %s", m->state_dir, strerror(errno));
        pthread_mutex_destroy(&m->readings_lock);
        pthread_mutex_destroy(&m->list_lock);
        free(m);
        return HV_EIO;
    }
    m->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (m->inotify_fd >= 0 &&
        inotify_add_watch(m->inotify_fd, cfg->plugins_dir,
                          IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE) < 0) {
        hv_log("host", HV_LOG_WARN, "%s: not watched (%s); checking every 500 ms",
               cfg->plugins_dir, strerror(errno));
        close(m->inotify_fd);
        m->inotify_fd = -1;
    }
    *ret = m;
    return HV_OK;
}

void hv_manager_free(hv_manager_t *m)
{
    if (m == NULL)
        return;
    while (m->workers) {
        worker_t *w = m->workers;
        pthread_mutex_lock(&m->list_lock);
        m->workers = w->next;
        pthread_mutex_unlock(&m->list_lock);
        worker_free(w);
    }
    if (m->inotify_fd >= 0)
        close(m->inotify_fd);
    pthread_mutex_destroy(&m->readings_lock);
    pthread_mutex_destroy(&m->list_lock);
    free(m);
}

void hv_manager_set_config(hv_manager_t *m, const hv_config_t *cfg)
{
    m->cfg = cfg;
    m->config_changed = 1; /* the next scan restarts plugins whose settings differ */
}

uint64_t hv_manager_cycles(const hv_manager_t *m) { return m->cycles; }

/* Watches the permissions file's directory (editors replace files, so the
 * file itself is not watched): a change wakes the loop at once. */
static void watch_perms_dir(hv_manager_t *m)
{
    if (m->inotify_fd < 0 || m->perms == NULL)
        return;
    char dir[PATH_MAX];
    const char *path = hv_perms_path(m->perms), *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    if (dir[0] == '\0')
        snprintf(dir, sizeof dir, "/");
    if (m->perms_watch > 0)
        inotify_rm_watch(m->inotify_fd, m->perms_watch);
    m->perms_watch = inotify_add_watch(m->inotify_fd, dir,
                                       IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_CREATE);
}

/* Gives running plugins the limits of the grants now in force. */
static void apply_perms(hv_manager_t *m)
{
    uint64_t gen = hv_perms_generation(m->perms);
    if (gen == m->perms_applied)
        return;
    m->perms_applied = gen;
    apply_limits(m);
}

void hv_manager_set_perms(hv_manager_t *m, hv_perms_t *perms)
{
    m->perms = perms;
    m->perms_applied = perms ? hv_perms_generation(perms) : 0;
    watch_perms_dir(m);
}

int hv_manager_reload_perms(hv_manager_t *m, const char *path)
{
    if (m->perms == NULL)
        return HV_EINVAL;
    char err[8192];
    int moved = path != NULL && strcmp(path, hv_perms_path(m->perms)) != 0;
    int rc = hv_perms_reload(m->perms, path, err, sizeof err);
    if (moved)
        watch_perms_dir(m);
    if (rc == HV_OK) {
        hv_log("host", HV_LOG_INFO, "permissions %s loaded; they apply to the next call of "
               "every plugin", hv_perms_path(m->perms));
        apply_perms(m);
    } else if (rc == HV_ENOENT && hv_perms_generation(m->perms) == 0) {
        hv_log("host", HV_LOG_WARN, "%s; every plugin is denied all hardware", err);
    } else {
        hv_log("host", HV_LOG_ERROR, "permissions rejected, the old grants stay:\n%s", err);
    }
    return rc;
}

void hv_manager_run(hv_manager_t *m, volatile int *stop, int extra_fd, void (*on_fd)(void *ud),
                    void *ud)
{
    hv_manager_scan(m);
    int64_t next = manager__now_ms();
    while (!*stop) {
        int64_t now = manager__now_ms();
        if (now >= next) {
            hv_manager_cycle(m);
            next = now + (int64_t)m->cfg->interval_s * 1000;
            continue;
        }
        struct pollfd fds[2] = {{m->inotify_fd, POLLIN, 0}, {extra_fd, POLLIN, 0}};
        int64_t wait = next - now;
        if (m->inotify_fd < 0 && wait > 500)
            wait = 500; /* no inotify: look at the directory twice a second */
        int n = poll(fds, 2, (int)wait);
        if (n > 0 && (fds[1].revents & POLLIN) && on_fd)
            on_fd(ud);
        if (*stop)
            break;
        if (n > 0 && (fds[0].revents & POLLIN)) {
            char buf[4096];
            while (read(m->inotify_fd, buf, sizeof buf) > 0)
                ;
        }
        /* Scans are cheap (a stat per file): also catches backoff expiry. */
        hv_manager_scan(m);
        if (m->perms != NULL && hv_perms_file_changed(m->perms))
            hv_manager_reload_perms(m, NULL);
    }
}

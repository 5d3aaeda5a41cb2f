/*
 * The permission guard the capability layer asks on every hardware call:
 * the table in force (swapped whole on reload, under a read-write lock, so
 * a call sees the old grants or the new ones, never a mix), and per-plugin
 * denial counts and audit rate limits, which outlive reloads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "hv_log.h"
#include "hv_perms.h"

#define AUDIT_WINDOW_MS 60000
#define MAX_STATS 128 /* plugins with denials tracked apart; later ones share the last slot */
#define RES_SLOTS 256 /* audit slots per resource kind: an address, pin or LED index */

typedef struct {
    char name[64];
    uint64_t denials;
    char last[48];          /* the last resource denied, "i2c 0x50" */
    int64_t window_start;   /* this minute's audit lines... */
    int window_lines;
    int quiet_said;         /* ...and whether "counting without logging" was said */
    int64_t *audited;       /* [HV_RES_COUNT * RES_SLOTS]: when each resource was last logged */
} perm_stats_t;

struct hv_perms {
    pthread_rwlock_t lock; /* table, loaded, generation, path, file identity */
    hv_perm_table_t table;
    int loaded;            /* 0: no good file yet: deny everything */
    uint64_t generation;
    char *path;
    int file_seen;         /* the file existed at the last load attempt, with: */
    struct stat file_st;
    pthread_mutex_t stats_lock;
    perm_stats_t stats[MAX_STATS];
    size_t nstats;
    hv_perms_audit_fn audit;
    void *audit_ud;
    int64_t (*now)(void *ud);
    void *now_ud;
};

static int64_t monotonic_ms(void *ud)
{
    (void)ud;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_audit(void *ud, const char *plugin, const char *line)
{
    (void)ud, (void)plugin;
    hv_log_line("audit", HV_LOG_WARN, line);
}

/* Remembers the file's identity as of this load attempt. Caller holds the
 * write lock. */
static void note_file(hv_perms_t *g)
{
    g->file_seen = stat(g->path, &g->file_st) == 0;
}

int hv_perms_open(const char *path, hv_perms_t **ret, char *err, size_t errlen)
{
    hv_perms_t *g = calloc(1, sizeof *g);
    if (g == NULL || (g->path = strdup(path)) == NULL) {
        free(g);
        snprintf(err, errlen, "out of memory");
        return HV_ENOMEM;
    }
    pthread_rwlock_init(&g->lock, NULL);
    pthread_mutex_init(&g->stats_lock, NULL);
    g->audit = log_audit;
    g->now = monotonic_ms;
    note_file(g);
    int rc = hv_perm_table_load(path, &g->table, err, errlen);
    if (rc == HV_OK) {
        g->loaded = 1;
        g->generation = 1;
    }
    *ret = g;
    return rc;
}

void hv_perms_free(hv_perms_t *g)
{
    if (g == NULL)
        return;
    for (size_t i = 0; i < g->nstats; i++)
        free(g->stats[i].audited);
    hv_perm_table_free(&g->table);
    pthread_rwlock_destroy(&g->lock);
    pthread_mutex_destroy(&g->stats_lock);
    free(g->path);
    free(g);
}

int hv_perms_reload(hv_perms_t *g, const char *path, char *err, size_t errlen)
{
    char *newpath = path ? strdup(path) : NULL;
    if (path != NULL && newpath == NULL) {
        snprintf(err, errlen, "out of memory");
        return HV_ENOMEM;
    }
    pthread_rwlock_wrlock(&g->lock);
    if (newpath != NULL) {
        free(g->path);
        g->path = newpath;
    }
    note_file(g);
    /* Parse under the lock: reloads are rare and the file is small, and
     * checks then never see a half-swapped table. */
    hv_perm_table_t t;
    int rc = hv_perm_table_load(g->path, &t, err, errlen);
    if (rc == HV_OK) {
        hv_perm_table_free(&g->table);
        g->table = t;
        g->loaded = 1;
        g->generation++;
    }
    pthread_rwlock_unlock(&g->lock);
    return rc;
}

bool hv_perms_file_changed(hv_perms_t *g)
{
    pthread_rwlock_rdlock(&g->lock);
    struct stat st;
    int seen = stat(g->path, &st) == 0;
    bool changed = seen != g->file_seen ||
                   (seen && (st.st_ino != g->file_st.st_ino || st.st_dev != g->file_st.st_dev ||
                             st.st_size != g->file_st.st_size ||
                             st.st_mtim.tv_sec != g->file_st.st_mtim.tv_sec ||
                             st.st_mtim.tv_nsec != g->file_st.st_mtim.tv_nsec));
    pthread_rwlock_unlock(&g->lock);
    return changed;
}

const char *hv_perms_path(const hv_perms_t *g) { return g->path; }

uint64_t hv_perms_generation(const hv_perms_t *g)
{
    pthread_rwlock_rdlock((pthread_rwlock_t *)&g->lock);
    uint64_t n = g->generation;
    pthread_rwlock_unlock((pthread_rwlock_t *)&g->lock);
    return n;
}

static void resource_name(hv_res_t res, unsigned index, const char *name, char *buf, size_t len)
{
    switch (res) {
    case HV_RES_I2C:
        snprintf(buf, len, "i2c 0x%02x", index);
        return;
    case HV_RES_GPIO:
        snprintf(buf, len, "gpio %u", index);
        return;
    case HV_RES_SPI:
        snprintf(buf, len, "spi %s", name ? name : "?");
        return;
    case HV_RES_UART:
        snprintf(buf, len, "uart %s", name ? name : "?");
        return;
    case HV_RES_LED:
        snprintf(buf, len, "led %u", index);
        return;
    default:
        snprintf(buf, len, "buzzer");
        return;
    }
}

/* The stats slot of plugin, made on first use. Caller holds stats_lock. */
static perm_stats_t *stats_of(hv_perms_t *g, const char *plugin, int create)
{
    for (size_t i = 0; i < g->nstats; i++)
        if (strcmp(g->stats[i].name, plugin) == 0)
            return &g->stats[i];
    if (!create)
        return NULL;
    if (g->nstats == MAX_STATS)
        return &g->stats[MAX_STATS - 1];
    perm_stats_t *s = &g->stats[g->nstats];
    s->audited = calloc(HV_RES_COUNT * RES_SLOTS, sizeof *s->audited);
    if (s->audited == NULL)
        return NULL;
    snprintf(s->name, sizeof s->name, "%s", plugin);
    g->nstats++;
    return s;
}

/* Counts a denial and decides what to log. Returns the audit line to
 * write (in line) or 0 for none. Caller holds stats_lock. */
static int count_denial(hv_perms_t *g, perm_stats_t *s, const char *plugin, hv_res_t res,
                        unsigned index, const char *what, char *line, size_t len)
{
    int64_t now = g->now(g->now_ud);
    s->denials++;
    snprintf(s->last, sizeof s->last, "%s", what);
    int64_t *when = &s->audited[(size_t)res * RES_SLOTS + (index % RES_SLOTS)];
    if (*when != 0 && now - *when < AUDIT_WINDOW_MS)
        return 0;
    if (s->window_start == 0 || now - s->window_start >= AUDIT_WINDOW_MS) {
        s->window_start = now;
        s->window_lines = 0;
        s->quiet_said = 0;
    }
    if (s->window_lines < HV_PERMS_AUDIT_BURST) {
        s->window_lines++;
        *when = now ? now : 1;
        snprintf(line, len, "denied: plugin %s: %s (denials so far: %llu)", plugin, what,
                 (unsigned long long)s->denials);
        return 1;
    }
    if (s->quiet_said)
        return 0;
    s->quiet_said = 1;
    snprintf(line, len, "denied: plugin %s: more than %d resources denied this minute; counting "
             "further denials without logging them", plugin, HV_PERMS_AUDIT_BURST);
    return 1;
}

int hv_perms_check(hv_perms_t *g, const char *plugin, hv_res_t res, unsigned index,
                   const char *name, char *err, size_t errlen)
{
    pthread_rwlock_rdlock(&g->lock);
    const hv_perm_entry_t *e = g->loaded ? hv_perm_table_find(&g->table, plugin) : NULL;
    bool ok = hv_perm_entry_allows(e, res, index, name);
    pthread_rwlock_unlock(&g->lock);
    if (ok)
        return HV_OK;
    char what[48], line[256];
    resource_name(res, index, name, what, sizeof what);
    snprintf(err, errlen, "permission denied: %s not allowed for plugin %s", what, plugin);
    pthread_mutex_lock(&g->stats_lock);
    perm_stats_t *s = stats_of(g, plugin, 1);
    int say = s != NULL && count_denial(g, s, plugin, res, index, what, line, sizeof line);
    hv_perms_audit_fn audit = g->audit;
    void *ud = g->audit_ud;
    pthread_mutex_unlock(&g->stats_lock);
    if (say)
        audit(ud, plugin, line);
    return HV_EPERM;
}

void hv_perms_limits(hv_perms_t *g, const char *plugin, uint32_t *ret_memory_mb,
                     uint32_t *ret_deadline_ms)
{
    pthread_rwlock_rdlock(&g->lock);
    const hv_perm_entry_t *e = g->loaded ? hv_perm_table_find(&g->table, plugin) : NULL;
    if (e != NULL) {
        *ret_memory_mb = e->max_memory_mb;
        *ret_deadline_ms = e->deadline_ms;
    }
    pthread_rwlock_unlock(&g->lock);
}

uint64_t hv_perms_denials(hv_perms_t *g, const char *plugin)
{
    pthread_mutex_lock(&g->stats_lock);
    perm_stats_t *s = stats_of(g, plugin, 0);
    uint64_t n = s ? s->denials : 0;
    pthread_mutex_unlock(&g->stats_lock);
    return n;
}

static cJSON *bitmap_json(const uint8_t *map, unsigned max, int hex)
{
    cJSON *a = cJSON_CreateArray();
    for (unsigned i = 0; a != NULL && i <= max; i++) {
        if (!((map[i >> 3] >> (i & 7)) & 1u))
            continue;
        char buf[8];
        snprintf(buf, sizeof buf, "0x%02x", i);
        cJSON_AddItemToArray(a, hex ? cJSON_CreateString(buf) : cJSON_CreateNumber(i));
    }
    return a;
}

static cJSON *names_json(const char (*names)[32], size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a != NULL && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(names[i]));
    return a;
}

char *hv_perms_describe_json(hv_perms_t *g, const char *plugin)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    pthread_rwlock_rdlock(&g->lock);
    const hv_perm_entry_t *e = g->loaded ? hv_perm_table_find(&g->table, plugin) : NULL;
    if (e == NULL) {
        cJSON_AddNullToObject(o, "grants");
    } else {
        cJSON *gr = cJSON_AddObjectToObject(o, "grants");
        cJSON_AddItemToObject(gr, "i2c", bitmap_json(e->i2c, 0x7F, 1));
        cJSON_AddItemToObject(gr, "gpio", bitmap_json(e->gpio, HV_PERMS_GPIO_MAX, 0));
        cJSON_AddItemToObject(gr, "spi", names_json(e->spi, e->nspi));
        cJSON_AddItemToObject(gr, "uart", names_json(e->uart, e->nuart));
        cJSON_AddItemToObject(gr, "leds", bitmap_json(e->leds, HV_PERMS_LED_MAX, 0));
        cJSON_AddBoolToObject(gr, "buzzer", e->buzzer);
        cJSON_AddNumberToObject(gr, "max_memory_mb", e->max_memory_mb);
        cJSON_AddNumberToObject(gr, "deadline_ms", e->deadline_ms);
    }
    pthread_rwlock_unlock(&g->lock);
    pthread_mutex_lock(&g->stats_lock);
    perm_stats_t *s = stats_of(g, plugin, 0);
    cJSON_AddNumberToObject(o, "denials", s ? (double)s->denials : 0);
    if (s != NULL)
        cJSON_AddStringToObject(o, "last_denied", s->last);
    else
        cJSON_AddNullToObject(o, "last_denied");
    pthread_mutex_unlock(&g->stats_lock);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

void hv_perms_set_audit(hv_perms_t *g, hv_perms_audit_fn fn, void *ud)
{
    pthread_mutex_lock(&g->stats_lock);
    g->audit = fn ? fn : log_audit;
    g->audit_ud = fn ? ud : NULL;
    pthread_mutex_unlock(&g->stats_lock);
}

void hv_perms_set_clock(hv_perms_t *g, int64_t (*now_ms)(void *ud), void *ud)
{
    pthread_mutex_lock(&g->stats_lock);
    g->now = now_ms ? now_ms : monotonic_ms;
    g->now_ud = now_ms ? ud : NULL;
    pthread_mutex_unlock(&g->stats_lock);
}

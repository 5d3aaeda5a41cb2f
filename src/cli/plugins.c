/*
 * `harvester status` and `harvester plugins`: what the plugins are, what
 * they may touch and how they are doing. `plugins` works without a running
 * daemon (the files and the permissions file say world and grants); with
 * one, its status file adds status and denial counts.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "hv_config.h"
#include "hv_perms.h"
#include "hv_plugin.h"

/* The running daemon's status.json as a cJSON array, or NULL. With
 * fresh_only, a file not rewritten for three poll intervals (the daemon
 * writes it every cycle) counts as no daemon. */
static cJSON *read_status(const hv_config_t *cfg, int fresh_only)
{
    char path[700];
    snprintf(path, sizeof path, "%s/status.json", cfg->data_dir);
    struct stat st;
    time_t stale = (time_t)(3 * cfg->interval_s + 10);
    if (fresh_only && (stat(path, &st) != 0 || time(NULL) - st.st_mtime > stale))
        return NULL;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    cJSON *all = cJSON_Parse(buf);
    if (!cJSON_IsArray(all)) {
        cJSON_Delete(all);
        return NULL;
    }
    return all;
}

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static double num_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* [--config FILE] -> the configuration; 0 or the exit status. */
static int config_of(int argc, char **argv, hv_config_t *cfg)
{
    int bad;
    const char *explicit_path = cli__config_arg(argc, argv, &bad);
    return bad ? cli__usage(stderr) : cli__load_config(explicit_path, cfg);
}

int cli__cmd_status(int argc, char **argv)
{
    hv_config_t cfg;
    int rc = config_of(argc, argv, &cfg);
    if (rc != 0)
        return rc;
    cJSON *all = read_status(&cfg, 0);
    if (all == NULL) {
        fprintf(stderr, "harvester: status: %s/status.json: no status (is `harvester run` "
                "running?)\n", cfg.data_dir);
        hv_config_free(&cfg);
        return 1;
    }
    hv_config_free(&cfg);
    printf("%-16s %-18s %-12s %8s %10s %8s %7s %7s  %s\n", "PLUGIN", "WORLD", "STATUS", "POLLS",
           "LAST(ms)", "RESTARTS", "RELOADS", "DENIED", "LAST ERROR");
    const cJSON *it;
    cJSON_ArrayForEach(it, all)
    {
        printf("%-16s %-18s %-12s %8.0f %10.1f %8.0f %7.0f %7.0f  %s\n", str_of(it, "name"),
               str_of(it, "world"), str_of(it, "status"), num_of(it, "polls"),
               num_of(it, "last_poll_ms"), num_of(it, "restarts"), num_of(it, "reloads"),
               num_of(it, "denials"), str_of(it, "last_error"));
    }
    cJSON_Delete(all);
    return 0;
}

static void add(char *buf, size_t len, const char *fmt, const char *item)
{
    size_t n = strlen(buf);
    snprintf(buf + n, len - n, fmt, n ? "; " : "", item);
}

/* "i2c 0x77; leds 2; buzzer; deadline 2000 ms", or why there is none. */
static void grants_text(const hv_perm_entry_t *e, char *buf, size_t len)
{
    buf[0] = '\0';
    if (e == NULL) {
        snprintf(buf, len, "none (no entry: all hardware denied)");
        return;
    }
    static const struct {
        hv_res_t res;
        const char *label;
        unsigned max;
        int hex;
    } lists[] = {{HV_RES_I2C, "i2c", 0x77, 1},
                 {HV_RES_GPIO, "gpio", HV_PERMS_GPIO_MAX, 0},
                 {HV_RES_LED, "leds", HV_PERMS_LED_MAX, 0}};
    for (size_t k = 0; k < sizeof lists / sizeof lists[0]; k++) {
        char items[512] = "";
        for (unsigned i = 0; i <= lists[k].max; i++) {
            if (!hv_perm_entry_allows(e, lists[k].res, i, NULL))
                continue;
            size_t n = strlen(items);
            snprintf(items + n, sizeof items - n, lists[k].hex ? "%s0x%02x" : "%s%u",
                     n ? "," : "", i);
        }
        if (items[0]) {
            char one[600];
            snprintf(one, sizeof one, "%s %s", lists[k].label, items);
            add(buf, len, "%s%s", one);
        }
    }
    for (size_t i = 0; i < e->nspi; i++)
        add(buf, len, "%sspi %s", e->spi[i]);
    for (size_t i = 0; i < e->nuart; i++)
        add(buf, len, "%suart %s", e->uart[i]);
    if (e->buzzer)
        add(buf, len, "%s%s", "buzzer");
    char lim[64];
    if (e->max_memory_mb) {
        snprintf(lim, sizeof lim, "memory <= %u MB", e->max_memory_mb);
        add(buf, len, "%s%s", lim);
    }
    if (e->deadline_ms) {
        snprintf(lim, sizeof lim, "deadline <= %u ms", e->deadline_ms);
        add(buf, len, "%s%s", lim);
    }
    if (buf[0] == '\0')
        snprintf(buf, len, "none");
}

/* The world a plugin file was built for, from its metadata. */
static void world_of(const char *path, char *buf, size_t len)
{
    snprintf(buf, len, "?");
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return;
    uint8_t *data = malloc(HV_PLUGIN_MAX_FILE);
    size_t n = data ? fread(data, 1, HV_PLUGIN_MAX_FILE, f) : 0;
    fclose(f);
    hv_plugin_file_t pf;
    char err[256];
    if (data != NULL && hv_plugin_file_decode(data, n, &pf, err, sizeof err) == HV_OK) {
        snprintf(buf, len, "%s", pf.world);
        hv_plugin_file_clear(&pf);
    } else {
        snprintf(buf, len, "(not a plugin)");
    }
    free(data);
}

static const cJSON *status_of(const cJSON *all, const char *name)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, all)
    {
        if (strcmp(str_of(it, "name"), name) == 0)
            return it;
    }
    return NULL;
}

int cli__cmd_plugins(int argc, char **argv)
{
    hv_config_t cfg;
    int rc = config_of(argc, argv, &cfg);
    if (rc != 0)
        return rc;
    hv_perm_table_t table = {NULL, 0};
    char err[8192];
    int prc = hv_perm_table_load(cfg.permissions, &table, err, sizeof err);
    if (prc != HV_OK)
        fprintf(stderr, "harvester: plugins: %s\n(the daemon denies every plugin all hardware "
                "until this is fixed)\n", err);
    cJSON *status = read_status(&cfg, 1);
    struct dirent **list;
    int nlist = scandir(cfg.plugins_dir, &list, NULL, alphasort);
    if (nlist < 0) {
        fprintf(stderr, "harvester: plugins: %s: cannot open\n", cfg.plugins_dir);
        hv_perm_table_free(&table);
        cJSON_Delete(status);
        hv_config_free(&cfg);
        return 1;
    }
    printf("%-14s %-18s %-12s %7s  %s\n", "PLUGIN", "WORLD", "STATUS", "DENIED", "GRANTS");
    for (int i = 0; i < nlist; i++) {
        const struct dirent *e = list[i];
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".wasm") != 0 || e->d_name[0] == '.')
            continue;
        char name[256], path[1024], world[128], grants[1024], state[32];
        snprintf(name, sizeof name, "%.*s", (int)(n - 5), e->d_name);
        snprintf(path, sizeof path, "%s/%s", cfg.plugins_dir, e->d_name);
        world_of(path, world, sizeof world);
        grants_text(hv_perm_table_find(&table, name), grants, sizeof grants);
        const cJSON *st = status_of(status, name);
        snprintf(state, sizeof state, "%s",
                 st ? str_of(st, "status")
                    : hv_config_plugin_enabled(&cfg, name) ? "not running" : "disabled");
        char denied[24] = "-";
        if (st != NULL)
            snprintf(denied, sizeof denied, "%.0f", num_of(st, "denials"));
        printf("%-14s %-18s %-12s %7s  %s\n", name, world, state, denied, grants);
        if (st != NULL && cJSON_IsString(cJSON_GetObjectItem(st, "last_denied")))
            printf("%-14s %-18s %-12s %7s  last denied: %s\n", "", "", "", "",
                   str_of(st, "last_denied"));
    }
    for (int i = 0; i < nlist; i++)
        free(list[i]);
    free(list);
    hv_perm_table_free(&table);
    cJSON_Delete(status);
    hv_config_free(&cfg);
    return prc == HV_OK ? 0 : 2;
}

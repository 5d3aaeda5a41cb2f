/*
 * Shared helpers for the seed-plugin tests (header-only, one test file per
 * plugin): build plugins/<name> into a temp dir, open a simulated board
 * (optionally with a scenario given as TOML text), load the plugin on it,
 * poll, and read the simulator's LEDs, beeps and OLED.
 */
#ifndef HV_SEED_TEST_H
#define HV_SEED_TEST_H

#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "hv_log.h"
#include "hv_plugin.h"

static hv_engine_t *seed_eng;
static char seed_tmp[] = "/tmp/hv-seed-XXXXXX";

/* Group setup/teardown: the engine and a temp dir. */
__attribute__((unused)) static int seed_setup(void **state)
{
    (void)state;
    char err[1024];
    hv_engine_opts_t o = {HV_RUNTIME_DIR, NULL, NULL, 0};
    if (mkdtemp(seed_tmp) == NULL || hv_engine_open(&o, &seed_eng, err, sizeof err) != HV_OK) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    hv_log_configure(HV_LOG_WARN, 0);
    return 0;
}

__attribute__((unused)) static int seed_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", seed_tmp);
    hv_engine_close(seed_eng);
    return system(cmd) == 0 ? 0 : -1;
}

/* A simulated board; scenario_toml may be NULL (defaults). */
static hv_hal_t *seed_board(const char *scenario_toml)
{
    char path[256], err[1024];
    hv_hal_sim_opts_t o = {11, NULL, NULL, NULL};
    if (scenario_toml != NULL) {
        snprintf(path, sizeof path, "%s/scenario-%d.toml", seed_tmp, rand());
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(scenario_toml, f);
        fclose(f);
        o.scenario = path;
    }
    hv_hal_t *h = hv_hal_sim_open(&o, err, sizeof err);
    if (h == NULL)
        fail_msg("board: %s", err);
    return h;
}

/* Plugin log lines go to the daemon's log rings (hv_log_read) and stderr. */
static void seed_log(void *ud, const char *plugin, int level, const char *msg)
{
    (void)ud;
    hv_log_line(plugin, level, msg);
}

/* Builds plugins/<name> (once per test binary) and loads it on hal with
 * config_json as its [plugins.NAME] table (NULL: {}). */
static hv_plugin_t *seed_load(const char *name, hv_hal_t *hal, const char *config_json)
{
    char dir[512], out[512], built[512], wit[512], err[8192];
    snprintf(dir, sizeof dir, "%s/plugins/%s", HV_SOURCE_DIR, name);
    snprintf(out, sizeof out, "%s/%s.wasm", seed_tmp, name);
    snprintf(wit, sizeof wit, "%s/wit/plugin.wit", HV_SOURCE_DIR);
    if (access(out, R_OK) != 0 &&
        hv_plugin_build(seed_eng, dir, out, wit, built, sizeof built, err, sizeof err) != HV_OK)
        fail_msg("build %s: %s", name, err);
    char state_dir[300];
    snprintf(state_dir, sizeof state_dir, "%s/state", seed_tmp);
    mkdir(state_dir, 0755);
    hv_plugin_opts_t o = {.eng = seed_eng, .hal = hal, .config_json = config_json,
                          .state_dir = state_dir, .deadline_ms = 20000, .log = seed_log};
    hv_plugin_t *p = NULL;
    if (hv_plugin_load(out, &o, &p, err, sizeof err) != HV_OK)
        fail_msg("load %s: %s", name, err);
    return p;
}

/* Calls an export ("bme680-logic.poll") with JSON args; returns the JSON
 * result (malloc'd); fails the test on error. */
static char *seed_call(hv_plugin_t *p, const char *fn, const char *args)
{
    char *out = NULL, err[8192];
    if (hv_plugin_call_json(p, fn, args, &out, err, sizeof err) != HV_OK)
        fail_msg("%s: %s", fn, err);
    return out;
}

/* The number after "key": in json (first occurrence), or NAN-like -1e300. */
__attribute__((unused)) static double seed_num(const char *json, const char *key)
{
    char needle[128];
    snprintf(needle, sizeof needle, "\"%s\":", key);
    const char *p = strstr(json, needle);
    return p ? strtod(p + strlen(needle), NULL) : -1e300;
}

#endif

/*
 * Plugin call costs: i2c.transfer round trips measured inside the guest
 * (bench/plugins/i2cbench), without and with the permission guard asked
 * on every call (the shipped permissions file), and a dashboard render of ~10 KB of JSON timed
 * from the host (bench/plugins/render).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hv_plugin.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static hv_plugin_t *build_and_load(hv_engine_t *eng, hv_hal_t *hal, const char *name,
                                   hv_perms_t *perms)
{
    char dir[512], out[512], wit[512], built[512], err[8192];
    snprintf(dir, sizeof dir, "%s/bench/plugins/%s", HV_SOURCE_DIR, name);
    snprintf(out, sizeof out, "/tmp/hv-bench-%s.wasm", name);
    snprintf(wit, sizeof wit, "%s/wit/plugin.wit", HV_SOURCE_DIR);
    hv_plugin_t *p = NULL;
    hv_plugin_opts_t o = {.eng = eng, .hal = hal, .deadline_ms = 60000, .perms = perms,
                          .perm_name = "bme680"};
    double t0 = now_s();
    if (hv_plugin_build(eng, dir, out, wit, built, sizeof built, err, sizeof err) != HV_OK) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    double t1 = now_s();
    if (hv_plugin_load(out, &o, &p, err, sizeof err) != HV_OK) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    printf("%s: harvester build %.1f ms, load (instance + interpreter + SDK bootstrap) %.1f ms\n",
           name, (t1 - t0) * 1e3, (now_s() - t1) * 1e3);
    remove(out);
    return p;
}

int main(int argc, char **argv)
{
    char err[8192];
    hv_engine_opts_t eo = {argc > 1 ? argv[1] : HV_RUNTIME_DIR, NULL, NULL, 0};
    hv_engine_t *eng;
    if (hv_engine_open(&eo, &eng, err, sizeof err) != HV_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    hv_hal_t *hal = hv_hal_sim_new(11);

    /* bme680's grant (0x77) from the shipped file: the guard's lookup is
     * what a real plugin pays. */
    char path[600];
    snprintf(path, sizeof path, "%s/config/permissions.toml", HV_SOURCE_DIR);
    hv_perms_t *perms = NULL;
    if (hv_perms_open(path, &perms, err, sizeof err) != HV_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    for (int guarded = 0; guarded <= 1; guarded++) {
        hv_plugin_t *p = build_and_load(eng, hal, "i2cbench", guarded ? perms : NULL);
        char *out = NULL;
        if (hv_plugin_call_json(p, "sensor-logic.poll", NULL, &out, err, sizeof err) != HV_OK) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        printf("i2c round trip, 3 bytes, %s (in-guest timing, loop cost removed): %s\n",
               guarded ? "permission guard on" : "no permission guard", out);
        free(out);
        hv_plugin_free(p);
    }
    /* The check alone: a read lock, a lookup by name among 7 entries, a bit. */
    int n_checks = 5000000;
    double c0 = now_s();
    for (int i = 0; i < n_checks; i++)
        if (hv_perms_check(perms, "aht20", HV_RES_I2C, 0x38, NULL, err, sizeof err) != HV_OK)
            return 1;
    printf("permission check (allowed, 7 entries): %.1f ns\n", (now_s() - c0) / n_checks * 1e9);
    hv_perms_free(perms);

    hv_plugin_t *p = build_and_load(eng, hal, "render", NULL);
    size_t cap = 16384, n = 0;
    char *json = malloc(cap);
    n += (size_t)snprintf(json + n, cap - n, "[");
    for (int i = 0; n < 10000; i++)
        n += (size_t)snprintf(json + n, cap - n, "%s{\"sensor_id\":\"node-%d:bme680\",\"value\":%d.5}",
                              i ? "," : "", i, i);
    n += (size_t)snprintf(json + n, cap - n, "]");
    char *arg = malloc(n * 2 + 8);
    /* A JSON string literal holding the readings text. */
    size_t k = 0;
    arg[k++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (json[i] == '"' || json[i] == '\\')
            arg[k++] = '\\';
        arg[k++] = json[i];
    }
    arg[k++] = '"';
    arg[k] = '\0';
    int iters = 500;
    double t0 = now_s();
    size_t html = 0;
    char *out = NULL;
    for (int i = 0; i < iters; i++) {
        if (hv_plugin_call_json(p, "dashboard-logic.render", arg, &out, err, sizeof err) != HV_OK) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        html = strlen(out);
        free(out);
    }
    double dt = (now_s() - t0) / iters;
    printf("dashboard render of %zu bytes of JSON -> %zu bytes of HTML: %.1f us per call\n", n,
           html, dt * 1e6);
    free(arg);
    free(json);
    hv_plugin_free(p);
    hv_hal_sim_free(hal);
    hv_engine_close(eng);
    return 0;
}

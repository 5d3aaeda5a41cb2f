/*
 * Plugin call costs: i2c.transfer round trips measured inside the guest
 * (bench/plugins/i2cbench) and a dashboard render of ~10 KB of JSON timed
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

static hv_plugin_t *build_and_load(hv_engine_t *eng, hv_hal_t *hal, const char *name)
{
    char dir[512], out[512], wit[512], built[512], err[8192];
    snprintf(dir, sizeof dir, "%s/bench/plugins/%s", HV_SOURCE_DIR, name);
    snprintf(out, sizeof out, "/tmp/hv-bench-%s.wasm", name);
    snprintf(wit, sizeof wit, "%s/wit/plugin.wit", HV_SOURCE_DIR);
    hv_plugin_t *p = NULL;
    hv_plugin_opts_t o = {.eng = eng, .hal = hal, .deadline_ms = 60000};
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

    hv_plugin_t *p = build_and_load(eng, hal, "i2cbench");
    char *out = NULL;
    if (hv_plugin_call_json(p, "sensor-logic.poll", NULL, &out, err, sizeof err) != HV_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("i2c round trip, 3 bytes (in-guest timing, loop cost removed): %s\n", out);
    free(out);
    hv_plugin_free(p);

    p = build_and_load(eng, hal, "render");
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

/*
 * Engine figures: instance ready time (cold vs snapshot), call round trips,
 * RSS with idle instances. Run by `make bench`; prints a table.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_impl.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    size_t klen = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, klen) == 0 && line[klen] == ':')
            kb = strtol(line + klen + 1, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

static void thunk_plain(void *p)
{
    hv_instance_t *inst = p;
    (void)inst->eng->vt->exit_code(inst->g);
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench: %s: %s\n", what, hv_strerror(rc));
    exit(1);
}

int main(int argc, char **argv)
{
    const char *rt = argc > 1 ? argv[1] : HV_RUNTIME_DIR;
    char err[1024];
    hv_engine_t *eng;
    hv_engine_opts_t eo = {rt, NULL, NULL, 0};
    int rc = hv_engine_open(&eo, &eng, err, sizeof err);
    if (rc != HV_OK) {
        fprintf(stderr, "bench: %s\n", err);
        return 1;
    }
    hv_instance_opts_t o = {0};
    long rss0 = status_kb("VmRSS");

    /* cold: instantiate + C start-up + Py_Initialize */
    const int cold_n = 20;
    double t0 = now_s();
    for (int i = 0; i < cold_n; i++) {
        hv_instance_t *x;
        if ((rc = hv_instance_new(eng, &o, &x)) != HV_OK || (rc = hv_instance_init_python(x)))
            die("cold instance", rc);
        hv_instance_free(x);
    }
    double cold = (now_s() - t0) / cold_n;

    hv_instance_t *base;
    if ((rc = hv_instance_new(eng, &o, &base)) != HV_OK || (rc = hv_instance_init_python(base)))
        die("base", rc);
    const char *src = "import json\ndef poll(_):\n    return json.dumps({'t': 21.5})\n"
                      "def nop(_):\n    return None\n";
    if ((rc = hv_instance_exec(base, src, strlen(src), "plugin.py")) != HV_OK)
        die("exec", rc);
    hv_snapshot_t *snap;
    if ((rc = hv_snapshot_take(base, &snap)) != HV_OK)
        die("snapshot", rc);
    const int snap_n = 2000;
    t0 = now_s();
    for (int i = 0; i < snap_n; i++) {
        hv_instance_t *x;
        if ((rc = hv_instance_from_snapshot(snap, &o, &x)) != HV_OK)
            die("snapshot instance", rc);
        hv_instance_free(x);
    }
    double warm = (now_s() - t0) / snap_n;
    /* first call after a snapshot start touches pages: include it once */
    t0 = now_s();
    for (int i = 0; i < 200; i++) {
        hv_instance_t *x;
        if ((rc = hv_instance_from_snapshot(snap, &o, &x)) != HV_OK ||
            (rc = hv_instance_call(x, "poll", "", 0)) != HV_OK)
            die("snapshot+call", rc);
        hv_instance_free(x);
    }
    double warm_call = (now_s() - t0) / 200;

    const int calls = 200000;
    hv_rt_call_opts_t co = {base->mem, 0};
    t0 = now_s();
    for (int i = 0; i < calls; i++)
        hv_rt_call(&co, thunk_plain, base, NULL);
    double plain = (now_s() - t0) / calls;
    t0 = now_s();
    for (int i = 0; i < calls / 10; i++)
        if ((rc = hv_instance_call(base, "nop", "", 0)) != HV_OK)
            die("call", rc);
    double pycall = (now_s() - t0) / (calls / 10);
    t0 = now_s();
    for (int i = 0; i < calls / 10; i++)
        if ((rc = hv_instance_call(base, "poll", "", 0)) != HV_OK)
            die("call", rc);
    double pypoll = (now_s() - t0) / (calls / 10);

    /* RSS: 6 idle plugin instances (from the snapshot, as the daemon does) */
    hv_instance_t *idle[6];
    for (int i = 0; i < 6; i++) {
        if ((rc = hv_instance_from_snapshot(snap, &o, &idle[i])) != HV_OK ||
            (rc = hv_instance_call(idle[i], "poll", "", 0)) != HV_OK)
            die("idle", rc);
    }
    long rss6 = status_kb("VmRSS");
    for (int i = 0; i < 6; i++)
        hv_instance_free(idle[i]);
    hv_instance_t *cold6[6];
    for (int i = 0; i < 6; i++) {
        if ((rc = hv_instance_new(eng, &o, &cold6[i])) != HV_OK ||
            (rc = hv_instance_init_python(cold6[i])) != HV_OK)
            die("cold idle", rc);
    }
    long rss6c = status_kb("VmRSS");
    for (int i = 0; i < 6; i++)
        hv_instance_free(cold6[i]);

    printf("instance ready, cold (instantiate + Py_Initialize)   %8.3f ms\n", cold * 1e3);
    printf("instance ready, from snapshot                        %8.3f ms\n", warm * 1e3);
    printf("snapshot start + first poll() call                   %8.3f ms\n", warm_call * 1e3);
    printf("round trip host->export->host (plain)                %8.3f us\n", plain * 1e6);
    printf("round trip host->Python nop(arg)->host               %8.3f us\n", pycall * 1e6);
    printf("round trip host->Python poll() json.dumps->host      %8.3f us\n", pypoll * 1e6);
    printf("RSS: host with engine loaded                         %8.1f MB\n", rss0 / 1024.0);
    printf("RSS: + 1 base + 6 idle instances from snapshot       %8.1f MB\n", rss6 / 1024.0);
    printf("RSS: + 1 base + 6 idle cold instances                %8.1f MB\n", rss6c / 1024.0);
    hv_snapshot_free(snap);
    hv_instance_free(base);
    hv_engine_close(eng);
    return 0;
}

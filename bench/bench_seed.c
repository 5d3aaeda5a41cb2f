/*
 * One seed plugin's export timed in the sandbox: builds the plugin directory,
 * loads it on the default simulated board and calls the export until
 * --min-seconds of wall time have passed, measuring wall time and this
 * thread's CPU time (plugin calls run on the caller's thread, so the CPU
 * clock covers the interpreter, the canonical ABI and the host's handlers,
 * and not the time spent in clock.sleep-ms).
 *
 *   bench_seed [--runtime DIR] [--args JSON] [--config JSON] [--virtual-sleep]
 *              [--min-seconds S] [--max-calls N] [-v] <plugin-dir> <iface.func>
 *
 * Prints one JSON object on stdout, the same as bench/native/run_native.py:
 * {"first": <first result>, "load_ms", "build_ms", "calls", "wall_s", "cpu_s"}.
 * --virtual-sleep turns clock.sleep-ms/sleep-us into jumps of the board's
 * clock (hv_hal_sim_advance): the chips see the time pass, nobody waits.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hv_log.h"
#include "hv_plugin.h"

#define WARMUP_CALLS 2 /* as run_native.py: the first calls fill caches on both sides */
#define MIN_CALLS 3

typedef struct {
    const char *runtime, *args, *config, *dir, *func;
    int virtual_sleep, verbose;
    double min_seconds;
    long max_calls;
} opts_t;

static hv_hal_t *board; /* for the virtual sleeps */
static int verbose;

static double clock_s(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Plugin log lines (its log interface, prints, the buzzer) cost the same
 * formatting either way; dropping them keeps terminal output out of the
 * figures, as the native stub drops its lines. */
static void drop_log(void *ud, const char *plugin, int level, const char *msg)
{
    (void)ud;
    if (verbose)
        fprintf(stderr, "[%s %d] %s\n", plugin, level, msg);
}

static int virtual_sleep_ms(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    (void)c, (void)ret;
    hv_hal_sim_advance(board, (double)(args[0].u > 60000 ? 60000 : args[0].u) / 1e3);
    return HV_OK;
}

static int virtual_sleep_us(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    (void)c, (void)ret;
    hv_hal_sim_advance(board, (double)(args[0].u > 60000000 ? 60000000 : args[0].u) / 1e6);
    return HV_OK;
}

static const hv_cap_entry_t virtual_clock[] = {
    {"clock#sleep-ms", virtual_sleep_ms, NULL},
    {"clock#sleep-us", virtual_sleep_us, NULL},
    {NULL, NULL, NULL},
};

static int usage(void)
{
    fprintf(stderr, "usage: bench_seed [--runtime DIR] [--args JSON] [--config JSON] "
                    "[--virtual-sleep] [--min-seconds S] [--max-calls N] [-v] "
                    "<plugin-dir> <iface.func>\n");
    return 2;
}

static int parse(int argc, char **argv, opts_t *o)
{
    *o = (opts_t){.runtime = HV_RUNTIME_DIR, .min_seconds = 1.0, .max_calls = 1000000};
    int pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(a, "--virtual-sleep") == 0)
            o->virtual_sleep = 1;
        else if (strcmp(a, "-v") == 0)
            o->verbose = 1;
        else if (strcmp(a, "--runtime") == 0 && has_value)
            o->runtime = argv[++i];
        else if (strcmp(a, "--args") == 0 && has_value)
            o->args = argv[++i];
        else if (strcmp(a, "--config") == 0 && has_value)
            o->config = argv[++i];
        else if (strcmp(a, "--min-seconds") == 0 && has_value)
            o->min_seconds = strtod(argv[++i], NULL);
        else if (strcmp(a, "--max-calls") == 0 && has_value)
            o->max_calls = strtol(argv[++i], NULL, 10);
        else if (a[0] == '-')
            return -1;
        else if (pos == 0)
            o->dir = a, pos++;
        else if (pos == 1)
            o->func = a, pos++;
        else
            return -1;
    }
    return pos == 2 && o->max_calls >= MIN_CALLS ? 0 : -1;
}

static int call(hv_plugin_t *p, const opts_t *o, char **out)
{
    char err[8192];
    char *res = NULL;
    if (hv_plugin_call_json(p, o->func, o->args, &res, err, sizeof err) != HV_OK) {
        fprintf(stderr, "%s: %s: %s\n", o->dir, o->func, err);
        return -1;
    }
    if (out != NULL)
        *out = res;
    else
        free(res);
    return 0;
}

static int run(hv_engine_t *eng, const opts_t *o)
{
    char out[512], built[512], wit[512], err[8192];
    const char *base = strrchr(o->dir, '/') && strrchr(o->dir, '/')[1] ? strrchr(o->dir, '/') + 1
                                                                        : o->dir;
    snprintf(out, sizeof out, "/tmp/hv-bench-seed-%d-%s.wasm", (int)getpid(), base);
    snprintf(wit, sizeof wit, "%s/wit/plugin.wit", HV_SOURCE_DIR);
    double t0 = clock_s(CLOCK_MONOTONIC);
    if (hv_plugin_build(eng, o->dir, out, wit, built, sizeof built, err, sizeof err) != HV_OK) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    double t1 = clock_s(CLOCK_MONOTONIC);
    hv_plugin_opts_t po = {.eng = eng, .hal = board, .log = drop_log, .config_json = o->config,
                           .caps = o->virtual_sleep ? virtual_clock : NULL,
                           .deadline_ms = 60000};
    hv_plugin_t *p = NULL;
    int rc = hv_plugin_load(out, &po, &p, err, sizeof err);
    remove(out);
    if (rc != HV_OK) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    double t2 = clock_s(CLOCK_MONOTONIC);

    char *first = NULL;
    rc = call(p, o, &first);
    for (int i = 1; rc == 0 && i < WARMUP_CALLS; i++)
        rc = call(p, o, NULL);
    long calls = 0;
    double wall0 = clock_s(CLOCK_MONOTONIC), cpu0 = clock_s(CLOCK_THREAD_CPUTIME_ID), wall = 0;
    while (rc == 0 && calls < o->max_calls) {
        rc = call(p, o, NULL);
        calls++;
        wall = clock_s(CLOCK_MONOTONIC) - wall0;
        if (calls >= MIN_CALLS && wall >= o->min_seconds)
            break;
    }
    double cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - cpu0;
    if (rc == 0)
        printf("{\"first\": %s, \"build_ms\": %.3f, \"load_ms\": %.3f, \"calls\": %ld, "
               "\"wall_s\": %.9f, \"cpu_s\": %.9f}\n",
               first, (t1 - t0) * 1e3, (t2 - t1) * 1e3, calls, wall, cpu);
    free(first);
    hv_plugin_free(p);
    return rc;
}

int main(int argc, char **argv)
{
    opts_t o;
    if (parse(argc, argv, &o) != 0)
        return usage();
    verbose = o.verbose;
    hv_log_configure(verbose ? HV_LOG_INFO : HV_LOG_WARN, 0);
    char err[8192];
    hv_engine_opts_t eo = {o.runtime, NULL, NULL, 0};
    hv_engine_t *eng;
    if (hv_engine_open(&eo, &eng, err, sizeof err) != HV_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    board = hv_hal_sim_new(11);
    int rc = board != NULL ? run(eng, &o) : -1;
    if (board != NULL)
        hv_hal_sim_free(board);
    hv_engine_close(eng);
    return rc == 0 ? 0 : 1;
}

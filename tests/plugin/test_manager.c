/*
 * The plugin manager with real plugins on the simulated board: readings,
 * hot reload with state carried over, a broken new version keeping the old
 * one, discovery of a dropped-in file, a trapping plugin restarted with
 * backoff while the others carry on, one LED write per cycle.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hv_log.h"
#include "hv_manager.h"
#include "hv_plugin.h"

static hv_engine_t *eng;
static hv_hal_t *board;
static char tmp[] = "/tmp/hv-manager-XXXXXX";

/* A sensor plugin that counts its polls in `state` and reports a version. */
static const char counter_src[] =
    "from harvester.imports import state, led_controller\n"
    "from harvester.imports.types import Field, Reading\n"
    "VERSION = %d\n"
    "class SensorLogic:\n"
    "    def poll(self) -> list[Reading]:\n"
    "        n = int(state.get() or b'0') + 1\n"
    "        state.set(str(n).encode())\n"
    "        led_controller.set_led(%d, 0, 255, 0)\n"
    "        led_controller.sync_leds()\n"
    "        return [Reading(sensor='%s', fields=[Field(name='count', value=n, unit=''),\n"
    "                Field(name='version', value=VERSION, unit='')], extra=None)]\n";

static const char trap_src[] = "from harvester.imports.types import Reading\n"
                               "class SensorLogic:\n"
                               "    def poll(self) -> list[Reading]:\n"
                               "        while True:\n"
                               "            pass\n";

static const char bad_data_src[] = "from harvester.imports.types import Reading\n"
                                   "class SensorLogic:\n"
                                   "    def poll(self) -> list[Reading]:\n"
                                   "        return 42\n";

/* A UI plugin: logs how many readings each update brought. */
static const char oled_src[] = "import json\n"
                               "from harvester.imports import log\n"
                               "from harvester.imports.types import Level\n"
                               "class OledLogic:\n"
                               "    def update(self, sensor_data: str) -> None:\n"
                               "        readings = json.loads(sensor_data)\n"
                               "        ids = ','.join(r['sensor_id'] for r in readings)\n"
                               "        log.write(Level.WARN, f'oled got {len(readings)}: {ids}')\n";

static void build_world(const char *name, const char *world, const char *src, const char *dest);

/* Builds a sensor plugin from source text into dest (a .wasm path). */
static void build(const char *name, const char *src, const char *dest)
{
    build_world(name, "sensor-plugin", src, dest);
}

static void build_world(const char *name, const char *world, const char *src, const char *dest)
{
    char dir[256], path[300], out[512], err[8192], wit[512];
    snprintf(dir, sizeof dir, "%s/src-%s", tmp, name);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/plugin.toml", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "name = \"%s\"\nworld = \"%s\"\n", name, world);
    fclose(f);
    snprintf(path, sizeof path, "%s/app.py", dir);
    f = fopen(path, "w");
    fputs(src, f);
    fclose(f);
    /* Build beside the destination, then rename: the manager never sees a
     * half-written file (as `harvester build` does too). */
    char staged[600];
    snprintf(staged, sizeof staged, "%s/.staged-%s.wasm", tmp, name);
    snprintf(wit, sizeof wit, "%s/wit/plugin.wit", HV_SOURCE_DIR);
    if (hv_plugin_build(eng, dir, staged, wit, out, sizeof out, err, sizeof err) != HV_OK)
        fail_msg("build %s: %s", name, err);
    assert_int_equal(rename(staged, dest), 0);
}

static void counter(const char *name, int version, int led, const char *dest)
{
    char src[2048];
    snprintf(src, sizeof src, counter_src, version, led, name);
    build(name, src, dest);
}

static hv_config_t cfg;

static void make_config(const char *plugins_dir, uint32_t deadline_ms)
{
    hv_config_defaults(&cfg);
    snprintf(cfg.plugins_dir, sizeof cfg.plugins_dir, "%s", plugins_dir);
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s/data", tmp);
    snprintf(cfg.node_id, sizeof cfg.node_id, "n1");
    cfg.auto_load = true;
    cfg.default_deadline_ms = deadline_ms;
}

/* Value of field `field` in the reading of sensor_id, or -1. */
static double field(hv_manager_t *m, const char *sensor_id, const char *fname)
{
    char *json = hv_manager_readings_json(m);
    char needle[128];
    snprintf(needle, sizeof needle, "\"sensor_id\":\"%s\"", sensor_id);
    char *at = strstr(json, needle);
    double v = -1;
    if (at != NULL) {
        snprintf(needle, sizeof needle, "{\"name\":\"%s\",\"value\":", fname);
        char *f = strstr(at, needle);
        if (f != NULL)
            v = strtod(f + strlen(needle), NULL);
    }
    free(json);
    return v;
}

static char *plugin_dir(const char *name)
{
    static char d[256];
    snprintf(d, sizeof d, "%s/%s", tmp, name);
    mkdir(d, 0755);
    return d;
}

static void test_hot_reload_keeps_state(void **state)
{
    (void)state;
    char *dir = plugin_dir("reload"), file[300], err[512];
    snprintf(file, sizeof file, "%s/counter.wasm", dir);
    counter("counter", 1, 1, file);
    make_config(dir, 5000);
    hv_manager_t *m;
    assert_int_equal(hv_manager_new(eng, board, &cfg, &m, err, sizeof err), HV_OK);
    hv_manager_scan(m);
    hv_manager_cycle(m);
    hv_manager_cycle(m);
    assert_true(field(m, "n1:counter", "count") == 2);
    assert_true(field(m, "n1:counter", "version") == 1);

    /* A new version: swapped in, counting on from the old one's state. */
    counter("counter", 2, 1, file);
    hv_manager_scan(m);
    hv_manager_cycle(m);
    assert_true(field(m, "n1:counter", "version") == 2);
    assert_true(field(m, "n1:counter", "count") == 3);
    char *status = hv_manager_status_json(m);
    assert_non_null(strstr(status, "\"reloads\":1"));
    free(status);

    /* A broken new file: logged, and the old version keeps running. */
    FILE *f = fopen(file, "w");
    fputs("this is not a plugin", f);
    fclose(f);
    hv_log_reset();
    hv_manager_scan(m);
    hv_manager_cycle(m);
    assert_true(field(m, "n1:counter", "version") == 2);
    assert_true(field(m, "n1:counter", "count") == 4);
    hv_log_entry_t e[16];
    size_t n = hv_log_read("counter", 0, e, 16);
    int found = 0;
    for (size_t i = 0; i < n; i++)
        found |= strstr(e[i].text, "new version failed to start, keeping the old one") != NULL;
    assert_true(found);

    /* Removing the file unloads the plugin. */
    unlink(file);
    hv_manager_scan(m);
    status = hv_manager_status_json(m);
    assert_string_equal(status, "[]");
    free(status);
    hv_manager_free(m);
}

static void test_trapping_plugin_restarted_others_continue(void **state)
{
    (void)state;
    char *dir = plugin_dir("trap"), file[300], err[512];
    snprintf(file, sizeof file, "%s/good.wasm", dir);
    counter("good", 1, 1, file);
    snprintf(file, sizeof file, "%s/looper.wasm", dir);
    build("looper", trap_src, file);
    make_config(dir, 200);
    hv_manager_t *m;
    assert_int_equal(hv_manager_new(eng, board, &cfg, &m, err, sizeof err), HV_OK);
    hv_manager_scan(m);
    hv_manager_cycle(m);
    assert_true(field(m, "n1:good", "count") == 1);
    char *status = hv_manager_status_json(m);
    assert_non_null(strstr(status, "\"name\":\"looper\""));
    assert_non_null(strstr(status, "\"status\":\"backing-off\""));
    assert_non_null(strstr(status, "deadline exceeded"));
    free(status);
    /* While the looper backs off, the good plugin keeps producing. */
    hv_manager_scan(m);
    hv_manager_cycle(m);
    assert_true(field(m, "n1:good", "count") == 2);
    /* After its backoff (1 s) it is restarted, traps again, and backs off
     * for twice as long. */
    int restarted = 0;
    for (int i = 0; i < 100 && !restarted; i++) {
        usleep(50000);
        hv_manager_scan(m);
        status = hv_manager_status_json(m);
        restarted = strstr(status, "\"restarts\":1") != NULL;
        free(status);
    }
    assert_true(restarted);
    hv_log_reset();
    hv_manager_cycle(m);
    assert_true(field(m, "n1:good", "count") == 3);
    hv_log_entry_t e[8];
    size_t n = hv_log_read("looper", 0, e, 8);
    assert_true(n >= 1);
    assert_non_null(strstr(e[n - 1].text, "restarting in 2.0 s"));
    hv_manager_free(m);
}

static void test_led_strip_written_once_per_cycle(void **state)
{
    (void)state;
    char *dir = plugin_dir("leds"), file[300], err[512], name[32];
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "led%d", i);
        snprintf(file, sizeof file, "%s/%s.wasm", dir, name);
        counter(name, 1, i + 1, file);
    }
    make_config(dir, 5000);
    hv_hal_t *hal = hv_hal_sim_new(11);
    hv_manager_t *m;
    assert_int_equal(hv_manager_new(eng, hal, &cfg, &m, err, sizeof err), HV_OK);
    hv_manager_scan(m);
    unsigned before = hv_hal_sim_led_writes(hal);
    hv_manager_cycle(m);
    assert_int_equal(hv_hal_sim_led_writes(hal) - before, 1);
    hv_manager_cycle(m);
    assert_int_equal(hv_hal_sim_led_writes(hal) - before, 2);
    for (unsigned i = 1; i <= 4; i++)
        assert_int_equal(hv_hal_sim_led(hal, i), 0x00FF00);
    assert_int_not_equal(hv_hal_sim_led(hal, 0), 0); /* heartbeat */
    hv_manager_free(m);
    hv_hal_sim_free(hal);
}

/* Bad data three polls in a row: restarted with backoff; UI plugins get
 * the readings of every plugin each cycle. */
static void test_bad_data_and_ui_broadcast(void **state)
{
    (void)state;
    char *dir = plugin_dir("ui"), file[300], err[512];
    snprintf(file, sizeof file, "%s/sensor.wasm", dir);
    counter("sensor", 1, 1, file);
    snprintf(file, sizeof file, "%s/liar.wasm", dir);
    build("liar", bad_data_src, file);
    snprintf(file, sizeof file, "%s/screen.wasm", dir);
    build_world("screen", "oled-plugin", oled_src, file);
    make_config(dir, 5000);
    hv_manager_t *m;
    assert_int_equal(hv_manager_new(eng, board, &cfg, &m, err, sizeof err), HV_OK);
    hv_manager_scan(m);
    hv_log_reset();
    for (int i = 0; i < 3; i++)
        hv_manager_cycle(m);
    char *status = hv_manager_status_json(m);
    if (strstr(status, "poll raised 3 times in a row") == NULL ||
        strstr(status, "\"status\":\"backing-off\"") == NULL)
        fail_msg("status: %s", status);
    free(status);
    hv_log_entry_t e[64];
    size_t n = hv_log_read("liar", 0, e, 64);
    assert_true(n >= 3);
    assert_non_null(strstr(e[0].text, "SensorLogic.poll: result: expected list"));
    n = hv_log_read("screen", 0, e, 64);
    assert_int_equal(n, 3);
    assert_string_equal(e[2].text, "oled got 1: n1:sensor");
    hv_manager_free(m);
}

typedef struct {
    hv_manager_t *m;
    volatile int stop;
} runner_t;

static void *run_thread(void *arg)
{
    runner_t *r = arg;
    hv_manager_run(r->m, &r->stop, -1, NULL, NULL);
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_dropped_in_plugin_polled(void **state)
{
    (void)state;
    char *dir = plugin_dir("drop"), file[300], err[512];
    make_config(dir, 5000);
    cfg.interval_s = 1;
    hv_manager_t *m;
    assert_int_equal(hv_manager_new(eng, board, &cfg, &m, err, sizeof err), HV_OK);
    runner_t r = {m, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, run_thread, &r), 0);
    snprintf(file, sizeof file, "%s/dropped.wasm", dir);
    double t0 = now_s();
    counter("dropped", 1, 1, file);
    /* Wait for the condition (a reading from it), giving up after 10 s. */
    double seen = -1;
    while (now_s() - t0 < 10 && (seen = field(m, "n1:dropped", "count")) < 1)
        usleep(20000);
    double took = now_s() - t0;
    r.stop = 1;
    pthread_join(th, NULL);
    assert_true(seen >= 1);
    printf("dropped-in plugin polled after %.2f s\n", took);
    assert_true(took < 2.0);
    hv_manager_free(m);
}

static int setup(void **state)
{
    (void)state;
    char err[1024];
    hv_engine_opts_t o = {HV_RUNTIME_DIR, NULL, NULL, 0};
    if (mkdtemp(tmp) == NULL || hv_engine_open(&o, &eng, err, sizeof err) != HV_OK) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    hv_log_configure(HV_LOG_WARN, 0);
    board = hv_hal_sim_new(11);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    hv_hal_sim_free(board);
    hv_engine_close(eng);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hot_reload_keeps_state),
        cmocka_unit_test(test_trapping_plugin_restarted_others_continue),
        cmocka_unit_test(test_led_strip_written_once_per_cycle),
        cmocka_unit_test(test_dropped_in_plugin_polled),
        cmocka_unit_test(test_bad_data_and_ui_broadcast),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

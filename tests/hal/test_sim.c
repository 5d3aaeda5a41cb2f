/*
 * The simulated board with a real plugin: a scenario drives the light
 * level over time, each injected fault (NACK, bus timeout, stuck value,
 * unplug and re-plug, DHT22 failure) reaches the plugin as an `err`, a
 * recorded run replays to identical plugin output, and bad scenarios are
 * rejected with file:line:col.
 */
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

static hv_engine_t *eng;
static char tmp[] = "/tmp/hv-sim-XXXXXX";
static char plugin[300];

static const char light_src[] =
    "import json\n"
    "from harvester.imports import clock, gpio_provider, i2c\n"
    "from harvester.imports.types import Reading\n"
    "from harvester.types import Err\n"
    "class SensorLogic:\n"
    "    def poll(self) -> list[Reading]:\n"
    "        out = {}\n"
    "        try:\n"
    "            i2c.transfer_bytes(0x23, b'\\x01', 0)\n"
    "            i2c.transfer_bytes(0x23, b'\\x20', 0)\n"
    "            clock.sleep_ms(180)\n"
    "            raw = i2c.transfer_bytes(0x23, b'', 2)\n"
    "            out['lux'] = round(int.from_bytes(raw, 'big') / 1.2)\n"
    "        except Err as e:\n"
    "            out['i2c_err'] = e.value\n"
    "        try:\n"
    "            t, h = gpio_provider.read_dht22(4)\n"
    "            out['t'] = round(t, 1)\n"
    "        except Err as e:\n"
    "            out['dht_err'] = e.value\n"
    "        return [Reading(sensor='light', fields=[], extra=json.dumps(out, sort_keys=True))]\n";

static const char scenario[] = "[environment]\n"
                               "temperature_c = 21.0\n"
                               "lux = 100\n"
                               "[[ramp]]\n"
                               "field = \"lux\"\nfrom_s = 10\nto_s = 20\nto = 1000\n"
                               "[[ramp]]\n"
                               "field = \"lux\"\nfrom_s = 70\nto_s = 80\nto = 50\n"
                               "[[fault]]\n"
                               "kind = \"nack\"\naddress = 0x23\nfrom_s = 30\nto_s = 40\n"
                               "[[fault]]\n"
                               "kind = \"timeout\"\naddress = 0x23\nfrom_s = 50\nto_s = 60\n"
                               "[[fault]]\n"
                               "kind = \"stuck\"\naddress = 0x23\nfrom_s = 70\nto_s = 80\n"
                               "[[fault]]\n"
                               "kind = \"unplug\"\naddress = 0x23\nfrom_s = 90\nto_s = 100\n"
                               "[[fault]]\n"
                               "kind = \"nack\"\ndevice = \"dht22\"\nfrom_s = 110\nto_s = 120\n";

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Polls once and returns the plugin's extra JSON (malloc'd). */
static char *poll_once(hv_plugin_t *p)
{
    char *out = NULL, err[4096];
    if (hv_plugin_call_json(p, "sensor-logic.poll", NULL, &out, err, sizeof err) != HV_OK)
        fail_msg("poll: %s", err);
    return out;
}

static hv_plugin_t *load(hv_hal_t *hal)
{
    hv_plugin_opts_t o = {.eng = eng, .hal = hal, .deadline_ms = 5000};
    hv_plugin_t *p = NULL;
    char err[4096];
    if (hv_plugin_load(plugin, &o, &p, err, sizeof err) != HV_OK)
        fail_msg("load: %s", err);
    return p;
}

static void expect(hv_plugin_t *p, hv_hal_t *hal, double advance, const char *needle)
{
    hv_hal_sim_advance(hal, advance);
    char *out = poll_once(p);
    if (strstr(out, needle) == NULL)
        fail_msg("after +%.0f s: expected %s in %s", advance, needle, out);
    free(out);
}

static void test_scenario_and_faults(void **state)
{
    (void)state;
    char path[300], err[1024];
    snprintf(path, sizeof path, "%s/scenario.toml", tmp);
    write_file(path, scenario);
    hv_hal_sim_opts_t o = {11, path, NULL, NULL};
    hv_hal_t *hal = hv_hal_sim_open(&o, err, sizeof err);
    if (hal == NULL)
        fail_msg("%s", err);
    hv_plugin_t *p = load(hal);
    /* Each poll advances the scenario to a point of interest. */
    expect(p, hal, 0, "\\\"lux\\\": 100");
    expect(p, hal, 25, "\\\"lux\\\": 1000"); /* t = 25: the ramp is done */
    expect(p, hal, 10, "\\\"i2c_err\\\": \\\"i2c: no device at 0x23 (no ACK)\\\""); /* 35 */
    expect(p, hal, 10, "\\\"lux\\\": 1000");                                   /* 45 */
    expect(p, hal, 10, "\\\"i2c_err\\\": \\\"i2c: bus timeout\\\"");            /* 55 */
    expect(p, hal, 20, "\\\"lux\\\": 1000"); /* 75: truth falls towards 50, the sensor is stuck */
    expect(p, hal, 10, "\\\"lux\\\": 50");   /* 85: unstuck */
    expect(p, hal, 10, "\\\"i2c_err\\\": \\\"i2c: no device at 0x23 (no ACK)\\\""); /* 95: unplugged */
    expect(p, hal, 10, "\\\"lux\\\": 50");   /* 105: plugged back in, re-initialised */
    expect(p, hal, 10, "\\\"dht_err\\\": \\\"dht22: no response on pin 4\\\""); /* 115 */
    expect(p, hal, 10, "\\\"t\\\": 21.0");
    hv_plugin_free(p);
    hv_hal_sim_free(hal);
}

static void test_record_and_replay(void **state)
{
    (void)state;
    char rec[300], err[1024];
    snprintf(rec, sizeof rec, "%s/run.jsonl", tmp);
    char *outs[4];
    hv_hal_sim_opts_t o = {11, NULL, rec, NULL};
    hv_hal_t *hal = hv_hal_sim_open(&o, err, sizeof err);
    assert_non_null(hal);
    hv_plugin_t *p = load(hal);
    for (int i = 0; i < 4; i++)
        outs[i] = poll_once(p);
    hv_plugin_free(p);
    hv_hal_sim_free(hal);

    /* Replay: no chips answer, the recording does; the output is the same. */
    hv_hal_sim_opts_t r = {11, NULL, NULL, rec};
    hal = hv_hal_sim_open(&r, err, sizeof err);
    if (hal == NULL)
        fail_msg("%s", err);
    p = load(hal);
    for (int i = 0; i < 4; i++) {
        char *again = poll_once(p);
        assert_string_equal(again, outs[i]);
        free(again);
        free(outs[i]);
    }
    /* Past the end of the recording: an err, not a crash. */
    char *past = poll_once(p);
    assert_non_null(strstr(past, "replay: the recording has no transaction"));
    free(past);
    hv_plugin_free(p);
    hv_hal_sim_free(hal);
}

static void bad_scenario(const char *text, const char *expect_msg)
{
    char path[300], err[1024];
    snprintf(path, sizeof path, "%s/bad.toml", tmp);
    write_file(path, text);
    hv_hal_sim_opts_t o = {11, path, NULL, NULL};
    hv_hal_t *hal = hv_hal_sim_open(&o, err, sizeof err);
    if (hal != NULL)
        fail_msg("accepted: %s", text);
    if (strstr(err, expect_msg) == NULL)
        fail_msg("expected [%s] in [%s]", expect_msg, err);
}

static void test_bad_scenarios(void **state)
{
    (void)state;
    bad_scenario("[environment]\nlux = \"bright\"\n", "bad.toml:2:7: lux: expected a number");
    bad_scenario("[environment]\nnoise = 3\n", "bad.toml:2:9: unknown environment field 'noise'");
    bad_scenario("[[fault]]\nkind = \"melt\"\naddress = 0x23\nfrom_s = 1\nto_s = 2\n",
                 "bad.toml:2:8: kind: expected \"nack\"");
    bad_scenario("[[fault]]\nkind = \"nack\"\naddress = 0x99\nfrom_s = 1\nto_s = 2\n",
                 "bad.toml:3:11: address: expected an I2C address 0x03..0x77");
    bad_scenario("[[ramp]]\nfield = \"lux\"\nfrom_s = 5\nto_s = 1\nto = 3\n",
                 "bad.toml:4:8: to_s is before from_s");
    bad_scenario("[[device]]\nkind = \"bme680\"\naddress = 0x77\ncalibration = [1, 300]\n",
                 "bad.toml:4:19: calibration: expected a byte 0..255");
    bad_scenario("[[device]]\nkind = \"bme680\"\naddress = 0x77\n[[device]]\nkind = \"aht20\"\n"
                 "address = 0x77\n",
                 "bad.toml:6:11: two devices at 0x77");
    bad_scenario("[weather]\nrain = 1\n", "unknown key 'weather'");
    char err[256];
    hv_hal_sim_opts_t o = {11, NULL, NULL, "/nonexistent/rec.jsonl"};
    assert_null(hv_hal_sim_open(&o, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/rec.jsonl: cannot open the recording"));
}

static void test_bus_limits(void **state)
{
    (void)state;
    hv_hal_t *hal = hv_hal_sim_new(11);
    assert_non_null(hal);
    uint8_t buf[16];
    char err[256];
    assert_int_equal(hal->ops->i2c_transfer(hal, 0x02, buf, 1, buf, 1, err, sizeof err),
                     HV_EINVAL);
    assert_string_equal(err, "i2c: address 0x02 outside 0x03..0x77");
    assert_int_equal(hal->ops->i2c_transfer(hal, 0x78, buf, 1, buf, 1, err, sizeof err),
                     HV_EINVAL);
    assert_int_equal(hal->ops->i2c_transfer(hal, 0x77, buf, 1, buf, 8193, err, sizeof err),
                     HV_ETOOBIG);
    assert_int_equal(hal->ops->gpio_read(hal, 99, (int *)buf, err, sizeof err), HV_EINVAL);
    /* The default BME680 answers its chip id. */
    uint8_t reg = 0xD0;
    assert_int_equal(hal->ops->i2c_transfer(hal, 0x77, &reg, 1, buf, 1, err, sizeof err), HV_OK);
    assert_int_equal(buf[0], 0x61);
    hv_hal_sim_free(hal);
}

static int setup(void **state)
{
    (void)state;
    char err[8192], dir[300], out[400], wit[512];
    hv_engine_opts_t o = {HV_RUNTIME_DIR, NULL, NULL, 0};
    if (mkdtemp(tmp) == NULL || hv_engine_open(&o, &eng, err, sizeof err) != HV_OK)
        return -1;
    hv_log_configure(HV_LOG_WARN, 0);
    snprintf(dir, sizeof dir, "%s/light", tmp);
    mkdir(dir, 0755);
    snprintf(out, sizeof out, "%s/plugin.toml", dir);
    write_file(out, "name = \"light\"\nworld = \"sensor-plugin\"\n");
    snprintf(out, sizeof out, "%s/app.py", dir);
    write_file(out, light_src);
    snprintf(plugin, sizeof plugin, "%s/light.wasm", tmp);
    snprintf(wit, sizeof wit, "%s/wit/plugin.wit", HV_SOURCE_DIR);
    if (hv_plugin_build(eng, dir, plugin, wit, out, sizeof out, err, sizeof err) != HV_OK) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    hv_engine_close(eng);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenario_and_faults),
        cmocka_unit_test(test_record_and_replay),
        cmocka_unit_test(test_bad_scenarios),
        cmocka_unit_test(test_bus_limits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * Configuration: the shipped files load with the values they say, the
 * seeds' spellings are accepted, and every kind of mistake is reported as
 * file:line:col with a message that says what is wrong.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hv_config.h"

static char dir[] = "/tmp/hv-config-XXXXXX";

static const char *write_file(const char *text)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/t.toml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void bad(const char *text, const char *expect)
{
    hv_config_t cfg;
    char err[4096];
    int rc = hv_config_load(write_file(text), &cfg, err, sizeof err);
    if (rc == HV_OK)
        fail_msg("accepted: %s", text);
    if (strstr(err, expect) == NULL)
        fail_msg("for\n%s\nexpected [%s] in [%s]", text, expect, err);
}

static void test_bad_configs(void **state)
{
    (void)state;
    bad("[foo]\nx = 1\n", "t.toml:1:2: unknown section 'foo'");
    bad("[cluster]\nrole = \"spoke\"\nhub_url = \"hub:3000\"\n",
        "t.toml:3:11: hub_url: \"hub:3000\" is not an http:// or https:// URL");
    bad("[cluster]\nspoke_buzzer_url = \"ftp://x\"\n",
        "t.toml:2:20: spoke_buzzer_url: \"ftp://x\" is not an http:// or https:// URL");
    bad("[cluster]\nqueue_max_mb = 0\n", "t.toml:2:16: queue_max_mb: 0 is out of range (1..4096)");
    bad("[cluster]\nping_interval_seconds = 0\n",
        "t.toml:2:25: ping_interval_seconds: 0 is out of range (1..3600)");
    bad("[polling]\ninterval = 5\n", "t.toml:2:1: unknown key 'interval' in [polling] (known: "
                                     "interval_seconds)");
    bad("[polling]\ninterval_seconds = \"5\"\n",
        "t.toml:2:20: interval_seconds: expected an integer, found a string");
    bad("[polling]\ninterval_seconds = 0\n",
        "t.toml:2:20: interval_seconds: 0 is out of range (1..3600)");
    bad("[sensors.dht22]\ngpio_pin = 40\n", "t.toml:2:12: gpio_pin: 40 is out of range (0..27)");
    bad("[sensors.bme680]\ni2c_address = \"0x80\"\n",
        "t.toml:2:15: i2c_address: 0x80 is out of range (0x3..0x77)");
    bad("[sensors.bme680]\ni2c_address = \"zz\"\n",
        "t.toml:2:15: i2c_address: \"zz\" is not an address");
    bad("[sensors.dht11]\ngpio_pin = 4\n", "t.toml:1:10: unknown sensor 'dht11'");
    bad("[leds]\nbrightness = 1.5\n", "t.toml:2:14: brightness: 1.5 is out of range (0..1)");
    bad("[logging]\nlevel = \"verbose\"\n", "t.toml:2:9: level: expected one of \"trace\"");
    bad("[logging]\nshow_sensor_data = \"yes\"\n",
        "t.toml:2:20: show_sensor_data: expected true or false, found a string");
    bad("[cluster]\nrole = \"leader\"\n",
        "t.toml:2:8: role: \"leader\" is not one of \"standalone\", \"hub\", \"spoke\"");
    bad("[cluster]\nrole = \"spoke\"\n", "t.toml:2:8: role: a spoke needs cluster.hub_url");
    bad("[http]\nport = 70000\n", "t.toml:2:8: port: 70000 is out of range (1..65535)");
    bad("[hardware]\nbackend = \"gpio\"\n", "t.toml:2:11: backend: \"gpio\" is not one of");
    bad("[plugins]\ndht22.enabled = 1\n",
        "t.toml:2:17: enabled: expected true or false, found an integer");
    bad("[plugins.x]\nled = 99\n", "t.toml:2:7: led: expected an LED index (0..63)");
    bad("[plugins.x]\nmemory_mb = 1\n", "t.toml:2:13: memory_mb: expected an integer in 16..4096");
    bad("[plugins]\nfoo = 1\n", "t.toml:2:1: unknown key 'foo' in [plugins]");
    bad("polling = 5\n", "t.toml:1:1: polling: expected a table, found an integer");
    bad("[polling]\ninterval_seconds = = 5\n", "t.toml:2:");
    bad("[http]\n\"port\\u0000x\" = 3000\n", "t.toml:2:1: key contains U+0000");
    /* Every problem is reported, not just the first. */
    bad("[http]\nport = 0\n[leds]\ncount = 100\n",
        "t.toml:2:8: port: 0 is out of range (1..65535)\n");
    bad("[http]\nport = 0\n[leds]\ncount = 100\n", "t.toml:4:9: count: 100 is out of range");
    hv_config_t cfg;
    char err[512];
    assert_int_equal(hv_config_load("/nonexistent/x.toml", &cfg, err, sizeof err), HV_ENOENT);
    assert_non_null(strstr(err, "/nonexistent/x.toml"));
}

static void load_ok(const char *path, hv_config_t *cfg)
{
    char err[4096];
    if (hv_config_load(path, cfg, err, sizeof err) != HV_OK)
        fail_msg("%s", err);
}

static void test_shipped_configs(void **state)
{
    (void)state;
    hv_config_t cfg;
    load_ok(HV_SOURCE_DIR "/config/host.toml", &cfg);
    assert_int_equal(cfg.interval_s, 2);
    assert_int_equal(cfg.bme680_address, 0x77);
    assert_int_equal(cfg.led_count, 11);
    assert_int_equal(cfg.http_port, 3000);
    assert_true(cfg.auto_load);
    assert_string_equal(cfg.role, "standalone");
    assert_true(hv_config_plugin_enabled(&cfg, "dht22"));
    assert_true(hv_config_plugin_enabled(&cfg, "pi_monitor")); /* '-' and '_' alike */
    const hv_plugin_conf_t *pm = hv_config_plugin(&cfg, "pi-monitor");
    assert_non_null(pm);
    assert_int_equal(pm->led, 3);
    assert_string_equal(pm->config_json, "{\"enabled\":true,\"led\":3,\"role\":\"pi4\"}");
    hv_config_free(&cfg);

    load_ok(HV_SOURCE_DIR "/config/hub.toml", &cfg);
    assert_string_equal(cfg.role, "hub");
    assert_false(hv_config_plugin_enabled(&cfg, "dht22"));
    assert_true(hv_config_plugin_enabled(&cfg, "dashboard"));
    assert_false(hv_config_plugin_enabled(&cfg, "unlisted")); /* auto_load off */
    hv_config_free(&cfg);

    load_ok(HV_SOURCE_DIR "/config/spoke.toml", &cfg);
    assert_string_equal(cfg.role, "spoke");
    assert_string_equal(cfg.hub_url, "http://127.0.0.1:3000");
    assert_int_equal(cfg.queue_max_mb, 16); /* defaults */
    assert_int_equal(cfg.ping_interval_s, 5);
    assert_string_equal(cfg.advertise_url, "");
    hv_config_free(&cfg);

    load_ok(HV_SOURCE_DIR "/config/pizero.toml", &cfg);
    assert_int_equal(cfg.default_memory_mb, 32);
    assert_int_equal(cfg.interval_s, 5);
    assert_int_equal(cfg.queue_max_mb, 4);
    assert_string_equal(cfg.role, "spoke");
    hv_config_free(&cfg);
}

static void test_seed_spellings_and_defaults(void **state)
{
    (void)state;
    hv_config_t cfg;
    /* The seeds wrote the address as a string. */
    load_ok(write_file("[sensors.bme680]\ni2c_address = \"0x76\"\n[polling]\n"
                       "interval_seconds = 5\n"),
            &cfg);
    assert_int_equal(cfg.bme680_address, 0x76);
    assert_int_equal(cfg.interval_s, 5);
    assert_int_equal(cfg.http_port, 3000); /* default */
    assert_int_equal(cfg.dht22_pin, 4);
    assert_string_equal(cfg.plugins_dir, "plugins");
    hv_config_free(&cfg);
    char out[256];
    assert_int_equal(hv_config_find("/x/y.toml", out, sizeof out), 1);
    assert_string_equal(out, "/x/y.toml");
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/t.toml", dir);
    unlink(path);
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_configs),
        cmocka_unit_test(test_shipped_configs),
        cmocka_unit_test(test_seed_spellings_and_defaults),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

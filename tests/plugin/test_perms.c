/*
 * Permissions end to end: a real sandboxed plugin (fixtures/prober) under
 * the guard. Allowed vs denied for every kind of resource, deny by
 * default, the host's name for a plugin (never the file's claim), a
 * hostile I2C scan that sees only its grants with a rate-limited audit
 * log, reloads that apply without restarting the plugin (and invalid
 * files that change nothing), and limits changed live.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hv_perms.h"
#include "hv_plugin.h"

#ifndef HV_TEST_DIR
#define HV_TEST_DIR "tests/plugin"
#endif

static hv_engine_t *eng;
static hv_hal_t *hal;
static char tmpdir[] = "/tmp/hv-perms-XXXXXX";
static char prober[600], sleeper[600], perms_path[600];
static char audit[1 << 16];
static int audit_lines;
static int64_t fake_now = 1000;

static void on_audit(void *ud, const char *plugin, const char *line)
{
    (void)ud, (void)plugin;
    size_t n = strlen(audit);
    snprintf(audit + n, sizeof audit - n, "%s\n", line);
    audit_lines++;
}

static int64_t fake_clock(void *ud)
{
    (void)ud;
    return fake_now;
}

static void quiet_log(void *ud, const char *plugin, int level, const char *msg)
{
    (void)ud, (void)plugin, (void)level, (void)msg;
}

static void write_perms(const char *text)
{
    /* Write-then-rename, as editors do: a new inode each time. */
    char tmp[700];
    snprintf(tmp, sizeof tmp, "%s.new", perms_path);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, perms_path), 0);
}

static hv_perms_t *open_perms(const char *text)
{
    write_perms(text);
    hv_perms_t *g = NULL;
    char err[2048];
    if (hv_perms_open(perms_path, &g, err, sizeof err) != HV_OK)
        fail_msg("%s", err);
    hv_perms_set_audit(g, on_audit, NULL);
    hv_perms_set_clock(g, fake_clock, NULL);
    audit[0] = '\0';
    audit_lines = 0;
    return g;
}

static void build(const char *name, char *out, size_t len)
{
    char dir[512], built[600], wit[512], err[8192];
    snprintf(dir, sizeof dir, "%s/fixtures/%s", HV_TEST_DIR, name);
    snprintf(out, len, "%s/%s.wasm", tmpdir, name);
    snprintf(wit, sizeof wit, "%s/wit/plugin.wit", HV_SOURCE_DIR);
    if (hv_plugin_build(eng, dir, out, wit, built, sizeof built, err, sizeof err) != HV_OK)
        fail_msg("build %s: %s", name, err);
}

static hv_plugin_t *load(const char *path, hv_perms_t *g, const char *who, const char *config)
{
    hv_plugin_opts_t o = {0};
    o.eng = eng;
    o.hal = hal;
    o.log = quiet_log;
    o.config_json = config;
    o.deadline_ms = 20000;
    o.perms = g;
    o.perm_name = who;
    hv_plugin_t *p = NULL;
    char err[8192];
    if (hv_plugin_load(path, &o, &p, err, sizeof err) != HV_OK)
        fail_msg("load %s: %s", path, err);
    return p;
}

/* One poll of the prober: its report (malloc'd JSON text, unescaped). */
static char *probe(hv_plugin_t *p)
{
    char *out = NULL, err[8192];
    if (hv_plugin_call_json(p, "sensor-logic.poll", NULL, &out, err, sizeof err) != HV_OK)
        fail_msg("poll: %s", err);
    /* The report is a JSON string inside the reading: drop the escapes. */
    char *w = out;
    for (const char *r = out; *r; r++)
        if (!(r[0] == '\\' && r[1] == '"'))
            *w++ = *r;
    *w = '\0';
    return out;
}

static void expect(const char *report, const char *key, const char *outcome)
{
    char needle[512];
    snprintf(needle, sizeof needle, "\"%s\": \"%s\"", key, outcome);
    if (strstr(report, needle) == NULL)
        fail_msg("expected %s in %s", needle, report);
}

#define DENIED(what) "err: permission denied: " what " not allowed for plugin prober"
#define RAISED(what) "PermissionError: permission denied: " what " not allowed for plugin prober"

static const char everything[] = "[plugins.prober]\n"
                                 "allow_i2c = [0x77]\n"
                                 "allow_gpio = [4, 17]\n"
                                 "allow_spi = [\"spidev0.1\"]\n"
                                 "allow_uart = [\"serial0\"]\n"
                                 "allow_leds = [2]\n"
                                 "allow_buzzer = true\n";

/* Each capability with its resource granted works; the one beside it
 * (another address, pin, LED) is refused, as an err or a PermissionError. */
static void test_allowed_and_denied_per_capability(void **state)
{
    (void)state;
    hv_perms_t *g = open_perms(everything);
    hv_plugin_t *p = load(prober, g, "prober", NULL);
    unsigned beeps = hv_hal_sim_beeps(hal);
    hv_hal_sim_led(hal, 5);
    char *r = probe(p);
    expect(r, "i2c 0x77", "ok");
    expect(r, "i2c 0x3c", DENIED("i2c 0x3c"));
    expect(r, "i2c hex 0x3c", DENIED("i2c 0x3c"));
    expect(r, "gpio 17", "ok");
    expect(r, "gpio write 17", "ok");
    expect(r, "gpio read 17", "ok");
    expect(r, "gpio 5", DENIED("gpio 5"));
    expect(r, "dht22 4", "ok");
    expect(r, "dht22 22", DENIED("gpio 22"));
    expect(r, "spi", "ok");
    expect(r, "uart write", "ok");
    expect(r, "uart read", "ok");
    expect(r, "uart baud", "ok");
    expect(r, "led 2", "ok");
    expect(r, "led 5", RAISED("led 5"));
    expect(r, "all leds", RAISED("led 0"));
    expect(r, "sync", "ok");
    expect(r, "beep", "ok");
    expect(r, "buzz", "ok");
    expect(r, "uptime", "ok");
    free(r);
    /* What reached the board: LED 2 green, LED 5 and the set-all untouched. */
    assert_int_equal(hv_hal_sim_led(hal, 2), 0x00FF00);
    assert_int_equal(hv_hal_sim_led(hal, 5), 0);
    assert_int_equal(hv_hal_sim_led(hal, 1), 0);
    assert_int_equal(hv_hal_sim_beeps(hal) - beeps, 2);
    assert_int_equal(hv_perms_denials(g, "prober"), 6);

    /* Now the other way round: the other devices granted, these refused. */
    const char *other = "[plugins.prober]\n"
                        "allow_i2c = [0x3C]\n"
                        "allow_gpio = [5, 22]\n"
                        "allow_spi = [\"spidev0.0\"]\n"
                        "allow_uart = [\"ttyAMA0\"]\n"
                        "allow_leds = [5]\n"
                        "allow_buzzer = false\n";
    char err[2048];
    write_perms(other);
    assert_int_equal(hv_perms_reload(g, NULL, err, sizeof err), HV_OK);
    beeps = hv_hal_sim_beeps(hal);
    r = probe(p);
    expect(r, "i2c 0x77", DENIED("i2c 0x77"));
    expect(r, "i2c 0x3c", "ok");
    expect(r, "gpio 17", DENIED("gpio 17"));
    expect(r, "gpio 5", "ok");
    expect(r, "dht22 4", DENIED("gpio 4"));
    expect(r, "spi", DENIED("spi spidev0.1"));
    expect(r, "uart write", DENIED("uart serial0"));
    expect(r, "uart read", DENIED("uart serial0"));
    expect(r, "uart baud", DENIED("uart serial0"));
    expect(r, "led 2", RAISED("led 2"));
    expect(r, "led 5", "ok");
    expect(r, "beep", RAISED("buzzer"));
    expect(r, "buzz", RAISED("buzzer"));
    free(r);
    assert_int_equal(hv_hal_sim_beeps(hal), beeps);
    assert_int_equal(hv_hal_sim_led(hal, 5), 0xFF0000);
    hv_plugin_free(p);
    hv_perms_free(g);
}

/* No entry, no hardware: even though sensor-plugin imports every
 * interface. Only what is not hardware (system-info, clock) still works. */
static void test_deny_by_default(void **state)
{
    (void)state;
    hv_perms_t *g = open_perms("[plugins.someone-else]\nallow_i2c = [0x77]\nallow_leds = [0, 1, 2, "
                               "3, 4, 5, 6, 7, 8, 9, 10]\nallow_buzzer = true\n");
    hv_plugin_t *p = load(prober, g, "prober", NULL);
    char *r = probe(p);
    expect(r, "i2c 0x77", DENIED("i2c 0x77"));
    expect(r, "gpio 17", DENIED("gpio 17"));
    expect(r, "dht22 4", DENIED("gpio 4"));
    expect(r, "spi", DENIED("spi spidev0.1"));
    expect(r, "uart write", DENIED("uart serial0"));
    expect(r, "led 2", RAISED("led 2"));
    expect(r, "all leds", RAISED("led 0"));
    expect(r, "beep", RAISED("buzzer"));
    expect(r, "uptime", "ok");
    free(r);
    char *j = hv_perms_describe_json(g, "prober");
    assert_non_null(strstr(j, "\"grants\":null"));
    assert_non_null(strstr(j, "\"denials\":18")); /* every gated call of the poll */
    free(j);
    hv_plugin_free(p);
    hv_perms_free(g);

    /* A guard whose file is missing denies everyone everything. */
    char missing[700], err[2048];
    snprintf(missing, sizeof missing, "%s/nothing.toml", tmpdir);
    g = NULL;
    assert_int_equal(hv_perms_open(missing, &g, err, sizeof err), HV_ENOENT);
    assert_non_null(strstr(err, "nothing.toml"));
    assert_non_null(g);
    assert_int_equal(hv_perms_check(g, "bme680", HV_RES_I2C, 0x77, NULL, err, sizeof err),
                     HV_EPERM);
    assert_string_equal(err, "permission denied: i2c 0x77 not allowed for plugin bme680");
    hv_perms_free(g);
}

/* Grants follow the host's name for a plugin (its file), not the name the
 * plugin file claims for itself: "prober" cannot be had by being called so. */
static void test_identity_is_the_hosts(void **state)
{
    (void)state;
    hv_perms_t *g = open_perms(everything);
    hv_plugin_t *p = load(prober, g, "intruder", NULL);
    char *r = probe(p);
    assert_non_null(strstr(r, "\"i2c 0x77\": \"err: permission denied: i2c 0x77 not allowed for "
                              "plugin intruder\""));
    free(r);
    assert_int_equal(hv_perms_denials(g, "prober"), 0);
    hv_plugin_free(p);
    hv_perms_free(g);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *s = hay; (s = strstr(s, needle)) != NULL; s += strlen(needle))
        n++;
    return n;
}

/* A plugin probing the whole bus finds only what it was granted; the
 * audit log says a burst of lines, then that it counts without logging,
 * then nothing more until the minute has passed. */
static void test_hostile_i2c_scan(void **state)
{
    (void)state;
    hv_perms_t *g = open_perms("[plugins.prober]\nallow_i2c = [0x76, 0x77]\n");
    hv_plugin_t *p = load(prober, g, "prober", "{\"scan\": true}");
    char *r = probe(p);
    /* The board has chips at 0x23, 0x38, 0x3C, 0x76 and 0x77. */
    assert_non_null(strstr(r, "\"scan\": [118, 119]"));
    free(r);
    /* 117 addresses, 2 allowed: 115 refused, plus the poll's own 17
     * refused probes (every gated call but the one to 0x77). */
    uint64_t first = hv_perms_denials(g, "prober");
    assert_int_equal(first, 115 + 17);
    /* The poll's probes come first: 11 resources, so the burst is spent
     * before the scan and its 115 refusals log one line between them. */
    assert_int_equal(audit_lines, HV_PERMS_AUDIT_BURST + 1);
    assert_int_equal(count(audit, "denied: plugin prober: "), HV_PERMS_AUDIT_BURST + 1);
    assert_non_null(strstr(audit, "denied: plugin prober: i2c 0x3c (denials so far: 1)\n"));
    assert_non_null(strstr(audit, "denied: plugin prober: more than 10 resources denied this "
                                  "minute; counting further denials without logging them\n"));
    assert_null(strstr(audit, "i2c 0x03"));

    /* The same scan again within the minute: counted, not logged. */
    fake_now += 30000;
    r = probe(p);
    free(r);
    assert_int_equal(hv_perms_denials(g, "prober"), 2 * first);
    assert_int_equal(audit_lines, HV_PERMS_AUDIT_BURST + 1);

    /* A minute later the log speaks again, once per resource, same cap. */
    fake_now += 31000;
    audit[0] = '\0';
    audit_lines = 0;
    r = probe(p);
    free(r);
    assert_int_equal(hv_perms_denials(g, "prober"), 3 * first);
    assert_int_equal(audit_lines, HV_PERMS_AUDIT_BURST + 1);
    assert_int_equal(count(audit, "i2c 0x3c "), 1);
    hv_plugin_free(p);
    hv_perms_free(g);
}

/* Per (plugin, resource): one line a minute, however often it is hit. */
static void test_audit_once_per_resource_per_minute(void **state)
{
    (void)state;
    hv_perms_t *g = open_perms("[plugins.a]\n");
    char err[256];
    for (int i = 0; i < 50; i++) {
        assert_int_equal(hv_perms_check(g, "a", HV_RES_I2C, 0x50, NULL, err, sizeof err), HV_EPERM);
        assert_int_equal(hv_perms_check(g, "b", HV_RES_LED, 4, NULL, err, sizeof err), HV_EPERM);
    }
    assert_int_equal(audit_lines, 2);
    assert_non_null(strstr(audit, "denied: plugin a: i2c 0x50 (denials so far: 1)\n"));
    assert_non_null(strstr(audit, "denied: plugin b: led 4 (denials so far: 1)\n"));
    fake_now += 59999;
    assert_int_equal(hv_perms_check(g, "a", HV_RES_I2C, 0x50, NULL, err, sizeof err), HV_EPERM);
    assert_int_equal(audit_lines, 2);
    fake_now += 1;
    assert_int_equal(hv_perms_check(g, "a", HV_RES_I2C, 0x50, NULL, err, sizeof err), HV_EPERM);
    assert_int_equal(audit_lines, 3);
    assert_non_null(strstr(audit, "denied: plugin a: i2c 0x50 (denials so far: 52)\n"));
    assert_int_equal(hv_perms_denials(g, "a"), 52);
    assert_int_equal(hv_perms_denials(g, "b"), 50);
    hv_perms_free(g);
}

/* A new file applies to the plugin's next call, the same instance; a bad
 * file is refused with its position and the grants in force stay. */
static void test_reload_applies_without_restart(void **state)
{
    (void)state;
    hv_perms_t *g = open_perms("[plugins.prober]\nallow_i2c = [0x77]\n");
    hv_plugin_t *p = load(prober, g, "prober", NULL);
    char *r = probe(p), err[4096];
    expect(r, "i2c 0x77", "ok");
    free(r);
    assert_false(hv_perms_file_changed(g));
    assert_int_equal(hv_perms_generation(g), 1);

    write_perms("[plugins.prober]\nallow_i2c = [0x3C]\n");
    assert_true(hv_perms_file_changed(g));
    assert_int_equal(hv_perms_reload(g, NULL, err, sizeof err), HV_OK);
    assert_false(hv_perms_file_changed(g));
    assert_int_equal(hv_perms_generation(g), 2);
    r = probe(p);
    expect(r, "i2c 0x77", DENIED("i2c 0x77"));
    expect(r, "i2c 0x3c", "ok");
    free(r);

    write_perms("[plugins.prober]\nallow_i2c = [0x3C]\nallow_led = [2]\n");
    assert_int_equal(hv_perms_reload(g, NULL, err, sizeof err), HV_EINVAL);
    char want[800];
    snprintf(want, sizeof want, "%s:3:1: unknown key 'allow_led' in [plugins.prober]",
             perms_path);
    if (strstr(err, want) == NULL)
        fail_msg("expected [%s] in [%s]", want, err);
    assert_int_equal(hv_perms_generation(g), 2);
    r = probe(p);
    expect(r, "i2c 0x77", DENIED("i2c 0x77"));
    expect(r, "i2c 0x3c", "ok");
    free(r);
    /* The plugin was never restarted: its denials add up on one guard. */
    assert_int_equal(hv_perms_denials(g, "prober"), 17 + 16 + 16);
    hv_plugin_free(p);
    hv_perms_free(g);
}

/* Limits change on a running plugin: a lower deadline cuts the next call. */
static void test_limits_change_live(void **state)
{
    (void)state;
    hv_perms_t *g = open_perms("[plugins.sleeper]\ndeadline_ms = 200\nmax_memory_mb = 32\n");
    uint32_t mem = 99, deadline = 99;
    hv_perms_limits(g, "sleeper", &mem, &deadline);
    assert_int_equal(mem, 32);
    assert_int_equal(deadline, 200);
    mem = deadline = 7;
    hv_perms_limits(g, "nobody", &mem, &deadline);
    assert_int_equal(mem, 7); /* untouched: no entry */
    hv_plugin_t *p = load(sleeper, g, "sleeper", "{\"sleep_ms\": 400}");
    char *out = NULL, err[4096];
    assert_int_equal(hv_plugin_call_json(p, "sensor-logic.poll", NULL, &out, err, sizeof err),
                     HV_OK);
    free(out);
    out = NULL;
    hv_plugin_set_limits(p, mem, deadline);
    assert_int_equal(hv_plugin_call_json(p, "sensor-logic.poll", NULL, &out, err, sizeof err),
                     HV_ETRAP_DEADLINE);
    hv_plugin_free(p);
    hv_perms_free(g);
}

static int group_setup(void **state)
{
    (void)state;
    char err[1024];
    hv_engine_opts_t o = {HV_RUNTIME_DIR, NULL, NULL, 0};
    if (hv_engine_open(&o, &eng, err, sizeof err) != HV_OK) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    hal = hv_hal_sim_new(11);
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    snprintf(perms_path, sizeof perms_path, "%s/permissions.toml", tmpdir);
    build("prober", prober, sizeof prober);
    build("sleeper", sleeper, sizeof sleeper);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        return -1;
    hv_hal_sim_free(hal);
    hv_engine_close(eng);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allowed_and_denied_per_capability),
        cmocka_unit_test(test_deny_by_default),
        cmocka_unit_test(test_identity_is_the_hosts),
        cmocka_unit_test(test_hostile_i2c_scan),
        cmocka_unit_test(test_audit_once_per_resource_per_minute),
        cmocka_unit_test(test_reload_applies_without_restart),
        cmocka_unit_test(test_limits_change_live),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

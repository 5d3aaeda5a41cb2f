/*
 * Plugins end to end, against real Python in the sandbox: the canonical
 * ABI round trip for every value kind (host -> guest export -> host import
 * -> guest -> host), hostile raw calls, refusal of imports outside the
 * world, and both forms of i2c.transfer on the simulated board.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hv_plugin.h"

#ifndef HV_TEST_DIR
#define HV_TEST_DIR "tests/plugin"
#endif

static hv_engine_t *eng;
static hv_hal_t *hal;
static char tmpdir[] = "/tmp/hv-plugin-XXXXXX";
static char last_seen[1 << 21]; /* JSON of the last value the host echo saw */
static char log_text[1 << 16];

static void on_log(void *ud, const char *plugin, int level, const char *msg)
{
    (void)ud;
    size_t n = strlen(log_text);
    snprintf(log_text + n, sizeof log_text - n, "[%s %d] %s\n", plugin, level, msg);
}

/* echo-host#*: return the argument, remembering what was lifted. */
static int host_echo(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    (void)c;
    char *j = hv_value_to_json(&args[0]);
    snprintf(last_seen, sizeof last_seen, "%s", j ? j : "");
    free(j);
    *ret = args[0];
    return HV_OK;
}

/* echo-many: the sixteen u32s, then the length of the string. */
static int host_many(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    (void)c;
    static hv_value_t items[17];
    for (int i = 0; i < 16; i++)
        items[i] = (hv_value_t){.type = args[i].type, .u = args[i].u};
    items[16] = (hv_value_t){.type = args[0].type, .u = args[16].str.len};
    ret->list.items = items;
    ret->list.len = 17;
    return HV_OK;
}

static int host_fail(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    (void)c;
    static hv_value_t payload;
    payload = args[0];
    payload.type = ret->type->err;
    ret->var.tag = 1;
    ret->var.payload = &payload;
    return HV_OK;
}

static hv_cap_entry_t caps[40];

static void setup_caps(void)
{
    static const char *const names[] = {
        "bool", "s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64", "f32", "f64",
        "char", "string", "bytes", "items", "u32s", "tuple", "item", "shape", "color",
        "perms", "small-perms", "opt", "opt-opt", "res", "res-unit"};
    static char buf[40][64];
    size_t n = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(buf[i], sizeof buf[i], "echo-host#echo-%s", names[i]);
        caps[n++] = (hv_cap_entry_t){buf[i], host_echo, NULL};
    }
    caps[n++] = (hv_cap_entry_t){"echo-host#echo-many", host_many, NULL};
    caps[n++] = (hv_cap_entry_t){"echo-host#fail-with", host_fail, NULL};
    caps[n] = (hv_cap_entry_t){NULL, NULL, NULL};
}

static hv_plugin_t *load_fixture(const char *name)
{
    char dir[512], out[600], built[600], err[8192];
    snprintf(dir, sizeof dir, "%s/fixtures/%s", HV_TEST_DIR, name);
    snprintf(out, sizeof out, "%s/%s.wasm", tmpdir, name);
    char wit[512];
    snprintf(wit, sizeof wit, "%s/wit/plugin.wit", HV_SOURCE_DIR);
    int rc = hv_plugin_build(eng, dir, out, wit, built, sizeof built, err, sizeof err);
    if (rc != HV_OK)
        fail_msg("build %s: %s", name, err);
    hv_plugin_opts_t o = {0};
    o.eng = eng;
    o.hal = hal;
    o.log = on_log;
    o.caps = caps;
    o.deadline_ms = 20000;
    hv_plugin_t *p = NULL;
    rc = hv_plugin_load(out, &o, &p, err, sizeof err);
    if (rc != HV_OK)
        fail_msg("load %s: %s", name, err);
    return p;
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
    setup_caps();
    return mkdtemp(tmpdir) ? 0 : -1;
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

/* Calls echo-guest.<fn> with json; the result and what the host saw in
 * between must both be the canonical form of json. */
static void roundtrip(hv_plugin_t *p, const char *fn, const char *json, const char *expect)
{
    char name[128], err[4096];
    char *out = NULL;
    snprintf(name, sizeof name, "echo-guest.%s", fn);
    last_seen[0] = '\0';
    int rc = hv_plugin_call_json(p, name, json, &out, err, sizeof err);
    if (rc != HV_OK)
        fail_msg("%s(%.200s): %s", fn, json, err);
    const char *want = expect ? expect : json;
    if (strcmp(out, want) != 0)
        fail_msg("%s: result %.300s, expected %.300s", fn, out, want);
    if (strcmp(last_seen, want) != 0)
        fail_msg("%s: host saw %.300s, expected %.300s", fn, last_seen, want);
    free(out);
}

static void test_roundtrip_every_kind(void **state)
{
    (void)state;
    hv_plugin_t *p = load_fixture("roundtrip");
    roundtrip(p, "echo-bool", "true", NULL);
    roundtrip(p, "echo-bool", "false", NULL);
    roundtrip(p, "echo-s8", "-128", NULL);
    roundtrip(p, "echo-u8", "255", NULL);
    roundtrip(p, "echo-s16", "-32768", NULL);
    roundtrip(p, "echo-u16", "65535", NULL);
    roundtrip(p, "echo-s32", "-2147483648", NULL);
    roundtrip(p, "echo-u32", "4294967295", NULL);
    roundtrip(p, "echo-s64", "-9007199254740991", NULL);
    roundtrip(p, "echo-u64", "\"18446744073709551615\"", NULL);
    roundtrip(p, "echo-f32", "0.1", NULL);
    roundtrip(p, "echo-f64", "-2.5e-300", NULL);
    roundtrip(p, "echo-char", "\"\xF0\x9F\x98\x80\"", NULL);
    roundtrip(p, "echo-string", "\"h\xC3\xA9llo, w\xC3\xB6rld\"", NULL);
    roundtrip(p, "echo-string", "\"\"", NULL);
    roundtrip(p, "echo-bytes", "[]", NULL);
    roundtrip(p, "echo-bytes", "[0,1,255]", NULL);
    roundtrip(p, "echo-u32s", "[1,2,4294967295]", NULL);
    roundtrip(p, "echo-items", "[]", NULL);
    roundtrip(p, "echo-items",
              "[{\"name\":\"a\",\"data\":[1,2],\"score\":1.5},"
              "{\"name\":\"\",\"data\":[],\"score\":null}]",
              NULL);
    roundtrip(p, "echo-tuple", "[7,\"x\",3.25]", NULL);
    roundtrip(p, "echo-item", "{\"name\":\"n\",\"data\":[9],\"score\":null}", NULL);
    roundtrip(p, "echo-shape", "{\"tag\":\"empty\"}", NULL);
    roundtrip(p, "echo-shape", "{\"tag\":\"small\",\"val\":200}", NULL);
    roundtrip(p, "echo-shape", "{\"tag\":\"pair\",\"val\":[4000000000,-1.5]}", NULL);
    roundtrip(p, "echo-shape",
              "{\"tag\":\"big\",\"val\":{\"name\":\"b\",\"data\":[1],\"score\":2}}", NULL);
    roundtrip(p, "echo-shape", "{\"tag\":\"text\",\"val\":\"t\"}", NULL);
    roundtrip(p, "echo-color", "\"blue\"", NULL);
    roundtrip(p, "echo-perms", "[]", NULL);
    roundtrip(p, "echo-perms", "[\"p0\",\"p31\",\"p32\",\"p39\"]", NULL);
    roundtrip(p, "echo-small-perms", "[\"read\",\"exec\"]", NULL);
    roundtrip(p, "echo-opt", "null", NULL);
    roundtrip(p, "echo-opt", "42", NULL);
    roundtrip(p, "echo-opt-opt", "null", NULL);
    roundtrip(p, "echo-opt-opt", "{\"some\":null}", NULL);
    roundtrip(p, "echo-opt-opt", "{\"some\":\"x\"}", NULL);
    roundtrip(p, "echo-res", "{\"ok\":5}", NULL);
    roundtrip(p, "echo-res", "{\"err\":\"boom\"}", NULL);
    roundtrip(p, "echo-res-unit", "{\"ok\":null}", NULL);
    roundtrip(p, "echo-res-unit", "{\"err\":\"no\"}", NULL);
    hv_plugin_free(p);
}

static void test_roundtrip_spilled_params(void **state)
{
    (void)state;
    hv_plugin_t *p = load_fixture("roundtrip");
    char err[4096], *out = NULL;
    /* 16 u32 + a string flatten to 18 values: params go through memory. */
    int rc = hv_plugin_call_json(p, "echo-guest.echo-many",
                                 "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,\"seventeen\"]", &out,
                                 err, sizeof err);
    assert_int_equal(rc, HV_OK);
    assert_string_equal(out, "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,9]");
    free(out);
    rc = hv_plugin_call_json(p, "echo-guest.call-failing", "\"bad sensor\"", &out, err,
                             sizeof err);
    assert_int_equal(rc, HV_OK);
    assert_string_equal(out, "\"Err:bad sensor\"");
    free(out);
    hv_plugin_free(p);
}

static void test_roundtrip_one_megabyte(void **state)
{
    (void)state;
    hv_plugin_t *p = load_fixture("roundtrip");
    size_t n = 1 << 20;
    hv_arena_t a;
    hv_arena_init(&a, 0);
    const hv_wit_interface_t *in = hv_plugin_world(p)->exports[0];
    const hv_wit_func_t *f = hv_wit_func(in, "echo-bytes");
    assert_non_null(f);
    hv_value_t arg = {.type = f->params[0].type}, res;
    arg.bytes.ptr = hv_arena_alloc(&a, n);
    arg.bytes.len = n;
    for (size_t i = 0; i < n; i++)
        arg.bytes.ptr[i] = (uint8_t)(i * 7 + (i >> 11));
    char err[1024];
    assert_int_equal(hv_plugin_call(p, "echo-guest.echo-bytes", &arg, &a, &res, err, sizeof err),
                     HV_OK);
    assert_int_equal(res.bytes.len, n);
    assert_true(hv_value_equal(&arg, &res));
    hv_arena_free(&a);
    hv_plugin_free(p);
}

static void hostile(hv_plugin_t *p, const char *c, const char *expect)
{
    char err[4096], *out = NULL, arg[64];
    snprintf(arg, sizeof arg, "\"%s\"", c);
    int rc = hv_plugin_call_json(p, "echo-guest.hostile", arg, &out, err, sizeof err);
    if (rc != HV_OK)
        fail_msg("hostile %s: %s", c, err);
    if (strstr(out, expect) == NULL)
        fail_msg("hostile %s: got %s, expected %s", c, out, expect);
    free(out);
    /* The instance is fine afterwards. */
    rc = hv_plugin_call_json(p, "echo-guest.echo-u32", "7", &out, err, sizeof err);
    assert_int_equal(rc, HV_OK);
    assert_string_equal(out, "7");
    free(out);
}

static void test_hostile_guest_input(void **state)
{
    (void)state;
    hv_plugin_t *p = load_fixture("roundtrip");
    hostile(p, "oob", "ValueError: echo-string: v: string out of bounds");
    hostile(p, "utf8", "ValueError: echo-string: v: string is not valid UTF-8");
    hostile(p, "nested", "ValueError: echo-items: v[1].name: string out of bounds");
    hostile(p, "disc", "ValueError: echo-color: v: discriminant 7 out of range");
    hostile(p, "char", "ValueError: echo-char: v: invalid char U+D800");
    hostile(p, "misaligned", "ValueError: echo-u32s: v: misaligned list pointer 0x1");
    hostile(p, "overflow", "ValueError: echo-u32s: v: list out of bounds");
    hostile(p, "slots", "ValueError: echo-string: expected 2 argument slots, got 1");
    hostile(p, "ret", "ValueError: echo-u32s: result: guest address 0xfffffff8 + 8 out of bounds");
    hostile(p, "fid", "PermissionError: permission denied: import id 9999");
    hostile(p, "outside", "LookupError: no such import: i2c#transfer");
    hv_plugin_free(p);
}

static void test_import_outside_world_refused_by_host(void **state)
{
    (void)state;
    hv_plugin_t *p = load_fixture("noi2c");
    char err[4096], *out = NULL;
    log_text[0] = '\0';
    assert_int_equal(hv_plugin_call_json(p, "dashboard-logic.render", "\"probe\"", &out, err,
                                         sizeof err),
                     HV_OK);
    assert_non_null(strstr(out, "refused: permission denied: plugin noi2c (world "
                                "dashboard-plugin) may not call i2c#transfer"));
    free(out);
    assert_non_null(strstr(log_text, "[noi2c 3] permission denied"));
    assert_int_equal(hv_plugin_refusals(p), 1);
    /* The SDK has no i2c module for this world either. */
    assert_int_equal(hv_plugin_call_json(p, "dashboard-logic.render", "\"import\"", &out, err,
                                         sizeof err),
                     HV_OK);
    assert_string_equal(out, "\"no i2c module\"");
    free(out);
    /* A plugin's exception, and a result of the wrong type, come back as
     * errors with the traceback. */
    assert_int_equal(hv_plugin_call_json(p, "dashboard-logic.render", "\"raise\"", &out, err,
                                         sizeof err),
                     HV_EEXCEPTION);
    assert_non_null(strstr(err, "RuntimeError: boom"));
    assert_int_equal(hv_plugin_call_json(p, "dashboard-logic.render", "\"wrong type\"", &out,
                                         err, sizeof err),
                     HV_EEXCEPTION);
    if (strstr(err, "DashboardLogic.render: result: expected string (str), got int 42") == NULL)
        fail_msg("wrong-type error: %s", err);
    /* And the next ordinary call works. */
    assert_int_equal(hv_plugin_call_json(p, "dashboard-logic.render", "\"{}\"", &out, err,
                                         sizeof err),
                     HV_OK);
    assert_string_equal(out, "\"<p>2 bytes</p>\"");
    free(out);
    hv_plugin_free(p);
}

static void test_i2c_hex_and_bytes_forms(void **state)
{
    (void)state;
    hv_plugin_t *p = load_fixture("hexbytes");
    char err[4096], *out = NULL;
    int rc = hv_plugin_call_json(p, "sensor-logic.poll", NULL, &out, err, sizeof err);
    if (rc != HV_OK)
        fail_msg("poll: %s", err);
    assert_string_equal(out, "{\"ok\":[{\"sensor\":\"chip\",\"fields\":["
                             "{\"name\":\"hex\",\"value\":97,\"unit\":\"\"},"
                             "{\"name\":\"bytes\",\"value\":97,\"unit\":\"\"}],"
                             "\"extra\":\"{\\\"hex\\\": \\\"61\\\", \\\"missing\\\": "
                             "\\\"i2c: no device at 0x50 (no ACK)\\\"}\"}]}");
    free(out);
    hv_plugin_free(p);
}

/* Every built-in capability through real Python; state survives a reload. */
static void test_every_capability(void **state)
{
    (void)state;
    char dir[] = "/tmp/hv-state-XXXXXX", err[8192], out[600], built[600], wit[512], src[512];
    assert_non_null(mkdtemp(dir));
    snprintf(src, sizeof src, "%s/fixtures/allcaps", HV_TEST_DIR);
    snprintf(out, sizeof out, "%s/allcaps.wasm", dir);
    snprintf(wit, sizeof wit, "%s/wit/plugin.wit", HV_SOURCE_DIR);
    assert_int_equal(hv_plugin_build(eng, src, out, wit, built, sizeof built, err, sizeof err),
                     HV_OK);
    hv_plugin_opts_t o = {.eng = eng, .hal = hal, .log = on_log, .state_dir = dir,
                          .config_json = "{\"led\": 2, \"role\": \"pi4\"}"};
    unsigned beeps = hv_hal_sim_beeps(hal);
    for (int round = 1; round <= 2; round++) {
        hv_plugin_t *p = NULL;
        log_text[0] = '\0';
        if (hv_plugin_load(out, &o, &p, err, sizeof err) != HV_OK)
            fail_msg("load: %s", err);
        char *res = NULL;
        if (hv_plugin_call_json(p, "sensor-logic.poll", NULL, &res, err, sizeof err) != HV_OK)
            fail_msg("poll: %s", err);
        const char *expect =
            round == 1 ? "\\\"previous_state\\\": null" : "\\\"previous_state\\\": \\\"1\\\"";
        if (strstr(res, expect) == NULL)
            fail_msg("round %d: %s", round, res);
        static const char *const facts[] = {
            "\\\"config_led\\\": \\\"2\\\"",
            "\\\"config_missing\\\": null",
            "\\\"cpu_temp_ok\\\": true",
            "\\\"cpu_usage_ok\\\": true",
            "\\\"dht22\\\": [22.5, 45.0]",
            "\\\"gpio17\\\": true",
            "\\\"gpio_bad_pin\\\": \\\"gpio: no pin 200 (0..27)\\\"",
            "\\\"gpio_input_write\\\": \\\"gpio: pin 5 is not an output\\\"",
            "\\\"memory_ok\\\": true",
            "\\\"slept_ms_at_least_20\\\": true",
            "\\\"spi\\\": [1, 2, 3]",
            "\\\"state_too_big\\\": \\\"state: 70000 bytes is over the 65536-byte limit\\\"",
            "\\\"uart_bad_baud\\\": \\\"uart: unsupported baud rate 1234\\\"",
            "\\\"uart_read\\\": \\\"hello\\\"",
            "\\\"uart_written\\\": 5",
            "\\\"uptime_ok\\\": true",
        };
        for (size_t i = 0; i < sizeof facts / sizeof facts[0]; i++)
            if (strstr(res, facts[i]) == NULL)
                fail_msg("missing %s in %s", facts[i], res);
        char line[64];
        snprintf(line, sizeof line, "[allcaps 2] poll number %d", round);
        assert_non_null(strstr(log_text, line));
        free(res);
        hv_plugin_free(p);
    }
    assert_int_equal(hv_hal_sim_led(hal, 2), 0xFF8000);
    assert_int_equal(hv_hal_sim_led(hal, 3), 0);
    assert_int_equal(hv_hal_sim_beeps(hal) - beeps, 2 * 4);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* clock.sleep-ms really sleeps, but never past the call's deadline. */
static void test_sleep_cut_by_deadline(void **state)
{
    (void)state;
    char err[8192], out[600], built[600], wit[512], src[512];
    snprintf(src, sizeof src, "%s/fixtures/sleeper", HV_TEST_DIR);
    snprintf(out, sizeof out, "%s/sleeper.wasm", tmpdir);
    snprintf(wit, sizeof wit, "%s/wit/plugin.wit", HV_SOURCE_DIR);
    assert_int_equal(hv_plugin_build(eng, src, out, wit, built, sizeof built, err, sizeof err),
                     HV_OK);
    hv_plugin_opts_t o = {.eng = eng, .hal = hal, .log = on_log, .deadline_ms = 300,
                          .config_json = "{\"sleep_ms\": 60000}"};
    hv_plugin_t *p = NULL;
    if (hv_plugin_load(out, &o, &p, err, sizeof err) != HV_OK)
        fail_msg("load: %s", err);
    char *res = NULL;
    double t0 = now_s();
    assert_int_equal(hv_plugin_call_json(p, "sensor-logic.poll", NULL, &res, err, sizeof err),
                     HV_ETRAP_DEADLINE);
    /* Cut short: a full sleep would take 60 s. */
    assert_true(now_s() - t0 < 30.0);
    assert_int_equal(hv_plugin_call_json(p, "sensor-logic.poll", NULL, &res, err, sizeof err),
                     HV_EDEAD);
    hv_plugin_free(p);
}

static void test_bad_calls(void **state)
{
    (void)state;
    hv_plugin_t *p = load_fixture("roundtrip");
    char err[4096], *out = NULL;
    assert_int_equal(hv_plugin_call_json(p, "echo-guest.nope", "[]", &out, err, sizeof err),
                     HV_ENOENT);
    assert_non_null(strstr(err, "exports no function echo-guest.nope"));
    assert_int_equal(hv_plugin_call_json(p, "echo-guest.echo-u8", "300", &out, err, sizeof err),
                     HV_EINVAL);
    assert_non_null(strstr(err, "echo-guest.echo-u8: arguments:"));
    hv_plugin_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_every_kind),
        cmocka_unit_test(test_roundtrip_spilled_params),
        cmocka_unit_test(test_roundtrip_one_megabyte),
        cmocka_unit_test(test_hostile_guest_input),
        cmocka_unit_test(test_import_outside_world_refused_by_host),
        cmocka_unit_test(test_i2c_hex_and_bytes_forms),
        cmocka_unit_test(test_every_capability),
        cmocka_unit_test(test_sleep_cut_by_deadline),
        cmocka_unit_test(test_bad_calls),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

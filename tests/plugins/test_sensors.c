/*
 * plugins/bh1750 and plugins/aht20: Python-only sensors on the generic
 * sensor-plugin world, loaded with no host change. Their readings are
 * within the chips' resolution of the simulator's truth (BH1750: one count,
 * 1/1.2 lx; AHT20: 20 bits, well within 0.01 °C / %RH), an I2C fault is the
 * poll's err until it clears, and the AHT20's protocol paths (calibration,
 * busy, CRC) are driven from hand-written bus recordings (--replay).
 */
#include "seed_test.h"

#include <math.h>

#define STEP_S 100.0
#define LUX_PER_COUNT (1.0 / 1.2)
#define AHT20_TOLERANCE 0.01

/* ---- helpers ---------------------------------------------------------- */

/* Appends [[ramp]] steps: field becomes values[i] at (i + 1) * STEP_S. */
static void append_steps(char *buf, size_t cap, const char *field, const double *values, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(buf);
        snprintf(buf + len, cap - len,
                 "[[ramp]]\nfield = \"%s\"\nfrom_s = %g\nto_s = %g\nto = %.17g\n", field,
                 (double)(i + 1) * STEP_S, (double)(i + 1) * STEP_S, values[i]);
    }
}

/* The value of field `name` in a generic reading's JSON. */
static double field_value(const char *json, const char *name)
{
    char needle[64];
    snprintf(needle, sizeof needle, "\"name\":\"%s\",\"value\":", name);
    const char *p = strstr(json, needle);
    if (p == NULL)
        fail_msg("no field %s in %s", name, json);
    return strtod(p + strlen(needle), NULL);
}

static char *poll_ok(hv_plugin_t *p, const char *when)
{
    char *out = seed_call(p, "sensor-logic.poll", NULL);
    if (strncmp(out, "{\"ok\":[", 7) != 0)
        fail_msg("%s: %s", when, out);
    return out;
}

/* Polls and expects an err containing needle. */
static void poll_err(hv_plugin_t *p, const char *needle, const char *when)
{
    char *out = seed_call(p, "sensor-logic.poll", NULL);
    if (strncmp(out, "{\"err\":\"", 8) != 0 || strstr(out, needle) == NULL)
        fail_msg("%s: expected an err with \"%s\", got %s", when, needle, out);
    free(out);
}

static void expect_generic_world(hv_plugin_t *p)
{
    assert_string_equal(hv_plugin_world(p)->name, "sensor-plugin");
}

/* ---- BH1750 ------------------------------------------------------------- */

static void test_bh1750_within_one_count(void **state)
{
    (void)state;
    const double lux[] = {0.0, 0.5, 1.0, 12.34, 1000.0, 12345.6, 54000.0};
    const size_t n = sizeof lux / sizeof lux[0];
    char toml[8192] = "[environment]\nlux = 333.34\n";
    append_steps(toml, sizeof toml, "lux", lux, n);
    hv_hal_t *h = seed_board(toml);
    hv_plugin_t *p = seed_load("bh1750", h, NULL);
    expect_generic_world(p);

    char *out = poll_ok(p, "default");
    assert_non_null(strstr(out, "\"sensor\":\"bh1750\""));
    assert_non_null(strstr(out, "\"unit\":\"lx\""));
    assert_true(fabs(field_value(out, "lux") - 333.34) <= LUX_PER_COUNT);
    free(out);
    for (size_t i = 0; i < n; i++) {
        hv_hal_sim_advance(h, STEP_S);
        out = poll_ok(p, "lux step");
        double got = seed_num(out, "value"); /* the only field */
        if (fabs(got - lux[i]) > LUX_PER_COUNT)
            fail_msg("truth %.2f lx, read %.2f lx (%s)", lux[i], got, out);
        free(out);
    }
    hv_plugin_free(p);
    hv_hal_sim_free(h);
}

/* Each kind of bus fault is the poll's err, and the next poll after it
 * clears reads again. */
static void fault_then_recovery(const char *plugin, unsigned addr)
{
    static const char *const kinds[] = {"nack", "timeout", "unplug"};
    for (size_t k = 0; k < 3; k++) {
        char toml[512], addr_text[16], when[64];
        snprintf(toml, sizeof toml,
                 "[[fault]]\nkind = \"%s\"\naddress = 0x%02x\nfrom_s = 0\nto_s = %g\n", kinds[k],
                 addr, STEP_S);
        snprintf(addr_text, sizeof addr_text, "%s at 0x%02x: i2c", plugin, addr);
        snprintf(when, sizeof when, "%s %s", plugin, kinds[k]);
        hv_hal_t *h = seed_board(toml);
        hv_plugin_t *p = seed_load(plugin, h, NULL);
        poll_err(p, addr_text, when);
        poll_err(p, addr_text, when); /* still failing: still an err, no crash */
        hv_hal_sim_advance(h, STEP_S);
        free(poll_ok(p, when));
        hv_plugin_free(p);
        hv_hal_sim_free(h);
    }
}

static void test_bh1750_fault_is_err(void **state)
{
    (void)state;
    fault_then_recovery("bh1750", 0x23);
}

/* config i2c_address: integer or the seeds' "0x5C"; a bad one is an err. */
static void test_bh1750_address_config(void **state)
{
    (void)state;
    hv_hal_t *h = seed_board("[environment]\nlux = 250\n"
                             "[[device]]\nkind = \"bh1750\"\naddress = 0x5C\n");
    const char *const configs[] = {"{\"i2c_address\": \"0x5C\"}", "{\"i2c_address\": 92}"};
    for (size_t i = 0; i < 2; i++) {
        hv_plugin_t *p = seed_load("bh1750", h, configs[i]);
        char *out = poll_ok(p, configs[i]);
        assert_true(fabs(field_value(out, "lux") - 250.0) <= LUX_PER_COUNT);
        free(out);
        hv_plugin_free(p);
    }
    hv_plugin_t *p = seed_load("bh1750", h, NULL); /* 0x23: not on this board */
    poll_err(p, "no device at 0x23", "default address");
    hv_plugin_free(p);
    p = seed_load("bh1750", h, "{\"i2c_address\": \"banana\"}");
    poll_err(p, "i2c_address", "bad address");
    hv_plugin_free(p);
    hv_hal_sim_free(h);
}

/* ---- AHT20 -------------------------------------------------------------- */

static void test_aht20_within_resolution(void **state)
{
    (void)state;
    const double temps[] = {-40.0, -12.345, 0.0, 22.5, 37.77, 85.0};
    const double hums[] = {0.0, 12.5, 45.0, 87.654, 100.0, 33.333};
    const size_t n = sizeof temps / sizeof temps[0];
    char toml[8192] = "[environment]\ntemperature_c = 22.5\nhumidity_pct = 45\n";
    append_steps(toml, sizeof toml, "temperature_c", temps, n);
    append_steps(toml, sizeof toml, "humidity_pct", hums, n);
    hv_hal_t *h = seed_board(toml);
    hv_plugin_t *p = seed_load("aht20", h, NULL);
    expect_generic_world(p);

    char *out = poll_ok(p, "default");
    assert_string_equal(out, "{\"ok\":[{\"sensor\":\"aht20\",\"fields\":["
                             "{\"name\":\"temperature\",\"value\":22.5,\"unit\":\"°C\"},"
                             "{\"name\":\"humidity\",\"value\":45,\"unit\":\"%\"}],"
                             "\"extra\":null}]}");
    free(out);
    for (size_t i = 0; i < n; i++) {
        hv_hal_sim_advance(h, STEP_S);
        out = poll_ok(p, "aht20 step");
        double t = field_value(out, "temperature"), rh = field_value(out, "humidity");
        if (fabs(t - temps[i]) > AHT20_TOLERANCE || fabs(rh - hums[i]) > AHT20_TOLERANCE)
            fail_msg("truth %.3f °C %.3f %%, read %.3f °C %.3f %% (%s)", temps[i], hums[i], t, rh,
                     out);
        free(out);
    }
    hv_plugin_free(p);
    hv_hal_sim_free(h);
}

static void test_aht20_fault_is_err(void **state)
{
    (void)state;
    fault_then_recovery("aht20", 0x38);
}

/* A stuck bus repeats the last answer: the 1-byte status read, so the
 * 7-byte frame is that byte 7 times and its CRC does not match. */
static void test_aht20_stuck_bus_fails_crc(void **state)
{
    (void)state;
    hv_hal_t *h = seed_board("[[fault]]\nkind = \"stuck\"\naddress = 0x38\nfrom_s = 0\nto_s = 100\n");
    hv_plugin_t *p = seed_load("aht20", h, NULL);
    poll_err(p, "aht20 at 0x38: CRC mismatch", "stuck");
    hv_hal_sim_advance(h, STEP_S);
    free(poll_ok(p, "unstuck"));
    hv_plugin_free(p);
    hv_hal_sim_free(h);
}

/* ---- AHT20 protocol paths, from recordings ----------------------------- */

static uint8_t crc8(const uint8_t *p, size_t n)
{
    uint8_t crc = 0xFF;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (uint8_t)(crc & 0x80 ? (crc << 1) ^ 0x31 : crc << 1);
    }
    return crc;
}

#define RAW_H 0x73333u /* 45.0 %RH */
#define RAW_T 0x5CCCDu /* 22.5 °C */

/* A recorded transaction: write hex w, read hex r, at 0x38. */
static void txn(FILE *f, const char *w, const char *r)
{
    fprintf(f, "{\"op\":\"i2c\",\"addr\":56,\"w\":\"%s\",\"r\":\"%s\",\"rc\":0,\"err\":\"\"}\n", w,
            r);
}

/* Reads back a 7-byte frame; crc_xor != 0 corrupts its CRC. */
static void frame_txn(FILE *f, uint8_t status, uint32_t hum, uint32_t temp, uint8_t crc_xor)
{
    uint8_t b[7] = {status,
                    (uint8_t)(hum >> 12),
                    (uint8_t)(hum >> 4),
                    (uint8_t)(((hum & 0x0F) << 4) | (temp >> 16)),
                    (uint8_t)(temp >> 8),
                    (uint8_t)temp,
                    0};
    b[6] = (uint8_t)(crc8(b, 6) ^ crc_xor);
    char hex[15];
    for (int i = 0; i < 7; i++)
        snprintf(hex + 2 * i, 3, "%02x", b[i]);
    txn(f, "", hex);
}

typedef enum { REPLAY_UNCALIBRATED, REPLAY_BUSY, REPLAY_BAD_CRC, REPLAY_STAYS_BUSY,
               REPLAY_NEVER_CALIBRATED } replay_t;

/* A board answering from a recording of what the AHT20 would say. */
static hv_hal_t *replay_board(replay_t what)
{
    char path[300], err[1024];
    snprintf(path, sizeof path, "%s/aht20-%d.jsonl", seed_tmp, (int)what);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    switch (what) {
    case REPLAY_UNCALIBRATED:
        txn(f, "", "10");       /* CAL clear */
        txn(f, "be0800", "");   /* initialise */
        txn(f, "", "18");       /* calibrated now */
        txn(f, "ac3300", "");
        frame_txn(f, 0x18, RAW_H, RAW_T, 0);
        break;
    case REPLAY_BUSY:
        txn(f, "", "18");
        txn(f, "ac3300", "");
        frame_txn(f, 0x98, 0, 0, 0); /* busy: old data */
        frame_txn(f, 0x98, 0, 0, 0);
        frame_txn(f, 0x18, RAW_H, RAW_T, 0);
        break;
    case REPLAY_BAD_CRC:
        txn(f, "", "18");
        txn(f, "ac3300", "");
        frame_txn(f, 0x18, RAW_H, RAW_T, 0x01);
        break;
    case REPLAY_STAYS_BUSY:
        txn(f, "", "18");
        txn(f, "ac3300", "");
        for (int i = 0; i < 11; i++)
            frame_txn(f, 0x98, 0, 0, 0);
        break;
    case REPLAY_NEVER_CALIBRATED:
        txn(f, "", "10");
        txn(f, "be0800", "");
        txn(f, "", "10");
        break;
    }
    fclose(f);
    hv_hal_sim_opts_t o = {11, NULL, NULL, path};
    hv_hal_t *h = hv_hal_sim_open(&o, err, sizeof err);
    if (h == NULL)
        fail_msg("replay board: %s", err);
    return h;
}

static void expect_replayed_reading(replay_t what, const char *when)
{
    hv_hal_t *h = replay_board(what);
    hv_plugin_t *p = seed_load("aht20", h, NULL);
    char *out = poll_ok(p, when);
    double t = field_value(out, "temperature"), rh = field_value(out, "humidity");
    double want_t = RAW_T / 1048576.0 * 200.0 - 50.0, want_rh = RAW_H / 1048576.0 * 100.0;
    if (fabs(t - want_t) > AHT20_TOLERANCE || fabs(rh - want_rh) > AHT20_TOLERANCE)
        fail_msg("%s: %s", when, out);
    free(out);
    /* The recording is used up: the plugin sent exactly what it holds. */
    poll_err(p, "replay: the recording has no transaction", when);
    hv_plugin_free(p);
    hv_hal_sim_free(h);
}

static void expect_replayed_err(replay_t what, const char *needle)
{
    hv_hal_t *h = replay_board(what);
    hv_plugin_t *p = seed_load("aht20", h, NULL);
    poll_err(p, needle, needle);
    hv_plugin_free(p);
    hv_hal_sim_free(h);
}

static void test_aht20_initialises_when_uncalibrated(void **state)
{
    (void)state;
    expect_replayed_reading(REPLAY_UNCALIBRATED, "uncalibrated");
    expect_replayed_err(REPLAY_NEVER_CALIBRATED, "aht20 at 0x38: not calibrated");
}

static void test_aht20_waits_while_busy(void **state)
{
    (void)state;
    expect_replayed_reading(REPLAY_BUSY, "busy");
    expect_replayed_err(REPLAY_STAYS_BUSY, "aht20 at 0x38: still busy");
}

static void test_aht20_crc_mismatch_is_err(void **state)
{
    (void)state;
    expect_replayed_err(REPLAY_BAD_CRC, "aht20 at 0x38: CRC mismatch");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bh1750_within_one_count),
        cmocka_unit_test(test_bh1750_fault_is_err),
        cmocka_unit_test(test_bh1750_address_config),
        cmocka_unit_test(test_aht20_within_resolution),
        cmocka_unit_test(test_aht20_fault_is_err),
        cmocka_unit_test(test_aht20_stuck_bus_fails_crc),
        cmocka_unit_test(test_aht20_initialises_when_uncalibrated),
        cmocka_unit_test(test_aht20_waits_while_busy),
        cmocka_unit_test(test_aht20_crc_mismatch_is_err),
    };
    return cmocka_run_group_tests(tests, seed_setup, seed_teardown);
}

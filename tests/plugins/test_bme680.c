/*
 * The bme680 seed plugin on the simulated board: readings against the
 * simulator's truth for two calibration sets and several environments, the
 * IAQ burn-in, accuracy levels and their survival across a reload, the LED
 * table with its hysteresis, the buzzer alarm, I2C faults and settings.
 */
#include "seed_test.h"

#include <math.h>
#include <time.h>

#define POLL "bme680-logic.poll"

/* Colours of plugins/bme680/indicator.py. */
#define GREEN 0x00FF00u
#define GREEN_ISH 0x80FF00u
#define YELLOW 0xFFFF00u
#define ORANGE 0xFF8000u
#define RED 0xFF0000u
#define PURPLE_A 0xA000FFu
#define PURPLE_B 0x300050u
#define ALARM_BEEPS 3u
#define BURN_IN 12

/*
 * A second, made-up but valid calibration set, encoded as the chip holds it
 * (0x8A..0xA1, 0xE1..0xF0, 0x00..0x04) from: t1 25800 t2 26100 t3 2;
 * p1 36500 p2 -10600 p3 90 p4 8900 p5 -150 p6 31 p7 30 p8 -700 p9 -3200
 * p10 28; h1 760 h2 1020 h3 0 h4 44 h5 22 h6 118 h7 -98; gh1 -25
 * gh2 -11000 gh3 16; res_heat_range 2, res_heat_val 35, range_sw_err -3.
 */
#define CAL_B                                                                                      \
    "calibration = [0xF4, 0x65, 0x02, 0x00, 0x94, 0x8E, 0x98, 0xD6, 0x5A, 0x00, 0xC4, 0x22, "      \
    "0x6A, 0xFF, 0x1E, 0x1F, 0x00, 0x00, 0x44, 0xFD, 0x80, 0xF3, 0x1C, 0x00, 0x3F, 0xC8, 0x2F, "   \
    "0x00, 0x2C, 0x16, 0x76, 0x9E, 0xC8, 0x64, 0x08, 0xD5, 0xE7, 0x10, 0x00, 0x00, 0x23, 0x00, "   \
    "0x20, 0x00, 0xD0]\n"

static double poll_ms_total;
static unsigned poll_count;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char *poll(hv_plugin_t *p)
{
    double t0 = now_ms();
    char *out = seed_call(p, POLL, "[]");
    poll_ms_total += now_ms() - t0;
    poll_count++;
    return out;
}

static int has(const char *json, const char *s)
{
    return strstr(json, s) != NULL;
}

static const char *accuracy(const char *json)
{
    static const char *const names[] = {"calibrating", "low", "medium", "high"};
    char needle[64];
    for (size_t i = 0; i < 4; i++) {
        snprintf(needle, sizeof needle, "\"iaq-accuracy\":\"%s\"", names[i]);
        if (has(json, needle))
            return names[i];
    }
    return "?";
}

static void state_path(char *buf, size_t len)
{
    snprintf(buf, len, "%s/state/bme680.state", seed_tmp);
}

/* Forgets the calibration of earlier tests (one state dir per binary). */
static void fresh_state(void)
{
    char path[512];
    state_path(path, sizeof path);
    unlink(path);
}

static void write_state(const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/state", seed_tmp);
    mkdir(path, 0755);
    state_path(path, sizeof path);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Polls through the burn-in; checks it calibrates with a pulsing purple. */
static void burn_in(hv_plugin_t *p, hv_hal_t *h, unsigned led)
{
    uint32_t previous = 0;
    for (int i = 0; i < BURN_IN; i++) {
        char *r = poll(p);
        assert_string_equal(accuracy(r), "calibrating");
        assert_true(seed_num(r, "iaq") == 0.0);
        uint32_t c = hv_hal_sim_led(h, led);
        assert_true(c == PURPLE_A || c == PURPLE_B);
        assert_int_not_equal(c, previous);
        previous = c;
        free(r);
    }
}

/* ---- readings against the truth -------------------------------------------- */

typedef struct {
    double t, h, p, gas;
} env_t;

static const env_t envs[] = {
    {22.5, 45.0, 1013.25, 120000.0},
    {5.0, 85.0, 950.0, 30000.0},
    {35.5, 20.0, 1050.0, 400000.0},
    {-10.0, 5.0, 800.0, 5000.0},
};
#define NENVS (sizeof envs / sizeof envs[0])

/* Environment i holds from 1000 * i seconds on (steps: from_s == to_s). */
static void env_scenario(char *buf, size_t len, const char *device)
{
    static const char *const fields[] = {"temperature_c", "humidity_pct", "pressure_hpa",
                                         "gas_ohm"};
    size_t n = (size_t)snprintf(buf, len,
                                "[environment]\ntemperature_c = %g\nhumidity_pct = %g\n"
                                "pressure_hpa = %g\ngas_ohm = %g\n",
                                envs[0].t, envs[0].h, envs[0].p, envs[0].gas);
    for (size_t i = 1; i < NENVS; i++) {
        const double v[] = {envs[i].t, envs[i].h, envs[i].p, envs[i].gas};
        for (size_t f = 0; f < 4; f++)
            n += (size_t)snprintf(buf + n, len - n,
                                  "[[ramp]]\nfield = \"%s\"\nfrom_s = %zu\nto_s = %zu\nto = %g\n",
                                  fields[f], i * 1000, i * 1000, v[f]);
    }
    if (device != NULL)
        snprintf(buf + n, len - n, "%s", device);
}

static void check_truth(const char *device)
{
    char scenario[8192];
    env_scenario(scenario, sizeof scenario, device);
    hv_hal_t *h = seed_board(scenario);
    hv_plugin_t *p = seed_load("bme680", h, NULL);
    for (size_t i = 0; i < NENVS; i++) {
        if (i > 0)
            hv_hal_sim_advance(h, 1000.0);
        char *r = poll(p);
        assert_true(has(r, "\"sensor-id\":\"bme680\""));
        double t = seed_num(r, "temperature"), rh = seed_num(r, "humidity"),
               hpa = seed_num(r, "pressure"), gas = seed_num(r, "gas-resistance");
        if (fabs(t - envs[i].t) > 0.05 || fabs(rh - envs[i].h) > 0.1 ||
            fabs(hpa - envs[i].p) > 0.01 || fabs(gas - envs[i].gas) > 0.01 * envs[i].gas)
            fail_msg("environment %zu: %s", i, r);
        free(r);
    }
    hv_plugin_free(p);
    hv_hal_sim_free(h);
}

static void test_truth_default_calibration(void **state)
{
    (void)state;
    check_truth(NULL);
}

static void test_truth_second_calibration(void **state)
{
    (void)state;
    check_truth("[[device]]\nkind = \"bme680\"\naddress = 0x77\n" CAL_B);
}

/* ---- IAQ: burn-in, reload, accuracy ------------------------------------------ */

static void test_burn_in_and_reload(void **state)
{
    (void)state;
    fresh_state();
    hv_hal_t *h = seed_board(NULL);
    hv_plugin_t *p = seed_load("bme680", h, NULL);
    burn_in(p, h, 2);
    /* Default air (gas at the baseline, 45 %RH): excellent. */
    char *r = poll(p);
    assert_string_equal(accuracy(r), "low");
    double iaq = seed_num(r, "iaq");
    assert_true(iaq > 0.0 && iaq < 50.0);
    assert_int_equal(hv_hal_sim_led(h, 2), GREEN);
    free(r);
    hv_plugin_free(p);

    /* A reload (same state dir) keeps the baseline: no burn-in again. */
    p = seed_load("bme680", h, NULL);
    r = poll(p);
    assert_string_equal(accuracy(r), "low");
    assert_true(fabs(seed_num(r, "iaq") - iaq) < 0.5);
    assert_int_equal(hv_hal_sim_led(h, 2), GREEN);
    free(r);
    hv_plugin_free(p);
    hv_hal_sim_free(h);
}

/* Burn-in state saved mid-way resumes where it stopped. */
static void test_burn_in_resumes(void **state)
{
    (void)state;
    fresh_state();
    hv_hal_t *h = seed_board(NULL);
    hv_plugin_t *p = seed_load("bme680", h, NULL);
    for (int i = 0; i < BURN_IN / 2; i++)
        free(poll(p));
    hv_plugin_free(p);
    p = seed_load("bme680", h, NULL);
    for (int i = BURN_IN / 2; i < BURN_IN; i++) {
        char *r = poll(p);
        assert_string_equal(accuracy(r), "calibrating");
        free(r);
    }
    char *r = poll(p);
    assert_string_equal(accuracy(r), "low");
    free(r);
    hv_plugin_free(p);
    hv_hal_sim_free(h);
}

static const char *poll_accuracy_after(int saved_count, hv_hal_t *h)
{
    char text[256];
    snprintf(text, sizeof text,
             "{\"band\": 0, \"iaq\": {\"baseline_ohm\": 120000.0, \"burn_in\": [], "
             "\"readings_since_burn_in\": %d}, \"version\": 1}",
             saved_count);
    write_state(text);
    hv_plugin_t *p = seed_load("bme680", h, NULL);
    char *r = poll(p);
    static char acc[16];
    snprintf(acc, sizeof acc, "%s", accuracy(r));
    free(r);
    hv_plugin_free(p);
    return acc;
}

/* LOW for the first 30 scored readings, MEDIUM to 300, HIGH after. */
static void test_accuracy_levels(void **state)
{
    (void)state;
    hv_hal_t *h = seed_board(NULL);
    assert_string_equal(poll_accuracy_after(0, h), "low");
    assert_string_equal(poll_accuracy_after(29, h), "low");
    assert_string_equal(poll_accuracy_after(30, h), "medium");
    assert_string_equal(poll_accuracy_after(299, h), "medium");
    assert_string_equal(poll_accuracy_after(300, h), "high");
    assert_string_equal(poll_accuracy_after(5000, h), "high");
    hv_hal_sim_free(h);
}

static void test_bad_state_recalibrates(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "not json",
        "{\"version\": 2}",
        "{\"version\": 1, \"iaq\": {\"baseline_ohm\": -5, \"burn_in\": [], "
        "\"readings_since_burn_in\": 3}, \"band\": 0}",
        "{\"version\": 1, \"iaq\": {\"baseline_ohm\": 1000, \"burn_in\": [], "
        "\"readings_since_burn_in\": 3}, \"band\": 9}",
        "[1, 2]",
    };
    hv_hal_t *h = seed_board(NULL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_state(bad[i]);
        hv_plugin_t *p = seed_load("bme680", h, NULL);
        char *r = poll(p);
        if (strcmp(accuracy(r), "calibrating") != 0)
            fail_msg("state %s: %s", bad[i], r);
        free(r);
        hv_plugin_free(p);
    }
    hv_hal_sim_free(h);
}

/* ---- LED table, hysteresis, alarm -------------------------------------------- */

/*
 * With 40 %RH (full humidity marks) IAQ = 375 * (1 - gas / baseline); the
 * baseline is the 100 kOhm of the burn-in. Step k (from 1000 * k s) sets
 * the gas for the IAQ of steps[k - 1].
 */
typedef struct {
    double iaq;
    uint32_t colour;
    unsigned beeps; /* total so far */
} step_t;

static const step_t steps[] = {
    /* up through every boundary, 5 points past it */
    {30, GREEN, 0},
    {55, GREEN_ISH, 0},
    {105, YELLOW, 0},
    {155, ORANGE, 0},
    {205, RED, ALARM_BEEPS},
    {250, RED, ALARM_BEEPS},
    /* down: 5 below a boundary holds the band, 15 below leaves it */
    {195, RED, ALARM_BEEPS},
    {205, RED, ALARM_BEEPS}, /* still red: no second alarm */
    {185, ORANGE, ALARM_BEEPS},
    {145, ORANGE, ALARM_BEEPS},
    {135, YELLOW, ALARM_BEEPS},
    {155, ORANGE, ALARM_BEEPS}, /* up again: no hysteresis going up */
    {135, YELLOW, ALARM_BEEPS},
    {95, YELLOW, ALARM_BEEPS},
    {85, GREEN_ISH, ALARM_BEEPS},
    {45, GREEN_ISH, ALARM_BEEPS},
    {35, GREEN, ALARM_BEEPS},
    {45, GREEN, ALARM_BEEPS}, /* below 50 from below: green stays */
    /* a second crossing sounds the alarm again, and a fall of several bands */
    {300, RED, 2 * ALARM_BEEPS},
    {20, GREEN, 2 * ALARM_BEEPS},
    {190, ORANGE, 2 * ALARM_BEEPS},
    {201, RED, 3 * ALARM_BEEPS},
};
#define NSTEPS (sizeof steps / sizeof steps[0])
#define BASELINE_OHM 100000.0

static void test_led_table_and_alarm(void **state)
{
    (void)state;
    char scenario[8192];
    size_t n = (size_t)snprintf(scenario, sizeof scenario,
                                "[environment]\nhumidity_pct = 40\ngas_ohm = %g\n", BASELINE_OHM);
    for (size_t k = 0; k < NSTEPS; k++)
        n += (size_t)snprintf(
            scenario + n, sizeof scenario - n,
            "[[ramp]]\nfield = \"gas_ohm\"\nfrom_s = %zu\nto_s = %zu\nto = %.1f\n", (k + 1) * 1000,
            (k + 1) * 1000, BASELINE_OHM * (1.0 - steps[k].iaq / 375.0));
    fresh_state();
    hv_hal_t *h = seed_board(scenario);
    hv_plugin_t *p = seed_load("bme680", h, "{\"led\": 2}");
    burn_in(p, h, 2);
    assert_int_equal(hv_hal_sim_beeps(h), 0);
    for (size_t k = 0; k < NSTEPS; k++) {
        hv_hal_sim_advance(h, 1000.0);
        char *r = poll(p);
        double iaq = seed_num(r, "iaq");
        if (fabs(iaq - steps[k].iaq) > 1.0 || hv_hal_sim_led(h, 2) != steps[k].colour ||
            hv_hal_sim_beeps(h) != steps[k].beeps)
            fail_msg("step %zu (IAQ %g): LED %06x (want %06x), %u beeps (want %u): %s", k,
                     steps[k].iaq, hv_hal_sim_led(h, 2), steps[k].colour, hv_hal_sim_beeps(h),
                     steps[k].beeps, r);
        free(r);
    }
    /* A reload while red does not sound the alarm again. */
    hv_plugin_free(p);
    p = seed_load("bme680", h, "{\"led\": 2}");
    free(poll(p));
    assert_int_equal(hv_hal_sim_led(h, 2), RED);
    assert_int_equal(hv_hal_sim_beeps(h), 3 * ALARM_BEEPS);
    hv_plugin_free(p);
    hv_hal_sim_free(h);
}

/* ---- faults and settings ----------------------------------------------------- */

static char logged[16384];

static void capture_log(void *ud, const char *plugin, int level, const char *msg)
{
    (void)ud, (void)plugin;
    size_t n = strlen(logged);
    snprintf(logged + n, sizeof logged - n, "%d %s\n", level, msg);
}

/* seed_load with the plugin's log lines captured in `logged`. */
static hv_plugin_t *load_logged(hv_hal_t *h, const char *config_json)
{
    hv_plugin_free(seed_load("bme680", h, config_json)); /* builds it once */
    char path[512], state_dir[512], err[4096];
    snprintf(path, sizeof path, "%s/bme680.wasm", seed_tmp);
    snprintf(state_dir, sizeof state_dir, "%s/state", seed_tmp);
    hv_plugin_opts_t o = {.eng = seed_eng,
                          .hal = h,
                          .config_json = config_json,
                          .state_dir = state_dir,
                          .deadline_ms = 20000,
                          .log = capture_log};
    hv_plugin_t *p = NULL;
    if (hv_plugin_load(path, &o, &p, err, sizeof err) != HV_OK)
        fail_msg("load: %s", err);
    logged[0] = '\0';
    return p;
}

static void expect_reading(hv_plugin_t *p, double gas_ohm)
{
    char *r = poll(p);
    double gas = seed_num(r, "gas-resistance");
    if (fabs(gas - gas_ohm) > 0.01 * gas_ohm)
        fail_msg("expected a reading with gas %g: %s", gas_ohm, r);
    free(r);
}

static void expect_none(hv_plugin_t *p, const char *log_text)
{
    logged[0] = '\0';
    char *r = poll(p);
    assert_string_equal(r, "[]");
    free(r);
    if (strstr(logged, log_text) == NULL)
        fail_msg("log lacks \"%s\": %s", log_text, logged);
}

static void test_i2c_faults(void **state)
{
    (void)state;
    hv_hal_t *h = seed_board("[[fault]]\nkind = \"nack\"\naddress = 0x77\nfrom_s = 1000\n"
                             "to_s = 1100\n"
                             "[[fault]]\nkind = \"timeout\"\naddress = 0x77\nfrom_s = 2000\n"
                             "to_s = 2100\n"
                             "[[fault]]\nkind = \"unplug\"\naddress = 0x77\nfrom_s = 3000\n"
                             "to_s = 3100\n");
    hv_plugin_t *p = load_logged(h, NULL);
    expect_reading(p, 120000.0);
    static const char *const errors[] = {"no ACK", "bus timeout", "no ACK"};
    for (int f = 0; f < 3; f++) {
        hv_hal_sim_advance(h, f == 0 ? 1000.0 : 900.0); /* into fault f's window */
        expect_none(p, errors[f]);
        assert_non_null(strstr(logged, "4 no reading from the BME680 at 0x77")); /* error level */
        expect_none(p, errors[f]); /* again: logged at debug level, still no reading */
        hv_hal_sim_advance(h, 100.0);
        /* Back: after the unplug the chip is in its power-on state, and a gas
         * reading shows the heater was set up again. */
        expect_reading(p, 120000.0);
        assert_non_null(strstr(logged, "sensor back"));
    }
    hv_plugin_free(p);
    hv_hal_sim_free(h);
}

static void test_wrong_chip(void **state)
{
    (void)state;
    /* A BMP280 (chip id 0x58) where the BME680 should be. */
    hv_hal_t *h = seed_board("[[device]]\nkind = \"bmp280\"\naddress = 0x77\n");
    hv_plugin_t *p = load_logged(h, NULL);
    expect_none(p, "chip id 0x58, expected 0x61");
    expect_none(p, "chip id 0x58"); /* asked again at every poll */
    hv_plugin_free(p);
    hv_hal_sim_free(h);
}

static void test_settings(void **state)
{
    (void)state;
    hv_hal_t *h = seed_board("[environment]\ngas_ohm = 50000\n"
                             "[[device]]\nkind = \"bme680\"\naddress = 0x76\n");
    static const char *const at_0x76[] = {"{\"i2c_address\": \"0x76\"}",
                                          "{\"i2c_address\": 118, \"led\": 5}"};
    for (size_t i = 0; i < 2; i++) {
        hv_plugin_t *p = seed_load("bme680", h, at_0x76[i]);
        expect_reading(p, 50000.0);
        hv_plugin_free(p);
    }
    assert_int_not_equal(hv_hal_sim_led(h, 5), 0); /* the "led" setting */

    /* The default address has no chip here; a bad setting falls back to it. */
    hv_plugin_t *p = load_logged(h, "{\"i2c_address\": \"banana\", \"led\": 300}");
    expect_none(p, "no reading from the BME680 at 0x77");
    assert_non_null(strstr(logged, "config i2c_address"));
    assert_non_null(strstr(logged, "config led"));
    hv_plugin_free(p);
    hv_hal_sim_free(h);
}

static int teardown(void **state)
{
    if (poll_count > 0)
        printf("bme680: %u polls, %.1f ms per poll on average in the sandbox\n", poll_count,
               poll_ms_total / poll_count);
    return seed_teardown(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truth_default_calibration),
        cmocka_unit_test(test_truth_second_calibration),
        cmocka_unit_test(test_burn_in_and_reload),
        cmocka_unit_test(test_burn_in_resumes),
        cmocka_unit_test(test_accuracy_levels),
        cmocka_unit_test(test_bad_state_recalibrates),
        cmocka_unit_test(test_led_table_and_alarm),
        cmocka_unit_test(test_i2c_faults),
        cmocka_unit_test(test_wrong_chip),
        cmocka_unit_test(test_settings),
    };
    return cmocka_run_group_tests(tests, seed_setup, teardown);
}

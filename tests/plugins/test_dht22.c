/*
 * plugins/dht22 on the simulated board: readings are exactly the
 * simulator's truth, LED 1 follows the colour table with a 2 °C deadband at
 * every boundary in both directions, the hot alarm beeps 3 times once per
 * alarm, humidity alarms log one warning per crossing, a DHT22 fault gives
 * an empty reading until it recovers, and the alarms survive a reload.
 *
 * The temperature is driven by scenario steps (a ramp with from_s == to_s)
 * one every STEP_S seconds of scenario time, and hv_hal_sim_advance jumps
 * from one to the next, so each poll sees an exact value.
 */
#include "seed_test.h"

#define STEP_S 100.0
#define RED 0xFF0000u
#define BLUE 0x0000FFu
#define ORANGE 0xFF8000u
#define GREEN 0x00FF00u

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

typedef struct {
    int n;
    int level[256];
    char text[256][256];
} logbook_t;

static void logbook_add(void *ud, const char *plugin, int level, const char *msg)
{
    (void)plugin;
    logbook_t *b = ud;
    if (b->n < 256) {
        b->level[b->n] = level;
        snprintf(b->text[b->n], sizeof b->text[0], "%s", msg);
        b->n++;
    }
}

/* Lines at level whose text contains needle. */
static int logbook_count(const logbook_t *b, int level, const char *needle)
{
    int n = 0;
    for (int i = 0; i < b->n; i++)
        n += b->level[i] == level && strstr(b->text[i], needle) != NULL;
    return n;
}

/* seed_load with the plugin's log lines going into book. */
static hv_plugin_t *load_logged(hv_hal_t *hal, const char *config_json, logbook_t *book)
{
    char path[512], err[8192], state_dir[300];
    snprintf(path, sizeof path, "%s/dht22.wasm", seed_tmp);
    if (access(path, R_OK) != 0)
        hv_plugin_free(seed_load("dht22", hal, config_json)); /* builds it */
    snprintf(state_dir, sizeof state_dir, "%s/state", seed_tmp);
    hv_plugin_opts_t o = {.eng = seed_eng, .hal = hal, .config_json = config_json,
                          .state_dir = state_dir, .deadline_ms = 20000,
                          .log = logbook_add, .log_ud = book};
    hv_plugin_t *p = NULL;
    if (hv_plugin_load(path, &o, &p, err, sizeof err) != HV_OK)
        fail_msg("load dht22: %s", err);
    return p;
}

/* Every test starts without alarms saved by an earlier one. */
static void forget_state(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s/state/dht22.state", seed_tmp);
    unlink(path);
}

/* Polls; checks the reading is exactly (f32) temperature / humidity. */
static void poll_expect(hv_plugin_t *p, double temperature, double humidity, const char *when)
{
    char *out = seed_call(p, "dht22-logic.poll", NULL);
    if (strstr(out, "\"sensor-id\":\"dht22\"") == NULL)
        fail_msg("%s: no reading: %s", when, out);
    float t = (float)seed_num(out, "temperature"), h = (float)seed_num(out, "humidity");
    if (t != (float)temperature || h != (float)humidity)
        fail_msg("%s: read %.9g °C %.9g %%, truth %.9g °C %.9g %% (%s)", when, (double)t,
                 (double)h, (double)(float)temperature, (double)(float)humidity, out);
    free(out);
}

typedef struct {
    double temperature;
    uint32_t led;
    unsigned beeps; /* total so far */
} step_t;

/* Starts at steps[0] (the environment), then one step per STEP_S. */
static void run_steps(const step_t *steps, size_t n)
{
    forget_state();
    double temps[32];
    for (size_t i = 1; i < n; i++)
        temps[i - 1] = steps[i].temperature;
    char toml[8192];
    snprintf(toml, sizeof toml, "[environment]\ntemperature_c = %.17g\nhumidity_pct = 45\n",
             steps[0].temperature);
    append_steps(toml, sizeof toml, "temperature_c", temps, n - 1);
    hv_hal_t *h = seed_board(toml);
    hv_plugin_t *p = seed_load("dht22", h, NULL);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            hv_hal_sim_advance(h, STEP_S);
        char when[64];
        snprintf(when, sizeof when, "step %zu (%.1f °C)", i, steps[i].temperature);
        poll_expect(p, steps[i].temperature, 45, when);
        uint32_t led = hv_hal_sim_led(h, 1);
        if (led != steps[i].led || hv_hal_sim_beeps(h) != steps[i].beeps)
            fail_msg("%s: LED 1 %06x beeps %u, expected %06x beeps %u", when, led,
                     hv_hal_sim_beeps(h), steps[i].led, steps[i].beeps);
    }
    hv_plugin_free(p);
    hv_hal_sim_free(h);
}

/* ---- tests -------------------------------------------------------------- */

static void test_reading_is_truth(void **state)
{
    (void)state;
    forget_state();
    const double temps[] = {23.37, -9.8, 41.25, 0.1};
    const double hums[] = {41.93, 99.9, 3.3, 64.7};
    char toml[4096] = "[environment]\ntemperature_c = 22.5\nhumidity_pct = 45\n";
    append_steps(toml, sizeof toml, "temperature_c", temps, 4);
    append_steps(toml, sizeof toml, "humidity_pct", hums, 4);
    hv_hal_t *h = seed_board(toml);
    hv_plugin_t *p = seed_load("dht22", h, NULL);

    char *out = seed_call(p, "dht22-logic.poll", NULL);
    assert_string_equal(out, "[{\"sensor-id\":\"dht22\",\"temperature\":22.5,\"humidity\":45}]");
    free(out);
    assert_int_equal(hv_hal_sim_led(h, 1), GREEN);
    assert_int_equal(hv_hal_sim_beeps(h), 0);
    for (size_t i = 0; i < 4; i++) {
        hv_hal_sim_advance(h, STEP_S);
        poll_expect(p, temps[i], hums[i], "truth");
    }
    hv_plugin_free(p);
    hv_hal_sim_free(h);
}

/* Hot: on at >= 30, off only below 28; warm: on above 25, off only below 23. */
static void test_hot_and_warm_hysteresis(void **state)
{
    (void)state;
    const step_t steps[] = {
        {22.5, GREEN, 0},
        {25.0, GREEN, 0},  /* warm needs > 25 */
        {25.1, ORANGE, 0}, /* warm on */
        {29.9, ORANGE, 0},
        {30.0, RED, 3},    /* hot on: 3 beeps */
        {29.0, RED, 3},    /* in the deadband: still hot, no new beeps */
        {28.0, RED, 3},    /* exactly 28: still hot */
        {30.5, RED, 3},    /* same alarm: no beeps */
        {27.9, ORANGE, 3}, /* hot off below 28, still warm */
        {29.9, ORANGE, 3}, /* hot needs >= 30 again */
        {30.0, RED, 6},    /* a new alarm: 3 more beeps */
        {23.0, ORANGE, 6}, /* hot off; warm stays down to 23 */
        {24.0, ORANGE, 6},
        {22.9, GREEN, 6},  /* warm off below 23 */
        {24.9, GREEN, 6},  /* the deadband upwards: green until > 25 */
        {25.0, GREEN, 6},
        {35.0, RED, 9},    /* a jump straight to hot */
        {20.0, GREEN, 9},  /* and straight back: both off */
    };
    run_steps(steps, sizeof steps / sizeof steps[0]);
}

/* Cold: on at <= 15, off only above 17; no beeps. */
static void test_cold_hysteresis(void **state)
{
    (void)state;
    const step_t steps[] = {
        {22.5, GREEN, 0},
        {15.1, GREEN, 0},
        {15.0, BLUE, 0},  /* cold on at <= 15 */
        {16.0, BLUE, 0},
        {17.0, BLUE, 0},  /* exactly 17: still cold */
        {17.1, GREEN, 0}, /* cold off above 17 */
        {16.0, GREEN, 0}, /* the deadband downwards: green until <= 15 */
        {15.0, BLUE, 0},
        {-5.0, BLUE, 0},
        {30.0, RED, 3},   /* cold off (> 17), hot on */
        {10.0, BLUE, 3},  /* hot off, cold on */
    };
    run_steps(steps, sizeof steps / sizeof steps[0]);
}

/* Humid: warn at >= 70, again only after < 68; dry: warn at <= 25, again
 * only after > 27. */
static void test_humidity_alarms_logged_once(void **state)
{
    (void)state;
    forget_state();
    const double hums[] = {69.9, 70.0, 68.0, 71.0, 67.9, 70.0, 45.0, 25.0, 27.0, 26.0, 27.1, 25.0};
    /* Expected totals of (humid, dry) warnings and of "no longer" notes after each step. */
    const int humid[] = {0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2};
    const int dry[] = {0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2};
    const int back[] = {0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 3};
    const size_t n = sizeof hums / sizeof hums[0];
    char toml[8192] = "[environment]\ntemperature_c = 22.5\nhumidity_pct = 45\n";
    append_steps(toml, sizeof toml, "humidity_pct", hums, n);
    hv_hal_t *h = seed_board(toml);
    logbook_t book = {0};
    hv_plugin_t *p = load_logged(h, NULL, &book);
    poll_expect(p, 22.5, 45, "start");
    assert_int_equal(book.n, 0);
    for (size_t i = 0; i < n; i++) {
        hv_hal_sim_advance(h, STEP_S);
        poll_expect(p, 22.5, hums[i], "humidity");
        int nh = logbook_count(&book, HV_LOG_WARN, "humid: humidity"),
            nd = logbook_count(&book, HV_LOG_WARN, "dry: humidity"),
            nb = logbook_count(&book, HV_LOG_INFO, "no longer");
        if (nh != humid[i] || nd != dry[i] || nb != back[i])
            fail_msg("step %zu (%.1f %%): %d humid, %d dry, %d back; expected %d, %d, %d", i,
                     hums[i], nh, nd, nb, humid[i], dry[i], back[i]);
    }
    /* Humidity never touches the LED or the buzzer. */
    assert_int_equal(hv_hal_sim_led(h, 1), GREEN);
    assert_int_equal(hv_hal_sim_beeps(h), 0);
    hv_plugin_free(p);
    hv_hal_sim_free(h);
}

/* A failing DHT22: [] (and one warning) while it fails, readings again after. */
static void test_fault_gives_empty_reading(void **state)
{
    (void)state;
    forget_state();
    hv_hal_t *h = seed_board("[environment]\ntemperature_c = 31\n"
                             "[[fault]]\nkind = \"nack\"\ndevice = \"dht22\"\n"
                             "from_s = 0\nto_s = 100\n");
    logbook_t book = {0};
    hv_plugin_t *p = load_logged(h, NULL, &book);
    for (int i = 0; i < 3; i++) {
        char *out = seed_call(p, "dht22-logic.poll", NULL);
        assert_string_equal(out, "[]");
        free(out);
    }
    assert_int_equal(logbook_count(&book, HV_LOG_WARN, "DHT22 on GPIO 4"), 1);
    assert_int_equal(hv_hal_sim_led_writes(h), 0); /* nothing to show yet */
    assert_int_equal(hv_hal_sim_beeps(h), 0);

    hv_hal_sim_advance(h, STEP_S);
    poll_expect(p, 31, 45, "recovered");
    assert_int_equal(logbook_count(&book, HV_LOG_INFO, "answers again"), 1);
    assert_int_equal(hv_hal_sim_led(h, 1), RED);
    assert_int_equal(hv_hal_sim_beeps(h), 3);
    hv_plugin_free(p);
    hv_hal_sim_free(h);
}

/* config: gpio_pin picks the DHT22's pin, led the LED. */
static void test_pin_and_led_config(void **state)
{
    (void)state;
    forget_state();
    hv_hal_t *h = seed_board("[dht22]\npin = 17\n");
    hv_plugin_t *p = seed_load("dht22", h, NULL); /* default pin 4: nothing there */
    char *out = seed_call(p, "dht22-logic.poll", NULL);
    assert_string_equal(out, "[]");
    free(out);
    hv_plugin_free(p);

    p = seed_load("dht22", h, "{\"gpio_pin\": 17, \"led\": 5}");
    poll_expect(p, 22.5, 45, "pin 17");
    assert_int_equal(hv_hal_sim_led(h, 5), GREEN);
    assert_int_equal(hv_hal_sim_led(h, 1), 0);
    hv_plugin_free(p);

    /* A bad value: warned about, and the default used. */
    logbook_t book = {0};
    p = load_logged(h, "{\"gpio_pin\": 17, \"led\": \"two\"}", &book);
    poll_expect(p, 22.5, 45, "bad led");
    assert_int_equal(logbook_count(&book, HV_LOG_WARN, "config led"), 1);
    assert_int_equal(hv_hal_sim_led(h, 1), GREEN);
    hv_plugin_free(p);
    hv_hal_sim_free(h);
}

/* The alarm state survives a reload: no second round of beeps. */
static void test_alarm_survives_reload(void **state)
{
    (void)state;
    forget_state();
    hv_hal_t *h = seed_board("[environment]\ntemperature_c = 29\n"
                             "[[ramp]]\nfield = \"temperature_c\"\nfrom_s = 100\nto_s = 100\n"
                             "to = 24\n");
    hv_plugin_t *p = seed_load("dht22", h, NULL);
    poll_expect(p, 29, 45, "before");
    assert_int_equal(hv_hal_sim_led(h, 1), ORANGE);
    hv_plugin_free(p);

    /* At 29 °C a fresh start is orange; with hot restored it stays red. */
    char blob[] = "{\"active\": [\"hot\", \"warm\"]}";
    char path[300];
    snprintf(path, sizeof path, "%s/state/dht22.state", seed_tmp);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(blob, f);
    fclose(f);
    p = seed_load("dht22", h, NULL);
    poll_expect(p, 29, 45, "restored");
    assert_int_equal(hv_hal_sim_led(h, 1), RED);
    assert_int_equal(hv_hal_sim_beeps(h), 0); /* the alarm is not new */
    hv_plugin_free(p);

    /* Saved by the plugin itself: at 24 °C hot is off but warm still on
     * (until < 23), and a reload keeps it so; a fresh start would be green. */
    p = seed_load("dht22", h, NULL);
    hv_hal_sim_advance(h, STEP_S);
    poll_expect(p, 24, 45, "cooled");
    assert_int_equal(hv_hal_sim_led(h, 1), ORANGE);
    hv_plugin_free(p);
    p = seed_load("dht22", h, NULL);
    poll_expect(p, 24, 45, "reloaded");
    assert_int_equal(hv_hal_sim_led(h, 1), ORANGE);
    hv_plugin_free(p);

    /* An unreadable blob is ignored. */
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("not json", f);
    fclose(f);
    p = seed_load("dht22", h, NULL);
    poll_expect(p, 24, 45, "bad state");
    assert_int_equal(hv_hal_sim_led(h, 1), GREEN);
    hv_plugin_free(p);
    hv_hal_sim_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reading_is_truth),
        cmocka_unit_test(test_hot_and_warm_hysteresis),
        cmocka_unit_test(test_cold_hysteresis),
        cmocka_unit_test(test_humidity_alarms_logged_once),
        cmocka_unit_test(test_fault_gives_empty_reading),
        cmocka_unit_test(test_pin_and_led_config),
        cmocka_unit_test(test_alarm_survives_reload),
    };
    return cmocka_run_group_tests(tests, seed_setup, seed_teardown);
}

/*
 * plugins/pi-monitor on the simulated board: config "role" picks the LED
 * (pi4: 3, revpi: 0, pizero: none and never a beep; "led" moves it), the
 * colour follows the CPU temperature (scenario cpu_temp_c, stepped past 60
 * and 75 °C) with a 3 °C deadband, the hot alarm beeps twice once per
 * alarm, and the stats carry the CPU, memory and uptime figures.
 */
#include "seed_test.h"

#define STEP_S 100.0
#define RED 0xFF0000u
#define ORANGE 0xFF8000u
#define GREEN 0x00FF00u
#define NONE (-1)

typedef struct {
    double cpu;
    uint32_t led;
    unsigned beeps; /* total so far */
} step_t;

/* Warm: on above 60, off only below 57; hot: on above 75, off only below 72. */
static const step_t steps[] = {
    {48.0, GREEN, 0},
    {60.0, GREEN, 0},  /* warm needs > 60 */
    {60.5, ORANGE, 0},
    {75.0, ORANGE, 0}, /* hot needs > 75 */
    {75.5, RED, 2},    /* hot on: 2 beeps */
    {73.0, RED, 2},
    {72.0, RED, 2},    /* exactly 72: still hot */
    {80.0, RED, 2},    /* same alarm: no beeps */
    {71.9, ORANGE, 2}, /* hot off below 72 */
    {74.0, ORANGE, 2}, /* the deadband upwards */
    {76.0, RED, 4},    /* a new alarm: 2 more beeps */
    {58.0, ORANGE, 4}, /* hot off; warm stays down to 57 */
    {57.0, ORANGE, 4},
    {56.9, GREEN, 4},
    {59.0, GREEN, 4},
};
#define NSTEPS (sizeof steps / sizeof steps[0])

/* A board whose cpu_temp_c is steps[i].cpu from i * STEP_S on. */
static hv_hal_t *stepped_board(void)
{
    char toml[8192];
    snprintf(toml, sizeof toml, "[environment]\ncpu_temp_c = %.17g\n", steps[0].cpu);
    for (size_t i = 1; i < NSTEPS; i++) {
        size_t len = strlen(toml);
        snprintf(toml + len, sizeof toml - len,
                 "[[ramp]]\nfield = \"cpu_temp_c\"\nfrom_s = %g\nto_s = %g\nto = %.17g\n",
                 (double)i * STEP_S, (double)i * STEP_S, steps[i].cpu);
    }
    return seed_board(toml);
}

/* Polls; checks the stats' CPU temperature is the scenario's and the rest
 * is plausible. */
static void poll_stats(hv_plugin_t *p, double cpu, const char *when)
{
    char *out = seed_call(p, "pi-monitor-logic.poll", NULL);
    double used = seed_num(out, "memory-used-mb"), total = seed_num(out, "memory-total-mb"),
           usage = seed_num(out, "cpu-usage");
    if ((float)seed_num(out, "cpu-temp") != (float)cpu)
        fail_msg("%s: cpu-temp not %g: %s", when, cpu, out);
    if (!(total > 0 && used > 0 && used <= total && seed_num(out, "uptime-seconds") > 0 &&
          usage >= 0 && usage <= 100))
        fail_msg("%s: implausible stats: %s", when, out);
    free(out);
}

/* Runs every step; led_index NONE: no LED may ever be written. */
static void run_role(const char *config_json, int led_index, int buzzer)
{
    hv_hal_t *h = stepped_board();
    hv_plugin_t *p = seed_load("pi-monitor", h, config_json);
    for (size_t i = 0; i < NSTEPS; i++) {
        if (i > 0)
            hv_hal_sim_advance(h, STEP_S);
        char when[160];
        snprintf(when, sizeof when, "%s step %zu (%.1f °C)", config_json ? config_json : "{}", i,
                 steps[i].cpu);
        poll_stats(p, steps[i].cpu, when);
        unsigned beeps = hv_hal_sim_beeps(h), want_beeps = buzzer ? steps[i].beeps : 0;
        if (beeps != want_beeps)
            fail_msg("%s: %u beeps, expected %u", when, beeps, want_beeps);
        for (unsigned led = 0; led < 11; led++) {
            uint32_t want = (int)led == led_index ? steps[i].led : 0, got = hv_hal_sim_led(h, led);
            if (got != want)
                fail_msg("%s: LED %u is %06x, expected %06x", when, led, got, want);
        }
    }
    if (led_index == NONE)
        assert_int_equal(hv_hal_sim_led_writes(h), 0);
    hv_plugin_free(p);
    hv_hal_sim_free(h);
}

static void test_pi4_led3(void **state)
{
    (void)state;
    run_role("{\"role\": \"pi4\"}", 3, 1);
}

static void test_revpi_led0(void **state)
{
    (void)state;
    run_role("{\"role\": \"revpi\"}", 0, 1);
}

static void test_pizero_silent(void **state)
{
    (void)state;
    run_role("{\"role\": \"pizero\"}", NONE, 0);
    run_role("{\"role\": \"pizero\", \"led\": 4}", NONE, 0); /* no LED even when given one */
}

static void test_default_role_is_pi4(void **state)
{
    (void)state;
    run_role(NULL, 3, 1);
    run_role("{\"role\": \"toaster\"}", 3, 1); /* unknown: warned about, pi4 */
}

static void test_led_override(void **state)
{
    (void)state;
    run_role("{\"role\": \"revpi\", \"led\": 7}", 7, 1);
    run_role("{\"role\": \"pi4\", \"led\": 0}", 0, 1);
    run_role("{\"role\": \"pi4\", \"led\": 99}", 3, 1); /* out of range: the role's LED */
}

/* The real figures of the machine, through system_info. */
static void test_stats_default_board(void **state)
{
    (void)state;
    hv_hal_t *h = seed_board(NULL);
    hv_plugin_t *p = seed_load("pi-monitor", h, NULL);
    poll_stats(p, 48.0, "default board"); /* the simulator's default SoC temperature */
    char *out = seed_call(p, "pi-monitor-logic.poll", NULL);
    assert_non_null(strstr(out, "\"memory-used-mb\":"));
    assert_non_null(strstr(out, "\"uptime-seconds\":"));
    free(out);
    hv_plugin_free(p);
    hv_hal_sim_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pi4_led3),
        cmocka_unit_test(test_revpi_led0),
        cmocka_unit_test(test_pizero_silent),
        cmocka_unit_test(test_default_role_is_pi4),
        cmocka_unit_test(test_led_override),
        cmocka_unit_test(test_stats_default_board),
    };
    return cmocka_run_group_tests(tests, seed_setup, seed_teardown);
}

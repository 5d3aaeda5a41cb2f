/*
 * The oled seed plugin on the simulated SSD1306: after oled-logic.update
 * the chip's display RAM must equal, byte for byte, the frames in
 * oled_expected.hex (drawn by the plugin's own screen code run natively,
 * see plugins/oled/render_check.py); only changed columns go over the bus;
 * an I2C fault is logged and the display re-initialised afterwards.
 */
#include "seed_test.h"

#include "hv_hal.h"

#define FB_SIZE 1024
#define MAX_FRAMES 8
#define OLED_ADDR 0x3C

typedef struct {
    char *readings; /* the readings JSON fed to update */
    uint8_t fb[FB_SIZE];
} frame_t;

static frame_t frames[MAX_FRAMES];
static size_t nframes;

/* ---- expected frames ------------------------------------------------------ */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Appends the bytes of one hex line to fb at *pos; -1 on a bad line. */
static int parse_hex_line(const char *line, uint8_t *fb, size_t *pos)
{
    for (const char *p = line; *p && *p != '\n'; p += 2) {
        int hi = hexval(p[0]), lo = hexval(p[1]);
        if (hi < 0 || lo < 0 || *pos >= FB_SIZE)
            return -1;
        fb[(*pos)++] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

static int load_frames(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/plugins/oled_expected.hex", HV_SOURCE_DIR);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0, pos = 0;
    int rc = 0;
    while (rc == 0 && getline(&line, &cap, f) > 0) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (strncmp(line, "readings ", 9) == 0) {
            if (nframes == MAX_FRAMES || (nframes > 0 && pos != FB_SIZE)) {
                rc = -1;
                break;
            }
            line[strcspn(line, "\n")] = '\0';
            frames[nframes++].readings = strdup(line + 9);
            pos = 0;
        } else if (nframes == 0 || parse_hex_line(line, frames[nframes - 1].fb, &pos) != 0) {
            rc = -1;
        }
    }
    free(line);
    fclose(f);
    if (rc != 0 || nframes < 4 || pos != FB_SIZE) {
        fprintf(stderr, "%s: malformed (regenerate it, see its header)\n", path);
        return -1;
    }
    return 0;
}

static int group_setup(void **state)
{
    return load_frames() == 0 ? seed_setup(state) : -1;
}

static int group_teardown(void **state)
{
    for (size_t i = 0; i < nframes; i++)
        free(frames[i].readings);
    return seed_teardown(state);
}

/* ---- helpers -------------------------------------------------------------- */

/* A board recording its bus transactions to a file (scenario may be NULL). */
static hv_hal_t *recording_board(const char *scenario_toml, char *record, size_t len)
{
    char path[256], err[1024];
    static int n;
    snprintf(record, len, "%s/bus-%d.jsonl", seed_tmp, n++);
    hv_hal_sim_opts_t o = {11, NULL, record, NULL};
    if (scenario_toml != NULL) {
        snprintf(path, sizeof path, "%s/oled-scenario-%d.toml", seed_tmp, n++);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(scenario_toml, f);
        fclose(f);
        o.scenario = path;
    }
    hv_hal_t *h = hv_hal_sim_open(&o, err, sizeof err);
    if (h == NULL)
        fail_msg("board: %s", err);
    return h;
}

/* oled-logic.update(readings): the JSON text becomes one JSON string. */
static void update(hv_plugin_t *p, const char *readings)
{
    size_t n = strlen(readings);
    char *args = malloc(2 * n + 8);
    assert_non_null(args);
    char *o = args;
    *o++ = '[', *o++ = '"';
    for (const char *s = readings; *s; s++) {
        if (*s == '"' || *s == '\\')
            *o++ = '\\';
        *o++ = *s;
    }
    *o++ = '"', *o++ = ']', *o = '\0';
    free(seed_call(p, "oled-logic.update", args));
    free(args);
}

/* The chip's RAM equals frame i, else fails naming the first difference. */
static void assert_shows(hv_hal_t *h, size_t i)
{
    uint8_t fb[FB_SIZE];
    int on = 0;
    assert_int_equal(hv_hal_sim_oled_fb(h, fb, &on), HV_OK);
    assert_true(on);
    for (size_t k = 0; k < FB_SIZE; k++)
        if (fb[k] != frames[i].fb[k])
            fail_msg("frame %zu: page %zu column %zu is 0x%02x, expected 0x%02x", i + 1,
                     k / 128, k % 128, fb[k], frames[i].fb[k]);
}

typedef struct {
    size_t writes, cmd_writes, data_writes, data_bytes, max_write;
    int pages_touched; /* bit p: a page window on page p was set */
    int init_seen;     /* a command stream starting with display off */
} bus_t;

/* Summarises the I2C writes to the OLED recorded after byte offset *from
 * of the recording, and moves *from to its end. */
static bus_t bus_since(const char *record, long *from)
{
    bus_t b = {0};
    FILE *f = fopen(record, "r");
    assert_non_null(f);
    fseek(f, *from, SEEK_SET);
    char *line = NULL;
    size_t cap = 0;
    char needle[32];
    snprintf(needle, sizeof needle, "\"addr\":%d,", OLED_ADDR);
    while (getline(&line, &cap, f) > 0) {
        if (strstr(line, needle) == NULL || strstr(line, "\"rc\":0,") == NULL)
            continue;
        const char *w = strstr(line, "\"w\":\"");
        assert_non_null(w);
        w += 5;
        size_t len = strcspn(w, "\"") / 2;
        b.writes++;
        if (len > b.max_write)
            b.max_write = len;
        if (strncmp(w, "40", 2) == 0) {
            b.data_writes++;
            b.data_bytes += len - 1;
        } else {
            assert_memory_equal(w, "00", 2); /* a command stream */
            b.cmd_writes++;
            if (strncmp(w, "00ae", 4) == 0)
                b.init_seen = 1;
            /* 00 21 c0 c1 22 p0 p1: the window of a page write */
            if (strncmp(w, "0021", 4) == 0 && len == 7 && strncmp(w + 8, "22", 2) == 0)
                b.pages_touched |= 1 << (hexval(w[10]) << 4 | hexval(w[11]));
        }
    }
    *from = ftell(f);
    free(line);
    fclose(f);
    return b;
}

/* The plugin's log lines (seed_load's plugins log to stderr only). */
#define MAX_LOG 256
static struct {
    int level;
    char text[256];
} log_lines[MAX_LOG];
static size_t nlog;

static void on_log(void *ud, const char *plugin, int level, const char *msg)
{
    (void)ud;
    fprintf(stderr, "[%s] %s: %s\n", plugin, hv_log_level_name(level), msg);
    if (nlog < MAX_LOG) {
        log_lines[nlog].level = level;
        snprintf(log_lines[nlog].text, sizeof log_lines[nlog].text, "%s", msg);
        nlog++;
    }
}

/* Lines logged at level containing must_contain since *after; moves it on. */
static size_t logged(int level, const char *must_contain, size_t *after)
{
    size_t hits = 0;
    for (; *after < nlog; ++*after)
        hits += log_lines[*after].level == level &&
                strstr(log_lines[*after].text, must_contain) != NULL;
    return hits;
}

/* The oled plugin on hal with its log lines captured. */
static hv_plugin_t *oled_load(hv_hal_t *hal, const char *config_json)
{
    hv_plugin_free(seed_load("oled", hal, config_json)); /* builds the .wasm once */
    char path[512], err[8192];
    snprintf(path, sizeof path, "%s/oled.wasm", seed_tmp);
    hv_plugin_opts_t o = {.eng = seed_eng, .hal = hal, .config_json = config_json,
                          .log = on_log, .deadline_ms = 20000};
    hv_plugin_t *p = NULL;
    if (hv_plugin_load(path, &o, &p, err, sizeof err) != HV_OK)
        fail_msg("load oled: %s", err);
    return p;
}

/* ---- tests ---------------------------------------------------------------- */

/* First update: init sequence, then the whole screen, exactly as expected,
 * in writes of at most 32 data bytes; then only the changed cells. */
static void test_draws_and_sends_only_changes(void **state)
{
    (void)state;
    char record[300];
    long from = 0;
    hv_hal_t *h = recording_board(NULL, record, sizeof record);
    hv_plugin_t *p = oled_load(h, NULL);

    update(p, frames[0].readings);
    assert_shows(h, 0);
    bus_t b = bus_since(record, &from);
    assert_true(b.init_seen);
    assert_int_equal(b.pages_touched, 0xFF); /* a fresh display: every page */
    assert_int_equal(b.data_bytes, FB_SIZE);
    assert_true(b.max_write <= 33); /* control byte + 32 */

    /* Frame 2 differs from frame 1 in the room temperature only: page 0. */
    for (size_t k = 128; k < FB_SIZE; k++)
        assert_int_equal(frames[0].fb[k], frames[1].fb[k]);
    size_t differing = 0;
    for (size_t k = 0; k < 128; k++)
        differing += frames[0].fb[k] != frames[1].fb[k];
    assert_true(differing > 0);

    update(p, frames[1].readings);
    assert_shows(h, 1);
    b = bus_since(record, &from);
    assert_false(b.init_seen);
    assert_int_equal(b.pages_touched, 0x01);
    assert_true(b.data_bytes >= differing && b.data_bytes < 128);
    printf("changed temperature: %zu writes, %zu data bytes (full screen: %d)\n", b.writes,
           b.data_bytes, FB_SIZE);

    /* Nothing changed: the bus stays quiet. */
    update(p, frames[1].readings);
    b = bus_since(record, &from);
    assert_int_equal(b.writes, 0);

    /* Fallbacks: BME680 temperature, IAQ "CAL", first pi-monitor. */
    update(p, frames[2].readings);
    assert_shows(h, 2);

    hv_plugin_free(p);
    hv_hal_sim_free(h);
}

/* The display unplugged for a while: the failing update logs (once) and
 * returns normally; the first update after it re-initialises the chip
 * (which came back in its reset state: off, RAM cleared) and redraws. */
static void test_fault_reinitialises(void **state)
{
    (void)state;
    char record[300];
    long from = 0;
    size_t seq = nlog;
    hv_hal_t *h = recording_board("[[fault]]\nkind = \"unplug\"\naddress = 0x3C\n"
                                  "from_s = 100\nto_s = 200\n",
                                  record, sizeof record);
    hv_plugin_t *p = oled_load(h, NULL);
    logged(HV_LOG_ERROR, "", &seq);

    update(p, frames[0].readings);
    assert_shows(h, 0);
    assert_int_equal(logged(HV_LOG_ERROR, "", &seq), 0);

    hv_hal_sim_advance(h, 100);
    update(p, frames[1].readings);
    update(p, frames[2].readings);
    assert_int_equal(logged(HV_LOG_ERROR, "0x3C", &seq), 1); /* once, not per update */
    bus_since(record, &from);

    hv_hal_sim_advance(h, 100);
    update(p, frames[2].readings);
    assert_shows(h, 2);
    bus_t b = bus_since(record, &from);
    assert_true(b.init_seen);
    assert_int_equal(b.pages_touched, 0xFF);
    size_t seq2 = seq;
    assert_int_equal(logged(HV_LOG_ERROR, "", &seq), 0);
    assert_int_equal(logged(HV_LOG_INFO, "is back", &seq2), 1);

    hv_plugin_free(p);
    hv_hal_sim_free(h);
}

/* Invalid JSON: a warning and the no-readings screen, no exception. */
static void test_bad_readings(void **state)
{
    (void)state;
    size_t seq = nlog;
    hv_hal_t *h = seed_board(NULL);
    hv_plugin_t *p = oled_load(h, NULL);
    logged(HV_LOG_WARN, "", &seq);

    update(p, "{not json");
    assert_shows(h, 3);
    assert_int_equal(logged(HV_LOG_WARN, "readings", &seq), 1);
    update(p, frames[0].readings);
    assert_shows(h, 0);
    update(p, frames[3].readings); /* "[]" */
    assert_shows(h, 3);
    update(p, "[{\"sensor_id\": 5, \"data\": {\"cpu-temp\": \"hot\", \"iaq\": null}}, 7]");
    assert_shows(h, 3);

    hv_plugin_free(p);
    hv_hal_sim_free(h);
}

/* i2c_address from the config, in the seeds' string form. */
static void test_config_address(void **state)
{
    (void)state;
    size_t seq = nlog;
    hv_hal_t *h = seed_board("[[device]]\nkind = \"ssd1306\"\naddress = 0x3D\n");
    hv_plugin_t *p = oled_load(h, "{\"i2c_address\": \"0x3D\"}");
    logged(HV_LOG_ERROR, "", &seq);
    update(p, frames[0].readings);
    assert_shows(h, 0);
    assert_int_equal(logged(HV_LOG_ERROR, "", &seq), 0);
    hv_plugin_free(p);

    /* The default address has no display on this board: logged, no raise. */
    p = oled_load(h, NULL);
    update(p, frames[0].readings);
    assert_int_equal(logged(HV_LOG_ERROR, "0x3C", &seq), 1);
    hv_plugin_free(p);
    hv_hal_sim_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_draws_and_sends_only_changes),
        cmocka_unit_test(test_fault_reinitialises),
        cmocka_unit_test(test_bad_readings),
        cmocka_unit_test(test_config_address),
    };
    (void)seed_num; /* seed_test.h helper this test has no use for */
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

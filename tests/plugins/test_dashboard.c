/*
 * The dashboard seed plugin: dashboard-logic.render turns the readings JSON
 * into one self-contained page with every card's values, the IAQ and CPU
 * colours, buzzer buttons and a log tab per node; escapes what the
 * readings hold; and answers bad input with a page, not an exception.
 */
#include "seed_test.h"

#include <time.h>

#include <cjson/cJSON.h>

#include "hv_hal.h"

static hv_hal_t *board;
static hv_plugin_t *dash;

/* A hub, a Pi 4 spoke with a DHT22, a BME680 and a BH1750, and a Pi Zero
 * reporting its ping times. */
static const char *CLUSTER =
    "[{\"sensor_id\":\"revpi-hub:pi-monitor\",\"plugin\":\"pi-monitor\",\"timestamp\":1700000000000,"
    "\"data\":{\"cpu-temp\":48.3,\"cpu-usage\":12.5,\"memory-used-mb\":812,\"memory-total-mb\":3794,"
    "\"uptime-seconds\":93784}},"
    "{\"sensor_id\":\"pi4-spoke:pi-monitor\",\"plugin\":\"pi-monitor\",\"timestamp\":1700000000000,"
    "\"data\":{\"cpu-temp\":63.2,\"cpu-usage\":30.1,\"memory-used-mb\":1200,\"memory-total-mb\":3794,"
    "\"uptime-seconds\":5000}},"
    "{\"sensor_id\":\"pi4-spoke:dht22\",\"plugin\":\"dht22\",\"timestamp\":1700000000000,"
    "\"data\":{\"sensor-id\":\"dht22\",\"temperature\":22.5,\"humidity\":45.0}},"
    "{\"sensor_id\":\"pi4-spoke:bme680\",\"plugin\":\"bme680\",\"timestamp\":1700000000000,"
    "\"data\":{\"sensor-id\":\"bme680\",\"temperature\":23.1,\"humidity\":44.2,\"pressure\":1013.4,"
    "\"gas-resistance\":120000.0,\"iaq\":120.0,\"iaq-accuracy\":\"high\"}},"
    "{\"sensor_id\":\"pi4-spoke:bh1750\",\"plugin\":\"bh1750\",\"timestamp\":1700000000000,"
    "\"data\":{\"sensor\":\"bh1750\",\"fields\":[{\"name\":\"lux\",\"value\":333.3,\"unit\":\"lx\"}],"
    "\"extra\":null}},"
    "{\"sensor_id\":\"pizero-spoke:pi-monitor\",\"plugin\":\"pi-monitor\",\"timestamp\":1700000000000,"
    "\"data\":{\"cpu-temp\":77.5,\"cpu-usage\":5.0,\"memory-used-mb\":120,\"memory-total-mb\":416,"
    "\"uptime-seconds\":700,\"latency\":{\"revpi-hub\":1.84,\"pi4-spoke\":null}}}]";

/* ---- helpers -------------------------------------------------------------- */

/* dashboard-logic.render(readings) -> the HTML (malloc'd). */
static char *render(const char *readings)
{
    cJSON *args = cJSON_CreateArray();
    cJSON_AddItemToArray(args, cJSON_CreateString(readings));
    char *args_json = cJSON_PrintUnformatted(args);
    cJSON_Delete(args);
    char *out = seed_call(dash, "dashboard-logic.render", args_json);
    free(args_json);
    cJSON *v = cJSON_Parse(out);
    free(out);
    if (!cJSON_IsString(v))
        fail_msg("render did not return a string");
    char *html = strdup(v->valuestring);
    cJSON_Delete(v);
    return html;
}

static void assert_has(const char *hay, const char *needle)
{
    if (strstr(hay, needle) == NULL)
        fail_msg("missing: %s", needle);
}

static void assert_lacks(const char *hay, const char *needle)
{
    if (strstr(hay, needle) != NULL)
        fail_msg("unexpected: %s", needle);
}

/* The card that starts with marker (an attribute), up to its </section>
 * (malloc'd); fails when there is none. */
static char *card(const char *html, const char *marker)
{
    const char *start = strstr(html, marker);
    if (start == NULL)
        fail_msg("no card %s", marker);
    const char *end = strstr(start, "</section>");
    assert_non_null(end);
    return strndup(start, (size_t)(end - start));
}

static void assert_card_has(const char *html, const char *marker, const char *const *needles)
{
    char *c = card(html, marker);
    for (; *needles; needles++)
        if (strstr(c, *needles) == NULL)
            fail_msg("card %s lacks %s", marker, *needles);
    free(c);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* A complete page, on its own. */
static void assert_page(const char *html)
{
    assert_true(strncmp(html, "<!DOCTYPE html>", 15) == 0);
    assert_has(html, "<meta name=\"viewport\"");
    assert_has(html, "</html>");
    /* no CDN, no web fonts: nothing is fetched from elsewhere */
    assert_lacks(html, "http://");
    assert_lacks(html, "https://");
    assert_lacks(html, "<link");
    assert_lacks(html, "@import");
}

static int group_setup(void **state)
{
    if (seed_setup(state) != 0)
        return -1;
    board = seed_board(NULL);
    return board != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    hv_hal_sim_free(board);
    return seed_teardown(state);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_load(void **state)
{
    (void)state;
    dash = seed_load("dashboard", board, NULL);
}

static void test_cards(void **state)
{
    (void)state;
    char *html = render(CLUSTER);
    assert_page(html);

    assert_card_has(html, "data-sid=\"pi4-spoke:dht22\"",
                    (const char *[]){"DHT22", ">22.5<", ">45.0<", "temp-ok", "hum-ok", NULL});
    assert_card_has(html, "data-sid=\"pi4-spoke:bme680\"",
                    (const char *[]){"BME680", ">23.1<", ">44.2<", ">1013.4<", "hPa",
                                     ">120.0<", "k\xce\xa9", ">120<", "iaq-moderate",
                                     ">Moderate<", NULL});
    assert_card_has(html, "data-sid=\"pi4-spoke:bh1750\"",
                    (const char *[]){"BH1750", "data-field=\"lux\">333.3<", "lx", NULL});

    assert_card_has(html, "data-node=\"revpi-hub\"",
                    (const char *[]){">HUB<", ">48.3<", "cpu-ok", ">12.5<", ">812<", ">3794<",
                                     "1d 2h 3m", "ago<", NULL});
    assert_card_has(html, "data-node=\"pi4-spoke\"",
                    (const char *[]){">SPOKE<", ">63.2<", "cpu-warm", ">30.1<", ">1200<",
                                     "1h 23m", NULL});
    assert_card_has(html, "data-node=\"pizero-spoke\"",
                    (const char *[]){">PI ZERO<", ">77.5<", "cpu-hot", ">120<", ">416<",
                                     "0h 11m", NULL});
    /* the hub first, then the spokes, the Pi Zero last */
    assert_true(strstr(html, "data-node=\"revpi-hub\"") < strstr(html, "data-node=\"pi4-spoke\""));
    assert_true(strstr(html, "data-node=\"pi4-spoke\"") <
                strstr(html, "data-node=\"pizero-spoke\""));

    /* network latency from the Pi Zero's reading */
    assert_has(html, "pizero-spoke \xe2\x86\x92 revpi-hub</td><td>1.8 ms<");
    assert_has(html, "pizero-spoke \xe2\x86\x92 pi4-spoke</td><td>unreachable<");

    /* buzzer buttons, posting a pattern */
    assert_has(html, "data-pattern=\"single\">BEEP</button>");
    assert_has(html, "data-pattern=\"triple\">BEEP x3</button>");
    assert_has(html, "data-pattern=\"long\">LONG</button>");
    assert_has(html, "\"/api/buzzer\"");
    assert_has(html, "JSON.stringify({pattern, node})");
    /* which node's buzzer: the default, or any node on the page */
    assert_has(html, "<select id=\"buzzer-node\"><option value=\"\">default</option>"
                     "<option value=\"revpi-hub\">revpi-hub</option>");
    assert_has(html, "<option value=\"pizero-spoke\">pizero-spoke</option>");

    /* one log tab per node */
    assert_int_equal(count(html, "data-log-node="), 3);
    assert_has(html, "data-log-node=\"revpi-hub\"");
    assert_has(html, "data-log-node=\"pi4-spoke\"");
    assert_has(html, "data-log-node=\"pizero-spoke\"");
    assert_has(html, "\"/api/logs?node=\" + encodeURIComponent(node)");

    /* live updates */
    assert_has(html, "fetch(\"/api/readings\"");
    assert_has(html, "POLL_MS = 3000");
    assert_int_equal(count(html, "<script"), 1);
    free(html);

    /* without a latency object the panel shows a dash */
    html = render("[{\"sensor_id\":\"revpi-hub:pi-monitor\",\"timestamp\":1,"
                  "\"data\":{\"cpu-temp\":40.0}}]");
    assert_has(html, "<tbody id=\"latency\"><tr><td colspan=\"2\">\xe2\x80\x94</td></tr>");
    /* and without DHT22 or BME680 readings their cards say so */
    assert_true(count(html, "no reading") >= 2);
    free(html);
}

/* Each node's network reading (the cluster layer adds one per cycle): its
 * role labels the card (a standalone node is no spoke), a spoke's push
 * latency and queue show in a block the script updates, the hub's count of
 * spokes too, and none of them becomes a sensor card. */
static void test_network_readings(void **state)
{
    (void)state;
    char *html = render(
        "[{\"sensor_id\":\"garden:pi-monitor\",\"plugin\":\"pi-monitor\",\"timestamp\":1,"
        "\"data\":{\"cpu-temp\":40.0}},"
        "{\"sensor_id\":\"garden:network\",\"plugin\":\"cluster\",\"timestamp\":1,"
        "\"data\":{\"role\":\"standalone\"}},"
        "{\"sensor_id\":\"main:network\",\"plugin\":\"cluster\",\"timestamp\":1,"
        "\"data\":{\"role\":\"hub\",\"latency\":{\"shed\":0.42},\"spokes\":2}},"
        "{\"sensor_id\":\"shed:network\",\"plugin\":\"cluster\",\"timestamp\":1,"
        "\"data\":{\"role\":\"spoke\",\"latency\":{\"main\":0.5},\"push_ms\":2.34,"
        "\"queued\":3,\"dropped\":0,\"hub_reachable\":true}}]");
    assert_card_has(html, "data-node=\"garden\"", (const char *[]){">NODE<", ">40.0<", NULL});
    assert_card_has(html, "data-node=\"main\"",
                    (const char *[]){">HUB<", "<dl data-net>", "data-f=\"spokes\">2<", NULL});
    assert_card_has(html, "data-node=\"shed\"",
                    (const char *[]){">SPOKE<", "<dl data-net>", "data-f=\"push_ms\" data-d=\"1\">2.3<",
                                     "data-f=\"queued\">3<", "data-f=\"dropped\">0<", NULL});
    /* "main" says it is the hub: it comes first, though its name does not say so */
    assert_true(strstr(html, "data-node=\"main\"") < strstr(html, "data-node=\"garden\""));
    assert_null(strstr(html, "data-sid=\"shed:network\""));
    assert_has(html, "shed \xe2\x86\x92 main</td><td>0.5 ms<");
    assert_has(html, "main \xe2\x86\x92 shed</td><td>0.4 ms<");
    /* the script sends network readings to the node card's data-net block */
    assert_has(html, "r.plugin === \"cluster\"");
    free(html);
}

/* The seeds' IAQ table: 0 calibrating, <= 50 excellent, <= 100 good,
 * <= 150 moderate, <= 200 poor, above bad; iaq-accuracy "calibrating"
 * wins over the number. */
static void test_iaq_states(void **state)
{
    (void)state;
    static const struct {
        const char *iaq, *accuracy, *cls, *label;
    } cases[] = {
        {"0", "low", "iaq-calibrating", ">Calibrating<"},
        {"80", "calibrating", "iaq-calibrating", ">Calibrating<"},
        {"25", "high", "iaq-excellent", ">Excellent<"},
        {"50", "high", "iaq-excellent", ">Excellent<"},
        {"75.5", "medium", "iaq-good", ">Good<"},
        {"150", "high", "iaq-moderate", ">Moderate<"},
        {"175", "high", "iaq-poor", ">Poor<"},
        {"250", "high", "iaq-bad", ">Bad<"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[512];
        snprintf(json, sizeof json,
                 "[{\"sensor_id\":\"n:bme680\",\"timestamp\":1,\"data\":{\"temperature\":21,"
                 "\"humidity\":40,\"pressure\":1000,\"gas-resistance\":50000,\"iaq\":%s,"
                 "\"iaq-accuracy\":\"%s\"}}]",
                 cases[i].iaq, cases[i].accuracy);
        char *html = render(json);
        assert_card_has(html, "data-sid=\"n:bme680\"",
                        (const char *[]){cases[i].cls, cases[i].label, NULL});
        free(html);
    }
    /* and the stylesheet gives each state its colour */
    char *html = render("[]");
    assert_has(html, ".iaq-calibrating{color:var(--purple)}");
    assert_has(html, ".iaq-moderate{color:var(--yellow)}");
    assert_has(html, ".temp-hot,.cpu-hot,.iaq-bad{color:var(--red)}");
    free(html);
}

/* Everything from the readings is escaped, in text and in attributes. */
static void test_escaping(void **state)
{
    (void)state;
    const char *hostile =
        "[{\"sensor_id\":\"<script>alert(1)</script>\",\"timestamp\":1,"
        "\"data\":{\"sensor\":\"<b>x</b>\",\"fields\":[{\"name\":\"\\\"><img src=x onerror=alert(2)>\","
        "\"value\":\"<script>alert(3)</script>\",\"unit\":\"'\"}],"
        "\"extra\":\"<iframe src=x>\"}},"
        "{\"sensor_id\":\"evil\\\" onmouseover=\\\"alert(4):dht22\",\"timestamp\":1,"
        "\"data\":{\"temperature\":\"<svg onload=alert(5)>\",\"humidity\":1}}]";
    char *html = render(hostile);
    assert_page(html);
    assert_has(html, "&lt;script&gt;alert(1)&lt;/script&gt;");
    assert_has(html, "&lt;script&gt;alert(3)&lt;/script&gt;");
    assert_has(html, "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;");
    assert_has(html, "&lt;iframe src=x&gt;");
    assert_has(html, "data-sid=\"evil&quot; onmouseover=&quot;alert(4):dht22\"");
    assert_lacks(html, "<script>alert");
    assert_lacks(html, "<img");
    assert_lacks(html, "<iframe");
    assert_lacks(html, "<svg");
    assert_lacks(html, "<b>x");
    assert_lacks(html, "\" onmouseover");
    assert_int_equal(count(html, "<script"), 1); /* the page's own */
    free(html);
}

/* Empty, invalid or odd input: a page with a message, never an exception. */
static void test_bad_input(void **state)
{
    (void)state;
    static const struct {
        const char *input, *message;
    } cases[] = {
        {"[]", "No readings yet"},
        {"", "not valid JSON"},
        {"{oops", "not valid JSON"},
        {"null", "not a JSON array"},
        {"{\"a\":1}", "not a JSON array"},
        {"[1, \"x\", null, {\"data\": 5}]", "No readings yet"},
        {"[{\"sensor_id\":7,\"timestamp\":\"x\",\"data\":{\"temperature\":\"hot\","
         "\"humidity\":null,\"cpu-temp\":[1],\"latency\":[2],\"fields\":3}}]",
         NULL},
        {"[{\"sensor_id\":\"a:b\",\"data\":{\"fields\":[1,{\"value\":{\"x\":1}}],"
         "\"latency\":{\"h\":{\"ms\":\"fast\"}}}}]",
         NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *html = render(cases[i].input);
        assert_page(html);
        assert_has(html, "id=\"status\""); /* the real page, not the fallback */
        if (cases[i].message != NULL)
            assert_has(html, cases[i].message);
        free(html);
    }
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Prints how long a 10 KB readings JSON takes (no assertion on time) and
 * leaves the page in the test's working directory for eyeballing. */
static void test_render_time(void **state)
{
    (void)state;
    size_t cap = 16384, len = 0;
    char *json = malloc(cap);
    assert_non_null(json);
    len += (size_t)snprintf(json, cap, "%.*s", (int)strlen(CLUSTER) - 1, CLUSTER);
    for (int i = 1; len < 10240; i++)
        len += (size_t)snprintf(
            json + len, cap - len,
            ",{\"sensor_id\":\"pi4-spoke-%d:pi-monitor\",\"plugin\":\"pi-monitor\","
            "\"timestamp\":1700000000000,\"data\":{\"cpu-temp\":%d.5,\"cpu-usage\":12.5,"
            "\"memory-used-mb\":812,\"memory-total-mb\":3794,\"uptime-seconds\":93784}},"
            "{\"sensor_id\":\"pi4-spoke-%d:bme680\",\"plugin\":\"bme680\",\"timestamp\":"
            "1700000000000,\"data\":{\"sensor-id\":\"bme680\",\"temperature\":23.1,"
            "\"humidity\":44.2,\"pressure\":1013.4,\"gas-resistance\":120000.0,\"iaq\":%d,"
            "\"iaq-accuracy\":\"high\"}}",
            i, 40 + i, i, 20 * i);
    snprintf(json + len, cap - len, "]");
    cJSON *check = cJSON_Parse(json);
    assert_non_null(check);
    cJSON_Delete(check);

    char *html = NULL;
    double best = 1e9, total = 0;
    enum { WARMUP = 3, RUNS = 20 };
    for (int i = 0; i < WARMUP + RUNS; i++) {
        free(html);
        double t0 = now_ms();
        html = render(json);
        double dt = now_ms() - t0;
        if (i >= WARMUP) {
            total += dt;
            best = dt < best ? dt : best;
        }
    }
    assert_page(html);
    printf("render of %zu bytes of readings -> %zu bytes of HTML: best %.3f ms, mean %.3f ms "
           "(host call incl. JSON argument/result conversion)\n",
           strlen(json), strlen(html), best, total / RUNS);
    FILE *f = fopen("dashboard.html", "w");
    if (f != NULL) {
        fputs(html, f);
        fclose(f);
        char cwd[512];
        printf("page saved to %s/dashboard.html\n", getcwd(cwd, sizeof cwd) ? cwd : ".");
    }
    free(html);
    free(json);
}

static void test_unload(void **state)
{
    (void)state;
    hv_plugin_free(dash);
    dash = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load),        cmocka_unit_test(test_cards),
        cmocka_unit_test(test_iaq_states),  cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_bad_input),   cmocka_unit_test(test_render_time),
        cmocka_unit_test(test_network_readings), cmocka_unit_test(test_unload),
    };
    (void)seed_num; /* seed_test.h helper this test has no use for */
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/*
 * Permissions file: the shipped config/permissions.toml grants exactly what
 * it says, the accepted spellings parse, every kind of mistake is reported
 * as file:line:col with a message that says what is wrong (all of them, not
 * just the first), a failed parse leaves the caller's table alone, and
 * hv_perm_entry_allows never grants (nor crashes) outside the allow-lists.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hv_perms.h"

static char dir[] = "/tmp/hv-perms-XXXXXX";

static const char *write_file(const char *text)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/permissions.toml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* A table the parser must not touch on failure. */
static hv_perm_entry_t sentinel_entry;
static void fill_sentinel(hv_perm_table_t *t)
{
    t->entries = &sentinel_entry;
    t->n = 12345;
}
static void assert_sentinel(const hv_perm_table_t *t)
{
    assert_ptr_equal(t->entries, &sentinel_entry);
    assert_int_equal(t->n, 12345);
}

static void bad(const char *text, const char *expect)
{
    hv_perm_table_t t;
    fill_sentinel(&t);
    char err[8192];
    int rc = hv_perm_table_parse(text, strlen(text), "p.toml", &t, err, sizeof err);
    if (rc == HV_OK)
        fail_msg("accepted:\n%s", text);
    assert_int_equal(rc, HV_EINVAL);
    assert_sentinel(&t);
    if (strstr(err, expect) == NULL)
        fail_msg("for\n%s\nexpected [%s] in [%s]", text, expect, err);
}

static void parse_ok(const char *text, hv_perm_table_t *t)
{
    char err[8192];
    strcpy(err, "stale");
    int rc = hv_perm_table_parse(text, strlen(text), "p.toml", t, err, sizeof err);
    if (rc != HV_OK)
        fail_msg("rejected:\n%s\n%s", text, err);
    assert_string_equal(err, "");
}

static bool in_list(const int *list, unsigned v)
{
    for (; *list >= 0; list++)
        if ((unsigned)*list == v)
            return true;
    return false;
}

/* The entry grants exactly these I2C addresses, GPIO pins and LEDs (lists
 * end in -1), and the buzzer iff buzzer; indexes past the maps are denied. */
static void expect_grants(const hv_perm_entry_t *e, const int *i2c, const int *gpio,
                          const int *leds, bool buzzer)
{
    assert_non_null(e);
    for (unsigned i = 0; i < 512; i++) {
        if (hv_perm_entry_allows(e, HV_RES_I2C, i, NULL) != in_list(i2c, i))
            fail_msg("%s: i2c 0x%x", e->name, i);
        if (hv_perm_entry_allows(e, HV_RES_GPIO, i, NULL) != in_list(gpio, i))
            fail_msg("%s: gpio %u", e->name, i);
        if (hv_perm_entry_allows(e, HV_RES_LED, i, NULL) != in_list(leds, i))
            fail_msg("%s: led %u", e->name, i);
    }
    assert_int_equal(hv_perm_entry_allows(e, HV_RES_BUZZER, 0, NULL), buzzer);
}

static const int NONE[] = {-1};

static void test_shipped_file(void **state)
{
    (void)state;
    hv_perm_table_t t;
    char err[4096];
    int rc = hv_perm_table_load(HV_SOURCE_DIR "/config/permissions.toml", &t, err, sizeof err);
    if (rc != HV_OK)
        fail_msg("%s", err);
    assert_int_equal(t.n, 7);

    const hv_perm_entry_t *e = hv_perm_table_find(&t, "bme680");
    assert_non_null(e);
    assert_string_equal(e->name, "bme680");
    assert_true(hv_perm_entry_allows(e, HV_RES_I2C, 0x77, NULL));
    assert_false(hv_perm_entry_allows(e, HV_RES_I2C, 0x76, NULL));
    assert_true(hv_perm_entry_allows(e, HV_RES_LED, 2, NULL));
    assert_false(hv_perm_entry_allows(e, HV_RES_LED, 1, NULL));
    assert_true(hv_perm_entry_allows(e, HV_RES_BUZZER, 0, NULL));
    expect_grants(e, (const int[]){0x77, -1}, NONE, (const int[]){2, -1}, true);

    e = hv_perm_table_find(&t, "oled");
    expect_grants(e, (const int[]){0x3C, -1}, NONE, NONE, false);

    e = hv_perm_table_find(&t, "dht22");
    assert_true(hv_perm_entry_allows(e, HV_RES_GPIO, 4, NULL));
    expect_grants(e, NONE, (const int[]){4, -1}, (const int[]){1, -1}, true);

    e = hv_perm_table_find(&t, "pi_monitor"); /* the file says pi-monitor */
    assert_non_null(e);
    assert_string_equal(e->name, "pi-monitor");
    assert_ptr_equal(hv_perm_table_find(&t, "pi-monitor"), e);
    expect_grants(e, NONE, NONE, (const int[]){0, 3, -1}, true);

    e = hv_perm_table_find(&t, "bh1750");
    expect_grants(e, (const int[]){0x23, -1}, NONE, NONE, false);
    e = hv_perm_table_find(&t, "aht20");
    expect_grants(e, (const int[]){0x38, -1}, NONE, NONE, false);

    /* dashboard: listed, nothing allowed. */
    e = hv_perm_table_find(&t, "dashboard");
    expect_grants(e, NONE, NONE, NONE, false);

    /* No entry in the shipped file grants SPI or UART or sets a limit. */
    for (size_t i = 0; i < t.n; i++) {
        e = &t.entries[i];
        assert_int_equal(e->nspi, 0);
        assert_int_equal(e->nuart, 0);
        assert_false(hv_perm_entry_allows(e, HV_RES_SPI, 0, "spidev0.0"));
        assert_false(hv_perm_entry_allows(e, HV_RES_UART, 0, "serial0"));
        assert_int_equal(e->max_memory_mb, 0);
        assert_int_equal(e->deadline_ms, 0);
    }

    /* Deny by default: an unlisted plugin has no entry, and no entry allows
     * anything. */
    assert_null(hv_perm_table_find(&t, "unlisted"));
    assert_null(hv_perm_table_find(&t, "BME680"));
    assert_null(hv_perm_table_find(&t, "bme68"));
    assert_null(hv_perm_table_find(&t, "bme6800"));
    assert_null(hv_perm_table_find(&t, ""));
    for (int r = 0; r <= HV_RES_COUNT; r++) {
        assert_false(hv_perm_entry_allows(NULL, (hv_res_t)r, 0x77, "spidev0.0"));
        assert_false(hv_perm_entry_allows(NULL, (hv_res_t)r, 0, NULL));
    }
    hv_perm_table_free(&t);
    assert_null(t.entries);
    assert_int_equal(t.n, 0);
    hv_perm_table_free(&t); /* twice is harmless */
}

static void test_spellings(void **state)
{
    (void)state;
    hv_perm_table_t t;

    /* An empty file is valid: nobody may touch anything. */
    parse_ok("", &t);
    assert_int_equal(t.n, 0);
    assert_null(hv_perm_table_find(&t, "bme680"));
    hv_perm_table_free(&t);
    parse_ok("# only a comment\n\n[plugins]\n", &t);
    assert_int_equal(t.n, 0);
    hv_perm_table_free(&t);

    /* "0x77" strings (the seeds' spelling), decimal and octal strings too;
     * the range ends; "/dev/" dropped from device names. */
    parse_ok("[plugins.a]\n"
             "allow_i2c = [\"0x77\", 0x03, \"0x3C\", \"16\", 0x77]\n"
             "allow_gpio = [0, 63]\n"
             "allow_leds = [0, 63]\n"
             "allow_spi = [\"/dev/spidev0.0\", \"spidev0.1\"]\n"
             "allow_uart = [\"serial0\", \"/dev/ttyAMA0\"]\n"
             "allow_buzzer = false\n"
             "max_memory_mb = 4096\n"
             "deadline_ms = 600000\n"
             "[plugins.b]\n"
             "allow_i2c = []\n"
             "allow_spi = []\n"
             "max_memory_mb = 16\n"
             "deadline_ms = 10\n",
             &t);
    assert_int_equal(t.n, 2);
    const hv_perm_entry_t *a = hv_perm_table_find(&t, "a");
    expect_grants(a, (const int[]){0x03, 0x10, 0x3C, 0x77, -1}, (const int[]){0, 63, -1},
                  (const int[]){0, 63, -1}, false);
    assert_int_equal(a->nspi, 2);
    assert_string_equal(a->spi[0], "spidev0.0");
    assert_string_equal(a->spi[1], "spidev0.1");
    assert_int_equal(a->nuart, 2);
    assert_string_equal(a->uart[0], "serial0");
    assert_string_equal(a->uart[1], "ttyAMA0");
    assert_int_equal(a->max_memory_mb, 4096);
    assert_int_equal(a->deadline_ms, 600000);

    /* SPI and UART names: exact matches in the right list only. */
    assert_true(hv_perm_entry_allows(a, HV_RES_SPI, 0, "spidev0.0"));
    assert_true(hv_perm_entry_allows(a, HV_RES_SPI, 7, "spidev0.1"));
    assert_false(hv_perm_entry_allows(a, HV_RES_SPI, 0, "spidev1.0"));
    assert_false(hv_perm_entry_allows(a, HV_RES_SPI, 0, "/dev/spidev0.0"));
    assert_false(hv_perm_entry_allows(a, HV_RES_SPI, 0, "spidev0"));
    assert_false(hv_perm_entry_allows(a, HV_RES_SPI, 0, "serial0"));
    assert_false(hv_perm_entry_allows(a, HV_RES_SPI, 0, ""));
    assert_false(hv_perm_entry_allows(a, HV_RES_SPI, 0, NULL));
    assert_true(hv_perm_entry_allows(a, HV_RES_UART, 0, "serial0"));
    assert_true(hv_perm_entry_allows(a, HV_RES_UART, 0, "ttyAMA0"));
    assert_false(hv_perm_entry_allows(a, HV_RES_UART, 0, "serial1"));
    assert_false(hv_perm_entry_allows(a, HV_RES_UART, 0, "spidev0.0"));
    assert_false(hv_perm_entry_allows(a, HV_RES_UART, 0, NULL));

    /* Out-of-range indexes and unknown resources: denied, never a crash. */
    assert_false(hv_perm_entry_allows(a, HV_RES_I2C, 0x80, NULL));
    assert_false(hv_perm_entry_allows(a, HV_RES_I2C, 0x77 + 0x100, NULL));
    assert_false(hv_perm_entry_allows(a, HV_RES_I2C, UINT_MAX, NULL));
    assert_false(hv_perm_entry_allows(a, HV_RES_GPIO, 64, NULL));
    assert_false(hv_perm_entry_allows(a, HV_RES_GPIO, 200, NULL));
    assert_false(hv_perm_entry_allows(a, HV_RES_GPIO, UINT_MAX, NULL));
    assert_false(hv_perm_entry_allows(a, HV_RES_LED, 64, NULL));
    assert_false(hv_perm_entry_allows(a, HV_RES_LED, 200, NULL));
    assert_false(hv_perm_entry_allows(a, HV_RES_LED, UINT_MAX, NULL));
    assert_false(hv_perm_entry_allows(a, HV_RES_COUNT, 0, "spidev0.0"));
    assert_false(hv_perm_entry_allows(a, (hv_res_t)99, 0x77, "spidev0.0"));

    const hv_perm_entry_t *b = hv_perm_table_find(&t, "b");
    expect_grants(b, NONE, NONE, NONE, false);
    assert_int_equal(b->nspi, 0);
    assert_false(hv_perm_entry_allows(b, HV_RES_SPI, 0, "spidev0.0"));
    assert_int_equal(b->max_memory_mb, 16);
    assert_int_equal(b->deadline_ms, 10);
    hv_perm_table_free(&t);

    /* '-' and '_' compare equal, both ways; inline and dotted tables. */
    parse_ok("[plugins]\n"
             "my-plugin = { allow_gpio = [17], allow_buzzer = true }\n"
             "pi_monitor.allow_leds = [3]\n",
             &t);
    assert_int_equal(t.n, 2);
    assert_non_null(hv_perm_table_find(&t, "pi-monitor"));
    assert_ptr_equal(hv_perm_table_find(&t, "pi-monitor"), hv_perm_table_find(&t, "pi_monitor"));
    expect_grants(hv_perm_table_find(&t, "pi-monitor"), NONE, NONE, (const int[]){3, -1}, false);
    expect_grants(hv_perm_table_find(&t, "my_plugin"), NONE, (const int[]){17, -1}, NONE, true);
    hv_perm_table_free(&t);

    /* Exactly HV_PERMS_MAX_DEVICES names, the longest name that fits. */
    parse_ok("[plugins.x]\nallow_uart = [\"u0\", \"u1\", \"u2\", \"u3\", \"u4\", \"u5\", \"u6\", "
             "\"/dev/u7\"]\nallow_spi = [\"0123456789012345678901234567890\"]\n",
             &t);
    assert_int_equal(t.entries[0].nuart, HV_PERMS_MAX_DEVICES);
    assert_true(hv_perm_entry_allows(&t.entries[0], HV_RES_UART, 0, "u7"));
    assert_true(hv_perm_entry_allows(&t.entries[0], HV_RES_SPI, 0,
                                     "0123456789012345678901234567890"));
    hv_perm_table_free(&t);

    /* A 63-character plugin name is the longest. */
    char text[256];
    snprintf(text, sizeof text, "[plugins.%s]\n", "p12345678901234567890123456789012345678901234567890123456789012");
    parse_ok(text, &t);
    assert_int_equal(t.n, 1);
    assert_int_equal(strlen(t.entries[0].name), 63);
    hv_perm_table_free(&t);

    /* Through a file: the same rules, the path in the messages. */
    hv_perm_table_t lt;
    char err[1024];
    assert_int_equal(hv_perm_table_load(write_file("[plugins.oled]\nallow_i2c = [\"0x3c\"]\n"),
                                        &lt, err, sizeof err),
                     HV_OK);
    expect_grants(hv_perm_table_find(&lt, "oled"), (const int[]){0x3C, -1}, NONE, NONE, false);
    hv_perm_table_free(&lt);
}

static void test_bad_files(void **state)
{
    (void)state;
    /* Unknown keys and sections. */
    bad("[plugins.bme680]\nallow_i2s = [0x77]\n",
        "p.toml:2:1: unknown key 'allow_i2s' in [plugins.bme680] (known: allow_i2c, allow_gpio, "
        "allow_spi, allow_uart, allow_leds, allow_buzzer, max_memory_mb, deadline_ms)");
    bad("[plugins.bme680]\nallow_i2c = [0x77]\n[plugins.bme680.extra]\n",
        "p.toml:3:17: unknown key 'extra' in [plugins.bme680]");
    bad("[sensors]\nx = 1\n",
        "p.toml:1:2: unknown section 'sensors' (known: plugins, as [plugins.NAME] tables)");
    bad("allow_i2c = [0x77]\n", "p.toml:1:1: unknown section 'allow_i2c'");
    bad("plugins = 3\n", "p.toml:1:1: plugins: expected a table, found an integer");
    bad("plugins = [{}]\n", "p.toml:1:1: plugins: expected a table, found an array");
    bad("[plugins]\nbme680 = 5\n",
        "p.toml:2:1: plugins.bme680: expected a table of allow-lists ([plugins.bme680]), found "
        "an integer");
    bad("[[plugins.bme680]]\nallow_i2c = [0x77]\n",
        "p.toml:1:11: plugins.bme680: expected a table of allow-lists ([plugins.bme680]), found "
        "an array");
    bad("[plugins.\"\"]\n", "p.toml:1:10: plugin name '' is empty or too long");
    bad("[plugins.p123456789012345678901234567890123456789012345678901234567890123]\n",
        "p.toml:1:10: plugin name 'p123456789012345678901234567890123456789012345678901234567890123' "
        "is empty or too long");
    bad("[plugins]\n\"a\\u0000b\" = {}\n", "p.toml:2:1: key contains U+0000");

    /* Addresses, pins, LEDs. */
    bad("[plugins.x]\nallow_i2c = [0x02]\n",
        "p.toml:2:14: allow_i2c: 0x2 is out of range (0x3..0x77)");
    bad("[plugins.x]\nallow_i2c = [0x77, 0x78]\n",
        "p.toml:2:20: allow_i2c: 0x78 is out of range (0x3..0x77)");
    bad("[plugins.x]\nallow_i2c = [\"0x80\"]\n",
        "p.toml:2:14: allow_i2c: 0x80 is out of range (0x3..0x77)");
    bad("[plugins.x]\nallow_gpio = [64]\n", "p.toml:2:15: allow_gpio: 64 is out of range (0..63)");
    bad("[plugins.x]\nallow_gpio = [4, 17, 9223372036854775807]\n",
        "p.toml:2:22: allow_gpio: 9223372036854775807 is out of range (0..63)");
    bad("[plugins.x]\nallow_leds = [-1]\n", "p.toml:2:15: allow_leds: -1 is out of range (0..63)");
    bad("[plugins.x]\nallow_leds = [64]\n", "p.toml:2:15: allow_leds: 64 is out of range (0..63)");
    bad("[plugins.x]\nallow_i2c = 0x77\n",
        "p.toml:2:13: allow_i2c: expected an array (e.g. [0x77]), found an integer");
    bad("[plugins.x]\nallow_i2c = \"0x77\"\n",
        "p.toml:2:13: allow_i2c: expected an array (e.g. [0x77]), found a string");
    bad("[plugins.x]\nallow_gpio = 4\n",
        "p.toml:2:14: allow_gpio: expected an array (e.g. [4, 17]), found an integer");
    bad("[plugins.x]\nallow_leds = {}\n",
        "p.toml:2:14: allow_leds: expected an array (e.g. [4, 17]), found a table");
    bad("[plugins.x]\nallow_i2c = [true]\n",
        "p.toml:2:14: allow_i2c: expected an integer, found a boolean");
    bad("[plugins.x]\nallow_i2c = [0x77, 1.5]\n",
        "p.toml:2:20: allow_i2c: expected an integer, found a float");
    bad("[plugins.x]\nallow_gpio = [\"4\"]\n",
        "p.toml:2:15: allow_gpio: expected an integer, found a string");
    bad("[plugins.x]\nallow_leds = [[2]]\n",
        "p.toml:2:15: allow_leds: expected an integer, found an array");
    bad("[plugins.x]\nallow_i2c = [\"0xZZ\"]\n",
        "p.toml:2:14: allow_i2c: \"0xZZ\" is not an address (e.g. 0x77)");
    bad("[plugins.x]\nallow_i2c = [\"\"]\n",
        "p.toml:2:14: allow_i2c: \"\" is not an address (e.g. 0x77)");
    bad("[plugins.x]\nallow_i2c = [\"0x77 \"]\n",
        "p.toml:2:14: allow_i2c: \"0x77 \" is not an address (e.g. 0x77)");

    /* Device names. */
    bad("[plugins.x]\nallow_spi = [\"/dev/spi/0\"]\n",
        "p.toml:2:14: allow_spi: \"/dev/spi/0\" is not a device name");
    bad("[plugins.x]\nallow_spi = [\"../ttyS0\"]\n",
        "p.toml:2:14: allow_spi: \"../ttyS0\" is not a device name");
    bad("[plugins.x]\nallow_uart = [\"\"]\n", "p.toml:2:15: allow_uart: \"\" is not a device name");
    bad("[plugins.x]\nallow_uart = [\"/dev/\"]\n",
        "p.toml:2:15: allow_uart: \"/dev/\" is not a device name");
    bad("[plugins.x]\nallow_uart = [\"serial\\u0000x\"]\n",
        "p.toml:2:15: allow_uart: \"serial\" is not a device name");
    bad("[plugins.x]\nallow_spi = [\"01234567890123456789012345678901\"]\n",
        "p.toml:2:14: allow_spi: \"01234567890123456789012345678901\" is not a device name");
    bad("[plugins.x]\nallow_spi = [\"a0\", \"a1\", \"a2\", \"a3\", \"a4\", \"a5\", \"a6\", \"a7\", "
        "\"a8\"]\n",
        "p.toml:2:62: allow_spi: more than 8 devices");
    bad("[plugins.x]\nallow_spi = \"spidev0.0\"\n",
        "p.toml:2:13: allow_spi: expected an array of device names, found a string");
    bad("[plugins.x]\nallow_spi = [0]\n",
        "p.toml:2:14: allow_spi: expected a device name (e.g. \"spidev0.1\"), found an integer");
    bad("[plugins.x]\nallow_uart = [true]\n",
        "p.toml:2:15: allow_uart: expected a device name (e.g. \"serial0\"), found a boolean");

    /* Buzzer and limits. */
    bad("[plugins.x]\nallow_buzzer = \"yes\"\n",
        "p.toml:2:16: allow_buzzer: expected true or false, found a string");
    bad("[plugins.x]\nallow_buzzer = 1\n",
        "p.toml:2:16: allow_buzzer: expected true or false, found an integer");
    bad("[plugins.x]\nmax_memory_mb = 8\n",
        "p.toml:2:17: max_memory_mb: expected an integer in 16..4096");
    bad("[plugins.x]\nmax_memory_mb = 4097\n",
        "p.toml:2:17: max_memory_mb: expected an integer in 16..4096");
    bad("[plugins.x]\nmax_memory_mb = 64.0\n",
        "p.toml:2:17: max_memory_mb: expected an integer in 16..4096");
    bad("[plugins.x]\ndeadline_ms = 0\n", "p.toml:2:15: deadline_ms: expected an integer in 10..600000");
    bad("[plugins.x]\ndeadline_ms = 600001\n",
        "p.toml:2:15: deadline_ms: expected an integer in 10..600000");
    bad("[plugins.x]\ndeadline_ms = \"5000\"\n",
        "p.toml:2:15: deadline_ms: expected an integer in 10..600000");

    /* Duplicates: '-' and '_' are the same name. */
    bad("[plugins.pi-monitor]\nallow_leds = [3]\n[plugins.pi_monitor]\nallow_leds = [0]\n",
        "p.toml:3:10: plugin 'pi_monitor' is listed twice ('-' and '_' are the same)");

    /* TOML syntax errors come from the parser, with their position. */
    bad("[plugins.x]\nallow_i2c = = 5\n", "p.toml:2:13: ");
    bad("[plugins.x]\nallow_i2c = [0x77\n", "p.toml:3:");
    bad("[plugins.x]\n[plugins.x]\n", "p.toml:2:");
    /* A quoted newline cannot forge a second problem line. */
    bad("[plugins.x]\n\"a\\nf.toml:9:9: forged\" = 1\n",
        "p.toml:2:1: unknown key 'a?f.toml:9:9: forged' in [plugins.x]");
    bad("[plugins.x]\nallow_i2c = [-1]\n", "p.toml:2:14: allow_i2c: -1 is out of range (3..119)");
}

/* Every problem is reported, each on its own line, in file order. */
static void test_all_problems(void **state)
{
    (void)state;
    const char *text = "[plugins.a]\n"            /* 1 */
                       "allow_gpio = [64, 4, -3]\n" /* 2 */
                       "deadline_ms = 0\n"        /* 3 */
                       "[plugins.b]\n"            /* 4 */
                       "bogus = 1\n"              /* 5 */
                       "allow_spi = [\"a/b\"]\n"  /* 6 */
                       "[plugins.a_]\n"           /* 7 */
                       "[plugins.a-]\n"           /* 8 */
                       "[sensors]\n";             /* 9 */
    const char *expect = "p.toml:2:15: allow_gpio: 64 is out of range (0..63)\n"
                         "p.toml:2:22: allow_gpio: -3 is out of range (0..63)\n"
                         "p.toml:3:15: deadline_ms: expected an integer in 10..600000\n"
                         "p.toml:5:1: unknown key 'bogus' in [plugins.b] (known: allow_i2c, "
                         "allow_gpio, allow_spi, allow_uart, allow_leds, allow_buzzer, "
                         "max_memory_mb, deadline_ms)\n"
                         "p.toml:6:14: allow_spi: \"a/b\" is not a device name\n"
                         "p.toml:8:10: plugin 'a-' is listed twice ('-' and '_' are the same)\n"
                         "p.toml:9:2: unknown section 'sensors' (known: plugins, as "
                         "[plugins.NAME] tables)";
    hv_perm_table_t t;
    fill_sentinel(&t);
    char err[4096];
    assert_int_equal(hv_perm_table_parse(text, strlen(text), "p.toml", &t, err, sizeof err),
                     HV_EINVAL);
    assert_string_equal(err, expect);
    assert_sentinel(&t);

    /* An unknown section before [plugins] does not hide the plugins'
     * problems either. */
    bad("[sensors]\n[plugins.a]\nallow_gpio = [64]\n",
        "p.toml:1:2: unknown section 'sensors' (known: plugins, as [plugins.NAME] tables)\n"
        "p.toml:3:15: allow_gpio: 64 is out of range (0..63)");

    /* Past 32 problems: the first 32, then a count. */
    char many[1024] = "[plugins.x]\nallow_gpio = [";
    for (int i = 0; i < 40; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%s%d", i ? ", " : "", 100 + i);
    strcat(many, "]\n");
    fill_sentinel(&t);
    assert_int_equal(hv_perm_table_parse(many, strlen(many), "p.toml", &t, err, sizeof err),
                     HV_EINVAL);
    assert_sentinel(&t);
    int lines = 1;
    for (const char *p = err; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 33);
    assert_non_null(strstr(err, "allow_gpio: 131 is out of range (0..63)\n(8 more problems)"));
    assert_null(strstr(err, "132 is out of range"));

    /* A small buffer: cut short, still a string, nothing written past it. */
    char small[24];
    memset(small, 'z', sizeof small);
    fill_sentinel(&t);
    assert_int_equal(hv_perm_table_parse(many, strlen(many), "p.toml", &t, small, 20), HV_EINVAL);
    assert_sentinel(&t);
    assert_true(strlen(small) < 20);
    assert_int_equal(strncmp(small, "p.toml:2:15: ", 13), 0);
    assert_int_equal(small[20], 'z');
    assert_int_equal(hv_perm_table_parse(many, strlen(many), "p.toml", &t, small, 0), HV_EINVAL);
    assert_sentinel(&t);
}

static void test_load_errors(void **state)
{
    (void)state;
    hv_perm_table_t t;
    char err[1024];

    /* A missing file: HV_ENOENT with the path. */
    fill_sentinel(&t);
    assert_int_equal(hv_perm_table_load("/nonexistent/dir/permissions.toml", &t, err, sizeof err),
                     HV_ENOENT);
    assert_non_null(strstr(err, "/nonexistent/dir/permissions.toml"));
    assert_sentinel(&t);

    /* A bad file: problems carry the path. */
    const char *path = write_file("[plugins.bme680]\nallow_i2c = [0x78]\n");
    fill_sentinel(&t);
    assert_int_equal(hv_perm_table_load(path, &t, err, sizeof err), HV_EINVAL);
    assert_sentinel(&t);
    char expect[256];
    snprintf(expect, sizeof expect, "%s:2:14: allow_i2c: 0x78 is out of range (0x3..0x77)", path);
    assert_string_equal(err, expect);

    path = write_file("[plugins.bme680\n");
    fill_sentinel(&t);
    assert_int_equal(hv_perm_table_load(path, &t, err, sizeof err), HV_EINVAL);
    assert_sentinel(&t);
    snprintf(expect, sizeof expect, "%s:1:", path);
    assert_int_equal(strncmp(err, expect, strlen(expect)), 0);

    /* Not NUL-terminated text: only len bytes are read. */
    const char text[] = "[plugins.a]\nallow_gpio = [4]\nallow_gpio = [99]";
    size_t len = strlen("[plugins.a]\nallow_gpio = [4]\n");
    assert_int_equal(hv_perm_table_parse(text, len, "p.toml", &t, err, sizeof err), HV_OK);
    expect_grants(hv_perm_table_find(&t, "a"), NONE, (const int[]){4, -1}, NONE, false);
    hv_perm_table_free(&t);
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
    snprintf(path, sizeof path, "%s/permissions.toml", dir);
    unlink(path);
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_file),
        cmocka_unit_test(test_spellings),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_all_problems),
        cmocka_unit_test(test_load_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

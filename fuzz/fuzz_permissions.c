/* libFuzzer harness for the permissions file: any input gives a table or
 * clean "f.toml:line:col: ..." lines (at most 32, then a count) with the
 * caller's table untouched; a table holds only what the rules allow (names
 * that fit, no duplicates, addresses/pins/LEDs in range, device names
 * without '/', limits in range) and hv_perm_entry_allows agrees with it
 * (abort otherwise). A second parse into an exactly-sized small error
 * buffer checks that messages never overrun it. */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv_perms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const uint8_t *data, size_t size)
{
    fprintf(stderr, "fuzz_permissions: %s\ninput: %.*s\n", what, (int)size, (const char *)data);
    abort();
}

/* The first line is "f.toml:L:C: message" with L within the input. Every
 * other line is one too, or the final "(N more problems)", unless the text
 * could put a newline into a message (a string escape or a multi-line
 * string quoted in it), or the buffer filled up and cut the last line. */
static bool errors_ok(const char *err, const uint8_t *data, size_t size)
{
    size_t lines = 1, nerr = 0;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    bool strict = memmem(data, size, "\\", 1) == NULL && memmem(data, size, "\"\"\"", 3) == NULL &&
                  memmem(data, size, "'''", 3) == NULL;
    bool full = strlen(err) >= 4095;
    for (const char *p = err; *p;) {
        const char *nl = strchr(p, '\n');
        int line, col, more;
        if (sscanf(p, "f.toml:%d:%d: ", &line, &col) == 2) {
            if ((nerr == 0 || strict) && (line < 1 || col < 1 || (size_t)line > lines))
                return false;
        } else if (nerr == 0) {
            return false;
        } else if ((sscanf(p, "(%d more problems)", &more) != 1 || more < 1 || nl != NULL) &&
                   strict && !(full && nl == NULL)) {
            return false;
        }
        nerr++;
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    return nerr >= 1 && (nerr <= 33 || !strict);
}

static bool name_ok(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    return n > 0 && n < cap && strchr(s, '/') == NULL;
}

static bool entry_ok(const hv_perm_table_t *t, const hv_perm_entry_t *e)
{
    size_t n = strnlen(e->name, sizeof e->name);
    if (n == 0 || n == sizeof e->name)
        return false;
    if (hv_perm_table_find(t, e->name) != e)
        return false; /* a duplicate, or find is broken */
    /* The same name with '-' and '_' swapped finds the same entry. */
    char swapped[sizeof e->name];
    memcpy(swapped, e->name, sizeof swapped);
    for (char *c = swapped; *c; c++)
        *c = *c == '-' ? '_' : *c == '_' ? '-' : *c;
    if (hv_perm_table_find(t, swapped) != e)
        return false;

    for (unsigned i = 0; i < 300; i++) {
        bool i2c = i < 0x80 && ((e->i2c[i >> 3] >> (i & 7)) & 1);
        bool gpio = i < 64 && ((e->gpio[i >> 3] >> (i & 7)) & 1);
        bool led = i < 64 && ((e->leds[i >> 3] >> (i & 7)) & 1);
        if (i2c && (i < 0x03 || i > 0x77))
            return false;
        if (hv_perm_entry_allows(e, HV_RES_I2C, i, NULL) != i2c ||
            hv_perm_entry_allows(e, HV_RES_GPIO, i, NULL) != gpio ||
            hv_perm_entry_allows(e, HV_RES_LED, i, NULL) != led)
            return false;
    }
    for (size_t i = 0x80; i < sizeof e->i2c * 8; i++)
        if ((e->i2c[i >> 3] >> (i & 7)) & 1)
            return false;
    if (hv_perm_entry_allows(e, HV_RES_I2C, UINT32_MAX, NULL) ||
        hv_perm_entry_allows(e, HV_RES_GPIO, UINT32_MAX, NULL) ||
        hv_perm_entry_allows(e, HV_RES_LED, UINT32_MAX, NULL) ||
        hv_perm_entry_allows(e, HV_RES_COUNT, 0, "x") ||
        hv_perm_entry_allows(e, HV_RES_SPI, 0, NULL) ||
        hv_perm_entry_allows(e, HV_RES_UART, 0, NULL))
        return false;
    if (hv_perm_entry_allows(e, HV_RES_BUZZER, 0, NULL) != e->buzzer)
        return false;

    if (e->nspi > HV_PERMS_MAX_DEVICES || e->nuart > HV_PERMS_MAX_DEVICES)
        return false;
    for (size_t i = 0; i < e->nspi; i++)
        if (!name_ok(e->spi[i], sizeof e->spi[i]) ||
            !hv_perm_entry_allows(e, HV_RES_SPI, 0, e->spi[i]))
            return false;
    for (size_t i = 0; i < e->nuart; i++)
        if (!name_ok(e->uart[i], sizeof e->uart[i]) ||
            !hv_perm_entry_allows(e, HV_RES_UART, 0, e->uart[i]))
            return false;

    if (e->max_memory_mb != 0 && (e->max_memory_mb < 16 || e->max_memory_mb > 4096))
        return false;
    if (e->deadline_ms != 0 && (e->deadline_ms < 10 || e->deadline_ms > 600000))
        return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static hv_perm_entry_t sentinel;
    hv_perm_table_t t = {&sentinel, 777};
    char err[4096];
    int rc = hv_perm_table_parse((const char *)data, size, "f.toml", &t, err, sizeof err);
    if (rc != HV_OK) {
        if (rc != HV_EINVAL || t.entries != &sentinel || t.n != 777)
            die("failed with another code, or touched the table", data, size);
        if (!errors_ok(err, data, size))
            die(err, data, size);
        /* Again into a small buffer of exactly its size (ASan sees overruns). */
        size_t len = size ? data[0] % 40 : 0;
        char *small = malloc(len ? len : 1);
        if (small == NULL)
            return 0;
        rc = hv_perm_table_parse((const char *)data, size, "f.toml", &t, small, len);
        if (rc != HV_EINVAL || t.entries != &sentinel ||
            (len > 0 && (strnlen(small, len) == len || strncmp(small, err, strlen(small)) != 0)))
            die("small error buffer", data, size);
        free(small);
        return 0;
    }
    if (err[0] != '\0' || t.n > HV_PERMS_MAX_ENTRIES || (t.n > 0 && t.entries == NULL))
        die("success with a message or a bad count", data, size);
    for (size_t i = 0; i < t.n; i++)
        if (!entry_ok(&t, &t.entries[i]))
            die(t.entries[i].name, data, size);
    hv_perm_table_free(&t);
    if (t.entries != NULL || t.n != 0)
        die("free left the table set", data, size);
    return 0;
}

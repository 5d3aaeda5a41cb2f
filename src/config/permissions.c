/*
 * The permissions file: [plugins.NAME] tables of allow-lists, checked key
 * by key so that a typo is an error with its position, never a silent
 * grant or a silent denial.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_impl.h"
#include "hv_perms.h"
#include "hv_toml.h"

#define BIT_SET(map, i) ((map)[(i) >> 3] |= (uint8_t)(1u << ((i)&7)))
#define BIT_GET(map, i) (((map)[(i) >> 3] >> ((i)&7)) & 1u)

static const char known_keys[] = "allow_i2c, allow_gpio, allow_spi, allow_uart, allow_leds, "
                                 "allow_buzzer, max_memory_mb, deadline_ms";

/* An allow-list of numbers in lo..hi: integers, or "0x77"-style strings
 * (the seeds wrote addresses as strings). */
static void number_list(config_chk_t *c, const hv_toml_kv_t *kv, long lo, long hi, int hex,
                        uint8_t *map)
{
    const hv_toml_value_t *v = kv->value;
    if (v->kind != HV_TOML_ARRAY) {
        config__problem(c, v->line, v->col, "%s: expected an array (e.g. %s), found %s", kv->key,
                        hex ? "[0x77]" : "[4, 17]", config__kind_name(v));
        return;
    }
    for (size_t i = 0; i < v->array.len; i++) {
        const hv_toml_value_t *x = v->array.items[i];
        long long n;
        if (x->kind == HV_TOML_INTEGER) {
            n = x->i;
        } else if (hex && x->kind == HV_TOML_STRING) {
            char *end;
            n = strtoll(x->str.ptr, &end, 0);
            if (x->str.len == 0 || *end != '\0') {
                config__problem(c, x->line, x->col, "%s: \"%s\" is not an address (e.g. 0x77)",
                                kv->key, x->str.ptr);
                continue;
            }
        } else {
            config__problem(c, x->line, x->col, "%s: expected an integer, found %s", kv->key,
                            config__kind_name(x));
            continue;
        }
        if (n < lo || n > hi) {
            config__problem(c, x->line, x->col,
                            hex && n >= 0 ? "%s: 0x%llx is out of range (0x%lx..0x%lx)"
                                          : "%s: %lld is out of range (%ld..%ld)",
                            kv->key, n, lo, hi);
            continue;
        }
        BIT_SET(map, n);
    }
}

/* allow_spi / allow_uart: device names as in /dev ("spidev0.0", "serial0";
 * a "/dev/" prefix is accepted and dropped). */
static void name_list(config_chk_t *c, const hv_toml_kv_t *kv, char (*names)[32],
                      uint8_t *ret_n)
{
    const hv_toml_value_t *v = kv->value;
    if (v->kind != HV_TOML_ARRAY) {
        config__problem(c, v->line, v->col, "%s: expected an array of device names, found %s",
                        kv->key, config__kind_name(v));
        return;
    }
    for (size_t i = 0; i < v->array.len; i++) {
        const hv_toml_value_t *x = v->array.items[i];
        if (x->kind != HV_TOML_STRING) {
            config__problem(c, x->line, x->col, "%s: expected a device name (e.g. \"%s\"), "
                            "found %s", kv->key, kv->key[6] == 's' ? "spidev0.1" : "serial0",
                            config__kind_name(x));
            continue;
        }
        const char *s = x->str.ptr;
        if (strncmp(s, "/dev/", 5) == 0)
            s += 5;
        size_t len = strlen(s);
        if (len == 0 || len >= sizeof names[0] || len != x->str.len - (size_t)(s - x->str.ptr) ||
            strchr(s, '/') != NULL) {
            config__problem(c, x->line, x->col, "%s: \"%s\" is not a device name", kv->key,
                            x->str.ptr);
            continue;
        }
        if (*ret_n == HV_PERMS_MAX_DEVICES) {
            config__problem(c, x->line, x->col, "%s: more than %d devices", kv->key,
                            HV_PERMS_MAX_DEVICES);
            return;
        }
        memcpy(names[(*ret_n)++], s, len + 1);
    }
}

static void limit(config_chk_t *c, const hv_toml_kv_t *kv, long lo, long hi, uint32_t *dst)
{
    const hv_toml_value_t *v = kv->value;
    if (v->kind != HV_TOML_INTEGER || v->i < lo || v->i > hi)
        config__problem(c, v->line, v->col, "%s: expected an integer in %ld..%ld", kv->key, lo,
                        hi);
    else
        *dst = (uint32_t)v->i;
}

static void check_entry(config_chk_t *c, const hv_toml_kv_t *kv, hv_perm_entry_t *e)
{
    const hv_toml_value_t *t = kv->value;
    for (size_t i = 0; i < t->table.len; i++) {
        const hv_toml_kv_t *f = &t->table.items[i];
        const char *k = f->key;
        if (strcmp(k, "allow_i2c") == 0)
            number_list(c, f, 0x03, 0x77, 1, e->i2c);
        else if (strcmp(k, "allow_gpio") == 0)
            number_list(c, f, 0, HV_PERMS_GPIO_MAX, 0, e->gpio);
        else if (strcmp(k, "allow_leds") == 0)
            number_list(c, f, 0, HV_PERMS_LED_MAX, 0, e->leds);
        else if (strcmp(k, "allow_spi") == 0)
            name_list(c, f, e->spi, &e->nspi);
        else if (strcmp(k, "allow_uart") == 0)
            name_list(c, f, e->uart, &e->nuart);
        else if (strcmp(k, "allow_buzzer") == 0) {
            if (f->value->kind != HV_TOML_BOOL)
                config__problem(c, f->value->line, f->value->col,
                                "allow_buzzer: expected true or false, found %s",
                                config__kind_name(f->value));
            else
                e->buzzer = f->value->b;
        } else if (strcmp(k, "max_memory_mb") == 0)
            limit(c, f, 16, 4096, &e->max_memory_mb);
        else if (strcmp(k, "deadline_ms") == 0)
            limit(c, f, 10, 600000, &e->deadline_ms);
        else
            config__problem(c, f->line, f->col, "unknown key '%s' in [plugins.%s] (known: %s)", k,
                            kv->key, known_keys);
    }
}

static void check_plugins(config_chk_t *c, const hv_toml_kv_t *kv, hv_perm_table_t *t)
{
    const hv_toml_value_t *v = kv->value;
    if (v->kind != HV_TOML_TABLE) {
        config__problem(c, kv->line, kv->col, "plugins: expected a table, found %s",
                        config__kind_name(v));
        return;
    }
    if (v->table.len > HV_PERMS_MAX_ENTRIES) {
        config__problem(c, kv->line, kv->col, "plugins: more than %d plugin tables",
                        HV_PERMS_MAX_ENTRIES);
        return;
    }
    t->entries = calloc(v->table.len + 1, sizeof *t->entries);
    if (t->entries == NULL) {
        config__problem(c, kv->line, kv->col, "out of memory");
        return;
    }
    for (size_t i = 0; i < v->table.len; i++) {
        const hv_toml_kv_t *p = &v->table.items[i];
        if (p->value->kind != HV_TOML_TABLE) {
            config__problem(c, p->line, p->col,
                            "plugins.%s: expected a table of allow-lists ([plugins.%s]), found %s",
                            p->key, p->key, config__kind_name(p->value));
            continue;
        }
        if (strlen(p->key) == 0 || strlen(p->key) >= sizeof t->entries[0].name) {
            config__problem(c, p->line, p->col, "plugin name '%s' is empty or too long", p->key);
            continue;
        }
        if (hv_perm_table_find(t, p->key) != NULL) {
            config__problem(c, p->line, p->col,
                            "plugin '%s' is listed twice ('-' and '_' are the same)", p->key);
            continue;
        }
        hv_perm_entry_t *e = &t->entries[t->n++];
        snprintf(e->name, sizeof e->name, "%s", p->key);
        check_entry(c, p, e);
    }
}

/* Checks a parsed document; frees it. */
static int check_doc(hv_toml_doc_t *doc, const char *filename, hv_perm_table_t *ret, char *err,
                     size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    config_chk_t c = {filename, err, errlen, 0, 0};
    hv_perm_table_t t = {NULL, 0};
    const hv_toml_value_t *root = hv_toml_root(doc);
    config__nul_keys(&c, root, 0);
    int nul = c.n;
    for (size_t i = 0; nul == 0 && i < root->table.len; i++) {
        const hv_toml_kv_t *kv = &root->table.items[i];
        if (strcmp(kv->key, "plugins") == 0)
            check_plugins(&c, kv, &t);
        else
            config__problem(&c, kv->line, kv->col,
                            "unknown section '%s' (known: plugins, as [plugins.NAME] tables)",
                            kv->key);
    }
    hv_toml_free(doc);
    if (c.n > 0) {
        config__problems_end(&c);
        hv_perm_table_free(&t);
        return HV_EINVAL;
    }
    *ret = t;
    return HV_OK;
}

int hv_perm_table_parse(const char *src, size_t len, const char *filename, hv_perm_table_t *ret,
                        char *err, size_t errlen)
{
    hv_toml_doc_t *doc;
    int rc = hv_toml_parse(src, len, filename, &doc, err, errlen);
    return rc != HV_OK ? rc : check_doc(doc, filename, ret, err, errlen);
}

int hv_perm_table_load(const char *path, hv_perm_table_t *ret, char *err, size_t errlen)
{
    hv_toml_doc_t *doc;
    int rc = hv_toml_parse_file(path, &doc, err, errlen);
    return rc != HV_OK ? rc : check_doc(doc, path, ret, err, errlen);
}

void hv_perm_table_free(hv_perm_table_t *t)
{
    free(t->entries);
    t->entries = NULL;
    t->n = 0;
}

const hv_perm_entry_t *hv_perm_table_find(const hv_perm_table_t *t, const char *plugin)
{
    for (size_t i = 0; i < t->n; i++)
        if (config__name_eq(t->entries[i].name, plugin))
            return &t->entries[i];
    return NULL;
}

bool hv_perm_entry_allows(const hv_perm_entry_t *e, hv_res_t res, unsigned index,
                          const char *name)
{
    if (e == NULL)
        return false;
    switch (res) {
    case HV_RES_I2C:
        return index <= 0x7F && BIT_GET(e->i2c, index);
    case HV_RES_GPIO:
        return index <= HV_PERMS_GPIO_MAX && BIT_GET(e->gpio, index);
    case HV_RES_LED:
        return index <= HV_PERMS_LED_MAX && BIT_GET(e->leds, index);
    case HV_RES_SPI:
    case HV_RES_UART: {
        const char(*names)[32] = res == HV_RES_SPI ? e->spi : e->uart;
        size_t n = res == HV_RES_SPI ? e->nspi : e->nuart;
        for (size_t i = 0; name != NULL && i < n; i++)
            if (strcmp(names[i], name) == 0)
                return true;
        return false;
    }
    case HV_RES_BUZZER:
        return e->buzzer;
    default:
        return false;
    }
}

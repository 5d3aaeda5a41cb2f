/*
 * Configuration: the TOML tree checked against the schema, key by key, so
 * that every mistake is reported with its position before anything runs.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hv_config.h"
#include "hv_log.h"
#include "hv_toml.h"
#include "config_impl.h"

#define MAX_PROBLEMS 32

__attribute__((format(printf, 4, 5))) void config__problem(config_chk_t *c, int line, int col,
                                                           const char *fmt, ...)
{
    if (c->n++ >= MAX_PROBLEMS || c->used >= c->errlen)
        return;
    size_t start = c->used + (c->used ? 1 : 0); /* after the separating newline */
    int k = snprintf(c->err + c->used, c->errlen - c->used, "%s%s:%d:%d: ", c->used ? "\n" : "",
                     c->file, line, col);
    if (k < 0)
        return;
    c->used += (size_t)k;
    if (c->used >= c->errlen) {
        c->used = c->errlen;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    k = vsnprintf(c->err + c->used, c->errlen - c->used, fmt, ap);
    va_end(ap);
    c->used += k < 0 ? 0 : (size_t)k;
    if (c->used > c->errlen)
        c->used = c->errlen;
    /* One problem, one line: a key or value quoted into the message may
     * hold a newline (or any control character) that would forge another. */
    for (size_t i = start; i < c->used && c->err[i]; i++)
        if ((unsigned char)c->err[i] < 0x20 || c->err[i] == 0x7f)
            c->err[i] = '?';
}

void config__problems_end(config_chk_t *c)
{
    if (c->n > MAX_PROBLEMS && c->used + 40 < c->errlen)
        snprintf(c->err + c->used, c->errlen - c->used, "\n(%d more problems)",
                 c->n - MAX_PROBLEMS);
}

const char *config__kind_name(const hv_toml_value_t *v)
{
    static const char *const names[] = {"a table",   "an array",    "a string",
                                        "an integer", "a float",    "a boolean",
                                        "a date-time", "a date-time", "a date", "a time"};
    return names[v->kind];
}

/* ---- the schema ------------------------------------------------------------ */

typedef enum { F_INT, F_BOOL, F_STR, F_FLOAT, F_ADDR, F_LEVEL } ftype_t;

typedef struct {
    const char *key;
    ftype_t type;
    double min, max;           /* F_INT, F_FLOAT, F_ADDR; F_STR: max length */
    size_t offset;
    const char *const *choices; /* F_STR: allowed values, NULL-terminated */
} field_t;

#define OFF(f) offsetof(hv_config_t, f)
static const char *const roles[] = {"standalone", "hub", "spoke", NULL};
static const char *const backends[] = {"linux", "sim", NULL};

static const field_t polling_fields[] = {{"interval_seconds", F_INT, 1, 3600, OFF(interval_s), NULL},
                                         {NULL, F_INT, 0, 0, 0, NULL}};
static const field_t dht22_fields[] = {{"gpio_pin", F_INT, 0, 27, OFF(dht22_pin), NULL},
                                       {NULL, F_INT, 0, 0, 0, NULL}};
static const field_t bme680_fields[] = {{"i2c_address", F_ADDR, 0x03, 0x77, OFF(bme680_address), NULL},
                                        {NULL, F_INT, 0, 0, 0, NULL}};
static const field_t leds_fields[] = {{"count", F_INT, 1, 64, OFF(led_count), NULL},
                                      {"gpio_pin", F_INT, 0, 27, OFF(led_pin), NULL},
                                      {"brightness", F_FLOAT, 0, 1, OFF(led_brightness), NULL},
                                      {NULL, F_INT, 0, 0, 0, NULL}};
static const field_t buzzer_fields[] = {{"pin", F_INT, 0, 27, OFF(buzzer_pin), NULL},
                                        {NULL, F_INT, 0, 0, 0, NULL}};
static const field_t logging_fields[] = {
    {"level", F_LEVEL, 0, 0, OFF(log_level), NULL},
    {"show_sensor_data", F_BOOL, 0, 0, OFF(show_sensor_data), NULL},
    {NULL, F_INT, 0, 0, 0, NULL}};
static const field_t cluster_fields[] = {
    {"role", F_STR, 0, sizeof(((hv_config_t *)0)->role) - 1, OFF(role), roles},
    {"node_id", F_STR, 0, sizeof(((hv_config_t *)0)->node_id) - 1, OFF(node_id), NULL},
    {"hub_url", F_STR, 0, sizeof(((hv_config_t *)0)->hub_url) - 1, OFF(hub_url), NULL},
    {"spoke_buzzer_url", F_STR, 0, sizeof(((hv_config_t *)0)->spoke_buzzer_url) - 1,
     OFF(spoke_buzzer_url), NULL},
    {"advertise_url", F_STR, 0, sizeof(((hv_config_t *)0)->advertise_url) - 1,
     OFF(advertise_url), NULL},
    {"ping_interval_seconds", F_INT, 1, 3600, OFF(ping_interval_s), NULL},
    {"queue_max_mb", F_INT, 1, 4096, OFF(queue_max_mb), NULL},
    {NULL, F_INT, 0, 0, 0, NULL}};
static const field_t http_fields[] = {
    {"port", F_INT, 1, 65535, OFF(http_port), NULL},
    {"bind", F_STR, 0, sizeof(((hv_config_t *)0)->http_bind) - 1, OFF(http_bind), NULL},
    {"token", F_STR, 0, sizeof(((hv_config_t *)0)->http_token) - 1, OFF(http_token), NULL},
    {NULL, F_INT, 0, 0, 0, NULL}};
#define STR_FIELD(k, f) {k, F_STR, 0, sizeof(((hv_config_t *)0)->f) - 1, OFF(f), NULL}
static const field_t hardware_fields[] = {
    {"backend", F_STR, 0, 7, OFF(backend), backends},
    STR_FIELD("i2c_device", i2c_device),
    STR_FIELD("spi_device", spi_device),
    STR_FIELD("led_spi_device", led_spi_device),
    {"led_spi_hz", F_INT, 2400000, 6400000, OFF(led_spi_hz), NULL},
    STR_FIELD("uart_device", uart_device),
    {"uart_baud", F_INT, 1200, 230400, OFF(uart_baud), NULL},
    STR_FIELD("gpiochip", gpiochip),
    STR_FIELD("scenario", scenario),
    {NULL, F_INT, 0, 0, 0, NULL}};
static const field_t daemon_fields[] = {
    {"data_dir", F_STR, 0, sizeof(((hv_config_t *)0)->data_dir) - 1, OFF(data_dir), NULL},
    {"history_days", F_INT, 1, 3650, OFF(history_days), NULL},
    {NULL, F_INT, 0, 0, 0, NULL}};

/* Checks one value against its field and stores it. */
static void set_field(config_chk_t *c, hv_config_t *cfg, const field_t *f, const hv_toml_kv_t *kv)
{
    const hv_toml_value_t *v = kv->value;
    char *dst = (char *)cfg + f->offset;
    switch (f->type) {
    case F_INT:
    case F_ADDR: {
        long long x;
        if (v->kind == HV_TOML_INTEGER) {
            x = v->i;
        } else if (f->type == F_ADDR && v->kind == HV_TOML_STRING) {
            /* The seeds wrote i2c_address = "0x77". */
            char *end;
            x = strtoll(v->str.ptr, &end, 0);
            if (v->str.len == 0 || *end != '\0') {
                config__problem(c, v->line, v->col, "%s: \"%s\" is not an address (e.g. 0x77)", kv->key,
                        v->str.ptr);
                return;
            }
        } else {
            config__problem(c, v->line, v->col, "%s: expected an integer, found %s", kv->key,
                    config__kind_name(v));
            return;
        }
        if (x < (long long)f->min || x > (long long)f->max) {
            config__problem(c, v->line, v->col, f->type == F_ADDR ? "%s: 0x%llx is out of range (0x%llx..0x%llx)"
                                                          : "%s: %lld is out of range (%lld..%lld)",
                    kv->key, x, (long long)f->min, (long long)f->max);
            return;
        }
        if (f->offset == OFF(interval_s) || f->offset == OFF(ping_interval_s) ||
            f->offset == OFF(queue_max_mb))
            *(uint32_t *)dst = (uint32_t)x;
        else
            *(int *)dst = (int)x;
        return;
    }
    case F_FLOAT: {
        double x = v->kind == HV_TOML_FLOAT ? v->f : v->kind == HV_TOML_INTEGER ? (double)v->i : -1;
        if (v->kind != HV_TOML_FLOAT && v->kind != HV_TOML_INTEGER) {
            config__problem(c, v->line, v->col, "%s: expected a number, found %s", kv->key, config__kind_name(v));
            return;
        }
        if (!(x >= f->min && x <= f->max)) {
            config__problem(c, v->line, v->col, "%s: %g is out of range (%g..%g)", kv->key, x, f->min,
                    f->max);
            return;
        }
        *(double *)dst = x;
        return;
    }
    case F_BOOL:
        if (v->kind != HV_TOML_BOOL) {
            config__problem(c, v->line, v->col, "%s: expected true or false, found %s", kv->key,
                    config__kind_name(v));
            return;
        }
        *(bool *)dst = v->b;
        return;
    case F_LEVEL:
        if (v->kind != HV_TOML_STRING || hv_log_level_from_name(v->str.ptr) < 0) {
            config__problem(c, v->line, v->col,
                    "%s: expected one of \"trace\", \"debug\", \"info\", \"warn\", \"error\"",
                    kv->key);
            return;
        }
        *(int *)dst = hv_log_level_from_name(v->str.ptr);
        return;
    case F_STR:
        if (v->kind != HV_TOML_STRING) {
            config__problem(c, v->line, v->col, "%s: expected a string, found %s", kv->key, config__kind_name(v));
            return;
        }
        if (v->str.len > (size_t)f->max || strlen(v->str.ptr) != v->str.len) {
            config__problem(c, v->line, v->col, "%s: longer than %d bytes", kv->key, (int)f->max);
            return;
        }
        if (f->choices != NULL) {
            int ok = 0;
            for (const char *const *ch = f->choices; *ch; ch++)
                ok |= strcmp(*ch, v->str.ptr) == 0;
            if (!ok) {
                char list[128] = "";
                for (const char *const *ch = f->choices; *ch; ch++)
                    snprintf(list + strlen(list), sizeof list - strlen(list), "%s\"%s\"",
                             ch == f->choices ? "" : ", ", *ch);
                config__problem(c, v->line, v->col, "%s: \"%s\" is not one of %s", kv->key, v->str.ptr,
                        list);
                return;
            }
        }
        memcpy(dst, v->str.ptr, v->str.len + 1);
        return;
    }
}

static const hv_toml_value_t *expect_table(config_chk_t *c, const hv_toml_kv_t *kv, const char *what)
{
    if (kv->value->kind == HV_TOML_TABLE)
        return kv->value;
    config__problem(c, kv->line, kv->col, "%s: expected a table, found %s", what, config__kind_name(kv->value));
    return NULL;
}

static void check_fields(config_chk_t *c, hv_config_t *cfg, const hv_toml_value_t *t,
                         const field_t *fields, const char *section)
{
    for (size_t i = 0; i < t->table.len; i++) {
        const hv_toml_kv_t *kv = &t->table.items[i];
        const field_t *f = fields;
        while (f->key && strcmp(f->key, kv->key) != 0)
            f++;
        if (f->key == NULL) {
            char known[256] = "";
            for (const field_t *g = fields; g->key; g++)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s",
                         g == fields ? "" : ", ", g->key);
            config__problem(c, kv->line, kv->col, "unknown key '%s' in [%s] (known: %s)", kv->key,
                    section, known);
            continue;
        }
        set_field(c, cfg, f, kv);
    }
}

int config__name_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;
        if (x != y)
            return 0;
    }
    return *a == *b;
}

static void check_plugin(config_chk_t *c, hv_config_t *cfg, const hv_toml_kv_t *kv)
{
    const hv_toml_value_t *t = expect_table(c, kv, kv->key);
    if (t == NULL)
        return;
    if (strlen(kv->key) >= sizeof cfg->plugins[0].name) {
        config__problem(c, kv->line, kv->col, "plugin name '%s' is too long", kv->key);
        return;
    }
    hv_plugin_conf_t *pc = &cfg->plugins[cfg->nplugins++];
    memset(pc, 0, sizeof *pc);
    snprintf(pc->name, sizeof pc->name, "%s", kv->key);
    pc->enabled = -1;
    pc->led = -1;
    for (size_t i = 0; i < t->table.len; i++) {
        const hv_toml_kv_t *e = &t->table.items[i];
        const hv_toml_value_t *v = e->value;
        if (strcmp(e->key, "enabled") == 0) {
            if (v->kind != HV_TOML_BOOL)
                config__problem(c, v->line, v->col, "enabled: expected true or false, found %s",
                        config__kind_name(v));
            else
                pc->enabled = v->b;
        } else if (strcmp(e->key, "led") == 0) {
            if (v->kind != HV_TOML_INTEGER || v->i < 0 || v->i > 63)
                config__problem(c, v->line, v->col, "led: expected an LED index (0..63)");
            else
                pc->led = (int)v->i;
        } else if (strcmp(e->key, "memory_mb") == 0) {
            if (v->kind != HV_TOML_INTEGER || v->i < 16 || v->i > 4096)
                config__problem(c, v->line, v->col, "memory_mb: expected an integer in 16..4096");
            else
                pc->memory_mb = (uint32_t)v->i;
        } else if (strcmp(e->key, "deadline_ms") == 0) {
            if (v->kind != HV_TOML_INTEGER || v->i < 10 || v->i > 600000)
                config__problem(c, v->line, v->col, "deadline_ms: expected an integer in 10..600000");
            else
                pc->deadline_ms = (uint32_t)v->i;
        }
        /* Any other key is the plugin's own setting (its `config` import). */
    }
    pc->config_json = hv_toml_to_json(t);
}

static void check_plugins(config_chk_t *c, hv_config_t *cfg, const hv_toml_kv_t *kv)
{
    const hv_toml_value_t *t = expect_table(c, kv, "plugins");
    if (t == NULL)
        return;
    cfg->plugins = calloc(t->table.len + 1, sizeof *cfg->plugins);
    if (cfg->plugins == NULL)
        return;
    for (size_t i = 0; i < t->table.len; i++) {
        const hv_toml_kv_t *e = &t->table.items[i];
        const hv_toml_value_t *v = e->value;
        if (strcmp(e->key, "dir") == 0) {
            if (v->kind != HV_TOML_STRING || v->str.len >= sizeof cfg->plugins_dir)
                config__problem(c, v->line, v->col, "dir: expected a directory path");
            else
                memcpy(cfg->plugins_dir, v->str.ptr, v->str.len + 1);
        } else if (strcmp(e->key, "auto_load") == 0) {
            if (v->kind != HV_TOML_BOOL)
                config__problem(c, v->line, v->col, "auto_load: expected true or false, found %s",
                        config__kind_name(v));
            else
                cfg->auto_load = v->b;
        } else if (strcmp(e->key, "default_memory_mb") == 0) {
            if (v->kind != HV_TOML_INTEGER || v->i < 16 || v->i > 4096)
                config__problem(c, v->line, v->col, "default_memory_mb: expected an integer in 16..4096");
            else
                cfg->default_memory_mb = (uint32_t)v->i;
        } else if (strcmp(e->key, "default_deadline_ms") == 0) {
            if (v->kind != HV_TOML_INTEGER || v->i < 10 || v->i > 600000)
                config__problem(c, v->line, v->col,
                        "default_deadline_ms: expected an integer in 10..600000");
            else
                cfg->default_deadline_ms = (uint32_t)v->i;
        } else if (strcmp(e->key, "permissions") == 0) {
            if (v->kind != HV_TOML_STRING || v->str.len == 0 ||
                v->str.len >= sizeof cfg->permissions || strlen(v->str.ptr) != v->str.len)
                config__problem(c, v->line, v->col, "permissions: expected a file path");
            else
                memcpy(cfg->permissions, v->str.ptr, v->str.len + 1);
        } else if (v->kind == HV_TOML_TABLE) {
            check_plugin(c, cfg, e);
        } else {
            config__problem(c, e->line, e->col,
                    "unknown key '%s' in [plugins] (known: dir, auto_load, default_memory_mb, "
                    "default_deadline_ms, permissions, or a [plugins.NAME] table)",
                    e->key);
        }
    }
}

static void check_sensors(config_chk_t *c, hv_config_t *cfg, const hv_toml_kv_t *kv)
{
    const hv_toml_value_t *t = expect_table(c, kv, "sensors");
    for (size_t i = 0; t && i < t->table.len; i++) {
        const hv_toml_kv_t *e = &t->table.items[i];
        const hv_toml_value_t *st = expect_table(c, e, e->key);
        if (st == NULL)
            continue;
        if (strcmp(e->key, "dht22") == 0)
            check_fields(c, cfg, st, dht22_fields, "sensors.dht22");
        else if (strcmp(e->key, "bme680") == 0)
            check_fields(c, cfg, st, bme680_fields, "sensors.bme680");
        else
            config__problem(c, e->line, e->col, "unknown sensor '%s' in [sensors] (known: dht22, bme680)",
                    e->key);
    }
}

/* Keys holding U+0000 would compare equal to their prefix with strcmp:
 * refuse them anywhere in the file. */
void config__nul_keys(config_chk_t *c, const hv_toml_value_t *v, int depth)
{
    if (depth > 8)
        return;
    if (v->kind == HV_TOML_TABLE) {
        for (size_t i = 0; i < v->table.len; i++) {
            const hv_toml_kv_t *kv = &v->table.items[i];
            if (hv_toml_key_len(kv) != strlen(kv->key))
                config__problem(c, kv->line, kv->col, "key contains U+0000");
            config__nul_keys(c, kv->value, depth + 1);
        }
    } else if (v->kind == HV_TOML_ARRAY) {
        for (size_t i = 0; i < v->array.len; i++)
            config__nul_keys(c, v->array.items[i], depth + 1);
    }
}

static const struct {
    const char *name;
    const field_t *fields;
} sections[] = {
    {"polling", polling_fields}, {"leds", leds_fields},   {"buzzer", buzzer_fields},
    {"logging", logging_fields}, {"cluster", cluster_fields}, {"http", http_fields},
    {"hardware", hardware_fields}, {"daemon", daemon_fields},
};

static int pi_hardware(void)
{
    FILE *f = fopen("/proc/device-tree/model", "r");
    char model[128] = "";
    if (f != NULL) {
        if (fgets(model, sizeof model, f) == NULL)
            model[0] = '\0';
        fclose(f);
    }
    return strstr(model, "Raspberry Pi") != NULL || strstr(model, "Revolution Pi") != NULL;
}

void hv_config_defaults(hv_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->interval_s = 2;
    cfg->dht22_pin = 4;
    cfg->bme680_address = 0x77;
    cfg->led_count = 11;
    cfg->led_pin = 10; /* SPI0 MOSI: the strip is driven by SPI */
    cfg->led_brightness = 0.3;
    cfg->buzzer_pin = 17;
    cfg->log_level = HV_LOG_INFO;
    snprintf(cfg->role, sizeof cfg->role, "standalone");
    cfg->ping_interval_s = 5;
    cfg->queue_max_mb = 16;
    if (gethostname(cfg->node_id, sizeof cfg->node_id) != 0 || cfg->node_id[0] == '\0')
        snprintf(cfg->node_id, sizeof cfg->node_id, "node");
    cfg->node_id[sizeof cfg->node_id - 1] = '\0';
    snprintf(cfg->http_bind, sizeof cfg->http_bind, "0.0.0.0");
    cfg->http_port = 3000;
    snprintf(cfg->backend, sizeof cfg->backend, "%s", pi_hardware() ? "linux" : "sim");
    snprintf(cfg->i2c_device, sizeof cfg->i2c_device, "/dev/i2c-1");
    snprintf(cfg->spi_device, sizeof cfg->spi_device, "/dev/spidev0.1");
    snprintf(cfg->led_spi_device, sizeof cfg->led_spi_device, "/dev/spidev0.0");
    cfg->led_spi_hz = 2400000;
    snprintf(cfg->uart_device, sizeof cfg->uart_device, "/dev/serial0");
    cfg->uart_baud = 9600;
    snprintf(cfg->gpiochip, sizeof cfg->gpiochip, "/dev/gpiochip0");
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "data");
    cfg->history_days = 7;
    snprintf(cfg->plugins_dir, sizeof cfg->plugins_dir, "plugins");
    cfg->default_memory_mb = 64;
    cfg->default_deadline_ms = 5000;
    snprintf(cfg->permissions, sizeof cfg->permissions, "config/permissions.toml");
}

int hv_config_load(const char *path, hv_config_t *ret, char *err, size_t errlen)
{
    hv_toml_doc_t *doc;
    int rc = hv_toml_parse_file(path, &doc, err, errlen);
    if (rc != HV_OK)
        return rc;
    hv_config_t cfg;
    hv_config_defaults(&cfg);
    /* Unless the file says otherwise, permissions live beside it. */
    const char *slash = strrchr(path, '/');
    snprintf(cfg.permissions, sizeof cfg.permissions, "%.*s%spermissions.toml",
             slash ? (int)(slash - path) : 0, path, slash ? "/" : "");
    config_chk_t c = {path, err, errlen, 0, 0};
    if (errlen)
        err[0] = '\0';
    const hv_toml_value_t *root = hv_toml_root(doc);
    config__nul_keys(&c, root, 0);
    int nul = c.n;
    for (size_t i = 0; nul == 0 && i < root->table.len; i++) {
        const hv_toml_kv_t *kv = &root->table.items[i];
        size_t k = 0, n = sizeof sections / sizeof sections[0];
        while (k < n && strcmp(sections[k].name, kv->key) != 0)
            k++;
        if (k < n) {
            const hv_toml_value_t *t = expect_table(&c, kv, kv->key);
            if (t)
                check_fields(&c, &cfg, t, sections[k].fields, kv->key);
        } else if (strcmp(kv->key, "sensors") == 0) {
            check_sensors(&c, &cfg, kv);
        } else if (strcmp(kv->key, "plugins") == 0) {
            check_plugins(&c, &cfg, kv);
        } else {
            config__problem(&c, kv->line, kv->col,
                    "unknown section '%s' (known: polling, sensors, leds, buzzer, logging, "
                    "cluster, http, hardware, daemon, plugins)",
                    kv->key);
        }
    }
    /* Cross-field rules. */
    const hv_toml_kv_t *cl = hv_toml_get(root, "cluster");
    static const char *const url_keys[] = {"hub_url", "spoke_buzzer_url", "advertise_url"};
    const char *urls[] = {cfg.hub_url, cfg.spoke_buzzer_url, cfg.advertise_url};
    for (size_t i = 0; i < 3; i++) {
        if (urls[i][0] && strncmp(urls[i], "http://", 7) != 0 &&
            strncmp(urls[i], "https://", 8) != 0) {
            const hv_toml_kv_t *k = cl && cl->value->kind == HV_TOML_TABLE
                                        ? hv_toml_get(cl->value, url_keys[i])
                                        : NULL;
            config__problem(&c, k ? k->value->line : 1, k ? k->value->col : 1,
                            "%s: \"%s\" is not an http:// or https:// URL", url_keys[i], urls[i]);
        }
    }
    if (strcmp(cfg.role, "spoke") == 0 && cfg.hub_url[0] == '\0') {
        const hv_toml_kv_t *r = cl && cl->value->kind == HV_TOML_TABLE ? hv_toml_get(cl->value, "role") : NULL;
        config__problem(&c, r ? r->value->line : 1, r ? r->value->col : 1,
                "role: a spoke needs cluster.hub_url");
    }
    hv_toml_free(doc);
    if (c.n > 0) {
        config__problems_end(&c);
        hv_config_free(&cfg);
        return HV_EINVAL;
    }
    cfg.path = strdup(path);
    *ret = cfg;
    return HV_OK;
}

void hv_config_free(hv_config_t *cfg)
{
    for (size_t i = 0; i < cfg->nplugins; i++)
        free(cfg->plugins[i].config_json);
    free(cfg->plugins);
    free(cfg->path);
    cfg->plugins = NULL;
    cfg->nplugins = 0;
    cfg->path = NULL;
}

int hv_config_find(const char *explicit_path, char *out, size_t len)
{
    if (explicit_path != NULL) {
        snprintf(out, len, "%s", explicit_path);
        return 1;
    }
    static const char *const candidates[] = {"config/host.toml", "../config/host.toml"};
    for (size_t i = 0; i < 2; i++)
        if (access(candidates[i], R_OK) == 0) {
            snprintf(out, len, "%s", candidates[i]);
            return 1;
        }
    return 0;
}

const hv_plugin_conf_t *hv_config_plugin(const hv_config_t *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nplugins; i++)
        if (config__name_eq(cfg->plugins[i].name, name))
            return &cfg->plugins[i];
    return NULL;
}

bool hv_config_plugin_enabled(const hv_config_t *cfg, const char *name)
{
    const hv_plugin_conf_t *pc = hv_config_plugin(cfg, name);
    if (pc != NULL && pc->enabled >= 0)
        return pc->enabled == 1;
    return pc != NULL ? true : cfg->auto_load;
}

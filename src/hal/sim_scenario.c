/*
 * Scenario files: which chips the simulated board has (and their
 * calibration bytes), the starting environment, how it changes over time,
 * and which faults happen when.
 *
 *   [environment]  temperature_c, humidity_pct, pressure_hpa, gas_ohm, lux, cpu_temp_c
 *   [[ramp]]       field, from_s, to_s, to        (linear from the value at from_s)
 *   [[fault]]      kind = nack|timeout|stuck|unplug, address = 0x77 | device = "dht22",
 *                  from_s, to_s
 *   [[device]]     kind = bme680|bmp280|aht20|bh1750|ssd1306, address, calibration = [bytes]
 *                  (any [[device]] replaces the default set of chips)
 *   [dht22]        pin
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hv_toml.h"
#include "sim_impl.h"

typedef struct {
    const char *file;
    char *err;
    size_t errlen;
    int failed;
} ctx_t;

__attribute__((format(printf, 3, 4))) static int bad(ctx_t *c, const void *at, const char *fmt,
                                                     ...)
{
    const hv_toml_value_t *v = at;
    if (c->failed++)
        return HV_EINVAL;
    int n = snprintf(c->err, c->errlen, "%s:%d:%d: ", c->file, v->line, v->col);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < c->errlen)
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return HV_EINVAL;
}

static const char *const env_names[ENV_NFIELDS] = {"temperature_c", "humidity_pct",
                                                   "pressure_hpa", "gas_ohm",
                                                   "lux",           "cpu_temp_c"};

static int env_field(const char *name)
{
    for (int i = 0; i < ENV_NFIELDS; i++)
        if (strcmp(env_names[i], name) == 0)
            return i;
    return -1;
}

static int number(ctx_t *c, const hv_toml_kv_t *kv, double *ret)
{
    const hv_toml_value_t *v = kv->value;
    if (v->kind == HV_TOML_INTEGER)
        *ret = (double)v->i;
    else if (v->kind == HV_TOML_FLOAT)
        *ret = v->f;
    else
        return bad(c, v, "%s: expected a number", kv->key);
    return HV_OK;
}

static int environment(ctx_t *c, sim_t *s, const hv_toml_value_t *t)
{
    for (size_t i = 0; i < t->table.len; i++) {
        const hv_toml_kv_t *kv = &t->table.items[i];
        int f = env_field(kv->key);
        if (f < 0)
            return bad(c, kv->value, "unknown environment field '%s' (known: temperature_c, "
                       "humidity_pct, pressure_hpa, gas_ohm, lux, cpu_temp_c)", kv->key);
        if (number(c, kv, &s->env0[f]) != HV_OK)
            return HV_EINVAL;
    }
    return HV_OK;
}

/* Reads from_s/to_s of a ramp or fault entry. */
static int span(ctx_t *c, const hv_toml_value_t *t, double *from, double *to)
{
    const hv_toml_kv_t *a = hv_toml_get(t, "from_s"), *b = hv_toml_get(t, "to_s");
    if (a == NULL || b == NULL)
        return bad(c, t, "needs from_s and to_s");
    if (number(c, a, from) != HV_OK || number(c, b, to) != HV_OK)
        return HV_EINVAL;
    if (*to < *from)
        return bad(c, b->value, "to_s is before from_s");
    return HV_OK;
}

static int address(ctx_t *c, const hv_toml_kv_t *kv, int *ret)
{
    if (kv->value->kind != HV_TOML_INTEGER || kv->value->i < 0x03 || kv->value->i > 0x77)
        return bad(c, kv->value, "address: expected an I2C address 0x03..0x77");
    *ret = (int)kv->value->i;
    return HV_OK;
}

static int ramp(ctx_t *c, sim_t *s, const hv_toml_value_t *t)
{
    if (s->nramps == SIM_MAX_RAMPS)
        return bad(c, t, "more than %d ramps", SIM_MAX_RAMPS);
    sim_ramp_t *r = &s->ramps[s->nramps];
    const hv_toml_kv_t *f = hv_toml_get(t, "field"), *to = hv_toml_get(t, "to");
    if (f == NULL || f->value->kind != HV_TOML_STRING || (r->field = env_field(f->value->str.ptr)) < 0)
        return bad(c, f ? (const void *)f->value : (const void *)t,
                   "field: expected one of temperature_c, humidity_pct, pressure_hpa, gas_ohm, lux, "
                   "cpu_temp_c");
    if (to == NULL)
        return bad(c, t, "ramp needs to = <value>");
    if (number(c, to, &r->to) != HV_OK || span(c, t, &r->from_s, &r->to_s) != HV_OK)
        return HV_EINVAL;
    s->nramps++;
    return HV_OK;
}

static int fault(ctx_t *c, sim_t *s, const hv_toml_value_t *t)
{
    static const char *const kinds[] = {"nack", "timeout", "stuck", "unplug"};
    if (s->nfaults == SIM_MAX_FAULTS)
        return bad(c, t, "more than %d faults", SIM_MAX_FAULTS);
    sim_fault_t *f = &s->faults[s->nfaults];
    const hv_toml_kv_t *k = hv_toml_get(t, "kind"), *a = hv_toml_get(t, "address"),
                       *d = hv_toml_get(t, "device");
    f->kind = -1;
    for (int i = 0; k && k->value->kind == HV_TOML_STRING && i < 4; i++)
        if (strcmp(kinds[i], k->value->str.ptr) == 0)
            f->kind = i;
    if (f->kind < 0)
        return bad(c, k ? (const void *)k->value : (const void *)t,
                   "kind: expected \"nack\", \"timeout\", \"stuck\" or \"unplug\"");
    if (a != NULL) {
        if (address(c, a, &f->addr) != HV_OK)
            return HV_EINVAL;
    } else if (d != NULL && d->value->kind == HV_TOML_STRING &&
               strcmp(d->value->str.ptr, "dht22") == 0) {
        f->addr = -1;
    } else {
        return bad(c, t, "fault needs address = 0x.. or device = \"dht22\"");
    }
    if (span(c, t, &f->from_s, &f->to_s) != HV_OK)
        return HV_EINVAL;
    s->nfaults++;
    return HV_OK;
}

static int device(ctx_t *c, sim_t *s, const hv_toml_value_t *t, int *replaced)
{
    static const char *const kinds[] = {"bme680", "bmp280", "aht20", "bh1750", "ssd1306"};
    if (!*replaced) {
        s->nchips = 0; /* a scenario that lists chips lists all of them */
        *replaced = 1;
    }
    if (s->nchips == SIM_MAX_DEVS)
        return bad(c, t, "more than %d devices", SIM_MAX_DEVS);
    sim_chip_t *ch = &s->chips[s->nchips];
    memset(ch, 0, sizeof *ch);
    const hv_toml_kv_t *k = hv_toml_get(t, "kind"), *a = hv_toml_get(t, "address"),
                       *cal = hv_toml_get(t, "calibration");
    int ok = 0;
    for (int i = 0; k && k->value->kind == HV_TOML_STRING && i < 5; i++)
        ok |= strcmp(kinds[i], k->value->str.ptr) == 0;
    if (!ok)
        return bad(c, k ? (const void *)k->value : (const void *)t,
                   "kind: expected bme680, bmp280, aht20, bh1750 or ssd1306");
    snprintf(ch->kind, sizeof ch->kind, "%s", k->value->str.ptr);
    int addr = 0;
    if (a == NULL)
        return bad(c, t, "device needs address = 0x..");
    if (address(c, a, &addr) != HV_OK)
        return HV_EINVAL;
    ch->addr = (uint8_t)addr;
    for (size_t i = 0; i < s->nchips; i++)
        if (s->chips[i].addr == ch->addr)
            return bad(c, a->value, "two devices at 0x%02x", addr);
    if (cal != NULL) {
        const hv_toml_value_t *v = cal->value;
        if (v->kind != HV_TOML_ARRAY || v->array.len > sizeof ch->calib)
            return bad(c, v, "calibration: expected an array of at most %zu bytes",
                       sizeof ch->calib);
        for (size_t i = 0; i < v->array.len; i++) {
            const hv_toml_value_t *b = v->array.items[i];
            if (b->kind != HV_TOML_INTEGER || b->i < 0 || b->i > 255)
                return bad(c, b, "calibration: expected a byte 0..255");
            ch->calib[i] = (uint8_t)b->i;
        }
        ch->calib_len = v->array.len;
    }
    s->nchips++;
    return HV_OK;
}

static int each(ctx_t *c, sim_t *s, const hv_toml_kv_t *kv, int which, int *replaced)
{
    const hv_toml_value_t *v = kv->value;
    if (v->kind != HV_TOML_ARRAY)
        return bad(c, v, "%s: expected [[%s]] tables", kv->key, kv->key);
    for (size_t i = 0; i < v->array.len; i++) {
        const hv_toml_value_t *t = v->array.items[i];
        if (t->kind != HV_TOML_TABLE)
            return bad(c, t, "%s: expected a table", kv->key);
        int rc = which == 0 ? ramp(c, s, t) : which == 1 ? fault(c, s, t) : device(c, s, t, replaced);
        if (rc != HV_OK)
            return rc;
    }
    return HV_OK;
}

int sim__scenario_load(sim_t *s, const char *path, char *err, size_t errlen)
{
    hv_toml_doc_t *doc;
    int rc = hv_toml_parse_file(path, &doc, err, errlen);
    if (rc != HV_OK)
        return rc;
    ctx_t c = {path, err, errlen, 0};
    int replaced = 0;
    const hv_toml_value_t *root = hv_toml_root(doc);
    for (size_t i = 0; rc == HV_OK && i < root->table.len; i++) {
        const hv_toml_kv_t *kv = &root->table.items[i];
        if (strcmp(kv->key, "environment") == 0 && kv->value->kind == HV_TOML_TABLE)
            rc = environment(&c, s, kv->value);
        else if (strcmp(kv->key, "ramp") == 0)
            rc = each(&c, s, kv, 0, &replaced);
        else if (strcmp(kv->key, "fault") == 0)
            rc = each(&c, s, kv, 1, &replaced);
        else if (strcmp(kv->key, "device") == 0)
            rc = each(&c, s, kv, 2, &replaced);
        else if (strcmp(kv->key, "dht22") == 0 && kv->value->kind == HV_TOML_TABLE) {
            const hv_toml_kv_t *p = hv_toml_get(kv->value, "pin");
            if (p == NULL || p->value->kind != HV_TOML_INTEGER || p->value->i < 0 ||
                p->value->i >= SIM_NPINS)
                rc = bad(&c, p ? (const void *)p->value : (const void *)kv->value,
                         "pin: expected a GPIO pin 0..27");
            else
                s->dht22_pin = (int)p->value->i;
        } else {
            rc = bad(&c, kv->value, "unknown key '%s' (known: environment, ramp, fault, device, "
                     "dht22)", kv->key);
        }
    }
    hv_toml_free(doc);
    return rc;
}

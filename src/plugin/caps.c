/*
 * The built-in capabilities: one handler per function of wit/plugin.wit's
 * host interfaces. Handlers get lifted values and build result values; the
 * hardware is behind hv_hal_t. A failure the plugin should handle is a
 * WIT `err`; a broken host is an error return (the guest sees OSError).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "plugin_impl.h"

#define ERRBUF 256
#define SLEEP_MAX_MS 60000

/* ---- value builders ------------------------------------------------------ */

static hv_value_t *new_value(hv_cap_call_t *c, const hv_wit_type_t *t)
{
    hv_value_t *v = hv_arena_alloc(c->a, sizeof *v);
    if (v != NULL)
        v->type = t;
    return v;
}

/* result ok with an optional payload of the ok type. */
static int ok(hv_cap_call_t *c, hv_value_t *ret, hv_value_t *payload)
{
    ret->var.tag = 0;
    ret->var.payload = payload;
    (void)c;
    return HV_OK;
}

__attribute__((format(printf, 3, 4))) static int fail(hv_cap_call_t *c, hv_value_t *ret,
                                                      const char *fmt, ...)
{
    char msg[ERRBUF];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hv_value_t *e = new_value(c, ret->type->err);
    if (e == NULL || (e->str.ptr = hv_arena_strndup(c->a, msg, strlen(msg))) == NULL)
        return HV_ENOMEM;
    e->str.len = strlen(msg);
    ret->var.tag = 1;
    ret->var.payload = e;
    return HV_OK;
}

static hv_value_t *bytes_value(hv_cap_call_t *c, const hv_wit_type_t *t, const uint8_t *b,
                               size_t n)
{
    hv_value_t *v = new_value(c, t);
    if (v == NULL || (v->bytes.ptr = hv_arena_alloc(c->a, n ? n : 1)) == NULL)
        return NULL;
    memcpy(v->bytes.ptr, b, n);
    v->bytes.len = n;
    return v;
}

static hv_value_t *string_value(hv_cap_call_t *c, const hv_wit_type_t *t, const char *s)
{
    hv_value_t *v = new_value(c, t);
    if (v == NULL || (v->str.ptr = hv_arena_strndup(c->a, s, strlen(s))) == NULL)
        return NULL;
    v->str.len = strlen(s);
    return v;
}

static int no_hal(hv_cap_call_t *c, hv_value_t *ret)
{
    if (ret->type && ret->type->kind == HV_WIT_RESULT)
        return fail(c, ret, "no hardware backend");
    snprintf(c->err, c->errlen, "no hardware backend");
    return HV_EIO;
}

#define HAL(c) ((c)->p->o.hal)
#define NEED_HAL(c, ret)                                                                       \
    do {                                                                                       \
        if (HAL(c) == NULL)                                                                    \
            return no_hal(c, ret);                                                             \
    } while (0)

/* ---- permissions ----------------------------------------------------------- */

/* Asks the permission guard (never the guest) whether this call may touch
 * the resource. A denial is the call's `err` when its function returns a
 * result, else an HV_EPERM host error (the guest raises PermissionError).
 * Returns 1 with *rc set when denied. */
static int denied(hv_cap_call_t *c, hv_value_t *ret, hv_res_t res, unsigned index,
                  const char *name, int *rc)
{
    hv_perms_t *g = c->p->o.perms;
    char msg[ERRBUF];
    if (g == NULL || hv_perms_check(g, c->p->perm_name, res, index, name, msg, sizeof msg) == HV_OK)
        return 0;
    if (ret->type != NULL && ret->type->kind == HV_WIT_RESULT) {
        *rc = fail(c, ret, "%s", msg);
    } else {
        snprintf(c->err, c->errlen, "%s", msg);
        *rc = HV_EPERM;
    }
    return 1;
}

#define GUARD(c, ret, res, index, name)                                                        \
    do {                                                                                       \
        int rc_;                                                                               \
        if (denied(c, ret, res, index, name, &rc_))                                            \
            return rc_;                                                                        \
    } while (0)

/* ---- i2c, spi, uart ------------------------------------------------------ */

static int hexval(char ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0'
           : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
           : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                    : -1;
}

static int i2c_common(hv_cap_call_t *c, hv_value_t *ret, uint8_t addr, const uint8_t *wr,
                      size_t wlen, uint64_t rlen, uint8_t *rd)
{
    char err[ERRBUF];
    if (wlen > HV_HAL_MAX_XFER || rlen > HV_HAL_MAX_XFER)
        return fail(c, ret, "i2c: transfer longer than %d bytes", HV_HAL_MAX_XFER);
    if (addr > 0x7F)
        return fail(c, ret, "i2c: address 0x%02x is not a 7-bit address", addr);
    GUARD(c, ret, HV_RES_I2C, addr, NULL);
    int rc = HAL(c)->ops->i2c_transfer(HAL(c), addr, wr, wlen, rd, (size_t)rlen, err, sizeof err);
    return rc == HV_OK ? HV_OK : fail(c, ret, "%s", err);
}

static int cap_i2c_transfer(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    NEED_HAL(c, ret);
    const char *hex = args[1].str.ptr;
    size_t n = 0;
    uint8_t wr[HV_HAL_MAX_XFER], rd[HV_HAL_MAX_XFER];
    int hi = -1;
    for (size_t i = 0; i < args[1].str.len; i++) {
        if (hex[i] == ' ' || hex[i] == ':')
            continue;
        int v = hexval(hex[i]);
        if (v < 0)
            return fail(c, ret, "i2c: write-data: '%c' is not a hex digit", hex[i]);
        if (hi < 0) {
            hi = v;
            continue;
        }
        if (n == sizeof wr)
            return fail(c, ret, "i2c: transfer longer than %d bytes", HV_HAL_MAX_XFER);
        wr[n++] = (uint8_t)(hi << 4 | v);
        hi = -1;
    }
    if (hi >= 0)
        return fail(c, ret, "i2c: write-data: odd number of hex digits");
    int rc = i2c_common(c, ret, (uint8_t)args[0].u, wr, n, args[2].u, rd);
    if (rc != HV_OK || ret->var.tag == 1)
        return rc;
    char out[2 * HV_HAL_MAX_XFER + 1];
    for (size_t i = 0; i < args[2].u; i++)
        snprintf(out + 2 * i, 3, "%02X", rd[i]);
    out[2 * args[2].u] = '\0';
    hv_value_t *v = string_value(c, ret->type->elem, out);
    return v ? ok(c, ret, v) : HV_ENOMEM;
}

static int cap_i2c_transfer_bytes(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    NEED_HAL(c, ret);
    uint8_t rd[HV_HAL_MAX_XFER];
    int rc = i2c_common(c, ret, (uint8_t)args[0].u, args[1].bytes.ptr, args[1].bytes.len,
                        args[2].u, rd);
    if (rc != HV_OK || ret->var.tag == 1)
        return rc;
    hv_value_t *v = bytes_value(c, ret->type->elem, rd, (size_t)args[2].u);
    return v ? ok(c, ret, v) : HV_ENOMEM;
}

static int cap_spi_transfer(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    NEED_HAL(c, ret);
    char err[ERRBUF];
    uint8_t rx[HV_HAL_MAX_XFER];
    GUARD(c, ret, HV_RES_SPI, 0, HAL(c)->spi_name);
    if (args[0].bytes.len > HV_HAL_MAX_XFER)
        return fail(c, ret, "spi: transfer longer than %d bytes", HV_HAL_MAX_XFER);
    int rc = HAL(c)->ops->spi_transfer(HAL(c), args[0].bytes.ptr, rx, args[0].bytes.len, err,
                                        sizeof err);
    if (rc != HV_OK)
        return fail(c, ret, "%s", err);
    hv_value_t *v = bytes_value(c, ret->type->elem, rx, args[0].bytes.len);
    return v ? ok(c, ret, v) : HV_ENOMEM;
}

static int cap_uart_read(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    NEED_HAL(c, ret);
    char err[ERRBUF];
    uint8_t buf[HV_HAL_MAX_XFER];
    GUARD(c, ret, HV_RES_UART, 0, HAL(c)->uart_name);
    size_t max = args[0].u < sizeof buf ? (size_t)args[0].u : sizeof buf, n = 0;
    int rc = HAL(c)->ops->uart_read(HAL(c), buf, max, &n, err, sizeof err);
    if (rc != HV_OK)
        return fail(c, ret, "%s", err);
    hv_value_t *v = bytes_value(c, ret->type->elem, buf, n);
    return v ? ok(c, ret, v) : HV_ENOMEM;
}

static int cap_uart_write(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    NEED_HAL(c, ret);
    char err[ERRBUF];
    GUARD(c, ret, HV_RES_UART, 0, HAL(c)->uart_name);
    if (args[0].bytes.len > HV_HAL_MAX_XFER)
        return fail(c, ret, "uart: write longer than %d bytes", HV_HAL_MAX_XFER);
    int rc = HAL(c)->ops->uart_write(HAL(c), args[0].bytes.ptr, args[0].bytes.len, err, sizeof err);
    if (rc != HV_OK)
        return fail(c, ret, "%s", err);
    hv_value_t *v = new_value(c, ret->type->elem);
    if (v == NULL)
        return HV_ENOMEM;
    v->u = args[0].bytes.len;
    return ok(c, ret, v);
}

static int cap_uart_set_baud(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    NEED_HAL(c, ret);
    char err[ERRBUF];
    GUARD(c, ret, HV_RES_UART, 0, HAL(c)->uart_name);
    int rc = HAL(c)->ops->uart_set_baud(HAL(c), (uint32_t)args[0].u, err, sizeof err);
    return rc == HV_OK ? ok(c, ret, NULL) : fail(c, ret, "%s", err);
}

/* ---- gpio-provider, gpio ------------------------------------------------- */

static int cap_read_dht22(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    NEED_HAL(c, ret);
    char err[ERRBUF];
    float t, h;
    GUARD(c, ret, HV_RES_GPIO, (unsigned)args[0].u, NULL);
    int rc = HAL(c)->ops->dht22_read(HAL(c), (unsigned)args[0].u, &t, &h, err, sizeof err);
    if (rc != HV_OK)
        return fail(c, ret, "%s", err);
    const hv_wit_type_t *tt = ret->type->elem;
    hv_value_t *v = new_value(c, tt);
    if (v == NULL || (v->list.items = hv_arena_alloc(c->a, 2 * sizeof(hv_value_t))) == NULL)
        return HV_ENOMEM;
    v->list.len = 2;
    v->list.items[0] = (hv_value_t){.type = tt->fields[0].type, .f32 = t};
    v->list.items[1] = (hv_value_t){.type = tt->fields[1].type, .f32 = h};
    return ok(c, ret, v);
}

static uint64_t now_ms(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int cap_timestamp_ms(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    (void)c, (void)args;
    ret->u = now_ms(CLOCK_REALTIME);
    return HV_OK;
}

static int cap_cpu_temp(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    (void)args;
    NEED_HAL(c, ret);
    ret->f32 = HAL(c)->ops->cpu_temp(HAL(c));
    return HV_OK;
}

static int cap_gpio_set_mode(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    NEED_HAL(c, ret);
    char err[ERRBUF];
    GUARD(c, ret, HV_RES_GPIO, (unsigned)args[0].u, NULL);
    int rc = HAL(c)->ops->gpio_mode(HAL(c), (unsigned)args[0].u, (int)args[1].var.tag, err,
                                     sizeof err);
    return rc == HV_OK ? ok(c, ret, NULL) : fail(c, ret, "%s", err);
}

static int cap_gpio_read(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    NEED_HAL(c, ret);
    char err[ERRBUF];
    int level = 0;
    GUARD(c, ret, HV_RES_GPIO, (unsigned)args[0].u, NULL);
    int rc = HAL(c)->ops->gpio_read(HAL(c), (unsigned)args[0].u, &level, err, sizeof err);
    if (rc != HV_OK)
        return fail(c, ret, "%s", err);
    hv_value_t *v = new_value(c, ret->type->elem);
    if (v == NULL)
        return HV_ENOMEM;
    v->b = level != 0;
    return ok(c, ret, v);
}

static int cap_gpio_write(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    NEED_HAL(c, ret);
    char err[ERRBUF];
    GUARD(c, ret, HV_RES_GPIO, (unsigned)args[0].u, NULL);
    int rc = HAL(c)->ops->gpio_write(HAL(c), (unsigned)args[0].u, args[1].b, err, sizeof err);
    return rc == HV_OK ? ok(c, ret, NULL) : fail(c, ret, "%s", err);
}

/* ---- leds, buzzer, system ------------------------------------------------- */

static int cap_set_led(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    NEED_HAL(c, ret);
    GUARD(c, ret, HV_RES_LED, (unsigned)args[0].u, NULL);
    if (HAL(c)->ops->led_set(HAL(c), (unsigned)args[0].u, (uint8_t)args[1].u, (uint8_t)args[2].u,
                             (uint8_t)args[3].u) != HV_OK)
        plugin__log(c->p, HV_LOG_WARN, "set-led: no LED %u (strip has %u)", (unsigned)args[0].u,
                    HAL(c)->nleds);
    return HV_OK;
}

static int cap_set_all(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    NEED_HAL(c, ret);
    /* All or nothing: set-all needs every LED of the strip. */
    for (unsigned i = 0; i < HAL(c)->nleds; i++)
        GUARD(c, ret, HV_RES_LED, i, NULL);
    for (unsigned i = 0; i < HAL(c)->nleds; i++)
        HAL(c)->ops->led_set(HAL(c), i, (uint8_t)args[0].u, (uint8_t)args[1].u, (uint8_t)args[2].u);
    return HV_OK;
}

static int cap_sync_leds(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    (void)args;
    NEED_HAL(c, ret);
    /* Under the daemon the strip is written once per cycle, after every
     * plugin has set its LEDs: no flicker, one hardware write. */
    if (c->p->o.host_syncs_leds)
        return HV_OK;
    return HAL(c)->ops->led_sync(HAL(c));
}

static int cap_buzz(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    NEED_HAL(c, ret);
    GUARD(c, ret, HV_RES_BUZZER, 0, NULL);
    unsigned ms = args[0].u > 5000 ? 5000 : (unsigned)args[0].u;
    return HAL(c)->ops->buzz(HAL(c), 1, ms, 0);
}

static int cap_beep(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    NEED_HAL(c, ret);
    GUARD(c, ret, HV_RES_BUZZER, 0, NULL);
    unsigned n = args[0].u > 20 ? 20 : (unsigned)args[0].u;
    unsigned on = args[1].u > 5000 ? 5000 : (unsigned)args[1].u;
    unsigned off = args[2].u > 5000 ? 5000 : (unsigned)args[2].u;
    return HAL(c)->ops->buzz(HAL(c), n, on, off);
}

static int cap_memory_usage(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    (void)args;
    NEED_HAL(c, ret);
    uint32_t used, total;
    HAL(c)->ops->memory_mb(HAL(c), &used, &total);
    if ((ret->list.items = hv_arena_alloc(c->a, 2 * sizeof(hv_value_t))) == NULL)
        return HV_ENOMEM;
    ret->list.len = 2;
    ret->list.items[0] = (hv_value_t){.type = ret->type->fields[0].type, .u = used};
    ret->list.items[1] = (hv_value_t){.type = ret->type->fields[1].type, .u = total};
    return HV_OK;
}

static int cap_cpu_usage(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    (void)args;
    NEED_HAL(c, ret);
    ret->f32 = HAL(c)->ops->cpu_usage(HAL(c));
    return HV_OK;
}

static int cap_uptime(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    (void)args;
    NEED_HAL(c, ret);
    ret->u = HAL(c)->ops->uptime_s(HAL(c));
    return HV_OK;
}

/* ---- clock, log, state, config ------------------------------------------- */

static int cap_now(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    (void)c, (void)args;
    ret->u = now_ms(CLOCK_REALTIME);
    return HV_OK;
}

/* Sleeps in slices so an expiring deadline ends the sleep promptly. */
static int sleep_ns(uint64_t ns)
{
    uint64_t cap = (uint64_t)SLEEP_MAX_MS * 1000000;
    ns = ns > cap ? cap : ns;
    while (ns > 0 && !hv_engine_deadline_expired()) {
        uint64_t slice = ns > 20000000 ? 20000000 : ns;
        struct timespec ts = {(time_t)(slice / 1000000000), (long)(slice % 1000000000)};
        nanosleep(&ts, NULL);
        ns -= slice;
    }
    return HV_OK;
}

static int cap_sleep_ms(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    (void)c, (void)ret;
    return sleep_ns(args[0].u * 1000000);
}

static int cap_sleep_us(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    (void)c, (void)ret;
    return sleep_ns(args[0].u * 1000);
}

static int cap_log_write(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    (void)ret;
    size_t n = args[1].str.len > 4000 ? 4000 : args[1].str.len;
    plugin__log(c->p, (int)args[0].var.tag, "%.*s", (int)n, args[1].str.ptr);
    return HV_OK;
}

static void state_path(hv_plugin_t *p, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s.state", p->state_dir, p->file.name);
}

void plugin__state_load(hv_plugin_t *p)
{
    if (p->state_dir == NULL)
        return;
    char path[PATH_MAX];
    state_path(p, path, sizeof path);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return;
    uint8_t *buf = malloc(PLUGIN_STATE_MAX + 1);
    size_t n = buf ? fread(buf, 1, PLUGIN_STATE_MAX + 1, f) : 0;
    fclose(f);
    if (buf == NULL || n > PLUGIN_STATE_MAX) {
        free(buf);
        plugin__log(p, HV_LOG_WARN, "%s: state larger than %u bytes ignored", path,
                    PLUGIN_STATE_MAX);
        return;
    }
    free(p->state);
    p->state = buf;
    p->state_len = n;
    p->has_state = 1;
}

static int cap_state_get(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    (void)args;
    hv_plugin_t *p = c->p;
    ret->var.tag = p->has_state ? 1 : 0;
    if (p->has_state) {
        ret->var.payload = bytes_value(c, ret->type->elem, p->state, p->state_len);
        if (ret->var.payload == NULL)
            return HV_ENOMEM;
    }
    return HV_OK;
}

static int cap_state_set(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    hv_plugin_t *p = c->p;
    size_t n = args[0].bytes.len;
    if (n > PLUGIN_STATE_MAX)
        return fail(c, ret, "state: %zu bytes is over the %u-byte limit", n, PLUGIN_STATE_MAX);
    uint8_t *copy = malloc(n ? n : 1);
    if (copy == NULL)
        return HV_ENOMEM;
    memcpy(copy, args[0].bytes.ptr, n);
    if (p->state_dir != NULL) {
        /* Write-then-rename: a crash leaves the old state or the new one. */
        char path[PATH_MAX], tmp[PATH_MAX + 8];
        state_path(p, path, sizeof path);
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        FILE *f = fopen(tmp, "wb");
        int okw = f != NULL && fwrite(copy, 1, n, f) == n;
        if (f != NULL && fclose(f) != 0)
            okw = 0;
        if (!okw || rename(tmp, path) != 0) {
            free(copy);
            return fail(c, ret, "state: cannot save %s: %s", path, strerror(errno));
        }
    }
    free(p->state);
    p->state = copy;
    p->state_len = n;
    p->has_state = 1;
    return ok(c, ret, NULL);
}

static int cap_config_get(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret)
{
    cJSON *root = cJSON_Parse(c->p->config_json);
    cJSON *v = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, args[0].str.ptr)
                                    : NULL;
    char *text = v ? cJSON_PrintUnformatted(v) : NULL;
    cJSON_Delete(root);
    ret->var.tag = text != NULL;
    if (text != NULL) {
        ret->var.payload = string_value(c, ret->type->elem, text);
        free(text);
        if (ret->var.payload == NULL)
            return HV_ENOMEM;
    }
    return HV_OK;
}

/* ---- the table -------------------------------------------------------------- */

/* Each handler reads its arguments by position and kind, so it is bound
 * only to a function whose structural signature (kinds, no names) is the
 * one it was written for: a plugin's own WIT cannot make it misread. */
static const struct {
    const char *iface, *func, *sig;
    hv_cap_fn fn;
} builtins[] = {
    {"i2c", "transfer", "(u8,string,u32)->result<string,string>", cap_i2c_transfer},
    {"i2c", "transfer-bytes", "(u8,list<u8>,u32)->result<list<u8>,string>",
     cap_i2c_transfer_bytes},
    {"spi", "transfer", "(list<u8>)->result<list<u8>,string>", cap_spi_transfer},
    {"uart", "read", "(u32)->result<list<u8>,string>", cap_uart_read},
    {"uart", "write", "(list<u8>)->result<u32,string>", cap_uart_write},
    {"uart", "set-baud", "(u32)->result<_,string>", cap_uart_set_baud},
    {"gpio-provider", "read-dht22", "(u8)->result<tuple<f32,f32>,string>", cap_read_dht22},
    {"gpio-provider", "get-timestamp-ms", "()->u64", cap_timestamp_ms},
    {"gpio-provider", "get-cpu-temp", "()->f32", cap_cpu_temp},
    {"gpio", "set-mode", "(u8,enum4)->result<_,string>", cap_gpio_set_mode},
    {"gpio", "read", "(u8)->result<bool,string>", cap_gpio_read},
    {"gpio", "write", "(u8,bool)->result<_,string>", cap_gpio_write},
    {"led-controller", "set-led", "(u8,u8,u8,u8)", cap_set_led},
    {"led-controller", "set-all", "(u8,u8,u8)", cap_set_all},
    {"led-controller", "sync-leds", "()", cap_sync_leds},
    {"buzzer-controller", "buzz", "(u32)", cap_buzz},
    {"buzzer-controller", "beep", "(u8,u32,u32)", cap_beep},
    {"system-info", "get-memory-usage", "()->tuple<u32,u32>", cap_memory_usage},
    {"system-info", "get-cpu-usage", "()->f32", cap_cpu_usage},
    {"system-info", "get-uptime", "()->u64", cap_uptime},
    {"clock", "now", "()->u64", cap_now},
    {"clock", "sleep-ms", "(u32)", cap_sleep_ms},
    {"clock", "sleep-us", "(u32)", cap_sleep_us},
    {"log", "write", "(enum5,string)", cap_log_write},
    {"state", "get", "()->option<list<u8>>", cap_state_get},
    {"state", "set", "(list<u8>)->result<_,string>", cap_state_set},
    {"config", "get", "(string)->option<string>", cap_config_get},
};

static void sig_type(const hv_wit_type_t *t, char *buf, size_t len, size_t *n);

static void sig_put(char *buf, size_t len, size_t *n, const char *s)
{
    size_t k = strlen(s);
    if (*n + k < len)
        memcpy(buf + *n, s, k + 1);
    *n += k;
}

static void sig_type(const hv_wit_type_t *t, char *buf, size_t len, size_t *n)
{
    static const char *const prim[] = {"bool", "s8",  "u8",  "s16", "u16", "s32", "u32",
                                       "s64",  "u64", "f32", "f64", "char", "string"};
    char tmp[32];
    if (t == NULL) {
        sig_put(buf, len, n, "_");
        return;
    }
    switch (t->kind) {
    case HV_WIT_LIST:
    case HV_WIT_OPTION:
        sig_put(buf, len, n, t->kind == HV_WIT_LIST ? "list<" : "option<");
        sig_type(t->elem, buf, len, n);
        sig_put(buf, len, n, ">");
        return;
    case HV_WIT_RESULT:
        sig_put(buf, len, n, "result<");
        sig_type(t->elem, buf, len, n);
        sig_put(buf, len, n, ",");
        sig_type(t->err, buf, len, n);
        sig_put(buf, len, n, ">");
        return;
    case HV_WIT_TUPLE:
        sig_put(buf, len, n, "tuple<");
        for (size_t i = 0; i < t->nfields; i++) {
            if (i)
                sig_put(buf, len, n, ",");
            sig_type(t->fields[i].type, buf, len, n);
        }
        sig_put(buf, len, n, ">");
        return;
    case HV_WIT_ENUM:
        snprintf(tmp, sizeof tmp, "enum%zu", t->nfields);
        sig_put(buf, len, n, tmp);
        return;
    case HV_WIT_RECORD:
    case HV_WIT_VARIANT:
    case HV_WIT_FLAGS:
        sig_put(buf, len, n, "named"); /* no built-in takes these */
        return;
    default:
        sig_put(buf, len, n, prim[t->kind]);
        return;
    }
}

static void func_sig(const hv_wit_func_t *f, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    sig_put(buf, len, &n, "(");
    for (size_t i = 0; i < f->nparams; i++) {
        if (i)
            sig_put(buf, len, &n, ",");
        sig_type(f->params[i].type, buf, len, &n);
    }
    sig_put(buf, len, &n, ")");
    if (f->result) {
        sig_put(buf, len, &n, "->");
        sig_type(f->result, buf, len, &n);
    }
}

hv_cap_fn plugin__builtin_cap(const char *iface, const hv_wit_func_t *f)
{
    char sig[256];
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
        if (strcmp(builtins[i].iface, iface) == 0 && strcmp(builtins[i].func, f->name) == 0) {
            func_sig(f, sig, sizeof sig);
            return strcmp(sig, builtins[i].sig) == 0 ? builtins[i].fn : NULL;
        }
    return NULL;
}

/*
 * The simulated board: a virtual I2C bus routing each transfer to a chip
 * model (sim_*.c) that answers at register level, an environment the chips
 * measure that a scenario drives over time, injected faults, and the rest
 * of a Pi (DHT22, GPIO, SPI and UART loopbacks, LEDs, buzzer). System
 * figures are the real ones of the machine.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hv_log.h"
#include "sim_impl.h"

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Scenario time: real time since the board opened, plus whatever tests
 * skipped with hv_hal_sim_advance (chips' own timing still runs on it). */
double sim__now_s(sim_t *s) { return (double)(mono_us() - s->t0_us) / 1e6 + s->virtual_s; }

uint64_t sim__now_us(sim_t *s) { return (uint64_t)(sim__now_s(s) * 1e6); }

/* The environment at scenario time t: each field starts at its initial
 * value and follows its ramps in order (linear from where it was). */
static void update_env(sim_t *s, double t)
{
    double v[ENV_NFIELDS];
    memcpy(v, s->env0, sizeof v);
    for (size_t i = 0; i < s->nramps; i++) {
        const sim_ramp_t *r = &s->ramps[i];
        if (t <= r->from_s)
            continue;
        double start = v[r->field];
        if (t >= r->to_s || r->to_s <= r->from_s)
            v[r->field] = r->to;
        else
            v[r->field] = start + (r->to - start) * (t - r->from_s) / (r->to_s - r->from_s);
    }
    s->env.temperature_c = v[ENV_TEMPERATURE];
    s->env.humidity_pct = v[ENV_HUMIDITY];
    s->env.pressure_hpa = v[ENV_PRESSURE];
    s->env.gas_ohm = v[ENV_GAS];
    s->env.lux = v[ENV_LUX];
    s->cpu_temp_c = v[ENV_CPU_TEMP];
}

/* The fault active for addr at t, or -1. */
static int fault_at(sim_t *s, int addr, double t)
{
    for (size_t i = 0; i < s->nfaults; i++)
        if (s->faults[i].addr == addr && t >= s->faults[i].from_s && t < s->faults[i].to_s)
            return s->faults[i].kind;
    return -1;
}

static hv_sim_dev_t *make_dev(sim_t *s, const sim_chip_t *c)
{
    const uint8_t *cal = c->calib_len ? c->calib : NULL;
    if (strcmp(c->kind, "bme680") == 0)
        return hv_sim_bme680_new(c->addr, &s->env, cal, c->calib_len);
    if (strcmp(c->kind, "bmp280") == 0)
        return hv_sim_bmp280_new(c->addr, &s->env, cal, c->calib_len);
    if (strcmp(c->kind, "aht20") == 0)
        return hv_sim_aht20_new(c->addr, &s->env);
    if (strcmp(c->kind, "bh1750") == 0)
        return hv_sim_bh1750_new(c->addr, &s->env);
    if (strcmp(c->kind, "ssd1306") == 0)
        return hv_sim_ssd1306_new(c->addr);
    return NULL;
}

static sim_chip_t *find_chip(sim_t *s, uint8_t addr)
{
    for (size_t i = 0; i < s->nchips; i++)
        if (s->chips[i].addr == addr)
            return &s->chips[i];
    return NULL;
}

static int bus_transfer(sim_t *s, uint8_t addr, const uint8_t *wr, size_t wlen, uint8_t *rd,
                        size_t rlen, char *err, size_t errlen)
{
    double t = sim__now_s(s);
    update_env(s, t);
    sim_chip_t *c = find_chip(s, addr);
    int fault = fault_at(s, addr, t);
    if (c != NULL && c->unplugged && fault != FAULT_UNPLUG) {
        /* Plugged back in: a chip powers up in its reset state. */
        c->dev->ops->free(c->dev);
        c->dev = make_dev(s, c);
        c->unplugged = 0;
    }
    if (fault == FAULT_TIMEOUT) {
        snprintf(err, errlen, "i2c: bus timeout");
        return HV_EIO;
    }
    if (c == NULL || c->dev == NULL || fault == FAULT_NACK || fault == FAULT_UNPLUG) {
        if (c != NULL && fault == FAULT_UNPLUG)
            c->unplugged = 1;
        snprintf(err, errlen, "i2c: no device at 0x%02x (no ACK)", addr);
        return HV_EIO;
    }
    uint64_t now = sim__now_us(s);
    int rc = wlen ? c->dev->ops->write(c->dev, wr, wlen, now) : HV_OK;
    if (rc == HV_OK && rlen)
        rc = c->dev->ops->read(c->dev, rd, rlen, now);
    if (rc != HV_OK) {
        snprintf(err, errlen, "i2c: device at 0x%02x did not acknowledge", addr);
        return HV_EIO;
    }
    if (fault == FAULT_STUCK && c->stuck_len > 0) {
        /* A stuck sensor repeats its last answer. */
        for (size_t i = 0; i < rlen; i++)
            rd[i] = c->stuck[i % c->stuck_len];
    } else if (rlen > 0) {
        c->stuck_len = rlen < sizeof c->stuck ? rlen : sizeof c->stuck;
        memcpy(c->stuck, rd, c->stuck_len);
    }
    return HV_OK;
}

static int i2c_transfer(hv_hal_t *h, uint8_t addr, const uint8_t *wr, size_t wlen, uint8_t *rd,
                        size_t rlen, char *err, size_t errlen)
{
    sim_t *s = SIM(h);
    if (addr < 0x03 || addr > 0x77) {
        snprintf(err, errlen, "i2c: address 0x%02x outside 0x03..0x77", addr);
        return HV_EINVAL;
    }
    if (wlen > HV_HAL_MAX_XFER || rlen > HV_HAL_MAX_XFER) {
        snprintf(err, errlen, "i2c: transfer longer than %d bytes", HV_HAL_MAX_XFER);
        return HV_ETOOBIG;
    }
    pthread_mutex_lock(&s->lock);
    int rc = s->replay ? sim__replay(s, "i2c", addr, wr, wlen, rd, rlen, err, errlen)
                       : bus_transfer(s, addr, wr, wlen, rd, rlen, err, errlen);
    sim__record(s, "i2c", addr, wr, wlen, rd, rc == HV_OK ? rlen : 0, rc, rc ? err : "");
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int spi_transfer(hv_hal_t *h, const uint8_t *tx, uint8_t *rx, size_t len, char *err,
                        size_t errlen)
{
    (void)h, (void)err, (void)errlen;
    memcpy(rx, tx, len); /* MISO wired to MOSI */
    return HV_OK;
}

static int uart_read(hv_hal_t *h, uint8_t *buf, size_t max, size_t *ret_n, char *err,
                     size_t errlen)
{
    (void)err, (void)errlen;
    sim_t *s = SIM(h);
    pthread_mutex_lock(&s->lock);
    size_t n = s->uart_len < max ? s->uart_len : max;
    memcpy(buf, s->uart, n);
    memmove(s->uart, s->uart + n, s->uart_len - n);
    s->uart_len -= n;
    pthread_mutex_unlock(&s->lock);
    *ret_n = n;
    return HV_OK;
}

static int uart_write(hv_hal_t *h, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    sim_t *s = SIM(h);
    pthread_mutex_lock(&s->lock);
    int ok = len <= SIM_UART_BUF - s->uart_len;
    if (ok) {
        memcpy(s->uart + s->uart_len, buf, len); /* TX looped back to RX */
        s->uart_len += len;
    }
    pthread_mutex_unlock(&s->lock);
    if (!ok) {
        snprintf(err, errlen, "uart: receive buffer full");
        return HV_EBUSY;
    }
    return HV_OK;
}

static int uart_set_baud(hv_hal_t *h, uint32_t rate, char *err, size_t errlen)
{
    static const uint32_t rates[] = {1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
        if (rates[i] == rate) {
            SIM(h)->baud = rate;
            return HV_OK;
        }
    snprintf(err, errlen, "uart: unsupported baud rate %u", rate);
    return HV_EINVAL;
}

static int check_pin(unsigned pin, char *err, size_t errlen)
{
    if (pin < SIM_NPINS)
        return HV_OK;
    snprintf(err, errlen, "gpio: no pin %u (0..%d)", pin, SIM_NPINS - 1);
    return HV_EINVAL;
}

static int gpio_mode(hv_hal_t *h, unsigned pin, int mode, char *err, size_t errlen)
{
    int rc = check_pin(pin, err, errlen);
    if (rc == HV_OK) {
        SIM(h)->pin_mode[pin] = mode;
        if (mode == 2 || mode == 3)
            SIM(h)->pin_level[pin] = mode == 2;
    }
    return rc;
}

static int gpio_read(hv_hal_t *h, unsigned pin, int *ret_value, char *err, size_t errlen)
{
    int rc = check_pin(pin, err, errlen);
    if (rc == HV_OK)
        *ret_value = SIM(h)->pin_level[pin];
    return rc;
}

static int gpio_write(hv_hal_t *h, unsigned pin, int value, char *err, size_t errlen)
{
    int rc = check_pin(pin, err, errlen);
    if (rc != HV_OK)
        return rc;
    if (SIM(h)->pin_mode[pin] != 1) {
        snprintf(err, errlen, "gpio: pin %u is not an output", pin);
        return HV_EINVAL;
    }
    SIM(h)->pin_level[pin] = value != 0;
    return HV_OK;
}

static int dht22_read(hv_hal_t *h, unsigned pin, float *ret_temp, float *ret_hum, char *err,
                      size_t errlen)
{
    sim_t *s = SIM(h);
    int rc = check_pin(pin, err, errlen);
    if (rc != HV_OK)
        return rc;
    pthread_mutex_lock(&s->lock);
    uint8_t out[8], key = (uint8_t)pin;
    if (s->replay) {
        rc = sim__replay(s, "dht22", (int)pin, &key, 1, out, 8, err, errlen);
        if (rc == HV_OK) {
            memcpy(ret_temp, out, 4);
            memcpy(ret_hum, out + 4, 4);
        }
    } else {
        double t = sim__now_s(s);
        update_env(s, t);
        int fault = fault_at(s, -1, t);
        if (fault >= 0 || (s->dht22_pin >= 0 && (int)pin != s->dht22_pin)) {
            snprintf(err, errlen, fault == FAULT_TIMEOUT || fault == FAULT_STUCK
                                      ? "dht22: checksum error"
                                      : "dht22: no response on pin %u",
                     pin);
            rc = HV_EIO;
        } else {
            *ret_temp = (float)s->env.temperature_c;
            *ret_hum = (float)s->env.humidity_pct;
            memcpy(out, ret_temp, 4);
            memcpy(out + 4, ret_hum, 4);
        }
    }
    sim__record(s, "dht22", (int)pin, &key, 1, out, rc == HV_OK ? 8 : 0, rc, rc ? err : "");
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int led_set(hv_hal_t *h, unsigned index, uint8_t r, uint8_t g, uint8_t b)
{
    if (index >= h->nleds)
        return HV_ERANGE;
    SIM(h)->led_buf[index] = (uint32_t)r << 16 | (uint32_t)g << 8 | b;
    return HV_OK;
}

static int led_sync(hv_hal_t *h)
{
    sim_t *s = SIM(h);
    pthread_mutex_lock(&s->lock);
    memcpy(s->led_out, s->led_buf, sizeof s->led_out);
    s->led_writes++;
    pthread_mutex_unlock(&s->lock);
    return HV_OK;
}

static int buzz(hv_hal_t *h, unsigned count, unsigned on_ms, unsigned off_ms)
{
    sim_t *s = SIM(h);
    pthread_mutex_lock(&s->lock);
    s->beeps += count;
    pthread_mutex_unlock(&s->lock);
    hv_log("buzzer", HV_LOG_INFO, "%u x %u ms (every %u ms)", count, on_ms, on_ms + off_ms);
    return HV_OK;
}

static double read_first_number(const char *path, double fallback)
{
    FILE *f = fopen(path, "r");
    double v = fallback;
    if (f != NULL) {
        if (fscanf(f, "%lf", &v) != 1)
            v = fallback;
        fclose(f);
    }
    return v;
}

/* The simulated node's SoC temperature: the scenario's cpu_temp_c, so the
 * pi-monitor alarms can be driven like the sensors. */
static float cpu_temp(hv_hal_t *h)
{
    sim_t *s = SIM(h);
    pthread_mutex_lock(&s->lock);
    update_env(s, sim__now_s(s));
    float t = (float)s->cpu_temp_c;
    pthread_mutex_unlock(&s->lock);
    return t;
}

static float cpu_usage(hv_hal_t *h)
{
    (void)h;
    double load = read_first_number("/proc/loadavg", 0) * 100.0;
    return (float)(load > 100.0 ? 100.0 : load);
}

static void memory_mb(hv_hal_t *h, uint32_t *ret_used, uint32_t *ret_total)
{
    (void)h;
    unsigned long total = 0, avail = 0, v;
    char key[64];
    FILE *f = fopen("/proc/meminfo", "r");
    while (f != NULL && fscanf(f, "%63s %lu kB", key, &v) == 2) {
        if (strcmp(key, "MemTotal:") == 0)
            total = v;
        else if (strcmp(key, "MemAvailable:") == 0)
            avail = v;
    }
    if (f != NULL)
        fclose(f);
    *ret_total = (uint32_t)(total / 1024);
    *ret_used = (uint32_t)((total - (avail < total ? avail : total)) / 1024);
}

static uint64_t uptime_s(hv_hal_t *h)
{
    (void)h;
    return (uint64_t)read_first_number("/proc/uptime", 0);
}

static const hv_hal_ops_t sim_ops = {
    i2c_transfer, spi_transfer, uart_read, uart_write, uart_set_baud, gpio_mode, gpio_read,
    gpio_write,   dht22_read,   led_set,   led_sync,   buzz,          cpu_temp,  cpu_usage,
    memory_mb,    uptime_s,
};

/* The default board: what `make run` shows without a scenario. */
static void defaults(sim_t *s)
{
    s->env0[ENV_TEMPERATURE] = 22.5;
    s->env0[ENV_HUMIDITY] = 45.0;
    s->env0[ENV_PRESSURE] = 1013.25;
    s->env0[ENV_GAS] = 120000.0;
    s->env0[ENV_LUX] = 333.34; /* 400 counts on a BH1750 */
    s->env0[ENV_CPU_TEMP] = 48.0;
    static const struct {
        const char *kind;
        uint8_t addr;
    } chips[] = {{"bme680", 0x77}, {"ssd1306", 0x3C}, {"aht20", 0x38},
                 {"bmp280", 0x76}, {"bh1750", 0x23}};
    s->nchips = 0;
    for (size_t i = 0; i < sizeof chips / sizeof chips[0]; i++) {
        sim_chip_t *c = &s->chips[s->nchips++];
        memset(c, 0, sizeof *c);
        snprintf(c->kind, sizeof c->kind, "%s", chips[i].kind);
        c->addr = chips[i].addr;
    }
    s->dht22_pin = -1; /* any pin */
}

hv_hal_t *hv_hal_sim_open(const hv_hal_sim_opts_t *o, char *err, size_t errlen)
{
    sim_t *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->base.ops = &sim_ops;
    s->base.nleds = o->nleds > HV_HAL_MAX_LEDS ? HV_HAL_MAX_LEDS : o->nleds;
    hv_hal_set_device_names(&s->base, "/dev/spidev0.1", "/dev/serial0");
    pthread_mutex_init(&s->lock, NULL);
    s->baud = 115200;
    s->t0_us = mono_us();
    defaults(s);
    if (o->scenario && sim__scenario_load(s, o->scenario, err, errlen) != HV_OK)
        goto fail;
    if (o->replay && sim__replay_load(s, o->replay, err, errlen) != HV_OK)
        goto fail;
    if (o->record && (s->record = fopen(o->record, "w")) == NULL) {
        snprintf(err, errlen, "%s: cannot write the recording", o->record);
        goto fail;
    }
    update_env(s, 0);
    for (size_t i = 0; i < s->nchips; i++)
        if ((s->chips[i].dev = make_dev(s, &s->chips[i])) == NULL) {
            snprintf(err, errlen, "%s at 0x%02x: cannot create (bad calibration?)",
                     s->chips[i].kind, s->chips[i].addr);
            goto fail;
        }
    return &s->base;
fail:
    hv_hal_sim_free(&s->base);
    return NULL;
}

hv_hal_t *hv_hal_sim_new(unsigned nleds)
{
    char err[256];
    hv_hal_sim_opts_t o = {nleds, NULL, NULL, NULL};
    return hv_hal_sim_open(&o, err, sizeof err);
}

void hv_hal_sim_free(hv_hal_t *h)
{
    if (h == NULL)
        return;
    sim_t *s = SIM(h);
    for (size_t i = 0; i < s->nchips; i++)
        if (s->chips[i].dev)
            s->chips[i].dev->ops->free(s->chips[i].dev);
    if (s->record)
        fclose(s->record);
    sim__replay_free(s);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void hv_hal_sim_advance(hv_hal_t *h, double seconds)
{
    sim_t *s = SIM(h);
    pthread_mutex_lock(&s->lock);
    s->virtual_s += seconds;
    pthread_mutex_unlock(&s->lock);
}

uint32_t hv_hal_sim_led(hv_hal_t *h, unsigned i)
{
    return i < HV_HAL_MAX_LEDS ? SIM(h)->led_out[i] : 0;
}

unsigned hv_hal_sim_beeps(hv_hal_t *h) { return SIM(h)->beeps; }
unsigned hv_hal_sim_led_writes(hv_hal_t *h) { return SIM(h)->led_writes; }

int hv_hal_sim_oled_png(hv_hal_t *h, uint8_t **ret_png, size_t *ret_len)
{
    sim_t *s = SIM(h);
    int rc = HV_ENOENT;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->nchips; i++)
        if (strcmp(s->chips[i].kind, "ssd1306") == 0 && s->chips[i].dev != NULL) {
            rc = hv_sim_ssd1306_png(s->chips[i].dev, ret_png, ret_len);
            break;
        }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int hv_hal_sim_oled_fb(hv_hal_t *h, uint8_t out[1024], int *ret_on)
{
    sim_t *s = SIM(h);
    int rc = HV_ENOENT;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->nchips; i++)
        if (strcmp(s->chips[i].kind, "ssd1306") == 0 && s->chips[i].dev != NULL) {
            hv_sim_ssd1306_view_t v;
            hv_sim_ssd1306_view(s->chips[i].dev, &v);
            memcpy(out, v.fb, 1024);
            if (ret_on)
                *ret_on = v.display_on;
            rc = HV_OK;
            break;
        }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

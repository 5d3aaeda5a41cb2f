/*
 * A minimal simulated board, so plugins run anywhere: I2C devices answer
 * from register files (a BME680 at 0x77 with its chip id, an SSD1306 at
 * 0x3C that accepts writes, a BH1750 at 0x23 reading 333 lx), SPI and UART loop back, GPIO pins keep their
 * level, the DHT22 reads 22.5 °C / 45 %, LEDs and the buzzer are recorded.
 * System figures are the real ones of this machine.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv_hal.h"

#define NPINS 28
#define UART_BUF 1024

typedef struct {
    uint8_t addr;
    uint8_t reg[256];
    uint8_t ptr; /* register pointer: the first byte of a write */
} i2c_dev_t;

typedef struct {
    hv_hal_t base;
    pthread_mutex_t lock;
    i2c_dev_t dev[3];
    uint32_t led_buf[HV_HAL_MAX_LEDS], led_out[HV_HAL_MAX_LEDS];
    int pin_mode[NPINS], pin_level[NPINS];
    uint8_t uart[UART_BUF];
    size_t uart_len;
    uint32_t baud;
    unsigned beeps;
    unsigned led_writes;
} sim_t;

#define SIM(h) ((sim_t *)(h))

static i2c_dev_t *find_dev(sim_t *s, uint8_t addr)
{
    for (size_t i = 0; i < sizeof s->dev / sizeof s->dev[0]; i++)
        if (s->dev[i].addr == addr)
            return &s->dev[i];
    return NULL;
}

static int i2c_transfer(hv_hal_t *h, uint8_t addr, const uint8_t *wr, size_t wlen, uint8_t *rd,
                        size_t rlen, char *err, size_t errlen)
{
    sim_t *s = SIM(h);
    pthread_mutex_lock(&s->lock);
    i2c_dev_t *d = find_dev(s, addr);
    if (d == NULL) {
        pthread_mutex_unlock(&s->lock);
        snprintf(err, errlen, "i2c: no device at 0x%02x (no ACK)", addr);
        return HV_EIO;
    }
    if (wlen > 0) {
        d->ptr = wr[0];
        for (size_t i = 1; i < wlen; i++)
            d->reg[(uint8_t)(d->ptr + i - 1)] = wr[i];
    }
    for (size_t i = 0; i < rlen; i++)
        rd[i] = d->reg[(uint8_t)(d->ptr + i)];
    pthread_mutex_unlock(&s->lock);
    return HV_OK;
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
    int ok = len <= UART_BUF - s->uart_len;
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
    if (pin < NPINS)
        return HV_OK;
    snprintf(err, errlen, "gpio: no pin %u (0..%d)", pin, NPINS - 1);
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
    (void)h;
    int rc = check_pin(pin, err, errlen);
    if (rc == HV_OK) {
        *ret_temp = 22.5f;
        *ret_hum = 45.0f;
    }
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
    (void)on_ms, (void)off_ms;
    sim_t *s = SIM(h);
    pthread_mutex_lock(&s->lock);
    s->beeps += count;
    pthread_mutex_unlock(&s->lock);
    return HV_OK;
}

static float cpu_temp(hv_hal_t *h)
{
    (void)h;
    FILE *f = fopen("/sys/class/thermal/thermal_zone0/temp", "r");
    long milli = 45000;
    if (f != NULL) {
        if (fscanf(f, "%ld", &milli) != 1)
            milli = 45000;
        fclose(f);
    }
    return (float)milli / 1000.0f;
}

static float cpu_usage(hv_hal_t *h)
{
    (void)h;
    double load = 0;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f != NULL) {
        if (fscanf(f, "%lf", &load) != 1)
            load = 0;
        fclose(f);
    }
    return (float)(load * 100.0 > 100.0 ? 100.0 : load * 100.0);
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
    double up = 0;
    FILE *f = fopen("/proc/uptime", "r");
    if (f != NULL) {
        if (fscanf(f, "%lf", &up) != 1)
            up = 0;
        fclose(f);
    }
    return (uint64_t)up;
}

static const hv_hal_ops_t sim_ops = {
    i2c_transfer, spi_transfer, uart_read, uart_write, uart_set_baud, gpio_mode, gpio_read,
    gpio_write,   dht22_read,   led_set,   led_sync,   buzz,          cpu_temp,  cpu_usage,
    memory_mb,    uptime_s,
};

hv_hal_t *hv_hal_sim_new(unsigned nleds)
{
    sim_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->base.ops = &sim_ops;
    s->base.nleds = nleds > HV_HAL_MAX_LEDS ? HV_HAL_MAX_LEDS : nleds;
    pthread_mutex_init(&s->lock, NULL);
    s->dev[0].addr = 0x77;
    s->dev[0].reg[0xD0] = 0x61; /* BME680 chip id */
    s->dev[1].addr = 0x3C;      /* SSD1306 */
    /* BH1750: a mode command (0x10/0x20: high resolution) then a 2-byte
     * read; with a register-file model the command selects the bytes. */
    s->dev[2].addr = 0x23;
    s->dev[2].reg[0x10] = s->dev[2].reg[0x20] = 0x01;
    s->dev[2].reg[0x11] = s->dev[2].reg[0x21] = 0x90; /* 400 counts = 333.3 lx */
    s->baud = 115200;
    return &s->base;
}

void hv_hal_sim_free(hv_hal_t *h)
{
    if (h == NULL)
        return;
    pthread_mutex_destroy(&SIM(h)->lock);
    free(h);
}

uint32_t hv_hal_sim_led(hv_hal_t *h, unsigned i)
{
    return i < HV_HAL_MAX_LEDS ? SIM(h)->led_out[i] : 0;
}

unsigned hv_hal_sim_beeps(hv_hal_t *h) { return SIM(h)->beeps; }
unsigned hv_hal_sim_led_writes(hv_hal_t *h) { return SIM(h)->led_writes; }

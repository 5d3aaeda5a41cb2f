/*
 * The Linux backend: a real Raspberry Pi. I2C through i2c-dev, SPI through
 * spidev, the UART through termios, GPIO through libgpiod (character
 * device), the DHT22 through the kernel's dht11 IIO driver, the WS2812B
 * strip as an SPI bit stream on MOSI, the buzzer on a GPIO line. Devices
 * open lazily on first use (a missing one fails only the calls that need
 * it); each bus has its own lock. This file: the seam's real calls, the
 * constructor, the ops table and shared helpers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/spi/spidev.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "hv_log.h"
#include "linux_impl.h"

/* ---- the seam's real calls ------------------------------------------------ */

static int sys_open(const char *path, int flags, mode_t mode)
{
    return open(path, flags, mode);
}
static int sys_ioctl(int fd, unsigned long request, void *arg)
{
    return ioctl(fd, request, arg);
}

static void sys_sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static uint64_t sys_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* One list for both: a const object cannot initialise another in C11. */
#define REAL_CALLS                                                                                 \
    .open = sys_open, .close = close, .ioctl = sys_ioctl, .read = read, .write = write,            \
    .poll = poll, .tcgetattr = tcgetattr, .tcsetattr = tcsetattr, .sleep_ms = sys_sleep_ms,        \
    .now_ms = sys_now_ms, .chip_open = gpiod_chip_open, .chip_close = gpiod_chip_close,            \
    .chip_get_line = gpiod_chip_get_line,                                                          \
    .line_request_input_flags = gpiod_line_request_input_flags,                                    \
    .line_request_output_flags = gpiod_line_request_output_flags,                                  \
    .line_get_value = gpiod_line_get_value, .line_set_value = gpiod_line_set_value,                \
    .line_release = gpiod_line_release

const hv_linux_sys_t hv_linux_sys_default = {REAL_CALLS};
hv_linux_sys_t hv_linux_sys = {REAL_CALLS};

/* ---- helpers ----------------------------------------------------------------- */

int hv_linux_open_dev(const char *what, const char *path, int flags, int *ret_fd, char *err,
                      size_t errlen)
{
    int fd = hv_linux_sys.open(path, flags | O_CLOEXEC, 0);
    if (fd >= 0) {
        *ret_fd = fd;
        return HV_OK;
    }
    int e = errno;
    switch (e) {
    case ENOENT:
    case ENODEV:
    case ENXIO:
        snprintf(err, errlen, "%s: %s: no such device", what, path);
        return HV_ENOENT;
    case EACCES:
    case EPERM:
        snprintf(err, errlen, "%s: %s: permission denied", what, path);
        return HV_EPERM;
    case EBUSY:
        snprintf(err, errlen, "%s: %s: device busy", what, path);
        return HV_EBUSY;
    default:
        snprintf(err, errlen, "%s: %s: %s", what, path, strerror(e));
        return HV_EIO;
    }
}

void hv_linux_close(int *fd)
{
    if (*fd >= 0)
        hv_linux_sys.close(*fd);
    *fd = -1;
}

void hv_linux_warn(hv_linux_t *lx, const char *fmt, ...)
{
    char msg[sizeof lx->last_warn];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&lx->warn_lock);
    int fresh = strcmp(msg, lx->last_warn) != 0;
    if (fresh)
        memcpy(lx->last_warn, msg, sizeof msg);
    pthread_mutex_unlock(&lx->warn_lock);
    if (fresh)
        hv_log("hal", HV_LOG_WARN, "%s", msg);
}

int hv_linux_spi_setup(const char *what, const char *path, uint32_t hz, int *ret_fd, char *err,
                       size_t errlen)
{
    int fd;
    int rc = hv_linux_open_dev(what, path, O_RDWR, &fd, err, errlen);
    if (rc != HV_OK)
        return rc;
    uint8_t mode = SPI_MODE_0, bits = 8;
    uint32_t speed = hz;
    const char *step = NULL;
    if (hv_linux_sys.ioctl(fd, SPI_IOC_WR_MODE, &mode) < 0)
        step = "mode 0";
    else if (hv_linux_sys.ioctl(fd, SPI_IOC_WR_BITS_PER_WORD, &bits) < 0)
        step = "8 bits per word";
    else if (hv_linux_sys.ioctl(fd, SPI_IOC_WR_MAX_SPEED_HZ, &speed) < 0)
        step = "the clock";
    if (step != NULL) {
        int e = errno;
        hv_linux_close(&fd);
        snprintf(err, errlen, "%s: %s: cannot set %s: %s", what, path, step, strerror(e));
        return HV_EIO;
    }
    *ret_fd = fd;
    return HV_OK;
}

int hv_linux_spi_xfer(int fd, const uint8_t *tx, uint8_t *rx, size_t len, uint32_t hz)
{
    struct spi_ioc_transfer t;
    memset(&t, 0, sizeof t);
    t.tx_buf = (uint64_t)(uintptr_t)tx;
    t.rx_buf = (uint64_t)(uintptr_t)rx;
    t.len = (uint32_t)len;
    t.speed_hz = hz;
    t.bits_per_word = 8;
    return hv_linux_sys.ioctl(fd, SPI_IOC_MESSAGE(1), &t);
}

/* ---- the backend ----------------------------------------------------------------- */

static const hv_hal_ops_t linux_ops = {
    .i2c_transfer = hv_linux_i2c_transfer,
    .spi_transfer = hv_linux_spi_transfer,
    .uart_read = hv_linux_uart_read,
    .uart_write = hv_linux_uart_write,
    .uart_set_baud = hv_linux_uart_set_baud,
    .gpio_mode = hv_linux_gpio_mode,
    .gpio_read = hv_linux_gpio_read,
    .gpio_write = hv_linux_gpio_write,
    .dht22_read = hv_linux_dht22_read,
    .led_set = hv_linux_led_set,
    .led_sync = hv_linux_led_sync,
    .buzz = hv_linux_buzz,
    .cpu_temp = hv_linux_cpu_temp,
    .cpu_usage = hv_linux_cpu_usage,
    .memory_mb = hv_linux_memory_mb,
    .uptime_s = hv_linux_uptime_s,
};

static char *dup_or(const char *s, const char *dflt, int *oom)
{
    char *r = strdup(s != NULL ? s : dflt);
    if (r == NULL)
        *oom = 1;
    return r;
}

hv_hal_t *hv_hal_linux_new(const hv_hal_linux_opts_t *opts, char *err, size_t errlen)
{
    static const hv_hal_linux_opts_t dflt = {.brightness = 1.0, .buzzer_pin = -1};
    if (opts == NULL)
        opts = &dflt;
    hv_linux_t *lx = calloc(1, sizeof *lx);
    if (lx == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int oom = 0;
    lx->i2c_dev = dup_or(opts->i2c_dev, "/dev/i2c-1", &oom);
    lx->spi_dev = dup_or(opts->spi_dev, "/dev/spidev0.1", &oom);
    lx->led_spi_dev = dup_or(opts->led_spi_dev, "/dev/spidev0.0", &oom);
    lx->uart_dev = dup_or(opts->uart_dev, "/dev/serial0", &oom);
    lx->gpiochip = dup_or(opts->gpiochip, "/dev/gpiochip0", &oom);
    lx->iio_dir = dup_or(opts->iio_dir, "/sys/bus/iio/devices", &oom);
    lx->sys_root = dup_or(opts->sys_root, "", &oom);

    lx->base.ops = &linux_ops;
    lx->base.nleds = opts->nleds > HV_HAL_MAX_LEDS ? HV_HAL_MAX_LEDS : opts->nleds;
    hv_hal_set_device_names(&lx->base, opts->spi_dev, opts->uart_dev);
    lx->led_spi_hz = opts->led_spi_hz ? opts->led_spi_hz : HV_LINUX_LED_SPI_HZ;
    double b = opts->brightness;
    lx->brightness = !(b > 0) ? 0 : b > 1 ? 1 : b; /* NaN -> 0 */
    lx->buzzer_pin =
        opts->buzzer_pin >= 0 && opts->buzzer_pin < HV_LINUX_NPINS ? opts->buzzer_pin : -1;
    lx->uart_baud = opts->uart_baud ? opts->uart_baud : 115200;
    lx->i2c_fd = lx->spi_fd = lx->uart_fd = lx->led_fd = -1;
    for (int i = 0; i < HV_LINUX_NPINS; i++)
        lx->line_mode[i] = -1;
    pthread_mutex_init(&lx->i2c_lock, NULL);
    pthread_mutex_init(&lx->spi_lock, NULL);
    pthread_mutex_init(&lx->uart_lock, NULL);
    pthread_mutex_init(&lx->gpio_lock, NULL);
    pthread_mutex_init(&lx->buzz_lock, NULL);
    pthread_mutex_init(&lx->led_lock, NULL);
    pthread_mutex_init(&lx->dht_lock, NULL);
    pthread_mutex_init(&lx->sys_lock, NULL);
    pthread_mutex_init(&lx->warn_lock, NULL);
    if (oom || hv_linux_led_init(lx) != HV_OK) {
        hv_hal_linux_free(&lx->base);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (opts->buzzer_pin >= HV_LINUX_NPINS)
        hv_log("hal", HV_LOG_WARN, "buzzer: no GPIO %d (0..%d); buzzer disabled", opts->buzzer_pin,
               HV_LINUX_NPINS - 1);
    if (lx->led_pat_rc != HV_OK && lx->base.nleds > 0)
        hv_linux_warn(lx,
                      "leds: an SPI clock of %u Hz cannot time WS2812B bits (2400000, "
                      "3200000, 4000000 or 6400000 can)",
                      lx->led_spi_hz);
    return &lx->base;
}

void hv_hal_linux_free(hv_hal_t *h)
{
    if (h == NULL)
        return;
    hv_linux_t *lx = LX(h);
    hv_linux_gpio_free(lx);
    hv_linux_close(&lx->i2c_fd);
    hv_linux_close(&lx->spi_fd);
    hv_linux_close(&lx->uart_fd);
    hv_linux_close(&lx->led_fd);
    pthread_mutex_destroy(&lx->i2c_lock);
    pthread_mutex_destroy(&lx->spi_lock);
    pthread_mutex_destroy(&lx->uart_lock);
    pthread_mutex_destroy(&lx->gpio_lock);
    pthread_mutex_destroy(&lx->buzz_lock);
    pthread_mutex_destroy(&lx->led_lock);
    pthread_mutex_destroy(&lx->dht_lock);
    pthread_mutex_destroy(&lx->sys_lock);
    pthread_mutex_destroy(&lx->warn_lock);
    free(lx->led_buf);
    free(lx->i2c_dev);
    free(lx->spi_dev);
    free(lx->led_spi_dev);
    free(lx->uart_dev);
    free(lx->gpiochip);
    free(lx->iio_dir);
    free(lx->sys_root);
    free(lx);
}

/*
 * The Linux backend's private parts: the backend's state, one entry point
 * per operation (linux_*.c) and the syscall seam.
 *
 * The seam: every call that reaches the kernel or libgpiod, and the clock
 * and sleeps, go through hv_linux_sys. It holds the real calls; tests
 * replace members with recorders that check request codes and structures
 * and answer as a device would, so no test touches /dev. The seam is read
 * at each call: replace it before the backend is used, restore it with
 * hv_linux_sys = hv_linux_sys_default.
 *
 * Plain files (/proc, the thermal zone, directory scans under iio_dir) are
 * read with stdio and opendir from sys_root and iio_dir, which tests point
 * at a fake tree; only the dht11 driver's value files, which fail with EIO
 * like the device, are read through the seam.
 */
#ifndef HV_LINUX_IMPL_H
#define HV_LINUX_IMPL_H

#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <termios.h>

#include <gpiod.h>

#include "hv_hal.h"

/* ---- the seam ------------------------------------------------------------ */

typedef struct {
    int (*open)(const char *path, int flags, mode_t mode);
    int (*close)(int fd);
    int (*ioctl)(int fd, unsigned long request, void *arg);
    ssize_t (*read)(int fd, void *buf, size_t len);
    ssize_t (*write)(int fd, const void *buf, size_t len);
    int (*poll)(struct pollfd *fds, nfds_t nfds, int timeout_ms);
    int (*tcgetattr)(int fd, struct termios *t);
    int (*tcsetattr)(int fd, int when, const struct termios *t);
    void (*sleep_ms)(unsigned ms);
    uint64_t (*now_ms)(void); /* monotonic */
    /* libgpiod v1 */
    struct gpiod_chip *(*chip_open)(const char *path);
    void (*chip_close)(struct gpiod_chip *chip);
    struct gpiod_line *(*chip_get_line)(struct gpiod_chip *chip, unsigned offset);
    int (*line_request_input_flags)(struct gpiod_line *line, const char *consumer, int flags);
    int (*line_request_output_flags)(struct gpiod_line *line, const char *consumer, int flags,
                                     int default_val);
    int (*line_get_value)(struct gpiod_line *line);
    int (*line_set_value)(struct gpiod_line *line, int value);
    void (*line_release)(struct gpiod_line *line);
} hv_linux_sys_t;

extern hv_linux_sys_t hv_linux_sys;
extern const hv_linux_sys_t hv_linux_sys_default;

/* ---- constants ------------------------------------------------------------ */

#define HV_LINUX_NPINS 28                 /* BCM GPIO 0..27 on the header */
#define HV_LINUX_SPI_HZ 1000000u          /* plugins' SPI bus clock */
#define HV_LINUX_LED_SPI_HZ 2400000u      /* default LED clock: 3 SPI bits per LED bit */
#define HV_LINUX_WS2812_RESET_US 300u     /* >= 50 µs (WS2812B), >= 280 µs (WS2812B-V5) */
#define HV_LINUX_DHT_ATTEMPTS 5           /* reads per dht22_read when the driver says EIO */
#define HV_LINUX_DHT_RETRY_MS 100         /* pause between those attempts */
#define HV_LINUX_DHT_MIN_INTERVAL_MS 2000 /* the sensor is read at most this often */
#define HV_LINUX_DHT_STALE_MS 10000       /* a failed read returns a good one this recent */
#define HV_LINUX_GPIO_CONSUMER "harvester"

/* ---- WS2812B over SPI ------------------------------------------------------ */

/* One LED bit as an SPI bit pattern: nbits long, the first h0 (bit 0) or
 * h1 (bit 1) of them high. */
typedef struct {
    unsigned nbits, h0, h1;
} hv_ws2812_pattern_t;

/* The pattern for an SPI clock. HV_EINVAL when no pattern at that clock
 * keeps T0H within 400 ± 150 ns and T1H within 800 ± 150 ns. */
int hv_linux_ws2812_pattern(uint32_t spi_hz, hv_ws2812_pattern_t *p);

/* Bytes of the reset gap (zeros) at spi_hz. */
size_t hv_linux_ws2812_reset_bytes(uint32_t spi_hz);

/* ---- state ------------------------------------------------------------------ */

typedef struct {
    bool valid;       /* a sensor access happened */
    bool have;        /* temp/hum hold a good reading */
    uint64_t at_ms;   /* of the last access */
    uint64_t good_ms; /* of the last good reading */
    float temp, hum;
    int rc; /* of the last access */
    char err[160];
} hv_linux_dht_t;

typedef struct {
    hv_hal_t base;
    /* options (owned copies) */
    char *i2c_dev, *spi_dev, *led_spi_dev, *uart_dev, *gpiochip, *iio_dir, *sys_root;
    uint32_t led_spi_hz;
    double brightness;
    int buzzer_pin;

    pthread_mutex_t i2c_lock;
    int i2c_fd;

    pthread_mutex_t spi_lock;
    int spi_fd;

    pthread_mutex_t uart_lock;
    int uart_fd;
    uint32_t uart_baud;

    pthread_mutex_t gpio_lock; /* chip, lines, modes */
    struct gpiod_chip *chip;
    struct gpiod_line *line[HV_LINUX_NPINS];
    int line_mode[HV_LINUX_NPINS]; /* -1 not requested, 0..3 as gpio_mode */
    pthread_mutex_t buzz_lock;     /* one beep sequence at a time */
    struct gpiod_line *buzzer;

    pthread_mutex_t led_lock;
    int led_fd;
    uint8_t led_rgb[HV_HAL_MAX_LEDS][3];
    hv_ws2812_pattern_t led_pat;
    int led_pat_rc;
    uint8_t *led_buf;
    size_t led_len; /* encoded strip + reset gap */

    pthread_mutex_t dht_lock;
    hv_linux_dht_t dht[HV_LINUX_NPINS];

    pthread_mutex_t sys_lock;
    uint64_t cpu_total, cpu_idle; /* the previous /proc/stat snapshot */
    float cpu_last;

    pthread_mutex_t warn_lock;
    char last_warn[160]; /* the last warning logged, to log each new one once */
} hv_linux_t;

#define LX(h) ((hv_linux_t *)(h))

/* ---- helpers (linux.c) ------------------------------------------------------ */

/* Opens a device node through the seam; on failure, HV_ENOENT /
 * HV_EPERM / HV_EBUSY / HV_EIO with "<what>: <path>: <reason>" in err. */
int hv_linux_open_dev(const char *what, const char *path, int flags, int *ret_fd, char *err,
                      size_t errlen);
void hv_linux_close(int *fd);
/* Logs a warning for operations without an err string, once per distinct text. */
void hv_linux_warn(hv_linux_t *lx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* SPI device setup: mode 0, 8 bits per word, max speed hz. */
int hv_linux_spi_setup(const char *what, const char *path, uint32_t hz, int *ret_fd, char *err,
                       size_t errlen);
/* One full-duplex SPI_IOC_MESSAGE(1). rx may be NULL. */
int hv_linux_spi_xfer(int fd, const uint8_t *tx, uint8_t *rx, size_t len, uint32_t hz);

/* ---- per-file parts --------------------------------------------------------- */

int hv_linux_i2c_transfer(hv_hal_t *h, uint8_t addr, const uint8_t *wr, size_t wlen, uint8_t *rd,
                          size_t rlen, char *err, size_t errlen);
int hv_linux_spi_transfer(hv_hal_t *h, const uint8_t *tx, uint8_t *rx, size_t len, char *err,
                          size_t errlen);
int hv_linux_uart_read(hv_hal_t *h, uint8_t *buf, size_t max, size_t *ret_n, char *err,
                       size_t errlen);
int hv_linux_uart_write(hv_hal_t *h, const uint8_t *buf, size_t len, char *err, size_t errlen);
int hv_linux_uart_set_baud(hv_hal_t *h, uint32_t rate, char *err, size_t errlen);
int hv_linux_gpio_mode(hv_hal_t *h, unsigned pin, int mode, char *err, size_t errlen);
int hv_linux_gpio_read(hv_hal_t *h, unsigned pin, int *ret_value, char *err, size_t errlen);
int hv_linux_gpio_write(hv_hal_t *h, unsigned pin, int value, char *err, size_t errlen);
int hv_linux_buzz(hv_hal_t *h, unsigned count, unsigned on_ms, unsigned off_ms);
void hv_linux_gpio_free(hv_linux_t *lx);
int hv_linux_dht22_read(hv_hal_t *h, unsigned pin, float *ret_temp, float *ret_hum, char *err,
                        size_t errlen);
int hv_linux_led_init(hv_linux_t *lx); /* HV_ENOMEM or HV_OK */
int hv_linux_led_set(hv_hal_t *h, unsigned index, uint8_t r, uint8_t g, uint8_t b);
int hv_linux_led_sync(hv_hal_t *h);
float hv_linux_cpu_temp(hv_hal_t *h);
float hv_linux_cpu_usage(hv_hal_t *h);
void hv_linux_memory_mb(hv_hal_t *h, uint32_t *ret_used, uint32_t *ret_total);
uint64_t hv_linux_uptime_s(hv_hal_t *h);

#endif

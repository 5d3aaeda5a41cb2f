/*
 * The hardware the host owns, behind one interface: capability calls from
 * plugins (src/plugin/caps.c) end here. Backends: `sim` (src/hal/sim.c,
 * the default off-Pi) and, later, `linux`.
 *
 * Every operation returns HV_OK or a negative hv_err_t and, on failure,
 * writes a one-line reason into err. Operations may be called from several
 * plugin threads at once; backends serialise what needs it.
 */
#ifndef HV_HAL_H
#define HV_HAL_H

#include <stddef.h>
#include <stdint.h>

#include "hv_error.h"

#define HV_HAL_MAX_LEDS 64
#define HV_HAL_MAX_XFER 8192 /* bytes per I2C/SPI/UART transfer (i2c-dev caps at 8192) */

typedef struct hv_hal hv_hal_t;

typedef struct {
    int (*i2c_transfer)(hv_hal_t *h, uint8_t addr, const uint8_t *wr, size_t wlen, uint8_t *rd,
                        size_t rlen, char *err, size_t errlen);
    int (*spi_transfer)(hv_hal_t *h, const uint8_t *tx, uint8_t *rx, size_t len, char *err,
                        size_t errlen);
    int (*uart_read)(hv_hal_t *h, uint8_t *buf, size_t max, size_t *ret_n, char *err,
                     size_t errlen);
    int (*uart_write)(hv_hal_t *h, const uint8_t *buf, size_t len, char *err, size_t errlen);
    int (*uart_set_baud)(hv_hal_t *h, uint32_t rate, char *err, size_t errlen);
    /* mode: 0 input, 1 output, 2 input pull-up, 3 input pull-down */
    int (*gpio_mode)(hv_hal_t *h, unsigned pin, int mode, char *err, size_t errlen);
    int (*gpio_read)(hv_hal_t *h, unsigned pin, int *ret_value, char *err, size_t errlen);
    int (*gpio_write)(hv_hal_t *h, unsigned pin, int value, char *err, size_t errlen);
    int (*dht22_read)(hv_hal_t *h, unsigned pin, float *ret_temp, float *ret_hum, char *err,
                      size_t errlen);
    int (*led_set)(hv_hal_t *h, unsigned index, uint8_t r, uint8_t g, uint8_t b);
    int (*led_sync)(hv_hal_t *h);
    int (*buzz)(hv_hal_t *h, unsigned count, unsigned on_ms, unsigned off_ms);
    float (*cpu_temp)(hv_hal_t *h);
    float (*cpu_usage)(hv_hal_t *h);
    void (*memory_mb)(hv_hal_t *h, uint32_t *ret_used, uint32_t *ret_total);
    uint64_t (*uptime_s)(hv_hal_t *h);
} hv_hal_ops_t;

struct hv_hal {
    const hv_hal_ops_t *ops;
    unsigned nleds;
    /* The devices plugins' spi and uart reach, as permissions name them
     * ("spidev0.1", "serial0": the path without /dev/). */
    char spi_name[32], uart_name[32];
};

/* Sets spi_name/uart_name from device paths (NULL: keep). */
void hv_hal_set_device_names(hv_hal_t *h, const char *spi_path, const char *uart_path);

/* ---- the Linux backend (a real Pi) ------------------------------------- */

typedef struct {
    const char *i2c_dev;      /* "/dev/i2c-1" */
    const char *spi_dev;      /* for plugins' spi interface: "/dev/spidev0.1" */
    const char *led_spi_dev;  /* the WS2812B strip on SPI MOSI: "/dev/spidev0.0" */
    uint32_t led_spi_hz;      /* 2.4..6.4 MHz; each LED bit becomes an SPI bit pattern */
    unsigned nleds;
    double brightness;        /* 0..1, scales every colour */
    const char *uart_dev;     /* "/dev/serial0" */
    uint32_t uart_baud;
    const char *gpiochip;     /* "/dev/gpiochip0" (libgpiod) */
    int buzzer_pin;           /* relay, active low; -1: none */
    const char *iio_dir;      /* "/sys/bus/iio/devices": the dht11 driver's device */
    const char *sys_root;     /* "" normally; a fake tree's root in tests ("/tmp/x") for
                                 /sys/class/thermal, /proc/meminfo, /proc/stat, /proc/uptime */
} hv_hal_linux_opts_t;

/*
 * Opens the Linux backend. Devices are opened lazily on first use, so a
 * missing one is an error for the calls that need it (naming the path),
 * not for the whole backend. NULL with a message when out of memory.
 */
hv_hal_t *hv_hal_linux_new(const hv_hal_linux_opts_t *opts, char *err, size_t errlen);
void hv_hal_linux_free(hv_hal_t *h);

/* ---- the simulated board ------------------------------------------------ */

/*
 * The simulated board: BME680 (0x77), SSD1306 (0x3C), AHT20 (0x38), BMP280
 * (0x76) and BH1750 (0x23) modelled at register level on a virtual I2C bus,
 * a DHT22, GPIO, SPI and UART loopbacks, the LED strip and the buzzer,
 * and the host's real system figures. A scenario (TOML) sets the chips,
 * their calibration bytes and the environment, drives the environment over
 * time and injects faults.
 */
typedef struct {
    unsigned nleds;
    const char *scenario;  /* TOML file; NULL: the defaults */
    const char *record;    /* append every bus transaction here (JSON lines); NULL: off */
    const char *replay;    /* answer the bus from a recording instead of the chips */
} hv_hal_sim_opts_t;
/* The simulated SPI and UART are named "spidev0.1" and "serial0" (the
 * defaults of [hardware]); hv_hal_set_device_names renames them. */

/* Opens a simulated board; NULL with "file:line:col: reason" (scenario)
 * or "path: reason" in err. Free with hv_hal_sim_free. */
hv_hal_t *hv_hal_sim_open(const hv_hal_sim_opts_t *opts, char *err, size_t errlen);

/* The default board (no scenario). NULL on ENOMEM. */
hv_hal_t *hv_hal_sim_new(unsigned nleds);

/* Skips scenario time forward (tests): ramps and faults jump ahead; the
 * chips' measurement timing keeps running on the same clock. */
void hv_hal_sim_advance(hv_hal_t *h, double seconds);
void hv_hal_sim_free(hv_hal_t *h);

/* Simulator introspection for tests and the dashboard: LED i's synced
 * colour (0xRRGGBB), beeps so far. */
uint32_t hv_hal_sim_led(hv_hal_t *h, unsigned i);
unsigned hv_hal_sim_beeps(hv_hal_t *h);
/* Times the strip was written (led_sync). */
unsigned hv_hal_sim_led_writes(hv_hal_t *h);
/* The simulated SSD1306 as it looks, as a 128x64 PNG (malloc'd); HV_ENOENT
 * when the board has none. */
int hv_hal_sim_oled_png(hv_hal_t *h, uint8_t **ret_png, size_t *ret_len);
/* Its GDDRAM (8 pages x 128 columns, bit 0 = top pixel of a page) and
 * whether the display is on. HV_ENOENT when the board has none. */
int hv_hal_sim_oled_fb(hv_hal_t *h, uint8_t out[1024], int *ret_on);

#endif

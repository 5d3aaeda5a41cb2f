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
#define HV_HAL_MAX_XFER 4096 /* bytes per I2C/SPI/UART transfer */

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
};

/* The simulated board (caller frees with hv_hal_sim_free). NULL on ENOMEM. */
hv_hal_t *hv_hal_sim_new(unsigned nleds);
void hv_hal_sim_free(hv_hal_t *h);

/* Simulator introspection for tests and the dashboard: LED i's synced
 * colour (0xRRGGBB), beeps so far. */
uint32_t hv_hal_sim_led(hv_hal_t *h, unsigned i);
unsigned hv_hal_sim_beeps(hv_hal_t *h);
/* Times the strip was written (led_sync). */
unsigned hv_hal_sim_led_writes(hv_hal_t *h);

#endif

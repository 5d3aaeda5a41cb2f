/*
 * Simulated I2C chips, modelled at register level from their datasheets.
 * The simulated bus (sim.c) routes each transfer to the chip at its
 * address: a write (the bytes after the address byte) then, with a
 * repeated start, a read. Chips read the simulated environment and the
 * simulated clock (microseconds, passed in so tests control time).
 */
#ifndef HV_SIM_DEV_H
#define HV_SIM_DEV_H

#include <stddef.h>
#include <stdint.h>

#include "hv_error.h"

/* The physical truth the chips measure. */
typedef struct {
    double temperature_c; /* air temperature */
    double humidity_pct;  /* relative humidity 0..100 */
    double pressure_hpa;  /* 300..1100 */
    double gas_ohm;       /* BME680 gas sensor resistance at its heater target */
    double lux;           /* ambient light */
} hv_sim_env_t;

typedef struct hv_sim_dev hv_sim_dev_t;

typedef struct {
    const char *name; /* "bme680" */
    /* The master wrote len bytes. HV_OK, or HV_EIO for a NACK. */
    int (*write)(hv_sim_dev_t *d, const uint8_t *buf, size_t len, uint64_t now_us);
    /* The master reads len bytes (after a write, or on its own). */
    int (*read)(hv_sim_dev_t *d, uint8_t *buf, size_t len, uint64_t now_us);
    void (*free)(hv_sim_dev_t *d);
} hv_sim_dev_ops_t;

struct hv_sim_dev {
    const hv_sim_dev_ops_t *ops;
    uint8_t addr;
    const hv_sim_env_t *env; /* owned by the bus; read at measurement time */
};

/*
 * Chip constructors. env must outlive the device. calib: the chip's
 * calibration registers as raw bytes, laid out as the chip holds them
 * (BME680: 0x8A..0xA1 (24 bytes), then 0xE1..0xF0 (16), then 0x00..0x04
 * (5) = 45 bytes; BMP280: 0x88..0x9F (24 bytes)); NULL selects a typical
 * set from a real chip. Return NULL when out of memory or calib_len is
 * wrong.
 */
hv_sim_dev_t *hv_sim_bme680_new(uint8_t addr, const hv_sim_env_t *env, const uint8_t *calib,
                                size_t calib_len);
hv_sim_dev_t *hv_sim_bmp280_new(uint8_t addr, const hv_sim_env_t *env, const uint8_t *calib,
                                size_t calib_len);
hv_sim_dev_t *hv_sim_aht20_new(uint8_t addr, const hv_sim_env_t *env);
hv_sim_dev_t *hv_sim_bh1750_new(uint8_t addr, const hv_sim_env_t *env);
hv_sim_dev_t *hv_sim_ssd1306_new(uint8_t addr);

/* SSD1306 state for the dashboard and tests. fb: 1024 bytes, 8 pages of
 * 128 columns, bit 0 of a byte = top pixel of its page (as GDDRAM). */
typedef struct {
    const uint8_t *fb;
    int display_on, inverted, contrast;
} hv_sim_ssd1306_view_t;
void hv_sim_ssd1306_view(hv_sim_dev_t *d, hv_sim_ssd1306_view_t *ret);

/* The panel as it looks (display off -> black, invert applied) as a
 * 128x64 grayscale PNG, malloc'd. HV_OK or HV_ENOMEM. */
int hv_sim_ssd1306_png(hv_sim_dev_t *d, uint8_t **ret_png, size_t *ret_len);

#endif

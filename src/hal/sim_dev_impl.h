/*
 * Helpers shared by the simulated chips (sim_*.c), private to them.
 */
#ifndef HV_SIM_DEV_IMPL_H
#define HV_SIM_DEV_IMPL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_dev.h"

/* The environment a chip measures when it was given none. */
static const hv_sim_env_t hv_sim_default_env = {.temperature_c = 21.5,
                                                .humidity_pct = 45.0,
                                                .pressure_hpa = 1013.25,
                                                .gas_ohm = 50000.0,
                                                .lux = 333.3};

static inline const hv_sim_env_t *hv_sim_env(const hv_sim_dev_t *d)
{
    return d->env != NULL ? d->env : &hv_sim_default_env;
}

/*
 * The Bosch sensors' bus protocol: a write is (register, value) pairs (the
 * last register of a write also sets the read pointer); a read returns
 * consecutive registers from the pointer, wrapping past 0xFF.
 */
typedef void (*hv_sim_reg_write_fn)(void *chip, uint8_t reg, uint8_t value, uint64_t now_us);

static inline int hv_sim_pairs_write(void *chip, uint8_t *ptr, const uint8_t *buf, size_t len,
                                     uint64_t now_us, hv_sim_reg_write_fn write_reg)
{
    if (len > 0 && buf == NULL)
        return HV_EINVAL;
    for (size_t i = 0; i < len; i += 2) {
        *ptr = buf[i];
        if (i + 1 < len)
            write_reg(chip, buf[i], buf[i + 1], now_us);
    }
    return HV_OK;
}

static inline int hv_sim_regs_read(const uint8_t reg[256], uint8_t *ptr, uint8_t *buf, size_t len)
{
    if (len > 0 && buf == NULL)
        return HV_EINVAL;
    for (size_t i = 0; i < len; i++)
        buf[i] = reg[(*ptr)++];
    return HV_OK;
}

static inline uint16_t hv_sim_u16le(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline int16_t hv_sim_s16le(const uint8_t *p)
{
    return (int16_t)hv_sim_u16le(p);
}

/*
 * The integer x in [lo, hi] whose f(x) is nearest to target, for a
 * monotonic f (either direction): how a chip model turns a physical value
 * into the raw reading its datasheet formula maps back to that value.
 */
typedef double (*hv_sim_fwd_fn)(const void *ctx, long x);

static inline long hv_sim_invert(hv_sim_fwd_fn f, const void *ctx, long lo, long hi, double target)
{
    int inc = f(ctx, hi) >= f(ctx, lo);
    long a = lo, b = hi;
    while (a < b) { /* first x with f(x) at or past target */
        long m = a + (b - a) / 2;
        double v = f(ctx, m);
        if (inc ? v >= target : v <= target)
            b = m;
        else
            a = m + 1;
    }
    if (a > lo && fabs(f(ctx, a - 1) - target) <= fabs(f(ctx, a) - target))
        return a - 1;
    return a;
}

#endif

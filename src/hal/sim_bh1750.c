/*
 * Rohm BH1750FVI ambient light sensor (I2C 0x23 / 0x5C), after its
 * datasheet: no registers, every written byte is an opcode.
 *
 *   0x00 power down      0x01 power on      0x07 reset (clears the data
 *   register; ignored when powered down)
 *   0x10 / 0x11 / 0x13   continuous H-res / H-res2 / L-res
 *   0x20 / 0x21 / 0x23   one-time H-res / H-res2 / L-res, then power down
 *   0x40|hi3, 0x60|lo5   measurement time register (MTreg, default 69)
 * Measurement commands power the chip on by themselves. A measurement
 * takes 120 ms (H-res, H-res2) or 16 ms (L-res) scaled by MTreg / 69, the
 * MTreg in force when the measurement command came (the datasheet's order:
 * change MTreg, then send the measurement command); MTreg is used
 * clamped to its range 31..254. The environment is read when a measurement
 * finishes; continuous mode finishes one every measurement time.
 * A read returns the data register big-endian: counts = lux x 1.2 x
 * MTreg/69 (x 2 in H-res2), rounded, saturating at 65535; 0 before the
 * first measurement and the previous value while one runs; 0xFF after the
 * two bytes. L-res uses the same scale (its coarser steps are not modelled).
 */
#include <math.h>
#include <stdlib.h>

#include "sim_dev_impl.h"

typedef struct {
    hv_sim_dev_t base;
    int powered;
    uint8_t mode;      /* running measurement opcode, 0: none */
    uint8_t mt;        /* MTreg as written */
    unsigned mt_meas;  /* MTreg of the running measurement (clamped) */
    uint64_t start_us; /* of the running measurement (continuous: of the first) */
    uint64_t done;     /* continuous: measurements already finished */
    uint16_t data;
} bh1750_t;

static unsigned mt_clamped(uint8_t mt)
{
    return mt < 31 ? 31 : mt > 254 ? 254 : mt;
}

static uint64_t meas_us(const bh1750_t *b)
{
    uint64_t base = (b->mode & 0x03) == 0x03 ? 16000 : 120000;
    return base * b->mt_meas / 69;
}

static uint16_t counts(const bh1750_t *b)
{
    double lux = hv_sim_env(&b->base)->lux;
    double c = lux * 1.2 * b->mt_meas / 69.0 * ((b->mode & 0x03) == 0x01 ? 2.0 : 1.0);
    c = floor(c + 0.5);
    return c <= 0 ? 0 : c >= 65535 ? 65535 : (uint16_t)c;
}

static void update(bh1750_t *b, uint64_t now)
{
    if (b->mode == 0)
        return;
    uint64_t t = now >= b->start_us ? now - b->start_us : 0, tm = meas_us(b);
    if (b->mode & 0x20) { /* one-time */
        if (t >= tm) {
            b->data = counts(b);
            b->mode = 0;
            b->powered = 0;
        }
        return;
    }
    uint64_t finished = t / tm;
    if (finished > b->done) {
        b->data = counts(b);
        b->done = finished;
    }
}

static void opcode(bh1750_t *b, uint8_t op, uint64_t now)
{
    switch (op) {
    case 0x00:
        b->powered = 0;
        b->mode = 0;
        return;
    case 0x01:
        b->powered = 1;
        return;
    case 0x07:
        if (b->powered)
            b->data = 0;
        return;
    case 0x10:
    case 0x11:
    case 0x13:
    case 0x20:
    case 0x21:
    case 0x23:
        b->powered = 1;
        b->mode = op;
        b->mt_meas = mt_clamped(b->mt);
        b->start_us = now;
        b->done = 0;
        return;
    default:
        if ((op & 0xF8) == 0x40)
            b->mt = (uint8_t)((b->mt & 0x1F) | ((op & 0x07) << 5));
        else if ((op & 0xE0) == 0x60)
            b->mt = (uint8_t)((b->mt & 0xE0) | (op & 0x1F));
        return; /* other opcodes: acknowledged, ignored */
    }
}

static int bh1750_write(hv_sim_dev_t *d, const uint8_t *buf, size_t len, uint64_t now_us)
{
    bh1750_t *b = (bh1750_t *)d;
    if (len > 0 && buf == NULL)
        return HV_EINVAL;
    update(b, now_us);
    for (size_t i = 0; i < len; i++)
        opcode(b, buf[i], now_us);
    return HV_OK;
}

static int bh1750_read(hv_sim_dev_t *d, uint8_t *buf, size_t len, uint64_t now_us)
{
    bh1750_t *b = (bh1750_t *)d;
    if (len > 0 && buf == NULL)
        return HV_EINVAL;
    update(b, now_us);
    for (size_t i = 0; i < len; i++)
        buf[i] = i == 0 ? (uint8_t)(b->data >> 8) : i == 1 ? (uint8_t)b->data : 0xFF;
    return HV_OK;
}

static void bh1750_free(hv_sim_dev_t *d)
{
    free(d);
}

static const hv_sim_dev_ops_t bh1750_ops = {"bh1750", bh1750_write, bh1750_read, bh1750_free};

hv_sim_dev_t *hv_sim_bh1750_new(uint8_t addr, const hv_sim_env_t *env)
{
    bh1750_t *b = calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    b->base.ops = &bh1750_ops;
    b->base.addr = addr;
    b->base.env = env;
    b->mt = 69;
    return &b->base;
}

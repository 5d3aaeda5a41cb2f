/*
 * Bosch BMP280 at register level (I2C), after the datasheet (BST-BMP280-DS001).
 *
 * Bus: as the BME680, writes are (register address, data) pairs without
 * auto-increment (datasheet 5.2.1); reads auto-increment from the last
 * address sent and wrap from 0xFF to 0x00.
 *
 * ctrl_meas (0xF4) mode 01/10 = forced: one measurement, then sleep;
 * 11 = normal: measurements repeat every t_measure + t_standby (config
 * t_sb), the data registers holding the last one finished. The measuring
 * bit (status bit 3) is set during a conversion; t_measure is the
 * datasheet's typical time: 1 ms + 2 ms x temperature oversampling +
 * (2 ms x pressure oversampling + 0.5 ms). Raw values invert the
 * datasheet's double-precision compensation (t_fine truncated to an
 * integer as there) for this chip's calibration, at full 20-bit
 * resolution; the IIR filter is stored but not applied; a skipped
 * measurement reads 0x80000.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_dev_impl.h"

#define REG_CALIB 0x88
#define CALIB_LEN 24
#define REG_ID 0xD0
#define REG_RESET 0xE0
#define REG_STATUS 0xF3
#define REG_CTRL_MEAS 0xF4
#define REG_CONFIG 0xF5
#define REG_DATA 0xF7

typedef struct {
    double t1, t2, t3, p1, p2, p3, p4, p5, p6, p7, p8, p9;
} cal_t;

typedef struct {
    hv_sim_dev_t base;
    uint8_t reg[256];
    uint8_t ptr;
    cal_t cal;
    int mode;          /* 0 sleep, 1 forced (running), 3 normal */
    uint64_t start_us; /* of the forced measurement or of normal mode */
    uint64_t done;     /* normal mode: measurements already latched */
    uint8_t result[6]; /* forced: 0xF7..0xFC once finished */
} bmp280_t;

/* The datasheet's example calibration (section 8.1). */
static const uint8_t default_calib[CALIB_LEN] = {0x70, 0x6B, 0x43, 0x67, 0x18, 0xFC, 0x7D, 0x8E,
                                                 0x43, 0xD6, 0xD0, 0x0B, 0x27, 0x0B, 0x8C, 0x00,
                                                 0xF9, 0xFF, 0x8C, 0x3C, 0xF8, 0xC6, 0x70, 0x17};

static void parse_calib(bmp280_t *b)
{
    const uint8_t *r = b->reg + REG_CALIB;
    cal_t *c = &b->cal;
    c->t1 = hv_sim_u16le(r + 0);
    c->t2 = hv_sim_s16le(r + 2);
    c->t3 = hv_sim_s16le(r + 4);
    c->p1 = hv_sim_u16le(r + 6);
    c->p2 = hv_sim_s16le(r + 8);
    c->p3 = hv_sim_s16le(r + 10);
    c->p4 = hv_sim_s16le(r + 12);
    c->p5 = hv_sim_s16le(r + 14);
    c->p6 = hv_sim_s16le(r + 16);
    c->p7 = hv_sim_s16le(r + 18);
    c->p8 = hv_sim_s16le(r + 20);
    c->p9 = hv_sim_s16le(r + 22);
}

static int is_calib(unsigned a)
{
    return a >= REG_CALIB && a < REG_CALIB + CALIB_LEN;
}

static int is_read_only(unsigned a)
{
    return is_calib(a) || a == REG_ID || a == REG_STATUS || (a >= REG_DATA && a <= 0xFC);
}

static void reset_regs(bmp280_t *b)
{
    for (unsigned a = 0; a < 256; a++)
        if (!is_calib(a))
            b->reg[a] = 0;
    b->reg[REG_ID] = 0x58;
    b->reg[REG_DATA] = 0x80;
    b->reg[REG_DATA + 3] = 0x80;
    b->mode = 0;
}

/* ---- the datasheet's double-precision compensation, forward -------------- */

static double t_fine_of(const cal_t *c, double adc)
{
    double v1 = (adc / 16384.0 - c->t1 / 1024.0) * c->t2;
    double d = adc / 131072.0 - c->t1 / 8192.0;
    return v1 + d * d * c->t3;
}

static double press_of(const cal_t *c, double t_fine, double adc)
{
    double v1 = t_fine / 2.0 - 64000.0;
    double v2 = v1 * v1 * c->p6 / 32768.0;
    v2 = v2 + v1 * c->p5 * 2.0;
    v2 = v2 / 4.0 + c->p4 * 65536.0;
    v1 = (c->p3 * v1 * v1 / 524288.0 + c->p2 * v1) / 524288.0;
    v1 = (1.0 + v1 / 32768.0) * c->p1;
    if (v1 == 0.0)
        return 0.0;
    double p = 1048576.0 - adc;
    p = (p - v2 / 4096.0) * 6250.0 / v1;
    v1 = c->p9 * p * p / 2147483648.0;
    v2 = p * c->p8 / 32768.0;
    return p + (v1 + v2 + c->p7) / 16.0;
}

typedef struct {
    const cal_t *c;
    double t_fine;
} fwd_ctx_t;

static double fwd_temp(const void *ctx, long x)
{
    return t_fine_of(((const fwd_ctx_t *)ctx)->c, (double)x) / 5120.0;
}

static double fwd_press(const void *ctx, long x)
{
    const fwd_ctx_t *f = ctx;
    return press_of(f->c, f->t_fine, (double)x);
}

static void put20(uint8_t *p, long v)
{
    p[0] = (uint8_t)(v >> 12);
    p[1] = (uint8_t)(v >> 4);
    p[2] = (uint8_t)((v & 0x0F) << 4);
}

/* The data registers for the environment now. */
static void measure(bmp280_t *b, uint8_t out[6])
{
    const hv_sim_env_t *env = hv_sim_env(&b->base);
    uint8_t meas = b->reg[REG_CTRL_MEAS];
    fwd_ctx_t f = {.c = &b->cal};
    long adc_t = hv_sim_invert(fwd_temp, &f, 0, 0xFFFFF, env->temperature_c);
    f.t_fine = (double)(int32_t)t_fine_of(&b->cal, (double)adc_t);
    long adc_p = hv_sim_invert(fwd_press, &f, 0, 0xFFFFF, env->pressure_hpa * 100.0);
    put20(out, (meas >> 2) & 7 ? adc_p : 0x80000);
    put20(out + 3, meas >> 5 ? adc_t : 0x80000);
}

static uint64_t os_factor(unsigned osrs)
{
    static const unsigned f[8] = {0, 1, 2, 4, 8, 16, 16, 16};
    return f[osrs & 7];
}

static uint64_t t_measure_us(const bmp280_t *b)
{
    uint8_t meas = b->reg[REG_CTRL_MEAS];
    uint64_t ot = os_factor(meas >> 5), op = os_factor((meas >> 2) & 7);
    return 1000 + 2000 * ot + (op ? 2000 * op + 500 : 0);
}

static uint64_t t_standby_us(const bmp280_t *b)
{
    static const uint64_t sb[8] = {500, 62500, 125000, 250000, 500000, 1000000, 2000000, 4000000};
    return sb[b->reg[REG_CONFIG] >> 5];
}

static void update(bmp280_t *b, uint64_t now)
{
    uint64_t tm = t_measure_us(b), t = now >= b->start_us ? now - b->start_us : 0;
    int measuring = 0;
    if (b->mode == 1) {
        if (t >= tm) {
            memcpy(b->reg + REG_DATA, b->result, sizeof b->result);
            b->reg[REG_CTRL_MEAS] &= 0xFC;
            b->mode = 0;
        } else {
            measuring = 1;
        }
    } else if (b->mode == 3) {
        uint64_t period = tm + t_standby_us(b);
        uint64_t finished = t >= tm ? (t - tm) / period + 1 : 0;
        if (finished > b->done) {
            measure(b, b->reg + REG_DATA);
            b->done = finished;
        }
        measuring = t % period < tm;
    }
    b->reg[REG_STATUS] = measuring ? 0x08 : 0x00;
}

static void write_reg(bmp280_t *b, uint8_t a, uint8_t v, uint64_t now)
{
    if (a == REG_RESET) {
        if (v == 0xB6)
            reset_regs(b);
        return;
    }
    if (is_read_only(a))
        return;
    b->reg[a] = v;
    if (a != REG_CTRL_MEAS && a != REG_CONFIG)
        return;
    int mode = b->reg[REG_CTRL_MEAS] & 3;
    if (a == REG_CTRL_MEAS && (mode == 1 || mode == 2)) {
        measure(b, b->result);
        b->mode = 1;
        b->start_us = now;
    } else if (mode == 3) { /* (re)start the normal-mode cycle */
        b->mode = 3;
        b->start_us = now;
        b->done = 0;
    } else if (a == REG_CTRL_MEAS) {
        b->mode = 0;
    }
    update(b, now);
}

/* write_reg with a void * chip, for the shared pairs protocol. */
static void write_reg_cb(void *chip, uint8_t a, uint8_t v, uint64_t now)
{
    write_reg(chip, a, v, now);
}

static int bmp280_write(hv_sim_dev_t *d, const uint8_t *buf, size_t len, uint64_t now_us)
{
    bmp280_t *b = (bmp280_t *)d;
    update(b, now_us);
    return hv_sim_pairs_write(b, &b->ptr, buf, len, now_us, write_reg_cb);
}

static int bmp280_read(hv_sim_dev_t *d, uint8_t *buf, size_t len, uint64_t now_us)
{
    bmp280_t *b = (bmp280_t *)d;
    update(b, now_us);
    return hv_sim_regs_read(b->reg, &b->ptr, buf, len);
}

static void bmp280_free(hv_sim_dev_t *d)
{
    free(d);
}

static const hv_sim_dev_ops_t bmp280_ops = {"bmp280", bmp280_write, bmp280_read, bmp280_free};

hv_sim_dev_t *hv_sim_bmp280_new(uint8_t addr, const hv_sim_env_t *env, const uint8_t *calib,
                                size_t calib_len)
{
    if (calib == NULL)
        calib = default_calib, calib_len = CALIB_LEN;
    if (calib_len != CALIB_LEN)
        return NULL;
    bmp280_t *b = calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    b->base.ops = &bmp280_ops;
    b->base.addr = addr;
    b->base.env = env;
    memcpy(b->reg + REG_CALIB, calib, CALIB_LEN);
    parse_calib(b);
    reset_regs(b);
    return &b->base;
}

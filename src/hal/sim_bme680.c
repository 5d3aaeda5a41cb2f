/*
 * Bosch BME680 at register level (I2C), after the datasheet (BST-BME680-DS001)
 * and the compensation of the Bosch sensor API.
 *
 * Bus: a write is the register address then data, then optionally further
 * (address, data) pairs: the chip does not auto-increment on writes
 * (datasheet 6.2.1). The last address sent is the read pointer; reads
 * auto-increment and wrap from 0xFF to 0x00.
 *
 * Measurements: only forced mode (ctrl_meas mode 01). Writing it samples
 * the environment and starts a TPHG cycle that lasts as long as the Bosch
 * API computes (1963 us per oversampling cycle, 477 us x 4 for switching,
 * 477 us x 5 for the gas ADC, 500 us) plus gas_wait_x when run_gas.
 * meas_status_0 shows measuring / gas_measuring until then, then new_data;
 * ctrl_meas falls back to sleep and the data registers take the results.
 * Raw values invert the Bosch floating-point compensation for this chip's
 * calibration, at full 20-bit resolution whatever the oversampling (a
 * noise-free chip: oversampling only costs time). The IIR filter is stored
 * but not applied. Skipped measurements read 0x80000 / 0x8000.
 *
 * Gas: gas_r holds the 10-bit ADC and the range that represent the gas
 * resistance best. gas_valid_r is set when run_gas; heat_stab_r when the
 * heater is on (ctrl_gas_0 heat_off clear), the set point's heat time is at
 * least 20 ms (the datasheet's "20-30 ms to reach the target") and the
 * target temperature that res_heat_x encodes lies between the ambient
 * temperature and 400 degC.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_dev_impl.h"

#define REG_STATUS0 0x1D
#define REG_PRESS 0x1F
#define REG_GAS_LSB 0x2B
#define REG_RES_HEAT0 0x5A
#define REG_GAS_WAIT0 0x64
#define REG_CTRL_GAS0 0x70
#define REG_CTRL_GAS1 0x71
#define REG_CTRL_HUM 0x72
#define REG_CTRL_MEAS 0x74
#define REG_ID 0xD0
#define REG_RESET 0xE0
#define REG_VARIANT 0xF0

#define CALIB_LEN 45 /* 0x8A..0xA1 (24), 0xE1..0xF0 (16), 0x00..0x04 (5) */

typedef struct {
    double t1, t2, t3;
    double p1, p2, p3, p4, p5, p6, p7, p8, p9, p10;
    double h1, h2, h3, h4, h5, h6, h7;
    double g1, g2, g3;
    int res_heat_range, res_heat_val, range_sw_err;
} cal_t;

typedef struct {
    hv_sim_dev_t base;
    uint8_t reg[256];
    uint8_t ptr;
    cal_t cal;
    int measuring;
    uint64_t end_us;
    uint8_t status_done; /* meas_status_0 once the measurement is over */
    uint8_t result[13];  /* 0x1F..0x2B at the end of the measurement */
} bme680_t;

/* Bosch API float lookup tables for the gas range (in percent). */
static const double k1_range[16] = {0.0, 0.0, 0.0,  0.0,  0.0, -1.0, 0.0, -0.8,
                                    0.0, 0.0, -0.2, -0.5, 0.0, -1.0, 0.0, 0.0};
static const double k2_range[16] = {0.0,  0.0, 0.0, 0.0, 0.1, 0.7, 0.0, -0.8,
                                    -0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};

/* A typical set (t/p/h as read from a real chip). */
static const uint8_t default_calib[CALIB_LEN] = {
    /* 0x8A */ 0x97, 0x67, 0x03, 0x00, 0xC0, 0x88, 0xD4, 0xD7, 0x58, 0x00, 0xDC, 0x25,
    /* 0x96 */ 0x36, 0xFF, 0x18, 0x1E, 0x00, 0x00, 0xFC, 0xFD, 0x73, 0xF2, 0x1E, 0x00,
    /* 0xE1 */ 0x3E, 0xFA, 0x31, 0x00, 0x2D, 0x14, 0x78, 0x9C, 0x5B, 0x66, 0x68, 0xCF,
    /* 0xED */ 0xE2, 0x12, 0x00, 0x00,
    /* 0x00 */ 0x2A, 0x00, 0x10, 0x00, 0x00};

static void parse_calib(bme680_t *b)
{
    const uint8_t *r = b->reg;
    cal_t *c = &b->cal;
    c->t1 = hv_sim_u16le(r + 0xE9);
    c->t2 = hv_sim_s16le(r + 0x8A);
    c->t3 = (int8_t)r[0x8C];
    c->p1 = hv_sim_u16le(r + 0x8E);
    c->p2 = hv_sim_s16le(r + 0x90);
    c->p3 = (int8_t)r[0x92];
    c->p4 = hv_sim_s16le(r + 0x94);
    c->p5 = hv_sim_s16le(r + 0x96);
    c->p7 = (int8_t)r[0x98];
    c->p6 = (int8_t)r[0x99];
    c->p8 = hv_sim_s16le(r + 0x9C);
    c->p9 = hv_sim_s16le(r + 0x9E);
    c->p10 = r[0xA0];
    c->h1 = (r[0xE3] << 4) | (r[0xE2] & 0x0F);
    c->h2 = (r[0xE1] << 4) | (r[0xE2] >> 4);
    c->h3 = (int8_t)r[0xE4];
    c->h4 = (int8_t)r[0xE5];
    c->h5 = (int8_t)r[0xE6];
    c->h6 = r[0xE7];
    c->h7 = (int8_t)r[0xE8];
    c->g2 = hv_sim_s16le(r + 0xEB);
    c->g1 = (int8_t)r[0xED];
    c->g3 = (int8_t)r[0xEE];
    c->res_heat_range = (r[0x02] >> 4) & 0x03;
    c->res_heat_val = (int8_t)r[0x00];
    c->range_sw_err = (int8_t)(r[0x04] & 0xF0) / 16;
}

static int is_calib(unsigned a)
{
    return a <= 0x04 || (a >= 0x8A && a <= 0xA1) || (a >= 0xE1 && a <= 0xF0);
}

static int is_read_only(unsigned a)
{
    return is_calib(a) || (a >= REG_STATUS0 && a <= REG_GAS_LSB) || a == REG_ID;
}

/* Power-on / soft-reset values of everything but the calibration. */
static void reset_regs(bme680_t *b)
{
    for (unsigned a = 0; a < 256; a++)
        if (!is_calib(a))
            b->reg[a] = 0;
    b->reg[REG_ID] = 0x61;
    b->reg[REG_PRESS] = 0x80;     /* press_msb */
    b->reg[REG_PRESS + 3] = 0x80; /* temp_msb */
    b->reg[REG_PRESS + 6] = 0x80; /* hum_msb */
    b->measuring = 0;
}

/* ---- the Bosch floating-point compensation, forward ---------------------- */

static double t_fine_of(const cal_t *c, double adc)
{
    double v1 = (adc / 16384.0 - c->t1 / 1024.0) * c->t2;
    double d = adc / 131072.0 - c->t1 / 8192.0;
    double v2 = d * d * (c->t3 * 16.0);
    return v1 + v2;
}

static double press_of(const cal_t *c, double t_fine, double adc)
{
    double v1 = t_fine / 2.0 - 64000.0;
    double v2 = v1 * v1 * (c->p6 / 131072.0);
    v2 = v2 + v1 * c->p5 * 2.0;
    v2 = v2 / 4.0 + c->p4 * 65536.0;
    v1 = ((c->p3 * v1 * v1) / 16384.0 + c->p2 * v1) / 524288.0;
    v1 = (1.0 + v1 / 32768.0) * c->p1;
    double p = 1048576.0 - adc;
    if (v1 == 0.0)
        return 0.0;
    p = ((p - v2 / 4096.0) * 6250.0) / v1;
    v1 = (c->p9 * p * p) / 2147483648.0;
    v2 = p * (c->p8 / 32768.0);
    double v3 = (p / 256.0) * (p / 256.0) * (p / 256.0) * (c->p10 / 131072.0);
    return p + (v1 + v2 + v3 + c->p7 * 128.0) / 16.0;
}

static double hum_of(const cal_t *c, double t_fine, double adc)
{
    double tc = t_fine / 5120.0;
    double v1 = adc - (c->h1 * 16.0 + (c->h3 / 2.0) * tc);
    double v2 =
        v1 * ((c->h2 / 262144.0) * (1.0 + (c->h4 / 16384.0) * tc + (c->h5 / 1048576.0) * tc * tc));
    double v3 = c->h6 / 16384.0, v4 = c->h7 / 2097152.0;
    double h = v2 + (v3 + v4 * tc) * v2 * v2;
    return h > 100.0 ? 100.0 : h < 0.0 ? 0.0 : h;
}

static double gas_of(const cal_t *c, double adc, int range)
{
    double v1 = 1340.0 + 5.0 * c->range_sw_err;
    double v2 = v1 * (1.0 + k1_range[range] / 100.0);
    double v3 = 1.0 + k2_range[range] / 100.0;
    return 1.0 / (v3 * 0.000000125 * (double)(1u << range) * ((adc - 512.0) / v2 + 1.0));
}

/* ---- inversion ------------------------------------------------------------ */

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

static double fwd_hum(const void *ctx, long x)
{
    const fwd_ctx_t *f = ctx;
    return hum_of(f->c, f->t_fine, (double)x);
}

static void put20(uint8_t *p, long v)
{
    p[0] = (uint8_t)(v >> 12);
    p[1] = (uint8_t)(v >> 4);
    p[2] = (uint8_t)((v & 0x0F) << 4);
}

/* The ADC value and range whose resistance is nearest to ohm. */
static void gas_raw(const cal_t *c, double ohm, int *ret_adc, int *ret_range)
{
    double best = INFINITY;
    *ret_adc = 512, *ret_range = 0;
    if (!(ohm > 0.0))
        ohm = 1.0;
    for (int r = 0; r < 16; r++) {
        double v2 = (1340.0 + 5.0 * c->range_sw_err) * (1.0 + k1_range[r] / 100.0);
        double v3 = 1.0 + k2_range[r] / 100.0;
        double x = 1.0 / (ohm * v3 * 0.000000125 * (double)(1u << r));
        double a = floor(512.0 + v2 * (x - 1.0) + 0.5);
        for (double adc = a - 1; adc <= a + 1; adc++) {
            if (adc < 0 || adc > 1023)
                continue;
            double err = fabs(gas_of(c, adc, r) - ohm) / ohm;
            if (err < best) {
                best = err;
                *ret_adc = (int)adc, *ret_range = r;
            }
        }
    }
}

/* The heater temperature that res_heat_x encodes at the given ambient. */
static double heater_target(const cal_t *c, uint8_t res_heat, double amb)
{
    double v1 = c->g1 / 16.0 + 49.0;
    double v2 = (c->g2 / 32768.0) * 0.0005 + 0.00235;
    double v3 = c->g3 / 1024.0;
    double v5 = (res_heat / 3.4 + 25.0) * ((4.0 + c->res_heat_range) / 4.0) *
                (1.0 + c->res_heat_val * 0.002);
    if (v1 == 0.0 || v2 == 0.0)
        return INFINITY;
    return ((v5 - v3 * amb) / v1 - 1.0) / v2;
}

static unsigned os_cycles(unsigned osrs)
{
    static const unsigned cycles[8] = {0, 1, 2, 4, 8, 16, 16, 16};
    return cycles[osrs & 7];
}

static unsigned gas_wait_ms(uint8_t v)
{
    static const unsigned factor[4] = {1, 4, 16, 64};
    return (v & 0x3F) * factor[v >> 6];
}

static void start_measurement(bme680_t *b, uint64_t now)
{
    const hv_sim_env_t *env = hv_sim_env(&b->base);
    const cal_t *c = &b->cal;
    uint8_t meas = b->reg[REG_CTRL_MEAS], gas1 = b->reg[REG_CTRL_GAS1];
    unsigned osrs_t = meas >> 5, osrs_p = (meas >> 2) & 7, osrs_h = b->reg[REG_CTRL_HUM] & 7;
    unsigned nb = gas1 & 0x0F;
    int run_gas = (gas1 >> 4) & 1;
    uint64_t dur = (uint64_t)(os_cycles(osrs_t) + os_cycles(osrs_p) + os_cycles(osrs_h)) * 1963 +
                   477 * 4 + 477 * 5 + 500;
    if (run_gas && nb <= 9)
        dur += (uint64_t)gas_wait_ms(b->reg[REG_GAS_WAIT0 + nb]) * 1000;

    /* results, from the environment now */
    uint8_t *res = b->result;
    memcpy(res, b->reg + REG_PRESS, sizeof b->result);
    fwd_ctx_t f = {.c = c};
    long adc_t = hv_sim_invert(fwd_temp, &f, 0, 0xFFFFF, env->temperature_c);
    f.t_fine = t_fine_of(c, (double)adc_t);
    long adc_p = hv_sim_invert(fwd_press, &f, 0, 0xFFFFF, env->pressure_hpa * 100.0);
    long adc_h = hv_sim_invert(fwd_hum, &f, 0, 0xFFFF, env->humidity_pct);
    put20(res + 0, osrs_p ? adc_p : 0x80000);
    put20(res + 3, osrs_t ? adc_t : 0x80000);
    if (!osrs_h)
        adc_h = 0x8000;
    res[6] = (uint8_t)(adc_h >> 8), res[7] = (uint8_t)adc_h;
    if (run_gas && nb <= 9) {
        int adc, range;
        gas_raw(c, env->gas_ohm, &adc, &range);
        double target = heater_target(c, b->reg[REG_RES_HEAT0 + nb], env->temperature_c);
        int stable = !(b->reg[REG_CTRL_GAS0] & 0x08) &&
                     gas_wait_ms(b->reg[REG_GAS_WAIT0 + nb]) >= 20 &&
                     target >= env->temperature_c && target <= 400.0;
        res[11] = (uint8_t)(adc >> 2);
        res[12] = (uint8_t)(((adc & 3) << 6) | 0x20 | (stable ? 0x10 : 0) | range);
    } else {
        res[12] &= 0xCF; /* a dummy gas slot: not valid, not stable */
    }
    b->status_done = (uint8_t)(0x80 | (nb & 0x0F));
    b->reg[REG_STATUS0] = (uint8_t)(0x20 | (run_gas ? 0x40 : 0) | (nb & 0x0F));
    b->measuring = 1;
    b->end_us = now + dur;
}

static void update(bme680_t *b, uint64_t now)
{
    if (!b->measuring || now < b->end_us)
        return;
    b->measuring = 0;
    memcpy(b->reg + REG_PRESS, b->result, sizeof b->result);
    b->reg[REG_STATUS0] = b->status_done;
    b->reg[REG_CTRL_MEAS] &= 0xFC; /* back to sleep */
}

static void write_reg(bme680_t *b, uint8_t a, uint8_t v, uint64_t now)
{
    if (a == REG_RESET) {
        if (v == 0xB6)
            reset_regs(b);
        return;
    }
    if (is_read_only(a))
        return;
    b->reg[a] = v;
    if (a == REG_CTRL_MEAS && (v & 3) == 1)
        start_measurement(b, now);
}

/* write_reg with a void * chip, for the shared pairs protocol. */
static void write_reg_cb(void *chip, uint8_t a, uint8_t v, uint64_t now)
{
    write_reg(chip, a, v, now);
}

static int bme680_write(hv_sim_dev_t *d, const uint8_t *buf, size_t len, uint64_t now_us)
{
    bme680_t *b = (bme680_t *)d;
    update(b, now_us);
    return hv_sim_pairs_write(b, &b->ptr, buf, len, now_us, write_reg_cb);
}

static int bme680_read(hv_sim_dev_t *d, uint8_t *buf, size_t len, uint64_t now_us)
{
    bme680_t *b = (bme680_t *)d;
    update(b, now_us);
    return hv_sim_regs_read(b->reg, &b->ptr, buf, len);
}

static void bme680_free(hv_sim_dev_t *d)
{
    free(d);
}

static const hv_sim_dev_ops_t bme680_ops = {"bme680", bme680_write, bme680_read, bme680_free};

hv_sim_dev_t *hv_sim_bme680_new(uint8_t addr, const hv_sim_env_t *env, const uint8_t *calib,
                                size_t calib_len)
{
    if (calib == NULL)
        calib = default_calib, calib_len = CALIB_LEN;
    if (calib_len != CALIB_LEN)
        return NULL;
    bme680_t *b = calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    b->base.ops = &bme680_ops;
    b->base.addr = addr;
    b->base.env = env;
    memcpy(b->reg + 0x8A, calib, 24);
    memcpy(b->reg + 0xE1, calib + 24, 16);
    memcpy(b->reg + 0x00, calib + 40, 5);
    parse_calib(b);
    reset_regs(b);
    return &b->base;
}

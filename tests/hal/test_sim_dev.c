/*
 * The simulated chips at register level, driven as a driver drives the
 * real ones: the datasheets' sequences byte by byte, the compensation
 * formulas written here from the datasheets, the truth back out.
 */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "../../src/hal/sim_dev.h"

/* ---- bus helpers ---------------------------------------------------------- */

static uint64_t now; /* the simulated clock, microseconds */

static void wr(hv_sim_dev_t *d, const uint8_t *b, size_t n)
{
    assert_int_equal(d->ops->write(d, b, n, now), HV_OK);
}

static void rd(hv_sim_dev_t *d, uint8_t *b, size_t n)
{
    assert_int_equal(d->ops->read(d, b, n, now), HV_OK);
}

#define WR(d, ...)                                                                                 \
    do {                                                                                           \
        const uint8_t b_[] = {__VA_ARGS__};                                                        \
        wr(d, b_, sizeof b_);                                                                      \
    } while (0)

/* Register read: the address in a write, then a read (repeated start). */
static void rd_reg(hv_sim_dev_t *d, uint8_t reg, uint8_t *b, size_t n)
{
    WR(d, reg);
    rd(d, b, n);
}

static uint8_t reg8(hv_sim_dev_t *d, uint8_t reg)
{
    uint8_t v;
    rd_reg(d, reg, &v, 1);
    return v;
}

static void free_dev(hv_sim_dev_t *d)
{
    d->ops->free(d);
}

/* ---- BME680 --------------------------------------------------------------- */

typedef struct {
    int t1, t2, t3, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10;
    int h1, h2, h3, h4, h5, h6, h7, g1, g2, g3;
    int res_heat_range, res_heat_val, range_sw_err;
} bme_par_t;

/* Two made-up but valid sets (within the spread of real chips). */
static const bme_par_t bme_set_a = {25942, 26198, 3,     36340, -10422, 88,   6727, -94, 30,
                                    44,    -2420, -3286, 30,    767,    1029, 0,    45,  20,
                                    120,   -100,  -12,   -9012, 18,     2,    20,   -3};
static const bme_par_t bme_set_b = {27000, 25500, -2,    37500,  -10900, 92,  8000, -150, 28,
                                    30,    -1500, -3600, 28,     820,    980, 2,    40,   18,
                                    115,   -95,   -45,   -14000, 10,     0,   -15,  5};

/* Index in the 45-byte calibration image of a register address. */
static size_t bme_idx(unsigned a)
{
    return a >= 0xE1 ? 24 + (a - 0xE1) : a >= 0x8A ? a - 0x8A : 40 + a;
}

static void bme_put16(uint8_t *c, unsigned a, int v)
{
    c[bme_idx(a)] = (uint8_t)(v & 0xFF);
    c[bme_idx(a + 1)] = (uint8_t)((v >> 8) & 0xFF);
}

/* Lays out the parameters as the datasheet's memory map does. */
static void bme_pack(const bme_par_t *p, uint8_t c[45])
{
    memset(c, 0, 45);
    bme_put16(c, 0xE9, p->t1);
    bme_put16(c, 0x8A, p->t2);
    c[bme_idx(0x8C)] = (uint8_t)p->t3;
    bme_put16(c, 0x8E, p->p1);
    bme_put16(c, 0x90, p->p2);
    c[bme_idx(0x92)] = (uint8_t)p->p3;
    bme_put16(c, 0x94, p->p4);
    bme_put16(c, 0x96, p->p5);
    c[bme_idx(0x99)] = (uint8_t)p->p6;
    c[bme_idx(0x98)] = (uint8_t)p->p7;
    bme_put16(c, 0x9C, p->p8);
    bme_put16(c, 0x9E, p->p9);
    c[bme_idx(0xA0)] = (uint8_t)p->p10;
    c[bme_idx(0xE3)] = (uint8_t)(p->h1 >> 4);
    c[bme_idx(0xE2)] = (uint8_t)(((p->h2 & 0x0F) << 4) | (p->h1 & 0x0F));
    c[bme_idx(0xE1)] = (uint8_t)(p->h2 >> 4);
    c[bme_idx(0xE4)] = (uint8_t)p->h3;
    c[bme_idx(0xE5)] = (uint8_t)p->h4;
    c[bme_idx(0xE6)] = (uint8_t)p->h5;
    c[bme_idx(0xE7)] = (uint8_t)p->h6;
    c[bme_idx(0xE8)] = (uint8_t)p->h7;
    c[bme_idx(0xED)] = (uint8_t)p->g1;
    bme_put16(c, 0xEB, p->g2);
    c[bme_idx(0xEE)] = (uint8_t)p->g3;
    c[bme_idx(0x00)] = (uint8_t)p->res_heat_val;
    c[bme_idx(0x02)] = (uint8_t)(0x0A | (p->res_heat_range << 4)); /* other bits: noise */
    c[bme_idx(0x04)] = (uint8_t)(((p->range_sw_err & 0x0F) << 4) | 0x03);
}

static int u16(const uint8_t *b)
{
    return b[0] | (b[1] << 8);
}

static int s16(const uint8_t *b)
{
    return (int16_t)u16(b);
}

/* From the three blocks read over the bus: 0x8A (24), 0xE1 (16), 0x00 (5). */
static void bme_parse(const uint8_t *b1, const uint8_t *b2, const uint8_t *b3, bme_par_t *p)
{
#define R1(a) (b1 + ((a)-0x8A))
#define R2(a) (b2 + ((a)-0xE1))
    p->t1 = u16(R2(0xE9));
    p->t2 = s16(R1(0x8A));
    p->t3 = (int8_t)*R1(0x8C);
    p->p1 = u16(R1(0x8E));
    p->p2 = s16(R1(0x90));
    p->p3 = (int8_t)*R1(0x92);
    p->p4 = s16(R1(0x94));
    p->p5 = s16(R1(0x96));
    p->p6 = (int8_t)*R1(0x99);
    p->p7 = (int8_t)*R1(0x98);
    p->p8 = s16(R1(0x9C));
    p->p9 = s16(R1(0x9E));
    p->p10 = *R1(0xA0);
    p->h1 = (*R2(0xE3) << 4) | (*R2(0xE2) & 0x0F);
    p->h2 = (*R2(0xE1) << 4) | (*R2(0xE2) >> 4);
    p->h3 = (int8_t)*R2(0xE4);
    p->h4 = (int8_t)*R2(0xE5);
    p->h5 = (int8_t)*R2(0xE6);
    p->h6 = *R2(0xE7);
    p->h7 = (int8_t)*R2(0xE8);
    p->g1 = (int8_t)*R2(0xED);
    p->g2 = s16(R2(0xEB));
    p->g3 = (int8_t)*R2(0xEE);
    p->res_heat_val = (int8_t)b3[0];
    p->res_heat_range = (b3[2] >> 4) & 3;
    p->range_sw_err = ((int8_t)(b3[4] & 0xF0)) / 16;
#undef R1
#undef R2
}

/* Bosch floating-point compensation (datasheet section 3.3 / Bosch API). */
static double bme_t_fine(const bme_par_t *c, double adc_t)
{
    double var1 = ((adc_t / 16384.0) - (c->t1 / 1024.0)) * c->t2;
    double var2 =
        (((adc_t / 131072.0) - (c->t1 / 8192.0)) * ((adc_t / 131072.0) - (c->t1 / 8192.0))) *
        (c->t3 * 16.0);
    return var1 + var2;
}

static double bme_press(const bme_par_t *c, double t_fine, double adc_p)
{
    double var1 = (t_fine / 2.0) - 64000.0;
    double var2 = var1 * var1 * (c->p6 / 131072.0);
    var2 = var2 + (var1 * c->p5 * 2.0);
    var2 = (var2 / 4.0) + (c->p4 * 65536.0);
    var1 = (((c->p3 * var1 * var1) / 16384.0) + (c->p2 * var1)) / 524288.0;
    var1 = (1.0 + (var1 / 32768.0)) * c->p1;
    double press = 1048576.0 - adc_p;
    press = ((press - (var2 / 4096.0)) * 6250.0) / var1;
    var1 = (c->p9 * press * press) / 2147483648.0;
    var2 = press * (c->p8 / 32768.0);
    double var3 = (press / 256.0) * (press / 256.0) * (press / 256.0) * (c->p10 / 131072.0);
    return press + (var1 + var2 + var3 + (c->p7 * 128.0)) / 16.0;
}

static double bme_hum(const bme_par_t *c, double t_fine, double adc_h)
{
    double temp = t_fine / 5120.0;
    double var1 = adc_h - ((c->h1 * 16.0) + ((c->h3 / 2.0) * temp));
    double var2 = var1 * ((c->h2 / 262144.0) *
                          (1.0 + ((c->h4 / 16384.0) * temp) + ((c->h5 / 1048576.0) * temp * temp)));
    double var3 = c->h6 / 16384.0;
    double var4 = c->h7 / 2097152.0;
    double h = var2 + ((var3 + (var4 * temp)) * var2 * var2);
    return h > 100.0 ? 100.0 : h < 0.0 ? 0.0 : h;
}

/* The datasheet's gas formula with its two constant arrays. */
static double bme_gas(const bme_par_t *c, double adc, int range)
{
    static const double a1[16] = {1, 1, 1, 1, 1, 0.99, 1, 0.992, 1, 1, 0.998, 0.995, 1, 0.99, 1, 1};
    static const double a2[16] = {
        8000000,     4000000, 2000000, 1000000, 499500.4995, 248262.1648, 125000,    63004.03226,
        31281.28128, 15625,   7812.5,  3906.25, 1953.125,    976.5625,    488.28125, 244.140625};
    double var1 = (1340.0 + 5.0 * c->range_sw_err) * a1[range];
    return var1 * a2[range] / (adc - 512.0 + var1);
}

static uint8_t bme_res_heat(const bme_par_t *c, double target, double amb)
{
    double var1 = (c->g1 / 16.0) + 49.0;
    double var2 = ((c->g2 / 32768.0) * 0.0005) + 0.00235;
    double var3 = c->g3 / 1024.0;
    double var4 = var1 * (1.0 + (var2 * target));
    double var5 = var4 + (var3 * amb);
    return (uint8_t)(3.4 * ((var5 * (4.0 / (4.0 + c->res_heat_range)) *
                             (1.0 / (1.0 + (c->res_heat_val * 0.002)))) -
                            25.0));
}

/* Bosch API profile duration, ms: TPH plus the heater time. */
static unsigned bme_duration_ms(unsigned osrs_t, unsigned osrs_p, unsigned osrs_h, unsigned heat_ms)
{
    static const unsigned cycles[6] = {0, 1, 2, 4, 8, 16};
    unsigned meas = cycles[osrs_t] + cycles[osrs_p] + cycles[osrs_h];
    unsigned tph = meas * 1963u + 477u * 4 + 477u * 5 + 500u;
    return tph / 1000 + 1 + heat_ms;
}

typedef struct {
    double t, p, h, gas;
    int new_data, gas_valid, heat_stab, gas_index;
    long adc_t, adc_p, adc_h;
} bme_out_t;

static void bme_read_field(hv_sim_dev_t *d, const bme_par_t *c, bme_out_t *o)
{
    uint8_t f[15]; /* 0x1D..0x2B */
    rd_reg(d, 0x1D, f, sizeof f);
    o->new_data = f[0] >> 7;
    o->gas_index = f[0] & 0x0F;
    o->adc_p = ((long)f[2] << 12) | (f[3] << 4) | (f[4] >> 4);
    o->adc_t = ((long)f[5] << 12) | (f[6] << 4) | (f[7] >> 4);
    o->adc_h = ((long)f[8] << 8) | f[9];
    int adc_g = (f[13] << 2) | (f[14] >> 6);
    o->gas_valid = (f[14] >> 5) & 1;
    o->heat_stab = (f[14] >> 4) & 1;
    double t_fine = bme_t_fine(c, (double)o->adc_t);
    o->t = t_fine / 5120.0;
    o->p = bme_press(c, t_fine, (double)o->adc_p) / 100.0;
    o->h = bme_hum(c, t_fine, (double)o->adc_h);
    o->gas = bme_gas(c, adc_g, f[14] & 0x0F);
}

/* The datasheet's start-up: chip id, soft reset, calibration. */
static void bme_init(hv_sim_dev_t *d, bme_par_t *c)
{
    assert_int_equal(reg8(d, 0xD0), 0x61);
    WR(d, 0xE0, 0xB6);
    now += 10000;
    assert_int_equal(reg8(d, 0xD0), 0x61);
    assert_int_equal(reg8(d, 0xF0), 0x00); /* variant: BME680 */
    uint8_t b1[24], b2[16], b3[5];
    rd_reg(d, 0x8A, b1, sizeof b1);
    rd_reg(d, 0xE1, b2, sizeof b2);
    rd_reg(d, 0x00, b3, sizeof b3);
    bme_parse(b1, b2, b3, c);
}

/* One forced TPHG measurement at the datasheet's sequence; checks status
 * timing, returns the compensated data. */
static void bme_measure(hv_sim_dev_t *d, const bme_par_t *c, double amb, bme_out_t *o)
{
    uint8_t rh = bme_res_heat(c, 320.0, amb);
    WR(d, 0x5A, rh, 0x64, 0x59); /* res_heat_0, gas_wait_0 = 25 x 4 = 100 ms: pairs */
    WR(d, 0x71, 0x10);           /* run_gas, nb_conv 0 */
    WR(d, 0x72, 0x02);           /* osrs_h x2 */
    WR(d, 0x74, 0x8C);           /* osrs_t x8, osrs_p x4, sleep */
    assert_int_equal(reg8(d, 0x5A), rh);
    assert_int_equal(reg8(d, 0x64), 0x59);
    uint8_t old[3];
    rd_reg(d, 0x1F, old, 3);
    uint64_t t0 = now;
    WR(d, 0x74, 0x8D); /* forced */
    unsigned dur = bme_duration_ms(4, 3, 2, 100);

    now = t0 + 1000;
    uint8_t st = reg8(d, 0x1D);
    assert_true(st & 0x20);  /* measuring */
    assert_true(st & 0x40);  /* gas_measuring */
    assert_false(st & 0x80); /* no new data yet */
    uint8_t cur[3];
    rd_reg(d, 0x1F, cur, 3); /* data not yet updated */
    assert_memory_equal(old, cur, 3);
    now = t0 + 100000;
    assert_false(reg8(d, 0x1D) & 0x80);

    now = t0 + (uint64_t)dur * 1000;
    st = reg8(d, 0x1D);
    assert_true(st & 0x80);
    assert_int_equal(st & 0x60, 0);
    assert_int_equal(reg8(d, 0x74) & 3, 0); /* back to sleep */
    bme_read_field(d, c, o);
    now += 1000;
}

static void bme_check(const bme_out_t *o, const hv_sim_env_t *e)
{
    if (fabs(o->t - e->temperature_c) >= 0.01 || fabs(o->p - e->pressure_hpa) >= 0.01 ||
        fabs(o->h - e->humidity_pct) >= 0.01 || fabs(o->gas - e->gas_ohm) / e->gas_ohm >= 0.001)
        fail_msg("got %.4f C %.4f hPa %.4f %% %.1f ohm for %.4f C %.4f hPa %.4f %% %.1f ohm", o->t,
                 o->p, o->h, o->gas, e->temperature_c, e->pressure_hpa, e->humidity_pct,
                 e->gas_ohm);
}

static const hv_sim_env_t bme_envs[] = {
    {23.45, 41.2, 1002.5, 123456.0, 0}, {-10.3, 85.5, 850.2, 5321.0, 0},
    {38.9, 12.7, 1085.0, 1.5e6, 0},     {0.0, 99.0, 300.5, 250.0, 0},
    {65.2, 3.3, 700.75, 9.0e6, 0},      {21.0, 50.0, 1013.25, 47000.0, 0},
};

static void bme_round_trip(const bme_par_t *set)
{
    hv_sim_env_t env = bme_envs[0];
    uint8_t calib[45];
    if (set != NULL)
        bme_pack(set, calib);
    hv_sim_dev_t *d = hv_sim_bme680_new(0x77, &env, set ? calib : NULL, 45);
    assert_non_null(d);
    assert_string_equal(d->ops->name, "bme680");
    bme_par_t c;
    bme_init(d, &c);
    if (set != NULL)
        assert_memory_equal(&c, set, sizeof c);
    assert_true(c.t1 > 0 && c.t2 > 0 && c.p1 > 0 && c.h1 > 0 && c.h2 > 0);
    for (size_t i = 0; i < sizeof bme_envs / sizeof bme_envs[0]; i++) {
        env = bme_envs[i];
        bme_out_t o;
        bme_measure(d, &c, 25.0, &o);
        assert_int_equal(o.new_data, 1);
        assert_int_equal(o.gas_valid, 1);
        assert_int_equal(o.heat_stab, 1);
        assert_int_equal(o.gas_index, 0);
        bme_check(&o, &env);
    }
    free_dev(d);
}

static void test_bme680_default_calib(void **state)
{
    (void)state;
    bme_round_trip(NULL);
}

static void test_bme680_set_a(void **state)
{
    (void)state;
    bme_round_trip(&bme_set_a);
}

static void test_bme680_set_b(void **state)
{
    (void)state;
    bme_round_trip(&bme_set_b);
}

static void test_bme680_registers(void **state)
{
    (void)state;
    now = 0;
    hv_sim_env_t env = bme_envs[0];
    hv_sim_dev_t *d = hv_sim_bme680_new(0x76, &env, NULL, 45);
    assert_non_null(d);
    assert_null(hv_sim_bme680_new(0x76, &env, (const uint8_t[44]){0}, 44));
    bme_par_t c;
    bme_init(d, &c);
    uint8_t cal1[24], cal2[24];
    rd_reg(d, 0x8A, cal1, 24);

    /* pairs, not auto-increment: 0x5B stays 0 */
    WR(d, 0x5A, 0x11, 0x64, 0x22, 0x72, 0x05, 0x75, 0x08, 0x80, 0x5A);
    uint8_t r[3];
    rd_reg(d, 0x5A, r, 3);
    assert_int_equal(r[0], 0x11);
    assert_int_equal(r[1], 0x00);
    assert_int_equal(reg8(d, 0x64), 0x22);
    assert_int_equal(reg8(d, 0x72), 0x05);
    assert_int_equal(reg8(d, 0x75), 0x08);
    assert_int_equal(reg8(d, 0x80), 0x5A); /* unknown register: stored */
    /* read-only registers ignore writes */
    WR(d, 0xD0, 0x00, 0x8A, 0xFF, 0x1F, 0x12);
    assert_int_equal(reg8(d, 0xD0), 0x61);
    assert_int_equal(reg8(d, 0x1F), 0x80); /* reset value of press_msb */
    /* 0xE0 reads 0; other values than 0xB6 do nothing */
    WR(d, 0xE0, 0x42);
    assert_int_equal(reg8(d, 0xE0), 0x00);
    assert_int_equal(reg8(d, 0x72), 0x05);
    /* soft reset: back to reset values, calibration kept */
    WR(d, 0xE0, 0xB6);
    assert_int_equal(reg8(d, 0x72), 0x00);
    assert_int_equal(reg8(d, 0x75), 0x00);
    assert_int_equal(reg8(d, 0x5A), 0x00);
    assert_int_equal(reg8(d, 0x80), 0x00);
    rd_reg(d, 0x8A, cal2, 24);
    assert_memory_equal(cal1, cal2, 24);
    /* reset values of the field: press/temp 0x80000, hum 0x8000 */
    uint8_t f[15];
    rd_reg(d, 0x1D, f, 15);
    const uint8_t f0[15] = {0, 0, 0x80, 0, 0, 0x80, 0, 0, 0x80, 0, 0, 0, 0, 0, 0};
    assert_memory_equal(f, f0, 15);
    /* pointer wraps past 0xFF */
    uint8_t w[2];
    rd_reg(d, 0xFF, w, 2);
    assert_int_equal(w[0], 0x00);
    assert_int_equal(w[1], 0x2A); /* 0x00: res_heat_val of the default set */
    free_dev(d);
}

static void test_bme680_gas_flags(void **state)
{
    (void)state;
    now = 0;
    hv_sim_env_t env = bme_envs[0];
    hv_sim_dev_t *d = hv_sim_bme680_new(0x77, &env, NULL, 45);
    bme_par_t c;
    bme_init(d, &c);
    bme_out_t o;

    /* set point 3, 50 ms: index 3, stable */
    WR(d, 0x5D, bme_res_heat(&c, 300.0, 25.0), 0x67, 0x32, 0x71, 0x13, 0x72, 0x01, 0x74, 0x24);
    uint64_t t0 = now;
    WR(d, 0x74, 0x25); /* x1 x1 x1 forced */
    now = t0 + 1000;
    assert_int_equal(reg8(d, 0x1D), 0x63); /* gas_measuring, measuring, index 3 */
    now = t0 + bme_duration_ms(1, 1, 1, 50) * 1000ull;
    bme_read_field(d, &c, &o);
    assert_int_equal(o.new_data, 1);
    assert_int_equal(o.gas_index, 3);
    assert_int_equal(o.gas_valid, 1);
    assert_int_equal(o.heat_stab, 1);
    bme_check(&o, &env);

    /* unreachable target (res_heat 255 is far above 400 degC): not stable */
    WR(d, 0x5D, 0xFF, 0x74, 0x25);
    now += 100000;
    bme_read_field(d, &c, &o);
    assert_int_equal(o.gas_valid, 1);
    assert_int_equal(o.heat_stab, 0);
    /* too short a heat time (10 ms) */
    WR(d, 0x5D, bme_res_heat(&c, 300.0, 25.0), 0x67, 0x0A, 0x74, 0x25);
    now += 100000;
    bme_read_field(d, &c, &o);
    assert_int_equal(o.heat_stab, 0);
    /* heater off */
    WR(d, 0x67, 0x32, 0x70, 0x08, 0x74, 0x25);
    now += 100000;
    bme_read_field(d, &c, &o);
    assert_int_equal(o.heat_stab, 0);
    WR(d, 0x70, 0x00);

    /* no gas: no gas_measuring, gas not valid; skipped humidity and
     * pressure read 0x8000 / 0x80000 */
    WR(d, 0x71, 0x00, 0x72, 0x00, 0x74, 0x21);
    t0 = now;
    now = t0 + 500;
    assert_int_equal(reg8(d, 0x1D), 0x20);
    now = t0 + bme_duration_ms(1, 0, 0, 0) * 1000ull;
    bme_read_field(d, &c, &o);
    assert_int_equal(o.new_data, 1);
    assert_int_equal(o.gas_valid, 0);
    assert_int_equal(o.heat_stab, 0);
    assert_int_equal(o.adc_h, 0x8000);
    assert_int_equal(o.adc_p, 0x80000);
    assert_true(fabs(o.t - env.temperature_c) < 0.01);
    /* a new measurement clears new_data until it is done */
    WR(d, 0x74, 0x21);
    assert_int_equal(reg8(d, 0x1D) & 0x80, 0);
    now += 100000;
    assert_int_equal(reg8(d, 0x1D) & 0x80, 0x80);
    free_dev(d);
}

/* ---- BMP280 --------------------------------------------------------------- */

typedef struct {
    int t1, t2, t3, p1, p2, p3, p4, p5, p6, p7, p8, p9;
} bmp_par_t;

static const bmp_par_t bmp_set_a = {27890, 26134, 50, 37612, -10560, 3024,
                                    5416,  -94,   -7, 15500, -14600, 6000};
static const bmp_par_t bmp_set_b = {28500, 25000, -500, 36000, -11000, 2800,
                                    7000,  100,   -10,  12000, -12000, 5000};

static void bmp_pack(const bmp_par_t *p, uint8_t c[24])
{
    const int *v = &p->t1;
    for (int i = 0; i < 12; i++) {
        c[2 * i] = (uint8_t)(v[i] & 0xFF);
        c[2 * i + 1] = (uint8_t)((v[i] >> 8) & 0xFF);
    }
}

static void bmp_parse(const uint8_t *c, bmp_par_t *p)
{
    int *v = &p->t1;
    for (int i = 0; i < 12; i++)
        v[i] = (i == 0 || i == 3) ? u16(c + 2 * i) : s16(c + 2 * i);
}

/* Datasheet section 8.1, double precision; t_fine is an integer there. */
static double bmp_temp(const bmp_par_t *c, long adc_t, int32_t *t_fine)
{
    double var1 = (((double)adc_t) / 16384.0 - ((double)c->t1) / 1024.0) * ((double)c->t2);
    double var2 = ((((double)adc_t) / 131072.0 - ((double)c->t1) / 8192.0) *
                   (((double)adc_t) / 131072.0 - ((double)c->t1) / 8192.0)) *
                  ((double)c->t3);
    *t_fine = (int32_t)(var1 + var2);
    return (var1 + var2) / 5120.0;
}

static double bmp_press(const bmp_par_t *c, int32_t t_fine, long adc_p)
{
    double var1 = ((double)t_fine / 2.0) - 64000.0;
    double var2 = var1 * var1 * ((double)c->p6) / 32768.0;
    var2 = var2 + var1 * ((double)c->p5) * 2.0;
    var2 = (var2 / 4.0) + (((double)c->p4) * 65536.0);
    var1 = (((double)c->p3) * var1 * var1 / 524288.0 + ((double)c->p2) * var1) / 524288.0;
    var1 = (1.0 + var1 / 32768.0) * ((double)c->p1);
    if (var1 == 0.0)
        return 0;
    double p = 1048576.0 - (double)adc_p;
    p = (p - (var2 / 4096.0)) * 6250.0 / var1;
    var1 = ((double)c->p9) * p * p / 2147483648.0;
    var2 = p * ((double)c->p8) / 32768.0;
    return p + (var1 + var2 + ((double)c->p7)) / 16.0;
}

static void bmp_read_data(hv_sim_dev_t *d, const bmp_par_t *c, double *t, double *p)
{
    uint8_t b[6];
    rd_reg(d, 0xF7, b, 6);
    long adc_p = ((long)b[0] << 12) | (b[1] << 4) | (b[2] >> 4);
    long adc_t = ((long)b[3] << 12) | (b[4] << 4) | (b[5] >> 4);
    int32_t t_fine;
    *t = bmp_temp(c, adc_t, &t_fine);
    *p = bmp_press(c, t_fine, adc_p) / 100.0;
}

static void bmp_init(hv_sim_dev_t *d, bmp_par_t *c)
{
    assert_int_equal(reg8(d, 0xD0), 0x58);
    WR(d, 0xE0, 0xB6);
    now += 2000;
    uint8_t cal[24];
    rd_reg(d, 0x88, cal, 24);
    bmp_parse(cal, c);
}

static const hv_sim_env_t bmp_envs[] = {
    {25.08, 0, 1006.5327, 0, 0}, {-30.5, 0, 450.0, 0, 0}, {41.7, 0, 1100.0, 0, 0},
    {5.55, 0, 987.65, 0, 0},     {80.0, 0, 300.0, 0, 0},
};

static void bmp_round_trip(const bmp_par_t *set)
{
    now = 0;
    hv_sim_env_t env = bmp_envs[0];
    uint8_t calib[24];
    if (set != NULL)
        bmp_pack(set, calib);
    hv_sim_dev_t *d = hv_sim_bmp280_new(0x76, &env, set ? calib : NULL, 24);
    assert_non_null(d);
    assert_string_equal(d->ops->name, "bmp280");
    bmp_par_t c;
    bmp_init(d, &c);
    if (set != NULL) {
        assert_memory_equal(&c, set, sizeof c);
    } else { /* the datasheet's example chip and its worked example */
        int32_t t_fine;
        assert_true(fabs(bmp_temp(&c, 519888, &t_fine) - 25.08) < 0.005);
        /* 100653.27: the table's 64-bit integer result / 256 */
        assert_true(fabs(bmp_press(&c, t_fine, 415148) - 100653.27) < 0.02);
    }
    WR(d, 0xF5, 0x00); /* config: t_sb 0.5 ms, filter off */
    for (size_t i = 0; i < sizeof bmp_envs / sizeof bmp_envs[0]; i++) {
        env = bmp_envs[i];
        uint8_t old[6], cur[6];
        rd_reg(d, 0xF7, old, 6);
        uint64_t t0 = now;
        WR(d, 0xF4, 0x55); /* osrs_t x2, osrs_p x16, forced */
        now = t0 + 1000;
        assert_int_equal(reg8(d, 0xF3) & 0x08, 0x08);
        rd_reg(d, 0xF7, cur, 6);
        assert_memory_equal(old, cur, 6);
        /* datasheet max: 1.25 + 2.3 x 2 + 2.3 x 16 + 0.575 ms */
        now = t0 + 43225;
        assert_int_equal(reg8(d, 0xF3) & 0x08, 0);
        assert_int_equal(reg8(d, 0xF4), 0x54); /* sleep again */
        double t, p;
        bmp_read_data(d, &c, &t, &p);
        if (fabs(t - env.temperature_c) >= 0.01 || fabs(p - env.pressure_hpa) >= 0.01)
            fail_msg("got %.4f C %.4f hPa for %.4f C %.4f hPa", t, p, env.temperature_c,
                     env.pressure_hpa);
        now += 10000;
    }
    free_dev(d);
}

static void test_bmp280_default_calib(void **state)
{
    (void)state;
    bmp_round_trip(NULL);
}

static void test_bmp280_set_a(void **state)
{
    (void)state;
    bmp_round_trip(&bmp_set_a);
}

static void test_bmp280_set_b(void **state)
{
    (void)state;
    bmp_round_trip(&bmp_set_b);
}

static void test_bmp280_normal_mode(void **state)
{
    (void)state;
    now = 0;
    hv_sim_env_t env = bmp_envs[0];
    hv_sim_dev_t *d = hv_sim_bmp280_new(0x77, &env, NULL, 24);
    assert_null(hv_sim_bmp280_new(0x77, &env, (const uint8_t[25]){0}, 25));
    bmp_par_t c;
    bmp_init(d, &c);
    /* t_sb 62.5 ms, x1 / x1, normal: t_measure = 1 + 2 + 2.5 = 5.5 ms */
    WR(d, 0xF5, 0x20, 0xF4, 0x27);
    uint64_t t0 = now;
    uint8_t b[6];
    rd_reg(d, 0xF7, b, 6);
    assert_int_equal(b[0], 0x80); /* reset value until the first result */
    assert_int_equal(reg8(d, 0xF3), 0x08);
    now = t0 + 5500;
    assert_int_equal(reg8(d, 0xF3), 0x00);
    double t, p;
    bmp_read_data(d, &c, &t, &p);
    assert_true(fabs(t - env.temperature_c) < 0.01);
    env = bmp_envs[3];
    now = t0 + 68000 - 1; /* standby */
    assert_int_equal(reg8(d, 0xF3), 0x00);
    now = t0 + 68000 + 5499; /* second measurement not finished */
    assert_int_equal(reg8(d, 0xF3), 0x08);
    bmp_read_data(d, &c, &t, &p);
    assert_true(fabs(t - bmp_envs[0].temperature_c) < 0.01);
    now = t0 + 68000 + 5500;
    assert_int_equal(reg8(d, 0xF3), 0x00);
    bmp_read_data(d, &c, &t, &p);
    assert_true(fabs(t - env.temperature_c) < 0.01);
    assert_true(fabs(p - env.pressure_hpa) < 0.01);
    assert_int_equal(reg8(d, 0xF4), 0x27); /* stays in normal mode */
    /* soft reset: sleep, reset values, calibration kept */
    WR(d, 0xE0, 0xB6);
    assert_int_equal(reg8(d, 0xF4), 0x00);
    assert_int_equal(reg8(d, 0xF5), 0x00);
    rd_reg(d, 0xF7, b, 6);
    const uint8_t r0[6] = {0x80, 0, 0, 0x80, 0, 0};
    assert_memory_equal(b, r0, 6);
    bmp_par_t c2;
    uint8_t cal[24];
    rd_reg(d, 0x88, cal, 24);
    bmp_parse(cal, &c2);
    assert_memory_equal(&c, &c2, sizeof c);
    free_dev(d);
}

/* ---- AHT20 ---------------------------------------------------------------- */

static uint8_t crc8_31(const uint8_t *p, size_t n)
{
    uint8_t crc = 0xFF;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc & 0x80) ? (uint8_t)((crc << 1) ^ 0x31) : (uint8_t)(crc << 1);
    }
    return crc;
}

static void test_aht20(void **state)
{
    (void)state;
    /* the CRC of a frame captured from a real sensor */
    const uint8_t real[7] = {0x1C, 0x26, 0x9A, 0x76, 0x42, 0xE7, 0x76};
    assert_int_equal(crc8_31(real, 6), real[6]);

    now = 0;
    hv_sim_env_t env = {23.45, 41.2, 0, 0, 0};
    hv_sim_dev_t *d = hv_sim_aht20_new(0x38, &env);
    assert_non_null(d);
    assert_string_equal(d->ops->name, "aht20");
    uint8_t st;
    rd(d, &st, 1);
    assert_int_equal(st & 0x18, 0x18); /* calibrated */
    assert_int_equal(st & 0x80, 0);
    WR(d, 0xBE, 0x08, 0x00); /* initialise */
    rd(d, &st, 1);
    assert_int_equal(st & 0x80, 0x80);
    now += 10000;
    rd(d, &st, 1);
    assert_int_equal(st, 0x18);

    const hv_sim_env_t envs[] = {{23.45, 41.2, 0, 0, 0},
                                 {-20.5, 95.0, 0, 0, 0},
                                 {79.9, 5.5, 0, 0, 0},
                                 {0.0, 0.0, 0, 0, 0},
                                 {-40.0, 100.0, 0, 0, 0}};
    for (size_t i = 0; i < sizeof envs / sizeof envs[0]; i++) {
        env = envs[i];
        uint8_t prev[7], f[7];
        rd(d, prev, 7);
        uint64_t t0 = now;
        WR(d, 0xAC, 0x33, 0x00);
        now = t0 + 1000;
        rd(d, f, 7); /* busy: the status says so; old data, valid CRC */
        assert_int_equal(f[0] & 0x80, 0x80);
        assert_memory_equal(f + 1, prev + 1, 5);
        assert_int_equal(crc8_31(f, 6), f[6]);
        now = t0 + 79999;
        rd(d, &st, 1);
        assert_int_equal(st & 0x80, 0x80);
        now = t0 + 80000;
        rd(d, &st, 1);
        assert_int_equal(st & 0x80, 0);
        rd(d, f, 7);
        assert_int_equal(f[0], 0x18);
        assert_int_equal(crc8_31(f, 6), f[6]);
        uint32_t rh = ((uint32_t)f[1] << 12) | ((uint32_t)f[2] << 4) | (f[3] >> 4);
        uint32_t rt = ((uint32_t)(f[3] & 0x0F) << 16) | ((uint32_t)f[4] << 8) | f[5];
        double h = rh / 1048576.0 * 100.0, t = rt / 1048576.0 * 200.0 - 50.0;
        if (fabs(h - env.humidity_pct) >= 0.01 || fabs(t - env.temperature_c) >= 0.01)
            fail_msg("got %.4f C %.4f %% for %.4f C %.4f %%", t, h, env.temperature_c,
                     env.humidity_pct);
        now += 5000;
    }

    /* a trigger while busy is ignored; the first measurement's result stays */
    env = envs[0];
    uint64_t t0 = now;
    WR(d, 0xAC, 0x33, 0x00);
    env = envs[1];
    now = t0 + 40000;
    WR(d, 0xAC, 0x33, 0x00);
    now = t0 + 80000;
    uint8_t f[10];
    rd(d, f, 10);
    assert_int_equal(f[0], 0x18);
    uint32_t rh = ((uint32_t)f[1] << 12) | ((uint32_t)f[2] << 4) | (f[3] >> 4);
    assert_true(fabs(rh / 1048576.0 * 100.0 - envs[0].humidity_pct) < 0.01);
    assert_int_equal(f[7], 0xFF); /* past the CRC */
    assert_int_equal(f[9], 0xFF);

    /* soft reset: busy 20 ms, then idle and calibrated */
    WR(d, 0xBA);
    rd(d, &st, 1);
    assert_int_equal(st & 0x80, 0x80);
    now += 20000;
    rd(d, &st, 1);
    assert_int_equal(st, 0x18);
    /* a reset drops a running measurement */
    WR(d, 0xAC, 0x33, 0x00);
    now += 1000;
    WR(d, 0xBA);
    now += 100000;
    rd(d, f, 7);
    assert_true(
        fabs((((uint32_t)f[1] << 12 | (uint32_t)f[2] << 4 | f[3] >> 4)) / 1048576.0 * 100.0 -
             envs[0].humidity_pct) < 0.01);
    free_dev(d);
}

/* ---- BH1750 --------------------------------------------------------------- */

static unsigned bh_read(hv_sim_dev_t *d)
{
    uint8_t b[2];
    rd(d, b, 2);
    return (unsigned)(b[0] << 8 | b[1]);
}

static void test_bh1750(void **state)
{
    (void)state;
    now = 0;
    hv_sim_env_t env = {0, 0, 0, 0, 333.3};
    hv_sim_dev_t *d = hv_sim_bh1750_new(0x23, &env);
    assert_non_null(d);
    assert_string_equal(d->ops->name, "bh1750");
    assert_int_equal(bh_read(d), 0); /* nothing measured yet */

    /* power on, reset, one-time H-res */
    WR(d, 0x01);
    WR(d, 0x07);
    uint64_t t0 = now;
    WR(d, 0x20);
    now = t0 + 1000;
    assert_int_equal(bh_read(d), 0);
    now = t0 + 119999;
    assert_int_equal(bh_read(d), 0);
    now = t0 + 120000;
    unsigned c = bh_read(d);
    assert_int_equal(c, 400); /* 333.3 x 1.2 */
    assert_true(fabs(c / 1.2 - env.lux) < 0.5);
    /* powered down after it: no new measurement, reset ignored */
    env.lux = 1000.0;
    now += 1000000;
    assert_int_equal(bh_read(d), 400);
    WR(d, 0x07);
    assert_int_equal(bh_read(d), 400);

    /* H-res2: twice the counts */
    t0 = now;
    WR(d, 0x21);
    now = t0 + 120000;
    assert_int_equal(bh_read(d), 2400);

    /* MTreg 138 (x2): twice the time, twice the counts */
    WR(d, 0x40 | (138 >> 5), 0x60 | (138 & 0x1F));
    t0 = now;
    WR(d, 0x20);
    now = t0 + 120000;
    assert_int_equal(bh_read(d), 2400); /* still the previous value */
    now = t0 + 240000;
    assert_int_equal(bh_read(d), 2400); /* 1000 x 1.2 x 138/69 */
    env.lux = 10.0;
    t0 = now;
    WR(d, 0x20);
    now = t0 + 240000;
    assert_int_equal(bh_read(d), 24);
    /* MTreg 31: 0.45x */
    WR(d, 0x40, 0x60 | 31);
    env.lux = 1000.0;
    t0 = now;
    WR(d, 0x20);
    now = t0 + 120000 * 31 / 69;
    assert_int_equal(bh_read(d), (unsigned)floor(1000.0 * 1.2 * 31 / 69 + 0.5));
    WR(d, 0x40 | (69 >> 5), 0x60 | (69 & 0x1F)); /* back to default */

    /* continuous H-res: a new value every 120 ms */
    env.lux = 100.0;
    t0 = now;
    WR(d, 0x10);
    now = t0 + 120000;
    assert_int_equal(bh_read(d), 120);
    env.lux = 200.0;
    now = t0 + 239999;
    assert_int_equal(bh_read(d), 120);
    now = t0 + 240000;
    assert_int_equal(bh_read(d), 240);
    WR(d, 0x07); /* reset while on: data cleared */
    assert_int_equal(bh_read(d), 0);
    now = t0 + 360000;
    assert_int_equal(bh_read(d), 240);
    /* continuous L-res: 16 ms */
    env.lux = 50.0;
    t0 = now;
    WR(d, 0x13);
    now = t0 + 16000;
    assert_int_equal(bh_read(d), 60);
    /* power down stops it */
    WR(d, 0x00);
    env.lux = 500.0;
    now += 1000000;
    assert_int_equal(bh_read(d), 60);
    /* saturation */
    env.lux = 100000.0;
    t0 = now;
    WR(d, 0x23);
    now = t0 + 16000;
    assert_int_equal(bh_read(d), 65535);
    /* bytes past the two */
    uint8_t b[4];
    rd(d, b, 4);
    assert_int_equal(b[2], 0xFF);
    assert_int_equal(b[3], 0xFF);
    free_dev(d);
}

/* ---- SSD1306 -------------------------------------------------------------- */

#define CMDS(d, ...) WR(d, 0x00, __VA_ARGS__)

static void ssd_init(hv_sim_dev_t *d)
{
    /* as common drivers send it (Adafruit / luma): one command stream */
    CMDS(d, 0xAE, 0xD5, 0x80, 0xA8, 0x3F, 0xD3, 0x00, 0x40, 0x8D, 0x14, 0x20, 0x00, 0xA1, 0xC8,
         0xDA, 0x12, 0x81, 0xCF, 0xD9, 0xF1, 0xDB, 0x40, 0xA4, 0xA6, 0x2E, 0xAF);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Checks the PNG's structure and CRCs, inflates it, returns pixels. */
static void png_decode(const uint8_t *png, size_t len, uint8_t pix[64][128])
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    assert_true(len > 8);
    assert_memory_equal(png, sig, 8);
    uint8_t *idat = NULL;
    size_t idat_len = 0, off = 8;
    int ihdr = 0, iend = 0;
    while (off + 12 <= len && !iend) {
        uint32_t n = be32(png + off);
        const uint8_t *type = png + off + 4, *data = png + off + 8;
        assert_true(off + 12 + n <= len);
        assert_int_equal(be32(data + n), (uint32_t)crc32(0L, type, n + 4));
        if (memcmp(type, "IHDR", 4) == 0) {
            assert_int_equal(off, 8);
            assert_int_equal(n, 13);
            assert_int_equal(be32(data), 128);
            assert_int_equal(be32(data + 4), 64);
            assert_int_equal(data[8], 8);  /* bit depth */
            assert_int_equal(data[9], 0);  /* grayscale */
            assert_int_equal(data[12], 0); /* no interlace */
            ihdr = 1;
        } else if (memcmp(type, "IDAT", 4) == 0) {
            idat = realloc(idat, idat_len + n + 1);
            assert_non_null(idat);
            memcpy(idat + idat_len, data, n);
            idat_len += n;
        } else if (memcmp(type, "IEND", 4) == 0) {
            iend = 1;
        }
        off += 12 + n;
    }
    assert_true(ihdr && iend);
    assert_int_equal(off, len);
    static uint8_t raw[64 * 129 + 16];
    uLongf raw_len = sizeof raw;
    assert_int_equal(uncompress(raw, &raw_len, idat, idat_len), Z_OK);
    assert_int_equal(raw_len, 64 * 129);
    free(idat);
    for (int y = 0; y < 64; y++) {
        assert_int_equal(raw[y * 129], 0); /* filter: none */
        memcpy(pix[y], raw + y * 129 + 1, 128);
    }
}

static void ssd_png(hv_sim_dev_t *d, uint8_t pix[64][128])
{
    uint8_t *png = NULL;
    size_t len = 0;
    assert_int_equal(hv_sim_ssd1306_png(d, &png, &len), HV_OK);
    png_decode(png, len, pix);
    free(png);
}

static int fb_pixel(const uint8_t *fb, int x, int y)
{
    return (fb[(y / 8) * 128 + x] >> (y % 8)) & 1;
}

static void test_ssd1306_init_and_horizontal(void **state)
{
    (void)state;
    hv_sim_dev_t *d = hv_sim_ssd1306_new(0x3C);
    assert_non_null(d);
    assert_string_equal(d->ops->name, "ssd1306");
    hv_sim_ssd1306_view_t v;
    hv_sim_ssd1306_view(d, &v);
    assert_int_equal(v.display_on, 0); /* reset: off, contrast 0x7F */
    assert_int_equal(v.contrast, 0x7F);
    uint8_t st;
    rd(d, &st, 1);
    assert_int_equal(st & 0x40, 0x40);
    ssd_init(d);
    hv_sim_ssd1306_view(d, &v);
    assert_int_equal(v.display_on, 1);
    assert_int_equal(v.inverted, 0);
    assert_int_equal(v.contrast, 0xCF);
    rd(d, &st, 1);
    assert_int_equal(st & 0x40, 0);

    /* full screen, horizontal: one data write of 1024 bytes */
    CMDS(d, 0x21, 0, 127, 0x22, 0, 7);
    static uint8_t buf[1 + 1024];
    buf[0] = 0x40;
    for (int i = 0; i < 1024; i++)
        buf[1 + i] = (uint8_t)(i * 7 + 3);
    wr(d, buf, sizeof buf);
    hv_sim_ssd1306_view(d, &v);
    assert_memory_equal(v.fb, buf + 1, 1024);
    /* again in 16-byte transfers as Adafruit's driver does: the pointer
     * wrapped to (0, 0) and goes on from there */
    for (int i = 0; i < 1024; i += 16) {
        uint8_t chunk[17] = {0x40};
        for (int k = 0; k < 16; k++)
            chunk[1 + k] = (uint8_t) ~(i + k);
        wr(d, chunk, sizeof chunk);
    }
    hv_sim_ssd1306_view(d, &v);
    for (int i = 0; i < 1024; i++)
        assert_int_equal(v.fb[i], (uint8_t)~i);

    /* the panel: upright with A1/C8, contrast 0xCF -> 64 + 191 x 207/255 */
    static uint8_t pix[64][128];
    ssd_png(d, pix);
    const uint8_t lit = (uint8_t)(64 + (191 * 0xCF + 127) / 255);
    for (int y = 0; y < 64; y++)
        for (int x = 0; x < 128; x++)
            assert_int_equal(pix[y][x], fb_pixel(v.fb, x, y) ? lit : 0);
    free_dev(d);
}

static void test_ssd1306_addressing(void **state)
{
    (void)state;
    hv_sim_dev_t *d = hv_sim_ssd1306_new(0x3D);
    hv_sim_ssd1306_view_t v;
    ssd_init(d);

    /* page mode: page 3, column 0x25 */
    CMDS(d, 0x20, 0x02, 0xB3, 0x05, 0x12);
    WR(d, 0x40, 0xAA, 0xBB);
    hv_sim_ssd1306_view(d, &v);
    assert_int_equal(v.fb[3 * 128 + 0x25], 0xAA);
    assert_int_equal(v.fb[3 * 128 + 0x26], 0xBB);
    /* page mode wraps the column to its start address, page unchanged */
    CMDS(d, 0xB6, 0x0E, 0x17); /* column 126 */
    WR(d, 0x40, 1, 2, 3);
    hv_sim_ssd1306_view(d, &v);
    assert_int_equal(v.fb[6 * 128 + 126], 3);
    assert_int_equal(v.fb[6 * 128 + 127], 2);
    assert_int_equal(v.fb[7 * 128 + 0], 0);

    /* horizontal in a window: columns 16..19, pages 2..3, wraps to (16, 2) */
    CMDS(d, 0x20, 0x00, 0x21, 16, 19, 0x22, 2, 3);
    WR(d, 0x40, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
    hv_sim_ssd1306_view(d, &v);
    const uint8_t p2[4] = {9, 10, 3, 4}, p3[4] = {5, 6, 7, 8};
    assert_memory_equal(v.fb + 2 * 128 + 16, p2, 4);
    assert_memory_equal(v.fb + 3 * 128 + 16, p3, 4);
    assert_int_equal(v.fb[2 * 128 + 20], 0);
    assert_int_equal(v.fb[4 * 128 + 16], 0);

    /* vertical: columns 5..6, pages 0..1 */
    CMDS(d, 0x20, 0x01, 0x21, 5, 6, 0x22, 0, 1);
    WR(d, 0x40, 11, 12, 13, 14, 15);
    hv_sim_ssd1306_view(d, &v);
    assert_int_equal(v.fb[0 * 128 + 5], 15);
    assert_int_equal(v.fb[1 * 128 + 5], 12);
    assert_int_equal(v.fb[0 * 128 + 6], 13);
    assert_int_equal(v.fb[1 * 128 + 6], 14);
    /* mode 11b is invalid: ignored */
    CMDS(d, 0x20, 0x03);
    WR(d, 0x40, 16);
    hv_sim_ssd1306_view(d, &v);
    assert_int_equal(v.fb[1 * 128 + 5], 16);

    /* Co = 1: one byte per control byte, commands and data mixed */
    WR(d, 0x80, 0xAE, 0x80, 0x81, 0x80, 0x10, 0xC0, 0x77, 0x00, 0xA7);
    hv_sim_ssd1306_view(d, &v);
    assert_int_equal(v.display_on, 0);
    assert_int_equal(v.contrast, 0x10);
    assert_int_equal(v.inverted, 1);
    assert_int_equal(v.fb[0 * 128 + 6], 0x77); /* after (1, 5): (0, 6) */
    /* arguments in a later transfer; an argument is not a command */
    CMDS(d, 0x81);
    CMDS(d, 0xAF);
    hv_sim_ssd1306_view(d, &v);
    assert_int_equal(v.contrast, 0xAF);
    assert_int_equal(v.display_on, 0);
    /* scrolling commands with their arguments, then more commands */
    CMDS(d, 0x26, 0x00, 0x00, 0x07, 0x07, 0x00, 0xFF, 0x29, 0x00, 0x00, 0xA6, 0x07, 0x01, 0xA3,
         0xAF, 0xA6, 0x2F, 0x2E, 0xE3, 0xAF);
    hv_sim_ssd1306_view(d, &v);
    assert_int_equal(v.display_on, 1);
    assert_int_equal(v.inverted, 1);
    /* data in the middle of a command drops the command */
    CMDS(d, 0x81);
    WR(d, 0x40, 0x55);
    CMDS(d, 0xA6);
    hv_sim_ssd1306_view(d, &v);
    assert_int_equal(v.contrast, 0xAF);
    assert_int_equal(v.inverted, 0);
    free_dev(d);
}

static void test_ssd1306_png(void **state)
{
    (void)state;
    hv_sim_dev_t *d = hv_sim_ssd1306_new(0x3C);
    static uint8_t pix[64][128];
    /* reset: display off -> black */
    WR(d, 0x40, 0xFF, 0xFF);
    ssd_png(d, pix);
    for (int y = 0; y < 64; y++)
        for (int x = 0; x < 128; x++)
            assert_int_equal(pix[y][x], 0);

    ssd_init(d);
    CMDS(d, 0x81, 0xFF, 0x21, 0, 127, 0x22, 0, 7);
    uint8_t blank[1 + 1024] = {0x40};
    wr(d, blank, sizeof blank);
    /* one lit pixel at (3, 10): page 1, bit 2 */
    CMDS(d, 0x21, 3, 3, 0x22, 1, 1);
    WR(d, 0x40, 0x04);
    ssd_png(d, pix);
    assert_int_equal(pix[10][3], 255);
    assert_int_equal(pix[10][4], 0);
    assert_int_equal(pix[9][3], 0);
    /* inverse */
    CMDS(d, 0xA7);
    ssd_png(d, pix);
    assert_int_equal(pix[10][3], 0);
    assert_int_equal(pix[0][0], 255);
    assert_int_equal(pix[63][127], 255);
    CMDS(d, 0xA6);
    /* segment remap A0 mirrors, COM scan C0 flips */
    CMDS(d, 0xA0);
    ssd_png(d, pix);
    assert_int_equal(pix[10][124], 255);
    assert_int_equal(pix[10][3], 0);
    CMDS(d, 0xC0);
    ssd_png(d, pix);
    assert_int_equal(pix[53][124], 255);
    CMDS(d, 0xA1, 0xC8);
    /* start line rolls the picture up */
    CMDS(d, 0x44);
    ssd_png(d, pix);
    assert_int_equal(pix[6][3], 255);
    CMDS(d, 0x40);
    /* entire display on */
    CMDS(d, 0xA5);
    ssd_png(d, pix);
    assert_int_equal(pix[40][40], 255);
    CMDS(d, 0xA4);
    /* display off -> black again, framebuffer kept */
    CMDS(d, 0xAE);
    ssd_png(d, pix);
    assert_int_equal(pix[10][3], 0);
    hv_sim_ssd1306_view_t v;
    hv_sim_ssd1306_view(d, &v);
    assert_int_equal(fb_pixel(v.fb, 3, 10), 1);
    free_dev(d);
}

/* ---- bad input ------------------------------------------------------------ */

static uint32_t rng = 12345;

static uint8_t rnd(void)
{
    rng = rng * 1103515245u + 12345u;
    return (uint8_t)(rng >> 16);
}

static void abuse(hv_sim_dev_t *d)
{
    static uint8_t big[10000];
    assert_int_equal(d->ops->write(d, NULL, 0, now), HV_OK); /* address probe */
    assert_int_equal(d->ops->read(d, NULL, 0, now), HV_OK);
    assert_int_equal(d->ops->write(d, NULL, 3, now), HV_EINVAL);
    rd(d, big, 16); /* read before any write */
    for (int round = 0; round < 4; round++) {
        for (size_t i = 0; i < sizeof big; i++)
            big[i] = rnd();
        wr(d, big, sizeof big);
        now += 5000;
        rd(d, big, sizeof big);
        now += 200000;
    }
    WR(d, 0xFF); /* pointer at the end of the register space */
    rd(d, big, 4);
    memset(big, 0xFF, sizeof big);
    wr(d, big, sizeof big);
    rd(d, big, sizeof big);
    memset(big, 0x00, sizeof big);
    wr(d, big, sizeof big);
    rd(d, big, sizeof big);
}

static void test_bad_input(void **state)
{
    (void)state;
    now = 0;
    hv_sim_env_t env = bme_envs[0];
    env.lux = 50;
    hv_sim_dev_t *d;

    d = hv_sim_bme680_new(0x77, &env, NULL, 45);
    abuse(d);
    assert_int_equal(reg8(d, 0xD0), 0x61);
    free_dev(d);
    d = hv_sim_bmp280_new(0x76, &env, NULL, 24);
    abuse(d);
    assert_int_equal(reg8(d, 0xD0), 0x58);
    free_dev(d);
    d = hv_sim_aht20_new(0x38, &env);
    abuse(d);
    free_dev(d);
    d = hv_sim_bh1750_new(0x23, &env);
    abuse(d);
    free_dev(d);
    d = hv_sim_ssd1306_new(0x3C);
    abuse(d);
    uint8_t *png;
    size_t len;
    static uint8_t pix[64][128];
    assert_int_equal(hv_sim_ssd1306_png(d, &png, &len), HV_OK);
    png_decode(png, len, pix);
    free(png);
    free_dev(d);

    /* no environment given: the chips measure a default one */
    d = hv_sim_aht20_new(0x38, NULL);
    WR(d, 0xAC, 0x33, 0x00);
    now += 80000;
    uint8_t f[7];
    rd(d, f, 7);
    assert_int_equal(f[0], 0x18);
    free_dev(d);
    d = hv_sim_bme680_new(0x77, NULL, NULL, 45);
    bme_par_t c;
    bme_init(d, &c);
    bme_out_t o;
    bme_measure(d, &c, 25.0, &o);
    assert_int_equal(o.new_data, 1);
    free_dev(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bme680_default_calib),
        cmocka_unit_test(test_bme680_set_a),
        cmocka_unit_test(test_bme680_set_b),
        cmocka_unit_test(test_bme680_registers),
        cmocka_unit_test(test_bme680_gas_flags),
        cmocka_unit_test(test_bmp280_default_calib),
        cmocka_unit_test(test_bmp280_set_a),
        cmocka_unit_test(test_bmp280_set_b),
        cmocka_unit_test(test_bmp280_normal_mode),
        cmocka_unit_test(test_aht20),
        cmocka_unit_test(test_bh1750),
        cmocka_unit_test(test_ssd1306_init_and_horizontal),
        cmocka_unit_test(test_ssd1306_addressing),
        cmocka_unit_test(test_ssd1306_png),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

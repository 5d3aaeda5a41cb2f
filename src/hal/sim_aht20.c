/*
 * Aosong AHT20 (I2C 0x38), after its datasheet: no registers, the first
 * byte of a write is a command.
 *
 *   0xAC 0x33 0x00  trigger: busy for 80 ms, then the result
 *   0xBE 0x08 0x00  initialise (calibration): busy 10 ms, sets CAL
 *   0xBA            soft reset: busy 20 ms (calibration kept, a running
 *                   measurement dropped)
 * Other commands (0x71 that some drivers send before reading status,
 * 0xE1 of the AHT10...) are acknowledged and ignored, as are triggers
 * while busy; the arguments of 0xAC / 0xBE are not checked.
 *
 * A read returns the status byte (busy bit 7, CAL bit 3, bit 4 set as on
 * shipped parts: 0x18 idle), then 20-bit humidity and 20-bit temperature
 * (RH = raw / 2^20 * 100, T = raw / 2^20 * 200 - 50) and the CRC-8
 * (polynomial 0x31, init 0xFF) of those six bytes; 0xFF after that. While
 * busy the status says so and the data bytes are the previous result
 * (zeros before the first). The environment is sampled at the trigger.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_dev_impl.h"

typedef struct {
    hv_sim_dev_t base;
    int calibrated;
    int busy, measuring;
    uint64_t busy_until;
    uint8_t data[5], pending[5];
} aht20_t;

static uint8_t crc8(const uint8_t *p, size_t n)
{
    uint8_t crc = 0xFF;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (uint8_t)(crc & 0x80 ? (crc << 1) ^ 0x31 : crc << 1);
    }
    return crc;
}

static uint32_t raw20(double frac)
{
    double v = floor(frac * 1048576.0 + 0.5);
    return v < 0 ? 0 : v > 0xFFFFF ? 0xFFFFF : (uint32_t)v;
}

static void update(aht20_t *a, uint64_t now)
{
    if (!a->busy || now < a->busy_until)
        return;
    a->busy = 0;
    if (a->measuring)
        memcpy(a->data, a->pending, sizeof a->data);
    a->measuring = 0;
}

static void set_busy(aht20_t *a, uint64_t now, uint64_t us)
{
    a->busy = 1;
    a->busy_until = now + us;
}

static int aht20_write(hv_sim_dev_t *d, const uint8_t *buf, size_t len, uint64_t now_us)
{
    aht20_t *a = (aht20_t *)d;
    if (len > 0 && buf == NULL)
        return HV_EINVAL;
    update(a, now_us);
    if (len == 0)
        return HV_OK; /* address probe */
    switch (buf[0]) {
    case 0xAC:
        if (a->busy)
            break;
        {
            const hv_sim_env_t *env = hv_sim_env(d);
            uint32_t h = raw20(env->humidity_pct / 100.0);
            uint32_t t = raw20((env->temperature_c + 50.0) / 200.0);
            a->pending[0] = (uint8_t)(h >> 12);
            a->pending[1] = (uint8_t)(h >> 4);
            a->pending[2] = (uint8_t)(((h & 0x0F) << 4) | (t >> 16));
            a->pending[3] = (uint8_t)(t >> 8);
            a->pending[4] = (uint8_t)t;
        }
        a->measuring = 1;
        set_busy(a, now_us, 80000);
        break;
    case 0xBE:
        a->calibrated = 1;
        a->measuring = 0;
        set_busy(a, now_us, 10000);
        break;
    case 0xBA:
        a->measuring = 0;
        set_busy(a, now_us, 20000);
        break;
    default:
        break;
    }
    return HV_OK;
}

static int aht20_read(hv_sim_dev_t *d, uint8_t *buf, size_t len, uint64_t now_us)
{
    aht20_t *a = (aht20_t *)d;
    if (len > 0 && buf == NULL)
        return HV_EINVAL;
    update(a, now_us);
    uint8_t frame[7];
    frame[0] = (uint8_t)((a->busy ? 0x80 : 0) | 0x10 | (a->calibrated ? 0x08 : 0));
    memcpy(frame + 1, a->data, 5);
    frame[6] = crc8(frame, 6);
    for (size_t i = 0; i < len; i++)
        buf[i] = i < sizeof frame ? frame[i] : 0xFF;
    return HV_OK;
}

static void aht20_free(hv_sim_dev_t *d)
{
    free(d);
}

static const hv_sim_dev_ops_t aht20_ops = {"aht20", aht20_write, aht20_read, aht20_free};

hv_sim_dev_t *hv_sim_aht20_new(uint8_t addr, const hv_sim_env_t *env)
{
    aht20_t *a = calloc(1, sizeof *a);
    if (a == NULL)
        return NULL;
    a->base.ops = &aht20_ops;
    a->base.addr = addr;
    a->base.env = env;
    a->calibrated = 1; /* shipped calibrated: status 0x18 after power-on */
    return &a->base;
}

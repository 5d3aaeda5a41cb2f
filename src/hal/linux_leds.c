/*
 * A WS2812B strip on SPI MOSI. Each LED takes 24 bits, green, red, blue,
 * most significant bit first; each of those bits is sent as an SPI bit
 * pattern whose leading high bits make the WS2812B's high time: T0H
 * ≈ 0.4 µs for a 0, T1H ≈ 0.8 µs for a 1 (± 150 ns), the whole pattern
 * ≈ 1.25 µs. At 2.4 MHz (417 ns per SPI bit) that is 100 and 110. The
 * strip is latched by a low line: zero bytes for HV_LINUX_WS2812_RESET_US
 * after the data. One SPI_IOC_MESSAGE per sync.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linux_impl.h"

/* n SPI bits of period ns_per_bit nearest to target_ns (at least 1). */
static unsigned nearest(double target_ns, double ns_per_bit)
{
    long n = lround(target_ns / ns_per_bit);
    return n < 1 ? 1u : (unsigned)n;
}

int hv_linux_ws2812_pattern(uint32_t spi_hz, hv_ws2812_pattern_t *p)
{
    if (spi_hz == 0 || spi_hz > 50000000u)
        return HV_EINVAL;
    double t = 1e9 / spi_hz; /* ns per SPI bit */
    p->h0 = nearest(400, t);
    p->h1 = nearest(800, t);
    p->nbits = nearest(1250, t);
    if (p->nbits <= p->h1)
        p->nbits = p->h1 + 1; /* a 1 still ends low */
    if (p->h1 <= p->h0 || fabs(p->h0 * t - 400) > 150 || fabs(p->h1 * t - 800) > 150)
        return HV_EINVAL;
    return HV_OK;
}

size_t hv_linux_ws2812_reset_bytes(uint32_t spi_hz)
{
    uint64_t bits = ((uint64_t)spi_hz * HV_LINUX_WS2812_RESET_US + 999999u) / 1000000u;
    return (size_t)((bits + 7) / 8);
}

int hv_linux_led_init(hv_linux_t *lx)
{
    lx->led_pat_rc = hv_linux_ws2812_pattern(lx->led_spi_hz, &lx->led_pat);
    if (lx->led_pat_rc != HV_OK || lx->base.nleds == 0)
        return HV_OK;
    size_t data_bits = (size_t)lx->base.nleds * 24 * lx->led_pat.nbits;
    lx->led_len = (data_bits + 7) / 8 + hv_linux_ws2812_reset_bytes(lx->led_spi_hz);
    lx->led_buf = malloc(lx->led_len);
    return lx->led_buf == NULL ? HV_ENOMEM : HV_OK;
}

int hv_linux_led_set(hv_hal_t *h, unsigned index, uint8_t r, uint8_t g, uint8_t b)
{
    hv_linux_t *lx = LX(h);
    if (index >= h->nleds)
        return HV_ERANGE;
    pthread_mutex_lock(&lx->led_lock);
    lx->led_rgb[index][0] = r;
    lx->led_rgb[index][1] = g;
    lx->led_rgb[index][2] = b;
    pthread_mutex_unlock(&lx->led_lock);
    return HV_OK;
}

/* Encodes the strip into led_buf. Under led_lock. */
static void encode(hv_linux_t *lx)
{
    const hv_ws2812_pattern_t *p = &lx->led_pat;
    memset(lx->led_buf, 0, lx->led_len);
    size_t bit = 0; /* next SPI bit, MSB first in each byte */
    for (unsigned i = 0; i < lx->base.nleds; i++) {
        const uint8_t *rgb = lx->led_rgb[i];
        uint8_t grb[3] = {rgb[1], rgb[0], rgb[2]};
        for (int c = 0; c < 3; c++) {
            unsigned v = (unsigned)lround(grb[c] * lx->brightness);
            for (int k = 7; k >= 0; k--) {
                unsigned high = (v >> k) & 1 ? p->h1 : p->h0;
                for (unsigned j = 0; j < high; j++)
                    lx->led_buf[(bit + j) / 8] |= (uint8_t)(0x80u >> ((bit + j) % 8));
                bit += p->nbits;
            }
        }
    }
}

int hv_linux_led_sync(hv_hal_t *h)
{
    hv_linux_t *lx = LX(h);
    if (h->nleds == 0)
        return HV_OK;
    if (lx->led_pat_rc != HV_OK) {
        hv_linux_warn(lx,
                      "leds: an SPI clock of %u Hz cannot time WS2812B bits (2400000, "
                      "3200000, 4000000 or 6400000 can)",
                      lx->led_spi_hz);
        return HV_EINVAL;
    }
    char err[160];
    int rc = HV_OK;
    pthread_mutex_lock(&lx->led_lock);
    if (lx->led_fd < 0)
        rc = hv_linux_spi_setup("leds", lx->led_spi_dev, lx->led_spi_hz, &lx->led_fd, err,
                                sizeof err);
    if (rc == HV_OK) {
        encode(lx);
        if (hv_linux_spi_xfer(lx->led_fd, lx->led_buf, NULL, lx->led_len, lx->led_spi_hz) < 0) {
            int e = errno;
            snprintf(err, sizeof err, "leds: %s: writing %zu bytes failed: %s%s", lx->led_spi_dev,
                     lx->led_len, strerror(e),
                     e == EMSGSIZE ? " (raise spidev.bufsiz in cmdline.txt)" : "");
            rc = e == EMSGSIZE ? HV_ETOOBIG : HV_EIO;
            hv_linux_close(&lx->led_fd);
        }
    }
    pthread_mutex_unlock(&lx->led_lock);
    if (rc != HV_OK)
        hv_linux_warn(lx, "%s", err);
    return rc;
}

/*
 * GPIO through libgpiod (v1): a pin is requested from the chip on its
 * first gpio_mode (or gpio_read: as an input) and kept; a new mode
 * releases and requests it again. The buzzer's line belongs to the buzzer:
 * requested active-low (a relay that closes on a low level) with its
 * initial value off, i.e. high.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "linux_impl.h"

static int check_pin(hv_linux_t *lx, unsigned pin, char *err, size_t errlen)
{
    if (pin >= HV_LINUX_NPINS) {
        snprintf(err, errlen, "gpio: no pin %u (0..%d)", pin, HV_LINUX_NPINS - 1);
        return HV_EINVAL;
    }
    if ((int)pin == lx->buzzer_pin) {
        snprintf(err, errlen, "gpio: pin %u drives the buzzer", pin);
        return HV_EBUSY;
    }
    return HV_OK;
}

/* The chip's line for pin, opening the chip first. Under gpio_lock. */
static int get_line(hv_linux_t *lx, unsigned pin, struct gpiod_line **ret, char *err, size_t errlen)
{
    if (lx->chip == NULL) {
        lx->chip = hv_linux_sys.chip_open(lx->gpiochip);
        if (lx->chip == NULL) {
            int e = errno;
            int rc = e == ENOENT ? HV_ENOENT : e == EACCES || e == EPERM ? HV_EPERM : HV_EIO;
            snprintf(err, errlen, "gpio: %s: %s", lx->gpiochip,
                     e == ENOENT ? "no such device" : strerror(e));
            return rc;
        }
    }
    *ret = hv_linux_sys.chip_get_line(lx->chip, pin);
    if (*ret == NULL) {
        snprintf(err, errlen, "gpio: %s has no line %u", lx->gpiochip, pin);
        return HV_EINVAL;
    }
    return HV_OK;
}

static int request_failed(unsigned pin, int mode, char *err, size_t errlen)
{
    int e = errno;
    if (e == EBUSY) {
        snprintf(err, errlen, "gpio: pin %u is in use (by a kernel driver or another program)",
                 pin);
        return HV_EBUSY;
    }
    if ((mode == 2 || mode == 3) && (e == EINVAL || e == EOPNOTSUPP)) {
        snprintf(err, errlen, "gpio: pin %u: this kernel cannot set pull-%s bias", pin,
                 mode == 2 ? "up" : "down");
        return HV_EINVAL;
    }
    snprintf(err, errlen, "gpio: cannot request pin %u: %s", pin, strerror(e));
    return HV_EIO;
}

/* Requests pin in mode (0 input, 1 output low, 2/3 input with pull-up/down). Under gpio_lock. */
static int set_mode(hv_linux_t *lx, unsigned pin, int mode, char *err, size_t errlen)
{
    if (lx->line_mode[pin] == mode)
        return HV_OK;
    struct gpiod_line *line;
    int rc = get_line(lx, pin, &line, err, errlen);
    if (rc != HV_OK)
        return rc;
    if (lx->line_mode[pin] >= 0) {
        hv_linux_sys.line_release(lx->line[pin]);
        lx->line[pin] = NULL;
        lx->line_mode[pin] = -1;
    }
    int r;
    if (mode == 1) {
        r = hv_linux_sys.line_request_output_flags(line, HV_LINUX_GPIO_CONSUMER, 0, 0);
    } else {
        int flags = mode == 2   ? GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP
                    : mode == 3 ? GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN
                                : 0;
        r = hv_linux_sys.line_request_input_flags(line, HV_LINUX_GPIO_CONSUMER, flags);
    }
    if (r < 0)
        return request_failed(pin, mode, err, errlen);
    lx->line[pin] = line;
    lx->line_mode[pin] = mode;
    return HV_OK;
}

int hv_linux_gpio_mode(hv_hal_t *h, unsigned pin, int mode, char *err, size_t errlen)
{
    hv_linux_t *lx = LX(h);
    int rc = check_pin(lx, pin, err, errlen);
    if (rc != HV_OK)
        return rc;
    if (mode < 0 || mode > 3) {
        snprintf(err, errlen, "gpio: unknown mode %d", mode);
        return HV_EINVAL;
    }
    pthread_mutex_lock(&lx->gpio_lock);
    rc = set_mode(lx, pin, mode, err, errlen);
    pthread_mutex_unlock(&lx->gpio_lock);
    return rc;
}

int hv_linux_gpio_read(hv_hal_t *h, unsigned pin, int *ret_value, char *err, size_t errlen)
{
    hv_linux_t *lx = LX(h);
    int rc = check_pin(lx, pin, err, errlen);
    if (rc != HV_OK)
        return rc;
    pthread_mutex_lock(&lx->gpio_lock);
    if (lx->line_mode[pin] < 0)
        rc = set_mode(lx, pin, 0, err, errlen);
    if (rc == HV_OK) {
        int v = hv_linux_sys.line_get_value(lx->line[pin]);
        if (v < 0) {
            snprintf(err, errlen, "gpio: cannot read pin %u: %s", pin, strerror(errno));
            rc = HV_EIO;
        } else {
            *ret_value = v != 0;
        }
    }
    pthread_mutex_unlock(&lx->gpio_lock);
    return rc;
}

int hv_linux_gpio_write(hv_hal_t *h, unsigned pin, int value, char *err, size_t errlen)
{
    hv_linux_t *lx = LX(h);
    int rc = check_pin(lx, pin, err, errlen);
    if (rc != HV_OK)
        return rc;
    pthread_mutex_lock(&lx->gpio_lock);
    if (lx->line_mode[pin] != 1) {
        snprintf(err, errlen, "gpio: pin %u is not an output", pin);
        rc = HV_EINVAL;
    } else if (hv_linux_sys.line_set_value(lx->line[pin], value != 0) < 0) {
        snprintf(err, errlen, "gpio: cannot write pin %u: %s", pin, strerror(errno));
        rc = HV_EIO;
    }
    pthread_mutex_unlock(&lx->gpio_lock);
    return rc;
}

/* ---- buzzer ------------------------------------------------------------------- */

int hv_linux_buzz(hv_hal_t *h, unsigned count, unsigned on_ms, unsigned off_ms)
{
    hv_linux_t *lx = LX(h);
    if (lx->buzzer_pin < 0 || count == 0)
        return HV_OK; /* no buzzer fitted: beeps are silent */
    char err[160];
    int rc = HV_OK;
    pthread_mutex_lock(&lx->buzz_lock);
    pthread_mutex_lock(&lx->gpio_lock);
    if (lx->buzzer == NULL) {
        struct gpiod_line *line;
        rc = get_line(lx, (unsigned)lx->buzzer_pin, &line, err, sizeof err);
        if (rc == HV_OK) {
            /* Active low: logical 1 = line low = relay closed. Starts off (high). */
            if (hv_linux_sys.line_request_output_flags(line, HV_LINUX_GPIO_CONSUMER,
                                                       GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW, 0) < 0)
                rc = request_failed((unsigned)lx->buzzer_pin, 1, err, sizeof err);
            else
                lx->buzzer = line;
        }
    }
    struct gpiod_line *line = lx->buzzer;
    pthread_mutex_unlock(&lx->gpio_lock);
    for (unsigned i = 0; rc == HV_OK && i < count; i++) {
        int ok = hv_linux_sys.line_set_value(line, 1) == 0; /* on: line low */
        if (ok && on_ms > 0)
            hv_linux_sys.sleep_ms(on_ms);
        ok = hv_linux_sys.line_set_value(line, 0) == 0 && ok; /* off: line high */
        if (!ok) {
            snprintf(err, sizeof err, "buzzer: cannot drive GPIO %d: %s", lx->buzzer_pin,
                     strerror(errno));
            rc = HV_EIO;
        } else if (off_ms > 0) {
            hv_linux_sys.sleep_ms(off_ms);
        }
    }
    pthread_mutex_unlock(&lx->buzz_lock);
    if (rc != HV_OK)
        hv_linux_warn(lx, "%s", err);
    return rc;
}

void hv_linux_gpio_free(hv_linux_t *lx)
{
    for (int i = 0; i < HV_LINUX_NPINS; i++)
        if (lx->line_mode[i] >= 0)
            hv_linux_sys.line_release(lx->line[i]);
    if (lx->buzzer != NULL) {
        hv_linux_sys.line_set_value(lx->buzzer, 0); /* relay open */
        hv_linux_sys.line_release(lx->buzzer);
    }
    if (lx->chip != NULL)
        hv_linux_sys.chip_close(lx->chip);
    lx->chip = NULL;
    lx->buzzer = NULL;
}

/*
 * The UART through termios: raw 8N1 (cfmakeraw), no flow control, the
 * device opened O_NONBLOCK with VMIN = VTIME = 0, so a read returns what
 * has arrived; a write queues every byte, waiting (poll) for room in the
 * driver's buffer for as long as the bytes take on the wire plus a second.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>

#include "linux_impl.h"

static speed_t baud_const(uint32_t rate)
{
    switch (rate) {
    case 1200:
        return B1200;
    case 2400:
        return B2400;
    case 4800:
        return B4800;
    case 9600:
        return B9600;
    case 19200:
        return B19200;
    case 38400:
        return B38400;
    case 57600:
        return B57600;
    case 115200:
        return B115200;
    case 230400:
        return B230400;
    default:
        return B0;
    }
}

static int bad_baud(uint32_t rate, char *err, size_t errlen)
{
    snprintf(err, errlen, "uart: unsupported baud rate %u", rate);
    return HV_EINVAL;
}

/* Applies raw mode and rate to the open device. Under uart_lock. */
static int configure(hv_linux_t *lx, uint32_t rate, char *err, size_t errlen)
{
    speed_t sp = baud_const(rate);
    if (sp == B0)
        return bad_baud(rate, err, errlen);
    struct termios t;
    if (hv_linux_sys.tcgetattr(lx->uart_fd, &t) < 0) {
        snprintf(err, errlen, "uart: %s: not a serial port: %s", lx->uart_dev, strerror(errno));
        return HV_EIO;
    }
    cfmakeraw(&t);
    t.c_cflag |= CLOCAL | CREAD;
    t.c_cflag &= ~(tcflag_t)(CSTOPB | CRTSCTS);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    cfsetispeed(&t, sp);
    cfsetospeed(&t, sp);
    if (hv_linux_sys.tcsetattr(lx->uart_fd, TCSANOW, &t) < 0) {
        snprintf(err, errlen, "uart: %s: cannot set %u baud: %s", lx->uart_dev, rate,
                 strerror(errno));
        return HV_EIO;
    }
    return HV_OK;
}

/* Opens and configures the device if it is not open. Under uart_lock. */
static int ensure_open(hv_linux_t *lx, char *err, size_t errlen)
{
    if (lx->uart_fd >= 0)
        return HV_OK;
    if (baud_const(lx->uart_baud) == B0)
        return bad_baud(lx->uart_baud, err, errlen);
    int rc = hv_linux_open_dev("uart", lx->uart_dev, O_RDWR | O_NOCTTY | O_NONBLOCK, &lx->uart_fd,
                               err, errlen);
    if (rc == HV_OK && (rc = configure(lx, lx->uart_baud, err, errlen)) != HV_OK)
        hv_linux_close(&lx->uart_fd);
    return rc;
}

int hv_linux_uart_set_baud(hv_hal_t *h, uint32_t rate, char *err, size_t errlen)
{
    hv_linux_t *lx = LX(h);
    if (baud_const(rate) == B0)
        return bad_baud(rate, err, errlen);
    pthread_mutex_lock(&lx->uart_lock);
    int rc;
    if (lx->uart_fd < 0) {
        lx->uart_baud = rate; /* ensure_open applies it */
        rc = ensure_open(lx, err, errlen);
    } else if ((rc = configure(lx, rate, err, errlen)) == HV_OK) {
        lx->uart_baud = rate;
    }
    pthread_mutex_unlock(&lx->uart_lock);
    return rc;
}

int hv_linux_uart_read(hv_hal_t *h, uint8_t *buf, size_t max, size_t *ret_n, char *err,
                       size_t errlen)
{
    hv_linux_t *lx = LX(h);
    *ret_n = 0;
    if (max > HV_HAL_MAX_XFER)
        max = HV_HAL_MAX_XFER;
    pthread_mutex_lock(&lx->uart_lock);
    int rc = ensure_open(lx, err, errlen);
    while (rc == HV_OK && max > 0) {
        ssize_t n = hv_linux_sys.read(lx->uart_fd, buf, max);
        if (n >= 0) {
            *ret_n = (size_t)n;
            break;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            snprintf(err, errlen, "uart: %s: read failed: %s", lx->uart_dev, strerror(errno));
            rc = HV_EIO;
        }
        break;
    }
    pthread_mutex_unlock(&lx->uart_lock);
    return rc;
}

int hv_linux_uart_write(hv_hal_t *h, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    hv_linux_t *lx = LX(h);
    if (len > HV_HAL_MAX_XFER) {
        snprintf(err, errlen, "uart: write longer than %d bytes", HV_HAL_MAX_XFER);
        return HV_ETOOBIG;
    }
    pthread_mutex_lock(&lx->uart_lock);
    int rc = ensure_open(lx, err, errlen);
    /* 10 bits per byte on the wire, plus a second of slack. */
    uint64_t budget_ms = 1000 + (uint64_t)len * 10000u / (lx->uart_baud ? lx->uart_baud : 1);
    uint64_t deadline = hv_linux_sys.now_ms() + budget_ms;
    size_t done = 0;
    while (rc == HV_OK && done < len) {
        ssize_t n = hv_linux_sys.write(lx->uart_fd, buf + done, len - done);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            snprintf(err, errlen, "uart: %s: write failed: %s", lx->uart_dev, strerror(errno));
            rc = HV_EIO;
            break;
        }
        uint64_t now = hv_linux_sys.now_ms();
        struct pollfd p = {.fd = lx->uart_fd, .events = POLLOUT};
        if (now >= deadline || hv_linux_sys.poll(&p, 1, (int)(deadline - now)) == 0) {
            snprintf(err, errlen, "uart: write timed out after %zu of %zu bytes", done, len);
            rc = HV_EIO;
        }
    }
    pthread_mutex_unlock(&lx->uart_lock);
    return rc;
}

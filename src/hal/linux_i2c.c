/*
 * I2C through i2c-dev: one I2C_RDWR ioctl per transfer, a write message
 * then a read message (I2C_M_RD) with a repeated start between them, one
 * message when only one side has bytes. A transfer with no bytes at all is
 * a zero-length write: an address probe.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/i2c-dev.h>
#include <linux/i2c.h>
#include <stdio.h>
#include <string.h>

#include "linux_impl.h"

int hv_linux_i2c_transfer(hv_hal_t *h, uint8_t addr, const uint8_t *wr, size_t wlen, uint8_t *rd,
                          size_t rlen, char *err, size_t errlen)
{
    hv_linux_t *lx = LX(h);
    if (addr < 0x03 || addr > 0x77) {
        snprintf(err, errlen, "i2c: address 0x%02x outside 0x03..0x77", addr);
        return HV_EINVAL;
    }
    if (wlen > HV_HAL_MAX_XFER || rlen > HV_HAL_MAX_XFER) {
        snprintf(err, errlen, "i2c: transfer longer than %d bytes", HV_HAL_MAX_XFER);
        return HV_ETOOBIG;
    }
    struct i2c_msg msgs[2];
    unsigned n = 0;
    memset(msgs, 0, sizeof msgs);
    if (wlen > 0 || rlen == 0) {
        msgs[n].addr = addr;
        msgs[n].flags = 0;
        msgs[n].len = (uint16_t)wlen;
        msgs[n].buf = (uint8_t *)wr; /* the kernel only reads a write message */
        n++;
    }
    if (rlen > 0) {
        msgs[n].addr = addr;
        msgs[n].flags = I2C_M_RD;
        msgs[n].len = (uint16_t)rlen;
        msgs[n].buf = rd;
        n++;
    }
    struct i2c_rdwr_ioctl_data data = {.msgs = msgs, .nmsgs = n};

    pthread_mutex_lock(&lx->i2c_lock);
    int rc = HV_OK;
    if (lx->i2c_fd < 0)
        rc = hv_linux_open_dev("i2c", lx->i2c_dev, O_RDWR, &lx->i2c_fd, err, errlen);
    if (rc == HV_OK && hv_linux_sys.ioctl(lx->i2c_fd, I2C_RDWR, &data) < 0) {
        int e = errno;
        rc = HV_EIO;
        if (e == ENXIO || e == EREMOTEIO) {
            snprintf(err, errlen, "i2c: no device at 0x%02x (no ACK)", addr);
        } else if (e == ETIMEDOUT) {
            snprintf(err, errlen, "i2c: bus timeout");
        } else if (e == EAGAIN) {
            snprintf(err, errlen, "i2c: arbitration lost at 0x%02x", addr);
        } else {
            snprintf(err, errlen, "i2c: transfer at 0x%02x failed: %s", addr, strerror(e));
            hv_linux_close(&lx->i2c_fd); /* reopened next time (the adapter may have gone) */
        }
    }
    pthread_mutex_unlock(&lx->i2c_lock);
    return rc;
}

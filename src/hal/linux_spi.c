/*
 * Plugins' SPI bus through spidev: mode 0, 8 bits per word, HV_LINUX_SPI_HZ,
 * one full-duplex SPI_IOC_MESSAGE(1) per transfer (chip select held for it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "linux_impl.h"

int hv_linux_spi_transfer(hv_hal_t *h, const uint8_t *tx, uint8_t *rx, size_t len, char *err,
                          size_t errlen)
{
    hv_linux_t *lx = LX(h);
    if (len > HV_HAL_MAX_XFER) {
        snprintf(err, errlen, "spi: transfer longer than %d bytes", HV_HAL_MAX_XFER);
        return HV_ETOOBIG;
    }
    if (len == 0)
        return HV_OK;
    pthread_mutex_lock(&lx->spi_lock);
    int rc = HV_OK;
    if (lx->spi_fd < 0)
        rc = hv_linux_spi_setup("spi", lx->spi_dev, HV_LINUX_SPI_HZ, &lx->spi_fd, err, errlen);
    if (rc == HV_OK && hv_linux_spi_xfer(lx->spi_fd, tx, rx, len, HV_LINUX_SPI_HZ) < 0) {
        int e = errno;
        if (e == EMSGSIZE) {
            snprintf(err, errlen,
                     "spi: %zu bytes exceed spidev's buffer (raise it: spidev.bufsiz=%d in "
                     "cmdline.txt)",
                     len, HV_HAL_MAX_XFER);
            rc = HV_ETOOBIG;
        } else {
            snprintf(err, errlen, "spi: %s: transfer failed: %s", lx->spi_dev, strerror(e));
            rc = HV_EIO;
            hv_linux_close(&lx->spi_fd);
        }
    }
    pthread_mutex_unlock(&lx->spi_lock);
    return rc;
}

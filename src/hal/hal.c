/* What both backends share. */
#include <stdio.h>
#include <string.h>

#include "hv_hal.h"

/* A device's name for permissions: its file name ("/dev/spidev0.1" ->
 * "spidev0.1"). */
static void device_name(char *dst, size_t len, const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    snprintf(dst, len, "%s", base);
}

void hv_hal_set_device_names(hv_hal_t *h, const char *spi_path, const char *uart_path)
{
    if (spi_path != NULL)
        device_name(h->spi_name, sizeof h->spi_name, spi_path);
    if (uart_path != NULL)
        device_name(h->uart_name, sizeof h->uart_name, uart_path);
}

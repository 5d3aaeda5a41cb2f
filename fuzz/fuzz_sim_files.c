/*
 * Scenario and recording files: hv_hal_sim_open on arbitrary bytes as a
 * scenario (first byte even) or as a replay recording (odd). Must never
 * crash; on success the board must work for a transfer.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "hv_hal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (path[0] == '\0')
        snprintf(path, sizeof path, "/tmp/hv-fuzz-sim-%d", (int)getpid());
    if (size < 1)
        return 0;
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return 0;
    fwrite(data + 1, 1, size - 1, f);
    fclose(f);
    hv_hal_sim_opts_t o = {11, NULL, NULL, NULL};
    if (data[0] & 1)
        o.replay = path;
    else
        o.scenario = path;
    char err[512];
    hv_hal_t *h = hv_hal_sim_open(&o, err, sizeof err);
    if (h != NULL) {
        uint8_t reg = 0xD0, out[4];
        h->ops->i2c_transfer(h, 0x77, &reg, 1, out, 1, err, sizeof err);
        hv_hal_sim_free(h);
    }
    return 0;
}

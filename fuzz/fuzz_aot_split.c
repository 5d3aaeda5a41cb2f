/* libFuzzer harness for the wasm2c-output splitter (hv_aot_split): any input
 * must give HV_OK or a clean error, never a crash or a leak. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "aot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char dir[] = "/tmp/hv-fuzz-XXXXXX";
    if (mkdtemp(dir) == NULL)
        return 0;
    char in[64], prefix[64], part[80];
    snprintf(in, sizeof in, "%s/in.c", dir);
    snprintf(prefix, sizeof prefix, "%s/part", dir);
    FILE *f = fopen(in, "wb");
    if (f != NULL) {
        fwrite(data, 1, size, f);
        fclose(f);
        (void)hv_aot_split(in, prefix, 3);
    }
    for (int k = 0; k < 3; k++) {
        snprintf(part, sizeof part, "%s%d.c", prefix, k);
        unlink(part);
    }
    unlink(in);
    rmdir(dir);
    return 0;
}

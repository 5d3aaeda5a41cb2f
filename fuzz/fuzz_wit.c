/* libFuzzer harness for the WIT parser (hv_wit_parse): any input must give
 * HV_OK or a clean "file:line:col" error, never a crash, a leak or an
 * out-of-bounds read; a parsed document must print and free cleanly. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv_wit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (sink == NULL && (sink = fopen("/dev/null", "w")) == NULL)
        abort();
    /* an exact-size copy, so ASan sees any read past the end */
    char *src = malloc(size ? size : 1);
    if (src == NULL)
        return 0;
    memcpy(src, data, size);
    hv_wit_doc_t *doc = NULL;
    char err[256];
    int rc = hv_wit_parse(src, size, "fuzz.wit", &doc, err, sizeof err);
    if (rc == HV_OK) {
        if (hv_wit_print(sink, doc) != 0)
            abort();
        for (size_t k = 0; k < doc->ninterfaces; k++) {
            const hv_wit_interface_t *i = doc->interfaces[k];
            char buf[64];
            for (size_t j = 0; j < i->ntypes; j++)
                hv_wit_type_str(i->types[j], buf, sizeof buf);
        }
        hv_wit_free(doc);
    } else if (rc != HV_EINVAL && rc != HV_ENOMEM) {
        abort();
    } else if (strncmp(err, "fuzz.wit:", 9) != 0) {
        abort(); /* every error names the file and a position */
    }
    free(src);
    return 0;
}

/* Internals shared by the canonical ABI files (layout, lift, lower). */
#ifndef HV_ABI_IMPL_H
#define HV_ABI_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "hv_abi.h"
#include "hv_error.h"

/* Flat types examined per variant case: past MAX_FLAT_PARAMS + 1 the
 * exact count no longer matters (the value goes through memory). */
#define ABI_MAX_FLAT_SCAN 32

uint32_t abi__disc_size(size_t ncases);
size_t abi__ncases(const hv_wit_type_t *t);
/* Payload type of case i of a variant/option/result (NULL: none). */
const hv_wit_type_t *abi__case_type(const hv_wit_type_t *t, size_t i);
size_t abi__cases(const hv_wit_type_t *t, const hv_wit_type_t *out[2]);
uint32_t abi__payload_offset(const hv_wit_type_t *t);
uint32_t abi__field_offset(const hv_wit_type_t *t, size_t idx);

/* Where a lift or lower is, for error messages: "transfer: write-data[3].name".
 * Kept as a stack of segments and rendered only when something fails, so
 * the common path costs no formatting. */
#define ABI_PATH_DEPTH 24
typedef struct {
    const char *func, *param;
    struct {
        const char *name; /* NULL: list index */
        long index;
    } seg[ABI_PATH_DEPTH];
    size_t depth;
} abi_path_t;

void abi__path_init(abi_path_t *p, const char *func, const char *param);
/* Pushes a field name (or, with name NULL, a list index); returns the mark
 * to pop back to. */
size_t abi__path_push(abi_path_t *p, const char *name, long index);
void abi__path_pop(abi_path_t *p, size_t mark);
/* "func: param.field[3]" into buf; returns buf. */
const char *abi__path_str(const abi_path_t *p, char *buf, size_t len);

#endif

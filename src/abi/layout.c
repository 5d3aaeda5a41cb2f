/*
 * Canonical ABI layout: size, alignment and flattening of WIT types, as
 * CanonicalABI.md defines them (option and result are variants, enums are
 * variants without payloads, flags take ceil(n/32) 32-bit words when they
 * do not fit one or two bytes).
 */
#include "abi_impl.h"

static uint32_t align_to(uint32_t x, uint32_t a) { return (x + a - 1) & ~(a - 1); }

uint32_t abi__disc_size(size_t ncases)
{
    return ncases <= 256 ? 1 : ncases <= 65536 ? 2 : 4;
}

/* A variant-like type's cases as (payload type or NULL) pairs. */
size_t abi__cases(const hv_wit_type_t *t, const hv_wit_type_t *out[2])
{
    switch (t->kind) {
    case HV_WIT_OPTION:
        out[0] = NULL;
        out[1] = t->elem;
        return 2;
    case HV_WIT_RESULT:
        out[0] = t->elem;
        out[1] = t->err;
        return 2;
    default:
        return 0;
    }
}

const hv_wit_type_t *abi__case_type(const hv_wit_type_t *t, size_t i)
{
    const hv_wit_type_t *two[2];
    if (abi__cases(t, two))
        return two[i];
    return t->kind == HV_WIT_VARIANT ? t->fields[i].type : NULL;
}

size_t abi__ncases(const hv_wit_type_t *t)
{
    return t->kind == HV_WIT_OPTION || t->kind == HV_WIT_RESULT ? 2 : t->nfields;
}

static uint32_t flags_size(size_t n)
{
    return n <= 8 ? 1 : n <= 16 ? 2 : 4 * (uint32_t)((n + 31) / 32);
}

uint32_t hv_abi_align(const hv_wit_type_t *t)
{
    switch (t->kind) {
    case HV_WIT_BOOL:
    case HV_WIT_S8:
    case HV_WIT_U8:
        return 1;
    case HV_WIT_S16:
    case HV_WIT_U16:
        return 2;
    case HV_WIT_S32:
    case HV_WIT_U32:
    case HV_WIT_F32:
    case HV_WIT_CHAR:
    case HV_WIT_STRING:
    case HV_WIT_LIST:
        return 4;
    case HV_WIT_S64:
    case HV_WIT_U64:
    case HV_WIT_F64:
        return 8;
    case HV_WIT_TUPLE:
    case HV_WIT_RECORD: {
        uint32_t a = 1;
        for (size_t i = 0; i < t->nfields; i++) {
            uint32_t fa = hv_abi_align(t->fields[i].type);
            a = fa > a ? fa : a;
        }
        return a;
    }
    case HV_WIT_FLAGS:
        return flags_size(t->nfields) >= 4 ? 4 : flags_size(t->nfields);
    case HV_WIT_ENUM:
    case HV_WIT_VARIANT:
    case HV_WIT_OPTION:
    case HV_WIT_RESULT: {
        size_t n = abi__ncases(t);
        uint32_t a = abi__disc_size(n);
        for (size_t i = 0; i < n; i++) {
            const hv_wit_type_t *ct = abi__case_type(t, i);
            uint32_t ca = ct ? hv_abi_align(ct) : 1;
            a = ca > a ? ca : a;
        }
        return a;
    }
    }
    return 1;
}

/* Offset of a variant's payload: after the discriminant, aligned for the
 * most-aligned case. */
uint32_t abi__payload_offset(const hv_wit_type_t *t)
{
    size_t n = abi__ncases(t);
    uint32_t ma = 1;
    for (size_t i = 0; i < n; i++) {
        const hv_wit_type_t *ct = abi__case_type(t, i);
        uint32_t ca = ct ? hv_abi_align(ct) : 1;
        ma = ca > ma ? ca : ma;
    }
    return align_to(abi__disc_size(n), ma);
}

uint32_t abi__field_offset(const hv_wit_type_t *t, size_t idx)
{
    uint32_t off = 0;
    for (size_t i = 0; i < idx; i++) {
        off = align_to(off, hv_abi_align(t->fields[i].type));
        off += hv_abi_size(t->fields[i].type);
    }
    return align_to(off, hv_abi_align(t->fields[idx].type));
}

uint32_t hv_abi_size(const hv_wit_type_t *t)
{
    switch (t->kind) {
    case HV_WIT_BOOL:
    case HV_WIT_S8:
    case HV_WIT_U8:
        return 1;
    case HV_WIT_S16:
    case HV_WIT_U16:
        return 2;
    case HV_WIT_S32:
    case HV_WIT_U32:
    case HV_WIT_F32:
    case HV_WIT_CHAR:
        return 4;
    case HV_WIT_S64:
    case HV_WIT_U64:
    case HV_WIT_F64:
    case HV_WIT_STRING:
    case HV_WIT_LIST:
        return 8;
    case HV_WIT_TUPLE:
    case HV_WIT_RECORD: {
        uint32_t off = 0;
        for (size_t i = 0; i < t->nfields; i++) {
            off = align_to(off, hv_abi_align(t->fields[i].type));
            off += hv_abi_size(t->fields[i].type);
        }
        return align_to(off, hv_abi_align(t));
    }
    case HV_WIT_FLAGS:
        return flags_size(t->nfields);
    case HV_WIT_ENUM:
    case HV_WIT_VARIANT:
    case HV_WIT_OPTION:
    case HV_WIT_RESULT: {
        size_t n = abi__ncases(t);
        uint32_t max = 0;
        for (size_t i = 0; i < n; i++) {
            const hv_wit_type_t *ct = abi__case_type(t, i);
            uint32_t cs = ct ? hv_abi_size(ct) : 0;
            max = cs > max ? cs : max;
        }
        return align_to(abi__payload_offset(t) + max, hv_abi_align(t));
    }
    }
    return 0;
}

static hv_abi_core_t join(hv_abi_core_t a, hv_abi_core_t b)
{
    if (a == b)
        return a;
    if ((a == HV_ABI_I32 && b == HV_ABI_F32) || (a == HV_ABI_F32 && b == HV_ABI_I32))
        return HV_ABI_I32;
    return HV_ABI_I64;
}

static void put(hv_abi_core_t *out, size_t max, size_t *n, hv_abi_core_t c)
{
    if (*n < max)
        out[*n] = c;
    (*n)++;
}

static void flatten(const hv_wit_type_t *t, hv_abi_core_t *out, size_t max, size_t *n)
{
    switch (t->kind) {
    case HV_WIT_S64:
    case HV_WIT_U64:
        put(out, max, n, HV_ABI_I64);
        return;
    case HV_WIT_F32:
        put(out, max, n, HV_ABI_F32);
        return;
    case HV_WIT_F64:
        put(out, max, n, HV_ABI_F64);
        return;
    case HV_WIT_STRING:
    case HV_WIT_LIST:
        put(out, max, n, HV_ABI_I32);
        put(out, max, n, HV_ABI_I32);
        return;
    case HV_WIT_TUPLE:
    case HV_WIT_RECORD:
        for (size_t i = 0; i < t->nfields; i++)
            flatten(t->fields[i].type, out, max, n);
        return;
    case HV_WIT_FLAGS:
        for (size_t i = 0; i < hv_value_flag_words(t); i++)
            put(out, max, n, HV_ABI_I32);
        return;
    case HV_WIT_ENUM:
    case HV_WIT_VARIANT:
    case HV_WIT_OPTION:
    case HV_WIT_RESULT: {
        put(out, max, n, HV_ABI_I32);
        /* The payload slots: the element-wise join of every case's flat
         * types, as long as the longest case. */
        hv_abi_core_t joined[ABI_MAX_FLAT_SCAN];
        size_t nj = 0;
        for (size_t i = 0; i < abi__ncases(t); i++) {
            const hv_wit_type_t *ct = abi__case_type(t, i);
            if (ct == NULL)
                continue;
            hv_abi_core_t cf[ABI_MAX_FLAT_SCAN];
            size_t nc = hv_abi_flatten(ct, cf, ABI_MAX_FLAT_SCAN);
            if (nc > ABI_MAX_FLAT_SCAN)
                nc = ABI_MAX_FLAT_SCAN;
            for (size_t k = 0; k < nc; k++)
                joined[k] = k < nj ? join(joined[k], cf[k]) : cf[k];
            nj = nc > nj ? nc : nj;
        }
        for (size_t k = 0; k < nj; k++)
            put(out, max, n, joined[k]);
        return;
    }
    default:
        put(out, max, n, HV_ABI_I32);
        return;
    }
}

size_t hv_abi_flatten(const hv_wit_type_t *t, hv_abi_core_t *out, size_t max)
{
    size_t n = 0;
    flatten(t, out, max, &n);
    return n;
}

size_t hv_abi_flat_params(const hv_wit_func_t *f)
{
    size_t n = 0;
    for (size_t i = 0; i < f->nparams; i++)
        n += hv_abi_flatten(f->params[i].type, NULL, 0);
    return n;
}

size_t hv_abi_flat_results(const hv_wit_func_t *f)
{
    return f->result ? hv_abi_flatten(f->result, NULL, 0) : 0;
}

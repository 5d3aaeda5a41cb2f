/*
 * Lowering: hv_value_t trees -> guest memory and flat slots. Strings and
 * lists get fresh guest blocks from cabi_realloc (the guest owns and frees
 * them); the memory base is re-read after every allocation because the
 * guest may have grown its memory.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "abi_impl.h"

typedef struct {
    const hv_abi_mem_t *m;
    abi_path_t path;
    char *err;
    size_t errlen;
    int rc;
} lower_t;

__attribute__((format(printf, 3, 4))) static int fail(lower_t *l, int rc, const char *fmt, ...)
{
    if (l->rc != HV_OK)
        return l->rc;
    char where[256];
    int n = snprintf(l->err, l->errlen, "%s: ", abi__path_str(&l->path, where, sizeof where));
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < l->errlen)
        vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    l->rc = rc;
    return rc;
}

/* Guest bytes [addr, addr + n), or NULL after recording an error. */
static uint8_t *at(lower_t *l, uint32_t addr, uint32_t n)
{
    size_t size;
    uint8_t *mem = l->m->memory(l->m->ctx, &size);
    if (mem == NULL || (uint64_t)addr + n > size) {
        fail(l, HV_EINVAL, "guest address 0x%x + %u out of bounds", addr, n);
        return NULL;
    }
    return mem + addr;
}

static int guest_alloc(lower_t *l, uint64_t size, uint32_t align, uint32_t *ret)
{
    if (size > UINT32_MAX / 2)
        return fail(l, HV_ETOOBIG, "value of %llu bytes is too large for the guest",
                    (unsigned long long)size);
    int rc = l->m->alloc(l->m->ctx, (uint32_t)size, align, ret);
    if (rc != HV_OK)
        return fail(l, rc, "guest allocation of %llu bytes failed: %s", (unsigned long long)size,
                    hv_strerror(rc));
    return HV_OK;
}

static int store(lower_t *l, const hv_wit_type_t *t, const hv_value_t *v, uint32_t addr);

/* Copies a string or list into a new guest block: (ptr, len). */
static int lower_seq(lower_t *l, const hv_wit_type_t *t, const hv_value_t *v, uint32_t *ret_ptr,
                     uint32_t *ret_len)
{
    if (t->kind == HV_WIT_STRING || hv_value_is_bytes_type(t)) {
        const void *src = t->kind == HV_WIT_STRING ? (const void *)v->str.ptr : v->bytes.ptr;
        size_t n = t->kind == HV_WIT_STRING ? v->str.len : v->bytes.len;
        uint32_t p;
        if (n > UINT32_MAX / 2 || guest_alloc(l, n, 1, &p) != HV_OK)
            return l->rc ? l->rc : fail(l, HV_ETOOBIG, "sequence too long");
        uint8_t *dst = at(l, p, (uint32_t)n);
        if (dst == NULL)
            return l->rc;
        if (n)
            memcpy(dst, src, n);
        *ret_ptr = p;
        *ret_len = (uint32_t)n;
        return HV_OK;
    }
    uint32_t es = hv_abi_size(t->elem), ea = hv_abi_align(t->elem), p;
    if (v->list.len > UINT32_MAX || guest_alloc(l, (uint64_t)v->list.len * es, ea, &p) != HV_OK)
        return l->rc ? l->rc : fail(l, HV_ETOOBIG, "list too long");
    for (size_t i = 0; i < v->list.len; i++) {
        size_t mark = abi__path_push(&l->path, NULL, (long)i);
        if (store(l, t->elem, &v->list.items[i], p + (uint32_t)i * es) != HV_OK)
            return l->rc;
        abi__path_pop(&l->path, mark);
    }
    *ret_ptr = p;
    *ret_len = (uint32_t)v->list.len;
    return HV_OK;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static int check_case(lower_t *l, const hv_wit_type_t *t, const hv_value_t *v)
{
    if (v->var.tag >= abi__ncases(t))
        return fail(l, HV_EINVAL, "case %u out of range", v->var.tag);
    if ((abi__case_type(t, v->var.tag) != NULL) != (v->var.payload != NULL))
        return fail(l, HV_EINVAL, "case %u payload mismatch", v->var.tag);
    return HV_OK;
}

static int store(lower_t *l, const hv_wit_type_t *t, const hv_value_t *v, uint32_t addr)
{
    uint32_t size = hv_abi_size(t);
    uint8_t *p = at(l, addr, size);
    if (p == NULL)
        return l->rc;
    switch (t->kind) {
    case HV_WIT_BOOL:
        p[0] = v->b ? 1 : 0;
        return HV_OK;
    case HV_WIT_S8:
    case HV_WIT_U8:
        p[0] = (uint8_t)v->u;
        return HV_OK;
    case HV_WIT_S16:
    case HV_WIT_U16: {
        uint16_t x = (uint16_t)v->u;
        memcpy(p, &x, 2);
        return HV_OK;
    }
    case HV_WIT_S32:
    case HV_WIT_U32:
        put32(p, (uint32_t)v->u);
        return HV_OK;
    case HV_WIT_S64:
    case HV_WIT_U64:
        memcpy(p, &v->u, 8);
        return HV_OK;
    case HV_WIT_F32:
        memcpy(p, &v->f32, 4);
        return HV_OK;
    case HV_WIT_F64:
        memcpy(p, &v->f64, 8);
        return HV_OK;
    case HV_WIT_CHAR:
        put32(p, v->ch);
        return HV_OK;
    case HV_WIT_STRING:
    case HV_WIT_LIST: {
        uint32_t sp, sl;
        if (lower_seq(l, t, v, &sp, &sl) != HV_OK)
            return l->rc;
        if ((p = at(l, addr, 8)) == NULL)
            return l->rc;
        put32(p, sp);
        put32(p + 4, sl);
        return HV_OK;
    }
    case HV_WIT_TUPLE:
    case HV_WIT_RECORD:
        for (size_t i = 0; i < t->nfields; i++) {
            size_t mark = abi__path_push(&l->path, t->fields[i].name, (long)i);
            if (store(l, t->fields[i].type, &v->list.items[i], addr + abi__field_offset(t, i)))
                return l->rc;
            abi__path_pop(&l->path, mark);
        }
        return HV_OK;
    case HV_WIT_FLAGS: {
        uint32_t w0 = v->flags.words[0];
        if (size == 1)
            p[0] = (uint8_t)w0;
        else if (size == 2)
            p[0] = (uint8_t)w0, p[1] = (uint8_t)(w0 >> 8);
        else
            memcpy(p, v->flags.words, size);
        return HV_OK;
    }
    case HV_WIT_ENUM:
    case HV_WIT_VARIANT:
    case HV_WIT_OPTION:
    case HV_WIT_RESULT: {
        if (check_case(l, t, v) != HV_OK)
            return l->rc;
        uint32_t ds = abi__disc_size(abi__ncases(t)), tag = v->var.tag;
        if (ds == 1)
            p[0] = (uint8_t)tag;
        else if (ds == 2)
            p[0] = (uint8_t)tag, p[1] = (uint8_t)(tag >> 8);
        else
            put32(p, tag);
        const hv_wit_type_t *ct = abi__case_type(t, tag);
        return ct ? store(l, ct, v->var.payload, addr + abi__payload_offset(t)) : HV_OK;
    }
    }
    return fail(l, HV_EINVAL, "unsupported type");
}

typedef struct {
    uint64_t *slots;
    size_t max, n;
} slot_out_t;

static int emit(lower_t *l, slot_out_t *o, uint64_t v)
{
    if (o->n >= o->max)
        return fail(l, HV_EINVAL, "too many flat values");
    o->slots[o->n++] = v;
    return HV_OK;
}

static int lower_flat(lower_t *l, const hv_wit_type_t *t, const hv_value_t *v, slot_out_t *o)
{
    switch (t->kind) {
    case HV_WIT_BOOL:
        return emit(l, o, v->b ? 1 : 0);
    case HV_WIT_S8:
    case HV_WIT_S16:
    case HV_WIT_S32:
        return emit(l, o, (uint32_t)(int32_t)v->s);
    case HV_WIT_U8:
    case HV_WIT_U16:
    case HV_WIT_U32:
        return emit(l, o, (uint32_t)v->u);
    case HV_WIT_S64:
    case HV_WIT_U64:
        return emit(l, o, v->u);
    case HV_WIT_F32: {
        uint32_t bits;
        memcpy(&bits, &v->f32, 4);
        return emit(l, o, bits);
    }
    case HV_WIT_F64: {
        uint64_t bits;
        memcpy(&bits, &v->f64, 8);
        return emit(l, o, bits);
    }
    case HV_WIT_CHAR:
        return emit(l, o, v->ch);
    case HV_WIT_STRING:
    case HV_WIT_LIST: {
        uint32_t p, n;
        if (lower_seq(l, t, v, &p, &n) != HV_OK || emit(l, o, p) != HV_OK)
            return l->rc;
        return emit(l, o, n);
    }
    case HV_WIT_TUPLE:
    case HV_WIT_RECORD:
        for (size_t i = 0; i < t->nfields; i++) {
            size_t mark = abi__path_push(&l->path, t->fields[i].name, (long)i);
            if (lower_flat(l, t->fields[i].type, &v->list.items[i], o) != HV_OK)
                return l->rc;
            abi__path_pop(&l->path, mark);
        }
        return HV_OK;
    case HV_WIT_FLAGS:
        for (size_t i = 0; i < hv_value_flag_words(t); i++)
            if (emit(l, o, v->flags.words[i]) != HV_OK)
                return l->rc;
        return HV_OK;
    case HV_WIT_ENUM:
    case HV_WIT_VARIANT:
    case HV_WIT_OPTION:
    case HV_WIT_RESULT: {
        if (check_case(l, t, v) != HV_OK)
            return l->rc;
        size_t start = o->n, total = hv_abi_flatten(t, NULL, 0);
        if (emit(l, o, v->var.tag) != HV_OK)
            return l->rc;
        const hv_wit_type_t *ct = abi__case_type(t, v->var.tag);
        if (ct && lower_flat(l, ct, v->var.payload, o) != HV_OK)
            return l->rc;
        /* Unused joined slots are zero. */
        while (o->n < start + total)
            if (emit(l, o, 0) != HV_OK)
                return l->rc;
        return HV_OK;
    }
    }
    return fail(l, HV_EINVAL, "unsupported type");
}

static void lower_init(lower_t *l, const hv_abi_mem_t *m, char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    l->m = m;
    l->err = err;
    l->errlen = errlen;
}

int hv_abi_lower_result(const hv_abi_mem_t *m, const hv_wit_func_t *f, const hv_value_t *result,
                        uint32_t ret, char *err, size_t errlen)
{
    if (f->result == NULL)
        return HV_OK;
    lower_t l;
    lower_init(&l, m, err, errlen);
    abi__path_init(&l.path, f->name, "result");
    if (hv_abi_flat_results(f) <= HV_ABI_MAX_FLAT_RESULTS) {
        uint64_t slot = 0;
        slot_out_t o = {&slot, 1, 0};
        if (lower_flat(&l, f->result, result, &o) != HV_OK)
            return l.rc;
        uint8_t *p = at(&l, ret, 8);
        if (p == NULL)
            return l.rc;
        memcpy(p, &slot, 8);
        return HV_OK;
    }
    if (ret % hv_abi_align(f->result) != 0)
        return fail(&l, HV_EINVAL, "misaligned return pointer 0x%x (alignment %u)", ret,
                    hv_abi_align(f->result));
    if (at(&l, ret, hv_abi_size(f->result)) == NULL)
        return l.rc;
    return store(&l, f->result, result, ret);
}

int hv_abi_lower_params(const hv_abi_mem_t *m, const hv_wit_func_t *f, const hv_value_t *args,
                        uint64_t ret_slots[HV_ABI_MAX_FLAT_PARAMS], size_t *ret_nslots,
                        char *err, size_t errlen)
{
    lower_t l;
    lower_init(&l, m, err, errlen);
    uint64_t slots[HV_ABI_MAX_FLAT_PARAMS];
    if (hv_abi_flat_params(f) <= HV_ABI_MAX_FLAT_PARAMS) {
        slot_out_t o = {slots, HV_ABI_MAX_FLAT_PARAMS, 0};
        for (size_t i = 0; i < f->nparams; i++) {
            abi__path_init(&l.path, f->name, f->params[i].name);
            if (lower_flat(&l, f->params[i].type, &args[i], &o) != HV_OK)
                return l.rc;
        }
        memcpy(ret_slots, slots, o.n * sizeof *slots);
        *ret_nslots = o.n;
        return HV_OK;
    }
    /* Spill: the params as a tuple in a guest block. */
    uint32_t size = 0, align = 1, block;
    for (size_t i = 0; i < f->nparams; i++) {
        uint32_t a = hv_abi_align(f->params[i].type);
        size = ((size + a - 1) & ~(a - 1)) + hv_abi_size(f->params[i].type);
        align = a > align ? a : align;
    }
    abi__path_init(&l.path, f->name, NULL);
    if (guest_alloc(&l, size, align, &block) != HV_OK)
        return l.rc;
    uint32_t off = 0;
    for (size_t i = 0; i < f->nparams; i++) {
        uint32_t a = hv_abi_align(f->params[i].type);
        off = (off + a - 1) & ~(a - 1);
        abi__path_init(&l.path, f->name, f->params[i].name);
        if (store(&l, f->params[i].type, &args[i], block + off) != HV_OK)
            return l.rc;
        off += hv_abi_size(f->params[i].type);
    }
    ret_slots[0] = block;
    *ret_nslots = 1;
    return HV_OK;
}

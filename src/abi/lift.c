/*
 * Lifting: guest memory and flat slots -> hv_value_t trees. Every pointer,
 * length, discriminant and string comes from an untrusted guest, so each is
 * checked before it is used, and the first bad one ends the call with a
 * message naming where it was found.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "abi_impl.h"

typedef struct {
    const hv_abi_mem_t *m;
    const uint8_t *mem;
    size_t size;
    hv_arena_t *a;
    abi_path_t path;
    char *err;
    size_t errlen;
    int rc;
} lift_t;

void abi__path_init(abi_path_t *p, const char *func, const char *param)
{
    p->func = func;
    p->param = param;
    p->depth = 0;
}

size_t abi__path_push(abi_path_t *p, const char *name, long index)
{
    if (p->depth < ABI_PATH_DEPTH) {
        p->seg[p->depth].name = name;
        p->seg[p->depth].index = index;
    }
    return p->depth++;
}

void abi__path_pop(abi_path_t *p, size_t mark) { p->depth = mark; }

const char *abi__path_str(const abi_path_t *p, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s%s%s", p->func, p->param ? ": " : "", p->param ? p->param : "");
    size_t used = n < 0 ? 0 : (size_t)n;
    for (size_t i = 0; i < p->depth && i < ABI_PATH_DEPTH && used < len; i++) {
        n = p->seg[i].name ? snprintf(buf + used, len - used, ".%s", p->seg[i].name)
                           : snprintf(buf + used, len - used, "[%ld]", p->seg[i].index);
        used += n < 0 ? 0 : (size_t)n;
    }
    if (p->depth > ABI_PATH_DEPTH && used < len)
        snprintf(buf + used, len - used, "...");
    return buf;
}

__attribute__((format(printf, 2, 3))) static int fail(lift_t *l, const char *fmt, ...)
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
    l->rc = HV_EINVAL;
    return HV_EINVAL;
}

static int nomem(lift_t *l)
{
    if (l->rc == HV_OK) {
        char where[256];
        snprintf(l->err, l->errlen, "%s: values exceed %u MiB",
                 abi__path_str(&l->path, where, sizeof where), HV_ABI_MAX_LIFT_BYTES >> 20);
        l->rc = HV_ETOOBIG;
    }
    return l->rc;
}

static int valid_scalar(uint32_t c) { return c < 0xD800 || (c > 0xDFFF && c < 0x110000); }

/* Strict UTF-8: no overlong forms, surrogates or values past U+10FFFF. */
static size_t utf8_invalid_at(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
        if (len == 0 || c > 0xF4 || i + len > n)
            return i;
        uint32_t cp = c & (0x7F >> len);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || !valid_scalar(cp))
            return i;
        i += len;
    }
    return SIZE_MAX;
}

/* Is [addr, addr + bytes) inside guest memory? (No overflow: 64-bit sums of
 * 32-bit values.) */
static int in_bounds(const lift_t *l, uint64_t addr, uint64_t bytes)
{
    return addr + bytes <= l->size;
}

static int lift_string(lift_t *l, uint32_t ptr, uint32_t len, hv_value_t *out)
{
    if (!in_bounds(l, ptr, len))
        return fail(l, "string out of bounds (ptr 0x%x, len %u, memory %zu bytes)", ptr, len,
                    l->size);
    size_t bad = utf8_invalid_at(l->mem + ptr, len);
    if (bad != SIZE_MAX)
        return fail(l, "string is not valid UTF-8 (byte %zu of %u)", bad, len);
    out->str.ptr = hv_arena_strndup(l->a, (const char *)l->mem + ptr, len);
    if (out->str.ptr == NULL)
        return nomem(l);
    out->str.len = len;
    return HV_OK;
}

static int load(lift_t *l, const hv_wit_type_t *t, uint32_t addr, hv_value_t *out);

static int lift_list(lift_t *l, const hv_wit_type_t *t, uint32_t ptr, uint32_t len,
                     hv_value_t *out)
{
    const hv_wit_type_t *et = t->elem;
    uint32_t es = hv_abi_size(et), ea = hv_abi_align(et);
    if (ptr % ea != 0)
        return fail(l, "misaligned list pointer 0x%x (element alignment %u)", ptr, ea);
    uint64_t bytes = (uint64_t)len * es;
    if (!in_bounds(l, ptr, bytes))
        return fail(l, "list out of bounds (ptr 0x%x, %u elements of %u bytes, memory %zu bytes)",
                    ptr, len, es, l->size);
    if (hv_value_is_bytes_type(t)) {
        out->bytes.ptr = hv_arena_alloc(l->a, len ? len : 1);
        if (out->bytes.ptr == NULL)
            return nomem(l);
        memcpy(out->bytes.ptr, l->mem + ptr, len);
        out->bytes.len = len;
        return HV_OK;
    }
    if ((uint64_t)len * sizeof(hv_value_t) > HV_ABI_MAX_LIFT_BYTES)
        return nomem(l);
    out->list.items = hv_arena_alloc(l->a, (size_t)len * sizeof(hv_value_t) + 1);
    if (out->list.items == NULL)
        return nomem(l);
    out->list.len = len;
    for (uint32_t i = 0; i < len; i++) {
        size_t mark = abi__path_push(&l->path, NULL, (long)i);
        if (load(l, et, ptr + i * es, &out->list.items[i]) != HV_OK)
            return l->rc;
        abi__path_pop(&l->path, mark);
    }
    return HV_OK;
}

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static int alloc_fields(lift_t *l, size_t n, hv_value_t **ret)
{
    *ret = hv_arena_alloc(l->a, n * sizeof(hv_value_t) + 1);
    return *ret ? HV_OK : nomem(l);
}

static int load_case(lift_t *l, const hv_wit_type_t *t, uint32_t tag, uint32_t payload_addr,
                     hv_value_t *out)
{
    size_t n = abi__ncases(t);
    if (tag >= n)
        return fail(l, "discriminant %u out of range (%zu cases)", tag, n);
    out->var.tag = tag;
    const hv_wit_type_t *ct = abi__case_type(t, tag);
    if (ct == NULL)
        return HV_OK;
    if (alloc_fields(l, 1, &out->var.payload) != HV_OK)
        return l->rc;
    return load(l, ct, payload_addr, out->var.payload);
}

static int load(lift_t *l, const hv_wit_type_t *t, uint32_t addr, hv_value_t *out)
{
    uint32_t size = hv_abi_size(t), align = hv_abi_align(t);
    out->type = t;
    if (addr % align != 0)
        return fail(l, "misaligned pointer 0x%x (alignment %u)", addr, align);
    if (!in_bounds(l, addr, size))
        return fail(l, "pointer 0x%x + %u bytes out of bounds (memory %zu bytes)", addr, size,
                    l->size);
    const uint8_t *p = l->mem + addr;
    switch (t->kind) {
    case HV_WIT_BOOL:
        out->b = p[0] != 0;
        return HV_OK;
    case HV_WIT_S8:
        out->s = (int8_t)p[0];
        return HV_OK;
    case HV_WIT_U8:
        out->u = p[0];
        return HV_OK;
    case HV_WIT_S16: {
        int16_t v;
        memcpy(&v, p, 2);
        out->s = v;
        return HV_OK;
    }
    case HV_WIT_U16: {
        uint16_t v;
        memcpy(&v, p, 2);
        out->u = v;
        return HV_OK;
    }
    case HV_WIT_S32:
        out->s = (int32_t)rd32(p);
        return HV_OK;
    case HV_WIT_U32:
        out->u = rd32(p);
        return HV_OK;
    case HV_WIT_S64:
        out->s = (int64_t)rd64(p);
        return HV_OK;
    case HV_WIT_U64:
        out->u = rd64(p);
        return HV_OK;
    case HV_WIT_F32:
        memcpy(&out->f32, p, 4);
        return HV_OK;
    case HV_WIT_F64:
        memcpy(&out->f64, p, 8);
        return HV_OK;
    case HV_WIT_CHAR:
        out->ch = rd32(p);
        return valid_scalar(out->ch) ? HV_OK : fail(l, "invalid char U+%X", out->ch);
    case HV_WIT_STRING:
        return lift_string(l, rd32(p), rd32(p + 4), out);
    case HV_WIT_LIST:
        return lift_list(l, t, rd32(p), rd32(p + 4), out);
    case HV_WIT_TUPLE:
    case HV_WIT_RECORD:
        if (alloc_fields(l, t->nfields, &out->list.items) != HV_OK)
            return l->rc;
        out->list.len = t->nfields;
        for (size_t i = 0; i < t->nfields; i++) {
            size_t mark = abi__path_push(&l->path, t->fields[i].name, (long)i);
            if (load(l, t->fields[i].type, addr + abi__field_offset(t, i), &out->list.items[i]))
                return l->rc;
            abi__path_pop(&l->path, mark);
        }
        return HV_OK;
    case HV_WIT_FLAGS: {
        size_t nw = hv_value_flag_words(t);
        out->flags.words = hv_arena_alloc(l->a, nw * 4);
        if (out->flags.words == NULL)
            return nomem(l);
        if (size == 1)
            out->flags.words[0] = p[0];
        else if (size == 2)
            out->flags.words[0] = (uint32_t)p[0] | (uint32_t)p[1] << 8;
        else
            memcpy(out->flags.words, p, nw * 4);
        /* Bits past the last flag mean nothing; drop them. */
        if (t->nfields % 32)
            out->flags.words[nw - 1] &= (1u << (t->nfields % 32)) - 1;
        return HV_OK;
    }
    case HV_WIT_ENUM:
    case HV_WIT_VARIANT:
    case HV_WIT_OPTION:
    case HV_WIT_RESULT: {
        uint32_t ds = abi__disc_size(abi__ncases(t));
        uint32_t tag = ds == 1 ? p[0] : ds == 2 ? (uint32_t)p[0] | (uint32_t)p[1] << 8 : rd32(p);
        return load_case(l, t, tag, addr + abi__payload_offset(t), out);
    }
    }
    return fail(l, "unsupported type");
}

/* ---- flat ------------------------------------------------------------- */

typedef struct {
    const uint64_t *slots;
    size_t n, i;
} slot_iter_t;

static int next(lift_t *l, slot_iter_t *it, uint64_t *v)
{
    if (it->i >= it->n)
        return fail(l, "too few argument slots");
    *v = it->slots[it->i++];
    return HV_OK;
}

static int lift_flat(lift_t *l, const hv_wit_type_t *t, slot_iter_t *it, hv_value_t *out)
{
    uint64_t v = 0, w = 0;
    out->type = t;
    switch (t->kind) {
    case HV_WIT_TUPLE:
    case HV_WIT_RECORD:
        if (alloc_fields(l, t->nfields, &out->list.items) != HV_OK)
            return l->rc;
        out->list.len = t->nfields;
        for (size_t i = 0; i < t->nfields; i++) {
            size_t mark = abi__path_push(&l->path, t->fields[i].name, (long)i);
            if (lift_flat(l, t->fields[i].type, it, &out->list.items[i]) != HV_OK)
                return l->rc;
            abi__path_pop(&l->path, mark);
        }
        return HV_OK;
    case HV_WIT_FLAGS: {
        size_t nw = hv_value_flag_words(t);
        out->flags.words = hv_arena_alloc(l->a, nw * 4);
        if (out->flags.words == NULL)
            return nomem(l);
        for (size_t i = 0; i < nw; i++) {
            if (next(l, it, &v) != HV_OK)
                return l->rc;
            out->flags.words[i] = (uint32_t)v;
        }
        if (t->nfields % 32)
            out->flags.words[nw - 1] &= (1u << (t->nfields % 32)) - 1;
        return HV_OK;
    }
    case HV_WIT_ENUM:
    case HV_WIT_VARIANT:
    case HV_WIT_OPTION:
    case HV_WIT_RESULT: {
        size_t start = it->i;
        size_t total = hv_abi_flatten(t, NULL, 0);
        if (next(l, it, &v) != HV_OK)
            return l->rc;
        uint32_t tag = (uint32_t)v;
        if (tag >= abi__ncases(t))
            return fail(l, "discriminant %u out of range (%zu cases)", tag, abi__ncases(t));
        out->var.tag = tag;
        const hv_wit_type_t *ct = abi__case_type(t, tag);
        if (ct != NULL) {
            if (alloc_fields(l, 1, &out->var.payload) != HV_OK)
                return l->rc;
            /* Slots hold every joined type at full width, so reading the
             * case's own types from them is the spec's coercion. */
            if (lift_flat(l, ct, it, out->var.payload) != HV_OK)
                return l->rc;
        }
        if (start + total > it->n)
            return fail(l, "too few argument slots");
        it->i = start + total;
        return HV_OK;
    }
    default:
        break;
    }
    if (next(l, it, &v) != HV_OK)
        return l->rc;
    switch (t->kind) {
    case HV_WIT_BOOL:
        out->b = (uint32_t)v != 0;
        return HV_OK;
    case HV_WIT_S8:
        out->s = (int8_t)v;
        return HV_OK;
    case HV_WIT_U8:
        out->u = (uint8_t)v;
        return HV_OK;
    case HV_WIT_S16:
        out->s = (int16_t)v;
        return HV_OK;
    case HV_WIT_U16:
        out->u = (uint16_t)v;
        return HV_OK;
    case HV_WIT_S32:
        out->s = (int32_t)v;
        return HV_OK;
    case HV_WIT_U32:
        out->u = (uint32_t)v;
        return HV_OK;
    case HV_WIT_S64:
        out->s = (int64_t)v;
        return HV_OK;
    case HV_WIT_U64:
        out->u = v;
        return HV_OK;
    case HV_WIT_F32: {
        uint32_t bits = (uint32_t)v;
        memcpy(&out->f32, &bits, 4);
        return HV_OK;
    }
    case HV_WIT_F64:
        memcpy(&out->f64, &v, 8);
        return HV_OK;
    case HV_WIT_CHAR:
        out->ch = (uint32_t)v;
        return valid_scalar(out->ch) ? HV_OK : fail(l, "invalid char U+%X", out->ch);
    case HV_WIT_STRING:
        if (next(l, it, &w) != HV_OK)
            return l->rc;
        return lift_string(l, (uint32_t)v, (uint32_t)w, out);
    case HV_WIT_LIST:
        if (next(l, it, &w) != HV_OK)
            return l->rc;
        return lift_list(l, t, (uint32_t)v, (uint32_t)w, out);
    default:
        return fail(l, "unsupported type");
    }
}

static void lift_init(lift_t *l, const hv_abi_mem_t *m, hv_arena_t *a, char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    l->m = m;
    l->mem = m->memory(m->ctx, &l->size);
    l->a = a;
    l->err = err;
    l->errlen = errlen;
    if (l->mem == NULL) {
        /* No memory: a zero-sized one, so that even an empty string or list
         * never does arithmetic on (or memcpy from) a null pointer. */
        static const uint8_t none[1];
        l->mem = none;
        l->size = 0;
    }
}

int hv_abi_lift_params(const hv_abi_mem_t *m, const hv_wit_func_t *f, const uint64_t *slots,
                       size_t nslots, hv_arena_t *a, hv_value_t **ret_args, char *err,
                       size_t errlen)
{
    lift_t l;
    lift_init(&l, m, a, err, errlen);
    abi__path_init(&l.path, f->name, NULL);
    size_t flat = hv_abi_flat_params(f);
    hv_value_t *args = hv_arena_alloc(a, f->nparams * sizeof(hv_value_t) + 1);
    if (args == NULL)
        return nomem(&l);
    if (flat <= HV_ABI_MAX_FLAT_PARAMS) {
        if (nslots != flat)
            return fail(&l, "expected %zu argument slots, got %zu", flat, nslots);
        slot_iter_t it = {slots, nslots, 0};
        for (size_t i = 0; i < f->nparams; i++) {
            abi__path_init(&l.path, f->name, f->params[i].name);
            if (lift_flat(&l, f->params[i].type, &it, &args[i]) != HV_OK)
                return l.rc;
        }
    } else {
        /* Spilled: one slot with the address of the params as a tuple. */
        if (nslots != 1)
            return fail(&l, "expected 1 argument slot (params in memory), got %zu", nslots);
        uint32_t addr = (uint32_t)slots[0], off = 0;
        for (size_t i = 0; i < f->nparams; i++) {
            const hv_wit_type_t *pt = f->params[i].type;
            uint32_t al = hv_abi_align(pt);
            off = (off + al - 1) & ~(al - 1);
            abi__path_init(&l.path, f->name, f->params[i].name);
            if ((uint64_t)addr + off > UINT32_MAX)
                return fail(&l, "params pointer 0x%x out of bounds", addr);
            if (load(&l, pt, addr + off, &args[i]) != HV_OK)
                return l.rc;
            off += hv_abi_size(pt);
        }
    }
    *ret_args = args;
    return HV_OK;
}

int hv_abi_lift_result(const hv_abi_mem_t *m, const hv_wit_func_t *f, uint64_t slot,
                       hv_arena_t *a, hv_value_t *ret, char *err, size_t errlen)
{
    if (f->result == NULL)
        return HV_OK;
    lift_t l;
    lift_init(&l, m, a, err, errlen);
    abi__path_init(&l.path, f->name, "result");
    hv_value_t v;
    memset(&v, 0, sizeof v);
    int rc;
    if (hv_abi_flat_results(f) <= HV_ABI_MAX_FLAT_RESULTS) {
        slot_iter_t it = {&slot, 1, 0};
        rc = lift_flat(&l, f->result, &it, &v);
    } else {
        rc = load(&l, f->result, (uint32_t)slot, &v);
    }
    if (rc == HV_OK)
        *ret = v;
    return rc;
}

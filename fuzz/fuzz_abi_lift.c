/*
 * libFuzzer harness for the canonical ABI's lifting side, which reads
 * whatever a guest hands the host. The input is
 *   byte 0        slot count: < 0x80 the function's own, else byte % 18
 *   bytes 1..64   the low halves of 16 slots (LE)
 *   bytes 65..66  which slots get garbage in their upper half
 *   the rest      guest memory (at most 4 KiB, malloc'd at exactly its size
 *                 so ASan sees any read past it; none: a NULL memory)
 * and every function of a world covering every WIT kind is lifted from it
 * (params, and the result from slot 0). A lift must succeed or fail with a
 * clean HV_EINVAL/HV_ETOOBIG naming the function; a value must convert to
 * JSON, lower into a second guest and lift back equal (abort otherwise).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv_abi.h"
#include "hv_value.h"
#include "hv_wit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER 67
#define MAX_MEM 4096
#define ARENA_LIMIT (4u << 20)
#define OUT_SIZE (1u << 20)

static const char WIT_HEAD[] =
    "package fuzz:abi;\n"
    "interface kinds {\n"
    "  record point { x: f32, y: f64, tag: u8 }\n"
    "  record item { name: string, data: list<u8>, scale: option<f32>, when: option<u64> }\n"
    "  variant shape { circle(f32), rect(tuple<u32, u32>), label(string), big(u64),\n"
    "                  many(list<item>), none }\n"
    "  variant mix { a(f32), b(f64), c(s64), d(tuple<u8, f32, f64>), e(string), f }\n"
    "  enum color { red, green, blue }\n"
    "  flags small { a, b, c }\n"
    "  flags mid { g0, g1, g2, g3, g4, g5, g6, g7, g8, g9, g10, g11 }\n"
    "  flags wide { w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15, w16,\n"
    "    w17, w18, w19, w20, w21, w22, w23, w24, w25, w26, w27, w28, w29, w30, w31, w32, w33,\n"
    "    w34, w35, w36, w37, w38, w39 }\n"
    "  record holder { e: huge, x: u8, fl: wide, s: small }\n";

static const char WIT_FUNCS[] =
    "  prims: func(a: bool, b: s8, c: u8, d: s16, e: u16, f: s32, g: u32, h: s64, i: u64,\n"
    "              j: f32, k: f64, l: char) -> bool;\n"
    "  text: func(s: string, c: char) -> string;\n"
    "  bytes: func(b: list<u8>) -> list<u8>;\n"
    "  seqs: func(l: list<string>, n: list<list<u16>>) -> list<string>;\n"
    "  recs: func(p: point, items: list<item>) -> list<item>;\n"
    "  vars: func(s: shape, c: color, o: option<option<u32>>, r: result<u8, u64>,\n"
    "             u: result<_, string>) -> shape;\n"
    "  joins: func(m: mix, n: mix) -> mix;\n"
    "  flagsf: func(s: small, m: mid, w: wide) -> wide;\n"
    "  tuples: func(t: tuple<u8, u64, f32, string>, u: tuple<char, bool>) -> tuple<s16, f64>;\n"
    "  spilled: func(s: string, items: list<item>, p: point, sh: shape, r: result<_, string>,\n"
    "                w: wide, t: tuple<u8, u64, f32, string>, c: char, y: f64)\n"
    "           -> result<list<item>, string>;\n"
    "  deep: func(d: list<list<list<option<string>>>>) -> option<option<option<u8>>>;\n"
    "  enums: func(e: huge, h: holder) -> huge;\n"
    "  holders: func(h: list<holder>) -> holder;\n"
    "  chars: func() -> list<char>;\n"
    "  small-ret: func() -> small;\n"
    "  color-ret: func() -> color;\n"
    "  f32-ret: func() -> f32;\n"
    "  u64-ret: func() -> u64;\n"
    "  unit: func() -> result;\n"
    "  none: func();\n"
    "}\n"
    "world w { import kinds; }\n";

static hv_wit_doc_t *doc;
static const hv_wit_interface_t *kinds;

static void die(const char *what, const char *fn, const char *msg)
{
    fprintf(stderr, "fuzz_abi_lift: %s: %s: %s\n", fn, what, msg ? msg : "");
    abort();
}

static void init(void)
{
    /* enum huge { h0, ..., h299 }: a two-byte discriminant */
    static char src[16384];
    size_t n = (size_t)snprintf(src, sizeof src, "%s  enum huge {", WIT_HEAD);
    for (int k = 0; k < 300; k++)
        n += (size_t)snprintf(src + n, sizeof src - n, "%s h%d", k ? "," : "", k);
    n += (size_t)snprintf(src + n, sizeof src - n, " }\n%s", WIT_FUNCS);
    if (n >= sizeof src)
        die("init", "wit", "source too long");
    char err[512];
    if (hv_wit_parse(src, n, "fuzz.wit", &doc, err, sizeof err) != HV_OK)
        die("init", "wit", err);
    const hv_wit_world_t *w = hv_wit_world(doc, "w");
    if (w == NULL || w->nimports != 1)
        die("init", "wit", "no world");
    kinds = w->imports[0];
}

/* ---- guest memories ------------------------------------------------------ */

typedef struct {
    uint8_t *buf;
    size_t size;
    uint32_t next;
} guest_t;

static uint8_t *g_memory(void *ctx, size_t *ret_size)
{
    guest_t *g = ctx;
    *ret_size = g->size;
    return g->buf;
}

static int g_alloc(void *ctx, uint32_t size, uint32_t align, uint32_t *ret)
{
    guest_t *g = ctx;
    uint64_t at = ((uint64_t)g->next + align - 1) & ~(uint64_t)(align - 1);
    if (at + size > g->size)
        return HV_ENOMEM;
    g->next = (uint32_t)(at + size);
    *ret = (uint32_t)at;
    return HV_OK;
}

/* The lifting side may never allocate. */
static int no_alloc(void *ctx, uint32_t size, uint32_t align, uint32_t *ret)
{
    (void)ctx;
    (void)size;
    (void)align;
    (void)ret;
    die("alloc", "lift", "lifting called the guest allocator");
    return HV_ENOMEM;
}

static guest_t out; /* where values are lowered again */

static void out_reset(void)
{
    if (out.buf == NULL) {
        out.buf = calloc(1, OUT_SIZE);
        out.size = OUT_SIZE;
        if (out.buf == NULL)
            die("init", "out", "no memory");
    }
    memset(out.buf, 0, out.next);
    out.next = 8;
}

static void check_err(const hv_wit_func_t *f, int rc, const char *err)
{
    if (rc != HV_EINVAL && rc != HV_ETOOBIG)
        die("unexpected error code", f->name, hv_err_name(rc));
    size_t n = strlen(f->name);
    if (strncmp(err, f->name, n) != 0 || err[n] != ':')
        die("error does not name the function", f->name, err);
}

static void to_json(const hv_wit_func_t *f, const hv_value_t *v)
{
    char *json = hv_value_to_json(v);
    if (json == NULL)
        die("to_json failed", f->name, NULL);
    free(json);
}

static void fuzz_params(const hv_abi_mem_t *m, const hv_wit_func_t *f, const uint64_t *slots,
                        size_t nslots)
{
    hv_arena_t a;
    hv_arena_init(&a, ARENA_LIMIT);
    hv_value_t *args = NULL;
    char err[512] = "";
    int rc = hv_abi_lift_params(m, f, slots, nslots, &a, &args, err, sizeof err);
    if (rc != HV_OK) {
        check_err(f, rc, err);
        hv_arena_free(&a);
        return;
    }
    for (size_t i = 0; i < f->nparams; i++) {
        if (args[i].type != f->params[i].type)
            die("lifted value has the wrong type", f->name, f->params[i].name);
        to_json(f, &args[i]);
    }
    /* Lowered into a fresh guest and lifted back, the values are the same. */
    out_reset();
    const hv_abi_mem_t om = {g_memory, g_alloc, &out};
    uint64_t s2[HV_ABI_MAX_FLAT_PARAMS];
    size_t n2 = 0;
    rc = hv_abi_lower_params(&om, f, args, s2, &n2, err, sizeof err);
    if (rc == HV_OK) {
        hv_value_t *back = NULL;
        rc = hv_abi_lift_params(&om, f, s2, n2, &a, &back, err, sizeof err);
        if (rc == HV_OK) {
            for (size_t i = 0; i < f->nparams; i++)
                if (!hv_value_equal(&args[i], &back[i]))
                    die("params differ after lower + lift", f->name, f->params[i].name);
        } else if (rc != HV_ETOOBIG) {
            die("lifting lowered params failed", f->name, err);
        }
    } else if (rc != HV_ENOMEM && rc != HV_ETOOBIG) {
        die("lowering lifted params failed", f->name, err);
    }
    hv_arena_free(&a);
}

static void fuzz_result(const hv_abi_mem_t *m, const hv_wit_func_t *f, uint64_t slot)
{
    hv_arena_t a;
    hv_arena_init(&a, ARENA_LIMIT);
    hv_value_t v;
    memset(&v, 0, sizeof v);
    char err[512] = "";
    int rc = hv_abi_lift_result(m, f, slot, &a, &v, err, sizeof err);
    if (rc != HV_OK) {
        check_err(f, rc, err);
        hv_arena_free(&a);
        return;
    }
    if (f->result == NULL) {
        hv_arena_free(&a);
        return;
    }
    if (v.type != f->result)
        die("lifted result has the wrong type", f->name, NULL);
    to_json(f, &v);
    out_reset();
    const hv_abi_mem_t om = {g_memory, g_alloc, &out};
    uint32_t ret;
    int flat = hv_abi_flat_results(f) <= HV_ABI_MAX_FLAT_RESULTS;
    if (g_alloc(&out, flat ? 8 : hv_abi_size(f->result), flat ? 8 : hv_abi_align(f->result),
                &ret) != HV_OK)
        die("alloc", f->name, "no room for the result");
    rc = hv_abi_lower_result(&om, f, &v, ret, err, sizeof err);
    if (rc == HV_OK) {
        uint64_t s2 = ret;
        if (flat)
            memcpy(&s2, out.buf + ret, 8);
        hv_value_t back;
        rc = hv_abi_lift_result(&om, f, s2, &a, &back, err, sizeof err);
        if (rc == HV_OK) {
            if (!hv_value_equal(&v, &back))
                die("result differs after lower + lift", f->name, NULL);
        } else if (rc != HV_ETOOBIG) {
            die("lifting the lowered result failed", f->name, err);
        }
    } else if (rc != HV_ENOMEM && rc != HV_ETOOBIG) {
        die("lowering the lifted result failed", f->name, err);
    }
    hv_arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (doc == NULL)
        init();
    uint8_t head[HEADER] = {0};
    memcpy(head, data, size < HEADER ? size : HEADER);
    size_t msize = size > HEADER ? size - HEADER : 0;
    if (msize > MAX_MEM)
        msize = MAX_MEM;
    /* No memory bytes: a guest without memory (the callback says NULL). */
    guest_t g = {msize ? malloc(msize) : NULL, msize, 0};
    if (msize && g.buf == NULL)
        return 0;
    if (msize)
        memcpy(g.buf, data + HEADER, msize);
    const hv_abi_mem_t m = {g_memory, no_alloc, &g};

    /* up to 17 slots may be passed (one too many); the 17th is zero */
    uint64_t slots[HV_ABI_MAX_FLAT_PARAMS + 1] = {0};
    uint16_t garbage = (uint16_t)(head[65] | head[66] << 8);
    for (int i = 0; i < HV_ABI_MAX_FLAT_PARAMS; i++) {
        const uint8_t *p = head + 1 + 4 * i;
        uint64_t lo =
            (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
        slots[i] = lo | (garbage >> i & 1 ? (uint64_t)(lo * 0x9E3779B1u) << 32 : 0);
    }
    for (size_t i = 0; i < kinds->nfuncs; i++) {
        const hv_wit_func_t *f = &kinds->funcs[i];
        size_t flat = hv_abi_flat_params(f);
        size_t nslots = head[0] < 0x80 ? (flat <= HV_ABI_MAX_FLAT_PARAMS ? flat : 1)
                                       : head[0] % (HV_ABI_MAX_FLAT_PARAMS + 2);
        fuzz_params(&m, f, slots, nslots);
        fuzz_result(&m, f, slots[0]);
    }
    free(g.buf);
    return 0;
}

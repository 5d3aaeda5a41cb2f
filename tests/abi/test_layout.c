/*
 * Canonical ABI: sizes, alignments and flat types checked against values
 * worked out by hand from CanonicalABI.md (elem_size, alignment,
 * flatten_type, discriminant_type, join); lower -> lift round trips through
 * a fake guest memory; exact byte layouts; and hostile guest input to the
 * lifting functions (every error a clean HV_EINVAL naming function,
 * parameter and path). Types come from small WIT snippets.
 */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hv_abi.h"
#include "hv_value.h"
#include "hv_wit.h"

static hv_arena_t arena;
static char err[512];

/* ---- WIT snippets ------------------------------------------------------- */

#define MAX_DOCS 128
static hv_wit_doc_t *docs[MAX_DOCS];
static size_t ndocs;

/* Parses `interface t { <body> }` and returns it (freed in teardown). */
static const hv_wit_interface_t *iface_of(const char *body)
{
    char *src = NULL;
    int n = asprintf(&src, "package test:layout;\n\ninterface t {\n%s\n}\n", body);
    assert_true(n > 0);
    hv_wit_doc_t *doc = NULL;
    int rc = hv_wit_parse(src, (size_t)n, "layout.wit", &doc, err, sizeof err);
    if (rc != HV_OK)
        fail_msg("WIT does not parse: %s\n%s", err, src);
    free(src);
    assert_true(ndocs < MAX_DOCS);
    docs[ndocs++] = doc;
    const hv_wit_interface_t *i = hv_wit_interface(doc, "t");
    assert_non_null(i);
    return i;
}

static const hv_wit_func_t *func(const hv_wit_interface_t *i, const char *name)
{
    const hv_wit_func_t *f = hv_wit_func(i, name);
    if (f == NULL)
        fail_msg("no function %s", name);
    return f;
}

/* The type `expr`, with `decls` declared next to it. */
static const hv_wit_type_t *ty(const char *decls, const char *expr)
{
    char *body = NULL;
    assert_true(asprintf(&body, "%s\nprobe: func(x: %s);", decls, expr) > 0);
    const hv_wit_interface_t *i = iface_of(body);
    free(body);
    return func(i, "probe")->params[0].type;
}

/* "name { c0, c1, ..., c<n-1> }" for enums and flags; caller frees. */
static char *many(const char *kw, const char *name, const char *prefix, int n)
{
    size_t cap = 64 + (size_t)n * 12, len = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    len += (size_t)snprintf(s + len, cap - len, "%s %s {", kw, name);
    for (int k = 0; k < n; k++)
        len += (size_t)snprintf(s + len, cap - len, "%s %s%d", k ? "," : "", prefix, k);
    snprintf(s + len, cap - len, " }");
    return s;
}

/* ---- layout ------------------------------------------------------------- */

static const char *core_name(hv_abi_core_t c)
{
    switch (c) {
    case HV_ABI_I32:
        return "i32";
    case HV_ABI_I64:
        return "i64";
    case HV_ABI_F32:
        return "f32";
    case HV_ABI_F64:
        return "f64";
    }
    return "?";
}

/* The flat types of t as "i32 i64 f32". */
static const char *flat_str(const hv_wit_type_t *t)
{
    static char buf[512];
    hv_abi_core_t flat[64];
    size_t n = hv_abi_flatten(t, flat, 64);
    assert_true(n <= 64);
    /* Asking for fewer writes no more than asked, and counts the same. */
    hv_abi_core_t two[3] = {99, 99, 99};
    assert_int_equal(hv_abi_flatten(t, two, 2), n);
    assert_int_equal((int)two[2], 99);
    assert_int_equal(hv_abi_flatten(t, NULL, 0), n);
    buf[0] = '\0';
    size_t len = 0;
    for (size_t k = 0; k < n; k++)
        len +=
            (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", k ? " " : "", core_name(flat[k]));
    return buf;
}

static void check_layout(const hv_wit_type_t *t, uint32_t size, uint32_t align, const char *flat)
{
    char name[256];
    hv_wit_type_str(t, name, sizeof name);
    if (hv_abi_size(t) != size || hv_abi_align(t) != align || strcmp(flat_str(t), flat) != 0)
        fail_msg("%s: size %u align %u flat [%s]; expected %u, %u, [%s]", name, hv_abi_size(t),
                 hv_abi_align(t), flat_str(t), size, align, flat);
}

#define LAYOUT(decls, expr, size, align, flat) check_layout(ty(decls, expr), size, align, flat)

static void test_primitives(void **state)
{
    (void)state;
    LAYOUT("", "bool", 1, 1, "i32");
    LAYOUT("", "s8", 1, 1, "i32");
    LAYOUT("", "u8", 1, 1, "i32");
    LAYOUT("", "s16", 2, 2, "i32");
    LAYOUT("", "u16", 2, 2, "i32");
    LAYOUT("", "s32", 4, 4, "i32");
    LAYOUT("", "u32", 4, 4, "i32");
    LAYOUT("", "s64", 8, 8, "i64");
    LAYOUT("", "u64", 8, 8, "i64");
    LAYOUT("", "f32", 4, 4, "f32");
    LAYOUT("", "f64", 8, 8, "f64");
    LAYOUT("", "float32", 4, 4, "f32");
    LAYOUT("", "float64", 8, 8, "f64");
    LAYOUT("", "char", 4, 4, "i32");
    LAYOUT("", "string", 8, 4, "i32 i32");
    LAYOUT("", "list<u8>", 8, 4, "i32 i32");
    LAYOUT("", "list<u64>", 8, 4, "i32 i32");
    LAYOUT("", "list<list<string>>", 8, 4, "i32 i32");
}

static void test_records_and_tuples(void **state)
{
    (void)state;
    /* a@0 pad b@4 c@8, size 10 -> 12 */
    LAYOUT("record r { a: u8, b: u32, c: u16 }", "r", 12, 4, "i32 i32 i32");
    /* a@0 b@8 c@16, size 17 -> 24 */
    LAYOUT("record r { a: u8, b: f64, c: u8 }", "r", 24, 8, "i32 f64 i32");
    /* a@0 b@2, 3 -> 4 */
    LAYOUT("record r { a: u16, b: u8 }", "r", 4, 2, "i32 i32");
    LAYOUT("record r { a: u8 }", "r", 1, 1, "i32");
    /* s@0 b@8 c@9 d@12 e@16, 24 */
    LAYOUT("record r { s: string, b: bool, c: s8, d: char, e: u64 }", "r", 24, 8,
           "i32 i32 i32 i32 i32 i64");
    /* tuple<u8, u64, f32>: 0, 8, 16 -> 20 -> 24 */
    LAYOUT("", "tuple<u8, u64, f32>", 24, 8, "i32 i64 f32");
    LAYOUT("", "tuple<u8, u8, u8>", 3, 1, "i32 i32 i32");
    LAYOUT("", "tuple<u16, u8>", 4, 2, "i32 i32");
    LAYOUT("", "tuple<f32, f32>", 8, 4, "f32 f32");
    /* records nest: inner {u8, u16} is 4/2; outer u8@0 inner@2 u8@6 -> 7 -> 8 */
    LAYOUT("record inner { a: u8, b: u16 }\nrecord outer { x: u8, y: inner, z: u8 }", "outer", 8, 2,
           "i32 i32 i32 i32");
    /* list<record { string, list<u8>, option<f32> }>: the record is
     * 0: string, 8: list, 16: option<f32> (disc, pad, f32 at 20) -> 24 */
    const hv_wit_type_t *l =
        ty("record item { name: string, data: list<u8>, scale: option<f32> }", "list<item>");
    check_layout(l, 8, 4, "i32 i32");
    check_layout(l->elem, 24, 4, "i32 i32 i32 i32 i32 f32");
}

static void test_options_results_variants(void **state)
{
    (void)state;
    /* option<f64>: disc@0, payload@8, 16 */
    LAYOUT("", "option<f64>", 16, 8, "i32 f64");
    LAYOUT("", "option<u8>", 2, 1, "i32 i32");
    LAYOUT("", "option<u16>", 4, 2, "i32 i32");
    LAYOUT("", "option<string>", 12, 4, "i32 i32 i32");
    LAYOUT("", "option<option<u32>>", 12, 4, "i32 i32 i32");
    /* result<_, string>: disc@0, string@4, 12 */
    LAYOUT("", "result<_, string>", 12, 4, "i32 i32 i32");
    /* result<u8, u64>: disc@0, payload@8; i32 join i64 = i64 */
    LAYOUT("", "result<u8, u64>", 16, 8, "i32 i64");
    LAYOUT("", "result", 1, 1, "i32");
    LAYOUT("", "result<u32>", 8, 4, "i32 i32");
    LAYOUT("", "result<f32, u32>", 8, 4, "i32 i32"); /* f32 join i32 = i32 */
    LAYOUT("", "result<f32, f32>", 8, 4, "i32 f32");
    LAYOUT("", "result<f32, f64>", 16, 8, "i32 i64");        /* f32 join f64 = i64 */
    LAYOUT("", "result<f32, s64>", 16, 8, "i32 i64");        /* f32 join i64 = i64 */
    LAYOUT("", "result<f64, string>", 16, 8, "i32 i64 i32"); /* f64 join i32 = i64 */
    LAYOUT("", "result<f64, f64>", 16, 8, "i32 f64");

    /* i32 + f32 -> i32 */
    LAYOUT("variant v { a(u8), b(f32) }", "v", 8, 4, "i32 i32");
    /* f32 + f64 -> i64 */
    LAYOUT("variant v { a(f32), b(f64) }", "v", 16, 8, "i32 i64");
    /* i32 + i64 -> i64 */
    LAYOUT("variant v { a(u32), b(u64), c }", "v", 16, 8, "i32 i64");
    /* f32 + i64 -> i64; the longer case sets the count */
    LAYOUT("variant v { a(tuple<f32, f32>), b(u64), c }", "v", 16, 8, "i32 i64 f32");
    /* [i32 i32] / [f32 f64 i32] / [i32]: i32, i64, i32; tuple<f32, f64, u8>
     * is 24 bytes align 8 so the payload sits at 8 */
    LAYOUT("variant v { a(string), b(tuple<f32, f64, u8>), c(u16) }", "v", 32, 8,
           "i32 i32 i64 i32");
    /* all cases without payload: just the discriminant */
    LAYOUT("variant v { a, b, c }", "v", 1, 1, "i32");
    LAYOUT("variant v { a(u16), b }", "v", 4, 2, "i32 i32");
    LAYOUT("enum e { a, b, c }", "e", 1, 1, "i32");
    /* a variant in a record keeps its own padding */
    LAYOUT("variant v { a(u8), b(u32) }\nrecord r { x: u8, y: v, z: u16 }", "r", 16, 4,
           "i32 i32 i32 i32");

    /* enum discriminant: 256 cases fit a u8, 257 need a u16 */
    char *e256 = many("enum", "e", "c", 256), *e257 = many("enum", "e", "c", 257);
    LAYOUT(e256, "e", 1, 1, "i32");
    LAYOUT(e257, "e", 2, 2, "i32");
    LAYOUT(e257, "option<e>", 4, 2, "i32 i32");
    char *rec = NULL;
    assert_true(asprintf(&rec, "%s\nrecord r { a: u8, b: e, c: u8 }", e257) > 0);
    LAYOUT(rec, "r", 6, 2, "i32 i32 i32");
    free(rec);
    free(e256);
    free(e257);
}

static void test_flags(void **state)
{
    (void)state;
    static const struct {
        int n;
        uint32_t size, align;
        const char *flat;
    } cases[] = {
        {1, 1, 1, "i32"},           {8, 1, 1, "i32"},      {9, 2, 2, "i32"},
        {16, 2, 2, "i32"},          {17, 4, 4, "i32"},     {32, 4, 4, "i32"},
        {33, 8, 4, "i32 i32"},      {40, 8, 4, "i32 i32"}, {64, 8, 4, "i32 i32"},
        {65, 12, 4, "i32 i32 i32"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *decl = many("flags", "fl", "x", cases[i].n);
        const hv_wit_type_t *t = ty(decl, "fl");
        assert_int_equal(t->nfields, cases[i].n);
        check_layout(t, cases[i].size, cases[i].align, cases[i].flat);
        assert_int_equal(hv_value_flag_words(t), (cases[i].n + 31) / 32);
        free(decl);
    }
}

static void test_flat_params_and_results(void **state)
{
    (void)state;
    const hv_wit_interface_t *i = iface_of(
        "record item { name: string, data: list<u8>, scale: option<f32> }\n"
        "none: func();\n"
        "one: func(a: u8) -> u32;\n"
        "mixed: func(a: string, b: list<item>, c: item, d: option<f64>) -> string;\n"
        "sixteen: func(a: tuple<string, string, string, string, string, string, string, "
        "string>) -> f64;\n"
        "seventeen: func(a: tuple<string, string, string, string, string, string, string, "
        "string>, b: bool) -> result;\n"
        "wide: func(a: u64, b: u64, c: u64, d: u64, e: u64, f: u64, g: u64, h: u64, "
        "i: u64, j: u64, k: u64, l: u64, m: u64, n: u64, o: u64, p: f32) -> option<u8>;\n"
        "wider: func(a: u64, b: u64, c: u64, d: u64, e: u64, f: u64, g: u64, h: u64, "
        "i: u64, j: u64, k: u64, l: u64, m: u64, n: u64, o: u64, p: f32, q: char) -> item;\n");
    assert_int_equal(hv_abi_flat_params(func(i, "none")), 0);
    assert_int_equal(hv_abi_flat_results(func(i, "none")), 0);
    assert_int_equal(hv_abi_flat_params(func(i, "one")), 1);
    assert_int_equal(hv_abi_flat_results(func(i, "one")), 1);
    assert_int_equal(hv_abi_flat_params(func(i, "mixed")), 2 + 2 + 6 + 2);
    assert_int_equal(hv_abi_flat_results(func(i, "mixed")), 2);
    assert_int_equal(hv_abi_flat_params(func(i, "sixteen")), 16);
    assert_int_equal(hv_abi_flat_results(func(i, "sixteen")), 1);
    assert_int_equal(hv_abi_flat_params(func(i, "seventeen")), 17);
    assert_int_equal(hv_abi_flat_results(func(i, "seventeen")), 1);
    assert_int_equal(hv_abi_flat_params(func(i, "wide")), 16);
    assert_int_equal(hv_abi_flat_results(func(i, "wide")), 2);
    assert_int_equal(hv_abi_flat_params(func(i, "wider")), 17);
    assert_int_equal(hv_abi_flat_results(func(i, "wider")), 6);
}

/* ---- a fake guest ------------------------------------------------------- */

#define MEM_SIZE (64u << 10)
/* The allocator hands out [8, ALLOC_END); tests write hostile data above. */
#define ALLOC_END (32u << 10)
#define HOSTILE 0x8000u

typedef struct {
    uint8_t *buf;
    size_t size;
    uint32_t next;
    unsigned nallocs;
    int fail; /* alloc fails with HV_ENOMEM */
    int move; /* every alloc moves the memory (as memory.grow may) */
} fake_t;

static fake_t fm;

static uint8_t *fm_memory(void *ctx, size_t *ret_size)
{
    fake_t *f = ctx;
    *ret_size = f->size;
    return f->buf;
}

static int fm_alloc(void *ctx, uint32_t size, uint32_t align, uint32_t *ret)
{
    fake_t *f = ctx;
    if (align != 1 && align != 2 && align != 4 && align != 8)
        fail_msg("alloc: bad alignment %u", align);
    if (f->fail)
        return HV_ENOMEM;
    uint64_t at = ((uint64_t)f->next + align - 1) & ~(uint64_t)(align - 1);
    if (at + size > ALLOC_END)
        return HV_ENOMEM;
    if (at < 8 || at + size > f->size)
        fail_msg("alloc: block 0x%llx + %u outside guest memory", (unsigned long long)at, size);
    f->next = (uint32_t)(at + size);
    f->nallocs++;
    *ret = (uint32_t)at;
    if (f->move) {
        /* A new base: any pointer kept across the call is now dangling. */
        uint8_t *nb = malloc(f->size);
        assert_non_null(nb);
        memcpy(nb, f->buf, f->size);
        free(f->buf);
        f->buf = nb;
    }
    return HV_OK;
}

static const hv_abi_mem_t mem = {fm_memory, fm_alloc, &fm};

static void fm_reset(void)
{
    memset(fm.buf, 0, fm.size);
    fm.next = 8;
    fm.nallocs = 0;
    fm.fail = 0;
}

static void w8(uint32_t addr, uint8_t v)
{
    fm.buf[addr] = v;
}
static void w16(uint32_t addr, uint16_t v)
{
    memcpy(fm.buf + addr, &v, 2);
}
static void w32(uint32_t addr, uint32_t v)
{
    memcpy(fm.buf + addr, &v, 4);
}
static void wbytes(uint32_t addr, const void *p, size_t n)
{
    memcpy(fm.buf + addr, p, n);
}
static uint32_t r32(uint32_t addr)
{
    uint32_t v;
    memcpy(&v, fm.buf + addr, 4);
    return v;
}

/* ---- round trips -------------------------------------------------------- */

static const char *const ABI_WIT =
    "record point { x: f32, y: f64, tag: u8 }\n"
    "record item { name: string, data: list<u8>, scale: option<f32> }\n"
    "variant shape { circle(f32), rect(tuple<u32, u32>), label(string), big(u64), none }\n"
    "enum color { red, green, blue }\n"
    "flags small { a, b, c }\n"
    "flags mid { g0, g1, g2, g3, g4, g5, g6, g7, g8, g9, g10, g11 }\n"
    "flags wide { x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15, x16, "
    "x17, x18, x19, x20, x21, x22, x23, x24, x25, x26, x27, x28, x29, x30, x31, x32, x33, x34, "
    "x35, x36, x37, x38, x39 }\n"
    "prims: func(a: bool, b: s8, c: u8, d: s16, e: u16, f: s32, g: u32, h: s64, i: u64, "
    "j: f32, k: f64, l: char);\n"
    "seqs: func(s: string, b: list<u8>, l: list<string>, e: list<u32>);\n"
    "nested: func(p: point, items: list<item>);\n"
    "variants: func(s: shape, c: color, o: option<option<u32>>, r: result<u8, u64>, "
    "u: result<_, string>);\n"
    "flagsf: func(s: small, m: mid, w: wide);\n"
    "sixteen: func(a1: u32, a2: u32, a3: u32, a4: u32, a5: u32, a6: u32, a7: u32, a8: u32, "
    "a9: u32, a10: u32, a11: u32, a12: u32, a13: u32, a14: u32, a15: u32, a16: u32);\n"
    "seventeen: func(a1: u32, a2: u32, a3: u32, a4: u32, a5: u32, a6: u32, a7: u32, a8: u32, "
    "a9: u32, a10: u32, a11: u32, a12: u32, a13: u32, a14: u32, a15: u32, a16: u32, "
    "a17: u8);\n"
    "spill: func(s: string, items: list<item>, p: point, sh: shape, r: result<_, string>, "
    "w: wide, t: tuple<u8, u64, f32, string>, c: char, y: f64);\n"
    "f: func(v: list<item>);\n"
    "g: func(s: string);\n"
    "h: func(s: shape, c: char);\n"
    "lists: func(a: list<u32>, b: list<u64>, c: list<item>, d: list<point>);\n"
    "ret-u32: func() -> u32;\n"
    "ret-s8: func() -> s8;\n"
    "ret-s16: func() -> s16;\n"
    "ret-bool: func() -> bool;\n"
    "ret-u64: func() -> u64;\n"
    "ret-s64: func() -> s64;\n"
    "ret-f32: func() -> f32;\n"
    "ret-f64: func() -> f64;\n"
    "ret-char: func() -> char;\n"
    "ret-color: func() -> color;\n"
    "ret-small: func() -> small;\n"
    "ret-mid: func() -> mid;\n"
    "ret-unit: func() -> result;\n"
    "ret-string: func() -> string;\n"
    "ret-bytes: func() -> list<u8>;\n"
    "ret-chars: func() -> list<char>;\n"
    "ret-point: func() -> point;\n"
    "ret-item: func() -> item;\n"
    "ret-items: func() -> list<item>;\n"
    "ret-shape: func() -> shape;\n"
    "ret-opt: func() -> option<f64>;\n"
    "ret-opt-opt: func() -> option<option<u32>>;\n"
    "ret-res: func() -> result<u8, u64>;\n"
    "ret-err: func() -> result<_, string>;\n"
    "ret-wide: func() -> wide;\n"
    "ret-tuple: func() -> tuple<u8, u64, f32, string>;\n"
    "nothing: func();\n";

static const hv_wit_interface_t *abi_iface(void)
{
    static const hv_wit_interface_t *i;
    if (i == NULL)
        i = iface_of(ABI_WIT);
    return i;
}

static hv_value_t parse_value(const hv_wit_type_t *t, const char *json)
{
    hv_value_t v;
    int rc = hv_value_from_json(&arena, t, json, strlen(json), &v, err, sizeof err);
    if (rc != HV_OK)
        fail_msg("parsing %s: %s (%s)", json, err, hv_err_name(rc));
    return v;
}

static void assert_same(const hv_value_t *want, const hv_value_t *got, const char *what)
{
    char *a = hv_value_to_json(want), *b = hv_value_to_json(got);
    assert_non_null(a);
    assert_non_null(b);
    if (!hv_value_equal(want, got) || strcmp(a, b) != 0)
        fail_msg("%s: round trip gave %s, expected %s", what, b, a);
    assert_ptr_equal(got->type, want->type);
    free(a);
    free(b);
}

/* Lowers args (JSON per parameter) as the host calling an export, lifts
 * them back as the host serving an import; returns the slot count. */
static size_t roundtrip_params(const char *fname, const char *const *json, uint64_t *ret_slots)
{
    const hv_wit_func_t *f = func(abi_iface(), fname);
    hv_value_t *args = hv_arena_alloc(&arena, (f->nparams + 1) * sizeof *args);
    assert_non_null(args);
    for (size_t k = 0; k < f->nparams; k++)
        args[k] = parse_value(f->params[k].type, json[k]);
    uint64_t slots[HV_ABI_MAX_FLAT_PARAMS];
    size_t n = 99;
    int rc = hv_abi_lower_params(&mem, f, args, slots, &n, err, sizeof err);
    if (rc != HV_OK)
        fail_msg("%s: lower_params: %s (%s)", fname, err, hv_err_name(rc));
    size_t flat = hv_abi_flat_params(f);
    assert_int_equal(n, flat <= HV_ABI_MAX_FLAT_PARAMS ? flat : 1);
    hv_value_t *back = NULL;
    rc = hv_abi_lift_params(&mem, f, slots, n, &arena, &back, err, sizeof err);
    if (rc != HV_OK)
        fail_msg("%s: lift_params: %s (%s)", fname, err, hv_err_name(rc));
    for (size_t k = 0; k < f->nparams; k++)
        assert_same(&args[k], &back[k], f->params[k].name);
    if (ret_slots)
        memcpy(ret_slots, slots, n * sizeof *slots);
    return n;
}

/* Lowers a result as the host answering an import, lifts it as the host
 * reading an export's result; returns where it was lowered. */
static uint32_t roundtrip_result(const char *fname, const char *json)
{
    const hv_wit_func_t *f = func(abi_iface(), fname);
    hv_value_t v = parse_value(f->result, json);
    int flat = hv_abi_flat_results(f) <= HV_ABI_MAX_FLAT_RESULTS;
    uint32_t ret;
    assert_int_equal(
        fm_alloc(&fm, flat ? 8 : hv_abi_size(f->result), flat ? 8 : hv_abi_align(f->result), &ret),
        HV_OK);
    int rc = hv_abi_lower_result(&mem, f, &v, ret, err, sizeof err);
    if (rc != HV_OK)
        fail_msg("%s: lower_result %s: %s (%s)", fname, json, err, hv_err_name(rc));
    uint64_t slot = ret;
    if (flat)
        memcpy(&slot, fm.buf + ret, 8);
    hv_value_t back;
    memset(&back, 0, sizeof back);
    rc = hv_abi_lift_result(&mem, f, slot, &arena, &back, err, sizeof err);
    if (rc != HV_OK)
        fail_msg("%s: lift_result %s: %s (%s)", fname, json, err, hv_err_name(rc));
    assert_same(&v, &back, json);
    return ret;
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__})

static void run_param_roundtrips(void)
{
    uint64_t s[HV_ABI_MAX_FLAT_PARAMS];
    assert_int_equal(
        roundtrip_params("prims",
                         ARGS("true", "-128", "255", "-32768", "65535", "-2147483648", "4294967295",
                              "\"-9223372036854775808\"", "\"18446744073709551615\"", "1.5",
                              "-0.25", "\"\xF0\x9F\x98\x80\""),
                         s),
        12);
    /* i32s in the low half, upper half zero; s8/s16/s32 sign-extended to 32 bits */
    assert_true(s[0] == 1 && s[1] == 0xFFFFFF80u && s[2] == 255 && s[3] == 0xFFFF8000u);
    assert_true(s[4] == 65535 && s[5] == 0x80000000u && s[6] == 0xFFFFFFFFu);
    assert_true(s[7] == 0x8000000000000000u && s[8] == UINT64_MAX);
    assert_true(s[9] == 0x3FC00000u && s[10] == 0xBFD0000000000000u && s[11] == 0x1F600);
    roundtrip_params("prims",
                     ARGS("false", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "\"\\u0000\""),
                     NULL);

    assert_int_equal(
        roundtrip_params("seqs",
                         ARGS("\"h\xC3\xA9llo, w\xE2\x82\xACrld\"", "[0, 1, 255]",
                              "[\"a\", \"\", \"\xF0\x9F\x98\x80\"]", "[1, 4294967295]"),
                         s),
        8);
    assert_int_equal(s[1], 15);
    assert_memory_equal(fm.buf + s[0], "h\xC3\xA9llo, w\xE2\x82\xACrld", 15);
    assert_int_equal(s[3], 3);
    assert_memory_equal(fm.buf + s[2], "\0\1\377", 3);
    roundtrip_params("seqs", ARGS("\"\"", "[]", "[]", "[]"), NULL);

    roundtrip_params("nested",
                     ARGS("{\"x\": 1.5, \"y\": -2.25, \"tag\": 7}",
                          "[{\"name\": \"t\xC3\xA9mp\", \"data\": [1, 2, 3], \"scale\": 0.5},"
                          " {\"name\": \"\", \"data\": [], \"scale\": null}]"),
                     NULL);

    static const char *const shapes[] = {
        "{\"tag\": \"circle\", \"val\": 1.5}", "{\"tag\": \"rect\", \"val\": [3, 4]}",
        "{\"tag\": \"label\", \"val\": \"lbl\"}",
        "{\"tag\": \"big\", \"val\": \"18446744073709551615\"}", "{\"tag\": \"none\"}"};
    static const char *const opts[] = {"null", "{\"some\": null}", "{\"some\": 5}",
                                       "{\"some\": 4294967295}", "null"};
    static const char *const ress[] = {"{\"ok\": 255}", "{\"err\": \"18446744073709551615\"}",
                                       "{\"ok\": 0}", "{\"err\": 1}", "{\"ok\": 1}"};
    static const char *const units[] = {"{\"ok\": null}", "{\"err\": \"bad\"}", "{\"err\": \"\"}",
                                        "{\"ok\": null}", "{\"err\": \"\xE2\x82\xAC\"}"};
    static const char *const colors[] = {"\"red\"", "\"green\"", "\"blue\"", "\"red\"", "\"blue\""};
    for (int k = 0; k < 5; k++) {
        assert_int_equal(
            roundtrip_params("variants", ARGS(shapes[k], colors[k], opts[k], ress[k], units[k]), s),
            12);
        assert_int_equal(s[0], (uint64_t)k); /* shape's discriminant */
    }
    /* shape's payload slots are [i64 i32]: circle's f32 bits zero-extended
     * into the i64 slot, rect's two u32s, big's u64 whole, unused ones zero */
    roundtrip_params("variants", ARGS(shapes[0], colors[0], opts[0], ress[0], units[0]), s);
    assert_true(s[1] == 0x3FC00000u && s[2] == 0);
    roundtrip_params("variants", ARGS(shapes[1], colors[0], opts[0], ress[0], units[0]), s);
    assert_true(s[1] == 3 && s[2] == 4);
    roundtrip_params("variants", ARGS(shapes[3], colors[2], opts[2], ress[1], units[0]), s);
    assert_true(s[1] == UINT64_MAX && s[2] == 0);
    assert_true(s[3] == 2);                           /* blue */
    assert_true(s[4] == 1 && s[5] == 1 && s[6] == 5); /* some(some(5)) */
    assert_true(s[7] == 1 && s[8] == UINT64_MAX);     /* err(u64 max) */
    assert_true(s[9] == 0 && s[10] == 0 && s[11] == 0);
    roundtrip_params("variants", ARGS(shapes[4], colors[0], opts[1], ress[0], units[1]), s);
    assert_true(s[1] == 0 && s[2] == 0 && s[4] == 1 && s[5] == 0 && s[6] == 0);

    assert_int_equal(roundtrip_params("flagsf",
                                      ARGS("[\"a\", \"c\"]", "[\"g0\", \"g11\"]",
                                           "[\"x0\", \"x31\", \"x32\", \"x39\"]"),
                                      s),
                     4);
    assert_true(s[0] == 5 && s[1] == 0x801 && s[2] == 0x80000001u && s[3] == 0x81);
    roundtrip_params("flagsf", ARGS("[]", "[]", "[]"), NULL);

    assert_int_equal(roundtrip_params("sixteen",
                                      ARGS("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11",
                                           "12", "13", "14", "15", "4294967295"),
                                      s),
                     16);
    assert_true(s[0] == 1 && s[15] == 0xFFFFFFFFu);
    /* 17 flat values: the params go to memory as a tuple, its address in one slot */
    assert_int_equal(roundtrip_params("seventeen",
                                      ARGS("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11",
                                           "12", "13", "14", "15", "16", "255"),
                                      s),
                     1);
    assert_true(s[0] >= 8 && s[0] % 4 == 0 && s[0] + 65 <= ALLOC_END);
    for (uint32_t k = 0; k < 16; k++)
        assert_int_equal(r32((uint32_t)s[0] + 4 * k), k + 1);
    assert_int_equal(fm.buf[s[0] + 64], 255);

    assert_int_equal(
        roundtrip_params("spill",
                         ARGS("\"spilled \xE2\x82\xAC\"",
                              "[{\"name\": \"a\", \"data\": [9], \"scale\": -1.0},"
                              " {\"name\": \"bb\", \"data\": [], \"scale\": null}]",
                              "{\"x\": 0.5, \"y\": 1e300, \"tag\": 255}",
                              "{\"tag\": \"label\", \"val\": \"in memory\"}", "{\"err\": \"e\"}",
                              "[\"x1\", \"x33\"]", "[1, \"18446744073709551615\", 2.5, \"t\"]",
                              "\"z\"", "-1e-300"),
                         s),
        1);
    assert_true(s[0] % 8 == 0);
    roundtrip_params("spill",
                     ARGS("\"\"", "[]", "{\"x\": 0, \"y\": 0, \"tag\": 0}", "{\"tag\": \"none\"}",
                          "{\"ok\": null}", "[]", "[0, 0, 0, \"\"]", "\"\\u0000\"", "0"),
                     NULL);
    roundtrip_params("lists",
                     ARGS("[1, 2, 3]", "[\"18446744073709551615\", 0]",
                          "[{\"name\": \"n\", \"data\": [1], \"scale\": 2}]",
                          "[{\"x\": 1, \"y\": 2, \"tag\": 3}, {\"x\": 4, \"y\": 5, \"tag\": 6}]"),
                     NULL);
}

static void run_result_roundtrips(void)
{
    static const struct {
        const char *f, *json;
    } cases[] = {
        {"ret-u32", "0"},
        {"ret-u32", "4294967295"},
        {"ret-s8", "-128"},
        {"ret-s8", "127"},
        {"ret-s16", "-1"},
        {"ret-bool", "true"},
        {"ret-bool", "false"},
        {"ret-u64", "\"18446744073709551615\""},
        {"ret-s64", "\"-9223372036854775808\""},
        {"ret-f32", "-3.5"},
        {"ret-f32", "3.4028235e+38"},
        {"ret-f64", "1e-300"},
        {"ret-f64", "-0"},
        {"ret-char", "\"\xF4\x8F\xBF\xBF\""},
        {"ret-char", "\"A\""},
        {"ret-color", "\"green\""},
        {"ret-small", "[\"b\"]"},
        {"ret-mid", "[\"g1\", \"g10\"]"},
        {"ret-unit", "{\"ok\": null}"},
        {"ret-unit", "{\"err\": null}"},
        {"ret-string", "\"\""},
        {"ret-string", "\"h\xC3\xA9llo \xF0\x9F\x98\x80\""},
        {"ret-bytes", "[]"},
        {"ret-bytes", "[0, 128, 255]"},
        {"ret-chars", "[\"a\", \"\xC3\xA9\", \"\xF0\x9F\x98\x80\"]"},
        {"ret-point", "{\"x\": 1.5, \"y\": -2.25, \"tag\": 7}"},
        {"ret-item", "{\"name\": \"n\", \"data\": [1, 2], \"scale\": 0.25}"},
        {"ret-item", "{\"name\": \"\", \"data\": [], \"scale\": null}"},
        {"ret-items", "[]"},
        {"ret-items", "[{\"name\": \"a\", \"data\": [1], \"scale\": null}, "
                      "{\"name\": \"b\xC3\xA9\", \"data\": [2, 3], \"scale\": 1.5}]"},
        {"ret-shape", "{\"tag\": \"circle\", \"val\": -1.5}"},
        {"ret-shape", "{\"tag\": \"rect\", \"val\": [1, 2]}"},
        {"ret-shape", "{\"tag\": \"label\", \"val\": \"x\"}"},
        {"ret-shape", "{\"tag\": \"big\", \"val\": \"1234567890123456789\"}"},
        {"ret-shape", "{\"tag\": \"none\"}"},
        {"ret-opt", "null"},
        {"ret-opt", "2.5"},
        {"ret-opt-opt", "null"},
        {"ret-opt-opt", "{\"some\": null}"},
        {"ret-opt-opt", "{\"some\": 7}"},
        {"ret-res", "{\"ok\": 200}"},
        {"ret-res", "{\"err\": \"18446744073709551615\"}"},
        {"ret-err", "{\"ok\": null}"},
        {"ret-err", "{\"err\": \"failed\"}"},
        {"ret-wide", "[]"},
        {"ret-wide", "[\"x0\", \"x7\", \"x8\", \"x31\", \"x32\", \"x39\"]"},
        {"ret-tuple", "[255, \"18446744073709551615\", -0.5, \"s\"]"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        roundtrip_result(cases[k].f, cases[k].json);

    /* A function without a result: nothing lowered, nothing lifted. */
    const hv_wit_func_t *f = func(abi_iface(), "nothing");
    assert_int_equal(hv_abi_lower_result(&mem, f, NULL, 0xFFFFFFF0u, err, sizeof err), HV_OK);
    hv_value_t v;
    memset(&v, 0x5A, sizeof v);
    assert_int_equal(hv_abi_lift_result(&mem, f, 0xFFFFFFF0u, &arena, &v, err, sizeof err), HV_OK);
    assert_int_equal(((unsigned char *)&v)[0], 0x5A);
}

static void test_roundtrips(void **state)
{
    (void)state;
    fm_reset();
    run_param_roundtrips();
    fm_reset();
    run_result_roundtrips();
    assert_true(fm.nallocs > 0);
}

/* The same with a memory that moves on every guest allocation: the lowering
 * side must re-read the base after each (ASan catches stale pointers). */
static void test_roundtrips_moving_memory(void **state)
{
    (void)state;
    fm_reset();
    fm.move = 1;
    run_param_roundtrips();
    fm_reset();
    run_result_roundtrips();
    fm.move = 0;
}

static void test_nan_bits(void **state)
{
    (void)state;
    fm_reset();
    /* NaN payloads travel as bits (hv_value_equal calls any NaN equal, so
     * compare the bits themselves). */
    const hv_wit_func_t *f = func(abi_iface(), "ret-f32");
    uint32_t bits = 0x7FC01234u;
    hv_value_t v = {.type = f->result};
    memcpy(&v.f32, &bits, 4);
    assert_int_equal(hv_abi_lower_result(&mem, f, &v, 64, err, sizeof err), HV_OK);
    assert_int_equal(r32(64), bits);
    assert_int_equal(r32(68), 0);
    hv_value_t back;
    assert_int_equal(
        hv_abi_lift_result(&mem, f, 0xDEADBEEF00000000u | bits, &arena, &back, err, sizeof err),
        HV_OK);
    uint32_t got;
    memcpy(&got, &back.f32, 4);
    assert_int_equal(got, bits);
    assert_true(isnan(back.f32));
}

/* ---- exact bytes ------------------------------------------------------ */

static void test_record_bytes(void **state)
{
    (void)state;
    fm_reset();
    memset(fm.buf, 0xEE, ALLOC_END);
    /* point { x: f32 @0, y: f64 @8, tag: u8 @16 }, 24 bytes */
    uint32_t ret = roundtrip_result("ret-point", "{\"x\": 1.5, \"y\": 2.0, \"tag\": 7}");
    assert_int_equal(ret % 8, 0);
    static const uint8_t point[] = {0x00, 0x00, 0xC0, 0x3F, 0xEE, 0xEE, 0xEE, 0xEE, 0x00,
                                    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 7};
    assert_memory_equal(fm.buf + ret, point, sizeof point);
    assert_int_equal(fm.buf[ret + 24], 0xEE); /* nothing past the record */

    /* item { name: string @0, data: list<u8> @8, scale: option<f32> @16 (f32 @20) } */
    ret = roundtrip_result("ret-item", "{\"name\": \"h\xC3\xA9\", \"data\": [1, 2, 3], "
                                       "\"scale\": -2}");
    uint32_t name = r32(ret), data = r32(ret + 8);
    assert_int_equal(r32(ret + 4), 3);
    assert_memory_equal(fm.buf + name, "h\xC3\xA9", 3);
    assert_int_equal(r32(ret + 12), 3);
    assert_memory_equal(fm.buf + data, "\1\2\3", 3);
    assert_int_equal(fm.buf[ret + 16], 1);
    assert_int_equal(r32(ret + 20), 0xC0000000u);

    /* And the other way: hand-written bytes lift to the expected value. */
    const hv_wit_func_t *f = func(abi_iface(), "ret-item");
    uint32_t at = HOSTILE;
    w32(at, at + 64);
    w32(at + 4, 2);
    w32(at + 8, at + 80);
    w32(at + 12, 0);
    w8(at + 16, 0);
    w32(at + 20, 0x12345678); /* ignored: none */
    wbytes(at + 64, "ok", 2);
    hv_value_t v;
    assert_int_equal(hv_abi_lift_result(&mem, f, at, &arena, &v, err, sizeof err), HV_OK);
    char *json = hv_value_to_json(&v);
    assert_string_equal(json, "{\"name\":\"ok\",\"data\":[],\"scale\":null}");
    free(json);

    /* A record with a 2-byte enum: e @0 (u16 discriminant), x @2, 4 bytes */
    char *e257 = many("enum", "e", "c", 257), *body = NULL;
    assert_true(asprintf(&body, "%s\nrecord r { e: e, x: u8, y: u8 }\nget: func() -> r;", e257) >
                0);
    const hv_wit_func_t *g = func(iface_of(body), "get");
    free(body);
    free(e257);
    assert_int_equal(hv_abi_size(g->result), 4);
    assert_int_equal(hv_abi_flat_results(g), 3);
    w16(at, 256);
    w8(at + 2, 7);
    w8(at + 3, 8);
    assert_int_equal(hv_abi_lift_result(&mem, g, at, &arena, &v, err, sizeof err), HV_OK);
    json = hv_value_to_json(&v);
    assert_string_equal(json, "{\"e\":\"c256\",\"x\":7,\"y\":8}");
    free(json);
    w16(at, 257);
    assert_int_equal(hv_abi_lift_result(&mem, g, at, &arena, &v, err, sizeof err), HV_EINVAL);
    assert_string_equal(err, "get: result.e: discriminant 257 out of range (257 cases)");
    /* lowering writes both discriminant bytes */
    hv_value_t rv = parse_value(g->result, "{\"e\": \"c256\", \"x\": 1, \"y\": 2}");
    assert_int_equal(hv_abi_lower_result(&mem, g, &rv, at + 8, err, sizeof err), HV_OK);
    static const uint8_t rbytes[] = {0x00, 0x01, 1, 2};
    assert_memory_equal(fm.buf + at + 8, rbytes, 4);
}

static void test_variant_bytes(void **state)
{
    (void)state;
    fm_reset();
    memset(fm.buf, 0xEE, ALLOC_END);
    /* shape: u8 discriminant @0, payload @8 (u64 is the most aligned case), 16 bytes */
    const hv_wit_func_t *f = func(abi_iface(), "ret-shape");
    assert_int_equal(hv_abi_size(f->result), 16);
    assert_int_equal(hv_abi_align(f->result), 8);
    uint32_t ret = roundtrip_result("ret-shape", "{\"tag\": \"rect\", \"val\": [3, 4]}");
    static const uint8_t rect[] = {1, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE,
                                   3, 0,    0,    0,    4,    0,    0,    0};
    assert_memory_equal(fm.buf + ret, rect, sizeof rect);
    ret = roundtrip_result("ret-shape", "{\"tag\": \"big\", \"val\": \"72623859790382856\"}");
    static const uint8_t big[] = {3, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE,
                                  8, 7,    6,    5,    4,    3,    2,    1};
    assert_memory_equal(fm.buf + ret, big, sizeof big);
    ret = roundtrip_result("ret-shape", "{\"tag\": \"label\", \"val\": \"abc\"}");
    assert_int_equal(fm.buf[ret], 2);
    assert_int_equal(r32(ret + 12), 3);
    assert_memory_equal(fm.buf + r32(ret + 8), "abc", 3);
    ret = roundtrip_result("ret-shape", "{\"tag\": \"none\"}");
    assert_int_equal(fm.buf[ret], 4);
    assert_int_equal(fm.buf[ret + 8], 0xEE); /* no payload written */

    /* result<u8, u64>: discriminant @0, payload @8 */
    ret = roundtrip_result("ret-res", "{\"ok\": 171}");
    assert_int_equal(fm.buf[ret], 0);
    assert_int_equal(fm.buf[ret + 8], 171);
    /* option<f64> */
    ret = roundtrip_result("ret-opt", "2.0");
    static const uint8_t opt[] = {1, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE,
                                  0, 0,    0,    0,    0,    0,    0,    0x40};
    assert_memory_equal(fm.buf + ret, opt, sizeof opt);

    /* Flat results travel in a slot written at ret: discriminant/flags in the low half. */
    ret = roundtrip_result("ret-color", "\"blue\"");
    assert_true(r32(ret) == 2 && r32(ret + 4) == 0);
    ret = roundtrip_result("ret-mid", "[\"g0\", \"g9\"]");
    assert_true(r32(ret) == 0x201 && r32(ret + 4) == 0);
    ret = roundtrip_result("ret-s8", "-2");
    assert_true(r32(ret) == 0xFFFFFFFEu && r32(ret + 4) == 0);

    /* Flags in memory: bits past the last flag are dropped; 12 flags in 2 bytes. */
    const hv_wit_func_t *w = func(abi_iface(), "ret-wide");
    w32(HOSTILE, 0xFFFFFFFFu);
    w32(HOSTILE + 4, 0xFFFFFFFFu);
    hv_value_t v;
    assert_int_equal(hv_abi_lift_result(&mem, w, HOSTILE, &arena, &v, err, sizeof err), HV_OK);
    assert_int_equal(v.flags.words[0], 0xFFFFFFFFu);
    assert_int_equal(v.flags.words[1], 0xFF);
    const hv_wit_func_t *m = func(abi_iface(), "ret-mid");
    assert_int_equal(hv_abi_lift_result(&mem, m, 0xFFFFFFFFFFFFFFFFu, &arena, &v, err, sizeof err),
                     HV_OK);
    assert_int_equal(v.flags.words[0], 0xFFF);
    /* Upper halves of i32 slots are ignored on lift. */
    const hv_wit_func_t *u = func(abi_iface(), "ret-u32");
    assert_int_equal(hv_abi_lift_result(&mem, u, 0xFFFFFFFF00000005u, &arena, &v, err, sizeof err),
                     HV_OK);
    assert_int_equal(v.u, 5);
    const hv_wit_func_t *c = func(abi_iface(), "ret-color");
    assert_int_equal(hv_abi_lift_result(&mem, c, 0x0000000100000001u, &arena, &v, err, sizeof err),
                     HV_OK);
    assert_int_equal(v.var.tag, 1);
    /* bool: any non-zero byte or i32 is true */
    const hv_wit_func_t *b = func(abi_iface(), "ret-bool");
    assert_int_equal(hv_abi_lift_result(&mem, b, 0x100000000u, &arena, &v, err, sizeof err), HV_OK);
    assert_false(v.b);
    assert_int_equal(hv_abi_lift_result(&mem, b, 0x80000000u, &arena, &v, err, sizeof err), HV_OK);
    assert_true(v.b);
}

/* ---- hostile input ------------------------------------------------------ */

/* rc is HV_EINVAL and err starts with prefix. */
static void check_fail(int rc, const char *prefix)
{
    if (rc != HV_EINVAL)
        fail_msg("expected HV_EINVAL (\"%s...\"), got %s: %s", prefix, hv_err_name(rc),
                 rc ? err : "");
    if (strncmp(err, prefix, strlen(prefix)) != 0)
        fail_msg("error \"%s\" does not start with \"%s\"", err, prefix);
}

static int lift(const char *fname, const uint64_t *slots, size_t n)
{
    hv_value_t *args = NULL;
    err[0] = '\0';
    return hv_abi_lift_params(&mem, func(abi_iface(), fname), slots, n, &arena, &args, err,
                              sizeof err);
}

static int lift_res(const char *fname, uint64_t slot)
{
    hv_value_t v;
    err[0] = '\0';
    return hv_abi_lift_result(&mem, func(abi_iface(), fname), slot, &arena, &v, err, sizeof err);
}

#define LIFT(fname, ...)                                                                           \
    lift(fname, (const uint64_t[]){__VA_ARGS__},                                                   \
         sizeof((const uint64_t[]){__VA_ARGS__}) / sizeof(uint64_t))

/* Writes a string's bytes at addr and lifts g(s) on them. */
static int lift_str(const char *bytes, size_t n)
{
    wbytes(HOSTILE, bytes, n);
    return LIFT("g", HOSTILE, n);
}

static void test_hostile_strings(void **state)
{
    (void)state;
    fm_reset();
    check_fail(LIFT("g", 65530, 100),
               "g: s: string out of bounds (ptr 0xfffa, len 100, memory 65536 bytes)");
    check_fail(LIFT("g", 0xFFFFFFFFu, 1), "g: s: string out of bounds (ptr 0xffffffff, len 1,");
    check_fail(LIFT("g", 0xFFFFFFFFu, 0xFFFFFFFFu), "g: s: string out of bounds");
    check_fail(LIFT("g", 1, 0xFFFFFFFFu), "g: s: string out of bounds");
    check_fail(LIFT("g", MEM_SIZE + 1, 0), "g: s: string out of bounds");
    /* the last byte, and an empty string right at the end, are fine */
    w8(MEM_SIZE - 1, 'x');
    assert_int_equal(LIFT("g", MEM_SIZE - 1, 1), HV_OK);
    assert_int_equal(LIFT("g", MEM_SIZE, 0), HV_OK);
    /* upper halves of the slots are ignored */
    assert_int_equal(LIFT("g", 0xABCD000000000000u | (MEM_SIZE - 1), 0xFFFFFFFF00000001u), HV_OK);

    /* valid UTF-8 at every length, including U+0000, U+FFFF and U+10FFFF */
    assert_int_equal(lift_str("a\0\xC2\x80\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBF\xF0\x90\x80\x80"
                              "\xF4\x8F\xBF\xBF\xED\x9F\xBF\xEE\x80\x80",
                              26),
                     HV_OK);
    /* overlong forms */
    check_fail(lift_str("a\xC0\x80", 3), "g: s: string is not valid UTF-8 (byte 1 of 3)");
    check_fail(lift_str("\xC1\xBF", 2), "g: s: string is not valid UTF-8 (byte 0 of 2)");
    check_fail(lift_str("ab\xE0\x80\x80", 5), "g: s: string is not valid UTF-8 (byte 2 of 5)");
    check_fail(lift_str("\xE0\x9F\xBF", 3), "g: s: string is not valid UTF-8 (byte 0 of 3)");
    check_fail(lift_str("\xF0\x8F\xBF\xBF", 4), "g: s: string is not valid UTF-8 (byte 0 of 4)");
    /* surrogates encoded in UTF-8 (CESU) */
    check_fail(lift_str("x\xED\xA0\x80", 4), "g: s: string is not valid UTF-8 (byte 1 of 4)");
    check_fail(lift_str("\xED\xBF\xBF", 3), "g: s: string is not valid UTF-8 (byte 0 of 3)");
    /* truncated sequences, at the end and before an ASCII byte */
    check_fail(lift_str("abc\xE2\x82", 5), "g: s: string is not valid UTF-8 (byte 3 of 5)");
    check_fail(lift_str("\xF0\x9F\x98", 3), "g: s: string is not valid UTF-8 (byte 0 of 3)");
    check_fail(lift_str("\xC3", 1), "g: s: string is not valid UTF-8 (byte 0 of 1)");
    check_fail(lift_str("\xE2\x82z", 3), "g: s: string is not valid UTF-8 (byte 0 of 3)");
    /* the end of the string is the end: a continuation just past it does not count */
    wbytes(HOSTILE, "\xC3\xA9", 2);
    check_fail(LIFT("g", HOSTILE, 1), "g: s: string is not valid UTF-8 (byte 0 of 1)");
    /* past U+10FFFF and bytes that never appear */
    check_fail(lift_str("\xF4\x90\x80\x80", 4), "g: s: string is not valid UTF-8 (byte 0 of 4)");
    check_fail(lift_str("\xF5\x80\x80\x80", 4), "g: s: string is not valid UTF-8 (byte 0 of 4)");
    check_fail(lift_str("\xF8\x88\x80\x80\x80", 5), "g: s: string is not valid UTF-8");
    check_fail(lift_str("\xFF", 1), "g: s: string is not valid UTF-8 (byte 0 of 1)");
    /* a lone continuation byte */
    check_fail(lift_str("ok\x80", 3), "g: s: string is not valid UTF-8 (byte 2 of 3)");

    /* in a result: the path names the result */
    w32(HOSTILE + 64, HOSTILE + 128);
    w32(HOSTILE + 68, 2);
    wbytes(HOSTILE + 128, "\xED\xB0", 2);
    check_fail(lift_res("ret-string", HOSTILE + 64),
               "ret-string: result: string is not valid UTF-8 (byte 0 of 2)");
    w32(HOSTILE + 64, 0xFFFF0000u);
    check_fail(lift_res("ret-string", HOSTILE + 64), "ret-string: result: string out of bounds");
}

static void test_hostile_lists(void **state)
{
    (void)state;
    fm_reset();
    /* out of bounds, and lengths whose byte size passes 4 GiB: 0x0AAAAAAB
     * items of 24 bytes is 0x1_0000_0008 bytes (8 in 32-bit arithmetic) */
    check_fail(LIFT("lists", HOSTILE, 0x4000, 0, 0, 0, 0, 0, 0),
               "lists: a: list out of bounds (ptr 0x8000, 16384 elements of 4 bytes, memory "
               "65536 bytes)");
    check_fail(LIFT("lists", 0, 0, HOSTILE, 0x20000000, 0, 0, 0, 0),
               "lists: b: list out of bounds (ptr 0x8000, 536870912 elements of 8 bytes");
    check_fail(LIFT("lists", 0, 0, 0, 0, HOSTILE, 0x0AAAAAABu, 0, 0),
               "lists: c: list out of bounds (ptr 0x8000, 178956971 elements of 24 bytes");
    check_fail(LIFT("lists", 0, 0, 0, 0, 8, 0xFFFFFFFFu, 0, 0), "lists: c: list out of bounds");
    check_fail(LIFT("lists", 0, 0, 0, 0, 0, 0, 0xFFFFFFF8u, 1), "lists: d: list out of bounds");
    /* misaligned list pointers */
    check_fail(LIFT("lists", HOSTILE + 1, 1, 0, 0, 0, 0, 0, 0),
               "lists: a: misaligned list pointer 0x8001 (element alignment 4)");
    check_fail(LIFT("lists", 0, 0, HOSTILE + 4, 1, 0, 0, 0, 0),
               "lists: b: misaligned list pointer 0x8004 (element alignment 8)");
    check_fail(LIFT("lists", 0, 0, 0, 0, HOSTILE + 2, 0, 0, 0),
               "lists: c: misaligned list pointer 0x8002 (element alignment 4)");
    check_fail(LIFT("lists", 0, 0, 0, 0, 0, 0, HOSTILE + 12, 1),
               "lists: d: misaligned list pointer 0x800c (element alignment 8)");
    /* empty lists at any aligned address, even past the end */
    assert_int_equal(LIFT("lists", MEM_SIZE, 0, 0, 0, 0, 0, 0, 0), HV_OK);
    /* list<u8> has no alignment */
    wbytes(HOSTILE + 3, "\1\2", 2);
    assert_int_equal(LIFT("seqs", 0, 0, HOSTILE + 3, 2, 0, 0, 0, 0), HV_OK);
    check_fail(LIFT("seqs", 0, 0, HOSTILE + 3, MEM_SIZE, 0, 0, 0, 0),
               "seqs: b: list out of bounds");
}

/* list<item> at HOSTILE with two items; item 1's name is bad. */
static void two_items(void)
{
    uint32_t at = HOSTILE;
    for (uint32_t k = 0; k < 2; k++) {
        uint32_t it = at + 24 * k;
        w32(it, at + 0x100);
        w32(it + 4, 3);
        w32(it + 8, at + 0x200);
        w32(it + 12, 4);
        w8(it + 16, 1);
        w32(it + 20, 0x3F800000u);
    }
    wbytes(at + 0x100, "abc", 3);
    wbytes(at + 0x200, "\1\2\3\4", 4);
}

static void test_hostile_nested(void **state)
{
    (void)state;
    fm_reset();
    two_items();
    assert_int_equal(LIFT("f", HOSTILE, 2), HV_OK);
    w32(HOSTILE + 24, 0xFFFFFF00u);
    check_fail(LIFT("f", HOSTILE, 2),
               "f: v[1].name: string out of bounds (ptr 0xffffff00, len 3, memory 65536 bytes)");
    two_items();
    w32(HOSTILE + 12, 0xFFFFFFFFu);
    check_fail(LIFT("f", HOSTILE, 2), "f: v[0].data: list out of bounds");
    two_items();
    w8(HOSTILE + 24 + 16, 2);
    check_fail(LIFT("f", HOSTILE, 2), "f: v[1].scale: discriminant 2 out of range (2 cases)");
    two_items();
    wbytes(HOSTILE + 0x100, "a\xFF", 2);
    check_fail(LIFT("f", HOSTILE, 2), "f: v[0].name: string is not valid UTF-8 (byte 1 of 3)");
    /* the list itself reaching past memory */
    two_items();
    check_fail(LIFT("f", MEM_SIZE - 24, 2), "f: v: list out of bounds");

    /* in a result: list<item> at a pointer, item 1 bad */
    two_items();
    w32(HOSTILE + 0x300, HOSTILE);
    w32(HOSTILE + 0x304, 2);
    assert_int_equal(lift_res("ret-items", HOSTILE + 0x300), HV_OK);
    w8(HOSTILE + 24 + 16, 7);
    check_fail(lift_res("ret-items", HOSTILE + 0x300),
               "ret-items: result[1].scale: discriminant 7 out of range (2 cases)");

    /* spilled params: the path names the parameter and the field */
    const hv_wit_func_t *s = func(abi_iface(), "spill");
    hv_value_t *args = hv_arena_alloc(&arena, s->nparams * sizeof *args);
    static const char *const vals[] = {"\"s\"",
                                       "[{\"name\": \"a\", \"data\": [], \"scale\": null}]",
                                       "{\"x\": 0, \"y\": 0, \"tag\": 0}",
                                       "{\"tag\": \"none\"}",
                                       "{\"ok\": null}",
                                       "[]",
                                       "[0, 0, 0, \"t\"]",
                                       "\"c\"",
                                       "0"};
    for (size_t k = 0; k < s->nparams; k++)
        args[k] = parse_value(s->params[k].type, vals[k]);
    uint64_t slots[HV_ABI_MAX_FLAT_PARAMS];
    size_t n;
    assert_int_equal(hv_abi_lower_params(&mem, s, args, slots, &n, err, sizeof err), HV_OK);
    assert_int_equal(n, 1);
    assert_int_equal(lift("spill", slots, 1), HV_OK);
    /* items is at +8: point its one item's name past memory */
    uint32_t items = r32((uint32_t)slots[0] + 8);
    w32(items, MEM_SIZE);
    w32(items + 4, 1);
    check_fail(lift("spill", slots, 1), "spill: items[0].name: string out of bounds");
    w32(items + 4, 0);
    /* s@0 items@8 p@16 sh@40 r@56 w@68 t@80 c@112 y@120: t's string is
     * its element 3, at +20 */
    uint32_t t = (uint32_t)slots[0] + 80;
    w32(t + 20, 0xFFFFFFF0u);
    check_fail(lift("spill", slots, 1), "spill: t[3]: string out of bounds");
}

static void test_hostile_discriminants_and_chars(void **state)
{
    (void)state;
    fm_reset();
    /* in slots */
    check_fail(LIFT("h", 5, 0, 0, 'a'), "h: s: discriminant 5 out of range (5 cases)");
    check_fail(LIFT("h", 0xFFFFFFFFu, 0, 0, 'a'),
               "h: s: discriminant 4294967295 out of range (5 cases)");
    assert_int_equal(LIFT("h", 0xFFFFFFFF00000004u, 0, 0, 'a'), HV_OK); /* upper half ignored */
    check_fail(LIFT("variants", 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0),
               "variants: c: discriminant 3 out of range (3 cases)");
    check_fail(LIFT("variants", 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0),
               "variants: o: discriminant 2 out of range (2 cases)");
    check_fail(LIFT("variants", 0, 0, 0, 0, 1, 9, 0, 0, 0, 0, 0, 0),
               "variants: o: discriminant 9 out of range (2 cases)");
    check_fail(LIFT("variants", 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0),
               "variants: r: discriminant 2 out of range (2 cases)");
    check_fail(LIFT("variants", 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, HOSTILE, 0xFFFFFFFFu),
               "variants: u: string out of bounds");
    /* a payload's string is only looked at in its own case */
    assert_int_equal(LIFT("variants", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, HOSTILE, 0xFFFFFFFFu), HV_OK);
    check_fail(lift_res("ret-color", 3),
               "ret-color: result: discriminant 3 out of range (3 cases)");
    check_fail(lift_res("ret-unit", 2), "ret-unit: result: discriminant 2 out of range (2 cases)");

    /* in memory */
    w8(HOSTILE, 5);
    check_fail(lift_res("ret-shape", HOSTILE),
               "ret-shape: result: discriminant 5 out of range (5 cases)");
    w8(HOSTILE, 0xFF);
    check_fail(lift_res("ret-opt", HOSTILE), "ret-opt: result: discriminant 255 out of range");
    w8(HOSTILE, 1);
    w8(HOSTILE + 4, 2);
    check_fail(lift_res("ret-opt-opt", HOSTILE),
               "ret-opt-opt: result: discriminant 2 out of range (2 cases)");
    w8(HOSTILE, 3);
    check_fail(lift_res("ret-err", HOSTILE), "ret-err: result: discriminant 3 out of range");

    /* chars: surrogates and values past U+10FFFF, in slots and in memory */
    check_fail(LIFT("h", 4, 0, 0, 0xD800), "h: c: invalid char U+D800");
    check_fail(LIFT("h", 4, 0, 0, 0xDFFF), "h: c: invalid char U+DFFF");
    check_fail(LIFT("h", 4, 0, 0, 0x110000), "h: c: invalid char U+110000");
    check_fail(LIFT("h", 4, 0, 0, 0xFFFFFFFFu), "h: c: invalid char U+FFFFFFFF");
    assert_int_equal(LIFT("h", 4, 0, 0, 0x10FFFF), HV_OK);
    assert_int_equal(LIFT("h", 4, 0, 0, 0xFFFFFFFF0000E000u), HV_OK);
    check_fail(lift_res("ret-char", 0xD812), "ret-char: result: invalid char U+D812");
    w32(HOSTILE + 0x40, HOSTILE + 0x80);
    w32(HOSTILE + 0x44, 3);
    w32(HOSTILE + 0x80, 'a');
    w32(HOSTILE + 0x84, 0x10FFFF);
    w32(HOSTILE + 0x88, 0x7FFFFFFF);
    check_fail(lift_res("ret-chars", HOSTILE + 0x40),
               "ret-chars: result[2]: invalid char U+7FFFFFFF");
}

static void test_hostile_pointers_and_slots(void **state)
{
    (void)state;
    fm_reset();
    /* misaligned and out-of-bounds record/variant pointers (results in memory) */
    check_fail(lift_res("ret-point", HOSTILE + 4),
               "ret-point: result: misaligned pointer 0x8004 (alignment 8)");
    check_fail(lift_res("ret-item", HOSTILE + 2),
               "ret-item: result: misaligned pointer 0x8002 (alignment 4)");
    check_fail(lift_res("ret-shape", HOSTILE + 1),
               "ret-shape: result: misaligned pointer 0x8001 (alignment 8)");
    check_fail(lift_res("ret-point", MEM_SIZE - 16),
               "ret-point: result: pointer 0xfff0 + 24 bytes out of bounds (memory 65536 bytes)");
    check_fail(lift_res("ret-string", 0xFFFFFFF8u), "ret-string: result: pointer 0xfffffff8 + 8");
    check_fail(lift_res("ret-wide", 0xFFFFFFFCu), "ret-wide: result: pointer 0xfffffffc + 8");
    /* upper half of a pointer slot is ignored */
    two_items();
    w32(HOSTILE + 0x300, HOSTILE);
    w32(HOSTILE + 0x304, 1);
    assert_int_equal(lift_res("ret-items", 0xFFFFFFFF00000000u | (HOSTILE + 0x300)), HV_OK);
    /* a misaligned record in a list: the list pointer is checked */
    check_fail(LIFT("nested", 0, 0, 0, HOSTILE + 2, 1), "nested: items: misaligned list pointer");

    /* spilled params: the tuple's address */
    check_fail(LIFT("seventeen", HOSTILE + 2),
               "seventeen: a1: misaligned pointer 0x8002 (alignment 4)");
    check_fail(LIFT("seventeen", MEM_SIZE - 64),
               "seventeen: a17: pointer 0x10000 + 1 bytes out of bounds");
    check_fail(LIFT("seventeen", 0xFFFFFFFCu), "seventeen: a1: pointer 0xfffffffc + 4 bytes");
    memset(fm.buf + HOSTILE, 0, 4096);
    check_fail(LIFT("spill", MEM_SIZE - 8), "spill: items: pointer 0x10000 + 8 bytes");
    w32(HOSTILE, 0xFFFF0000u);
    w32(HOSTILE + 4, 1);
    check_fail(LIFT("spill", HOSTILE), "spill: s: string out of bounds (ptr 0xffff0000, len 1");
    memset(fm.buf + HOSTILE, 0, 4096);
    assert_int_equal(LIFT("spill", HOSTILE), HV_OK);
    check_fail(LIFT("spill", HOSTILE + 4), "spill: p: misaligned pointer 0x8014 (alignment 8)");

    /* wrong slot counts */
    check_fail(LIFT("g", HOSTILE), "g: expected 2 argument slots, got 1");
    check_fail(LIFT("g", HOSTILE, 0, 0), "g: expected 2 argument slots, got 3");
    check_fail(lift("prims", NULL, 0), "prims: expected 12 argument slots, got 0");
    check_fail(LIFT("sixteen", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
               "sixteen: expected 16 argument slots, got 15");
    check_fail(LIFT("seventeen", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17),
               "seventeen: expected 1 argument slot (params in memory), got 17");
    check_fail(lift("seventeen", NULL, 0),
               "seventeen: expected 1 argument slot (params in memory), got 0");
    check_fail(LIFT("nothing", 0), "nothing: expected 0 argument slots, got 1");
    assert_int_equal(lift("nothing", NULL, 0), HV_OK);

    /* *ret is untouched by a failed lift_result */
    hv_value_t v;
    memset(&v, 0xA5, sizeof v);
    assert_int_equal(hv_abi_lift_result(&mem, func(abi_iface(), "ret-char"), 0xD800, &arena, &v,
                                        err, sizeof err),
                     HV_EINVAL);
    for (size_t k = 0; k < sizeof v; k++)
        assert_int_equal(((unsigned char *)&v)[k], 0xA5);

    /* a tiny error buffer still gets a NUL-terminated prefix */
    char tiny[6];
    hv_value_t *args;
    assert_int_equal(hv_abi_lift_params(&mem, func(abi_iface(), "g"),
                                        (const uint64_t[]){0, 1u << 20}, 2, &arena, &args, tiny,
                                        sizeof tiny),
                     HV_EINVAL);
    assert_string_equal(tiny, "g: s:");

    /* a guest with no memory at all */
    uint8_t *saved = fm.buf;
    size_t saved_size = fm.size;
    fm.buf = NULL;
    fm.size = 0;
    check_fail(LIFT("g", 0, 1), "g: s: string out of bounds");
    assert_int_equal(LIFT("g", 0, 0), HV_OK);
    fm.buf = saved;
    fm.size = saved_size;
}

static void test_lift_limit(void **state)
{
    (void)state;
    fm_reset();
    /* the caller's arena caps what one call may take: HV_ETOOBIG */
    hv_arena_t small;
    hv_arena_init(&small, 4096);
    hv_value_t *args;
    memset(fm.buf + HOSTILE, 'a', 8192);
    int rc = hv_abi_lift_params(&mem, func(abi_iface(), "g"), (const uint64_t[]){HOSTILE, 8192}, 2,
                                &small, &args, err, sizeof err);
    assert_int_equal(rc, HV_ETOOBIG);
    assert_string_equal(err, "g: s: values exceed 64 MiB");
    hv_arena_free(&small);
    /* many list elements pointing at the same string: bounded by the arena */
    hv_arena_init(&small, 64u << 10);
    memset(fm.buf + HOSTILE + 0x4000, 'b', 8192);
    for (uint32_t k = 0; k < 1024; k++) {
        w32(HOSTILE + 8 * k, HOSTILE + 0x4000);
        w32(HOSTILE + 8 * k + 4, 8192);
    }
    rc = hv_abi_lift_params(&mem, func(abi_iface(), "seqs"),
                            (const uint64_t[]){0, 0, 0, 0, HOSTILE, 1024, 0, 0}, 8, &small, &args,
                            err, sizeof err);
    assert_int_equal(rc, HV_ETOOBIG);
    if (strncmp(err, "seqs: l[", 8) != 0 || !strstr(err, "]: values exceed 64 MiB"))
        fail_msg("unexpected error %s", err);
    assert_true(small.total <= (64u << 10));
    hv_arena_free(&small);
}

static void test_lower_errors(void **state)
{
    (void)state;
    fm_reset();
    const hv_wit_func_t *p = func(abi_iface(), "ret-point");
    hv_value_t v = parse_value(p->result, "{\"x\": 1, \"y\": 2, \"tag\": 3}");
    check_fail(hv_abi_lower_result(&mem, p, &v, HOSTILE + 4, err, sizeof err),
               "ret-point: result: misaligned return pointer 0x8004 (alignment 8)");
    check_fail(hv_abi_lower_result(&mem, p, &v, MEM_SIZE - 16, err, sizeof err),
               "ret-point: result: guest address 0xfff0 + 24 out of bounds");
    check_fail(hv_abi_lower_result(&mem, p, &v, 0xFFFFFFF8u, err, sizeof err),
               "ret-point: result: guest address 0xfffffff8 + 24 out of bounds");
    const hv_wit_func_t *u = func(abi_iface(), "ret-u32");
    hv_value_t x = parse_value(u->result, "7");
    check_fail(hv_abi_lower_result(&mem, u, &x, MEM_SIZE - 4, err, sizeof err),
               "ret-u32: result: guest address 0xfffc + 8 out of bounds");
    check_fail(hv_abi_lower_result(&mem, u, &x, 0xFFFFFFFCu, err, sizeof err),
               "ret-u32: result: guest address 0xfffffffc + 8 out of bounds");
    /* nothing was written: the edge of memory is still zero */
    for (uint32_t k = MEM_SIZE - 32; k < MEM_SIZE; k++)
        assert_int_equal(fm.buf[k], 0);
    const hv_wit_func_t *s = func(abi_iface(), "ret-string");
    hv_value_t str = parse_value(s->result, "\"abc\"");
    check_fail(hv_abi_lower_result(&mem, s, &str, HOSTILE + 2, err, sizeof err),
               "ret-string: result: misaligned return pointer 0x8002 (alignment 4)");
    check_fail(hv_abi_lower_result(&mem, s, &str, MEM_SIZE - 4, err, sizeof err),
               "ret-string: result: guest address 0xfffc + 8 out of bounds");

    /* the guest's allocator failing */
    fm.fail = 1;
    int rc = hv_abi_lower_result(&mem, s, &str, HOSTILE, err, sizeof err);
    assert_int_equal(rc, HV_ENOMEM);
    assert_string_equal(err,
                        "ret-string: result: guest allocation of 3 bytes failed: out of memory");
    const hv_wit_func_t *n = func(abi_iface(), "nested");
    hv_value_t args[2] = {
        parse_value(n->params[0].type, "{\"x\": 1, \"y\": 2, \"tag\": 3}"),
        parse_value(n->params[1].type, "[{\"name\": \"a\", \"data\": [1], \"scale\": null}]")};
    uint64_t slots[HV_ABI_MAX_FLAT_PARAMS];
    size_t ns;
    rc = hv_abi_lower_params(&mem, n, args, slots, &ns, err, sizeof err);
    assert_int_equal(rc, HV_ENOMEM);
    assert_string_equal(err, "nested: items: guest allocation of 24 bytes failed: out of memory");
    fm.fail = 0;
    fm_reset();

    /* malformed host values are refused, not written */
    const hv_wit_func_t *sh = func(abi_iface(), "ret-shape");
    hv_value_t bad = {.type = sh->result};
    bad.var.tag = 9;
    check_fail(hv_abi_lower_result(&mem, sh, &bad, HOSTILE, err, sizeof err),
               "ret-shape: result: case 9 out of range");
    bad.var.tag = 0; /* circle without its payload */
    check_fail(hv_abi_lower_result(&mem, sh, &bad, HOSTILE, err, sizeof err),
               "ret-shape: result: case 0 payload mismatch");
}

/* An allocator that returns blocks outside memory: lowering must notice. */
static int bad_alloc(void *ctx, uint32_t size, uint32_t align, uint32_t *ret)
{
    (void)ctx;
    (void)size;
    (void)align;
    *ret = MEM_SIZE - 2;
    return HV_OK;
}

static void test_lower_bad_allocator(void **state)
{
    (void)state;
    fm_reset();
    const hv_abi_mem_t badmem = {fm_memory, bad_alloc, &fm};
    const hv_wit_func_t *s = func(abi_iface(), "ret-string");
    hv_value_t str = parse_value(s->result, "\"abcdef\"");
    check_fail(hv_abi_lower_result(&badmem, s, &str, HOSTILE, err, sizeof err),
               "ret-string: result: guest address 0xfffe + 6 out of bounds");
    const hv_wit_func_t *it = func(abi_iface(), "ret-items");
    hv_value_t items =
        parse_value(it->result, "[{\"name\": \"a\", \"data\": [1], \"scale\": null}]");
    check_fail(hv_abi_lower_result(&badmem, it, &items, HOSTILE, err, sizeof err),
               "ret-items: result[0]: guest address 0xfffe + 24 out of bounds");
    for (uint32_t k = MEM_SIZE - 32; k < MEM_SIZE; k++)
        assert_int_equal(fm.buf[k], 0);
}

/* ---- setup ------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    hv_arena_init(&arena, 0);
    fm.size = MEM_SIZE;
    fm.buf = calloc(1, MEM_SIZE);
    return fm.buf ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    hv_arena_free(&arena);
    for (size_t i = 0; i < ndocs; i++)
        hv_wit_free(docs[i]);
    ndocs = 0;
    free(fm.buf);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_primitives),
        cmocka_unit_test(test_records_and_tuples),
        cmocka_unit_test(test_options_results_variants),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_flat_params_and_results),
        cmocka_unit_test(test_roundtrips),
        cmocka_unit_test(test_roundtrips_moving_memory),
        cmocka_unit_test(test_nan_bits),
        cmocka_unit_test(test_record_bytes),
        cmocka_unit_test(test_variant_bytes),
        cmocka_unit_test(test_hostile_strings),
        cmocka_unit_test(test_hostile_lists),
        cmocka_unit_test(test_hostile_nested),
        cmocka_unit_test(test_hostile_discriminants_and_chars),
        cmocka_unit_test(test_hostile_pointers_and_slots),
        cmocka_unit_test(test_lift_limit),
        cmocka_unit_test(test_lower_errors),
        cmocka_unit_test(test_lower_bad_allocator),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * WIT values <-> JSON: exact text for every kind, round trips, and the
 * reader's errors (path and reason). Types are built by hand so these tests
 * do not depend on the WIT parser.
 */
#define _GNU_SOURCE
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hv_value.h"

/* ---- types ------------------------------------------------------------- */

#define PRIM(id, k) static const hv_wit_type_t id = {.kind = k}
PRIM(T_BOOL, HV_WIT_BOOL);
PRIM(T_S8, HV_WIT_S8);
PRIM(T_U8, HV_WIT_U8);
PRIM(T_S16, HV_WIT_S16);
PRIM(T_U16, HV_WIT_U16);
PRIM(T_S32, HV_WIT_S32);
PRIM(T_U32, HV_WIT_U32);
PRIM(T_S64, HV_WIT_S64);
PRIM(T_U64, HV_WIT_U64);
PRIM(T_F32, HV_WIT_F32);
PRIM(T_F64, HV_WIT_F64);
PRIM(T_CHAR, HV_WIT_CHAR);
PRIM(T_STRING, HV_WIT_STRING);

static const hv_wit_type_t T_BYTES = {.kind = HV_WIT_LIST, .elem = &T_U8};
static const hv_wit_type_t T_STRINGS = {.kind = HV_WIT_LIST, .elem = &T_STRING};
static const hv_wit_type_t T_OPT_F32 = {.kind = HV_WIT_OPTION, .elem = &T_F32};
static const hv_wit_type_t T_OPT_U32 = {.kind = HV_WIT_OPTION, .elem = &T_U32};
static const hv_wit_type_t T_OPT_OPT_U32 = {.kind = HV_WIT_OPTION, .elem = &T_OPT_U32};

/* record measurement { label: string, raw: list<u8>, scale: option<f32> } */
static const hv_wit_field_t measurement_fields[] = {
    {"label", &T_STRING, NULL}, {"raw", &T_BYTES, NULL}, {"scale", &T_OPT_F32, NULL}};
static const hv_wit_type_t T_MEASUREMENT = {
    .kind = HV_WIT_RECORD, .name = "measurement", .nfields = 3, .fields = measurement_fields};
static const hv_wit_type_t T_MEASUREMENTS = {.kind = HV_WIT_LIST, .elem = &T_MEASUREMENT};

/* record reading { sensor-id: u32, items: list<measurement> } */
static const hv_wit_field_t reading_fields[] = {{"sensor-id", &T_U32, NULL},
                                                {"items", &T_MEASUREMENTS, NULL}};
static const hv_wit_type_t T_READING = {
    .kind = HV_WIT_RECORD, .name = "reading", .nfields = 2, .fields = reading_fields};

/* tuple<u32, u32>, tuple<u32, string, bool> */
static const hv_wit_field_t pair_fields[] = {{NULL, &T_U32, NULL}, {NULL, &T_U32, NULL}};
static const hv_wit_type_t T_PAIR = {.kind = HV_WIT_TUPLE, .nfields = 2, .fields = pair_fields};
static const hv_wit_field_t triple_fields[] = {
    {NULL, &T_U32, NULL}, {NULL, &T_STRING, NULL}, {NULL, &T_BOOL, NULL}};
static const hv_wit_type_t T_TRIPLE = {.kind = HV_WIT_TUPLE, .nfields = 3, .fields = triple_fields};

/* variant shape { circle(f32), rect(tuple<u32, u32>), none } */
static const hv_wit_field_t shape_cases[] = {
    {"circle", &T_F32, NULL}, {"rect", &T_PAIR, NULL}, {"none", NULL, NULL}};
static const hv_wit_type_t T_SHAPE = {
    .kind = HV_WIT_VARIANT, .name = "shape", .nfields = 3, .fields = shape_cases};

/* enum color { red, green, blue } */
static const hv_wit_field_t color_cases[] = {
    {"red", NULL, NULL}, {"green", NULL, NULL}, {"blue", NULL, NULL}};
static const hv_wit_type_t T_COLOR = {
    .kind = HV_WIT_ENUM, .name = "color", .nfields = 3, .fields = color_cases};

/* flags many { f0, ..., f39 }: two words; names filled in by setup */
static char flag_names[40][4];
static hv_wit_field_t flag_fields[40];
static const hv_wit_type_t T_FLAGS40 = {
    .kind = HV_WIT_FLAGS, .name = "many", .nfields = 40, .fields = flag_fields};

/* result<_, string>, result<u32>, result<u32, string> */
static const hv_wit_type_t T_RES_UNIT_STR = {.kind = HV_WIT_RESULT, .err = &T_STRING};
static const hv_wit_type_t T_RES_U32_UNIT = {.kind = HV_WIT_RESULT, .elem = &T_U32};
static const hv_wit_type_t T_RES_U32_STR = {
    .kind = HV_WIT_RESULT, .elem = &T_U32, .err = &T_STRING};

/* record boxed { some: bool } and option<boxed>: the wrapper's own name */
static const hv_wit_field_t boxed_fields[] = {{"some", &T_BOOL, NULL}};
static const hv_wit_type_t T_BOXED = {
    .kind = HV_WIT_RECORD, .name = "boxed", .nfields = 1, .fields = boxed_fields};
static const hv_wit_type_t T_OPT_BOXED = {.kind = HV_WIT_OPTION, .elem = &T_BOXED};

/* deep[i] = list<list<...<u32>>> with i lists; filled in by setup */
static hv_wit_type_t deep[HV_VALUE_MAX_DEPTH + 1];

static hv_arena_t arena;
static char err[512];

/* ---- helpers ----------------------------------------------------------- */

static hv_value_t parse(const hv_wit_type_t *t, const char *json)
{
    hv_value_t v;
    int rc = hv_value_from_json(&arena, t, json, strlen(json), &v, err, sizeof err);
    if (rc != HV_OK)
        fail_msg("parsing %s: %s (%s)", json, err, hv_err_name(rc));
    assert_ptr_equal(v.type, t);
    return v;
}

/* v's JSON is exactly expected, and reads back as a value equal to v. */
static void check_value(const hv_value_t *v, const char *expected)
{
    char *json = hv_value_to_json(v);
    assert_non_null(json);
    assert_string_equal(json, expected);
    hv_value_t back = parse(v->type, json);
    assert_true(hv_value_equal(v, &back));
    char *again = hv_value_to_json(&back);
    assert_string_equal(again, expected);
    free(again);
    free(json);
}

/* json reads, writes as expected, and that reads back equal. */
static void check_json(const hv_wit_type_t *t, const char *json, const char *expected)
{
    hv_value_t v = parse(t, json);
    check_value(&v, expected);
}

/* Reading fails with HV_EINVAL and exactly "path: ..." containing phrase. */
static void check_error(const hv_wit_type_t *t, const char *json, size_t len, const char *path,
                        const char *phrase)
{
    hv_value_t v;
    memset(&v, 0xA5, sizeof v);
    int rc = hv_value_from_json(&arena, t, json, len, &v, err, sizeof err);
    if (rc != HV_EINVAL)
        fail_msg("%s: expected HV_EINVAL, got %s", json, hv_err_name(rc));
    size_t n = strlen(path);
    if (strncmp(err, path, n) != 0 || strncmp(err + n, ": ", 2) != 0 || !strstr(err + n, phrase))
        fail_msg("%s: error \"%s\" does not match %s: ...%s...", json, err, path, phrase);
    for (size_t i = 0; i < sizeof v; i++)
        assert_int_equal(((unsigned char *)&v)[i], 0xA5); /* *ret untouched */
}

#define ERR(t, json, path, phrase) check_error((t), (json), strlen(json), (path), (phrase))

static hv_value_t *new_value(const hv_wit_type_t *t)
{
    hv_value_t *v = hv_arena_alloc(&arena, sizeof *v);
    assert_non_null(v);
    v->type = t;
    return v;
}

static hv_value_t scalar(const hv_wit_type_t *t, uint64_t bits)
{
    hv_value_t v = {.type = t};
    v.u = bits;
    return v;
}

/* ---- writing and reading every kind ------------------------------------ */

static void test_bool_and_integers(void **state)
{
    (void)state;
    hv_value_t v = {.type = &T_BOOL, .b = true};
    check_value(&v, "true");
    v.b = false;
    check_value(&v, "false");

    v = (hv_value_t){.type = &T_S8, .s = -128};
    check_value(&v, "-128");
    v = scalar(&T_U8, 255);
    check_value(&v, "255");
    v = (hv_value_t){.type = &T_S16, .s = -32768};
    check_value(&v, "-32768");
    v = scalar(&T_U16, 65535);
    check_value(&v, "65535");
    v = (hv_value_t){.type = &T_S32, .s = INT32_MIN};
    check_value(&v, "-2147483648");
    v = scalar(&T_U32, UINT32_MAX);
    check_value(&v, "4294967295");

    /* Up to 2^53 a number; beyond, a string of digits. */
    v = scalar(&T_U64, (uint64_t)1 << 53);
    check_value(&v, "9007199254740992");
    v = scalar(&T_U64, ((uint64_t)1 << 53) + 1);
    check_value(&v, "\"9007199254740993\"");
    v = scalar(&T_U64, UINT64_MAX);
    check_value(&v, "\"18446744073709551615\"");
    v = (hv_value_t){.type = &T_S64, .s = -((int64_t)1 << 53)};
    check_value(&v, "-9007199254740992");
    v = (hv_value_t){.type = &T_S64, .s = INT64_MIN};
    check_value(&v, "\"-9223372036854775808\"");
    v = (hv_value_t){.type = &T_S64, .s = INT64_MAX};
    check_value(&v, "\"9223372036854775807\"");

    /* Large integers written as plain digits (Python's json.dumps) are
     * read exactly, not through a double. */
    v = parse(&T_U64, "9007199254740993");
    assert_true(v.u == ((uint64_t)1 << 53) + 1);
    v = parse(&T_U64, "18446744073709551615");
    assert_true(v.u == UINT64_MAX);
    v = parse(&T_S64, " -9223372036854775808 ");
    assert_true(v.s == INT64_MIN);
    v = parse(&T_S32, "\"-7\"");
    assert_int_equal(v.s, -7);
    v = parse(&T_U8, "2.0"); /* a whole number, whatever its spelling */
    assert_int_equal(v.u, 2);
    v = parse(&T_S16, "-0");
    assert_int_equal(v.s, 0);
    /* Exponents and long fractions are read from the text, exactly. */
    v = parse(&T_U64, "1e19");
    assert_true(v.u == 10000000000000000000u);
    v = parse(&T_U64, "1.8446744073709551615E+19");
    assert_true(v.u == UINT64_MAX);
    v = parse(&T_S64, "-9007199254740993.000");
    assert_true(v.s == -9007199254740993);
    v = parse(&T_U8, "2500e-1");
    assert_int_equal(v.u, 250);
    v = parse(&T_U8, "0.00e5");
    assert_int_equal(v.u, 0);
}

static void test_floats(void **state)
{
    (void)state;
    hv_value_t v = {.type = &T_F32, .f32 = 0.1f};
    check_value(&v, "0.1");
    v = parse(&T_F32, "0.1");
    assert_true(v.f32 == 0.1f);
    v.f32 = FLT_MAX;
    check_value(&v, "3.4028235e+38"); /* above FLT_MAX as a double, rounds to it */
    v.f32 = 1.0f / 3.0f;
    check_value(&v, "0.33333334");
    v.f32 = 0x1p-149f; /* smallest subnormal */
    check_value(&v, "1e-45");
    v.f32 = 16777216.0f;
    check_value(&v, "16777216");

    v = (hv_value_t){.type = &T_F64, .f64 = 0.1};
    check_value(&v, "0.1");
    v.f64 = 1.0 / 3.0;
    check_value(&v, "0.3333333333333333");
    v.f64 = 1e300;
    check_value(&v, "1e+300");
    v.f64 = 5e-324;
    check_value(&v, "5e-324");
    v.f64 = 2.2250738585072014e-308; /* smallest normal */
    check_value(&v, "2.2250738585072014e-308");
    v.f64 = -0.0;
    check_value(&v, "-0");
    v = parse(&T_F64, "-0");
    assert_true(signbit(v.f64));

    /* NaN and infinities have no JSON number: null, read back as NaN. */
    v.f64 = NAN;
    check_value(&v, "null");
    v.f64 = INFINITY;
    char *json = hv_value_to_json(&v);
    assert_string_equal(json, "null");
    free(json);
    v = (hv_value_t){.type = &T_F32, .f32 = -INFINITY};
    json = hv_value_to_json(&v);
    assert_string_equal(json, "null");
    free(json);
    v = parse(&T_F32, "null");
    assert_true(isnan(v.f32));
    v = parse(&T_F64, "12");
    assert_true(v.f64 == 12.0);
}

static void test_chars_and_strings(void **state)
{
    (void)state;
    hv_value_t v = {.type = &T_CHAR, .ch = 'A'};
    check_value(&v, "\"A\"");
    v.ch = 0x1F600;
    check_value(&v, "\"\xF0\x9F\x98\x80\"");
    v = parse(&T_CHAR, "\"\\ud83d\\ude00\"");
    assert_int_equal(v.ch, 0x1F600);
    v.ch = 0;
    check_value(&v, "\"\\u0000\"");
    v.ch = '"';
    check_value(&v, "\"\\\"\"");
    v.ch = 0xE9;
    check_value(&v, "\"\xC3\xA9\"");

    static char s[] = "a\"b\\c\n\t\x01\x1f\0z h\xC3\xA9llo/\x7f";
    v = (hv_value_t){.type = &T_STRING};
    v.str.ptr = s;
    v.str.len = sizeof s - 1;
    check_value(&v, "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f\\u0000z h\xC3\xA9llo/\x7f\"");
    /* U+0000 survives reading (cJSON alone would cut the string there). */
    v = parse(&T_STRING, "\"x\\u0000y\\u00e9\\/\\b\\f\\r\"");
    assert_int_equal(v.str.len, 9);
    assert_memory_equal(v.str.ptr, "x\0y\xC3\xA9/\b\f\r", 10);
    assert_int_equal(v.str.ptr[v.str.len], '\0');
    v = parse(&T_STRING, "\"\"");
    assert_int_equal(v.str.len, 0);
    assert_string_equal(v.str.ptr, "");
    check_value(&v, "\"\"");

    /* Invalid UTF-8 in a value still gives valid JSON. */
    static char bad[] = "a\xFF"
                        "b\xC3";
    v.str.ptr = bad;
    v.str.len = sizeof bad - 1;
    char *json = hv_value_to_json(&v);
    assert_string_equal(json, "\"a\xEF\xBF\xBD"
                              "b\xEF\xBF\xBD\"");
    free(json);
}

static void test_nested_record(void **state)
{
    (void)state;
    const char *in =
        "{\"items\": [ {\"scale\": 0.1, \"raw\": [1, 2, 255], \"label\": \"t\\u00e9mp\"},"
        "{\"label\": \"\", \"raw\": [], \"scale\": null} ],\n \"sensor-id\": 7}";
    hv_value_t v = parse(&T_READING, in);
    assert_int_equal(v.list.len, 2);
    assert_int_equal(v.list.items[0].u, 7);
    assert_ptr_equal(v.list.items[0].type, &T_U32);
    const hv_value_t *items = &v.list.items[1];
    assert_ptr_equal(items->type, &T_MEASUREMENTS);
    assert_int_equal(items->list.len, 2);
    const hv_value_t *m0 = &items->list.items[0];
    assert_ptr_equal(m0->type, &T_MEASUREMENT);
    assert_string_equal(m0->list.items[0].str.ptr, "t\xC3\xA9mp");
    assert_int_equal(m0->list.items[1].bytes.len, 3);
    assert_int_equal(m0->list.items[1].bytes.ptr[2], 255);
    assert_int_equal(m0->list.items[2].var.tag, 1);
    assert_true(m0->list.items[2].var.payload->f32 == 0.1f);
    assert_int_equal(items->list.items[1].list.items[2].var.tag, 0);
    assert_null(items->list.items[1].list.items[2].var.payload);
    check_value(&v, "{\"sensor-id\":7,\"items\":["
                    "{\"label\":\"t\xC3\xA9mp\",\"raw\":[1,2,255],\"scale\":0.1},"
                    "{\"label\":\"\",\"raw\":[],\"scale\":null}]}");
    check_json(&T_STRINGS, "[\"a\", \"b\"]", "[\"a\",\"b\"]");
    check_json(&T_STRINGS, "[]", "[]");
    check_json(&T_TRIPLE, "[1, \"x\", true]", "[1,\"x\",true]");
}

static void test_variant_enum_flags(void **state)
{
    (void)state;
    hv_value_t v = {.type = &T_SHAPE};
    v.var.tag = 0;
    v.var.payload = new_value(&T_F32);
    v.var.payload->f32 = 1.5f;
    check_value(&v, "{\"tag\":\"circle\",\"val\":1.5}");
    v.var.tag = 2;
    v.var.payload = NULL;
    check_value(&v, "{\"tag\":\"none\"}");
    check_json(&T_SHAPE, "{\"val\": [2, 3], \"tag\": \"rect\"}",
               "{\"tag\":\"rect\",\"val\":[2,3]}");

    v = (hv_value_t){.type = &T_COLOR};
    v.var.tag = 1;
    check_value(&v, "\"green\"");

    v = (hv_value_t){.type = &T_FLAGS40};
    uint32_t words[2] = {(1u << 0) | (1u << 31), (1u << 0) | (1u << 7)};
    v.flags.words = words;
    check_value(&v, "[\"f0\",\"f31\",\"f32\",\"f39\"]");
    hv_value_t w = parse(&T_FLAGS40, "[\"f39\", \"f0\", \"f32\", \"f31\"]");
    assert_true(hv_value_equal(&v, &w));
    uint32_t none[2] = {0, 0};
    v.flags.words = none;
    check_value(&v, "[]");
    /* Bits past the last flag are not part of the value. */
    uint32_t stray[2] = {0, 1u << 8};
    v.flags.words = stray;
    hv_value_t empty = parse(&T_FLAGS40, "[]");
    assert_true(hv_value_equal(&v, &empty));
    check_value(&v, "[]");
}

static void test_options_and_results(void **state)
{
    (void)state;
    hv_value_t v = {.type = &T_OPT_OPT_U32};
    check_value(&v, "null"); /* none */
    v.var.tag = 1;
    v.var.payload = new_value(&T_OPT_U32); /* some(none) */
    check_value(&v, "{\"some\":null}");
    v.var.payload->var.tag = 1;
    v.var.payload->var.payload = new_value(&T_U32);
    v.var.payload->var.payload->u = 3;
    check_value(&v, "{\"some\":3}"); /* some(some(3)) */
    check_json(&T_OPT_OPT_U32, "{\"some\": {\"some\": 3}}", "{\"some\":3}");

    /* A plain option: the bare payload, or the wrapper when asked. */
    check_json(&T_OPT_U32, "3", "3");
    check_json(&T_OPT_U32, "{\"some\": 3}", "3");
    check_json(&T_OPT_U32, "null", "null");

    /* Wrapped where bare would be ambiguous: a NaN payload, a record whose
     * only field is named "some". */
    v = (hv_value_t){.type = &T_OPT_F32};
    v.var.tag = 1;
    v.var.payload = new_value(&T_F32);
    v.var.payload->f32 = NAN;
    check_value(&v, "{\"some\":null}");
    check_json(&T_OPT_BOXED, "{\"some\": {\"some\": true}}", "{\"some\":{\"some\":true}}");

    v = (hv_value_t){.type = &T_RES_UNIT_STR};
    check_value(&v, "{\"ok\":null}");
    v.var.tag = 1;
    v.var.payload = new_value(&T_STRING);
    v.var.payload->str.ptr = "bad";
    v.var.payload->str.len = 3;
    check_value(&v, "{\"err\":\"bad\"}");

    v = (hv_value_t){.type = &T_RES_U32_UNIT};
    v.var.payload = new_value(&T_U32);
    v.var.payload->u = 5;
    check_value(&v, "{\"ok\":5}");
    v.var.tag = 1;
    v.var.payload = NULL;
    check_value(&v, "{\"err\":null}");
    check_json(&T_RES_U32_STR, "{\"err\": \"x\"}", "{\"err\":\"x\"}");
}

static void test_megabyte_bytes(void **state)
{
    (void)state;
    size_t n = 1u << 20;
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    hv_value_t v = {.type = &T_BYTES};
    v.bytes.ptr = buf;
    v.bytes.len = n;
    char *json = hv_value_to_json(&v);
    assert_non_null(json);
    assert_true(json[0] == '[' && json[strlen(json) - 1] == ']');
    hv_value_t back = parse(&T_BYTES, json);
    assert_int_equal(back.bytes.len, n);
    assert_memory_equal(back.bytes.ptr, buf, n);
    assert_true(hv_value_equal(&v, &back));
    free(json);
    free(buf);
}

static void test_equality(void **state)
{
    (void)state;
    hv_value_t a = {.type = &T_F64, .f64 = NAN}, b = {.type = &T_F64, .f64 = -NAN};
    assert_true(hv_value_equal(&a, &b));
    a.f64 = 0.0, b.f64 = -0.0;
    assert_false(hv_value_equal(&a, &b));
    a = parse(&T_READING,
              "{\"sensor-id\":1,\"items\":[{\"label\":\"a\",\"raw\":[1],\"scale\":null}]}");
    b = parse(&T_READING,
              "{\"sensor-id\":1,\"items\":[{\"label\":\"a\",\"raw\":[2],\"scale\":null}]}");
    assert_false(hv_value_equal(&a, &b));
    b = parse(&T_READING,
              "{\"sensor-id\":1,\"items\":[{\"label\":\"a\",\"raw\":[1],\"scale\":null}]}");
    assert_true(hv_value_equal(&a, &b));
    a = parse(&T_SHAPE, "{\"tag\":\"circle\",\"val\":1}");
    b = parse(&T_SHAPE, "{\"tag\":\"none\"}");
    assert_false(hv_value_equal(&a, &b));
    a = parse(&T_U32, "1");
    assert_false(hv_value_equal(&a, &b));
}

static void test_writer_refuses_malformed_values(void **state)
{
    (void)state;
    hv_value_t v = {.type = &T_COLOR};
    v.var.tag = 3;
    assert_null(hv_value_to_json(&v));
    v = (hv_value_t){.type = &T_SHAPE};
    v.var.tag = 0; /* circle without its payload */
    assert_null(hv_value_to_json(&v));
    v = (hv_value_t){.type = &T_CHAR, .ch = 0xD800};
    assert_null(hv_value_to_json(&v));
    assert_null(hv_value_to_json(NULL));
}

/* ---- errors ------------------------------------------------------------ */

static void test_scalar_errors(void **state)
{
    (void)state;
    ERR(&T_U8, "300", "$", "expected u8 (0..255), found 300");
    ERR(&T_U8, "-1", "$", "expected u8 (0..255), found -1");
    ERR(&T_U32, "-1", "$", "expected u32 (0..4294967295), found -1");
    ERR(&T_S32, "1.5", "$", "expected s32 (-2147483648..2147483647), found 1.5");
    ERR(&T_S8, "\"12a\"", "$", "expected s8 (-128..127), found string \"12a\"");
    ERR(&T_S8, "\"012\"", "$", "found string \"012\"");
    ERR(&T_U64, "18446744073709551616", "$", "found 18446744073709551616");
    ERR(&T_U64, "\"18446744073709551616\"", "$", "found string \"18446744073709551616\"");
    ERR(&T_S64, "9223372036854775808", "$", "expected s64");
    ERR(&T_S64, "\"-9223372036854775809\"", "$", "expected s64");
    ERR(&T_U64, "1.8446744073709551616e19", "$", "found 1.8446744073709551616e19");
    ERR(&T_U8, "1.0000000000000001", "$", "expected u8 (0..255), found 1.0000000000000001");
    ERR(&T_S32, "-1e-400", "$", "found -1e-400"); /* not 0, though its double is */
    ERR(&T_S32, "2.5e0", "$", "found 2.5e0");
    ERR(&T_BOOL, "\"yes\"", "$", "expected bool, found string \"yes\"");
    ERR(&T_BOOL, "1", "$", "expected bool, found 1");
    ERR(&T_F32, "1e39", "$", "expected f32, found 1e39 (out of range)");
    ERR(&T_F64, "-1e999", "$", "expected f64, found -1e999 (out of range)");
    ERR(&T_F64, "\"1\"", "$", "expected f64 (a number, or null for NaN), found string \"1\"");
    ERR(&T_CHAR, "\"ab\"", "$",
        "expected char (a string of one Unicode scalar value), "
        "found string \"ab\" (2 characters)");
    ERR(&T_CHAR, "\"\"", "$", "(0 characters)");
    ERR(&T_CHAR, "65", "$", "expected char");
    ERR(&T_STRING, "null", "$", "expected string, found null");
}

static void test_compound_errors(void **state)
{
    (void)state;
    ERR(&T_READING, "{\"items\": []}", "$", "missing field \"sensor-id\" of record reading");
    ERR(&T_READING, "{\"sensor-id\": 1, \"items\": [], \"extra\": 2}", "$.extra",
        "unknown field of record reading (expected one of: sensor-id, items)");
    ERR(&T_READING, "{\"sensor-id\": 1, \"sensor-id\": 2, \"items\": []}", "$.sensor-id",
        "duplicate field");
    ERR(&T_READING, "[1, []]", "$",
        "expected record reading (an object), found array of 2 elements");
    ERR(&T_READING,
        "{\"sensor-id\": 1, \"items\": [{\"label\": \"a\", \"raw\": [], \"scale\": null},"
        " {\"label\": 5, \"raw\": [], \"scale\": null}]}",
        "$.items[1].label", "expected string, found 5");
    ERR(&T_READING,
        "{\"sensor-id\": 1, \"items\": [{\"label\": \"a\", \"raw\": [1, 2, 256], \"scale\": 1}]}",
        "$.items[0].raw[2]", "expected u8 (0..255), found 256");
    ERR(&T_READING,
        "{\"sensor-id\": 1, \"items\": [{\"label\": \"a\", \"raw\": [], \"scale\": \"x\"}]}",
        "$.items[0].scale", "expected f32 (a number, or null for NaN), found string \"x\"");
    ERR(&T_READING,
        "{\"sensor-id\": 1, \"items\": [{\"label\": \"a\", \"raw\": [], \"scale\": {\"some\": "
        "[]}}]}",
        "$.items[0].scale.some", "expected f32");
    ERR(&T_READING, "{\"sensor-id\": 1, \"items\": [{\"label\": \"a\", \"raw\": []}]}",
        "$.items[0]", "missing field \"scale\" of record measurement");

    ERR(&T_SHAPE, "{\"tag\": \"hexagon\"}", "$.tag",
        "unknown case \"hexagon\" of variant shape (expected one of: circle, rect, none)");
    ERR(&T_SHAPE, "{\"tag\": \"circle\"}", "$", "missing \"val\" for case circle of variant shape");
    ERR(&T_SHAPE, "{\"tag\": \"none\", \"val\": null}", "$.val",
        "case none of variant shape has no payload, found null");
    ERR(&T_SHAPE, "{\"val\": 1}", "$", "missing \"tag\" of variant shape");
    ERR(&T_SHAPE, "{\"tag\": 1}", "$.tag", "expected a case name of variant shape, found 1");
    ERR(&T_SHAPE, "{\"tag\": \"rect\", \"val\": [1, 2], \"x\": 0}", "$.x",
        "unexpected key in variant shape (expected \"tag\" or \"val\")");
    ERR(&T_SHAPE, "{\"tag\": \"rect\", \"val\": [1]}", "$.val",
        "expected tuple<u32, u32> (an array of 2 elements), found array of 1 element");
    ERR(&T_SHAPE, "\"circle\"", "$", "expected variant shape ({\"tag\": case, \"val\": payload})");

    ERR(&T_COLOR, "\"purple\"", "$",
        "unknown case \"purple\" of enum color (expected one of: red, green, blue)");
    ERR(&T_COLOR, "0", "$", "expected enum color (a case name), found 0");
    ERR(&T_FLAGS40, "[\"f1\", \"nope\"]", "$[1]", "unknown flag \"nope\" of flags many");
    ERR(&T_FLAGS40, "[\"f3\", \"f1\", \"f3\"]", "$[2]", "duplicate flag \"f3\"");
    ERR(&T_FLAGS40, "[\"f3\", 3]", "$[1]", "expected a flag name of flags many, found 3");
    ERR(&T_FLAGS40, "\"f3\"", "$", "expected flags many (an array of flag names)");

    ERR(&T_RES_UNIT_STR, "{\"ok\": null, \"err\": \"x\"}", "$",
        "expected exactly one of \"ok\" or \"err\" in result<_, string>, found both");
    ERR(&T_RES_UNIT_STR, "{}", "$", "found neither");
    ERR(&T_RES_UNIT_STR, "{\"ok\": 1}", "$.ok",
        "expected null (result<_, string> has no ok payload), found 1");
    ERR(&T_RES_U32_UNIT, "{\"fine\": 1}", "$.fine",
        "unexpected key in result<u32> (expected \"ok\" or \"err\")");
    ERR(&T_RES_U32_UNIT, "{\"ok\": -1}", "$.ok", "expected u32");
    ERR(&T_RES_U32_STR, "null", "$",
        "expected result<u32, string> ({\"ok\": ...} or {\"err\": ...})");

    ERR(&T_TRIPLE, "[1, \"x\"]", "$",
        "expected tuple<u32, string, bool> (an array of 3 elements), found array of 2 elements");
    ERR(&T_TRIPLE, "[1, \"x\", true, 4]", "$", "found array of 4 elements");
    ERR(&T_TRIPLE, "[1, \"x\", 4]", "$[2]", "expected bool, found 4");
    ERR(&T_OPT_OPT_U32, "3", "$",
        "expected option<option<u32>> (null or {\"some\": ...}), found 3");
    ERR(&T_OPT_BOXED, "{\"some\": true}", "$.some",
        "expected record boxed (an object), found true");
    ERR(&T_STRINGS, "{\"a\": 1}", "$", "expected list<string> (an array), found object");
}

static void test_text_errors(void **state)
{
    (void)state;
    /* Syntax: the position of the first offence and what was expected. */
    ERR(&T_READING, "{\"sensor-id\": 1,}", "$",
        "malformed JSON at line 1, column 17: expected a member name, found '}'");
    ERR(&T_STRINGS, "[\"a\",\n  \"b\"\n  x]", "$",
        "malformed JSON at line 3, column 3: expected ',' or ']', found 'x'");
    ERR(&T_STRINGS, "[\"a\"", "$",
        "malformed JSON at line 1, column 5: expected ',' or ']', found end of text");
    ERR(&T_READING, "{\"sensor-id\": ", "$", "column 15: expected a value, found end of text");
    ERR(&T_READING, "{\"sensor-id\" 1}", "$", "column 14: expected ':', found '1'");
    ERR(&T_READING, "{1: 2}", "$", "column 2: expected a member name or '}', found '1'");
    ERR(&T_STRINGS, "[\"a\"}", "$", "column 5: expected ',' or ']', found '}'");
    ERR(&T_STRINGS, "[\"a\", x", "$", "column 7: expected a value, found 'x'");
    ERR(&T_STRINGS, "[\"a\",]", "$", "column 6: expected a value, found ']'");
    ERR(&T_STRINGS, "[\"a\", nul]", "$", "column 7: expected a value, found 'n'");
    ERR(&T_STRINGS, "[true false]", "$", "column 7: expected ',' or ']', found 'f'");
    ERR(&T_CHAR, "\"\\ud800\"", "$",
        "malformed JSON at line 1, column 2: unpaired surrogate \\ud800");
    ERR(&T_CHAR, "\"\\udc00\\ud800\"", "$", "unpaired surrogate \\udc00");
    ERR(&T_STRING, "\"\\u12g4\"", "$", "invalid \\u escape");
    ERR(&T_STRING, "\"\\x\"", "$", "invalid escape");
    ERR(&T_STRING, "\"a\tb\"", "$", "column 3: control character 0x09 in string (must be escaped)");
    ERR(&T_STRING, "\"a\xC0\x80\"", "$", "column 3: invalid UTF-8 in string");
    ERR(&T_STRING, "\"a\xED\xA0\x80\"", "$", "invalid UTF-8 in string"); /* encoded surrogate */
    ERR(&T_STRING, "\"abc", "$", "column 1: unterminated string");
    ERR(&T_U32, "01", "$", "invalid number");
    ERR(&T_F64, "1.", "$", "digits expected after '.'");
    ERR(&T_F64, "1e", "$", "digits expected in exponent");
    ERR(&T_F64, "-", "$", "invalid number");
    ERR(&T_F64, "+1", "$", "expected a value, found '+'");
    ERR(&T_U32, "1 2", "$", "column 3: text after the value");
    ERR(&T_U32, "nulll", "$", "column 5: text after the value");
    ERR(&T_U32, "", "$", "line 1, column 1: expected a value, found end of text");
    ERR(&T_U32, " \n", "$", "line 2, column 1: expected a value, found end of text");
    ERR(&T_U32,
        "\xEF\xBB\xBF"
        "1",
        "$", "column 1: expected a value, found byte 0xef");
    ERR(&T_U32, "\v1", "$", "expected a value, found byte 0x0b");
    ERR(&T_READING, "{\"sensor-id\\u0000x\": 1, \"items\": []}", "$.sensor-id",
        "object key holds U+0000");
    check_error(&T_U32, "1\0", 2, "$", "column 2: text after the value");
    check_error(&T_STRINGS, "[\0]", 3, "$", "expected a value, found byte 0x00");
    check_error(&T_STRING, "\"a\0b\"", 5, "$", "control character 0x00");

    /* The length bounds the text: no NUL terminator needed. */
    hv_value_t v;
    assert_int_equal(hv_value_from_json(&arena, &T_U32, "123456", 3, &v, err, sizeof err), HV_OK);
    assert_int_equal(v.u, 123);

    size_t big = (16u << 20) + 1;
    char *text = malloc(big);
    assert_non_null(text);
    memset(text, ' ', big);
    text[0] = '1';
    check_error(&T_U32, text, big, "$", "over the 16 MiB limit");
    free(text);
}

static void test_depth(void **state)
{
    (void)state;
    char json[512], want[256];
    /* 64 levels of value: fine. */
    int n = HV_VALUE_MAX_DEPTH - 1;
    snprintf(json, sizeof json, "%.*s7%.*s", n,
             "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", n,
             "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    hv_value_t v = parse(&deep[n], json);
    char *out = hv_value_to_json(&v);
    assert_string_equal(out, json);
    free(out);
    /* 65: the reader refuses the innermost value, naming it (path elided). */
    n = HV_VALUE_MAX_DEPTH;
    snprintf(json, sizeof json, "%.*s7%.*s", n,
             "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", n,
             "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    strcpy(want, "$");
    for (int i = 0; i < 13; i++)
        strcat(want, "[0]");
    strcat(want, "...");
    for (int i = 0; i < 23; i++)
        strcat(want, "[0]");
    ERR(&deep[n], json, want, "nesting deeper than 64 levels");
    /* Deeper JSON is refused while lexing, whatever the type. */
    memset(json, '[', 100);
    json[100] = '\0';
    ERR(&T_U32, json, "$", "malformed JSON at line 1, column 65: nesting deeper than 64 levels");
}

static void test_arena_limit_and_args(void **state)
{
    (void)state;
    hv_arena_t small;
    hv_value_t v;
    hv_arena_init(&small, 64);
    int rc = hv_value_from_json(&small, &T_STRINGS, "[\"a\", \"b\", \"c\", \"d\", \"e\"]", 25, &v,
                                err, sizeof err);
    assert_int_equal(rc, HV_ENOMEM);
    assert_non_null(strstr(err, "out of memory"));
    hv_arena_free(&small);
    assert_int_equal(hv_value_from_json(&arena, NULL, "1", 1, &v, err, sizeof err), HV_EINVAL);
    assert_int_equal(hv_value_from_json(&arena, &T_U32, "1", 1, &v, NULL, 0), HV_OK);
    assert_int_equal(hv_value_from_json(&arena, &T_U32, "x", 1, &v, NULL, 0), HV_EINVAL);
    char tiny[8];
    assert_int_equal(hv_value_from_json(&arena, &T_U8, "300", 3, &v, tiny, sizeof tiny), HV_EINVAL);
    assert_string_equal(tiny, "$: expe");
}

/* ---- setup ------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < 40; i++) {
        snprintf(flag_names[i], sizeof flag_names[i], "f%u", (unsigned)i % 40);
        flag_fields[i].name = flag_names[i];
    }
    deep[0] = T_U32;
    for (int i = 1; i <= HV_VALUE_MAX_DEPTH; i++)
        deep[i] = (hv_wit_type_t){.kind = HV_WIT_LIST, .elem = &deep[i - 1]};
    hv_arena_init(&arena, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hv_arena_free(&arena);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bool_and_integers),
        cmocka_unit_test(test_floats),
        cmocka_unit_test(test_chars_and_strings),
        cmocka_unit_test(test_nested_record),
        cmocka_unit_test(test_variant_enum_flags),
        cmocka_unit_test(test_options_and_results),
        cmocka_unit_test(test_megabyte_bytes),
        cmocka_unit_test(test_equality),
        cmocka_unit_test(test_writer_refuses_malformed_values),
        cmocka_unit_test(test_scalar_errors),
        cmocka_unit_test(test_compound_errors),
        cmocka_unit_test(test_text_errors),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_arena_limit_and_args),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

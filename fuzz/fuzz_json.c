/* libFuzzer harness for the JSON reader and writer: any input must give a
 * value or a clean error; a value must write, read back equal, and write
 * the same text again (abort otherwise). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv_value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

#define FIELD(n, t)                                                                                \
    {                                                                                              \
        n, t, NULL                                                                                 \
    }
#define LIST(t)                                                                                    \
    {                                                                                              \
        .kind = HV_WIT_LIST, .elem = t                                                             \
    }
#define OPTION(t)                                                                                  \
    {                                                                                              \
        .kind = HV_WIT_OPTION, .elem = t                                                           \
    }

static const hv_wit_type_t T_BYTES = LIST(&T_U8);
static const hv_wit_type_t T_STRINGS = LIST(&T_STRING);
static const hv_wit_type_t T_OPT_S16 = OPTION(&T_S16);
static const hv_wit_type_t T_OPT_OPT_S16 = OPTION(&T_OPT_S16);
static const hv_wit_type_t T_OPT_CHAR = OPTION(&T_CHAR);
static const hv_wit_type_t T_OPT_CHARS = LIST(&T_OPT_CHAR);
static const hv_wit_type_t T_OPT_F32 = OPTION(&T_F32);
static const hv_wit_type_t T_OPT_OPT_F32 = OPTION(&T_OPT_F32);
static const hv_wit_type_t T_OPT_F64 = OPTION(&T_F64);

static const hv_wit_field_t pos_fields[] = {FIELD(NULL, &T_F32), FIELD(NULL, &T_F64),
                                            FIELD(NULL, &T_S8)};
static const hv_wit_type_t T_POS = {.kind = HV_WIT_TUPLE, .nfields = 3, .fields = pos_fields};
static const hv_wit_field_t pair_fields[] = {FIELD(NULL, &T_U32), FIELD(NULL, &T_U32)};
static const hv_wit_type_t T_PAIR = {.kind = HV_WIT_TUPLE, .nfields = 2, .fields = pair_fields};

static const hv_wit_field_t shape_cases[] = {FIELD("circle", &T_F32), FIELD("rect", &T_PAIR),
                                             FIELD("none", NULL), FIELD("chars", &T_OPT_CHARS)};
static const hv_wit_type_t T_SHAPE = {
    .kind = HV_WIT_VARIANT, .name = "shape", .nfields = 4, .fields = shape_cases};

static const hv_wit_field_t color_cases[] = {FIELD("red", NULL), FIELD("green", NULL),
                                             FIELD("blue", NULL)};
static const hv_wit_type_t T_COLOR = {
    .kind = HV_WIT_ENUM, .name = "color", .nfields = 3, .fields = color_cases};

#define F(n) FIELD(#n, NULL)
static const hv_wit_field_t perm_flags[] = {F(a0), F(a1), F(a2), F(a3), F(a4), F(a5), F(a6), F(a7),
                                            F(a8), F(a9), F(b0), F(b1), F(b2), F(b3), F(b4), F(b5),
                                            F(b6), F(b7), F(b8), F(b9), F(c0), F(c1), F(c2), F(c3),
                                            F(c4), F(c5), F(c6), F(c7), F(c8), F(c9), F(d0), F(d1),
                                            F(d2), F(d3), F(d4), F(d5), F(d6), F(d7), F(d8), F(d9)};
static const hv_wit_type_t T_PERMS = {
    .kind = HV_WIT_FLAGS, .name = "perms", .nfields = 40, .fields = perm_flags};

static const hv_wit_type_t T_STATUS = {
    .kind = HV_WIT_RESULT, .elem = &T_OPT_CHARS, .err = &T_STRING};
static const hv_wit_type_t T_RES_UNIT = {.kind = HV_WIT_RESULT};
static const hv_wit_type_t T_RES_ERR_U32 = {.kind = HV_WIT_RESULT, .err = &T_U32};
static const hv_wit_type_t T_RES_U64_S8 = {.kind = HV_WIT_RESULT, .elem = &T_U64, .err = &T_S8};

static const hv_wit_field_t boxed_fields[] = {FIELD("some", &T_BOOL)};
static const hv_wit_type_t T_BOXED = {
    .kind = HV_WIT_RECORD, .name = "boxed", .nfields = 1, .fields = boxed_fields};
static const hv_wit_type_t T_OPT_BOXED = OPTION(&T_BOXED);

static const hv_wit_field_t item_fields[] = {FIELD("k", &T_S64), FIELD("v", &T_OPT_BOXED),
                                             FIELD("w", &T_OPT_F64), FIELD("tags", &T_STRINGS)};
static const hv_wit_type_t T_ITEM = {
    .kind = HV_WIT_RECORD, .name = "item", .nfields = 4, .fields = item_fields};
static const hv_wit_type_t T_ITEMS = LIST(&T_ITEM);

static const hv_wit_field_t sample_fields[] = {
    FIELD("id", &T_U64),        FIELD("name", &T_STRING),         FIELD("data", &T_BYTES),
    FIELD("pos", &T_POS),       FIELD("reading", &T_OPT_OPT_S16), FIELD("shape", &T_SHAPE),
    FIELD("color", &T_COLOR),   FIELD("perms", &T_PERMS),         FIELD("status", &T_STATUS),
    FIELD("done", &T_RES_UNIT), FIELD("code", &T_RES_ERR_U32),    FIELD("items", &T_ITEMS),
    FIELD("flag", &T_BOOL),     FIELD("small", &T_U16),           FIELD("delta", &T_S32)};
static const hv_wit_type_t T_SAMPLE = {
    .kind = HV_WIT_RECORD, .name = "sample", .nfields = 15, .fields = sample_fields};

static const hv_wit_type_t *const types[] = {
    &T_SAMPLE,     &T_U64,   &T_S64,   &T_F32,   &T_F64,   &T_CHAR, &T_STRING, &T_OPT_OPT_F32,
    &T_RES_U64_S8, &T_SHAPE, &T_ITEMS, &T_BYTES, &T_PERMS, &T_U8,   &T_S8,     &T_U32,
};

static void die(const char *what, const char *in, size_t size, const char *out)
{
    fprintf(stderr, "fuzz_json: %s\ninput: %.*s\noutput: %s\n", what, (int)size, in,
            out ? out : "(null)");
    abort();
}

static void check(const hv_wit_type_t *t, const char *in, size_t size)
{
    hv_arena_t a;
    hv_value_t v, back;
    char err[256];
    hv_arena_init(&a, 64u << 20);
    int rc = hv_value_from_json(&a, t, in, size, &v, err, sizeof err);
    if (rc != HV_OK) {
        if (rc != HV_EINVAL || err[0] != '$')
            die("bad error", in, size, err);
        hv_arena_free(&a);
        return;
    }
    char *json = hv_value_to_json(&v);
    if (json == NULL)
        die("write failed", in, size, NULL);
    rc = hv_value_from_json(&a, t, json, strlen(json), &back, err, sizeof err);
    if (rc != HV_OK)
        die(err, in, size, json);
    if (!hv_value_equal(&v, &back))
        die("read back differs", in, size, json);
    char *again = hv_value_to_json(&back);
    if (again == NULL || strcmp(json, again) != 0)
        die("second write differs", in, size, again);
    free(again);
    free(json);
    hv_arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        check(types[i], (const char *)data, size);
    return 0;
}

/*
 * Host-side WIT values: the tree the canonical ABI lifts guest data into
 * and lowers host data from, and that converts to and from JSON.
 *
 * Every value points at its WIT type, which says how to read the union.
 * Values and everything they reference live in an arena: one call's values
 * are freed together with hv_arena_free, never one by one.
 */
#ifndef HV_VALUE_H
#define HV_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv_wit.h"

/* ---- arena ------------------------------------------------------------- */

typedef struct hv_arena_block hv_arena_block_t;
typedef struct {
    hv_arena_block_t *head;
    size_t used, cap; /* of head */
    size_t total;     /* bytes handed out, for caps */
    size_t limit;     /* 0: unlimited; else allocations past it fail */
} hv_arena_t;

/* An empty arena; allocates nothing until used. */
void hv_arena_init(hv_arena_t *a, size_t limit);
/* Zeroed memory aligned to 16, or NULL when out of memory or over limit. */
void *hv_arena_alloc(hv_arena_t *a, size_t size);
/* NUL-terminated copy of len bytes, or NULL. */
char *hv_arena_strndup(hv_arena_t *a, const char *s, size_t len);
/* Frees every block; the arena can be used again afterwards. */
void hv_arena_free(hv_arena_t *a);

/* ---- values ------------------------------------------------------------ */

typedef struct hv_value hv_value_t;

struct hv_value {
    const hv_wit_type_t *type;
    union {
        bool b;      /* BOOL */
        int64_t s;   /* S8..S64 */
        uint64_t u;  /* U8..U64 */
        float f32;   /* F32 */
        double f64;  /* F64 */
        uint32_t ch; /* CHAR: a Unicode scalar value */
        struct {     /* STRING: UTF-8, NUL-terminated (len excludes it) */
            char *ptr;
            size_t len;
        } str;
        struct {             /* LIST (elements), TUPLE and RECORD (fields in */
            hv_value_t *items; /* declaration order); LIST of U8 uses bytes */
            size_t len;
        } list;
        struct { /* LIST whose element kind is U8: raw bytes, items NULL */
            uint8_t *ptr;
            size_t len;
        } bytes;
        struct {                 /* VARIANT/ENUM: case index; OPTION: 0 none, */
            uint32_t tag;        /* 1 some; RESULT: 0 ok, 1 err */
            hv_value_t *payload; /* NULL when the case has no payload */
        } var;
        struct { /* FLAGS: bit i of word i/32 is flag i */
            uint32_t *words;
        } flags;
    };
};

/* True when values of t are stored in `bytes` (list<u8>). */
static inline bool hv_value_is_bytes_type(const hv_wit_type_t *t)
{
    return t->kind == HV_WIT_LIST && t->elem->kind == HV_WIT_U8;
}

/* Number of 32-bit words of a flags type (at least 1). */
static inline size_t hv_value_flag_words(const hv_wit_type_t *t)
{
    return t->nfields == 0 ? 1 : (t->nfields + 31) / 32;
}

/*
 * Converts a value to JSON text (malloc'd, NUL-terminated; caller frees).
 * Mapping: bool -> true/false; integers and floats -> numbers (NaN and
 * infinities -> null); char and string -> strings; list and tuple ->
 * arrays (list<u8> too, as numbers); record -> object by field name;
 * variant -> {"tag": "case", "val": payload} ("val" absent without
 * payload); enum -> "case"; flags -> array of the set flags' names;
 * option -> null or the payload, except that an option whose payload is
 * itself an option is written {"some": payload} so none/some(none) stay
 * distinct; result -> {"ok": payload} or {"err": payload} (null when the
 * case has no type). Returns NULL when out of memory.
 */
char *hv_value_to_json(const hv_value_t *v);

/*
 * Parses JSON text into a value of type t, allocated in arena a. Accepts
 * exactly what hv_value_to_json writes, plus: integers given as strings of
 * digits (for 64-bit values beyond 2^53), a list<u8> given as an array of
 * numbers, and an option's payload wrapped in {"some": x}. Integers must be
 * whole and in the type's range, chars one scalar value, flags names of the
 * type, records must have every field and no unknown one. On failure
 * returns HV_EINVAL with "path: reason" in err (path like
 * "$.readings[2].fields[0].value"), leaving *ret untouched. Nesting is
 * capped at HV_VALUE_MAX_DEPTH.
 */
#define HV_VALUE_MAX_DEPTH 64
int hv_value_from_json(hv_arena_t *a, const hv_wit_type_t *t, const char *json, size_t len,
                       hv_value_t *ret, char *err, size_t errlen);

/* Deep equality of two values of the same type (NaN equals NaN). */
bool hv_value_equal(const hv_value_t *x, const hv_value_t *y);

#endif

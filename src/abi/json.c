/*
 * Value equality, plus the helpers the JSON writer and reader share:
 * UTF-8, shortest float text, type names for messages.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_internal.h"

/* ---- UTF-8 ------------------------------------------------------------- */

size_t hv_json_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, v = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, v = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0; /* continuation byte, C0/C1 (always overlong), F5.. */
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

size_t hv_json_utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ---- floats ------------------------------------------------------------ */

/*
 * printf has no "shortest round trip" conversion, so try increasing
 * precision. For a normal double, any decimal of <= 15 significant digits
 * that reads back as d is what %.15g prints (half an ulp is below half a
 * unit of the 15th digit), so 15, 16 and 17 are the only precisions worth
 * trying, and 17 always round-trips. Subnormals have fewer bits, so their
 * search starts at 1. Likewise 6..9 for a float. The text is read back with
 * strtod, the function the reader (cJSON) uses; the daemon never calls
 * setlocale, so LC_NUMERIC stays "C" and the decimal point is '.'.
 */
size_t hv_json_fmt_f64(double d, char out[32])
{
    int n = 0;
    for (int prec = fabs(d) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
        n = snprintf(out, 32, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            break;
    }
    return (size_t)n;
}

size_t hv_json_fmt_f32(float f, char out[32])
{
    for (int prec = fabsf(f) < FLT_MIN ? 1 : 6; prec <= 9; prec++) {
        int n = snprintf(out, 32, "%.*g", prec, (double)f);
        if ((float)strtod(out, NULL) == f)
            return (size_t)n;
    }
    /* Not reached for correctly rounding libcs; the exact double is safe. */
    return hv_json_fmt_f64((double)f, out);
}

/* ---- type names for messages ------------------------------------------- */

char *hv_json_type_desc(const hv_wit_type_t *t, char *out, size_t len)
{
    const char *kind = NULL;
    int n = 0;
    /* The WIT spelling, with the kind of a named type: "record point". */
    if (t->name != NULL) {
        switch (t->kind) {
        case HV_WIT_RECORD:
            kind = "record ";
            break;
        case HV_WIT_VARIANT:
            kind = "variant ";
            break;
        case HV_WIT_ENUM:
            kind = "enum ";
            break;
        case HV_WIT_FLAGS:
            kind = "flags ";
            break;
        default:
            break;
        }
    }
    if (kind != NULL)
        n = snprintf(out, len, "%s", kind);
    if (n >= 0 && (size_t)n < len)
        hv_wit_type_str(t, out + n, len - (size_t)n);
    return out;
}

/* ---- equality ---------------------------------------------------------- */

static bool equal(const hv_wit_type_t *t, const hv_value_t *x, const hv_value_t *y);

static bool equal_list(const hv_wit_type_t *t, const hv_value_t *x, const hv_value_t *y)
{
    if (hv_value_is_bytes_type(t))
        return x->bytes.len == y->bytes.len &&
               (x->bytes.len == 0 || memcmp(x->bytes.ptr, y->bytes.ptr, x->bytes.len) == 0);
    if (x->list.len != y->list.len)
        return false;
    for (size_t i = 0; i < x->list.len; i++) {
        if (!equal(t->elem, &x->list.items[i], &y->list.items[i]))
            return false;
    }
    return true;
}

static bool equal_fields(const hv_wit_type_t *t, const hv_value_t *x, const hv_value_t *y)
{
    for (size_t i = 0; i < t->nfields; i++) {
        if (!equal(t->fields[i].type, &x->list.items[i], &y->list.items[i]))
            return false;
    }
    return true;
}

/* A case's payload: both absent, or both present and equal. */
static bool equal_payload(const hv_wit_type_t *pt, const hv_value_t *x, const hv_value_t *y)
{
    if (x->var.payload == NULL || y->var.payload == NULL)
        return x->var.payload == y->var.payload;
    return pt != NULL && equal(pt, x->var.payload, y->var.payload);
}

/* Bits past the last flag are not part of the value. */
static bool equal_flags(const hv_wit_type_t *t, const hv_value_t *x, const hv_value_t *y)
{
    size_t words = hv_value_flag_words(t);
    for (size_t w = 0; w < words; w++) {
        uint32_t mask = UINT32_MAX;
        size_t left = t->nfields - w * 32;
        if (t->nfields <= w * 32)
            mask = 0;
        else if (left < 32)
            mask = ((uint32_t)1 << left) - 1;
        if ((x->flags.words[w] ^ y->flags.words[w]) & mask)
            return false;
    }
    return true;
}

/* The type comes from the parent (elem, field type), not from each child's
 * type pointer, so a tree is compared by the one type it was built for. */
static bool equal(const hv_wit_type_t *t, const hv_value_t *x, const hv_value_t *y)
{
    switch (t->kind) {
    case HV_WIT_BOOL:
        return x->b == y->b;
    case HV_WIT_S8:
    case HV_WIT_S16:
    case HV_WIT_S32:
    case HV_WIT_S64:
        return x->s == y->s;
    case HV_WIT_U8:
    case HV_WIT_U16:
    case HV_WIT_U32:
    case HV_WIT_U64:
        return x->u == y->u;
    case HV_WIT_F32:
        return (isnan(x->f32) && isnan(y->f32)) || memcmp(&x->f32, &y->f32, sizeof(float)) == 0;
    case HV_WIT_F64:
        return (isnan(x->f64) && isnan(y->f64)) || memcmp(&x->f64, &y->f64, sizeof(double)) == 0;
    case HV_WIT_CHAR:
        return x->ch == y->ch;
    case HV_WIT_STRING:
        return x->str.len == y->str.len &&
               (x->str.len == 0 || memcmp(x->str.ptr, y->str.ptr, x->str.len) == 0);
    case HV_WIT_LIST:
        return equal_list(t, x, y);
    case HV_WIT_TUPLE:
    case HV_WIT_RECORD:
        return equal_fields(t, x, y);
    case HV_WIT_OPTION:
        return x->var.tag == y->var.tag && equal_payload(t->elem, x, y);
    case HV_WIT_RESULT:
        return x->var.tag == y->var.tag && equal_payload(x->var.tag == 0 ? t->elem : t->err, x, y);
    case HV_WIT_VARIANT:
        return x->var.tag == y->var.tag && x->var.tag < t->nfields &&
               equal_payload(t->fields[x->var.tag].type, x, y);
    case HV_WIT_ENUM:
        return x->var.tag == y->var.tag;
    case HV_WIT_FLAGS:
        return equal_flags(t, x, y);
    }
    return false;
}

bool hv_value_equal(const hv_value_t *x, const hv_value_t *y)
{
    if (x == y)
        return true;
    if (x == NULL || y == NULL || x->type == NULL || y->type == NULL)
        return false;
    /* Distinct but identical type nodes (two parses of one WIT) compare by
     * x's type; the field count check keeps that from reading past y. */
    if (x->type != y->type &&
        (x->type->kind != y->type->kind || x->type->nfields != y->type->nfields))
        return false;
    return equal(x->type, x, y);
}

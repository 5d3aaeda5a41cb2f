/*
 * JSON text -> value (hv_value_from_json): hv_json_parse makes a strict
 * cJSON tree, then the WIT type drives a walk over it that checks every
 * node and builds the value in the caller's arena. Errors name the place
 * as a JSONPath ("$.readings[2].name") and say what was expected and what
 * was found.
 */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_internal.h"

/* One step of the path: a member name, an array index, or nothing (an
 * option's bare payload is one value deeper at the same place). */
typedef struct {
    const char *key;
    size_t index; /* when key is NULL; SIZE_MAX: no step */
} step_t;

typedef struct {
    hv_arena_t *a;
    char *err;
    size_t errlen;
    size_t depth;
    step_t path[HV_VALUE_MAX_DEPTH];
} reader_t;

static int read_value(reader_t *r, const hv_wit_type_t *t, const cJSON *j, hv_value_t *out);

/* ---- messages ---------------------------------------------------------- */

static bool plain_key(const char *k)
{
    if (*k == '\0')
        return false;
    for (; *k; k++) {
        char c = *k;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* At most max bytes of s, cut on a character boundary, quotes and
 * backslashes escaped, control characters as '?'; "..." when cut. */
static void quote(const char *s, size_t n, size_t max, char *out, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 8 < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i >= max && (c & 0xC0) != 0x80) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (c == '"' || c == '\\')
            out[o++] = '\\';
        out[o++] = c < 0x20 ? '?' : (char)c;
    }
    out[o] = '\0';
}

static size_t step_text(const step_t *g, char *out, size_t len)
{
    char q[96];
    if (g->key == NULL && g->index == SIZE_MAX)
        out[0] = '\0';
    else if (g->key == NULL)
        snprintf(out, len, "[%zu]", g->index);
    else if (plain_key(g->key) && strlen(g->key) <= 40)
        snprintf(out, len, ".%s", g->key);
    else {
        quote(g->key, strlen(g->key), 40, q, sizeof q);
        snprintf(out, len, "[\"%s\"]", q);
    }
    return strlen(out);
}

static void append(char *out, size_t len, const char *s)
{
    size_t o = strlen(out);
    snprintf(out + o, len - o, "%s", s);
}

/* "$" and the steps; a long path keeps its head and tail around "...". */
static void path_text(const reader_t *r, char *out, size_t len)
{
    enum { ALL = 120, HEAD = 40, TAIL = 70 };
    char s[112];
    size_t lens[HV_VALUE_MAX_DEPTH], total = 0, head = r->depth, tail = r->depth;
    for (size_t i = 0; i < r->depth; i++)
        total += lens[i] = step_text(&r->path[i], s, sizeof s);
    if (total > ALL) {
        size_t h = 0, t = 0;
        for (head = 0; head < r->depth && h + lens[head] <= HEAD; head++)
            h += lens[head];
        for (tail = r->depth; tail > head && t + lens[tail - 1] <= TAIL; tail--)
            t += lens[tail - 1];
    }
    snprintf(out, len, "$");
    for (size_t i = 0; i < r->depth; i++) {
        if (i == head && head < tail)
            append(out, len, "...");
        if (i < head || i >= tail) {
            step_text(&r->path[i], s, sizeof s);
            append(out, len, s);
        }
    }
}

static int vfail(reader_t *r, const char *fmt, va_list ap)
{
    char path[192];
    if (r->err == NULL || r->errlen == 0)
        return HV_EINVAL;
    path_text(r, path, sizeof path);
    int n = snprintf(r->err, r->errlen, "%s: ", path);
    if (n >= 0 && (size_t)n < r->errlen)
        vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
    return HV_EINVAL;
}

/* "path: reason"; returns HV_EINVAL. */
static int fail(reader_t *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(r, fmt, ap);
    va_end(ap);
    return rc;
}

/* The same, one step further: at member key, or at array index. */
static int fail_at(reader_t *r, const char *key, size_t index, const char *fmt, ...)
{
    va_list ap;
    r->path[r->depth++] = (step_t){key, index};
    va_start(ap, fmt);
    int rc = vfail(r, fmt, ap);
    va_end(ap);
    r->depth--;
    return rc;
}

static int nomem(reader_t *r)
{
    fail(r, "out of memory (or over the arena's limit)");
    return HV_ENOMEM;
}

static size_t str_len(const cJSON *j)
{
    return (j->type & HV_JSON_HASLEN) ? (size_t)j->valueint : strlen(j->valuestring);
}

static size_t count(const cJSON *j)
{
    size_t n = 0;
    for (const cJSON *c = j->child; c != NULL; c = c->next)
        n++;
    return n;
}

/* A JSON string as a message quotes it. */
static const char *quoted(const cJSON *j, char *out, size_t len)
{
    char q[96];
    quote(j->valuestring, str_len(j), 32, q, sizeof q);
    snprintf(out, len, "\"%s\"", q);
    return out;
}

/* What a JSON node is, for "found ...". */
static const char *found(const cJSON *j, char *out, size_t len)
{
    char q[104];
    switch (j->type & 0xFF) {
    case cJSON_NULL:
        return "null";
    case cJSON_False:
        return "false";
    case cJSON_True:
        return "true";
    case cJSON_Number:
        /* As written; without the text it is short and plain (lexer). */
        if (j->type & HV_JSON_EXACT)
            snprintf(out, len, "%s", j->valuestring);
        else
            snprintf(out, len, "%.15g", j->valuedouble);
        return out;
    case cJSON_String:
        snprintf(out, len, "string %s", quoted(j, q, sizeof q));
        return out;
    case cJSON_Array:
        snprintf(out, len, "array of %zu element%s", count(j), count(j) == 1 ? "" : "s");
        return out;
    default:
        return "object";
    }
}

/* "a, b, c" for "expected one of: ...", cut short with ", ...". */
static const char *names(const hv_wit_type_t *t, char *out, size_t len)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < t->nfields; i++) {
        const char *nm = t->fields[i].name;
        size_t n = strlen(nm);
        if (o + n + 8 > len) {
            snprintf(out + o, len - o, "%s...", i ? ", " : "");
            break;
        }
        o += (size_t)snprintf(out + o, len - o, "%s%s", i ? ", " : "", nm);
    }
    return out;
}

#define TYPE(t) hv_json_type_desc((t), (char[96]){0}, 96)
#define FOUND(j) found((j), (char[112]){0}, 112)
#define QUOTED(j) quoted((j), (char[104]){0}, 104)
#define NAMES(t) names((t), (char[160]){0}, 160)

/* ---- helpers ----------------------------------------------------------- */

static int is(const cJSON *j, int type)
{
    return (j->type & 0xFF) == type;
}

static void *alloc(reader_t *r, size_t n, size_t size)
{
    if (n != 0 && size > SIZE_MAX / n)
        return NULL;
    return hv_arena_alloc(r->a, n * size);
}

static int read_child(reader_t *r, const hv_wit_type_t *t, const cJSON *j, hv_value_t *out,
                      const char *key, size_t index)
{
    r->path[r->depth++] = (step_t){key, index};
    int rc = read_value(r, t, j, out);
    r->depth--;
    return rc;
}

/* An object member named key: an error unless its name was cut by U+0000. */
static int check_key(reader_t *r, const cJSON *m)
{
    if (m->type & HV_JSON_KEYNUL)
        return fail_at(r, m->string, 0, "object key holds U+0000");
    return HV_OK;
}

static int field_index(const hv_wit_type_t *t, const char *name, size_t *idx)
{
    for (size_t i = 0; i < t->nfields; i++) {
        if (strcmp(t->fields[i].name, name) == 0) {
            *idx = i;
            return 1;
        }
    }
    return 0;
}

/* ---- scalars ----------------------------------------------------------- */

static const struct {
    uint64_t max, negmax; /* largest value, largest magnitude below 0 */
    const char *range;
} int_ranges[] = {
    [HV_WIT_S8] = {INT8_MAX, 128, "-128..127"},
    [HV_WIT_U8] = {UINT8_MAX, 0, "0..255"},
    [HV_WIT_S16] = {INT16_MAX, 32768, "-32768..32767"},
    [HV_WIT_U16] = {UINT16_MAX, 0, "0..65535"},
    [HV_WIT_S32] = {INT32_MAX, 2147483648u, "-2147483648..2147483647"},
    [HV_WIT_U32] = {UINT32_MAX, 0, "0..4294967295"},
    [HV_WIT_S64] = {INT64_MAX, (uint64_t)1 << 63, "-9223372036854775808..9223372036854775807"},
    [HV_WIT_U64] = {UINT64_MAX, 0, "0..18446744073709551615"},
};

/* -?(0|[1-9][0-9]*), the JSON integer grammar, into sign and magnitude;
 * *over when the magnitude does not fit 64 bits. */
static bool parse_decimal(const char *s, size_t n, bool *neg, uint64_t *mag, bool *over)
{
    size_t i = 0;
    *neg = n > 0 && s[0] == '-';
    i = *neg;
    if (i == n || (s[i] == '0' && n - i > 1))
        return false;
    *mag = 0;
    *over = false;
    for (; i < n; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9)
            return false;
        if (*mag > (UINT64_MAX - d) / 10)
            *over = true;
        else
            *mag = *mag * 10 + d;
    }
    return true;
}

/*
 * The text of a JSON number (grammar checked by the lexer) as sign and
 * magnitude, computed exactly; false when it is not a whole number. The
 * digits, leading zeros dropped, are 63 at most, like the token.
 */
static bool exact_number(const char *s, bool *neg, uint64_t *mag, bool *over)
{
    char digits[64];
    size_t nd = 0;
    long scale = 0; /* value = digits * 10^scale */
    bool frac = false;
    *neg = *s == '-';
    s += *neg;
    for (; (*s >= '0' && *s <= '9') || *s == '.'; s++) {
        if (*s == '.') {
            frac = true;
            continue;
        }
        scale -= frac;
        if (nd > 0 || *s != '0')
            digits[nd++] = *s;
    }
    if (*s == 'e' || *s == 'E') {
        long e = 0, sign = 1;
        s++;
        if (*s == '+' || *s == '-')
            sign = *s++ == '-' ? -1 : 1;
        for (; *s >= '0' && *s <= '9'; s++) {
            if (e < 100000) /* saturate: beyond any 64-bit value anyway */
                e = e * 10 + (*s - '0');
        }
        scale += sign * e;
    }
    while (nd > 0 && digits[nd - 1] == '0')
        nd--, scale++;
    *mag = 0;
    *over = false;
    if (nd == 0)
        return true;
    if (scale < 0)
        return false; /* the last digit, not 0, is past the decimal point */
    if ((long)nd + scale > 20) {
        *over = true;
        return true;
    }
    for (size_t i = 0; i < nd + (size_t)scale; i++) {
        unsigned d = i < nd ? (unsigned)(digits[i] - '0') : 0;
        if (*mag > (UINT64_MAX - d) / 10) {
            *over = true;
            break;
        }
        *mag = *mag * 10 + d;
    }
    return true;
}

/* A JSON number as sign and magnitude, if it is a whole number. Without
 * HV_JSON_EXACT it is a plain decimal of at most 15 digits (see the lexer),
 * which its double represents well enough. */
static bool number_int(const cJSON *j, bool *neg, uint64_t *mag, bool *over)
{
    if (j->type & HV_JSON_EXACT)
        return exact_number(j->valuestring, neg, mag, over);
    double d = j->valuedouble;
    if (d != floor(d))
        return false;
    *neg = d < 0;
    *mag = (uint64_t)fabs(d);
    *over = false;
    return true;
}

static int read_int(reader_t *r, const hv_wit_type_t *t, const cJSON *j, hv_value_t *out)
{
    bool neg = false, over = false, ok = false;
    uint64_t mag = 0;
    if (is(j, cJSON_Number))
        ok = number_int(j, &neg, &mag, &over);
    else if (is(j, cJSON_String))
        ok = parse_decimal(j->valuestring, str_len(j), &neg, &mag, &over);
    if (!ok || over || mag > (neg ? int_ranges[t->kind].negmax : int_ranges[t->kind].max))
        return fail(r, "expected %s (%s), found %s", TYPE(t), int_ranges[t->kind].range, FOUND(j));
    bool is_signed = t->kind == HV_WIT_S8 || t->kind == HV_WIT_S16 || t->kind == HV_WIT_S32 ||
                     t->kind == HV_WIT_S64;
    if (!is_signed)
        out->u = mag;
    else if (!neg)
        out->s = (int64_t)mag;
    else
        out->s = mag == (uint64_t)1 << 63 ? INT64_MIN : -(int64_t)mag;
    return HV_OK;
}

/* Doubles from here up round to infinity as floats (FLT_MAX + half ulp). */
#define F32_OVERFLOW 0x1.ffffffp+127

static int read_float(reader_t *r, const hv_wit_type_t *t, const cJSON *j, hv_value_t *out)
{
    bool f32 = t->kind == HV_WIT_F32;
    if (is(j, cJSON_NULL)) {
        if (f32)
            out->f32 = NAN;
        else
            out->f64 = NAN;
        return HV_OK;
    }
    if (!is(j, cJSON_Number))
        return fail(r, "expected %s (a number, or null for NaN), found %s", TYPE(t), FOUND(j));
    double d = j->valuedouble;
    if (!isfinite(d) || (f32 && fabs(d) >= F32_OVERFLOW))
        return fail(r, "expected %s, found %s (out of range)", TYPE(t), FOUND(j));
    if (f32)
        out->f32 = (float)d;
    else
        out->f64 = d;
    return HV_OK;
}

static int read_char(reader_t *r, const hv_wit_type_t *t, const cJSON *j, hv_value_t *out)
{
    uint32_t cp = 0;
    if (!is(j, cJSON_String))
        return fail(r, "expected char (a string of one Unicode scalar value), found %s", FOUND(j));
    const unsigned char *s = (const unsigned char *)j->valuestring;
    size_t n = str_len(j), k = hv_json_utf8_decode(s, n, &cp);
    if (k == 0 || k != n) {
        size_t chars = 0;
        for (size_t i = 0; i < n; i++)
            chars += (s[i] & 0xC0) != 0x80;
        return fail(
            r, "expected char (a string of one Unicode scalar value), found %s (%zu characters)",
            FOUND(j), chars);
    }
    (void)t;
    out->ch = cp;
    return HV_OK;
}

static int read_string(reader_t *r, const hv_wit_type_t *t, const cJSON *j, hv_value_t *out)
{
    if (!is(j, cJSON_String))
        return fail(r, "expected %s, found %s", TYPE(t), FOUND(j));
    /* The lexer checked the UTF-8, and escapes decode to scalar values. */
    size_t n = str_len(j);
    char *p = hv_arena_strndup(r->a, j->valuestring, n);
    if (p == NULL)
        return nomem(r);
    out->str.ptr = p;
    out->str.len = n;
    return HV_OK;
}

/* ---- compounds --------------------------------------------------------- */

static int read_bytes(reader_t *r, const hv_wit_type_t *t, const cJSON *j, hv_value_t *out)
{
    size_t n = count(j), i = 0;
    uint8_t *p = NULL;
    if (n > 0 && (p = alloc(r, n, 1)) == NULL)
        return nomem(r);
    for (const cJSON *c = j->child; c != NULL; c = c->next, i++) {
        hv_value_t b = {0};
        int rc = read_child(r, t->elem, c, &b, NULL, i);
        if (rc != HV_OK)
            return rc;
        p[i] = (uint8_t)b.u;
    }
    out->bytes.ptr = p;
    out->bytes.len = n;
    return HV_OK;
}

static int read_list(reader_t *r, const hv_wit_type_t *t, const cJSON *j, hv_value_t *out)
{
    if (!is(j, cJSON_Array))
        return fail(r, "expected %s (an array), found %s", TYPE(t), FOUND(j));
    if (hv_value_is_bytes_type(t))
        return read_bytes(r, t, j, out);
    size_t n = count(j), i = 0;
    hv_value_t *items = NULL;
    if (n > 0 && (items = alloc(r, n, sizeof *items)) == NULL)
        return nomem(r);
    for (const cJSON *c = j->child; c != NULL; c = c->next, i++) {
        int rc = read_child(r, t->elem, c, &items[i], NULL, i);
        if (rc != HV_OK)
            return rc;
    }
    out->list.items = items;
    out->list.len = n;
    return HV_OK;
}

static int read_tuple(reader_t *r, const hv_wit_type_t *t, const cJSON *j, hv_value_t *out)
{
    if (!is(j, cJSON_Array) || count(j) != t->nfields)
        return fail(r, "expected %s (an array of %zu element%s), found %s", TYPE(t), t->nfields,
                    t->nfields == 1 ? "" : "s", FOUND(j));
    hv_value_t *items = NULL;
    if (t->nfields > 0 && (items = alloc(r, t->nfields, sizeof *items)) == NULL)
        return nomem(r);
    size_t i = 0;
    for (const cJSON *c = j->child; c != NULL; c = c->next, i++) {
        int rc = read_child(r, t->fields[i].type, c, &items[i], NULL, i);
        if (rc != HV_OK)
            return rc;
    }
    out->list.items = items;
    out->list.len = t->nfields;
    return HV_OK;
}

/*
 * Members may come in any order; each is stored at its field's index. The
 * arena hands out zeroed memory, so a slot whose type is still NULL has not
 * been seen: that detects duplicates and missing fields without a set.
 */
static int read_record(reader_t *r, const hv_wit_type_t *t, const cJSON *j, hv_value_t *out)
{
    if (!is(j, cJSON_Object))
        return fail(r, "expected %s (an object), found %s", TYPE(t), FOUND(j));
    hv_value_t *items = NULL;
    if (t->nfields > 0 && (items = alloc(r, t->nfields, sizeof *items)) == NULL)
        return nomem(r);
    for (const cJSON *m = j->child; m != NULL; m = m->next) {
        size_t k;
        int rc = check_key(r, m);
        if (rc != HV_OK)
            return rc;
        if (!field_index(t, m->string, &k))
            return fail_at(r, m->string, 0, "unknown field of %s (expected one of: %s)", TYPE(t),
                           NAMES(t));
        if (items[k].type != NULL)
            return fail_at(r, m->string, 0, "duplicate field");
        rc = read_child(r, t->fields[k].type, m, &items[k], t->fields[k].name, 0);
        if (rc != HV_OK)
            return rc;
    }
    for (size_t k = 0; k < t->nfields; k++) {
        if (items[k].type == NULL)
            return fail(r, "missing field \"%s\" of %s", t->fields[k].name, TYPE(t));
    }
    out->list.items = items;
    out->list.len = t->nfields;
    return HV_OK;
}

/* The members of an object that may only hold keys a and b (b may be
 * NULL); what names the object in messages. */
static int two_keys(reader_t *r, const cJSON *j, const char *a, const char *b, const char *what,
                    const cJSON **ma, const cJSON **mb)
{
    *ma = *mb = NULL;
    for (const cJSON *m = j->child; m != NULL; m = m->next) {
        int rc = check_key(r, m);
        if (rc != HV_OK)
            return rc;
        const cJSON **slot = strcmp(m->string, a) == 0          ? ma
                             : (b && strcmp(m->string, b) == 0) ? mb
                                                                : NULL;
        if (slot == NULL)
            return fail_at(r, m->string, 0, "unexpected key in %s (expected \"%s\"%s%s%s)", what, a,
                           b ? " or \"" : "", b ? b : "", b ? "\"" : "");
        if (*slot != NULL)
            return fail_at(r, m->string, 0, "duplicate key");
        *slot = m;
    }
    return HV_OK;
}

static int read_variant(reader_t *r, const hv_wit_type_t *t, const cJSON *j, hv_value_t *out)
{
    const cJSON *tag, *val;
    size_t k;
    if (!is(j, cJSON_Object))
        return fail(r, "expected %s ({\"tag\": case, \"val\": payload}), found %s", TYPE(t),
                    FOUND(j));
    int rc = two_keys(r, j, "tag", "val", TYPE(t), &tag, &val);
    if (rc != HV_OK)
        return rc;
    if (tag == NULL)
        return fail(r, "missing \"tag\" of %s", TYPE(t));
    if (!is(tag, cJSON_String))
        return fail_at(r, "tag", 0, "expected a case name of %s, found %s", TYPE(t), FOUND(tag));
    if (!field_index(t, tag->valuestring, &k) || str_len(tag) != strlen(tag->valuestring))
        return fail_at(r, "tag", 0, "unknown case %s of %s (expected one of: %s)", QUOTED(tag),
                       TYPE(t), NAMES(t));
    const hv_wit_field_t *c = &t->fields[k];
    out->var.tag = (uint32_t)k;
    if (c->type == NULL && val != NULL)
        return fail_at(r, "val", 0, "case %s of %s has no payload, found %s", c->name, TYPE(t),
                       FOUND(val));
    if (c->type == NULL)
        return HV_OK;
    if (val == NULL)
        return fail(r, "missing \"val\" for case %s of %s", c->name, TYPE(t));
    if ((out->var.payload = alloc(r, 1, sizeof(hv_value_t))) == NULL)
        return nomem(r);
    return read_child(r, c->type, val, out->var.payload, "val", 0);
}

static int read_enum(reader_t *r, const hv_wit_type_t *t, const cJSON *j, hv_value_t *out)
{
    size_t k;
    if (!is(j, cJSON_String))
        return fail(r, "expected %s (a case name), found %s", TYPE(t), FOUND(j));
    if (!field_index(t, j->valuestring, &k) || str_len(j) != strlen(j->valuestring))
        return fail(r, "unknown case %s of %s (expected one of: %s)", QUOTED(j), TYPE(t), NAMES(t));
    out->var.tag = (uint32_t)k;
    return HV_OK;
}

static int read_flags(reader_t *r, const hv_wit_type_t *t, const cJSON *j, hv_value_t *out)
{
    if (!is(j, cJSON_Array))
        return fail(r, "expected %s (an array of flag names), found %s", TYPE(t), FOUND(j));
    uint32_t *words = alloc(r, hv_value_flag_words(t), sizeof *words);
    if (words == NULL)
        return nomem(r);
    size_t i = 0, k;
    for (const cJSON *c = j->child; c != NULL; c = c->next, i++) {
        if (!is(c, cJSON_String))
            return fail_at(r, NULL, i, "expected a flag name of %s, found %s", TYPE(t), FOUND(c));
        if (!field_index(t, c->valuestring, &k) || str_len(c) != strlen(c->valuestring))
            return fail_at(r, NULL, i, "unknown flag %s of %s (expected one of: %s)", QUOTED(c),
                           TYPE(t), NAMES(t));
        uint32_t bit = (uint32_t)1 << (k % 32);
        if (words[k / 32] & bit)
            return fail_at(r, NULL, i, "duplicate flag \"%s\"", t->fields[k].name);
        words[k / 32] |= bit;
    }
    out->flags.words = words;
    return HV_OK;
}

/*
 * null is none. An object whose only key is "some" is the wrapper form,
 * which the writer uses when a bare payload would be ambiguous; any other
 * JSON is a bare payload, except for option<option<..>>, where a bare
 * payload could be read two ways and is refused.
 */
static int read_option(reader_t *r, const hv_wit_type_t *t, const cJSON *j, hv_value_t *out)
{
    const cJSON *some = NULL;
    if (is(j, cJSON_NULL)) {
        out->var.tag = 0;
        return HV_OK;
    }
    if (is(j, cJSON_Object) && j->child != NULL && j->child->next == NULL &&
        !(j->child->type & HV_JSON_KEYNUL) && strcmp(j->child->string, "some") == 0)
        some = j->child;
    if (some == NULL && t->elem->kind == HV_WIT_OPTION)
        return fail(r, "expected %s (null or {\"some\": ...}), found %s", TYPE(t), FOUND(j));
    out->var.tag = 1;
    if ((out->var.payload = alloc(r, 1, sizeof(hv_value_t))) == NULL)
        return nomem(r);
    if (some != NULL)
        return read_child(r, t->elem, some, out->var.payload, "some", 0);
    return read_child(r, t->elem, j, out->var.payload, NULL, SIZE_MAX);
}

static int read_result(reader_t *r, const hv_wit_type_t *t, const cJSON *j, hv_value_t *out)
{
    const cJSON *ok, *er;
    if (!is(j, cJSON_Object))
        return fail(r, "expected %s ({\"ok\": ...} or {\"err\": ...}), found %s", TYPE(t),
                    FOUND(j));
    int rc = two_keys(r, j, "ok", "err", TYPE(t), &ok, &er);
    if (rc != HV_OK)
        return rc;
    if ((ok == NULL) == (er == NULL))
        return fail(r, "expected exactly one of \"ok\" or \"err\" in %s, found %s", TYPE(t),
                    ok ? "both" : "neither");
    const cJSON *m = ok ? ok : er;
    const hv_wit_type_t *pt = ok ? t->elem : t->err;
    out->var.tag = ok ? 0 : 1;
    if (pt == NULL) {
        if (!is(m, cJSON_NULL))
            return fail_at(r, m->string, 0, "expected null (%s has no %s payload), found %s",
                           TYPE(t), m->string, FOUND(m));
        return HV_OK;
    }
    if ((out->var.payload = alloc(r, 1, sizeof(hv_value_t))) == NULL)
        return nomem(r);
    return read_child(r, pt, m, out->var.payload, ok ? "ok" : "err", 0);
}

static int read_value(reader_t *r, const hv_wit_type_t *t, const cJSON *j, hv_value_t *out)
{
    if (r->depth >= HV_VALUE_MAX_DEPTH)
        return fail(r, "nesting deeper than %d levels", HV_VALUE_MAX_DEPTH);
    out->type = t;
    switch (t->kind) {
    case HV_WIT_BOOL:
        if (!is(j, cJSON_True) && !is(j, cJSON_False))
            return fail(r, "expected bool, found %s", FOUND(j));
        out->b = is(j, cJSON_True);
        return HV_OK;
    case HV_WIT_S8:
    case HV_WIT_U8:
    case HV_WIT_S16:
    case HV_WIT_U16:
    case HV_WIT_S32:
    case HV_WIT_U32:
    case HV_WIT_S64:
    case HV_WIT_U64:
        return read_int(r, t, j, out);
    case HV_WIT_F32:
    case HV_WIT_F64:
        return read_float(r, t, j, out);
    case HV_WIT_CHAR:
        return read_char(r, t, j, out);
    case HV_WIT_STRING:
        return read_string(r, t, j, out);
    case HV_WIT_LIST:
        return read_list(r, t, j, out);
    case HV_WIT_TUPLE:
        return read_tuple(r, t, j, out);
    case HV_WIT_RECORD:
        return read_record(r, t, j, out);
    case HV_WIT_VARIANT:
        return read_variant(r, t, j, out);
    case HV_WIT_ENUM:
        return read_enum(r, t, j, out);
    case HV_WIT_FLAGS:
        return read_flags(r, t, j, out);
    case HV_WIT_OPTION:
        return read_option(r, t, j, out);
    case HV_WIT_RESULT:
        return read_result(r, t, j, out);
    }
    return fail(r, "unsupported type kind %d", (int)t->kind);
}

int hv_value_from_json(hv_arena_t *a, const hv_wit_type_t *t, const char *json, size_t len,
                       hv_value_t *ret, char *err, size_t errlen)
{
    cJSON *root = NULL;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (a == NULL || t == NULL || ret == NULL || (json == NULL && len > 0)) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "$: invalid argument");
        return HV_EINVAL;
    }
    int rc = hv_json_parse(json, len, &root, err, errlen);
    if (rc != HV_OK)
        return rc;
    reader_t r = {.a = a, .err = err, .errlen = errlen};
    hv_value_t v = {0};
    rc = read_value(&r, t, root, &v);
    cJSON_Delete(root); /* after the message: path steps point into it */
    if (rc == HV_OK)
        *ret = v;
    return rc;
}

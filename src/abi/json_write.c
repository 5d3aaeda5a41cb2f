/*
 * Value -> JSON text (hv_value_to_json).
 *
 * Written directly into a growing buffer rather than through a cJSON tree:
 * cJSON strings stop at the first NUL (WIT strings may hold U+0000), cJSON
 * prints every number as a double (so 64-bit integers and f32 values would
 * come out wrong or long), and a tree would cost a node per list<u8> byte.
 * The output is compact: no spaces, fields in declaration order.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_internal.h"

/* Integers beyond this magnitude are written as strings of digits: every
 * integer up to 2^53 is exact in a double, which is what most JSON readers
 * (cJSON, JavaScript) turn numbers into. */
#define EXACT_LIMIT ((uint64_t)1 << 53)

typedef struct {
    char *buf;
    size_t len, cap;
    bool bad; /* out of memory, or the value does not match its type */
} writer_t;

static bool reserve(writer_t *w, size_t n)
{
    if (w->bad)
        return false;
    if (w->cap - w->len >= n)
        return true;
    size_t cap = w->cap ? w->cap : 256;
    while (cap - w->len < n) {
        if (cap > SIZE_MAX / 2) {
            w->bad = true;
            return false;
        }
        cap *= 2;
    }
    char *p = realloc(w->buf, cap);
    if (p == NULL) {
        w->bad = true;
        return false;
    }
    w->buf = p;
    w->cap = cap;
    return true;
}

static void put(writer_t *w, const char *s, size_t n)
{
    if (n > 0 && reserve(w, n)) {
        memcpy(w->buf + w->len, s, n);
        w->len += n;
    }
}

static void puts_(writer_t *w, const char *s)
{
    put(w, s, strlen(s));
}

static void putc_(writer_t *w, char c)
{
    put(w, &c, 1);
}

/* The two-character escape of an ASCII byte, or NULL. */
static const char *short_escape(unsigned char c)
{
    switch (c) {
    case '"':
        return "\\\"";
    case '\\':
        return "\\\\";
    case '\n':
        return "\\n";
    case '\r':
        return "\\r";
    case '\t':
        return "\\t";
    case '\b':
        return "\\b";
    case '\f':
        return "\\f";
    default:
        return NULL;
    }
}

/*
 * A JSON string. Runs of bytes that need no escape are copied in one go.
 * Bytes that are not well-formed UTF-8 become U+FFFD: the canonical ABI
 * checks guest strings, but the output must be valid JSON even if some
 * producer slipped.
 */
static void put_string(writer_t *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0; /* verbatim bytes before i, not yet written */
    putc_(w, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        uint32_t cp;
        size_t k = c < 0x80 ? 1 : hv_json_utf8_decode(p + i, n - i, &cp);
        const char *esc = short_escape(c);
        if (esc == NULL && c >= 0x20 && k > 0) {
            run += k, i += k;
            continue;
        }
        put(w, (const char *)p + i - run, run);
        run = 0;
        if (esc != NULL) {
            puts_(w, esc);
        } else if (k == 0) {
            puts_(w, "\xEF\xBF\xBD"); /* U+FFFD */
        } else {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            put(w, u, sizeof u);
        }
        i += k ? k : 1;
    }
    if (run > 0)
        put(w, (const char *)p + n - run, run);
    putc_(w, '"');
}

static void put_u64(writer_t *w, uint64_t u, bool neg)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%s%" PRIu64, neg ? "-" : "", u);
    bool quote = u > EXACT_LIMIT;
    if (quote)
        putc_(w, '"');
    put(w, tmp, (size_t)n);
    if (quote)
        putc_(w, '"');
}

static void put_s64(writer_t *w, int64_t s)
{
    /* Magnitude as unsigned so INT64_MIN does not overflow. */
    put_u64(w, s < 0 ? (uint64_t)0 - (uint64_t)s : (uint64_t)s, s < 0);
}

static void put_f64(writer_t *w, double d)
{
    char tmp[32];
    if (!isfinite(d)) {
        puts_(w, "null");
        return;
    }
    put(w, tmp, hv_json_fmt_f64(d, tmp));
}

static void put_f32(writer_t *w, float f)
{
    char tmp[32];
    if (!isfinite(f)) {
        puts_(w, "null");
        return;
    }
    put(w, tmp, hv_json_fmt_f32(f, tmp));
}

/* list<u8>: digits straight into reserved space, it can be megabytes. */
static void put_bytes(writer_t *w, const uint8_t *p, size_t n)
{
    if (n > (SIZE_MAX - 2) / 4 || !reserve(w, n * 4 + 2)) {
        w->bad = true;
        return;
    }
    char *o = w->buf + w->len;
    *o++ = '[';
    for (size_t i = 0; i < n; i++) {
        unsigned b = p[i];
        if (i)
            *o++ = ',';
        if (b >= 100)
            *o++ = (char)('0' + b / 100);
        if (b >= 10)
            *o++ = (char)('0' + b / 10 % 10);
        *o++ = (char)('0' + b % 10);
    }
    *o++ = ']';
    w->len = (size_t)(o - w->buf);
}

static void put_value(writer_t *w, const hv_wit_type_t *t, const hv_value_t *v);

static void put_key(writer_t *w, const char *name)
{
    put_string(w, name, strlen(name));
    putc_(w, ':');
}

static void put_list(writer_t *w, const hv_wit_type_t *t, const hv_value_t *v)
{
    if (hv_value_is_bytes_type(t)) {
        if (v->bytes.len && v->bytes.ptr == NULL)
            w->bad = true;
        else
            put_bytes(w, v->bytes.ptr, v->bytes.len);
        return;
    }
    if (v->list.len && v->list.items == NULL) {
        w->bad = true;
        return;
    }
    putc_(w, '[');
    for (size_t i = 0; i < v->list.len && !w->bad; i++) {
        if (i)
            putc_(w, ',');
        put_value(w, t->elem, &v->list.items[i]);
    }
    putc_(w, ']');
}

/* Tuples are arrays, records objects; both keep declaration order. */
static void put_fields(writer_t *w, const hv_wit_type_t *t, const hv_value_t *v)
{
    bool rec = t->kind == HV_WIT_RECORD;
    if (t->nfields && v->list.items == NULL) {
        w->bad = true;
        return;
    }
    putc_(w, rec ? '{' : '[');
    for (size_t i = 0; i < t->nfields && !w->bad; i++) {
        if (i)
            putc_(w, ',');
        if (rec)
            put_key(w, t->fields[i].name);
        put_value(w, t->fields[i].type, &v->list.items[i]);
    }
    putc_(w, rec ? '}' : ']');
}

/*
 * Whether some(x) must be written {"some": x} rather than bare x. The
 * reader takes null as none and an object whose only key is "some" as the
 * wrapper, so the bare form is ambiguous when x is itself an option (null
 * or {"some": ..}), a float written as null (NaN, infinities), or a record
 * whose only field is named "some".
 */
static bool some_needs_wrap(const hv_wit_type_t *et, const hv_value_t *x)
{
    switch (et->kind) {
    case HV_WIT_OPTION:
        return true;
    case HV_WIT_F32:
        return !isfinite(x->f32);
    case HV_WIT_F64:
        return !isfinite(x->f64);
    case HV_WIT_RECORD:
        return et->nfields == 1 && strcmp(et->fields[0].name, "some") == 0;
    default:
        return false;
    }
}

static void put_option(writer_t *w, const hv_wit_type_t *t, const hv_value_t *v)
{
    if (v->var.tag == 0) {
        puts_(w, "null");
        return;
    }
    if (v->var.tag != 1 || v->var.payload == NULL) {
        w->bad = true;
        return;
    }
    bool wrap = some_needs_wrap(t->elem, v->var.payload);
    if (wrap)
        puts_(w, "{\"some\":");
    put_value(w, t->elem, v->var.payload);
    if (wrap)
        putc_(w, '}');
}

static void put_result(writer_t *w, const hv_wit_type_t *t, const hv_value_t *v)
{
    const hv_wit_type_t *pt = v->var.tag == 0 ? t->elem : t->err;
    if (v->var.tag > 1 || (pt != NULL) != (v->var.payload != NULL)) {
        w->bad = true;
        return;
    }
    puts_(w, v->var.tag == 0 ? "{\"ok\":" : "{\"err\":");
    if (pt != NULL)
        put_value(w, pt, v->var.payload);
    else
        puts_(w, "null");
    putc_(w, '}');
}

static void put_variant(writer_t *w, const hv_wit_type_t *t, const hv_value_t *v)
{
    if (v->var.tag >= t->nfields) {
        w->bad = true;
        return;
    }
    const hv_wit_field_t *c = &t->fields[v->var.tag];
    if ((c->type != NULL) != (v->var.payload != NULL)) {
        w->bad = true;
        return;
    }
    puts_(w, "{\"tag\":");
    put_string(w, c->name, strlen(c->name));
    if (c->type != NULL) {
        puts_(w, ",\"val\":");
        put_value(w, c->type, v->var.payload);
    }
    putc_(w, '}');
}

static void put_flags(writer_t *w, const hv_wit_type_t *t, const hv_value_t *v)
{
    bool first = true;
    if (v->flags.words == NULL) {
        w->bad = true;
        return;
    }
    putc_(w, '[');
    for (size_t i = 0; i < t->nfields; i++) {
        if (!(v->flags.words[i / 32] & ((uint32_t)1 << (i % 32))))
            continue;
        if (!first)
            putc_(w, ',');
        first = false;
        put_string(w, t->fields[i].name, strlen(t->fields[i].name));
    }
    putc_(w, ']');
}

static void put_char(writer_t *w, uint32_t ch)
{
    char tmp[4];
    if (ch > 0x10FFFF || (ch >= 0xD800 && ch <= 0xDFFF)) {
        w->bad = true;
        return;
    }
    put_string(w, tmp, hv_json_utf8_encode(ch, tmp));
}

/* The type comes from the parent, like in hv_value_equal. */
static void put_value(writer_t *w, const hv_wit_type_t *t, const hv_value_t *v)
{
    if (w->bad)
        return;
    switch (t->kind) {
    case HV_WIT_BOOL:
        puts_(w, v->b ? "true" : "false");
        break;
    case HV_WIT_S8:
    case HV_WIT_S16:
    case HV_WIT_S32:
    case HV_WIT_S64:
        put_s64(w, v->s);
        break;
    case HV_WIT_U8:
    case HV_WIT_U16:
    case HV_WIT_U32:
    case HV_WIT_U64:
        put_u64(w, v->u, false);
        break;
    case HV_WIT_F32:
        put_f32(w, v->f32);
        break;
    case HV_WIT_F64:
        put_f64(w, v->f64);
        break;
    case HV_WIT_CHAR:
        put_char(w, v->ch);
        break;
    case HV_WIT_STRING:
        if (v->str.len && v->str.ptr == NULL)
            w->bad = true;
        else
            put_string(w, v->str.ptr, v->str.len);
        break;
    case HV_WIT_LIST:
        put_list(w, t, v);
        break;
    case HV_WIT_TUPLE:
    case HV_WIT_RECORD:
        put_fields(w, t, v);
        break;
    case HV_WIT_OPTION:
        put_option(w, t, v);
        break;
    case HV_WIT_RESULT:
        put_result(w, t, v);
        break;
    case HV_WIT_VARIANT:
        put_variant(w, t, v);
        break;
    case HV_WIT_ENUM:
        if (v->var.tag >= t->nfields)
            w->bad = true;
        else
            put_string(w, t->fields[v->var.tag].name, strlen(t->fields[v->var.tag].name));
        break;
    case HV_WIT_FLAGS:
        put_flags(w, t, v);
        break;
    default:
        w->bad = true;
    }
}

char *hv_value_to_json(const hv_value_t *v)
{
    writer_t w = {0};
    if (v == NULL || v->type == NULL)
        return NULL;
    put_value(&w, v->type, v);
    putc_(&w, '\0');
    if (w.bad) {
        free(w.buf);
        return NULL;
    }
    return w.buf;
}

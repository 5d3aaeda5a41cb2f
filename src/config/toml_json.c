/*
 * TOML values -> JSON: toml-test's tagged form (hv_toml_write_tagged_json)
 * and plain JSON (hv_toml_to_json).
 *
 * Both build the text in a growing buffer, written directly rather than
 * through cJSON: cJSON strings stop at U+0000 (TOML strings may hold it)
 * and cJSON prints every number as a double, which would round 64-bit
 * integers.
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml_impl.h"

typedef struct {
    char *buf;
    size_t len, cap;
    bool bad; /* out of memory: stop writing, report at the end */
    bool tagged;
} writer_t;

static void put(writer_t *w, const char *s, size_t n)
{
    if (w->bad)
        return;
    if (w->cap - w->len < n + 1) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap - w->len < n + 1)
            cap *= 2;
        char *grown = realloc(w->buf, cap);
        if (grown == NULL) {
            w->bad = true;
            return;
        }
        w->buf = grown;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

static void puts_(writer_t *w, const char *s)
{
    put(w, s, strlen(s));
}

/* A JSON string: control characters escaped, other UTF-8 as it is. */
static void put_string(writer_t *w, const char *s, size_t n)
{
    put(w, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7F)
            continue;
        put(w, s + run, i - run);
        run = i + 1;
        char esc[8];
        switch (c) {
        case '"':
            put(w, "\\\"", 2);
            break;
        case '\\':
            put(w, "\\\\", 2);
            break;
        case '\b':
            put(w, "\\b", 2);
            break;
        case '\f':
            put(w, "\\f", 2);
            break;
        case '\n':
            put(w, "\\n", 2);
            break;
        case '\r':
            put(w, "\\r", 2);
            break;
        case '\t':
            put(w, "\\t", 2);
            break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(w, esc, 6);
        }
    }
    put(w, s + run, n - run);
    put(w, "\"", 1);
}

/*
 * The shortest "%.Ng" text that reads back as d (printf has no such
 * conversion): precisions 15..17 are the only candidates for a normal
 * double, 17 always works; subnormals may need fewer digits.
 */
static void fmt_float(double d, bool plain, char out[40])
{
    if (isnan(d)) {
        strcpy(out, "nan");
        return;
    }
    if (isinf(d)) {
        strcpy(out, d < 0 ? "-inf" : "inf");
        return;
    }
    for (int prec = fabs(d) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
        snprintf(out, 40, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            break;
    }
    /* "3" would read back as an integer; plain JSON keeps floats visibly
     * floats. */
    if (plain && strpbrk(out, ".e") == NULL)
        strcat(out, ".0");
}

/* RFC 3339 text: the separator is always 'T', an offset of 0 is "Z", and
 * the fraction has no trailing zeros (none at all for whole seconds). */
static size_t fmt_datetime(const hv_toml_value_t *v, char out[48])
{
    size_t n = 0;
    if (v->kind != HV_TOML_TIME_LOCAL)
        n += (size_t)snprintf(out, 48, "%04d-%02d-%02d", v->dt.year, v->dt.month, v->dt.day);
    if (v->kind == HV_TOML_DATE_LOCAL)
        return n;
    if (n > 0)
        out[n++] = 'T';
    n +=
        (size_t)snprintf(out + n, 48 - n, "%02d:%02d:%02d", v->dt.hour, v->dt.minute, v->dt.second);
    if (v->dt.nanosecond != 0) {
        char frac[16];
        snprintf(frac, sizeof frac, ".%09d", (int)v->dt.nanosecond);
        size_t f = strlen(frac);
        while (frac[f - 1] == '0')
            f--;
        memcpy(out + n, frac, f);
        n += f;
    }
    if (v->kind == HV_TOML_DATETIME) {
        int off = v->dt.offset_minutes;
        if (off == 0)
            out[n++] = 'Z';
        else
            n += (size_t)snprintf(out + n, 48 - n, "%c%02d:%02d", off < 0 ? '-' : '+',
                                  abs(off) / 60, abs(off) % 60);
    }
    out[n] = '\0';
    return n;
}

static const char *type_tag(hv_toml_kind_t kind)
{
    switch (kind) {
    case HV_TOML_STRING:
        return "string";
    case HV_TOML_INTEGER:
        return "integer";
    case HV_TOML_FLOAT:
        return "float";
    case HV_TOML_BOOL:
        return "bool";
    case HV_TOML_DATETIME:
        return "datetime";
    case HV_TOML_DATETIME_LOCAL:
        return "datetime-local";
    case HV_TOML_DATE_LOCAL:
        return "date-local";
    case HV_TOML_TIME_LOCAL:
        return "time-local";
    default:
        return "?";
    }
}

/* A leaf: tagged {"type": ..., "value": "<text>"}, or plain JSON. */
static void put_leaf(writer_t *w, const hv_toml_value_t *v)
{
    char text[48];
    size_t n = 0;
    bool quoted = true; /* plain JSON: numbers and booleans go bare */
    switch (v->kind) {
    case HV_TOML_STRING:
        break;
    case HV_TOML_INTEGER:
        n = (size_t)snprintf(text, sizeof text, "%" PRId64, v->i);
        quoted = false;
        break;
    case HV_TOML_FLOAT:
        fmt_float(v->f, !w->tagged, text);
        n = strlen(text);
        quoted = !isfinite(v->f); /* JSON has no inf or nan */
        break;
    case HV_TOML_BOOL:
        n = strlen(strcpy(text, v->b ? "true" : "false"));
        quoted = false;
        break;
    default:
        n = fmt_datetime(v, text);
        break;
    }
    if (w->tagged) {
        puts_(w, "{\"type\":\"");
        puts_(w, type_tag(v->kind));
        puts_(w, "\",\"value\":");
    }
    if (v->kind == HV_TOML_STRING)
        put_string(w, v->str.ptr, v->str.len);
    else if (quoted || w->tagged)
        put_string(w, text, n);
    else
        put(w, text, n);
    if (w->tagged)
        put(w, "}", 1);
}

/* Recursion is bounded: documents nest at most HV_TOML_MAX_DEPTH deep. */
static void put_value(writer_t *w, const hv_toml_value_t *v)
{
    if (v->kind == HV_TOML_TABLE) {
        put(w, "{", 1);
        for (size_t i = 0; i < v->table.len; i++) {
            if (i > 0)
                put(w, ",", 1);
            const hv_toml_kv_t *kv = &v->table.items[i];
            put_string(w, kv->key, toml__key_len(kv->key));
            put(w, ":", 1);
            put_value(w, kv->value);
        }
        put(w, "}", 1);
    } else if (v->kind == HV_TOML_ARRAY) {
        put(w, "[", 1);
        for (size_t i = 0; i < v->array.len; i++) {
            if (i > 0)
                put(w, ",", 1);
            put_value(w, v->array.items[i]);
        }
        put(w, "]", 1);
    } else {
        put_leaf(w, v);
    }
}

int hv_toml_write_tagged_json(FILE *out, const hv_toml_value_t *v)
{
    writer_t w = {.tagged = true};
    if (v == NULL)
        return -1;
    put_value(&w, v);
    int rc = w.bad || fwrite(w.buf, 1, w.len, out) != w.len || ferror(out) ? -1 : 0;
    free(w.buf);
    return rc;
}

char *hv_toml_to_json(const hv_toml_value_t *v)
{
    writer_t w = {.tagged = false};
    if (v == NULL)
        return NULL;
    put_value(&w, v);
    if (w.bad) {
        free(w.buf);
        return NULL;
    }
    return w.buf;
}

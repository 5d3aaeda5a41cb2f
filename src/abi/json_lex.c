/*
 * JSON text -> cJSON tree, made strict and exact.
 *
 * cJSON alone is too lenient, loses information and reports errors at
 * rough positions, so a validating scan runs first and the tree is patched
 * afterwards:
 *  - cJSON accepts "01", "1.", raw control characters and any byte <= 0x20
 *    as whitespace, invalid UTF-8, "\uZZZZ" (as U+0000) and text after the
 *    value. The scan checks the whole RFC 8259 grammar (and our nesting
 *    limit) and names the line and column of the first offence, so cJSON
 *    only ever sees valid JSON and can fail only for want of memory.
 *  - cJSON keeps numbers only as doubles, which cannot hold every 64-bit
 *    integer (Python's json.dumps writes 2**63 + 1 as plain digits) nor
 *    tell 1e-400 from 0, and strings as C strings, which end at a
 *    "\u0000". The scan remembers such tokens by their ordinal among the
 *    text's numbers or strings; as cJSON builds its tree in text order, a
 *    depth-first walk meets them in the same order and hangs the exact text
 *    or length on the item (see the HV_JSON_* flags).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_internal.h"

/* A number whose double may be inexact, or a string holding U+0000. */
typedef struct {
    size_t ordinal; /* among numbers, or among strings (keys included) */
    size_t off, len;
    bool is_string;
} fix_t;

typedef struct {
    const unsigned char *s;
    size_t n, i;
    size_t nnum, nstr;
    fix_t *fix;
    size_t nfix, capfix;
    bool nomem;
    size_t err_at; /* first lexical error, when why[0] != 0 */
    char why[80];
} lex_t;

static bool lex_fail(lex_t *L, size_t at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(L->why, sizeof L->why, fmt, ap);
    va_end(ap);
    L->err_at = at;
    return false;
}

static bool add_fix(lex_t *L, size_t ordinal, size_t off, size_t len, bool is_string)
{
    if (L->nfix == L->capfix) {
        size_t cap = L->capfix ? L->capfix * 2 : 16;
        fix_t *p = realloc(L->fix, cap * sizeof *p);
        if (p == NULL) {
            L->nomem = true;
            return false;
        }
        L->fix = p;
        L->capfix = cap;
    }
    L->fix[L->nfix++] = (fix_t){ordinal, off, len, is_string};
    return true;
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Bytes cJSON's number scan would swallow after a token. */
static bool is_numchar(unsigned char c)
{
    return is_digit(c) || c == '+' || c == '-' || c == '.' || c == 'e' || c == 'E';
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The 4 hex digits after "\u" at p, or -1. */
static long hex4(const lex_t *L, size_t p)
{
    long v = 0;
    if (L->n - p < 6 || L->s[p] != '\\' || L->s[p + 1] != 'u')
        return -1;
    for (size_t k = 2; k < 6; k++) {
        int h = hexval(L->s[p + k]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* "\u" escape at L->i, surrogate pairs included; sets *nul for U+0000. */
static bool lex_uescape(lex_t *L, bool *nul)
{
    size_t at = L->i;
    long cp = hex4(L, at);
    if (cp < 0)
        return lex_fail(L, at, "invalid \\u escape (4 hex digits expected)");
    L->i += 6;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return lex_fail(L, at, "unpaired surrogate \\u%04lx in string", cp);
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        long lo = hex4(L, L->i);
        if (lo < 0xDC00 || lo > 0xDFFF)
            return lex_fail(L, at, "unpaired surrogate \\u%04lx in string", cp);
        L->i += 6;
    }
    if (cp == 0)
        *nul = true;
    return true;
}

static bool lex_string(lex_t *L)
{
    size_t start = L->i++;
    bool nul = false;
    for (;;) {
        if (L->i >= L->n)
            return lex_fail(L, start, "unterminated string");
        unsigned char c = L->s[L->i];
        uint32_t cp;
        size_t k;
        if (c == '"') {
            L->i++;
            break;
        } else if (c == '\\') {
            unsigned char e = L->i + 1 < L->n ? L->s[L->i + 1] : 0;
            if (e == 'u') {
                if (!lex_uescape(L, &nul))
                    return false;
            } else if (e && strchr("\"\\/bfnrt", e)) {
                L->i += 2;
            } else {
                return lex_fail(L, L->i, "invalid escape in string");
            }
        } else if (c < 0x20) {
            return lex_fail(L, L->i, "control character 0x%02x in string (must be escaped)", c);
        } else if ((k = hv_json_utf8_decode(L->s + L->i, L->n - L->i, &cp)) == 0) {
            return lex_fail(L, L->i, "invalid UTF-8 in string");
        } else {
            L->i += k;
        }
    }
    size_t ordinal = L->nstr++;
    return !nul || add_fix(L, ordinal, start, L->i - start, true);
}

static size_t skip_digits(lex_t *L)
{
    size_t n = 0;
    while (L->i < L->n && is_digit(L->s[L->i]))
        L->i++, n++;
    return n;
}

/*
 * RFC 8259 number grammar. cJSON hands the longest run of [0-9+-.eE] (up
 * to 63 bytes) to strtod, so a valid token must not be followed by one of
 * those bytes, and longer tokens are refused here rather than misread.
 *
 * Tokens whose double may misstate an integer are remembered: those with
 * 16+ digits (2^53 has 16) and those with an exponent (1e19, 1e-400). A
 * plain decimal of 15 digits or fewer is below 2^53, and its double is a
 * whole number exactly when it is one (rounding moves it by less than its
 * distance to any integer), so those need no text.
 */
static bool lex_number(lex_t *L)
{
    size_t start = L->i, digits;
    bool exponent = false;
    if (L->s[L->i] == '-')
        L->i++;
    if (L->i < L->n && L->s[L->i] == '0')
        L->i++, digits = 1;
    else if ((digits = skip_digits(L)) == 0)
        return lex_fail(L, start, "invalid number");
    if (L->i < L->n && L->s[L->i] == '.') {
        L->i++;
        size_t frac = skip_digits(L);
        if (frac == 0)
            return lex_fail(L, start, "invalid number (digits expected after '.')");
        digits += frac;
    }
    if (L->i < L->n && (L->s[L->i] == 'e' || L->s[L->i] == 'E')) {
        L->i++;
        exponent = true;
        if (L->i < L->n && (L->s[L->i] == '+' || L->s[L->i] == '-'))
            L->i++;
        if (skip_digits(L) == 0)
            return lex_fail(L, start, "invalid number (digits expected in exponent)");
    }
    if (L->i < L->n && is_numchar(L->s[L->i]))
        return lex_fail(L, start, "invalid number");
    if (L->i - start > 63)
        return lex_fail(L, start, "number longer than 63 characters");
    size_t ordinal = L->nnum++;
    return !(exponent || digits >= 16) || add_fix(L, ordinal, start, L->i - start, false);
}

/* "expected X, found Y" at the current byte. */
static bool lex_expected(lex_t *L, const char *what)
{
    if (L->i >= L->n)
        return lex_fail(L, L->i, "expected %s, found end of text", what);
    unsigned char c = L->s[L->i];
    if (c > 0x20 && c < 0x7F)
        return lex_fail(L, L->i, "expected %s, found '%c'", what, c);
    return lex_fail(L, L->i, "expected %s, found byte 0x%02x", what, c);
}

static bool lex_literal(lex_t *L)
{
    static const char *const words[] = {"true", "false", "null"};
    for (size_t k = 0; k < 3; k++) {
        size_t n = strlen(words[k]);
        if (L->n - L->i >= n && memcmp(L->s + L->i, words[k], n) == 0) {
            L->i += n;
            return true;
        }
    }
    return lex_expected(L, "a value");
}

/* What may come next. */
typedef enum {
    WANT_VALUE,
    WANT_VALUE_OR_CLOSE,
    WANT_KEY,
    WANT_KEY_OR_CLOSE,
    WANT_COLON,
    WANT_NEXT,
    WANT_END
} want_t;

/*
 * The grammar as a pushdown automaton over the text, one token per step.
 * The stack only needs "object or array" per level. A container is a value,
 * so text nested deeper than the value limit could never convert: refusing
 * it here also bounds cJSON's recursion.
 */
static bool lex(lex_t *L)
{
    bool object[HV_VALUE_MAX_DEPTH];
    size_t depth = 0;
    want_t want = WANT_VALUE;
    for (;;) {
        while (L->i < L->n && is_space(L->s[L->i]))
            L->i++;
        if (L->i >= L->n && want == WANT_END)
            return true;
        unsigned char c = L->i < L->n ? L->s[L->i] : 0;
        bool value = false;
        switch (want) {
        case WANT_END:
            return lex_fail(L, L->i, "text after the value");
        case WANT_COLON:
            if (L->i >= L->n || c != ':')
                return lex_expected(L, "':'");
            L->i++;
            want = WANT_VALUE;
            continue;
        case WANT_NEXT:
            if (L->i < L->n && c == ',') {
                L->i++;
                want = object[depth - 1] ? WANT_KEY : WANT_VALUE;
                continue;
            }
            if (L->i >= L->n || c != (object[depth - 1] ? '}' : ']'))
                return lex_expected(L, object[depth - 1] ? "',' or '}'" : "',' or ']'");
            break; /* the closer */
        case WANT_KEY:
        case WANT_KEY_OR_CLOSE:
            if (want == WANT_KEY_OR_CLOSE && L->i < L->n && c == '}')
                break;
            if (L->i >= L->n || c != '"')
                return lex_expected(L, want == WANT_KEY ? "a member name" : "a member name or '}'");
            if (!lex_string(L))
                return false;
            want = WANT_COLON;
            continue;
        case WANT_VALUE:
        case WANT_VALUE_OR_CLOSE:
            if (want == WANT_VALUE_OR_CLOSE && L->i < L->n && c == ']')
                break;
            if (L->i >= L->n)
                return lex_expected(L, "a value");
            if (c == '[' || c == '{') {
                if (depth == HV_VALUE_MAX_DEPTH)
                    return lex_fail(L, L->i, "nesting deeper than %d levels", HV_VALUE_MAX_DEPTH);
                object[depth++] = c == '{';
                L->i++;
                want = c == '{' ? WANT_KEY_OR_CLOSE : WANT_VALUE_OR_CLOSE;
                continue;
            }
            if (!(c == '"'                  ? lex_string(L)
                  : c == '-' || is_digit(c) ? lex_number(L)
                                            : lex_literal(L)))
                return false;
            value = true;
            break;
        }
        if (!value) { /* a closing bracket, checked above */
            L->i++;
            depth--;
        }
        want = depth > 0 ? WANT_NEXT : WANT_END;
    }
}

/* ---- patching the tree ------------------------------------------------- */

/* Decodes a validated string token (quotes included) into out; returns the
 * byte length. out needs token length bytes. */
static size_t unescape(const unsigned char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 1; i + 1 < n;) {
        if (s[i] != '\\') {
            out[o++] = (char)s[i++];
            continue;
        }
        unsigned char e = s[i + 1];
        const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
        if (e != 'u') {
            out[o++] = to[strchr(from, e) - from];
            i += 2;
            continue;
        }
        uint32_t cp = 0;
        for (size_t k = 2; k < 6; k++)
            cp = cp * 16 + (uint32_t)hexval(s[i + k]);
        i += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo = 0;
            for (size_t k = 2; k < 6; k++)
                lo = lo * 16 + (uint32_t)hexval(s[i + k]);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
        }
        o += hv_json_utf8_encode(cp, out + o);
    }
    return o;
}

typedef struct {
    const lex_t *L;
    size_t k, nnum, nstr;
    bool nomem;
} walk_t;

/* The next remembered token if it is this one. */
static const fix_t *take(walk_t *w, bool is_string)
{
    size_t ordinal = is_string ? w->nstr++ : w->nnum++;
    if (w->k < w->L->nfix && w->L->fix[w->k].is_string == is_string &&
        w->L->fix[w->k].ordinal == ordinal)
        return &w->L->fix[w->k++];
    return NULL;
}

static void patch_string(walk_t *w, cJSON *j, const fix_t *f)
{
    char *buf = cJSON_malloc(f->len);
    if (buf == NULL) {
        w->nomem = true;
        return;
    }
    size_t n = unescape(w->L->s + f->off, f->len, buf);
    buf[n] = '\0';
    cJSON_free(j->valuestring);
    j->valuestring = buf;
    j->valueint = (int)n; /* text is capped at 16 MiB */
    j->type |= HV_JSON_HASLEN;
}

static void patch_number(walk_t *w, cJSON *j, const fix_t *f)
{
    char *buf = cJSON_malloc(f->len + 1);
    if (buf == NULL) {
        w->nomem = true;
        return;
    }
    memcpy(buf, w->L->s + f->off, f->len);
    buf[f->len] = '\0';
    j->valuestring = buf; /* unused for numbers; cJSON_Delete frees it */
    j->type |= HV_JSON_EXACT;
}

/* Depth-first in text order: a member's key comes before its value. */
static void walk(walk_t *w, cJSON *j)
{
    for (; j != NULL && w->k < w->L->nfix && !w->nomem; j = j->next) {
        const fix_t *f;
        if (j->string != NULL && take(w, true) != NULL)
            j->type |= HV_JSON_KEYNUL;
        switch (j->type & 0xFF) {
        case cJSON_Number:
            if ((f = take(w, false)) != NULL)
                patch_number(w, j, f);
            break;
        case cJSON_String:
            if ((f = take(w, true)) != NULL)
                patch_string(w, j, f);
            break;
        case cJSON_Array:
        case cJSON_Object:
            walk(w, j->child);
            break;
        }
    }
}

/* ---- entry ------------------------------------------------------------- */

/* "line 3, column 7": 1-based, columns counted in characters. */
static void where(const unsigned char *s, size_t at, char *buf, size_t len)
{
    size_t line = 1, col = 1;
    for (size_t i = 0; i < at; i++) {
        if (s[i] == '\n')
            line++, col = 1;
        else if ((s[i] & 0xC0) != 0x80)
            col++;
    }
    snprintf(buf, len, "line %zu, column %zu", line, col);
}

static int malformed(const unsigned char *s, size_t at, const char *why, char *err, size_t errlen)
{
    char pos[64];
    where(s, at, pos, sizeof pos);
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "$: malformed JSON at %s: %s", pos, why);
    return HV_EINVAL;
}

static int nomem(char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "$: out of memory");
    return HV_ENOMEM;
}

int hv_json_parse(const char *text, size_t len, cJSON **ret, char *err, size_t errlen)
{
    const unsigned char *s = (const unsigned char *)text;
    if (len > HV_JSON_MAX_TEXT) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "$: JSON text of %zu bytes is over the %u MiB limit", len,
                     HV_JSON_MAX_TEXT >> 20);
        return HV_EINVAL;
    }
    lex_t L = {.s = s, .n = len};
    if (!lex(&L)) {
        free(L.fix);
        if (L.nomem)
            return nomem(err, errlen);
        return malformed(s, L.err_at, L.why, err, errlen);
    }
    /* The text is valid JSON now, so NULL means out of memory. */
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, NULL, 0);
    if (root == NULL) {
        free(L.fix);
        return nomem(err, errlen);
    }
    walk_t w = {.L = &L};
    walk(&w, root);
    free(L.fix);
    if (w.nomem) {
        cJSON_Delete(root);
        return nomem(err, errlen);
    }
    *ret = root;
    return HV_OK;
}

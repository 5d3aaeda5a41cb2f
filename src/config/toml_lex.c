/*
 * TOML characters: errors and positions, UTF-8, whitespace and comments,
 * keys and the four kinds of strings.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml_impl.h"

/* ---- errors and positions ---------------------------------------------- */

void toml__position(toml__parser_t *p, size_t off, int *line, int *col)
{
    if (off > p->len)
        off = p->len;
    /* Only an error message asks about an earlier offset; recount then. */
    if (off < p->pc_off) {
        p->pc_off = p->start;
        p->pc_line = p->pc_col = 1;
    }
    int l = p->pc_line, c = p->pc_col;
    for (size_t i = p->pc_off; i < off; i++) {
        unsigned char ch = (unsigned char)p->src[i];
        if (ch == '\n') {
            l++;
            c = 1;
        } else if ((ch & 0xC0) != 0x80) { /* columns count characters */
            c++;
        }
    }
    p->pc_off = off;
    p->pc_line = *line = l;
    p->pc_col = *col = c;
}

int toml__fail(toml__parser_t *p, size_t off, const char *fmt, ...)
{
    if (p->rc != HV_OK)
        return -1;
    p->rc = HV_EINVAL;
    if (p->err == NULL || p->errlen == 0)
        return -1;
    int line, col;
    toml__position(p, off, &line, &col);
    int n = snprintf(p->err, p->errlen, "%s:%d:%d: ", p->filename, line, col);
    if (n >= 0 && (size_t)n < p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int toml__oom(toml__parser_t *p)
{
    if (p->rc == HV_OK) {
        p->rc = HV_ENOMEM;
        if (p->err != NULL && p->errlen > 0)
            snprintf(p->err, p->errlen, "%s: out of memory", p->filename);
    }
    return -1;
}

const char *toml__describe(const toml__parser_t *p, size_t off, char out[32])
{
    if (off >= p->len)
        return "end of input";
    unsigned char c = (unsigned char)p->src[off];
    if (c == '\n')
        return "newline";
    if (c == '\r')
        return off + 1 < p->len && p->src[off + 1] == '\n' ? "newline" : "carriage return";
    if (c == '\t')
        return "tab";
    if (c < 0x20 || c == 0x7F) {
        snprintf(out, 32, "U+%04X", c);
        return out;
    }
    if (c < 0x80) {
        snprintf(out, 32, c == '\'' ? "\"%c\"" : "'%c'", c);
        return out;
    }
    /* A whole UTF-8 character, which check_utf8 made sure is valid up to
     * the offset it complains about (where it describes bytes instead). */
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (n > p->len - off)
        n = p->len - off;
    snprintf(out, 32, "'%.*s'", (int)n, p->src + off);
    return out;
}

int toml__expected(toml__parser_t *p, size_t off, const char *what)
{
    char buf[32];
    return toml__fail(p, off, "expected %s, found %s", what, toml__describe(p, off, buf));
}

/* ---- UTF-8 --------------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs,
 * no surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        if (c == 0xF4)
            hi = 0x8F; /* past U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

int toml__check_utf8(toml__parser_t *p)
{
    const unsigned char *s = (const unsigned char *)p->src;
    for (size_t i = p->start; i < p->len;) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = utf8_len(s + i, p->len - i);
        if (n == 0)
            return toml__fail(p, i, "invalid UTF-8 (byte 0x%02X starts no valid character)", s[i]);
        i += n;
    }
    return 0;
}

/* ---- whitespace, comments, newlines -------------------------------------- */

int toml__buf_put(toml__parser_t *p, const char *s, size_t n)
{
    if (p->bufcap - p->buflen < n + 1) { /* +1: room for a NUL later */
        size_t cap = p->bufcap ? p->bufcap : 256;
        while (cap - p->buflen < n + 1)
            cap *= 2;
        char *grown = realloc(p->buf, cap);
        if (grown == NULL)
            return toml__oom(p);
        p->buf = grown;
        p->bufcap = cap;
    }
    memcpy(p->buf + p->buflen, s, n);
    p->buflen += n;
    return 0;
}

bool toml__is_bare(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* Control characters other than tab may not appear anywhere raw. */
static bool is_control(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7F;
}

void toml__skip_ws(toml__parser_t *p)
{
    while (p->pos < p->len && (p->src[p->pos] == ' ' || p->src[p->pos] == '\t'))
        p->pos++;
}

size_t toml__newline(const toml__parser_t *p)
{
    if (p->pos < p->len && p->src[p->pos] == '\n')
        return 1;
    if (p->pos + 1 < p->len && p->src[p->pos] == '\r' && p->src[p->pos + 1] == '\n')
        return 2;
    return 0;
}

int toml__skip_comment(toml__parser_t *p)
{
    for (p->pos++; p->pos < p->len && toml__newline(p) == 0; p->pos++) {
        unsigned char c = (unsigned char)p->src[p->pos];
        if (is_control(c)) {
            char buf[32];
            return toml__fail(p, p->pos, "%s is not allowed in a comment",
                              toml__describe(p, p->pos, buf));
        }
    }
    return 0;
}

int toml__skip_blank(toml__parser_t *p)
{
    for (;;) {
        toml__skip_ws(p);
        size_t nl = toml__newline(p);
        if (nl > 0) {
            p->pos += nl;
        } else if (p->pos < p->len && p->src[p->pos] == '#') {
            if (toml__skip_comment(p) < 0)
                return -1;
        } else {
            return 0;
        }
    }
}

int toml__end_of_line(toml__parser_t *p, const char *after)
{
    toml__skip_ws(p);
    if (p->pos < p->len && p->src[p->pos] == '#' && toml__skip_comment(p) < 0)
        return -1;
    if (p->pos >= p->len)
        return 0;
    size_t nl = toml__newline(p);
    if (nl == 0) {
        char what[64];
        snprintf(what, sizeof what, "end of line after %s", after);
        return toml__expected(p, p->pos, what);
    }
    p->pos += nl;
    return 0;
}

/* ---- keys ---------------------------------------------------------------- */

int toml__parse_key(toml__parser_t *p)
{
    p->nparts = 0;
    p->buflen = 0;
    for (;;) {
        if (p->nparts == HV_TOML_MAX_DEPTH + 1)
            return toml__fail(p, p->pos, "key has more than %d parts", HV_TOML_MAX_DEPTH + 1);
        toml__keypart_t *part = &p->parts[p->nparts];
        part->src_off = p->pos;
        toml__position(p, p->pos, &part->line, &part->col);
        char c = p->pos < p->len ? p->src[p->pos] : '\0';
        if (c == '"' || c == '\'') {
            if (toml__parse_string(p, true, &part->off, &part->len) < 0)
                return -1;
        } else if (toml__is_bare((unsigned char)c)) {
            size_t start = p->pos;
            while (p->pos < p->len && toml__is_bare((unsigned char)p->src[p->pos]))
                p->pos++;
            part->off = p->buflen;
            part->len = p->pos - start;
            if (toml__buf_put(p, p->src + start, part->len) < 0)
                return -1;
        } else {
            return toml__expected(p, p->pos, "a key");
        }
        p->nparts++;
        toml__skip_ws(p);
        if (p->pos >= p->len || p->src[p->pos] != '.')
            return 0;
        p->pos++;
        toml__skip_ws(p);
    }
}

/* ---- strings --------------------------------------------------------------- */

static int hex_digits(toml__parser_t *p, size_t at, int n, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++) {
        char c = at + (size_t)i < p->len ? p->src[at + (size_t)i] : '\0';
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return toml__expected(p, at + (size_t)i,
                                  n == 4 ? "4 hex digits after \\u" : "8 hex digits after \\U");
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 0;
}

static int put_utf8(toml__parser_t *p, uint32_t cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | cp >> 12);
        b[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | cp >> 18);
        b[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        b[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return toml__buf_put(p, b, n);
}

/*
 * A "line ending backslash" in a multi-line basic string: '\', optional
 * whitespace, a newline, then every whitespace and newline up to the next
 * visible character is dropped. Anything but whitespace before the newline
 * makes it an invalid escape instead.
 */
static int line_continuation(toml__parser_t *p)
{
    p->pos++;
    toml__skip_ws(p);
    if (toml__newline(p) == 0)
        return toml__expected(p, p->pos, "a newline after a line-ending backslash");
    for (;;) {
        toml__skip_ws(p);
        size_t nl = toml__newline(p);
        if (nl == 0)
            return 0;
        p->pos += nl;
    }
}

/* At '\' in a basic string: appends what the escape stands for. */
static int escape(toml__parser_t *p, bool multi)
{
    size_t at = p->pos + 1;
    char c = at < p->len ? p->src[at] : '\0';
    static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
    const char *hit = c != '\0' ? strchr(from, c) : NULL;
    if (hit != NULL) {
        p->pos = at + 1;
        return toml__buf_put(p, &to[hit - from], 1);
    }
    if (c == 'u' || c == 'U') {
        int n = c == 'u' ? 4 : 8;
        uint32_t cp = 0;
        if (hex_digits(p, at + 1, n, &cp) < 0)
            return -1;
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return toml__fail(p, p->pos, "\\%c%.*s is not a Unicode scalar value", c, n,
                              p->src + at + 1);
        p->pos = at + 1 + (size_t)n;
        return put_utf8(p, cp);
    }
    if (multi && (c == ' ' || c == '\t' || c == '\n' || c == '\r'))
        return line_continuation(p);
    return toml__expected(p, at, "an escape (\\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX)");
}

/*
 * At the closing delimiter of a multi-line string: a run of up to five
 * quotes ends it, the first one or two belonging to the content ("""a""""
 * is `a"`). Returns 1 when the string ended, 0 when the quotes were
 * content.
 */
static int multi_quotes(toml__parser_t *p, char q)
{
    size_t n = 0;
    while (p->pos + n < p->len && p->src[p->pos + n] == q)
        n++;
    if (n < 3) {
        p->pos += n;
        return toml__buf_put(p, p->src + p->pos - n, n) < 0 ? -1 : 0;
    }
    /* More than five leave quotes after the delimiter, which the caller
     * then rejects as trailing junk. */
    size_t content = n - 3 > 2 ? 2 : n - 3;
    if (toml__buf_put(p, p->src + p->pos, content) < 0)
        return -1;
    p->pos += content + 3;
    return 1;
}

int toml__parse_string(toml__parser_t *p, bool key, size_t *off, size_t *len)
{
    size_t open = p->pos;
    char q = p->src[p->pos];
    bool basic = q == '"';
    bool multi = p->pos + 2 < p->len && p->src[p->pos + 1] == q && p->src[p->pos + 2] == q;
    if (multi && key)
        return toml__fail(p, open, "expected a key, found a multi-line string");
    const char *closing =
        multi ? (basic ? "'\"\"\"' closing the string" : "\"'''\" closing the string")
              : (basic ? "'\"' closing the string" : "\"'\" closing the string");
    *off = p->buflen;
    p->pos += multi ? 3 : 1;
    if (multi) /* a newline right after the opening delimiter is trimmed */
        p->pos += toml__newline(p);
    for (;;) {
        /* Copy the run of ordinary characters in one go. */
        size_t run = p->pos;
        while (run < p->len) {
            unsigned char c = (unsigned char)p->src[run];
            if (c == (unsigned char)q || (basic && c == '\\') || is_control(c))
                break;
            run++;
        }
        if (toml__buf_put(p, p->src + p->pos, run - p->pos) < 0)
            return -1;
        p->pos = run;
        if (p->pos >= p->len)
            return toml__expected(p, p->pos, closing);
        unsigned char c = (unsigned char)p->src[p->pos];
        if (c == (unsigned char)q) {
            if (!multi) {
                p->pos++;
                break;
            }
            int done = multi_quotes(p, q);
            if (done < 0)
                return -1;
            if (done)
                break;
        } else if (c == '\\') {
            if (escape(p, multi) < 0)
                return -1;
        } else if (multi && toml__newline(p) > 0) {
            /* CRLF comes out as LF, like every other newline. */
            p->pos += toml__newline(p);
            if (toml__buf_put(p, "\n", 1) < 0)
                return -1;
        } else if (c == '\n' || (c == '\r' && toml__newline(p) > 0)) {
            return toml__expected(p, p->pos, closing);
        } else {
            char buf[32];
            return toml__fail(p, p->pos,
                              basic ? "%s must be escaped in a string"
                                    : "%s is not allowed in a literal string",
                              toml__describe(p, p->pos, buf));
        }
    }
    *len = p->buflen - *off;
    return 0;
}

/*
 * TOML scalars other than strings: booleans, integers, floats and the four
 * date/time kinds. Each reader follows TOML 1.0's grammar exactly and
 * points at the first character that breaks it; the caller checks what
 * comes after the value.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "toml_impl.h"

/* The byte at i, or NUL past the end (NUL is never valid where this asks). */
static char at(const toml__parser_t *p, size_t i)
{
    return i < p->len ? p->src[i] : '\0';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int digit_value(char c, int base)
{
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : 99;
    return d < base ? d : -1;
}

/* The number-like word at off, for messages: "0123", "1e", "tru". */
static int word_len(const toml__parser_t *p, size_t off)
{
    size_t n = 0;
    while (n < 40 && (toml__is_bare((unsigned char)at(p, off + n)) || at(p, off + n) == '.' ||
                      at(p, off + n) == '+'))
        n++;
    return (int)n;
}

int toml__bad_value(toml__parser_t *p, size_t off)
{
    int n = word_len(p, off);
    if (n == 0 || !toml__is_bare((unsigned char)at(p, off)))
        return toml__expected(p, off, "a value");
    return toml__fail(p, off, "expected a value, found '%.*s'", n, p->src + off);
}

/* ---- booleans -------------------------------------------------------------- */

static bool match(const toml__parser_t *p, const char *word)
{
    size_t n = strlen(word);
    return p->len - p->pos >= n && memcmp(p->src + p->pos, word, n) == 0 &&
           !toml__is_bare((unsigned char)at(p, p->pos + n));
}

static int parse_bool(toml__parser_t *p, hv_toml_value_t *v)
{
    v->kind = HV_TOML_BOOL;
    if (match(p, "true")) {
        v->b = true;
        p->pos += 4;
    } else if (match(p, "false")) {
        v->b = false;
        p->pos += 5;
    } else {
        return toml__bad_value(p, p->pos);
    }
    return 0;
}

/* ---- numbers --------------------------------------------------------------- */

/*
 * digit *( digit / "_" digit ): an underscore must sit between two digits.
 * Appends the digits, without underscores, to p->buf.
 */
static int digits(toml__parser_t *p, int base, const char *what)
{
    if (digit_value(at(p, p->pos), base) < 0)
        return toml__expected(p, p->pos, what);
    for (;;) {
        if (toml__buf_put(p, p->src + p->pos, 1) < 0)
            return -1;
        p->pos++;
        if (at(p, p->pos) == '_') {
            if (digit_value(at(p, p->pos + 1), base) < 0)
                return toml__expected(p, p->pos + 1, "a digit after '_'");
            p->pos++;
        } else if (digit_value(at(p, p->pos), base) < 0) {
            return 0;
        }
    }
}

/* "1x", "1.2.3", "0b102": a word that goes on past a complete number. */
static int end_of_number(toml__parser_t *p)
{
    if (toml__is_bare((unsigned char)at(p, p->pos)) || at(p, p->pos) == '.')
        return toml__expected(p, p->pos, "a digit or the end of the number");
    return 0;
}

/* p->buf (digits, maybe after a sign) as an int64_t, refusing overflow. */
static int to_integer(toml__parser_t *p, size_t start, int base, hv_toml_value_t *v)
{
    const char *s = p->buf;
    bool neg = s[0] == '-';
    size_t i = s[0] == '-' || s[0] == '+';
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, mag = 0;
    for (; i < p->buflen; i++) {
        uint64_t d = (uint64_t)digit_value(s[i], base);
        if (mag > (limit - d) / (uint64_t)base)
            return toml__fail(p, start,
                              "expected an integer from -9223372036854775808 to "
                              "9223372036854775807, found %.*s",
                              (int)(p->pos - start), p->src + start);
        mag = mag * (uint64_t)base + d;
    }
    v->kind = HV_TOML_INTEGER;
    /* -(2^63) has no positive int64_t counterpart: negate in unsigned. */
    v->i = neg ? (int64_t)(~mag + 1) : (int64_t)mag;
    return 0;
}

/* 0x, 0o, 0b: unsigned, leading zeros allowed, underscores as usual. */
static int based_integer(toml__parser_t *p, size_t start, hv_toml_value_t *v)
{
    char prefix = at(p, p->pos + 1);
    int base = prefix == 'x' ? 16 : prefix == 'o' ? 8 : 2;
    p->pos += 2;
    if (digits(p, base,
               base == 16  ? "a hex digit after 0x"
               : base == 8 ? "an octal digit after 0o"
                           : "a binary digit after 0b") < 0 ||
        end_of_number(p) < 0)
        return -1;
    return to_integer(p, start, base, v);
}

static int parse_number(toml__parser_t *p, hv_toml_value_t *v)
{
    size_t start = p->pos;
    p->buflen = 0;
    char sign = at(p, p->pos);
    if (sign == '+' || sign == '-') {
        if (toml__buf_put(p, &sign, 1) < 0)
            return -1;
        p->pos++;
    } else {
        sign = '\0';
    }
    if (match(p, "inf") || match(p, "nan")) {
        v->kind = HV_TOML_FLOAT;
        v->f = p->src[p->pos] == 'i' ? (double)INFINITY : (double)NAN;
        if (sign == '-')
            v->f = -v->f;
        p->pos += 3;
        return 0;
    }
    char c = at(p, p->pos), prefix = at(p, p->pos + 1);
    if (c == '0' && (prefix == 'x' || prefix == 'o' || prefix == 'b')) {
        if (sign != '\0')
            return toml__fail(p, start, "expected an unsigned number after 0%c, found a sign",
                              prefix);
        return based_integer(p, start, v);
    }
    if (!is_digit(c))
        return sign ? toml__expected(p, p->pos, "a digit, 'inf' or 'nan' after the sign")
                    : toml__bad_value(p, start);

    size_t int_start = p->pos;
    if (digits(p, 10, "a digit") < 0)
        return -1;
    if (c == '0' && p->pos - int_start > 1)
        return toml__fail(p, int_start, "expected a number without leading zeros, found '%.*s'",
                          word_len(p, int_start), p->src + int_start);
    bool is_float = false;
    if (at(p, p->pos) == '.') {
        is_float = true;
        p->pos++;
        if (toml__buf_put(p, ".", 1) < 0 || digits(p, 10, "a digit after '.'") < 0)
            return -1;
    }
    if (at(p, p->pos) == 'e' || at(p, p->pos) == 'E') {
        is_float = true;
        p->pos++;
        if (toml__buf_put(p, "e", 1) < 0)
            return -1;
        char esign = at(p, p->pos);
        if (esign == '+' || esign == '-') {
            p->pos++;
            if (toml__buf_put(p, &esign, 1) < 0)
                return -1;
        }
        if (digits(p, 10, "a digit in the exponent") < 0)
            return -1;
    }
    if (end_of_number(p) < 0)
        return -1;
    if (!is_float)
        return to_integer(p, start, 10, v);

    p->buf[p->buflen] = '\0'; /* toml__buf_put keeps room for it */
    v->kind = HV_TOML_FLOAT;
    v->f = strtod(p->buf, NULL); /* the daemon never calls setlocale: '.' */
    if (isinf(v->f))
        return toml__fail(p, start, "expected a float within the range of a double, found %.*s",
                          (int)(p->pos - start), p->src + start);
    return 0;
}

/* ---- dates and times ------------------------------------------------------- */

/* Exactly n digits. */
static int fixed(toml__parser_t *p, int n, const char *what, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = at(p, p->pos + (size_t)i);
        if (!is_digit(c))
            return toml__expected(p, p->pos + (size_t)i, what);
        v = v * 10 + (c - '0');
    }
    p->pos += (size_t)n;
    *out = v;
    return 0;
}

/* Exactly n digits from lo to hi, as in "expected a month 01-12, found 13". */
static int field(toml__parser_t *p, int n, const char *what, int lo, int hi, int *out)
{
    size_t off = p->pos;
    char expect[64];
    snprintf(expect, sizeof expect, "%s %0*d-%0*d", what, n, lo, n, hi);
    if (fixed(p, n, expect, out) < 0)
        return -1;
    if (*out < lo || *out > hi)
        return toml__fail(p, off, "expected %s, found %0*d", expect, n, *out);
    return 0;
}

static int literal(toml__parser_t *p, char c, const char *what)
{
    if (at(p, p->pos) != c)
        return toml__expected(p, p->pos, what);
    p->pos++;
    return 0;
}

static int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    return month == 2 && leap ? 29 : days[month - 1];
}

static int parse_date(toml__parser_t *p, hv_toml_value_t *v)
{
    if (field(p, 4, "a year", 0, 9999, &v->dt.year) < 0 || literal(p, '-', "'-'") < 0 ||
        field(p, 2, "a month", 1, 12, &v->dt.month) < 0 || literal(p, '-', "'-'") < 0)
        return -1;
    size_t off = p->pos;
    if (fixed(p, 2, "a 2-digit day", &v->dt.day) < 0)
        return -1;
    int last = days_in_month(v->dt.year, v->dt.month);
    if (v->dt.day < 1 || v->dt.day > last)
        return toml__fail(p, off, "expected a day 01-%02d in %04d-%02d, found %02d", last,
                          v->dt.year, v->dt.month, v->dt.day);
    return 0;
}

/* HH:MM:SS[.fraction]; digits past nanoseconds are dropped (truncated). */
static int parse_time(toml__parser_t *p, hv_toml_value_t *v)
{
    if (field(p, 2, "an hour", 0, 23, &v->dt.hour) < 0 || literal(p, ':', "':'") < 0 ||
        field(p, 2, "a minute", 0, 59, &v->dt.minute) < 0 ||
        literal(p, ':', "':' and seconds") < 0 || field(p, 2, "a second", 0, 59, &v->dt.second) < 0)
        return -1;
    if (at(p, p->pos) != '.')
        return 0;
    p->pos++;
    if (!is_digit(at(p, p->pos)))
        return toml__expected(p, p->pos, "a digit after '.'");
    int32_t ns = 0;
    for (int i = 0; i < 9 || is_digit(at(p, p->pos)); i++) {
        char c = at(p, p->pos);
        if (i < 9)
            ns = ns * 10 + (is_digit(c) ? c - '0' : 0);
        if (is_digit(c))
            p->pos++;
    }
    v->dt.nanosecond = ns;
    return 0;
}

static int parse_offset(toml__parser_t *p, hv_toml_value_t *v)
{
    char c = at(p, p->pos);
    p->pos++;
    if (c == 'Z' || c == 'z')
        return 0;
    int hours, minutes;
    if (field(p, 2, "an offset hour", 0, 23, &hours) < 0 || literal(p, ':', "':'") < 0 ||
        field(p, 2, "an offset minute", 0, 59, &minutes) < 0)
        return -1;
    v->dt.offset_minutes = (c == '-' ? -1 : 1) * (hours * 60 + minutes);
    return 0;
}

/* A date, a date and time (T, t or space between), or a time. */
static int parse_datetime(toml__parser_t *p, hv_toml_value_t *v, bool date)
{
    if (!date) {
        v->kind = HV_TOML_TIME_LOCAL;
        return parse_time(p, v);
    }
    v->kind = HV_TOML_DATE_LOCAL;
    if (parse_date(p, v) < 0)
        return -1;
    char c = at(p, p->pos);
    if (!(c == 'T' || c == 't' || (c == ' ' && is_digit(at(p, p->pos + 1)))))
        return 0;
    p->pos++;
    v->kind = HV_TOML_DATETIME_LOCAL;
    if (parse_time(p, v) < 0)
        return -1;
    c = at(p, p->pos);
    if (c != 'Z' && c != 'z' && c != '+' && c != '-')
        return 0;
    v->kind = HV_TOML_DATETIME;
    return parse_offset(p, v);
}

int toml__parse_scalar(toml__parser_t *p, hv_toml_value_t *v)
{
    char c = at(p, p->pos);
    if (c == 't' || c == 'f')
        return parse_bool(p, v);
    if (is_digit(c)) {
        size_t n = 0;
        while (is_digit(at(p, p->pos + n)))
            n++;
        if (n == 4 && at(p, p->pos + 4) == '-')
            return parse_datetime(p, v, true);
        if (n == 2 && at(p, p->pos + 2) == ':')
            return parse_datetime(p, v, false);
    }
    if (is_digit(c) || c == '+' || c == '-' || c == 'i' || c == 'n')
        return parse_number(p, v);
    return toml__bad_value(p, p->pos);
}

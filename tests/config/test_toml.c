/*
 * TOML parser: the toml-test 1.0.0 suite (every valid case gives the
 * expected tagged JSON, every invalid case is refused), then error
 * messages and positions, lookups, key positions, plain JSON, the size and
 * depth caps, and big inputs staying linear.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "hv_toml.h"

#define SUITE_DIR HV_SOURCE_DIR "/../shared/toml-test/tests"

/* ---- helpers ------------------------------------------------------------- */

static hv_toml_doc_t *parse_ok(const char *text)
{
    hv_toml_doc_t *doc = NULL;
    char err[512];
    int rc = hv_toml_parse(text, strlen(text), "t.toml", &doc, err, sizeof err);
    if (rc != HV_OK)
        print_error("unexpected error: %s\n", err);
    assert_int_equal(rc, HV_OK);
    assert_non_null(doc);
    return doc;
}

static void expect_error(const char *text, size_t len, const char *message)
{
    hv_toml_doc_t *doc = (hv_toml_doc_t *)(uintptr_t)0x1; /* must stay untouched */
    char err[512];
    int rc = hv_toml_parse(text, len, "t.toml", &doc, err, sizeof err);
    if (rc != HV_EINVAL || strcmp(err, message) != 0)
        print_error("input:    %.*s\nexpected: %s\ngot:      %s (%d)\n", (int)len, text, message,
                    err, rc);
    assert_int_equal(rc, HV_EINVAL);
    assert_string_equal(err, message);
    assert_ptr_equal(doc, (hv_toml_doc_t *)(uintptr_t)0x1);
}

#define EXPECT_ERROR(text, message) expect_error(text, sizeof text - 1, message)

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    for (size_t got; buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            char *grown = realloc(buf, 2 * cap + 1);
            if (grown == NULL)
                free(buf);
            buf = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf != NULL)
        buf[n] = '\0';
    *len = n;
    return buf;
}

static char *tagged_json(const hv_toml_value_t *v)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(hv_toml_write_tagged_json(f, v), 0);
    assert_int_equal(fclose(f), 0);
    return text;
}

/* ---- toml-test's comparison rules ------------------------------------------ */

typedef struct {
    int year, month, day, hour, minute, second;
    long nanos;
    int offset; /* minutes */
    bool has_date, has_time, has_offset;
} stamp_t;

static bool digits_at(const char *s, int n, int *out)
{
    *out = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *out = *out * 10 + (s[i] - '0');
    }
    return true;
}

/* RFC 3339 / TOML date-time text, written independently of the parser so
 * both sides of the comparison do not share its mistakes. */
static bool parse_stamp(const char *s, stamp_t *t)
{
    memset(t, 0, sizeof *t);
    if (strlen(s) >= 10 && s[4] == '-') {
        if (!digits_at(s, 4, &t->year) || !digits_at(s + 5, 2, &t->month) || s[7] != '-' ||
            !digits_at(s + 8, 2, &t->day))
            return false;
        t->has_date = true;
        s += 10;
        if (*s == '\0')
            return true;
        if (*s != 'T' && *s != 't' && *s != ' ')
            return false;
        s++;
    }
    if (!digits_at(s, 2, &t->hour) || s[2] != ':' || !digits_at(s + 3, 2, &t->minute) ||
        s[5] != ':' || !digits_at(s + 6, 2, &t->second))
        return false;
    t->has_time = true;
    s += 8;
    if (*s == '.') {
        int n = 0;
        for (s++; *s >= '0' && *s <= '9'; s++, n++)
            if (n < 9)
                t->nanos = t->nanos * 10 + (*s - '0');
        for (; n < 9; n++)
            t->nanos *= 10;
    }
    if (*s == 'Z' || *s == 'z') {
        t->has_offset = true;
        s++;
    } else if (*s == '+' || *s == '-') {
        int h, m;
        if (!digits_at(s + 1, 2, &h) || s[3] != ':' || !digits_at(s + 4, 2, &m))
            return false;
        t->offset = (*s == '-' ? -1 : 1) * (h * 60 + m);
        t->has_offset = true;
        s += 6;
    }
    return *s == '\0';
}

/* Days since 1970-01-01 (Howard Hinnant's days_from_civil). */
static long long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool same_float(const char *a, const char *b)
{
    double x = strtod(a, NULL), y = strtod(b, NULL); /* glibc reads inf, -inf, nan */
    return (isnan(x) && isnan(y)) || x == y;
}

static bool same_leaf(const char *type, const char *want, const char *got)
{
    if (strcmp(type, "integer") == 0) {
        errno = 0;
        long long x = strtoll(want, NULL, 10), y = strtoll(got, NULL, 10);
        return errno == 0 && x == y;
    }
    if (strcmp(type, "float") == 0)
        return same_float(want, got);
    if (strncmp(type, "date", 4) == 0 || strcmp(type, "time-local") == 0) {
        stamp_t a, b;
        if (!parse_stamp(want, &a) || !parse_stamp(got, &b) || a.has_date != b.has_date ||
            a.has_time != b.has_time || a.has_offset != b.has_offset)
            return false;
        if (strcmp(type, "datetime") == 0) { /* the same instant */
            long long ta = (days_from_civil(a.year, a.month, a.day) * 24 + a.hour) * 3600 +
                           a.minute * 60 + a.second - a.offset * 60;
            long long tb = (days_from_civil(b.year, b.month, b.day) * 24 + b.hour) * 3600 +
                           b.minute * 60 + b.second - b.offset * 60;
            return ta == tb && a.nanos == b.nanos;
        }
        return a.year == b.year && a.month == b.month && a.day == b.day && a.hour == b.hour &&
               a.minute == b.minute && a.second == b.second && a.nanos == b.nanos;
    }
    return strcmp(want, got) == 0; /* string, bool */
}

static bool is_leaf(const cJSON *o)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "type");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "value");
    return cJSON_IsObject(o) && cJSON_GetArraySize(o) == 2 && cJSON_IsString(t) &&
           cJSON_IsString(v);
}

/* Structural equality under toml-test's rules; *why says where not. */
static bool same_json(const cJSON *want, const cJSON *got, char *why, size_t n)
{
    if (is_leaf(want)) {
        const char *wt = cJSON_GetObjectItemCaseSensitive(want, "type")->valuestring;
        const char *wv = cJSON_GetObjectItemCaseSensitive(want, "value")->valuestring;
        if (!is_leaf(got)) {
            snprintf(why, n, "expected a %s leaf", wt);
            return false;
        }
        const char *gt = cJSON_GetObjectItemCaseSensitive(got, "type")->valuestring;
        const char *gv = cJSON_GetObjectItemCaseSensitive(got, "value")->valuestring;
        if (strcmp(wt, gt) != 0 || !same_leaf(wt, wv, gv)) {
            snprintf(why, n, "expected %s \"%s\", got %s \"%s\"", wt, wv, gt, gv);
            return false;
        }
        return true;
    }
    if (cJSON_IsObject(want)) {
        if (!cJSON_IsObject(got) || is_leaf(got) ||
            cJSON_GetArraySize(want) != cJSON_GetArraySize(got)) {
            snprintf(why, n, "table differs in size or kind");
            return false;
        }
        for (const cJSON *w = want->child; w != NULL; w = w->next) {
            const cJSON *g = cJSON_GetObjectItemCaseSensitive(got, w->string);
            if (g == NULL) {
                snprintf(why, n, "missing key \"%s\"", w->string);
                return false;
            }
            if (!same_json(w, g, why, n))
                return false;
        }
        return true;
    }
    if (cJSON_IsArray(want)) {
        if (!cJSON_IsArray(got) || cJSON_GetArraySize(want) != cJSON_GetArraySize(got)) {
            snprintf(why, n, "array differs in size or kind");
            return false;
        }
        for (const cJSON *w = want->child, *g = got->child; w != NULL; w = w->next, g = g->next)
            if (!same_json(w, g, why, n))
                return false;
        return true;
    }
    snprintf(why, n, "unexpected JSON in the expected output");
    return false;
}

static bool run_valid(const char *dir, const char *name, char *why, size_t n)
{
    char path[PATH_MAX];
    size_t len, jlen;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = read_file(path, &len);
    snprintf(path + strlen(path) - 5, 6, ".json");
    char *json = read_file(path, &jlen);
    bool ok = false;
    hv_toml_doc_t *doc = NULL;
    cJSON *want = NULL, *got = NULL;
    char *out = NULL;
    if (text == NULL || json == NULL) {
        snprintf(why, n, "cannot read the case");
        goto done;
    }
    if (hv_toml_parse(text, len, name, &doc, why, n) != HV_OK)
        goto done;
    out = tagged_json(hv_toml_root(doc));
    want = cJSON_Parse(json);
    got = cJSON_Parse(out);
    if (want == NULL || got == NULL)
        snprintf(why, n, "unreadable JSON: %s", want == NULL ? "expected" : out);
    else
        ok = same_json(want, got, why, n);
done:
    cJSON_Delete(want);
    cJSON_Delete(got);
    free(out);
    hv_toml_free(doc);
    free(json);
    free(text);
    return ok;
}

static bool run_invalid(const char *dir, const char *name, char *why, size_t n)
{
    char path[PATH_MAX];
    size_t len;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = read_file(path, &len);
    if (text == NULL) {
        snprintf(why, n, "cannot read the case");
        return false;
    }
    hv_toml_doc_t *doc = NULL;
    char err[512] = "";
    int rc = hv_toml_parse(text, len, name, &doc, err, sizeof err);
    free(text);
    if (rc == HV_OK) {
        hv_toml_free(doc);
        snprintf(why, n, "accepted");
        return false;
    }
    /* Refused, and with a positioned message naming the file. */
    size_t nl = strlen(name);
    if (rc != HV_EINVAL || strncmp(err, name, nl) != 0 || err[nl] != ':') {
        snprintf(why, n, "bad error (%d): %s", rc, err);
        return false;
    }
    return true;
}

static void test_toml_test_suite(void **state)
{
    (void)state;
    FILE *list = fopen(SUITE_DIR "/files-toml-1.0.0", "r");
    if (list == NULL) {
        print_error("toml-test data not found: %s/files-toml-1.0.0 (%s); it is expected at "
                    "../shared/toml-test next to the source tree\n",
                    SUITE_DIR, strerror(errno));
        fail();
    }
    int lines = 0, json = 0, valid = 0, valid_ok = 0, invalid = 0, invalid_ok = 0;
    char line[1024], why[512];
    while (fgets(line, sizeof line, list) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0')
            continue;
        lines++;
        size_t len = strlen(line);
        if (len > 5 && strcmp(line + len - 5, ".json") == 0) {
            json++; /* the expected output of a valid case */
            continue;
        }
        bool is_valid = strncmp(line, "valid/", 6) == 0;
        bool ok = is_valid ? run_valid(SUITE_DIR, line, why, sizeof why)
                           : run_invalid(SUITE_DIR, line, why, sizeof why);
        valid += is_valid;
        valid_ok += is_valid && ok;
        invalid += !is_valid;
        invalid_ok += !is_valid && ok;
        if (!ok)
            print_error("FAIL %s: %s\n", line, why);
    }
    fclose(list);
    print_message("toml-test 1.0.0: %d/%d passed (valid %d/%d, invalid %d/%d; the list has %d "
                  "lines: %d cases and %d expected-output .json files)\n",
                  valid_ok + invalid_ok, valid + invalid, valid_ok, valid, invalid_ok, invalid,
                  lines, valid + invalid, json);
    assert_int_equal(json, valid);
    assert_true(valid > 0 && invalid > 0);
    assert_int_equal(valid_ok + invalid_ok, valid + invalid);
}

/* The comparison must tell real differences apart, or the suite proves
 * nothing. */
static void test_comparison_rules(void **state)
{
    (void)state;
    static const struct {
        const char *type, *a, *b;
        bool same;
    } cases[] = {
        {"float", "1.5", "1.50", true},
        {"float", "1.5", "1.6", false},
        {"float", "-inf", "-inf", true},
        {"float", "inf", "-inf", false},
        {"float", "nan", "-nan", true},
        {"float", "nan", "0", false},
        {"integer", "-7", "-7", true},
        {"integer", "7", "8", false},
        {"datetime", "1979-05-27T07:32:00Z", "1979-05-27T07:32:00.000Z", true},
        {"datetime", "1979-05-27T07:32:00Z", "1979-05-27T08:32:00+01:00", true},
        {"datetime", "1979-05-27T07:32:00Z", "1979-05-27T07:32:00+01:00", false},
        {"datetime", "1979-05-27T07:32:00.5Z", "1979-05-27T07:32:00.6Z", false},
        {"datetime-local", "1979-05-27T07:32:00", "1979-05-27t07:32:00.0", true},
        {"datetime-local", "1979-05-27T07:32:00", "1979-05-27T07:32:01", false},
        {"date-local", "1979-05-27", "1979-05-28", false},
        {"time-local", "07:32:00.1", "07:32:00.100", true},
        {"time-local", "07:32:00", "07:32:00Z", false},
        {"string", "a", "a", true},
        {"string", "a", "b", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (same_leaf(cases[i].type, cases[i].a, cases[i].b) != cases[i].same)
            print_error("%s %s vs %s\n", cases[i].type, cases[i].a, cases[i].b);
        assert_int_equal(same_leaf(cases[i].type, cases[i].a, cases[i].b), cases[i].same);
    }
    char why[256];
    cJSON *a = cJSON_Parse("{\"k\":[{\"type\":\"integer\",\"value\":\"1\"}]}");
    cJSON *b = cJSON_Parse("{\"k\":[{\"type\":\"float\",\"value\":\"1\"}]}");
    cJSON *c = cJSON_Parse("{\"k\":[], \"j\":{}}");
    assert_true(same_json(a, a, why, sizeof why));
    assert_false(same_json(a, b, why, sizeof why));
    assert_false(same_json(a, c, why, sizeof why));
    assert_false(same_json(c, a, why, sizeof why));
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(c);
}

/* ---- error messages ------------------------------------------------------------ */

static void test_error_messages(void **state)
{
    (void)state;
    EXPECT_ERROR("a = \n", "t.toml:1:5: expected a value, found newline");
    EXPECT_ERROR("a = ", "t.toml:1:5: expected a value, found end of input");
    EXPECT_ERROR("a 1\n", "t.toml:1:3: expected '=' after the key, found '1'");
    EXPECT_ERROR("= 1\n", "t.toml:1:1: expected a key, found '='");
    EXPECT_ERROR("a = \"abc\n", "t.toml:1:9: expected '\"' closing the string, found newline");
    EXPECT_ERROR("s = '''\nabc",
                 "t.toml:2:4: expected \"'''\" closing the string, found end of input");
    EXPECT_ERROR("[table\n", "t.toml:1:7: expected ']' closing the header, found newline");
    EXPECT_ERROR("[[aot]\n", "t.toml:1:7: expected ']]' closing the header, found newline");
    EXPECT_ERROR("a = 1 b = 2\n", "t.toml:1:7: expected end of line after the value, found 'b'");
    EXPECT_ERROR("a = [1 2]", "t.toml:1:8: expected ',' or ']' in the array, found '2'");
    EXPECT_ERROR("a = [\n  1,\n  2\n",
                 "t.toml:4:1: expected ',' or ']' in the array, found end of input");
    EXPECT_ERROR("a = {x = 1,}", "t.toml:1:12: expected a key after ',' (inline tables take no "
                                 "trailing comma), found '}'");
    EXPECT_ERROR("a = {x = 1\n", "t.toml:1:11: expected ',' or '}' in the inline table, found "
                                 "newline");
    EXPECT_ERROR("b = tru\n", "t.toml:1:5: expected a value, found 'tru'");
    EXPECT_ERROR("s = bare\n", "t.toml:1:5: expected a value, found 'bare'");
    EXPECT_ERROR("n = 0123\n", "t.toml:1:5: expected a number without leading zeros, found '0123'");
    EXPECT_ERROR("n = 1__0\n", "t.toml:1:7: expected a digit after '_', found '_'");
    EXPECT_ERROR("n = 1.\n", "t.toml:1:7: expected a digit after '.', found newline");
    EXPECT_ERROR("n = 0xfg\n", "t.toml:1:8: expected a digit or the end of the number, found 'g'");
    EXPECT_ERROR("n = 9223372036854775808\n",
                 "t.toml:1:5: expected an integer from -9223372036854775808 to "
                 "9223372036854775807, found 9223372036854775808");
    EXPECT_ERROR("n = 0xffffffffffffffff\n",
                 "t.toml:1:5: expected an integer from -9223372036854775808 to "
                 "9223372036854775807, found 0xffffffffffffffff");
    EXPECT_ERROR("f = 1e400\n", "t.toml:1:5: expected a float within the range of a double, "
                                "found 1e400");
    EXPECT_ERROR("s = \"\\q\"\n", "t.toml:1:7: expected an escape (\\b \\t \\n \\f \\r \\\" \\\\ "
                                  "\\uXXXX \\UXXXXXXXX), found 'q'");
    EXPECT_ERROR("s = \"\\uD800\"\n", "t.toml:1:6: \\uD800 is not a Unicode scalar value");
    EXPECT_ERROR("s = \"\\u12\"\n", "t.toml:1:10: expected 4 hex digits after \\u, found '\"'");
    EXPECT_ERROR("d = 1979-13-01\n", "t.toml:1:10: expected a month 01-12, found 13");
    EXPECT_ERROR("d = 1979-02-29\n", "t.toml:1:13: expected a day 01-28 in 1979-02, found 29");
    EXPECT_ERROR("d = 1979-05-27T25:00:00\n", "t.toml:1:16: expected an hour 00-23, found 25");
    EXPECT_ERROR("t = 07:32\n", "t.toml:1:10: expected ':' and seconds, found newline");
    EXPECT_ERROR("d = 1979-05-27T07:32:00+5:00\n",
                 "t.toml:1:26: expected an offset hour 00-23, found ':'");
    EXPECT_ERROR("a = 1\na = 2\n",
                 "t.toml:2:1: duplicate key a, first defined at line 1, column 1");
    EXPECT_ERROR("[t]\na.b = 1\n  a . b = 2\n",
                 "t.toml:3:7: duplicate key a.b, first defined at line 2, column 3");
    EXPECT_ERROR("[a]\nx = 1\n[a]\n", "t.toml:3:2: table [a] is already defined at line 1");
    EXPECT_ERROR("a.b = 1\n[a]\n", "t.toml:2:2: table [a] is already defined by dotted keys at "
                                   "line 1");
    EXPECT_ERROR("x = 1\n[x.y]\n", "t.toml:2:2: key x already holds an integer (line 1, column "
                                   "1); a header cannot add to it");
    EXPECT_ERROR("a = {b = 1}\na.c = 2\n", "t.toml:2:1: key a already holds an inline table (line "
                                           "1, column 1); dotted keys cannot add to it");
    EXPECT_ERROR("a = [1]\n[[a]]\n", "t.toml:2:3: key a already holds an array (line 1, column "
                                     "1); [[header]] cannot append to it");
    EXPECT_ERROR("[[a]]\n[a]\n", "t.toml:2:2: key a already holds an array of tables (line 1, "
                                 "column 3); it cannot be redefined as a table");
    /* Columns count characters, not bytes; CRLF ends a line like LF. */
    EXPECT_ERROR("s = \"\xC3\xA9\" x\n",
                 "t.toml:1:9: expected end of line after the value, found 'x'");
    EXPECT_ERROR("a = 1\r\nb = \r\n", "t.toml:2:5: expected a value, found newline");
    EXPECT_ERROR("a = \"x\xFF\"\n", "t.toml:1:7: invalid UTF-8 (byte 0xFF starts no valid "
                                    "character)");
    EXPECT_ERROR("# a\x01\n", "t.toml:1:4: U+0001 is not allowed in a comment");
    EXPECT_ERROR("s = \"a\tb\x7F\"\n", "t.toml:1:9: U+007F must be escaped in a string");
    EXPECT_ERROR("a = 1\rb = 2\n", "t.toml:1:6: expected end of line after the value, found "
                                   "carriage return");
    EXPECT_ERROR("\xEF\xBB\xBF\x61 = \n", "t.toml:1:5: expected a value, found newline"); /* BOM */
}

static void test_error_arguments(void **state)
{
    (void)state;
    hv_toml_doc_t *doc = NULL;
    /* No message buffer: still refused, nothing written. */
    assert_int_equal(hv_toml_parse("a =", 3, "x", &doc, NULL, 0), HV_EINVAL);
    assert_null(doc);
    /* A short buffer gets a truncated, terminated message. */
    char err[12];
    assert_int_equal(hv_toml_parse("a =", 3, "file.toml", &doc, err, sizeof err), HV_EINVAL);
    assert_string_equal(err, "file.toml:1");
    /* Text need not be NUL-terminated: only len bytes are read. */
    assert_int_equal(hv_toml_parse("a = 1xyz", 5, NULL, &doc, err, sizeof err), HV_OK);
    assert_int_equal(hv_toml_get(hv_toml_root(doc), "a")->value->i, 1);
    assert_string_equal(hv_toml_filename(doc), "<input>");
    hv_toml_free(doc);
    hv_toml_free(NULL);
    /* An empty document is an empty table. */
    assert_int_equal(hv_toml_parse(NULL, 0, "e", &doc, err, sizeof err), HV_OK);
    assert_int_equal(hv_toml_root(doc)->kind, HV_TOML_TABLE);
    assert_int_equal(hv_toml_root(doc)->table.len, 0);
    hv_toml_free(doc);
}

/* ---- values -------------------------------------------------------------------- */

static const hv_toml_value_t *get(const hv_toml_value_t *t, const char *key)
{
    const hv_toml_kv_t *kv = hv_toml_get(t, key);
    if (kv == NULL)
        print_error("no key %s\n", key);
    assert_non_null(kv);
    return kv->value;
}

static void test_scalars(void **state)
{
    (void)state;
    hv_toml_doc_t *doc = parse_ok("min = -9223372036854775808\n"
                                  "max = +9_223_372_036_854_775_807\n"
                                  "hex = 0xDEAD_beef\n"
                                  "oct = 0o755\n"
                                  "bin = 0b1101\n"
                                  "f = -1_0.2_5e-0_2\n"
                                  "ninf = -inf\n"
                                  "nan = +nan\n"
                                  "yes = true\n"
                                  "odt = 1979-05-27 07:32:00.1234567891-07:30\n"
                                  "ldt = 2000-02-29t23:59:59.5\n"
                                  "ld = 2024-12-31\n"
                                  "lt = 00:00:00.000000001\n"
                                  "ml = \"\"\"\\\n   one \\\n   two\"\"\"\n"
                                  "lit = '''\r\nC:\\path\r\n'''\n"
                                  "esc = \"\\u00e9\\U0001F600\\t\\u0000!\"\n");
    const hv_toml_value_t *r = hv_toml_root(doc), *v;
    assert_true(get(r, "min")->i == INT64_MIN);
    assert_true(get(r, "max")->i == INT64_MAX);
    assert_int_equal(get(r, "hex")->i, 0xDEADBEEF);
    assert_int_equal(get(r, "oct")->i, 0755);
    assert_int_equal(get(r, "bin")->i, 13);
    assert_int_equal(get(r, "f")->kind, HV_TOML_FLOAT);
    assert_true(get(r, "f")->f == -10.25e-2);
    assert_true(isinf(get(r, "ninf")->f) && get(r, "ninf")->f < 0);
    assert_true(isnan(get(r, "nan")->f));
    assert_true(get(r, "yes")->b);
    v = get(r, "odt");
    assert_int_equal(v->kind, HV_TOML_DATETIME);
    assert_int_equal(v->dt.year, 1979);
    assert_int_equal(v->dt.second, 0);
    assert_int_equal(v->dt.nanosecond, 123456789); /* truncated, not rounded */
    assert_int_equal(v->dt.offset_minutes, -450);
    v = get(r, "ldt");
    assert_int_equal(v->kind, HV_TOML_DATETIME_LOCAL);
    assert_int_equal(v->dt.day, 29);
    assert_int_equal(v->dt.nanosecond, 500000000);
    assert_int_equal(get(r, "ld")->kind, HV_TOML_DATE_LOCAL);
    assert_int_equal(get(r, "lt")->kind, HV_TOML_TIME_LOCAL);
    assert_int_equal(get(r, "lt")->dt.nanosecond, 1);
    assert_string_equal(get(r, "ml")->str.ptr, "one two");
    assert_string_equal(get(r, "lit")->str.ptr, "C:\\path\n");
    v = get(r, "esc");
    assert_int_equal(v->str.len, 9);
    assert_memory_equal(v->str.ptr, "\xC3\xA9\xF0\x9F\x98\x80\t\0!", 10);
    hv_toml_free(doc);
}

static void test_get(void **state)
{
    (void)state;
    hv_toml_doc_t *doc = parse_ok("a = 1\n\"quoted key\" = 2\n[t]\nx.y = 3\n\"k\\u0000z\" = 4\n");
    const hv_toml_value_t *r = hv_toml_root(doc);
    assert_int_equal(get(r, "a")->i, 1);
    assert_int_equal(get(r, "quoted key")->i, 2);
    assert_int_equal(get(get(get(r, "t"), "x"), "y")->i, 3);
    assert_null(hv_toml_get(r, "b"));
    assert_null(hv_toml_get(r, "x"));           /* only in [t] */
    assert_null(hv_toml_get(get(r, "a"), "a")); /* not a table */
    assert_null(hv_toml_get(NULL, "a"));
    assert_null(hv_toml_get(r, NULL));
    /* A key holding U+0000 is cut short as a C string but never matches. */
    const hv_toml_value_t *t = get(r, "t");
    assert_int_equal(t->table.len, 2);
    assert_string_equal(t->table.items[1].key, "k");
    assert_null(hv_toml_get(t, "k"));
    char *json = hv_toml_to_json(t);
    assert_string_equal(json, "{\"x\":{\"y\":3},\"k\\u0000z\":4}");
    free(json);
    hv_toml_free(doc);
}

static void expect_kv(const hv_toml_kv_t *kv, const char *key, int line, int col)
{
    assert_non_null(kv);
    assert_string_equal(kv->key, key);
    if (kv->line != line || kv->col != col)
        print_error("%s at %d:%d, expected %d:%d\n", key, kv->line, kv->col, line, col);
    assert_int_equal(kv->line, line);
    assert_int_equal(kv->col, col);
}

static void test_key_positions(void **state)
{
    (void)state;
    hv_toml_doc_t *doc = parse_ok("title = \"x\"\n"                   /* 1 */
                                  "[server]\n"                        /* 2 */
                                  "host.name = \"h\"\n"               /* 3 */
                                  "  port = 80  # comment\n"          /* 4 */
                                  "[ server . tls ]\n"                /* 5 */
                                  "[[plugin]]\n"                      /* 6 */
                                  "name = \"a\"\n"                    /* 7 */
                                  "\t[[plugin]]\n"                    /* 8 */
                                  "  \"\xC3\xA9t\xC3\xA9\".k = [1,\n" /* 9 */
                                  "   { z = 2 }]\n"                   /* 10 */
                                  "[a.b.c]\r\n"                       /* 11 */
                                  "[a]\n");                           /* 12 */
    const hv_toml_value_t *r = hv_toml_root(doc);
    assert_int_equal(r->line, 1);
    assert_int_equal(r->col, 1);
    /* Keys in definition order, each with its position. */
    assert_int_equal(r->table.len, 4);
    expect_kv(&r->table.items[0], "title", 1, 1);
    expect_kv(&r->table.items[1], "server", 2, 2);
    expect_kv(&r->table.items[2], "plugin", 6, 3);
    assert_int_equal(get(r, "title")->line, 1);
    assert_int_equal(get(r, "title")->col, 9);

    const hv_toml_value_t *server = get(r, "server");
    assert_int_equal(server->line, 2); /* a header's table starts at its '[' */
    assert_int_equal(server->col, 1);
    expect_kv(&server->table.items[0], "host", 3, 1);
    expect_kv(hv_toml_get(get(server, "host"), "name"), "name", 3, 6);
    expect_kv(hv_toml_get(server, "port"), "port", 4, 3);
    assert_int_equal(get(server, "port")->col, 10);
    expect_kv(hv_toml_get(server, "tls"), "tls", 5, 12);
    assert_int_equal(get(server, "tls")->line, 5);

    const hv_toml_value_t *plugins = get(r, "plugin");
    assert_int_equal(plugins->kind, HV_TOML_ARRAY);
    assert_int_equal(plugins->array.len, 2);
    assert_int_equal(plugins->array.items[0]->line, 6);
    assert_int_equal(plugins->array.items[1]->line, 8);
    assert_int_equal(plugins->array.items[1]->col, 2);
    expect_kv(hv_toml_get(plugins->array.items[0], "name"), "name", 7, 1);
    const hv_toml_kv_t *ete = hv_toml_get(plugins->array.items[1], "\xC3\xA9t\xC3\xA9");
    expect_kv(ete, "\xC3\xA9t\xC3\xA9", 9, 3); /* columns count characters */
    expect_kv(hv_toml_get(ete->value, "k"), "k", 9, 9);
    const hv_toml_value_t *k = get(ete->value, "k");
    assert_int_equal(k->col, 13);
    assert_int_equal(k->array.items[1]->line, 10);
    assert_int_equal(k->array.items[1]->col, 4);
    expect_kv(hv_toml_get(k->array.items[1], "z"), "z", 10, 6);

    /* [a.b.c] made a implicitly; [a] then defines it, and moves it there. */
    const hv_toml_kv_t *a = hv_toml_get(r, "a");
    expect_kv(a, "a", 12, 2);
    assert_int_equal(a->value->line, 12);
    expect_kv(hv_toml_get(a->value, "b"), "b", 11, 4);
    expect_kv(hv_toml_get(get(a->value, "b"), "c"), "c", 11, 6);
    hv_toml_free(doc);
}

static void test_to_json(void **state)
{
    (void)state;
    hv_toml_doc_t *doc = parse_ok("s = \"a\\\"b\\n\\u0001\xC3\xA9\"\n"
                                  "i = -5\n"
                                  "f = 1.5\n"
                                  "g = 3.0\n"
                                  "e = 1e100\n"
                                  "h = -inf\n"
                                  "n = nan\n"
                                  "b = true\n"
                                  "odt = 1979-05-27 07:32:00.50+01:00\n"
                                  "utc = 1979-05-27T07:32:00z\n"
                                  "ldt = 1979-05-27T07:32:00\n"
                                  "ld = 1979-05-27\n"
                                  "lt = 07:32:00.000\n"
                                  "arr = [1, \"x\", [true], {}]\n"
                                  "t = {x = 1, y.z = 2}\n"
                                  "[[aot]]\n"
                                  "[[aot]]\n"
                                  "k = 'v'\n");
    char *json = hv_toml_to_json(hv_toml_root(doc));
    assert_string_equal(json, "{\"s\":\"a\\\"b\\n\\u0001\xC3\xA9\",\"i\":-5,\"f\":1.5,\"g\":3.0,"
                              "\"e\":1e+100,\"h\":\"-inf\",\"n\":\"nan\",\"b\":true,"
                              "\"odt\":\"1979-05-27T07:32:00.5+01:00\","
                              "\"utc\":\"1979-05-27T07:32:00Z\","
                              "\"ldt\":\"1979-05-27T07:32:00\",\"ld\":\"1979-05-27\","
                              "\"lt\":\"07:32:00\",\"arr\":[1,\"x\",[true],{}],"
                              "\"t\":{\"x\":1,\"y\":{\"z\":2}},\"aot\":[{},{\"k\":\"v\"}]}");
    /* Every output is JSON a strict reader accepts. */
    cJSON *back = cJSON_Parse(json);
    assert_non_null(back);
    cJSON_Delete(back);
    free(json);

    char *tagged = tagged_json(get(hv_toml_root(doc), "arr"));
    assert_string_equal(tagged, "[{\"type\":\"integer\",\"value\":\"1\"},"
                                "{\"type\":\"string\",\"value\":\"x\"},"
                                "[{\"type\":\"bool\",\"value\":\"true\"}],{}]");
    free(tagged);
    tagged = tagged_json(get(hv_toml_root(doc), "odt"));
    assert_string_equal(tagged,
                        "{\"type\":\"datetime\",\"value\":\"1979-05-27T07:32:00.5+01:00\"}");
    free(tagged);
    tagged = tagged_json(get(hv_toml_root(doc), "g"));
    assert_string_equal(tagged, "{\"type\":\"float\",\"value\":\"3\"}");
    free(tagged);
    hv_toml_free(doc);
}

/* ---- caps and scale ------------------------------------------------------------ */

static void test_size_cap(void **state)
{
    (void)state;
    size_t n = HV_TOML_MAX_SOURCE + 1;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, '\n', n);
    memcpy(big, "a = 1", 5);
    hv_toml_doc_t *doc = NULL;
    char err[256];
    assert_int_equal(hv_toml_parse(big, n, "big.toml", &doc, err, sizeof err), HV_ETOOBIG);
    assert_null(doc);
    assert_non_null(strstr(err, "big.toml: "));
    /* Exactly at the limit is fine. */
    assert_int_equal(hv_toml_parse(big, n - 1, "big.toml", &doc, err, sizeof err), HV_OK);
    assert_int_equal(get(hv_toml_root(doc), "a")->i, 1);
    hv_toml_free(doc);
    free(big);
}

/* "a = " + n '[' + n ']' */
static char *nested(int n, char open, char close, const char *inner)
{
    size_t len = 4 + strlen(inner) + 2 * (size_t)n * 8 + 1;
    char *s = malloc(len), *q = s;
    q += sprintf(q, "a = ");
    for (int i = 0; i < n; i++)
        q += open == '{' ? sprintf(q, "{x = ") : sprintf(q, "%c", open);
    q += sprintf(q, "%s", inner);
    for (int i = 0; i < n; i++)
        *q++ = close;
    *q = '\0';
    return s;
}

static void test_depth_cap(void **state)
{
    (void)state;
    hv_toml_doc_t *doc;
    char err[256];
    for (int kind = 0; kind < 2; kind++) {
        char open = kind ? '{' : '[', close = kind ? '}' : ']';
        char *ok = nested(HV_TOML_MAX_DEPTH, open, close, "1");
        char *deep = nested(HV_TOML_MAX_DEPTH + 1, open, close, "1");
        assert_int_equal(hv_toml_parse(ok, strlen(ok), "d", &doc, err, sizeof err), HV_OK);
        hv_toml_free(doc);
        assert_int_equal(hv_toml_parse(deep, strlen(deep), "d", &doc, err, sizeof err), HV_EINVAL);
        assert_non_null(strstr(err, "nest deeper than 128 levels"));
        free(ok);
        free(deep);
    }
    /* Dotted keys and headers count too: a tree deeper than the cap could
     * not be walked safely by recursive consumers. */
    char key[1200] = "", text[1300];
    for (int i = 0; i < HV_TOML_MAX_DEPTH; i++)
        strcat(key, i ? ".k" : "k");
    snprintf(text, sizeof text, "%s = 1\n", key); /* 127 tables and an integer */
    assert_int_equal(hv_toml_parse(text, strlen(text), "d", &doc, err, sizeof err), HV_OK);
    hv_toml_free(doc);
    snprintf(text, sizeof text, "[%s]\n", key); /* 128 tables */
    assert_int_equal(hv_toml_parse(text, strlen(text), "d", &doc, err, sizeof err), HV_OK);
    hv_toml_free(doc);
    snprintf(text, sizeof text, "[%s]\nk = {}\n", key);
    assert_int_equal(hv_toml_parse(text, strlen(text), "d", &doc, err, sizeof err), HV_EINVAL);
    assert_string_equal(err, "d:2:5: tables and arrays nest deeper than 128 levels");
    strcat(key, ".k.k");
    snprintf(text, sizeof text, "%s = 1\n", key);
    assert_int_equal(hv_toml_parse(text, strlen(text), "d", &doc, err, sizeof err), HV_EINVAL);
    assert_non_null(strstr(err, "key has more than 129 parts"));
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Parses text (freed here), checks the root has `keys` entries. */
static void parse_big(char *text, size_t len, size_t keys, const char *what)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    hv_toml_doc_t *doc = NULL;
    char err[256];
    int rc = hv_toml_parse(text, len, "big", &doc, err, sizeof err);
    if (rc != HV_OK)
        print_error("%s: %s\n", what, err);
    assert_int_equal(rc, HV_OK);
    assert_int_equal(hv_toml_root(doc)->table.len, keys);
    double s = seconds_since(&t0);
    print_message("%s: %zu bytes in %.3f s\n", what, len, s);
    /* Quadratic work on these would take minutes, not seconds. */
    assert_true(s < 20.0);
    hv_toml_free(doc);
    free(text);
}

static void test_big_inputs(void **state)
{
    (void)state;
    enum { N = 200000 };
    size_t cap = (size_t)N * 32, len = 0;
    char *s;

    s = malloc(cap); /* many keys in one table */
    for (int i = 0; i < N; i++)
        len += (size_t)sprintf(s + len, "key_%d = %d\n", i, i);
    parse_big(s, len, N, "200000 keys");

    s = malloc(cap); /* many keys on one line, in one inline table */
    len = (size_t)sprintf(s, "t = {");
    for (int i = 0; i < N; i++)
        len += (size_t)sprintf(s + len, "%sk%d = %d", i ? ", " : "", i, i);
    len += (size_t)sprintf(s + len, "}");
    parse_big(s, len, 1, "200000 keys on one line");

    s = malloc(cap); /* a long array of strings */
    len = (size_t)sprintf(s, "a = [");
    for (int i = 0; i < N; i++)
        len += (size_t)sprintf(s + len, "\"s%d\",\n", i);
    len += (size_t)sprintf(s + len, "]");
    parse_big(s, len, 1, "200000-element array");

    s = malloc(cap); /* many [[headers]] and [tables] */
    len = 0;
    for (int i = 0; i < N / 2; i++)
        len += (size_t)sprintf(s + len, "[[aot]]\nx = 1\n[t%d.sub]\n", i);
    parse_big(s, len, N / 2 + 1, "100000 headers");
}

static void test_parse_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_toml_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char text[] = "[x]\ny = 'z'\n";
    assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    hv_toml_doc_t *doc = NULL;
    char err[512];
    assert_int_equal(hv_toml_parse_file(path, &doc, err, sizeof err), HV_OK);
    assert_string_equal(hv_toml_filename(doc), path);
    assert_string_equal(get(get(hv_toml_root(doc), "x"), "y")->str.ptr, "z");
    hv_toml_free(doc);

    fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "y = 2\n", 6), 6);
    close(fd);
    char want[600];
    assert_int_equal(hv_toml_parse_file(path, &doc, err, sizeof err), HV_EINVAL);
    snprintf(want, sizeof want, "%s:3:1: duplicate key y, first defined at line 2, column 1", path);
    assert_string_equal(err, want);
    unlink(path);

    assert_int_equal(hv_toml_parse_file(path, &doc, err, sizeof err), HV_ENOENT);
    snprintf(want, sizeof want, "%s: No such file or directory", path);
    assert_string_equal(err, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toml_test_suite), cmocka_unit_test(test_comparison_rules),
        cmocka_unit_test(test_error_messages),  cmocka_unit_test(test_error_arguments),
        cmocka_unit_test(test_scalars),         cmocka_unit_test(test_get),
        cmocka_unit_test(test_key_positions),   cmocka_unit_test(test_to_json),
        cmocka_unit_test(test_size_cap),        cmocka_unit_test(test_depth_cap),
        cmocka_unit_test(test_big_inputs),      cmocka_unit_test(test_parse_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* libFuzzer harness for the HTTP server's own parsers: URL unescaping,
 * numbers in query arguments, static file paths, buzzer pattern bodies,
 * JSON bodies, the bearer token compare and SSE framing. Each result is
 * checked against its contract (abort otherwise). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../src/http/http_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const uint8_t *data, size_t size)
{
    fprintf(stderr, "fuzz_http_query: %s\ninput (%zu bytes): %.*s\n", what, size, (int)size,
            (const char *)data);
    abort();
}

static void check_unescape(const char *s, const uint8_t *data, size_t size)
{
    char *buf = strdup(s);
    size_t n = http__unescape(buf);
    if (n != strlen(buf) || n > strlen(s))
        die("unescape: length", data, size);
    /* %00 is never decoded, so no value is cut short. */
    if (strstr(s, "%00") != NULL && strstr(buf, "%00") == NULL)
        die("unescape: decoded %00", data, size);
    free(buf);
}

static void check_i64(const char *s, const uint8_t *data, size_t size)
{
    int64_t v = 42;
    if (!http__parse_i64(s, INT64_MIN, INT64_MAX, &v)) {
        if (v != 42)
            die("parse_i64: wrote on failure", data, size);
        return;
    }
    char *end;
    errno = 0;
    long long w = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || w != v || s[0] == ' ' || s[0] == '+')
        die("parse_i64: disagrees with strtoll", data, size);
    int64_t r;
    if (v > 0 && http__parse_i64(s, 0, v - 1, &r))
        die("parse_i64: range ignored", data, size);
}

static void check_static(const char *s, const uint8_t *data, size_t size)
{
    if (!http__static_path_ok(s))
        return;
    size_t n = strlen(s);
    if (n == 0 || n > 255 || s[0] == '/' || s[n - 1] == '/' || strstr(s, "//") || strstr(s, "/.") ||
        s[0] == '.' || strchr(s, '\\') || strchr(s, '%'))
        die("static path accepted", data, size);
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            die("static path: control or non-ASCII byte accepted", data, size);
}

static void check_buzz(const uint8_t *data, size_t size)
{
    unsigned count = 0, on = 0, off = 0;
    char err[256] = "";
    if (http__parse_buzz((const char *)data, size, &count, &on, &off, err, sizeof err) == 0) {
        if (count < 1 || count > HTTP__BUZZ_MAX_COUNT || on < HTTP__BUZZ_MIN_MS ||
            on > HTTP__BUZZ_MAX_MS || off > HTTP__BUZZ_MAX_MS)
            die("buzz: out of range", data, size);
        cJSON *j = http__parse_json((const char *)data, size);
        if (!cJSON_IsObject(j))
            die("buzz: accepted a body that is not one JSON object", data, size);
        cJSON_Delete(j);
    } else if (err[0] == '\0') {
        die("buzz: no message", data, size);
    }
}

static void check_sse(const char *event, const char *text, const uint8_t *data, size_t size)
{
    size_t n = http__sse_format(NULL, 0, event, text);
    char *out = malloc(n + 1);
    if (http__sse_format(out, n, event, text) != n)
        die("sse: sizes differ", data, size);
    out[n] = '\0';
    if (n < 2 || strcmp(out + n - 2, "\n\n") != 0 || strchr(out, '\r') ||
        strstr(out, "\n\n") != out + n - 2)
        die("sse: framing", data, size);
    for (const char *line = out; line < out + n - 1;) {
        if (strncmp(line, "event: ", 7) != 0 && strncmp(line, "data: ", 6) != 0)
            die("sse: a line that is neither event nor data", data, size);
        line = strchr(line, '\n') + 1;
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The input as a string, and split at its first newline into two. */
    char *s = strndup((const char *)data, size);
    if (s == NULL)
        return 0;
    check_unescape(s, data, size);
    check_i64(s, data, size);
    check_static(s, data, size);
    check_buzz(data, size);
    char *nl = strchr(s, '\n');
    if (nl != NULL) {
        *nl = '\0';
        check_sse(s, nl + 1, data, size);
        if (http__auth_ok(s, nl + 1, strlen(nl + 1)) !=
            (strncmp(s, "Bearer ", 7) == 0 && strcmp(s + 7, nl + 1) == 0))
            die("auth compare", data, size);
    } else {
        check_sse("reading", s, data, size);
    }
    free(s);
    return 0;
}

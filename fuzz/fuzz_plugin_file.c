/*
 * libFuzzer harness for the plugin file decoder (untrusted .wasm files):
 * any input must decode or fail with a message; a decoded file must encode,
 * decode again and give the same name, world, WIT, sources, version,
 * runtime and SDK ABI (abort otherwise).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv_plugin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_plugin_file: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static void same_str(const char *what, const char *a, const char *b)
{
    if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
        die("differs after re-encoding", what);
}

/* Relative, no empty, "." or ".." segment. */
static int safe(const char *p)
{
    if (p == NULL || *p == '\0')
        return 0;
    for (const char *seg = p;;) {
        size_t n = strcspn(seg, "/");
        if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return 0;
        if (seg[n] == '\0')
            return 1;
        seg += n + 1;
    }
}

static void check_sources(const hv_plugin_file_t *f)
{
    for (size_t i = 0; i < f->nsources; i++) {
        const hv_plugin_source_t *s = &f->sources[i];
        if (!safe(s->path))
            die("unsafe source path accepted", s->path);
        if (s->data == NULL)
            die("source without data", s->path);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hv_plugin_file_t f, g;
    char err[256];
    err[0] = '\0';
    memset(&f, 0x5A, sizeof f);
    int rc = hv_plugin_file_decode(data, size, &f, err, sizeof err);
    if (rc != HV_OK) {
        if (err[0] == '\0')
            die("error without a message", hv_err_name(rc));
        if (rc != HV_EINVAL && rc != HV_EBADWASM && rc != HV_ETOOBIG && rc != HV_ENOMEM)
            die("unexpected error code", hv_err_name(rc));
        return 0;
    }
    if (f.name == NULL || f.world == NULL || f.wit == NULL)
        die("decoded file lacks name, world or wit", NULL);
    check_sources(&f);

    uint8_t *buf = NULL;
    size_t len = 0;
    if (hv_plugin_file_encode(&f, &buf, &len) != HV_OK)
        die("encode failed", NULL);
    rc = hv_plugin_file_decode(buf, len, &g, err, sizeof err);
    if (rc != HV_OK)
        die("re-encoded file does not decode", err);
    same_str("name", f.name, g.name);
    same_str("world", f.world, g.world);
    if (f.version)
        same_str("version", f.version, g.version);
    if (f.runtime)
        same_str("runtime", f.runtime, g.runtime);
    if (f.sdk_abi != g.sdk_abi)
        die("differs after re-encoding", "sdk");
    if (f.wit_len != g.wit_len || memcmp(f.wit, g.wit, f.wit_len) != 0 || g.wit[g.wit_len] != '\0')
        die("differs after re-encoding", "wit");
    if (f.nsources != g.nsources)
        die("differs after re-encoding", "source count");
    for (size_t i = 0; i < f.nsources; i++) {
        const hv_plugin_source_t *a = &f.sources[i], *b = &g.sources[i];
        if (strcmp(a->path, b->path) != 0 || a->len != b->len ||
            (a->len && memcmp(a->data, b->data, a->len) != 0))
            die("differs after re-encoding", a->path);
    }
    hv_plugin_file_clear(&f);
    hv_plugin_file_clear(&g);
    free(buf);
    for (size_t i = 0; i < sizeof f; i++)
        if (((unsigned char *)&f)[i] != 0)
            die("clear left something behind", NULL);
    return 0;
}

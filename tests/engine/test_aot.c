/* Bad modules get one clear line naming the file and the reason; nothing
 * crashes and nothing lands in the cache. Also the wasm2c output splitter. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "aot.h"
#include "hv_error.h"

static char dir[] = "/tmp/hv-aot-test-XXXXXX";

static const char *write_file(const char *name, const void *data, size_t len)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    return path;
}

static void expect_bad(const char *path, const char *reason)
{
    char so[512] = "untouched", err[1024] = "";
    char cache[512];
    snprintf(cache, sizeof cache, "%s/cache", dir);
    hv_aot_opts_t o = {cache, HV_SOURCE_DIR, 1, 2, 0};
    assert_int_equal(hv_aot_compile(path, &o, so, sizeof so, err, sizeof err), HV_EBADWASM);
    assert_string_equal(so, "untouched");
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, reason));
    assert_null(strchr(err, '\n'));
}

static void test_not_wasm(void **state)
{
    (void)state;
    expect_bad(write_file("text.wasm", "print('hello')\n", 15), "bad magic number");
}

static void test_empty_and_truncated(void **state)
{
    (void)state;
    expect_bad(write_file("empty.wasm", "", 0), "truncated");
    /* Header fine, then a code section that claims more bytes than exist. */
    static const unsigned char cut[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 1, 0x7f, 0x60};
    expect_bad(write_file("cut.wasm", cut, sizeof cut), "invalid WebAssembly module");
}

static void test_invalid_module(void **state)
{
    (void)state;
    /* type section: one func type () -> i32; function section: 1 func of
     * type 0; code: body is just `end` -> returns nothing: fails validation. */
    static const unsigned char bad[] = {0, 'a', 's', 'm', 1,    0,    0,    0,   1, 5, 1, 0x60,
                                        0, 1,   0x7f, 3,   2,    1,    0,    10,  4, 1, 2, 0, 0x0b};
    expect_bad(write_file("invalid.wasm", bad, sizeof bad), "invalid WebAssembly module");
}

static void test_component_rejected(void **state)
{
    (void)state;
    static const unsigned char comp[] = {0, 'a', 's', 'm', 0x0d, 0, 1, 0};
    expect_bad(write_file("component.wasm", comp, sizeof comp), "unsupported WebAssembly binary");
}

static void test_missing_file(void **state)
{
    (void)state;
    char so[64], err[512];
    hv_aot_opts_t o = {dir, HV_SOURCE_DIR, 1, 2, 0};
    assert_int_equal(hv_aot_compile("/nonexistent/x.wasm", &o, so, sizeof so, err, sizeof err),
                     HV_ENOENT);
    assert_non_null(strstr(err, "/nonexistent/x.wasm"));
}

static void test_split_shape(void **state)
{
    (void)state;
    /* A miniature of wasm2c's layout: preamble, decls, data, defs, tail. */
    const char *src = "#include <stdint.h>\n"
                      "typedef uint32_t u32;\n"
                      "static u32 func_types[2];\n"
                      "static u32 w2c_f1(void*, u32);\n"
                      "static u32 w2c_f2(void*, u32);\n"
                      "static const unsigned char data_segment_data_w2c_d0[] = {1};\n"
                      "static u32 w2c_f1(void* instance, u32 w2c_p0,\n"
                      "    u32 w2c_unused) {\n"
                      "  return w2c_p0 + 1;\n"
                      "}\n"
                      "static u32 w2c_f2(void* instance, u32 w2c_p0) {\n"
                      "  return w2c_p0 * 2;\n"
                      "}\n"
                      "u32 export_f2(void* i, u32 x) {\n  return w2c_f2(i, x);\n}\n";
    const char *in = write_file("mini.c", src, strlen(src));
    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s/part", dir);
    assert_int_equal(hv_aot_split(in, prefix, 2), HV_OK);
    char p0[600], p1[600];
    snprintf(p0, sizeof p0, "%s0.c", prefix);
    snprintf(p1, sizeof p1, "%s1.c", prefix);
    FILE *f0 = fopen(p0, "r"), *f1 = fopen(p1, "r");
    char b0[4096] = {0}, b1[4096] = {0};
    assert_true(fread(b0, 1, sizeof b0 - 1, f0) > 0);
    assert_true(fread(b1, 1, sizeof b1 - 1, f1) > 0);
    fclose(f0);
    fclose(f1);
    /* shared table: defined once, extern elsewhere; no static w2c_ left */
    assert_non_null(strstr(b0, "\nu32 func_types[2];"));
    assert_non_null(strstr(b1, "extern u32 func_types[2];"));
    assert_null(strstr(b0, "static u32 w2c_"));
    assert_null(strstr(b1, "static u32 w2c_"));
    assert_non_null(strstr(b0, "export_f2"));
    assert_non_null(strstr(b0, "data_segment_data_w2c_d0"));
    assert_null(strstr(b1, "data_segment_data_w2c_d0"));
    /* each function defined in exactly one part */
    int f1_count = (strstr(b0, "u32 w2c_f1(void* instance") != NULL) +
                   (strstr(b1, "u32 w2c_f1(void* instance") != NULL);
    int f2_count = (strstr(b0, "u32 w2c_f2(void* instance") != NULL) +
                   (strstr(b1, "u32 w2c_f2(void* instance") != NULL);
    assert_int_equal(f1_count, 1);
    assert_int_equal(f2_count, 1);
    assert_int_equal(hv_aot_split(in, prefix, 0), HV_EINVAL);
    const char *junk = write_file("junk.c", "int x;\n", 7);
    assert_int_equal(hv_aot_split(junk, prefix, 2), HV_EINVAL);
}

int main(void)
{
    if (mkdtemp(dir) == NULL)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_wasm),           cmocka_unit_test(test_empty_and_truncated),
        cmocka_unit_test(test_invalid_module),     cmocka_unit_test(test_component_rejected),
        cmocka_unit_test(test_missing_file),       cmocka_unit_test(test_split_shape),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        rc = rc ? rc : 1;
    return rc;
}

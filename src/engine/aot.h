/*
 * Ahead-of-time compilation: .wasm -> C (wasm2c) -> shared object, cached by
 * content hash so it happens once per runtime build, never per plugin.
 */
#ifndef HV_ENGINE_AOT_H
#define HV_ENGINE_AOT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *cache_dir; /* NULL: $XDG_CACHE_HOME/harvester/aot or ~/.cache/... */
    const char *data_dir;  /* holds include/wasm-rt.h and src/engine/guest_glue.c */
    int jobs;              /* parallel compiler processes; 0 = online CPUs */
    int parts;             /* C files the translation is split into; 0 = 16 */
    int verbose;           /* print the steps on stderr */
} hv_aot_opts_t;

/*
 * Checks that wasm_path is a WebAssembly binary and returns, in ret_so_path
 * (size so_len), the path of its compiled shared object, compiling it first
 * when the cache has none. On failure writes one line naming the file and
 * the reason into err (size errlen) and returns HV_EBADWASM (not wasm,
 * truncated, invalid), HV_EAOT (compiler failed) or HV_EIO; ret_so_path is
 * then untouched.
 */
int hv_aot_compile(const char *wasm_path, const hv_aot_opts_t *opts, char *ret_so_path,
                   size_t so_len, char *err, size_t errlen);

/* 128-bit content hash of a byte range as 32 hex digits (+ NUL) in out. */
void hv_aot_hash_hex(const void *data, size_t len, uint64_t salt, char out[33]);

/*
 * Splits one wasm2c output file into nparts translation units that compile
 * independently (static functions become hidden, shared tables extern).
 * Writes out_prefix + "N.c" for N in [0, nparts). Returns HV_OK, HV_EIO or
 * HV_EINVAL when the input does not look like wasm2c output.
 */
int hv_aot_split(const char *c_path, const char *out_prefix, int nparts);

#endif

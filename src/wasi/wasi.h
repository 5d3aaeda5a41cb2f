/*
 * Sandboxed WASI preview1 for one guest instance: only what CPython needs.
 * Files: read-only mounts resolved with openat2(RESOLVE_BENEATH) so no path
 * escapes; no sockets; no writable files. stdout/stderr go line by line to a
 * callback (the plugin's log) or straight through (the `py` CLI).
 */
#ifndef HV_WASI_H
#define HV_WASI_H

#include <stddef.h>
#include <stdint.h>

#include "wasm-rt.h"

#define HV_WASI_MAX_FDS 64
#define HV_WASI_MAX_MOUNTS 8
#define HV_WASI_LINE_MAX 4096

/* A line of guest output on fd 1 or 2, without its newline. */
typedef void (*hv_wasi_output_fn)(void *ud, int fd, const char *line, size_t len);

typedef struct {
    const char *guest; /* absolute path seen by the guest, e.g. "/plugin" */
    const char *host;  /* directory on the host */
} hv_wasi_mount_t;

typedef struct {
    const char *const *argv; /* NULL-terminated; copied */
    const char *const *envp; /* "K=V", NULL-terminated; copied */
    hv_wasi_mount_t mounts[HV_WASI_MAX_MOUNTS];
    int nmounts;
    int stdin_fd;             /* host fd read as guest stdin; -1: empty */
    hv_wasi_output_fn output; /* NULL: write to host fds 1 and 2 */
    void *output_ud;
} hv_wasi_config_t;

typedef struct {
    int kind; /* fd_kind_t in wasi.c */
    int host_fd;
    char *mount_path; /* preopens only: guest path */
} hv_wasi_fd_t;

/* wasm2c names the import context after the module it implements. */
typedef struct Z_wasi_snapshot_preview1_instance_t {
    wasm_rt_memory_t *mem;
    char **argv, **envp;
    uint32_t argc, envc;
    size_t argv_bytes, envp_bytes;
    hv_wasi_fd_t fds[HV_WASI_MAX_FDS];
    int stdin_fd;
    hv_wasi_output_fn output;
    void *output_ud;
    char line[2][HV_WASI_LINE_MAX];
    size_t line_len[2];
} hv_wasi_t;

/*
 * Prepares w (caller-owned storage) from cfg: copies args and environment,
 * opens each mount as a preopened directory (fd 3, 4, ...). Returns HV_OK,
 * HV_ENOMEM, or HV_ENOENT when a mount directory cannot be opened (w is
 * then destroyed). The memory is attached later with hv_wasi_set_memory.
 */
int hv_wasi_init(hv_wasi_t *w, const hv_wasi_config_t *cfg);

void hv_wasi_set_memory(hv_wasi_t *w, wasm_rt_memory_t *mem);

/* Number of open descriptors beyond stdio and the mounts (0 = snapshot-safe). */
int hv_wasi_extra_fds(const hv_wasi_t *w);

/* Emits any partial output line. */
void hv_wasi_flush(hv_wasi_t *w);

/* Flushes output and closes every host descriptor; w may be re-inited. */
void hv_wasi_destroy(hv_wasi_t *w);

#endif

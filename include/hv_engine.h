/*
 * The sandboxed Python engine: one compiled runtime (CPython for
 * wasm32-wasi, AOT-compiled with wasm2c) shared by every plugin; each plugin
 * gets instances of it. A plugin's Python code is data given to an instance.
 *
 * Threads: an engine is shared; an instance is used by one thread at a time
 * (any thread); different instances run in parallel.
 */
#ifndef HV_ENGINE_H
#define HV_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "hv_error.h"

typedef struct hv_engine hv_engine_t;
typedef struct hv_instance hv_instance_t;
typedef struct hv_snapshot hv_snapshot_t;

typedef struct {
    const char *runtime_dir; /* python.wasm + lib/python3.11 */
    const char *cache_dir;   /* NULL: XDG cache */
    const char *data_dir;    /* NULL: built-in source dir (include/, src/engine/) */
    int verbose;             /* print AOT steps on stderr */
} hv_engine_opts_t;

/*
 * Loads the runtime, compiling it ahead of time when the cache has no
 * module for its content hash. On failure returns an hv_err_t, writes one
 * line naming the file and the reason into err, and leaves *ret untouched.
 */
int hv_engine_open(const hv_engine_opts_t *opts, hv_engine_t **ret, char *err, size_t errlen);

/* Frees the engine; every instance and snapshot must be gone already. */
void hv_engine_close(hv_engine_t *eng);

/* Host directory of the stdlib the guest sees at /lib/python3.11. */
const char *hv_engine_stdlib_dir(const hv_engine_t *eng);

/* Content hash of the runtime's python.wasm (32 hex digits): plugins
 * record which runtime they were built against. */
const char *hv_engine_runtime_id(const hv_engine_t *eng);

/* One line of guest stdout (fd 1) or stderr (fd 2), without the newline. */
typedef void (*hv_output_fn)(void *ud, int fd, const char *line, size_t len);

/*
 * A capability call from the guest (_harvester.call(name, payload)).
 * Return 0 and a malloc'd result in *ret_out and *ret_len, or non-zero and a
 * malloc'd error message there; the engine frees it. Runs on the
 * instance's thread; the instance's deadline is deferred meanwhile.
 */
typedef int (*hv_hostcall_fn)(void *ud, const char *name, size_t name_len, const uint8_t *in,
                              size_t in_len, uint8_t **ret_out, size_t *ret_len);

/*
 * Canonical-ABI imports (the WIT layer, src/abi/ and src/plugin/). Both run
 * on the instance's thread inside a guest call, with its deadline deferred.
 * On failure they return a negative hv_err_t and write a message into err:
 * HV_EPERM (refused: not in the world, not permitted), HV_ENOENT (no such
 * function), HV_EINVAL (the guest's arguments could not be lifted).
 */
typedef struct {
    /* "iface#func" -> import id (>= 0). */
    int (*resolve)(void *ud, hv_instance_t *inst, const char *name, size_t len, char *err,
                   size_t errlen);
    /* Calls import fid with nslots flat arguments (64-bit slots); writes
     * the result at guest address ret (one slot, or the result's memory
     * layout when it flattens to more than one value). */
    int (*invoke)(void *ud, hv_instance_t *inst, uint32_t fid, const uint64_t *slots,
                  size_t nslots, uint32_t ret, char *err, size_t errlen);
    void *ud;
} hv_canon_imports_t;

#define HV_CANON_MAX_SLOTS 16
#define HV_MAX_MOUNTS 6
#define HV_HOSTCALL_MAX_RESULT (1u << 20)

typedef struct {
    const char *const *argv; /* NULL: {"python"} */
    const char *const *envp; /* NULL: empty */
    struct {
        const char *guest, *host;
    } mounts[HV_MAX_MOUNTS]; /* extra read-only directories (the stdlib is always mounted) */
    int nmounts;
    int stdin_from_host;     /* guest stdin reads host fd 0; else it is empty */
    hv_output_fn output;     /* NULL: write straight to host stdout/stderr */
    void *output_ud;
    hv_hostcall_fn hostcall; /* NULL: every capability call fails */
    void *hostcall_ud;
    const hv_canon_imports_t *canon; /* NULL: every resolve is refused */
    uint32_t memory_limit_mb; /* 0: 256 */
    uint32_t deadline_ms;     /* per call; 0: none */
} hv_instance_opts_t;

/*
 * Creates an instance from scratch (instantiate + C runtime start-up).
 * Returns HV_OK with *ret set, or an error (HV_ENOMEM, HV_ENOENT for a
 * missing mount, a trap code) with *ret untouched.
 */
int hv_instance_new(hv_engine_t *eng, const hv_instance_opts_t *opts, hv_instance_t **ret);

/*
 * Like hv_instance_new, but starts from a copy-on-write image of snap's
 * memory: no interpreter start-up runs. The options are the new instance's
 * own (mounts, output, limits).
 */
int hv_instance_from_snapshot(hv_snapshot_t *snap, const hv_instance_opts_t *opts,
                              hv_instance_t **ret);

void hv_instance_free(hv_instance_t *inst);

/* Runs the guest as the `python` command with opts->argv; *ret_status is its
 * exit status. Returns HV_OK or a trap code (status untouched). */
int hv_instance_main(hv_instance_t *inst, int *ret_status);

/* Starts an embedded interpreter (stdlib at /lib/python3.11, /plugin on
 * sys.path). HV_EEXCEPTION when CPython fails to start (text in result). */
int hv_instance_init_python(hv_instance_t *inst);

/*
 * Runs source in __main__ (globals persist across calls). Returns HV_OK,
 * HV_EEXCEPTION (traceback text in hv_instance_result), HV_EEXIT (SystemExit;
 * hv_instance_exit_code), or a trap code — after a trap the instance is
 * dead and every later call returns HV_EDEAD.
 */
int hv_instance_exec(hv_instance_t *inst, const char *src, size_t len, const char *filename);

/* Calls __main__.fn(arg: str); the returned str/bytes is the result. Same
 * return codes as hv_instance_exec. */
int hv_instance_call(hv_instance_t *inst, const char *fn, const char *arg, size_t arg_len);

/* Result text of the last exec/call (return value, or traceback); owned by
 * the instance, valid until its next call. Never NULL. */
const char *hv_instance_result(const hv_instance_t *inst, size_t *ret_len);

int hv_instance_exit_code(const hv_instance_t *inst);

/* True after a trap: the instance cannot run guest code any more. */
int hv_instance_dead(const hv_instance_t *inst);

/*
 * Changes the limits for the instance's next calls (memory 0: 256 MB,
 * deadline 0: none). Memory already in use stays: a limit below it only
 * stops further growth. Not while a call runs on the instance.
 */
void hv_instance_set_limits(hv_instance_t *inst, uint32_t memory_limit_mb, uint32_t deadline_ms);

/* Bytes of linear memory the instance has now. */
size_t hv_instance_memory_size(const hv_instance_t *inst);

/* ---- canonical ABI (used by src/abi/ and src/plugin/) ------------------- */

/* True inside an import when the calling instance's deadline has passed:
 * blocking capabilities (sleeps) return early; the guest is then stopped. */
int hv_engine_deadline_expired(void);

/* The guest's linear memory now: base and size. Valid until the guest runs
 * again (memory may grow; its base never moves). */
uint8_t *hv_instance_memory(hv_instance_t *inst, size_t *ret_size);

/*
 * Allocates size bytes aligned to align in guest memory through the guest's
 * cabi_realloc (the guest owns the block). Works from host code and from
 * inside an import. Returns HV_OK with *ret_addr set, HV_ENOMEM, or a trap
 * code (the instance is then dead).
 */
int hv_instance_guest_alloc(hv_instance_t *inst, uint32_t size, uint32_t align,
                            uint32_t *ret_addr);

/*
 * Calls export fid of the plugin (harvester._dispatch in the guest) with
 * nargs flat argument slots; *ret_slot receives the flat result slot (the
 * value, or the guest address of the result's memory layout). Returns HV_OK,
 * HV_EEXCEPTION (traceback in hv_instance_result), or a trap code. After a
 * successful call the caller lifts the result and then must call
 * hv_instance_post_return so the guest frees what it lowered.
 */
int hv_instance_export(hv_instance_t *inst, uint32_t fid, const uint64_t *args, size_t nargs,
                       uint64_t *ret_slot);
void hv_instance_post_return(hv_instance_t *inst, uint32_t fid);

/*
 * Captures the instance's memory, globals and table (not its WASI state:
 * it must have no open files beyond its mounts, else HV_EBUSY). The
 * instance stays usable. Snapshots are immutable and shareable by threads.
 */
int hv_snapshot_take(hv_instance_t *inst, hv_snapshot_t **ret);
void hv_snapshot_free(hv_snapshot_t *snap);

/*
 * The engine's shared snapshot of a started interpreter with the SDK (and
 * json, dataclasses, enum...) imported, made on first call (thread-safe)
 * and owned by the engine: plugins start from it in well under a
 * millisecond instead of ~30 ms, and share its pages. Instances made
 * from it must mount their directory at /plugin as their first mount
 * (wasi-libc's preopen table is part of the image). HV_OK with *ret set,
 * or the error of making it.
 */
int hv_engine_base_snapshot(hv_engine_t *eng, hv_snapshot_t **ret);

#endif

/*
 * Plugins: a .wasm file made by `harvester build` (Python sources, the WIT
 * they were built against, the world name), loaded into an instance of the
 * shared Python runtime and wired to the host's capabilities through the
 * canonical ABI. A plugin may call exactly the imports of its world; the
 * host refuses anything else, whatever the guest tries.
 */
#ifndef HV_PLUGIN_H
#define HV_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "hv_abi.h"
#include "hv_engine.h"
#include "hv_hal.h"
#include "hv_log.h" /* levels, as WIT's types.level */
#include "hv_perms.h"
#include "hv_value.h"
#include "hv_wit.h"

typedef struct hv_plugin hv_plugin_t;


/* One log line from or about a plugin (its log interface, its stdout and
 * stderr, refusals). Called on the plugin's thread. */
typedef void (*hv_plugin_log_fn)(void *ud, const char *plugin, int level, const char *msg);

/*
 * A capability handler: args are the lifted parameters (f->nparams), *ret
 * receives the result value (allocated in a) when f has one. Return HV_OK,
 * or an error with a message in err (the guest sees an OSError: use a WIT
 * result's err case for failures the plugin is meant to handle).
 */
typedef struct hv_cap_call hv_cap_call_t;
typedef int (*hv_cap_fn)(hv_cap_call_t *c, const hv_value_t *args, hv_value_t *ret);

/* Extra handlers by "interface#function" (tests, embedders); they take
 * precedence over the built-in capabilities. */
typedef struct {
    const char *name;
    hv_cap_fn fn;
    void *ud;
} hv_cap_entry_t;

typedef struct {
    hv_engine_t *eng;
    hv_hal_t *hal;             /* NULL: hardware calls fail */
    hv_plugin_log_fn log;      /* NULL: lines go to stderr */
    void *log_ud;
    const char *state_dir;     /* NULL: the state blob lives in memory only */
    const char *config_json;   /* the plugin's config table (JSON object); NULL: {} */
    const hv_cap_entry_t *caps; /* extra handlers, NULL-name terminated; may be NULL */
    uint32_t memory_limit_mb;  /* 0: 256 */
    uint32_t deadline_ms;      /* per call; 0: 5000 */
    int host_syncs_leds;       /* sync-leds is a no-op: the host writes the strip once a cycle */
    hv_perms_t *perms;         /* asked on every hardware call; NULL: unrestricted (tools, tests) */
    const char *perm_name;     /* who the plugin is to perms (the host's name for it, never the
                                  name the file claims); NULL: the file's name */
} hv_plugin_opts_t;

/*
 * Loads a plugin file: checks its format, parses its WIT, finds its world,
 * starts an instance, runs the SDK bootstrap (which imports app.py and
 * checks the exported classes). On failure returns an error, writes one
 * line naming the file and the reason into err, and leaves *ret untouched.
 */
int hv_plugin_load(const char *path, const hv_plugin_opts_t *opts, hv_plugin_t **ret, char *err,
                   size_t errlen);
void hv_plugin_free(hv_plugin_t *p);

const char *hv_plugin_name(const hv_plugin_t *p);
const hv_wit_world_t *hv_plugin_world(const hv_plugin_t *p);

/*
 * Calls export "interface.function" with args given as a JSON array (or a
 * single value when the function has one parameter; NULL or "" for none).
 * On success *ret_json is the result as JSON (malloc'd; "null" when the
 * function has no result). On failure: HV_ENOENT (no such export),
 * HV_EINVAL (bad arguments), HV_EEXCEPTION (the plugin raised: traceback in
 * err), a trap code; message in err.
 */
int hv_plugin_call_json(hv_plugin_t *p, const char *func, const char *args_json, char **ret_json,
                        char *err, size_t errlen);

/* Same with values: args in f's parameter order; *ret allocated in a. */
int hv_plugin_call(hv_plugin_t *p, const char *func, const hv_value_t *args, hv_arena_t *a,
                   hv_value_t *ret, char *err, size_t errlen);

/* Refused imports so far (calls outside the world). */
uint64_t hv_plugin_refusals(const hv_plugin_t *p);

/* New limits for the plugin's next calls (0: the defaults), without a
 * restart: memory in use stays, a lower limit stops growth. Not while a
 * call runs on p (the manager holds the worker's call lock). */
void hv_plugin_set_limits(hv_plugin_t *p, uint32_t memory_limit_mb, uint32_t deadline_ms);

/* ---- the plugin file ------------------------------------------------------ */

#define HV_PLUGIN_MAX_FILE (16u << 20)
#define HV_PLUGIN_MAX_SOURCES 256
#define HV_PLUGIN_SDK_ABI 1

typedef struct {
    char *path; /* relative, '/'-separated, no "..", e.g. "app.py", "lib/util.py" */
    uint8_t *data;
    size_t len;
} hv_plugin_source_t;

typedef struct {
    char *name, *world, *version, *runtime; /* runtime: content hash it was built on */
    int sdk_abi;
    char *wit; /* WIT text */
    size_t wit_len;
    hv_plugin_source_t *sources;
    size_t nsources;
} hv_plugin_file_t;

/* Encodes f as a WebAssembly binary holding only custom sections
 * (harvester.plugin, harvester.wit, harvester.app); malloc'd. */
int hv_plugin_file_encode(const hv_plugin_file_t *f, uint8_t **ret_buf, size_t *ret_len);

/* Decodes a plugin file from memory; errors name what is wrong (not wasm,
 * not a plugin, a truncated section, a bad source path...). */
int hv_plugin_file_decode(const uint8_t *buf, size_t len, hv_plugin_file_t *ret, char *err,
                          size_t errlen);
void hv_plugin_file_clear(hv_plugin_file_t *f);

/*
 * `harvester build`: reads dir/plugin.toml (name, world, version, optional
 * wit path), collects the .py files, checks in a sandboxed instance that
 * they compile and that the world's export classes and methods exist, and
 * writes the plugin file to out (NULL: dir + ".wasm"). wit_default is the
 * WIT file used when plugin.toml names none.
 */
int hv_plugin_build(hv_engine_t *eng, const char *dir, const char *out, const char *wit_default,
                    char *ret_out_path, size_t out_len, char *err, size_t errlen);

#endif

/* Plugin internals shared by plugin.c, caps.c and build.c. */
#ifndef HV_PLUGIN_IMPL_H
#define HV_PLUGIN_IMPL_H

#include <limits.h>
#include <stdarg.h>

#include "hv_plugin.h"

#define PLUGIN_STATE_MAX (64u << 10)

struct hv_cap_call {
    hv_plugin_t *p;
    const hv_wit_func_t *f;
    hv_arena_t *a;
    void *ud; /* of the hv_cap_entry_t, NULL for built-ins */
    char *err;
    size_t errlen;
};

typedef struct {
    const hv_wit_interface_t *iface;
    const hv_wit_func_t *func;
    hv_cap_fn fn; /* NULL: this host does not implement it */
    void *ud;
    char name[160]; /* "iface#func" */
} plugin_import_t;

typedef struct {
    const hv_wit_interface_t *iface;
    const hv_wit_func_t *func;
} plugin_export_t;

struct hv_plugin {
    hv_plugin_opts_t o;
    char *state_dir, *config_json;
    hv_plugin_file_t file;
    hv_wit_doc_t *doc;
    const hv_wit_world_t *world;
    plugin_import_t *imports;
    size_t nimports;
    plugin_export_t *exports;
    size_t nexports;
    hv_instance_t *inst;
    hv_canon_imports_t canon;
    hv_abi_mem_t mem;
    char dir[PATH_MAX]; /* extracted sources, mounted at /plugin */
    uint64_t refusals;
    char perm_name[64]; /* who it is to the permission guard */
    uint8_t *state;
    size_t state_len;
    int has_state;
};

/* The built-in handler for iface's function f, or NULL when there is none
 * or f's signature is not the one the handler was written for. */
hv_cap_fn plugin__builtin_cap(const char *iface, const hv_wit_func_t *f);

/* Logs one line for plugin p (opts->log or stderr). */
void plugin__log(hv_plugin_t *p, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Loads the state blob from state_dir (if any) into p. */
void plugin__state_load(hv_plugin_t *p);

#endif

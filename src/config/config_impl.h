/* Configuration internals shared by config.c and permissions.c: problems
 * collected as "file:line:col: message" lines. */
#ifndef HV_CONFIG_IMPL_H
#define HV_CONFIG_IMPL_H

#include <stddef.h>

#include "hv_toml.h"

typedef struct {
    const char *file;
    char *err;
    size_t errlen, used;
    int n; /* problems found (only the first 32 are written) */
} config_chk_t;

/* Appends one problem at line:col. */
void config__problem(config_chk_t *c, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Appends "(N more problems)" when some were not written. */
void config__problems_end(config_chk_t *c);
/* "an integer", "a string"...: for "expected X, found Y". */
const char *config__kind_name(const hv_toml_value_t *v);
/* Plugin names compare with '-' and '_' equal. */
int config__name_eq(const char *a, const char *b);
/* Reports every key holding U+0000 (it would compare equal to its prefix). */
void config__nul_keys(config_chk_t *c, const hv_toml_value_t *v, int depth);

#endif

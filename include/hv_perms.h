/*
 * Permissions: which hardware each plugin may touch. A world says which
 * interfaces a plugin may import; its entry in config/permissions.toml says
 * which I2C addresses, GPIO pins, SPI and UART devices, LEDs and buzzer it
 * may reach through them. Deny by default: a plugin without an entry gets
 * none of them.
 *
 *   [plugins.bme680]
 *   allow_i2c = [0x77]
 *   allow_leds = [2]
 *   allow_buzzer = true
 *
 * Two layers: the table (src/config/permissions.c) is the checked file;
 * the guard (src/plugin/perms.c) is the live object the capability layer
 * asks on every call. It swaps tables on reload, counts denials and writes
 * the audit log.
 */
#ifndef HV_PERMS_H
#define HV_PERMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv_error.h"

/* What a capability call touches. */
typedef enum {
    HV_RES_I2C,    /* index: 7-bit address */
    HV_RES_GPIO,   /* index: BCM pin */
    HV_RES_SPI,    /* name: the device, "spidev0.1" */
    HV_RES_UART,   /* name: the device, "serial0" */
    HV_RES_LED,    /* index: position on the strip */
    HV_RES_BUZZER, /* no index */
    HV_RES_COUNT
} hv_res_t;

#define HV_PERMS_MAX_ENTRIES 256 /* [plugins.NAME] tables per file */
#define HV_PERMS_MAX_DEVICES 8   /* names in allow_spi / allow_uart */
#define HV_PERMS_GPIO_MAX 63     /* highest pin (the BCM2711 has 58 lines) */
#define HV_PERMS_LED_MAX 63      /* highest LED index (HV_HAL_MAX_LEDS - 1) */

typedef struct {
    char name[64];                                  /* the plugin's name: its file's stem */
    uint8_t i2c[16], gpio[8], leds[8];              /* bitmaps */
    char spi[HV_PERMS_MAX_DEVICES][32], uart[HV_PERMS_MAX_DEVICES][32];
    uint8_t nspi, nuart;
    bool buzzer;
    uint32_t max_memory_mb, deadline_ms;            /* 0: not limited here */
} hv_perm_entry_t;

typedef struct {
    hv_perm_entry_t *entries;
    size_t n;
} hv_perm_table_t;

/*
 * Parses a permissions file's text. Every key is checked: on failure
 * returns HV_EINVAL and writes each problem as "file:line:col: message"
 * (one per line) into err, leaving *ret untouched. On success the caller
 * frees *ret with hv_perm_table_free.
 */
int hv_perm_table_parse(const char *src, size_t len, const char *filename, hv_perm_table_t *ret,
                        char *err, size_t errlen);

/* Reads and parses path; a missing file is HV_ENOENT ("path: reason"). */
int hv_perm_table_load(const char *path, hv_perm_table_t *ret, char *err, size_t errlen);
void hv_perm_table_free(hv_perm_table_t *t);

/* The entry for plugin (names compare with '-' and '_' equal), or NULL. */
const hv_perm_entry_t *hv_perm_table_find(const hv_perm_table_t *t, const char *plugin);

/* Is the resource in the entry's allow-lists? (NULL entry: no.) */
bool hv_perm_entry_allows(const hv_perm_entry_t *e, hv_res_t res, unsigned index,
                          const char *name);

/* ---- the live guard ----------------------------------------------------- */

typedef struct hv_perms hv_perms_t;

/* Audit lines go here; the default is hv_log("audit", HV_LOG_WARN, ...). */
typedef void (*hv_perms_audit_fn)(void *ud, const char *plugin, const char *line);

/*
 * Creates a guard and loads path into it. *ret is set whenever memory
 * allows, even when the file is missing or invalid: the guard then denies
 * every plugin everything until a good file is loaded, and the return
 * value (HV_ENOENT, HV_EINVAL) with its message in err says why.
 * HV_ENOMEM leaves *ret untouched.
 */
int hv_perms_open(const char *path, hv_perms_t **ret, char *err, size_t errlen);
void hv_perms_free(hv_perms_t *g);

/*
 * Loads the file again (path NULL: the same one; else the new path is
 * kept even if loading fails). On success the new grants apply to the
 * next call of every plugin, with no restart. On failure the old grants
 * stay and err holds the problems as file:line:col lines.
 */
int hv_perms_reload(hv_perms_t *g, const char *path, char *err, size_t errlen);

/* True when the file changed (mtime, size, inode, appeared, vanished)
 * since the last load or attempt: the daemon polls this. */
bool hv_perms_file_changed(hv_perms_t *g);

const char *hv_perms_path(const hv_perms_t *g);

/* Successful loads so far (the first is 1; 0 when none succeeded). */
uint64_t hv_perms_generation(const hv_perms_t *g);

/*
 * May plugin touch the resource? HV_OK, or HV_EPERM with "permission
 * denied: i2c 0x50 not allowed for plugin bme680" in err: the denial is
 * counted and audited at most once per (plugin, resource) per minute, and
 * at most HV_PERMS_AUDIT_BURST lines per plugin per minute. Any thread.
 */
#define HV_PERMS_AUDIT_BURST 10
int hv_perms_check(hv_perms_t *g, const char *plugin, hv_res_t res, unsigned index,
                   const char *name, char *err, size_t errlen);

/* The plugin's limits from its entry (0: not set); untouched when it has
 * no entry. */
void hv_perms_limits(hv_perms_t *g, const char *plugin, uint32_t *ret_memory_mb,
                     uint32_t *ret_deadline_ms);

/* Denials of plugin so far (kept across reloads of the file and of the
 * plugin). */
uint64_t hv_perms_denials(hv_perms_t *g, const char *plugin);

/*
 * The plugin's grants and denials as a JSON object (malloc'd; NULL when
 * out of memory): {"grants": {"i2c": ["0x77"], "gpio": [], "spi": [],
 * "uart": [], "leds": [2], "buzzer": true, "max_memory_mb": 0,
 * "deadline_ms": 0} or null (no entry: everything denied),
 * "denials": N, "last_denied": "i2c 0x50" or null}.
 */
char *hv_perms_describe_json(hv_perms_t *g, const char *plugin);

/* Test seams: where audit lines go and what the clock is (ms, monotonic). */
void hv_perms_set_audit(hv_perms_t *g, hv_perms_audit_fn fn, void *ud);
void hv_perms_set_clock(hv_perms_t *g, int64_t (*now_ms)(void *ud), void *ud);

#endif

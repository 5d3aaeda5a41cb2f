/*
 * The daemon's configuration (config/host.toml and friends): the seeds'
 * schema plus [http], [hardware], [daemon] and per-plugin limits. Loading
 * checks every key: unknown keys, wrong types and out-of-range values are
 * reported as "file:line:col: message", all of them, not just the first.
 */
#ifndef HV_CONFIG_H
#define HV_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv_error.h"

typedef struct {
    char name[64];          /* as written under [plugins.NAME] */
    int enabled;            /* 1, 0, or -1 when not said */
    int led;                /* LED index it owns, -1: none */
    uint32_t memory_mb;     /* 0: default */
    uint32_t deadline_ms;   /* 0: default */
    char *config_json;      /* the whole table as JSON (the plugin's `config` interface) */
} hv_plugin_conf_t;

typedef struct {
    char *path; /* the file it came from; NULL: built-in defaults */
    /* [polling] */
    uint32_t interval_s;
    /* [sensors.dht22], [sensors.bme680] */
    int dht22_pin;
    int bme680_address;
    /* [leds] */
    int led_count, led_pin;
    double led_brightness; /* 0..1 */
    /* [buzzer] */
    int buzzer_pin;
    /* [logging] */
    int log_level;
    bool show_sensor_data;
    /* [cluster] */
    char role[16]; /* "standalone" | "hub" | "spoke" */
    char node_id[64];
    char hub_url[256], spoke_buzzer_url[256];
    char advertise_url[256];  /* this node's dashboard as others reach it ("": port + address) */
    uint32_t ping_interval_s; /* latency pings to the other nodes */
    uint32_t queue_max_mb;    /* a spoke's store-and-forward queue */
    /* [http] */
    char http_bind[64];
    int http_port;
    char http_token[128];
    /* [hardware] */
    char backend[8]; /* "linux" | "sim" */
    char i2c_device[64], spi_device[64], led_spi_device[64], uart_device[64], gpiochip[64];
    int led_spi_hz, uart_baud;
    char scenario[512]; /* sim: scenario file ("" none) */
    /* [daemon] */
    char data_dir[512]; /* plugin state, status file, history.db */
    int history_days;   /* raw readings kept; 5-minute aggregates forever */
    /* [plugins] */
    char plugins_dir[512];
    bool auto_load;
    uint32_t default_memory_mb, default_deadline_ms;
    char permissions[512]; /* the permissions file: [plugins] permissions, else
                              permissions.toml beside the config file */
    hv_plugin_conf_t *plugins;
    size_t nplugins;
} hv_config_t;

/* Fills cfg with the built-in defaults (no file). */
void hv_config_defaults(hv_config_t *cfg);

/*
 * Loads path over the defaults. On failure returns HV_EINVAL (HV_ENOENT,
 * HV_ENOMEM...) and writes every problem, one "file:line:col: message" per
 * line, into err; *cfg is then untouched. On success the caller frees cfg
 * with hv_config_free. Relative directories are resolved against the
 * directory holding the file's parent (the project root for config/x.toml).
 */
int hv_config_load(const char *path, hv_config_t *cfg, char *err, size_t errlen);
void hv_config_free(hv_config_t *cfg);

/*
 * The seeds' lookup order: explicit (if not NULL), config/host.toml,
 * ../config/host.toml. Writes the path found into out and returns 1, or
 * returns 0 when none exists (use the defaults). An explicit path that
 * does not exist is returned anyway so loading reports it.
 */
int hv_config_find(const char *explicit_path, char *out, size_t len);

/* The entry for a plugin (names compare with '-' and '_' equal), or NULL. */
const hv_plugin_conf_t *hv_config_plugin(const hv_config_t *cfg, const char *name);

/* Should a plugin file of this name be loaded? Enabled in config, or not
 * mentioned and [plugins] auto_load. */
bool hv_config_plugin_enabled(const hv_config_t *cfg, const char *name);

#endif

/*
 * The plugin manager: the seeds' host loop. It loads the enabled plugin
 * files of a directory, one persistent instance each on its own thread,
 * polls them every cycle, keeps their readings, hot-reloads changed files,
 * picks up new ones, and restarts failing ones with backoff while the
 * others carry on.
 *
 * Threads: scan, cycle, run and set_config are called from one thread (the
 * daemon's loop, or a test); readings_json, status_json and
 * render_dashboard from any thread. Each plugin runs on its own worker.
 */
#ifndef HV_MANAGER_H
#define HV_MANAGER_H

#include <stdint.h>

#include "hv_config.h"
#include "hv_engine.h"
#include "hv_hal.h"
#include "hv_perms.h"

typedef struct hv_manager hv_manager_t;

/*
 * Creates a manager over cfg's plugins directory (cfg is copied by
 * reference: it must outlive the manager or be replaced with
 * hv_manager_set_config). Nothing is loaded until hv_manager_scan.
 */
int hv_manager_new(hv_engine_t *eng, hv_hal_t *hal, const hv_config_t *cfg, hv_manager_t **ret,
                   char *err, size_t errlen);

/* Stops every plugin (a running call finishes or hits its deadline) and
 * frees everything. */
void hv_manager_free(hv_manager_t *m);

/*
 * Looks at the plugins directory: loads new enabled files, hot-reloads
 * changed ones (the new version replaces the old only once it has
 * started; its state carries over), unloads removed or disabled ones,
 * restarts plugins whose backoff has passed. Waits for the loads it starts.
 */
void hv_manager_scan(hv_manager_t *m);

/*
 * One poll cycle: heartbeat on LED 0, every sensor plugin polled in
 * parallel (each within its deadline), readings collected, LEDs written
 * once, readings sent to UI plugins.
 */
void hv_manager_cycle(hv_manager_t *m);

/* Applies a new configuration at the next scan: enabled plugins load,
 * disabled ones unload, those whose settings changed restart (state
 * kept), and new limits reach running plugins without a restart. */
void hv_manager_set_config(hv_manager_t *m, const hv_config_t *cfg);

/*
 * Runs scan + cycle every cfg->interval_s until *stop becomes non-zero,
 * rescanning early when the plugins directory changes (inotify; without
 * it, every 500 ms). extra_fd (or -1) is polled too: when readable,
 * on_fd(ud) is called (the daemon's signalfd).
 */
void hv_manager_run(hv_manager_t *m, volatile int *stop, int extra_fd, void (*on_fd)(void *ud),
                    void *ud);

/* The latest readings of every plugin as a JSON array (malloc'd):
 * [{"sensor_id": "node:sensor", "plugin": "...", "timestamp": ms, "data": {...}}]. */
char *hv_manager_readings_json(hv_manager_t *m);

/* Per-plugin status as a JSON array (malloc'd): name, file, world, status
 * (loading|running|backing-off|failed), last_error, polls, last_poll_ms,
 * restarts, reloads, refusals (imports outside the world), and with a
 * permission guard grants, denials, last_denied (hv_perms_describe_json). */
char *hv_manager_status_json(hv_manager_t *m);

/* Renders the dashboard with the dashboard plugin (on its thread); the
 * HTML (malloc'd), or NULL when no dashboard plugin runs. Any thread. */
char *hv_manager_render_dashboard(hv_manager_t *m, const char *readings_json);

/*
 * Puts plugins under a permission guard (the caller keeps ownership; it
 * must outlive the manager). Plugins loaded from then on ask it on every
 * hardware call; its limits (max_memory_mb, deadline_ms) cap the config's.
 * hv_manager_run then reloads the file when it changes.
 */
void hv_manager_set_perms(hv_manager_t *m, hv_perms_t *perms);

/*
 * Loads the permissions file again (path NULL: the same one) and applies
 * it to running plugins without restarting them; an invalid file is
 * logged with file:line:col and the old grants stay. Returns the load's
 * code. Same thread as scan.
 */
int hv_manager_reload_perms(hv_manager_t *m, const char *path);

/* Called at the end of every cycle with the readings JSON (history, SSE). */
void hv_manager_on_cycle(hv_manager_t *m, void (*fn)(void *ud, const char *readings_json),
                         void *ud);

/* Cycles run so far. */
uint64_t hv_manager_cycles(const hv_manager_t *m);

#endif

/* Plugin manager internals shared by manager.c and cycle.c. */
#ifndef HV_MANAGER_IMPL_H
#define HV_MANAGER_IMPL_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "hv_log.h"
#include "hv_manager.h"
#include "hv_perms.h"
#include "hv_plugin.h"

#define MANAGER_MAX_PLUGINS 64

enum { CMD_NONE, CMD_LOAD, CMD_CALL, CMD_STOP };
enum { ST_LOADING, ST_RUNNING, ST_BACKOFF, ST_FAILED };

typedef struct worker {
    struct worker *next;
    hv_manager_t *m;
    char name[64];      /* the file's stem: the plugin's name in the config */
    char path[PATH_MAX];
    struct timespec mtime; /* of the file last loaded or tried */
    off_t size;
    int seen;           /* still in the directory (scan) */
    hv_plugin_t *p;     /* NULL while failed or backing off */
    char poll_fn[96];   /* "bme680-logic.poll", or "" */
    char ui_fn[96];     /* "oled-logic.update", or "" */
    char render_fn[96]; /* "dashboard-logic.render", or "" */
    /* the command channel to the worker thread */
    pthread_t th;
    pthread_mutex_t call_mu; /* one command at a time: held from send to release */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int cmd, done;
    hv_plugin_opts_t load_opts;
    char *config_json; /* what the plugin's config.get sees */
    const char *call_fn, *arg;
    /* results of the last command */
    int rc;
    char *out;
    char err[4096];
    double ms;
    hv_plugin_t *loaded;
    /* status */
    int status;
    char last_error[512];
    uint64_t polls, restarts, reloads;
    double last_poll_ms;
    int64_t retry_at_ms;
    uint32_t backoff_ms;
    int exceptions;
    cJSON *readings; /* the latest readings of this plugin */
} worker_t;

struct hv_manager {
    hv_engine_t *eng;
    hv_hal_t *hal;
    const hv_config_t *cfg;
    char state_dir[600];
    int inotify_fd;
    int config_changed;
    worker_t *workers;
    size_t nworkers;
    uint64_t cycles;
    pthread_mutex_t readings_lock; /* readers (HTTP) vs the cycle */
    pthread_mutex_t list_lock;     /* the worker list, for other threads */
    hv_perms_t *perms;             /* NULL: plugins are unrestricted */
    uint64_t perms_applied;        /* the generation whose limits the plugins have */
    int perms_watch;               /* inotify watch on the permissions file's directory */
    void (*on_cycle)(void *ud, const char *readings_json);
    void *on_cycle_ud;
};

int64_t manager__now_ms(void);
const char *manager__status_name(int status);
/* send takes the worker's call lock, wait waits for the command, release
 * gives the lock back (after the caller is done with the results). */
void manager__send(worker_t *w, int cmd, const char *fn, const char *arg);
void manager__wait(worker_t *w);
void manager__release(worker_t *w);
/* Drops w's instance and schedules a restart with exponential backoff. */
void manager__fail(worker_t *w, const char *why);

#endif

/*
 * `harvester run`: the daemon. Configuration, the hardware backend, the
 * plugin manager, signals (TERM/INT stop, HUP reloads the configuration).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli.h"
#include "hv_log.h"
#include "hv_manager.h"

typedef struct {
    int sfd;
    volatile int stop;
    const char *path; /* NULL: running on defaults */
    hv_config_t cfg[2];
    int cur;
    hv_manager_t *m;
} run_t;

static void on_signal(void *ud)
{
    run_t *r = ud;
    struct signalfd_siginfo si;
    while (read(r->sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
            hv_log("host", HV_LOG_INFO, "stopping (signal %u)", si.ssi_signo);
            r->stop = 1;
        } else if (si.ssi_signo == SIGHUP) {
            if (r->path == NULL) {
                hv_log("host", HV_LOG_WARN, "SIGHUP: no configuration file to reload");
                continue;
            }
            char err[8192];
            int next = !r->cur;
            if (hv_config_load(r->path, &r->cfg[next], err, sizeof err) != HV_OK) {
                hv_log("host", HV_LOG_ERROR, "new configuration rejected, keeping the old one:\n%s",
                       err);
                continue;
            }
            hv_manager_set_config(r->m, &r->cfg[next]);
            hv_config_free(&r->cfg[r->cur]);
            r->cur = next;
            hv_log_configure(r->cfg[next].log_level, 0);
            hv_log("host", HV_LOG_INFO, "configuration %s reloaded", r->path);
        }
    }
}

int cli__cmd_run(int argc, char **argv)
{
    int bad;
    hv_hal_sim_opts_t so = {0, NULL, NULL, NULL};
    if (cli__sim_args(&argc, argv, &so) != 0)
        return cli__usage(stderr);
    const char *explicit_path = cli__config_arg(argc, argv, &bad);
    if (bad)
        return cli__usage(stderr);
    static run_t r;
    char path[4096];
    r.path = hv_config_find(explicit_path, path, sizeof path) ? path : NULL;
    int rc = cli__load_config(r.path, &r.cfg[0]);
    if (rc != 0)
        return rc;
    hv_config_t *cfg = &r.cfg[0];
    hv_log_configure(cfg->log_level, 0);
    /* Signals arrive through a signalfd on the loop thread; block them
     * before any worker thread exists so none of those takes them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    r.sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    hv_engine_t *eng;
    if (r.sfd < 0 || cli__open_engine(&eng, 0) != HV_OK) {
        hv_config_free(cfg);
        return 1;
    }
    char err[1024];
    int linux_hal = strcmp(cfg->backend, "linux") == 0;
    hv_hal_t *hal;
    if (linux_hal) {
        hv_hal_linux_opts_t lo = {cfg->i2c_device, cfg->spi_device, cfg->led_spi_device,
                                  (uint32_t)cfg->led_spi_hz, (unsigned)cfg->led_count,
                                  cfg->led_brightness, cfg->uart_device,
                                  (uint32_t)cfg->uart_baud, cfg->gpiochip, cfg->buzzer_pin,
                                  "/sys/bus/iio/devices", ""};
        hal = hv_hal_linux_new(&lo, err, sizeof err);
    } else {
        so.nleds = (unsigned)cfg->led_count;
        if (so.scenario == NULL && cfg->scenario[0])
            so.scenario = cfg->scenario;
        hal = cli__open_sim(&so);
        snprintf(err, sizeof err, "cannot open the simulated board");
    }
    rc = hal ? hv_manager_new(eng, hal, cfg, &r.m, err, sizeof err) : HV_EINVAL;
    if (rc != HV_OK) {
        fprintf(stderr, "harvester: run: %s\n", err);
    } else {
        hv_log("host", HV_LOG_INFO, "harvester %s: node %s (%s), config %s, plugins in %s, "
               "every %u s, backend %s", HV_VERSION, cfg->node_id, cfg->role,
               r.path ? r.path : "(defaults)", cfg->plugins_dir, cfg->interval_s, cfg->backend);
        hv_manager_run(r.m, &r.stop, r.sfd, on_signal, &r);
        hv_manager_free(r.m);
        hv_log("host", HV_LOG_INFO, "stopped");
    }
    if (linux_hal)
        hv_hal_linux_free(hal);
    else
        hv_hal_sim_free(hal);
    hv_engine_close(eng);
    hv_config_free(&r.cfg[r.cur]);
    close(r.sfd);
    return rc == HV_OK ? 0 : 1;
}

